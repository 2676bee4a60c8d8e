"""Shared reading behaviour (popheal.io._read): encodings, wrong or empty files, columns, rows, unknown values."""

from __future__ import annotations

import zipfile

import pandas as pd
import pytest

from popheal.io import read_practice_map, read_referral_extract, unknown_values
from popheal.io._read import Table, read_table
from popheal.io.errors import InputError

MAP_HEADER = "PRACTICE_CODE,PRACTICE_NAME,PRACTICE_POSTCODE,PCN_CODE,PCN_NAME,CCG_CODE\r\n"
NAMES = ["Café Surgery", "St Mary’s Practice"]


def _map_rows() -> str:
    return (f"DEM001,{NAMES[0]},WV1 1AA,DEMPCN1,North PCN,06A\r\n"
            f"DEM002,{NAMES[1]},WV2 2BB,DEMPCN1,North PCN,06A\r\n")


@pytest.mark.parametrize(
    "encoding, bom",
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b""), ("cp1252", b"\xef\xbb\xbf")],
    ids=["utf8", "utf8-bom", "cp1252", "cp1252-bom"],
)
def test_text_encodings_are_read_correctly(tmp_path, encoding, bom):
    # GP clinical systems write Windows-1252 bytes, sometimes behind a UTF-8 byte-order mark
    path = tmp_path / f"map_{encoding}.csv"
    path.write_bytes(bom + (MAP_HEADER + _map_rows()).encode(encoding))
    df = read_practice_map(path)
    assert df["practice_name"].tolist() == NAMES
    assert df.columns[0] == "practice_code"


def test_cp1252_bytes_are_what_gp_systems_write(tmp_path):
    raw = b"\xef\xbb\xbf" + (MAP_HEADER + _map_rows()).encode("cp1252")
    assert b"Caf\xe9" in raw and b"Mary\x92s" in raw  # the genuine single-byte forms, not UTF-8
    (tmp_path / "m.csv").write_bytes(raw)
    assert read_practice_map(tmp_path / "m.csv").loc[1, "practice_name"] == "St Mary’s Practice"


def test_utf16_excel_unicode_text_is_read(tmp_path):
    path = tmp_path / "map16.csv"
    path.write_bytes((MAP_HEADER + _map_rows()).replace(",", "\t").encode("utf-16"))
    assert read_practice_map(path)["practice_name"].tolist() == NAMES


def test_missing_file(tmp_path, raises_input_error):
    raises_input_error(read_practice_map, tmp_path / "nope.csv", file="nope.csv", rule="does not exist")


def test_empty_file(fixtures, raises_input_error):
    raises_input_error(read_referral_extract, fixtures / "empty.csv", file="empty.csv", rule="empty")


def test_header_only_file(fixtures, raises_input_error):
    raises_input_error(read_referral_extract, fixtures / "header_only.csv", file="header_only.csv",
                       rule="no data rows")


def test_blank_lines_only_file(tmp_path, raises_input_error):
    (tmp_path / "blank.csv").write_bytes(b"\xef\xbb\xbf\r\n\r\n")
    raises_input_error(read_practice_map, tmp_path / "blank.csv", file="blank.csv", rule="empty")


def test_xlsx_where_csv_expected(tmp_path, raises_input_error):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["PRACTICE_CODE", "PRACTICE_NAME", "PCN_CODE", "PCN_NAME"])
    wb.active.append(["DEM001", "Surgery", "DEMPCN1", "North"])
    path = tmp_path / "gp-reg-pat-prac-map.csv"  # named .csv, but an Excel workbook inside
    wb.save(path)
    raises_input_error(read_practice_map, path, file="gp-reg-pat-prac-map.csv", rule=r"Excel workbook \(xlsx\)")


def test_xls_where_csv_expected(tmp_path, raises_input_error):
    path = tmp_path / "old.csv"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    raises_input_error(read_practice_map, path, file="old.csv", rule=r"Excel workbook \(xls\)")


def test_zip_where_csv_expected(tmp_path, raises_input_error):
    path = tmp_path / "gp-reg-pat-prac-map.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("gp-reg-pat-prac-map.csv", MAP_HEADER + _map_rows())
    raises_input_error(read_practice_map, path, file="gp-reg-pat-prac-map.zip",
                       rule="ZIP archive.*gp-reg-pat-prac-map.csv")


def test_html_download_page(tmp_path, raises_input_error):
    (tmp_path / "page.csv").write_text("<!DOCTYPE html><html><body>Not found</body></html>")
    raises_input_error(read_practice_map, tmp_path / "page.csv", file="page.csv", rule="web page")


def test_parquet_where_only_csv_expected(tmp_path, raises_input_error):
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "x.csv")
    raises_input_error(read_practice_map, tmp_path / "x.csv", file="x.csv", rule="parquet")


