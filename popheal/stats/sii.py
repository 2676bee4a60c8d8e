"""Slope and relative indices of inequality (PHEindicatormethods ``phe_sii``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from ._confidence import build_output, format_multiplier, limit_names, parse_confidence, z_two_sided
from ._groups import Grouping, as_by, numeric, require_columns

__all__ = ["sii"]

_TYPES = {0: "normal", 1: "rate", 2: "proportion"}
_CHUNK_VALUES = 20_000_000  # simulated values held at once (about 160 MB of float64)


def _forward(values: np.ndarray, value_type: int) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if value_type == 1:
            return np.log(values)
        if value_type == 2:
            return logit(values)
    return values


def _backward(values: np.ndarray, value_type: int) -> np.ndarray:
    if value_type == 1:
        return np.exp(values)
    if value_type == 2:
        return expit(values)
    return values


def _cumulative_midpoints(pop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Population share of each quantile and the midpoint of its cumulative share (the relative rank)."""
    share = pop / pop.sum(axis=1, keepdims=True)
    before = np.cumsum(share, axis=1) - share
    return share, before + share / 2


def sii(
    df: pd.DataFrame,
    quantile: str,
    population: str,
    value: str,
    lower: str | None = None,
    upper: str | None = None,
    se: str | None = None,
    value_type: int = 0,
    transform: bool = False,
    confidence: float | Sequence[float] = 0.95,
    multiplier: float = 1,
    repetitions: int = 100000,
    rii: bool = False,
    intercept: bool = False,
    seed: int | None = None,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Slope index of inequality (and optionally the relative index) with Monte Carlo confidence limits.

    Method: Low A, Low A. Measuring the gap: quantifying and comparing local health inequalities. J Public
    Health 2004;26:388-95, as PHEindicatormethods ``phe_sii``. Quantiles (5 to 100, ordered 1 = most
    deprived) get a relative rank at the midpoint of their cumulative population share; the value is
    regressed on rank weighted by population (square-root transformation, no free intercept term). The SII
    is the fitted difference between rank 1 and rank 0, the RII their ratio. Limits come from simulating
    every quantile value from its standard error ``repetitions`` times and refitting; all repetitions are
    solved at once with the regression's hat matrix (one matrix product, no model fit per repetition).

    Parameters
    ----------
    df : one row per quantile per group.
    quantile, population, value : column names.
    lower, upper : the value's 95% limits (used for the standard error when ``se`` is not given).
    se : the value's standard error; for rates and proportions it is on the log / logit scale.
    value_type : 0 normal (e.g. life expectancy), 1 rate (log scale), 2 proportion (logit scale, 0-1).
    transform : for rates and proportions, fit the regression on the log / logit scale and transform the
        SII, RII, intercept and limits back (PHEindicatormethods ``transform = TRUE``).
    confidence : 0.95 or 95, or a pair such as (0.95, 0.998).
    multiplier : scales the SII (e.g. 100 for percentages); a negative multiplier flips polarity and
        inverts the RII.
    repetitions : Monte Carlo repetitions (1,000 or more).
    rii, intercept : also return the RII with limits, and the fitted value at rank 0.
    seed : seed for ``numpy.random.default_rng`` (deterministic limits for a given seed).
    by : grouping column(s); one SII per group.

    Returns
    -------
    The ``by`` columns, ``sii`` and ``sii_lowercl``/``sii_uppercl`` (``sii_lower95_0cl``... for two levels),
    when asked ``rii`` and its limits and ``intercept``, then ``confidence``, ``statistic`` and ``method``.
    A group with a missing quantile, a zero or missing population, a missing standard error or a value
    its type cannot take gets missing results.
    """
    function = "sii"
    if value_type not in _TYPES:
        raise ValueError("sii: value_type must be 0 (normal), 1 (rate) or 2 (proportion)")
    if transform and value_type == 0:
        raise ValueError("sii: transform applies to rates (value_type=1) and proportions (value_type=2) only")
    if se is None and (lower is None or upper is None):
        raise ValueError("sii: give the se column, or both the lower and upper 95% limit columns")
    if not isinstance(repetitions, (int, np.integer)) or repetitions < 1000:
        raise ValueError("sii: repetitions must be a whole number of 1,000 or more (default 100,000)")
    levels = parse_confidence(confidence)
    by_columns = as_by(by)
    require_columns(df, [quantile, population, value, lower, upper, se, *by_columns], function)

    pop = numeric(df, population, function)
    val = numeric(df, value, function)
    if value_type == 2 and np.any((val < 0) | (val > 1)):
        raise ValueError(f"sii: proportions in '{value}' must lie between 0 and 1")
    mu = _forward(val, value_type)
    if se is not None:
        sev = numeric(df, se, function)
        if np.any(sev < 0):
            raise ValueError(f"sii: standard errors in '{se}' must be zero or more")
    else:
        lo, hi = numeric(df, lower, function), numeric(df, upper, function)
        if value_type == 2 and np.any((lo < 0) | (lo > 1) | (hi < 0) | (hi > 1)):
            raise ValueError("sii: confidence limits of proportions must lie between 0 and 1")
        sev = (_forward(hi, value_type) - _forward(lo, value_type)) / z_two_sided(0.95) / 2

    q_codes, q_values = pd.factorize(df[quantile], sort=True)
    if np.any(q_codes < 0):
        raise ValueError(f"sii: column '{quantile}' has missing values")
    nq = len(q_values)
    if not 5 <= nq <= 100:
        raise ValueError(f"sii: the number of quantiles must be between 5 and 100 (found {nq})")
    grouping = Grouping(df, by_columns, function)
    G = grouping.ngroups
    cells = np.bincount(grouping.codes * nq + q_codes, minlength=G * nq).reshape(G, nq)
    if np.any(cells > 1):
        raise ValueError(f"sii: a group has more than one row for the same {quantile}")

    def to_matrix(values):
        out = np.full((G, nq), np.nan)
        out[grouping.codes, q_codes] = values
        return out

    P, MU, SE, Y = to_matrix(pop), to_matrix(mu), to_matrix(sev), to_matrix(val)
    valid = (
        (cells == 1).all(axis=1)
        & (P > 0).all(axis=1)
        & np.isfinite(MU).all(axis=1)
        & np.isfinite(SE).all(axis=1)
    )
    # stand-in values for invalid groups keep the linear algebra finite; their results are blanked below
    P = np.where(valid[:, None], P, 1.0)
    MU = np.where(valid[:, None], MU, 0.0)
    SE = np.where(valid[:, None], SE, 0.0)
    Y = np.where(valid[:, None], Y, 0.5)

    share, rank = _cumulative_midpoints(P)
    root = np.sqrt(share)
    X = np.stack([root, rank * root], axis=2)  # (G, Q, 2): the square-root-weighted design
    hat = np.linalg.solve(np.einsum("gqi,gqj->gij", X, X), np.swapaxes(X, 1, 2))  # (G, 2, Q)

    fit_y = MU if transform else Y
    alpha, beta = np.einsum("giq,gq->gi", hat, fit_y * root).T
    flip = multiplier < 0
    with np.errstate(divide="ignore", invalid="ignore"):
        if transform:
            low_end, high_end = _backward(alpha, value_type), _backward(alpha + beta, value_type)
            sii_value = (high_end - low_end) * multiplier
            rii_value = high_end / low_end
            intercept_value = low_end * abs(multiplier)
        else:
            sii_value = beta * multiplier
            rii_value = (alpha + beta) / alpha
            intercept_value = alpha
        if flip:
            rii_value = 1 / rii_value

    # Monte Carlo limits: every repetition of every group in one batched product per chunk of groups
    rng = np.random.default_rng(seed)
    tails = []
    for level in levels:
        upper_p = level + (1 - level) / 2
        tails.append((int(np.round(repetitions * (1 - upper_p))), int(np.round(repetitions * upper_p))))
    kth = sorted({max(k, 1) - 1 for pair in tails for k in pair})
    sii_sims = np.full((G, len(kth)), np.nan)
    rii_sims = np.full((G, len(kth)), np.nan)
    chunk = max(1, _CHUNK_VALUES // (nq * repetitions))
    for start in range(0, G, chunk):
        stop = min(G, start + chunk)
        draws = MU[start:stop, :, None] + SE[start:stop, :, None] * rng.standard_normal(
            (stop - start, nq, repetitions)
        )
        if not transform:
            draws = _backward(draws, value_type)
        coefs = np.einsum("giq,gqr->gir", hat[start:stop], draws * root[start:stop, :, None])
        slopes = coefs[:, 1, :]
        if not transform:
            slopes = slopes * multiplier
        sii_sims[start:stop] = np.partition(slopes, kth, axis=1)[:, kth]
        if rii and not transform:
            with np.errstate(divide="ignore", invalid="ignore"):
                ratios = (coefs[:, 1, :] + coefs[:, 0, :]) / coefs[:, 0, :]
                if flip:
                    ratios = 1 / ratios
            rii_sims[start:stop] = np.partition(ratios, kth, axis=1)[:, kth]

    def pick(sims, position):
        return sims[:, kth.index(max(position, 1) - 1)]

    sii_lowers, sii_uppers, rii_lowers, rii_uppers = [], [], [], []
    for low_pos, high_pos in tails:
        s_low, s_high = pick(sii_sims, low_pos), pick(sii_sims, high_pos)
        if transform:
            middle = alpha + beta / 2
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                ends_low = (_backward(middle - s_low / 2, value_type), _backward(middle + s_low / 2, value_type))
                ends_high = (_backward(middle - s_high / 2, value_type), _backward(middle + s_high / 2, value_type))
                if flip:
                    ends_low, ends_high = ends_high, ends_low
                sii_lowers.append((ends_low[1] - ends_low[0]) * multiplier)
                sii_uppers.append((ends_high[1] - ends_high[0]) * multiplier)
                ratio_low, ratio_high = ends_low[1] / ends_low[0], ends_high[1] / ends_high[0]
                if flip:
                    ratio_low, ratio_high = 1 / ratio_low, 1 / ratio_high
                rii_lowers.append(ratio_low)
                rii_uppers.append(ratio_high)
        else:
            sii_lowers.append(s_low)
            sii_uppers.append(s_high)
            rii_lowers.append(pick(rii_sims, low_pos))
            rii_uppers.append(pick(rii_sims, high_pos))

    def blank(values):
        return np.where(valid, values, np.nan)

    after: dict[str, object] = {}
    if rii:
        after["rii"] = blank(rii_value)
        for (lo_name, hi_name), lo, hi in zip(limit_names(levels, "rii_"), rii_lowers, rii_uppers):
            after[lo_name] = blank(lo)
            after[hi_name] = blank(hi)
    if intercept:
        after["intercept"] = blank(intercept_value)
    scale = {0: "none", 1: "log", 2: "logit"}[value_type] if transform else "none"
    statistic = (
        f"slope index of inequality ({_TYPES[value_type]}, transform {scale}) x {format_multiplier(multiplier)}"
    )
    method = f"weighted least squares; Monte Carlo limits from {repetitions} repetitions"
    return build_output(
        grouping.keys,
        {},
        blank(sii_value),
        levels,
        [blank(v) for v in sii_lowers],
        [blank(v) for v in sii_uppers],
        statistic,
        method,
        prefix="sii_",
        value_name="sii",
        after=after,
    )
