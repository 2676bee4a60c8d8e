"""Directly standardised rates with Dobson confidence limits (PHEindicatormethods ``calculate_dsr``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ._confidence import build_output, byars_lower, byars_upper, format_multiplier, parse_confidence
from ._groups import Grouping, as_by, check_non_negative, numeric, require_columns

__all__ = ["ESP2013", "ESP2013_BANDS", "dsr", "standard_population_by_label"]

ESP2013_BANDS: tuple[str, ...] = (
    "0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49",
    "50-54", "55-59", "60-64", "65-69", "70-74", "75-79", "80-84", "85-89", "90+",
)  # fmt: skip

#: European Standard Population 2013, 19 five-year bands to 90+ (Eurostat 2013 revision of the ESP;
#: the same values as PHEindicatormethods' ``esp2013``), indexed by band label.
ESP2013: pd.Series = pd.Series(
    [5000, 5500, 5500, 5500, 6000, 6000, 6500, 7000, 7000, 7000,
     7000, 6500, 6000, 5500, 5000, 4000, 2500, 1500, 1000],
    index=pd.Index(ESP2013_BANDS, name="age_band"),
    name="esp2013",
    dtype=float,
)  # fmt: skip


def standard_population_by_label(
    df: pd.DataFrame, age_band: str, standard: pd.Series, function: str
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's standard population, joined on the age band label (never on row order).

    Returns the standard population per row and the position of each row's band in ``standard``.
    """
    require_columns(df, [age_band], function)
    codes, uniques = pd.factorize(df[age_band], use_na_sentinel=False)
    labels = pd.Index(uniques).astype(object)
    wanted = pd.Index([str(label).strip() for label in standard.index])
    found = pd.Index([None if pd.isna(lab) else str(lab).strip() for lab in labels])
    position = wanted.get_indexer(found)
    if np.any(position < 0):
        unknown = [lab for lab, p in zip(labels, position) if p < 0]
        raise ValueError(
            f"{function}: column '{age_band}' holds label(s) {unknown[:10]} that are not in the standard "
            f"population; the labels must be {list(standard.index)}"
        )
    row_position = position[codes]
    return standard.to_numpy(dtype=float)[row_position], row_position


_BAND_RULES = {
    "exactly one": lambda cells: cells != 1,
    "at most one": lambda cells: cells > 1,
    "at least one": lambda cells: cells < 1,
}


def _check_bands(grouping: Grouping, band: np.ndarray, nbands: int, function: str, rule: str) -> None:
    cells = np.bincount(grouping.codes * nbands + band, minlength=grouping.ngroups * nbands)
    cells = cells.reshape(grouping.ngroups, nbands)
    bad = np.any(_BAND_RULES[rule](cells), axis=1)
    if np.any(bad):
        first = grouping.keys.loc[bad].head(5).to_dict("records") if grouping.by else ["(all rows)"]
        raise ValueError(
            f"{function}: with the built-in ESP2013 standard each group needs {rule} row for each of the {nbands} age "
            f"bands {list(ESP2013_BANDS)}; these groups have missing or repeated bands: {first}"
        )


