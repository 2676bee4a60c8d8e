"""NHS identity colours and chart defaults (NHS England identity guidelines: colours; WCAG 2.2 AA contrast)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)

import matplotlib.pyplot as plt

__all__ = ["DIVERGING", "NHS", "SEQUENTIAL_BLUES", "apply_style", "new_figure"]

#: NHS identity palette (england.nhs.uk/nhsidentity/identity-guidelines/colours).
NHS = {
    "blue": "#005EB8",
    "dark_blue": "#003087",
    "bright_blue": "#0072CE",
    "light_blue": "#41B6E6",
    "aqua_blue": "#00A9CE",
    "black": "#231F20",
    "dark_grey": "#425563",
    "mid_grey": "#768692",
    "pale_grey": "#E8EDEE",
    "dark_green": "#006747",
    "green": "#009639",
    "light_green": "#78BE20",
    "aqua_green": "#00A499",
    "purple": "#330072",
    "dark_pink": "#7C2855",
    "pink": "#AE2573",
    "dark_red": "#8A1538",
    "red": "#DA291C",
    "orange": "#ED8B00",
    "warm_yellow": "#FFB81C",
    "yellow": "#FAE100",
}

#: A colour-blind-safe sequential scale for maps and ordered categories (light to dark).
SEQUENTIAL_BLUES = "Blues"
#: A colour-blind-safe diverging scale (for deprivation: most deprived dark purple, least deprived dark green).
DIVERGING = "PRGn"


def apply_style() -> None:
    """Set matplotlib defaults for packs: readable on paper and on a phone, small PNGs."""
    plt.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "figure.figsize": (7.5, 4.2),
            "font.size": 10,
            "axes.titlesize": 11,
            "axes.titleweight": "bold",
            "axes.labelsize": 10,
            "axes.edgecolor": NHS["dark_grey"],
            "axes.labelcolor": NHS["black"],
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.prop_cycle": matplotlib.cycler(
                color=[NHS["blue"], NHS["light_blue"], NHS["dark_blue"], NHS["aqua_green"], NHS["orange"],
                       NHS["pink"], NHS["mid_grey"]]
            ),
            "xtick.color": NHS["dark_grey"],
            "ytick.color": NHS["dark_grey"],
            "legend.frameon": False,
            "grid.color": NHS["pale_grey"],
        }
    )


def new_figure(width: float = 7.5, height: float = 4.2, ncols: int = 1, nrows: int = 1, **kwargs):
    """A styled figure and axes (``plt.subplots`` with the pack defaults applied)."""
    apply_style()
    return plt.subplots(nrows=nrows, ncols=ncols, figsize=(width, height), **kwargs)
