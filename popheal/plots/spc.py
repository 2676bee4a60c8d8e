"""XmR (statistical process control) charts in the NHS England "Making Data Count" style.

Drawn from ``popheal.referrals.spc`` / ``popheal.stats.xmr`` output (``month, value, mean, lpl, upl,
special_cause, rule, direction``): the monthly values as a grey line, the mean and the process limits, and the
special-cause points coloured as Making Data Count does: orange for concern, blue for improvement, purple
where special cause has no better direction (the usual case for referral counts), grey for common cause. A
small variation "icon" (a coloured disc with H or L, and its meaning in words) is drawn in the corner from
``popheal.stats.spc_icons``; no external images.

Disclosure: months with 1 to ``threshold`` referrals are not drawn as points (a gap and a note), the mean
and limits are (computed from unrounded data, DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from popheal import stats as pstats
from popheal.plots.style import NHS, new_figure

__all__ = ["POINT_COLOURS", "xmr_chart", "xmr_grid"]

#: Point colours by ``direction`` for special-cause points (Making Data Count); common cause is grey.
POINT_COLOURS = {"concern": NHS["orange"], "improvement": NHS["blue"], "neither": NHS["purple"],
                 "common": NHS["mid_grey"]}
_NEEDED = {"value", "mean", "lpl", "upl", "special_cause", "direction"}


def _check(chart: pd.DataFrame, x: str) -> None:
    missing = (_NEEDED | {x}) - set(chart.columns)
    if missing:
        raise ValueError(f"xmr chart: pass popheal.referrals.spc output (missing {sorted(missing)})")
    if chart[x].duplicated().any():
        raise ValueError(f"xmr chart: the table holds several series (repeated {x}); filter it to one first")


def _icon(ax, chart: pd.DataFrame, improvement: str | None) -> str:
    """Making Data Count variation icon for the latest point: coloured disc, H/L letter, words."""
    variation = pstats.spc_icons(chart.reset_index(drop=True), improvement=improvement)["variation"]
    kind = next((k for k in ("improvement", "concern", "neither") if k in variation), "common")
    colour = POINT_COLOURS[kind]
    letter = "H" if "(high)" in variation else "L" if "(low)" in variation else "~"
    ax.text(0.975, 0.95, letter, transform=ax.transAxes, ha="center", va="center", fontsize=8,
            fontweight="bold", color="white",
            bbox={"boxstyle": "circle,pad=0.3", "facecolor": colour, "edgecolor": colour})
    ax.text(0.93, 0.95, variation[0].upper() + variation[1:], transform=ax.transAxes, ha="right",
            va="center", fontsize=7, color=colour,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    return variation


def _draw(ax, chart: pd.DataFrame, x: str, threshold: int | None, improvement: str | None) -> int:
    """One XmR chart on ``ax``; returns the number of small-count points left out."""
    chart = chart.sort_values(x)
    xs = pd.to_datetime(chart[x]) if not pd.api.types.is_numeric_dtype(chart[x]) else chart[x]
    y = chart["value"].to_numpy(dtype=float)
    small = (y >= 1) & (y <= threshold) if threshold is not None else np.zeros(len(y), dtype=bool)
    shown = np.where(small, np.nan, y)
    ax.plot(xs, shown, color=NHS["mid_grey"], lw=1.2, zorder=2)
    ax.plot(xs, chart["mean"], color=NHS["dark_blue"], lw=1, zorder=1)
    ax.plot(xs, chart["lpl"], color=NHS["dark_grey"], lw=1, ls="--", zorder=1)
    ax.plot(xs, chart["upl"], color=NHS["dark_grey"], lw=1, ls="--", zorder=1)
    special = chart["special_cause"].to_numpy(dtype=bool)
    colours = np.where(special, chart["direction"].map(POINT_COLOURS).fillna(POINT_COLOURS["neither"]),
                       POINT_COLOURS["common"])
    keep = ~small
    ax.scatter(np.asarray(xs)[keep], y[keep], c=list(colours[keep]), s=22, zorder=3, linewidths=0)
    _icon(ax, chart, improvement)
    return int(small.sum())


def xmr_chart(
    chart: pd.DataFrame,
    *,
    x: str = "month",
    title: str | None = None,
    ylabel: str = "Referrals per month",
    improvement: str | None = None,
    threshold: int | None = 7,
):
    """One XmR chart (one practice's or PCN's monthly referrals) from ``popheal.referrals.spc`` output.

    Filter the table to one series first. ``improvement`` ("increase"/"decrease"/None) is the direction the
    chart was computed with (for the icon). Returns a matplotlib Figure.
    """
    _check(chart, x)
    fig, ax = new_figure()
    left_out = _draw(ax, chart, x, threshold, improvement)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    if title:
        ax.set_title(title, loc="left")
    note = "Mean (solid) and process limits (dashed); NHS Making Data Count rules."
    if left_out:
        note += f" {left_out} month(s) with a small count not shown."
    fig.text(0.01, 0.01, note, fontsize=7.5, color=NHS["dark_grey"])
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def xmr_grid(
    charts: pd.DataFrame,
    by: str = "practice_code",
    labels: Mapping[str, str] | pd.Series | None = None,
    *,
    units: Sequence[str] | None = None,
    x: str = "month",
    ncols: int = 2,
    ylabel: str = "Referrals per month",
    improvement: str | None = None,
    threshold: int | None = 7,
):
    """Small multiples: one XmR chart per ``by`` value (e.g. each of a PCN's practices), titled with
    ``labels`` (name) or the code. ``units`` picks and orders the series (default all, sorted)."""
    if by not in charts.columns:
        raise ValueError(f"xmr_grid: the table has no column {by!r}")
    codes = list(units) if units is not None else sorted(charts[by].astype(str).unique())
    names = pd.Series(labels, dtype=object) if labels is not None else pd.Series(dtype=object)
    nrows = max(1, int(np.ceil(len(codes) / ncols)))
    fig, axes = new_figure(width=7.5, height=2.3 * nrows + 0.4, ncols=ncols, nrows=nrows, squeeze=False,
                           sharex=True)
    left_out = 0
    for ax, code in zip(axes.ravel(), codes):
        series = charts[charts[by].astype(str) == str(code)]
        _check(series, x)
        left_out += _draw(ax, series, x, threshold, improvement)
        ax.set_title(str(names.get(code, code)) if len(names) else str(code), loc="left", fontsize=9)
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=7.5)
    for ax in axes.ravel()[len(codes):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel, fontsize=8)
    note = "Mean (solid) and process limits (dashed); NHS Making Data Count rules."
    if left_out:
        note += f" {left_out} month(s) with a small count not shown."
    fig.text(0.01, 0.005, note, fontsize=7.5, color=NHS["dark_grey"])
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    return fig
