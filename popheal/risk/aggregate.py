"""Aggregate tables of the risk analyses for the pack (and its charts).

All counts are returned unrounded: the notebook applies disclosure control (``popheal.disclosure``) at the one
export point, and charts are drawn from the controlled tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from .frailty import EFI_CATEGORIES
from .segments import SEGMENT_RULES

__all__ = [
    "count_by",
    "frailty_counts",
    "high_intensity_counts",
    "high_risk_by_deprivation",
    "pyramid_counts",
    "segment_counts",
]


def _by_frame(by, index: pd.Index) -> pd.DataFrame | None:
    if by is None:
        return None
    frame = by.to_frame() if isinstance(by, pd.Series) else pd.DataFrame(by)
    if not frame.index.equals(index):
        raise ValueError("the 'by' grouping must be aligned to the patients (same index)")
    frame.columns = [str(c) if c is not None else "group" for c in frame.columns]
    return frame


def count_by(category: pd.Series, by=None, levels=None, name: str | None = None) -> pd.DataFrame:
    """Patients in each level of ``category`` (all levels, zeros included) within each ``by`` group.

    Returns the ``by`` columns, ``name`` (the category), ``patients``, ``total_patients`` (the group's patients
    with a non-missing category) and ``share`` (patients / total_patients). Unrounded.
    """
    name = name or category.name or "category"
    levels = list(levels if levels is not None else category.cat.categories)
    groups = _by_frame(by, category.index)
    codes = pd.Categorical(category, categories=levels).codes
    keep = codes >= 0
    level_col = pd.Categorical.from_codes(codes[keep], categories=pd.Index(levels, dtype=object),
                                          ordered=getattr(category.dtype, "ordered", False))
    if groups is None:
        n = np.bincount(codes[keep], minlength=len(levels))
        out = pd.DataFrame({name: pd.Categorical(levels, categories=level_col.categories,
                                                 ordered=level_col.ordered), "patients": n})
        out["total_patients"] = int(n.sum())
    else:
        keys = list(groups.columns)
        frame = groups[keep].reset_index(drop=True)
        frame[name] = level_col
        counted = frame.groupby([*keys, name], observed=False, dropna=False).size()
        full = pd.MultiIndex.from_product(  # every group, even one with nobody in any level (e.g. no one 65+)
            [*(pd.Index(groups[k].dropna().unique()).sort_values() for k in keys), level_col.categories],
            names=[*keys, name],
        )
        out = counted.reindex(full, fill_value=0).rename("patients").reset_index()
        out[name] = pd.Categorical(out[name], categories=level_col.categories, ordered=level_col.ordered)
        out["total_patients"] = out.groupby(keys, observed=True)["patients"].transform("sum")
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share"] = out["patients"] / out["total_patients"]
    out["patients"] = out["patients"].astype(np.int64)
    out["total_patients"] = out["total_patients"].astype(np.int64)
    return out


def pyramid_counts(tier: pd.Series, by=None) -> pd.DataFrame:
    """Risk pyramid: patients per tier, highest tier first (``tier, patients, total_patients, share``), within
    each ``by`` group (e.g. ``extract["practice_code"]``). Tiers are ranked within whatever population
    :func:`popheal.risk.tiers` was given (the pack: the area), so a practice's shares differ from the cuts."""
    if not isinstance(tier.dtype, pd.CategoricalDtype):
        raise TypeError("pyramid_counts: tier must be the categorical returned by tiers()")
    out = count_by(tier, by, levels=list(tier.cat.categories), name="tier")
    keys = [c for c in out.columns if c not in ("tier", "patients", "total_patients", "share")]
    rank = (len(tier.cat.categories) - 1 - out["tier"].cat.codes).rename("_rank")
    return (out.assign(_rank=rank).sort_values([*keys, "_rank"], kind="stable").drop(columns="_rank")
            .reset_index(drop=True))


def segment_counts(segments: pd.Series, by=None) -> pd.DataFrame:
    """Patients per Bridges to Health segment (``segment, patients, total_patients, share``) within each ``by``
    group, segments in precedence order (End of life first, Healthy last)."""
    return count_by(segments, by, levels=list(SEGMENT_RULES["segment"]), name="segment")


def frailty_counts(frailty, by=None) -> pd.DataFrame:
    """People aged 65+ per eFI category (``efi_category, patients, total_patients, share``; ``total_patients`` is
    the group's population aged 65+) within each ``by`` group. ``frailty``: efi() or its category column."""
    category = frailty["efi_category"] if isinstance(frailty, pd.DataFrame) else frailty
    return count_by(category, by, levels=list(EFI_CATEGORIES), name="efi_category")


def high_intensity_counts(hiu: pd.Series, by=None) -> pd.DataFrame:
    """High intensity users of A&E per ``by`` group: ``high_intensity_users, patients`` (the group's
    population) and ``share``."""
    flag = pd.Series(pd.Categorical(np.where(hiu.to_numpy(dtype=bool), "yes", "no"), categories=["yes", "no"]),
                     index=hiu.index)
    out = count_by(flag, by, name="_hiu")
    out = out[out["_hiu"] == "yes"].drop(columns=["_hiu"]).reset_index(drop=True)
    return out.rename(columns={"patients": "high_intensity_users", "total_patients": "patients"})


def high_risk_by_deprivation(tier: pd.Series, quintile: pd.Series, high=None) -> pd.DataFrame:
    """Patients in the high-risk tiers per IMD quintile: ``imd_quintile, patients, high_risk_patients, share,
    lowercl, uppercl`` (Wilson 95% limits on the share), ``high_risk`` (which tiers). ``high``: the tier labels
    that count as high risk (default the top two, "top 0.5%" and "0.5-5%" with the default cuts)."""
    if not isinstance(tier.dtype, pd.CategoricalDtype):
        raise TypeError("high_risk_by_deprivation: tier must be the categorical returned by tiers()")
    if not quintile.index.equals(tier.index):
        raise ValueError("high_risk_by_deprivation: quintile must be aligned to the tiers (same index)")
    labels = list(tier.cat.categories[::-1])
    high = list(high) if high is not None else labels[:2]
    unknown = [h for h in high if h not in labels]
    if unknown:
        raise ValueError(f"high_risk_by_deprivation: {unknown} not among the tier labels {labels}")
    is_high = tier.isin(high).to_numpy()
    levels = list(quintile.cat.categories)
    codes = quintile.cat.codes.to_numpy()
    patients = np.bincount(codes[codes >= 0], minlength=len(levels))
    highs = np.bincount(codes[(codes >= 0) & is_high], minlength=len(levels))
    low, up = proportion_confint(highs, np.maximum(patients, 1), alpha=0.05, method="wilson")
    with np.errstate(invalid="ignore", divide="ignore"):
        share = highs / patients
    return pd.DataFrame({
        "imd_quintile": pd.Categorical(levels, categories=levels),
        "patients": patients.astype(np.int64),
        "high_risk_patients": highs.astype(np.int64),
        "share": share,
        "lowercl": np.where(patients > 0, low, np.nan),
        "uppercl": np.where(patients > 0, up, np.nan),
        "confidence": "95%",
        "method": "Wilson",
        "high_risk": " + ".join(high),
    })

