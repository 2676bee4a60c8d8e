"""PCN activity rates per 1,000 registered patients with funnel significance, for the area overview.

From the real Wolverhampton Q3 2019/20 PCN-level dataset (``popheal.io.activity.read_pcn_activity``): social
prescribing referrals, practice-based ("basket") services and Advice & Guidance requests. Rates and their
limits: ``popheal.stats.rate`` (exact Poisson below 10 events, Byar's from 10; PHEindicatormethods
``phe_rate``); significance against the overall rate: Poisson funnel limits at 95% and 99.8% (Spiegelhalter
2005; ``popheal.stats.funnel_significance`` with ``statistic="rate"``, crude rates). Draw the funnel with
``popheal.plots.funnel.rate_funnel``.
"""

from __future__ import annotations

import pandas as pd

from popheal import stats as pstats

__all__ = ["ACTIVITY_MEASURES", "activity_rates", "social_prescribing_capacity"]

#: measure -> (indicator text, breakdown column or None)
ACTIVITY_MEASURES = {
    "social_prescribing": ("Social prescribing referrals per {m:,} registered patients, Oct-Dec 2019", None),
    "basket_services": ("Practice-based (basket) service procedures per {m:,} registered patients, Apr-Dec 2019",
                        "service"),
    "advice_guidance": ("Advice & Guidance requests per {m:,} registered patients, Oct-Dec 2019", "specialty"),
}
_PERIOD = {"social_prescribing": "2019-10 to 2019-12", "basket_services": "2019-04 to 2019-12",
           "advice_guidance": "2019-10 to 2019-12"}


def activity_rates(
    activity,
    measure: str = "social_prescribing",
    multiplier: float = 1000,
    confidence: float = 0.95,
    area_code: str = "E08000031",
    area_name: str = "Wolverhampton",
) -> pd.DataFrame:
    """Activity per ``multiplier`` registered patients over the measure's period, in the indicator shape.

    Parameters
    ----------
    activity : a :class:`popheal.io.activity.PcnActivity` (``read_pcn_activity()``).
    measure : "social_prescribing" (per PCN, the quarter Oct-Dec 2019), "basket_services" (per service and
        PCN, April-December 2019; significance within each service) or "advice_guidance" (per specialty, whole
        CCG, so ``area_type`` "area" with ``area_code``/``area_name``, the city council the CCG shared its
        boundary with; no funnel significance: one area).
    multiplier : rate per this many registered patients (1,000).
    confidence : the limits' level.

    Returns
    -------
    ``indicator, area_type, area_code, area_name, period, breakdown, group, numerator, denominator, value,
    lowercl, uppercl, confidence, statistic, method, significance``: rates over the whole period (not
    annualised), denominators the PCN list sizes (May 2019).
    """
    if measure not in ACTIVITY_MEASURES:
        raise ValueError(f"activity_rates: measure must be one of {sorted(ACTIVITY_MEASURES)}, not {measure!r}")
    text, breakdown = ACTIVITY_MEASURES[measure]
    lists = activity.list_sizes
    if measure == "social_prescribing":
        counts = activity.social_prescribing.groupby("pcn_short_name", as_index=False)["referrals"].sum()
        counts = counts.rename(columns={"referrals": "numerator"}).assign(group="All")
    elif measure == "basket_services":
        counts = activity.basket_services.rename(columns={"procedures": "numerator", "service": "group"})
    else:
        counts = activity.advice_guidance.groupby("specialty", as_index=False)["requests"].sum()
        counts = counts.rename(columns={"requests": "numerator", "specialty": "group"})
    if measure == "advice_guidance":
        table = counts.assign(area_type="area", area_code=area_code, area_name=area_name,
                              denominator=int(lists["registered_patients"].sum()))
    else:
        table = counts.merge(lists, on="pcn_short_name", how="left").rename(
            columns={"pcn_short_name": "area_code", "pcn_name": "area_name", "registered_patients": "denominator"})
        table["area_type"] = "pcn"
    table = table[["area_type", "area_code", "area_name", "group", "numerator", "denominator"]]
    rates = pstats.rate(table, "numerator", "denominator", confidence=confidence, multiplier=multiplier)
    if measure == "advice_guidance":
        rates["significance"] = None
    else:
        rates = pstats.funnel_significance(rates, "numerator", "denominator", statistic="rate",
                                           multiplier=multiplier, rate="value", rate_type="crude",
                                           by="group" if breakdown else None)
    rates.insert(0, "indicator", text.format(m=int(multiplier)))
    rates.insert(4, "period", _PERIOD[measure])
    rates.insert(5, "breakdown", breakdown or "all")
    columns = ["indicator", "area_type", "area_code", "area_name", "period", "breakdown", "group", "numerator",
               "denominator", "value", "lowercl", "uppercl", "confidence", "statistic", "method", "significance"]
    return rates[columns].sort_values(["group", "area_code"], ignore_index=True)


def social_prescribing_capacity(activity) -> pd.DataFrame:
    """Social prescribing referrals per PCN and month against the service's capacity (20 per PCN per month,
    assurance report Q3 2019/20): ``pcn_short_name, pcn_name, month, referrals, capacity, percent_of_capacity``,
    plus one "Quarter" row per PCN (``month`` missing)."""
    monthly = activity.social_prescribing.assign(capacity=activity.social_prescribing_capacity)
    quarter = monthly.groupby(["pcn_short_name", "pcn_name"], as_index=False)[["referrals", "capacity"]].sum()
    quarter["month"] = pd.NaT
    out = pd.concat([monthly, quarter[monthly.columns]], ignore_index=True)
    out["percent_of_capacity"] = 100 * out["referrals"] / out["capacity"]
    return out.sort_values(["pcn_short_name", "month"], na_position="last", ignore_index=True)
