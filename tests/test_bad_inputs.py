"""The bad-input catalogue (issue 9): every kind of bad input, run through ``popheal packs`` as an analyst would.

Each case works on a private copy of the tiny test area (never on the session's shared inputs), breaks one
thing and checks the contract of DESIGN.md "Data contracts" and "Packs and the output tree":

- an input fault ends in one plain message naming the file, the column (as published), the first 1-based data
  rows (where rows apply) and the rule broken; the exit code is 2; and nothing is written anywhere: no run
  folder, no prepared-data cache, the inputs untouched. By DESIGN an input fault stops the *whole* run, even
  when the bad rows belong to one PCN's practice (the faults below are planted in DEMPCN2's rows to show it):
  a run never publishes packs from inputs it has found to be wrong;
- a well-formed but unknown value (a practice in the extract that the area does not list) is not an error: it is
  counted in the data-quality note and excluded;
- Windows-1252 text behind a UTF-8 byte-order mark (as GP clinical systems export it) is read correctly;
- a notebook error in one PCN fails that PCN only (kept in ``failed/``, never packaged; exit code 1), and the
  other PCN's pack is published complete;
- a run killed mid-batch (SIGKILL to the whole process group) leaves no partial pack visible and no process
  behind, and the rerun completes; a Ctrl-C (SIGINT) stops cleanly with exit code 130.

The input cases run the CLI in-process with ``POPHEAL_HOME`` pointed at the case's own temporary root, so that
"nothing written" covers the prepared-data cache too; they stop while reading inputs, before any kernel starts,
and take well under a second each. The ``slow`` cases run the real batch in a subprocess, each in a project root
of its own (pyproject.toml, params/, notebooks/ and the tiny area copied), about 25-45 s each.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from popheal.cli import main
from popheal.reports.sections import SECTIONS

ROOT = Path(__file__).resolve().parents[1]
TINY_YAML = ROOT / "tests" / "fixtures" / "tiny_area.yaml"
PAGES = sorted(s.page for s in SECTIONS)
REG = "gp-reg-pat-prac-quin-age.csv"


# ----------------------------------------------------------------------------------------- a private area
@dataclass
class CopiedArea:
    """A private copy of the tiny area's inputs and YAML under ``root`` (the run's POPHEAL_HOME)."""

    root: Path
    folder: Path  # the copied data folder (absolute in the YAML)
    yaml: Path
    out: Path

    def path(self, key: str) -> Path:
        return self.folder / self.doc()["data"][key]

    def doc(self) -> dict:
        return yaml.safe_load(self.yaml.read_text(encoding="utf-8"))

    def write_doc(self, doc: dict) -> None:
        self.yaml.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")

    def read(self, key: str) -> pd.DataFrame:
        """A CSV input's cells exactly as text (empty cells stay empty)."""
        return pd.read_csv(self.path(key), dtype=str, keep_default_na=False)

    def write(self, key: str, df: pd.DataFrame) -> None:
        df.to_csv(self.path(key), index=False)

    def set_cell(self, key: str, row: int, column: str, value: str) -> list[int]:
        """Set one cell (``row`` is the 0-based data row); return the 1-based data row a message must name."""
        df = self.read(key)
        df.loc[row, column] = value
        self.write(key, df)
        return [row + 1]

    def run(self, *extra: str) -> int:
        return main(["packs", "--params", str(self.yaml), "--out", str(self.out), "--quiet", "--workers", "1",
                     *extra])

    def load_inputs(self):
        from popheal.params import load
        from popheal.reports.inputs import load_inputs

        return load_inputs(load(self.yaml))


def _copy_area(tiny_area, root: Path) -> CopiedArea:
    folder = root / "data" / "raw" / "synthetic" / tiny_area.area.slug
    shutil.copytree(tiny_area.data.folder, folder)
    doc = yaml.safe_load(TINY_YAML.read_text(encoding="utf-8"))
    doc["data"]["folder"] = str(folder)
    area = CopiedArea(root=root, folder=folder, yaml=root / "area.yaml", out=root / "outputs")
    area.write_doc(doc)
    return area


