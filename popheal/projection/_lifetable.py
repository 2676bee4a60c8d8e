"""Single-year life tables and the survival ratios a cohort-component projection needs.

Method: Preston, Heuveline & Guillot (2001), *Demography: measuring and modeling population processes*,
chapter 3 (period life table; ``nqx = n*nmx / (1 + (n - nax)*nmx)``, ``nLx = n*l(x+n) + nax*ndx``, the open
interval ``L = l/m``; infant ``1a0`` from Coale & Demeny as in their Table 3.3) and chapter 6 (projection
survival ratios ``S_x = L(x+1)/L(x)``, births surviving to the end of the interval ``L0/l0``, open group
``T(w+1)/T(w)``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from popheal.io.errors import InputError

__all__ = ["OPEN_AGE", "RADIX", "life_table", "persons_mortality", "survival_ratios"]

#: The projection's open age group (90 = 90+), as in ONS MYE/SNPP.
OPEN_AGE = 90
#: Life-table radix (l0), as in ONS national life tables.
RADIX = 100_000.0

_FEMALE = {"f", "female", "females", "2"}
_MALE = {"m", "male", "males", "1"}


def _sex_kind(label) -> str:
    text = str(label).strip().lower()
    if text in _FEMALE:
        return "F"
    if text in _MALE:
        return "M"
    return "persons"


def _infant_a0(m0: np.ndarray, kind: str) -> np.ndarray:
    """Coale & Demeny's 1a0 from 1m0 (Preston et al. 2001, Table 3.3); persons: mean of the two sexes."""
    male = np.where(m0 >= 0.107, 0.330, 0.045 + 2.684 * m0)
    female = np.where(m0 >= 0.107, 0.350, 0.053 + 2.800 * m0)
    if kind == "M":
        return male
    if kind == "F":
        return female
    return (male + female) / 2.0


