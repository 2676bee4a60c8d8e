"""The one error type for bad input: it names the file, the column, the first offending rows and the rule."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

__all__ = ["InputError", "first_rows", "require_columns"]


def first_rows(mask_or_index: Iterable, limit: int = 5) -> list:
    """Return up to ``limit`` row labels (1-based data rows for CSV readers) from a boolean mask or index."""
    try:
        import pandas as pd

        if isinstance(mask_or_index, pd.Series) and mask_or_index.dtype == bool:
            return list(mask_or_index[mask_or_index].index[:limit])
    except ImportError:  # pragma: no cover - pandas is a hard dependency
        pass
    return list(mask_or_index)[:limit]


class InputError(ValueError):
    """Bad input: raised before anything is written.

    Parameters
    ----------
    file : the file (or YAML) the problem is in
    rule : the plain-English rule that was broken
    column : the column or key concerned, when there is one
    rows : the first few offending row numbers (data rows, 1-based after the header), when relevant
    """

    def __init__(self, file, rule: str, column: str | None = None, rows: Iterable | None = None):
        self.file = str(file) if file is not None else "<input>"
        self.column = column
        self.rows = list(rows)[:5] if rows is not None else []
        self.rule = rule
        super().__init__(self._message())

    def _message(self) -> str:
        where = Path(self.file).name if self.file not in ("<input>",) else self.file
        parts = [f"{where}"]
        if self.column:
            parts.append(f"column '{self.column}'")
        if self.rows:
            parts.append("row" + ("s " if len(self.rows) > 1 else " ") + ", ".join(str(r) for r in self.rows))
        return f"{': '.join([', '.join(parts), self.rule])} (file: {self.file})"


def require_columns(frame, columns, what: str, where: str | None = None) -> None:
    """Raise :class:`InputError` when ``frame`` is not a DataFrame or lacks any of ``columns``.

    ``what`` names the input (a file or a table such as "patient extract"), ``where`` the function that
    needs the columns; the message lists the missing columns and the ones found.
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise InputError(what, f"expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        shown = ", ".join(map(str, missing[:8])) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        found = ", ".join(map(str, list(frame.columns)[:30])) + (" ..." if len(frame.columns) > 30 else "")
        raise InputError(what, f"{where + ' needs' if where else 'needs'} column(s) {shown} (DESIGN.md 'Data "
                               f"contracts'), which are missing; the columns are {found}", column=missing[0])
