"""The patient and referral extracts (popheal's own contract, popheal.io.extract_schema)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from popheal.io import read_patient_extract, read_referral_extract, unknown_values
from popheal.io.extract_schema import (
    ACTIVITY_COLUMNS,
    EFI_COLUMNS,
    LTC_COLUMNS,
    PATIENT_COLUMNS,
    REFERRAL_COLUMNS,
    STATUS_FLAGS,
)

BOOLS = [c for c, kind in PATIENT_COLUMNS.items() if kind == "bool"]
COUNTS = ["n_medications", *ACTIVITY_COLUMNS]


def _edit(fixtures, tmp_path, name: str, row: int, column: str, value: str) -> str:
    """Copy the good patient extract with one cell changed (row = 1-based data row); return the new path."""
    lines = (fixtures / "patient_extract.csv").read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[row].split(",")
    cells[header.index(column)] = value
    lines[row] = ",".join(cells)
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


# -- patient extract -------------------------------------------------------------------------------------


def test_patient_extract_types(fixtures):
    df = read_patient_extract(fixtures / "patient_extract.csv")
    assert df.columns.tolist() == [*PATIENT_COLUMNS, "registration_date"]  # extra column kept, last
    assert len(BOOLS) == len(LTC_COLUMNS) + len(STATUS_FLAGS) + len(EFI_COLUMNS) + 3 == 68
    assert (df[BOOLS].dtypes == np.dtype(bool)).all()
    assert (df[COUNTS].dtypes == np.dtype("int32")).all() and df["age"].dtype == np.dtype("int32")
    assert df["sbp"].dtype == np.dtype("float64")
    assert df["sbp"].isna().tolist() == [True, False, False, True, False]
    assert df["lsoa11"].isna().tolist() == [False, False, True, False, False]  # empty -> NA
    # 1/0, Y/N and True/False styles all read as booleans
    assert df["ltc_af"].tolist() == [True, False, False, True, False]  # 1/0
    assert df["ltc_alcohol"].tolist() == [True, False, False, True, False]  # Y/N
    assert df["ltc_anxiety"].tolist() == [True, False, False, True, False]  # True/False/true/false
    assert df["age"].tolist() == [0, 34, 67, 120, 88]
    assert df["ethnicity"].tolist() == ["White", "Asian", "Black", "Not stated", "Mixed"]


def test_patient_extract_parquet_round_trip(fixtures, tmp_path):
    csv = read_patient_extract(fixtures / "patient_extract.csv")
    csv.to_parquet(tmp_path / "patients.parquet")
    pd.testing.assert_frame_equal(read_patient_extract(tmp_path / "patients.parquet"), csv)


def test_patient_extract_cp1252_with_bom(fixtures, tmp_path):
    text = (fixtures / "patient_extract.csv").read_text().replace("2019-01-01", "née 2019")
    (tmp_path / "emis.csv").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("cp1252"))
    df = read_patient_extract(tmp_path / "emis.csv")
    assert df.columns[0] == "patient_id" and df.loc[0, "registration_date"] == "née 2019"


@pytest.mark.parametrize(
    "name, row, column, value, rule",
    [
        ("age_minus_1.csv", 2, "age", "-1", r"must be between 0 and 120 \(an age in years\); found '-1'"),
        ("age_130.csv", 3, "age", "130", r"must be between 0 and 120 .*found '130'"),
        ("age_text.csv", 3, "age", "sixty", "wrong type: must be an age in years; found 'sixty'"),
        ("count_negative.csv", 4, "gp_contacts", "-2", "must not be negative .*found '-2'"),
        ("count_fraction.csv", 5, "n_medications", "2.5", r"non-integer values are not allowed\); found '2.5'"),
        ("count_text.csv", 1, "ae_attendances", "many", "wrong type: must be a count; found 'many'"),
        ("count_empty.csv", 2, "referrals", "", "must not be empty"),
        ("bool_text.csv", 3, "ltc_diabetes", "maybe", r"wrong type: must be true or false .*found 'maybe'"),
        ("bool_empty.csv", 4, "efi_falls", "", "must not be empty"),
        ("lsoa.csv", 2, "lsoa11", "E0109900", r"malformed LSOA code: must match E01\\d\{6\}.*'E0109900'"),
        ("lsoa_wales.csv", 3, "lsoa11", "W01000001", "malformed LSOA code"),
        ("practice.csv", 5, "practice_code", "dem-003", r"malformed ODS code: must match .*'dem-003'"),
        ("sex.csv", 1, "sex", "X", r"must be one of the sexes \(F, M, U\); found 'X'"),
        ("ethnicity.csv", 2, "ethnicity", "Irish", "must be one of the ethnic groups .*found 'Irish'"),
        ("sbp.csv", 2, "sbp", "high", "wrong type: must be a number; found 'high'"),
    ],
)
def test_patient_extract_bad_cells(fixtures, tmp_path, raises_input_error, name, row, column, value, rule):
    path = _edit(fixtures, tmp_path, name, row, column, value)
    raises_input_error(read_patient_extract, path, file=name, column=column, rows=[row], rule=rule)


def test_patient_extract_duplicated_id(fixtures, tmp_path, raises_input_error):
    path = _edit(fixtures, tmp_path, "dup.csv", 4, "patient_id", "P002")
    raises_input_error(read_patient_extract, path, file="dup.csv", column="patient_id", rows=[2, 4],
                       rule="duplicated id: each must appear once; 'P002' appears 2 times")


def test_patient_extract_missing_column(fixtures, tmp_path, raises_input_error):
    text = (fixtures / "patient_extract.csv").read_text().replace("efi_falls", "efi_fall")
    (tmp_path / "cols.csv").write_text(text)
    err = raises_input_error(read_patient_extract, tmp_path / "cols.csv", file="cols.csv", column="efi_falls",
                             rule="a required column is missing; columns found: patient_id, practice_code")
    assert "efi_fall," in str(err)


def test_patient_extract_case_insensitive_headers(fixtures, tmp_path):
    text = (fixtures / "patient_extract.csv").read_text().replace("patient_id", "Patient_ID", 1)
    (tmp_path / "case.csv").write_text(text)
    assert read_patient_extract(tmp_path / "case.csv").columns[0] == "patient_id"


def test_patient_extract_xlsx_rejected(fixtures, tmp_path, raises_input_error):
    pd.read_csv(fixtures / "patient_extract.csv", dtype=str).head(2).to_excel(tmp_path / "patients.xlsx",
                                                                             index=False)
    raises_input_error(read_patient_extract, tmp_path / "patients.xlsx", file="patients.xlsx",
                       rule=r"Excel workbook \(xlsx\), not a patient extract \(CSV or parquet\)")


def test_patient_extract_unknown_practice_is_not_an_error(fixtures):
    df = read_patient_extract(fixtures / "patient_extract.csv")
    assert unknown_values(df, "practice_code", ["DEM001", "DEM002"]).to_dict("list") == {
        "value": ["DEM003"], "count": [1]}


# -- referral extract ------------------------------------------------------------------------------------


def test_referral_extract(fixtures):
    df = read_referral_extract(fixtures / "referral_extract.csv")
    assert df.columns.tolist() == [*REFERRAL_COLUMNS, "source_system"]
    assert df["referral_date"].dt.strftime("%Y-%m-%d").tolist() == ["2019-04-02", "2019-04-15", "2019-05-03",
                                                                  "2021-03-31"]  # ISO and DD/MM/YYYY
    assert df["priority"].tolist() == ["routine", "two-week-wait", "urgent", "routine"]
    assert df["route"].tolist() == ["referral", "referral", "advice-and-guidance", "advice-and-guidance"]
    assert df["out_of_area"].tolist() == [False, False, True, False] and df["out_of_area"].dtype == bool
    assert df["patient_age"].dtype == np.dtype("int32") and df["provider_code"].tolist()[-1] == "RL403"


@pytest.mark.parametrize(
    "name, column, rows, rule",
    [
        ("bad_referrals_missing_column.csv", "priority", None, "required column is missing"),
        ("bad_referrals_duplicated_id.csv", "referral_id", [2, 3], "duplicated id.*'R0002' appears 2 times"),
        ("bad_referrals_date.csv", "referral_date", [2, 3], "wrong type: must be a date.*'2019-02-30'"),
        ("bad_referrals_priority.csv", "priority", [1],
         r"must be one of the priorities \(routine, urgent, two-week-wait\); found 'soon'"),
        ("bad_referrals_age_130.csv", "patient_age", [2], "must be between 0 and 120"),
        ("bad_referrals_practice_code.csv", "practice_code", [2], "malformed ODS code.*'M92-001'"),
        ("header_only.csv", None, None, "no data rows"),
        ("empty.csv", None, None, r"empty \(0 bytes\)"),
    ],
)
def test_referral_extract_bad_input(fixtures, raises_input_error, name, column, rows, rule):
    raises_input_error(read_referral_extract, fixtures / name, file=name, column=column, rows=rows, rule=rule)


def test_large_extract_reads_vectorised(tmp_path):
    # 20,000 patients: conversions run on distinct values, so this stays well under a second or two
    n = 20_000
    rng = np.random.default_rng(7)
    data = {c: rng.integers(0, 2, n).astype(str) for c in BOOLS}
    data |= {c: rng.poisson(2, n).astype(str) for c in COUNTS}
    data |= {"patient_id": [f"P{i:06d}" for i in range(n)], "practice_code": rng.choice(["DEM001", "DEM002"], n),
             "sex": rng.choice(["F", "M"], n), "age": rng.integers(0, 100, n).astype(str),
             "lsoa11": rng.choice(["E01099001", ""], n), "ethnicity": rng.choice(["White", "Asian"], n),
             "sbp": np.where(rng.random(n) < 0.5, "", "130")}
    pd.DataFrame(data)[list(PATIENT_COLUMNS)].to_csv(tmp_path / "big.csv", index=False)
    df = read_patient_extract(tmp_path / "big.csv")
    assert len(df) == n and df["patient_id"].is_unique
    assert df["lsoa11"].isna().sum() == (data["lsoa11"] == "").sum()
    assert df["ltc_af"].sum() == (data["ltc_af"] == "1").sum()


def test_referral_extract_parquet_round_trip(fixtures, tmp_path):
    csv = read_referral_extract(fixtures / "referral_extract.csv")
    csv.to_parquet(tmp_path / "referrals.parquet")
    pd.testing.assert_frame_equal(read_referral_extract(tmp_path / "referrals.parquet"), csv)


def test_referral_extract_parquet_bad_values(fixtures, tmp_path, raises_input_error):
    df = pd.read_csv(fixtures / "referral_extract.csv", dtype=str)
    df["patient_age"] = [67, -1, 8, 81]  # stored as integers
    df.to_parquet(tmp_path / "referrals.parquet")
    raises_input_error(read_referral_extract, tmp_path / "referrals.parquet", file="referrals.parquet",
                       column="patient_age", rows=[2], rule="must be between 0 and 120.*'-1'")
