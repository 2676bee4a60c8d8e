"""Index of Multiple Deprivation quintile of each patient, joined from the LSOA (English IoD 2019)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from popheal.io.errors import InputError, first_rows

from ._common import EXTRACT, require_frame

__all__ = ["IMD_QUINTILES", "UNKNOWN", "imd_decile", "imd_quintile"]

UNKNOWN = "unknown"
#: Quintile labels (national IMD 2019 quintiles; 1 = most deprived 20% of LSOAs) and the unknown level.
IMD_QUINTILES: tuple[str, ...] = ("1 (most deprived)", "2", "3", "4", "5 (least deprived)", UNKNOWN)


def _codes_from_deciles(deciles: np.ndarray) -> np.ndarray:
    """Quintile code 0-4 from decile 1-10 (deciles 1-2 -> quintile 1), 5 (unknown) where the decile is NaN."""
    codes = np.full(len(deciles), 5, dtype=np.int8)
    known = ~np.isnan(deciles)
    codes[known] = ((deciles[known] - 1) // 2).astype(np.int8)
    return codes


def imd_decile(extract: pd.DataFrame, imd: pd.DataFrame) -> pd.Series:
    """National IMD 2019 decile (1 = most deprived) of every patient's LSOA, from the normalised IoD table
    (``lsoa11, imd_decile``); missing (NaN) when the patient has no LSOA or the table does not hold it.
    ``Series.attrs`` counts ``no_lsoa`` and ``lsoa_not_in_imd`` for the data-quality note."""
    require_frame(extract, "imd_decile")
    if not isinstance(imd, pd.DataFrame) or not {"lsoa11", "imd_decile"} <= set(imd.columns):
        raise InputError("IMD table", "imd must be the normalised IoD table with columns lsoa11, imd_decile")
    if "lsoa11" not in extract.columns:
        raise InputError(EXTRACT, "joining deprivation needs the lsoa11 column", "lsoa11")
    table = imd[["lsoa11", "imd_decile"]]
    dup = table["lsoa11"].duplicated()
    if dup.any():
        raise InputError("IMD table", "each LSOA must appear once", "lsoa11", first_rows(dup))
    deciles = pd.to_numeric(table["imd_decile"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.isnan(deciles) | (deciles < 1) | (deciles > 10) | (deciles != np.floor(deciles))
    if bad.any():
        raise InputError("IMD table", "imd_decile must be a whole number 1-10", "imd_decile",
                         first_rows(pd.Series(bad, index=table.index)))
    # join the distinct LSOA codes (hundreds), not the patients (millions)
    codes, uniques = pd.factorize(extract["lsoa11"], use_na_sentinel=True)
    unique_codes = pd.Index(np.asarray(uniques, dtype=object)).astype("str").str.strip()
    blank = np.append(np.asarray(unique_codes == "", dtype=bool), True)  # last slot: missing LSOA
    position = np.append(pd.Index(table["lsoa11"].astype("str")).get_indexer(unique_codes), -1)
    unique_deciles = np.where(position >= 0, deciles[np.maximum(position, 0)], np.nan)
    slot = np.where(codes >= 0, codes, len(unique_codes))
    no_lsoa = blank[slot]
    found = (position >= 0)[slot] & ~no_lsoa
    out = pd.Series(unique_deciles[slot], index=extract.index, name="imd_decile")
    out.attrs.update({"no_lsoa": int(no_lsoa.sum()), "lsoa_not_in_imd": int((~found & ~no_lsoa).sum())})
    return out


def imd_quintile(extract: pd.DataFrame, imd: pd.DataFrame | None = None) -> pd.Series:
    """IMD quintile of every patient's LSOA of residence, with an "unknown" level.

    The national IMD 2019 decile of the patient's ``lsoa11`` (from ``imd``, the normalised IoD table of
    ``popheal.io.deprivation``: ``lsoa11, imd_decile``) is grouped into quintiles (deciles 1-2 -> quintile 1,
    most deprived). Without ``imd`` the extract's own ``imd_quintile`` column (1-5, missing = unknown) is used.
    Patients with no LSOA, or an LSOA the IoD table does not hold, are "unknown": they are counted (in
    ``Series.attrs``: ``no_lsoa``, ``lsoa_not_in_imd``) for the pack's data-quality note, never dropped.

    Returns
    -------
    Categorical Series ``imd_quintile`` on the extract's index, categories :data:`IMD_QUINTILES`.
    """
    require_frame(extract, "imd_quintile")
    attrs = {}
    if imd is not None:
        deciles = imd_decile(extract, imd)
        codes = _codes_from_deciles(deciles.to_numpy())
        attrs = dict(deciles.attrs)
    elif "imd_quintile" in extract.columns:
        s = extract["imd_quintile"]
        if isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(s.dtype):
            labels = s.astype(object).where(s.notna(), UNKNOWN).astype(str)
            numeric = pd.to_numeric(labels.str.slice(0, 1), errors="coerce")
            ok = labels.isin(IMD_QUINTILES) | labels.isin(["1", "2", "3", "4", "5"])
            if not ok.all():
                raise InputError(EXTRACT, f"imd_quintile must be 1-5 or one of {IMD_QUINTILES}", "imd_quintile",
                                 first_rows(~ok))
            codes = np.where(labels == UNKNOWN, 5, numeric.fillna(6) - 1).astype(np.int8)
        else:
            values = s.to_numpy(dtype=np.float64, na_value=np.nan)
            bad = ~np.isnan(values) & ~np.isin(values, [1, 2, 3, 4, 5])
            if bad.any():
                raise InputError(EXTRACT, "imd_quintile must be 1-5 or missing", "imd_quintile",
                                 first_rows(pd.Series(bad, index=s.index)))
            codes = np.where(np.isnan(values), 5, np.nan_to_num(values) - 1).astype(np.int8)
        attrs = {"unknown": int((codes == 5).sum())}
    else:
        raise InputError(
            EXTRACT,
            "deprivation needs either the imd argument (normalised IoD table: lsoa11, imd_decile) or an "
            "imd_quintile column in the extract",
            "imd_quintile",
        )
    cat = pd.Categorical.from_codes(codes, categories=pd.Index(IMD_QUINTILES, dtype=object))
    out = pd.Series(cat, index=extract.index, name="imd_quintile")
    out.attrs.update(attrs)
    return out
