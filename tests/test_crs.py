from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod

from geo import boundaries, crs
from geo.errors import CRSError

HERE = Path(__file__).parent


def _metres(lon0, lat0, lon1, lat1):
    _, _, dist = Geod(ellps="WGS84").inv(lon0, lat0, lon1, lat1)
    return np.asarray(dist)


def test_gcj02_round_trip_province_outline_below_1mm():
    province = boundaries.load("province")
    xy = shapely.get_coordinates(province.geometry.values)
    assert len(xy) > 40_000
    glon, glat = crs.wgs84_to_gcj02(xy[:, 0], xy[:, 1])
    # the forward offset is the few-hundred-metre shift documented in the sources
    shift = _metres(xy[:, 0], xy[:, 1], glon, glat)
    assert shift.min() > 50 and shift.max() < 800
    wlon, wlat = crs.gcj02_to_wgs84(glon, glat)
    assert _metres(xy[:, 0], xy[:, 1], wlon, wlat).max() < 1e-3


def test_inverse_reproduces_the_shipped_conversion():
    # the shipped WGS84 boundaries were made from the GCJ-02 originals (realdata SOURCES.md)
    gcj = gpd.read_file(HERE / "data" / "im_province_gcj02.gpkg")
    wgs = crs.to_wgs84(gcj, "gcj02")
    expected = boundaries.load("province")
    a = shapely.get_coordinates(wgs.geometry.values)
    b = shapely.get_coordinates(expected.geometry.values)
    assert a.shape == b.shape
    assert _metres(a[:, 0], a[:, 1], b[:, 0], b[:, 1]).max() < 1e-3
    assert wgs.crs.to_epsg() == 4326


def test_known_point_offset():
    # Tiananmen, WGS84 (116.391, 39.907): the GCJ-02 shift there is ~+0.0062° E, +0.0014° N
    lon, lat = crs.wgs84_to_gcj02(116.391, 39.907)
    assert lon - 116.391 == pytest.approx(0.00624, abs=2e-4)
    assert lat - 39.907 == pytest.approx(0.00140, abs=2e-4)
    # outside China the model is the identity
    assert crs.wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)


def test_equal_area_matches_geodesic_area():
    counties = boundaries.load("county")
    geod = Geod(ellps="WGS84")
    for adcode in ("152923", "150102", "150781", "152502"):
        row = counties.loc[counties.adcode == adcode].iloc[0]
        geodesic = abs(geod.geometry_area_perimeter(row.geometry)[0]) / 1e6
        assert row.area_km2 == pytest.approx(geodesic, rel=1e-3)
    assert crs.is_equal_area(crs.EQUAL_AREA)
    assert not crs.is_equal_area("EPSG:3857")
    assert not crs.is_equal_area("EPSG:4326")


def test_missing_crs_is_refused():
    gdf = gpd.GeoDataFrame(geometry=[shapely.box(110, 40, 111, 41)])
    with pytest.raises(CRSError, match="no coordinate reference system"):
        crs.require_crs(gdf, "zones.gpkg")
    with pytest.raises(CRSError, match="no coordinate reference system"):
        crs.area_km2(gdf.geometry)


def test_metres_declared_as_degrees_is_refused():
    gdf = gpd.GeoDataFrame(geometry=[shapely.box(500_000, 4_400_000, 510_000, 4_410_000)], crs=4326)
    with pytest.raises(CRSError, match="not degrees"):
        crs.require_crs(gdf, "shifted.shp")
