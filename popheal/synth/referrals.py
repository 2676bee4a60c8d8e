"""The referral extract: Poisson counts by practice x sex x age x month from the known rates, then each
referral's date, specialty, priority, route, provider and out-of-area flag. Vectorised over referrals."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from scipy import special

from popheal.io.extract_schema import PRIORITIES, REFERRAL_COLUMNS, ROUTES
from popheal.synth import model as M
from popheal.synth._util import stream, take_str, zero_padded
from popheal.synth.area import Structure
from popheal.synth.people import _FIVE_YEAR_BAND, referral_rate_per_person

__all__ = ["SPECIALTY_NAMES", "practice_referral_effects", "practice_truth", "referral_multipliers",
           "simulate_referrals"]

SPECIALTY_NAMES: tuple[str, ...] = tuple(M.SPECIALTIES)


def practice_referral_effects(st: Structure) -> pd.DataFrame:
    """The TRUE practice effects on referral rates (multipliers of the age/sex base rates), by practice.

    ``random_effect`` = exp(N(0, REFERRAL_PRACTICE_SD)) with geometric mean 1, replaced by the planted
    multiplier at the planted positions; ``deprivation_effect`` = exp(REFERRAL_DEPRIVATION_EFFECT x
    (Core20 share - mean Core20 share)); ``referral_effect`` = their product (the practice's true standardised
    ratio before the planted specialty excess).
    """
    pr = st.practices
    n = len(pr)
    z = stream(st.spec.seed, "referral_practice_effects").normal(0, M.REFERRAL_PRACTICE_SD, n)
    rand = np.exp(z - z.mean())
    planted = np.full(n, np.nan)
    for pos, mult in M.REFERRAL_PLANTED_OUTLIERS.items():
        if pos < n:
            rand[pos] = mult
            planted[pos] = mult
    core20 = pr["core20_share"].to_numpy()
    dep = np.exp(M.REFERRAL_DEPRIVATION_EFFECT * (core20 - core20.mean()))
    return pd.DataFrame({
        "practice_code": pr["practice_code"].to_numpy(),
        "position": np.arange(n),
        "random_effect": rand,
        "planted_multiplier": planted,
        "deprivation_effect": dep,
        "referral_effect": rand * dep,
    })


def _specialty_table(n_prac: int) -> np.ndarray:
    """Unnormalised specialty weights by practice, 5-year band, sex: array (practices, 19, 2, specialties)."""
    k = len(SPECIALTY_NAMES)
    band_low = np.arange(19) * 5
    w = np.zeros((19, 2, k))
    for j, name in enumerate(SPECIALTY_NAMES):
        s = M.SPECIALTIES[name]
        adult = np.where(band_low >= 65, s.get("old", 1.0), 1.0)
        age_mult = np.where(band_low < 15, s.get("child", 1.0), adult)
        share = s["share"] if s["share"] > 0 else 0.05  # Paediatrics only through its child multiplier
        if name == "Paediatrics":
            age_mult = np.where(band_low < 15, s["child"], 0.0)
        w[:, 0, j] = share * age_mult * s.get("female", 1.0)
        w[:, 1, j] = share * age_mult * s.get("male", 1.0)
    table = np.broadcast_to(w, (n_prac, 19, 2, k)).copy()
    sp = M.REFERRAL_PLANTED_SPECIALTY
    if sp["position"] < n_prac:
        table[sp["position"], :, :, SPECIALTY_NAMES.index(sp["specialty"])] *= sp["multiplier"]
    return table


def referral_multipliers(st: Structure) -> np.ndarray:
    """The true rate multiplier of every practice x sex x single year of age (practice effect x the planted
    specialty excess): array (practices, 2, ages)."""
    n_prac, _, n_age = st.counts.shape
    effects = practice_referral_effects(st)["referral_effect"].to_numpy()
    band = _FIVE_YEAR_BAND[np.arange(n_age)]
    excess = _specialty_table(n_prac).sum(axis=3) / _specialty_table(1)[0].sum(axis=2)[None, :, :]
    return effects[:, None, None] * excess[:, band, :].transpose(0, 2, 1)


def practice_truth(st: Structure) -> pd.DataFrame:
    """Per practice: list size, PCN, deprivation, Core20 share, true referral, A&G and out-of-area effects."""
    eff = practice_referral_effects(st)
    pr = st.practices
    ag, ooa = _practice_route_effects(st)
    out = pd.DataFrame({
        "practice_code": pr["practice_code"].to_numpy(),
        "pcn_code": pr["pcn_code"].to_numpy(),
        "list_size": pr["list_size"].to_numpy(),
        "mean_deprivation": pr["dep"].to_numpy(),
        "core20_share": pr["core20_share"].to_numpy(),
    })
    for c in ("position", "random_effect", "planted_multiplier", "deprivation_effect", "referral_effect"):
        out[c] = eff[c].to_numpy()
    sp = M.REFERRAL_PLANTED_SPECIALTY
    out["planted_specialty"] = np.where(out["position"] == sp["position"], sp["specialty"], None)
    out["advice_and_guidance_log_odds"] = ag
    out["out_of_area_share"] = ooa
    return out


def _practice_route_effects(st: Structure) -> tuple[np.ndarray, np.ndarray]:
    n = len(st.practices)
    rng = stream(st.spec.seed, "referral_routes_practice")
    ag = rng.normal(0, M.ADVICE_AND_GUIDANCE_PRACTICE_SD, n)
    edge = st.practices["edge"].to_numpy()
    logit = (special.logit(M.OUT_OF_AREA_SHARE) + M.OUT_OF_AREA_EDGE_EFFECT * (edge - edge.mean())
             + rng.normal(0, M.OUT_OF_AREA_PRACTICE_SD, n))
    return ag, special.expit(logit)


def _months(start: dt.date, end: dt.date):
    """(first day of the month, first and last day inside the period) of every month the period touches."""
    out = []
    y, m = start.year, start.month
    while dt.date(y, m, 1) <= end:
        first = dt.date(y, m, 1)
        nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
        lo, hi = max(first, start), min(nxt - dt.timedelta(days=1), end)
        out.append((first, lo, hi))
        y, m = nxt.year, nxt.month
    return out


def simulate_referrals(st: Structure, start: dt.date, end: dt.date) -> pd.DataFrame:
    """One row per referral from ``start`` to ``end`` (inclusive), in date order (REFERRAL_COLUMNS)."""
    seed = st.spec.seed
    rng = stream(seed, "referrals")
    n_prac, _, n_age = st.counts.shape
    spec_w = _specialty_table(n_prac)
    band = _FIVE_YEAR_BAND[np.arange(n_age)]

    months = _months(start, end)
    season = np.array([M.REFERRAL_SEASONALITY[first.month - 1] for first, _, _ in months])
    exposure = np.array([((hi - lo).days + 1) / 365.25 for _, lo, hi in months])
    # referrals are dated on weekdays: each month's weekdays inside the period
    all_days = np.arange(np.datetime64(start), np.datetime64(end) + np.timedelta64(1, "D"))
    weekdays = all_days[np.is_busday(all_days)]
    month_of = weekdays.astype("datetime64[M]")
    month_firsts = np.array([np.datetime64(first, "M") for first, _, _ in months])
    starts = np.searchsorted(month_of, month_firsts, side="left")
    ends = np.searchsorted(month_of, month_firsts, side="right")
    exposure = np.where(ends > starts, exposure, 0.0)  # a period slice of a weekend only: no referrals
    ages = np.arange(n_age)
    rate = np.stack([referral_rate_per_person(ages, np.zeros(n_age, bool)),
                     referral_rate_per_person(ages, np.ones(n_age, bool))])  # (2, ages)
    # the planted specialty excess adds referrals: referral_multipliers includes it
    lam_cell = st.counts * rate[None, :, :] * referral_multipliers(st)
    lam = lam_cell[..., None] * (season * exposure)[None, None, None, :]
    counts = rng.poisson(lam).reshape(-1)
    cell = np.repeat(np.arange(counts.size), counts)
    n_months = len(months)
    month_idx = cell % n_months
    age = (cell // n_months) % n_age
    sex = (cell // (n_months * n_age)) % 2
    prac = cell // (n_months * n_age * 2)
    n = cell.size

    # dates: a weekday inside the period, uniformly within the month
    u = rng.random(n)
    day_idx = starts[month_idx] + np.floor(u * (ends - starts)[month_idx]).astype(np.int64)
    dates = weekdays[np.minimum(day_idx, len(weekdays) - 1)]
    patient_age = np.minimum(age + (month_idx // 12), 120)

    # specialty ∝ the (planted) weights of the referral's practice, band and sex
    w = spec_w[prac, band[age], sex]  # (n, k)
    cum = np.cumsum(w, axis=1)
    u = rng.random(n) * cum[:, -1]
    k_idx = (u[:, None] >= cum[:, :-1]).sum(axis=1)

    # priority
    tww = np.array([M.PRIORITY_SHARES[s][0] for s in SPECIALTY_NAMES])[k_idx]
    urg = np.array([M.PRIORITY_SHARES[s][1] for s in SPECIALTY_NAMES])[k_idx]
    tww = tww * np.where(patient_age < 30, 0.3, np.where(patient_age >= 65, 1.3, 1.0))
    u = rng.random(n)
    priority_idx = np.where(u < tww, 2, np.where(u < tww + urg, 1, 0))

    # route: advice and guidance (never for two-week-wait)
    ag_practice, ooa_share = _practice_route_effects(st)
    ag_base = np.array([M.ADVICE_AND_GUIDANCE_SHARES[s] for s in SPECIALTY_NAMES])[k_idx]
    p_ag = special.expit(special.logit(ag_base) + ag_practice[prac])
    route_idx = np.where((priority_idx != 2) & (rng.random(n) < p_ag), 1, 0)

    # out of area and provider
    ooa = rng.random(n) < ooa_share[prac]
    providers = [*M.LOCAL_PROVIDERS, *M.OUT_OF_AREA_PROVIDERS]
    u = rng.random(n)
    local_pick = (u[:, None] >= np.cumsum(list(M.LOCAL_PROVIDERS.values()))[:-1]).sum(axis=1)
    away_pick = (u[:, None] >= np.cumsum(list(M.OUT_OF_AREA_PROVIDERS.values()))[:-1]).sum(axis=1)
    provider_idx = np.where(ooa, len(M.LOCAL_PROVIDERS) + away_pick, local_pick)

    order = np.lexsort((rng.random(n), prac, dates))
    out = pd.DataFrame({
        "referral_id": zero_padded("R", np.arange(1, n + 1), 9),
        "practice_code": take_str(st.practices["practice_code"], prac[order]),
        "patient_age": patient_age[order].astype(np.int64),
        "patient_sex": take_str(("F", "M"), sex[order]),
        "referral_date": dates[order].astype("datetime64[s]"),
        "specialty": take_str(SPECIALTY_NAMES, k_idx[order]),
        "priority": take_str(PRIORITIES, priority_idx[order]),
        "route": take_str(ROUTES, route_idx[order]),
        "provider_code": take_str(providers, provider_idx[order]),
        "out_of_area": ooa[order],
    })
    return out[list(REFERRAL_COLUMNS)]
