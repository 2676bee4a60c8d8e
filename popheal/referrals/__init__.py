"""Referral variation between practices (DESIGN.md "Analysis contracts": ``referrals.variation``).

- :func:`variation`: indirectly standardised referral ratios per practice (and specialty/priority) with
  funnel significance before and after allowing for overdispersion; :func:`to_indicators` gives the
  DESIGN.md indicator shape.
- :func:`variation_model`: how much of the between-practice variation age, sex and deprivation explain
  (SCV, McPherson 1982; Poisson-gamma practice random intercept, median rate ratio).
- :func:`shares`: out-of-area and advice-and-guidance shares with Wilson limits.
- :func:`findings`: plain-English sentences for the PCN's own practices.
- :func:`monthly_counts` and :func:`spc`: complete monthly series and their XmR charts (Making Data Count).
- :func:`activity_rates` and :func:`social_prescribing_capacity`: the real Wolverhampton PCN activity of
  Q3 2019/20 as rates per 1,000 patients with funnel significance, for the area overview.

Charts: :mod:`popheal.plots.funnel` and :mod:`popheal.plots.spc`.
"""

from popheal.referrals.activity import activity_rates, social_prescribing_capacity
from popheal.referrals.findings import findings
from popheal.referrals.model import VariationModel, variation_model
from popheal.referrals.monthly import monthly_counts, spc
from popheal.referrals.shares import shares
from popheal.referrals.variation import to_indicators, variation

__all__ = [
    "VariationModel",
    "activity_rates",
    "findings",
    "monthly_counts",
    "shares",
    "social_prescribing_capacity",
    "spc",
    "to_indicators",
    "variation",
    "variation_model",
]
