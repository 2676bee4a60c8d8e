"""Assigning areas to quantiles (PHEindicatormethods ``phe_quantile``, the OHID ranking rule)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._groups import Grouping, numeric, require_columns

__all__ = ["quantile"]


def quantile(
    df: pd.DataFrame,
    value: str,
    by: str | Sequence[str] | None = None,
    q: int = 10,
    invert: bool = True,
) -> pd.DataFrame:
    """Add a ``quantile`` column (1..q) ranking ``value`` within each ``by`` group.

    Method: OHID Technical Guide "Assigning deprivation categories", as PHEindicatormethods
    ``phe_quantile``: rank with ties given the lowest rank, N = number of non-missing values in the group,
    quantile = floor((q + 1) - ceiling(((N + 1) - rank) / (N / q))), 0 becoming 1. With ``invert=True`` (the
    default) quantile 1 holds the highest values. Groups with fewer than q values get no quantiles, and
    missing values get none.

    Returns a copy of ``df`` (same index) with ``quantile`` appended (a nullable integer column).
    """
    require_columns(df, [value], "quantile")
    if not isinstance(q, (int, np.integer)) or isinstance(q, bool) or q < 1:
        raise ValueError("quantile: q must be a positive whole number")
    if not isinstance(invert, (bool, np.bool_)):
        raise TypeError("quantile: invert must be True or False")
    values = numeric(df, value, "quantile")
    grouping = Grouping(df, by, "quantile")
    ranked = -values if invert else values
    rank = pd.Series(ranked).groupby(grouping.codes).rank(method="min", na_option="keep").to_numpy()
    count = grouping.broadcast(grouping.count(~np.isnan(values))).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.floor((q + 1) - np.ceil(((count + 1) - rank) / (count / q)))
    result = np.where(result == 0, 1.0, result)
    result = np.where((count < q) | np.isnan(rank), np.nan, result)
    out = df.copy()
    out["quantile"] = pd.array(result, dtype="Float64").astype("Int64")
    return out
