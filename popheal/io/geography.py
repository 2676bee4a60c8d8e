"""LSOA boundaries and GP practice locations, in British National Grid (EPSG:27700).

Error rows are 1-based data rows (features) after the header.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from popheal.io._read import LSOA_CODE_EW, PRACTICE_CODE, PathLike, Table, read_table, source_path
from popheal.io.errors import InputError

__all__ = ["BRITISH_NATIONAL_GRID", "make_practice_points", "read_lsoa_boundaries", "read_practice_locations"]

#: British National Grid, the CRS of every GeoDataFrame popheal returns.
BRITISH_NATIONAL_GRID = "EPSG:27700"

# Generous bounds of the UK and its islands in WGS84 (a point outside is a swapped or garbled coordinate).
_LATITUDE = (49.0, 61.5)
_LONGITUDE = (-8.8, 2.1)


def read_lsoa_boundaries(path: PathLike, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read LSOA 2011 boundaries and project them to British National Grid.

    Accepts ONS Open Geography Portal "Lower Layer Super Output Areas (December 2011) Boundaries" (full,
    generalised or super-generalised) as GeoJSON, GeoPackage (``layer`` when it has several) or shapefile, in any
    CRS, with a field ``lsoa11cd`` (also ``LSOA11CD``, ``lsoa11_code``). Checks that the file has a CRS, that codes
    are well formed (``[EW]01`` + 6 digits) and unique, and that every geometry is a (multi)polygon.

    Returns a GeoDataFrame ``lsoa11, geometry`` in EPSG:27700.
    """
    p = source_path(path)
    try:
        raw = gpd.read_file(p, layer=layer, engine="pyogrio")
    except Exception as exc:  # noqa: BLE001 - whatever GDAL rejects is bad input
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(p, f"could not be read as GeoJSON, GeoPackage or shapefile ({msg})") from None
    if not isinstance(raw, gpd.GeoDataFrame) or raw.geometry.name not in raw.columns:
        raise InputError(p, "has no geometry: expected LSOA polygons (GeoJSON, GeoPackage or shapefile)")
    if raw.empty:
        raise InputError(p, "the file has no features")
    if raw.crs is None:
        raise InputError(p, "the file has no coordinate reference system (a shapefile needs its .prj)")
    t = Table.from_frame(p, pd.DataFrame(raw.drop(columns=raw.geometry.name)).reset_index(drop=True),
                         {"lsoa11": ("lsoa11cd", "lsoa11_code", "LSOA11CD", "lsoa_code", "code")}, {})
    codes = t.codes("lsoa11", LSOA_CODE_EW, "LSOA code", example="E01010410")
    t.unique("lsoa11", "LSOA", values=pd.DataFrame({"lsoa11": codes}))
    geometry = raw.geometry.reset_index(drop=True)
    bad = geometry.isna() | geometry.is_empty | ~geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if bad.any():
        t.fail("every feature must have a polygon geometry", "geometry", mask=bad)
    out = gpd.GeoDataFrame({"lsoa11": codes.to_numpy()}, geometry=geometry.to_numpy(), crs=raw.crs)
    return out.to_crs(BRITISH_NATIONAL_GRID)


def read_practice_locations(path: PathLike, main_sites_only: bool = False) -> pd.DataFrame:
    """Read GP practice (and branch) sites with their coordinates.

    Accepts the NHS Choices / NHS.UK "GP" organisation file (``OrganisationCode, OrganisationName, ..., Postcode,
    Latitude, Longitude, ParentODSCode, ...``; comma or ``¬`` separated) and its shapefile export with truncated
    field names (``Organisa_1`` = code, ``Organisa_4`` = name). Branch sites have 9-character codes (practice
    code + 3 digits); ``main_sites_only`` keeps the 6-character practice codes. Checks codes (one row each) and
    that latitude/longitude are numbers inside the UK.

    Returns ``practice_code, practice_name, postcode, latitude, longitude`` (WGS84 degrees).
    """
    t = read_table(path, {"practice_code": ("OrganisationCode", "Organisa_1", "Organisation Code"),
                          "practice_name": ("OrganisationName", "Organisa_4", "Organisation Name"),
                          "postcode": ("Postcode",), "latitude": ("Lat",), "longitude": ("Lon", "Long")})
    codes = t.codes("practice_code", PRACTICE_CODE, "practice code", example="M92001")
    t.unique("practice_code", "site", values=pd.DataFrame({"practice_code": codes}))
    out = pd.DataFrame({
        "practice_code": codes,
        "practice_name": t.texts("practice_name", allow_na=False),
        "postcode": t.texts("postcode"),
        "latitude": t.numbers("latitude", min_value=_LATITUDE[0], max_value=_LATITUDE[1],
                              what="a UK latitude; are latitude and longitude swapped?"),
        "longitude": t.numbers("longitude", min_value=_LONGITUDE[0], max_value=_LONGITUDE[1],
                               what="a UK longitude; are latitude and longitude swapped?"),
    })
    if main_sites_only:
        out = out[out["practice_code"].str.len().le(6)]
    return out.reset_index(drop=True)


def make_practice_points(locations: pd.DataFrame) -> gpd.GeoDataFrame:
    """Turn :func:`read_practice_locations` output into a GeoDataFrame of points in British National Grid."""
    missing = [c for c in ("latitude", "longitude") if c not in locations.columns]
    if missing:
        raise InputError("<locations>", "needs latitude and longitude columns", column=missing[0])
    points = gpd.points_from_xy(locations["longitude"], locations["latitude"], crs="EPSG:4326")
    gdf = gpd.GeoDataFrame(locations.copy(), geometry=points, crs="EPSG:4326")
    return gdf.to_crs(BRITISH_NATIONAL_GRID)
