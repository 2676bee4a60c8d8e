"""Emergency-admission risk model: logistic regression fitted on a training split, judged on the held-out split.

Fit: ``statsmodels.api.Logit`` (maximum likelihood, Newton-Raphson) on a stratified, seeded training split.
Performance, only ever on the held-out split (the model keeps nothing of the training rows but the fit):
- c-statistic (area under the ROC curve) with a 95% CI from DeLong's variance (DeLong, DeLong & Clarke-Pearson,
  Biometrics 1988;44:837-45; midrank algorithm of Sun & Xu, IEEE Signal Process Lett 2014;21:1389-93), a Wald
  interval on the AUC scale clipped to 0-1 (no bootstrap: deterministic and fast);
- calibration by decile of predicted risk (observed vs predicted, Wilson 95% limits on the observed rate);
- calibration slope (logistic regression of the outcome on the logit of the prediction) and calibration
  intercept / calibration-in-the-large (the same with the slope fixed at 1, i.e. the logit as an offset), with
  the "weak calibration" targets slope 1 and intercept 0 (Van Calster et al., J Clin Epidemiol 2016;74:167-76;
  Steyerberg, Clinical Prediction Models, 2nd ed., 2019); the metrics table also gives the intercept of the
  two-parameter recalibration model (fitted together with the slope);
- Brier score (mean squared error of the probability) and the scaled Brier score;
- tier sizes, observed event rate per tier and cumulative PPV / sensitivity (tiers ranked within the held-out
  rows), as NHS risk-stratification reports give them (reference/domain-spec.md D.2).
Typical c-statistics of population emergency-admission models are about 0.70-0.80 (QAdmissions 0.76-0.78;
Hippisley-Cox & Coupland, BMJ Open 2013;3:e003482).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import special, stats
from statsmodels.stats.proportion import proportion_confint

from popheal.io.errors import InputError, first_rows
from popheal.io.extract_schema import LTC_COLUMNS, OUTCOME_COLUMN

from . import terms as T
from ._common import EXTRACT, flag, require_columns, require_frame
from .tiers import DEFAULT_CUTS, tiers

__all__ = [
    "AdmissionModel",
    "ModelReport",
    "NotFittedError",
    "calibration_by_decile",
    "default_terms",
    "delong_auc",
    "tier_performance",
]


class NotFittedError(RuntimeError):
    """The model has not been fitted: there is nothing to report or predict yet."""


def default_terms() -> list[T.Term]:
    """The default covariates: age bands, sex, the 25 conditions, eFI category, number of conditions (bands),
    emergency admissions and A&E attendances in the last 12 months (capped at 5), GP contacts (log), palliative
    care register, care home, housebound and IMD quintile (with an unknown level)."""
    return [
        T.age_bands(),
        T.sex(),
        *T.conditions(LTC_COLUMNS),
        T.frailty(),
        T.ltc_count_bands(),
        T.activity("emergency_admissions", cap=5),
        T.activity("ae_attendances", cap=5),
        T.activity("gp_contacts", cap=None, transform="log1p"),
        T.status("palliative"),
        T.status("care_home"),
        T.status("housebound"),
        T.deprivation(),
    ]


# ------------------------------------------------------------------------------------------- performance pieces


def delong_auc(outcome, probability, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """Area under the ROC curve (c-statistic) with DeLong's standard error and a Wald CI clipped to 0-1.

    DeLong ER, DeLong DM, Clarke-Pearson DL. Biometrics 1988;44:837-45; computed with midranks (Sun & Xu
    2014), ties counted as one half; the interval is AUC +/- z x SE, clipped to 0-1.
    Returns (auc, lower, upper, standard error).
    """
    y = np.asarray(outcome, dtype=bool)
    p = np.asarray(probability, dtype=np.float64)
    pos, neg = p[y], p[~y]
    m, n = len(pos), len(neg)
    if m < 2 or n < 2:
        raise ValueError("c-statistic: need at least two patients with and two without the outcome")
    tx = stats.rankdata(pos)
    ty = stats.rankdata(neg)
    tz = stats.rankdata(np.concatenate([pos, neg]))
    auc = (tz[:m].sum() - m * (m + 1) / 2) / (m * n)
    v10 = (tz[:m] - tx) / n  # per positive: share of negatives ranked below it
    v01 = 1.0 - (tz[m:] - ty) / m  # per negative: share of positives ranked above it
    se = float(np.sqrt(np.var(v10, ddof=1) / m + np.var(v01, ddof=1) / n))
    z = stats.norm.ppf(0.5 + confidence / 2)
    return float(auc), float(max(0.0, auc - z * se)), float(min(1.0, auc + z * se)), se


def calibration_by_decile(outcome, probability, groups: int = 10) -> pd.DataFrame:
    """Observed vs predicted risk in equal-sized groups (deciles) of predicted risk.

    Patients are sorted by predicted probability (stable sort) and cut into ``groups`` groups of equal size
    (the first groups take the remainder), so tied predictions never make uneven groups.

    Returns ``decile, patients, observed_events, expected_events, observed_rate, lowercl, uppercl,
    mean_predicted, confidence, method`` (Wilson 95% limits on the observed rate); counts unrounded.
    """
    y = np.asarray(outcome, dtype=bool)
    p = np.asarray(probability, dtype=np.float64)
    n = len(p)
    order = np.argsort(p, kind="stable")
    group = np.empty(n, dtype=np.int64)
    group[order] = np.arange(n) * groups // n
    patients = np.bincount(group, minlength=groups)
    events = np.bincount(group, weights=y, minlength=groups)
    expected = np.bincount(group, weights=p, minlength=groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = events / patients
        mean_p = expected / patients
    low, up = proportion_confint(events, np.maximum(patients, 1), alpha=0.05, method="wilson")
    return pd.DataFrame({
        "decile": np.arange(1, groups + 1),
        "patients": patients,
        "observed_events": events.astype(np.int64),
        "expected_events": expected,
        "observed_rate": rate,
        "lowercl": np.where(patients > 0, low, np.nan),
        "uppercl": np.where(patients > 0, up, np.nan),
        "mean_predicted": mean_p,
        "confidence": "95%",
        "method": "Wilson (observed rate)",
    })


def _calibration_line(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Calibration slope (Logit of y on logit p) and calibration-in-the-large (offset logit p), with 95% CIs."""
    lp = special.logit(np.clip(p, 1e-12, 1 - 1e-12))
    yf = y.astype(np.float64)
    slope_fit = sm.GLM(yf, sm.add_constant(lp), family=sm.families.Binomial()).fit()
    citl_fit = sm.GLM(yf, np.ones((len(y), 1)), family=sm.families.Binomial(), offset=lp).fit()
    s_ci = slope_fit.conf_int()[1]
    i_ci = citl_fit.conf_int()[0]
    j_ci = slope_fit.conf_int()[0]
    return {
        "joint_intercept": float(slope_fit.params[0]), "joint_intercept_lowercl": float(j_ci[0]),
        "joint_intercept_uppercl": float(j_ci[1]),
        "slope": float(slope_fit.params[1]), "slope_lowercl": float(s_ci[0]), "slope_uppercl": float(s_ci[1]),
        "intercept": float(citl_fit.params[0]), "intercept_lowercl": float(i_ci[0]),
        "intercept_uppercl": float(i_ci[1]),
    }