def _m_from_q(q: np.ndarray, a: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return q / (1.0 - (1.0 - a) * q)


def _q_from_m(m: np.ndarray, a: np.ndarray) -> np.ndarray:
    return np.minimum(m / (1.0 + (1.0 - a) * m), 1.0)


def _validate_mortality(mortality: pd.DataFrame, name: str = "mortality") -> pd.DataFrame:
    if not isinstance(mortality, pd.DataFrame):
        raise InputError(name, "must be a DataFrame with columns sex, age and qx or mx")
    missing = [c for c in ("sex", "age") if c not in mortality.columns]
    if missing:
        raise InputError(name, f"missing column(s) {missing}; expected sex, age and qx or mx", column=missing[0])
    if "qx" not in mortality.columns and "mx" not in mortality.columns:
        raise InputError(name, "needs a qx (probability of dying) or mx (central death rate) column", column="qx")
    keep = [c for c in ("year", "sex", "age", "mx", "qx") if c in mortality.columns]
    table = mortality[keep].copy()
    table["sex"] = table["sex"].astype(str)
    age = pd.to_numeric(table["age"], errors="coerce")
    bad = age.isna() | (age < 0) | (age != np.floor(age))
    if bad.any():
        raise InputError(name, "ages must be whole numbers from 0 (single years)", column="age",
                         rows=table.index[bad.to_numpy()])
    table["age"] = age.astype(int)
    for col in ("mx", "qx"):
        if col in table.columns:
            values = pd.to_numeric(table[col], errors="coerce")
            upper = 1.0 if col == "qx" else np.inf
            bad = values.isna() | (values < 0) | (values > upper)
            if bad.any():
                rule = "must be a probability between 0 and 1" if col == "qx" else "must be a rate >= 0"
                raise InputError(name, rule, column=col, rows=table.index[bad.to_numpy()])
            table[col] = values.astype(float)
    keys = [c for c in ("year", "sex") if c in table.columns]
    dup = table.duplicated(keys + ["age"], keep=False)
    if dup.any():
        raise InputError(name, f"each {'/'.join(keys)} and age must appear once", column="age",
                         rows=table.index[dup.to_numpy()])
    for key, part in table.groupby(keys, sort=False):
        ages = np.sort(part["age"].to_numpy())
        if ages[0] != 0 or np.any(np.diff(ages) != 1):
            raise InputError(name, f"ages for {key} must run 0, 1, 2, ... without gaps (single-year table)",
                             column="age")
    return table.sort_values(keys + ["age"]).reset_index(drop=True)


def _one_table(part: pd.DataFrame, kind: str, min_top: int = 0) -> dict[str, np.ndarray]:
    """Life table columns for one sex (ages 0..w, w the table's top age, the open interval)."""
    has_m = "mx" in part.columns and part["mx"].notna().all()
    has_q = "qx" in part.columns and part["qx"].notna().all()
    m = part["mx"].to_numpy(float) if has_m else None
    q = part["qx"].to_numpy(float) if has_q else None
    n = len(part)
    a = np.full(n, 0.5)
    if has_m:
        a[0] = _infant_a0(m[:1], kind)[0]
    else:
        m = _m_from_q(q, a)
        for _ in range(20):  # infant a0 depends on m0: a short fixed-point iteration (converges in a few steps)
            a0 = _infant_a0(m[:1], kind)[0]
            m0 = _m_from_q(q[:1], np.array([a0]))[0]
            if abs(m0 - m[0]) < 1e-15:
                break
            m[0] = m0
        a[0] = _infant_a0(m[:1], kind)[0]
    if not has_q:
        q = _q_from_m(m, a)
    if n - 1 < min_top:  # extend a short table at a constant hazard (the top age's m) up to min_top
        extra = min_top - (n - 1)
        m = np.concatenate([m, np.repeat(m[-1], extra)])
        a = np.concatenate([a, np.full(extra, 0.5)])
        q = np.concatenate([q, _q_from_m(np.repeat(m[-1], extra), np.full(extra, 0.5))])
        n = len(m)
    lx = np.empty(n)
    lx[0] = RADIX
    lx[1:] = RADIX * np.cumprod(1.0 - q[:-1])
    dx = lx * q
    l_next = np.append(lx[1:], lx[-1] * (1.0 - q[-1]))
    Lx = l_next + a * dx  # single-year L(x), also for the top age (used when the top age is 90)
    with np.errstate(divide="ignore", invalid="ignore"):
        open_L = np.where(m[-1] > 0, lx[-1] / m[-1], np.inf)
    L_open = Lx.copy()
    L_open[-1] = open_L  # the top age read as the open interval w+ (Preston et al. 2001, eq. 3.8)
    Tx = np.cumsum(L_open[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ex = np.where(lx > 0, Tx / lx, 0.0)
    return {"mx": m, "qx": q, "ax": a, "lx": lx, "dx": dx, "Lx": L_open, "Lx_single": Lx, "Tx": Tx, "ex": ex}


def life_table(mortality: pd.DataFrame) -> pd.DataFrame:
    """Complete a single-year period life table from ``qx`` or ``mx`` (any top age), by sex (and year).

    Parameters
    ----------
    mortality : DataFrame with ``sex, age`` (0, 1, ... without gaps) and ``qx`` or ``mx`` (or both; optional
        ``year``). The top age is read as an open interval.

    Returns
    -------
    DataFrame ``[year,] sex, age, mx, qx, ax, lx, dx, Lx, Tx, ex`` (radix 100,000).

    Notes
    -----
    Preston, Heuveline & Guillot (2001), ch. 3: ``ax = 0.5`` at ages 1+, infant ``a0`` from Coale & Demeny
    (Preston Table 3.3; the mean of the male and female formulas for persons or other labels);
    ``qx = mx / (1 + (1 - ax) mx)`` (or its inverse when only ``qx`` is given); when both are given ``qx``
    makes ``lx`` and ``mx`` is kept (ONS tables publish both). ``Lx = l(x+1) + ax dx``; the top age ``w`` is
    open, ``L(w) = l(w) / m(w)``. Life expectancy from this table is close to, not identical with, ONS's
    published ``ex`` (ONS treats the top ages differently).
    """
    table = _validate_mortality(mortality)
    keys = [c for c in ("year", "sex") if c in table.columns]
    frames = []
    for key, part in table.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        sex = key[keys.index("sex")]
        cols = _one_table(part.reset_index(drop=True), _sex_kind(sex))
        cols.pop("Lx_single")
        frame = pd.DataFrame({"age": part["age"].to_numpy(), **cols})
        for i, k in enumerate(keys):
            frame.insert(i, k, key[i])
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    return out[[*keys, "age", "mx", "qx", "ax", "lx", "dx", "Lx", "Tx", "ex"]]


def _survival_arrays(part: pd.DataFrame, kind: str, open_age: int = OPEN_AGE) -> tuple[np.ndarray, float]:
    """Survival ratios from age x to x+1 for x = 0..open_age-1, the open group's, and births' (L0/l0)."""
    top = int(part["age"].max())
    t = _one_table(part.reset_index(drop=True), kind, min_top=open_age)
    L_single, T = t["Lx_single"], t["Tx"]
    s = np.empty(open_age + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s[: open_age - 1] = np.where(L_single[: open_age - 1] > 0,
                                     L_single[1:open_age] / L_single[: open_age - 1], 0.0)
        # cohort aged open_age-1 reaches exactly open_age: single-year L(open_age) / L(open_age-1)
        s[open_age - 1] = L_single[open_age] / L_single[open_age - 1] if L_single[open_age - 1] > 0 else 0.0
        if top > open_age:
            if np.isinf(T[open_age + 1]):  # no deaths at the top age: nobody leaves the open group
                s[open_age] = 1.0
            else:
                s[open_age] = T[open_age + 1] / T[open_age] if T[open_age] > 0 else 0.0
        else:  # the table stops at (or was extended to) the open age: survival 1 - q(open_age)
            s[open_age] = 1.0 - t["qx"][open_age]
    births = L_single[0] / RADIX
    return np.clip(s, 0.0, 1.0), float(births)


def survival_ratios(mortality: pd.DataFrame, open_age: int = OPEN_AGE) -> pd.DataFrame:
    """Projection survival ratios for single years of age with an open group ``open_age``+.

    Returns ``[year,] sex, age, survival, birth_survival``: ``survival`` at age ``x < open_age`` is the share
    of people aged ``x`` at mid-year who are alive (aged ``x+1``) a year later, ``L(x+1)/L(x)``; at
    ``open_age`` it is the open group's ``T(w+1)/T(w)`` when the table reaches beyond ``open_age`` (ages above
    it are collapsed into the group), else ``1 - q(open_age)``. ``birth_survival`` (one value per sex) is
    ``L0/l0``, the share of a year's births alive at the end of the year. A table ending below ``open_age``
    is extended at the top age's constant death rate. Preston, Heuveline & Guillot (2001), sections 3.1, 6.2.
    """
    table = _validate_mortality(mortality)
    keys = [c for c in ("year", "sex") if c in table.columns]
    frames = []
    for key, part in table.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        sex = key[keys.index("sex")]
        s, b = _survival_arrays(part, _sex_kind(sex), open_age)
        frame = pd.DataFrame({"age": np.arange(open_age + 1), "survival": s, "birth_survival": b})
        for i, k in enumerate(keys):
            frame.insert(i, k, key[i])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def persons_mortality(mortality: pd.DataFrame, weights="stationary", sex_ratio_at_birth: float = 1.05):
    """Combine male and female single-year ``mx`` into a persons table (``sex = "persons"``).

    ``m_persons(x) = sum_s w_s(x) m_s(x)`` with weights that sum to one at each age:

    - ``"stationary"`` (default): each sex's share of the stationary (life-table) population ``Lx`` with
      births split by ``sex_ratio_at_birth`` - persons deaths over persons person-years, so at old ages
      women (who outlive men) weigh more, as they do in a real population;
    - ``"equal"``: 50/50;
    - a DataFrame ``sex, age, population`` (e.g. mid-year estimates by sex): population shares.

    Returns ``[year,] sex, age, mx, qx`` (``qx`` from ``mx`` as in :func:`life_table`).
    """
    table = life_table(mortality)
    kinds = table["sex"].map(_sex_kind)
    if set(kinds) != {"F", "M"}:
        raise InputError("mortality", "persons_mortality needs female and male rows (sex F/M)", column="sex")
    table = table.assign(kind=kinds)
    keys = ["year"] if "year" in table.columns else []
    if isinstance(weights, str) and weights == "stationary":
        share_m = sex_ratio_at_birth / (1.0 + sex_ratio_at_birth)
        table["w"] = np.where(table["kind"] == "M", share_m, 1 - share_m) * table["Lx"]
    elif isinstance(weights, str) and weights == "equal":
        table["w"] = 1.0
    elif isinstance(weights, pd.DataFrame):
        w = weights[["sex", "age", "population"]].copy()
        w["kind"] = w["sex"].astype(str).map(_sex_kind)
        table = table.merge(w[["kind", "age", "population"]], on=["kind", "age"], how="left")
        table["w"] = table["population"].fillna(0.0).astype(float)
    else:
        raise InputError("weights", "weights must be 'stationary', 'equal' or a DataFrame sex, age, population")
    grouped = table.assign(wm=table["w"] * table["mx"]).groupby([*keys, "age"], as_index=False)[["wm", "w"]].sum()
    grouped["mx"] = grouped["wm"] / grouped["w"]
    a = np.where(grouped["age"] == 0, _infant_a0(grouped["mx"].to_numpy(), "persons"), 0.5)
    grouped["qx"] = _q_from_m(grouped["mx"].to_numpy(), a)
    grouped.insert(len(keys), "sex", "persons")
    return grouped[[*keys, "sex", "age", "mx", "qx"]]
