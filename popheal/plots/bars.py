"""Horizontal bar charts for comparing units (PCNs, practices) on one measure, drawn from a disclosed table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from popheal.plots.style import NHS, new_figure

__all__ = ["bar_chart"]


def bar_chart(table: pd.DataFrame, category: str, value: str, *, title: str, xlabel: str,
              highlight=None, reference: float | None = None, reference_label: str = "",
              value_format: str = "{:.0f}"):
    """One bar per row of ``table`` (in its order, first at the top), labelled with its value.

    Rows whose value is missing (suppressed) are left out and counted in a note under the chart;
    ``highlight`` (category values) draws those bars in NHS Blue and the rest in light blue;
    ``reference`` draws a labelled dashed line (e.g. the area's value). Returns a Figure.
    """
    values = pd.to_numeric(table[value], errors="coerce")
    shown = table[values.notna().to_numpy()]
    v = values[values.notna()].to_numpy(dtype=float)
    labels = shown[category].astype(str).to_numpy()
    fig, ax = new_figure(7.5, 0.8 + 0.4 * max(len(shown), 2))
    y = np.arange(len(shown))[::-1]
    highlight = set(highlight or [])
    colours = [NHS["blue"] if (not highlight or lab in highlight) else NHS["light_blue"] for lab in labels]
    ax.barh(y, v, color=colours, height=0.65)
    ax.set_yticks(y, labels)
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left")
    span = (np.nanmax(np.abs(v)) if len(v) else 1) or 1
    for yi, vi in zip(y, v):
        ax.text(vi + 0.01 * span * (1 if vi >= 0 else -1), yi, value_format.format(vi), va="center",
                ha="left" if vi >= 0 else "right", fontsize=9, color=NHS["black"])
    if reference is not None and np.isfinite(reference):
        ax.axvline(reference, color=NHS["dark_grey"], linestyle="--", linewidth=1)
        ax.text(reference, len(shown) - 0.4, f" {reference_label}", color=NHS["dark_grey"], fontsize=8.5, va="bottom")
    ax.axvline(0, color=NHS["dark_grey"], linewidth=0.8)
    ax.grid(axis="x")
    hidden = len(table) - len(shown)
    if hidden:
        fig.text(0.01, 0.01, f"{hidden} not shown: small numbers suppressed.", fontsize=8, color=NHS["dark_grey"])
    fig.tight_layout()
    return fig
