"""End to end: the tiny area's packs, as a PCN reader and a disclosure reviewer would check them."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import nbformat
import pytest

from popheal import disclosure
from popheal.reports.sections import AREA_OVERVIEW, SECTIONS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PAGES = [s.page for s in SECTIONS]


def test_every_pack_and_the_overview_are_published(tiny_packs, tiny_area):
    assert tiny_packs.exit_code == 0, tiny_packs.failed
    run = tiny_packs.run_dir
    assert sorted(tiny_packs.built) == ["DEMPCN1", "DEMPCN2"]
    for pcn in tiny_area.pcns:
        pack = run / "packs" / pcn.code
        assert sorted(p.name for p in pack.glob("*.html")) == sorted(PAGES)
        assert (pack / "manifest.json").is_file() and any((pack / "downloads").glob("*.csv"))
        with zipfile.ZipFile(run / "packs" / f"{pcn.code}.zip") as zf:
            assert f"{pcn.code}/index.html" in zf.namelist()
    assert (run / "index.html").is_file()
    assert not (run / ".building").exists()


def _pages(run: Path) -> list[Path]:
    return sorted((run / "packs").rglob("*.html")) + [run / "index.html"]


def test_pages_have_no_code_no_parameters_and_no_network_references(tiny_packs):
    for page in _pages(tiny_packs.run_dir):
        html = page.read_text(encoding="utf-8")
        assert "input_area" not in html and "class=\"highlight" not in html, f"code shown in {page}"
        assert "pcn_code =" not in html and "out_dir =" not in html and "open_pack(" not in html, page
        assert not re.search(r"https?://", html), f"network reference in {page}"
        assert "<script" not in html, page
        assert "SYNTHETIC DATA" in html, page
        assert "Traceback" not in html and "Warning" not in html, page


def test_every_chart_has_alt_text(tiny_packs):
    for page in _pages(tiny_packs.run_dir):
        for img in re.findall(r"<img[^>]*>", page.read_text(encoding="utf-8")):
            alt = re.search(r'alt="([^"]*)"', img)
            assert alt and len(alt.group(1)) > 20 and "No description" not in alt.group(1), (page, img[:120])


def test_a_pack_is_under_5_mb(tiny_packs):
    for pack in (tiny_packs.run_dir / "packs").iterdir():
        if pack.is_dir():
            size = sum(f.stat().st_size for f in pack.rglob("*") if f.is_file())
            assert size < 5 * 1024 * 1024, (pack, size)


def test_scanner_finds_nothing_in_the_published_packs(tiny_packs, tiny_area):
    report = disclosure.scan(tiny_packs.run_dir / "packs", threshold=tiny_area.disclosure.threshold,
                             base=tiny_area.disclosure.base)
    assert report.ok, report.format()
    assert len(report.files) > 20


def test_cli_scan_over_the_packs_exits_zero(tiny_packs):
    from popheal.cli import main

    assert main(["scan", str(tiny_packs.run_dir / "packs")]) == 0


def test_no_patient_rows_in_any_shareable_file(tiny_packs, tiny_area):
    import pandas as pd

    patients = pd.read_csv(tiny_area.data.path("patients"), usecols=["patient_id"])["patient_id"]
    ids = set(patients)
    for f in (tiny_packs.run_dir / "packs").rglob("*"):
        if f.suffix in (".csv", ".html", ".json"):
            text = f.read_text(encoding="utf-8", errors="ignore")
            assert not any(i in text for i in list(ids)[:500]), f"a patient id in {f}"
    internal = list((tiny_packs.run_dir / "internal").rglob("case_finding_*.csv"))
    assert internal, "case-finding lists are written to the internal tier"
    assert "PATIENT-LEVEL" in internal[0].read_text(encoding="utf-8-sig")


def test_pcn_isolation_no_other_pcns_practices_named(tiny_packs, tiny_area):
    for pcn in tiny_area.pcns:
        others = [p for other in tiny_area.pcns if other.code != pcn.code for p in other.practices]
        pack = tiny_packs.run_dir / "packs" / pcn.code
        for f in [*pack.rglob("*.html"), *pack.rglob("*.csv")]:
            text = f.read_text(encoding="utf-8", errors="ignore")
            for p in others:
                assert p.code not in text and p.name not in text, f"{p.code} named in {pcn.code}'s {f.name}"


def test_each_pack_index_lists_findings_and_provenance(tiny_packs):
    index = (tiny_packs.run_dir / "packs" / "DEMPCN1" / "index.html").read_text(encoding="utf-8")
    assert "Key findings" in index and "git commit" in index and "sha256" in index
    manifest = json.loads((tiny_packs.run_dir / "packs" / "DEMPCN1" / "manifest.json").read_text())
    assert manifest["build_key"] and manifest["tables"] and manifest["findings"]


def test_unchanged_packs_are_skipped_unless_forced(tiny_packs, tiny_area):
    from popheal.reports.batch import build_packs

    out = tiny_packs.run_dir.parents[1]
    again = build_packs(tiny_area, workers=1, out=str(out), progress=False, overview=False)
    assert sorted(again.skipped) == ["DEMPCN1", "DEMPCN2"] and not again.built


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_parameters_match_the_design(path):
    nb = nbformat.read(str(path), as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged parameters"
    names = re.findall(r"^(\w+)\s*=", tagged[0].source, flags=re.MULTILINE)
    assert names == ["area", "pcn_code", "out_dir", "seed"]
    assert "params/wolverhampton.yaml" in tagged[0].source  # defaults run the demo area
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, "committed with outputs"


def test_every_section_has_a_notebook():
    stems = {p.stem for p in NOTEBOOKS}
    assert {s.notebook for s in SECTIONS} | {AREA_OVERVIEW.notebook} == stems


def test_downloads_carry_no_more_precision_than_the_page(tiny_packs):
    """A ratio or a confidence limit at full precision can be worked back to an unrounded count, so downloads
    hold numbers only to the decimals shown on the page (at most 2 here)."""
    import pandas as pd

    for csv in (tiny_packs.run_dir / "packs").rglob("downloads/*.csv"):
        data = pd.read_csv(csv)
        for column in data.select_dtypes("float").columns:
            values = data[column].dropna()
            assert ((values * 100).round(6) % 1 == 0).all(), f"{csv.name}: {column} has more than 2 decimals"


def test_limits_are_hidden_with_a_hidden_denominator(tiny_packs):
    """The limits of 0 out of n identify n: where a proportion's denominator is suppressed, so are its limits."""
    import pandas as pd

    checked = 0
    for csv in (tiny_packs.run_dir / "packs").rglob("downloads/*core20plus5.csv"):
        data = pd.read_csv(csv)
        hidden = data["denominator_suppressed"].astype(bool)
        assert data.loc[hidden, ["lowercl", "uppercl", "value"]].isna().all().all(), csv
        checked += int(hidden.sum())
    assert checked, "the tiny area has small groups, so some denominators are suppressed"
