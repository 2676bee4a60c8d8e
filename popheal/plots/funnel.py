"""Funnel plots (Spiegelhalter 2005) for ratios, proportions and rates, drawn from aggregate results.

- :func:`ratio_funnel`: a :func:`popheal.referrals.variation` result; 95% and 99.8% exact Poisson limits around
  a ratio of 1 against the expected count, and FunnelPlotR's overdispersion-adjusted 99.8% (and 95%) limits
  when overdispersion was found (tau2 > 0), from ``popheal.stats.overdispersion_limits``.
- :func:`proportion_funnel`: a :func:`popheal.referrals.shares` result; Wilson-based limits around the
  overall share (``popheal.stats.funnel_limits``, PHEindicatormethods' method).
- :func:`rate_funnel`: an :func:`popheal.referrals.activity_rates` table; Poisson limits around the overall rate.

Disclosure (DESIGN.md): only the ``highlight`` units (the PCN's own practices) are labelled, with their name
or code so that a practice can find itself; every other unit is an unlabelled grey point. Units whose count is
1 to ``threshold`` are left out and the number left out is noted under the chart.

References: Spiegelhalter DJ. Funnel plots for comparing institutional performance. Stat Med
2005;24:1185-1202; FunnelPlotR (nhs-r-community) for the overdispersion adjustment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from popheal import stats as pstats
from popheal.plots.style import NHS, new_figure

__all__ = ["proportion_funnel", "rate_funnel", "ratio_funnel"]

_OTHER = NHS["mid_grey"]
_OWN = NHS["blue"]
_LIMIT95 = NHS["dark_grey"]
_LIMIT998 = NHS["black"]
_ADJUSTED = NHS["orange"]


def _small(counts: pd.Series, threshold: int | None) -> np.ndarray:
    """Counts 1..threshold (left out of charts, as DESIGN.md's disclosure rules)."""
    if threshold is None:
        return np.zeros(len(counts), dtype=bool)
    c = pd.to_numeric(counts, errors="coerce").to_numpy(dtype=float)
    return (c >= 1) & (c <= threshold)


def _points(ax, x, y, codes: pd.Series, highlight: Iterable[str] | None,
            labels: Mapping[str, str] | pd.Series | None) -> int:
    """Grey unlabelled points for other units; blue labelled points for the highlighted ones."""
    codes = codes.astype(str).to_numpy()
    own = np.isin(codes, [str(h) for h in highlight]) if highlight is not None else np.ones(len(codes), bool)
    ax.scatter(x[~own], y[~own], s=18, color=_OTHER, alpha=0.7, linewidths=0, zorder=3)
    ax.scatter(x[own], y[own], s=42, color=_OWN, edgecolors="white", linewidths=0.8, zorder=4)
    names = pd.Series(labels, dtype=object) if labels is not None else pd.Series(dtype=object)
    for code, xi, yi in zip(codes[own], x[own], y[own]):
        text = str(names.get(code, code)) if len(names) else code
        ax.annotate(text, (xi, yi), xytext=(5, 4), textcoords="offset points", fontsize=7.5,
                    color=NHS["dark_blue"], zorder=5)
    return int(own.sum())


def _legend(ax, adjusted: bool, n_own: int, n_other: int, own_label: str,
            other_label: str = "Other practices (unnamed)") -> None:
    handles = [Line2D([], [], color=_LIMIT95, ls="--", lw=1, label="95% limits"),
               Line2D([], [], color=_LIMIT998, ls="-", lw=1, label="99.8% limits")]
    if adjusted:
        handles.append(Line2D([], [], color=_ADJUSTED, ls="-", lw=1.5,
                              label="99.8% limits allowing for overdispersion"))
    if n_own:
        handles.append(Line2D([], [], color=_OWN, marker="o", ls="", label=own_label))
    if n_other:
        handles.append(Line2D([], [], color=_OTHER, marker="o", ls="", label=other_label))
    ax.legend(handles=handles, fontsize=8, loc="best")


def _note(fig, left_out: int, extra: str = "") -> None:
    parts = [extra] if extra else []
    if left_out:
        parts.append(f"{left_out} unit(s) with a small count not shown.")
    if parts:
        fig.text(0.01, 0.01, " ".join(parts), fontsize=7.5, color=NHS["dark_grey"])


def _frame(ax, x: np.ndarray, curves: list[tuple[np.ndarray, np.ndarray]], points_y: np.ndarray) -> None:
    """Show the units' range of denominators (from half the smallest) and the limits over it, not the
    limits' spike towards a denominator of zero."""
    left, right = 0.5 * float(np.nanmin(x)), 1.15 * float(np.nanmax(x))
    ys = [points_y[np.isfinite(points_y)]]
    for cx, cy in curves:
        cx, cy = np.asarray(cx, dtype=float), np.asarray(cy, dtype=float)
        inside = (cx >= left) & (cx <= right) & np.isfinite(cy)
        ys.append(cy[inside])
    values = np.concatenate(ys)
    if len(values):
        low, high = float(values.min()), float(values.max())
        pad = 0.06 * (high - low or abs(high) or 1.0)
        ax.set_ylim(max(low - pad, 0.0), high + pad)
    ax.set_xlim(left, right)


def _one_group(result: pd.DataFrame, columns: list[str]):
    """The breakdown group a result holds (it must hold one)."""
    present = [c for c in columns if c in result.columns]
    if not present:
        return None
    groups = result[present].drop_duplicates()
    if len(groups) > 1:
        raise ValueError(f"the result holds several {', '.join(present)} groups: filter it to one first")
    values = tuple(groups.iloc[0])
    return values[0] if len(values) == 1 else values


def ratio_funnel(
    result: pd.DataFrame,
    highlight: Iterable[str] | None = (),
    labels: Mapping[str, str] | pd.Series | None = None,
    *,
    title: str | None = None,
    threshold: int | None = 7,
    own_label: str = "This PCN's practices",
    xlabel: str = "Expected referrals",
    ylabel: str = "Referral ratio (observed / expected)",
):
    """Funnel plot of standardised referral ratios against expected referrals.

    Parameters
    ----------
    result : a :func:`popheal.referrals.variation` result, one breakdown group (filter a specialty first).
    highlight : codes of the units to label (the PCN's own practices); None labels every unit (use only when
        every unit may be named, e.g. PCNs in the area overview).
    labels : code -> label (practice name); the code is used where missing.
    threshold : units with 1..threshold observed referrals are left out (None keeps all).

    Returns a matplotlib Figure.
    """
    missing = {"observed", "expected", "ratio"} - set(result.columns)
    if missing:
        raise ValueError(f"ratio_funnel: pass a referrals.variation result (missing {sorted(missing)})")
    by = (result.attrs.get("by") or ["practice_code"])[0]
    group = _one_group(result, list(result.attrs.get("breakdown") or []))
    tau2 = result.attrs.get("tau2")
    if isinstance(tau2, Mapping):
        tau2 = tau2.get(group)
    method = result.attrs.get("overdispersion_method") or "SHMI"
    small = _small(result["observed"], threshold)
    shown = result[~small & (result["expected"] > 0) & result["ratio"].notna()]

    fig, ax = new_figure()
    if len(shown):
        low, high = shown["expected"].min(), shown["expected"].max()
        grid = np.geomspace(max(low * 0.8, 0.5), high * 1.15, 200)
        limits = pstats.overdispersion_limits(grid, tau2=float(tau2 or 0.0), method=method)
        for name, style, colour in (("95", "--", _LIMIT95), ("998", "-", _LIMIT998)):
            ax.plot(grid, limits["ll" + name], ls=style, color=colour, lw=1)
            ax.plot(grid, limits["ul" + name], ls=style, color=colour, lw=1)
        adjusted = bool(tau2 and tau2 > 0)
        if adjusted:
            ax.plot(grid, limits["od_ll998"], color=_ADJUSTED, lw=1.5)
            ax.plot(grid, limits["od_ul998"], color=_ADJUSTED, lw=1.5)
            ax.plot(grid, limits["od_ll95"], color=_ADJUSTED, lw=1, ls="--", alpha=0.8)
            ax.plot(grid, limits["od_ul95"], color=_ADJUSTED, lw=1, ls="--", alpha=0.8)
        ax.axhline(1, color=NHS["dark_blue"], lw=1)
        n_own = _points(ax, shown["expected"].to_numpy(float), shown["ratio"].to_numpy(float), shown[by],
                        highlight, labels)
        _legend(ax, adjusted, n_own, len(shown) - n_own, own_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    elif group is not None:
        ax.set_title(f"Referral ratios: {group if isinstance(group, str) else ', '.join(map(str, group))}")
    _note(fig, int(small.sum()))
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def proportion_funnel(
    result: pd.DataFrame,
    highlight: Iterable[str] | None = (),
    labels: Mapping[str, str] | pd.Series | None = None,
    *,
    unit: str = "practice_code",
    multiplier: float = 100,
    title: str | None = None,
    threshold: int | None = 7,
    own_label: str = "This PCN's practices",
    xlabel: str = "Referrals",
    ylabel: str = "Share of referrals (%)",
):
    """Funnel plot of shares (e.g. out-of-area referrals) against their denominators.

    ``result`` is a :func:`popheal.referrals.shares` result for one breakdown group (columns ``numerator,
    denominator, value``, ``value`` at ``multiplier``); limits are ``popheal.stats.funnel_limits`` with
    ``statistic="proportion"``. Units with 1..threshold in the numerator are left out.
    """
    missing = {unit, "numerator", "denominator", "value"} - set(result.columns)
    if missing:
        raise ValueError(f"proportion_funnel: pass a referrals.shares result (missing {sorted(missing)})")
    _one_group(result, ["specialty", "priority"])
    small = _small(result["numerator"], threshold)
    fig, ax = new_figure()
    usable = result[result["denominator"] > 0]
    shown = usable[~_small(usable["numerator"], threshold)]
    n_own = 0
    if len(usable):
        limits = pstats.funnel_limits(usable, "numerator", "denominator", statistic="proportion",
                                      multiplier=multiplier)
        x = limits["population"].to_numpy(dtype=float)
        curves = []
        for name, style, colour in (("2s", "--", _LIMIT95), ("3s", "-", _LIMIT998)):
            for bound in ("lower", "upper"):
                ax.plot(x, limits[f"{bound}_{name}_limit"], ls=style, color=colour, lw=1)
                curves.append((x, limits[f"{bound}_{name}_limit"]))
        ax.axhline(float(limits["baseline"].iloc[0]), color=NHS["dark_blue"], lw=1)
        n_own = _points(ax, shown["denominator"].to_numpy(float), shown["value"].to_numpy(float), shown[unit],
                        highlight, labels)
        _frame(ax, usable["denominator"].to_numpy(float), curves, shown["value"].to_numpy(float))
    _legend(ax, False, n_own, len(shown) - n_own, own_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    _note(fig, int(small.sum()))
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def rate_funnel(
    table: pd.DataFrame,
    highlight: Iterable[str] | None = None,
    labels: Mapping[str, str] | pd.Series | None = None,
    *,
    multiplier: float = 1000,
    title: str | None = None,
    threshold: int | None = 7,
    own_label: str = "PCNs",
    xlabel: str = "Registered patients",
    ylabel: str = "Rate per 1,000 registered patients",
):
    """Funnel plot of crude rates (e.g. social prescribing referrals per 1,000 patients per PCN).

    ``table`` is an :func:`popheal.referrals.activity_rates` table for one group (``area_code, numerator,
    denominator, value`` at ``multiplier``); limits are ``popheal.stats.funnel_limits`` with
    ``statistic="rate"``, crude rates over the table's period. By default every unit is labelled with its
    ``area_name`` (PCNs in the area overview may be named).
    """
    missing = {"area_code", "numerator", "denominator", "value"} - set(table.columns)
    if missing:
        raise ValueError(f"rate_funnel: pass an activity_rates table (missing {sorted(missing)})")
    _one_group(table, ["group"])
    if labels is None and "area_name" in table.columns:
        labels = pd.Series(table["area_name"].to_numpy(), index=table["area_code"].astype(str).to_numpy())
    small = _small(table["numerator"], threshold)
    fig, ax = new_figure()
    # PHE's axis starts near the smallest unit when all units are of similar size, so the lower limits would
    # begin to the right of the smallest units; an anchor row of one person at exactly the average rate
    # (average unchanged) makes the reference draw its limits from zero.
    average = table["numerator"].sum() / table["denominator"].sum()
    anchor = pd.DataFrame({"numerator": [average], "denominator": [1.0], "value": [average * multiplier]})
    limits = pstats.funnel_limits(pd.concat([table[["numerator", "denominator", "value"]], anchor]),
                                  "numerator", "denominator", statistic="rate", multiplier=multiplier,
                                  rate="value", rate_type="crude", years_of_data=1)
    curves = []
    for bound, tag, style, colour in (("lower", "2s", "--", _LIMIT95), ("upper", "2s", "--", _LIMIT95),
                                      ("lower", "3s", "-", _LIMIT998), ("upper", "3s", "-", _LIMIT998)):
        cx, cy = limits[f"{bound}_{tag}_population_1_year"], limits[f"{bound}_{tag}_limit"]
        ax.plot(cx, cy, ls=style, color=colour, lw=1)
        curves.append((cx, cy))
    ax.axhline(float(limits["baseline"].iloc[0]), color=NHS["dark_blue"], lw=1)
    shown = table[~small]
    n_own = _points(ax, shown["denominator"].to_numpy(float), shown["value"].to_numpy(float),
                    shown["area_code"], highlight, labels)
    _legend(ax, False, n_own, len(shown) - n_own, own_label, other_label="Other PCNs (unnamed)")
    _frame(ax, table["denominator"].to_numpy(float), curves, shown["value"].to_numpy(float))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    _note(fig, int(small.sum()))
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig
