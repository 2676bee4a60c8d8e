"""Shared reading and validation for every reader in :mod:`popheal.io` (one place, no per-reader copies).

:func:`read_table` opens a published file robustly and returns a :class:`Table`: the raw cells as text, the
columns renamed to popheal's names, and validating converters (``integers``, ``numbers``, ``flags``, ``dates``,
``codes``, ``choices``, ``texts``, ``unique``) that raise :class:`~popheal.io.errors.InputError` naming the file,
the column *as published*, the first offending rows and the rule.

Row numbers in errors are 1-based *data* rows: row 1 is the first record after the header line (a quoted field
that spans lines still counts as one row; blank lines are not counted). Readers that filter rows (for example
NHS Digital's ``ALL`` totals) keep the original numbering.

Conversions are vectorised and work on the distinct values of a column (``pandas.factorize``), so a 1M-row
extract with 80 low-cardinality columns converts in seconds.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd

from popheal.io.errors import InputError
from popheal.paths import resolve

__all__ = [
    "GSS_CODE",
    "LA_CODE",
    "LA_CODE_EW",
    "LSOA_CODE",
    "LSOA_CODE_EW",
    "PCN_CODE",
    "PRACTICE_CODE",
    "PathLike",
    "Table",
    "column_key",
    "read_many",
    "read_table",
    "sniff",
    "source_path",
    "unknown_values",
]

PathLike = str | os.PathLike

#: ODS practice / site / provider code (synthetic DEM001 included).
PRACTICE_CODE = r"[A-Z0-9]{3,12}"
#: PCN code: ODS ``U`` + 5 digits, NHS Digital's ``U`` (unallocated) and synthetic ``DEMPCN1`` all fit.
PCN_CODE = r"[A-Z0-9]{1,12}"
#: LSOA 2011 code in England (extracts, IoD2019).
LSOA_CODE = r"E01\d{6}"
#: LSOA 2011 code in England or Wales (ONS small-area estimates and boundaries are published for both).
LSOA_CODE_EW = r"[EW]01\d{6}"
#: Local authority district / unitary code in England.
LA_CODE = r"E0[6-9]\d{6}"
#: Local authority code in England or Wales (ONS mid-year estimates cover both).
LA_CODE_EW = r"(?:E0[6-9]|W06)\d{6}"
#: Any ONS GSS area code (country, region, LA, ...).
GSS_CODE = r"[EKNSW]\d{8}"

_BOM = codecs.BOM_UTF8
_MAGIC = {
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": "xls",
    b"PAR1": "parquet",
    b"PK\x03\x04": "zip",
}
_CHUNK = 1 << 22


def column_key(name) -> str:
    """Normalise a header for matching: case, surrounding spaces, runs of spaces/underscores ignored."""
    return re.sub(r"[\s_]+", " ", str(name).replace("\ufeff", "")).strip().lower()


def source_path(path: PathLike) -> Path:
    """Resolve ``path`` (relative to the project root) and check that it is a non-empty file."""
    if isinstance(path, (list, tuple)):
        raise TypeError("pass one path here (use read_many for several files)")
    p = resolve(path)
    if not p.exists():
        raise InputError(p, "the file does not exist")
    if p.is_dir():
        raise InputError(p, "is a folder, not a file")
    if p.stat().st_size == 0:
        raise InputError(p, "the file is empty (0 bytes)")
    return p


def sniff(path: Path) -> str:
    """Return what a file really is from its first bytes: csv, xlsx, xls, zip, parquet, html or binary."""
    with open(path, "rb") as f:
        head = f.read(512)
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            if kind == "zip":
                try:
                    with zipfile.ZipFile(path) as z:
                        names = z.namelist()
                except zipfile.BadZipFile:
                    return "zip"
                return "xlsx" if any(n.startswith("xl/") for n in names) else "zip"
            return kind
    text = head.lstrip(_BOM).lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html")):
        return "html"
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "binary"
    return "csv"


def _wrong_kind(path: Path, kind: str, expected: str) -> InputError:
    if kind in ("xlsx", "xls"):
        return InputError(path, f"is an Excel workbook ({kind}), not a {expected}: save the sheet as CSV "
                                "(UTF-8) or use the CSV file of the publication")
    if kind == "zip":
        with zipfile.ZipFile(path) as z:
            names = ", ".join(z.namelist()[:5])
        return InputError(path, f"is a ZIP archive, not a {expected}: extract the file first (it holds {names})")
    if kind == "html":
        return InputError(path, f"is a web page (HTML), not a {expected}: the download probably failed")
    if kind == "binary":
        return InputError(path, f"is a binary file, not a {expected} (text)")
    return InputError(path, f"is a {kind} file, not a {expected}")


def _encoding(path: Path) -> tuple[str, int]:
    """Return (encoding, bytes to skip): UTF-8 (with or without BOM), else Windows-1252, else Latin-1.

    GP clinical systems export Windows-1252 text, sometimes behind a UTF-8 byte-order mark: the mark is
    skipped and the rest is decoded as what it really is.
    """
    with open(path, "rb") as f:
        head = f.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16", 0
        skip = len(_BOM) if head.startswith(_BOM) else 0
        for enc in ("utf-8", "cp1252"):
            f.seek(skip)
            decoder = codecs.getincrementaldecoder(enc)()
            try:
                while chunk := f.read(_CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                continue
            return enc, skip
    return "latin-1", skip


def _header_line(path: Path, encoding: str, skip: int) -> str:
    with open(path, "rb") as f:
        f.seek(skip)
        raw = f.read(65536)
    return raw.decode(encoding, errors="replace").splitlines()[0] if raw.strip() else ""


def _ragged_rows(path: Path, encoding: str, skip: int, sep: str) -> tuple[list[int], int, int] | None:
    """The first data rows whose number of cells differs from the header's (only after a parse error).

    Returns (up to five 1-based data rows, the first such row's cell count, the header's), or None. Rows are
    counted as everywhere in popheal.io: records after the header, blank lines not counted, a quoted field
    spanning lines one row.
    """
    rows: list[int] = []
    cells = expected = 0
    with open(path, "rb") as raw:
        raw.seek(skip)
        text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
        reader = csv.reader(text, delimiter=sep)
        try:
            expected = len(next(reader))
            number = 0
            for record in reader:
                if not record:
                    continue
                number += 1
                if len(record) != expected:
                    cells = cells or len(record)
                    rows.append(number)
                    if len(rows) == 5:
                        break
        except (csv.Error, StopIteration):
            pass
    return (rows, cells, expected) if rows else None


def _read_csv(path: Path) -> pd.DataFrame:
    encoding, skip = _encoding(path)
    header = _header_line(path, encoding, skip)
    if not header.strip():
        raise InputError(path, "the file is empty (no header line)")
    sep = ","
    if "," not in header:
        sep = next((s for s in ("¬", "\t", ";", "|") if s in header), ",")
    engine = "pyarrow" if sep.isascii() else "python"
    try:
        with open(path, "rb") as f:
            f.seek(skip)
            df = pd.read_csv(f, sep=sep, dtype="str", engine=engine, encoding=encoding,
                             keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        ragged = _ragged_rows(path, encoding, skip, sep)
        if ragged:
            rows, cells, expected = ragged
            raise InputError(path, f"is not a well-formed CSV file: a row has {cells} cells but the header has "
                                   f"{expected} (a separator too many or too few, or an unclosed quote)",
                             rows=rows) from None
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(path, f"is not a well-formed CSV file ({first})") from None
    df.columns = [str(c).replace("\ufeff", "").strip() for c in df.columns]
    return df


def read_table(path: PathLike, columns: Mapping[str, Sequence[str]] | None = None,
               optional: Mapping[str, Sequence[str]] | None = None, *, keep_others: bool = False,
               expect: str = "CSV file", allow: Iterable[str] = ("csv",)) -> Table:
    """Read a published file as text cells and name its columns.

    Parameters
    ----------
    path : the file (str or Path; relative paths are resolved against the project root)
    columns : popheal name -> accepted published headers (matched ignoring case, spaces and underscores; an
        alias may be a compiled regex matched against the lower-case header); every one must be present
    optional : the same for columns used when present
    keep_others : keep the remaining columns under their published names (else drop them)
    expect : how to describe the expected file in errors
    allow : file kinds accepted (``csv``, ``parquet``); anything else is an error

    Returns
    -------
    Table : the cells as ``str`` (parquet: as stored), index = 0-based data row.
    """
    p = source_path(path)
    kind = sniff(p)
    if kind not in allow:
        raise _wrong_kind(p, kind, expect)
    if kind == "parquet":
        try:
            df = pd.read_parquet(p)
        except Exception as exc:  # noqa: BLE001 - any pyarrow failure is bad input
            raise InputError(p, f"could not be read as parquet ({exc})") from None
        df = df.reset_index(drop=True)
    else:
        df = _read_csv(p)
    if df.empty:
        raise InputError(p, "the file has a header but no data rows")
    return Table.from_frame(p, df, columns or {}, optional or {}, keep_others=keep_others)


def read_many(paths, reader: Callable[..., pd.DataFrame], **kwargs) -> pd.DataFrame:
    """Apply ``reader`` to one path or to each of a list of paths and stack the results."""
    if isinstance(paths, (str, os.PathLike)):
        return reader(paths, **kwargs)
    frames = [reader(p, **kwargs) for p in paths]
    if not frames:
        raise TypeError("no file given")
    return pd.concat(frames, ignore_index=True)


def _examples(values, limit: int = 3) -> str:
    vals = list(dict.fromkeys("<empty>" if pd.isna(v) else str(v) for v in values))[:limit]
    return ", ".join(f"'{v}'" for v in vals)


def _match(found: Mapping[str, str], aliases: Iterable) -> str | None:
    """The first published header matching an alias (a header, or a compiled regex on the normalised key)."""
    for a in aliases:
        if isinstance(a, re.Pattern):
            hit = next((orig for key, orig in found.items() if a.fullmatch(key)), None)
        else:
            hit = found.get(column_key(a))
        if hit is not None:
            return hit
    return None


def _factorize(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1 = missing) and the distinct values as an object array.

    Text is stripped and an empty or blank cell counts as missing (its rows get code -1). The per-value work
    in the converters runs over these distinct values only, never over rows.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    u = uniques.to_numpy(dtype=object)
    if any(isinstance(v, str) for v in u[:1]) or s.dtype == object:
        u = np.array([(v.strip() or None) if isinstance(v, str) else v for v in u], dtype=object)
        blank = np.array([v is None for v in u], dtype=bool)
        if blank.any():
            remap = np.where(blank, -1, np.arange(len(u)))
            codes = np.where(codes >= 0, remap[codes], -1)
    return codes, u


def _present(u: np.ndarray) -> np.ndarray:
    return np.array([v is not None for v in u], dtype=bool)


def _to_float(u: np.ndarray, thousands: bool = False) -> np.ndarray:
    """Numbers from distinct values (unparseable -> NaN); ``thousands`` drops "," separators."""
    if thousands:
        u = np.array([v.replace(",", "") if isinstance(v, str) else v for v in u], dtype=object)
    return pd.to_numeric(u, errors="coerce").astype("float64") if len(u) else np.empty(0)


def _take(values: np.ndarray, codes: np.ndarray, missing) -> np.ndarray:
    """Map per-distinct-value results back to rows; code -1 picks ``missing``."""
    ext = np.empty(len(values) + 1, dtype=values.dtype if missing is not None else object)
    ext[:-1] = values
    ext[-1] = missing
    return ext[codes]


class Table:
    """The cells of one file, popheal's column names, and validating converters.

    ``data`` holds the cells (index = 0-based data row of the file); ``names`` maps popheal's column names to the
    file's own headers, used in error messages.
    """

    def __init__(self, path: Path, data: pd.DataFrame, names: Mapping[str, str] | None = None):
        self.path = Path(path)
        self.data = data
        self.names = dict(names or {})

    @classmethod
    def from_frame(cls, path: Path, df: pd.DataFrame, columns: Mapping[str, Sequence[str]],
                   optional: Mapping[str, Sequence[str]], keep_others: bool = False) -> Table:
        found = {}
        for c in df.columns:
            found.setdefault(column_key(c), c)
        names: dict[str, str] = {}
        for required, spec in ((True, columns), (False, optional)):
            for name, aliases in spec.items():
                hit = _match(found, (name, *aliases))
                if hit is not None:
                    names[name] = hit
                elif required:
                    shown = str(aliases[0]) if aliases and isinstance(aliases[0], str) else name
                    others = [getattr(a, "pattern", str(a)) for a in (*aliases, name) if str(a) != shown]
                    also = f" (also accepted: {', '.join(dict.fromkeys(others))})" if others else ""
                    raise InputError(path, f"a required column is missing{also}; columns found: "
                                           f"{', '.join(map(str, df.columns))}", column=shown)
        used = set(names.values())
        rename = {orig: name for name, orig in names.items()}
        keep = [c for c in df.columns if c in used or keep_others]
        out = df[keep].rename(columns=rename)
        names.update({c: c for c in out.columns if c not in names})
        return cls(path, out, names)

    # -- helpers ------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.data)

    def has(self, name: str) -> bool:
        return name in self.data.columns

    def label(self, name: str) -> str:
        """The column's header as published."""
        return self.names.get(name, name)

    def rows(self, mask) -> list[int]:
        """First 1-based data rows where ``mask`` (aligned boolean array/Series) is true."""
        pos = np.flatnonzero(np.asarray(mask, dtype=bool))[:5]
        return [int(i) + 1 for i in self.data.index[pos]]

    def fail(self, rule: str, column: str | None = None, mask=None, rows=None) -> NoReturn:
        if mask is not None:
            rows = self.rows(mask)
        raise InputError(self.path, rule, column=self.label(column) if column else None, rows=rows)

    def subset(self, mask) -> Table:
        """Rows where ``mask`` is true, keeping the original row numbers."""
        return Table(self.path, self.data.loc[np.asarray(mask, dtype=bool)], self.names)

    def with_column(self, name: str, values: pd.Series) -> Table:
        """The same rows with ``name`` replaced by cleaned ``values`` (errors still name the published column)."""
        return Table(self.path, self.data.assign(**{name: values}), self.names)

    def _series(self, values: np.ndarray, column: str, dtype=None) -> pd.Series:
        return pd.Series(values, index=self.data.index, name=column, dtype=dtype)

    def _check(self, column: str, bad_unique: np.ndarray, codes: np.ndarray, uniques: np.ndarray,
               rule: str) -> None:
        """Raise when any distinct value is flagged: rows from the codes, examples from the values."""
        bad_unique = np.asarray(bad_unique, dtype=bool)
        if bad_unique.any():
            row_mask = _take(bad_unique, codes, False).astype(bool)
            self.fail(f"{rule}; found {_examples(uniques[bad_unique])}", column, mask=row_mask)

    def _missing(self, column: str, codes: np.ndarray, what: str = "a value") -> None:
        if (codes < 0).any():
            self.fail(f"must not be empty (wrong type: {what} is required)", column, mask=codes < 0)

    def _check_range(self, column: str, num: np.ndarray, codes: np.ndarray, uniques: np.ndarray,
                     min_value: float | None, max_value: float | None, what: str) -> None:
        if min_value is None and max_value is None:
            return
        ok = np.isfinite(num)
        low = ok & (num < min_value) if min_value is not None else np.zeros(len(num), bool)
        high = ok & (num > max_value) if max_value is not None else np.zeros(len(num), bool)
        if min_value is not None and max_value is not None:
            rule = f"must be between {min_value:g} and {max_value:g}"
        elif min_value is not None:
            rule = "must not be negative" if min_value == 0 else f"must be at least {min_value:g}"
        else:
            rule = f"must be at most {max_value:g}"
        self._check(column, low | high, codes, uniques, f"{rule} ({what})")

    # -- converters ---------------------------------------------------------------------------------------
    def integers(self, column: str, *, min_value: float | None = 0, max_value: float | None = None,
                 thousands: bool = False, dtype: str = "int64", allow_na: bool = False,
                 what: str = "a whole number") -> pd.Series:
        """Whole numbers (``"17"``, ``"17.0"``; ``"29,199"`` when ``thousands``); NA only if ``allow_na``."""
        if pd.api.types.is_bool_dtype(self.data[column].dtype):
            self.fail(f"wrong type: must be {what}, not true/false", column, rows=[])
        codes, u = _factorize(self.data[column])
        num = _to_float(u, thousands)
        self._check(column, _present(u) & ~np.isfinite(num), codes, u, f"wrong type: must be {what}")
        if not allow_na:
            self._missing(column, codes, what)
        self._check(column, np.isfinite(num) & (num != np.round(num)), codes, u,
                    f"must be {what} (non-integer values are not allowed)")
        self._check_range(column, num, codes, u, min_value, max_value, what)
        out = self._series(_take(num, codes, np.nan), column)
        return out.astype("Int64" if allow_na else dtype)

    def numbers(self, column: str, *, min_value: float | None = None, max_value: float | None = None,
                allow_na: bool = False, thousands: bool = False, what: str = "a number") -> pd.Series:
        """Floating-point numbers; NA (empty cell) only when ``allow_na``."""
        codes, u = _factorize(self.data[column])
        num = _to_float(u, thousands)
        self._check(column, _present(u) & ~np.isfinite(num), codes, u, f"wrong type: must be {what}")
        if not allow_na:
            self._missing(column, codes, what)
        self._check_range(column, num, codes, u, min_value, max_value, what)
        return self._series(_take(num, codes, np.nan), column, dtype="float64")

    _TRUE = frozenset({"true", "t", "1", "1.0", "y", "yes"})
    _FALSE = frozenset({"false", "f", "0", "0.0", "n", "no"})

    def flags(self, column: str) -> pd.Series:
        """Booleans as numpy ``bool``: True/False, 1/0, Y/N, yes/no (any case); empty is an error."""
        s = self.data[column]
        if pd.api.types.is_bool_dtype(s.dtype) and not s.isna().any():
            return s.astype(bool).rename(column)
        codes, u = _factorize(s)
        keys = [str(v).lower() for v in u]
        is_true = np.array([k in self._TRUE for k in keys], dtype=bool)
        is_false = np.array([k in self._FALSE for k in keys], dtype=bool)
        self._check(column, _present(u) & ~is_true & ~is_false, codes, u,
                    "wrong type: must be true or false (True/False, 1/0, Y/N)")
        self._missing(column, codes, "true or false")
        return self._series(_take(is_true, codes, False).astype(bool), column)

    def dates(self, column: str, allow_na: bool = False) -> pd.Series:
        """Dates: ISO 8601 (2019-04-01) or day-first UK style (01/04/2019)."""
        codes, u = _factorize(self.data[column])
        if pd.api.types.is_datetime64_any_dtype(self.data[column].dtype):
            parsed = pd.DatetimeIndex(list(u))
        else:
            text = pd.Index([str(v) for v in u], dtype="str")
            parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
            for fmt in ("%d/%m/%Y", "%d-%m-%Y", "%d/%m/%Y %H:%M:%S", "%d%b%Y"):
                retry = parsed.isna()
                if not retry.any():
                    break
                parsed = parsed.where(~retry, pd.to_datetime(text, format=fmt, errors="coerce"))
        self._check(column, _present(u) & np.asarray(parsed.isna()), codes, u,
                    "wrong type: must be a date (YYYY-MM-DD or DD/MM/YYYY)")
        if not allow_na:
            self._missing(column, codes, "a date")
        values = parsed.to_numpy()
        return self._series(_take(values, codes, np.datetime64("NaT")), column)

    def texts(self, column: str, *, allow_na: bool = True) -> pd.Series:
        """Text with surrounding spaces removed; empty cells become NA (an error unless ``allow_na``)."""
        s = self.data[column].astype("str").str.strip()
        s = s.mask(s == "")
        if not allow_na and s.isna().any():
            self.fail("must not be empty", column, mask=s.isna())
        return s.rename(column)

    def codes(self, column: str, pattern: str, what: str, *, allow_na: bool = False,
              example: str = "") -> pd.Series:
        """Codes that must match ``pattern`` in full (e.g. ``E01\\d{6}``); returned stripped, as ``str``."""
        s = self.texts(column)
        bad = s.notna() & ~s.str.fullmatch(pattern).fillna(False).astype(bool)
        if bad.any():
            eg = f" such as {example}" if example else ""
            self.fail(f"malformed {what}: must match {pattern}{eg}; found {_examples(s[bad])}", column,
                      mask=bad)
        if not allow_na and s.isna().any():
            self.fail(f"must not be empty (a {what} is required)", column, mask=s.isna())
        return s

    def choices(self, column: str, mapping: Mapping[str, str], what: str, *,
                allow_na: bool = False) -> pd.Series:
        """Map published labels (matched ignoring case and spaces) to popheal's labels; others are errors."""
        codes, u = _factorize(self.data[column])
        lookup = {column_key(k): v for k, v in mapping.items()}
        mapped = np.array([lookup.get(column_key(v)) if v is not None else None for v in u], dtype=object)
        allowed = ", ".join(dict.fromkeys(mapping.values()))
        self._check(column, _present(u) & ~_present(mapped), codes, u, f"must be one of the {what} ({allowed})")
        if not allow_na:
            self._missing(column, codes, f"one of the {what}")
        return self._series(_take(mapped, codes, None), column, dtype="str")

    def unique(self, columns: str | Sequence[str], what: str = "row", values: pd.DataFrame | None = None) -> None:
        """Each value (or combination) must appear once; ``values`` gives cleaned columns to test instead."""
        cols = [columns] if isinstance(columns, str) else list(columns)
        data = (values if values is not None else self.data)[cols]
        dup = data.duplicated(keep=False)
        if dup.any():
            first = data.loc[dup].iloc[0]
            times = int((data.loc[dup] == first).all(axis=1).sum())
            shown = ", ".join(str(v) for v in first.tolist())
            label = ", ".join(self.label(c) for c in cols)
            self.fail(f"duplicated {what}: each must appear once; '{shown}' appears {times} times",
                      label if len(cols) > 1 else cols[0], mask=dup)

    def check_total(self, column: str, total: pd.Series, expected: pd.Series, what: str,
                    tolerance: float = 0.5) -> None:
        """Published totals must equal the sum of their parts (``expected``, aligned with ``total``)."""
        published = total.to_numpy(dtype="float64")
        summed = expected.to_numpy(dtype="float64")
        bad = np.abs(published - summed) > tolerance
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            rows = list(dict.fromkeys(int(r) + 1 for r in total.index[bad]))
            self.fail(f"{what} does not equal the sum of its parts (published {published[i]:.12g}, sum "
                      f"{summed[i]:.12g})", column, rows=rows)


def unknown_values(df: pd.DataFrame, column: str, known: Iterable) -> pd.DataFrame:
    """Well-formed values of ``df[column]`` that are not in ``known`` (e.g. practices missing from the map).

    Not an error for a reader (DESIGN.md "Data contracts"): analyses list them in the pack's data-quality note.
    Returns a DataFrame ``value, count`` (most frequent first); missing values are not counted.
    """
    s = df[column].dropna()
    unknown = s[~s.isin(pd.Index(list(known)).unique())]
    counts = unknown.value_counts(sort=True)
    out = pd.DataFrame({"value": counts.index, "count": counts.to_numpy(dtype="int64")})
    return out.sort_values(["count", "value"], ascending=[False, True], kind="stable").reset_index(drop=True)
