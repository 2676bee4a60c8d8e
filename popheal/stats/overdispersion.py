"""Overdispersion of standardised ratios and adjusted funnel limits (FunnelPlotR's methods)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from ._confidence import qchisq
from ._groups import Grouping, as_by, numeric, require_columns

__all__ = ["overdispersion", "overdispersion_limits", "overdispersion_summary"]

_METHODS = ("SHMI", "CQC")
_Z95 = float(sps.norm.ppf(0.975))
_Z998 = float(sps.norm.ppf(0.999))
_LIMITS = ("ll95", "ul95", "ll998", "ul998")


def _limits(expected: np.ndarray, tau2: np.ndarray, method: str, target: float) -> dict[str, np.ndarray]:
    """Unadjusted exact Poisson limits and additive random-effects adjusted limits for a ratio.

    Where ``tau2`` is 0 (no overdispersion) the adjusted limits equal the unadjusted ones, as FunnelPlotR
    draws and flags with the unadjusted limits then.
    """
    E = np.asarray(expected, dtype=float)
    tau2 = np.broadcast_to(np.asarray(tau2, dtype=float), E.shape)
    out: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ll95"] = target * qchisq(0.025, 2 * E) / 2 / E
        out["ul95"] = target * qchisq(0.975, 2 * (E + 1)) / 2 / E
        out["ll998"] = target * qchisq(0.001, 2 * E) / 2 / E
        out["ul998"] = target * qchisq(0.999, 2 * (E + 1)) / 2 / E
        for name, z in (("95", _Z95), ("998", _Z998)):
            if method == "SHMI":
                spread = np.sqrt(1 / E + tau2)
                low, high = np.exp(-z * spread), np.exp(z * spread)
            else:
                spread = np.sqrt(1 / (4 * E) + tau2)
                low, high = np.maximum(0.0, 1 - z * spread) ** 2, (1 + z * spread) ** 2
            none = tau2 == 0
            out["od_ll" + name] = np.where(none, out["ll" + name], target * low)
            out["od_ul" + name] = np.where(none, out["ul" + name], target * high)
    return out


def overdispersion_limits(
    expected, tau2: float = 0.0, method: str = "SHMI", target: float = 1
) -> pd.DataFrame:
    """Funnel limits over an axis of expected counts, for drawing an (overdispersion-adjusted) funnel.

    ``tau2`` and ``method`` come from :func:`overdispersion` (``result.attrs["tau2"]``). Returns
    ``expected``, the unadjusted exact Poisson limits ``ll95, ul95, ll998, ul998`` (qchisq(p, 2E) / 2E and
    qchisq(1 - p, 2(E + 1)) / 2E, FunnelPlotR) and the adjusted ``od_ll95, od_ul95, od_ll998, od_ul998``.
    """
    if method not in _METHODS:
        raise ValueError('overdispersion_limits: method must be "SHMI" or "CQC"')
    expected = np.asarray(expected, dtype=float).reshape(-1)
    if np.any(~(expected > 0)):
        raise ValueError("overdispersion_limits: expected counts must be greater than zero")
    out = pd.DataFrame({"expected": expected})
    for name, values in _limits(expected, np.asarray(float(tau2)), method, target).items():
        out[name] = values
    return out


def overdispersion(
    df: pd.DataFrame,
    numerator: str,
    denominator: str,
    method: str = "SHMI",
    target: float = 1,
    trim: float = 0.1,
    group: str | None = None,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Z-scores, overdispersion and adjusted funnel limits for observed / expected ratios.

    Method: Spiegelhalter DJ. Handling over-dispersion of performance indicators. Qual Saf Health Care
    2005;14:347-51 and Funnel plots for comparing institutional performance, Stat Med 2005;24:1185-1202,
    as implemented by FunnelPlotR (nhs-r-community) for standardised ratios: z-scores on the log scale with
    10% truncation at each end ("SHMI", NHS Digital's SHMI method) or on the square-root scale with 10%
    Winsorisation ("CQC"); phi = mean squared z of the retained units; the between-unit variance tau2 by
    DerSimonian & Laird (Control Clin Trials 1986;7:177-88), zero when n x phi < n - 1; adjusted limits
    target x exp(+/- z sqrt(1/E + tau2)) (SHMI) or target x (1 +/- z sqrt(1/(4E) + tau2))^2 (CQC).

    Parameters
    ----------
    df : one row per unit, or several rows per unit named by ``group`` (summed first, as FunnelPlotR does).
    numerator, denominator : observed and expected counts.
    method : "SHMI" or "CQC".
    target : the ratio the units are compared with (1).
    trim : proportion truncated (SHMI) or Winsorised (CQC) at each end for phi.
    group : optional unit column whose rows are aggregated.
    by : optional grouping column(s); one funnel (phi, tau2) per group.

    Returns
    -------
    The input rows (or one row per ``group`` with the summed counts) with ``ratio`` (observed / expected),
    ``z``, ``ll95, ul95, ll998, ul998``, ``od_ll95, od_ul95, od_ll998, od_ul998`` and the flags
    ``outlier_95, outlier_998, od_outlier_95, od_outlier_998`` (outside the limits; missing when the ratio
    is). ``attrs["phi"]`` and ``attrs["tau2"]`` hold the dispersion ratio and tau-squared (a dict by group
    when ``by`` is given); :func:`overdispersion_summary` returns them as a table.
    """
    function = "overdispersion"
    if method not in _METHODS:
        raise ValueError('overdispersion: method must be "SHMI" or "CQC"')
    if not 0 <= trim < 0.5:
        raise ValueError("overdispersion: trim must be at least 0 and below 0.5")
    if not target > 0:
        raise ValueError("overdispersion: target must be greater than zero")
    by_columns = as_by(by)
    require_columns(df, [numerator, denominator, group, *by_columns], function)
    num, den = numeric(df, numerator, function), numeric(df, denominator, function)
    if np.any(num < 0) or np.any(den < 0):
        raise ValueError("overdispersion: observed and expected counts must be zero or more")
    if group is not None:
        units = Grouping(df, [*by_columns, group], function)
        out = units.keys.copy()
        num, den = units.sum(num), units.sum(den)
        out[numerator], out[denominator] = num, den
    else:
        out = df.copy()
    grouping = Grouping(out, by_columns, function)
    usable = (den > 0) & ~np.isnan(num)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(usable, num / den, np.nan)
        if method == "SHMI":
            z = np.sqrt(den) * (np.log(ratio) - np.log(target))
            s = 1 / np.sqrt(den)
        else:
            s = 1 / (2 * np.sqrt(den))
            z = (np.sqrt(ratio) - np.sqrt(target)) / s
    scored = usable & ~np.isnan(z)
    zs = pd.Series(np.where(scored, z, np.nan))
    if trim == 0:
        kept = zs.to_numpy()
    elif method == "SHMI":
        k = 1 / trim
        rank = zs.groupby(grouping.codes).rank(method="average").to_numpy()
        count = grouping.broadcast(grouping.count(scored))
        band = np.floor(rank * k / (count + 1))
        kept = np.where(scored & (band > 0) & (band < k - 1), z, np.nan)
    else:
        by_group = zs.groupby(grouping.codes)
        low = grouping.broadcast(by_group.quantile(trim).reindex(range(grouping.ngroups)).to_numpy())
        high = grouping.broadcast(by_group.quantile(1 - trim).reindex(range(grouping.ngroups)).to_numpy())
        kept = np.where(scored, np.clip(z, low, high), np.nan)
    used = ~np.isnan(kept)
    n_used = grouping.count(used).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = grouping.sum(np.where(used, kept, 0.0) ** 2) / n_used
        w = np.where(used, 1 / s**2, 0.0)
        sum_w = grouping.sum(w)
        tau2 = (n_used * phi - (n_used - 1)) / (sum_w - grouping.sum(w**2) / sum_w)
    tau2 = np.where((n_used * phi < n_used - 1) | ~np.isfinite(tau2), 0.0, np.maximum(0.0, tau2))

    limits = _limits(np.where(usable, den, np.nan), grouping.broadcast(tau2), method, target)
    out["ratio"] = ratio
    out["z"] = np.where(scored, z, np.nan)
    for name in (*_LIMITS, *("od_" + n for n in _LIMITS)):
        out[name] = limits[name]
    missing = np.isnan(ratio)
    for prefix in ("", "od_"):
        for level in ("95", "998"):
            outside = (ratio < limits[f"{prefix}ll{level}"]) | (ratio > limits[f"{prefix}ul{level}"])
            out[f"{prefix}outlier_{level}"] = pd.array(np.where(missing, None, outside), dtype="boolean")

    summary = grouping.keys.copy()
    summary["n"] = grouping.count(usable)
    summary["n_used"] = n_used.astype(np.int64)
    summary["phi"] = phi
    summary["tau2"] = tau2
    summary["method"] = method
    summary["trim"] = trim
    summary["target"] = target
    records = summary.to_dict("records")
    out.attrs["overdispersion"] = records
    if by_columns:
        labels = [tuple(r[c] for c in by_columns) if len(by_columns) > 1 else r[by_columns[0]] for r in records]
        out.attrs["phi"] = dict(zip(labels, phi.tolist()))
        out.attrs["tau2"] = dict(zip(labels, tau2.tolist()))
    else:
        out.attrs["phi"] = float(phi[0])
        out.attrs["tau2"] = float(tau2[0])
    out.attrs["method"] = method
    return out


def overdispersion_summary(result: pd.DataFrame) -> pd.DataFrame:
    """The dispersion summary of an :func:`overdispersion` result: one row per funnel with ``n`` (units
    scored), ``n_used`` (after truncation / Winsorisation), ``phi``, ``tau2``, ``method``, ``trim``, ``target``.
    """
    records = result.attrs.get("overdispersion")
    if records is None:
        raise ValueError("overdispersion_summary: pass the data frame returned by overdispersion()")
    return pd.DataFrame(records)
