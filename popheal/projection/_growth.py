"""Growth of age groups between two years, the old-age dependency ratio, and totals for charts."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from popheal.io.errors import InputError
from popheal.projection._apportion import _id_columns
from popheal.projection._bands import band_ages
from popheal.projection._lifetable import OPEN_AGE

__all__ = ["PACK_AGE_RANGES", "age_range_label", "age_range_totals", "growth"]

#: The pack's default rows: all ages, 65+, 75+, 85+.
PACK_AGE_RANGES: tuple[tuple[int, int | None], ...] = ((0, None), (65, None), (75, None), (85, None))

_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)|\+)\s*$")


def _parse_range(item) -> tuple[int, int | None]:
    if isinstance(item, str):
        if item.strip().lower() in ("all", "all ages"):
            return 0, None
        match = _RANGE.match(item)
        if not match:
            raise InputError("ages", f"cannot read the age range {item!r} (e.g. '65+', '16-64', (65, None))")
        return int(match.group(1)), int(match.group(2)) if match.group(2) else None
    lo, hi = item
    lo = 0 if lo is None else int(lo)
    hi = None if hi is None or hi >= OPEN_AGE else int(hi)
    if hi is not None and hi < lo:
        raise InputError("ages", f"age range {item!r} ends before it starts")
    return lo, hi


def _parse_ranges(ages) -> list[tuple[int, int | None]]:
    if isinstance(ages, str):
        return [_parse_range(ages)]
    items = list(ages)
    if len(items) == 2 and all(x is None or isinstance(x, (int, np.integer)) for x in items):
        return [_parse_range(tuple(items))]
    return [_parse_range(x) for x in items]


def age_range_label(lo: int, hi: int | None) -> str:
    """``(0, None)`` -> "all ages", ``(65, None)`` -> "65+", ``(16, 64)`` -> "16-64"."""
    if hi is None:
        return "all ages" if lo == 0 else f"{lo}+"
    return f"{lo}-{hi}"


def _with_bounds(projection: pd.DataFrame) -> pd.DataFrame:
    if "age" in projection.columns:
        age = np.minimum(pd.to_numeric(projection["age"]).astype(int), OPEN_AGE)
        return projection.assign(_lo=age, _hi=age)
    if "age_band" in projection.columns:
        bounds = {lab: band_ages(lab) for lab in pd.unique(projection["age_band"])}
        return projection.assign(_lo=projection["age_band"].map(lambda b: bounds[b][0]).astype(int),
                                 _hi=projection["age_band"].map(lambda b: bounds[b][1]).astype(int))
    raise InputError("projection", "needs an age or age_band column", column="age")


def _in_range(table: pd.DataFrame, lo: int, hi: int | None, strict: bool = True) -> pd.Series | None:
    top = OPEN_AGE if hi is None else hi
    inside = (table["_lo"] >= lo) & (table["_hi"] <= top)
    outside = (table["_hi"] < lo) | (table["_lo"] > top)
    if hi is not None and hi < OPEN_AGE:
        inside &= table["_lo"] < OPEN_AGE  # the open group 90+ is not inside a closed range
        outside |= table["_lo"] >= OPEN_AGE
    if not (inside | outside).all():
        if strict:
            raise InputError("ages", f"the range {age_range_label(lo, hi)} cuts through an age band of the "
                             "projection; use single years of age or band-aligned ranges", column="age_band")
        return None
    return inside


def _prepare(projection: pd.DataFrame, value: str):
    if value not in projection.columns or "year" not in projection.columns:
        raise InputError("projection", f"needs year and {value} columns", column=value)
    ids = _id_columns(projection)
    return _with_bounds(projection), ids


def age_range_totals(projection: pd.DataFrame, ages=PACK_AGE_RANGES, *, value: str = "population") -> pd.DataFrame:
    """Population in each age range by year (and by any id columns such as ``scenario`` or ``pcn_code``).

    Returns ``[ids,] ages, year, population`` (the summed ``value``), for charts and tables.
    """
    table, ids = _prepare(projection, value)
    frames = []
    for lo, hi in _parse_ranges(ages):
        mask = _in_range(table, lo, hi)
        part = table[mask].groupby([*ids, "year"], as_index=False, sort=True)[value].sum()
        part.insert(len(ids), "ages", age_range_label(lo, hi))
        frames.append(part)
    out = pd.concat(frames, ignore_index=True)
    return out.rename(columns={value: "population"})


def growth(
    projection: pd.DataFrame,
    ages=(65, None),
    base_year: int | None = None,
    target_year: int = 2041,
    *,
    value: str = "population",
) -> pd.DataFrame:
    """Change in the population of age ranges between ``base_year`` and ``target_year``.

    Parameters
    ----------
    projection : ``[ids,] year, [sex,] age (or age_band), population``; sexes are summed; non-numeric
        columns other than ``sex``/``age_band`` (e.g. ``practice_code``, ``pcn_code``, ``scenario``) are ids.
    ages : one range ``(lo, hi)`` (``hi`` inclusive, ``None`` = open, e.g. ``(65, None)`` = 65+) or a list of
        ranges or labels such as ``["all ages", "65+", "75+", "85+"]`` (see :data:`PACK_AGE_RANGES`).
    base_year : default the projection's first year. target_year : default 2041.
    value : the population column to use (e.g. ``apportioned_population``).

    Returns
    -------
    ``[ids,] ages, base_year, target_year, base_population, target_population, change, percent_change,
    base_old_age_dependency_ratio, old_age_dependency_ratio``. ``percent_change`` is 100 x change / base.

    The old-age dependency ratio is people aged 65 and over per 100 people aged 16 to 64 (at the target
    year; the base year's beside it). This is the fixed-age form ONS uses alongside its State Pension age
    version (ONS, "Living longer: how our population is changing and why it matters", 2018, which gives it
    per 1,000; here per 100). NaN when 16-64 cannot be formed (5-year bands) or is empty.
    """
    table, ids = _prepare(projection, value)
    years = set(table["year"].astype(int))
    base_year = int(min(years)) if base_year is None else int(base_year)
    for y in (base_year, target_year):
        if y not in years:
            raise InputError("projection", f"has no rows for year {y}", column="year")
    table = table[table["year"].isin([base_year, target_year])]
    gid = ids or ["_all"]
    if not ids:
        table = table.assign(_all="all")

    def totals(lo, hi, strict=True):
        mask = _in_range(table, lo, hi, strict=strict)
        if mask is None:
            return None
        part = table[mask].groupby([*gid, "year"], sort=True)[value].sum().unstack("year")
        full = table.groupby([*gid, "year"], sort=True)[value].sum().unstack("year") * 0.0
        return part.reindex(full.index).fillna(0.0).reindex(columns=[base_year, target_year], fill_value=0.0)

    old = totals(65, None, strict=False)
    working = totals(16, 64, strict=False)
    frames = []
    for lo, hi in _parse_ranges(ages):
        t = totals(lo, hi)
        frame = pd.DataFrame({
            "ages": age_range_label(lo, hi),
            "base_year": base_year,
            "target_year": int(target_year),
            "base_population": t[base_year].to_numpy(float),
            "target_population": t[target_year].to_numpy(float),
        }, index=t.index)
        frame["change"] = frame["target_population"] - frame["base_population"]
        with np.errstate(divide="ignore", invalid="ignore"):
            frame["percent_change"] = np.where(frame["base_population"] > 0,
                                               100.0 * frame["change"] / frame["base_population"], np.nan)
            for col, year in (("base_old_age_dependency_ratio", base_year), ("old_age_dependency_ratio",
                                                                               target_year)):
                if old is None or working is None:
                    frame[col] = np.nan
                else:
                    w = working[year].reindex(t.index).to_numpy(float)
                    o = old[year].reindex(t.index).to_numpy(float)
                    frame[col] = np.where(w > 0, 100.0 * o / w, np.nan)
        frames.append(frame.reset_index() if ids else frame.reset_index(drop=True))
    out = pd.concat(frames, ignore_index=True)
    if ids:
        out = out.sort_values(ids, kind="stable").reset_index(drop=True)
    cols = [*ids, "ages", "base_year", "target_year", "base_population", "target_population", "change",
            "percent_change", "base_old_age_dependency_ratio", "old_age_dependency_ratio"]
    return out[cols]
