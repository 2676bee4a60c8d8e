"""Risk stratification for population health: frailty, multimorbidity, segmentation, admission risk, tiers.

- :func:`efi`: electronic frailty index of people aged 65+ (Clegg et al., Age Ageing 2016;45:353-60).
- :func:`cambridge_score`: Cambridge Multimorbidity Score, 20 conditions (Payne et al., CMAJ 2020;192:E107).
- :func:`segment`: Bridges to Health segments (Lynn et al., Milbank Q 2007;85:185-208); rules in
  :data:`SEGMENT_RULES`.
- :class:`AdmissionModel`: logistic model of an emergency admission in the next 12 months; held-out c-statistic
  (DeLong 1988), calibration (Van Calster 2016), Brier score.
- :func:`tiers`: risk tiers by rank within the population passed (Kaiser Permanente pyramid, NHS tiers).
- :func:`high_intensity_users`: 5+ A&E attendances in 12 months (NHS England High Intensity User programme).
- :func:`case_finding_lists`: per-practice patient-level lists, only in a run's ``internal/`` folder.
- Aggregates for the pack (unrounded; disclosure control is applied at export): :func:`pyramid_counts`,
  :func:`segment_counts`, :func:`frailty_counts`, :func:`high_intensity_counts`,
  :func:`high_risk_by_deprivation`, :func:`tier_performance`.

Everything is vectorised over the patient extract of DESIGN.md "Data contracts" (no loop over patients).
Ordered categoricals run from lowest to highest need (fit < severe, Healthy < End of life, rest < top 0.5%).
"""

from . import terms
from .aggregate import (
    count_by,
    frailty_counts,
    high_intensity_counts,
    high_risk_by_deprivation,
    pyramid_counts,
    segment_counts,
)
from .casefinding import PRACTICE_CODE_PATTERN, UnsafeOutputError, case_finding_lists, classification_label
from .deprivation import IMD_QUINTILES, imd_quintile
from .frailty import EFI_CATEGORIES, EFI_CATEGORY_MIN_DEFICITS, EFI_MIN_AGE, EFI_N_DEFICITS, efi
from .model import (
    AdmissionModel,
    ModelReport,
    NotFittedError,
    calibration_by_decile,
    default_terms,
    delong_auc,
    tier_performance,
)
from .multimorbidity import CAMBRIDGE_CONDITIONS, cambridge_score
from .segments import SEGMENT_RULES, SEGMENTS, segment
from .tiers import DEFAULT_CUTS, HIU_THRESHOLD, high_intensity_users, rank_order, tier_labels, tiers

__all__ = [
    "CAMBRIDGE_CONDITIONS",
    "DEFAULT_CUTS",
    "EFI_CATEGORIES",
    "EFI_CATEGORY_MIN_DEFICITS",
    "EFI_MIN_AGE",
    "EFI_N_DEFICITS",
    "HIU_THRESHOLD",
    "IMD_QUINTILES",
    "PRACTICE_CODE_PATTERN",
    "SEGMENTS",
    "SEGMENT_RULES",
    "AdmissionModel",
    "ModelReport",
    "NotFittedError",
    "UnsafeOutputError",
    "calibration_by_decile",
    "cambridge_score",
    "case_finding_lists",
    "classification_label",
    "count_by",
    "default_terms",
    "delong_auc",
    "efi",
    "frailty_counts",
    "high_intensity_counts",
    "high_intensity_users",
    "high_risk_by_deprivation",
    "imd_quintile",
    "pyramid_counts",
    "rank_order",
    "segment",
    "segment_counts",
    "terms",
    "tier_labels",
    "tier_performance",
    "tiers",
]
