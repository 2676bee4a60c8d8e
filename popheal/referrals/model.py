"""How much of the variation in referral rates between practices case-mix explains, and how much is left.

Three expectations of each practice's referrals, each summing to the area's observed total:

1. list size only (the area's crude rate x the practice's registered list);
2. age and sex (indirect standardisation against the area's own sex x 5-year band rates, as
   :func:`popheal.referrals.variation`; OHID indirect standardisation);
3. age, sex and deprivation: a Poisson GLM (statsmodels) on practice x sex x age-band cells,
   ``log E[referrals] = log(list x years) + age band x sex + beta x deprivation``, where deprivation is
   practice-level (e.g. mean IMD 2019 score or Core20 share of the practice's patients' LSOAs) and the
   standard errors are clustered by practice. Its fitted values are the case-mix expectation.

Against each expectation the between-practice variation is summarised by:

- the systematic component of variation, SCV = 100 x [mean((O - E)^2 / E^2) - mean(1 / E)] (McPherson K,
  Wennberg JE, Hovind OB, Clifford P. Small-area variations in the use of common surgical procedures: an
  international comparison of New England, England, and Norway. N Engl J Med 1982;307:1310-4): the variance
  of O/E between practices less the part Poisson chance would give;
- a practice random intercept: a negative binomial (NB2) GLM of practice counts with offset log(E), i.e. a
  Poisson-gamma model in which the practice effect u ~ Gamma(mean 1, variance alpha); the between-practice
  variance of log rates is var(log u) = trigamma(1 / alpha), and the median rate ratio
  MRR = exp(sqrt(2 var) x 0.6745) (Larsen K, Merlo J. Am J Epidemiol 2005;161:81-8).

"Explained" is the fall in each measure from the list-size-only expectation. The practice effects left after
case-mix are reported as observed/expected ratios and as empirical-Bayes (shrunken) ratios with 95%
posterior limits from the gamma posterior Gamma(1/alpha + O, 1/alpha + mu), which pull small practices
towards the area average. Referrals with sex "U" or no age are left out of the cell-level GLM (its fitted
values are scaled up by the same share, as in ``variation``); their count is in ``excluded``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import special
from scipy import stats as sps

from popheal.io.errors import InputError, first_rows
from popheal.referrals._common import (
    AGE_BANDS,
    POPULATION,
    REFERRALS,
    SEXES,
    check_population,
    check_referrals,
    years_covered,
)
from popheal.referrals.variation import _referral_strata, variation

__all__ = ["VariationModel", "variation_model"]

DEPRIVATION = "practice deprivation table"
_STAGES = ("list size only", "age and sex", "age, sex and deprivation")
_Z75 = float(sps.norm.ppf(0.75))


@dataclass
class VariationModel:
    """The result of :func:`variation_model`.

    Attributes
    ----------
    variation : one row per expectation (``stage``: "list size only", "age and sex", "age, sex and
        deprivation") with ``scv`` (x100), ``scv_explained`` (% fall from list size only), ``alpha`` (NB2
        dispersion), ``variance_log_rate`` (between-practice variance of log rates), ``variance_explained``
        (%), ``mrr`` (median rate ratio).
    coefficients : the case-mix GLM's incidence rate ratios: ``term, irr, lowercl, uppercl, p_value``
        (95%, standard errors clustered by practice): ``deprivation`` per one standard deviation across
        practices, then each sex and age band ("M 40-44") against females aged 0-4.
    practices : per practice ``observed``, ``expected_list``, ``expected_age_sex``, ``expected_case_mix``,
        ``ratio`` (observed / case-mix expected), ``shrunken_ratio`` and its 95% ``lowercl``, ``uppercl``.
    excluded : what was left out: ``practices_without_deprivation`` (list), ``unknown_stratum_referrals``.
    deprivation_column, deprivation_sd : the practice-level deprivation measure and its SD.
    """

    variation: pd.DataFrame
    coefficients: pd.DataFrame
    practices: pd.DataFrame
    excluded: dict = field(default_factory=dict)
    deprivation_column: str = ""
    deprivation_sd: float = float("nan")
    method: str = (
        "Poisson GLM (age band x sex + practice deprivation, clustered SEs) for the case-mix expectation; "
        "SCV (McPherson et al. 1982); practice random intercept as a Poisson-gamma (NB2) model, median rate "
        "ratio (Larsen & Merlo 2005); empirical-Bayes practice ratios"
    )

    def summary(self) -> str:
        """Plain-English summary of the variation explained and left."""
        v = self.variation.set_index("stage")
        first, agesex, full = (v.loc[s] for s in _STAGES)
        dep = self.coefficients[self.coefficients["term"] == "deprivation"]
        dep_text = ""
        if len(dep):
            d = dep.iloc[0]
            dep_text = (f" Referral rates change by a factor of {d['irr']:.2f} (95% CI {d['lowercl']:.2f} to "
                        f"{d['uppercl']:.2f}) per standard deviation of {self.deprivation_column} "
                        f"({self.deprivation_sd:.3g}).")
        return (
            f"Between-practice variation in referral rates: systematic component of variation "
            f"{first['scv']:.1f} on list size alone, {agesex['scv']:.1f} after age and sex, {full['scv']:.1f} "
            f"after age, sex and deprivation (case-mix explains {full['scv_explained']:.0f}%). "
            f"The variance of practice log rates falls from {first['variance_log_rate']:.3f} to "
            f"{full['variance_log_rate']:.3f} ({full['variance_explained']:.0f}% explained); the median rate "
            f"ratio left after case-mix is {full['mrr']:.2f} (the median of the ratio of the higher to the "
            f"lower rate of two practices picked at random, with the same case-mix)." + dep_text
        )


def _scv(observed: np.ndarray, expected: np.ndarray) -> float:
    """Systematic component of variation x 100 (McPherson et al. 1982)."""
    return float(100 * (np.mean(((observed - expected) / expected) ** 2) - np.mean(1 / expected)))


def _random_intercept(observed: np.ndarray, expected: np.ndarray) -> tuple[float, float]:
    """NB2 practice random intercept around ``expected``: (intercept, alpha)."""
    exog = np.ones((len(observed), 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.NegativeBinomial(observed, exog, offset=np.log(expected), loglike_method="nb2").fit(
            disp=0, maxiter=200)
    intercept, alpha = (float(v) for v in np.asarray(fit.params))
    return intercept, max(alpha, 0.0)


def _log_variance(alpha: float) -> float:
    """Variance of log u for u ~ Gamma(shape 1/alpha, scale alpha): trigamma(1/alpha) (0 when alpha is 0)."""
    return float(special.polygamma(1, 1 / alpha)) if alpha > 1e-10 else 0.0


def _deprivation(deprivation: pd.DataFrame, by: str, column: str | None, where: str) -> tuple[pd.DataFrame, str]:
    if not isinstance(deprivation, pd.DataFrame):
        raise TypeError(f"{where}: expected the {DEPRIVATION} as a pandas DataFrame")
    if by not in deprivation.columns:
        raise InputError(DEPRIVATION, f"{where} needs column {by}", by)
    if column is None:
        numeric = [c for c in deprivation.columns if c != by and pd.api.types.is_numeric_dtype(deprivation[c])
                   and deprivation[c].dtype != bool]
        if len(numeric) != 1:
            raise InputError(DEPRIVATION, f"{where}: name the deprivation column (deprivation_column=); numeric "
                             f"columns found: {numeric}")
        column = numeric[0]
    if column not in deprivation.columns:
        raise InputError(DEPRIVATION, f"{where} needs column {column}", column)
    table = deprivation[[by, column]].copy()
    table[by] = table[by].astype(str)
    if table[by].duplicated().any():
        raise InputError(DEPRIVATION, "one row per practice", by, first_rows(table[by].duplicated(keep=False)))
    table[column] = pd.to_numeric(table[column], errors="coerce")
    return table.dropna(subset=[column]), column


def variation_model(
    referrals: pd.DataFrame,
    population: pd.DataFrame,
    deprivation: pd.DataFrame,
    by: str = "practice_code",
    deprivation_column: str | None = None,
    specialty: str | None = None,
    years: float | None = None,
) -> VariationModel:
    """Fit the referral variation model (see the module docstring for the method and its references).

    Parameters
    ----------
    referrals : the referral extract (filter it first, e.g. route == "referral").
    population : the registered list ``practice_code, sex, age_band, population``.
    deprivation : one row per practice with ``by`` and a numeric practice-level deprivation column (mean IMD
        score, or Core20 share from ``popheal.inequalities.core20_share``). Practices without a value are
        left out of every stage (listed in ``excluded``).
    deprivation_column : the column to use (default the table's only numeric column).
    specialty : fit for one specialty only.
    years : years of referrals (default whole calendar months of the extract / 12).

    Returns
    -------
    A :class:`VariationModel`.
    """
    where = "referrals.variation_model"
    strata = ["sex", "age_band"]
    check_referrals(referrals, [by, "patient_sex", "patient_age", "referral_date"]
                    + (["specialty"] if specialty is not None else []), where)
    pop = check_population(population, [by], strata, where)
    dep, column = _deprivation(deprivation, by, deprivation_column, where)
    if years is None:
        years = years_covered(referrals["referral_date"])
    if specialty is not None:
        referrals = referrals[referrals["specialty"] == specialty]
        if len(referrals) == 0:
            raise InputError(REFERRALS, f"{where}: no referrals to {specialty}", "specialty")

    listed = pop[by].unique()
    keep = np.intersect1d(listed, dep[by].to_numpy())
    without = sorted(set(listed) - set(keep))
    if len(keep) < 3:
        raise InputError(DEPRIVATION, f"{where}: fewer than 3 practices in the {POPULATION} have deprivation")
    pop = pop[pop[by].isin(keep)]
    referrals = referrals[referrals[by].astype(str).isin(keep)]

    # Stage 2 (age and sex): indirect standardisation exactly as ``variation``.
    agesex = variation(referrals, pop, by=by, confidence=0.95, overdispersion=False, years=years)
    table = agesex[[by, "observed", "expected", "population"]].rename(columns={"expected": "expected_age_sex"})
    total = table["observed"].sum()
    table["expected_list"] = table["population"] / table["population"].sum() * total

    # Stage 3 (age, sex, deprivation): Poisson GLM on practice x sex x age-band cells.
    cells = pd.DataFrame({by: referrals[by].astype(str).to_numpy()})
    for name, values in _referral_strata(referrals, strata).items():
        cells[name] = values
    known = cells["sex"].notna() & cells["age_band"].notna()
    counts = cells[known].groupby([by, *strata], observed=True, as_index=False).size()
    grid = pop[pop["population"] > 0].merge(counts, on=[by, *strata], how="left")
    grid["size"] = grid["size"].fillna(0.0)
    grid = grid.merge(dep, on=by, how="left")
    sd = float(dep.loc[dep[by].isin(keep), column].std())
    mean = float(dep.loc[dep[by].isin(keep), column].mean())
    scaled = (grid[column] - mean) / sd if sd > 0 else grid[column] * 0.0
    order = [f"{sex} {band}" for band in AGE_BANDS for sex in SEXES]  # reference stratum: F 0-4
    stratum = pd.Categorical(grid["sex"].astype(str) + " " + grid["age_band"].astype(str), categories=order)
    design = pd.get_dummies(stratum.remove_unused_categories(), drop_first=True, dtype=float)
    design.insert(0, "deprivation", scaled.to_numpy(dtype=float))
    design.insert(0, "const", 1.0)
    if sd == 0:
        design = design.drop(columns="deprivation")
    groups = pd.factorize(grid[by])[0]
    offset = np.log(grid["population"].to_numpy(dtype=float) * years)
    glm = sm.GLM(grid["size"].to_numpy(dtype=float), design.to_numpy(), family=sm.families.Poisson(),
                 offset=offset)
    fit = glm.fit(cov_type="cluster", cov_kwds={"groups": groups})
    params, ci = np.asarray(fit.params), np.asarray(fit.conf_int(0.05))
    names = list(design.columns)
    coefficients = pd.DataFrame({
        "term": names, "irr": np.exp(params), "lowercl": np.exp(ci[:, 0]), "uppercl": np.exp(ci[:, 1]),
        "p_value": np.asarray(fit.pvalues),
    })
    coefficients = coefficients[coefficients["term"] != "const"].reset_index(drop=True)
    grid["fitted"] = np.asarray(fit.fittedvalues)
    case_mix = grid.groupby(by, as_index=False)["fitted"].sum()
    table = table.merge(case_mix, on=by, how="left")
    table["expected_case_mix"] = table["fitted"].fillna(0.0) * (total / table["fitted"].sum())
    table = table.drop(columns="fitted")

    rows = []
    usable = (table[["expected_list", "expected_age_sex", "expected_case_mix"]] > 0).all(axis=1)
    observed = table.loc[usable, "observed"].to_numpy(dtype=float)
    for stage, column_e in zip(_STAGES, ("expected_list", "expected_age_sex", "expected_case_mix")):
        expected = table.loc[usable, column_e].to_numpy(dtype=float)
        intercept, alpha = _random_intercept(observed, expected)
        variance = _log_variance(alpha)
        rows.append({"stage": stage, "scv": _scv(observed, expected), "alpha": alpha,
                     "variance_log_rate": variance, "mrr": float(np.exp(np.sqrt(2 * variance) * _Z75)),
                     "intercept": intercept})
    summary = pd.DataFrame(rows)
    with np.errstate(divide="ignore", invalid="ignore"):
        summary.insert(2, "scv_explained", 100 * (1 - summary["scv"] / summary["scv"].iloc[0]))
        summary.insert(5, "variance_explained",
                       100 * (1 - summary["variance_log_rate"] / summary["variance_log_rate"].iloc[0]))

    # Empirical-Bayes practice effects after case-mix (gamma posterior of the Poisson-gamma model).
    alpha, intercept = float(summary["alpha"].iloc[-1]), float(summary["intercept"].iloc[-1])
    mu = table["expected_case_mix"].to_numpy(dtype=float) * np.exp(intercept)
    obs = table["observed"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["ratio"] = np.where(table["expected_case_mix"] > 0, obs / table["expected_case_mix"], np.nan)
    if alpha > 1e-10:
        shape, rate = 1 / alpha + obs, 1 / alpha + mu
        scale = np.exp(intercept)
        table["shrunken_ratio"] = shape / rate * scale
        table["lowercl"] = sps.gamma.ppf(0.025, shape, scale=1 / rate) * scale
        table["uppercl"] = sps.gamma.ppf(0.975, shape, scale=1 / rate) * scale
    else:
        table["shrunken_ratio"] = table["lowercl"] = table["uppercl"] = np.exp(intercept)
    practices = table[[by, "observed", "population", "expected_list", "expected_age_sex", "expected_case_mix",
                       "ratio", "shrunken_ratio", "lowercl", "uppercl"]]
    return VariationModel(
        variation=summary.drop(columns="intercept"),
        coefficients=coefficients,
        practices=practices,
        excluded={"practices_without_deprivation": without,
                  "unknown_stratum_referrals": int((~known).sum())},
        deprivation_column=column,
        deprivation_sd=sd,
    )
