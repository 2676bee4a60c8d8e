"""The pack's sections: which notebook makes which page, in what order they run and appear."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AREA_OVERVIEW", "NAV_ORDER", "SECTIONS", "SectionSpec", "section_by_notebook"]


@dataclass(frozen=True)
class SectionSpec:
    notebook: str  # file stem in notebooks/
    page: str  # HTML file name in the pack
    title: str  # navigation label and page heading


#: Execution order: the section notebooks first, the overview last so that its index page can gather the
#: key findings the sections recorded.
SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec("01_population", "population.html", "Population now and in 2041"),
    SectionSpec("02_risk", "risk.html", "Risk and segmentation"),
    SectionSpec("03_referrals", "referrals.html", "Referral variation"),
    SectionSpec("04_inequalities", "inequalities.html", "Inequalities"),
    SectionSpec("00_overview", "index.html", "Overview"),
)
#: Navigation order (as the reader sees it).
NAV_ORDER: tuple[str, ...] = ("00_overview", "01_population", "02_risk", "03_referrals", "04_inequalities")
#: Run once per area; its page is the run's index.html.
AREA_OVERVIEW = SectionSpec("area_overview", "index.html", "Area overview: all PCNs compared")


def section_by_notebook(name: str) -> SectionSpec:
    for s in (*SECTIONS, AREA_OVERVIEW):
        if s.notebook == name:
            return s
    raise KeyError(name)
