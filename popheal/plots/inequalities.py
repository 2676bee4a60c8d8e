"""Inequality charts: a breakdown with confidence limits, life expectancy by deprivation, excess events.

Each chart takes the aggregate tables :mod:`popheal.inequalities` returns (indicator shape or its own
columns) and returns a matplotlib Figure. Groups are named on the axis and values written beside the
points, so nothing depends on colour alone; a row with no value (suppressed, or too few events for a
standardised rate) is omitted and a note under the chart says how many.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
import matplotlib.patheffects as pe
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from popheal.plots.style import NHS, new_figure


def _hatch_colour(colour: str) -> dict:
    """``hatchcolor`` where matplotlib supports it (3.10+); older versions draw hatches in the edge colour."""
    return {"hatchcolor": colour} if _HATCHCOLOR else {}


_HATCHCOLOR = tuple(int(p) for p in matplotlib.__version__.split(".")[:2]) >= (3, 10)

__all__ = ["breakdown_chart", "excess_events_chart", "life_expectancy_chart"]

_MARKERS = ("o", "s", "D", "^", "v")
_COLOURS = (NHS["dark_blue"], NHS["pink"], NHS["aqua_green"], NHS["orange"], NHS["dark_grey"])


def _limit_columns(table: pd.DataFrame) -> tuple[str, str]:
    if {"lowercl", "uppercl"} <= set(table.columns):
        return "lowercl", "uppercl"
    lowers = sorted(c for c in table.columns if c.startswith("lower") and c.endswith("cl"))
    if not lowers:
        raise ValueError("the table needs confidence limits (lowercl/uppercl)")
    return lowers[0], "upper" + lowers[0][len("lower") :]


def _axis_label(statistic: str) -> str:
    """Readable axis text for a ``statistic`` ("dsr per 100" -> age-standardised percentage, ESP2013)."""
    text = statistic.strip()
    if text == "dsr per 100":
        return "Age-standardised percentage (ESP2013)"
    if text.startswith("dsr per "):
        per = text[len("dsr per ") :]
        per = f"{int(per):,}" if per.isdigit() else per
        return f"Age-standardised rate per {per} (ESP2013)"
    if text == "percentage":
        return "Percentage"
    return text


def _note(fig: Figure, text: str | None) -> None:
    if text:
        fig.text(0.01, 0.01, text, fontsize=7.5, color=NHS["dark_grey"], ha="left", va="bottom")


def breakdown_chart(
    table: pd.DataFrame,
    indicator: str,
    breakdown: str | None = None,
    *,
    threshold: int = 7,
    target: float | None = None,
    target_label: str = "National ambition",
    reference: str | None = "All",
    value_format: str = "{:.1f}",
    xlabel: str | None = None,
    title: str | None = None,
    source: str | None = None,
) -> Figure:
    """Dot-and-whisker chart of one indicator across the groups of one breakdown.

    Parameters
    ----------
    table : indicator shape (e.g. :func:`popheal.inequalities.deprivation_breakdown` or
        :func:`popheal.inequalities.core20plus5_measures`).
    indicator, breakdown : which rows to draw (``breakdown`` defaults to the first one that is not "All").
    threshold : groups whose numerator is from 1 to ``threshold`` are left out (disclosure control), as
        are groups without a value; the note under the chart counts them.
    target : draw a labelled dashed line at this value (e.g. the 60% SMI health-check ambition).
    reference : the group label of the whole population (drawn as a dotted line, labelled) if present.
    """
    rows = table[table["indicator"] == indicator]
    if rows.empty:
        raise ValueError(f"no rows for indicator {indicator!r}")
    if breakdown is None:
        others = [b for b in pd.unique(rows["breakdown"]) if b != "All"]
        if not others:
            raise ValueError(f"indicator {indicator!r} has no breakdown other than 'All'")
        breakdown = others[0]
    lower, upper = _limit_columns(rows)
    part = rows[rows["breakdown"] == breakdown]
    num = pd.to_numeric(part["numerator"], errors="coerce") if "numerator" in part.columns else None
    small = ((num >= 1) & (num <= threshold)).to_numpy() if num is not None else np.zeros(len(part), bool)
    value = pd.to_numeric(part["value"], errors="coerce")
    show = ~small & value.notna().to_numpy()
    shown = part[show]
    n_hidden = int((~show).sum())

    fig, ax = new_figure(7.5, 0.9 + 0.42 * max(len(part), 2))
    y = np.arange(len(shown))[::-1]
    v = pd.to_numeric(shown["value"], errors="coerce").to_numpy(dtype=float)
    lo = pd.to_numeric(shown[lower], errors="coerce").to_numpy(dtype=float)
    hi = pd.to_numeric(shown[upper], errors="coerce").to_numpy(dtype=float)
    ax.errorbar(
        v,
        y,
        xerr=[v - lo, hi - v],
        fmt="o",
        color=NHS["dark_blue"],
        ecolor=NHS["dark_grey"],
        elinewidth=1.2,
        capsize=3,
        markersize=6,
        zorder=3,
    )
    halo = [pe.withStroke(linewidth=2.5, foreground="white")]
    for yi, vi, hii in zip(y, v, hi):
        ax.annotate(
            value_format.format(vi),
            (hii, yi),
            xytext=(5, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
            color=NHS["black"],
            path_effects=halo,
        )
    ax.set_yticks(y, shown["group"].astype(str).tolist())
    ax.set_ylim(-0.7, max(len(shown) - 0.3, 0.7))
    level = str(shown["confidence"].iloc[0]).split(",")[0] if len(shown) and "confidence" in shown else "95%"
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            color=NHS["dark_grey"],
            markerfacecolor=NHS["dark_blue"],
            markeredgecolor=NHS["dark_blue"],
            label=f"Value with {level} confidence interval",
        )
    ]
    if reference is not None:
        ref = rows[(rows["breakdown"] == reference) & rows["value"].notna()]
        if len(ref) and "numerator" in ref.columns:
            ref_n = pd.to_numeric(ref["numerator"], errors="coerce")
            ref = ref[~((ref_n >= 1) & (ref_n <= threshold)).to_numpy()]
        if len(ref):
            rv = float(ref["value"].iloc[0])
            ax.axvline(rv, color=NHS["mid_grey"], linestyle=":", linewidth=1.2, zorder=1)
            handles.append(
                Line2D(
                    [], [], color=NHS["mid_grey"], linestyle=":", label=f"Everyone: {value_format.format(rv)}"
                )
            )
    if target is not None:
        ax.axvline(target, color=NHS["dark_red"], linestyle="--", linewidth=1.2, zorder=1)
        handles.append(
            Line2D(
                [],
                [],
                color=NHS["dark_red"],
                linestyle="--",
                label=f"{target_label}: {value_format.format(target)}",
            )
        )
    height = fig.get_figheight()
    bottom = (0.22 + (0.2 if n_hidden or source else 0)) / height  # room for the legend (and the note)
    fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, bottom - 0.2 / height),
        ncols=len(handles),
        fontsize=8,
    )
    statistic = str(shown["statistic"].iloc[0]) if len(shown) and "statistic" in shown.columns else ""
    ax.set_xlabel(xlabel or _axis_label(statistic))
    ax.grid(axis="x")
    ax.set_title(title or f"{indicator}: {breakdown}", loc="left")
    notes = []
    if n_hidden:
        notes.append(
            f"{n_hidden} group(s) not shown: suppressed (1-{threshold} events) or too few to calculate."
        )
    if source:
        notes.append(source)
    _note(fig, " ".join(notes))
    fig.tight_layout(rect=(0, bottom + 0.05 / height, 1, 1))
    return fig


def life_expectancy_chart(
    le: pd.DataFrame,
    by: str = "sex",
    group: str = "group",
    gaps: pd.DataFrame | None = None,
    title: str | None = "Life expectancy at birth by deprivation quintile",
    source: str | None = None,
    labels: dict | None = None,
) -> Figure:
    """Life expectancy (with confidence limits) by deprivation quintile, one marker shape per ``by`` group.

    ``le`` is :func:`popheal.inequalities.life_expectancy_by_deprivation` for one period; ``gaps`` (from
    :func:`popheal.inequalities.life_expectancy_gap`) adds the gap and SII to each series' label.
    """
    labels = labels or {"F": "Women", "M": "Men", "persons": "Persons"}
    lower, upper = _limit_columns(le)
    order = list(pd.unique(le.sort_values("imd_quintile" if "imd_quintile" in le.columns else group)[group]))
    x_of = {g: i for i, g in enumerate(order)}
    fig, ax = new_figure(7.5, 4.4)
    series = list(pd.unique(le[by])) if by in le.columns else [None]
    width = 0.12
    for i, key in enumerate(series):
        part = le if key is None else le[le[by] == key]
        x = part[group].map(x_of).to_numpy(dtype=float) + (i - (len(series) - 1) / 2) * width
        v = part["value"].to_numpy(dtype=float)
        label = labels.get(key, str(key)) if key is not None else "Life expectancy"
        if gaps is not None and key is not None and by in gaps.columns:
            gr = gaps[gaps[by] == key]
            if len(gr):
                label += f" (gap {gr['gap'].iloc[0]:.1f} y, SII {gr['sii'].iloc[0]:.1f} y)"
        ax.errorbar(
            x,
            v,
            yerr=[np.clip(v - part[lower].to_numpy(float), 0, None),
                  np.clip(part[upper].to_numpy(float) - v, 0, None)],
            fmt=_MARKERS[i % len(_MARKERS)] + "-",
            color=_COLOURS[i % len(_COLOURS)],
            capsize=3,
            markersize=6,
            linewidth=1.2,
            label=label,
        )
        ax.annotate(
            f"{v[0]:.1f}",
            (x[0], v[0]),
            xytext=(-8, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize=8,
            color=_COLOURS[i % len(_COLOURS)],
        )
        ax.annotate(
            f"{v[-1]:.1f}",
            (x[-1], v[-1]),
            xytext=(8, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=8,
            color=_COLOURS[i % len(_COLOURS)],
        )
    ax.set_xticks(range(len(order)), [str(o) for o in order])
    ax.set_xlim(-0.6, len(order) - 0.4)
    ax.set_ylabel("Life expectancy at birth (years)")
    ax.grid(axis="y")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(title, loc="left")
    _note(fig, source)
    fig.tight_layout(rect=(0, 0.04 if source else 0, 1, 1))
    return fig


def excess_events_chart(
    excess: pd.DataFrame,
    indicator: str | None = None,
    title: str | None = None,
    source: str | None = None,
    groups: Sequence[str] | None = None,
) -> Figure:
    """Bars of observed events split into expected (at the least deprived quintile's rates) and excess.

    ``excess`` is :func:`popheal.inequalities.excess_events`; the ``Total`` row is written in the title.
    """
    rows = (
        excess
        if indicator is None or "indicator" not in excess.columns
        else excess[excess["indicator"] == indicator]
    )
    per = rows[rows["group"] != "Total"]
    if groups is not None:
        per = per[per["group"].isin(groups)]
    total = rows[rows["group"] == "Total"]
    fig, ax = new_figure(7.5, 4.0)
    x = np.arange(len(per))
    expected = per["expected"].to_numpy(float)
    extra = per["excess"].to_numpy(float)
    ax.bar(
        x,
        np.minimum(expected, per["observed"].to_numpy(float)),
        color=NHS["light_blue"],
        edgecolor=NHS["dark_blue"],
        label="Expected at the least deprived quintile's rates",
    )
    ax.bar(
        x,
        np.clip(extra, 0, None),
        bottom=expected,
        color=NHS["dark_blue"],
        edgecolor=NHS["dark_blue"],
        hatch="///",
        **_hatch_colour("white"),
        label="Excess events",
    )
    for xi, top, ex in zip(x, per["observed"].to_numpy(float), extra):
        ax.annotate(
            f"{ex:+,.0f}",
            (xi, max(top, 0)),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    ax.set_xticks(x, per["group"].astype(str).tolist())
    ax.set_ylabel("Events")
    ax.set_axisbelow(True)
    ax.grid(axis="y")
    ax.legend(loc="upper right", fontsize=8)
    if title is None:
        title = f"Excess events{': ' + indicator if indicator else ''}"
        if len(total):
            t = total.iloc[0]
            title += f" (total {t['excess']:,.0f}, {t['excess_percent']:.0f}% of events)"
    ax.set_title(title, loc="left")
    _note(fig, source)
    fig.tight_layout(rect=(0, 0.04 if source else 0, 1, 1))
    return fig
