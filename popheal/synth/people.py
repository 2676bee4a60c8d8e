"""The patients' attributes: ethnicity, conditions, status flags, eFI deficits, medications, activity,
clinical values and the outcome, drawn from the documented model (popheal.synth docstring; constants in
popheal.synth.model). Everything is vectorised over patients."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from popheal.io.extract_schema import (
    ACTIVITY_COLUMNS,
    EFI_DEFICITS,
    LTC_NAMES,
    OUTCOME_COLUMN,
    PATIENT_COLUMNS,
    STATUS_FLAGS,
)
from popheal.synth import model as M
from popheal.synth._util import (
    draw_nb,
    hash_ids,
    sigmoid,
    solve_log_shift,
    solve_logit_shift,
    stream,
    take_str,
)
from popheal.synth.area import Structure

__all__ = [
    "CALIBRATION_SAMPLE",
    "admission_design",
    "admission_terms",
    "cambridge_score",
    "efi_deficit_count",
    "referral_rate_per_person",
    "simulate_patients",
]

#: Intercepts are solved on a random subsample of this many patients (all of them in smaller areas).
CALIBRATION_SAMPLE = 60_000
ETHNIC_ORDER = ("White", "Asian", "Black", "Mixed", "Other", "Not stated")
_FIVE_YEAR_BAND = np.minimum(np.arange(121) // 5, 18)


def _shape_logit(shape) -> np.ndarray:
    """Logit of an age curve given as prevalences (%) at model.AGE_KNOTS, for ages 0..120."""
    p = np.clip(M.knots_curve(shape) / 100.0, 1e-6, 0.95)
    return special.logit(p)


_F32 = np.float32


class _Draw:
    """Shared state of one simulation: covariates, latent factors, drawn flags, and the calibration sample.

    Linear predictors are float32 (twice as fast as float64 over a million patients; intercepts are solved in
    float64 on the same float32 values, so the draws are exactly reproducible).
    """

    def __init__(self, st: Structure, seed: int):
        self.seed = seed
        self.n = n = len(st.age)
        self.age = st.age.astype(np.int64)
        self.male = st.sex_idx == 1
        lsoas = st.lsoas
        self.decile = lsoas["imd_decile"].to_numpy()[st.lsoa_idx]
        self.dep = (10 - self.decile) / 9.0
        self.dep32 = self.dep.astype(_F32)
        rng = stream(seed, "calibration_sample")
        if n <= CALIBRATION_SAMPLE:
            self.cal = np.arange(n)
        else:
            self.cal = np.sort(rng.choice(n, CALIBRATION_SAMPLE, replace=False))
        z = stream(seed, "latent").standard_normal((3, n), dtype=_F32)
        r = _F32(M.LATENT_CORRELATION)
        s = _F32(np.sqrt(1 - M.LATENT_CORRELATION ** 2))
        self.h = np.vstack([z[0], r * z[0] + s * z[1], r * z[0] + s * z[2]])
        self.flags: dict[str, np.ndarray] = {}
        self.eth_idx = None

    def linear(self, age_table: np.ndarray, spec: dict) -> np.ndarray:
        """age_table[age] + sex + deprivation + ethnicity + latent + earlier flags (float32)."""
        eta = age_table.astype(_F32)[self.age]
        if spec.get("male"):
            np.add(eta, _F32(spec["male"]), out=eta, where=self.male)
        if spec.get("dep"):
            eta += _F32(spec["dep"]) * self.dep32
        eth = spec.get("eth")
        if eth:
            eta += np.array([eth.get(g, 0.0) for g in ETHNIC_ORDER], dtype=_F32)[self.eth_idx]
        for k, w in enumerate(spec.get("load", (0.0, 0.0, 0.0))):
            if w:
                eta += _F32(w) * self.h[k]
        for other, coef in {**spec.get("after", {}), **spec.get("ltc", {}), **spec.get("status", {})}.items():
            np.add(eta, _F32(coef), out=eta, where=self.flags[other])
        return eta

    # generic binary draw: logit = age curve + sex + deprivation + ethnicity + latent + earlier flags + c
    def flag(self, key: str, spec: dict, target: float, denom: np.ndarray, min_age: int) -> np.ndarray:
        table = _shape_logit(spec["shape"])
        table[:min_age] = -np.inf  # nobody younger than min_age
        eta = self.linear(table, spec)
        c_idx = self.cal
        in_denom = denom[c_idx]
        use = c_idx[in_denom & (self.age[c_idx] >= min_age)]
        c = 0.0
        if in_denom.any():
            c = solve_logit_shift(eta[use].astype(float), target * float(in_denom.sum()))
        eta += _F32(c)
        out = stream(self.seed, "flag", key).random(self.n, dtype=_F32) < special.expit(eta)
        self.flags[key] = out
        return out


def _ethnicity(d: _Draw) -> np.ndarray:
    groups = ("Asian", "Black", "Mixed", "Other")
    shares = M.ETHNICITY_SHARES
    stated_total = sum(shares.values())
    target = np.array([shares["White"]] + [shares[g] for g in groups]) / stated_total
    old, child = d.age >= 65, d.age < 18
    lin = np.zeros((5, d.n))
    for k, g in enumerate(groups, start=1):
        e = M.ETHNICITY_EFFECTS[g]
        lin[k] = e["dep"] * d.dep + e["old"] * old + e["child"] * child
    # solve the intercepts on the distinct covariate patterns of the calibration sample (few dozen)
    key = (d.decile[d.cal] * 4 + old[d.cal] * 2 + child[d.cal]).astype(np.int64)
    _, first, weight = np.unique(key, return_index=True, return_counts=True)
    cal = lin[:, d.cal[first]]
    a = np.zeros(5)
    for _ in range(200 if len(weight) else 0):
        p = (special.softmax(cal + a[:, None], axis=0) * weight).sum(axis=1) / weight.sum()
        step = np.log(target / p)
        a = a + step - step[0]
        if np.abs(step).max() < 1e-9:
            break
    prob = special.softmax(lin + a[:, None], axis=0)
    cum = np.cumsum(prob, axis=0)
    rng = stream(d.seed, "ethnicity")
    u = rng.random(d.n)
    idx = (u[None, :] > cum[:-1]).sum(axis=0)
    not_stated = rng.random(d.n) < (1 - stated_total)
    return np.where(not_stated, 5, idx).astype(np.int64)


def cambridge_score(flags) -> np.ndarray:
    """Cambridge Multimorbidity Score (general weights, model.CAMBRIDGE_GENERAL_WEIGHTS) from LTC flags.

    ``flags`` maps condition name (without ``ltc_``) or column ``ltc_<name>`` to a bool array / Series.
    """
    def get(name):
        v = flags[name] if name in flags else flags[f"ltc_{name}"]
        return np.asarray(v, dtype=bool)

    score = 0.0
    for key, w in M.CAMBRIDGE_GENERAL_WEIGHTS.items():
        present = np.zeros_like(get("hypertension"))
        for name in key.split("|"):
            present = present | get(name)
        score = score + w * present
    return np.asarray(score, dtype=float)


def efi_deficit_count(extract: pd.DataFrame) -> np.ndarray:
    """Number of the 36 eFI deficits present (sum of the ``efi_*`` columns)."""
    return extract[[f"efi_{d}" for d in EFI_DEFICITS]].to_numpy(dtype=bool).sum(axis=1)


def _admission_arrays(age, male, cms, efi_count, emergency_admissions, ae_attendances, deprivation,
                      palliative, care_home) -> dict[str, np.ndarray]:
    age = np.asarray(age, dtype=float)
    efi_count = np.asarray(efi_count)
    old = age >= 65
    cut1, cut2, cut3 = M.EFI_CATEGORY_CUTS
    return {
        "age10": (age - 50.0) / 10.0,
        "age_under5": (age < 5).astype(float),
        "male": np.asarray(male, dtype=float),
        "cms": np.asarray(cms, dtype=float),
        "efi_mild": (old & (efi_count >= cut1) & (efi_count < cut2)).astype(float),
        "efi_moderate": (old & (efi_count >= cut2) & (efi_count < cut3)).astype(float),
        "efi_severe": (old & (efi_count >= cut3)).astype(float),
        "prior_emergency_admissions": np.minimum(np.asarray(emergency_admissions, dtype=float), 3.0),
        "ae_attendances": np.minimum(np.asarray(ae_attendances, dtype=float), 5.0),
        "deprivation": np.asarray(deprivation, dtype=float),
        "palliative": np.asarray(palliative, dtype=float),
        "care_home": np.asarray(care_home, dtype=float),
    }


def admission_terms(age, male, cms, efi_count, emergency_admissions, ae_attendances, deprivation, palliative,
                    care_home) -> pd.DataFrame:
    """The covariates of the true admission model, exactly as documented in model.ADMISSION_COEFFICIENTS."""
    return pd.DataFrame(_admission_arrays(age, male, cms, efi_count, emergency_admissions, ae_attendances,
                                          deprivation, palliative, care_home))


def admission_design(extract: pd.DataFrame, imd: pd.DataFrame) -> pd.DataFrame:
    """Covariates of the true admission model for a patient extract (index aligned; no intercept column).

    ``imd`` is an IMD table with ``lsoa11`` and ``imd_decile`` (the normalised IoD2019 File 1). Patients whose
    LSOA is missing or not in ``imd`` get NaN ``deprivation`` (drop them before fitting).
    """
    decile = extract["lsoa11"].map(imd.set_index("lsoa11")["imd_decile"]).astype(float)
    design = admission_terms(
        extract["age"].to_numpy(), (extract["sex"] == "M").to_numpy(), cambridge_score(extract),
        efi_deficit_count(extract), extract["emergency_admissions"].to_numpy(),
        extract["ae_attendances"].to_numpy(), ((10 - decile) / 9.0).to_numpy(),
        extract["palliative"].to_numpy(), extract["care_home"].to_numpy())
    design.index = extract.index
    return design


def referral_rate_per_person(age: np.ndarray, male: np.ndarray) -> np.ndarray:
    """Base GP referral rate per person per year (model.REFERRAL_BASE_RATES) for single years of age."""
    band = _FIVE_YEAR_BAND[np.minimum(np.asarray(age), 120)]
    f = np.asarray(M.REFERRAL_BASE_RATES["F"]) / 1000.0
    m = np.asarray(M.REFERRAL_BASE_RATES["M"]) / 1000.0
    return np.where(np.asarray(male, dtype=bool), m[band], f[band])


def _activity(d: _Draw, name: str, spec: dict, n_ltc: np.ndarray, cms: np.ndarray) -> np.ndarray:
    eta = d.linear(M.knots_curve(spec["age"]), spec)
    if spec.get("n_ltc"):
        eta += _F32(spec["n_ltc"]) * n_ltc.astype(_F32)
    if spec.get("cms"):
        eta += _F32(spec["cms"]) * cms.astype(_F32)
    if spec.get("female_16_45"):
        np.add(eta, _F32(spec["female_16_45"]), out=eta, where=~d.male & (d.age >= 16) & (d.age <= 45))
    cap = spec.get("max_mean", np.inf)
    cal = eta[d.cal].astype(float)
    c = solve_log_shift(cal, spec["mean"] * len(d.cal))
    for _ in range(8 if len(cal) else 0):  # re-solve with the cap on the mean
        got = np.minimum(np.exp(cal + c), cap).mean()
        if got <= 0 or abs(got / spec["mean"] - 1) < 1e-6:
            break
        c += np.log(spec["mean"] / got)
    mean = np.minimum(np.exp(eta + _F32(c)), _F32(cap))
    counts = draw_nb(stream(d.seed, "activity", name), mean, spec["shape"])
    return np.minimum(counts, spec.get("max", 1 << 30))


def _medications(d: _Draw) -> np.ndarray:
    spec = M.MEDICATION_MODEL
    eta = d.linear(M.knots_curve(spec["age"]), {"load": (spec["load"], 0.0, 0.0), "ltc": spec["ltc"]})
    k = spec["shape"]
    use = d.cal[d.age[d.cal] >= 65]
    c = 0.0
    if len(use):
        cal = eta[use].astype(float)

        def share(c):  # P(N >= 5) under the negative binomial with shape k
            mu = np.minimum(np.exp(cal + c), spec["max_mean"])
            return (1.0 - special.betainc(k, 5.0, k / (k + mu))).mean()

        lo, hi = -10.0, 10.0
        for _ in range(50):
            mid = (lo + hi) / 2
            if share(mid) < spec["polypharmacy_65plus"]:
                lo = mid
            else:
                hi = mid
        c = (lo + hi) / 2
    mean = np.minimum(np.exp(eta + _F32(c)), _F32(spec["max_mean"]))
    return np.minimum(draw_nb(stream(d.seed, "medications"), mean, k), spec["max"])


def simulate_patients(st: Structure, referral_multiplier: np.ndarray) -> tuple[pd.DataFrame, dict]:
    """The patient extract (PATIENT_COLUMNS, extract order) and the hidden truth (probabilities, LSOA).

    ``referral_multiplier`` (practices x 2 sexes x ages) is the true practice effect on referral rates, the
    same one the referral extract uses (popheal.synth.referrals.referral_multipliers).
    """
    seed = st.spec.seed
    d = _Draw(st, seed)
    n, age, male = d.n, d.age, d.male
    d.eth_idx = _ethnicity(d)

    # long-term conditions, in drawing order
    for name, spec in M.LTC_MODELS.items():
        d.flag(name, spec, spec["target"], age >= spec["denom_age"], spec["min_age"])
    recent = stream(seed, "flag", "cancer_5y").random(n) < M.CANCER_5Y_SHARE
    d.flags["cancer_5y"] = d.flags["cancer"] & recent

    # status flags
    for name, spec in M.STATUS_MODELS.items():
        d.flag(name, spec, spec["target"], age >= spec["denom_age"], spec["min_age"])
    d.flags["housebound"] = d.flags["housebound"] & ~d.flags["care_home"]
    women = ~male & (age >= 16) & (age <= 45)
    w = np.interp(age, (16, 20, 25, 30, 35, 40, 45), (0.4, 0.8, 1.2, 1.3, 1.0, 0.4, 0.1))
    wmean = w[d.cal][women[d.cal]].mean() if women[d.cal].any() else 1.0
    p_preg = np.where(women, np.clip(M.PREGNANT_SHARE_WOMEN_16_45 * w / wmean, 0, 1), 0.0)
    d.flags["pregnant"] = stream(seed, "flag", "pregnant").random(n) < p_preg

    # eFI-only deficits (targets among people 65+)
    old = age >= 65
    for name, spec in M.EFI_ONLY_MODELS.items():
        d.flag(f"efi:{name}", spec, spec["target"], old, spec.get("min_age", 0))
        d.flags[name] = d.flags[f"efi:{name}"]

    n_meds = _medications(d)
    efi = {}
    for deficit in EFI_DEFICITS:
        rule = M.EFI_DEFINITIONS[deficit]
        if rule == "n_medications>=5":
            efi[deficit] = n_meds >= 5
            continue
        v = np.zeros(n, dtype=bool)
        for part in rule.split("|"):
            _, name = part.split(":")
            v = v | d.flags[name]
        efi[deficit] = v
    efi_count = np.sum([efi[k] for k in EFI_DEFICITS], axis=0)

    ltc = {name: d.flags[name] for name in LTC_NAMES}
    n_ltc = np.sum([ltc[k] for k in LTC_NAMES if k != "cancer_5y"], axis=0)
    cms = cambridge_score(ltc)

    activity = {name: _activity(d, name, spec, n_ltc, cms) for name, spec in M.ACTIVITY_MODELS.items()}
    ref_mean = referral_rate_per_person(age, male) * referral_multiplier[st.practice_idx, st.sex_idx, age]
    activity["referrals"] = draw_nb(stream(seed, "activity", "referrals"), ref_mean, 1.5)

    # clinical values
    rng_bp = stream(seed, "sbp")
    sb = M.SBP_MODEL
    hyp = ltc["hypertension"]
    p_other = np.where(age >= 40, sb["recorded_40plus"], np.where(age >= 18, sb["recorded_18_39"], 0.0))
    p_rec = np.where(hyp, sb["recorded_hypertensive"], p_other)
    recorded = rng_bp.random(n) < p_rec
    mean_bp = np.where(hyp, sb["mean_hypertensive"] + sb["dep_hypertensive"] * d.dep + 0.1 * (age - 60),
                       sb["mean_other_40"] + sb["per_year_other"] * (age - 40))
    sd_bp = np.where(hyp, sb["sd_hypertensive"], sb["sd_other"])
    sbp = np.clip(np.round(mean_bp + sd_bp * rng_bp.standard_normal(n)), 80, 240)
    sbp = np.where(recorded, sbp, np.nan)
    rng_hc = stream(seed, "health_checks")
    smi_hc = ltc["smi"] & (rng_hc.random(n) < M.SMI_HEALTH_CHECK_SHARE)
    ld_hc = ltc["learning_disability"] & (rng_hc.random(n) < M.LD_HEALTH_CHECK_SHARE)

    # outcome: the known logistic model
    terms = _admission_arrays(age, male, cms, efi_count, activity["emergency_admissions"],
                              activity["ae_attendances"], d.dep, d.flags["palliative"], d.flags["care_home"])
    beta = M.ADMISSION_COEFFICIENTS
    eta = np.full(n, beta["intercept"])
    for term, coef in beta.items():
        if term != "intercept":
            eta += coef * terms[term]
    p_adm = sigmoid(eta)
    outcome = stream(seed, "outcome").random(n) < p_adm

    # assemble the extract
    cols: dict[str, object] = {
        "patient_id": hash_ids(n, seed),
        "practice_code": take_str(st.practices["practice_code"], st.practice_idx),
        "sex": take_str(("F", "M"), st.sex_idx),
        "age": age.astype(np.int64),
        "lsoa11": take_str(st.lsoas["lsoa11"], st.lsoa_idx, missing=~st.lsoa_recorded),
        "ethnicity": take_str(ETHNIC_ORDER, d.eth_idx),
    }
    for name in LTC_NAMES:
        cols[f"ltc_{name}"] = ltc[name]
    for name in STATUS_FLAGS:
        cols[name] = d.flags[name]
    for deficit in EFI_DEFICITS:
        cols[f"efi_{deficit}"] = efi[deficit]
    cols["n_medications"] = n_meds
    for name in ACTIVITY_COLUMNS:
        cols[name] = activity[name].astype(np.int64)
    cols["sbp"] = sbp.astype(float)
    cols["smi_health_check"] = smi_hc
    cols["ld_health_check"] = ld_hc
    cols[OUTCOME_COLUMN] = outcome
    missing = [c for c in PATIENT_COLUMNS if c not in cols]
    if missing:  # pragma: no cover - guards the contract
        raise RuntimeError(f"synthetic extract lacks contract columns {missing}")
    extract = pd.DataFrame({c: cols[c] for c in PATIENT_COLUMNS})
    truth = {"admission_probability": p_adm, "lsoa_idx": st.lsoa_idx, "deprivation": d.dep,
             "efi_deficits": efi_count, "cms": cms, "n_ltc": n_ltc, "latent": d.h}
    return extract, truth
