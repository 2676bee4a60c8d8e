"""Five-year age bands ("0-4" ... "85-89", "90+") and splitting banded counts into single years."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from popheal.io.bands import AGE_BANDS as _IO_AGE_BANDS
from popheal.io.bands import age_band
from popheal.io.errors import InputError
from popheal.projection._lifetable import OPEN_AGE

__all__ = ["AGE_BANDS", "band_ages", "single_years", "to_age_band"]

#: The registered-list bands (DESIGN "Data contracts"), youngest first.
AGE_BANDS = _IO_AGE_BANDS  # the one definition, in popheal.io.bands

_BAND = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)|\+)\s*$")


def band_ages(label: str) -> tuple[int, int]:
    """First and last single year (capped at 90 = 90+) of a band label like ``"85-89"`` or ``"90+"``."""
    match = _BAND.match(str(label))
    if not match:
        raise InputError("age_band", f"cannot read the age band {label!r} (expected e.g. '0-4' or '90+')",
                         column="age_band")
    lo = int(match.group(1))
    hi = int(match.group(2)) if match.group(2) is not None else OPEN_AGE
    if hi < lo:
        raise InputError("age_band", f"age band {label!r} ends before it starts", column="age_band")
    return min(lo, OPEN_AGE), min(hi, OPEN_AGE)


def to_age_band(age) -> pd.Series:
    """Single years (0..90, 90 = 90+) to the 5-year band labels of :data:`AGE_BANDS`."""
    return age_band(np.minimum(np.asarray(age, dtype=int), OPEN_AGE), index=getattr(age, "index", None)).astype(str)


def single_years(banded: pd.DataFrame, shape: pd.DataFrame | None = None) -> pd.DataFrame:
    """Split counts in age bands into single years of age 0..90 (90 = 90+).

    Each band's count is spread over its single years in proportion to ``shape`` (e.g. the area's mid-year
    estimate or the projection's base year, ``[sex,] age, population``; matched by sex when both have F/M,
    otherwise the persons shape serves every sex); where the shape is missing or zero within a band the
    count is spread evenly. Bands may be any ``"a-b"``/``"a+"`` labels; ages above 90 go to 90+. Band totals
    are kept exactly. This is the usual proportional (Sprague-free) split, chosen because it keeps the
    area's single-year shape - e.g. a large cohort aged 72 - inside each practice's band.

    Returns the input's other columns, ``age``, ``population`` (fractional).
    """
    if "age_band" not in banded.columns or "population" not in banded.columns:
        raise InputError("registered list", "needs age_band and population columns", column="age_band")
    table = banded.copy()
    bounds = {lab: band_ages(lab) for lab in pd.unique(table["age_band"])}
    ids = [c for c in table.columns if c not in ("age_band", "population")]
    rows = []
    for lab, (lo, hi) in bounds.items():
        rows.append(pd.DataFrame({"age_band": lab, "age": np.arange(lo, hi + 1)}))
    expand = table.merge(pd.concat(rows, ignore_index=True), on="age_band", how="left")
    has_sex = "sex" in expand.columns
    if shape is not None:
        weights = shape[[c for c in ("sex", "age", "population") if c in shape.columns]].copy()
        weights["age"] = np.minimum(pd.to_numeric(weights["age"]).astype(int), OPEN_AGE)
        shape_sexes = set(weights["sex"].astype(str)) if "sex" in weights.columns else set()
        table_sexes = set(expand["sex"].astype(str)) if has_sex else set()
        if has_sex and table_sexes <= shape_sexes:
            weights = weights.groupby(["sex", "age"], as_index=False)["population"].sum()
            weights["sex"] = weights["sex"].astype(str)
            expand = expand.merge(weights.rename(columns={"population": "_w"}), on=["sex", "age"], how="left")
        else:
            weights = weights.groupby("age", as_index=False)["population"].sum()
            expand = expand.merge(weights.rename(columns={"population": "_w"}), on="age", how="left")
        expand["_w"] = expand["_w"].fillna(0.0).astype(float)
    else:
        expand["_w"] = 0.0
    key = [*ids, "age_band"]
    total_w = expand.groupby(key, sort=False, dropna=False)["_w"].transform("sum")
    n = expand.groupby(key, sort=False, dropna=False)["_w"].transform("size")
    share = np.where(total_w > 0, expand["_w"] / total_w.where(total_w > 0, 1.0), 1.0 / n)
    expand["population"] = expand["population"].astype(float) * share
    out = expand.groupby([*ids, "age"], as_index=False, sort=True, dropna=False)["population"].sum()
    return out[[*ids, "age", "population"]]
