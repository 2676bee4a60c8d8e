"""ONS population estimates, SNPP, life tables, fertility and migration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from popheal.io import (
    read_fertility,
    read_life_table,
    read_lsoa_population,
    read_mid_year_estimates,
    read_migration,
    read_snpp,
)

LONG = ["area_code", "sex", "age", "year", "population"]


def test_lsoa_population_wide_to_long(fixtures):
    df = read_lsoa_population(fixtures / "lsoa11_population_mid2019_persons_syoa.csv")
    assert df.columns.tolist() == LONG
    assert len(df) == 2 * 91 and set(df["year"]) == {2019}  # year taken from "mid2019" in the file name
    assert set(df["sex"]) == {"persons"} and df["age"].max() == 90
    a = df[df.area_code == "E01099001"].set_index("age")["population"]
    assert a[0] == 10 and a[4] == 14 and a[5] == 10 and a[90] == 7
    assert a.sum() == sum(10 + x % 5 for x in range(90)) + 7


def test_lsoa_population_total_checked(fixtures, raises_input_error):
    raises_input_error(read_lsoa_population, fixtures / "bad_lsoa_population_total.csv", year=2019,
                       file="bad_lsoa_population_total.csv", column="total_population", rows=[2],
                       rule="all-ages total does not equal the sum of its parts")


def test_lsoa_population_malformed_code(fixtures, raises_input_error):
    raises_input_error(read_lsoa_population, fixtures / "bad_lsoa_population_code.csv", year=2019,
                       file="bad_lsoa_population_code.csv", column="lsoa11_code", rows=[2],
                       rule=r"malformed LSOA code.*'E0109902'")


def test_lsoa_population_needs_a_year(fixtures, raises_input_error):
    raises_input_error(read_lsoa_population, fixtures / "bad_lsoa_population_code.csv",
                       file="bad_lsoa_population_code.csv", rule="pass year=")


def test_lsoa_population_negative_and_missing_age(tmp_path, fixtures, raises_input_error):
    lines = (fixtures / "lsoa11_population_mid2019_persons_syoa.csv").read_text().splitlines()
    cells = lines[2].split(",")
    cells[3 + 45] = "-1.0"  # age 45 of the second LSOA
    (tmp_path / "neg.csv").write_text("\n".join([lines[0], lines[1], ",".join(cells)]) + "\n")
    raises_input_error(read_lsoa_population, tmp_path / "neg.csv", year=2019, file="neg.csv", column="45",
                       rows=[2], rule="must not be negative")
    header = lines[0].replace(",45,", ",45b,")
    (tmp_path / "cols.csv").write_text("\n".join([header, *lines[1:]]) + "\n")
    raises_input_error(read_lsoa_population, tmp_path / "cols.csv", year=2019, file="cols.csv", column="45",
                       rule="single-year-of-age column is missing")


def test_mid_year_estimates_mye2_headers(fixtures):
    df = read_mid_year_estimates(fixtures / "mye2_persons_la_mid2019.csv")
    assert df.columns.tolist() == LONG
    totals = df.groupby("area_code")["population"].sum()
    assert totals.to_dict() == {"E08000031": 13_055, "W06000001": 1805}  # "13,055" parsed and checked


def test_snpp_long(fixtures):
    df = read_snpp(fixtures / "snpp_2018_based_population.csv")
    assert df.columns.tolist() == LONG
    assert set(df["sex"]) == {"F", "M"} and sorted(set(df["year"])) == [2018, 2019, 2020]
    assert len(df) == 2 * 3 * 91
    f = df[(df.sex == "F") & (df.year == 2019)].set_index("age")["population"]
    assert f[0] == 101.0 and f[89] == 190.0 and f[90] == 41.0
    assert df["population"].dtype == "float64"


def test_snpp_all_ages_checked(tmp_path, fixtures, raises_input_error):
    text = (fixtures / "snpp_2018_based_population.csv").read_text()
    text = text.replace("male,45,145.250,146.250", "male,45,155.250,146.250")
    (tmp_path / "snpp.csv").write_text(text)
    raises_input_error(read_snpp, tmp_path / "snpp.csv", file="snpp.csv", column="AGE_GROUP", rows=[184],
                       rule="'All ages' row does not equal the sum")


def test_life_table_long_csv(fixtures):
    df = read_life_table(fixtures / "national_life_table_2017-2019.csv")
    assert df.columns.tolist() == ["sex", "age", "mx", "qx", "lx", "ex"]
    assert df[df.sex == "M"]["ex"].tolist() == [79.37, 78.71, 77.72]


def test_life_table_qx_range(fixtures, raises_input_error):
    raises_input_error(read_life_table, fixtures / "bad_life_table_qx.csv", file="bad_life_table_qx.csv",
                       column="qx", rows=[2], rule="must be between 0 and 1.*'1.5'")


def test_life_table_ages_without_gaps(tmp_path, fixtures, raises_input_error):
    lines = (fixtures / "national_life_table_2017-2019.csv").read_text().splitlines()
    (tmp_path / "gap.csv").write_text("\n".join(lines[:3] + lines[5:]) + "\n")  # drop age 1 (both sexes)
    raises_input_error(read_life_table, tmp_path / "gap.csv", file="gap.csv", column="age", rows=[3, 4],
                       rule="without gaps")


def _write_ons_workbook(path, sheets=("2017-2019", "2016-2018")):
    """A small workbook in the ONS national life tables layout (title rows, Males/Females blocks)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Contents"
    for n, name in enumerate(sheets):
        ws = wb.create_sheet(name)
        ws.append(["National Life Tables, United Kingdom"])
        ws.append([])
        ws.append(["Period expectation of life"])
        ws.append([f"Based on data for the years {name}"])
        ws.append([])
        ws.append(["Age", "Males", None, None, None, None, None, "Females"])
        ws.append(["x", "mx", "qx", "lx", "dx", "ex", "", "mx", "qx", "lx", "dx", "ex"])
        for age in range(3):
            ws.append([age, 0.01 * (age + 1), 0.01 * (age + 1), 100000 - age, 1.0, 80.0 - age - n, "",
                       0.005, 0.005, 100000 - age, 1.0, 84.0 - age])
    wb.save(path)


