"""Age-standardised breakdowns by deprivation quintile and ethnic group, gaps, SII/RII and excess events.

Methods (the statistics themselves live in :mod:`popheal.stats`; nothing is re-derived here):

- directly standardised rates to the 2013 European Standard Population with Dobson limits
  (``popheal.stats.dsr``; PHEindicatormethods ``calculate_dsr``);
- absolute and relative gaps between the most and least deprived quintiles (OHID Health Profile for England
  2018, "methods": absolute = subtraction, relative = division; reference/domain-spec.md H.3);
- the slope and relative index of inequality (``popheal.stats.sii``; OHID/PHE Public Health Technical
  Guidance "Slope index of inequality", PHEindicatormethods ``phe_sii``; Low A, Low A. Measuring the gap:
  quantifying and comparing local health inequalities. J Public Health 2004;26:388-95);
- excess events if every quintile had the least deprived quintile's age-specific rates (own definition,
  written out in :func:`excess_events`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from popheal import stats as _stats
from popheal.inequalities._common import (
    BREAKDOWN_LABELS,
    DECILE_LABELS,
    QUINTILE_LABELS,
    as_list,
    indicator_frame,
    require_columns,
)
from popheal.inequalities.aggregate import aggregate_extract
from popheal.io.errors import InputError
from popheal.io.extract_schema import ETHNIC_GROUPS, LTC_COLUMNS

__all__ = [
    "DEFAULT_ACTIVITY_MEASURES",
    "SII_CONVENTION",
    "default_measures",
    "deprivation_breakdown",
    "deprivation_gap",
    "ethnicity_breakdown",
    "excess_events",
    "group_labels",
    "inequality_summary",
    "measure_label",
    "slope_index",
    "standardised_breakdown",
]

#: Activity counts broken down by default (events in the last 12 months, per 1,000 patients).
DEFAULT_ACTIVITY_MEASURES: tuple[str, ...] = ("emergency_admissions",)

#: How popheal reports the SII (stated in every SII row's ``statistic``).
SII_CONVENTION = (
    "PHE/OHID convention: groups ordered from most deprived (rank 0) to least deprived (rank 1), so "
    "SII = fitted value for the least deprived minus the most deprived; a negative SII means higher values "
    "in the most deprived"
)

_ACRONYMS = {
    "af": "AF",
    "chd": "CHD",
    "ckd": "CKD",
    "copd": "COPD",
    "smi": "SMI",
    "pad": "PAD",
    "ibs": "IBS",
    "tia": "TIA",
}


def measure_label(column: str) -> str:
    """A readable indicator name for an extract column: ``ltc_copd`` -> "COPD prevalence"."""
    if column.startswith("ltc_"):
        words = column[4:].split("_")
        text = " ".join(_ACRONYMS.get(w, w) for w in words).replace("stroke TIA", "stroke/TIA")
        return f"{text[0].upper()}{text[1:]} prevalence"
    return column.replace("_", " ").capitalize()


def default_measures(extract: pd.DataFrame) -> dict[str, str]:
    """Every ``ltc_*`` column of the extract (prevalence) and emergency admissions, keyed by readable name."""
    columns = [c for c in LTC_COLUMNS if c in extract.columns]
    columns += [c for c in DEFAULT_ACTIVITY_MEASURES if c in extract.columns]
    return {measure_label(c): c for c in columns}


def group_labels(by: str, values: pd.Series) -> pd.Series:
    """The ``group`` text of the indicator shape for the values of a breakdown column."""
    if by == "imd_quintile":
        return values.map(QUINTILE_LABELS)
    if by == "imd_decile":
        return values.map(DECILE_LABELS)
    if by == "core20":
        return values.map({True: "Core20", False: "Not Core20"})
    return values.astype("string")


def _group_order(by: str, values: pd.Series) -> np.ndarray:
    """A numeric sort key for the raw values of a breakdown column, so groups come out in their natural order
    (quintile 1..5, Core20 first, the extract's ethnic groups in their listed order, else sorted)."""
    if by in ("imd_quintile", "imd_decile"):
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    if by == "ethnicity":
        order = {g: i for i, g in enumerate(ETHNIC_GROUPS)}
        codes = values.map(order)
        rest = pd.Series(pd.factorize(values, sort=True)[0], index=values.index) + len(order)
        return codes.fillna(rest).to_numpy(dtype="float64")
    if by == "core20":
        return values.map({True: 0, False: 1}).to_numpy(dtype="float64", na_value=np.nan)
    return pd.factorize(values, sort=True)[0].astype("float64")


def _multipliers(
    extract: pd.DataFrame, measures: Mapping[str, str], multipliers: Mapping[str, float] | float | None
) -> dict[str, float]:
    if isinstance(multipliers, (int, float)):
        return {name: float(multipliers) for name in measures}
    given = dict(multipliers or {})
    out = {}
    for name, column in measures.items():
        if name in given:
            out[name] = float(given[name])
        else:
            flag = pd.api.types.is_bool_dtype(extract[column].dtype) or extract[column].dtype == object
            out[name] = 100.0 if flag else 1000.0
    return out


def labelled_frame(res: pd.DataFrame, column: str | None, area) -> pd.DataFrame:
    """A statistics result (one row per indicator and group of ``column``) in the indicator shape, with the
    breakdown and group labels of ``column`` ("All" when None) and a ``_order`` column for sorting."""
    if column:
        frame = indicator_frame(res, indicator=res["indicator"], breakdown=BREAKDOWN_LABELS.get(column, column),
                                group=group_labels(column, res[column]), area=area)
        frame["_order"] = _group_order(column, res[column])
    else:
        frame = indicator_frame(res, indicator=res["indicator"], breakdown="All", group="All", area=area)
        frame["_order"] = -1.0
    return frame


def standardised_breakdown(
    extract: pd.DataFrame,
    by: str,
    measures: Mapping[str, str] | Sequence[str] | None = None,
    imd: pd.DataFrame | None = None,
    multipliers: Mapping[str, float] | float | None = None,
    confidence: float | Sequence[float] = 0.95,
    include_all: bool = True,
    area: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Age-standardised rates (ESP2013, Dobson limits) of each measure for each group of ``by``.

    Parameters
    ----------
    extract : the patient extract.
    by : ``"imd_quintile"`` (national IMD 2019 quintile of the patient's LSOA; needs ``imd``),
        ``"imd_decile"``, ``"core20"``, ``"ethnicity"`` or ``"sex"``.
    measures : indicator name -> column (default :func:`default_measures`: every ``ltc_*`` flag and
        ``emergency_admissions``). Flags give age-standardised prevalence, counts give event rates.
    multipliers : per indicator (or one for all). Default 100 for flags ("dsr per 100", a percentage) and
        1,000 for counts (events per 1,000 patients in the extract's 12 months).
    include_all : add the whole population (``breakdown="All"``, every patient, whether or not their group is
        known) for reference.
    area : optional ``area_type``, ``area_code``, ``area_name``, ``period`` for the indicator shape.

    Returns
    -------
    DESIGN.md's indicator shape: ``indicator, area_type, area_code, area_name, period, breakdown, group,
    numerator, denominator, value, lowercl, uppercl, confidence, statistic, method`` (two-level limit names
    when two confidence levels are asked). ``numerator``/``denominator`` are ``popheal.stats.dsr``'s
    ``total_count``/``total_pop`` (unrounded). Groups with fewer than 10 events or an age band without
    patients get a missing value, as PHEindicatormethods does (the reason is in ``statistic``). The number of
    patients left out of the breakdown (missing group) is in ``attrs["excluded_patients"]``.
    """
    measures = default_measures(extract) if measures is None else measures
    if not isinstance(measures, Mapping):
        measures = {measure_label(c): c for c in measures}
    counts = aggregate_extract(extract, measures, imd=imd, by=by, strata=("age_band",))
    mult = _multipliers(extract, measures, multipliers)
    pieces = [(counts, by)]
    if include_all:
        everyone = aggregate_extract(extract, measures, by=(), strata=("age_band",))
        pieces.append((everyone, None))
    frames = []
    for table, column in pieces:
        keys = ["indicator", column] if column else ["indicator"]
        for m in sorted(set(mult.values())):
            names = [k for k, v in mult.items() if v == m]
            sub = table[table["indicator"].isin(names)]
            res = _stats.dsr(
                sub,
                x="numerator",
                n="denominator",
                stdpop="esp2013",
                by=keys,
                confidence=confidence,
                multiplier=m,
                age_band="age_band",
            )
            res = res.rename(columns={"total_count": "numerator", "total_pop": "denominator"})
            frames.append(labelled_frame(res, column, area))
    out = pd.concat(frames, ignore_index=True)
    order = {name: i for i, name in enumerate(measures)}
    out["_ind"] = out["indicator"].map(order)
    out = out.sort_values(["_ind", "_order"], kind="stable").drop(columns=["_ind", "_order"])
    out = out.reset_index(drop=True)
    out.attrs["excluded_patients"] = counts.attrs.get("excluded_patients", 0)
    return out


def deprivation_breakdown(extract: pd.DataFrame, imd: pd.DataFrame, measures=None, **kwargs) -> pd.DataFrame:
    """:func:`standardised_breakdown` by national IMD 2019 quintile (1 = most deprived 20% of England)."""
    return standardised_breakdown(extract, "imd_quintile", measures=measures, imd=imd, **kwargs)


def ethnicity_breakdown(extract: pd.DataFrame, measures=None, **kwargs) -> pd.DataFrame:
    """:func:`standardised_breakdown` by recorded ethnic group (Asian, Black, Mixed, White, Other, Not
    stated)."""
    return standardised_breakdown(extract, "ethnicity", measures=measures, **kwargs)


def _limit_columns(table: pd.DataFrame) -> tuple[str, str, float]:
    """The first level's limit columns and that level (one-level or two-level indicator tables)."""
    if {"lowercl", "uppercl"} <= set(table.columns):
        text = str(table["confidence"].iloc[0]) if "confidence" in table.columns and len(table) else "95%"
        return "lowercl", "uppercl", float(text.split("%")[0]) / 100
    lowers = sorted(c for c in table.columns if c.startswith("lower") and c.endswith("cl"))
    if not lowers:
        raise InputError("indicator table", "needs confidence limits (lowercl/uppercl)", column="lowercl")
    lower = lowers[0]
    level = float(lower[len("lower") : -2].replace("_", ".")) / 100
    return lower, "upper" + lower[len("lower") :], level


def deprivation_gap(
    table: pd.DataFrame,
    most: str = QUINTILE_LABELS[1],
    least: str = QUINTILE_LABELS[5],
    order: str = "most-least",
    by: str | Iterable[str] = "indicator",
    group: str = "group",
) -> pd.DataFrame:
    """Absolute and relative gap between the most and least deprived groups, with approximate limits.

    Definitions (OHID Health Profile for England 2018 methods; reference/domain-spec.md H.3), with
    ``order="most-least"`` (default): ``absolute_gap = value[most] - value[least]`` and
    ``relative_gap = value[most] / value[least]``. ``order="least-most"`` swaps both (used for life
    expectancy, where the gap is conventionally least deprived minus most deprived, a positive number of
    years).

    Limits assume the two groups are independent: the standard error of each value is taken from its
    confidence interval, ``(upper - lower) / (2 z)``, on the natural scale for the absolute gap and on the log
    scale for the relative gap, and combined in quadrature (exact for normal-theory limits such as life
    expectancy, an approximation for Dobson DSR and Wilson limits, which are asymmetric).

    Parameters
    ----------
    table : an indicator table (e.g. from :func:`deprivation_breakdown`) with ``value`` and limits.
    most, least : the ``group`` labels of the most and least deprived groups (default quintile labels;
        deciles: ``"D1 most deprived"``, ``"D10 least deprived"``).
    by : the columns identifying one comparison (default ``indicator``).

    A comparison where either group is absent (e.g. a PCN with no patients in the least deprived quintile)
    gets missing gaps rather than an error.

    Returns
    -------
    ``[by...], value_most_deprived, value_least_deprived, absolute_gap, absolute_gap_lowercl,
    absolute_gap_uppercl, relative_gap, relative_gap_lowercl, relative_gap_uppercl, confidence,
    gap_definition``.
    """
    if order not in ("most-least", "least-most"):
        raise ValueError('order must be "most-least" or "least-most"')
    by = as_list(by)
    require_columns(table, [*by, group, "value"], "indicator table")
    lower, upper, level = _limit_columns(table)
    z = float(sps.norm.ppf(0.5 + level / 2))
    cols = [*by, "value", lower, upper]
    a = table.loc[table[group] == most, cols]
    b = table.loc[table[group] == least, cols]
    if by:
        for part, label in ((a, most), (b, least)):
            if part[by].duplicated().any():
                raise InputError(
                    "indicator table", f"more than one row for group {label!r} per {by}", column=group
                )
        keys = pd.concat([a[by], b[by]]).drop_duplicates()
        a = keys.merge(a, on=by, how="left").set_index(by)
        b = keys.merge(b, on=by, how="left").set_index(by)
    else:
        if len(a) > 1 or len(b) > 1:
            raise InputError("indicator table", "more than one row per group: pass by=", column=group)
        empty = pd.DataFrame({c: [np.nan] for c in cols})
        a = (a if len(a) else empty).reset_index(drop=True)
        b = (b if len(b) else empty).reset_index(drop=True)
    a = a.astype("float64")
    b = b.astype("float64")
    first, second = (a, b) if order == "most-least" else (b, a)
    se1 = (first[upper] - first[lower]) / (2 * z)
    se2 = (second[upper] - second[lower]) / (2 * z)
    diff = first["value"] - second["value"]
    se_diff = np.sqrt(se1**2 + se2**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = first["value"] / second["value"]
        sl1 = (np.log(first[upper]) - np.log(first[lower])) / (2 * z)
        sl2 = (np.log(second[upper]) - np.log(second[lower])) / (2 * z)
        se_log = np.sqrt(sl1**2 + sl2**2)
        rlow, rhigh = ratio * np.exp(-z * se_log), ratio * np.exp(z * se_log)
    names = (most, least) if order == "most-least" else (least, most)
    out = pd.DataFrame(
        {
            "value_most_deprived": a["value"],
            "value_least_deprived": b["value"],
            "absolute_gap": diff,
            "absolute_gap_lowercl": diff - z * se_diff,
            "absolute_gap_uppercl": diff + z * se_diff,
            "relative_gap": ratio,
            "relative_gap_lowercl": rlow,
            "relative_gap_uppercl": rhigh,
        }
    )
    out["confidence"] = f"{level * 100:g}%"
    out["gap_definition"] = f"{names[0]} minus {names[1]}; relative: {names[0]} / {names[1]}"
    return out.reset_index() if by else out


def slope_index(
    table: pd.DataFrame,
    quantile: str = "group",
    order: Sequence[str] | None = None,
    by: str | Iterable[str] = "indicator",
    population: str = "denominator",
    value_type: int = 1,
    scale: float = 1,
    confidence: float | Sequence[float] = 0.95,
    repetitions: int = 100_000,
    rii: bool = True,
    seed: int = 1,
) -> pd.DataFrame:
    """Slope (SII) and relative (RII) index of inequality across deprivation quantiles (popheal.stats.sii).

    Sign convention (:data:`SII_CONVENTION`): popheal follows PHE/OHID (Fingertips, PHEindicatormethods
    ``phe_sii``): quantiles are ranked from the most deprived (relative rank near 0) to the least deprived
    (near 1) by cumulative population share, the value is regressed on the rank (population-weighted least
    squares), and the SII is the fitted value for the least deprived minus that for the most deprived. A
    **negative** SII therefore means higher values among the most deprived (e.g. emergency admissions); a
    positive SII (e.g. life expectancy; ONS 2017-19 by decile: 9.4 years males, 7.6 females) higher values
    among the least deprived. RII = fitted least deprived / fitted most deprived (``phe_sii``). Limits are
    Monte Carlo from each quantile's standard error, taken from its confidence limits on the log (rates) or
    logit (proportions) scale. The SII assumes a linear gradient (Low & Low 2004).

    Parameters
    ----------
    table : one row per quantile (and ``by`` group) with ``value``, its limits and ``population``; e.g. the
        quintile rows of :func:`deprivation_breakdown` (other breakdowns are ignored).
    quantile : the column holding the quantile; integer quantiles are used as they are (1 = most deprived),
        text labels are ranked by ``order`` (default: the IMD quintile labels, or the decile labels when the
        table holds them, most deprived first). With fewer than 5 quantiles present the SII is missing and
        ``statistic`` says why.
    population : the quantile population (for a DSR: ``denominator``, the registered population).
    value_type : 0 for normally distributed values (life expectancy), 1 for rates (log scale), 2 for
        proportions (logit scale), as ``phe_sii``.
    scale : for proportions, what the values are out of (100 for percentages); the SII is reported on the
        same scale.

    Returns
    -------
    ``popheal.stats.sii``'s table: ``[by...], sii, sii_lowercl, sii_uppercl`` (two-level names for two
    confidence levels), ``rii`` and limits when asked, ``confidence``, ``statistic`` (which ends with the sign
    convention) and ``method``.
    """
    by = as_list(by)
    require_columns(table, [*by, quantile, "value", population], "indicator table")
    lower, upper, level = _limit_columns(table)
    data = table[[*by, quantile, "value", lower, upper, population]].copy()
    if not pd.api.types.is_numeric_dtype(data[quantile]):
        if order is None:
            deciles = data[quantile].isin(list(DECILE_LABELS.values())).any()
            order = list((DECILE_LABELS if deciles else QUINTILE_LABELS).values())
        rank = {label: i + 1 for i, label in enumerate(order)}
        data["_quantile"] = data[quantile].map(rank)
        data = data[data["_quantile"].notna()].copy()
    else:
        data["_quantile"] = data[quantile]
    data["_quantile"] = data["_quantile"].astype("int64")
    for column in ("value", lower, upper):
        data[column] = pd.to_numeric(data[column], errors="coerce").astype("float64") / scale
    z = float(sps.norm.ppf(0.5 + level / 2))
    forward = {0: lambda v: v, 1: np.log, 2: lambda v: np.log(v / (1 - v))}[value_type]
    with np.errstate(divide="ignore", invalid="ignore"):
        data["_se"] = (forward(data[upper]) - forward(data[lower])) / (2 * z)
    if data["_quantile"].nunique() < 5:
        # phe_sii needs 5 to 100 quantiles: say so in the result instead of failing the whole pack
        keys = data[by].drop_duplicates().reset_index(drop=True) if by else pd.DataFrame(index=[0])
        res = keys.assign(sii=np.nan, sii_lowercl=np.nan, sii_uppercl=np.nan)
        if rii:
            res = res.assign(rii=np.nan, rii_lowercl=np.nan, rii_uppercl=np.nan)
        res["confidence"] = f"{level * 100:g}%"
        res["statistic"] = "SII not calculated: fewer than 5 deprivation quantiles have data"
        res["method"] = "weighted least squares"
        return res
    res = _stats.sii(
        data,
        quantile="_quantile",
        population=population,
        value="value",
        se="_se",
        value_type=value_type,
        confidence=confidence,
        multiplier=scale,
        repetitions=repetitions,
        rii=rii,
        seed=seed,
        by=by or None,
    )
    res["statistic"] = res["statistic"].astype(str) + "; " + SII_CONVENTION
    return res


def excess_events(
    counts: pd.DataFrame,
    by: str = "imd_quintile",
    reference: object = None,
    strata: Sequence[str] = ("age_band",),
    numerator: str = "numerator",
    denominator: str = "denominator",
    indicator: str | None = "indicator",
    reference_counts: pd.DataFrame | None = None,
    reference_label: str | None = None,
) -> pd.DataFrame:
    """Events in excess of what each group would have at the reference (least deprived) group's rates.

    Definition. For indicator *i*, group *g* (e.g. quintile) and stratum *s* (by default each five-year age
    band, persons; pass ``strata=("sex", "age_band")`` for age-sex-specific rates or ``()`` for crude rates):

    - observed ``O_g = sum_s x[g, s]``;
    - reference rate ``r[s] = x[R, s] / n[R, s]``, with R the reference group (by default the least deprived
      quintile with patients: quintile 5, or the highest present when a PCN has nobody in quintile 5);
    - expected ``E_g = sum_s n[g, s] * r[s]`` (indirect standardisation to the reference group's rates);
      a stratum where the reference group has no population has no reference rate and contributes its
      observed events to ``E_g`` (no excess is attributed to it);
    - ``excess_g = O_g - E_g`` (zero for R itself; negative where a group does better than R - not truncated);
    - the ``Total`` row sums observed, expected and excess over the groups, and ``excess_percent =
      100 * excess / observed`` is the share of events that would not occur if every group had R's rates.

    Parameters
    ----------
    counts : a numerator/denominator table from :func:`popheal.inequalities.aggregate_extract` (``by``,
        the strata, ``indicator``, ``numerator``, ``denominator``); extra stratum columns (e.g. ``sex``) are
        summed over.
    reference : the reference group's value of ``by`` (e.g. ``5`` to insist on quintile 5, or ``"White"``
        with ``by="ethnicity"``). ``None`` (default) takes the highest value with a population: for quintiles
        the least deprived quintile present. The ``reference_group`` column names the group used.
    reference_counts : take the reference rates from this table instead (same columns as ``counts``; its
        ``reference`` group's rows, or all of them), e.g. the whole area's least deprived quintile, so that a
        PCN with a handful of patients in quintile 5 is not compared with rates resting on a few events.
        ``reference_label`` then names it in ``reference_group``.

    Returns
    -------
    ``indicator, group, observed, denominator, expected, excess, excess_percent, reference_group`` with one
    row per group (labelled as in the indicator shape) then a ``Total`` row per indicator.
    """
    ind = [indicator] if indicator else []
    strata = list(strata)
    require_columns(counts, [*ind, by, *strata, numerator, denominator], "counts table")
    keys = [*ind, by, *strata]
    cells = counts.groupby(keys, observed=True, sort=True)[[numerator, denominator]].sum().reset_index()
    source = cells if reference_counts is None else reference_counts.groupby(
        keys, observed=True, sort=True)[[numerator, denominator]].sum().reset_index()
    if reference is None:
        reference = source.loc[source[denominator] > 0, by].max()
    ref = source[source[by] == reference]
    if ref.empty:
        raise InputError("counts table", f"no rows for the reference group {reference!r}", column=by)
    ref_keys = [*ind, *strata]
    ref = ref[[*ref_keys, numerator, denominator]].rename(columns={numerator: "_rx", denominator: "_rn"})
    merged = cells.merge(ref, on=ref_keys, how="left") if ref_keys else cells.merge(ref, how="cross")
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = merged["_rx"] / merged["_rn"]
    expected = (merged[denominator] * rate).where(merged["_rn"] > 0, merged[numerator])
    merged["expected"] = expected.astype("float64")
    per = merged.groupby([*ind, by], observed=True, sort=True)[[numerator, denominator, "expected"]].sum()
    per = per.reset_index().rename(columns={numerator: "observed"})
    per["excess"] = per["observed"] - per["expected"]
    total = (
        per.groupby(ind, sort=False)[["observed", denominator, "expected", "excess"]].sum().reset_index()
        if ind
        else per[["observed", denominator, "expected", "excess"]].sum().to_frame().T
    )
    per["group"] = group_labels(by, per[by]).astype(object)
    total["group"] = "Total"
    per["_o"] = 0
    total["_o"] = 1
    out = pd.concat([per.drop(columns=[by]), total], ignore_index=True)
    out = out.rename(columns={denominator: "denominator"})
    if ind:
        first = {name: i for i, name in enumerate(pd.unique(counts[indicator]))}
        out["_i"] = out[indicator].map(first)
        out = out.sort_values(["_i", "_o"], kind="stable").drop(columns=["_i"])
    with np.errstate(divide="ignore", invalid="ignore"):
        out["excess_percent"] = np.where(out["observed"] > 0, 100 * out["excess"] / out["observed"], np.nan)
    out["reference_group"] = reference_label or group_labels(by, pd.Series([reference])).iloc[0]
    cols = [
        *ind,
        "group",
        "observed",
        "denominator",
        "expected",
        "excess",
        "excess_percent",
        "reference_group",
    ]
    return out[cols].reset_index(drop=True)


def inequality_summary(
    table: pd.DataFrame,
    breakdown: str = BREAKDOWN_LABELS["imd_quintile"],
    repetitions: int = 100_000,
    seed: int = 1,
) -> pd.DataFrame:
    """Gap, relative gap, SII and RII per indicator from a breakdown table, in one row per indicator.

    ``table`` is :func:`deprivation_breakdown` or :func:`popheal.inequalities.core20plus5_measures` output;
    the rows of ``breakdown`` (quintiles, or deciles with ``BREAKDOWN_LABELS["imd_decile"]``) are used. The
    value type for the SII follows each row's ``statistic``: percentages are proportions (logit scale, SII in
    percentage points), DSRs and rates are rates (log scale), anything else is treated as normal.

    The gap compares the most and least deprived groups present (normally quintiles 1 and 5; in a PCN with
    nobody in quintile 5, quintile 4 - ``gap_definition`` names them). The SII needs 5 or more quantiles
    with values; otherwise it is missing and ``sii_statistic`` says why (use a decile breakdown instead).

    Returns
    -------
    ``indicator`` then :func:`deprivation_gap`'s columns (most minus least deprived) and
    :func:`slope_index`'s ``sii``/``rii`` with limits (PHE sign convention, :data:`SII_CONVENTION`), and
    ``sii_statistic``.
    """
    require_columns(table, ["indicator", "breakdown", "group", "value", "statistic"], "indicator table")
    rows = table[table["breakdown"] == breakdown]
    if rows.empty:
        raise InputError("indicator table", f"no rows with breakdown {breakdown!r}", column="breakdown")
    deciles = breakdown == BREAKDOWN_LABELS["imd_decile"]
    labels = DECILE_LABELS if deciles else QUINTILE_LABELS
    if not any((rows["group"] == label).any() for label in labels.values()):
        raise InputError("indicator table", f"no {breakdown} groups found", column="group")
    # per indicator, the most and least deprived groups that have a value (a group of a few patients has a
    # row but no standardised rate; comparing with it would leave the gap blank)
    per_indicator = []
    for _, part in rows.groupby("indicator", sort=False):
        valued = part[pd.to_numeric(part["value"], errors="coerce").notna()]
        present = [label for label in labels.values() if (valued["group"] == label).any()] or \
                  [label for label in labels.values() if (part["group"] == label).any()]
        per_indicator.append(deprivation_gap(part, most=present[0], least=present[-1]))
    gaps = pd.concat(per_indicator, ignore_index=True)
    statistic = rows.groupby("indicator", sort=False)["statistic"].agg(
        lambda s: next((t for t in s if not str(t).startswith(("dsr NA", "SII"))), s.iloc[0])
    )
    kinds = {"percentage": (2, 100), "proportion": (2, 1), "rate": (1, 1), "normal": (0, 1)}
    siis = []
    for kind, (value_type, scale) in kinds.items():
        names = [name for name, text in statistic.items() if _value_kind(str(text)) == kind]
        if names:
            part = rows[rows["indicator"].isin(names)]
            siis.append(
                slope_index(part, value_type=value_type, scale=scale, repetitions=repetitions, seed=seed)
            )
    sii = pd.concat(siis, ignore_index=True).rename(columns={"statistic": "sii_statistic"})
    keep = ["indicator", *[c for c in sii.columns if c.startswith(("sii", "rii"))]]
    out = gaps.merge(sii[keep], on="indicator", how="left")
    order = {name: i for i, name in enumerate(pd.unique(rows["indicator"]))}
    return out.sort_values("indicator", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def _value_kind(statistic: str) -> str:
    text = statistic.lower()
    if text.startswith("percentage"):
        return "percentage"
    if text.startswith("proportion"):
        return "proportion"
    if text.startswith(("dsr", "rate", "crude rate")):
        return "rate"
    return "normal"
