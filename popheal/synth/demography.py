"""Demographic inputs of the synthetic area: a life table, fertility rates, net migration, the resident
population, and the SNPP-layout projection (made with popheal.projection.cohort_component)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from popheal.synth import model as M
from popheal.synth._util import stream
from popheal.synth.area import Structure, life_table_mx, list_inflation

__all__ = ["fertility_rates", "life_table", "net_migration", "project", "residents"]


def life_table(top: int = 100) -> pd.DataFrame:
    """Single-year life table by sex, ages 0..top (open), ONS long layout: age, sex, mx, qx, lx, dx, ex.

    m(x) from the parametric fit (model.LIFE_TABLE_PARAMETERS); q(x) = m / (1 + (1 - a) m) with a = 0.1 at
    age 0 and 0.5 elsewhere; the open age has q = 1 and L = l / m (Chiang; domain-spec H.4).
    """
    frames = []
    ages = np.arange(top + 1)
    for sex in ("male", "female"):
        mx = np.round(life_table_mx(sex, top), 6)
        a = np.where(ages == 0, 0.1, 0.5)
        qx = mx / (1 + (1 - a) * mx)
        qx[-1] = 1.0
        lx = np.empty(top + 1)
        lx[0] = 100_000.0
        for i in range(top):
            lx[i + 1] = lx[i] * (1 - qx[i])
        dx = lx * qx
        big_l = lx - (1 - a) * dx
        big_l[-1] = lx[-1] / mx[-1]
        ex = big_l[::-1].cumsum()[::-1] / lx
        frames.append(pd.DataFrame({"age": ages, "sex": sex, "mx": mx, "qx": np.round(qx, 6),
                                    "lx": np.round(lx, 1), "dx": np.round(dx, 1), "ex": np.round(ex, 2)}))
    out = pd.concat(frames, ignore_index=True)
    out["order"] = out["sex"].map({"male": 0, "female": 1})
    return out.sort_values(["age", "order"], kind="stable").drop(columns="order").reset_index(drop=True)


def fertility_rates(area_code: str) -> pd.DataFrame:
    """Age-specific fertility rates, ages 15..46 (live births per woman per year): gamma-shaped schedule with
    total fertility model.FERTILITY_TFR and mean age model.FERTILITY_MEAN_AGE (ASSUMPTIONS)."""
    ages = np.arange(15, 47)
    shift = 14.0
    mean, sd = M.FERTILITY_MEAN_AGE - shift, M.FERTILITY_SD_AGE
    k, theta = (mean / sd) ** 2, sd ** 2 / mean
    dens = special.gammainc(k, (ages + 1 - shift) / theta) - special.gammainc(k, (ages - shift) / theta)
    rate = M.FERTILITY_TFR * dens / dens.sum()
    return pd.DataFrame({"area_code": area_code, "age": ages, "rate": np.round(rate, 6)})


def net_migration(area_code: str, residents: float = M.MIGRATION_REFERENCE_RESIDENTS) -> pd.DataFrame:
    """Net migrants per year by sex (F/M) and age 0..90 (90 = 90+), ASSUMPTIONS in model.MIGRATION_PEAKS,
    scaled by ``residents`` / model.MIGRATION_REFERENCE_RESIDENTS (the flows were set for Wolverhampton)."""
    scale = float(residents) / M.MIGRATION_REFERENCE_RESIDENTS
    p = {k: v * scale if k.endswith(("_peak", "_out")) else v for k, v in M.MIGRATION_PEAKS.items()}
    a = np.arange(91, dtype=float)

    def bell(centre, sd):
        return np.exp(-0.5 * ((a - centre) / sd) ** 2)

    net = (p["young_peak"] * bell(p["young_age"], p["young_sd"]) - p["family_out"] * bell(36, 5)
           - p["child_out"] * bell(5, 4) - p["older_out"] * bell(65, 6))
    rows = [pd.DataFrame({"area_code": area_code, "sex": s, "age": a.astype(int),
                          "net_migration": np.round(net, 2)}) for s in ("F", "M")]
    return pd.concat(rows, ignore_index=True)


def residents(st: Structure) -> np.ndarray:
    """Usual residents by LSOA, sex and age 0..TOP (array): the registered patients living in each LSOA,
    thinned by the list-inflation factor of their age (registered lists exceed residents)."""
    n_lsoa = len(st.lsoas)
    n_age = st.counts.shape[2]
    key = (st.lsoa_idx.astype(np.int64) * 2 + st.sex_idx) * n_age + st.age
    reg = np.bincount(key, minlength=n_lsoa * 2 * n_age).reshape(n_lsoa, 2, n_age)
    keep = 1.0 / list_inflation(n_age - 1)
    return stream(st.spec.seed, "residents").binomial(reg, np.broadcast_to(keep, reg.shape))


def project(res: np.ndarray, base_year: int, area_code: str, years: int = 25) -> pd.DataFrame:
    """Project residents with popheal.projection.cohort_component: ``year, sex (F/M), age, population``."""
    from popheal.projection import cohort_component

    by_sex_age = res.sum(axis=0)  # (2, ages)
    pop = np.concatenate([by_sex_age[:, :90], by_sex_age[:, 90:].sum(axis=1, keepdims=True)], axis=1)
    base = pd.DataFrame({"sex": np.repeat(["F", "M"], 91), "age": np.tile(np.arange(91), 2),
                         "population": pop.reshape(-1).astype(float)})
    lt = life_table()
    mortality = lt.assign(sex=lt["sex"].map({"male": "M", "female": "F"}))[["sex", "age", "mx", "qx"]]
    fert = fertility_rates(area_code).rename(columns={"rate": "asfr"})[["age", "asfr"]]
    mig = net_migration(area_code, res.sum())[["sex", "age", "net_migration"]]
    return cohort_component(base, mortality, fert, mig, start_year=base_year, end_year=base_year + years,
                            sex_ratio_at_birth=M.SEX_RATIO_AT_BIRTH)
