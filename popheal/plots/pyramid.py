"""Population pyramid: a PCN's age/sex structure in two years against the area's shape (outline).

Drawn from aggregate projection tables (``year, sex, age or age_band, population``), as percentages of each
year's total so that a PCN and its much larger area compare on one scale.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from popheal.io.errors import InputError
from popheal.plots.style import NHS, new_figure
from popheal.projection import AGE_BANDS, to_age_band

__all__ = ["pyramid_chart"]

_MALE, _FEMALE, _PERSONS = NHS["blue"], NHS["light_blue"], NHS["blue"]
_OUTLINE = NHS["black"]


def _percent_by_band(table: pd.DataFrame, year: int, value: str, name: str) -> pd.DataFrame:
    """sex x age band percentages of the year's total (both sexes together sum to 100)."""
    part = table[table["year"] == year]
    if part.empty:
        raise InputError(name, f"has no rows for year {year}", column="year")
    if "age_band" not in part.columns:
        part = part.assign(age_band=to_age_band(pd.to_numeric(part["age"]).astype(int)))
    sums = part.groupby(["sex", "age_band"])[value].sum()
    total = sums.sum()
    pct = (100.0 * sums / total if total > 0 else sums * 0.0).unstack("sex").reindex(AGE_BANDS).fillna(0.0)
    return pct


def _sex_columns(pct: pd.DataFrame) -> tuple[str | None, str | None, str | None]:
    cols = [str(c) for c in pct.columns]
    male = next((c for c in cols if c.lower() in ("m", "male", "males")), None)
    female = next((c for c in cols if c.lower() in ("f", "female", "females")), None)
    persons = cols[0] if (male is None and female is None and cols) else None
    return male, female, persons


def _check_one_unit(table: pd.DataFrame, name: str, value: str) -> pd.DataFrame:
    if value not in table.columns or "year" not in table.columns or "sex" not in table.columns:
        raise InputError(name, f"needs year, sex, age (or age_band) and {value} columns", column=value)
    ids = [c for c in table.columns if c not in ("year", "sex", "age", "age_band") and
           not pd.api.types.is_numeric_dtype(table[c])]
    for c in ids:
        if table[c].nunique(dropna=False) > 1:
            raise InputError(name, f"holds several {c} values: pass one unit (filter first)", column=c)
    return table.assign(sex=table["sex"].astype(str))


def pyramid_chart(
    pcn: pd.DataFrame,
    area: pd.DataFrame | None = None,
    years=None,
    *,
    value: str = "population",
    pcn_label: str = "PCN",
    area_label: str = "Area",
    title: str | None = None,
):
    """Population pyramid of one PCN (bars) in each of ``years`` with the area's shape as an outline.

    Parameters
    ----------
    pcn, area : aggregate tables ``year, sex (F/M or persons), age (0..90) or age_band, population`` for
        one PCN and for its area (e.g. :func:`popheal.projection.project_pcn` output filtered to a PCN, and
        the area projection). Single years are grouped into 5-year bands (0-4 ... 85-89, 90+).
    years : the years to draw side by side (default: the first year and 2041, or the last year).
    value : the population column (e.g. ``apportioned_population``).

    Bars are each year's percentage of that year's total (males left, females right; a persons table is
    drawn to the right only), so that the PCN and the area compare by shape, not size. A persons area
    outline against a sexed PCN puts half of each band's persons share on each side. Returns a Figure.
    """
    pcn = _check_one_unit(pcn, "pcn", value)
    area = _check_one_unit(area, "area", "population" if "population" in area.columns else value) \
        if area is not None else None
    available = sorted(set(pcn["year"].astype(int)))
    if years is None:
        years = [available[0], 2041 if 2041 in available else available[-1]]
        years = list(dict.fromkeys(years))
    years = [int(y) for y in years]
    fig, axes = new_figure(width=4.0 * len(years) + 0.6, height=4.8, ncols=len(years), sharey=True,
                           squeeze=False)
    axes = axes[0]
    y = np.arange(len(AGE_BANDS))
    limit = 0.0
    drew_area = False
    for ax, year in zip(axes, years):
        pct = _percent_by_band(pcn, year, value, "pcn")
        male, female, persons = _sex_columns(pct)
        if persons is not None:
            ax.barh(y, pct[persons], height=0.85, color=_PERSONS, label=f"Persons ({pcn_label})")
            limit = max(limit, pct[persons].max())
        else:
            if male is not None:
                ax.barh(y, -pct[male], height=0.85, color=_MALE)
                limit = max(limit, pct[male].max())
            if female is not None:
                ax.barh(y, pct[female], height=0.85, color=_FEMALE)
                limit = max(limit, pct[female].max())
        if area is not None and year in set(area["year"].astype(int)):
            apct = _percent_by_band(area, year, "population" if "population" in area.columns else value, "area")
            a_male, a_female, a_persons = _sex_columns(apct)
            sides = []
            if a_persons is not None and (male is not None or female is not None):
                # a persons area against a sexed PCN: half the persons share on each side
                sides = [(-apct[a_persons] / 2.0), apct[a_persons] / 2.0]
            elif a_persons is not None:
                sides = [apct[a_persons]]
            else:
                sides = [s for s in ((-apct[a_male]) if a_male else None,
                                     apct[a_female] if a_female else None) if s is not None]
            for side in sides:
                xs = np.repeat(side.to_numpy(float), 2)
                ys = np.column_stack([y - 0.5, y + 0.5]).ravel()
                ax.plot(xs, ys, color=_OUTLINE, linewidth=1.3)
                limit = max(limit, float(np.abs(side).max()))
            drew_area = True
        ax.axvline(0, color=NHS["dark_grey"], linewidth=0.6)
        ax.set_title(str(year))
        ax.set_xlabel("% of total population")
        ax.grid(axis="x")
        ax.set_axisbelow(True)
    limit = float(np.ceil(limit * 1.1 + 0.01))
    for ax in axes:
        ax.set_xlim(-limit if not _only_persons(pcn) else 0, limit)
        ticks = ax.get_xticks()
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{abs(t):g}" for t in ticks])
        ax.set_xlim(-limit if not _only_persons(pcn) else 0, limit)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels(AGE_BANDS)
    axes[0].set_ylabel("Age (years)")
    handles = []
    if _only_persons(pcn):
        handles.append(Patch(color=_PERSONS, label=f"{pcn_label}, persons"))
    else:
        handles += [Patch(color=_MALE, label=f"{pcn_label}, males (left)"),
                    Patch(color=_FEMALE, label=f"{pcn_label}, females (right)")]
    if drew_area:
        handles.append(Line2D([0], [0], color=_OUTLINE, linewidth=1.3, label=f"{area_label} (outline)"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), bbox_to_anchor=(0.5, 0.0))
    what = "age" if _only_persons(pcn) else "age and sex"
    fig.suptitle(title or f"{pcn_label}: population by {what}, {' and '.join(map(str, years))}",
                 fontweight="bold")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def _only_persons(table: pd.DataFrame) -> bool:
    kinds = {s.lower() for s in table["sex"].astype(str)}
    return not kinds & {"m", "f", "male", "female", "males", "females"}
