"""popheal.reports.export.Section: the single export point (HTML shown, CSV/XLSX written, manifest, scan)."""

from __future__ import annotations

import base64
import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from popheal.disclosure import scan
from popheal.reports.export import Section, read_manifest, slugify

COUNTS = ["observed", "registered"]


@pytest.fixture
def practices() -> pd.DataFrame:
    return pd.DataFrame({
        "practice_code": ["DEM001", "DEM002", "DEM003", "DEM004"],
        "practice_name": ["Demo One", "Demo Two", "Demo Three", "Demo Four"],
        "observed": [1234, 3, 48, 0],
        "registered": [8431, 6215, 7012, 5120],
        "expected": [1100.4, 5.1, 50.2, 3.3],
    }).assign(ratio=lambda d: d["observed"] / d["expected"])


def _section(tmp_path, shown, **kwargs):
    return Section(tmp_path / "DEMPCN1", "Referrals", title="Referral variation", display=shown.append, **kwargs)


def test_table_writes_csv_xlsx_manifest_and_shows_accessible_html(tmp_path, practices):
    shown = []
    section = _section(tmp_path, shown)
    before = practices.copy()
    result = section.table(
        practices, "By practice", counts=["observed", "registered"],
        rates={"rate_per_1000": ("observed", "registered", 1000)}, protect={"ratio": "observed"},
        caption="Referrals by practice", source="Synthetic referral extract, 2023/24",
    )
    pd.testing.assert_frame_equal(practices, before)
    # the returned frame is the disclosed one, for charts
    assert np.isnan(result.loc[1, "observed"]) and result.loc[1, "observed_suppressed"]
    assert result.loc[0, "observed"] == 1235 and result.loc[2, "registered"] == 7010
    assert result.loc[0, "rate_per_1000"] == pytest.approx(1235 / 8430 * 1000)
    assert np.isnan(result.loc[1, "ratio"]) and result.loc[2, "ratio"] == pytest.approx(48 / 50.2)

    page = shown[0].data
    assert "<caption>Referrals by practice</caption>" in page
    assert ">*</td>" in page and "1,235" in page and "8,430" in page
    assert "* fewer than 8 (1 to 7)" in page and "rounded to the nearest 5" in page
    assert "Source: Synthetic referral extract, 2023/24" in page

    pack = tmp_path / "DEMPCN1"
    csv = pack / "downloads" / "referrals_by_practice.csv"
    xlsx = pack / "downloads" / "referrals_by_practice.xlsx"
    text = csv.read_text(encoding="utf-8").splitlines()
    assert text[0].startswith("practice_code,practice_name,observed,observed_suppressed,registered")
    assert text[2].startswith("DEM002,Demo Two,,True,6215,False")
    assert text[1].startswith("DEM001,Demo One,1235,False,8430,False")
    sheet = pd.read_excel(xlsx, sheet_name="data")
    assert sheet["observed"].isna().tolist() == [False, True, False, False]
    assert sheet["observed_suppressed"].tolist() == [False, True, False, False]
    notes = pd.read_excel(xlsx, sheet_name="notes")
    assert "fewer than 8" in notes.loc[2, "text"]

    manifest = read_manifest(pack)
    assert [t["file"] for t in manifest["tables"]] == ["downloads/referrals_by_practice.csv",
                                                       "downloads/referrals_by_practice.xlsx"]
    entry = manifest["tables"][0]
    assert entry["section"] == "referrals" and entry["count_columns"] == ["observed", "registered"]
    assert (entry["threshold"], entry["base"]) == (7, 5)
    assert manifest["tables"][1]["sheet"] == "data"

    report = scan(pack)
    assert report.ok, report.format()


def test_scan_of_written_pack_with_the_html_page_is_clean(tmp_path, practices):
    shown = []
    section = _section(tmp_path, shown)
    section.table(practices, "by_practice", counts=["observed", "registered"], caption="c", source="s")
    section.table(practices.assign(n=[10, 2, 30, 0]), "small", counts=["observed", "registered", "n"],
                  totals=[()], caption="c", source="s")
    page = "<html><body>" + "".join(s.data for s in shown) + "</body></html>"
    (tmp_path / "DEMPCN1" / "referrals.html").write_text(page, encoding="utf-8")
    report = scan(tmp_path / "DEMPCN1")
    assert report.ok, report.format()
    assert len(report.files) == 5


def test_rerun_replaces_manifest_entries(tmp_path, practices):
    shown = []
    for _ in range(2):
        _section(tmp_path, shown).table(practices, "by_practice", counts=COUNTS, caption="c", source="s")
    Section(tmp_path / "DEMPCN1", "other", display=shown.append).table(
        practices, "by_practice", counts=COUNTS, caption="c", source="s")
    files = [t["file"] for t in read_manifest(tmp_path / "DEMPCN1")["tables"]]
    assert files == ["downloads/referrals_by_practice.csv", "downloads/referrals_by_practice.xlsx",
                     "downloads/other_by_practice.csv", "downloads/other_by_practice.xlsx"]
    assert not list((tmp_path / "DEMPCN1").glob("*.tmp")) and not list((tmp_path / "DEMPCN1").glob(".*"))


