"""Crude rates with exact (below 10 events) or Byar's confidence limits (PHEindicatormethods ``phe_rate``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._confidence import build_output, format_multiplier, parse_confidence, poisson_limits, poisson_method
from ._groups import counts_by

__all__ = ["rate"]


def rate(
    df: pd.DataFrame,
    x: str,
    n: str,
    by: str | Sequence[str] | None = None,
    confidence: float | Sequence[float] = 0.95,
    multiplier: float = 100000,
) -> pd.DataFrame:
    """Crude rate x / n x multiplier with Poisson confidence limits.

    Method: exact limits from chi-square quantiles below 10 events, Byar's approximation from 10 (Breslow NE,
    Day NE. Statistical methods in cancer research vol II, IARC 1987), as PHEindicatormethods ``phe_rate``.

    Parameters
    ----------
    df : data frame holding the counts.
    x, n : names of the event and population columns; x may exceed n.
    by : grouping column(s); counts are summed within groups. Without ``by`` each row gets its own rate and
        the input's columns are kept (as PHEindicatormethods does).
    confidence : 0.95 or 95, or (0.95, 0.998).
    multiplier : rate per this many (default 100,000).

    Returns
    -------
    The ``by`` columns (or the input's columns), summed ``x`` and ``n``, ``value`` and limits,
    ``confidence``, ``statistic`` ("rate per 100000") and ``method`` ("Exact" or "Byars" per row).
    A missing count or a zero population gives missing value and limits.
    """
    levels = parse_confidence(confidence)
    leading, own, xs, ns, index = counts_by(df, x, n, by, "rate")
    valid = ns > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(valid, xs / ns, np.nan) * multiplier
        lowers, uppers = [], []
        for level in levels:
            lower, upper = poisson_limits(xs, level)
            lowers.append(np.where(valid, lower / ns, np.nan) * multiplier)
            uppers.append(np.where(valid, upper / ns, np.nan) * multiplier)
    statistic = "rate per " + format_multiplier(multiplier)
    out = build_output(leading, own, value, levels, lowers, uppers, statistic, poisson_method(xs))
    if index is not None:
        out.index = index
    return out
