"""Cambridge Multimorbidity Score, 20-condition version (Payne et al. 2020).

Payne RA, Mendonca SC, Elliott MN, et al. Development and validation of the Cambridge Multimorbidity Score.
CMAJ 2020;192(5):E107-E114. doi:10.1503/cmaj.190757. Weights: reference/domain-spec.md B.2 (general-outcome
and mortality columns, as two independent public implementations give them; check against CMAJ Table 3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import flag, require_columns, require_frame

__all__ = ["CAMBRIDGE_CONDITIONS", "cambridge_score"]

# condition (Payne 2020), extract flag(s), general weight, mortality weight, how the flag is read
_ROWS = [
    ("Alcohol problems", ("ltc_alcohol",), 0.65, 12.72, ""),
    ("Anxiety / depression", ("ltc_anxiety", "ltc_depression"), 0.50, 7.04,
     "one condition: counted once when either flag is set"),
    ("Asthma (currently treated)", ("ltc_asthma",), 0.19, -2.73,
     "the flag is taken to mean currently treated asthma"),
    ("Atrial fibrillation", ("ltc_af",), 1.34, 22.14, ""),
    ("Cancer (new diagnosis in last 5 years)", ("ltc_cancer_5y",), 1.53, 62.00,
     "ltc_cancer_5y only; ltc_cancer (ever) does not count"),
    ("Chronic kidney disease", ("ltc_ckd",), 0.53, 16.61, ""),
    ("Connective tissue disorder", ("ltc_rheumatoid_arthritis",), 0.43, -0.39,
     "the rheumatoid arthritis / connective tissue flag"),
    ("Constipation (treated)", ("ltc_constipation",), 1.12, 35.42,
     "the flag is taken to mean treated constipation"),
    ("COPD", ("ltc_copd",), 1.46, 42.50, ""),
    ("Coronary heart disease", ("ltc_chd",), 0.49, 4.22, ""),
    ("Dementia", ("ltc_dementia",), 2.50, 124.42, ""),
    ("Diabetes", ("ltc_diabetes",), 0.75, 10.23, ""),
    ("Epilepsy (currently treated)", ("ltc_epilepsy",), 0.92, 18.26,
     "the flag is taken to mean currently treated epilepsy"),
    ("Hearing loss", ("ltc_hearing_loss",), 0.09, -3.94, ""),
    ("Heart failure", ("ltc_heart_failure",), 1.18, 43.47, ""),
    ("Hypertension", ("ltc_hypertension",), 0.08, -2.09, ""),
    ("Irritable bowel syndrome", ("ltc_ibs",), 0.21, -1.33, ""),
    ("Painful condition", ("ltc_painful_condition",), 0.92, 16.46, ""),
    ("Schizophrenia / bipolar", ("ltc_smi",), 0.64, 7.20, "the serious mental illness register flag"),
    ("Stroke / TIA", ("ltc_stroke_tia",), 0.80, 20.63, ""),
]

#: The 20 conditions of the score, the extract flag(s) each is read from, and both weight sets. A condition
#: with two flags counts once when either is set. Qualifiers such as "currently treated" or "treated" are
#: taken to be what the extract's flag already means (the extract contract defines the flags; the
#: CPRD@Cambridge code-list rules are applied upstream, when the extract is made).
CAMBRIDGE_CONDITIONS = pd.DataFrame(
    {
        "condition": [r[0] for r in _ROWS],
        "flags": [" or ".join(r[1]) for r in _ROWS],
        "general_weight": [r[2] for r in _ROWS],
        "mortality_weight": [r[3] for r in _ROWS],
        "note": [r[4] for r in _ROWS],
    }
)

_WEIGHT_SETS = {"general": 2, "mortality": 3}


def cambridge_score(extract: pd.DataFrame, weights: str = "general") -> pd.Series:
    """Cambridge Multimorbidity Score (Payne et al. 2020), 20 conditions, summed weights of those present.

    The conditions are mapped to the extract's ``ltc_*`` flags as listed in :data:`CAMBRIDGE_CONDITIONS`:
    "anxiety / depression" counts once when ``ltc_anxiety`` or ``ltc_depression`` is set; "schizophrenia /
    bipolar" is ``ltc_smi``; "connective tissue disorder" is ``ltc_rheumatoid_arthritis``; "cancer (new
    diagnosis in last 5 years)" is ``ltc_cancer_5y``. The "currently treated" / "treated" qualifiers are read
    as what the flags already mean under the extract contract.

    Parameters
    ----------
    extract : patient extract with the ``ltc_*`` flags named in :data:`CAMBRIDGE_CONDITIONS`.
    weights : "general" (the general-outcome weights, default) or "mortality".

    Returns
    -------
    Float Series ``cambridge_score`` on the extract's index (0 for no condition); defined at every age.
    """
    if weights not in _WEIGHT_SETS:
        raise ValueError(f"cambridge_score: weights must be 'general' or 'mortality', not {weights!r}")
    require_frame(extract, "cambridge_score")
    require_columns(extract, [c for r in _ROWS for c in r[1]], "cambridge_score")
    position = _WEIGHT_SETS[weights]
    score = np.zeros(len(extract), dtype=np.float64)
    for row in _ROWS:
        present = flag(extract, row[1][0])
        for other in row[1][1:]:
            present = present | flag(extract, other)
        score += row[position] * present
    # the weights have two decimals: round away the floating-point noise of the sum
    return pd.Series(np.round(score, 2), index=extract.index, name="cambridge_score")
