"""From an area projection to practices and PCNs: share apportionment, constraint, and PCN projections."""

from __future__ import annotations

import numpy as np
import pandas as pd

from popheal.io.errors import InputError
from popheal.projection._bands import band_ages, single_years, to_age_band
from popheal.projection._cohort import cohort_component
from popheal.projection._lifetable import OPEN_AGE, _sex_kind

__all__ = ["apportion", "constrain", "project_pcn"]

_VALUE_COLUMNS = {"year", "sex", "age", "age_band", "population"}


def _id_columns(table: pd.DataFrame, exclude=()) -> list[str]:
    """Identifier columns: the non-numeric columns other than sex/age_band (and ``exclude``)."""
    skip = _VALUE_COLUMNS | set(exclude)
    return [c for c in table.columns if c not in skip and not pd.api.types.is_numeric_dtype(table[c])
            and not pd.api.types.is_bool_dtype(table[c])]


def _age_order(column: pd.Series) -> pd.Series:
    """Sort key: age bands by their first year (so "5-9" comes before "10-14"); other columns as they are."""
    if column.name == "age_band":
        return column.map(lambda label: band_ages(label)[0])
    return column


def _check_population(table: pd.DataFrame, name: str) -> pd.DataFrame:
    if "population" not in table.columns:
        raise InputError(name, "needs a population column", column="population")
    pop = pd.to_numeric(table["population"], errors="coerce")
    bad = pop.isna() | (pop < 0)
    if bad.any():
        raise InputError(name, "population must be a number >= 0", column="population",
                         rows=table.index[bad.to_numpy()])
    out = table.copy()
    out["population"] = pop.astype(float)
    if "sex" in out.columns:
        out["sex"] = out["sex"].astype(str)
    return out


def _with_age_column(table: pd.DataFrame, age_col: str, name: str) -> pd.DataFrame:
    """Make sure ``age_col`` exists: band single years when bands are wanted."""
    if age_col in table.columns:
        if age_col == "age":
            return table.assign(age=np.minimum(pd.to_numeric(table["age"]).astype(int), OPEN_AGE))
        return table.assign(age_band=table["age_band"].astype(str))
    if age_col == "age_band" and "age" in table.columns:
        return table.assign(age_band=to_age_band(pd.to_numeric(table["age"]).astype(int)))
    hint = " (split bands first with single_years)" if age_col == "age" else ""
    raise InputError(name, f"needs an {age_col} column{hint}", column=age_col)


def _persons_mode(area_sexes, unit_sexes, name: str) -> bool:
    """True when a persons area is split by the units' F/M; raise when labels cannot be matched."""
    area_kinds = {_sex_kind(s) for s in area_sexes}
    unit_kinds = {_sex_kind(s) for s in unit_sexes}
    if len(area_sexes) == 1 and area_kinds == {"persons"} and unit_kinds <= {"F", "M"}:
        return True
    if set(unit_sexes) <= set(area_sexes):
        return False
    raise InputError(name, f"sex labels {sorted(unit_sexes)} do not match the area projection's "
                     f"{sorted(area_sexes)}", column="sex")


def _shares(grid: pd.DataFrame, value: str, unit_cols, out_cols, key_cols, group_cols) -> pd.Series:
    """Each unit's share of its cell, with fallbacks so that the shares under every area cell sum to one.

    Level 1: the unit's value in the cell over the total of the area cell (``key_cols``). Where that total
    is zero: the unit's all-ages value (of the cell's sex) over the all-ages total of that sex; where that
    is zero too: its share of everything (keeping its own sex split when the area cell has no sex).
    """
    age = [c for c in ("age", "age_band") if c in out_cols]
    g = list(group_cols)
    levels = [
        (list(out_cols), list(key_cols)),
        ([c for c in out_cols if c not in age], [c for c in key_cols if c not in age]),
        ([] if "sex" in key_cols else [c for c in out_cols if c == "sex"], []),
    ]
    share = pd.Series(np.nan, index=grid.index)
    for numer_cols, denom_cols in levels:
        numer = grid.groupby(g + list(unit_cols) + numer_cols, sort=False, dropna=False)[value].transform("sum")
        if g or denom_cols:
            denom = grid.groupby(g + denom_cols, sort=False, dropna=False)[value].transform("sum")
        else:
            denom = pd.Series(grid[value].sum(), index=grid.index)
        share = share.fillna(numer / denom.where(denom > 0))
    return share


