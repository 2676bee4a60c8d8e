"""Risk section: frailty, multimorbidity, segments, the admission model and the risk pyramid, once per run.

The model is fitted on the whole area's extract (held-out split for its report), and tiers rank every
patient within the area, so a PCN's pyramid shows how its patients sit against the area's cut-offs. Only
aggregates reach the notebooks; the patients in the top tiers are kept in the internal table
``risk_patients`` for the practices' case-finding lists (run/internal/<practice>/), never a pack.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from popheal import risk
from popheal.io.extract_schema import OUTCOME_COLUMN

__all__ = ["model_metrics", "pcn_pyramid", "practice_rows", "prepare", "write_case_finding"]


def prepare(inputs, params) -> tuple[dict[str, pd.DataFrame], dict]:
    pts, imd = inputs.patients, inputs.imd
    frailty = risk.efi(pts)
    cms = risk.cambridge_score(pts)
    segments = risk.segment(pts, frailty)
    model = risk.AdmissionModel().fit(pts, seed=params.seed, imd=imd)
    probability = model.predict(pts, imd=imd, frailty=frailty, cambridge=cms)
    tier = risk.tiers(probability, cuts=params.risk.tier_cuts, ids=pts["patient_id"])
    hiu = risk.high_intensity_users(pts, params.risk.high_intensity_ae)
    quintile = risk.imd_quintile(pts, imd)
    report = model.report(params.risk.tier_cuts)

    practice, pcn = pts["practice_code"], pts["pcn_code"]
    high_dep = []
    for code in [None, *[p.code for p in params.pcns]]:
        mask = slice(None) if code is None else (pcn == code).to_numpy()
        t = risk.high_risk_by_deprivation(tier[mask], quintile[mask])
        high_dep.append(t.assign(pcn_code=code or "area"))

    top = tier.isin(list(tier.cat.categories[::-1][:2])).to_numpy()
    top_rows = pts[top]
    drivers = model.drivers(top_rows, imd=imd)
    internal = pd.DataFrame({
        "patient_id": top_rows["patient_id"].to_numpy(), "practice_code": top_rows["practice_code"].to_numpy(),
        "age": top_rows["age"].to_numpy(), "probability": probability[top].to_numpy(),
        "tier": tier[top].astype("str").to_numpy(), "main_drivers": drivers["main_drivers"].to_numpy(),
    })
    outcome = pts[OUTCOME_COLUMN]
    tables = {
        "risk_pyramid_practice": risk.pyramid_counts(tier, by=practice),
        "risk_pyramid_pcn": risk.pyramid_counts(tier, by=pcn),
        "risk_pyramid_area": risk.pyramid_counts(tier),
        "risk_segments_practice": risk.segment_counts(segments, by=practice),
        "risk_segments_pcn": risk.segment_counts(segments, by=pcn),
        "risk_frailty_practice": risk.frailty_counts(frailty, by=practice),
        "risk_frailty_pcn": risk.frailty_counts(frailty, by=pcn),
        "risk_hiu_practice": risk.high_intensity_counts(hiu, by=practice),
        "risk_hiu_pcn": risk.high_intensity_counts(hiu, by=pcn),
        "risk_high_by_deprivation": pd.concat(high_dep, ignore_index=True),
        "risk_tier_outcomes_pcn": pd.concat(
            [risk.tier_performance(tier[(pcn == p.code).to_numpy()],
                                   outcome[(pcn == p.code).to_numpy()]).assign(pcn_code=p.code)
             for p in params.pcns], ignore_index=True),
        "risk_model_metrics": report.metrics,
        "risk_model_calibration": report.calibration,
        "risk_model_tiers": report.tiers,
        "risk_model_coefficients": model.coefficients(),
        "risk_segment_rules": risk.SEGMENT_RULES,
        "risk_patients": internal,  # internal tier (patient-level): never shown
    }
    meta = {"report": str(report), "n_heldout": report.n_heldout, "c_statistic": report.c_statistic,
            "c_lowercl": report.c_lowercl, "c_uppercl": report.c_uppercl,
            "calibration_slope": report.calibration_slope, "brier": report.brier,
            "tier_cuts": list(params.risk.tier_cuts)}
    return tables, meta


def write_case_finding(prep, params, internal_dir: Path) -> list[Path]:
    """Each practice's case-finding list (top tiers, highest risk first) in ``internal/<practice>/``."""
    listed = prep.internal("risk_patients").reset_index(drop=True)
    labels = risk.tier_labels(params.risk.tier_cuts)  # highest risk first
    tier = pd.Series(pd.Categorical(listed["tier"], categories=list(labels[::-1])), index=listed.index)
    summary = risk.case_finding_lists(listed, listed["probability"], tier, internal_dir,
                                      practices=[p.code for p in params.practices],
                                      top=tuple(labels[:2]), drivers=listed["main_drivers"])
    return [Path(p) for p in summary["path"]]


# ----------------------------------------------------------------------------------------------- views
def practice_rows(pack, name: str) -> pd.DataFrame:
    """A by-practice prepared table for this PCN's own practices, named."""
    return pack.name_practices(pack.prepared[name])


def pcn_pyramid(pack) -> pd.DataFrame:
    t = pack.prepared["risk_pyramid_pcn"]
    return t[t["pcn_code"] == pack.pcn.code].drop(columns="pcn_code")


def model_metrics(pack) -> dict:
    return pack.prepared.meta["risk"]
