"""Core20: the share of a population living in the most deprived 20% of England, and deprivation lookups.

Core20 is defined by NHS England's Core20PLUS5 approach (2021) as the most deprived 20% of the national
population by the Index of Multiple Deprivation: LSOAs in national IMD 2019 deciles 1 and 2
(reference/domain-spec.md E). Deprivation is always taken from the person's LSOA of residence, never from the
practice-level IMD score.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from popheal.inequalities._common import as_list, check_counts, clean_lsoa, require_columns
from popheal.io.errors import InputError, first_rows

__all__ = [
    "CORE20_DECILES",
    "add_deprivation",
    "core20_share",
    "deprivation_quintile",
    "imd_lookup",
    "population_from_extract",
    "population_from_lsoa_table",
]

#: National IMD 2019 deciles that make up Core20 (1 = most deprived 10% of LSOAs in England).
CORE20_DECILES: tuple[int, ...] = (1, 2)


def deprivation_quintile(decile: pd.Series | Iterable) -> pd.Series:
    """National deprivation quintile from national decile: ``ceil(decile / 2)`` (1 = most deprived 20%).

    Missing deciles stay missing (nullable ``Int64``).
    """
    d = pd.array(pd.to_numeric(pd.Series(decile), errors="coerce"), dtype="Float64")
    q = np.ceil(d / 2)
    index = decile.index if isinstance(decile, pd.Series) else None
    return pd.Series(q, index=index, name="imd_quintile").astype("Int64")


def imd_lookup(imd: pd.DataFrame) -> pd.Series:
    """Validate the normalised IoD 2019 table and return ``imd_decile`` indexed by ``lsoa11``.

    The table is the one :func:`popheal.io.read_imd` returns (``lsoa11, lsoa_name, lad_code, imd_rank,
    imd_decile``); only ``lsoa11`` and ``imd_decile`` are needed. Deciles must be whole numbers 1-10 and each
    LSOA may appear once.
    """
    require_columns(imd, ["lsoa11", "imd_decile"], "IMD table")
    codes = clean_lsoa(imd["lsoa11"])
    if codes.isna().any():
        raise InputError(
            "IMD table", "every row needs an LSOA code", column="lsoa11", rows=first_rows(codes.isna())
        )
    dup = codes.duplicated(keep=False)
    if dup.any():
        raise InputError("IMD table", "each LSOA may appear only once", column="lsoa11", rows=first_rows(dup))
    dec = pd.to_numeric(imd["imd_decile"], errors="coerce")
    bad = dec.isna() | ~dec.isin(range(1, 11))
    if bad.any():
        raise InputError(
            "IMD table",
            "IMD decile must be a whole number from 1 (most deprived) to 10",
            column="imd_decile",
            rows=first_rows(bad),
        )
    return pd.Series(
        dec.astype("int64").to_numpy(), index=pd.Index(codes.to_numpy(), name="lsoa11"), name="imd_decile"
    )


def add_deprivation(extract: pd.DataFrame, imd: pd.DataFrame, lsoa: str = "lsoa11") -> pd.DataFrame:
    """Return a copy of ``extract`` with ``imd_decile``, ``imd_quintile`` (Int64) and ``core20`` (boolean).

    The three columns are missing (``<NA>``) where the LSOA is empty or not in the IMD file; such rows are
    kept
    (count them with ``df["imd_decile"].isna().sum()``) and left out only of the deprivation breakdowns.
    """
    require_columns(extract, [lsoa], "patient extract")
    lookup = imd_lookup(imd)
    decile = clean_lsoa(extract[lsoa]).map(lookup).astype("Int64").set_axis(extract.index)
    core20 = decile.isin(CORE20_DECILES).astype("boolean").mask(decile.isna())
    out = extract.copy()
    out["imd_decile"] = decile
    out["imd_quintile"] = deprivation_quintile(decile)
    out["core20"] = core20
    return out


def core20_share(
    population: pd.DataFrame, imd: pd.DataFrame, by: str | Iterable[str] | None = None
) -> pd.DataFrame:
    """Share of a population living in Core20 LSOAs (national IMD 2019 deciles 1-2), overall or by group.

    Parameters
    ----------
    population : long table with ``lsoa11``, ``population`` and any ``by`` columns: aggregate a patient
        extract first (:func:`population_from_extract`) or melt an LSOA table
        (:func:`population_from_lsoa_table`). Populations may be fractional (ONS estimates) but not negative
        or missing. Several rows may share an LSOA.
    imd : the normalised IoD 2019 table (:func:`popheal.io.read_imd`); deciles are national.
    by : grouping column(s), e.g. ``"practice_code"`` or ``["pcn_code", "sex"]``.

    Returns
    -------
    DataFrame with the ``by`` columns (one row per group; a single row when ``by`` is None), then
    ``core20_population`` (people in LSOAs of deciles 1-2), ``total_population`` (people whose LSOA was
    found in the IMD file: the denominator), ``core20_share`` (= core20_population / total_population, a
    fraction 0-1, NaN when the group has no matched population) and ``unmatched_population`` (people whose
    LSOA is empty or not in the IMD file, e.g. Welsh or 2021-only codes).

    The share is therefore of the **matched** population: people without a usable LSOA are excluded from
    both numerator and denominator and reported beside them, as DESIGN.md asks for unknown values
    (everybody = ``total_population + unmatched_population``). Reference: NHS England, Core20PLUS5 (2021).
    """
    by = as_list(by)
    require_columns(population, ["lsoa11", "population", *by], "population table")
    pop = check_counts(population["population"], "population table", "population")
    decile = clean_lsoa(population["lsoa11"]).map(imd_lookup(imd))
    matched = decile.notna().to_numpy()
    core20 = decile.isin(CORE20_DECILES).to_numpy()
    parts = pd.DataFrame(
        {
            "core20_population": pop.where(core20, 0),
            "total_population": pop.where(matched, 0),
            "unmatched_population": pop.where(~matched, 0),
        },
        index=population.index,
    )
    if by:
        keyed = pd.concat([population[by], parts], axis=1)
        out = keyed.groupby(by, sort=True, dropna=False, observed=True).sum().reset_index()
    else:
        out = parts.sum().to_frame().T
    total = out["total_population"].astype("float64")
    out["core20_share"] = np.where(total > 0, out["core20_population"] / total.where(total > 0, 1.0), np.nan)
    return out[[*by, "core20_population", "total_population", "core20_share", "unmatched_population"]]


def population_from_extract(extract: pd.DataFrame, by: str | Iterable[str] | None = None) -> pd.DataFrame:
    """Count patients by LSOA (and ``by``): ``[by...], lsoa11, population``, the input of ``core20_share``.

    Empty LSOAs are kept as a missing ``lsoa11`` so that :func:`core20_share` counts them as unmatched.
    """
    by = as_list(by)
    require_columns(extract, ["lsoa11", *by], "patient extract")
    keys = pd.concat([extract[by], clean_lsoa(extract["lsoa11"]).rename("lsoa11")], axis=1)
    out = keys.groupby([*by, "lsoa11"], dropna=False, observed=True, sort=True).size()
    return out.rename("population").reset_index()


def population_from_lsoa_table(
    table: pd.DataFrame, year: int | None = None, by: str | Iterable[str] | None = None
) -> pd.DataFrame:
    """Total an ONS LSOA population table to ``[by...], lsoa11, population`` for :func:`core20_share`.

    ``table`` is the long table :func:`popheal.io.read_lsoa_population` returns (``area_code, sex, age,
    year, population``; ``lsoa11`` is accepted in place of ``area_code``). When both ``persons`` rows and
    ``F``/``M`` rows are present only the persons rows are used, so nobody is counted twice. ``year`` picks
    one year (required when the table holds several).
    """
    by = as_list(by)
    code = "lsoa11" if "lsoa11" in table.columns else "area_code"
    require_columns(table, [code, "population", *by], "LSOA population table")
    rows = table
    if "year" in rows.columns:
        years = pd.unique(rows["year"])
        if year is not None:
            rows = rows[rows["year"] == year]
            if rows.empty:
                raise InputError(
                    "LSOA population table",
                    f"no rows for year {year}; years present: {', '.join(map(str, sorted(years)))}",
                    column="year",
                )
        elif len(years) > 1:
            raise InputError("LSOA population table", "several years present: pass year=", column="year")
    if "sex" in rows.columns and "sex" not in by:
        sex = rows["sex"].astype("string").str.lower()
        if (sex == "persons").any():
            rows = rows[(sex == "persons").to_numpy()]
    keys = [*by, "lsoa11"]
    frame = pd.concat(
        [
            rows[by],
            clean_lsoa(rows[code]).rename("lsoa11"),
            check_counts(rows["population"], "LSOA population table", "population"),
        ],
        axis=1,
    )
    return frame.groupby(keys, dropna=False, observed=True, sort=True)["population"].sum().reset_index()