def _allocate(units: pd.DataFrame, area: pd.DataFrame, unit_cols, out_cols, key_cols, group_cols) -> pd.DataFrame:
    """Split each area cell (``group_cols`` + ``key_cols``) over the units in proportion to their values.

    ``units``: ``group_cols + unit_cols + out_cols + value``; ``area``: ``group_cols + key_cols +
    population``. Returns a full grid (every unit x every cell) with ``share`` and ``allocated``.
    """
    g = list(group_cols)
    unit_index = units[g + list(unit_cols)].drop_duplicates()
    cells_from_units = units[g + list(out_cols)].drop_duplicates()
    out_extra = [c for c in out_cols if c not in key_cols]  # sex, when a persons area is split by sex
    if out_extra:
        extra = units[g + out_extra].drop_duplicates()
        cells_from_area = area[g + list(key_cols)].drop_duplicates().merge(extra, on=g, how="inner") if g else \
            area[list(key_cols)].drop_duplicates().merge(extra, how="cross")
    else:
        cells_from_area = area[g + list(out_cols)].drop_duplicates()
    cells = pd.concat([cells_from_units, cells_from_area], ignore_index=True).drop_duplicates()
    if g:
        grid = unit_index.merge(cells, on=g, how="inner")
    else:
        grid = unit_index.merge(cells, how="cross")
    grid = grid.merge(units, on=g + list(unit_cols) + list(out_cols), how="left")
    grid["value"] = grid["value"].fillna(0.0)
    grid = grid.reset_index(drop=True)
    grid["share"] = _shares(grid, "value", unit_cols, out_cols, key_cols, g)
    grid = grid.merge(area.rename(columns={"population": "_area"}), on=g + list(key_cols), how="left")
    grid["_area"] = grid["_area"].fillna(0.0)
    if (grid["share"].isna() & (grid["_area"] > 0)).any():
        raise InputError("practice_population", "the registered lists are all zero: nothing to share by",
                         column="population")
    grid["allocated"] = grid["share"].fillna(0.0) * grid["_area"]
    return grid


def _area_table(area_projection, unit_table, age_col, name="area_projection"):
    area = _check_population(area_projection, name)
    if "year" not in area.columns:
        raise InputError(name, "needs a year column", column="year")
    area = _with_age_column(area, age_col, name)
    area_ids = _id_columns(area)
    join = [c for c in area_ids if c in unit_table.columns]
    other = [c for c in area_ids if c not in unit_table.columns]
    if other and len(area[other].drop_duplicates()) > 1:
        raise InputError(name, f"holds several areas ({other}); pass one area or add {other} to the "
                         "practice table", column=other[0])
    return area, join


