"""Choropleth maps by LSOA: national deprivation decile and outcome rates, with practices and PCN boundaries.

Maps are drawn in British National Grid (EPSG:27700); any other CRS is reprojected first. They are meant to
be read on paper and by people with colour-vision deficiency: colours come from colour-blind-safe ColorBrewer
scales (PRGn for deprivation, Blues for rates; Brewer & Harrower, colorbrewer2.org), every class is named in
the legend, and the categories that matter most do not rely on colour alone (Core20 LSOAs hatched ``///``,
the least deprived 20% dotted, suppressed LSOAs grey with ``xxx`` hatching, the PCN boundary a thick line).

Disclosure: ``rate_map`` suppresses an LSOA whose numerator is from 1 to the threshold (DESIGN.md
"Disclosure control": counts 1-7 suppressed by default, zero shown); those LSOAs are drawn grey and hatched
and the legend says so. Practices of other PCNs may be shown as unlabelled points only.

PCN boundaries (:func:`pcn_boundaries`): by default the union (dissolve) of the LSOAs assigned to each PCN,
one PCN per LSOA (e.g. the PCN with most registered patients living there); or, with ``method="hull"``,
the convex hull of all LSOAs where a PCN's patients live (these overlap between neighbouring PCNs).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import geopandas as gpd
import matplotlib
import matplotlib.patheffects as pe
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from popheal.plots.style import DIVERGING, NHS, SEQUENTIAL_BLUES, new_figure


def _hatch_colour(colour: str) -> dict:
    """``hatchcolor`` where matplotlib supports it (3.10+); older versions draw hatches in the edge colour."""
    return {"hatchcolor": colour} if _HATCHCOLOR else {}


_HATCHCOLOR = tuple(int(p) for p in matplotlib.__version__.split(".")[:2]) >= (3, 10)

__all__ = [
    "BNG",
    "DECILE_LEGEND_TITLE",
    "decile_colours",
    "deprivation_map",
    "pcn_boundaries",
    "practice_points",
    "rate_map",
    "to_british_national_grid",
]

#: British National Grid.
BNG = "EPSG:27700"
DECILE_LEGEND_TITLE = "IMD 2019 national decile\n1 = most deprived 10% in England"
_SUPPRESSED_FACE = "#BDBDBD"
_NO_DATA_FACE = "#FFFFFF"
_CORE20_HATCH = "///"
_LEAST_HATCH = "..."
_SUPPRESSED_HATCH = "xxx"


def decile_colours() -> list[str]:
    """Ten colours for deciles 1..10 from the colour-blind-safe diverging PRGn scale (1 = dark purple)."""
    cmap = colormaps[DIVERGING]
    return [_hex(cmap(x)) for x in np.linspace(0.02, 0.98, 10)]


def _hex(rgba) -> str:
    red, green, blue = (round(float(c) * 255) for c in rgba[:3])
    return f"#{red:02x}{green:02x}{blue:02x}"


def to_british_national_grid(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoDataFrame:
    """Return ``gdf`` in British National Grid (EPSG:27700); a layer without a CRS is an error."""
    if not isinstance(gdf, (gpd.GeoDataFrame, gpd.GeoSeries)):
        raise TypeError(f"expected a GeoDataFrame, got {type(gdf).__name__}")
    if gdf.crs is None:
        raise ValueError(
            "the layer has no coordinate reference system: set it (e.g. gdf.set_crs(4326)) first"
        )
    return gdf if gdf.crs.to_epsg() == 27700 else gdf.to_crs(BNG)


def pcn_boundaries(
    lsoas: gpd.GeoDataFrame,
    assignment: pd.DataFrame,
    method: str = "dissolve",
    lsoa: str = "lsoa11",
    pcn: str = "pcn_code",
) -> gpd.GeoDataFrame:
    """PCN outlines from LSOA polygons.

    Parameters
    ----------
    lsoas : GeoDataFrame with ``lsoa11`` and polygons.
    assignment : ``lsoa11, pcn_code`` (+ optional ``pcn_name``). With ``method="dissolve"`` each LSOA must
        be assigned to one PCN (e.g. the PCN with the most registered patients living in it); the outline is
        the union of its LSOAs. With ``method="hull"`` an LSOA may appear under several PCNs (every LSOA where
        the PCN's patients live) and the outline is the convex hull of those LSOAs.

    Returns
    -------
    GeoDataFrame ``pcn_code, [pcn_name], n_lsoas, geometry`` in British National Grid.
    """
    if method not in ("dissolve", "hull"):
        raise ValueError('method must be "dissolve" or "hull"')
    for column in (lsoa, pcn):
        if column not in assignment.columns:
            raise ValueError(f"the PCN assignment needs a '{column}' column")
    if lsoa not in lsoas.columns:
        raise ValueError(f"the LSOA layer needs a '{lsoa}' column")
    if method == "dissolve":
        dup = assignment[lsoa].duplicated(keep=False)
        if dup.any():
            raise ValueError(
                "each LSOA must be assigned to one PCN for method='dissolve' (use method='hull' for "
                f"overlapping catchments); repeated: {list(assignment.loc[dup, lsoa].unique()[:5])}"
            )
    layer = to_british_national_grid(lsoas)[[lsoa, "geometry"]]
    # published generalised boundaries are often slightly invalid (rounded coordinates): repair, then union
    # on a 1 m grid so shared edges meet exactly and no slivers remain inside a PCN
    layer = layer.set_geometry(layer.geometry.make_valid())
    extra = [c for c in ("pcn_name",) if c in assignment.columns]
    joined = layer.merge(assignment[[lsoa, pcn, *extra]], on=lsoa, how="inner")
    grouped = joined.dissolve(by=[pcn, *extra], aggfunc={lsoa: "count"}, as_index=False, grid_size=1.0)
    grouped = grouped.rename(columns={lsoa: "n_lsoas"})
    if method == "hull":
        grouped["geometry"] = grouped.geometry.convex_hull
    return gpd.GeoDataFrame(grouped[[pcn, *extra, "n_lsoas", "geometry"]], geometry="geometry", crs=BNG)


def practice_points(
    practices: pd.DataFrame | gpd.GeoDataFrame, code: str = "practice_code"
) -> gpd.GeoDataFrame:
    """Practice locations as points in British National Grid.

    Accepts a GeoDataFrame (any CRS), or a table with ``longitude``/``latitude`` (WGS84; ``Longitude``,
    ``lon``, ``lat`` also recognised) or ``easting``/``northing`` (British National Grid). Rows without
    coordinates are dropped.
    """
    if isinstance(practices, gpd.GeoDataFrame):
        return to_british_national_grid(practices)
    cols = {c.lower(): c for c in practices.columns}
    for xname, yname, crs in (
        ("longitude", "latitude", "EPSG:4326"),
        ("lon", "lat", "EPSG:4326"),
        ("easting", "northing", BNG),
    ):
        if xname in cols and yname in cols:
            x = pd.to_numeric(practices[cols[xname]], errors="coerce")
            y = pd.to_numeric(practices[cols[yname]], errors="coerce")
            ok = (x.notna() & y.notna()).to_numpy()
            pts = gpd.GeoDataFrame(practices[ok].copy(), geometry=gpd.points_from_xy(x[ok], y[ok]), crs=crs)
            return to_british_national_grid(pts)
    raise ValueError("practice locations need a geometry, longitude/latitude or easting/northing columns")


def _draw_context(
    ax,
    fig: Figure,
    handles: list,
    practices,
    label_practices,
    practice_code: str,
    boundaries,
    highlight_pcn,
    pcn: str,
) -> None:
    """Draw PCN outlines and practices on ``ax`` and add their legend entries to ``handles``."""
    if boundaries is not None:
        b = to_british_national_grid(boundaries)
        b.boundary.plot(ax=ax, color=NHS["dark_grey"], linewidth=0.9, linestyle="--")
        if highlight_pcn is not None and pcn in b.columns:
            own = b[b[pcn] == highlight_pcn]
            own.boundary.plot(ax=ax, color=NHS["black"], linewidth=2.4)
            handles.append(Line2D([], [], color=NHS["black"], linewidth=2.4, label="This PCN's boundary"))
            if len(b) > len(own):
                handles.append(
                    Line2D(
                        [],
                        [],
                        color=NHS["dark_grey"],
                        linewidth=0.9,
                        linestyle="--",
                        label="Other PCN boundaries",
                    )
                )
        else:
            handles.append(
                Line2D([], [], color=NHS["dark_grey"], linewidth=0.9, linestyle="--", label="PCN boundary")
            )
    if practices is None:
        return
    pts = practice_points(practices, code=practice_code)
    own_codes = set(label_practices or ())
    is_own = (
        pts[practice_code].isin(own_codes).to_numpy()
        if practice_code in pts.columns
        else np.zeros(len(pts), bool)
    )
    others = pts[~is_own]
    mine = pts[is_own]
    if len(others):
        others.plot(
            ax=ax,
            marker="o",
            markersize=18,
            facecolor="white",
            edgecolor=NHS["black"],
            linewidth=0.9,
            zorder=4,
        )
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="none",
                markerfacecolor="white",
                markeredgecolor=NHS["black"],
                markersize=5,
                label="Other practices" if len(mine) else "GP practice",
            )
        )
    if len(mine):
        mine.plot(
            ax=ax,
            marker="^",
            markersize=80,
            color=NHS["warm_yellow"],
            edgecolor=NHS["black"],
            linewidth=1.0,
            zorder=5,
        )
        halo = [pe.withStroke(linewidth=2.5, foreground="white")]
        for geom, text in zip(mine.geometry, mine[practice_code].astype(str)):
            ax.annotate(
                text,
                (geom.x, geom.y),
                xytext=(4, 4),
                textcoords="offset points",
                fontsize=7.5,
                color=NHS["black"],
                path_effects=halo,
                zorder=6,
            )
        handles.append(
            Line2D(
                [],
                [],
                marker="^",
                linestyle="none",
                markerfacecolor=NHS["warm_yellow"],
                markeredgecolor=NHS["black"],
                markersize=8,
                label="Practices in this PCN (labelled)",
            )
        )


def _finish(
    fig: Figure, ax, handles: list, legend_title: str, title: str | None, source: str | None
) -> Figure:
    ax.set_axis_off()
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, loc="left")
    fig.legend(
        handles=handles,
        title=legend_title,
        loc="center left",
        bbox_to_anchor=(0.72, 0.5),
        fontsize=8,
        title_fontsize=8.5,
        alignment="left",
        handlelength=1.8,
        handleheight=1.2,
        borderaxespad=0.0,
    )
    if source:
        fig.text(0.01, 0.01, source, fontsize=7, color=NHS["dark_grey"], ha="left", va="bottom", wrap=True)
    fig.subplots_adjust(left=0.01, right=0.68, top=0.93, bottom=0.06)
    return fig


def deprivation_map(
    lsoas: gpd.GeoDataFrame,
    imd: pd.DataFrame | None = None,
    *,
    decile: str = "imd_decile",
    lsoa: str = "lsoa11",
    practices: pd.DataFrame | gpd.GeoDataFrame | None = None,
    label_practices: Iterable[str] | None = None,
    practice_code: str = "practice_code",
    boundaries: gpd.GeoDataFrame | None = None,
    highlight_pcn: str | None = None,
    pcn: str = "pcn_code",
    title: str | None = "Deprivation by LSOA (IMD 2019, national deciles)",
    source: str | None = "Source: MHCLG English Indices of Deprivation 2019; ONS LSOA 2011 boundaries (OGL).",
    figsize: tuple[float, float] = (8.5, 6.5),
) -> Figure:
    """Choropleth of national IMD 2019 decile by LSOA.

    Parameters
    ----------
    lsoas : GeoDataFrame with ``lsoa11`` (any CRS; drawn in British National Grid) and, unless ``imd`` is
        given, the ``imd_decile`` column.
    imd : the normalised IoD table (``lsoa11, imd_decile``) to join; LSOAs without a decile are drawn white
        and listed as "No IMD decile".
    practices, label_practices : practice locations (see :func:`practice_points`); only the codes in
        ``label_practices`` (the PCN's own practices) are labelled, other practices are unlabelled circles.
    boundaries, highlight_pcn : PCN outlines (:func:`pcn_boundaries`); the highlighted PCN is drawn thick.

    Returns
    -------
    matplotlib Figure. Deciles use the PRGn scale (1 = dark purple, 10 = dark green); Core20 LSOAs (deciles
    1-2) are also hatched and the least deprived 20% (9-10) dotted, so the map reads in greyscale.
    """
    layer = to_british_national_grid(lsoas)
    if imd is not None:
        layer = layer.drop(columns=[decile], errors="ignore").merge(imd[[lsoa, decile]], on=lsoa, how="left")
    if decile not in layer.columns:
        raise ValueError(f"the LSOA layer needs '{decile}' (or pass imd=)")
    d = pd.to_numeric(layer[decile], errors="coerce")
    colours = decile_colours()
    fig, ax = new_figure(*figsize)
    handles: list = []
    for k in range(1, 11):
        part = layer[(d == k).to_numpy()]
        hatch = _CORE20_HATCH if k <= 2 else (_LEAST_HATCH if k >= 9 else None)
        if len(part):
            part.plot(
                ax=ax,
                facecolor=colours[k - 1],
                edgecolor="white",
                linewidth=0.3,
                hatch=hatch,
                **_hatch_colour("white"),
            )
        text = {1: "1 most deprived", 10: "10 least deprived"}.get(k, str(k))
        if k <= 2:
            text += " (Core20)"
        handles.append(
            Patch(
                facecolor=colours[k - 1],
                edgecolor=NHS["dark_grey"],
                linewidth=0.4,
                hatch=hatch,
                **_hatch_colour("white"),
                label=text,
            )
        )
    missing = layer[d.isna().to_numpy()]
    if len(missing):
        missing.plot(ax=ax, facecolor=_NO_DATA_FACE, edgecolor=NHS["mid_grey"], linewidth=0.4)
        handles.append(Patch(facecolor=_NO_DATA_FACE, edgecolor=NHS["mid_grey"], label="No IMD decile"))
    _draw_context(ax, fig, handles, practices, label_practices, practice_code, boundaries, highlight_pcn, pcn)
    return _finish(fig, ax, handles, DECILE_LEGEND_TITLE, title, source)


def _class_breaks(values: np.ndarray, bins: int | Sequence[float]) -> np.ndarray:
    """Class edges: quantiles of the shown values (``bins`` classes) or the given edges."""
    if not np.isscalar(bins):
        return np.asarray(bins, dtype=float)
    edges = np.unique(np.quantile(values, np.linspace(0, 1, int(bins) + 1)))
    if len(edges) < 2:
        edges = np.array([values.min(), values.max() + 1e-9])
    return edges


def rate_map(
    lsoas: gpd.GeoDataFrame,
    rates: pd.DataFrame,
    *,
    value: str = "value",
    numerator: str = "numerator",
    lsoa: str = "lsoa11",
    threshold: int = 7,
    denominator: str | None = None,
    bins: int | Sequence[float] = 5,
    value_format: str = "{:.1f}",
    legend_title: str = "Rate",
    practices: pd.DataFrame | gpd.GeoDataFrame | None = None,
    label_practices: Iterable[str] | None = None,
    practice_code: str = "practice_code",
    boundaries: gpd.GeoDataFrame | None = None,
    highlight_pcn: str | None = None,
    pcn: str = "pcn_code",
    title: str | None = None,
    source: str | None = "Source: practice extract; ONS LSOA 2011 boundaries (OGL).",
    figsize: tuple[float, float] = (8.5, 6.5),
) -> Figure:
    """Choropleth of an outcome rate by LSOA with small numbers suppressed.

    Parameters
    ----------
    rates : ``lsoa11, numerator, value`` (one row per LSOA; e.g. a crude or standardised rate from
        ``popheal.stats``). An LSOA whose numerator is from 1 to ``threshold`` is suppressed: drawn grey with
        ``xxx`` hatching and left out of the class breaks; the legend states the rule. Zero counts are shown.
    threshold : the disclosure threshold (DESIGN.md default 7: counts 1-7 suppressed).
    denominator : optional population column; an LSOA with 1 to ``threshold`` people is suppressed too (a
        rate, even a zero one, describes those few people).
    bins : number of classes (quantiles of the shown values) or explicit class edges.

    Returns
    -------
    matplotlib Figure; classes on the colour-blind-safe sequential Blues scale, each labelled with its range.
    """
    for column in (lsoa, value, numerator):
        if column not in rates.columns:
            raise ValueError(f"the rates table needs a '{column}' column")
    if rates[lsoa].duplicated().any():
        raise ValueError(f"the rates table must have one row per LSOA ('{lsoa}' is repeated)")
    cols = [lsoa, value, numerator] + ([denominator] if denominator else [])
    layer = to_british_national_grid(lsoas).merge(rates[cols], on=lsoa, how="left")
    num = pd.to_numeric(layer[numerator], errors="coerce")
    val = pd.to_numeric(layer[value], errors="coerce")
    suppressed = ((num >= 1) & (num <= threshold)).to_numpy()
    if denominator:
        den = pd.to_numeric(layer[denominator], errors="coerce")
        suppressed = suppressed | ((den >= 1) & (den <= threshold)).to_numpy()
    shown = ~suppressed & val.notna().to_numpy()
    fig, ax = new_figure(*figsize)
    handles: list = []
    if shown.any():
        edges = _class_breaks(val[shown].to_numpy(dtype=float), bins)
        k = len(edges) - 1
        cls = np.clip(np.searchsorted(edges, val[shown].to_numpy(dtype=float), side="right") - 1, 0, k - 1)
        cmap = colormaps[SEQUENTIAL_BLUES]
        colours = [_hex(cmap(x)) for x in np.linspace(0.18, 0.95, k)]
        shown_layer = layer[shown]
        for i in range(k):
            part = shown_layer[cls == i]
            if len(part):
                part.plot(ax=ax, facecolor=colours[i], edgecolor="white", linewidth=0.3)
            label = (
                f"{value_format.format(edges[i])} to {'<' if i < k - 1 else ''}"
                f"{value_format.format(edges[i + 1])}"
            )
            handles.append(
                Patch(facecolor=colours[i], edgecolor=NHS["dark_grey"], linewidth=0.4, label=label)
            )
    if suppressed.any():
        layer[suppressed].plot(
            ax=ax,
            facecolor=_SUPPRESSED_FACE,
            edgecolor="white",
            linewidth=0.3,
            hatch=_SUPPRESSED_HATCH,
            **_hatch_colour(NHS["dark_grey"]),
        )
        handles.append(
            Patch(
                facecolor=_SUPPRESSED_FACE,
                edgecolor=NHS["dark_grey"],
                hatch=_SUPPRESSED_HATCH,
                **_hatch_colour(NHS["dark_grey"]),
                label=f"Suppressed: 1-{threshold} events" + (" or people" if denominator else ""),
            )
        )
    no_data = ~suppressed & ~shown
    if no_data.any():
        layer[no_data].plot(ax=ax, facecolor=_NO_DATA_FACE, edgecolor=NHS["mid_grey"], linewidth=0.4)
        handles.append(Patch(facecolor=_NO_DATA_FACE, edgecolor=NHS["mid_grey"], label="No data"))
    _draw_context(ax, fig, handles, practices, label_practices, practice_code, boundaries, highlight_pcn, pcn)
    return _finish(fig, ax, handles, legend_title, title, source)
