"""NHS Digital registrations: 5-year bands, single year, totals, and the practice -> PCN map."""

from __future__ import annotations

import pandas as pd
import pytest

from popheal.io import (
    AGE_BANDS,
    read_practice_map,
    read_registrations_1y,
    read_registrations_5y,
    read_registrations_total,
)

# -- 5-year bands (fixture: DEM001 female = 10 x (band number), male = 9 x; DEM002 female 3 x, male 2 x) ------


def test_quinary_age_bands_normalised(fixtures):
    df = read_registrations_5y(fixtures / "gp-reg-pat-prac-quin-age.csv")
    assert df.columns.tolist() == ["practice_code", "sex", "age_band", "population"]
    assert df["population"].dtype == "int64"
    assert set(df["sex"]) == {"F", "M"}
    assert len(df) == 2 * 2 * 19
    dem1_f = df[(df.practice_code == "DEM001") & (df.sex == "F")]
    assert dem1_f["age_band"].tolist() == list(AGE_BANDS)
    assert dem1_f["population"].iloc[0] == 10  # 0_4
    assert dem1_f["population"].iloc[17] == 180  # 85_89
    assert dem1_f["population"].iloc[18] == 190 + 200  # 90_94 + 95+ merged
    totals = df.groupby(["practice_code", "sex"])["population"].sum()
    assert totals.to_dict() == {("DEM001", "F"): 2100, ("DEM001", "M"): 1890,
                                ("DEM002", "F"): 630, ("DEM002", "M"): 420}


def test_quinary_all_row_must_equal_sum(fixtures, raises_input_error):
    raises_input_error(read_registrations_5y, fixtures / "bad_quin_age_all_row.csv",
                       file="bad_quin_age_all_row.csv", column="NUMBER_OF_PATIENTS", rows=[3],
                       rule=r"all-ages \(AGE_GROUP_5 = ALL\) row does not equal the sum.*published 27, sum 26")


def test_quinary_negative_count(fixtures, raises_input_error):
    raises_input_error(read_registrations_5y, fixtures / "bad_quin_age_negative.csv",
                       file="bad_quin_age_negative.csv", column="NUMBER_OF_PATIENTS", rows=[2],
                       rule=r"must not be negative \(a count of patients\); found '-3'")


def test_quinary_non_integer_count(fixtures, raises_input_error):
    raises_input_error(read_registrations_5y, fixtures / "bad_quin_age_fraction.csv",
                       file="bad_quin_age_fraction.csv", column="NUMBER_OF_PATIENTS", rows=[3],
                       rule="non-integer values are not allowed.*'10.5'")


def test_quinary_wrong_type(fixtures, raises_input_error):
    raises_input_error(read_registrations_5y, fixtures / "bad_quin_age_wrong_type.csv",
                       file="bad_quin_age_wrong_type.csv", column="NUMBER_OF_PATIENTS", rows=[2],
                       rule="wrong type: must be a count of patients; found 'twelve'")


def test_quinary_malformed_practice_code(fixtures, raises_input_error):
    raises_input_error(read_registrations_5y, fixtures / "bad_quin_age_practice_code.csv",
                       file="bad_quin_age_practice_code.csv", column="ORG_CODE", rows=[2],
                       rule=r"malformed practice code: must match \[A-Z0-9\]\{3,12\}.*'dem 02'")


def test_quinary_unknown_band_and_duplicate(tmp_path, fixtures, raises_input_error):
    text = (fixtures / "bad_quin_age_negative.csv").read_text()
    (tmp_path / "band.csv").write_text(text.replace("5_9,-3", "5-10,3"))
    raises_input_error(read_registrations_5y, tmp_path / "band.csv", file="band.csv", column="AGE_GROUP_5",
                       rows=[2], rule="must be one of the 5-year age bands.*'5-10'")
    (tmp_path / "dup.csv").write_text(text.replace("5_9,-3", "0_4,3"))
    raises_input_error(read_registrations_5y, tmp_path / "dup.csv", file="dup.csv",
                       column="ORG_CODE, SEX, AGE_GROUP_5", rows=[1, 2], rule="duplicated practice, sex and age band")


def test_newer_sub_icb_layout_and_type_filter(tmp_path, fixtures):
    text = (fixtures / "gp-reg-pat-prac-quin-age.csv").read_text()
    text = text.replace("TYPE,CCG_CODE,ONS_CCG_CODE", "ORG_TYPE,SUB_ICB_LOCATION_CODE,ONS_SUB_ICB_LOCATION_CODE")
    text += "GP_PRAC_PAT_LIST,01APR2019,SUB_ICB_LOCATION,06A,E38000210,06A,,ALL,ALL,999999\n"
    (tmp_path / "new.csv").write_text(text)
    df = read_registrations_5y(tmp_path / "new.csv")
    assert set(df["practice_code"]) == {"DEM001", "DEM002"}
    assert df["population"].sum() == 3990 + 1050


# -- single year (fixture: DEM001, female count = age % 7 + 1, male = age % 7 + 2; 95+ = 3 and 4) ------------


