"""Shared fixtures: the genuine open data folder (skip when absent) and project paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("POPHEAL_HOME", str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def real_data() -> Path:
    """../shared/data/real (genuine ONS / NHS Digital / MHCLG files); tests using it skip when it is absent."""
    folder = ROOT.parent / "shared" / "data" / "real"
    if not folder.is_dir():
        pytest.skip("genuine open data folder ../shared/data/real is not present")
    return folder
