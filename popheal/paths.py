"""Project-root-anchored paths: one place for every location popheal reads or writes.

The root is ``$POPHEAL_HOME`` when set, else the nearest folder at or above the current working directory
(then above this file) that holds both ``params/`` and ``pyproject.toml``. Nothing in popheal opens a path
relative to the working directory: callers resolve through :func:`resolve`.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "notebooks_dir",
    "outputs_dir",
    "params_dir",
    "processed_dir",
    "project_root",
    "raw_dir",
    "relative_to_root",
    "resolve",
    "shared_real_data",
    "synthetic_dir",
]


def _looks_like_root(folder: Path) -> bool:
    return (folder / "params").is_dir() and (folder / "pyproject.toml").is_file()


def project_root() -> Path:
    """Return the project root (``POPHEAL_HOME`` or the nearest folder with params/ and pyproject.toml)."""
    home = os.environ.get("POPHEAL_HOME")
    if home:
        return Path(home).expanduser().resolve()
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for folder in (start, *start.parents):
            if _looks_like_root(folder):
                return folder
    raise FileNotFoundError(
        "Cannot find the popheal project root: set POPHEAL_HOME to the folder that holds params/ and "
        "pyproject.toml, or run from inside it."
    )


def resolve(path: str | os.PathLike[str]) -> Path:
    """Resolve ``path`` against the project root unless it is already absolute."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else (project_root() / p)


def relative_to_root(path: str | os.PathLike[str]) -> str:
    """Return ``path`` relative to the project root with forward slashes when it lies inside it."""
    p = Path(path).resolve()
    try:
        return p.relative_to(project_root()).as_posix()
    except ValueError:
        return str(p)


def params_dir() -> Path:
    return project_root() / "params"


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def raw_dir() -> Path:
    return project_root() / "data" / "raw"


def synthetic_dir(area_slug: str) -> Path:
    """Where ``popheal synth`` writes a generated area's inputs (data/raw/synthetic/<area>)."""
    return raw_dir() / "synthetic" / area_slug


def processed_dir() -> Path:
    return project_root() / "data" / "processed"


def outputs_dir() -> Path:
    return project_root() / "outputs"


def shared_real_data() -> Path | None:
    """The genuine open data beside the project (../shared/data/real), or None when absent."""
    candidate = project_root().parent / "shared" / "data" / "real"
    return candidate if candidate.is_dir() else None
