"""Out-of-area and advice-and-guidance shares by practice (and specialty), with Wilson limits."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from popheal import stats as pstats
from popheal.io.errors import InputError, first_rows
from popheal.referrals._common import REFERRALS, as_list, check_referrals

__all__ = ["SHARES", "shares"]

#: What ``shares`` can measure: numerator rule and denominator rule, in words (for the method line).
SHARES = {
    "out_of_area": "referrals to a provider outside the area / all referrals (advice-and-guidance requests "
                   "left out of both)",
    "advice_and_guidance": "advice-and-guidance requests / all referrals and requests",
}


def _bool_column(referrals: pd.DataFrame, column: str) -> np.ndarray:
    s = referrals[column]
    if s.dtype == bool:
        return s.to_numpy()
    if isinstance(s.dtype, pd.BooleanDtype) or pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s):
        text = s.astype("string").str.strip().str.lower()
        value = text.map({"true": True, "false": False, "1": True, "0": False})
        bad = value.isna()
        if bad.any():
            raise InputError(REFERRALS, f"{column} must be True or False", column, first_rows(bad))
        return value.astype(bool).to_numpy()
    if pd.api.types.is_integer_dtype(s):
        bad = ~s.isin([0, 1])
        if bad.any():
            raise InputError(REFERRALS, f"{column} must be True or False (or 1/0)", column, first_rows(bad))
        return s.to_numpy(dtype=bool)
    raise InputError(REFERRALS, f"{column} must be True or False (it is {s.dtype})", column)


def shares(
    referrals: pd.DataFrame,
    by: str | Sequence[str] = ("practice_code",),
    what: str = "out_of_area",
    confidence: float | Sequence[float] = 0.95,
    multiplier: float = 100,
) -> pd.DataFrame:
    """Share of referrals out of area, or share of requests that are advice and guidance, per ``by`` group.

    Limits are Wilson score intervals (``popheal.stats.proportion``, as PHEindicatormethods
    ``phe_proportion``). ``significance`` compares each group with the share across all groups (the area), or
    with the share in its own breakdown group when ``by`` has more columns than the unit (e.g.
    ``("practice_code", "specialty")``: each practice against the area's share for that specialty), using
    binomial funnel limits at 95% and 99.8% (Spiegelhalter 2005; ``popheal.stats.funnel_significance``).

    Parameters
    ----------
    referrals : the referral extract (needs ``route``, and ``out_of_area`` for that share).
    by : the unit column first, then any breakdown columns (e.g. "specialty").
    what : "out_of_area" (numerator: ``out_of_area`` true; denominator: rows with route "referral", since an
        advice-and-guidance request moves no patient) or "advice_and_guidance" (numerator: route
        "advice-and-guidance"; denominator: every row).
    confidence : 0.95 or (0.95, 0.998).
    multiplier : 100 for a percentage (default), 1 for a proportion.

    Returns
    -------
    The ``by`` columns, ``numerator``, ``denominator``, ``value`` and limits, ``confidence``, ``statistic``,
    ``method`` ("Wilson"), ``measure`` (``what``) and ``significance``.
    """
    where = "referrals.shares"
    by_columns = as_list(by)
    if not by_columns:
        raise ValueError(f"{where}: give at least one by column, e.g. 'practice_code'")
    if what not in SHARES:
        raise ValueError(f"{where}: what must be one of {sorted(SHARES)}, not {what!r}")
    needed = [*by_columns, "route"] + (["out_of_area"] if what == "out_of_area" else [])
    check_referrals(referrals, list(dict.fromkeys(needed)), where)
    route = referrals["route"].astype("string")
    bad = ~route.isin(["referral", "advice-and-guidance"]).fillna(False).astype(bool)
    if bad.any():
        raise InputError(REFERRALS, 'route must be "referral" or "advice-and-guidance"', "route", first_rows(bad))
    for column in by_columns:
        bad = referrals[column].isna()
        if bad.any():
            raise InputError(REFERRALS, f"{column} must not be missing", column, first_rows(bad))
    is_referral = (route == "referral").to_numpy(dtype=bool)
    if what == "out_of_area":
        numerator = _bool_column(referrals, "out_of_area") & is_referral
        denominator = is_referral
    else:
        numerator = ~is_referral
        denominator = np.ones(len(referrals), dtype=bool)

    counts = pd.DataFrame({c: referrals[c].astype(str).to_numpy() for c in by_columns})
    counts["numerator"] = numerator.astype(np.int64)
    counts["denominator"] = denominator.astype(np.int64)
    counts = counts.groupby(by_columns, as_index=False, sort=True)[["numerator", "denominator"]].sum()
    counts = counts[counts["denominator"] > 0].reset_index(drop=True)
    result = pstats.proportion(counts, "numerator", "denominator", confidence=confidence, multiplier=multiplier)
    result["measure"] = what

    breakdown = by_columns[1:]
    groups = [result] if not breakdown else [g for _, g in result.groupby(breakdown, sort=False)]
    labels = []
    for group in groups:  # one call per breakdown group (e.g. specialty), never per practice
        sig = pstats.funnel_significance(group[["numerator", "denominator"]], "numerator", "denominator",
                                         statistic="proportion", multiplier=multiplier)
        labels.append(pd.Series(sig["significance"].to_numpy(), index=group.index))
    result["significance"] = pd.concat(labels).reindex(result.index).to_numpy()
    return result
