"""Build one PCN's pack (or the area overview): execute the notebooks, export HTML, scan, hand back.

A build never writes into ``packs/`` itself. It works in a private folder (``<run>/.building/...``, or a
worker-local temporary folder on a Dask cluster) and returns a :class:`BuildResult`; the batch runner then
zips it and renames it into place, so a pack folder is visible only when complete and scanned.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import papermill as pm

from popheal import __version__, paths
from popheal.params import AreaParams, load
from popheal.reports import kernel as _kernel
from popheal.reports.html import PageInfo, export_html
from popheal.reports.sections import AREA_OVERVIEW, NAV_ORDER, SECTIONS, SectionSpec, section_by_notebook

__all__ = ["BuildJob", "BuildResult", "build", "disclosure_note", "page_info"]

KERNEL_NAME = "python3"


@dataclass
class BuildJob:
    """Everything a worker needs to build one pack (plain data, so it pickles to processes and Dask)."""

    area: str  # the YAML path relative to the project root (as notebooks receive it)
    pcn_code: str  # "" for the area overview
    run_dir: str  # outputs/<slug>/<period> (absolute)
    provenance: dict
    build_key: str
    engine: str = _kernel.ENGINE_NAME
    start_timeout: int = 180
    execution_timeout: int | None = 1800
    local_build: bool = True  # False on Dask: build in a worker temp folder and return the files
    notebooks: tuple[str, ...] | None = None  # default: every section (or the area overview)
    published: tuple[str, ...] | None = None  # area overview: the PCNs whose packs exist (None = all)


@dataclass
class BuildResult:
    pcn_code: str
    ok: bool
    seconds: float
    build_dir: str | None = None  # local builds: the finished folder to move into place
    files: dict[str, bytes] | None = None  # Dask builds: the pack's files by relative path
    executed: dict[str, bytes] = field(default_factory=dict)  # executed notebooks (the run's record)
    error: str = ""
    scan_report: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    kernel_seconds: float = 0.0
    peak_memory_mb: dict[str, float] = field(default_factory=dict)  # worker and kernel peak RSS (Linux)


def disclosure_note(params: AreaParams) -> str:
    t, b = params.disclosure.threshold, params.disclosure.base
    return (f"Disclosure control: counts from 1 to {t} are suppressed (*) and other counts rounded to the nearest "
            f"{b}; rates and percentages are calculated from the rounded figures. No patient-level data are "
            "included in this pack.")


def page_info(params: AreaParams, spec: SectionSpec, provenance: dict, pcn_code: str = "",
              published: tuple[str, ...] | None = None) -> PageInfo:
    """Header, banner, navigation and footer of one page."""
    if pcn_code:
        pcn = params.pcn(pcn_code)
        nav = []
        for name in NAV_ORDER:
            s = section_by_notebook(name)
            nav.append({"title": "Overview" if name == "00_overview" else s.title, "href": s.page,
                        "current": name == spec.notebook})
        heading = f"{pcn.name}: {spec.title}" if spec.notebook != "00_overview" else f"{pcn.name}: data pack"
        title = f"{pcn.name} - {spec.title} - {params.period.label}"
    else:
        nav = [{"title": p.name, "href": f"packs/{p.code}/index.html", "current": False} for p in params.pcns
               if published is None or p.code in published]
        heading = f"{params.area.name}: {spec.title}"
        title = f"{params.area.name} - {spec.title} - {params.period.label}"
    return PageInfo(
        page_title=title, heading=heading, area_name=params.area.name, period=params.period.label,
        pcn_code=pcn_code, synthetic=params.area.synthetic, nav=nav, version=__version__,
        commit=provenance.get("commit", "unknown"), timestamp=provenance.get("timestamp", ""),
        disclosure_note=disclosure_note(params),
        footer_note="Method notes are on each page; the data are described on the overview page.",
    )


def _scan(folder: Path, params: AreaParams) -> str:
    """Run the output scanner; return its report text when it finds anything, else ''."""
    from popheal import disclosure

    report = disclosure.scan(folder, threshold=params.disclosure.threshold, base=params.disclosure.base)
    return "" if report.ok else report.format()


def build(job: BuildJob) -> BuildResult:
    """Execute, export and scan one pack. Never raises for a notebook failure: the result says what happened."""
    t0 = time.perf_counter()
    params = load(job.area)
    run_dir = Path(job.run_dir)
    label = job.pcn_code or "area"
    specs = [section_by_notebook(n) for n in job.notebooks] if job.notebooks else (
        list(SECTIONS) if job.pcn_code else [AREA_OVERVIEW])
    if job.local_build:
        staging = run_dir / ".building"
        staging.mkdir(parents=True, exist_ok=True)
        build_dir = Path(tempfile.mkdtemp(prefix=f"{label}-", dir=staging))
        build_dir.chmod(0o755)  # mkdtemp makes it private; a published pack is readable like any output
    else:
        build_dir = Path(tempfile.mkdtemp(prefix=f"popheal-{label}-"))
    executed_dir = Path(tempfile.mkdtemp(prefix=f"executed-{label}-", dir=build_dir.parent))
    result = BuildResult(pcn_code=job.pcn_code, ok=False, seconds=0.0)
    current = ""
    warm = _kernel.warm_kernel() if job.engine == _kernel.ENGINE_NAME else None
    kernel_before = warm.start_seconds if warm else 0.0
    try:
        # the manifest starts with the run's provenance; the notebooks' export point adds tables and findings
        (build_dir / "manifest.json").write_text(json.dumps(
            {"tables": [], "figures": [], "findings": [], "pcn_code": job.pcn_code, "build_key": job.build_key,
             "provenance": job.provenance,
             **({"published_pcns": list(job.published)} if job.published is not None else {})},
            indent=2), encoding="utf-8")
        out_dir = paths.relative_to_root(build_dir)
        executed: dict[str, Path] = {}
        for spec in specs:
            current = spec.notebook
            source = paths.notebooks_dir() / f"{spec.notebook}.ipynb"
            target = executed_dir / f"{spec.notebook}.ipynb"
            ts = time.perf_counter()
            try:
                pm.execute_notebook(
                    str(source), str(target),
                    parameters={"area": job.area, "pcn_code": job.pcn_code, "out_dir": out_dir,
                                "seed": params.seed},
                    engine_name=job.engine, kernel_name=KERNEL_NAME, progress_bar=False,
                    start_timeout=job.start_timeout, execution_timeout=job.execution_timeout,
                    request_save_on_cell_execute=False,
                )
            finally:
                result.timings[spec.notebook] = time.perf_counter() - ts
                if target.exists():
                    executed[spec.notebook] = target
        ts = time.perf_counter()
        for spec in specs:
            nb = nbformat.read(str(executed[spec.notebook]), as_version=4)
            export_html(nb, page_info(params, spec, job.provenance, job.pcn_code, job.published),
                        build_dir / spec.page)
        result.timings["html"] = time.perf_counter() - ts
        _finalise_manifest(build_dir, job)
        ts = time.perf_counter()
        result.scan_report = _scan(build_dir, params)
        result.timings["scan"] = time.perf_counter() - ts
        if result.scan_report:
            result.error = "the output scanner found disclosure problems; the pack was not published"
        else:
            result.ok = True
    except pm.PapermillExecutionError as exc:
        result.error = f"notebook {current} failed in cell {exc.cell_index + 1}: {exc.ename}: {exc.evalue}"
    except Exception as exc:  # noqa: BLE001 - any other failure is this PCN's, reported; the batch goes on
        result.error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
    finally:
        result.executed = {f"{p.name}": p.read_bytes() for p in sorted(executed_dir.glob("*.ipynb"))}
        shutil.rmtree(executed_dir, ignore_errors=True)
        if warm is not None:
            result.kernel_seconds = warm.start_seconds - kernel_before
            result.peak_memory_mb = {k: v for k, v in (("worker", _kernel.peak_memory_mb()),
                                                        ("kernel", warm.peak_memory_mb())) if v is not None}
    if result.ok and not job.local_build:
        result.files = {p.relative_to(build_dir).as_posix(): p.read_bytes()
                        for p in sorted(build_dir.rglob("*")) if p.is_file()}
        shutil.rmtree(build_dir, ignore_errors=True)
    elif result.ok:
        result.build_dir = str(build_dir)
    else:
        shutil.rmtree(build_dir, ignore_errors=True)
    result.seconds = time.perf_counter() - t0
    return result


def _finalise_manifest(build_dir: Path, job: BuildJob) -> None:
    """Record the build key (inputs, parameters, code) and the pages in the pack's manifest.json."""
    manifest_path = build_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
    manifest.setdefault("tables", [])
    manifest["pcn_code"] = job.pcn_code
    manifest["build_key"] = job.build_key
    manifest["pages"] = sorted(p.name for p in build_dir.glob("*.html"))
    manifest["provenance"] = job.provenance
    tmp = manifest_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    tmp.replace(manifest_path)
