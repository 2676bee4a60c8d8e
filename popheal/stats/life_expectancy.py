"""Life expectancy from an abridged life table (PHEindicatormethods ``phe_life_expectancy``)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._confidence import build_output, parse_confidence, z_two_sided
from ._groups import Grouping, as_by, numeric, require_columns

__all__ = ["LE_START_AGES", "life_expectancy"]

#: Start ages of the 20 bands of the abridged life table: 0, 1-4, 5-9, ..., 85-89, 90+.
LE_START_AGES: tuple[int, ...] = (0, 1, *range(5, 95, 5))

_NBANDS = len(LE_START_AGES)
_MIN_TOTAL_POPULATION = 5000  # Toson & Baker 2003: below this LE is not robust (reference rule: <= 5,000)
_MAX_HALF_WIDTH = 10  # values whose 95% CI is wider than 20 years are suppressed


def _start_age(labels: pd.Series) -> np.ndarray:
    """The integer start age of each label ("0", "1-4", "90+", 85, ...), as the reference parses them."""
    codes, uniques = pd.factorize(labels, use_na_sentinel=False)
    parsed = []
    for label in uniques:
        if pd.isna(label):
            parsed.append(-1)
            continue
        if isinstance(label, (int, np.integer)) or (isinstance(label, float) and float(label).is_integer()):
            parsed.append(int(label))
            continue
        match = re.match(r"\D*(\d+)", str(label))
        parsed.append(int(match.group(1)) if match else -1)
    return np.asarray(parsed, dtype=np.int64)[codes]


def life_expectancy(
    df: pd.DataFrame,
    deaths: str,
    pop: str,
    startage: str,
    by: str | Sequence[str] | None = None,
    confidence: float | Sequence[float] = 0.95,
    le_age: str | int | Sequence[int] = "all",
) -> pd.DataFrame:
    """Life expectancy at each start age from deaths and populations in 20 age bands (0, 1-4, ..., 90+).

    Method: Chiang II abridged life table (Chiang CL, The Life Table and its Applications, 1984; a_0 = 0.1,
    a_x = 0.5 otherwise) with Chiang's variance plus the Silcocks term for the open 90+ interval (Silcocks
    PBS, Jenner DA, Reza R. J Epidemiol Community Health 2001;55:38-43), as PHEindicatormethods
    ``phe_life_expectancy`` and the PHE life expectancy calculator (Eayres & Williams, JECH 2004;58:243-9).

    Parameters
    ----------
    df : one row per age band per group.
    deaths, pop : deaths and (mid-year) population per band.
    startage : band start ages, as numbers (0, 1, 5, ..., 90) or labels whose first number is the start
        age ("0", "1-4", "5-9", ..., "90+").
    by : grouping column(s); one life table per group.
    confidence : 0.95 or 95, or (0.95, 0.998).
    le_age : "all", or the start age(s) to return (numbers such as 0 and 65, or labels such as "65-69").

    Returns
    -------
    One row per group and start age: the ``by`` columns, ``startage`` (as given), ``pops_used`` and
    ``dths_used`` (population and deaths at and above the start age), ``value`` and limits,
    ``confidence``, ``statistic`` ("life expectancy at 0") and ``method``.

    Suppression (value and limits missing) follows the reference: a group with a band missing, a negative
    death count, a population of zero or less, more deaths than population, a total population of 5,000 or
    less, missing values, or no deaths at 90+. A value whose 95% interval is wider than 20 years is
    suppressed but its limits are kept; so is a value at an age nobody in the table reaches.
    """
    function = "life_expectancy"
    levels = parse_confidence(confidence)
    by_columns = as_by(by)
    require_columns(df, [deaths, pop, startage, *by_columns], function)
    dv, pv = numeric(df, deaths, function), numeric(df, pop, function)
    ages = _start_age(df[startage])
    band = pd.Index(LE_START_AGES).get_indexer(ages)
    if np.any(band < 0):
        unknown = sorted(set(df[startage][band < 0].astype(str)))[:10]
        raise ValueError(
            f"{function}: column '{startage}' holds band(s) {unknown} that are not start ages of the "
            f"abridged table {list(LE_START_AGES)}"
        )
    grouping = Grouping(df, by_columns, function)
    cells = np.bincount(grouping.codes * _NBANDS + band, minlength=grouping.ngroups * _NBANDS)
    if np.any(cells > 1):
        raise ValueError(f"{function}: a group has more than one row for the same start age")
    present = cells.reshape(grouping.ngroups, _NBANDS) == 1
    row_of = np.full((grouping.ngroups, _NBANDS), -1, dtype=np.intp)
    row_of[grouping.codes, band] = np.arange(len(df))
    D = np.full((grouping.ngroups, _NBANDS), np.nan)
    P = np.full((grouping.ngroups, _NBANDS), np.nan)
    D[grouping.codes, band] = dv
    P[grouping.codes, band] = pv

    invalid = (
        ~present.all(axis=1)
        | np.isnan(D).any(axis=1)
        | np.isnan(P).any(axis=1)
        | (D < 0).any(axis=1)
        | (P <= 0).any(axis=1)
        | (D > P).any(axis=1)
        | (np.nansum(P, axis=1) <= _MIN_TOTAL_POPULATION)
        | ~(D[:, -1] > 0)
    )
    # compute every group on safe stand-in values, then blank the invalid ones
    Ds = np.where(invalid[:, None], 1.0, D)
    Ps = np.where(invalid[:, None], 1e4, P)

    width = np.diff(np.asarray(LE_START_AGES, dtype=float))
    a = np.where(np.asarray(LE_START_AGES) == 0, 0.1, 0.5)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        M = Ds / Ps
        n = np.empty_like(M)
        n[:, :-1] = width
        n[:, -1] = 2 / M[:, -1]
        q = np.where(Ds <= Ps / n / a, M * n / (1 + M * n * (1 - a)), 1.0)
        q[:, -1] = 1.0
        p = 1 - q
        lx = np.empty_like(q)
        lx[:, 0] = 1e5
        lx[:, 1:] = 1e5 * np.cumprod(p[:, :-1], axis=1)
        lead_l = np.concatenate([lx[:, 1:], np.zeros((len(lx), 1))], axis=1)
        dx = lx - lead_l
        Lx = n * (lead_l + a * dx)
        Lx[:, -1] = lx[:, -1] / M[:, -1]
        Tx = np.cumsum(Lx[:, ::-1], axis=1)[:, ::-1]
        ex = np.where(lx == 0, 0.0, Tx / lx)
        sp = np.where(dx == 0, 0.0, q**2 * (1 - q) / Ds)
        sp[:, -1] = 4 / (Ds[:, -1] * M[:, -1] ** 2)
        lead_e = np.concatenate([ex[:, 1:], np.zeros((len(ex), 1))], axis=1)
        W = sp * lx**2 * ((1 - a) * n + lead_e) ** 2
        W[:, -1] = (lx[:, -1] / 2) ** 2 * sp[:, -1]
        ST = np.cumsum(W[:, ::-1], axis=1)[:, ::-1]
        se = np.sqrt(ST / lx**2)
        lowers = [ex - z_two_sided(level) * se for level in levels]
        uppers = [ex + z_two_sided(level) * se for level in levels]
        too_wide = z_two_sided(0.95) * se > _MAX_HALF_WIDTH
        pops_used = np.cumsum(P[:, ::-1], axis=1)[:, ::-1]
        dths_used = np.cumsum(D[:, ::-1], axis=1)[:, ::-1]

    # an interval with nobody alive at its start (lx = 0) has no life expectancy; nor has a value without limits
    value = np.where(too_wide | ~np.isfinite(ex) | (lx == 0) | ~np.isfinite(se), np.nan, ex)
    value[invalid] = np.nan
    for limits in (lowers, uppers):
        for v in limits:
            v[invalid] = np.nan

    keep = present.copy()
    if not (isinstance(le_age, str) and le_age == "all"):
        wanted = _start_age(pd.Series(np.atleast_1d(np.asarray(le_age, dtype=object)))).astype(float)
        columns = np.isin(np.asarray(LE_START_AGES, dtype=float), wanted)
        if not columns.any():
            raise ValueError(f"{function}: le_age {le_age!r} is not a start age of the table {list(LE_START_AGES)}")
        keep &= columns[None, :]
    g_idx, b_idx = np.nonzero(keep)
    rows = row_of[g_idx, b_idx]
    labels = df[startage].to_numpy()[rows]
    keys = grouping.keys.iloc[g_idx].reset_index(drop=True)
    keys[startage] = labels
    own = {"pops_used": pops_used[g_idx, b_idx], "dths_used": dths_used[g_idx, b_idx]}
    statistic = np.array([f"life expectancy at {label}" for label in labels], dtype=object)
    return build_output(
        keys,
        own,
        value[g_idx, b_idx],
        levels,
        [v[g_idx, b_idx] for v in lowers],
        [v[g_idx, b_idx] for v in uppers],
        statistic,
        "Chiang, using Silcocks et al for confidence limits",
    )