def apportion(
    area_projection: pd.DataFrame,
    practice_population: pd.DataFrame,
    by=("sex", "age_band"),
    resident_population: pd.DataFrame | None = None,
    *,
    level: str = "practice_code",
) -> pd.DataFrame:
    """Split an area projection over practices (or PCNs) by their share of the registered list in each cell.

    Method: NIHR GP workload study, Appendix 31 (ncbi.nlm.nih.gov/books/NBK539956): a practice's share of
    an age/sex cell is its registered count over all the area's practices' count in that cell; its
    projection is the share times the area's projected cell, shares held at the list's date.

    Parameters
    ----------
    area_projection : ``year, sex, age (or age_band), population`` for one area (e.g. ONS SNPP or
        :func:`cohort_component` output). Single years are banded to the practices' bands when
        ``by`` has ``age_band``. A persons projection (one sex label) is split by the registered lists'
        sex ratio in each band. Area id columns shared with ``practice_population`` (e.g. ``area_code``)
        are join keys.
    practice_population : registered list, ``practice_code, sex, age_band (or age), population`` (+ e.g.
        ``pcn_code``, carried through when constant within ``level``).
    by : the cell: ``("sex", "age_band")`` (default), ``("sex", "age")`` for single-year lists, or without
        ``sex`` for persons shares.
    resident_population : optional area residents at the list's date (``sex, age or age_band,
        population``, e.g. ONS mid-year estimates) to handle registered-list inflation. The share method
        already corrects inflation in aggregate (the practices together receive exactly the area's
        resident figure); with this table the output also has ``inflation_factor`` (registered total over
        residents in the cell) and ``registered_population`` (= ``population`` x factor: the projection on
        the list scale, inflation kept as the NIHR study did for register-based workload).
    level : the unit to split to: ``practice_code`` (default) or another column of the list such as
        ``pcn_code`` (lists are summed to it first; the result equals summing practices afterwards).

    Returns
    -------
    ``level`` (+ carried ids), ``year``, the ``by`` columns, ``population`` (fractional), [``inflation_factor,
    registered_population``]. In every year and cell the units' ``population`` sums to the area's to
    floating-point precision. Empty cells (no registered patient in the cell but area population) are
    shared by each unit's all-ages share of that sex, then of everyone, so totals are still conserved.
    """
    by = tuple(by)
    age_col = "age_band" if "age_band" in by else "age" if "age" in by else None
    if age_col is None:
        raise InputError("by", "must include age_band or age", column="by")
    reg = _check_population(practice_population, "practice_population")
    if level not in reg.columns:
        raise InputError("practice_population", f"needs a {level} column", column=level)
    reg = _with_age_column(reg.drop(columns=[c for c in ("year",) if c in reg.columns]), age_col,
                           "practice_population")
    area, join = _area_table(area_projection, reg, age_col)
    sex_in = "sex" in by
    if sex_in and "sex" not in reg.columns:
        raise InputError("practice_population", "needs a sex column (or leave sex out of by)", column="sex")
    persons = False
    if sex_in:
        if "sex" not in area.columns:
            raise InputError("area_projection", "needs a sex column (or leave sex out of by)", column="sex")
        persons = _persons_mode(set(area["sex"]), set(reg["sex"]), "practice_population")
    key = [c for c in by if not (persons and c == "sex")]
    carried = [c for c in _id_columns(reg, exclude=[level, *join]) if c not in by and
               (reg.groupby(level)[c].nunique(dropna=False) <= 1).all()]

    units = reg.groupby([*join, level, *by], as_index=False, sort=False, dropna=False)["population"].sum()
    units = units.rename(columns={"population": "value"})
    area_cells = area.groupby([*join, "year", *key], as_index=False, sort=True)["population"].sum()

    registered = units
    units = units.merge(pd.DataFrame({"year": sorted(pd.unique(area_cells["year"]))}), how="cross")
    grid = _allocate(units, area_cells, [level], list(by), key, [*join, "year"])
    out = grid[[*join, level, "year", *by]].copy()
    out["population"] = grid["allocated"].to_numpy()
    if carried:
        out = out.merge(reg[[level, *carried]].drop_duplicates(level), on=level, how="left")
    if resident_population is not None:
        res = _check_population(resident_population, "resident_population")
        res = _with_age_column(res, age_col, "resident_population")
        if persons and "sex" in res.columns and len(set(res["sex"])) > 1:
            res = res.assign(sex=area["sex"].iloc[0])
        res_key = [c for c in key if c in res.columns]
        res_cells = res.groupby(res_key, as_index=False)["population"].sum().rename(
            columns={"population": "_resident"})
        reg_cells = registered.groupby(res_key, as_index=False)["value"].sum().rename(columns={"value": "_registered"})
        factor = reg_cells.merge(res_cells, on=res_key, how="outer")
        factor["inflation_factor"] = factor["_registered"] / factor["_resident"].where(factor["_resident"] > 0)
        out = out.merge(factor[[*res_key, "inflation_factor"]], on=res_key, how="left")
        out["registered_population"] = out["population"] * out["inflation_factor"]
    order = [*join, level, *carried, "year", *by]
    rest = [c for c in out.columns if c not in order]
    return out[order + rest].sort_values([*join, level, "year", *by], kind="stable",
                                         key=_age_order).reset_index(drop=True)


