"""Helpers for the popheal.stats golden tests: compare result columns by name at a stated tolerance."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd


def check_columns(
    result: pd.DataFrame,
    expected: Mapping[str, Sequence],
    rel: float = 1e-9,
    abs_tol: float = 0.0,
) -> None:
    """Assert each named column equals the typed-in reference values (missing compares equal to missing)."""
    for column, values in expected.items():
        assert column in result.columns, f"missing column {column!r}; have {list(result.columns)}"
        got = list(result[column])
        assert len(got) == len(values), f"{column}: {len(got)} rows, expected {len(values)}"
        for i, (g, e) in enumerate(zip(got, values)):
            if e is None or (isinstance(e, float) and math.isnan(e)):
                assert g is None or pd.isna(g), f"{column}[{i}]: expected missing, got {g!r}"
            elif isinstance(e, str):
                assert g == e, f"{column}[{i}]: expected {e!r}, got {g!r}"
            else:
                assert g is not None and not pd.isna(g), f"{column}[{i}]: expected {e!r}, got missing"
                assert math.isclose(float(g), float(e), rel_tol=rel, abs_tol=abs_tol), (
                    f"{column}[{i}]: expected {e!r}, got {float(g)!r} (rel {abs(g - e) / abs(e) if e else g:.2e})"
                )


NA = np.nan

# Shared inputs typed in from ../shared/reference/methods-vectors.md section 6 (PHEindicatormethods
# testdata_DSR_ISR.xlsx, sheet testdata_multiarea; the file's "55-69" label is 55-59).
BANDS = ["0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49",
         "50-54", "55-59", "60-64", "65-69", "70-74", "75-79", "80-84", "85-89", "90+"]  # fmt: skip
POP = [636, 558, 609, 543, 384, 594, 669, 843, 660, 576, 606, 522, 426, 273, 300, 288, 153, 123, 207]
COUNT_BIG = [127, 25, 18, 21, 12, 27, 48, 27, 29, 32, 32, 34, 45, 65, 38, 68, 74, 82, 91]
COUNT_SMALL = [12, 4, 3, 2, 3, 4, 8, 2, 2, 3, 4, 5, 6, 8, 5, 6, 5, 5, 4]
COUNT_TINY = [0, 0, NA, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 2, 3]
ESP = [5000, 5500, 5500, 5500, 6000, 6000, 6500, 7000, 7000, 7000,
       7000, 6500, 6000, 5500, 5000, 4000, 2500, 1500, 1000]  # fmt: skip
REF_COUNT = [10303, 2824, 0, 3615, 3641, 3490, 3789, 3213, 3031, 2771, 3089, 3490, 3595, 4745, 5514, 7125,
             5694, 6210, 5757]  # fmt: skip
REF_POP = [50520, 57173, 60213, 54659, 44345, 50128, 62163, 67423, 62899, 55463, 60479, 49974, 44140, 40888,
           37239, 30819, 18136, 15325, 13918]  # fmt: skip


def multiarea() -> pd.DataFrame:
    """The three test areas (big, small, tiny) with the same populations, one row per age band."""
    frames = []
    for name, counts in (("testdata_big", COUNT_BIG), ("testdata_small", COUNT_SMALL), ("testdata_tiny", COUNT_TINY)):
        frames.append(pd.DataFrame({"area": name, "age_band": BANDS, "pop": POP, "count": counts}))
    return pd.concat(frames, ignore_index=True)