def test_area_rules_reach_the_footnote_and_manifest(tmp_path, practices):
    shown = []
    result = _section(tmp_path, shown, threshold=10, base=10).table(
        practices, "t", counts=COUNTS, caption="c", source="s")
    assert result["observed"].tolist()[0] == 1230
    assert "* fewer than 11 (1 to 10)" in shown[0].data and "nearest 10" in shown[0].data
    assert read_manifest(tmp_path / "DEMPCN1")["tables"][0]["base"] == 10


def test_uncontrolled_count_column_is_refused(tmp_path, practices):
    with pytest.raises(ValueError, match=r"\['registered'\] look like counts"):
        _section(tmp_path, []).table(practices, "t", counts="observed", caption="c", source="s")
    assert not (tmp_path / "DEMPCN1" / "downloads").exists()


def test_caption_and_source_are_required(tmp_path, practices):
    with pytest.raises(ValueError, match="caption and a source"):
        _section(tmp_path, []).table(practices, "t", counts=["observed", "registered"], caption=" ", source="s")


@pytest.mark.parametrize("name", ["../escape", "..", "a/b", "a\\b", "/etc/passwd", "C:\\temp\\x", 'x"y', "x'y",
                                  "nul\x00", "   ", "***"])
def test_path_escape_is_refused(tmp_path, practices, name):
    section = _section(tmp_path, [])
    with pytest.raises(ValueError):
        section.table(practices, name, counts=["observed", "registered"], caption="c", source="s")
    with pytest.raises(ValueError):
        Section(tmp_path / "DEMPCN1", name, display=print)
    assert [p.name for p in tmp_path.iterdir()] == ["DEMPCN1"]
    assert not (tmp_path / "DEMPCN1" / "downloads").exists()


@pytest.mark.parametrize(("name", "slug"), [("Age & sex", "age_sex"), ("By practice", "by_practice"),
                                            ("Référrals 2023-24", "referrals_2023-24"), ("top_5%", "top_5")])
def test_slugify(name, slug):
    assert slugify(name) == slug


def test_figure_embeds_png_with_alt_text_and_closes_it(tmp_path):
    shown = []
    section = _section(tmp_path, shown)
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.bar(["A", "B"], [10, 20])
    section.figure(fig, "Referrals bar", alt='Bar chart: practice B refers twice as often as "A"',
                   source="Synthetic referral extract", note="Counts rounded to the nearest 5.", save=True)
    assert not plt.fignum_exists(fig.number)
    page = shown[0].data
    assert page.startswith('<figure class="popheal-figure"><img alt="Bar chart: practice B refers twice as often '
                           'as &quot;A&quot;" src="data:image/png;base64,')
    assert "<figcaption>Counts rounded to the nearest 5. Source: Synthetic referral extract</figcaption>" in page
    png = base64.b64decode(page.split("base64,")[1].split('"')[0])
    assert png[:4] == b"\x89PNG" and len(png) < 50_000
    saved = tmp_path / "DEMPCN1" / "downloads" / "referrals_referrals_bar.png"
    assert saved.read_bytes() == png
    assert read_manifest(tmp_path / "DEMPCN1")["figures"][0]["file"] == "downloads/referrals_referrals_bar.png"
    assert scan(tmp_path / "DEMPCN1").ok


@pytest.mark.parametrize("alt", ["", "   ", None])
def test_figure_needs_alt_text(tmp_path, alt):
    fig = plt.figure()
    with pytest.raises(ValueError, match="alt text"):
        _section(tmp_path, []).figure(fig, "f", alt=alt, source="s")
    plt.close(fig)


def test_note_and_finding(tmp_path):
    shown = []
    section = _section(tmp_path, shown)
    section.note("Rates are per 1,000 registered patients.")
    section.finding("Referral rates vary two-fold between practices.")
    section.finding("Referral rates vary two-fold between practices.")
    assert shown[0].data == "Rates are per 1,000 registered patients."
    assert "**Key finding:**" in shown[1].data
    assert read_manifest(tmp_path / "DEMPCN1")["findings"] == [
        {"section": "referrals", "text": "Referral rates vary two-fold between practices."}]


def test_read_manifest_of_an_empty_pack(tmp_path):
    assert read_manifest(tmp_path) == {"tables": [], "figures": [], "findings": []}
    (tmp_path / "manifest.json").write_text(json.dumps({"tables": [{"file": "x.csv"}]}))
    assert read_manifest(tmp_path)["figures"] == []
