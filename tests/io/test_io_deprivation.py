"""IoD2019 LSOA files and practice-level IMD scores (Fingertips)."""

from __future__ import annotations

import pytest

from popheal.io import read_imd, read_practice_imd

REQUIRED = ["lsoa11", "lsoa_name", "lad_code", "imd_rank", "imd_decile"]


def test_imd_file_1(fixtures):
    df = read_imd(fixtures / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv")  # UTF-8 BOM, CRLF
    assert df.columns.tolist()[:5] == REQUIRED
    assert df["imd_rank"].tolist() == [29_199, 812, 3_284]  # "29,199" parsed
    assert df["imd_rank"].dtype == "int64" and df["imd_decile"].tolist() == [9, 1, 2]


def test_imd_with_scores_file(fixtures):
    df = read_imd(fixtures / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv",
                  fixtures / "File_5_-_IoD2019_Scores.csv")
    assert df.columns.tolist()[:7] == [*REQUIRED, "lad_name", "imd_score"]
    assert {"income_score", "employment_score", "education_score", "health_score", "crime_score",
            "barriers_score", "living_environment_score"} <= set(df.columns)
    assert df.loc[1, "imd_score"] == 55.3 and df.loc[0, "health_score"] == -0.8


def test_imd_files_must_cover_the_same_lsoas(tmp_path, fixtures, raises_input_error):
    lines = (fixtures / "File_5_-_IoD2019_Scores.csv").read_text().splitlines()
    (tmp_path / "File_5.csv").write_text("\n".join(lines[:3]) + "\n")
    raises_input_error(read_imd, fixtures / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv",
                       tmp_path / "File_5.csv", file="File_5.csv", column="LSOA code (2011)",
                       rule="covers different LSOAs.*E01099003")


def test_imd_files_must_agree(tmp_path, fixtures, raises_input_error):
    text = (fixtures / "File_5_-_IoD2019_Scores.csv").read_text().replace("Demo 001B", "Demo 999B")
    (tmp_path / "File_5.csv").write_text(text)
    raises_input_error(read_imd, fixtures / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv",
                       tmp_path / "File_5.csv", file="File_5.csv", column="LSOA name (2011)", rows=[2],
                       rule="disagrees with File_1")


def test_imd_decile_out_of_range(fixtures, raises_input_error):
    raises_input_error(read_imd, fixtures / "bad_imd_decile.csv", file="bad_imd_decile.csv",
                       column="Index of Multiple Deprivation (IMD) Decile", rows=[2],
                       rule=r"must be between 1 and 10 \(a decile\); found '11'")


def test_imd_scores_alone_lack_rank(fixtures, raises_input_error):
    raises_input_error(read_imd, fixtures / "File_5_-_IoD2019_Scores.csv", file="File_5_-_IoD2019_Scores.csv",
                       column="imd_rank", rule="required IoD2019 column is missing")


def test_imd_malformed_lsoa_and_la(tmp_path, fixtures, raises_input_error):
    text = (fixtures / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv").read_text(encoding="utf-8-sig")
    (tmp_path / "lsoa.csv").write_text(text.replace("E01099003", "W01099003"))
    raises_input_error(read_imd, tmp_path / "lsoa.csv", file="lsoa.csv", column="LSOA code (2011)", rows=[3],
                       rule=r"malformed LSOA code: must match E01\\d\{6\}")
    (tmp_path / "la.csv").write_text(text.replace("Demo 001B,E08000031", "Demo 001B,E0800031"))
    raises_input_error(read_imd, tmp_path / "la.csv", file="la.csv",
                       column="Local Authority District code (2019)", rows=[2], rule="malformed local authority code")


def test_practice_imd(fixtures):
    df = read_practice_imd(fixtures / "fingertips_93553_practice_imd.csv")
    assert df.columns.tolist() == ["practice_code", "imd_score"]
    assert df["practice_code"].tolist() == ["DEM001", "DEM002", "DEM003"]  # England row dropped
    assert df["imd_score"].iloc[:2].tolist() == [38.74, 25.5] and df["imd_score"].isna().iloc[2]


def test_practice_imd_negative_score(tmp_path, fixtures, raises_input_error):
    text = (fixtures / "fingertips_93553_practice_imd.csv").read_text().replace(",2019,25.5,", ",2019,-25.5,")
    (tmp_path / "fingertips.csv").write_text(text)
    raises_input_error(read_practice_imd, tmp_path / "fingertips.csv", file="fingertips.csv", column="Value",
                       rows=[3], rule="must not be negative")


@pytest.mark.real_data
def test_real_imd_england(real_data):
    df = read_imd(real_data / "imd2019_lsoa" / "File_1_-_IMD2019_Index_of_Multiple_Deprivation_England.csv")
    assert len(df) == 32_844 and df["lsoa11"].is_unique
    assert df.loc[df.lsoa11 == "E01000001", "imd_rank"].item() == 29_199
    ranks = df["imd_rank"]
    assert ranks.min() == 1 and ranks.max() == 32_844
    # MHCLG's File 1 has 26 tied pairs (equal scores share the lower rank, the next rank is skipped)
    assert ranks.nunique() == 32_818
    tied = ranks[ranks.duplicated()]
    assert not ranks.isin(tied + 1).any()
    assert df["imd_decile"].value_counts().sort_index().index.tolist() == list(range(1, 11))


@pytest.mark.real_data
def test_real_imd_black_country_files_1_2_6(real_data):
    folder = real_data / "imd2019_lsoa"
    df = read_imd(folder / "File_1_-_IMD2019_Index_of_Multiple_Deprivation_BlackCountry.csv",
                  folder / "File_2_-_IoD2019_Domains_of_Deprivation_BlackCountry.csv",
                  folder / "File_6_-_IoD2019_Population_Denominators_BlackCountry.csv")
    assert len(df) == 712 and (df["lad_code"] == "E08000031").sum() == 158
    assert {"income_rank", "income_decile", "living_environment_decile", "population_total"} <= set(df.columns)
    assert df.loc[df.lsoa11 == "E01009721", "population_16_59"].item() == 1_173  # "1,173" parsed


@pytest.mark.real_data
def test_real_practice_imd(real_data):
    df = read_practice_imd(real_data / "practice_imd_fingertips"
                           / "fingertips_93553_practice_IMD2019_score_BlackCountry.csv")
    assert len(df) == 207 and df["practice_code"].is_unique
    assert df.loc[df.practice_code == "M85002", "imd_score"].item() == pytest.approx(38.7403069456812)
    assert df["imd_score"].between(0, 100).all()


def test_practice_imd_period_choice(tmp_path, fixtures, raises_input_error):
    lines = (fixtures / "fingertips_93553_practice_imd.csv").read_text().splitlines()
    older = [ln.replace(",2019,", ",2015,").replace("20190000", "20150000").replace("38.74", "30.1")
             for ln in lines[2:3]]
    (tmp_path / "two.csv").write_text("\n".join(lines + older) + "\n")
    assert read_practice_imd(tmp_path / "two.csv").loc[0, "imd_score"] == 38.74  # the latest by default
    assert read_practice_imd(tmp_path / "two.csv", period="2015")["imd_score"].tolist() == [30.1]
    raises_input_error(read_practice_imd, tmp_path / "two.csv", period="2010", file="two.csv",
                       column="Time period", rule="no rows for period '2010'")
