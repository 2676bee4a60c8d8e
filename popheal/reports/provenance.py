"""Provenance of a run: popheal version, git commit, input file hashes, parameters, code hash, timestamp.

The same hashes key the prepared-data cache (data/processed) and the incremental refresh of packs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
from functools import lru_cache
from pathlib import Path

from popheal import __version__, paths
from popheal.params import AreaParams

__all__ = ["Provenance", "code_hash", "file_hash", "git_commit", "input_hashes", "provenance"]

_CHUNK = 1 << 20


def file_hash(path: Path) -> str:
    """sha256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def input_hashes(params: AreaParams) -> dict[str, str]:
    """sha256 of every configured input file, by YAML data key (missing files are reported as such)."""
    out = {}
    for key in params.data.files:
        p = params.data.path(key)
        if p is not None and p.is_dir():  # a folder input: hash of its files' names and hashes
            h = hashlib.sha256()
            for f in sorted(q for q in p.rglob("*") if q.is_file()):
                h.update(f"{f.relative_to(p).as_posix()}:{file_hash(f)}".encode())
            out[key] = h.hexdigest()
        else:
            out[key] = file_hash(p) if p is not None and p.is_file() else "missing"
    return out


@lru_cache(maxsize=1)
def code_hash() -> str:
    """sha256 over popheal's source files and the notebooks: changes when the code or a notebook changes."""
    h = hashlib.sha256()
    pkg = Path(__file__).resolve().parents[1]
    files = sorted(pkg.rglob("*.py")) + sorted(pkg.rglob("*.j2")) + sorted(pkg.rglob("*.css"))
    nb_dir = paths.notebooks_dir()
    if nb_dir.is_dir():
        files += sorted(nb_dir.glob("*.ipynb"))
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


@lru_cache(maxsize=1)
def git_commit() -> str:
    """The project's git commit (short), with "+dirty" when there are uncommitted changes; "unknown" without git."""
    root = paths.project_root()
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10, check=False).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


class Provenance(dict):
    """A JSON-ready record of what produced a run."""

    def key(self, *extra: str) -> str:
        """A short hash of inputs, parameters and code (plus ``extra``): the cache and refresh key."""
        h = hashlib.sha256()
        h.update(json.dumps({k: self[k] for k in ("inputs", "params_hash", "code")}, sort_keys=True).encode())
        for e in extra:
            h.update(e.encode())
        return h.hexdigest()[:16]


def provenance(params: AreaParams) -> Provenance:
    """Collect the provenance of a run over ``params``."""
    return Provenance(
        version=__version__,
        commit=git_commit(),
        code=code_hash(),
        inputs=input_hashes(params),
        params_file=params.area_relpath,
        params_hash=file_hash(params.source),
        seed=params.seed,
        timestamp=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    )
