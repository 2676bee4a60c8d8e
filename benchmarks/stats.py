"""Time popheal.stats.dsr and funnel_significance on a national-scale synthetic table.

6,500 practices x 19 age bands x 20 indicators (2,470,000 rows), generated with a fixed seed. Prints the
figures; asserts nothing (timing targets live here, never in the test suite).

Run: .venv/bin/python benchmarks/stats.py
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from popheal.stats import ESP2013_BANDS, dsr, funnel_significance

PRACTICES = 6500
INDICATORS = 20
SEED = 20240401
REPEATS = 3


def make_data(seed: int = SEED) -> pd.DataFrame:
    """Synthetic registered populations and event counts per practice, indicator and age band."""
    rng = np.random.default_rng(seed)
    bands = np.asarray(ESP2013_BANDS)
    nb = len(bands)
    practice = np.array([f"DEM{i:04d}" for i in range(1, PRACTICES + 1)])
    indicator = np.array([f"IND{i:02d}" for i in range(1, INDICATORS + 1)])
    # practice list sizes 2,000-20,000, spread over the bands by a decreasing age profile
    list_size = rng.integers(2000, 20000, PRACTICES)
    profile = np.linspace(1.3, 0.2, nb)
    profile /= profile.sum()
    pop = np.maximum(1, rng.poisson(np.outer(list_size, profile)))  # (practice, band)
    # event rates rising with age, an indicator-specific level and practice variation
    age_rate = np.exp(np.linspace(-7, -2, nb))
    level = rng.uniform(0.2, 3, INDICATORS)
    practice_effect = rng.lognormal(0, 0.15, PRACTICES)
    expected = level[:, None, None] * practice_effect[None, :, None] * age_rate[None, None, :] * pop[None]
    events = rng.poisson(expected)
    return pd.DataFrame(
        {
            "indicator": np.repeat(indicator, PRACTICES * nb),
            "practice_code": np.tile(np.repeat(practice, nb), INDICATORS),
            "age_band": np.tile(bands, PRACTICES * INDICATORS),
            "events": events.reshape(-1).astype(float),
            "population": np.tile(pop.reshape(-1), INDICATORS).astype(float),
        }
    )


def best_of(function, repeats: int = REPEATS) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    start = time.perf_counter()
    data = make_data()
    print(f"synthetic data: {len(data):,} rows ({PRACTICES:,} practices x 19 age bands x {INDICATORS} indicators), "
          f"generated in {time.perf_counter() - start:.2f} s")

    dsr_time, rates = best_of(
        lambda: dsr(data, "events", "population", by=["indicator", "practice_code"], confidence=(0.95, 0.998))
    )
    print(f"dsr (ESP2013, 95% and 99.8% limits): {dsr_time:.3f} s for {len(rates):,} practice-indicator DSRs")

    sig_time, _ = best_of(
        lambda: funnel_significance(
            rates, "total_count", None, statistic="rate", multiplier=100000, rate="value", rate_type="dsr",
            by="indicator",
        )
    )
    print(f"funnel_significance (DSRs, rate funnel per indicator): {sig_time:.3f} s for {len(rates):,} rows")

    crude = rates.assign(population=rates["total_pop"])
    ratio_time, _ = best_of(
        lambda: funnel_significance(crude, "total_count", "total_pop", statistic="proportion", by="indicator")
    )
    print(f"funnel_significance (proportions per indicator): {ratio_time:.3f} s for {len(rates):,} rows")
    print(f"dsr + funnel_significance (DSRs): {dsr_time + sig_time:.3f} s (best of {REPEATS})")


if __name__ == "__main__":
    main()
