"""Bridges to Health population segmentation (Lynn et al. 2007), one segment per patient.

Lynn J, Straube BM, Bell KM, Jencks SF, Kambic RT. Using population segmentation to provide better health care
for all: the "Bridges to Health" model. Milbank Q 2007;85(2):185-208. doi:10.1111/j.1468-0009.2007.00483.x.
The eight segments are Lynn's; the rules that place a patient from GP data are popheal's own (reference/
domain-spec.md D.1 guidance: a precedence order from most to least severe), written out in SEGMENT_RULES.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from popheal.io.extract_schema import EFI_COLUMNS, LTC_COLUMNS

from ._common import age, count, flag, require_columns, require_frame
from .frailty import efi

__all__ = ["SEGMENTS", "SEGMENT_RULES", "segment"]

# (segment, Lynn 2007 segment, rule in plain English), in precedence order: most severe first.
_RULES = [
    ("End of life", "6. Short period of decline before dying",
     "On the palliative care / end-of-life register (palliative)."),
    ("Frailty and dementia", "8. Long course of decline (frailty and/or dementia)",
     ("Dementia (ltc_dementia); or severe frailty (eFI 14+ of 36 deficits, aged 65+); or moderate frailty "
     "(eFI 9-13) and housebound; or aged 65+ and living in a care home. Moderate frailty alone is not enough: "
     "it covers about 12% of people aged 65+, most with 'normal' function, whereas Lynn's segment is the long "
     "decline that needs carer support.")),
    ("Organ failure", "7. Limited reserve and serious exacerbations (organ failure)",
     ("Heart failure (ltc_heart_failure), COPD (ltc_copd) or chronic kidney disease (ltc_ckd). The extract's "
     "CKD flag is the QOF register (stages 3-5) and cannot isolate stages 4-5, so this segment is wider than "
     "a CKD 4-5 rule would make it; no liver-failure flag exists in the extract.")),
    ("Stable disability", "5. Stable but serious disability",
     "Learning disability (ltc_learning_disability), or housebound, or living in a care home."),
    ("Chronic conditions", "4. Chronic conditions, generally normal function",
     ("Any long-term condition flag (any of the 25 ltc_* columns, which include the 20 Cambridge "
     "Multimorbidity Score conditions).")),
    ("Maternal and infant health", "2. Maternal and infant health",
     "Pregnant (pregnant), or an infant under 1 year old (age 0)."),
    ("Acutely ill", "3. Acutely ill, likely to recover",
     ("At least one emergency admission (emergency_admissions) or A&E attendance (ae_attendances) in the "
     "last 12 months.")),
    ("Healthy", "1. Healthy", "None of the above."),
]

#: The eight segments as an ordered categorical's categories, least to most severe (Healthy < ... < End of
#: life), i.e. the reverse of the precedence order.
SEGMENTS: tuple[str, ...] = tuple(r[0] for r in reversed(_RULES))

#: The segment rules for the pack's method note: precedence ``order`` (1 = tested first, most severe),
#: ``segment``, ``lynn_segment`` (Lynn et al. 2007 segment number and name) and the ``rule`` in plain English.
SEGMENT_RULES = pd.DataFrame(
    {
        "order": range(1, len(_RULES) + 1),
        "segment": [r[0] for r in _RULES],
        "lynn_segment": [r[1] for r in _RULES],
        "rule": [r[2] for r in _RULES],
    }
)

_NEEDS = ["age", "palliative", "pregnant", "care_home", "housebound", "emergency_admissions", "ae_attendances",
          *LTC_COLUMNS]


def segment(extract: pd.DataFrame, frailty: pd.DataFrame | None = None) -> pd.Series:
    """Bridges to Health segment (Lynn et al. 2007) of every patient, exactly one each.

    Each patient takes the first segment whose rule they meet, in this order (most to least severe):

    1. End of life: on the palliative care / end-of-life register.
    2. Frailty and dementia: dementia; or severe frailty (eFI 14+ deficits, 65+); or moderate frailty and
       housebound; or aged 65+ in a care home. Moderate frailty alone does not qualify.
    3. Organ failure: heart failure, COPD or CKD (the QOF CKD 3-5 register flag).
    4. Stable disability: learning disability, housebound, or living in a care home.
    5. Chronic conditions: any ``ltc_*`` flag.
    6. Maternal and infant health: pregnant, or aged under 1.
    7. Acutely ill: an emergency admission or A&E attendance in the last 12 months.
    8. Healthy: everyone else.

    :data:`SEGMENT_RULES` holds the same rules as a table for the pack's method note.

    Parameters
    ----------
    extract : patient extract (DESIGN.md contract).
    frailty : the result of :func:`popheal.risk.efi` for the same extract, to avoid recomputing it.

    Returns
    -------
    Ordered categorical Series ``segment`` on the extract's index; categories :data:`SEGMENTS` (least to most
    severe).
    """
    require_frame(extract, "segment")
    require_columns(extract, _NEEDS if frailty is not None else [*_NEEDS, *EFI_COLUMNS], "segment")
    if frailty is None:
        frailty = efi(extract)
    elif not frailty.index.equals(extract.index):
        raise ValueError("segment: 'frailty' must be efi() of the same extract (its index differs)")
    ages = age(extract)
    housebound = flag(extract, "housebound")
    care_home = flag(extract, "care_home")
    deficits = frailty["efi_deficits"].to_numpy(dtype=np.int16, na_value=0)
    eligible = ages >= 65
    severe = eligible & (deficits >= 14)
    moderate = eligible & (deficits >= 9) & (deficits < 14)
    any_ltc = np.zeros(len(extract), dtype=bool)
    for c in LTC_COLUMNS:
        any_ltc |= flag(extract, c)
    conditions = [
        flag(extract, "palliative"),
        flag(extract, "ltc_dementia") | severe | (moderate & housebound) | (eligible & care_home),
        flag(extract, "ltc_heart_failure") | flag(extract, "ltc_copd") | flag(extract, "ltc_ckd"),
        flag(extract, "ltc_learning_disability") | housebound | care_home,
        any_ltc,
        flag(extract, "pregnant") | (ages < 1),
        (count(extract, "emergency_admissions") > 0) | (count(extract, "ae_attendances") > 0),
    ]
    n = len(SEGMENTS)
    # precedence position i (0 = End of life) is category n - 1 - i; the default is Healthy (0)
    codes = np.select(conditions, [np.int8(n - 1 - i) for i in range(len(conditions))], default=np.int8(0))
    cat = pd.Categorical.from_codes(codes.astype(np.int8), categories=pd.Index(SEGMENTS, dtype=object),
                                    ordered=True)
    return pd.Series(cat, index=extract.index, name="segment")
