"""Inequalities section: Core20 share, age-standardised gaps by deprivation and ethnicity, SII/RII,
Core20PLUS5 coverage, excess emergency admissions and the maps - for every PCN and the area, once per run.
"""

from __future__ import annotations

import pandas as pd

from popheal import inequalities as ineq

__all__ = [
    "MEASURES",
    "RATE_MAP_BREAKS",
    "core20_table",
    "excess_table",
    "gap_table",
    "lsoa_rates",
    "map_breaks",
    "map_layers",
    "mask_small_groups",
    "prepare",
    "unit_rows",
]

#: Indicators broken down by deprivation and ethnicity (name -> extract column).
MEASURES = {
    "Emergency admissions": "emergency_admissions",
    "Hypertension (recorded)": "ltc_hypertension",
    "Diabetes": "ltc_diabetes",
    "COPD": "ltc_copd",
    "Coronary heart disease": "ltc_chd",
    "Depression": "ltc_depression",
}
#: Monte Carlo repetitions for the SII limits (PHEindicatormethods' default is 100,000).
SII_REPETITIONS = 20_000


def _units(inputs, params):
    """(area_type, code, name, patients) for the area and each PCN."""
    pts = inputs.patients
    yield "area", params.area.code, params.area.name, pts
    for pcn in params.pcns:
        yield "pcn", pcn.code, pcn.name, pts[pts["pcn_code"] == pcn.code]


