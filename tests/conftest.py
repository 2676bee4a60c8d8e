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


TINY_AREA = ROOT / "tests" / "fixtures" / "tiny_area.yaml"


@pytest.fixture(scope="session")
def tiny_area():
    """The tiny synthetic test area (2 PCNs, 2,000 patients), its inputs generated once per session."""
    from popheal import synth
    from popheal.params import load

    params = load(TINY_AREA)
    synth.generate(params, progress=False)
    return params


@pytest.fixture(scope="session")
def tiny_packs(tiny_area, tmp_path_factory):
    """The tiny area's packs and overview, built once per session with two warm-kernel workers."""
    from popheal.reports.batch import build_packs

    out = tmp_path_factory.mktemp("outputs")
    summary = build_packs(tiny_area, workers=2, out=str(out), progress=False)
    return summary
