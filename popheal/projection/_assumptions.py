"""Assumption builders: a standard fertility schedule, and net migration estimated by the residual method."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from popheal.io.errors import InputError
from popheal.projection._cohort import cohort_component
from popheal.projection._lifetable import OPEN_AGE, _sex_kind, survival_ratios

__all__ = ["fertility_schedule", "residual_migration"]


def fertility_schedule(tfr: float, mean_age: float = 30.0, sd: float = 5.5, ages=range(15, 50)) -> pd.DataFrame:
    """Age-specific fertility rates with a given total fertility rate and a gamma-shaped age pattern.

    The rate at age ``x`` is ``tfr`` times the probability mass of a gamma distribution (starting at the
    youngest age, with mean ``mean_age`` and standard deviation ``sd``) between ``x`` and ``x + 1``,
    rescaled so that the rates sum exactly to ``tfr`` over ``ages``. The gamma curve is one of the standard
    parametric fertility models (Hoem et al. 1981, "Experiments in modelling recent Danish fertility
    curves", Demography 18(2)). An assumption for when no local ASFR is available - not a measured schedule.

    Returns ``age, asfr`` (births per woman per year).
    """
    ages = np.asarray(list(ages), dtype=int)
    if tfr < 0 or sd <= 0 or not ages.min() < mean_age < ages.max() + 1:
        raise InputError("fertility_schedule", "needs tfr >= 0, sd > 0 and a mean age inside the age range")
    start = float(ages.min())
    shape = ((mean_age - start) / sd) ** 2
    scale = sd**2 / (mean_age - start)
    dist = stats.gamma(a=shape, loc=start, scale=scale)
    mass = dist.cdf(ages + 1.0) - dist.cdf(ages.astype(float))
    return pd.DataFrame({"age": ages, "asfr": tfr * mass / mass.sum()})


def residual_migration(
    population_start: pd.DataFrame,
    population_end: pd.DataFrame,
    mortality: pd.DataFrame,
    fertility: pd.DataFrame | None = None,
    *,
    sex_ratio_at_birth: float = 1.05,
    female_share: float = 0.5,
) -> pd.DataFrame:
    """Net migration in one year estimated as the residual of two consecutive population estimates.

    ``net = P(t+1) - [P(t) survived and aged on, plus surviving births]``, divided by ``(1 + S)/2`` so that
    :func:`cohort_component` (which exposes migrants to half a year's mortality) reproduces ``P(t+1)``
    exactly (forward-survival residual method; Preston, Heuveline & Guillot 2001, ch. 6; Siegel & Swanson,
    *The Methods and Materials of Demography*). Residuals also absorb errors in the estimates and in the
    mortality assumption. Births to migrant women count as births (they are modelled from the women's
    exposure including the migrants), not as age-0 migration. Without ``fertility`` there are no modelled
    births, so the age-0 residual is set to zero (births and infant migrants cannot be told apart).

    Both populations are ``sex, age, population`` (+ ``year``); returns ``sex, age, net_migration``
    (age at the end of the year, counts).
    """
    def one_year(table, name):
        if "year" in table.columns:
            years = pd.unique(table["year"])
            if len(years) != 1:
                raise InputError(name, "must hold one year", column="year")
            return table, int(years[0])
        return table, None

    start, y0 = one_year(population_start, "population_start")
    end, y1 = one_year(population_end, "population_end")
    if y0 is not None and y1 is not None and y1 != y0 + 1:
        raise InputError("population_end", f"must be the year after population_start ({y0 + 1}), not {y1}",
                         column="year")
    y0 = 0 if y0 is None else y0
    cols = ["sex", "age", "population"]
    expected = cohort_component(start[cols], mortality, fertility, start_year=y0, end_year=y0 + 1,
                                sex_ratio_at_birth=sex_ratio_at_birth, female_share=female_share)
    expected = expected[expected["year"] == y0 + 1]
    observed = end[cols].assign(sex=end["sex"].astype(str),
                                age=np.minimum(pd.to_numeric(end["age"]).astype(int), OPEN_AGE))
    observed = observed.groupby(["sex", "age"], as_index=False)["population"].sum()
    merged = expected.merge(observed, on=["sex", "age"], how="left", suffixes=("_expected", ""))
    if merged["population"].isna().any():
        raise InputError("population_end", "must have the same sexes and ages 0..90 as population_start",
                         column="sex")
    ratios = survival_ratios(mortality)
    ratios["sex"] = ratios["sex"].astype(str)
    into = []
    for sex, part in ratios.groupby("sex"):
        s = part.sort_values("age")["survival"].to_numpy()
        arr = np.empty(OPEN_AGE + 1)
        arr[0] = part["birth_survival"].iloc[0]
        arr[1:] = s[:OPEN_AGE]
        arr[OPEN_AGE] = s[OPEN_AGE]
        into.append(pd.DataFrame({"sex": sex, "age": np.arange(OPEN_AGE + 1), "_s": arr}))
    into = pd.concat(into, ignore_index=True)
    if not set(merged["sex"]) <= set(into["sex"]):  # labels matched by kind, as in cohort_component
        by_kind = {_sex_kind(lab): lab for lab in set(merged["sex"])}
        into = into.assign(sex=into["sex"].map(lambda lab: by_kind.get(_sex_kind(lab), lab)))
    merged = merged.merge(into, on=["sex", "age"], how="left")
    merged["net_migration"] = (merged["population"] - merged["population_expected"]) / ((1.0 + merged["_s"]) / 2)
    infants = merged["age"] == 0
    merged.loc[infants, "net_migration"] = 0.0
    if fertility is not None:
        # births to migrant women count as births, not migration: re-run the year with the migrants found
        # at ages 1+ (age-0 migrants do not change births, so one pass is exact) and take the age-0 residual
        again = cohort_component(start[cols], mortality, fertility, merged[["sex", "age", "net_migration"]],
                                 start_year=y0, end_year=y0 + 1, sex_ratio_at_birth=sex_ratio_at_birth,
                                 female_share=female_share)
        again = again[(again["year"] == y0 + 1) & (again["age"] == 0)].set_index("sex")["population"]
        rows = merged.index[infants]
        merged.loc[rows, "net_migration"] = (
            (merged.loc[rows, "population"] - merged.loc[rows, "sex"].map(again)) / ((1.0 + merged.loc[rows, "_s"]) / 2)
        )
    return merged[["sex", "age", "net_migration"]].reset_index(drop=True)
