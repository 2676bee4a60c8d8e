"""Grouping, group sums and input checks shared by every statistic in popheal.stats.

One helper turns the ``by`` columns into integer group codes once; sums, counts and broadcasts are then
``numpy.bincount`` calls, so no statistic loops over groups in Python.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["Grouping", "as_by", "check_non_negative", "numeric", "require_columns"]


def as_by(by: str | Sequence[str] | None) -> list[str]:
    """Normalise a ``by`` argument to a list of column names."""
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    by = list(by)
    if not all(isinstance(b, str) for b in by):
        raise TypeError("by must be a column name or a list of column names")
    if len(set(by)) != len(by):
        raise ValueError(f"by names a column more than once: {by}")
    return by


def require_columns(df: pd.DataFrame, columns: Sequence[str | None], function: str) -> None:
    """Raise a plain-English error naming any column that the data frame lacks."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{function}: the data must be a pandas DataFrame, not {type(df).__name__}")
    missing = [c for c in columns if c is not None and c not in df.columns]
    if missing:
        raise ValueError(
            f"{function}: column(s) {missing} not found in the data; the columns are {list(df.columns)}"
        )


def numeric(df: pd.DataFrame, column: str, function: str) -> np.ndarray:
    """A column as a float array (missing values as nan); non-numeric columns are an error."""
    series = df[column]
    if series.dtype == bool or not (
        pd.api.types.is_numeric_dtype(series) or series.isna().all()
    ):
        raise TypeError(f"{function}: column '{column}' must be numeric (it is {series.dtype})")
    return series.to_numpy(dtype=float, na_value=np.nan)


def check_non_negative(values: np.ndarray, column: str, function: str, strict: bool = False) -> None:
    """Negative (or, when strict, zero) values are an error that names the first offending rows."""
    bad = values <= 0 if strict else values < 0
    if np.any(bad):
        rows = np.flatnonzero(bad)[:5].tolist()
        rule = "greater than zero" if strict else "zero or more"
        raise ValueError(f"{function}: column '{column}' must be {rule}; first offending rows (by position): {rows}")


class Grouping:
    """Integer group codes for the ``by`` columns of a data frame, with vectorised group reductions.

    Groups are ordered by their key values (as dplyr's ``group_by`` orders them); a missing key value is a
    group of its own. ``keys`` holds one row of ``by`` values per group.
    """

    def __init__(self, df: pd.DataFrame, by: str | Sequence[str] | None, function: str = "popheal.stats"):
        self.by = as_by(by)
        require_columns(df, self.by, function)
        n = len(df)
        if not self.by:
            self.codes = np.zeros(n, dtype=np.intp)
            self.ngroups = 1
            self.keys = pd.DataFrame(index=pd.RangeIndex(1))
            return
        codes, uniques = [], []
        for column in self.by:
            c, u = pd.factorize(df[column], sort=True, use_na_sentinel=False)
            codes.append(c.astype(np.int64))
            uniques.append(u)
        sizes = [max(len(u), 1) for u in uniques]
        total = float(np.prod(sizes, dtype=float))
        if total <= max(4 * n, 1_000_000):
            combined = np.zeros(n, dtype=np.int64)
            for c, size in zip(codes, sizes):
                combined = combined * size + c
            present = np.bincount(combined, minlength=int(total)) > 0
            self.codes = (np.cumsum(present) - 1)[combined].astype(np.intp)
            group_values = np.flatnonzero(present)
            per_column = []
            for size in reversed(sizes):
                group_values, rest = np.divmod(group_values, size)
                per_column.append(rest)
            per_column.reverse()
        else:
            stacked = np.column_stack(codes)
            unique_rows, inverse = np.unique(stacked, axis=0, return_inverse=True)
            self.codes = inverse.reshape(-1).astype(np.intp)
            per_column = [unique_rows[:, i] for i in range(len(codes))]
        self.ngroups = len(per_column[0])
        self.keys = pd.DataFrame(
            {column: u.take(pc) for column, u, pc in zip(self.by, uniques, per_column)},
            index=pd.RangeIndex(self.ngroups),
        )
        for column in self.by:
            if isinstance(df[column].dtype, pd.CategoricalDtype):
                self.keys[column] = pd.Categorical(self.keys[column], dtype=df[column].dtype)

    def sum(self, values: np.ndarray, skipna: bool = False) -> np.ndarray:
        """Group sums; with ``skipna=False`` a missing value makes its group's sum missing (as R's sum)."""
        values = np.asarray(values, dtype=float)
        if skipna:
            values = np.where(np.isnan(values), 0.0, values)
        return np.bincount(self.codes, weights=values, minlength=self.ngroups)

    def count(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Rows per group (or rows where ``mask`` is true)."""
        if mask is None:
            return np.bincount(self.codes, minlength=self.ngroups)
        return np.bincount(self.codes, weights=np.asarray(mask, dtype=float), minlength=self.ngroups).astype(
            np.int64
        )

    def any(self, mask: np.ndarray) -> np.ndarray:
        """Whether any row of each group has ``mask`` true."""
        return self.count(mask) > 0

    def min(self, values: np.ndarray) -> np.ndarray:
        """Group minima, ignoring missing values (nan for a group with none)."""
        return pd.Series(values).groupby(self.codes).min().reindex(range(self.ngroups)).to_numpy(float)

    def max(self, values: np.ndarray) -> np.ndarray:
        """Group maxima, ignoring missing values (nan for a group with none)."""
        return pd.Series(values).groupby(self.codes).max().reindex(range(self.ngroups)).to_numpy(float)

    def broadcast(self, group_values: np.ndarray) -> np.ndarray:
        """Each row's group value."""
        return np.asarray(group_values)[self.codes]

    def order(self, *within: np.ndarray) -> np.ndarray:
        """Row order sorting by group, then by the ``within`` arrays (last one varies fastest)."""
        keys = tuple(reversed(within)) + (self.codes,)
        return np.lexsort(keys)


def counts_by(
    df: pd.DataFrame, x: str, n: str, by: str | Sequence[str] | None, function: str
) -> tuple[pd.DataFrame, dict, np.ndarray, np.ndarray, pd.Index | None]:
    """Numerators and denominators row by row (``by=None``) or summed within ``by`` groups.

    Returns the leading columns of the result, the result's own count columns, the two count arrays and
    the index to give the result (the input's index when row by row). As in PHEindicatormethods, a missing
    count makes its group's total missing.
    """
    require_columns(df, [x, n], function)
    xv, nv = numeric(df, x, function), numeric(df, n, function)
    check_non_negative(xv, x, function)
    check_non_negative(nv, n, function)
    if by is None:
        return df.reset_index(drop=True), {}, xv, nv, df.index
    grouping = Grouping(df, by, function)
    xs, ns = grouping.sum(xv), grouping.sum(nv)
    return grouping.keys, {x: xs, n: ns}, xs, ns, None
