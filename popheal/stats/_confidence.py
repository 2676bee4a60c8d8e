"""Confidence levels, Poisson and binomial limits and the output columns shared by every statistic.

Everything here is vectorised over numpy arrays. The formulas follow PHEindicatormethods' internal helpers
(ukhsa-collaboration/PHEindicatormethods, R/utils.R), which cite:

- Byar's approximation to exact Poisson limits: Breslow NE, Day NE. Statistical methods in cancer research,
  volume II. Lyon: IARC; 1987.
- Exact Poisson limits from chi-square quantiles (Garwood 1936), as used by PHEindicatormethods for counts
  below 10.
- Wilson score interval: Wilson EB. Probable inference, the law of succession, and statistical inference.
  J Am Stat Assoc 1927;22:209-212; Newcombe RG, Altman DG in Statistics with Confidence, 2nd ed, 2000.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from numbers import Real

import numpy as np
import pandas as pd
from scipy import stats as sps

__all__ = [
    "build_output",
    "byars_lower",
    "byars_upper",
    "confidence_text",
    "exact_poisson_lower",
    "exact_poisson_upper",
    "format_multiplier",
    "limit_names",
    "parse_confidence",
    "poisson_limits",
    "qchisq",
    "wilson_lower",
    "wilson_upper",
    "z_two_sided",
]


def parse_confidence(confidence: float | Sequence[float]) -> tuple[float, ...]:
    """Return the confidence level(s) as fractions, validated.

    Accepts 0.95 or 95, or a pair such as (0.95, 0.998) / (95, 99.8). As in PHEindicatormethods, a level of
    90 or more is read as a percentage and every level must lie between 0.9 and 1.
    """
    if isinstance(confidence, bool):
        raise TypeError("confidence must be a number such as 0.95 or 95, or a pair such as (0.95, 0.998)")
    if isinstance(confidence, Real):
        raw: tuple = (confidence,)
    elif isinstance(confidence, Iterable) and not isinstance(confidence, (str, bytes)):
        raw = tuple(confidence)
    else:
        raise TypeError("confidence must be a number such as 0.95 or 95, or a pair such as (0.95, 0.998)")
    if not 1 <= len(raw) <= 2:
        raise ValueError(f"give one confidence level (e.g. 0.95) or two (e.g. (0.95, 0.998)), not {len(raw)}")
    levels = []
    for level in raw:
        if isinstance(level, bool) or not isinstance(level, Real) or np.isnan(level):
            raise TypeError(f"confidence levels must be numbers such as 0.95 or 95; got {level!r}")
        level = float(level)
        if level >= 90:
            level = level / 100
        if not 0.9 <= level <= 1:
            raise ValueError(
                f"confidence must be between 0.9 and 1 (or between 90 and 100); got {level!r}"
            )
        levels.append(level)
    if len(levels) == 2 and not levels[0] < levels[1]:
        raise ValueError("give two confidence levels in increasing order, e.g. (0.95, 0.998)")
    return tuple(levels)


def z_two_sided(level: float) -> float:
    """Standard normal quantile for a two-sided interval at ``level`` (inf at level 1)."""
    return float(sps.norm.ppf(level + (1 - level) / 2))


def _percent(level: float) -> str:
    return f"{round(level * 100, 8):g}"


def confidence_text(levels: Sequence[float]) -> str:
    """The ``confidence`` column text: "95%" or "95%, 99.8%"."""
    return ", ".join(_percent(level) + "%" for level in levels)


def limit_names(levels: Sequence[float], prefix: str = "") -> list[tuple[str, str]]:
    """Names of the (lower, upper) columns: lowercl/uppercl for one level, lower95_0cl... for two."""
    if len(levels) == 1:
        return [(prefix + "lowercl", prefix + "uppercl")]
    names = []
    for level in levels:
        tag = f"{round(level * 100, 8):.1f}".replace(".", "_")
        names.append((f"{prefix}lower{tag}cl", f"{prefix}upper{tag}cl"))
    return names


def format_multiplier(multiplier: float) -> str:
    """Multiplier as R's format(x, scientific = FALSE) prints it: 100000, 1, 0.5."""
    if float(multiplier).is_integer():
        return str(int(multiplier))
    return f"{multiplier:.15g}"


