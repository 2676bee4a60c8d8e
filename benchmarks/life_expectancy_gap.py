"""Life expectancy at birth by national IMD quintile, England 2016: the gap (Q5 - Q1) and the SII.

Input (../shared/data/real, skipped when absent): England deaths and mid-year populations by year, sex, IMD
quintile and age group, 2001-2016 (ONS, aggregated by the workHORSE team). Life expectancy: Chiang II
abridged life table to 90+ with Silcocks limits (popheal.stats.life_expectancy); SII: OHID/PHE method
(popheal.stats.sii), PHE sign convention (positive = longer lives in the least deprived).

Compare: ONS health state life expectancies by national deprivation deciles, England: the 2015-17 gap between
the most and least deprived DECILES is roughly 9-10 years (men) and 7-8 (women); the 2017-19 SII by decile
9.4 (males) and 7.6 (females). Gaps between quintiles are smaller (roughly 7-8 men, 5-6 women).

Run: .venv/bin/python benchmarks/life_expectancy_gap.py [year]
"""

from __future__ import annotations

import sys
import time

import pandas as pd

from popheal import inequalities as ineq
from popheal.paths import shared_real_data

FILE = "workhorse_England_deaths_pops_by_agegroup_sex_IMDquintile_2001-2016.csv"


def main(year: int = 2016) -> int:
    real = shared_real_data()
    path = None if real is None else real / "life_tables" / FILE
    if path is None or not path.is_file():
        print("skipped: ../shared/data/real/life_tables is not present")
        return 0
    start = time.perf_counter()
    deaths = ineq.prepare_deaths_by_quintile(pd.read_csv(path))
    le = ineq.life_expectancy_by_deprivation(deaths, by=("year", "sex"))
    gaps = ineq.life_expectancy_gap(le, by=("year", "sex"))
    elapsed = time.perf_counter() - start

    names = {"M": "Men", "F": "Women"}
    this = le[le["year"] == year]
    print(f"Life expectancy at birth by national IMD quintile, England {year} (years, 95% CI)")
    for sex in ("M", "F"):
        print(f"\n{names[sex]}")
        for _, r in this[this["sex"] == sex].iterrows():
            print(f"  {r['group']:<18} {r['value']:6.2f}  ({r['lowercl']:.2f} to {r['uppercl']:.2f})")
        g = gaps[(gaps["year"] == year) & (gaps["sex"] == sex)].iloc[0]
        print(f"  gap Q5 - Q1        {g['gap']:6.2f}  ({g['gap_lowercl']:.2f} to {g['gap_uppercl']:.2f})")
        print(f"  SII                {g['sii']:6.2f}  ({g['sii_lowercl']:.2f} to {g['sii_uppercl']:.2f})")
    trend = gaps.pivot(index="year", columns="sex", values="gap").rename(columns=names)
    print("\nGap Q5 - Q1 by year (years):")
    print(trend[["Men", "Women"]].to_string(float_format=lambda v: f"{v:.2f}"))
    print(
        f"\n{len(le)} life tables and {len(gaps)} SIIs (100,000 Monte Carlo repetitions each) in {elapsed:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2016))
