"""Proportions with Wilson score confidence limits (PHEindicatormethods ``phe_proportion``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._confidence import build_output, format_multiplier, parse_confidence, wilson_lower, wilson_upper
from ._groups import counts_by

__all__ = ["proportion"]


def proportion(
    df: pd.DataFrame,
    x: str,
    n: str,
    by: str | Sequence[str] | None = None,
    confidence: float | Sequence[float] = 0.95,
    multiplier: float = 1,
) -> pd.DataFrame:
    """Proportion x / n with Wilson score confidence limits.

    Method: Wilson EB (1927) J Am Stat Assoc 22:209-212, as computed by PHEindicatormethods
    ``phe_proportion`` (Newcombe & Altman, Statistics with Confidence, 2000).

    Parameters
    ----------
    df : data frame holding the counts.
    x, n : names of the numerator and denominator columns (x <= n; x need not be a whole number).
    by : grouping column(s). With ``by`` the counts are summed within each group first; without it each row
        gets its own proportion and the input's columns are kept (as PHEindicatormethods does).
    confidence : 0.95 or 95, or (0.95, 0.998) for both sets of limits.
    multiplier : 1 for a proportion, 100 for a percentage.

    Returns
    -------
    The ``by`` columns (or the input's columns), the summed ``x`` and ``n``, ``value`` and its limits,
    ``confidence``, ``statistic`` ("proportion of 1" or "percentage") and ``method`` ("Wilson").
    A missing count or a zero denominator gives missing value and limits.
    """
    levels = parse_confidence(confidence)
    leading, own, xs, ns, index = counts_by(df, x, n, by, "proportion")
    if np.any(xs > ns):
        rows = np.flatnonzero(xs > ns)[:5].tolist()
        raise ValueError(
            f"proportion: numerator '{x}' exceeds denominator '{n}' (a proportion cannot exceed 1); "
            f"first offending rows/groups (by position): {rows}"
        )
    valid = ns > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(valid, xs / ns, np.nan) * multiplier
    lowers = [np.where(valid, wilson_lower(xs, ns, c), np.nan) * multiplier for c in levels]
    uppers = [np.where(valid, wilson_upper(xs, ns, c), np.nan) * multiplier for c in levels]
    statistic = "percentage" if multiplier == 100 else "proportion of " + format_multiplier(multiplier)
    out = build_output(leading, own, value, levels, lowers, uppers, statistic, "Wilson")
    if index is not None:
        out.index = index
    return out
