"""XmR statistical process control charts with the Making Data Count rules (NHSRplotthedots)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["spc_icons", "xmr"]

_LIMIT = 2.66  # 3 / d2 for moving ranges of two points
_SCREEN = 3.267  # D4: moving ranges above 3.267 x their mean are screened out
_DIRECTIONS = {None: 0, "neutral": 0, "increase": 1, "decrease": -1}


def _seven_point_one_side_mean(rtm: np.ndarray) -> np.ndarray:
    """1 where this point and the six before it are all on the same side of the mean."""
    n = len(rtm)
    out = np.zeros(n)
    if n >= 7:
        windows = np.lib.stride_tricks.sliding_window_view(rtm, 7)
        out[6:] = (np.all(windows == windows[:, -1:], axis=1) & (windows[:, -1] != 0)).astype(float)
    return out


def _part_of_seven(v: np.ndarray) -> np.ndarray:
    """1 where this point or one of the next six completes a run of seven (so the point is in the run)."""
    padded = np.concatenate([np.abs(v) == 1, np.zeros(6, dtype=bool)])
    return np.lib.stride_tricks.sliding_window_view(padded, 7).any(axis=1).astype(float)


def _seven_point_trend(y: np.ndarray) -> np.ndarray:
    """1 (-1) where this point ends seven points each strictly higher (lower) than the one before."""
    n = len(y)
    out = np.zeros(n)
    if n >= 7:
        steps = np.sign(np.diff(y))
        windows = np.lib.stride_tricks.sliding_window_view(steps, 6)
        out[6:] = np.where(np.all(windows == 1, axis=1), 1.0, np.where(np.all(windows == -1, axis=1), -1.0, 0.0))
    return out


def _two_in_three(close: np.ndarray, rtm: np.ndarray) -> np.ndarray:
    """1 where a window of three points containing this one has two or more near a limit, all on one side."""
    n = len(close)
    if n == 0:
        return np.zeros(0)
    vp = np.concatenate([[0, 0], close.astype(float), [0, 0]])
    rp = np.concatenate([[0, 0], rtm, [0, 0]])
    near = np.lib.stride_tricks.sliding_window_view(vp, 3).sum(axis=1) >= 2
    side = np.abs(np.lib.stride_tricks.sliding_window_view(rp, 3).sum(axis=1)) == 3
    hit = near & side  # window starting at padded position j covers original points j-2 .. j
    return (hit[0:n] | hit[1 : n + 1] | hit[2 : n + 2]).astype(float)


def _special_cause_type(y, rtm, close, outside) -> np.ndarray:
    trend = _part_of_seven(_seven_point_trend(y))
    two_three = (close & (np.abs(_two_in_three(close, rtm)) == 1)).astype(float)
    one_side = _part_of_seven(_seven_point_one_side_mean(rtm))
    steps = np.sign(np.diff(y))
    in_trend = trend != 0
    use_right = in_trend & np.concatenate([in_trend[1:], [False]])
    right = np.concatenate([steps, steps[-1:]]) if len(y) > 1 else np.zeros(len(y))
    left = np.concatenate([[0.0], steps])
    sdy = np.where(use_right, right, left)
    side = np.where(rtm > 0, "Above", "Below")
    return np.select(
        [outside, in_trend, two_three != 0, one_side != 0],
        [
            np.where(rtm == 1, "Above UCL", "Below LCL"),
            np.where(sdy == 1, "7 Point Trend (Increasing)", "7 Point Trend (Decreasing)"),
            np.char.add(np.char.add("2 in 3 ", side), " CL"),
            np.char.add(np.char.add("7 Points ", side), " CL"),
        ],
        default="Common Cause",
    ).astype(object)


def _high_or_low(rule: np.ndarray) -> np.ndarray:
    text = pd.Series(rule, dtype=object).fillna("")
    return np.where(
        text.str.contains("Above|Increasing"), 1, np.where(text.str.contains("Below|Decreasing"), -1, 0)
    )


def xmr(
    series,
    screen_outliers: bool = True,
    improvement: str | None = None,
    fix_after_n_points: int | None = None,
) -> pd.DataFrame:
    """An XmR (individuals) chart with the Making Data Count special-cause rules.

    Method: NHS England / NHS Improvement "Making Data Count" and its R implementation NHSRplotthedots
    (nhs-r-community): mean of the points; process limits mean -/+ 2.66 x the mean moving range, with moving
    ranges above 3.267 x their mean screened out when ``screen_outliers``; a point is special cause when it
    lies outside the limits, is part of a run of 7 increasing or decreasing points, is one of 2 (or 3) out of
    3 points beyond two sigma on the same side of the mean (inside the limits), or is part of a run of 7
    points on one side of the mean (Wheeler & Kazeef, Understanding Statistical Process Control).

    Parameters
    ----------
    series : values in time order (a Series keeps its index; no missing values).
    screen_outliers : screen large moving ranges before setting the limits (default, as NHSRplotthedots).
    improvement : "increase" or "decrease" if higher or lower values are better; None for neither.
    fix_after_n_points : compute the mean and limits from the first n points only (a baseline).

    Returns
    -------
    One row per point: ``value``, ``mean``, ``lpl``, ``upl``, ``special_cause`` (bool), ``rule`` (the rule
    that fired, in the reference's words and priority: "Above UCL", "Below LCL", "7 Point Trend
    (Increasing)", "7 Point Trend (Decreasing)", "2 in 3 Above CL", "2 in 3 Below CL", "7 Points Above CL",
    "7 Points Below CL", or "Common Cause") and ``direction`` ("improvement", "concern", or "neither" for
    common cause and for special cause when no improvement direction is given).
    """
    if improvement not in _DIRECTIONS:
        raise ValueError('xmr: improvement must be None, "increase" or "decrease"')
    index = series.index if isinstance(series, pd.Series) else None
    y = np.asarray(series, dtype=float).reshape(-1)
    if np.any(np.isnan(y)):
        raise ValueError("xmr: the series has missing values; an XmR chart needs a complete series")
    if len(y) == 0:
        raise ValueError("xmr: the series is empty")
    if fix_after_n_points is not None and not (
        isinstance(fix_after_n_points, (int, np.integer)) and fix_after_n_points >= 2
    ):
        raise ValueError("xmr: fix_after_n_points must be a whole number of 2 or more")
    base = y[:fix_after_n_points] if fix_after_n_points else y
    centre = base.mean()
    moving_range = np.abs(np.diff(base))
    with np.errstate(invalid="ignore"):
        average_range = moving_range.mean() if len(moving_range) else np.nan
        if screen_outliers and len(moving_range):
            kept = moving_range[moving_range < _SCREEN * average_range]
            average_range = kept.mean() if len(kept) else np.nan
    lpl, upl = centre - _LIMIT * average_range, centre + _LIMIT * average_range
    near_low, near_high = centre - 2 * _LIMIT / 3 * average_range, centre + 2 * _LIMIT / 3 * average_range
    outside = (y > upl) | (y < lpl)
    rtm = np.sign(y - centre)
    close = ~outside & ((y < near_low) | (y > near_high))
    rule = _special_cause_type(y, rtm, close, outside)
    special = rule != "Common Cause"
    oriented = _high_or_low(rule) * _DIRECTIONS[improvement]
    direction = np.where(
        special & (oriented > 0), "improvement", np.where(special & (oriented < 0), "concern", "neither")
    )
    out = pd.DataFrame(
        {
            "value": y,
            "mean": centre,
            "lpl": lpl,
            "upl": upl,
            "special_cause": special.astype(bool),
            "rule": rule,
            "direction": direction.astype(object),
        },
        index=index,
    )
    out.attrs["improvement"] = improvement
    return out


def spc_icons(
    series,
    improvement: str | None = None,
    target: float | None = None,
    screen_outliers: bool = True,
) -> dict[str, str | None]:
    """The Making Data Count variation and assurance icon categories for a series (or an :func:`xmr` result).

    Variation (from the latest point, as NHSRplotthedots' icons): "common cause", "special cause improvement
    (high)" / "(low)", "special cause concern (high)" / "(low)", or "special cause neither (high)" / "(low)"
    when no improvement direction is given. Assurance (needs a target and an improvement direction):
    "pass" when the process limits sit wholly on the good side of the target, "fail" when wholly on the bad
    side, "hit and miss" when the target lies between them; None otherwise.

    Returns a dict with keys "variation" and "assurance".
    """
    if isinstance(series, pd.DataFrame):
        missing = {"value", "lpl", "upl", "special_cause", "rule", "direction"} - set(series.columns)
        if missing:
            raise ValueError(f"spc_icons: pass a series or the result of xmr() (missing {sorted(missing)})")
        chart = series
        improvement = improvement if improvement is not None else chart.attrs.get("improvement")
    else:
        chart = xmr(series, screen_outliers=screen_outliers, improvement=improvement)
    if improvement not in _DIRECTIONS:
        raise ValueError('spc_icons: improvement must be None, "increase" or "decrease"')
    last = chart.iloc[-1]
    if not last["special_cause"]:
        variation = "common cause"
    else:
        height = "high" if _high_or_low(np.asarray([last["rule"]], dtype=object))[0] > 0 else "low"
        kind = last["direction"] if _DIRECTIONS[improvement] != 0 else "neither"
        variation = f"special cause {kind} ({height})"
    assurance = None
    if target is not None and _DIRECTIONS[improvement] != 0:
        good_is_high = _DIRECTIONS[improvement] > 0
        if target > last["upl"]:
            assurance = "fail" if good_is_high else "pass"
        elif target < last["lpl"]:
            assurance = "pass" if good_is_high else "fail"
        else:
            assurance = "hit and miss"
    return {"variation": variation, "assurance": assurance}
