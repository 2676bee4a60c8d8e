"""The cohort-component projection engine (single years of age 0..90+, one-year steps)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from popheal.io.errors import InputError
from popheal.projection._lifetable import OPEN_AGE, _sex_kind, _survival_arrays, _validate_mortality

__all__ = ["cohort_component"]

_AGES = np.arange(OPEN_AGE + 1)
_FERTILITY_COLUMNS = ("asfr", "rate", "fertility_rate")
_MIGRATION_COUNT = "net_migration"
_MIGRATION_RATE = "net_migration_rate"


# ---------------------------------------------------------------------------------------------------------
# input preparation
# ---------------------------------------------------------------------------------------------------------
def _prepare_base(base: pd.DataFrame, start_year: int | None):
    if not isinstance(base, pd.DataFrame):
        raise InputError("base", "must be a DataFrame with columns sex, age, population")
    missing = [c for c in ("sex", "age", "population") if c not in base.columns]
    if missing:
        raise InputError("base", f"missing column(s) {missing}; expected sex, age (0..90, 90 = 90+), population",
                         column=missing[0])
    table = base.copy()
    if "year" in table.columns:
        years = pd.unique(table["year"])
        if start_year is None:
            if len(years) != 1:
                raise InputError("base", "holds several years; pass start_year to choose the base year",
                                 column="year")
            start_year = int(years[0])
        table = table[table["year"] == start_year]
        if table.empty:
            raise InputError("base", f"has no rows for start_year {start_year}", column="year")
        table = table.drop(columns="year")
    if start_year is None:
        raise InputError("base", "has no year column: pass start_year (the base year)", column="year")
    age = pd.to_numeric(table["age"], errors="coerce")
    bad = age.isna() | (age < 0) | (age != np.floor(age))
    if bad.any():
        raise InputError("base", "ages must be whole numbers from 0 to 90 (90 = 90+)", column="age",
                         rows=table.index[bad.to_numpy()])
    pop = pd.to_numeric(table["population"], errors="coerce")
    bad = pop.isna() | (pop < 0)
    if bad.any():
        raise InputError("base", "population must be a number >= 0", column="population",
                         rows=table.index[bad.to_numpy()])
    ids = [c for c in table.columns if c not in ("sex", "age", "population")]
    table = table.assign(age=np.minimum(age.astype(int), OPEN_AGE), population=pop.astype(float),
                         sex=table["sex"].astype(str))
    dup = table.duplicated([*ids, "sex", "age"], keep=False) & (age <= OPEN_AGE)
    if dup.any():
        raise InputError("base", "each sex and age must appear once (per id)", column="age",
                         rows=table.index[dup.to_numpy()])
    table = table.groupby([*ids, "sex", "age"], as_index=False, sort=True)["population"].sum()
    sexes = sorted(pd.unique(table["sex"]))
    kinds = [_sex_kind(s) for s in sexes]
    if len(sexes) == 2 and sorted(kinds) == ["F", "M"]:
        mode = "sexed"
    elif len(sexes) == 1:
        mode = "persons"
    else:
        raise InputError("base", f"sex labels {sexes}: use F and M, or one label (e.g. 'persons')", column="sex")
    # a full grid: every id x sex x age 0..90 must be present
    if ids:
        id_frame = table[ids].drop_duplicates().reset_index(drop=True)
    else:
        id_frame = pd.DataFrame(index=[0])
    grid = id_frame.merge(pd.DataFrame({"sex": sexes}), how="cross").merge(pd.DataFrame({"age": _AGES}),
                                                                             how="cross")
    full = grid.merge(table, on=[*ids, "sex", "age"], how="left")
    if full["population"].isna().any():
        gaps = full[full["population"].isna()]
        first = gaps.head(5)[[*ids, "sex", "age"]].to_dict("records")
        raise InputError("base", f"every sex needs every age 0..90; missing e.g. {first}", column="age")
    values = full["population"].to_numpy(float).reshape(len(id_frame), len(sexes), len(_AGES))
    return values, id_frame, ids, sexes, kinds, mode, int(start_year)


def _match_sex(labels_wanted: list[str], labels_have, what: str) -> dict[str, str]:
    """Map each base sex label to the label used in another table (same label, else same kind)."""
    have = [str(x) for x in pd.unique(pd.Series(list(labels_have)))]
    out = {}
    for lab in labels_wanted:
        if lab in have:
            out[lab] = lab
            continue
        same = [h for h in have if _sex_kind(h) == _sex_kind(lab)]
        if len(same) == 1:
            out[lab] = same[0]
        else:
            hint = " (a persons base takes persons mortality: see persons_mortality)" if what == "mortality" else ""
            raise InputError(what, f"sex labels {have} do not match the base's {labels_wanted}{hint}", column="sex")
    return out


def _by_year(table: pd.DataFrame, build) -> dict:
    """{year or None: build(rows)}; rows without a year column apply to every year."""
    if "year" not in table.columns:
        return {None: build(table)}
    return {int(y): build(part) for y, part in table.groupby("year", sort=True)}


def _pick(per_year: dict, year: int):
    """The entry for ``year``; before the first given year the first, after the last the last."""
    if None in per_year:
        return per_year[None]
    keys = sorted(per_year)
    earlier = [k for k in keys if k <= year]
    return per_year[earlier[-1] if earlier else keys[0]]


def _prepare_mortality(mortality, sexes, kinds):
    table = _validate_mortality(mortality)
    mapping = _match_sex(sexes, table["sex"], "mortality")

    def build(part):
        s = np.empty((len(sexes), len(_AGES)))
        b = np.empty(len(sexes))
        for i, lab in enumerate(sexes):
            rows = part[part["sex"] == mapping[lab]]
            if rows.empty:
                raise InputError("mortality", f"no rows for sex {mapping[lab]!r} in every year", column="sex")
            s[i], b[i] = _survival_arrays(rows, kinds[i])
        return s, b

    return _by_year(table, build)


def _prepare_fertility(fertility):
    if fertility is None:
        return None
    if not isinstance(fertility, pd.DataFrame) or "age" not in fertility.columns:
        raise InputError("fertility", "must be a DataFrame with age (of mother) and asfr (births per woman per year)",
                         column="age")
    col = next((c for c in _FERTILITY_COLUMNS if c in fertility.columns), None)
    if col is None:
        raise InputError("fertility", "needs an asfr (or rate) column: births per woman per year", column="asfr")
    table = fertility.copy()
    if "sex" in table.columns:
        kinds = table["sex"].map(_sex_kind)
        if (kinds == "F").any():
            table = table[kinds == "F"]
    rate = pd.to_numeric(table[col], errors="coerce")
    age = pd.to_numeric(table["age"], errors="coerce")
    bad = rate.isna() | (rate < 0) | age.isna() | (age < 0) | (age > OPEN_AGE) | (age != np.floor(age))
    if bad.any():
        raise InputError("fertility", "rates must be >= 0 at whole ages 0..90", column=col,
                         rows=table.index[bad.to_numpy()])
    table = table.assign(age=age.astype(int), rate=rate.astype(float))
    tfr = table.groupby("year")["rate"].sum().max() if "year" in table.columns else table["rate"].sum()
    if tfr > 10:
        raise InputError("fertility", f"rates sum to {tfr:.0f} births per woman: give births per woman, not per "
                         "1,000 women (divide by 1,000)", column=col)

    def build(part):
        f = np.zeros(len(_AGES))
        np.add.at(f, part["age"].to_numpy(), part["rate"].to_numpy())
        return f

    return _by_year(table, build)


def _prepare_migration(migration, sexes):
    if migration is None:
        return None
    if not isinstance(migration, pd.DataFrame):
        raise InputError("migration", "must be a DataFrame sex, age and net_migration (counts) or "
                         "net_migration_rate (per head)")
    missing = [c for c in ("sex", "age") if c not in migration.columns]
    if missing:
        raise InputError("migration", f"missing column(s) {missing}", column=missing[0])
    if _MIGRATION_COUNT in migration.columns:
        col, kind = _MIGRATION_COUNT, "count"
    elif _MIGRATION_RATE in migration.columns:
        col, kind = _MIGRATION_RATE, "rate"
    else:
        raise InputError("migration", "needs net_migration (counts) or net_migration_rate (per head)",
                         column=_MIGRATION_COUNT)
    table = migration.copy()
    table["sex"] = table["sex"].astype(str)
    value = pd.to_numeric(table[col], errors="coerce")
    age = pd.to_numeric(table["age"], errors="coerce")
    bad = value.isna() | age.isna() | (age < 0) | (age != np.floor(age))
    if kind == "rate":
        bad |= age > OPEN_AGE
    if bad.any():
        raise InputError("migration", "needs a number at whole ages 0..90 (counts above 90 are added to 90+)",
                         column=col, rows=table.index[bad.to_numpy()])
    table = table.assign(age=np.minimum(age.astype(int), OPEN_AGE), value=value.astype(float))
    mapping = _match_sex(sexes, table["sex"], "migration")

    def build(part):
        arr = np.zeros((len(sexes), len(_AGES)))
        for i, lab in enumerate(sexes):
            rows = part[part["sex"] == mapping[lab]]
            np.add.at(arr[i], rows["age"].to_numpy(), rows["value"].to_numpy())
        return arr

    return kind, _by_year(table, build)


# ---------------------------------------------------------------------------------------------------------
# the engine
# ---------------------------------------------------------------------------------------------------------
def _step(P, surv, birth_surv, f, mig, mig_kind, mode, kinds, srb, female_share):
    """One year: mid-year t to mid-year t+1.  ``P`` has shape (groups, sexes, ages)."""
    new = np.zeros_like(P)
    new[..., 1:OPEN_AGE] = P[..., : OPEN_AGE - 1] * surv[:, : OPEN_AGE - 1]
    new[..., OPEN_AGE] = P[..., OPEN_AGE - 1] * surv[:, OPEN_AGE - 1] + P[..., OPEN_AGE] * surv[:, OPEN_AGE]
    if mig is not None:
        migrants = mig * P if mig_kind == "rate" else np.broadcast_to(mig, P.shape)
        # migrants move evenly through the year: on average half a year's exposure to the cohort's mortality
        into = np.empty_like(surv)
        into[:, 0] = birth_surv
        into[:, 1:] = surv[:, :OPEN_AGE]
        into[:, OPEN_AGE] = surv[:, OPEN_AGE]
        new += migrants * (1.0 + into) / 2.0
        np.maximum(new, 0.0, out=new)
    if f is not None:
        if mode == "sexed":
            fi = kinds.index("F")
            exposure = (P[:, fi, :] + new[:, fi, :]) / 2.0  # women's mid-year exposure: mean of start and end
        else:
            exposure = female_share * (P[:, 0, :] + new[:, 0, :]) / 2.0
        births = exposure @ f  # (groups,)
        if mode == "sexed":
            for i, k in enumerate(kinds):
                share = srb / (1.0 + srb) if k == "M" else 1.0 / (1.0 + srb)
                new[:, i, 0] += births * share * birth_surv[i]
        else:
            new[:, 0, 0] += births * birth_surv[0]
    np.maximum(new, 0.0, out=new)
    return new


def cohort_component(
    base: pd.DataFrame,
    mortality: pd.DataFrame,
    fertility: pd.DataFrame | None = None,
    migration: pd.DataFrame | None = None,
    *,
    start_year: int | None = None,
    end_year: int,
    sex_ratio_at_birth: float = 1.05,
    female_share: float = 0.5,
) -> pd.DataFrame:
    """Project a population by sex and single year of age (0..90+) with the cohort-component method.

    Each year (mid-year ``t`` to ``t+1``): survivors of each cohort move up one year of age, births in the
    year that survive join age 0, and net migrants are added; 90+ is an open group (ONS national population
    projections methodology; ONS SNPP use the same model).

    Parameters
    ----------
    base : ``sex, age (0..90, 90 = 90+), population``. Sex labels ``F``/``M``, or a single label (e.g.
        ``persons``) when only persons data exist. Other columns (e.g. ``area_code``, ``pcn_code``) are ids:
        each id is projected separately with the same rates (vectorised). A ``year`` column selects
        ``start_year`` (or supplies it when it holds one year). Ages above 90 are added to 90+.
    mortality : ``sex, age, qx`` and/or ``mx``, single years 0..any top age (the top age is open); the sex
        labels must match the base (a persons base takes persons mortality, see :func:`persons_mortality`).
        An optional ``year`` column gives year-specific rates.
    fertility : ``age`` (of mother at the birth) and ``asfr`` (births per woman per year, not per 1,000;
        ``rate`` is accepted too); optional ``sex`` (female rows are used) and ``year``. ``None``: no births.
    migration : ``sex, age`` and ``net_migration`` (counts per year) or ``net_migration_rate`` (per head of the
        population of that sex and age at the start of the year); ``age`` is the migrant's age at the end of
        the year. Optional ``year``. Counts above 90 are added to 90+.
    start_year, end_year : base year (mid-year) and last projected year (inclusive).
    sex_ratio_at_birth : male births per female birth (1.05 by default).
    female_share : persons base only - the assumed share of women among persons at each childbearing age
        (0.5 by default), to which the fertility rates are applied.

    Returns
    -------
    DataFrame ``[ids,] year, sex, age, population`` for every year from ``start_year`` (the base, unchanged
    apart from 90+ collapsing) to ``end_year``; fractional populations.

    Notes
    -----
    Year-specific rates: a rate labelled ``year`` y applies to the step from mid-(y-1) to mid-y (as ONS
    components of change are labelled); years before the first given year use the first, after the last
    the last. Without a ``year`` column rates are constant.

    Timing (ONS convention: components occur evenly through the year; Preston, Heuveline & Guillot 2001,
    ch. 6):

    - deaths: survival ratios from the life table, ``S_x = L(x+1)/L(x)``; 89-year-olds join 90+ with
      ``L(90)/L(89)`` and 90+ survives with ``T(91)/T(90)`` when the table goes beyond 90 (ages above 90
      collapsed into the open group), else ``1 - q(90)``. With only ``qx`` or only ``mx``, ``L`` is derived
      from ``l`` and ``a_x`` (``a_x = 0.5``; infants Coale-Demeny, Preston Table 3.3) - see :func:`life_table`;
    - births: ``sum_x f_x (W_x(t) + W_x(t+1)) / 2`` - the rates applied to women's mid-year exposure (mean
      of the start and end populations at each age, the end after deaths and migration); split
      ``1 : sex_ratio_at_birth`` into girls and boys; survivors to the end of the year ``L0/l0``. With a
      persons base, the rates apply to ``female_share`` of persons and all births go to persons;
    - migration: net migrants arrive evenly, so on average half a year exposed to the cohort's mortality:
      ``N (1 + S) / 2`` added (``S`` the survival ratio into the migrants' end-of-year age, ``L0/l0`` at age
      0, the open group's at 90+). A cell that net out-migration would make negative is set to zero.

    With no fertility, age 0 after the base year is zero (plus any age-0 migrants). No fertility, no
    deaths (``qx = 0``) and no migration: the population only ages (total constant, 90+ accumulates).
    """
    if not sex_ratio_at_birth > 0:
        raise InputError("sex_ratio_at_birth", "must be a positive number (male births per female birth)")
    if not 0 <= female_share <= 1:
        raise InputError("female_share", "must be between 0 and 1")
    P0, id_frame, ids, sexes, kinds, mode, start = _prepare_base(base, start_year)
    if end_year < start:
        raise InputError("end_year", f"end_year {end_year} is before the base year {start}")
    surv_by_year = _prepare_mortality(mortality, sexes, kinds)
    fert_by_year = _prepare_fertility(fertility)
    mig = _prepare_migration(migration, sexes)
    mig_kind, mig_by_year = mig if mig is not None else (None, None)

    years = np.arange(start, end_year + 1)
    out = np.empty((len(years), *P0.shape))
    out[0] = P0
    P = P0
    for k, year in enumerate(years[1:], start=1):
        surv, birth_surv = _pick(surv_by_year, int(year))
        f = _pick(fert_by_year, int(year)) if fert_by_year is not None else None
        m = _pick(mig_by_year, int(year)) if mig_by_year is not None else None
        P = _step(P, surv, birth_surv, f, m, mig_kind, mode, kinds, sex_ratio_at_birth, female_share)
        out[k] = P

    n_g, n_s, n_a = P0.shape
    idx_year, idx_g, idx_s, idx_a = np.meshgrid(np.arange(len(years)), np.arange(n_g), np.arange(n_s),
                                                np.arange(n_a), indexing="ij")
    result = pd.DataFrame({
        "year": years[idx_year.ravel()].astype(int),
        "sex": np.asarray(sexes, dtype=object)[idx_s.ravel()],
        "age": _AGES[idx_a.ravel()].astype(int),
        "population": out.ravel(),
    })
    result["sex"] = result["sex"].astype(str)
    if ids:
        id_values = id_frame.iloc[idx_g.ravel()].reset_index(drop=True)
        result = pd.concat([id_values, result], axis=1)
        result = result.sort_values([*ids, "year", "sex", "age"], kind="stable").reset_index(drop=True)
    return result