def _as_float(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def qchisq(p, df) -> np.ndarray:
    """Chi-square quantile with R's convention that zero degrees of freedom is a point mass at 0.

    scipy's chi2.ppf returns nan for df = 0 where R's qchisq returns 0; the exact lower limit of a zero
    count relies on R's value.
    """
    p, df = np.broadcast_arrays(_as_float(p), _as_float(df))
    with np.errstate(invalid="ignore"):
        out = sps.chi2.ppf(p, np.where(df == 0, 1.0, df))
    return np.where(df == 0, 0.0, out)


def byars_lower(x, level: float) -> np.ndarray:
    """Byar's lower limit for a Poisson count (NA where the approximation goes negative)."""
    x = _as_float(x)
    z = z_two_sided(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = x * (1 - 1 / (9 * x) - z / (3 * np.sqrt(x))) ** 3
    return np.where(out < 0, np.nan, out)


def byars_upper(x, level: float) -> np.ndarray:
    """Byar's upper limit for a Poisson count."""
    x1 = _as_float(x) + 1
    z = z_two_sided(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        return x1 * (1 - 1 / (9 * x1) + z / (3 * np.sqrt(x1))) ** 3


def exact_poisson_lower(x, level: float) -> np.ndarray:
    """Exact (chi-square) lower limit for a Poisson count: qchisq((1 - level) / 2, 2x) / 2."""
    x = _as_float(x)
    return qchisq((1 - level) / 2, 2 * x) / 2


def exact_poisson_upper(x, level: float) -> np.ndarray:
    """Exact (chi-square) upper limit for a Poisson count: qchisq(level + (1 - level) / 2, 2x + 2) / 2."""
    x = _as_float(x)
    return qchisq(level + (1 - level) / 2, 2 * x + 2) / 2


def poisson_limits(x, level: float, exact_below: float = 10) -> tuple[np.ndarray, np.ndarray]:
    """Limits for a Poisson count: exact below ``exact_below`` events, Byar's from there (PHEindicatormethods)."""
    x = _as_float(x)
    exact = x < exact_below
    small = np.where(exact, x, np.nan)
    large = np.where(exact, np.nan, x)
    lower = np.where(exact, exact_poisson_lower(small, level), byars_lower(large, level))
    upper = np.where(exact, exact_poisson_upper(small, level), byars_upper(large, level))
    return lower, upper


def poisson_method(x, exact_below: float = 10) -> np.ndarray:
    """Method label per count: "Exact" below ``exact_below``, "Byars" from there, None when missing."""
    x = _as_float(x)
    out = np.where(x < exact_below, "Exact", "Byars").astype(object)
    out[np.isnan(x)] = None
    return out


def wilson_lower(x, n, level: float) -> np.ndarray:
    """Wilson score lower limit for x successes out of n (0 at confidence 1)."""
    x, n = _as_float(x), _as_float(n)
    if level == 1:
        return np.where(np.isnan(x) | np.isnan(n), np.nan, 0.0)
    z = z_two_sided(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (2 * x + z**2 - z * np.sqrt(z**2 + 4 * x * (1 - x / n))) / 2 / (n + z**2)


def wilson_upper(x, n, level: float) -> np.ndarray:
    """Wilson score upper limit for x successes out of n (1 at confidence 1)."""
    x, n = _as_float(x), _as_float(n)
    if level == 1:
        return np.where(np.isnan(x) | np.isnan(n), np.nan, 1.0)
    z = z_two_sided(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (2 * x + z**2 + z * np.sqrt(z**2 + 4 * x * (1 - x / n))) / 2 / (n + z**2)


def build_output(
    keys: pd.DataFrame | None,
    own: Mapping[str, object],
    value,
    levels: Sequence[float],
    lowers: Sequence[np.ndarray],
    uppers: Sequence[np.ndarray],
    statistic,
    method,
    prefix: str = "",
    value_name: str = "value",
    after: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Assemble a result in the DESIGN.md column order.

    ``keys`` (the ``by`` columns, or the caller's own leading columns), then ``own`` columns, then
    ``value`` and the limit columns (named with ``prefix``), then any ``after`` columns, then
    ``confidence``, ``statistic`` and ``method``.
    """
    columns: dict[str, object] = dict(own)
    columns[value_name] = value
    for (lower_name, upper_name), lower, upper in zip(limit_names(levels, prefix), lowers, uppers):
        columns[lower_name] = lower
        columns[upper_name] = upper
    columns.update(after or {})
    columns["confidence"] = confidence_text(levels)
    columns["statistic"] = statistic
    columns["method"] = method
    length = len(np.atleast_1d(np.asarray(value, dtype=object))) if np.ndim(value) else 1
    body = pd.DataFrame(columns, index=pd.RangeIndex(length))
    if keys is None or keys.shape[1] == 0:
        return body
    leading = keys.reset_index(drop=True)
    leading = leading.drop(columns=[c for c in leading.columns if c in columns])
    return pd.concat([leading, body], axis=1)
