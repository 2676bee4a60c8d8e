"""Means with Student's t confidence limits (PHEindicatormethods ``phe_mean``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from ._confidence import build_output, parse_confidence
from ._groups import Grouping, numeric, require_columns

__all__ = ["mean"]


def mean(
    df: pd.DataFrame,
    value: str,
    by: str | Sequence[str] | None = None,
    confidence: float | Sequence[float] = 0.95,
) -> pd.DataFrame:
    """Mean of ``value`` with limits mean -/+ t(n - 1) x sd / sqrt(n).

    Method: Student's t-distribution (Student 1908, Biometrika 6:1-25), as PHEindicatormethods ``phe_mean``.
    Without ``by`` all rows form one group.

    Returns the ``by`` columns, ``value_sum``, ``value_count``, ``stdev`` (sample standard deviation),
    ``value`` and its limits, ``confidence``, ``statistic`` ("mean") and ``method``. As in the reference,
    a missing value makes its group's results missing (drop missing rows first to ignore them); a group of
    one value has no limits.
    """
    levels = parse_confidence(confidence)
    require_columns(df, [value], "mean")
    values = numeric(df, value, "mean")
    grouping = Grouping(df, by, "mean")
    total = grouping.sum(values)
    count = grouping.count().astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        average = total / count
        deviations = values - grouping.broadcast(average)
        stdev = np.sqrt(grouping.sum(deviations**2) / (count - 1))
        se = stdev / np.sqrt(count)
        lowers, uppers = [], []
        for level in levels:
            t = np.abs(sps.t.ppf((1 - level) / 2, np.where(count > 1, count - 1, np.nan)))
            lowers.append(average - t * se)
            uppers.append(average + t * se)
    own = {"value_sum": total, "value_count": count.astype(np.int64), "stdev": stdev}
    return build_output(
        grouping.keys, own, average, levels, lowers, uppers, "mean", "Student's t-distribution"
    )