def test_life_table_workbook_latest_sheet_by_default(tmp_path):
    path = tmp_path / "nationallifetables3yearuk.xlsx"
    _write_ons_workbook(path)
    df = read_life_table(path)
    assert df.columns.tolist() == ["sex", "age", "mx", "qx", "lx", "ex"]
    assert df[df.sex == "M"]["ex"].tolist() == [80.0, 79.0, 78.0]  # 2017-2019, not 2016-2018
    assert df[df.sex == "F"]["ex"].tolist() == [84.0, 83.0, 82.0]
    assert read_life_table(path, sheet="2016-2018")[lambda d: d.sex == "M"]["ex"].tolist() == [79.0, 78.0, 77.0]


def test_life_table_workbook_unknown_sheet(tmp_path, raises_input_error):
    path = tmp_path / "nlt.xlsx"
    _write_ons_workbook(path)
    raises_input_error(read_life_table, path, sheet="2019-2021", file="nlt.xlsx",
                       rule="no sheet '2019-2021'; period sheets: 2017-2019, 2016-2018")


def test_fertility(fixtures):
    df = read_fertility(fixtures / "fertility_rates.csv")
    assert df.columns.tolist() == ["area_code", "age", "rate"]
    assert df["rate"].sum() == pytest.approx(0.004 + 0.011 + 0.112 + 0.0005)


def test_fertility_rate_per_1000_rejected(fixtures, raises_input_error):
    raises_input_error(read_fertility, fixtures / "bad_fertility_per_1000.csv", file="bad_fertility_per_1000.csv",
                       column="rate", rows=[1, 2], rule="must be between 0 and 1")


def test_migration(fixtures):
    df = read_migration(fixtures / "net_migration.csv")
    assert df.columns.tolist() == ["area_code", "sex", "age", "net_migration"]
    assert df["net_migration"].tolist() == [-12.5, 3.0, -10.0, 2.0]


# -- genuine ONS files ---------------------------------------------------------------------------------------