def constrain(projections: pd.DataFrame, area_projection: pd.DataFrame, by=("sex", "age")) -> pd.DataFrame:
    """Scale units' projections so that in every year and cell they sum to the area projection.

    Each unit's (e.g. PCN's) population in a year/sex/age cell becomes its share of the units' total in
    that cell times the area's figure: the units' own projections decide how the area is divided, the area
    projection decides the total (the usual "constrained" small-area projection, as ONS SNPP are
    constrained to the national projection). A persons area constrains the sum of a unit's F and M (both
    scaled by the same factor). Cells where the units hold nobody but the area does (e.g. age 0 without
    fertility) are shared by the units' all-ages share of that sex, then of everyone.

    Parameters
    ----------
    projections : ``<unit id(s)>, year, sex, age, population`` (e.g. :func:`cohort_component` output with a
        ``pcn_code`` column). Other numeric columns are dropped.
    area_projection : ``year, sex, age, population`` for the one area (years must cover the units' years).
    by : the cells, ``("sex", "age")`` by default (or ``("sex", "age_band")``).

    Returns
    -------
    The units' rows with ``population`` constrained and ``unconstrained_population`` beside it.
    """
    by = tuple(by)
    age_col = "age_band" if "age_band" in by else "age"
    units = _check_population(projections, "projections")
    if "year" not in units.columns:
        raise InputError("projections", "needs a year column", column="year")
    units = _with_age_column(units, age_col, "projections")
    area, join = _area_table(area_projection, units, age_col)
    unit_cols = [c for c in _id_columns(units) if c not in join]
    if not unit_cols:
        raise InputError("projections", "needs a unit id column (e.g. pcn_code or practice_code)")
    missing_years = sorted(set(units["year"]) - set(area["year"]))
    if missing_years:
        raise InputError("area_projection", f"has no rows for years {missing_years[:5]}", column="year")
    persons = "sex" in by and _persons_mode(set(area["sex"]), set(units["sex"]), "projections")
    key = [c for c in by if not (persons and c == "sex")]
    values = units.groupby([*join, "year", *unit_cols, *by], as_index=False, sort=False)["population"].sum()
    values = values.rename(columns={"population": "value"})
    area_cells = area.groupby([*join, "year", *key], as_index=False)["population"].sum()
    area_cells = area_cells[area_cells["year"].isin(set(units["year"]))]
    grid = _allocate(values, area_cells, unit_cols, list(by), key, [*join, "year"])
    out = grid[[*join, *unit_cols, "year", *by]].copy()
    out["population"] = grid["allocated"].to_numpy()
    out["unconstrained_population"] = grid["value"].to_numpy()
    return out.sort_values([*join, *unit_cols, "year", *by], kind="stable", key=_age_order).reset_index(drop=True)


def _migration_as_rates(migration, area, start_year, unit_sexes):
    """Area net-migration counts to rates per head of the area population (same sex and age, year start).

    A sexed migration table against a persons area divides by half the persons at each age.
    """
    if migration is None or "net_migration" not in migration.columns:
        return migration
    mig = migration.copy()
    mig["sex"] = mig["sex"].astype(str)
    mig["age"] = np.minimum(pd.to_numeric(mig["age"]).astype(int), OPEN_AGE)
    keys = ["year"] if "year" in mig.columns else []
    mig = mig.groupby([*keys, "sex", "age"], as_index=False)["net_migration"].sum()
    pop = area.groupby(["year", "sex", "age"], as_index=False)["population"].sum()
    if not set(mig["sex"]) <= set(pop["sex"]):
        # sexed migration against a persons area: take each sex as half of the persons at that age
        persons = pop.groupby(["year", "age"], as_index=False)["population"].sum()
        pop = pd.concat([persons.assign(sex=s, population=persons["population"] / 2.0)
                         for s in sorted(set(mig["sex"]))], ignore_index=True)
    if keys:
        mig["_from"] = mig["year"] - 1
    else:
        mig["_from"] = start_year
    merged = mig.merge(pop.rename(columns={"year": "_from", "population": "_pop"}), on=["_from", "sex", "age"],
                       how="left")
    if merged["_pop"].isna().all():  # e.g. counts for years beyond the area projection: use the base year
        merged = mig.assign(_from=start_year).merge(
            pop.rename(columns={"year": "_from", "population": "_pop"}), on=["_from", "sex", "age"], how="left")
    merged["net_migration_rate"] = np.where(merged["_pop"] > 0, merged["net_migration"] / merged["_pop"], 0.0)
    out = merged[[*keys, "sex", "age", "net_migration_rate"]]
    sexes = set(out["sex"])
    if len(sexes) == 1 and {_sex_kind(s) for s in sexes} == {"persons"}:  # persons rates serve both sexes
        out = pd.concat([out.assign(sex=s) for s in sorted(unit_sexes)], ignore_index=True)
    return out


