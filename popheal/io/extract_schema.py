"""The column contract of the two extracts no public source provides (DESIGN.md "Data contracts").

Constants only, so that the reader (``popheal.io.extract``), the generator (``popheal.synth``) and the
analyses agree on one list. eFI deficit names follow Clegg et al. 2016, Box 1 (reference/domain-spec.md A.2),
in snake_case.
"""

from __future__ import annotations

__all__ = [
    "ACTIVITY_COLUMNS",
    "CLINICAL_COLUMNS",
    "EFI_COLUMNS",
    "EFI_DEFICITS",
    "ETHNIC_GROUPS",
    "LTC_COLUMNS",
    "LTC_NAMES",
    "OUTCOME_COLUMN",
    "PATIENT_COLUMNS",
    "PATIENT_SEXES",
    "PRIORITIES",
    "REFERRAL_COLUMNS",
    "ROUTES",
    "STATUS_FLAGS",
]

#: Long-term condition flags, named ``ltc_<name>`` (bool).
LTC_NAMES: tuple[str, ...] = (
    "af", "alcohol", "anxiety", "asthma", "cancer", "cancer_5y", "chd", "ckd", "constipation", "copd",
    "dementia", "depression", "diabetes", "epilepsy", "hearing_loss", "heart_failure", "hypertension", "ibs",
    "learning_disability", "osteoporosis", "pad", "painful_condition", "rheumatoid_arthritis", "smi",
    "stroke_tia",
)
LTC_COLUMNS: tuple[str, ...] = tuple(f"ltc_{n}" for n in LTC_NAMES)

#: Status flags (bool).
STATUS_FLAGS: tuple[str, ...] = ("palliative", "pregnant", "care_home", "housebound")

#: The 36 eFI deficits (Clegg et al. 2016, Box 1), in the paper's order.
EFI_DEFICITS: tuple[str, ...] = (
    "activity_limitation", "anaemia", "arthritis", "atrial_fibrillation", "cerebrovascular_disease",
    "chronic_kidney_disease", "diabetes", "dizziness", "dyspnoea", "falls", "foot_problems",
    "fragility_fracture", "hearing_impairment", "heart_failure", "heart_valve_disease", "housebound",
    "hypertension", "hypotension_syncope", "ischaemic_heart_disease", "memory_and_cognitive_problems",
    "mobility_and_transfer_problems", "osteoporosis", "parkinsonism_and_tremor", "peptic_ulcer",
    "peripheral_vascular_disease", "polypharmacy", "requirement_for_care", "respiratory_disease",
    "skin_ulcer", "sleep_disturbance", "social_vulnerability", "thyroid_disease", "urinary_incontinence",
    "urinary_system_disease", "visual_impairment", "weight_loss_and_anorexia",
)
EFI_COLUMNS: tuple[str, ...] = tuple(f"efi_{n}" for n in EFI_DEFICITS)

#: Activity in the last 12 months (non-negative int).
ACTIVITY_COLUMNS: tuple[str, ...] = (
    "gp_contacts", "ae_attendances", "emergency_admissions", "outpatient_attendances", "referrals",
)

#: Clinical values where recorded: ``sbp`` (float, NA when not recorded), health checks (bool).
CLINICAL_COLUMNS: tuple[str, ...] = ("sbp", "smi_health_check", "ld_health_check")

ETHNIC_GROUPS: tuple[str, ...] = ("Asian", "Black", "Mixed", "White", "Other", "Not stated")
PATIENT_SEXES: tuple[str, ...] = ("F", "M", "U")

#: The outcome used to train and validate the admission model (bool).
OUTCOME_COLUMN = "emergency_admission_next_12m"

#: Every patient-extract column and its kind: id, code, sex, age, lsoa, ethnicity, bool, count, float.
PATIENT_COLUMNS: dict[str, str] = {
    "patient_id": "id",
    "practice_code": "code",
    "sex": "sex",
    "age": "age",
    "lsoa11": "lsoa",
    "ethnicity": "ethnicity",
    **{c: "bool" for c in LTC_COLUMNS},
    **{c: "bool" for c in STATUS_FLAGS},
    **{c: "bool" for c in EFI_COLUMNS},
    "n_medications": "count",
    **{c: "count" for c in ACTIVITY_COLUMNS},
    "sbp": "float",
    "smi_health_check": "bool",
    "ld_health_check": "bool",
    OUTCOME_COLUMN: "bool",
}

PRIORITIES: tuple[str, ...] = ("routine", "urgent", "two-week-wait")
ROUTES: tuple[str, ...] = ("referral", "advice-and-guidance")

#: Every referral-extract column and its kind.
REFERRAL_COLUMNS: dict[str, str] = {
    "referral_id": "id",
    "practice_code": "code",
    "patient_age": "age",
    "patient_sex": "sex",
    "referral_date": "date",
    "specialty": "text",
    "priority": "priority",
    "route": "route",
    "provider_code": "code",
    "out_of_area": "bool",
}
