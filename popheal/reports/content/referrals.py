"""Referrals section: standardised referral ratios for every practice in the area (funnels allowing for
overdispersion), by specialty, monthly SPC, out-of-area and advice-and-guidance shares, the variation model.

Prepared once per run over all the area's practices, so each PCN's funnel shows its practices against every
practice in the area; the other PCNs' practices appear only as unlabelled points.
"""

from __future__ import annotations

import pandas as pd

from popheal import disclosure, referrals
from popheal.inequalities import core20_share, population_from_extract

__all__ = [
    "expected_for_display",
    "findings",
    "funnel_display",
    "model_summary",
    "monthly_for_pcn",
    "practice_rows",
    "prepare",
    "share_funnel_display",
    "specialty_table",
    "variation_table",
]


def prepare(inputs, params) -> tuple[dict[str, pd.DataFrame], dict]:
    refs = inputs.referrals
    pop = inputs.registrations[["practice_code", "sex", "age_band", "population"]]
    sent = refs[refs["route"] == "referral"]  # advice-and-guidance requests move no patient
    overall = referrals.variation(sent, pop)
    by_specialty = referrals.variation(sent, pop, specialty=True)
    monthly = referrals.monthly_counts(sent, by="practice_code", start=params.period.start, end=params.period.end,
                                       units=[p.code for p in params.practices])
    # SPC runs on disclosure-controlled monthly counts (each series controlled at its own level, from the
    # unrounded counts), so a chart never shows an unrounded or small count
    t, b = params.disclosure.threshold, params.disclosure.base
    monthly_pcn = monthly.assign(pcn_code=monthly["practice_code"].map(params.practice_to_pcn()))
    monthly_pcn = monthly_pcn.groupby(["pcn_code", "month"], as_index=False)["referrals"].sum()
    monthly["referrals"] = disclosure.apply(monthly, ["referrals"], threshold=t, base=b).data["referrals"]
    monthly_pcn["referrals"] = disclosure.apply(monthly_pcn, ["referrals"], threshold=t, base=b).data["referrals"]
    spc_practice = referrals.spc(monthly.dropna(subset=["referrals"]), by="practice_code")
    spc_pcn = referrals.spc(monthly_pcn.dropna(subset=["referrals"]), by="pcn_code")
    out_of_area = referrals.shares(refs, by=("practice_code",), what="out_of_area")
    advice = referrals.shares(refs, by=("practice_code",), what="advice_and_guidance")
    advice_specialty = referrals.shares(refs, by=("practice_code", "specialty"), what="advice_and_guidance")
    deprivation = core20_share(population_from_extract(inputs.patients, by="practice_code"), inputs.imd,
                               by="practice_code")[["practice_code", "core20_share"]]
    deprivation = deprivation.rename(columns={"core20_share": "share of patients living in Core20 areas"})
    model = referrals.variation_model(sent, pop, deprivation,
                                      deprivation_column="share of patients living in Core20 areas")
    tables = {
        "ref_variation": overall,
        "ref_variation_specialty": by_specialty,
        "ref_spc_practice": spc_practice,
        "ref_spc_pcn": spc_pcn,
        "ref_out_of_area": out_of_area,
        "ref_advice": advice,
        "ref_advice_specialty": advice_specialty,
        "ref_model_variation": model.variation,
        "ref_model_practices": model.practices,
    }
    meta = {"model_summary": model.summary(), "phi": overall.attrs.get("phi"), "tau2": overall.attrs.get("tau2"),
            "years": overall.attrs.get("years")}
    return tables, meta


# ----------------------------------------------------------------------------------------------- views
def practice_rows(pack, name: str) -> pd.DataFrame:
    return pack.name_practices(pack.prepared[name])


def variation_table(pack) -> pd.DataFrame:
    """This PCN's practices: observed and expected referrals, the ratio and its limits, significance."""
    v = practice_rows(pack, "ref_variation")
    v["observed"] = v["observed"].astype("int64")
    v["population"] = v["population"].round().astype("int64")
    v["expected"] = expected_for_display(v["expected"])
    return v[["practice", "observed", "expected", "ratio", "lower99_8cl", "upper99_8cl", "population",
              "crude_rate_per_1000", "significance_adjusted"]]


def expected_for_display(expected: pd.Series) -> pd.Series:
    """Expected counts rounded to the nearest 5 like the observed counts beside them: shown to 2 decimals, a
    ratio times an exact expected count would give back the unrounded observed count."""
    return (5 * (expected.astype(float) / 5).round()).astype("int64")


def specialty_table(pack) -> pd.DataFrame:
    """This PCN's practice x specialty results outside the 99.8% limits after allowing for overdispersion."""
    spec = practice_rows(pack, "ref_variation_specialty")
    spec = spec[spec["significance_adjusted"].str.startswith(("High (0.001)", "Low (0.001)"))]
    out = spec[["practice", "specialty", "observed", "expected", "ratio", "significance_adjusted"]].copy()
    out["observed"] = out["observed"].astype("int64")
    out["expected"] = expected_for_display(out["expected"])
    return out.reset_index(drop=True)


def monthly_for_pcn(pack) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SPC tables for this PCN (one series) and for each of its practices."""
    pcn = pack.prepared["ref_spc_pcn"]
    return pcn[pcn["pcn_code"] == pack.pcn.code], pack.own(pack.prepared["ref_spc_practice"])


def findings(pack, specialty: bool = False) -> list[str]:
    names = {c: pack.practice_names[c] for c in pack.practice_codes}
    if specialty:
        sentences = referrals.findings(pack.prepared["ref_variation_specialty"], names, limit=5,
                                       threshold=pack.params.disclosure.threshold)
        return [s for s in sentences if not s.startswith("No practice")]
    return referrals.findings(pack.prepared["ref_variation"], names, threshold=pack.params.disclosure.threshold)


def model_summary(pack) -> str:
    return pack.prepared.meta["referrals"]["model_summary"]


def funnel_display(pack, name: str = "ref_variation") -> pd.DataFrame:
    """The area's variation result as the funnel plot shows it: expected counts rounded to 5 and ratios to 2
    decimals (as in the tables), so a plotted point carries no more than the page (limits kept in attrs)."""
    shown = pack.prepared[name].copy()
    shown["expected"] = expected_for_display(shown["expected"]).astype(float)
    shown["ratio"] = (shown["observed"] / shown["expected"].where(shown["expected"] > 0)).round(2)
    return shown


def share_funnel_display(pack, name: str) -> pd.DataFrame:
    """A shares result with numerator and denominator rounded to the area's base and the share recomputed
    (as the table shows it)."""
    from popheal.disclosure import round_to_base

    shown = pack.prepared[name].copy()
    base = pack.params.disclosure.base
    shown["numerator"] = round_to_base(shown["numerator"].to_numpy(), base)
    shown["denominator"] = round_to_base(shown["denominator"].to_numpy(), base)
    shown["value"] = 100 * shown["numerator"] / shown["denominator"].where(shown["denominator"] > 0)
    return shown