@pytest.mark.real_data
def test_real_lsoa_mid2019_wolverhampton(real_data):
    df = read_lsoa_population(real_data / "mye_lsoa_syoa" / "population19_lsoa11_persons_syoa_BlackCountry.csv",
                              year=2019)
    imd = pd.read_csv(real_data / "imd2019_lsoa" / "File_1_-_IMD2019_Index_of_Multiple_Deprivation_BlackCountry.csv")
    wolves = imd.loc[imd.iloc[:, 2] == "E08000031", imd.columns[0]]
    assert df["area_code"].nunique() == 712 and len(wolves) == 158
    assert df[df.area_code.isin(wolves)]["population"].sum() == 263_357  # SOURCES.md: equals the LAD total


@pytest.mark.real_data
def test_real_lsoa_2017_code_first_layout(real_data):
    df = read_lsoa_population(real_data / "mye_lsoa_syoa" / "population17_lsoa11_persons_syoa_BlackCountry.csv",
                              year=2017)
    assert df["area_code"].nunique() == 712 and set(df["year"]) == {2017}


@pytest.mark.real_data
def test_real_lad_mye_2019(real_data):
    df = read_mid_year_estimates(real_data / "mye_lad_syoa" / "population19_ltla19_persons_syoa_EW.csv", year=2019)
    assert df.loc[df.area_code == "E08000031", "population"].sum() == 263_357
    assert df["area_code"].str.startswith("W06").any()  # Welsh authorities are in the E&W file


@pytest.mark.real_data
def test_real_snpp_2022_persons(real_data):
    path = real_data / "snpp2022" / "snpp2022_migcat_persons_Wolverhampton.csv"
    df = read_snpp(path)
    assert set(df["sex"]) == {"persons"} and df["age"].tolist()[:91] == list(range(91))
    assert sorted(df["year"].unique()) == list(range(2022, 2048))
    raw = pd.read_csv(path)
    all_ages = raw[raw["AGE_GROUP"] == "All ages"].iloc[0]
    sums = df.groupby("year")["population"].sum()
    for year, total in sums.items():
        assert total == pytest.approx(all_ages[str(year)], abs=0.01)
    assert df.query("year == 2022 and age == 0")["population"].item() == 3423.0


@pytest.mark.real_data
def test_real_life_tables_csv_and_workbook_agree(real_data):
    folder = real_data / "life_tables"
    long = read_life_table(folder / "nlt_UK_2017-2019_extracted.csv")
    book = read_life_table(folder / "nationallifetables3yearuk_1980-82_to_2017-19.xlsx", sheet="2017-2019")
    assert len(book) == 2 * 101 and book["age"].max() == 100
    pd.testing.assert_frame_equal(long, book)
    assert book.query("sex == 'M' and age == 0")["ex"].item() == 79.37
    assert book.query("sex == 'F' and age == 0")["ex"].item() == 83.06
    oldest = read_life_table(folder / "nationallifetables3yearuk_1980-82_to_2017-19.xlsx", sheet="1980-1982")
    assert oldest.query("sex == 'M' and age == 0")["ex"].item() == 70.81
    assert np.all(np.diff(book[book.sex == "F"]["lx"]) <= 0)


def test_migration_bad_sex_and_duplicate(tmp_path, fixtures, raises_input_error):
    text = (fixtures / "net_migration.csv").read_text()
    (tmp_path / "sex.csv").write_text(text.replace("E08000031,M,0,", "E08000031,X,0,"))
    raises_input_error(read_migration, tmp_path / "sex.csv", file="sex.csv", column="sex", rows=[3],
                       rule="must be one of the sexes.*'X'")
    (tmp_path / "dup.csv").write_text(text.replace("E08000031,F,1,", "E08000031,F,0,"))
    raises_input_error(read_migration, tmp_path / "dup.csv", file="dup.csv", column="area_code, sex, age",
                       rows=[1, 2], rule="duplicated area, sex and age")


def test_fertility_malformed_area_code(tmp_path, fixtures, raises_input_error):
    text = (fixtures / "fertility_rates.csv").read_text().replace("E08000031,30,", "Wolverhampton,30,")
    (tmp_path / "f.csv").write_text(text)
    raises_input_error(read_fertility, tmp_path / "f.csv", file="f.csv", column="area_code", rows=[3],
                       rule="malformed ONS area code")
