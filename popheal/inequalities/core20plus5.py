"""Core20PLUS5 coverage measures the patient extract supports, by deprivation quintile, Core20 and ethnicity.

NHS England, Core20PLUS5: an approach to reducing healthcare inequalities (adults, November 2021): the
Core20 population (national IMD deciles 1-2), PLUS groups chosen locally (e.g. ethnic minority communities,
people with a learning disability) and five clinical areas, of which the extract supports:

- hypertension case-finding and optimal management: recorded prevalence, and control of blood pressure
  among hypertensives with a recorded systolic BP. Targets from NICE NG136 (Hypertension in adults, 2019,
  updated 2023) for clinic BP: below 140/90 mmHg under 80 years, below 150/90 mmHg at 80 and over. The
  extract holds the last systolic reading only, so control is judged on the systolic value (strictly below
  the target);
- chronic respiratory disease: COPD prevalence;
- severe mental illness: annual physical health check among adults (18+) on the SMI register; Core20PLUS5
  ambition 60%;
- (PLUS group) learning disability: annual health check among people aged 14+ on the learning disability
  register; NHS Long Term Plan (2019) ambition 75%.

Proportions carry Wilson score limits (``popheal.stats.proportion``; Wilson 1927, as PHEindicatormethods
``phe_proportion``). A missing health-check flag counts as not done; a missing SBP leaves the patient out
of the control denominator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from popheal import stats as _stats
from popheal.inequalities._common import as_list, require_columns
from popheal.inequalities.aggregate import aggregate_extract, prepare_extract
from popheal.inequalities.breakdowns import labelled_frame

__all__ = [
    "CORE20PLUS5_TARGETS",
    "SBP_TARGET_80_PLUS",
    "SBP_TARGET_UNDER_80",
    "Measure",
    "core20plus5_counts",
    "core20plus5_definitions",
    "core20plus5_measures",
]

#: NICE NG136 clinic systolic targets (mmHg): <140 under 80 years, <150 at 80 and over.
SBP_TARGET_UNDER_80 = 140
SBP_TARGET_80_PLUS = 150

#: National ambitions (percent) for measures that have one.
CORE20PLUS5_TARGETS: dict[str, float] = {
    "SMI annual health check (18+)": 60.0,  # NHS England Core20PLUS5 (2021)
    "Learning disability annual health check (14+)": 75.0,  # NHS Long Term Plan (2019)
}


@dataclass(frozen=True)
class Measure:
    """One Core20PLUS5 measure: numerator flag, denominator mask (both boolean Series on the extract)."""

    name: str
    numerator: pd.Series
    denominator: pd.Series
    source: str


def core20plus5_definitions(extract: pd.DataFrame) -> list[Measure]:
    """The measures the extract supports, with numerator and denominator as patient-level boolean masks.

    Only measures whose columns are present are returned. Denominators: prevalence - every patient;
    BP control - hypertensives with a recorded SBP in the age range; health checks - the register in the
    age range.
    """
    require_columns(extract, ["age"], "patient extract")
    age = pd.to_numeric(extract["age"], errors="coerce")
    everyone = pd.Series(True, index=extract.index)

    def flag(column: str) -> pd.Series:
        return extract[column].fillna(False).astype(bool)

    out: list[Measure] = []
    if "ltc_hypertension" in extract.columns:
        htn = flag("ltc_hypertension")
        out.append(
            Measure(
                "Hypertension prevalence (recorded)",
                htn,
                everyone,
                "Core20PLUS5 (2021) clinical area 5: hypertension case-finding",
            )
        )
        if "sbp" in extract.columns:
            sbp = pd.to_numeric(extract["sbp"], errors="coerce")
            recorded = htn & sbp.notna()
            under80 = recorded & (age < 80)
            over80 = recorded & (age >= 80)
            out.append(
                Measure(
                    f"Hypertension: BP controlled, under 80 (SBP < {SBP_TARGET_UNDER_80})",
                    under80 & (sbp < SBP_TARGET_UNDER_80),
                    under80,
                    "NICE NG136 clinic target <140/90 mmHg under 80",
                )
            )
            out.append(
                Measure(
                    f"Hypertension: BP controlled, 80 and over (SBP < {SBP_TARGET_80_PLUS})",
                    over80 & (sbp < SBP_TARGET_80_PLUS),
                    over80,
                    "NICE NG136 clinic target <150/90 mmHg at 80 and over",
                )
            )
    if "ltc_copd" in extract.columns:
        out.append(
            Measure(
                "COPD prevalence (recorded)",
                flag("ltc_copd"),
                everyone,
                "Core20PLUS5 (2021) clinical area 3: chronic respiratory disease",
            )
        )
    if {"ltc_smi", "smi_health_check"} <= set(extract.columns):
        reg = flag("ltc_smi") & (age >= 18)
        out.append(
            Measure(
                "SMI annual health check (18+)",
                reg & flag("smi_health_check"),
                reg,
                "Core20PLUS5 (2021) clinical area 2: 60% of people with SMI",
            )
        )
    if {"ltc_learning_disability", "ld_health_check"} <= set(extract.columns):
        reg = flag("ltc_learning_disability") & (age >= 14)
        out.append(
            Measure(
                "Learning disability annual health check (14+)",
                reg & flag("ld_health_check"),
                reg,
                "NHS Long Term Plan (2019): 75% of people aged 14+ on the LD register",
            )
        )
    return out


def core20plus5_counts(
    extract: pd.DataFrame, imd: pd.DataFrame | None = None, by: str | Iterable[str] = "imd_quintile"
) -> pd.DataFrame:
    """Numerators and denominators of every supported measure by ``by``: ``[by...], indicator, numerator,
    denominator`` (crude counts; patients with a missing ``by`` value are left out)."""
    by = as_list(by)
    data = prepare_extract(extract, imd, by)
    defs = core20plus5_definitions(data)
    cols = {f"_m{i}": m.numerator for i, m in enumerate(defs)}
    frame = data.assign(**cols)
    measures = {m.name: f"_m{i}" for i, m in enumerate(defs)}
    dens = {m.name: m.denominator for m in defs}
    return aggregate_extract(frame, measures, by=by, denominators=dens, strata=())


def core20plus5_measures(
    extract: pd.DataFrame,
    imd: pd.DataFrame | None = None,
    by: Sequence[str] = ("imd_quintile", "core20", "ethnicity"),
    confidence: float | Sequence[float] = 0.95,
    include_all: bool = True,
    area: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Core20PLUS5 coverage measures as percentages with Wilson limits, overall and by each breakdown.

    Parameters
    ----------
    extract : the patient extract (``age``, ``lsoa11``, ``ethnicity``, ``ltc_hypertension``, ``sbp``,
        ``ltc_copd``, ``ltc_smi``, ``smi_health_check``, ``ltc_learning_disability``, ``ld_health_check``;
        measures whose columns are absent are skipped).
    imd : the normalised IoD table (needed for ``imd_quintile``/``core20``).
    by : breakdowns, each on its own (not crossed): national IMD quintile, Core20 vs the rest, ethnic group.

    Returns
    -------
    The indicator shape (``breakdown`` "All", "IMD 2019 national quintile", "Core20 ...", "Ethnic group"),
    ``value`` a percentage ("percentage", "Wilson"). Rows with a zero denominator are dropped. The national
    ambition of a measure, where there is one, is in :data:`CORE20PLUS5_TARGETS`.
    """
    frames = []
    breakdowns = [None] * include_all + list(by)
    for column in breakdowns:
        counts = core20plus5_counts(extract, imd, by=column or ())
        counts = counts[counts["denominator"] > 0]
        keys = ["indicator", column] if column else ["indicator"]
        res = _stats.proportion(
            counts, x="numerator", n="denominator", by=keys, confidence=confidence, multiplier=100
        )
        frame = labelled_frame(res, column, area)
        frame["_b"] = breakdowns.index(column)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    names = [m.name for m in core20plus5_definitions(extract)]
    out["_i"] = out["indicator"].map({n: i for i, n in enumerate(names)})
    out = out.sort_values(["_i", "_b", "_order"], kind="stable").drop(columns=["_i", "_b", "_order"])
    return out.reset_index(drop=True)