def project_pcn(
    registered: pd.DataFrame,
    mortality: pd.DataFrame,
    fertility: pd.DataFrame | None = None,
    migration: pd.DataFrame | None = None,
    area_projection: pd.DataFrame | None = None,
    *,
    start_year: int | None = None,
    end_year: int,
    level: str = "pcn_code",
    sex_ratio_at_birth: float = 1.05,
    female_share: float = 0.5,
) -> pd.DataFrame:
    """Each PCN's (or practice's) own cohort-component projection, constrained to the area projection.

    Steps: (1) sum the registered list to ``level``; (2) split 5-year bands into single years using the
    area projection's single-year shape in ``start_year`` within each band (:func:`single_years`; evenly
    when there is no area projection); (3) project each unit with :func:`cohort_component` (the same
    mortality and fertility for every unit; net migration counts for the area become rates per head of the
    area's population of that sex and age, so every unit receives its proportionate share); (4)
    :func:`constrain` the units to the area projection by sex and single year of age, so the units sum to
    the area in every cell while the differences between units (age structure, momentum) come from their
    own lists; (5) beside it, the area projection apportioned by list share (:func:`apportion`, NIHR
    NBK539956 Appendix 31).

    The registered list is taken to be at mid-``start_year`` (the area projection's first year unless
    given). List inflation: the constrained and apportioned figures are on the resident (area) scale.

    Returns
    -------
    ``level, year, sex, age, population`` (constrained; the pack's headline), ``unconstrained_population``
    (the unit's own projection on its list scale) and ``apportioned_population`` (the share-apportioned
    area figure). Without ``area_projection``, ``population`` is the unconstrained projection.
    """
    reg = _check_population(registered, "registered")
    if level not in reg.columns:
        raise InputError("registered", f"needs a {level} column (e.g. join the practice -> PCN map)",
                         column=level)
    if "sex" not in reg.columns:
        raise InputError("registered", "needs a sex column", column="sex")
    area = None
    if area_projection is not None:
        area = _check_population(area_projection, "area_projection")
        area = _with_age_column(area, "age", "area_projection")
        if start_year is None:
            start_year = int(area["year"].min())
    if start_year is None:
        raise InputError("start_year", "give start_year (the list's mid-year) or an area_projection")
    if "age" in reg.columns:
        units = reg.groupby([level, "sex", "age"], as_index=False)["population"].sum()
        units["age"] = np.minimum(units["age"].astype(int), OPEN_AGE)
        units = units.groupby([level, "sex", "age"], as_index=False)["population"].sum()
    else:
        banded = reg.groupby([level, "sex", "age_band"], as_index=False)["population"].sum()
        shape = area[area["year"] == start_year] if area is not None else None
        if shape is not None and shape.empty:
            raise InputError("area_projection", f"has no rows for start_year {start_year}", column="year")
        units = single_years(banded, shape)
    # a full grid so that every unit has every sex and age
    grid = units[[level]].drop_duplicates().merge(pd.DataFrame({"sex": sorted(set(units["sex"]))}), how="cross")
    grid = grid.merge(pd.DataFrame({"age": np.arange(OPEN_AGE + 1)}), how="cross")
    units = grid.merge(units, on=[level, "sex", "age"], how="left").fillna({"population": 0.0})
    if area is not None:
        migration = _migration_as_rates(migration, area, start_year, set(units["sex"]))
    own = cohort_component(units, mortality, fertility, migration, start_year=start_year, end_year=end_year,
                           sex_ratio_at_birth=sex_ratio_at_birth, female_share=female_share)
    if area is None:
        return own.assign(unconstrained_population=own["population"])
    area_years = set(area["year"])
    own = own[own["year"].isin(area_years)]
    out = constrain(own, area, by=("sex", "age"))
    shares = apportion(area[area["year"].isin(set(out["year"]))], units, by=("sex", "age"), level=level)
    out = out.merge(shares[[level, "year", "sex", "age", "population"]].rename(
        columns={"population": "apportioned_population"}), on=[level, "year", "sex", "age"], how="left")
    return out[[level, "year", "sex", "age", "population", "unconstrained_population", "apportioned_population"]]