def mask_small_groups(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Blank the value and limits of any group of 1..threshold people or events: a standardised rate of a
    group of four people describes those four people, whatever the number of events."""
    out = table.copy()
    small = pd.Series(False, index=out.index)
    for col in ("numerator", "denominator"):
        values = pd.to_numeric(out[col], errors="coerce")
        small |= (values >= 1) & (values <= threshold)
    limits = [c for c in out.columns if c in ("value", "lowercl", "uppercl") or c.startswith(("lower", "upper"))]
    out.loc[small, limits] = float("nan")
    return out


def prepare(inputs, params) -> tuple[dict[str, pd.DataFrame], dict]:
    imd, pts = inputs.imd, inputs.patients
    t = params.disclosure.threshold
    dep, eth, summaries, plus5, excess = [], [], [], [], []
    admissions = {"Emergency admissions": "emergency_admissions"}
    area_counts = ineq.aggregate_extract(pts, admissions, imd, by="imd_quintile")
    for area_type, code, name, sub in _units(inputs, params):
        area = {"area_type": area_type, "area_code": code, "area_name": name, "period": params.period.label}
        d5 = mask_small_groups(ineq.deprivation_breakdown(sub, imd, MEASURES, area=area), t)
        d10 = mask_small_groups(ineq.standardised_breakdown(sub, "imd_decile", MEASURES, imd=imd,
                                                            include_all=False, area=area), t)
        dep.append(pd.concat([d5, d10], ignore_index=True))
        eth.append(mask_small_groups(ineq.ethnicity_breakdown(sub, MEASURES, include_all=False, area=area), t))
        s5 = ineq.inequality_summary(d5, repetitions=SII_REPETITIONS, seed=params.seed)
        s10 = ineq.inequality_summary(d10, breakdown=ineq.BREAKDOWN_LABELS["imd_decile"],
                                      repetitions=SII_REPETITIONS, seed=params.seed)
        summaries.append(pd.concat([s5.assign(quantiles="quintiles"), s10.assign(quantiles="deciles")])
                         .assign(area_type=area_type, area_code=code))
        plus5.append(ineq.core20plus5_measures(sub, imd, area=area))
        counts = ineq.aggregate_extract(sub, admissions, imd, by="imd_quintile")
        # the reference rates are the whole area's least deprived quintile: a PCN's own quintile 5 may be a
        # handful of patients, and expected counts resting on one or two admissions would mislead
        reference = int(area_counts.loc[area_counts["denominator"] > 0, "imd_quintile"].max())
        excess.append(ineq.excess_events(counts, reference=reference, reference_counts=area_counts,
                                         reference_label=f"{name if area_type == 'area' else params.area.name}: "
                                                         f"least deprived quintile present")
                      .assign(area_type=area_type, area_code=code))

    people = ineq.population_from_extract(pts, by=["pcn_code", "practice_code"])
    core20_practice = ineq.core20_share(people, imd, by=["pcn_code", "practice_code"])
    core20_pcn = ineq.core20_share(people, imd, by="pcn_code")
    core20_area = ineq.core20_share(people, imd)

    assignment = ineq.lsoa_pcn_assignment(pts, pd.DataFrame({"practice_code": list(params.practice_to_pcn()),
                                                             "pcn_code": list(params.practice_to_pcn().values())}))
    from popheal.plots.maps import pcn_boundaries

    lsoas = inputs.boundaries.merge(imd[["lsoa11", "imd_decile"]], on="lsoa11", how="left")
    lsoas = lsoas[lsoas["lsoa11"].isin(set(pts["lsoa11"].dropna()))]  # the LSOAs where the area's patients live
    outlines = pcn_boundaries(lsoas, assignment[["lsoa11", "pcn_code"]])
    rates = ineq.aggregate_extract(pts, {"Emergency admissions": "emergency_admissions"}, None,
                                   by=["pcn_code", "lsoa11"], strata=())
    rates = rates.rename(columns={"numerator": "admissions", "denominator": "patients"})
    tables = {
        "ineq_deprivation": pd.concat(dep, ignore_index=True),
        "ineq_ethnicity": pd.concat(eth, ignore_index=True),
        "ineq_summary": pd.concat(summaries, ignore_index=True),
        "ineq_core20plus5": pd.concat(plus5, ignore_index=True),
        "ineq_excess": pd.concat(excess, ignore_index=True),
        "ineq_core20_practice": core20_practice,
        "ineq_core20_pcn": core20_pcn,
        "ineq_core20_area": core20_area,
        "ineq_lsoas": lsoas,
        "ineq_pcn_outlines": outlines,
        "ineq_lsoa_admissions": rates,
    }
    if inputs.practice_locations is not None:
        tables["ineq_practice_locations"] = inputs.practice_locations
    return tables, {"sii_repetitions": SII_REPETITIONS, "measures": MEASURES}


# ----------------------------------------------------------------------------------------------- views
def unit_rows(table: pd.DataFrame, pack) -> pd.DataFrame:
    """Rows of an area-and-PCN table for this PCN (or the area, in the area overview)."""
    code = pack.pcn.code if pack.pcn else pack.params.area.code
    return table[table["area_code"] == code]


def core20_table(pack, level: str = "practice") -> pd.DataFrame:
    """Core20 share for this PCN's practices (``level="practice"``), or for the PCN and the area
    (``level="pcn"``); counts unrounded for the export point. The PCN row is the total of the practice rows,
    so the practice table is shown with ``totals=[()]`` (secondary suppression)."""
    prep = pack.prepared
    if level == "practice":
        prac = pack.own(prep["ineq_core20_practice"])
        out = prac.assign(unit=prac["practice_code"].map(pack.practice_names))
    else:
        pcn = prep["ineq_core20_pcn"]
        pcn = pcn[pcn["pcn_code"] == pack.pcn.code].assign(unit=f"{pack.pcn.name} (PCN)")
        area = prep["ineq_core20_area"].assign(unit=f"{pack.area_name} (area)")
        out = pd.concat([pcn, area], ignore_index=True)
    out = out[["unit", "core20_population", "total_population"]].copy()
    out["core20_population"] = out["core20_population"].round().astype("int64")
    out["total_population"] = out["total_population"].round().astype("int64")
    out["core20_percent"] = 100 * out["core20_population"] / out["total_population"]
    return out


def gap_table(pack, quantiles: str = "quintiles") -> pd.DataFrame:
    """Most vs least deprived gap, SII and RII per indicator for this PCN, with the events behind them."""
    summary = unit_rows(pack.prepared["ineq_summary"], pack)
    summary = summary[summary["quantiles"] == quantiles]
    dep = unit_rows(pack.prepared["ineq_deprivation"], pack)
    events = dep[dep["group"] == "All"].set_index("indicator")["numerator"]
    out = summary[["indicator", "value_most_deprived", "value_least_deprived", "absolute_gap", "relative_gap",
                   "sii", "sii_lowercl", "sii_uppercl", "rii", "gap_definition"]].copy()
    out.insert(1, "events", out["indicator"].map(events).round().astype("int64"))
    return out.reset_index(drop=True)


def map_layers(pack):
    """LSOA polygons (with IMD decile), PCN outlines and practice locations for the maps."""
    prep = pack.prepared
    locations = prep["ineq_practice_locations"] if "ineq_practice_locations" in prep.names() else None
    return prep["ineq_lsoas"], prep["ineq_pcn_outlines"], locations


def lsoa_rates(pack) -> pd.DataFrame:
    """Emergency admissions per 1,000 of this PCN's patients by LSOA of residence, disclosure-controlled:
    admissions and patients rounded (and suppressed at 1..threshold, either of them), the rate recomputed
    from the rounded counts, so neither the map nor its legend can give back an unrounded count."""
    from popheal import disclosure

    r = pack.prepared["ineq_lsoa_admissions"]
    r = r[r["pcn_code"] == pack.pcn.code][["lsoa11", "admissions", "patients"]].reset_index(drop=True)
    d = pack.params.disclosure
    shown = disclosure.apply(r.assign(value=0.0), ["admissions", "patients"], threshold=d.threshold, base=d.base,
                             rates={"value": ("admissions", "patients", 1000)}).data
    hidden = shown["admissions_suppressed"] | shown["patients_suppressed"]
    # the map suppresses on numerator 1..threshold: mark hidden LSOAs so, with no value
    return pd.DataFrame({"lsoa11": shown["lsoa11"], "numerator": shown["admissions"].where(~hidden, 1),
                         "denominator": shown["patients"].where(~hidden, 1), "value": shown["value"]})


#: Class breaks for admission-rate maps (per 1,000): fixed round numbers, so the legend reveals no LSOA's rate.
RATE_MAP_BREAKS = (0, 50, 100, 150, 200, 300, 500, 1000, 5000)


def excess_table(pack) -> pd.DataFrame:
    """Observed, expected and excess emergency admissions by deprivation quintile for this PCN; the
    modelled expected and excess figures are rounded to the nearest 5 like the counts they sit beside."""
    ex = unit_rows(pack.prepared["ineq_excess"], pack)
    ex = ex[ex["group"] != "Total"]  # the total is implied (totals=[()] at the export point), not a row
    out = ex[["group", "denominator", "observed", "expected", "excess"]].copy()
    out = out.rename(columns={"denominator": "patients"})
    out["patients"] = out["patients"].round().astype("int64")
    out["observed"] = out["observed"].round().astype("int64")
    for c in ("expected", "excess"):
        out[c] = (5 * (out[c] / 5).round()).astype("int64")
    out.attrs["reference_group"] = str(ex["reference_group"].iloc[0]) if len(ex) else ""
    return out.reset_index(drop=True)


def map_breaks(rates: pd.DataFrame) -> list[float]:
    """The fixed class breaks (:data:`RATE_MAP_BREAKS`) that cover the shown rates."""
    values = pd.to_numeric(rates["value"], errors="coerce").dropna()
    top = float(values.max()) if len(values) else RATE_MAP_BREAKS[1]
    upper = next((b for b in RATE_MAP_BREAKS if b >= top), RATE_MAP_BREAKS[-1])
    return [b for b in RATE_MAP_BREAKS if b <= upper]
