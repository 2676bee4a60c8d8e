"""Run a whole area: prepare once, build every PCN's pack in parallel, publish atomically, report failures.

Local runs use a pool of worker processes (``--workers``, default the number of cores), each keeping one
warm Jupyter kernel for all the PCNs it builds. ``--dask tcp://HOST:PORT`` sends each PCN to a
dask.distributed cluster instead; the cluster's workers need this project (and its data) at the same path.
A PCN whose pack already exists for the same inputs, parameters and code is skipped unless ``force``.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
import sys
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from popheal import paths
from popheal.params import AreaParams, load
from popheal.reports.build import BuildJob, BuildResult, build
from popheal.reports.provenance import Provenance, provenance

__all__ = ["RunSummary", "build_packs", "publish", "run_dir_for"]


@dataclass
class RunSummary:
    run_dir: Path
    built: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    prepare_seconds: float = 0.0
    kernel_seconds: float = 0.0
    overview_ok: bool | None = None
    results: list[BuildResult] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed or self.overview_ok is False else 0


def run_dir_for(params: AreaParams, out: str | os.PathLike[str] | None = None) -> Path:
    """outputs/<area slug>/<period label> (or under ``out``)."""
    base = paths.resolve(out) if out else paths.outputs_dir()
    return base / params.area.slug / params.period.label


def _existing_key(pack: Path) -> str | None:
    try:
        return json.loads((pack / "manifest.json").read_text(encoding="utf-8")).get("build_key")
    except (OSError, ValueError):
        return None


def _atomic_replace_dir(src: Path, dest: Path) -> None:
    """Move a finished folder into place; an older version is moved aside first, then removed."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    old = dest.with_name(f".old-{dest.name}-{os.getpid()}")
    if dest.exists():
        dest.rename(old)
    src.rename(dest)
    shutil.rmtree(old, ignore_errors=True)


def _zip_dir(folder: Path, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, arcname=f"{target.stem}/{p.relative_to(folder).as_posix()}")
    tmp.replace(target)


def _readable(folder: Path) -> None:
    """Give a finished build the usual permissions (folders 755, files 644): temporary files are private."""
    folder.chmod(0o755)
    for p in folder.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)


def publish(result: BuildResult, run_dir: Path, *, overview: bool = False) -> None:
    """Put a build's outputs in place: executed notebooks on record, then the pack (or overview) atomically."""
    label = result.pcn_code or "area"
    record = run_dir / ("failed" if not result.ok else "executed") / label
    if result.executed:
        shutil.rmtree(record, ignore_errors=True)
        record.mkdir(parents=True, exist_ok=True)
        for name, data in result.executed.items():
            (record / name).write_bytes(data)
    if not result.ok:
        record.mkdir(parents=True, exist_ok=True)
        (record / "error.txt").write_text(
            f"{result.error}\n\n{result.scan_report}".strip() + "\n", encoding="utf-8")
        if result.pcn_code:  # a pack from an earlier run no longer matches the inputs: withdraw it
            shutil.rmtree(run_dir / "packs" / result.pcn_code, ignore_errors=True)
            (run_dir / "packs" / f"{result.pcn_code}.zip").unlink(missing_ok=True)
        else:  # likewise an earlier area overview, with its stale links and figures
            for name in ("index.html", "manifest.json"):
                (run_dir / name).unlink(missing_ok=True)
            shutil.rmtree(run_dir / "downloads", ignore_errors=True)
        return
    shutil.rmtree(run_dir / "failed" / label, ignore_errors=True)
    staging = run_dir / ".building"
    if result.files is not None:  # built remotely: materialise locally first
        staging.mkdir(parents=True, exist_ok=True)
        folder = Path(os.path.join(staging, f"{label}-remote"))
        shutil.rmtree(folder, ignore_errors=True)
        for rel, data in result.files.items():
            f = folder / rel
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(data)
    else:
        folder = Path(result.build_dir)
    _readable(folder)
    if overview:
        for p in folder.iterdir():  # the overview's page and downloads sit at the run's top level
            target = run_dir / p.name
            if p.is_dir():
                _atomic_replace_dir(p, target)
            else:
                p.replace(target)
        shutil.rmtree(folder, ignore_errors=True)
        return
    packs = run_dir / "packs"
    packs.mkdir(parents=True, exist_ok=True)
    _zip_dir(folder, packs / f"{result.pcn_code}.zip")
    _atomic_replace_dir(folder, packs / result.pcn_code)


def _worker_init() -> None:  # pragma: no cover - runs in child processes
    os.environ.setdefault("MPLBACKEND", "Agg")


