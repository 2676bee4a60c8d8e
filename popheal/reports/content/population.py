"""Population section: registered lists now, each PCN's projection to 2041, growth, variants and demand.

Prepared once per run (area-wide): every practice's own cohort-component projection constrained to the area
(ONS SNPP layout) projection by sex and single year of age (popheal.projection.project_pcn), the ONS figure
apportioned by list share beside it, the mortality and migration variants for each PCN, and the projected
long-term-condition registers and GP contacts at today's age/sex-specific rates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from popheal import projection as proj

__all__ = [
    "CONDITION_LABELS",
    "contacts_table",
    "fan_data",
    "growth_table",
    "headline",
    "prepare",
    "pyramid_data",
    "registers_table",
]

#: Reader-facing names of the long-term conditions whose registers are projected.
CONDITION_LABELS = {
    "ltc_hypertension": "Hypertension", "ltc_diabetes": "Diabetes", "ltc_copd": "COPD",
    "ltc_asthma": "Asthma", "ltc_chd": "Coronary heart disease", "ltc_af": "Atrial fibrillation",
    "ltc_heart_failure": "Heart failure", "ltc_ckd": "Chronic kidney disease", "ltc_dementia": "Dementia",
    "ltc_depression": "Depression", "ltc_stroke_tia": "Stroke / TIA", "ltc_cancer": "Cancer",
    "ltc_smi": "Severe mental illness", "ltc_osteoporosis": "Osteoporosis",
}


def _mortality(inputs) -> pd.DataFrame:
    lt = inputs.life_table
    return lt[["sex", "age", "qx"]] if "qx" in lt.columns else lt[["sex", "age", "mx"]]


def prepare(inputs, params) -> tuple[dict[str, pd.DataFrame], dict]:
    start, end = params.period.base_year, params.period.projection_end_year
    reg = inputs.registrations
    area = inputs.projection
    area = area[(area["area_code"] == params.area.code) | (area["area_code"].nunique() == 1)]
    area = area[(area["year"] >= start) & (area["year"] <= end)][["year", "sex", "age", "population"]]
    if area["year"].min() != start:
        raise ValueError(f"the projection file starts in {area['year'].min()}, not the base year {start}")
    mortality = _mortality(inputs)
    kwargs = {"start_year": start, "end_year": end}

    practice = proj.project_pcn(reg, mortality, inputs.fertility, inputs.migration, area, level="practice_code",
                                **kwargs)
    practice_pcn = params.practice_to_pcn()
    practice.insert(1, "pcn_code", practice["practice_code"].map(practice_pcn))
    pcn = practice.groupby(["pcn_code", "year", "sex", "age"], as_index=False)[
        ["population", "unconstrained_population", "apportioned_population"]].sum()

    # Variants: each PCN's own (unconstrained) projection under each assumption; the band is expressed
    # relative to the principal and applied to the constrained headline, so the fan centres on it.
    scen = proj.project_scenarios(reg, mortality, inputs.fertility, inputs.migration, projector=proj.project_pcn,
                                  area_projection=area, level="pcn_code", **kwargs)
    ranges = []
    for ages in ((65, None), (75, None), (85, None)):
        r = proj.scenario_range(scen, ages, value="unconstrained_population")
        head = proj.age_range_totals(pcn, [ages]).rename(columns={"population": "headline"})
        r = r.merge(head[["pcn_code", "year", "headline"]], on=["pcn_code", "year"], how="left")
        for col in ("low", "high"):
            r[col] = r["headline"] * r[col] / r["principal"]
        r["principal"] = r["headline"]
        ranges.append(r.drop(columns="headline"))
    fan = pd.concat(ranges, ignore_index=True)

    growth_practice = proj.growth(practice.drop(columns=["unconstrained_population", "apportioned_population"]),
                                  list(proj.PACK_AGE_RANGES), start, end)
    growth_pcn = proj.growth(pcn.drop(columns=["unconstrained_population", "apportioned_population"]),
                             list(proj.PACK_AGE_RANGES), start, end)
    growth_pcn_ons = proj.growth(pcn.drop(columns=["population", "unconstrained_population"]),
                                 list(proj.PACK_AGE_RANGES), start, end, value="apportioned_population")
    growth_area = proj.growth(area, list(proj.PACK_AGE_RANGES), start, end)

    conditions = [c for c in CONDITION_LABELS if c in inputs.patients.columns]
    prevalence = proj.prevalence_rates(inputs.patients, conditions)
    contacts = proj.contact_rates(inputs.patients)
    pcn_pop = pcn[["pcn_code", "year", "sex", "age", "population"]]
    registers = proj.project_registers(pcn_pop[pcn_pop["year"].isin([start, end])], prevalence)
    area_registers = proj.project_registers(area[area["year"].isin([start, end])], prevalence)
    contact_demand = proj.project_contacts(pcn_pop, contacts)
    area_contacts = proj.project_contacts(area, contacts)

    tables = {
        "pop_registered": reg,
        "pop_area_projection": area,
        "pop_practice_projection": practice,
        "pop_pcn_projection": pcn,
        "pop_fan": fan,
        "pop_growth_practice": growth_practice,
        "pop_growth_pcn": growth_pcn,
        "pop_growth_pcn_ons": growth_pcn_ons,
        "pop_growth_area": growth_area,
        "pop_registers_pcn": registers,
        "pop_registers_area": area_registers,
        "pop_contacts_pcn": contact_demand,
        "pop_contacts_area": area_contacts,
    }
    meta = {"start_year": start, "end_year": end,
            "fertility": inputs.fertility is not None, "migration": inputs.migration is not None}
    return tables, meta


# ----------------------------------------------------------------------------------------------- views
def _rounded(values) -> np.ndarray:
    """Modelled populations for narrative text, rounded to the nearest 5 like every shown count."""
    return (np.floor(np.asarray(values, dtype=float) / 5 + 0.5) * 5).astype("int64")


def _whole(values) -> np.ndarray:
    """Modelled populations as whole numbers for a table: the export point then suppresses 1-7 and rounds."""
    return np.floor(np.asarray(values, dtype=float) + 0.5).astype("int64")


def growth_table(pack) -> pd.DataFrame:
    """65+, 75+ and 85+ growth to the end year for this PCN's practices, the PCN and the area."""
    prep = pack.prepared
    prac = pack.own(prep["pop_growth_practice"])
    prac.insert(0, "unit", prac["practice_code"].map(pack.practice_names))
    pcn = prep["pop_growth_pcn"]
    pcn = pcn[pcn["pcn_code"] == pack.pcn.code].assign(unit=f"{pack.pcn.name} (PCN)")
    ons = prep["pop_growth_pcn_ons"]
    ons = ons[ons["pcn_code"] == pack.pcn.code].assign(unit=f"{pack.pcn.name}: ONS apportioned by list share")
    area = prep["pop_growth_area"].assign(unit=f"{pack.area_name} (area)")
    out = pd.concat([prac, pcn, ons, area], ignore_index=True)
    cols = ["unit", "ages", "base_population", "target_population", "percent_change"]
    out = out[cols].copy()
    for c in ("base_population", "target_population"):
        out[c] = _whole(out[c])
    return out


