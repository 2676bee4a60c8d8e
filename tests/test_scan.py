"""popheal.disclosure.scan over tests/fixtures/scan: every planted problem found, nothing in the clean pack.

Fixtures (small files written by hand; the XLSX and PNG by openpyxl/matplotlib):
problems/small_counts.csv   referrals 3 (row 2) and 5 (row 4)
problems/unrounded.csv      observed 23 (row 2) and 112 (row 3); expected/ratio are not counts
problems/nhs_numbers.csv    valid NHS numbers in column "reference" rows 1-2 (row 3 has a wrong check digit)
problems/patient_level.csv  12 rows of age, sex, LSOA, ethnicity and two flags, no count column
problems/identifiers.csv    a pseudonymised id (distinct on every row) and a date_of_birth column
problems/dates.csv          day-precision dates spread 1939-2004 in a column not named as dates of birth
problems/small_count.xlsx   sheet "by_practice": patients 4 (row 2)
problems/small_count.html   "Number of admissions" 2 (row 2); "1,230" and "*" are fine
clean/DEMPCN1/              a pack: manifest.json, downloads (CSV, XLSX, PNG), two HTML pages
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from popheal.disclosure import is_count_name, is_valid_nhs_number, scan, scan_main

FIXTURES = Path(__file__).parent / "fixtures" / "scan"

PLANTED = {
    ("small_counts.csv", None, "small-count", 2, "referrals"),
    ("small_counts.csv", None, "small-count", 4, "referrals"),
    ("unrounded.csv", None, "unrounded-count", 2, "observed"),
    ("unrounded.csv", None, "unrounded-count", 3, "observed"),
    ("nhs_numbers.csv", None, "nhs-number", 1, "reference"),
    ("nhs_numbers.csv", None, "nhs-number", 2, "reference"),
    ("patient_level.csv", None, "patient-level", None, None),
    ("identifiers.csv", None, "identifier-column", None, "pseudo_id"),
    ("identifiers.csv", None, "patient-level", None, "pseudo_id"),
    ("identifiers.csv", None, "date-of-birth", None, "date_of_birth"),
    ("dates.csv", None, "date-of-birth", None, "recorded_date"),
    ("small_count.xlsx", "sheet 'by_practice'", "small-count", 2, "patients"),
    ("small_count.html", "table 1", "small-count", 2, "Number of admissions"),
}


def _keys(report):
    return {(f.file, f.table, f.rule, f.row, f.column) for f in report.findings}


def test_every_planted_problem_is_found_and_nothing_else():
    report = scan(FIXTURES / "problems")
    assert not report.ok
    assert _keys(report) == PLANTED
    assert len(report.files) == 8 and report.skipped == []


def test_findings_carry_the_offending_value_but_mask_identifiers():
    report = scan(FIXTURES / "problems")
    values = {(f.file, f.row, f.column): f.value for f in report.findings}
    assert values[("small_counts.csv", 2, "referrals")] == "3"
    assert values[("unrounded.csv", 3, "observed")] == "112"
    assert values[("nhs_numbers.csv", 1, "reference")] == "801*******"
    assert "8012188503" not in report.format() and "801 218 8503" not in report.format()


def test_clean_pack_passes():
    report = scan(FIXTURES / "clean")
    assert report.ok, report.format()
    assert len(report.files) == 4  # two HTML pages, the CSV and the XLSX
    assert report.skipped == ["DEMPCN1/downloads/referrals_funnel.png"]
    assert "No problems found" in report.format()


def test_manifest_decides_the_count_columns(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(FIXTURES / "clean" / "DEMPCN1", pack)
    # a column the name rule would skip becomes a count when the manifest says so
    (pack / "downloads" / "extra.csv").write_text("group,people_seen\na,12\nb,15\n", encoding="utf-8")
    manifest = json.loads((pack / "manifest.json").read_text())
    manifest["tables"].append({"file": "downloads/extra.csv", "count_columns": ["people_seen"], "threshold": 7,
                               "base": 5})
    (pack / "manifest.json").write_text(json.dumps(manifest))
    assert _keys(scan(pack)) == {("downloads/extra.csv", None, "unrounded-count", 1, "people_seen")}


def test_manifest_problems_are_reported(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(FIXTURES / "clean" / "DEMPCN1", pack)
    manifest = json.loads((pack / "manifest.json").read_text())
    manifest["tables"][0]["count_columns"].append("not_there")
    manifest["tables"].append({"file": "downloads/gone.csv", "count_columns": ["n"]})
    (pack / "manifest.json").write_text(json.dumps(manifest))
    rules = {(f.file, f.rule, f.column) for f in scan(pack).findings}
    assert rules == {("manifest.json", "manifest", None),
                     ("downloads/referrals_by_practice.csv", "manifest", "not_there")}
    (pack / "manifest.json").write_text("{not json")
    assert [f.rule for f in scan(pack).findings] == ["manifest"]


def test_stricter_manifest_rules_apply(tmp_path):
    folder = tmp_path / "pack"
    (folder / "downloads").mkdir(parents=True)
    (folder / "downloads" / "t.csv").write_text("area,n\na,10\nb,15\n", encoding="utf-8")
    entry = {"file": "downloads/t.csv", "count_columns": ["n"], "threshold": 10, "base": 10}
    (folder / "manifest.json").write_text(json.dumps({"tables": [entry]}))
    assert _keys(scan(folder)) == {("downloads/t.csv", None, "small-count", 1, "n"),
                                   ("downloads/t.csv", None, "unrounded-count", 2, "n")}


def test_zip_files_are_scanned_inside(tmp_path):
    archive = tmp_path / "DEMPCN1.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in (FIXTURES / "clean" / "DEMPCN1").rglob("*"):
            if path.is_file():
                z.write(path, path.relative_to(FIXTURES / "clean").as_posix())
        z.write(FIXTURES / "problems" / "small_counts.csv", "DEMPCN1/downloads/leak.csv")
    keys = _keys(scan(archive))
    assert keys == {("DEMPCN1.zip/DEMPCN1/downloads/leak.csv", None, "small-count", 2, "referrals"),
                    ("DEMPCN1.zip/DEMPCN1/downloads/leak.csv", None, "small-count", 4, "referrals")}


def test_unknown_and_broken_files_fail_closed(tmp_path):
    (tmp_path / "notes.txt").write_text("3 patients", encoding="utf-8")
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    (tmp_path / "chart.png").write_bytes(b"\x89PNG")
    rules = {(f.file, f.rule) for f in scan(tmp_path).findings}
    assert rules == {("notes.txt", "unchecked-file"), ("broken.xlsx", "unreadable")}


def test_count_heuristics_need_whole_numbers_and_count_names(tmp_path):
    (tmp_path / "t.csv").write_text(
        "practice_code,patients,rate_per_1000_patients,n_patients,median_age,referrals_count\n"
        "DEM001,3.5,4,1,3,4\n", encoding="utf-8")
    keys = _keys(scan(tmp_path))
    assert keys == {("t.csv", None, "small-count", 1, "n_patients"),
                    ("t.csv", None, "small-count", 1, "referrals_count")}


def test_large_numbers_of_findings_are_summarised(tmp_path):
    rows = "".join(f"DEM{i:03d},{i % 7 + 1}\n" for i in range(40))
    (tmp_path / "t.csv").write_text("practice_code,referrals\n" + rows, encoding="utf-8")
    findings = scan(tmp_path).findings
    assert len(findings) == 6 and "35 more" in findings[-1].message


def test_scan_main_exit_codes(capsys):
    assert scan_main([str(FIXTURES / "clean")]) == 0
    assert "No problems found" in capsys.readouterr().out
    assert scan_main([str(FIXTURES / "problems")]) == 1
    out = capsys.readouterr().out
    assert "small_counts.csv [row 2, column 'referrals']: small-count (3)" in out
    assert scan_main([str(FIXTURES / "nowhere")]) == 2


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("9434765919", True),  # the NHS Data Dictionary's example NHS number
        ("943 476 5919", True),
        ("943-476-5919", True),
        ("9434765918", False),  # wrong check digit
        ("4010232137", True),
        ("0000000000", True),  # remainder 0 -> check 11 -> 0
        ("1000000009", False),
        ("123456789", False),  # nine digits
        ("12345678901", False),
    ],
)
def test_nhs_number_modulus_11(number, valid):
    assert is_valid_nhs_number(number) is valid


def test_nhs_number_check_digit_ten_is_never_valid():
    # 1,0,0,0,0,0,0,0,1 weighted 10..2: 10 + 2 = 12; 12 mod 11 = 1; check 11 - 1 = 10 -> no valid number
    assert not any(is_valid_nhs_number(f"100000001{d}") for d in range(10))


@pytest.mark.parametrize(
    ("name", "count"),
    [("observed", True), ("n_patients", True), ("referrals_count", True), ("n", True),
     ("Number of admissions", True), ("registered", True), ("ae_attendances", True), ("nPatients", True),
     ("rate per 1,000 patients", False), ("patient_id", False), ("median_age", False), ("expected", False),
     ("practice_name", False), ("population", False), ("percent_referrals", False),
     ("observed_suppressed", False)],
)
def test_count_names(name, count):
    assert is_count_name(name) is count