def build_packs(params: AreaParams | str | Path, pcns: list[str] | None = None, workers: int | None = None,
                out: str | None = None, force: bool = False, dask_address: str | None = None,
                overview: bool = True, progress: bool = True, engine: str | None = None) -> RunSummary:
    """Build the packs of an area (or of the PCNs named), publishing each that passes; see module docstring."""
    from popheal.reports import prepare

    t0 = time.perf_counter()
    params = params if isinstance(params, AreaParams) else load(params)
    selected = params.select(pcns)  # unknown --pcn codes fail here, before any kernel starts
    run_dir = run_dir_for(params, out)
    summary = RunSummary(run_dir=run_dir)

    ts = time.perf_counter()
    prep = prepare.prepare_area(params, progress=progress)  # bad input stops the run here, before any output
    summary.prepare_seconds = time.perf_counter() - ts
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(run_dir / ".building", ignore_errors=True)  # leftovers of a killed run are never published
    for old in (run_dir / "packs").glob(".old-*") if (run_dir / "packs").is_dir() else ():
        shutil.rmtree(old, ignore_errors=True)
    prepare.write_internal(prep, params, run_dir)

    prov: Provenance = provenance(params)
    common = {"area": params.area_relpath, "run_dir": str(run_dir), "provenance": dict(prov),
              "local_build": dask_address is None, **({"engine": engine} if engine else {})}
    jobs: list[BuildJob] = []
    for pcn in selected:
        key = prov.key(pcn.code)
        if not force and _existing_key(run_dir / "packs" / pcn.code) == key:
            summary.skipped.append(pcn.code)
            continue
        jobs.append(BuildJob(pcn_code=pcn.code, build_key=key, **common))

    bar = tqdm(total=len(jobs) + bool(overview), desc=f"packs {params.area.slug}", unit="pack",
               disable=not progress, file=sys.stderr)

    def handle(res: BuildResult) -> None:
        summary.results.append(res)
        summary.kernel_seconds += res.kernel_seconds
        try:
            publish(res, run_dir, overview=not res.pcn_code)
        except OSError as exc:  # e.g. a full disk: this pack is not published; the others go on
            res.ok, res.error = False, f"could not publish: {type(exc).__name__}: {exc}"
        name = res.pcn_code or "area overview"
        if not res.pcn_code:
            summary.overview_ok = res.ok
        elif res.ok:
            summary.built.append(res.pcn_code)
        else:
            summary.failed[res.pcn_code] = res.error
        bar.set_postfix_str(f"{name} {'ok' if res.ok else 'FAILED'} {res.seconds:.1f}s")
        if not res.ok:
            tqdm.write(f"  {name} FAILED: {res.error.splitlines()[0] if res.error else ''}", file=sys.stderr)
        bar.update(1)

    def overview_job() -> BuildJob:
        """The area overview, built after the packs so that it links only to packs that were published."""
        published = tuple(p.code for p in params.pcns if (run_dir / "packs" / p.code / "index.html").is_file())
        return BuildJob(pcn_code="", build_key=prov.key("area"), published=published, **common)

    if dask_address:
        _run_dask(jobs, dask_address, handle)
        if overview:
            _run_dask([overview_job()], dask_address, handle)
    else:
        n = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
        _run_local(jobs, n, handle)
        if overview:
            _run_local([overview_job()], 1, handle)
    bar.close()
    shutil.rmtree(run_dir / ".building", ignore_errors=True)
    summary.seconds = time.perf_counter() - t0
    return summary


def _pool(n: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn"), initializer=_worker_init)


def _run_local(jobs: list[BuildJob], n: int, handle) -> None:
    """Run builds on a pool of ``n`` worker processes. A worker that dies breaks the whole pool, so the builds
    it took down are retried one at a time, each in a fresh single-worker pool: the PCN that kills its worker
    fails alone and the others finish."""
    retry: list[BuildJob] = []
    with _pool(n) as ex:
        futures = {ex.submit(build, job): job for job in jobs}
        for fut in as_completed(futures):
            job = futures[fut]
            try:
                handle(fut.result())
            except BrokenProcessPool:
                retry.append(job)
            except Exception as exc:  # noqa: BLE001 - a failed build is this PCN's failure only
                handle(BuildResult(pcn_code=job.pcn_code, ok=False, seconds=0.0,
                                   error=f"worker failed: {type(exc).__name__}: {exc}"))
    for job in retry:
        with _pool(1) as ex:
            try:
                handle(ex.submit(build, job).result())
            except Exception as exc:  # noqa: BLE001 - the worker died again: this PCN fails
                handle(BuildResult(pcn_code=job.pcn_code, ok=False, seconds=0.0,
                                   error=f"worker process died: {type(exc).__name__}: {exc}"))


def _run_dask(jobs: list[BuildJob], address: str, handle) -> None:
    """Submit one task per pack to a dask.distributed scheduler; results come back as files."""
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError as exc:  # pragma: no cover - the scale extra is missing
        raise RuntimeError("--dask needs the 'scale' extra: pip install -e .[scale]") from exc
    with Client(address) as client:
        futures = {client.submit(build, job, key=f"popheal-pack-{job.pcn_code or 'area'}-{job.build_key}",
                                 pure=False): job for job in jobs}
        for fut in dask_completed(list(futures)):
            job = futures[fut]
            try:
                res = fut.result()
            except Exception as exc:  # noqa: BLE001 - a failed task is this PCN's failure only
                res = BuildResult(pcn_code=job.pcn_code, ok=False, seconds=0.0,
                                  error=f"dask task failed: {type(exc).__name__}: {exc}")
            handle(res)
