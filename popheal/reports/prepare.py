"""Prepare an area once per run: read inputs, run the area-wide analyses, cache the results.

Every section's heavy work (reading the extracts, fitting the admission model, projecting every PCN, funnel
statistics over all practices) happens here once, not in each notebook. Results are written as parquet to
``data/processed/<area>/<key>/`` where the key hashes the input files, the area YAML and popheal's code, so a
changed input or a code change prepares afresh and an unchanged rerun reuses the cache. Patient-level
results (risk scores) stay in data/processed (the internal tier); notebooks read only the aggregate tables.

Setting ``POPHEAL_NO_CACHE=1`` prepares in memory every time without reading or writing the cache (what a
naive per-notebook loop does; used by the benchmark).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from popheal import paths
from popheal.params import AreaParams
from popheal.reports.provenance import provenance

__all__ = ["INTERNAL_TABLES", "Prepared", "prepare_area", "write_internal"]

#: Prepared tables that hold one row per patient: internal tier only, never given to a notebook's export.
INTERNAL_TABLES = ("risk_patients",)

_MEMO: dict[str, Prepared] = {}


@dataclass
class Prepared:
    """The area-wide prepared tables of one run (lazy-loaded from the cache)."""

    key: str
    folder: Path | None
    meta: dict
    _tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name in INTERNAL_TABLES:
            raise KeyError(f"prepared table {name!r} is patient-level (internal tier): it is never given to a "
                           "notebook; the internal writers read it with Prepared.internal()")
        return self._load(name)

    def internal(self, name: str) -> pd.DataFrame:
        """A patient-level prepared table, for the internal tier's writers only (never a pack)."""
        if name not in INTERNAL_TABLES:
            raise KeyError(f"{name!r} is not an internal table")
        return self._load(name)

    def _load(self, name: str) -> pd.DataFrame:
        if name not in self._tables:
            if self.folder is None:
                raise KeyError(name)
            path = self.folder / f"{name}.parquet"
            if not path.exists():
                raise KeyError(f"prepared table {name!r} not found in {self.folder}")
            if self.meta.get("geo", {}).get(name):
                import geopandas as gpd

                self._tables[name] = gpd.read_parquet(path)
            else:
                self._tables[name] = pd.read_parquet(path)
        # a shallow copy: under copy-on-write a notebook's changes never reach the cached table
        return self._tables[name].copy(deep=False)

    def names(self) -> list[str]:
        if self.folder is None:
            return sorted(self._tables)
        return sorted(p.stem for p in self.folder.glob("*.parquet"))


def _run_preparers(params: AreaParams, progress: bool) -> tuple[dict[str, pd.DataFrame], dict]:
    from popheal.reports.content import PREPARERS
    from popheal.reports.inputs import load_inputs

    timings = {}
    t = time.perf_counter()
    inputs = load_inputs(params)
    timings["inputs"] = time.perf_counter() - t
    tables: dict[str, pd.DataFrame] = {}
    meta: dict = {"data_quality": inputs.quality, "geo": {}}
    for name, fn in PREPARERS.items():
        t = time.perf_counter()
        if progress:
            print(f"preparing {name} ...", flush=True)
        section_tables, section_meta = fn(inputs, params)
        overlap = set(section_tables) & set(tables)
        if overlap:
            raise RuntimeError(f"prepared table name(s) {sorted(overlap)} produced twice")
        tables.update(section_tables)
        meta[name] = section_meta
        timings[name] = time.perf_counter() - t
    meta["geo"] = {k: True for k, v in tables.items() if hasattr(v, "geometry") and hasattr(v, "crs")}
    meta["timings"] = timings
    return tables, meta


def _write(folder: Path, tables: dict[str, pd.DataFrame], meta: dict) -> Path:
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        for name, table in tables.items():
            table.to_parquet(tmp / f"{name}.parquet", index=False)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
        (tmp / "complete.json").write_text(json.dumps({"tables": sorted(tables)}), encoding="utf-8")
        try:
            tmp.rename(folder)
        except OSError:  # another process finished the same key first: theirs is identical
            shutil.rmtree(tmp, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def prepare_area(params: AreaParams, progress: bool = True, force: bool = False) -> Prepared:
    """The area's prepared tables, from the cache when inputs, parameters and code are unchanged."""
    key = provenance(params).key("prepare")
    if os.environ.get("POPHEAL_NO_CACHE") == "1":
        tables, meta = _run_preparers(params, progress)
        return Prepared(key=key, folder=None, meta=meta, _tables=tables)
    if key in _MEMO and not force:
        return _MEMO[key]
    folder = paths.processed_dir() / params.area.slug / key
    if force and folder.exists():
        shutil.rmtree(folder)
    if not (folder / "complete.json").exists():
        tables, meta = _run_preparers(params, progress)
        _write(folder, tables, meta)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    prep = Prepared(key=key, folder=folder, meta=meta)
    _MEMO[key] = prep
    return prep


def write_internal(prep: Prepared, params: AreaParams, run_dir: Path) -> list[Path]:
    """Write the internal tier of a run: each practice's case-finding list (patient-level; never shared)."""
    from popheal.reports.content import INTERNAL_WRITERS

    internal = Path(run_dir) / "internal"
    written: list[Path] = []
    for writer in INTERNAL_WRITERS:
        written += writer(prep, params, internal)
    if internal.exists():  # patient-level: readable by the analyst's account only
        internal.chmod(0o700)
        for p in internal.rglob("*"):
            p.chmod(0o700 if p.is_dir() else 0o600)
    return written