def tier_performance(tier: pd.Series, outcome) -> pd.DataFrame:
    """Tier sizes and outcomes, highest tier first: ``tier, patients, events, observed_rate,
    cumulative_patients, cumulative_events, ppv`` (events / patients in this tier and all above it) and
    ``sensitivity`` (share of all events caught by this tier and all above it). Counts unrounded.

    Describes whatever rows are passed; for the model's performance use ``AdmissionModel.report().tiers``
    (held-out rows only).
    """
    if not isinstance(tier.dtype, pd.CategoricalDtype):
        raise TypeError("tier_performance: tier must be the categorical returned by tiers()")
    y = np.asarray(outcome, dtype=bool)
    if len(y) != len(tier):
        raise ValueError("tier_performance: outcome must have one value per patient")
    labels = list(tier.cat.categories[::-1])  # highest risk first
    codes = tier.cat.codes.to_numpy()
    k = len(labels)
    top_first = k - 1 - codes
    patients = np.bincount(top_first, minlength=k)
    events = np.bincount(top_first, weights=y, minlength=k).astype(np.int64)
    cum_p, cum_e = np.cumsum(patients), np.cumsum(events)
    total = max(int(y.sum()), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame({
            "tier": pd.Categorical(labels, categories=tier.cat.categories, ordered=True),
            "patients": patients,
            "events": events,
            "observed_rate": events / patients,
            "cumulative_patients": cum_p,
            "cumulative_events": cum_e,
            "ppv": cum_e / cum_p,
            "sensitivity": cum_e / total,
        })


@dataclass(frozen=True)
class ModelReport:
    """Held-out performance of a fitted AdmissionModel (never the training rows).

    ``metrics``: one row per statistic (``statistic, value, lowercl, uppercl, confidence, method``);
    ``calibration``: by decile of predicted risk; ``tiers``: per risk tier (ranked within the held-out rows).
    """

    n_heldout: int
    events: int
    c_statistic: float
    c_lowercl: float
    c_uppercl: float
    calibration_slope: float
    calibration_intercept: float
    brier: float
    metrics: pd.DataFrame = field(repr=False)
    calibration: pd.DataFrame = field(repr=False)
    tiers: pd.DataFrame = field(repr=False)

    def __str__(self) -> str:
        return (
            f"Held-out performance (n = {self.n_heldout:,}, {self.events:,} admissions): "
            f"c-statistic {self.c_statistic:.3f} (95% CI {self.c_lowercl:.3f}-{self.c_uppercl:.3f}), "
            f"calibration slope {self.calibration_slope:.2f}, intercept {self.calibration_intercept:+.2f}, "
            f"Brier {self.brier:.4f}"
        )


@dataclass(frozen=True)
class _HeldOut:
    """What the model keeps of the held-out split: outcome, prediction and ids. Nothing of the training rows."""

    index: pd.Index
    outcome: np.ndarray
    probability: np.ndarray


# ------------------------------------------------------------------------------------------------------ model


class AdmissionModel:
    """Logistic model of an emergency admission in the next 12 months (``emergency_admission_next_12m``).

    Covariates (default :func:`default_terms`): age bands, sex, the long-term conditions, eFI frailty category
    (Clegg 2016), multimorbidity (number of conditions in bands, beyond their single effects), emergency
    admissions and A&E attendances in the last 12 months, GP contacts, care home, housebound, and IMD 2019
    quintile of the LSOA (patients with no LSOA, or one not in the IoD table, form an "unknown" level). Pass
    ``terms`` (built with :mod:`popheal.risk.terms`) to change them.

    ``fit(extract, test_size=0.3, seed=...)`` splits the patients into training and held-out sets (stratified by
    outcome, seeded), fits ``statsmodels`` Logit on the training set and keeps only the held-out outcome and
    predictions. ``report()`` is computed from those alone, so performance on training rows cannot be reported.
    ``coefficients()`` gives the fitted terms with odds ratios; ``predict()`` a probability per patient;
    ``drivers()`` the main drivers of each patient's score.

    Deprivation: pass ``imd`` (the normalised IoD table ``lsoa11, imd_decile``) to ``fit``; it is kept and used
    again by ``predict``/``drivers`` unless another table is passed. Without it the extract's ``imd_quintile``
    column is used.
    """

    def __init__(self, terms: Sequence[T.Term] | None = None):
        self.terms: list[T.Term] = list(default_terms() if terms is None else terms)
        if not self.terms:
            raise ValueError("AdmissionModel: at least one term is needed")
        names = [t.name for t in self.terms]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"AdmissionModel: duplicated term(s) {dupes}")
        self._fitted = False

    # ---------------------------------------------------------------------------------------------- helpers

    def _require_fit(self, what: str) -> None:
        if not self._fitted:
            raise NotFittedError(f"AdmissionModel.{what}: fit() the model first; a report or prediction needs a "
                                 "fitted model (and performance comes only from its held-out split)")

    def _data(self, extract, imd, frailty=None, cambridge=None) -> T.Data:
        return T.Data(extract, imd if imd is not None else getattr(self, "_imd", None)).use(frailty, cambridge)

    @property
    def design_columns(self) -> list[str]:
        return ["Intercept", *[c for t in self.terms for c in t.columns]]

    # -------------------------------------------------------------------------------------------------- fit

    def fit(self, extract: pd.DataFrame, test_size: float = 0.3, seed: int = 0,
            imd: pd.DataFrame | None = None) -> AdmissionModel:
        """Split (stratified by outcome, seeded), fit on the training rows, score the held-out rows.

        Parameters
        ----------
        extract : patient extract with the outcome ``emergency_admission_next_12m`` and every term's columns.
        test_size : fraction of patients held out (of those with and those without the outcome, each rounded).
        seed : seed of ``numpy.random.default_rng`` for the split.
        imd : normalised IoD table (``lsoa11, imd_decile``) for the deprivation term.
        """
        require_frame(extract, "AdmissionModel.fit")
        require_columns(extract, [OUTCOME_COLUMN], "AdmissionModel.fit")
        T.check_needs(extract, self.terms, "AdmissionModel.fit")
        if not 0 < test_size < 1:
            raise ValueError("AdmissionModel.fit: test_size must be strictly between 0 and 1")
        if not extract.index.is_unique:
            raise InputError(EXTRACT, "the extract's index must be unique (one row per patient)", None,
                             first_rows(pd.Series(extract.index.duplicated(), index=extract.index)))
        y = flag(extract, OUTCOME_COLUMN)
        rng = np.random.default_rng(seed)
        heldout = np.zeros(len(y), dtype=bool)
        for value in (False, True):
            members = np.flatnonzero(y == value)
            k = int(np.rint(test_size * len(members)))
            if k < 2 or len(members) - k < 2:
                raise InputError(EXTRACT, "too few patients with (or without) the outcome to split into training "
                                 "and held-out sets", OUTCOME_COLUMN)
            heldout[rng.choice(members, size=k, replace=False)] = True
        train = np.flatnonzero(~heldout)
        test = np.flatnonzero(heldout)

        self._imd = imd
        data = self._data(extract, imd)
        X = np.column_stack([np.ones(len(train))] + [t.design(data, train) for t in self.terms])
        columns = self.design_columns
        estimable = X.std(axis=0) > 0
        estimable[0] = True
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            result = sm.Logit(y[train].astype(np.float64), X[:, estimable]).fit(method="newton", maxiter=100,
                                                                                 disp=False)
        if not result.mle_retvals.get("converged", False):
            warnings.warn("AdmissionModel.fit: the logistic regression did not converge in 100 iterations",
                          RuntimeWarning, stacklevel=2)
        beta = np.zeros(len(columns))
        se = np.full(len(columns), np.nan)
        pvalue = np.full(len(columns), np.nan)
        beta[estimable] = result.params
        se[estimable] = result.bse
        pvalue[estimable] = result.pvalues
        self._beta, self._se, self._p, self._estimable = beta, se, pvalue, estimable
        kept = [c for c, e in zip(columns, estimable, strict=True) if e]
        self._cov = pd.DataFrame(np.asarray(result.cov_params()), index=kept, columns=kept)
        self._n_train, self._events_train = len(train), int(y[train].sum())
        # population mean of each term's share of the linear predictor (training rows), for drivers()
        offsets = np.cumsum([1] + [len(t.columns) for t in self.terms])
        self._slices = [slice(a, b) for a, b in itertools.pairwise(offsets)]
        self._term_means = np.array([X[:, s] @ beta[s] for s in self._slices]).mean(axis=1)
        self._fitted = True
        # score the held-out rows and keep only them
        p_test = self.predict(extract.iloc[test], imd=imd).to_numpy()
        self._heldout = _HeldOut(index=extract.index[test], outcome=y[test], probability=p_test)
        return self

    # ------------------------------------------------------------------------------------------ prediction

    def linear_predictor(self, extract: pd.DataFrame, imd: pd.DataFrame | None = None, *,
                         frailty: pd.DataFrame | None = None, cambridge: pd.Series | None = None) -> pd.Series:
        """Log-odds of admission per patient: the design-matrix product, accumulated one term at a time (never
        materialising the n x p matrix)."""
        self._require_fit("linear_predictor")
        require_frame(extract, "AdmissionModel.predict")
        T.check_needs(extract, self.terms, "AdmissionModel.predict")
        data = self._data(extract, imd, frailty, cambridge)
        lp = np.full(len(extract), self._beta[0])
        for t, s in zip(self.terms, self._slices, strict=True):
            lp += t.linear(data, self._beta[s])
        return pd.Series(lp, index=extract.index, name="linear_predictor")

    def predict(self, extract: pd.DataFrame, imd: pd.DataFrame | None = None, *,
                frailty: pd.DataFrame | None = None, cambridge: pd.Series | None = None) -> pd.Series:
        """Probability of an emergency admission in the next 12 months, per patient (Series on the extract's
        index). ``frailty`` / ``cambridge``: efi() and cambridge_score() of the same extract, to reuse them."""
        lp = self.linear_predictor(extract, imd, frailty=frailty, cambridge=cambridge)
        return pd.Series(special.expit(lp.to_numpy()), index=extract.index, name="admission_probability")

    # ------------------------------------------------------------------------------------------- reporting

    @property
    def heldout_index(self) -> pd.Index:
        """Index labels of the held-out patients (the only rows performance is computed on)."""
        self._require_fit("heldout_index")
        return self._heldout.index

    def report(self, cuts: Sequence[float] = DEFAULT_CUTS) -> ModelReport:
        """Performance on the held-out split only (c-statistic with DeLong 95% CI, calibration by decile,
        calibration slope and intercept, Brier score, tier PPV). Raises NotFittedError before fit()."""
        self._require_fit("report")
        h = self._heldout
        y, p = h.outcome, h.probability
        auc, lo, hi, _ = delong_auc(y, p)
        line = _calibration_line(y, p)
        brier = float(np.mean((p - y) ** 2))
        prevalence = float(y.mean())
        brier_ref = prevalence * (1 - prevalence)
        scaled = 1 - brier / brier_ref if brier_ref > 0 else np.nan
        metrics = pd.DataFrame(
            [
                ("c-statistic", auc, lo, hi, "95%", "DeLong 1988 (Wald, AUC scale)"),
                ("calibration slope", line["slope"], line["slope_lowercl"], line["slope_uppercl"], "95%",
                 "logistic recalibration on logit(p) (Van Calster 2016)"),
                ("calibration intercept", line["intercept"], line["intercept_lowercl"], line["intercept_uppercl"],
                 "95%", "calibration-in-the-large: offset logit(p), slope fixed at 1 (Van Calster 2016)"),
                ("recalibration intercept (with the slope)", line["joint_intercept"],
                 line["joint_intercept_lowercl"], line["joint_intercept_uppercl"], "95%",
                 "intercept a of logit P(y) = a + b logit(p), fitted with the slope b"),
                ("Brier score", brier, np.nan, np.nan, "", "mean squared error of the probability"),
                ("scaled Brier score", scaled, np.nan, np.nan, "", "1 - Brier / (prevalence x (1 - prevalence))"),
                ("observed event rate", prevalence, np.nan, np.nan, "", "held-out patients"),
                ("mean predicted risk", float(p.mean()), np.nan, np.nan, "", "held-out patients"),
                ("held-out patients", float(len(y)), np.nan, np.nan, "", "stratified seeded split"),
                ("training patients", float(self._n_train), np.nan, np.nan, "", "used for the fit only"),
            ],
            columns=["statistic", "value", "lowercl", "uppercl", "confidence", "method"],
        )
        tier = tiers(pd.Series(p, index=h.index), cuts)
        return ModelReport(
            n_heldout=len(y), events=int(y.sum()), c_statistic=auc, c_lowercl=lo, c_uppercl=hi,
            calibration_slope=line["slope"], calibration_intercept=line["intercept"], brier=brier,
            metrics=metrics, calibration=calibration_by_decile(y, p), tiers=tier_performance(tier, y),
        )

    def coefficients(self, confidence: float = 0.95) -> pd.DataFrame:
        """Fitted coefficients: ``term, column, label, reference, estimate, std_error, lowercl, uppercl,
        odds_ratio, or_lowercl, or_uppercl, p_value, confidence`` (Wald limits). Columns not estimable in the
        training rows (e.g. a level no training patient has) have missing values."""
        self._require_fit("coefficients")
        z = stats.norm.ppf(0.5 + confidence / 2)
        term_of = ["Intercept"] + [t.name for t in self.terms for _ in t.columns]
        labels = ["intercept"] + [lab for t in self.terms for lab in t.labels]
        refs = [""] + [t.reference() for t in self.terms for _ in t.columns]
        est = np.where(self._estimable, self._beta, np.nan)
        lo, hi = est - z * self._se, est + z * self._se
        return pd.DataFrame({
            "term": term_of, "column": self.design_columns, "label": labels, "reference": refs,
            "estimate": est, "std_error": self._se, "lowercl": lo, "uppercl": hi,
            "odds_ratio": np.exp(est), "or_lowercl": np.exp(lo), "or_uppercl": np.exp(hi),
            "p_value": self._p, "confidence": f"{confidence * 100:g}%",
        })

    def covariance(self) -> pd.DataFrame:
        """Covariance matrix of the estimable coefficients (by design column), e.g. for joint Wald tests."""
        self._require_fit("covariance")
        return self._cov.copy()

    # --------------------------------------------------------------------------------------------- drivers

    def drivers(self, extract: pd.DataFrame, top: int = 3, imd: pd.DataFrame | None = None) -> pd.DataFrame:
        """The main drivers of each patient's score, in plain English.

        A term's contribution is its share of the patient's linear predictor minus its mean share in the
        training population (so it says how much the term lifts this patient's log-odds above an average
        patient's). The drivers are the ``top`` terms with the largest positive contribution among those the
        patient actually has (a condition flag that is set, a factor level other than the reference, a count
        above zero), labelled e.g. "heart failure", "3 emergency admissions", "age 85+", "severe frailty".

        Returns ``driver_1 .. driver_<top>`` (missing when fewer qualify) and ``main_drivers`` ("; "-joined).
        """
        self._require_fit("drivers")
        require_frame(extract, "AdmissionModel.drivers")
        T.check_needs(extract, self.terms, "AdmissionModel.drivers")
        data = self._data(extract, imd)
        n, k = len(extract), len(self.terms)
        contrib = np.empty((n, k), dtype=np.float64)
        for j, (t, s) in enumerate(zip(self.terms, self._slices, strict=True)):
            c = t.linear(data, self._beta[s]) - self._term_means[j]
            contrib[:, j] = np.where(t.present(data) & (c > 0), c, -np.inf)
        top = int(min(top, k))
        order = np.argsort(-contrib, axis=1, kind="stable")[:, :top]
        chosen = np.take_along_axis(contrib, order, axis=1)
        out = {}
        for r in range(top):
            labels = np.full(n, None, dtype=object)
            for j in np.unique(order[:, r]):
                rows = np.flatnonzero((order[:, r] == j) & np.isfinite(chosen[:, r]))
                if len(rows):
                    labels[rows] = self.terms[j].describe(data, rows)
            out[f"driver_{r + 1}"] = labels
        joined = np.full(n, "", dtype=object)
        for r in range(top):
            col = out[f"driver_{r + 1}"]
            has = np.array([v is not None for v in col])
            sep = np.where(joined == "", "", "; ")
            joined = np.where(has, joined + sep + np.where(has, col, ""), joined)
        frame = pd.DataFrame({name: pd.array(v, dtype="str") for name, v in out.items()}, index=extract.index)
        frame["main_drivers"] = pd.array(joined, dtype="str")
        return frame
