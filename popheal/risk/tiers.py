"""Risk tiers (Kaiser Permanente pyramid / NHS risk-stratification tiers) and high intensity users.

Tiers rank patients on predicted risk within the population passed (the pack ranks within the area), as NHS
risk-stratification tools do (reference/domain-spec.md D.2: the Kaiser Permanente pyramid adopted by the 2005
NHS and Social Care Model for long-term conditions; tiers top 0.5% / 0.5-5% / 5-20% / rest).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from popheal.io.errors import InputError, first_rows

from ._common import count, require_columns, require_frame

__all__ = ["DEFAULT_CUTS", "HIU_THRESHOLD", "high_intensity_users", "rank_order", "tier_labels", "tiers"]

#: Cumulative top fractions of the default tiers: top 0.5%, next to 5%, next to 20%, rest.
DEFAULT_CUTS: tuple[float, ...] = (0.005, 0.05, 0.20)
#: NHS England High Intensity User programme: 5 or more A&E attendances in 12 months.
HIU_THRESHOLD = 5


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.4g}%"


def tier_labels(cuts: Sequence[float] = DEFAULT_CUTS) -> tuple[str, ...]:
    """Tier labels from the cuts, highest risk first: (0.005, 0.05, 0.2) -> "top 0.5%", "0.5-5%", "5-20%", "rest"."""
    cuts = _check_cuts(cuts)
    labels = [f"top {_percent(cuts[0])}"]
    for lower, upper in itertools.pairwise(cuts):
        labels.append(f"{_percent(lower)[:-1]}-{_percent(upper)}")
    labels.append("rest")
    return tuple(labels)


def _check_cuts(cuts) -> tuple[float, ...]:
    cuts = tuple(float(c) for c in cuts)
    if not cuts or any(not 0 < c < 1 for c in cuts) or any(b <= a for a, b in itertools.pairwise(cuts)):
        raise ValueError(f"tiers: cuts must be increasing fractions strictly between 0 and 1, got {cuts}")
    return cuts


def _stable_hash(ids, positions: np.ndarray) -> np.ndarray:
    """A 64-bit hash of the ids at ``positions`` that is the same in every session and on every platform
    (pandas' SipHash with its fixed default key, ``pandas.util.hash_pandas_object``; the same value whether the
    ids are held as Python or Arrow strings). Duplicated ids among them cannot be ordered: an error."""
    if isinstance(ids, pd.Series):
        subset = pd.Index(ids.iloc[positions])
    elif isinstance(ids, pd.Index):
        subset = ids[positions]
    else:
        subset = pd.Index(np.asarray(ids)[positions])
    if not subset.is_unique:
        raise ValueError("tiers: ids (or the probability's index) must be unique to break ties")
    return pd.util.hash_pandas_object(subset, index=False).to_numpy()


def _probabilities(probability) -> pd.Series:
    if not isinstance(probability, pd.Series):
        probability = pd.Series(np.asarray(probability, dtype=np.float64))
    p = probability.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(p) | (p < 0) | (p > 1)
    if bad.any():
        raise InputError("probability", "a probability must be a number from 0 to 1 (none missing)",
                         probability.name, first_rows(pd.Series(bad, index=probability.index)))
    return probability


def _ids(probability: pd.Series, ids):
    ids = probability.index if ids is None else ids
    if len(ids) != len(probability):
        raise ValueError("tiers: ids must have one entry per probability")
    return ids


def rank_order(probability: pd.Series, ids=None) -> np.ndarray:
    """Positions of ``probability`` from highest to lowest risk, ties broken by a stable hash of the id.

    Ties (equal probabilities, common when every covariate is categorical) are ordered by the ascending 64-bit
    SipHash of ``ids`` (default: the Series' index, e.g. patient_id), so the order does not depend on row order
    and is the same on every run and machine, without favouring low or early ids. Only tied entries are hashed.
    """
    probability = _probabilities(probability)
    ids = _ids(probability, ids)
    p = probability.to_numpy(dtype=np.float64)
    order = np.argsort(-p, kind="stable")
    ps = p[order]
    tied_sorted = np.zeros(len(p), dtype=bool)
    if len(p) > 1:
        same = ps[1:] == ps[:-1]
        tied_sorted[1:] |= same
        tied_sorted[:-1] |= same
    if tied_sorted.any():
        tied = np.sort(order[tied_sorted])
        keys = np.zeros(len(p), dtype=np.uint64)
        keys[tied] = _stable_hash(ids, tied)
        order = np.lexsort((keys, -p))
    return order


def tiers(probability: pd.Series, cuts: Sequence[float] = DEFAULT_CUTS, ids=None) -> pd.Series:
    """Risk tier of every patient: cumulative top fractions of predicted risk within the population passed.

    Patients are ranked from highest to lowest probability, ties broken by a stable hash of the patient id
    (:func:`rank_order`). The patient at rank r (1 = highest) of N is in the first tier whose cut c satisfies
    r <= floor(c * N), so a tier never holds more than its stated share (with N = 1,000: 5, 45, 150 and 800
    patients). The pyramid follows the Kaiser Permanente risk pyramid and the NHS tiers of reference/
    domain-spec.md D.2; the pack ranks within the area.

    Computed without a full sort: for each cut the k-th highest probability is found by selection
    (``numpy.partition``); patients above it are in, and only the group tied at it is ordered by hash. The
    result is identical to cutting :func:`rank_order`.

    Parameters
    ----------
    probability : predicted probabilities (0-1), one per patient; the index is kept (and hashed for ties).
    cuts : increasing cumulative top fractions; labels are derived from them (:func:`tier_labels`).
    ids : optional unique ids (e.g. ``extract["patient_id"]``) to hash for ties instead of the index.

    Returns
    -------
    Ordered categorical Series ``tier`` on ``probability``'s index. Categories run from lowest to highest
    risk ("rest" < "5-20%" < "0.5-5%" < "top 0.5%"), as efi_category runs fit < severe, so
    ``tier >= "0.5-5%"`` selects the top 5%.
    """
    labels = tier_labels(cuts)
    cuts = _check_cuts(cuts)
    probability = _probabilities(probability)
    ids = _ids(probability, ids)
    p = probability.to_numpy(dtype=np.float64)
    n = len(p)
    sizes = np.floor(np.asarray(cuts) * n + 1e-9).astype(np.int64)  # cumulative number in each top tier
    inside_count = np.zeros(n, dtype=np.int8)  # how many top-k sets hold the patient (0 = rest)
    kth = sorted({int(k) - 1 for k in sizes if 0 < k < n})
    selected = -np.partition(-p, kth) if kth else None
    tie_order: dict[float, np.ndarray] = {}  # tied positions at a threshold, in hash order
    for k in sizes:
        if k <= 0:
            continue
        if k >= n:
            inside_count += 1
            continue
        threshold = selected[k - 1]  # the k-th highest probability
        inside = p > threshold
        need = int(k - inside.sum())
        if threshold not in tie_order:
            tied = np.flatnonzero(p == threshold)
            tie_order[threshold] = tied[np.argsort(_stable_hash(ids, tied), kind="stable")] if len(tied) > need \
                else tied
        inside[tie_order[threshold][:need]] = True
        inside_count += inside
    codes = inside_count  # 0 = rest ... len(cuts) = top tier: the category codes, lowest risk first
    cat = pd.Categorical.from_codes(codes, categories=pd.Index(labels[::-1], dtype=object), ordered=True)
    return pd.Series(cat, index=probability.index, name="tier")


def high_intensity_users(extract: pd.DataFrame, threshold: int = HIU_THRESHOLD) -> pd.Series:
    """High intensity users of A&E: ``threshold`` (default 5) or more attendances in the last 12 months.

    Definition of the NHS England High Intensity User programme (five or more A&E attendances in a year).

    Returns
    -------
    Bool Series ``high_intensity_user`` on the extract's index.
    """
    require_frame(extract, "high_intensity_users")
    require_columns(extract, ["ae_attendances"], "high_intensity_users")
    if int(threshold) != threshold or threshold < 1:
        raise ValueError("high_intensity_users: threshold must be a whole number of at least 1")
    return pd.Series(count(extract, "ae_attendances") >= threshold, index=extract.index,
                     name="high_intensity_user")