def headline(pack, ages: str = "65+") -> dict:
    g = pack.prepared["pop_growth_pcn"]
    row = g[(g["pcn_code"] == pack.pcn.code) & (g["ages"] == ages)].iloc[0]
    return {"ages": ages, "base_year": int(row["base_year"]), "target_year": int(row["target_year"]),
            "base": int(_rounded([row["base_population"]])[0]), "target": int(_rounded([row["target_population"]])[0]),
            "percent_change": float(row["percent_change"]),
            "oadr_base": float(row["base_old_age_dependency_ratio"]), "oadr": float(row["old_age_dependency_ratio"])}


def pyramid_data(pack) -> tuple[pd.DataFrame, pd.DataFrame]:
    """This PCN's and the area's projected population by year, sex and single year of age (rounded)."""
    prep = pack.prepared
    pcn = prep["pop_pcn_projection"]
    pcn = pcn[pcn["pcn_code"] == pack.pcn.code][["year", "sex", "age", "population"]]
    return pcn, prep["pop_area_projection"]


def fan_data(pack, ages: str = "65+") -> pd.DataFrame:
    fan = pack.prepared["pop_fan"]
    return fan[(fan["pcn_code"] == pack.pcn.code) & (fan["ages"] == ages)][["year", "principal", "low", "high"]]


def registers_table(pack) -> pd.DataFrame:
    """Projected register sizes now and at the end year for this PCN, at today's prevalence by age and sex."""
    r = pack.prepared["pop_registers_pcn"]
    r = r[r["pcn_code"] == pack.pcn.code]
    wide = r.pivot_table(index="condition", columns="year", values="register", aggfunc="sum")
    start, end = min(wide.columns), max(wide.columns)
    out = pd.DataFrame({
        "condition": [CONDITION_LABELS.get(c, c) for c in wide.index],
        "patients_base": _whole(wide[start]),
        "patients_target": _whole(wide[end]),
    })
    base = out["patients_base"].to_numpy(dtype=float)
    out["percent_change"] = np.where(base > 0, 100 * (out["patients_target"] - base) / np.where(base > 0, base, 1),
                                     np.nan)
    return out.sort_values("percent_change", ascending=False, kind="stable").reset_index(drop=True)


def contacts_table(pack) -> pd.DataFrame:
    """GP contacts per week and per 1,000 patients per week, now and at the end year, against the standard."""
    c = pack.prepared["pop_contacts_pcn"]
    c = c[c["pcn_code"] == pack.pcn.code]
    years = sorted(c["year"].unique())
    c = c[c["year"].isin([years[0], years[-1]])]
    return pd.DataFrame({
        "year": c["year"].astype(int).astype(str).to_numpy(),
        "population": _whole(c["population"]),
        "contacts_per_week": _whole(c["contacts_per_week"]),
        "contacts_per_1000_per_week": c["contacts_per_1000_per_week"].round(1).to_numpy(),
        "standard_per_1000_per_week": c["access_standard_per_1000_per_week"].to_numpy(),
    })
