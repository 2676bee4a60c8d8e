"""Plain-English findings from a referral-variation result, for the PCN's own practices only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["findings"]

_LEVEL = {"High (0.001)": 0, "Low (0.001)": 0, "High (0.025)": 1, "Low (0.025)": 1}


def _how_much(ratio: np.ndarray) -> list[str]:
    """"38% more than expected", "2.1 times the expected number of referrals", "25% fewer than expected"."""
    out = []
    for r in ratio:
        if r >= 1.995:
            out.append(f"{r:.1f} times the expected number of referrals")
        elif r >= 1:
            out.append(f"{max(round((r - 1) * 100), 1):.0f}% more than expected")
        else:
            out.append(f"{max(round((1 - r) * 100), 1):.0f}% fewer than expected")
    return out


def _group_phrase(rows: pd.DataFrame) -> list[str]:
    """" to dermatology" and/or " (urgent referrals)" from the breakdown columns."""
    phrase = pd.Series("", index=rows.index)
    if "specialty" in rows.columns:
        spec = rows["specialty"].astype(str)
        spec = spec.where(spec.str.isupper(), spec.str.lower())
        phrase = phrase + " to " + spec
    if "priority" in rows.columns:
        phrase = phrase + " (" + rows["priority"].astype(str) + " referrals)"
    return phrase.tolist()


def findings(
    result: pd.DataFrame,
    names: Mapping[str, str] | pd.Series,
    specialty: str | Sequence[str] | None = None,
    limit: int = 5,
    scope: str = "this PCN",
    threshold: int | None = 7,
) -> list[str]:
    """Sentences describing the practices of ``names`` that lie outside the funnel limits.

    Uses ``significance_adjusted`` (FunnelPlotR's overdispersion adjustment) when the result has it, else
    ``significance`` (Spiegelhalter 2005 Poisson limits) and says so. Signals beyond 99.8% come first, then
    those beyond 95% only, each ordered by how far the ratio is from 1; at most ``limit`` practice sentences.
    When no practice asked about is beyond the 99.8% limits that is said first.

    Parameters
    ----------
    result : a :func:`popheal.referrals.variation` result.
    names : practice code -> name for the practices to describe (the PCN's own); no other practice is named.
    specialty : keep only this specialty (or these) when the result is broken down by specialty.
    limit : the most practice sentences to return.
    scope : how the practices are described in the no-signal sentence ("this PCN").
    threshold : practices (or practice x specialty rows) with 1 to ``threshold`` observed referrals are not
        described (DESIGN.md disclosure: a ratio is suppressed when its numerator is).
    """
    by = (result.attrs.get("by") or ["practice_code"])[0]
    names = pd.Series(names, dtype=object)
    names.index = names.index.astype(str)
    rows = result[result[by].astype(str).isin(names.index)]
    if specialty is not None and "specialty" in rows.columns:
        wanted = [specialty] if isinstance(specialty, str) else list(specialty)
        rows = rows[rows["specialty"].isin(wanted)]
    if threshold is not None:
        rows = rows[~rows["observed"].between(1, threshold)]
    adjusted = "significance_adjusted" in rows.columns and rows["significance_adjusted"].notna().any()
    column = "significance_adjusted" if adjusted else "significance"
    allowing = " after allowing for overdispersion" if adjusted else ""

    level = rows[column].map(_LEVEL)
    with np.errstate(divide="ignore"):
        distance = np.abs(np.log(rows["ratio"].to_numpy(dtype=float)))
    signals = rows.assign(_level=level, _distance=distance)[level.notna().to_numpy()]
    signals = signals.sort_values(["_level", "_distance"], ascending=[True, False]).head(limit)
    sentences = []
    if not (signals["_level"] == 0).any():
        sentences.append(f"No practice in {scope} is outside the 99.8% limits{allowing}." if len(names) > 1
                         else f"{names.iloc[0]} is not outside the 99.8% limits{allowing}.")
    if len(signals):
        for name, how, group, lab in zip(signals[by].astype(str).map(names),
                                         _how_much(signals["ratio"].to_numpy(dtype=float)),
                                         _group_phrase(signals), signals[column].astype(str)):
            side = "above the upper" if lab.startswith("High") else "below the lower"
            where = "99.8% limit" if lab.endswith("(0.001)") else "95% limit (but within the 99.8% limits)"
            sentences.append(f"{name} referred {how}{group}; {side} {where}{allowing}.")
    return sentences
