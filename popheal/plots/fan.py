"""Fan chart: an age group's projected population over the years, principal line and low-high band."""

from __future__ import annotations

import pandas as pd
from matplotlib.ticker import FuncFormatter

from popheal.io.errors import InputError
from popheal.plots.style import NHS, new_figure
from popheal.projection import scenario_range

__all__ = ["fan_chart"]


def fan_chart(
    projection: pd.DataFrame,
    ages=(65, None),
    *,
    value: str = "population",
    principal: str = "principal",
    reference: pd.DataFrame | None = None,
    reference_label: str = "ONS projection",
    label: str = "",
    title: str | None = None,
):
    """Projected population of an age range by year: the principal projection and the variants' band.

    Parameters
    ----------
    projection : either :func:`popheal.projection.project_scenarios` output for one unit (``scenario, year,
        [sex,] age (or age_band), population``), or :func:`popheal.projection.scenario_range` output
        (``year, principal, low, high``; one unit and one age range). The band spans the lowest to the
        highest variant in each year.
    ages : the age range, e.g. ``(65, None)`` = 65+ (used with scenario tables).
    reference : optional ``year, population`` (e.g. the ONS SNPP for the same ages), drawn dashed.
    label : the unit's name for the title (e.g. the PCN's).

    Returns a matplotlib Figure.
    """
    if {"principal", "low", "high", "year"} <= set(projection.columns):
        table = projection.copy()
    elif "scenario" in projection.columns:
        table = scenario_range(projection, ages, principal=principal, value=value)
    else:
        raise InputError("projection", "needs a scenario column (project_scenarios) or principal/low/high "
                         "columns (scenario_range)", column="scenario")
    extra = [c for c in table.columns if c not in ("year", "principal", "low", "high")]
    for c in extra:
        if table[c].nunique(dropna=False) > 1:
            raise InputError("projection", f"holds several {c} values: pass one unit and age range", column=c)
    ages_text = str(table["ages"].iloc[0]) if "ages" in table.columns else ""
    table = table.sort_values("year")
    fig, ax = new_figure()
    ax.fill_between(table["year"], table["low"], table["high"], color=NHS["light_blue"], alpha=0.4, linewidth=0,
                    label="Range of variants (low to high)")
    ax.plot(table["year"], table["principal"], color=NHS["blue"], linewidth=2.2, label="Principal projection")
    if reference is not None:
        ref = reference.sort_values("year")
        ax.plot(ref["year"], ref["population"], color=NHS["dark_grey"], linewidth=1.5, linestyle="--",
                label=reference_label)
    last = table.iloc[-1]
    ax.annotate(f"{5 * round(last['principal'] / 5):,.0f}", (last["year"], last["principal"]), xytext=(4, 0),
                textcoords="offset points", va="center", fontsize=9, color=NHS["blue"])
    ax.set_xlabel("Year (mid-year)")
    ax.set_ylabel(f"People aged {ages_text}" if ages_text else "People")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.grid(axis="y")
    ax.set_axisbelow(True)
    ax.legend(loc="upper left")
    name = f"{label}: " if label else ""
    span = f"{int(table['year'].min())}-{int(last['year'])}"
    what = f"aged {ages_text}" if ages_text else ""
    ax.set_title(title or f"{name}projected population {what}, {span}".replace("  ", " "))
    fig.tight_layout()
    return fig