@pytest.fixture
def area(tiny_area, tmp_path, monkeypatch) -> CopiedArea:
    """A copy of the tiny area in its own project root (POPHEAL_HOME for the duration of the test)."""
    from popheal.reports import provenance

    # the code hash and git commit are cached per process: compute them for the real project first, so that
    # pointing POPHEAL_HOME elsewhere here cannot change what later tests' provenance records
    provenance.code_hash()
    provenance.git_commit()
    copied = _copy_area(tiny_area, tmp_path / "root")
    monkeypatch.setenv("POPHEAL_HOME", str(copied.root))
    return copied


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``folder`` with its size and modification time."""
    return {p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))}


def _rows_of(df: pd.DataFrame, practice: str, n: int = 1, start: int = 3) -> list[int]:
    """0-based data rows of ``practice`` (skipping the first ``start`` of them), so faults land mid-file."""
    rows = df.index[df["practice_code"] == practice].tolist()
    return rows[start:start + n]


def assert_clear_input_error(code: int, err: str, *, file: str, rule: str, column: str | None = None,
                             rows: list[int] | None = None) -> None:
    """One plain message: file, column as published, the first rows, the rule; exit code 2."""
    msg = err.strip()
    assert code == 2, f"exit code {code}; stderr: {msg}"
    assert msg.startswith("popheal: error: ") and "\n" not in msg, msg
    assert "Traceback" not in msg, msg
    assert file in msg, f"file {file!r} not named in: {msg}"
    if column is not None:
        assert f"column '{column}'" in msg, f"column {column!r} not named in: {msg}"
    if rows:
        shown = ("rows " if len(rows) > 1 else "row ") + ", ".join(map(str, rows))
        assert shown in msg, f"{shown!r} not in: {msg}"
    assert re.search(rule, msg, flags=re.IGNORECASE), f"rule {rule!r} not in: {msg}"


# ------------------------------------------------------------------------------------- input faults (CLI)
@dataclass(frozen=True)
class Fault:
    key: str  # the data key of the file that is broken
    column: str | None  # the column the message must name (as published), None where no column applies
    rule: str  # a regular expression the message's rule must match
    plant: Callable[[CopiedArea], list[int]]  # breaks the copy; returns the 1-based data rows to be named


def _drop_column(key: str, column: str):
    def plant(a: CopiedArea) -> list[int]:
        a.write(key, a.read(key).drop(columns=column))
        return []
    return plant


def _patient_cell(column: str, value: str, practice: str = "DEM004"):
    def plant(a: CopiedArea) -> list[int]:
        (row,) = _rows_of(a.read("patients"), practice)
        return a.set_cell("patients", row, column, value)
    return plant


def _registration_count(value: str):
    """Change a part row (one sex, one 5-year band) of a DEMPCN2 practice: the count checks come first."""
    def plant(a: CopiedArea) -> list[int]:
        df = a.read("registrations")
        part = (df["ORG_CODE"] == "DEM005") & (df["SEX"] != "ALL") & (df["AGE_GROUP_5"] != "ALL")
        row = int(df.index[part][4])
        return a.set_cell("registrations", row, "NUMBER_OF_PATIENTS", value)
    return plant


def _registration_part_plus_one(a: CopiedArea) -> list[int]:
    """A well-formed count that no longer adds up: the ALL row of that practice is the one named."""
    df = a.read("registrations")
    part = (df["ORG_CODE"] == "DEM005") & (df["SEX"] != "ALL") & (df["AGE_GROUP_5"] != "ALL")
    row = int(df.index[part][4])
    df.loc[row, "NUMBER_OF_PATIENTS"] = str(int(df.loc[row, "NUMBER_OF_PATIENTS"]) + 1)
    a.write("registrations", df)
    total = (df["ORG_CODE"] == "DEM005") & (df["SEX"] == "ALL") & (df["AGE_GROUP_5"] == "ALL")
    return [int(df.index[total][0]) + 1]


def _duplicate_id(key: str, column: str):
    def plant(a: CopiedArea) -> list[int]:
        df = a.read(key)
        first, second = _rows_of(df, "DEM004", n=2)
        df.loc[second, column] = df.loc[first, column]
        a.write(key, df)
        return [first + 1, second + 1]
    return plant


def _referral_cell(column: str, value: str):
    def plant(a: CopiedArea) -> list[int]:
        (row,) = _rows_of(a.read("referrals"), "DEM005")
        return a.set_cell("referrals", row, column, value)
    return plant


def _imd_lsoa(a: CopiedArea) -> list[int]:
    df = a.read("imd")
    return a.set_cell("imd", 2, df.columns[0], "E0109912")


def _map_pcn_code(a: CopiedArea) -> list[int]:
    df = a.read("practice_map")
    row = int(df.index[df["PRACTICE_CODE"] == "DEM004"][0])
    return a.set_cell("practice_map", row, "PCN_CODE", "DEM PCN2")


def _empty(key: str):
    def plant(a: CopiedArea) -> list[int]:
        a.path(key).write_bytes(b"")
        return []
    return plant


def _header_only(key: str):
    def plant(a: CopiedArea) -> list[int]:
        p = a.path(key)
        p.write_text(p.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
        return []
    return plant


def _excel(key: str):
    """The file keeps its .csv name but holds an .xlsx workbook (saved from Excel)."""
    def plant(a: CopiedArea) -> list[int]:
        buf = io.BytesIO()
        a.read(key).to_excel(buf, index=False)
        a.path(key).write_bytes(buf.getvalue())
        return []
    return plant


def _ragged_row(a: CopiedArea) -> list[int]:
    """A data row with two more cells than the header (a stray comma in a free-text export)."""
    p = a.path("patients")
    lines = p.read_text(encoding="utf-8").splitlines()
    (row,) = _rows_of(a.read("patients"), "DEM004")
    lines[row + 1] += ",stray,cells"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [row + 1]


FAULTS = {
    # missing column
    "missing-column-patient-age": Fault("patients", "age", r"required column is missing",
                                        _drop_column("patients", "age")),
    "missing-column-registrations-count": Fault("registrations", "NUMBER_OF_PATIENTS",
                                                r"required column is missing",
                                                _drop_column("registrations", "NUMBER_OF_PATIENTS")),
    # wrong type
    "wrong-type-age-word": Fault("patients", "age", r"wrong type: must be an age in years; found 'forty'",
                                 _patient_cell("age", "forty")),
    "wrong-type-registrations-count": Fault("registrations", "NUMBER_OF_PATIENTS",
                                            r"wrong type: must be a count of patients; found 'abc'",
                                            _registration_count("abc")),
    "wrong-type-flag": Fault("patients", "ltc_diabetes", r"wrong type: must be true or false.*found 'maybe'",
                             _patient_cell("ltc_diabetes", "maybe")),
    "wrong-type-date": Fault("referrals", "referral_date", r"wrong type: must be a date.*'2019-13-45'",
                             _referral_cell("referral_date", "2019-13-45")),
    # negative or non-integer counts
    "negative-registrations-count": Fault("registrations", "NUMBER_OF_PATIENTS", r"must not be negative.*'-5'",
                                          _registration_count("-5")),
    "non-integer-registrations-count": Fault("registrations", "NUMBER_OF_PATIENTS",
                                             r"non-integer values are not allowed.*'12\.5'",
                                             _registration_count("12.5")),
    "negative-activity-count": Fault("patients", "gp_contacts", r"must not be negative \(a count\); found '-1'",
                                     _patient_cell("gp_contacts", "-1")),
    "non-integer-activity-count": Fault("patients", "gp_contacts", r"non-integer values are not allowed.*'2\.5'",
                                        _patient_cell("gp_contacts", "2.5")),
    "registrations-total-not-sum-of-parts": Fault("registrations", "NUMBER_OF_PATIENTS",
                                                  r"does not equal the sum of its parts",
                                                  _registration_part_plus_one),
    # malformed practice and PCN codes (an unknown but well-formed practice is in the tests below)
    "malformed-practice-code": Fault("patients", "practice_code", r"malformed ODS code.*'dem 001'",
                                     _patient_cell("practice_code", "dem 001")),
    "malformed-pcn-code": Fault("practice_map", "PCN_CODE", r"malformed PCN code.*'DEM PCN2'", _map_pcn_code),
    # duplicated ids
    "duplicated-patient-id": Fault("patients", "patient_id", r"duplicated id: each must appear once.*2 times",
                                   _duplicate_id("patients", "patient_id")),
    "duplicated-referral-id": Fault("referrals", "referral_id", r"duplicated id",
                                    _duplicate_id("referrals", "referral_id")),
    # ages outside 0-120
    "age-minus-1": Fault("patients", "age", r"must be between 0 and 120.*found '-1'", _patient_cell("age", "-1")),
    "age-130": Fault("patients", "age", r"must be between 0 and 120.*found '130'", _patient_cell("age", "130")),
    "referral-age-130": Fault("referrals", "patient_age", r"must be between 0 and 120.*found '130'",
                              _referral_cell("patient_age", "130")),
    # malformed LSOA codes
    "lsoa-too-short": Fault("patients", "lsoa11", r"malformed LSOA code.*'E0109912'",
                            _patient_cell("lsoa11", "E0109912")),
    "lsoa-wrong-prefix": Fault("patients", "lsoa11", r"malformed LSOA code.*'X01099001'",
                               _patient_cell("lsoa11", "X01099001")),
    "lsoa-in-imd-file": Fault("imd", "LSOA code (2011)", r"malformed LSOA code.*'E0109912'", _imd_lsoa),
    # empty files
    "empty-file-0-bytes": Fault("patients", None, r"the file is empty \(0 bytes\)", _empty("patients")),
    "empty-file-header-only": Fault("referrals", None, r"has a header but no data rows",
                                    _header_only("referrals")),
    "empty-registrations-file": Fault("registrations", None, r"the file is empty", _empty("registrations")),
    # an Excel workbook where a CSV was expected
    "excel-where-csv-expected": Fault("referrals", None, r"is an Excel workbook \(xlsx\), not a referral extract",
                                      _excel("referrals")),
    "excel-registrations": Fault("registrations", None, r"is an Excel workbook \(xlsx\)", _excel("registrations")),
    # a row with more cells than the header
    "ragged-row": Fault("patients", None, r"not a well-formed CSV file: a row has \d+ cells but the header has \d+",
                        _ragged_row),
}


@pytest.mark.parametrize("fault", list(FAULTS.values()), ids=list(FAULTS))
def test_bad_input_stops_the_run_with_a_clear_message_and_writes_nothing(area, fault, capsys):
    rows = fault.plant(area)
    file = area.path(fault.key).name
    before = _snapshot(area.root)

    code = area.run()

    captured = capsys.readouterr()
    assert_clear_input_error(code, captured.err, file=file, column=fault.column, rows=rows, rule=fault.rule)
    assert "packs for" not in captured.out  # no summary of a run that never started
    assert not area.out.exists(), "a run folder was created"
    assert _snapshot(area.root) == before, "something was written (outputs, prepared cache or an input)"


def test_practice_in_the_area_file_but_not_in_the_registrations_is_an_error(area, capsys):
    """(a) An unknown practice code in the area YAML: DEM006 has no registered list, so DEMPCN2's list and
    every figure built on it would be wrong. An error naming the registrations file, its ORG_CODE column and
    the code; the whole run stops (nothing written)."""
    doc = area.doc()
    doc["pcns"][1]["practices"].append({"code": "DEM006", "name": "Nowhere Surgery"})
    area.write_doc(doc)
    before = _snapshot(area.root)

    code = area.run()

    assert_clear_input_error(code, capsys.readouterr().err, file=REG, column="ORG_CODE",
                             rule=r"no registered list for practice\(s\) DEM006 named in area\.yaml")
    assert not area.out.exists()
    assert _snapshot(area.root) == before


def test_unknown_practice_in_the_extracts_is_counted_not_an_error(area):
    """(b) Rows for a well-formed practice code the area does not list (DEM999). By DESIGN ("Data contracts")
    this is not an error: an extract often covers a wider footprint than the area. The rows are counted in the
    data-quality note (which every pack shows), excluded from all analyses, and never silently dropped."""
    planted = 20
    for key, id_column in (("patients", "patient_id"), ("referrals", "referral_id")):
        df = area.read(key)
        extra = df.head(planted).copy()
        extra[id_column] = [f"XUNKNOWN{i:04d}" for i in range(planted)]
        extra["practice_code"] = "DEM999"
        area.write(key, pd.concat([df, extra], ignore_index=True))

    inputs = area.load_inputs()

    notes = {(q["input"], q["issue"]): q for q in inputs.quality}
    for key in ("patients", "referrals"):
        note = notes[(key, "rows for practices not listed in the area file")]
        assert note["count"] == planted and note["action"] == "excluded from all analyses"
        frame = getattr(inputs, key)
        assert "DEM999" not in set(frame["practice_code"])
        assert len(frame) == len(area.read(key)) - planted
    assert len(inputs.patients) == 2000


def _write_cp1252_with_bom(path: Path, df: pd.DataFrame) -> None:
    """As a GP clinical system writes it: a UTF-8 byte-order mark, then Windows-1252 text with CRLF endings."""
    path.write_bytes(b"\xef\xbb\xbf" + df.to_csv(index=False, lineterminator="\r\n").encode("cp1252"))


def test_windows_1252_csv_with_a_byte_order_mark_is_read_correctly(area):
    """GP systems export Windows-1252 behind a UTF-8 BOM. Read correctly: every patient, the text decoded
    (é is 0xE9 and ’ is 0x92 in cp1252, neither valid UTF-8), the first header free of the mark."""
    original = area.load_inputs()
    text = "Café’s “note” – seen"
    patients = area.read("patients").assign(note=text)
    _write_cp1252_with_bom(area.path("patients"), patients)
    practice_map = area.read("practice_map")
    practice_map.loc[practice_map["PRACTICE_CODE"] == "DEM004", "PRACTICE_NAME"] = "Café’s Riverside Surgery"
    _write_cp1252_with_bom(area.path("practice_map"), practice_map)
    assert area.path("patients").read_bytes()[:3] == b"\xef\xbb\xbf"
    with pytest.raises(UnicodeDecodeError):
        area.path("patients").read_bytes()[3:].decode("utf-8")

    inputs = area.load_inputs()

    assert len(inputs.patients) == len(original.patients) == 2000
    assert inputs.patients.columns[0] == "patient_id"
    assert (inputs.patients["note"] == text).all()
    pd.testing.assert_frame_equal(inputs.patients.drop(columns="note"), original.patients)
    names = dict(zip(inputs.practice_map["practice_code"], inputs.practice_map["practice_name"], strict=True))
    assert names["DEM004"] == "Café’s Riverside Surgery"
    assert not any(n.endswith("\r") for n in names.values())


# --------------------------------------------------------------------------------- whole runs (subprocess)
def _project_root(tiny_area, root: Path) -> Path:
    """A self-contained project root: pyproject.toml, params/, notebooks/, the tiny area's data and YAML."""
    root.mkdir(parents=True)
    shutil.copy2(ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(ROOT / "params", root / "params")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(tiny_area.data.folder, root / "data" / "raw" / "synthetic" / tiny_area.area.slug)
    (root / "tests" / "fixtures").mkdir(parents=True)
    shutil.copy2(TINY_YAML, root / "tests" / "fixtures" / "tiny_area.yaml")
    return root


def _packs_command(out: Path) -> list[str]:
    return [sys.executable, "-m", "popheal.cli", "packs", "--params", "tests/fixtures/tiny_area.yaml",
            "--out", str(out), "--workers", "1", "--quiet"]


def _env(root: Path) -> dict[str, str]:
    return {**os.environ, "POPHEAL_HOME": str(root), "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}


def _run_packs(root: Path, out: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(_packs_command(out), cwd=root, env=_env(root), capture_output=True, text=True,
                          timeout=timeout, check=False)


def _complete_pack(folder: Path) -> list[str]:
    """What is missing from a published pack folder (empty when complete)."""
    problems = [f"{folder.name}: no {page}" for page in PAGES if not (folder / page).is_file()]
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [*problems, f"{folder.name}: manifest.json unreadable ({exc})"]
    if manifest.get("pcn_code") != folder.name or not manifest.get("build_key"):
        problems.append(f"{folder.name}: manifest.json lacks its pcn_code / build_key")
    if sorted(manifest.get("pages", [])) != PAGES:
        problems.append(f"{folder.name}: manifest pages {manifest.get('pages')}")
    if not any((folder / "downloads").glob("*.csv")):
        problems.append(f"{folder.name}: no downloads")
    return problems


def _complete_zip(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as zf:
            if zf.testzip() is not None:
                return [f"{path.name}: corrupt member"]
            names = set(zf.namelist())
    except zipfile.BadZipFile as exc:
        return [f"{path.name}: not a complete zip ({exc})"]
    return [f"{path.name}: no {page}" for page in PAGES if f"{path.stem}/{page}" not in names]


def _visible_pack_problems(run_dir: Path) -> list[str]:
    """A partial pack must never be visible: every folder and zip a reader can see under packs/ is complete.

    A pack folder appears only by the rename of a finished, scanned build, after its zip was written (by a
    rename too), so a visible folder always has a complete zip beside it. Hidden names (leading dot) are the
    runner's own scratch and are not part of the output.
    """
    packs = run_dir / "packs"
    problems: list[str] = []
    if not packs.is_dir():
        return problems
    for entry in sorted(packs.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            problems += _complete_pack(entry)
            zipped = packs / f"{entry.name}.zip"
            problems += _complete_zip(zipped) if zipped.is_file() else [f"{entry.name}: no zip beside the folder"]
        elif entry.suffix == ".zip":
            problems += _complete_zip(entry)
        else:
            problems.append(f"unexpected {entry.name} in packs/")
    return problems


def _plant_notebook_failure(notebook: Path, pcn_code: str) -> None:
    """Insert a failing cell right after the parameters cell (it runs after papermill's injected parameters)."""
    nb = nbformat.read(notebook, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", []))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(
        f'if pcn_code == "{pcn_code}":\n    raise RuntimeError("planted failure for {pcn_code}")'))
    nbformat.write(nb, notebook)


@dataclass(frozen=True)
class FinishedRun:
    proc: subprocess.CompletedProcess
    run_dir: Path

    @property
    def log(self) -> str:
        return f"stdout:\n{self.proc.stdout}\nstderr:\n{self.proc.stderr[-3000:]}"


@pytest.fixture(scope="module")
def run_with_a_failing_pcn(tiny_area, tmp_path_factory) -> FinishedRun:
    """The whole batch, in a subprocess, with a notebook that fails for DEMPCN2 only (built once per module).

    The patient extract also has 20 rows for a practice the area does not list (DEM999), to follow the
    data-quality note into a real pack.
    """
    tmp = tmp_path_factory.mktemp("failing_pcn")
    root = _project_root(tiny_area, tmp / "root")
    _plant_notebook_failure(root / "notebooks" / "02_risk.ipynb", "DEMPCN2")
    patients_csv = root / "data" / "raw" / "synthetic" / tiny_area.area.slug / "patient_extract.csv"
    patients = pd.read_csv(patients_csv, dtype=str, keep_default_na=False)
    extra = patients.head(20).assign(practice_code="DEM999", patient_id=[f"XUNKNOWN{i:04d}" for i in range(20)])
    pd.concat([patients, extra]).to_csv(patients_csv, index=False)
    out = tmp / "out"
    proc = _run_packs(root, out)
    return FinishedRun(proc=proc, run_dir=out / tiny_area.area.slug / tiny_area.period.label)


@pytest.mark.slow
def test_a_notebook_error_in_one_pcn_fails_that_pcn_only(run_with_a_failing_pcn):
    proc, run_dir, log = run_with_a_failing_pcn.proc, run_with_a_failing_pcn.run_dir, run_with_a_failing_pcn.log
    assert proc.returncode == 1, log
    assert re.search(r"FAILED DEMPCN2: notebook 02_risk failed in cell \d+: RuntimeError: planted failure for "
                     r"DEMPCN2", proc.stdout), log
    assert "1 PCN pack(s) failed" in proc.stdout, log
    assert "1 built" in proc.stdout and "FAILED DEMPCN1" not in proc.stdout, log
    # the other PCN is unaffected: its pack is complete and published, with its zip
    packs = run_dir / "packs"
    assert sorted(p.name for p in packs.iterdir()) == ["DEMPCN1", "DEMPCN1.zip"], log
    assert _visible_pack_problems(run_dir) == []
    # the failing PCN is never packaged; its executed notebooks and error are kept for the analyst
    failed = run_dir / "failed" / "DEMPCN2"
    assert {"01_population.ipynb", "02_risk.ipynb", "error.txt"} <= {p.name for p in failed.iterdir()}
    error = (failed / "error.txt").read_text(encoding="utf-8")
    assert "02_risk" in error and "RuntimeError: planted failure for DEMPCN2" in error
    assert "planted failure for DEMPCN2" in (failed / "02_risk.ipynb").read_text(encoding="utf-8")
    assert not (run_dir / "failed" / "DEMPCN1").exists()
    assert (run_dir / "index.html").is_file()  # the area overview still runs
    assert not (run_dir / ".building").exists()


@pytest.mark.slow
def test_unknown_practice_rows_reach_the_packs_data_quality_note(run_with_a_failing_pcn):
    """The 20 DEM999 rows are listed in the published pack's data-quality download (20: not suppressed)."""
    pack = run_with_a_failing_pcn.run_dir / "packs" / "DEMPCN1"
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    (dq_file,) = [t["file"] for t in manifest["tables"] if t["name"] == "data_quality" and t["format"] == "csv"]
    dq = pd.read_csv(pack / dq_file)
    row = dq[(dq["input"] == "patients") & (dq["issue"] == "rows for practices not listed in the area file")]
    assert row["records"].tolist() == [20], dq.to_string()
    assert row["action"].tolist() == ["excluded from all analyses"]


@pytest.mark.slow
def test_area_overview_does_not_link_to_a_pack_that_failed(run_with_a_failing_pcn):
    """Nothing half-written: the area overview (a shareable page) must not send a reader to a pack that does
    not exist. Each link to packs/<PCN>/index.html must resolve, or the failed PCN be named as unavailable."""
    run_dir = run_with_a_failing_pcn.run_dir
    assert run_with_a_failing_pcn.proc.returncode == 1, run_with_a_failing_pcn.log
    html = (run_dir / "index.html").read_text(encoding="utf-8")
    links = set(re.findall(r'href="(packs/[^"#]+)"', html))
    assert "packs/DEMPCN1/index.html" in links
    dangling = sorted(link for link in links if not (run_dir / link).is_file())
    assert dangling == [], f"the area overview links to unpublished packs: {dangling}"


def _wait_for(condition: Callable[[], bool], proc: subprocess.Popen, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended (exit {proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def _kill_all(proc: subprocess.Popen, family: list) -> None:
    """SIGKILL the run's process group (CLI, pool worker, resource tracker) and any descendant outside it
    (Jupyter starts each kernel in a session of its own)."""
    import psutil

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for p in family:
        try:
            p.kill()
        except psutil.Error:
            pass
    proc.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups")
def test_a_run_killed_mid_batch_leaves_no_partial_pack_and_the_rerun_completes(tiny_area, tmp_path):
    import psutil

    root = _project_root(tiny_area, tmp_path / "root")
    out = tmp_path / "out"
    run_dir = out / tiny_area.area.slug / tiny_area.period.label
    staging = run_dir / ".building"

    def dempcn2_notebook_running() -> bool:
        # DEMPCN1 is published and papermill has started one of DEMPCN2's notebooks in the staging folder
        return (run_dir / "packs" / "DEMPCN1" / "index.html").is_file() and any(
            "DEMPCN2" in p.relative_to(staging).as_posix() for p in staging.rglob("*.ipynb"))

    with open(tmp_path / "killed-run.log", "wb") as log:
        proc = subprocess.Popen(_packs_command(out), cwd=root, env=_env(root), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    family: list = []
    try:
        _wait_for(dempcn2_notebook_running, proc, 240, "DEMPCN2's build to start")
        family = psutil.Process(proc.pid).children(recursive=True)
        kernels = [p for p in family if "ipykernel" in " ".join(p.cmdline())]
        assert kernels, f"no running kernel among {[p.cmdline() for p in family]}"
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its pool worker; the kernel is in its own session
        proc.wait(timeout=30)
        # the orphaned kernel notices its parent is gone and exits by itself (ipykernel's parent poller)
        _, lingering = psutil.wait_procs(family, timeout=20)
        assert not lingering, f"processes outlived the killed run: {[p.cmdline() for p in lingering]}"
    finally:
        _kill_all(proc, family)
    killed_log = (tmp_path / "killed-run.log").read_text(encoding="utf-8", errors="replace")

    # no partial pack is visible: DEMPCN1 (published before the kill) is complete; DEMPCN2 is absent
    assert _visible_pack_problems(run_dir) == [], killed_log[-3000:]
    assert (run_dir / "packs" / "DEMPCN1").is_dir()
    assert not (run_dir / "packs" / "DEMPCN2").exists() and not (run_dir / "packs" / "DEMPCN2.zip").exists()

    rerun = _run_packs(root, out)

    log = f"stdout:\n{rerun.stdout}\nstderr:\n{rerun.stderr[-3000:]}"
    assert rerun.returncode == 0, log
    # DEMPCN1 is unchanged (same inputs, parameters and code): kept; DEMPCN2 is built
    assert "1 built, 1 unchanged (skipped), 0 failed" in rerun.stdout, log
    assert sorted(p.name for p in (run_dir / "packs").iterdir()) == [
        "DEMPCN1", "DEMPCN1.zip", "DEMPCN2", "DEMPCN2.zip"], log
    assert _visible_pack_problems(run_dir) == []
    assert (run_dir / "index.html").is_file()
    assert not staging.exists(), "the killed run's staging folder was left behind"
    assert not (run_dir / "failed").exists()


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups")
def test_a_run_interrupted_with_ctrl_c_stops_cleanly(tiny_area, tmp_path):
    """Ctrl-C in a terminal sends SIGINT to the foreground process group: the CLI and its pool worker (each
    kernel runs in a session of its own). The run stops within seconds with exit code 130 and says so, publishes
    nothing partial, and leaves no process behind."""
    import psutil

    root = _project_root(tiny_area, tmp_path / "root")
    out = tmp_path / "out"
    run_dir = out / tiny_area.area.slug / tiny_area.period.label
    staging = run_dir / ".building"
    with open(tmp_path / "interrupted-run.log", "wb") as log:
        proc = subprocess.Popen(_packs_command(out), cwd=root, env=_env(root), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    family: list = []
    try:
        _wait_for(lambda: staging.is_dir() and any(staging.rglob("*.ipynb")), proc, 240,
                  "the first notebook to start")
        family = psutil.Process(proc.pid).children(recursive=True)
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
        _, lingering = psutil.wait_procs(family, timeout=20)
        assert not lingering, f"processes outlived the interrupted run: {[p.cmdline() for p in lingering]}"
    finally:
        _kill_all(proc, family)
    output = (tmp_path / "interrupted-run.log").read_text(encoding="utf-8", errors="replace")

    assert proc.returncode == 130, output[-3000:]
    assert "popheal: interrupted; no partial pack was published" in output
    assert _visible_pack_problems(run_dir) == []
    assert not (run_dir / "packs" / "DEMPCN2").exists()
