"""Scale run: a synthetic area the size of a large integrated care board, prepared and packed.

About 1.5 million registered patients in 200 practices and 30 PCNs (default; ``--pcns`` and ``--list-size``
change it). Prints the wall time of each stage and the peak memory, then extrapolates to England's ~1,250
PCNs on a Dask cluster. Run with ``python benchmarks/scale.py``; it writes only to a temporary folder (and
the prepared-data cache in data/processed/<slug>, removed at the end). Never part of the tests.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("POPHEAL_HOME", str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

from popheal import paths, synth
from popheal.params import load
from popheal.reports import prepare
from popheal.reports.batch import build_packs

ENGLAND_PCNS = 1250


def area_yaml(folder: Path, pcns: int, list_size: int) -> Path:
    """An area YAML for the synthetic ICB: PCN sizes around ``list_size``, 5-8 practices each (~200 in all)."""
    demo = yaml.safe_load((ROOT / "params" / "wolverhampton.yaml").read_text(encoding="utf-8"))
    sizes = [list_size + ((i * 7919) % 21 - 10) * 1000 for i in range(pcns)]  # 40,000-60,000, deterministic
    practices_per_pcn = [5 + (i * 3) % 4 for i in range(pcns)]  # 5-8
    code = 1
    pcn_list = []
    for i, (size, n) in enumerate(zip(sizes, practices_per_pcn, strict=True)):
        practices = [{"code": f"DEM{code + j:03d}", "name": f"Practice {code + j}"} for j in range(n)]
        code += n
        pcn_list.append({"code": f"DEMPCN{i + 1}", "name": f"Synthetic network {i + 1}", "list_size": size,
                         "practices": practices})
    doc = {**demo, "area": {"code": "E08000031", "name": "Synthetic ICB", "slug": "scaleicb", "synthetic": True},
           "data": {**{k: v for k, v in demo["data"].items() if k != "pcn_activity"}, "folder": str(folder / "data")},
           "pcns": pcn_list}
    path = folder / "scaleicb.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # kilobytes on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcns", type=int, default=30)
    parser.add_argument("--list-size", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    workers = args.workers or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="popheal-scale-") as tmp:
        tmp = Path(tmp)
        params = load(area_yaml(tmp, args.pcns, args.list_size))
        n_practices = len(params.practices)
        patients = sum(p.list_size for p in params.pcns)
        print(f"area: {patients:,} patients, {n_practices} practices, {len(params.pcns)} PCNs; {workers} workers",
              flush=True)
        t0 = time.perf_counter()
        synth.generate(params, progress=False)
        t_synth = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in (tmp / "data").iterdir()) / 1e6
        print(f"synth: {t_synth:.1f} s, inputs {size:,.0f} MB", flush=True)
        t0 = time.perf_counter()
        prep = prepare.prepare_area(params, progress=False)
        t_prep = time.perf_counter() - t0
        print(f"prepare (read, validate, all area-wide analyses): {t_prep:.1f} s; "
              + ", ".join(f"{k} {v:.1f} s" for k, v in prep.meta["timings"].items()), flush=True)
        t0 = time.perf_counter()
        summary = build_packs(params, out=str(tmp / "out"), workers=workers, progress=True)
        t_packs = time.perf_counter() - t0 - summary.prepare_seconds
        print(f"packs: {len(summary.built)} built, {len(summary.failed)} failed, {t_packs:.1f} s "
              f"({t_packs / max(len(summary.built), 1):.1f} s a PCN across {workers} workers)")
        for code, err in summary.failed.items():
            print(f"  FAILED {code}: {err.splitlines()[0] if err else ''}")
        kernels = [r.peak_memory_mb.get("kernel", 0) for r in summary.results]
        workers_mb = [r.peak_memory_mb.get("worker", 0) for r in summary.results]
        print(f"peak memory: driver (synth + preparation) {peak_mb(resource.RUSAGE_SELF):,.0f} MB; largest "
              f"kernel {max(kernels, default=0):,.0f} MB; largest worker process {max(workers_mb, default=0):,.0f} MB")
        per_pcn_worker_s = t_packs * workers / max(len(summary.built), 1)
        for n_workers in (16, 64, 128):
            est = ENGLAND_PCNS * per_pcn_worker_s / n_workers
            print(f"extrapolation: {ENGLAND_PCNS:,} PCNs on a Dask cluster of {n_workers} single-core workers: "
                  f"about {est / 60:.0f} min of pack building (at {per_pcn_worker_s:.0f} worker-s a PCN), plus "
                  "each ICB's preparation run once (in parallel across ICBs)")
        shutil.rmtree(paths.processed_dir() / params.area.slug, ignore_errors=True)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
