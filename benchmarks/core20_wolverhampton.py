"""Core20 share of Wolverhampton's residents on the genuine files (prints figures; not a pass/fail test).

Inputs (../shared/data/real, skipped when absent): MHCLG IoD 2019 File 1 (Black Country LSOAs) and ONS
mid-2019 LSOA population estimates; LSOAs filtered to Wolverhampton (LAD E08000031).

Run: .venv/bin/python benchmarks/core20_wolverhampton.py
"""

from __future__ import annotations

import sys
import time

from popheal import inequalities as ineq
from popheal.io import read_imd, read_lsoa_population
from popheal.paths import shared_real_data

LAD = "E08000031"  # Wolverhampton


def main() -> int:
    real = shared_real_data()
    if real is None:
        print("skipped: ../shared/data/real is not present")
        return 0
    start = time.perf_counter()
    imd = read_imd(real / "imd2019_lsoa" / "File_1_-_IMD2019_Index_of_Multiple_Deprivation_BlackCountry.csv")
    pop = read_lsoa_population(
        real / "mye_lsoa_syoa" / "population19_lsoa11_persons_syoa_BlackCountry.csv", year=2019
    )
    read_s = time.perf_counter() - start

    start = time.perf_counter()
    wolves = imd[imd["lad_code"] == LAD]
    lsoa_pop = ineq.population_from_lsoa_table(pop)
    lsoa_pop = lsoa_pop[lsoa_pop["lsoa11"].isin(wolves["lsoa11"])]
    result = ineq.core20_share(lsoa_pop, wolves)
    by_lad = ineq.core20_share(
        ineq.population_from_lsoa_table(pop).merge(imd[["lsoa11", "lad_code"]], on="lsoa11"),
        imd,
        by="lad_code",
    )
    calc_s = time.perf_counter() - start

    row = result.iloc[0]
    print(f"Wolverhampton ({LAD}): {len(wolves)} LSOAs, mid-2019 residents {int(row['total_population']):,}")
    print(
        f"Core20 (national IMD 2019 deciles 1-2): {int(row['core20_population']):,} residents, "
        f"share {row['core20_share']:.4f} ({100 * row['core20_share']:.1f}%); "
        f"unmatched {int(row['unmatched_population']):,}"
    )
    print("\nBlack Country local authorities:")
    print(by_lad.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"\nread {read_s:.2f} s, core20_share {calc_s * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
