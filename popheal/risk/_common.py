"""Input checks and small vectorised helpers shared by the risk modules (no analysis here)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from popheal.io.bands import AGE_BANDS, age_band
from popheal.io.errors import InputError, first_rows
from popheal.io.errors import require_columns as _require_columns

__all__ = [
    "AGE_BANDS_5Y",
    "EXTRACT",
    "age",
    "age_band_5y",
    "categorical_from_codes",
    "count",
    "flag",
    "flags_sum",
    "require_columns",
    "require_frame",
]

#: How the patient extract is named in error messages (the analyses receive a frame, not a file).
EXTRACT = "patient extract"


def require_frame(extract, where: str) -> pd.DataFrame:
    """Check that ``extract`` is a non-empty DataFrame."""
    if not isinstance(extract, pd.DataFrame):
        raise TypeError(f"{where}: expected the patient extract as a pandas DataFrame, got {type(extract).__name__}")
    if len(extract) == 0:
        raise InputError(EXTRACT, f"{where}: the patient extract has no rows")
    return extract


def require_columns(extract: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    """Raise InputError naming every contract column ``where`` needs that the extract lacks."""
    _require_columns(extract, columns, EXTRACT, where)


def flag(extract: pd.DataFrame, column: str) -> np.ndarray:
    """A contract bool column as a numpy bool array (bool, nullable boolean without NA, or 0/1 integers)."""
    s = extract[column]
    dtype = s.dtype
    if dtype == bool:
        return s.to_numpy()
    if isinstance(dtype, pd.BooleanDtype):
        if s.isna().any():
            raise InputError(EXTRACT, "a condition/status flag must be True or False, not missing", column,
                             first_rows(s.isna()))
        return s.to_numpy(dtype=bool)
    if pd.api.types.is_integer_dtype(dtype):
        values = s.to_numpy()
        bad = (values != 0) & (values != 1)
        if bad.any():
            raise InputError(EXTRACT, "a flag must be bool (or 0/1)", column, s.index[bad][:5])
        return values.astype(bool)
    raise InputError(EXTRACT, f"a flag must be bool, not {dtype}", column)


def flags_sum(extract: pd.DataFrame, columns: Sequence[str], dtype=np.int16) -> np.ndarray:
    """Row-wise number of True flags over ``columns`` (one pass per column, never per row)."""
    total = np.zeros(len(extract), dtype=dtype)
    for c in columns:
        total += flag(extract, c)
    return total


def count(extract: pd.DataFrame, column: str) -> np.ndarray:
    """A contract count column (non-negative whole numbers, no missing values) as an int64 array."""
    s = extract[column]
    if not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        raise InputError(EXTRACT, f"a count must be a whole number, not {s.dtype}", column)
    if s.isna().any():
        raise InputError(EXTRACT, "a count must not be missing", column, first_rows(s.isna()))
    if pd.api.types.is_integer_dtype(s.dtype):
        values = s.to_numpy(dtype=np.int64)
    else:
        floats = s.to_numpy(dtype=np.float64)
        bad = ~np.isfinite(floats) | (floats != np.floor(floats))
        if bad.any():
            raise InputError(EXTRACT, "a count must be a whole number", column, s.index[bad][:5])
        values = floats.astype(np.int64)
    if (values < 0).any():
        raise InputError(EXTRACT, "a count must not be negative", column, s.index[values < 0][:5])
    return values


def age(extract: pd.DataFrame) -> np.ndarray:
    """The ``age`` column as an int array, checked against the contract (whole years 0-120, none missing)."""
    values = count(extract, "age")
    if (values > 120).any():
        raise InputError(EXTRACT, "age must be 0-120", "age", extract.index[values > 120][:5])
    return values


def categorical_from_codes(codes: np.ndarray, categories: Sequence[str], index, name: str) -> pd.Series:
    """An ordered categorical Series from integer codes (-1 = missing)."""
    cat = pd.Categorical.from_codes(codes, categories=pd.Index(list(categories), dtype=object), ordered=True)
    return pd.Series(cat, index=index, name=name)


#: Five-year age bands as in the registered-list contract ("0-4" ... "85-89", "90+").
AGE_BANDS_5Y: tuple[str, ...] = AGE_BANDS


def age_band_5y(ages: np.ndarray, index, name: str = "age_band") -> pd.Series:
    """Five-year age band labels ("0-4" ... "85-89", "90+"), the bands of the registered-list contract."""
    return age_band(np.asarray(ages), index=index, name=name)
