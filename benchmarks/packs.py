"""Benchmark: the demo area's packs built by popheal against a naive papermill + nbconvert loop.

Run with ``make bench`` (or ``python benchmarks/packs.py``). Prints figures; asserts nothing.

- popheal: ``popheal.reports.batch.build_packs(force=True)`` with a cold prepared-data cache, the default number
  of workers (one warm kernel each), in-process HTML export.
- naive: for each PCN and each notebook, serially, ``papermill`` (CLI) then ``jupyter nbconvert --to html
  --no-input`` (CLI), on the same notebooks and data. The naive loop is given popheal's shared preparation
  cache (cold at its start, so its first notebook pays the preparation and the rest reuse it): the comparison
  is of execution strategy only. ``--per-notebook-prep`` also times one notebook that prepares its own data,
  as a hand-written loop without a shared cache would, and extrapolates.

The last line is ``packs: popheal X s, naive Y s, ratio Z``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("POPHEAL_HOME", str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

from popheal import paths, synth
from popheal.params import load
from popheal.reports.batch import build_packs
from popheal.reports.sections import AREA_OVERVIEW, SECTIONS

BIN = Path(sys.executable).parent


def clear_cache(params) -> None:
    shutil.rmtree(paths.processed_dir() / params.area.slug, ignore_errors=True)


def run_popheal(params, out: Path, workers: int | None) -> tuple[float, object]:
    clear_cache(params)
    t0 = time.perf_counter()
    summary = build_packs(params, out=str(out), force=True, workers=workers, progress=False)
    return time.perf_counter() - t0, summary


def run_naive(params, out: Path, env: dict) -> float:
    clear_cache(params)
    jobs = [(pcn.code, spec.notebook) for pcn in params.pcns for spec in SECTIONS] + [("", AREA_OVERVIEW.notebook)]
    t0 = time.perf_counter()
    for pcn_code, notebook in jobs:
        folder = out / (pcn_code or "area")
        folder.mkdir(parents=True, exist_ok=True)
        executed = folder / f"{notebook}.ipynb"
        subprocess.run([str(BIN / "papermill"), str(ROOT / "notebooks" / f"{notebook}.ipynb"), str(executed),
                        "-p", "area", params.area_relpath, "-r", "pcn_code", pcn_code, "-p", "out_dir", str(folder),
                        "-p", "seed", str(params.seed), "--no-progress-bar", "--log-level", "ERROR"],
                       check=True, cwd=ROOT, env=env, capture_output=True)
        subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed)],
                       check=True, cwd=ROOT, env=env, capture_output=True)
    return time.perf_counter() - t0


def one_notebook_with_own_preparation(params, out: Path, env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run([str(BIN / "papermill"), str(ROOT / "notebooks" / "01_population.ipynb"),
                    str(out / "own_prep.ipynb"), "-p", "area", params.area_relpath, "-r", "pcn_code",
                    params.pcns[0].code, "-p", "out_dir", str(out / "own_prep"), "-p", "seed", str(params.seed),
                    "--no-progress-bar", "--log-level", "ERROR"],
                   check=True, cwd=ROOT, env={**env, "POPHEAL_NO_CACHE": "1"}, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params/wolverhampton.yaml")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--per-notebook-prep", action="store_true")
    args = parser.parse_args()
    params = load(args.params)
    if not params.data.path("patients").exists():
        synth.generate(params, progress=False)
    n_notebooks = len(params.pcns) * len(SECTIONS) + 1
    env = {**os.environ, "POPHEAL_HOME": str(ROOT), "MPLBACKEND": "Agg"}
    with tempfile.TemporaryDirectory(prefix="popheal-bench-") as tmp:
        tmp = Path(tmp)
        popheal_s, summary = run_popheal(params, tmp / "popheal", args.workers)
        if summary.exit_code:
            raise SystemExit(f"popheal build failed: {summary.failed}")
        workers = args.workers or os.cpu_count()
        print(f"popheal: {len(summary.built)} packs + overview ({n_notebooks} notebooks) in {popheal_s:.1f} s "
              f"with {workers} workers; preparation {summary.prepare_seconds:.1f} s (once per run)")
        print(f"popheal: kernel start and library imports {summary.kernel_seconds:.1f} s of worker time "
              f"({100 * summary.kernel_seconds / (popheal_s * workers):.0f}% of {workers} workers x wall time)")
        naive_s = run_naive(params, tmp / "naive", env)
        print(f"naive: {n_notebooks} notebooks, papermill CLI then nbconvert CLI, serially, in {naive_s:.1f} s "
              f"({naive_s / n_notebooks:.1f} s a notebook)")
        if args.per_notebook_prep:
            own = one_notebook_with_own_preparation(params, tmp, env)
            print(f"naive without a shared cache: one notebook preparing its own data took {own:.1f} s; "
                  f"x {n_notebooks} notebooks = about {own * n_notebooks:.0f} s")
    print(f"packs: popheal {popheal_s:.1f} s, naive {naive_s:.1f} s, ratio {popheal_s / naive_s:.2f}")


if __name__ == "__main__":
    main()
