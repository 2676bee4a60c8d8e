"""The 5-year age bands of the normalised registered-list contract (DESIGN.md "Data contracts").

One definition for every module: NHS Digital's quinary bands with 90-94 and 95+ merged into "90+", which are
also the 19 bands of the 2013 European Standard Population.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["AGE_BANDS", "OPEN_BAND_AGE", "age_band"]

#: The open top band starts here (single years 90 and over are "90+").
OPEN_BAND_AGE = 90
#: "0-4", "5-9", ..., "85-89", "90+", youngest first.
AGE_BANDS: tuple[str, ...] = tuple(f"{a}-{a + 4}" for a in range(0, OPEN_BAND_AGE, 5)) + (f"{OPEN_BAND_AGE}+",)
_BAND_DTYPE = pd.CategoricalDtype(list(AGE_BANDS), ordered=True)


def age_band(ages, index=None, name: str = "age_band") -> pd.Series:
    """5-year band of each age in completed years, as an ordered categorical Series.

    Ages 90 and over fall in "90+"; a missing, non-numeric or negative age gives a missing band. ``index``
    defaults to the input's own index when it has one.
    """
    if index is None and isinstance(ages, pd.Series):
        index = ages.index
    arr = np.asarray(ages)
    if arr.dtype.kind in "iuf":
        values = arr.astype("float64")
    else:
        values = pd.to_numeric(pd.Series(arr, dtype=object), errors="coerce").to_numpy(dtype="float64",
                                                                                       na_value=np.nan)
    codes = np.floor(values / 5)
    codes = np.where(np.isnan(codes) | (codes < 0), -1, np.minimum(codes, len(AGE_BANDS) - 1)).astype(np.int64)
    return pd.Series(pd.Categorical.from_codes(codes, dtype=_BAND_DTYPE), index=index, name=name)
