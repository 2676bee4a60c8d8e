"""Funnel plot control limits and significance (PHEindicatormethods ``calculate_funnel_limits`` and
``assign_funnel_significance``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from ._confidence import format_multiplier, poisson_limits
from ._groups import Grouping, as_by, numeric, require_columns

__all__ = ["SIGNIFICANCE_LABELS", "funnel_limits", "funnel_significance"]

#: The significance labels, from high to low.
SIGNIFICANCE_LABELS: tuple[str, ...] = (
    "High (0.001)",
    "High (0.025)",
    "Not significant",
    "Low (0.025)",
    "Low (0.001)",
)
DSR_TOO_FEW = "Not applicable for events less than 10 for dsrs"
_STATISTICS = ("proportion", "ratio", "rate")
_AXIS_POINTS = 100
_AXIS_COLUMN = {"proportion": "population", "ratio": "observed_events", "rate": "events"}


def _r_nchar(values: np.ndarray) -> np.ndarray:
    """Characters R prints for whole numbers (as.character), including its switch to e.g. "1e+05"."""
    out = []
    for v in np.asarray(values, dtype=float):
        fixed = f"{v:.0f}"
        mantissa, exponent = f"{v:.14e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        scientific = f"{mantissa}e{exponent[0]}{abs(int(exponent)):02d}"
        out.append(min(len(fixed), len(scientific)))
    return np.asarray(out, dtype=float)


def _signif_floor(x: np.ndarray, down: float = 0.95) -> np.ndarray:
    digits = _r_nchar(np.floor(x * down)) - 1
    return np.where(x == 0, 0.0, np.floor(x * down / 10**digits) * 10**digits)


def _signif_ceiling(x: np.ndarray, up: float = 1.05) -> np.ndarray:
    digits = _r_nchar(np.ceil(x * up)) - 2
    return np.where(x == 0, 0.0, np.ceil(x * up / 10**digits) * 10**digits)


def _axis(minimum: np.ndarray, maximum: np.ndarray, statistic: str) -> np.ndarray:
    """The reference's 100 axis points per funnel, closer together at small values (shape groups x 100)."""
    points = np.empty((len(minimum), _AXIS_POINTS))
    points[:, 0] = np.maximum(1, minimum)
    for j in range(2, _AXIS_POINTS + 1):
        offset = j if statistic in ("proportion", "rate") else j - 1
        previous = points[:, j - 2]
        step = np.round((maximum / previous) ** (1 / (_AXIS_POINTS + 1 - offset)) * previous)
        points[:, j - 1] = np.maximum(step, previous + 1)
    return points


