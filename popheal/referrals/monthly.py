"""Monthly referral counts (complete, zero-filled series) and their XmR charts (NHS Making Data Count)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from popheal import stats as pstats
from popheal.referrals._common import as_list, check_referrals

__all__ = ["monthly_counts", "spc"]


def _month(value, where: str) -> pd.Period:
    try:
        return pd.Period(pd.Timestamp(value), freq="M")
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: {value!r} is not a date or month (e.g. '2019-04')") from error


def monthly_counts(
    referrals: pd.DataFrame,
    by: str | Sequence[str] | None = "practice_code",
    start=None,
    end=None,
    units: Sequence | pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Referrals per calendar month for each ``by`` group, every month present (zero when there were none).

    Parameters
    ----------
    referrals : the referral extract (``referral_date`` and the ``by`` columns); filter it first for a
        specialty or route.
    by : the grouping column(s); None for one area-wide series. For a PCN series add ``pcn_code`` to the
        extract from the practice map and pass ``by="pcn_code"``.
    start, end : the first and last month (dates or "YYYY-MM"); default the extract's first and last month.
        Referrals outside them are left out.
    units : groups to include even with no referral at all (codes for one ``by`` column, or a frame of the
        ``by`` columns).

    Returns
    -------
    The ``by`` columns, ``month`` (timestamp of the month's first day) and ``referrals`` (int), sorted.
    """
    where = "referrals.monthly_counts"
    by_columns = as_list(by)
    check_referrals(referrals, [*by_columns, "referral_date"], where)
    dates = pd.to_datetime(referrals["referral_date"])
    months = (dates.dt.year * 12 + dates.dt.month - 1).to_numpy(dtype=np.int64)  # months since year 0
    first = _month(start, where) if start is not None else pd.Period(dates.min(), freq="M")
    last = _month(end, where) if end is not None else pd.Period(dates.max(), freq="M")
    if last < first:
        raise ValueError(f"{where}: end ({last}) is before start ({first})")
    span = pd.period_range(first, last, freq="M")
    offset = months - (first.year * 12 + first.month - 1)
    inside = (offset >= 0) & (offset < len(span))
    frame = referrals.loc[inside, by_columns].reset_index(drop=True).assign(_m=offset[inside])
    counts = frame.groupby([*by_columns, "_m"], as_index=False).size()

    if by_columns:
        groups = frame[by_columns].drop_duplicates()
        if units is not None:
            extra = (units if isinstance(units, pd.DataFrame)
                     else pd.DataFrame({by_columns[0]: list(units)}))[by_columns].astype(str)
            groups = pd.concat([groups, extra]).drop_duplicates()
        grid = groups.merge(pd.DataFrame({"_m": np.arange(len(span))}), how="cross")
    else:
        grid = pd.DataFrame({"_m": np.arange(len(span))})
    out = grid.merge(counts, on=[*by_columns, "_m"], how="left")
    out["referrals"] = out["size"].fillna(0).astype(np.int64)
    out["month"] = span.to_timestamp()[out["_m"].to_numpy()]
    out = out.sort_values([*by_columns, "month"]).reset_index(drop=True)
    return out[[*by_columns, "month", "referrals"]]


def spc(
    monthly: pd.DataFrame,
    by: str | Sequence[str] | None = "practice_code",
    value: str = "referrals",
    improvement: str | None = None,
    screen_outliers: bool = True,
) -> pd.DataFrame:
    """XmR (individuals) chart statistics for each series of a :func:`monthly_counts` table.

    Each series goes through ``popheal.stats.xmr`` (NHS England Making Data Count rules as in
    NHSRplotthedots: a point beyond the process limits, a run of 7 on one side of the mean, a trend of 7,
    2 of 3 beyond 2 sigma; moving ranges above 3.267 x mean range screened out by default). For referrals
    ``improvement`` is usually None: neither more nor fewer referrals is by itself better.

    Returns the ``by`` columns, ``month`` and the xmr columns (``value, mean, lpl, upl, special_cause, rule,
    direction``).
    """
    by_columns = as_list(by)
    if "month" not in monthly.columns or value not in monthly.columns:
        raise ValueError(f"referrals.spc: the table needs 'month' and '{value}' (from monthly_counts)")
    ordered = monthly.sort_values([*by_columns, "month"]).reset_index(drop=True)
    groups = [((), ordered)] if not by_columns else ordered.groupby(by_columns, sort=True)
    parts = []
    for key, series in groups:  # xmr takes one series: one call per practice/PCN series
        chart = pstats.xmr(series[value].reset_index(drop=True), screen_outliers=screen_outliers,
                           improvement=improvement)
        chart = chart.reset_index(drop=True)
        head = series[[*by_columns, "month"]].reset_index(drop=True)
        parts.append(pd.concat([head, chart.drop(columns=[c for c in head.columns if c in chart.columns])],
                               axis=1))
    return pd.concat(parts, ignore_index=True)
