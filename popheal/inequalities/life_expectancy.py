"""Life expectancy by deprivation quintile, the gap between the most and least deprived, and its SII.

Life expectancy comes from ``popheal.stats.life_expectancy`` (Chiang II abridged life table to 90+, with
Silcocks et al. 2001 limits, as PHEindicatormethods ``phe_life_expectancy``); the SII from
``popheal.stats.sii`` (OHID/PHE technical guidance). This follows ONS, "Health state life expectancies by
national deprivation deciles, England" (2017 to 2019: LE at birth SII 9.4 years males, 7.6 females by
decile), here by quintile.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from popheal import stats as _stats
from popheal.inequalities._common import QUINTILE_LABELS, as_list, require_columns
from popheal.inequalities.breakdowns import deprivation_gap, slope_index
from popheal.io.errors import InputError

__all__ = [
    "LE_AGE_BANDS",
    "life_expectancy_by_deprivation",
    "life_expectancy_gap",
    "prepare_deaths_by_quintile",
]

#: Start age of each band label of the abridged life table (PHE layout 0, 1-4, 5-9, ..., 85-89, 90+),
#: accepting the workHORSE/ONS spellings ("<1", "01-04", "05-09").
LE_AGE_BANDS: dict[str, int] = {
    "<1": 0, "0": 0, "1-4": 1, "01-04": 1, "5-9": 5, "05-09": 5,
    **{f"{a}-{a + 4}": a for a in range(10, 90, 5)},
    "90+": 90,
}  # fmt: skip

_SEX = {
    "men": "M",
    "male": "M",
    "males": "M",
    "m": "M",
    "women": "F",
    "female": "F",
    "females": "F",
    "f": "F",
    "persons": "persons",
    "all": "persons",
}


def prepare_deaths_by_quintile(table: pd.DataFrame, year: int | Sequence[int] | None = None) -> pd.DataFrame:
    """Normalise deaths and populations by sex, IMD quintile and age band for life expectancy by quintile.

    Accepts the layout of England deaths and mid-year populations by IMD quintile (ONS, as aggregated by the
    workHORSE team: ``year, sex`` men/women, ``qimd`` "1 most deprived" .. "5 least deprived", ``agegroup``
    "<1", "01-04", ..., "90+", ``deaths``, ``pops``) or already-normalised columns (``sex``, ``imd_quintile``,
    ``age_band``, ``deaths``, ``population``).

    Returns ``[year], sex ("F"/"M"), imd_quintile (1 = most deprived), age_band, startage, deaths,
    population`` (all-cause deaths; cause-specific columns are dropped).
    """
    t = table.rename(columns={"qimd": "imd_quintile", "agegroup": "age_band", "pops": "population"})
    require_columns(t, ["sex", "imd_quintile", "age_band", "deaths", "population"], "deaths table")
    if year is not None:
        if "year" not in t.columns:
            raise InputError("deaths table", "year= given but the table has no year column", column="year")
        t = t[t["year"].isin(np.atleast_1d(year))]
        if t.empty:
            raise InputError("deaths table", f"no rows for year {year}", column="year")
    sex = t["sex"].astype("string").str.strip()
    sex = sex.str.lower().map(_SEX).fillna(sex)
    q = pd.to_numeric(
        t["imd_quintile"].astype("string").str.extract(r"^\s*(\d)", expand=False), errors="coerce"
    )
    bad = q.isna() | ~q.isin(range(1, 6))
    if bad.any():
        raise InputError(
            "deaths table",
            "IMD quintile must start with 1-5 (1 = most deprived)",
            column="imd_quintile",
            rows=list(np.flatnonzero(bad.to_numpy())[:5] + 1),
        )
    band = t["age_band"].astype("string").str.strip()
    start = band.map(LE_AGE_BANDS)
    if start.isna().any():
        unknown = sorted(set(band[start.isna()].dropna()))[:5]
        raise InputError(
            "deaths table",
            f"age bands must be <1, 1-4, 5-9, ..., 85-89, 90+; found {unknown}",
            column="age_band",
        )
    out = pd.DataFrame(
        {
            "sex": sex.astype(str).to_numpy(),
            "imd_quintile": q.astype("int64").to_numpy(),
            "age_band": band.to_numpy(),
            "startage": start.astype("int64").to_numpy(),
            "deaths": pd.to_numeric(t["deaths"], errors="coerce").to_numpy(),
            "population": pd.to_numeric(t["population"], errors="coerce").to_numpy(),
        }
    )
    if "year" in t.columns:
        out.insert(0, "year", t["year"].to_numpy())
    keys = [c for c in ("year", "sex", "imd_quintile", "startage") if c in out.columns]
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


def life_expectancy_by_deprivation(
    deaths: pd.DataFrame,
    by: str | Iterable[str] = ("sex",),
    quantile: str = "imd_quintile",
    age: int = 0,
    confidence: float | Sequence[float] = 0.95,
) -> pd.DataFrame:
    """Life expectancy at ``age`` for each deprivation quantile (and ``by`` group, e.g. sex and year).

    Parameters
    ----------
    deaths : one row per quantile x ``by`` group x age band (0, 1-4, ..., 85-89, 90+) with ``startage``
        (or ``age_band``), ``deaths`` and ``population`` (see :func:`prepare_deaths_by_quintile`).

    Returns
    -------
    ``[by...], quantile, group`` (quintile label), ``population`` (all ages, the SII weight), ``deaths``,
    ``value`` (years) and limits, ``confidence``, ``statistic``, ``method`` from
    ``popheal.stats.life_expectancy`` (missing where PHE's rules suppress it, e.g. population <= 5,000).
    """
    by = as_list(by)
    start = "startage" if "startage" in deaths.columns else "age_band"
    require_columns(deaths, [*by, quantile, start, "deaths", "population"], "deaths table")
    keys = [*by, quantile]
    le = _stats.life_expectancy(
        deaths, deaths="deaths", pop="population", startage=start, by=keys, confidence=confidence, le_age=age
    )
    le = le.rename(columns={"pops_used": "population", "dths_used": "deaths"}).drop(columns=[start])
    if quantile == "imd_quintile":
        le.insert(len(keys), "group", le[quantile].map(QUINTILE_LABELS))
    return le.reset_index(drop=True)


def life_expectancy_gap(
    le: pd.DataFrame,
    by: str | Iterable[str] = ("sex",),
    quantile: str = "imd_quintile",
    repetitions: int = 100_000,
    seed: int = 1,
) -> pd.DataFrame:
    """The life expectancy gap (least deprived minus most deprived quantile) and the SII, per ``by`` group.

    Returns ``[by...], le_most_deprived, le_least_deprived, gap, gap_lowercl, gap_uppercl`` (years; the
    limits combine the two life expectancies' standard errors, independent groups) and ``sii, sii_lowercl,
    sii_uppercl`` (years, PHE convention: positive = longer lives among the least deprived; normal values,
    ``value_type=0``), ``gap_definition``.
    """
    by = as_list(by)
    require_columns(le, [*by, quantile, "value", "population"], "life expectancy table")
    qs = sorted(pd.unique(le[quantile].dropna()))
    if len(qs) < 2:
        raise InputError("life expectancy table", "needs at least two deprivation quantiles", column=quantile)
    most, least = qs[0], qs[-1]
    gap = deprivation_gap(le, most=most, least=least, order="least-most", by=by, group=quantile)
    gap = gap.rename(
        columns={
            "value_most_deprived": "le_most_deprived",
            "value_least_deprived": "le_least_deprived",
            "absolute_gap": "gap",
            "absolute_gap_lowercl": "gap_lowercl",
            "absolute_gap_uppercl": "gap_uppercl",
        }
    )
    gap = gap.drop(columns=[c for c in gap.columns if c.startswith("relative_gap")])
    gap["gap_definition"] = (
        f"life expectancy in quantile {least} (least deprived) minus quantile {most} (most deprived)"
    )
    sii = slope_index(
        le,
        quantile=quantile,
        by=by,
        population="population",
        value_type=0,
        repetitions=repetitions,
        rii=False,
        seed=seed,
    )
    keep = [*by, *[c for c in sii.columns if c.startswith("sii")]]
    out = gap.merge(sii[keep], on=by, how="left") if by else pd.concat([gap, sii[keep]], axis=1)
    cols = [
        *by,
        "le_most_deprived",
        "le_least_deprived",
        "gap",
        "gap_lowercl",
        "gap_uppercl",
        *[c for c in keep if c.startswith("sii")],
        "confidence",
        "gap_definition",
    ]
    return out[cols]
