"""Risk charts, drawn from aggregate (disclosure-controlled) tables only, never from patient rows.

- :func:`plot_risk_pyramid`: the Kaiser Permanente-style pyramid of risk tiers (area-proportional triangle);
- :func:`plot_segments_by_practice`: Bridges to Health segments (Lynn 2007) per practice, 100% stacked bars;
- :func:`plot_frailty_by_practice`: eFI categories (Clegg 2016) of people 65+ per practice;
- :func:`plot_calibration`: observed vs predicted risk by decile with the line of perfect calibration
  (Van Calster 2016);
- :func:`plot_drivers`: odds-ratio forest plot of the admission model's coefficients;
- :func:`plot_high_risk_by_deprivation`: share of patients in the high-risk tiers per IMD quintile.

Inputs are the tables of ``popheal.risk`` (``pyramid_counts``, ``segment_counts``, ``frailty_counts``,
``ModelReport.calibration``, ``AdmissionModel.coefficients``, ``high_risk_by_deprivation``) after
``popheal.disclosure``: a suppressed count arrives missing and is left out of the chart with a note.
Every function returns a matplotlib Figure.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.patches import Polygon

from popheal.plots.style import NHS, new_figure
from popheal.risk.segments import SEGMENT_RULES

__all__ = [
    "plot_calibration",
    "plot_drivers",
    "plot_frailty_by_practice",
    "plot_high_risk_by_deprivation",
    "plot_risk_pyramid",
    "plot_segments_by_practice",
]

#: Tier colours, highest risk first (NHS dark red -> pale blue).
TIER_COLOURS = (NHS["dark_red"], NHS["orange"], NHS["bright_blue"], NHS["light_blue"])
#: Segment colours in precedence order (End of life ... Healthy).
SEGMENT_COLOURS = (NHS["purple"], NHS["dark_pink"], NHS["red"], NHS["orange"], NHS["blue"], NHS["aqua_green"],
                   NHS["light_blue"], NHS["pale_grey"])
#: eFI category colours, fit -> severe.
FRAILTY_COLOURS = (NHS["light_green"], NHS["warm_yellow"], NHS["orange"], NHS["dark_red"])


def _need(table: pd.DataFrame, columns, where: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{where}: the table needs column(s) {missing} (the popheal.risk aggregate)")


def _note(fig, text: str) -> None:
    if text:
        fig.text(0.01, 0.01, text, fontsize=8, color=NHS["dark_grey"], ha="left", va="bottom")


def _suppressed_note(n: int) -> str:
    return f"{n} value{'s' if n != 1 else ''} suppressed (small numbers) and not shown." if n else ""


def plot_risk_pyramid(counts: pd.DataFrame, title: str = "Risk pyramid: patients by predicted risk tier"):
    """Risk pyramid from ``pyramid_counts(tier)`` (one area or practice: ``tier, patients[, share]``).

    The triangle is cut so that each band's area is proportional to the tier's patients (band edges at the
    square root of the cumulative share from the apex), with the tier label and count beside each band.
    """
    _need(counts, ["tier", "patients"], "plot_risk_pyramid")
    if len(counts["tier"]) != counts["tier"].nunique():
        raise ValueError("plot_risk_pyramid: one row per tier expected (filter a 'by' table to one group first)")
    tiers = counts["tier"].astype(str).tolist()
    n = pd.to_numeric(counts["patients"], errors="coerce").to_numpy(dtype=float)
    fig, ax = new_figure(7.5, 4.6)
    known = np.where(np.isnan(n), 0, n)
    total = known.sum()
    cum = np.cumsum(known) / total if total > 0 else np.linspace(0, 1, len(n) + 1)[1:]
    edges = np.concatenate([[0.0], np.sqrt(np.clip(cum, 0, 1))])
    edges[-1] = 1.0
    for i, tier in enumerate(tiers):
        t0, t1 = edges[i], edges[i + 1]
        # apex at (0, 1); depth t from the apex; half-width at depth t is t
        poly = Polygon([(-t0, 1 - t0), (t0, 1 - t0), (t1, 1 - t1), (-t1, 1 - t1)], closed=True,
                       facecolor=TIER_COLOURS[i % len(TIER_COLOURS)], edgecolor="white", linewidth=1.5)
        ax.add_patch(poly)
        mid = 1 - (t0 + t1) / 2
        shown = "suppressed" if np.isnan(n[i]) else f"{int(n[i]):,} patients"
        share = "" if np.isnan(n[i]) or total == 0 else f" ({100 * n[i] / total:.1f}%)"
        ax.annotate(f"{tier}: {shown}{share}", xy=((t0 + t1) / 2, mid), xytext=(1.08, mid), fontsize=10,
                    va="center", color=NHS["black"],
                    arrowprops={"arrowstyle": "-", "color": NHS["mid_grey"], "lw": 0.8})
    ax.set_xlim(-1.05, 2.6)
    ax.set_ylim(-0.02, 1.05)
    ax.set_aspect("auto")
    ax.axis("off")
    ax.set_title(title, loc="left")
    _note(fig, "Band areas are proportional to the number of patients. " + _suppressed_note(int(np.isnan(n).sum())))
    return fig


def _stacked_by_practice(table: pd.DataFrame, category: str, levels, colours, title: str, xlabel: str,
                         group: str = "practice_code"):
    _need(table, [group, category, "patients"], title)
    wide = table.pivot_table(index=group, columns=category, values="patients", aggfunc="sum", dropna=False,
                             observed=False)
    wide = wide.reindex(columns=levels)
    suppressed = int(table["patients"].isna().sum())
    totals = wide.sum(axis=1, min_count=1)
    share = wide.div(totals, axis=0) * 100
    share = share.sort_index(ascending=False)
    height = max(3.2, 0.35 * len(share) + 2.2)
    fig, ax = new_figure(7.5, height)
    left = np.zeros(len(share))
    for level, colour in zip(levels, colours, strict=False):
        values = share[level].fillna(0).to_numpy()
        ax.barh(share.index.astype(str), values, left=left, color=colour, label=str(level), edgecolor="white",
                linewidth=0.5)
        left += values
    ax.set_xlim(0, 100)
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left")
    ncols = min(4, len(levels))
    rows = -(-len(levels) // ncols)
    fig.legend(*ax.get_legend_handles_labels(), ncols=ncols, loc="lower center", fontsize=8,
               bbox_to_anchor=(0.5, 0.04))
    bottom = (0.28 * rows + 0.35) / fig.get_figheight()
    fig.tight_layout(rect=(0, bottom, 1, 1))
    _note(fig, _suppressed_note(suppressed))
    return fig


def plot_segments_by_practice(counts: pd.DataFrame, title: str = "Population segments by practice"):
    """100% stacked bars of Bridges to Health segments per practice, from ``segment_counts(segment, by=...)``
    (``practice_code, segment, patients``); segments in precedence order, most severe first."""
    levels = list(counts["segment"].cat.categories) if isinstance(counts["segment"].dtype, pd.CategoricalDtype) \
        else list(dict.fromkeys(counts["segment"]))
    order = [s for s in SEGMENT_RULES["segment"] if s in levels] or levels
    return _stacked_by_practice(counts, "segment", order, SEGMENT_COLOURS, title, "% of registered patients")


def plot_frailty_by_practice(counts: pd.DataFrame, title: str = "Frailty (eFI) of people aged 65+ by practice"):
    """100% stacked bars of eFI categories (fit, mild, moderate, severe) per practice, from
    ``frailty_counts(efi, by=...)`` (``practice_code, efi_category, patients``)."""
    levels = ["fit", "mild", "moderate", "severe"]
    return _stacked_by_practice(counts, "efi_category", levels, FRAILTY_COLOURS, title, "% of people aged 65+")


def plot_calibration(calibration: pd.DataFrame, title: str = "Calibration: observed vs predicted admission risk"):
    """Observed vs mean predicted risk per decile (``ModelReport.calibration``: ``mean_predicted,
    observed_rate`` and optional ``lowercl, uppercl``), with the diagonal of perfect calibration."""
    _need(calibration, ["mean_predicted", "observed_rate"], "plot_calibration")
    x = pd.to_numeric(calibration["mean_predicted"], errors="coerce").to_numpy(dtype=float) * 100
    y = pd.to_numeric(calibration["observed_rate"], errors="coerce").to_numpy(dtype=float) * 100
    ok = ~np.isnan(x) & ~np.isnan(y)
    fig, ax = new_figure(5.6, 5.0)
    top = float(np.nanmax(np.concatenate([x[ok], y[ok], [1.0]]))) * 1.1
    ax.plot([0, top], [0, top], linestyle="--", color=NHS["mid_grey"], linewidth=1, label="perfect calibration")
    if {"lowercl", "uppercl"} <= set(calibration.columns):
        lo = pd.to_numeric(calibration["lowercl"], errors="coerce").to_numpy(dtype=float) * 100
        hi = pd.to_numeric(calibration["uppercl"], errors="coerce").to_numpy(dtype=float) * 100
        ax.errorbar(x[ok], y[ok], yerr=[np.clip(y[ok] - lo[ok], 0, None), np.clip(hi[ok] - y[ok], 0, None)],
                    fmt="none", ecolor=NHS["blue"], elinewidth=1, capsize=2)
    ax.plot(x[ok], y[ok], "o", color=NHS["blue"], markersize=6, label="decile of predicted risk")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("Mean predicted risk (%)")
    ax.set_ylabel("Observed admissions (%)")
    ax.set_title(title, loc="left")
    ax.grid(True)
    ax.legend(loc="upper left", fontsize=8)
    _note(fig, _suppressed_note(int((~ok).sum())))
    return fig


def plot_drivers(coefficients: pd.DataFrame, title: str = "What drives predicted risk: odds ratios (95% CI)",
                 max_terms: int = 25):
    """Forest plot of odds ratios with their confidence limits (``AdmissionModel.coefficients()``: ``label,
    odds_ratio, or_lowercl, or_uppercl`` and optional ``reference``), intercept and non-estimable rows left out,
    the ``max_terms`` largest effects shown, ordered by odds ratio. Reference groups are listed under the chart."""
    _need(coefficients, ["label", "odds_ratio", "or_lowercl", "or_uppercl"], "plot_drivers")
    table = coefficients[coefficients["label"] != "intercept"].dropna(subset=["odds_ratio"]).copy()
    table["_size"] = np.abs(np.log(table["odds_ratio"]))
    table = table.nlargest(max_terms, "_size").sort_values("odds_ratio")
    labels = [textwrap.shorten(lab, 56, placeholder="...") for lab in table["label"].astype(str)]
    references = []
    if "reference" in table.columns:
        references = [r[3:] for r in dict.fromkeys(table["reference"].astype(str))
                      if r.startswith("vs ") and not r.startswith("vs no ")]
    height = max(3.0, 0.26 * len(table) + 1.6)
    fig, ax = new_figure(7.5, height)
    pos = np.arange(len(table))
    orr = table["odds_ratio"].to_numpy(dtype=float)
    lo, hi = table["or_lowercl"].to_numpy(dtype=float), table["or_uppercl"].to_numpy(dtype=float)
    colours = [NHS["dark_red"] if v > 1 else NHS["blue"] for v in orr]
    ax.hlines(pos, lo, hi, color=colours, linewidth=1.5)
    ax.scatter(orr, pos, color=colours, zorder=3, s=25)
    ax.axvline(1, color=NHS["mid_grey"], linestyle="--", linewidth=1)
    ax.set_xscale("log")
    ticks = [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32]
    finite = np.concatenate([lo[np.isfinite(lo)], hi[np.isfinite(hi)], [0.8, 1.25]])
    left, right = max(finite.min() / 1.2, 0.05), min(finite.max() * 1.2, 64)
    ax.set_xlim(left, right)
    ax.xaxis.set_major_locator(ticker.FixedLocator([t for t in ticks if left <= t <= right]))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_yticks(pos, labels, fontsize=8)
    ax.set_xlabel("Odds ratio (log scale; 1 = no effect)")
    fig.suptitle(title, x=0.01, ha="left", fontsize=11, fontweight="bold")
    ax.grid(True, axis="x")
    note = ("Compared with: " + "; ".join(references) + ".") if references else ""
    fig.tight_layout(rect=(0, 0.35 / height if note else 0, 1, 1))
    _note(fig, textwrap.shorten(note, 160, placeholder="..."))
    return fig


def plot_high_risk_by_deprivation(table: pd.DataFrame,
                                  title: str = "Patients in the high-risk tiers by deprivation quintile"):
    """Share (%) of patients in the high-risk tiers per IMD quintile, with 95% limits when given
    (``high_risk_by_deprivation``: ``imd_quintile, share[, lowercl, uppercl]``); most deprived in NHS purple."""
    _need(table, ["imd_quintile", "share"], "plot_high_risk_by_deprivation")
    if "patients" in table.columns:  # a level nobody is in (often "unknown") is not drawn
        table = table[pd.to_numeric(table["patients"], errors="coerce").fillna(1) > 0]
    share = pd.to_numeric(table["share"], errors="coerce").to_numpy(dtype=float) * 100
    labels = table["imd_quintile"].astype(str).tolist()
    fig, ax = new_figure(7.0, 4.2)
    ok = ~np.isnan(share)
    palette = [NHS["purple"], NHS["dark_pink"], NHS["mid_grey"], NHS["aqua_green"], NHS["dark_green"],
               NHS["pale_grey"]]
    colours = [palette[i] if i < len(palette) else NHS["pale_grey"] for i in range(len(labels))]
    xs = np.arange(len(labels))
    ax.bar(xs[ok], share[ok], color=[c for c, k in zip(colours, ok, strict=True) if k], edgecolor=NHS["dark_grey"],
           linewidth=0.5)
    if {"lowercl", "uppercl"} <= set(table.columns):
        lo = pd.to_numeric(table["lowercl"], errors="coerce").to_numpy(dtype=float) * 100
        hi = pd.to_numeric(table["uppercl"], errors="coerce").to_numpy(dtype=float) * 100
        good = ok & ~np.isnan(lo) & ~np.isnan(hi)
        # shares are recomputed from rounded counts (disclosure control), limits from unrounded ones: clip at 0
        below, above = np.clip(share[good] - lo[good], 0, None), np.clip(hi[good] - share[good], 0, None)
        ax.errorbar(xs[good], share[good], yerr=[below, above], fmt="none", ecolor=NHS["black"], elinewidth=1,
                    capsize=3)
    ax.set_xticks(xs, [lab.replace(" (", "\n(") for lab in labels], fontsize=8)
    ax.set_xlabel("IMD 2019 quintile of the LSOA of residence")
    ax.set_ylabel("% of patients in the high-risk tiers")
    ax.set_title(title, loc="left")
    ax.grid(True, axis="y")
    note = _suppressed_note(int((~ok).sum()))
    fig.tight_layout(rect=(0, 0.06 if note else 0, 1, 1))
    _note(fig, note)
    return fig