def test_malformed_csv(tmp_path, raises_input_error):
    (tmp_path / "ragged.csv").write_text(MAP_HEADER + "DEM001,A,B,C,D,E,F,G,H\n")
    raises_input_error(read_practice_map, tmp_path / "ragged.csv", file="ragged.csv", rule="well-formed CSV")


def test_missing_column_lists_columns_found(fixtures, raises_input_error):
    err = raises_input_error(read_practice_map, fixtures / "bad_map_missing_column.csv",
                             file="bad_map_missing_column.csv", column="PCN_CODE",
                             rule="required column is missing")
    assert "columns found: PUBLICATION, EXTRACT_DATE, PRACTICE_CODE, PRACTICE_NAME, PRACTICE_POSTCODE, PCN," \
           in str(err)


def test_headers_match_ignoring_case_and_spaces(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(" practice_code ,Practice Name,PCN_CODE,pcn name\nDEM001,A,DEMPCN1,B\n")
    assert read_practice_map(path).columns.tolist() == ["practice_code", "practice_name", "pcn_code", "pcn_name"]


def test_relative_paths_resolve_against_project_root(project_root, fixtures):
    rel = fixtures.relative_to(project_root) / "gp-reg-pat-prac-map.csv"
    assert len(read_practice_map(str(rel))) == 4


def test_rows_are_data_rows_after_the_header(tmp_path):
    # row 1 is the first record after the header; a quoted field spanning two lines is still one row
    (tmp_path / "t.csv").write_text('id,n\nA,1\n"B\nb",2\nC,-3\n')
    t = read_table(tmp_path / "t.csv", {"id": (), "n": ()})
    with pytest.raises(InputError) as info:
        t.integers("n")
    assert info.value.rows == [3]
    assert "row 3" in str(info.value) and "must not be negative" in str(info.value)


def test_only_first_five_rows_are_listed(tmp_path):
    (tmp_path / "t.csv").write_text("n\n" + "\n".join(["-1"] * 9) + "\n")
    with pytest.raises(InputError) as info:
        read_table(tmp_path / "t.csv", {"n": ()}).integers("n")
    assert info.value.rows == [1, 2, 3, 4, 5]


def test_table_converters():
    data = pd.DataFrame({"flag": ["Y", "n", "TRUE", "0"], "n": ["1", "2.0", " 3 ", "29,199"],
                         "d": ["2019-04-01", "01/04/2019", "2019-04-01", "31/12/2020"]})
    t = Table("x.csv", data)
    assert t.flags("flag").tolist() == [True, False, True, False]
    assert t.flags("flag").dtype == bool
    assert t.integers("n", thousands=True).tolist() == [1, 2, 3, 29199]
    assert t.dates("d").dt.strftime("%Y-%m-%d").tolist() == ["2019-04-01", "2019-04-01", "2019-04-01",
                                                               "2020-12-31"]


def test_unknown_values_counts_values_not_known():
    df = pd.DataFrame({"practice_code": ["DEM001", "DEM009", "DEM009", "DEM001", None, "DEM008"]})
    out = unknown_values(df, "practice_code", ["DEM001", "DEM002"])
    assert out.to_dict("list") == {"value": ["DEM009", "DEM008"], "count": [2, 1]}
    assert unknown_values(df, "practice_code", df["practice_code"].dropna()).empty


def test_binary_file_where_csv_expected(tmp_path, raises_input_error):
    (tmp_path / "image.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    raises_input_error(read_practice_map, tmp_path / "image.csv", file="image.csv", rule="binary file")


def test_large_totals_are_shown_in_full(tmp_path, raises_input_error):
    from popheal.io import read_lsoa_population

    ages = ",".join(str(a) for a in range(90))
    cells = ",".join(["20000"] * 91)
    (tmp_path / "big_mid2019.csv").write_text(f"lsoa11_code,total_population,{ages},90+\nE01000001,1820001,{cells}\n")
    raises_input_error(read_lsoa_population, tmp_path / "big_mid2019.csv", file="big_mid2019.csv", rows=[1],
                       column="total_population", rule=r"published 1820001, sum 1820000")


def test_malformed_csv_names_the_rows(tmp_path, raises_input_error):
    """A row with cells too many or too few is named by its 1-based data row (blank lines and a quoted field
    spanning lines counted as everywhere else)."""
    good = "DEM00{i},Surgery {i},WV1 1AA,DEMPCN1,North PCN,06A\r\n"
    text = (MAP_HEADER + good.format(i=1) + '\r\nDEM002,"Two-line\r\nname",WV1 1AA,DEMPCN1,North PCN,06A\r\n'
            + "DEM003,Surgery 3,WV1 1AA,DEMPCN1,North PCN,06A,stray\r\n" + good.format(i=4)
            + "DEM005,Surgery 5,WV1 1AA\r\n")
    (tmp_path / "ragged.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("cp1252"))
    raises_input_error(read_practice_map, tmp_path / "ragged.csv", file="ragged.csv", rows=[3, 5],
                       rule="not a well-formed CSV file: a row has 7 cells but the header has 6")
