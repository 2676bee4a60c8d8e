"""LSOA boundaries and GP practice locations."""

from __future__ import annotations

import geopandas as gpd
import pytest

from popheal.io import (
    BRITISH_NATIONAL_GRID,
    make_practice_points,
    read_lsoa_boundaries,
    read_practice_locations,
)


def test_boundaries_geojson_to_bng(fixtures):
    gdf = read_lsoa_boundaries(fixtures / "lsoa2011_boundaries.geojson")
    assert gdf.columns.tolist() == ["lsoa11", "geometry"]
    assert gdf.crs.to_epsg() == 27700
    assert gdf["lsoa11"].tolist() == ["E01099001", "E01099002"]
    x, y = gdf.geometry.iloc[0].centroid.coords[0]
    assert 390_000 < x < 395_000 and 295_000 < y < 302_000  # Wolverhampton in British National Grid metres


@pytest.mark.parametrize("driver, suffix", [("GPKG", ".gpkg"), ("ESRI Shapefile", ".shp")])
def test_boundaries_other_formats_and_crs(tmp_path, fixtures, driver, suffix):
    src = gpd.read_file(fixtures / "lsoa2011_boundaries.geojson").to_crs("EPSG:3857")
    path = tmp_path / f"lsoa{suffix}"
    src.rename(columns={"lsoa11cd": "LSOA11CD"}).to_file(path, driver=driver)
    gdf = read_lsoa_boundaries(path)
    assert gdf.crs.to_epsg() == 27700 and gdf["lsoa11"].tolist() == ["E01099001", "E01099002"]
    expected = read_lsoa_boundaries(fixtures / "lsoa2011_boundaries.geojson")
    assert gdf.geometry.iloc[0].area == pytest.approx(expected.geometry.iloc[0].area, rel=1e-6)


def test_boundaries_malformed_code(fixtures, raises_input_error):
    raises_input_error(read_lsoa_boundaries, fixtures / "bad_boundaries_code.geojson",
                       file="bad_boundaries_code.geojson", column="lsoa11cd", rows=[2],
                       rule="malformed LSOA code.*'E0109902'")


def test_boundaries_without_crs(tmp_path, fixtures, raises_input_error):
    path = tmp_path / "nocrs.shp"
    gpd.read_file(fixtures / "lsoa2011_boundaries.geojson").to_file(path)
    path.with_suffix(".prj").unlink()
    raises_input_error(read_lsoa_boundaries, path, file="nocrs.shp", rule="no coordinate reference system")


def test_boundaries_not_spatial(fixtures, raises_input_error):
    raises_input_error(read_lsoa_boundaries, fixtures / "empty.csv", file="empty.csv", rule="empty")
    raises_input_error(read_lsoa_boundaries, fixtures / "fertility_rates.csv", file="fertility_rates.csv",
                       rule="has no geometry")


def test_practice_locations(fixtures):
    df = read_practice_locations(fixtures / "gp_practice_locations.csv")
    assert df.columns.tolist() == ["practice_code", "practice_name", "postcode", "latitude", "longitude"]
    assert df["practice_code"].tolist() == ["DEM001", "DEM001001", "DEM002"]
    main = read_practice_locations(fixtures / "gp_practice_locations.csv", main_sites_only=True)
    assert main["practice_code"].tolist() == ["DEM001", "DEM002"]
    points = make_practice_points(main)
    assert points.crs.to_epsg() == 27700 and points.geometry.iloc[0].x == pytest.approx(391_300, abs=500)


def test_practice_locations_nhs_uk_layout(tmp_path):
    # the NHS.UK "GP" download: full field names, "¬"-separated, Windows-1252
    text = ("OrganisationID¬OrganisationCode¬OrganisationType¬OrganisationName¬Postcode¬Latitude¬Longitude\r\n"
            "1¬DEM001¬GP¬Ashfield Road Surgery¬WV1 1AA¬52.5862¬-2.1288\r\n"
            "2¬DEM002¬GP¬Café Médical¬WV2 2BB¬52.5710¬-2.1102\r\n")
    (tmp_path / "GP.csv").write_bytes(text.encode("cp1252"))
    df = read_practice_locations(tmp_path / "GP.csv")
    assert df["practice_name"].tolist() == ["Ashfield Road Surgery", "Café Médical"]


def test_practice_locations_swapped_coordinates(fixtures, raises_input_error):
    raises_input_error(read_practice_locations, fixtures / "bad_locations_swapped.csv",
                       file="bad_locations_swapped.csv", column="Latitude", rows=[2],
                       rule="must be between 49 and 61.5.*swapped")


@pytest.mark.real_data
def test_real_boundaries_wolverhampton(real_data):
    gdf = read_lsoa_boundaries(real_data / "lsoa2011_boundaries" / "lsoa2011_Wolverhampton_wgs84.geojson")
    assert len(gdf) == 158 and gdf["lsoa11"].is_unique
    assert gdf.crs.to_epsg() == 27700 and str(gdf.crs) == BRITISH_NATIONAL_GRID
    area_km2 = gdf.geometry.area.sum() / 1e6
    assert 65 < area_km2 < 72  # Wolverhampton is about 69 km2


@pytest.mark.real_data
def test_real_practice_locations(real_data):
    df = read_practice_locations(real_data / "gp_locations" / "nhs_choices_GPs_2018_BlackCountryCCGs.csv")
    assert len(df) == 285 and df["practice_code"].is_unique
    main = read_practice_locations(real_data / "gp_locations" / "nhs_choices_GPs_2018_BlackCountryCCGs.csv",
                                   main_sites_only=True)
    assert len(main) == 245
    assert df.loc[df.practice_code == "M85002", "postcode"].item() == "B20 2ES"
