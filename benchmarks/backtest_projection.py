"""Backtest popheal.projection on genuine inputs: Wolverhampton (E08000031) 65+ in 2041 vs ONS 2022-based SNPP.

Run: ``.venv/bin/python benchmarks/backtest_projection.py`` (prints figures; never part of the test suite).

Inputs (../shared/data/real, see its SOURCES.md), read with the popheal.io readers:
- base: ONS mid-2019 population estimates, persons, single years 0..90+ (mye_lad_syoa);
- mortality: ONS national life tables, UK 2017-2019 (life_tables), male and female combined into a persons
  table by :func:`popheal.projection.persons_mortality` - each sex weighted by its share of the stationary
  (life-table) population, so that women, who outlive men, weigh more at old ages as they do in the real
  population (a 50/50 average is shown as a sensitivity). Held constant: no mortality improvement;
- fertility: ASSUMED, no genuine Wolverhampton ASFR is available - total fertility rate 1.85 with a gamma-
  shaped age schedule, mean age at childbearing 29.5, SD 5.8 years (ages 15-49); applied to an assumed 50%
  female share of persons (the base is persons only). It cannot affect 65+ in 2041 (all born before 1977);
- migration: none in the main run; a sensitivity uses net migration estimated by the residual method from the
  mid-2019 and mid-2020 estimates (one year, held constant - noisy, and 2020 was a pandemic year).
The comparator is the ONS 2022-based SNPP (migration-category variant) for Wolverhampton, 2041, ages 65+.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

AREA = "E08000031"  # Wolverhampton
TARGET = 2041
TFR = 1.85  # assumption (see module docstring)
MEAN_AGE_AT_BIRTH, SD_AGE_AT_BIRTH = 29.5, 5.8  # assumption
GROUPS = [(65, None), (65, 74), (75, 84), (85, None)]


def _real_data() -> Path | None:
    try:
        from popheal.paths import shared_real_data

        return shared_real_data()
    except Exception:  # noqa: BLE001 - no project root: fall back to the folder beside this checkout
        folder = ROOT.parent / "shared" / "data" / "real"
        return folder if folder.is_dir() else None


def _read_inputs(real: Path):
    """Mid-2019 and mid-2020 estimates, the persons life table inputs and the 2022-based SNPP."""
    mye19 = real / "mye_lad_syoa" / "population19_ltla19_persons_syoa_EW.csv"
    mye20 = real / "mye_lad_syoa" / "population20_ltla20_persons_syoa_EW.csv"
    nlt = real / "life_tables" / "nlt_UK_2017-2019_extracted.csv"
    snpp = real / "snpp2022" / "snpp2022_migcat_persons_Wolverhampton.csv"
    try:
        from popheal.io import read_life_table, read_mid_year_estimates, read_snpp

        p19 = read_mid_year_estimates(mye19, year=2019)
        p20 = read_mid_year_estimates(mye20, year=2020)
        life = read_life_table(nlt)
        ons = read_snpp(snpp)
        how = "popheal.io readers"
    except ImportError:  # the readers are not there: read the published layouts directly
        def wide(path, year):
            t = pd.read_csv(path)
            t = t[t.iloc[:, 0] == AREA].drop(columns=[c for c in t.columns[:3]])
            return pd.DataFrame({"area_code": AREA, "sex": "persons", "age": np.arange(91), "year": year,
                                 "population": t.iloc[0].to_numpy(float)})
        p19, p20 = wide(mye19, 2019), wide(mye20, 2020)
        life = pd.read_csv(nlt).assign(sex=lambda d: d["sex"].map({"male": "M", "female": "F"}))
        raw = pd.read_csv(snpp)
        raw = raw[raw["AGE_GROUP"] != "All ages"]
        ons = raw.melt(id_vars=["AREA_CODE", "AREA_NAME", "COMPONENT", "SEX", "AGE_GROUP"], var_name="year",
                       value_name="population")
        ons = ons.assign(area_code=ons["AREA_CODE"], sex="persons", year=ons["year"].astype(int),
                         age=ons["AGE_GROUP"].str.extract(r"(\d+)")[0].astype(int))
        how = "pandas (popheal.io readers missing)"
    p19 = p19[p19["area_code"] == AREA]
    p20 = p20[p20["area_code"] == AREA]
    ons = ons[ons["area_code"] == AREA]
    return p19, p20, life, ons, how


def _sum(table: pd.DataFrame, year: int, lo: int, hi: int | None, value="population") -> float:
    t = table[table["year"] == year]
    mask = (t["age"] >= lo) & (t["age"] <= (90 if hi is None else hi))
    return float(t.loc[mask, value].sum())


def _label(lo, hi):
    return f"{lo}+" if hi is None else f"{lo}-{hi}"


def main() -> int:
    real = _real_data()
    if real is None:
        print("backtest_projection: skipped - the genuine open data folder ../shared/data/real is absent.")
        return 0
    from popheal.projection import (
        VARIANTS,
        cohort_component,
        fertility_schedule,
        growth,
        persons_mortality,
        project_scenarios,
        residual_migration,
        scenario_range,
    )

    p19, p20, life, ons, how = _read_inputs(real)
    base = p19[["sex", "age", "population"]].assign(population=lambda d: d["population"].astype(float))
    mort = persons_mortality(life)  # stationary-population weights
    mort_equal = persons_mortality(life, weights="equal")
    fert = fertility_schedule(TFR, MEAN_AGE_AT_BIRTH, SD_AGE_AT_BIRTH)

    t0 = time.perf_counter()
    main_run = cohort_component(base, mort, fert, start_year=2019, end_year=TARGET)
    elapsed = time.perf_counter() - t0
    equal_run = cohort_component(base, mort_equal, fert, start_year=2019, end_year=TARGET)
    migration = residual_migration(p19[["sex", "age", "population"]], p20[["sex", "age", "population"]],
                                   mort, fert)
    mig_run = cohort_component(base, mort, fert, migration, start_year=2019, end_year=TARGET)
    variants = project_scenarios(base, mort, fert, migration, start_year=2019, end_year=TARGET)
    ons_base = ons[ons["year"] == 2022][["sex", "age", "population"]]
    from_2022 = cohort_component(ons_base, mort, fert, start_year=2022, end_year=TARGET)

    ons65 = _sum(ons, TARGET, 65, None)
    ours65 = _sum(main_run, TARGET, 65, None)
    print("Backtest: Wolverhampton (E08000031), people aged 65+ in mid-2041")
    print(f"inputs read with {how}; one 22-year persons projection took {elapsed * 1000:.0f} ms")
    print("assumptions: UK 2017-19 life table held constant (persons = stationary-weighted M/F); "
          f"TFR {TFR} (assumed, gamma schedule, mean age {MEAN_AGE_AT_BIRTH}); no migration unless stated\n")
    rows = [
        ("popheal, mid-2019 base, no migration (main)", main_run),
        ("  sensitivity: persons mx = 50/50 average of M and F", equal_run),
        ("  sensitivity: + net migration (2019->20 residual, constant)", mig_run),
        ("  sensitivity: ONS mid-2022 base, no migration", from_2022),
    ]
    print(f"{'run':<62}{'65+':>9}{'65-74':>9}{'75-84':>9}{'85+':>9}{'vs ONS 65+':>12}")
    for name, run in rows:
        vals = [_sum(run, TARGET, lo, hi) for lo, hi in GROUPS]
        diff = vals[0] - ons65
        print(f"{name:<62}" + "".join(f"{v:>9,.0f}" for v in vals) + f"{diff:>+10,.0f} ({100 * diff / ons65:+.1f}%)")
    ons_vals = [_sum(ons, TARGET, lo, hi) for lo, hi in GROUPS]
    print(f"{'ONS 2022-based SNPP (migration-category variant)':<62}" + "".join(f"{v:>9,.0f}" for v in ons_vals))
    print()
    print("variants of the migration run (one component at a time; 65+ in 2041):")
    for scen in VARIANTS:
        v = _sum(variants[variants["scenario"] == scen], TARGET, 65, None)
        print(f"  {scen:<15} {VARIANTS[scen] or 'as principal'!s:<22} {v:>9,.0f}")
    band = scenario_range(variants, (65, None))
    end = band[band["year"] == TARGET].iloc[0]
    print(f"  low-high range {end['low']:,.0f} to {end['high']:,.0f}\n")

    # where the difference comes from: mid-2022, where both projections can be compared with ONS's base
    ours22, ons22 = _sum(main_run, 2022, 0, None), _sum(ons, 2022, 0, None)
    ours22_65, ons22_65 = _sum(main_run, 2022, 65, None), _sum(ons, 2022, 65, None)
    print(f"mid-2022 check: all ages popheal {ours22:,.0f} vs ONS base {ons22:,.0f} ({ours22 - ons22:+,.0f}); "
          f"65+ {ours22_65:,.0f} vs {ons22_65:,.0f} ({ours22_65 - ons22_65:+,.0f})")
    g_ours = growth(from_2022, ages=(65, None), base_year=2022, target_year=TARGET).iloc[0]
    g_ons = growth(ons[["year", "sex", "age", "population"]], ages=(65, None), base_year=2022,
                   target_year=TARGET).iloc[0]
    print(f"growth of 65+ 2022->2041 from the same ONS base: popheal {g_ours['percent_change']:+.1f}% "
          f"vs ONS {g_ons['percent_change']:+.1f}%; old-age dependency ratio 2041 (65+ per 100 aged 16-64): "
          f"popheal {g_ours['old_age_dependency_ratio']:.1f} vs ONS {g_ons['old_age_dependency_ratio']:.1f}")
    base_effect = ours65 - _sum(from_2022, TARGET, 65, None)
    assumption_effect = _sum(from_2022, TARGET, 65, None) - ons65
    print(f"\ndifference popheal - ONS in 65+ 2041: {ours65 - ons65:+,.0f} ({100 * (ours65 - ons65) / ons65:+.1f}%)"
          f" = base {base_effect:+,.0f} (mid-2019 MYE aged on vs ONS's mid-2022 base)"
          f" + assumptions {assumption_effect:+,.0f} (same base, popheal's vs ONS's components)")
    ons85, ours85 = ons_vals[3], _sum(from_2022, TARGET, 85, None)
    print("likely reasons (the decomposition above says which part matters):")
    print(" - base: the mid-2019 MYE was rolled forward from the 2011 Census, ONS's mid-2022 base is rebased on "
          "Census 2021 and includes the COVID-19 deaths of 2020-22; here the base accounts for only "
          f"{base_effect:+,.0f} of the gap;")
    print(" - migration (likely the largest part): ONS projects net migration by age, and older people tend to "
          "leave large cities; the main popheal run has none. The residual-migration sensitivity "
          f"({_sum(mig_run, TARGET, 65, None):,.0f}) moves from above ONS to below it;")
    print(" - mortality: popheal holds the UK 2017-19 life table constant. ONS projects improvement, which "
          f"shows at 85+ (ONS {ons85:,.0f} vs popheal {ours85:,.0f} from the same base); Wolverhampton's "
          "mortality is probably above the UK average (a deprived area), which pulls the other way;")
    print(" - fertility cannot matter here: everyone aged 65+ in 2041 was born by 1976.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
