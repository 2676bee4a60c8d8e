"""Pack index and area overview: key numbers, findings, practices, data quality and provenance."""

from __future__ import annotations

import pandas as pd

from popheal.reports.export import read_manifest
from popheal.reports.sections import NAV_ORDER, section_by_notebook

__all__ = [
    "as_shown",
    "data_quality",
    "findings_by_section",
    "key_numbers",
    "pcn_comparison",
    "practice_table",
    "provenance_lines",
    "published_pcns",
    "real_activity",
    "section_links",
]


def _shown(pack, x: float) -> float:
    """A count as a pack may quote it: NaN when 1..threshold, else rounded to the area's base."""
    t, b = pack.params.disclosure.threshold, pack.params.disclosure.base
    x = float(x)
    return float("nan") if 1 <= x <= t else float(b * round(x / b))


def practice_table(pack) -> pd.DataFrame:
    """This PCN's practices and their registered lists (5-year bands summed)."""
    reg = pack.prepared["pop_registered"]
    sizes = pack.own(reg).groupby("practice_code", as_index=False)["population"].sum()
    sizes.insert(0, "practice", sizes["practice_code"].map(pack.practice_names))
    return sizes.rename(columns={"population": "registered_patients"})


def key_numbers(pack, code: str | None = None) -> dict:
    """The headline figures of one PCN, each as a pack may quote it (suppressed 1..threshold, rounded; the
    Core20 percentage from the rounded counts)."""
    code = code or pack.pcn.code
    prep = pack.prepared
    reg = prep["pop_registered"]
    growth = prep["pop_growth_pcn"]
    g65 = growth[(growth["pcn_code"] == code) & (growth["ages"] == "65+")].iloc[0]
    core20 = prep["ineq_core20_pcn"]
    c = core20[core20["pcn_code"] == code].iloc[0]
    c20, total = _shown(pack, c["core20_population"]), _shown(pack, c["total_population"])
    pyramid = prep["risk_pyramid_pcn"]
    top = pyramid[(pyramid["pcn_code"] == code)].iloc[:2]
    return {
        "registered": _shown(pack, reg.loc[reg["pcn_code"] == code, "population"].sum()),
        "practices": int(reg.loc[reg["pcn_code"] == code, "practice_code"].nunique()),
        "growth_65": float(g65["percent_change"]),
        "target_year": int(g65["target_year"]),
        "core20_population": c["core20_population"], "total_population": c["total_population"],
        "core20_percent": 100 * c20 / total if total else float("nan"),
        "high_risk_patients": _shown(pack, top["patients"].sum()),
        "high_risk_percent": 100 * pack.params.risk.tier_cuts[1],
    }


def findings_by_section(pack) -> list[tuple[str, str, str]]:
    """(section title, page, finding) recorded by the pack's sections, in navigation order."""
    found = read_manifest(pack.out_dir)["findings"]
    out = []
    for name in NAV_ORDER:
        spec = section_by_notebook(name)
        key = spec.page.removesuffix(".html")
        for f in found:
            if f.get("section") == key:
                out.append((spec.title, spec.page, f["text"]))
    return out


def section_links(pack) -> list[tuple[str, str]]:
    return [(section_by_notebook(n).title, section_by_notebook(n).page) for n in NAV_ORDER if n != "00_overview"]


def data_quality(pack) -> pd.DataFrame:
    """The data-quality notes of the run (unknown or unmatched values, and what was done about them)."""
    notes = [n for n in pack.prepared.meta.get("data_quality", [])
             if not n.get("pcn_code") or (pack.pcn is not None and n["pcn_code"] == pack.pcn.code)]
    table = pd.DataFrame(notes, columns=["input", "issue", "count", "action"])
    return table.rename(columns={"count": "records"})


def provenance_lines(pack) -> list[str]:
    prov = read_manifest(pack.out_dir).get("provenance") or {}
    if not prov:
        return ["Interactive run: provenance is recorded when the pack is built with `popheal packs`."]
    lines = [f"popheal {prov.get('version', '?')}, git commit {prov.get('commit', '?')}",
             (f"Built {prov.get('timestamp', '?')} from {prov.get('params_file', '?')} (sha256 "
              f"{str(prov.get('params_hash', ''))[:12]}, seed {prov.get('seed', '?')})"),
             f"Code hash {str(prov.get('code', ''))[:12]}"]
    lines += [f"Input {k}: sha256 {v[:12]}" for k, v in sorted((prov.get("inputs") or {}).items())]
    return lines


def pcn_comparison(pack) -> pd.DataFrame:
    """One row per PCN of the area: list size, 65+ growth, Core20 share, patients in the top 5% of risk."""
    rows = []
    for pcn in pack.params.pcns:
        k = key_numbers(pack, pcn.code)
        reg = pack.prepared["pop_registered"]
        pyramid = pack.prepared["risk_pyramid_pcn"]
        rows.append({"pcn": pcn.name, "practices": k["practices"],
                     "registered_patients": int(reg.loc[reg["pcn_code"] == pcn.code, "population"].sum()),
                     "growth_65_percent": k["growth_65"],
                     "core20_population": round(float(k["core20_population"])),
                     "known_neighbourhood": round(float(k["total_population"])), "core20_percent": 0.0,
                     "high_risk_patients": int(pyramid[pyramid["pcn_code"] == pcn.code]["patients"].iloc[:2].sum())})
    return pd.DataFrame(rows)


def real_activity(pack):
    """The area's published PCN-level activity, when the YAML names it (``data.pcn_activity``): social
    prescribing referrals per 1,000 registered patients with funnel significance, and the monthly referrals
    against the service's capacity. None when the area has no such data."""
    folder = pack.params.data.path("pcn_activity")
    if folder is None:
        return None
    from popheal import referrals
    from popheal.io import read_pcn_activity

    activity = read_pcn_activity(folder)
    rates = referrals.activity_rates(activity, "social_prescribing", area_code=pack.params.area.code,
                                     area_name=pack.params.area.name)
    capacity = referrals.social_prescribing_capacity(activity)
    return rates, capacity


def published_pcns(pack) -> tuple[list, list]:
    """(PCNs whose packs were published in this run, PCNs whose packs are not available). Interactive runs,
    which have no record of the batch, treat every PCN as published."""
    codes = read_manifest(pack.out_dir).get("published_pcns")
    if codes is None:
        return list(pack.params.pcns), []
    return ([p for p in pack.params.pcns if p.code in codes], [p for p in pack.params.pcns if p.code not in codes])


def as_shown(x: float, fmt: str = "{:,.0f}") -> str:
    """A figure for narrative or cards: ``*`` when it is suppressed (NaN), else formatted."""
    return "*" if pd.isna(x) else fmt.format(x)
