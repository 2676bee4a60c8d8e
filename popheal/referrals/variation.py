"""Referral variation between practices: indirectly standardised referral ratios, funnel significance with
and without overdispersion, and the DESIGN.md indicator shape.

Methods
-------
- Expected referrals by indirect standardisation (OHID/PHE Technical Guide "Indirect standardisation";
  PHEindicatormethods ``calculate_ISRatio``): the area's own referral rate in each sex x 5-year age band
  stratum (all practices in ``population`` pooled) applied to each practice's registered list. Limits on the
  ratio are exact Poisson below 10 referrals and Byar's from 10 (``popheal.stats.isr``).
- Funnel significance (Spiegelhalter DJ. Funnel plots for comparing institutional performance. Stat Med
  2005;24:1185-1202): 95% and 99.8% Poisson limits around a target ratio of 1 (``popheal.stats.
  funnel_significance``), and again after allowing for overdispersion with FunnelPlotR's method
  (nhs-r-community/FunnelPlotR: z-scores on the log scale, 10% of units trimmed at each tail, additive
  random-effects variance tau2, "SHMI" by default; ``popheal.stats.overdispersion``).

Referrals whose stratum is unknown (patient_sex "U", or no age) are counted in ``observed``. For ``expected``
they are shared out at area level, not dropped: "U" referrals in an age band are divided between F and M in
proportion to that band's known-sex referrals, and any referral still without a stratum scales every stratum's
rate equally, so that the area's expected total equals its observed total (as indirect standardisation against
the area's own rates requires). Their number is reported in ``attrs["unknown_stratum_referrals"]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from popheal import stats as pstats
from popheal.io.errors import InputError
from popheal.referrals._common import (
    POPULATION,
    REFERRALS,
    as_list,
    band_ages,
    breakdown_columns,
    check_population,
    check_referrals,
    select_levels,
    years_covered,
)

__all__ = ["to_indicators", "variation"]

_STRATUM_SOURCE = {"sex": "patient_sex", "age_band": "patient_age"}


def _referral_strata(referrals: pd.DataFrame, strata: Sequence[str]) -> dict[str, object]:
    """Each standardisation stratum per referral: sex from patient_sex ("U" -> missing), age band from age."""
    out: dict[str, object] = {}
    for column in strata:
        if column == "sex":
            sex = referrals["patient_sex"]
            out["sex"] = pd.Categorical(sex.where(sex.isin(["F", "M"])), categories=["F", "M"])  # "U": missing
        elif column == "age_band":
            out["age_band"] = band_ages(referrals["patient_age"])
        else:
            out[column] = referrals[column].to_numpy()
    return out


def _label_codes(values, labels: pd.Index) -> np.ndarray:
    """Position of each value in ``labels`` (compared as text; -1 when missing or not there), fast for long
    columns with few distinct values: factorise once, then look the distinct values up."""
    codes, distinct = pd.factorize(values)
    lookup = pd.Index([str(v) for v in labels]).get_indexer([str(v) for v in distinct])
    return np.where(codes >= 0, lookup[np.maximum(codes, 0)] if len(lookup) else -1, -1)


def _combined(frame: pd.DataFrame, columns: list[str], reference: pd.DataFrame | None = None):
    """Mixed-radix integer codes of ``columns``: their own distinct values (``reference`` None) or positions in
    ``reference``'s distinct values (-1 where any part is missing or unknown). Returns codes, per-column codes
    and the per-column distinct values."""
    combined = np.zeros(len(frame), dtype=np.int64)
    parts, levels = {}, {}
    for column in columns:
        if reference is None:
            codes, uniques = pd.factorize(frame[column], sort=True)
            codes = np.asarray(codes, dtype=np.int64)
        else:
            uniques = pd.Index(pd.factorize(reference[column], sort=True)[1])
            codes = _label_codes(frame[column], uniques)
        parts[column], levels[column] = codes, pd.Index(uniques)
        combined = np.where((combined < 0) | (codes < 0), -1, combined * max(len(uniques), 1) + codes)
    return combined, parts, levels


def _index(pop_codes: np.ndarray, frame: pd.DataFrame, columns: list[str]):
    """Dense index of the distinct combinations in ``pop_codes`` and a frame of their labels (sorted)."""
    uniques, first, inverse = np.unique(pop_codes, return_index=True, return_inverse=True)
    labels = frame[columns].iloc[first].reset_index(drop=True) if columns else pd.DataFrame(index=[0])
    return inverse.reshape(-1), pd.Index(uniques), labels


class _Standardisation:
    """The arrays of an indirect standardisation: units u, strata s, breakdown groups g.

    ``N[u, s]`` registered list, ``X[g, u, s]`` referrals with a known stratum, ``T[g, u]`` all referrals of
    the unit (observed), and the area reference events ``ref_x[g, s]`` and population ``ref_n[s]``.
    """

    def __init__(self, r: dict, pop: pd.DataFrame, by: list[str], brk: list[str], strata: list[str]):
        pop_units, _, _ = _combined(pop, by)
        pop_strata, pop_parts, pop_levels = _combined(pop, strata)
        unit_codes, units, self.units = _index(pop_units, pop, by)
        stratum_codes, stratum_keys, _ = _index(pop_strata, pop, strata)
        U, S = len(units), len(stratum_keys)
        self.N = np.bincount(unit_codes * S + stratum_codes, weights=pop["population"].to_numpy(float),
                             minlength=U * S).reshape(U, S)

        ref_units, _, _ = _combined(r, by, reference=pop)
        ru = units.get_indexer(ref_units)
        self.matched = ru >= 0
        ru = ru[self.matched]
        if brk:
            sub = r.loc[self.matched, brk].reset_index(drop=True)
            rg, _, _ = _combined(sub, brk)
            rg, _, self.groups = _index(rg, sub, brk)
        else:
            rg, self.groups = np.zeros(len(ru), dtype=np.int64), pd.DataFrame(index=[0])
        ref_strata, ref_parts, _ = _combined(r, strata, reference=pop)
        rs = stratum_keys.get_indexer(ref_strata[self.matched])
        G = len(self.groups)
        known = rs >= 0
        self.T = np.bincount(rg * U + ru, minlength=G * U).reshape(G, U).astype(float)
        self.X = np.bincount(((rg * U + ru) * S + rs)[known], minlength=G * U * S).reshape(G, U, S).astype(float)
        self.unknown = int((~known).sum())
        self.ref_n = self.N.sum(axis=0)
        ref_x = self.X.sum(axis=1)
        self.usable = self.ref_n > 0
        ref_x[:, ~self.usable] = 0.0
        if "sex" in strata and "age_band" in strata:
            # "U" sex with a known age band: shared between F and M in proportion to the band's known referrals.
            band_of_stratum = pop_parts["age_band"][np.unique(stratum_codes, return_index=True)[1]]
            B = len(pop_levels["age_band"])
            rb = ref_parts["age_band"][self.matched]
            shared = ~known & (ref_parts["sex"][self.matched] < 0) & (rb >= 0)
            unknown_band = np.bincount((rg * B + rb)[shared], minlength=G * B).reshape(G, B)
            known_band = ref_x @ np.eye(B)[band_of_stratum]
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(known_band > 0, (known_band + unknown_band) / known_band, 1.0)
            ref_x = ref_x * factor[:, band_of_stratum]
        # Whatever is still without a stratum scales every stratum equally: sum(expected) = sum(observed).
        allocated = ref_x.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(allocated > 0, self.T.sum(axis=1) / allocated, 1.0)
        self.ref_x = ref_x * scale[:, None]

    def long_table(self) -> pd.DataFrame:
        """The long table ``popheal.stats.isr`` standardises: group x unit x stratum rows, plus one row per
        group and unit for its referrals without a stratum (observed only, no population)."""
        G, U, S = self.X.shape
        ref_n = np.where(self.usable, self.ref_n, 1.0)  # a stratum nobody is registered in adds no expected
        cells = pd.DataFrame({
            "_g": np.repeat(np.arange(G), U * S),
            "_u": np.tile(np.repeat(np.arange(U), S), G),
            "x": self.X.reshape(-1),
            "n": np.tile(self.N.reshape(-1), G),
            "ref_x": np.repeat(self.ref_x, U, axis=0).reshape(-1),
            "ref_n": np.tile(ref_n, G * U),
        })
        keep = (cells["n"].to_numpy() > 0) | (cells["x"].to_numpy() > 0)
        rest = pd.DataFrame({
            "_g": np.repeat(np.arange(G), U),
            "_u": np.tile(np.arange(U), G),
            "x": (self.T - self.X.sum(axis=2)).reshape(-1),
            "n": 0.0, "ref_x": 0.0, "ref_n": 1.0,
        })
        return pd.concat([cells[keep], rest], ignore_index=True)


def _adjusted_labels(frame: pd.DataFrame) -> np.ndarray:
    """Funnel labels against the overdispersion-adjusted limits (FunnelPlotR's adjusted 95% / 99.8%)."""
    ratio = frame["ratio"].to_numpy(dtype=float)
    conditions = [
        ratio > frame["od_ul998"].to_numpy(dtype=float),
        ratio > frame["od_ul95"].to_numpy(dtype=float),
        ratio < frame["od_ll998"].to_numpy(dtype=float),
        ratio < frame["od_ll95"].to_numpy(dtype=float),
    ]
    labels = np.select(conditions, ["High (0.001)", "High (0.025)", "Low (0.001)", "Low (0.025)"],
                       "Not significant").astype(object)
    labels[np.isnan(ratio)] = None
    return labels


_OD_COLUMNS = ("z", "od_ll95", "od_ul95", "od_ll998", "od_ul998")


def variation(
    referrals: pd.DataFrame,
    population: pd.DataFrame,
    by: str | Sequence[str] = "practice_code",
    specialty=None,
    priority=None,
    standardise: Sequence[str] = ("sex", "age_band"),
    confidence: float | Sequence[float] = (0.95, 0.998),
    overdispersion: bool = True,
    years: float | None = None,
    method: str = "SHMI",
    trim: float = 0.1,
) -> pd.DataFrame:
    """Indirectly standardised referral ratios per practice, with funnel significance before and after
    allowing for overdispersion.

    Expected referrals come from the area's own sex x age-band referral rates (all practices in
    ``population`` pooled) applied to each practice's registered list (OHID indirect standardisation,
    PHEindicatormethods ``calculate_ISRatio`` via ``popheal.stats.isr``). Significance follows Spiegelhalter
    (2005) funnel plots; the adjusted significance follows FunnelPlotR's overdispersion method ("SHMI":
    log-scale z-scores, 10% trimmed each tail, additive tau2; ``popheal.stats.overdispersion``).

    Parameters
    ----------
    referrals : the referral extract (DESIGN.md contract); filter it first for a subset (e.g. route ==
        "referral" to leave out advice-and-guidance requests).
    population : the registered list ``practice_code, sex ("F"/"M"), age_band ("0-4" ... "90+"), population``.
    by : the unit column(s), present in both tables (default ``practice_code``).
    specialty, priority : None pools them (no such column in the result). True (or "each"/"all") gives one
        row per unit per specialty (priority), each standardised against the area's rates for that specialty;
        a name or a list keeps only those specialties, each on its own rows. Both may be given.
    standardise : the strata: ("sex", "age_band"), ("age_band",), () for crude expected (area rate x list).
    confidence : one level (0.95) or two ((0.95, 0.998)); the ratio limits ``lowercl, uppercl`` are at the
        first, and with two levels ``lower95_0cl, upper95_0cl, lower99_8cl, upper99_8cl`` are added.
    overdispersion : estimate phi/tau2 and give ``significance_adjusted`` (else that column is missing data).
    years : years of referrals for the crude rate; default whole calendar months from the first to the last
        referral date / 12.
    method, trim : FunnelPlotR's ``sr_method`` ("SHMI" or "CQC") and ``trim_by``.

    Returns
    -------
    One row per unit (x breakdown): ``by`` columns, [``specialty``, ``priority``], ``observed, expected,
    ratio, lowercl, uppercl`` [two-level limits], ``population`` (registered list), ``crude_rate_per_1000``
    (per year), ``significance``, ``significance_adjusted``, ``z, od_ll95, od_ul95, od_ll998, od_ul998`` (the
    adjusted limits each unit is judged against), ``confidence, statistic, method``. ``attrs`` holds ``phi``,
    ``tau2`` (a dict keyed by breakdown group when there is a breakdown), ``years``, ``levels``,
    ``unknown_stratum_referrals``, ``unmatched_units`` and ``unmatched_referrals`` (referrals from units not
    in the registered list: counted, listed and left out).
    """
    where = "referrals.variation"
    by_columns = as_list(by)
    strata = list(standardise)
    brk = breakdown_columns(specialty, priority)
    if not by_columns:
        raise ValueError(f"{where}: give the unit column(s) in by, e.g. 'practice_code'")
    overlap = set(strata) & set(by_columns + brk)
    if overlap:
        raise ValueError(f"{where}: {sorted(overlap)} cannot be both a unit/breakdown and a stratum")
    needed = [*by_columns, *brk, *[_STRATUM_SOURCE.get(s, s) for s in strata]]
    if years is None:
        needed.append("referral_date")
    check_referrals(referrals, list(dict.fromkeys(needed)), where)
    pop = check_population(population, by_columns, strata, where)
    if years is None:
        years = years_covered(referrals["referral_date"])
    if not (isinstance(years, (int, float)) and years > 0):
        raise ValueError(f"{where}: years must be a positive number of years, not {years!r}")

    keep = pd.Series(True, index=referrals.index)
    for column, arg in (("specialty", specialty), ("priority", priority)):
        if column in brk:
            bad = referrals[column].isna()
            if bad.any():
                raise InputError(REFERRALS, f"{column} must not be missing when results are broken down by it",
                                 column, bad[bad].index[:5])
            keep &= select_levels(referrals, column, arg)
    selected = referrals if keep.all() else referrals.loc[keep]
    r = selected[[*by_columns, *brk]].reset_index(drop=True).assign(**_referral_strata(selected, strata))

    standard = _Standardisation(r, pop, by_columns, brk, strata)
    if not standard.matched.any():
        raise InputError(REFERRALS, f"{where}: no referral comes from a unit in the {POPULATION}",
                         by_columns[0])
    unmatched = r.loc[~standard.matched, by_columns].drop_duplicates()
    result = pstats.isr(standard.long_table(), "x", "n", "ref_x", "ref_n", by=["_u", "_g"],
                        confidence=confidence, kind="ratio")
    unit = result["_u"].to_numpy()
    units = standard.units.iloc[unit].reset_index(drop=True)
    groups = standard.groups.iloc[result["_g"].to_numpy()].reset_index(drop=True)
    result = pd.concat([units, groups, result.drop(columns=["_u", "_g"])], axis=1)
    result["population"] = standard.N.sum(axis=1)[unit]
    result = result.rename(columns={"value": "ratio"})
    levels = tuple(float(t.strip().rstrip("%")) / 100 for t in str(result["confidence"].iloc[0]).split(","))
    if "lowercl" not in result.columns:  # two levels: the first level's limits are also lowercl/uppercl
        first = next(c for c in result.columns if c.startswith("lower"))
        result["lowercl"] = result[first].to_numpy()
        result["uppercl"] = result["upper" + first[len("lower"):]].to_numpy()
    result["observed"] = result["observed"].astype(np.int64)

    with np.errstate(divide="ignore", invalid="ignore"):
        result["crude_rate_per_1000"] = np.where(
            result["population"] > 0, result["observed"] / result["population"] / years * 1000, np.nan)

    sig = pstats.funnel_significance(result[["observed", "expected"]], "observed", "expected",
                                     statistic="ratio")
    result["significance"] = sig["significance"].to_numpy()
    phi = tau2 = None
    if overdispersion:
        # FunnelPlotR's phi and tau2, one estimate per breakdown group (e.g. per specialty).
        od = pstats.overdispersion(result[[*brk, "observed", "expected"]], "observed", "expected",
                                   method=method, target=1, trim=trim, by=brk or None)
        phi, tau2 = od.attrs["phi"], od.attrs["tau2"]
        for column in _OD_COLUMNS:
            result[column] = od[column].to_numpy()
        result["significance_adjusted"] = _adjusted_labels(result)
    else:
        result["significance_adjusted"] = pd.Series([None] * len(result), dtype=object)
        for column in _OD_COLUMNS:
            result[column] = np.nan

    front = [*by_columns, *brk, "observed", "expected", "ratio", "lowercl", "uppercl"]
    two_level = [c for c in result.columns if c.startswith(("lower", "upper")) and c.endswith("cl")
                 and c not in ("lowercl", "uppercl")]
    tail = ["population", "crude_rate_per_1000", "significance", "significance_adjusted", *_OD_COLUMNS,
            "confidence", "statistic", "method"]
    result = result[front + two_level + tail]
    result.attrs = {
        "phi": phi,
        "tau2": tau2,
        "years": float(years),
        "levels": levels,
        "by": by_columns,
        "breakdown": brk,
        "standardise": strata,
        "overdispersion_method": method if overdispersion else None,
        "unknown_stratum_referrals": standard.unknown,
        "unmatched_units": unmatched.to_dict("records"),
        "unmatched_referrals": int((~standard.matched).sum()),
    }
    return result


def to_indicators(
    result: pd.DataFrame,
    indicator: str = "Referrals: indirectly standardised ratio (observed / expected)",
    period: str = "",
    area_names: Mapping[str, str] | pd.Series | None = None,
    area_type: str = "practice",
) -> pd.DataFrame:
    """The DESIGN.md indicator shape from a :func:`variation` result (one row per unit and breakdown group).

    ``area_code`` is the unit code, ``area_name`` its name from ``area_names`` (the code where not given),
    ``numerator`` the observed referrals, ``denominator`` the expected, ``value`` the ratio with its limits at
    the first confidence level; ``breakdown`` names the breakdown column(s) ("all referrals" when pooled) and
    ``group`` its value.
    """
    by = result.attrs.get("by") or ["practice_code"]
    brk = result.attrs.get("breakdown") or []
    if len(by) != 1:
        raise ValueError("to_indicators: the result must have one unit column (e.g. practice_code)")
    code = result[by[0]].astype(str)
    names = pd.Series(area_names, dtype=object) if area_names is not None else pd.Series(dtype=object)
    name = code.map(names).fillna(code) if len(names) else code
    levels = result.attrs.get("levels") or (0.95,)
    confidence = f"{round(levels[0] * 100, 8):g}%"
    if brk:
        breakdown = ", ".join(brk)
        group = result[brk].astype(str).agg(", ".join, axis=1)
    else:
        breakdown, group = "all referrals", pd.Series("All referrals", index=result.index)
    out = pd.DataFrame({
        "indicator": indicator,
        "area_type": area_type,
        "area_code": code.to_numpy(),
        "area_name": name.to_numpy(),
        "period": period,
        "breakdown": breakdown,
        "group": group.to_numpy(),
        "numerator": result["observed"].to_numpy(dtype=float),
        "denominator": result["expected"].to_numpy(dtype=float),
        "value": result["ratio"].to_numpy(dtype=float),
        "lowercl": result["lowercl"].to_numpy(dtype=float),
        "uppercl": result["uppercl"].to_numpy(dtype=float),
        "confidence": confidence,
        "statistic": result["statistic"].to_numpy(),
        "method": result["method"].to_numpy(),
        "significance": result["significance"].to_numpy(),
        "significance_adjusted": result["significance_adjusted"].to_numpy(),
    }, index=pd.RangeIndex(len(result)))
    return out
