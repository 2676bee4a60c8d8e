"""Benchmark: score 1,000,000 synthetic patients with popheal.risk (prints figures; not a pass/fail test).

Scoring = efi + cambridge_score + segment + AdmissionModel.predict (the default model, fitted beforehand on a
100,000-patient sample; fit time reported separately) + tiers. Target: under 3 s and under 2 GB for the scoring.

Time: wall clock (time.perf_counter), best and median of ``--repeats`` runs with tracing off.
Memory: peak of Python-tracked allocations during one extra scoring run under ``tracemalloc`` (numpy and pandas
buffers are tracked), measured from a reset baseline, so it is the scoring's own peak on top of the extract
already in memory. The process's peak RSS (resource.getrusage ru_maxrss) is printed too, for context only: it
includes generating the 1M-patient area.

Usage: python benchmarks/risk.py [--n 1000000] [--fit-n 100000] [--repeats 3] [--seed 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc

import numpy as np


def score(model, extract, imd):
    import popheal.risk as R

    frailty = R.efi(extract)
    cms = R.cambridge_score(extract)
    segments = R.segment(extract, frailty=frailty)
    probability = model.predict(extract, imd=imd, frailty=frailty, cambridge=cms)
    tier = R.tiers(probability, ids=extract["patient_id"])
    return frailty, cms, segments, probability, tier


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--fit-n", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    import popheal.risk as R
    import popheal.synth as S

    t0 = time.perf_counter()
    area = S.synthetic_area(args.n, seed=args.seed)  # area.patients is what popheal.synth.patients(n) returns
    extract = area.patients
    imd = area.lsoas[["lsoa11", "imd_decile"]]
    print(f"generated {len(extract):,} synthetic patients x {extract.shape[1]} columns in "
          f"{time.perf_counter() - t0:.1f} s (popheal.synth.synthetic_area, seed {args.seed}; not timed below)")

    rng = np.random.default_rng(args.seed)
    sample = extract.iloc[np.sort(rng.choice(len(extract), size=min(args.fit_n, len(extract)), replace=False))]
    t0 = time.perf_counter()
    model = R.AdmissionModel().fit(sample, test_size=0.3, seed=args.seed, imd=imd)
    fit_s = time.perf_counter() - t0
    print(f"fit: default AdmissionModel ({len(model.design_columns)} design columns) on a {len(sample):,}-patient "
          f"sample in {fit_s:.2f} s (split, statsmodels Logit, held-out scoring)")
    print(f"     {model.report()}")

    score(model, extract.iloc[:1000], imd)  # warm-up (imports, first-call caches)
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        result = score(model, extract, imd)
        times.append(time.perf_counter() - t0)
        del result

    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    frailty, cms, segments, probability, tier = score(model, extract, imd)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    steps = {}
    for name, fn in [
        ("efi", lambda: R.efi(extract)),
        ("cambridge_score", lambda: R.cambridge_score(extract)),
        ("segment", lambda: R.segment(extract, frailty=frailty)),
        ("predict", lambda: model.predict(extract, imd=imd, frailty=frailty, cambridge=cms)),
        ("tiers", lambda: R.tiers(probability, ids=extract["patient_id"])),
    ]:
        t0 = time.perf_counter()
        fn()
        steps[name] = time.perf_counter() - t0

    try:
        import resource

        maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB
        if sys.platform == "darwin":
            maxrss_mb /= 1024  # macOS: bytes
    except ImportError:  # Windows
        maxrss_mb = float("nan")

    n = len(extract)
    print(f"score {n:,} patients (efi + cambridge_score + segment + predict + tiers):")
    print(f"  time: best {min(times):.2f} s, median {statistics.median(times):.2f} s over {len(times)} runs "
          f"(target < 3 s)")
    print("  per step (one run): " + ", ".join(f"{k} {v:.2f} s" for k, v in steps.items()))
    print(f"  peak memory (tracemalloc, scoring only, above the loaded extract): {(peak - base) / 2**20:.0f} MB "
          f"(target < 2048 MB)")
    print(f"  process peak RSS (getrusage ru_maxrss, includes generating the area): {maxrss_mb:.0f} MB")
    print(f"  tiers: {tier.value_counts().reindex(R.tier_labels()).to_dict()}")
    print(f"  segments: {segments.value_counts().to_dict()}")


if __name__ == "__main__":
    main()