def dsr(
    df: pd.DataFrame,
    x: str,
    n: str,
    stdpop: str | Mapping | pd.Series = "esp2013",
    by: str | Sequence[str] | None = None,
    confidence: float | Sequence[float] = 0.95,
    multiplier: float = 100000,
    independent_events: bool = True,
    eventfreq: str | None = None,
    age_band: str = "age_band",
) -> pd.DataFrame:
    """Directly standardised rate with confidence limits by Dobson's method.

    Method: Dobson AJ, Kuulasmaa K, Eberle E, Scherer J. Confidence intervals for weighted sums of Poisson
    parameters. Stat Med 1991;10:457-62, with Byar's limits for the total count (Breslow & Day 1987), as
    PHEindicatormethods ``calculate_dsr``; the non-independent-events variance follows the same function
    (Fingertips Public Health Technical Guidance, DSR chapter).

    Parameters
    ----------
    df : one row per age band (and per event frequency when ``independent_events=False``) per group.
    x : events per band; missing counts are treated as 0. With ``independent_events=False``, the number of
        people who had ``eventfreq`` events.
    n : population per band; a zero or missing population makes that group's value missing.
    stdpop : "esp2013" (built in, joined on ``age_band`` labels "0-4" ... "85-89", "90+"), the name of a
        column of ``df`` holding the standard population (a column of that name wins), or a mapping / Series
        from band label to standard population (joined on ``age_band``).
    by : grouping column(s); one DSR per group (one overall without ``by``).
    confidence : 0.95 or 95, or (0.95, 0.998).
    multiplier : rate per this many (default 100,000).
    independent_events, eventfreq : set ``independent_events=False`` and name the event-frequency column to
        widen the limits for people with repeated events.
    age_band : the age band column (needed for the built-in standard, a mapping, or non-independent events).

    Returns
    -------
    The ``by`` columns, ``total_count``, ``total_pop``, ``value`` and limits, ``confidence``, ``statistic``
    ("dsr per 100000", or "dsr NA for total count < 10" with missing value and limits) and ``method``.
    """
    function = "dsr"
    levels = parse_confidence(confidence)
    by_columns = as_by(by)
    require_columns(df, [x, n, *by_columns], function)
    if not isinstance(independent_events, bool):
        raise TypeError("dsr: independent_events must be True or False")
    xv = numeric(df, x, function)
    nv = numeric(df, n, function)
    check_non_negative(xv, x, function)
    check_non_negative(nv, n, function)
    x0 = np.where(np.isnan(xv), 0.0, xv)

    builtin = isinstance(stdpop, str) and stdpop not in df.columns and stdpop.lower() == "esp2013"
    band = None
    if builtin:
        std, band = standard_population_by_label(df, age_band, ESP2013, function)
    elif isinstance(stdpop, str):
        require_columns(df, [stdpop], function)
        std = numeric(df, stdpop, function)
        if np.any(np.isnan(std)):
            raise ValueError(f"dsr: the standard population column '{stdpop}' has missing values")
        check_non_negative(std, stdpop, function)
    elif isinstance(stdpop, (Mapping, pd.Series)):
        std, band = standard_population_by_label(df, age_band, pd.Series(stdpop, dtype=float), function)
    else:
        raise TypeError('dsr: stdpop must be "esp2013", a column name, or a mapping from age band to population')

    grouping = Grouping(df, by_columns, function)
    bad_pop = grouping.any(~(nv > 0))

    if independent_events:
        if builtin:
            _check_bands(grouping, band, len(ESP2013_BANDS), function, "exactly one")
        with np.errstate(divide="ignore", invalid="ignore"):
            total_count = grouping.sum(xv, skipna=True)
            total_pop = grouping.sum(nv)
            sum_std = grouping.sum(std)
            weight = std / nv
            weighted = x0 * weight
            value = grouping.sum(weighted) / sum_std * multiplier
            vardsr = grouping.sum(weighted * weight) / sum_std**2
        method = "Dobson"
    else:
        if eventfreq is None:
            raise ValueError("dsr: name the eventfreq column when independent_events is False")
        require_columns(df, [eventfreq, age_band], function)
        freq = numeric(df, eventfreq, function)
        if np.any(np.isnan(freq)):
            raise ValueError(f"dsr: the eventfreq column '{eventfreq}' has missing values")
        if df[age_band].isna().any():
            raise ValueError(f"dsr: the age band column '{age_band}' has missing values")
        by_freq = Grouping(df, [*by_columns, eventfreq], function)
        by_band = Grouping(df, [*by_columns, age_band], function)
        if builtin:
            _check_bands(by_freq, band, len(ESP2013_BANDS), function, "at most one")
            _check_bands(grouping, band, len(ESP2013_BANDS), function, "at least one")
        for values, column in ((nv, n), (std, "the standard population")):
            low, high = by_band.min(values), by_band.max(values)
            if np.any((low != high) & ~(np.isnan(low) & np.isnan(high))):
                raise ValueError(
                    f"dsr: rows with the same groups and age band must have the same {column} "
                    "(one row per event frequency)"
                )
        with np.errstate(divide="ignore", invalid="ignore"):
            # first pass: the Dobson variance for each event frequency, weighted by frequency squared
            freq_var = by_freq.sum(x0 * (std / nv) ** 2) / by_freq.sum(std) ** 2
            freq_of = np.empty(by_freq.ngroups)
            freq_of[by_freq.codes] = freq
            group_of_freq = np.empty(by_freq.ngroups, dtype=np.intp)
            group_of_freq[by_freq.codes] = grouping.codes
            vardsr = np.bincount(group_of_freq, weights=freq_var * freq_of**2, minlength=grouping.ngroups)
            # second pass: events (frequency x people) collapsed to one row per age band
            events = freq * x0
            total_count = grouping.sum(events)
            band_pop = np.empty(by_band.ngroups)
            band_pop[by_band.codes] = nv
            band_std = np.empty(by_band.ngroups)
            band_std[by_band.codes] = std
            group_of_band = np.empty(by_band.ngroups, dtype=np.intp)
            group_of_band[by_band.codes] = grouping.codes
            total_pop = np.bincount(group_of_band, weights=band_pop, minlength=grouping.ngroups)
            sum_std = np.bincount(group_of_band, weights=band_std, minlength=grouping.ngroups)
            value = grouping.sum(events * std / nv) / sum_std * multiplier
        method = "Dobson, with confidence adjusted for non-independent events"

    lowers, uppers = [], []
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.sqrt(vardsr / total_count) * multiplier
        for level in levels:
            lowers.append(value + scale * (byars_lower(total_count, level) - total_count))
            uppers.append(value + scale * (byars_upper(total_count, level) - total_count))

    statistic = np.full(grouping.ngroups, "dsr per " + format_multiplier(multiplier), dtype=object)
    small = total_count < 10
    statistic[bad_pop] = "dsr NA for zero or missing population"
    statistic[small] = "dsr NA for total count < 10"
    missing = small | bad_pop
    value = np.where(missing, np.nan, value)
    lowers = [np.where(missing, np.nan, v) for v in lowers]
    uppers = [np.where(missing, np.nan, v) for v in uppers]
    own = {"total_count": total_count, "total_pop": total_pop}
    return build_output(grouping.keys, own, value, levels, lowers, uppers, statistic, method)