def test_single_year_both_files(fixtures):
    df = read_registrations_1y([fixtures / "gp-reg-pat-prac-sing-age-female.csv",
                                fixtures / "gp-reg-pat-prac-sing-age-male.csv"])
    assert df.columns.tolist() == ["practice_code", "sex", "age", "population"]
    assert df["age"].tolist() == list(range(91)) * 2
    f = df[df.sex == "F"].set_index("age")["population"]
    assert f[0] == 1 and f[6] == 7 and f[89] == 89 % 7 + 1
    assert f[90] == sum(a % 7 + 1 for a in range(90, 95)) + 3
    assert f.sum() == sum(a % 7 + 1 for a in range(95)) + 3
    m = df[df.sex == "M"]["population"]
    assert m.sum() == sum(a % 7 + 2 for a in range(95)) + 4


def test_single_year_bad_age(tmp_path, fixtures, raises_input_error):
    text = (fixtures / "gp-reg-pat-prac-sing-age-female.csv").read_text()
    (tmp_path / "age.csv").write_text(text.replace("FEMALE,3,", "FEMALE,x3,"))
    raises_input_error(read_registrations_1y, tmp_path / "age.csv", file="age.csv", column="AGE", rows=[5],
                       rule="wrong type: must be an age")


# -- totals and map ------------------------------------------------------------------------------------------


def test_totals(fixtures):
    df = read_registrations_total(fixtures / "gp-reg-pat-prac-all.csv")
    assert df.columns.tolist() == ["practice_code", "population", "ccg_code"]
    assert df["population"].tolist() == [3990, 1050, 7087]


def test_practice_map(fixtures):
    df = read_practice_map(fixtures / "gp-reg-pat-prac-map.csv")
    assert df.columns.tolist() == ["practice_code", "practice_name", "pcn_code", "pcn_name", "ccg_code", "postcode"]
    assert df.loc[2, "practice_name"] == "THE SURGERY, WODEN ROAD"
    assert df.loc[2, "pcn_name"] == "UNITY EAST, WEST & CENTRAL PCN"
    assert df.loc[3, ["pcn_code", "pcn_name"]].tolist() == ["U", "Unallocated"]  # kept as published


def test_practice_map_malformed_pcn_code(fixtures, raises_input_error):
    raises_input_error(read_practice_map, fixtures / "bad_map_pcn_code.csv", file="bad_map_pcn_code.csv",
                       column="PCN_CODE", rows=[2], rule="malformed PCN code.*'u-19348'")


def test_practice_map_duplicated_practice(tmp_path, fixtures, raises_input_error):
    text = (fixtures / "gp-reg-pat-prac-map.csv").read_text().replace("DEM004", "DEM001")
    (tmp_path / "dup.csv").write_text(text)
    raises_input_error(read_practice_map, tmp_path / "dup.csv", file="dup.csv", column="PRACTICE_CODE",
                       rows=[1, 4], rule="duplicated practice.*'DEM001' appears 2 times")


# -- genuine NHS Digital files -------------------------------------------------------------------------------


@pytest.mark.real_data
def test_real_totals_wolverhampton(real_data):
    df = read_registrations_total(real_data / "gp_list_size" / "gp-reg-pat-prac-all_Jan2021_BlackCountryCCGs.csv")
    assert len(df) == 209
    wolves = df[df["ccg_code"] == "06A"]
    assert wolves["practice_code"].nunique() == 37  # SOURCES.md
    assert wolves["population"].sum() == 290_439


@pytest.mark.real_data
def test_real_practice_map_wolverhampton(real_data):
    df = read_practice_map(real_data / "gp_practice_pcn_map" / "gp-reg-pat-prac-map_Jan2022_BlackCountryCCG_D2P2L.csv")
    assert len(df) == 206 and set(df["ccg_code"]) == {"D2P2L"}
    wolves = df[df["pcn_name"].str.startswith("WOLVERHAMPTON")]
    counts = wolves.groupby("pcn_name")["practice_code"].nunique()
    assert len(wolves) == 36 and wolves["pcn_code"].nunique() == 6
    assert counts.to_dict() == {  # SOURCES.md
        "WOLVERHAMPTON UNITY EAST PCN": 8, "WOLVERHAMPTON RWT PCN": 7, "WOLVERHAMPTON NORTH NETWORK PCN": 7,
        "WOLVERHAMPTON TOTAL HEALTH PCN": 6, "WOLVERHAMPTON UNITY WEST PCN": 5, "WOLVERHAMPTON SOUTH EAST PCN": 3,
    }
    unallocated = df[df["pcn_code"] == "U"]
    assert (unallocated["pcn_name"] == "Unallocated").all() and len(unallocated) == 3
    assert df.loc[df.pcn_code == "U88368", "pcn_name"].iloc[0] == "SEDGLEY, COSELEY & GORNAL PCN"


def test_age_bands_constant():
    assert len(AGE_BANDS) == 19 and AGE_BANDS[0] == "0-4" and AGE_BANDS[-2:] == ("85-89", "90+")
    assert pd.Index(AGE_BANDS).is_unique