def _sigma_adjustment(p: float, population, average, side: str) -> np.ndarray:
    """The proportion at which a Wilson interval of the given population just touches the average."""
    z2 = sps.norm.ppf(p) ** 2
    population = np.asarray(population, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        first = average * (population / z2 + 1)
        adj = np.sqrt(
            (-8 * average * (population / z2 + 1)) ** 2
            - 64
            * (1 / z2 + 1 / population)
            * average
            * (population * (average * (population / z2 + 2) - 1) + z2 * (average - 1))
        )
        last = 1 / z2 + 1 / population
        point = (first - adj / 8) / last if side == "low" else (first + adj / 8) / last
        return point / population


def _poisson_funnel(observed: np.ndarray, p: float, side: str) -> np.ndarray:
    """Expected count putting ``observed`` on a one-sided Poisson tail of ``p``.

    Reproduces the PHE funnel plot tool's bisection (23 halvings of v in (0, 1), expected = (1 + O)v/(1 - v)),
    vectorised over all axis points.
    """
    observed = np.asarray(observed, dtype=float)
    v = np.full(observed.shape, 0.5)
    dv = 0.5
    while dv > 1e-7:
        dv /= 2
        z = (1 + observed) * v / (1 - v)
        if side == "low":
            move_down = sps.poisson.sf(observed - 1, z) > p  # P(K >= observed)
        else:
            move_down = sps.poisson.cdf(observed, z) < p  # P(K <= observed)
        v = np.where(move_down, v - dv, v + dv)
    return (1 + observed) * v / (1 - v)


def _check_statistic(statistic, rate, rate_type, multiplier, years_of_data, function, need_years):
    if statistic not in _STATISTICS:
        raise ValueError(f'{function}: statistic must be "proportion", "ratio" or "rate"')
    if statistic == "rate":
        if rate is None or rate_type not in ("dsr", "crude"):
            raise ValueError(f'{function}: rates need the rate column and rate_type "dsr" or "crude"')
        if multiplier is None or multiplier <= 0:
            raise ValueError(f"{function}: rates need the multiplier the rate is expressed per (e.g. 100000)")
        if need_years and (years_of_data is None or years_of_data <= 0):
            raise ValueError(f"{function}: rates need years_of_data (the number of years the data cover)")


def _prepare(df, numerator, denominator, statistic, multiplier, rate, rate_type, function):
    """Numerators and the denominators the funnel uses (derived from the rate for rate funnels)."""
    require_columns(df, [numerator, denominator, rate], function)
    num = numeric(df, numerator, function)
    if np.any(num < 0):
        raise ValueError(f"{function}: numerators in '{numerator}' must be zero or more")
    den = numeric(df, denominator, function) if denominator is not None else None
    if den is not None and np.any(den < 0):
        raise ValueError(f"{function}: denominators in '{denominator}' must be zero or more")
    if statistic in ("proportion", "ratio"):
        if den is None:
            raise ValueError(f"{function}: {statistic} funnels need the denominator column")
        if statistic == "proportion" and np.any(num > den):
            rows = np.flatnonzero(num > den)[:5].tolist()
            raise ValueError(
                f"{function}: numerators must not exceed denominators for proportions; first rows: {rows}"
            )
        return num, den
    if np.any(np.isnan(num)):
        raise ValueError(f"{function}: for rates, numerators must be given for every row, even when zero")
    rates = numeric(df, rate, function)
    zero = num == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        derived = np.where(zero, np.nan, multiplier * num / rates)
    if den is not None and rate_type == "crude":
        # for crude rates, a unit with no events (or no rate) takes its population from the denominator
        derived = np.where(zero | np.isnan(rates), den, derived)
    needed = ~zero & (num >= 10) if rate_type == "dsr" else ~zero
    if np.any(np.isnan(derived) & needed):
        rows = np.flatnonzero(np.isnan(derived) & needed)[:5].tolist()
        raise ValueError(
            f"{function}: for rates, give the rate (or a denominator) for every row with events"
            f" (directly standardised rates: every row with 10 or more events); first rows: {rows}"
        )
    return num, derived


def funnel_limits(
    df: pd.DataFrame,
    numerator: str,
    denominator: str | None,
    statistic: str = "proportion",
    multiplier: float = 1,
    rate: str | None = None,
    rate_type: str | None = None,
    years_of_data: float | None = None,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Funnel plot control limits at 95% (2 sigma) and 99.8% (3 sigma) along an axis of 100 points.

    Method: Spiegelhalter DJ. Funnel plots for comparing institutional performance. Stat Med
    2005;24:1185-1202, as the PHE Fingertips funnel tool and PHEindicatormethods ``calculate_funnel_limits``:
    Wilson-based limits around the overall proportion; exact Poisson limits (the tool's bisection) for
    ratios of observed to expected events and for crude or directly standardised rates. The axis runs from
    0 (or, when the largest denominator is under twice the smallest, a rounded-down smallest) to the rounded-up
    largest denominator, with the reference's spacing.

    Parameters
    ----------
    df : one row per unit (practice, area).
    numerator : events, or observed events for ratios.
    denominator : population (proportions), expected events (ratios), or optional population for crude
        rates (used where a unit has no events).
    statistic : "proportion", "ratio" or "rate".
    multiplier : scale of the limits (100 for percentages, 100 for ratios shown x 100, the rate's "per").
    rate, rate_type, years_of_data : for rates, the rate column, "dsr" or "crude", and the years covered.
    by : grouping column(s); one funnel per group.

    Returns
    -------
    One row per axis point (and group): the ``by`` columns, the axis column (``population``,
    ``observed_events`` or ``events``), for ratios and rates the expected events / annual population on
    each limit, ``lower_2s_limit``, ``upper_2s_limit``, ``lower_3s_limit``, ``upper_3s_limit``,
    ``baseline``, ``statistic`` and ``method``. Proportion limits are kept within 0 and 1 x multiplier.
    """
    function = "funnel_limits"
    _check_statistic(statistic, rate, rate_type, multiplier, years_of_data, function, need_years=True)
    require_columns(df, as_by(by), function)
    num, den = _prepare(df, numerator, denominator, statistic, multiplier, rate, rate_type, function)
    if statistic == "proportion" and (np.any(np.isnan(num)) or np.any(np.isnan(den))):
        raise ValueError(f"{function}: for proportions, every row needs a numerator and a denominator")
    grouping = Grouping(df, by, function)
    counted = ~np.isnan(num) & ~np.isnan(den)
    with np.errstate(divide="ignore", invalid="ignore"):
        average = grouping.sum(np.where(counted, num, 0.0)) / grouping.sum(np.where(counted, den, 0.0))
    low_den, high_den = grouping.min(den), grouping.max(den)
    if statistic == "rate":
        axis_min = np.where(high_den > 2 * low_den, 0.0, _signif_floor(low_den / years_of_data) * years_of_data)
        axis_max = _signif_ceiling(high_den / years_of_data) * years_of_data
        axis_min, axis_max = np.floor(axis_min * average), np.ceil(axis_max * average)
    else:
        axis_min = np.where(high_den > 2 * low_den, 0.0, _signif_floor(low_den))
        axis_max = _signif_ceiling(high_den)
    axis = _axis(axis_min, axis_max, statistic)
    G = grouping.ngroups
    avg = np.repeat(average, _AXIS_POINTS)
    points = axis.reshape(-1)
    columns: dict[str, np.ndarray] = {_AXIS_COLUMN[statistic]: points}
    if statistic == "proportion":
        for name, p, side in (
            ("lower_2s_limit", 0.975, "low"),
            ("upper_2s_limit", 0.975, "high"),
            ("lower_3s_limit", 0.999, "low"),
            ("upper_3s_limit", 0.999, "high"),
        ):
            columns[name] = np.clip(_sigma_adjustment(p, points, avg, side), 0, 1) * multiplier
        columns["baseline"] = avg * multiplier
        method = "Wilson"
        label = "proportion"
    else:
        exp_name = "exp_events" if statistic == "ratio" else "population_1_year"
        limits = {}
        for tag, p in (("2s", 0.025), ("3s", 0.001)):
            for bound, side in (("lower", "high"), ("upper", "low")):
                expected = _poisson_funnel(points, p, side)
                if statistic == "ratio":
                    limits[f"{bound}_{tag}"] = (expected, points / expected * multiplier)
                else:
                    population = expected / avg
                    limits[f"{bound}_{tag}"] = (population / years_of_data, points / population * multiplier)
        for key in ("lower_2s", "upper_2s", "lower_3s", "upper_3s"):
            columns[f"{key}_{exp_name}"] = limits[key][0]
        for key in ("lower_2s", "upper_2s", "lower_3s", "upper_3s"):
            columns[f"{key}_limit"] = limits[key][1]
        columns["baseline"] = (np.ones_like(avg) if statistic == "ratio" else avg) * multiplier
        method = "Poisson"
        label = (
            f"ratio x {format_multiplier(multiplier)}"
            if statistic == "ratio"
            else f"rate ({rate_type} per {format_multiplier(multiplier)})"
        )
    out = grouping.keys.loc[np.repeat(np.arange(G), _AXIS_POINTS)].reset_index(drop=True)
    for name, values in columns.items():
        out[name] = values
    out["statistic"] = label
    out["method"] = method
    return out


def funnel_significance(
    df: pd.DataFrame,
    numerator: str,
    denominator: str | None,
    statistic: str = "proportion",
    multiplier: float = 1,
    rate: str | None = None,
    rate_type: str | None = None,
    years_of_data: float | None = None,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Whether each unit lies outside the 95% / 99.8% funnel limits around the average.

    Method: Spiegelhalter 2005 (see :func:`funnel_limits`), as PHEindicatormethods
    ``assign_funnel_significance``: for proportions, the unit's value against the Wilson-based limits of its
    own denominator around the overall proportion (sum of numerators / sum of denominators); for ratios
    (``numerator`` = observed, ``denominator`` = expected), 1 against the unit's exact (below 10 events) or
    Byar's limits of observed / expected; for rates, the overall rate against the unit's limits.

    Arguments as :func:`funnel_limits` (``years_of_data`` is not needed here). Returns a copy of ``df`` with
    ``significance``: "High (0.001)", "High (0.025)", "Not significant", "Low (0.025)" or "Low (0.001)";
    missing where the unit's numerator or denominator is missing or its denominator is zero; and, for
    directly standardised rates with fewer than 10 events, the reference's "Not applicable for events less
    than 10 for dsrs".
    """
    function = "funnel_significance"
    _check_statistic(statistic, rate, rate_type, multiplier, years_of_data, function, need_years=False)
    require_columns(df, as_by(by), function)
    num, den = _prepare(df, numerator, denominator, statistic, multiplier, rate, rate_type, function)
    grouping = Grouping(df, by, function)
    usable = ~np.isnan(num) & ~np.isnan(den) & (den > 0)
    labels = np.full(len(df), None, dtype=object)
    high3 = high2 = low3 = low2 = np.zeros(len(df), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        if statistic == "proportion":
            if np.any(np.isnan(num) | np.isnan(den)):
                raise ValueError(f"{function}: for proportions, every row needs a numerator and a denominator")
            average = grouping.broadcast(grouping.sum(num) / grouping.sum(den))
            value = num / den
            low3 = value < _sigma_adjustment(0.999, den, average, "low")
            low2 = value < _sigma_adjustment(0.975, den, average, "low")
            high3 = value > _sigma_adjustment(0.999, den, average, "high")
            high2 = value > _sigma_adjustment(0.975, den, average, "high")
        else:
            if statistic == "ratio":
                target = np.ones(len(df))
            else:
                target = grouping.broadcast(
                    grouping.sum(np.where(usable, num, 0.0)) / grouping.sum(np.where(usable, den, 0.0))
                )
            low95, high95 = poisson_limits(num, 0.95)
            low998, high998 = poisson_limits(num, 0.998)
            low95, low998 = np.where(num == 0, 0.0, low95), np.where(num == 0, 0.0, low998)
            high3 = target < low998 / den
            high2 = target < low95 / den
            low3 = target > high998 / den
            low2 = target > high95 / den
    labels[usable] = "Not significant"
    if statistic == "proportion":
        order = ((high2, "High (0.025)"), (high3, "High (0.001)"), (low2, "Low (0.025)"), (low3, "Low (0.001)"))
    else:
        order = ((low2, "Low (0.025)"), (low3, "Low (0.001)"), (high2, "High (0.025)"), (high3, "High (0.001)"))
    for mask, label in order:  # later assignments win, matching the reference's case_when order
        labels[usable & mask] = label
    if statistic == "rate" and rate_type == "dsr":
        labels[num < 10] = DSR_TOO_FEW
    out = df.copy()
    out["significance"] = labels
    return out
