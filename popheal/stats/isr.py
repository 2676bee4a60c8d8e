"""Indirectly standardised ratios and rates (PHEindicatormethods ``calculate_ISRatio`` / ``calculate_ISRate``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ._confidence import build_output, format_multiplier, parse_confidence, poisson_limits, poisson_method
from ._groups import Grouping, as_by, check_non_negative, numeric, require_columns
from .dsr import standard_population_by_label

__all__ = ["isr"]


def _reference(df, ref, name, age_band, function):
    """Reference counts or populations per row: a column of ``df`` or a mapping joined on the band label."""
    if isinstance(ref, str):
        require_columns(df, [ref], function)
        values = numeric(df, ref, function)
        total = None
    elif isinstance(ref, (Mapping, pd.Series)):
        series = pd.Series(ref, dtype=float)
        values, _ = standard_population_by_label(df, age_band, series, function)
        total = float(series.sum(skipna=True))
    else:
        raise TypeError(f"{function}: {name} must be a column name or a mapping from age band to value")
    check_non_negative(values, name, function)
    return values, total


def isr(
    df: pd.DataFrame,
    x: str,
    n: str,
    ref_x: str | Mapping | pd.Series,
    ref_n: str | Mapping | pd.Series,
    by: str | Sequence[str] | None = None,
    confidence: float | Sequence[float] = 0.95,
    kind: str = "ratio",
    multiplier: float = 1,
    age_band: str = "age_band",
) -> pd.DataFrame:
    """Indirectly standardised ratio (observed / expected) or rate, with Poisson limits on the observed count.

    Method: expected = sum over bands of local population x reference rate (reference events / reference
    population); limits exact (chi-square) below 10 observed events and Byar's from 10 (Breslow & Day 1987),
    as PHEindicatormethods ``calculate_ISRatio`` and ``calculate_ISRate``. The rate is ratio x overall
    reference rate x multiplier.

    Parameters
    ----------
    df : one row per age band (or other standardisation stratum) per group.
    x, n : local events and population per band; missing values count as 0.
    ref_x, ref_n : reference events and population per band: column names of ``df``, or mappings / Series
        from the ``age_band`` label to the value (joined by label).
    by : grouping column(s); one result per group.
    kind : "ratio" (statistic "indirectly standardised ratio x 1") or "rate" ("... rate per 100000").
    multiplier : 1 or 100 for ratios; e.g. 100000 for rates.
    age_band : the band column used when the references are mappings.

    Returns
    -------
    The ``by`` columns, ``observed``, ``expected``, ``value`` and limits, ``confidence``, ``statistic`` and
    ``method`` ("Exact" below 10 observed, else "Byars").
    """
    function = "isr"
    if kind not in ("ratio", "rate"):
        raise ValueError('isr: kind must be "ratio" or "rate"')
    levels = parse_confidence(confidence)
    by_columns = as_by(by)
    require_columns(df, [x, n, *by_columns], function)
    xv, nv = numeric(df, x, function), numeric(df, n, function)
    check_non_negative(xv, x, function)
    check_non_negative(nv, n, function)
    ref_xv, ref_x_total = _reference(df, ref_x, "ref_x", age_band, function)
    ref_nv, ref_n_total = _reference(df, ref_n, "ref_n", age_band, function)

    grouping = Grouping(df, by_columns, function)
    with np.errstate(divide="ignore", invalid="ignore"):
        ref_rate = np.where(np.isnan(ref_xv), 0.0, ref_xv) / ref_nv
        expected = grouping.sum(ref_rate * np.where(np.isnan(nv), 0.0, nv))
        observed = grouping.sum(xv, skipna=True)
        if kind == "ratio":
            scale = np.full(grouping.ngroups, float(multiplier))
            statistic = "indirectly standardised ratio x " + format_multiplier(multiplier)
        else:
            if ref_x_total is not None and ref_n_total is not None:
                overall = np.full(grouping.ngroups, ref_x_total / ref_n_total)
            else:
                overall = grouping.sum(ref_xv, skipna=True) / grouping.sum(ref_nv, skipna=True)
            scale = overall * multiplier
            statistic = "indirectly standardised rate per " + format_multiplier(multiplier)
        usable = np.isfinite(expected) & (expected > 0)
        value = np.where(usable, observed / expected * scale, np.nan)
        lowers, uppers = [], []
        for level in levels:
            lower, upper = poisson_limits(observed, level)
            lowers.append(np.where(usable, lower / expected * scale, np.nan))
            uppers.append(np.where(usable, upper / expected * scale, np.nan))
    own = {"observed": observed, "expected": expected}
    return build_output(grouping.keys, own, value, levels, lowers, uppers, statistic, poisson_method(observed))
