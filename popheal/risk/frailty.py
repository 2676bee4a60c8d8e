"""Electronic frailty index (eFI) for people aged 65 and over (Clegg et al. 2016).

Clegg A, Bates C, Young J, et al. Development and validation of an electronic frailty index using routine
primary care electronic health record data. Age Ageing 2016;45(3):353-60. doi:10.1093/ageing/afw039.
Categories: frailtytoolkit.org/electronic-frailty-index-efi/ (reference/domain-spec.md A.3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from popheal.io.extract_schema import EFI_COLUMNS

from ._common import age, categorical_from_codes, flags_sum, require_columns, require_frame

__all__ = ["EFI_CATEGORIES", "EFI_CATEGORY_MIN_DEFICITS", "EFI_MIN_AGE", "EFI_N_DEFICITS", "efi"]

#: The number of deficits in the index (Clegg 2016, Box 1).
EFI_N_DEFICITS = 36
#: The index is defined for people aged 65 and over.
EFI_MIN_AGE = 65
#: Category labels, least to most frail.
EFI_CATEGORIES: tuple[str, ...] = ("fit", "mild", "moderate", "severe")
#: The smallest integer deficit count of mild, moderate and severe frailty (0-4 fit, 5-8 mild, 9-13 moderate,
#: 14+ severe; frailtytoolkit.org). Categories are decided on the count, never on the float score: 13/36 =
#: 0.361 is "moderate" although it exceeds the published score cut of 0.36 (domain-spec A.3 boundary note).
EFI_CATEGORY_MIN_DEFICITS: tuple[int, int, int] = (5, 9, 14)


def efi(extract: pd.DataFrame) -> pd.DataFrame:
    """Electronic frailty index (Clegg et al. 2016) of every patient aged 65+, aligned to the extract.

    The score is the number of the 36 deficits present (the ``efi_*`` flags of the extract contract, each taken
    as recorded, e.g. ``efi_polypharmacy`` as supplied by the extract) divided by 36, equally weighted. The
    category is decided on the integer count: fit 0-4, mild 5-8, moderate 9-13, severe 14+ deficits
    (frailtytoolkit.org; score cuts 0.12 / 0.24 / 0.36), so that 13 deficits (13/36 = 0.361) is unambiguously
    "moderate". The paper validated the index at ages 65-95; it is applied here to everyone aged 65 and over.

    Parameters
    ----------
    extract : patient extract (DESIGN.md contract) with ``age`` and the 36 ``efi_*`` bool columns.

    Returns
    -------
    DataFrame on the extract's index with ``efi_deficits`` (nullable Int64), ``efi_score`` (float, NaN) and
    ``efi_category`` (ordered categorical fit < mild < moderate < severe); all missing for people under 65.
    """
    require_frame(extract, "efi")
    require_columns(extract, ["age", *EFI_COLUMNS], "efi")
    ages = age(extract)
    deficits = flags_sum(extract, EFI_COLUMNS, dtype=np.int8)
    eligible = ages >= EFI_MIN_AGE
    codes = np.searchsorted(np.asarray(EFI_CATEGORY_MIN_DEFICITS), deficits, side="right").astype(np.int8)
    codes[~eligible] = -1
    score = np.where(eligible, deficits / EFI_N_DEFICITS, np.nan)
    out = pd.DataFrame(
        {
            "efi_deficits": pd.arrays.IntegerArray(deficits.astype(np.int64), ~eligible),
            "efi_score": score,
        },
        index=extract.index,
    )
    out["efi_category"] = categorical_from_codes(codes, EFI_CATEGORIES, extract.index, "efi_category")
    return out
