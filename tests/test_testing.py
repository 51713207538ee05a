"""Tests of geo.testing: the factories write what they say, the checks fail when they should."""

import numpy as np
import pytest
import rasterio
from pyproj import Geod

from geo import testing


def test_write_raster_default_grid_and_values(tmp_path):
    data = np.arange(12, dtype="int16").reshape(3, 4)
    path = testing.write_raster(tmp_path / "a.tif", data, cell=250.0, nodata=-1)
    with rasterio.open(path) as src:
        assert (src.width, src.height, src.count) == (4, 3, 1)
        assert src.bounds == (0.0, 0.0, 1000.0, 750.0)
        assert src.nodata == -1 and src.dtypes[0] == "int16"
        np.testing.assert_array_equal(src.read(1), data)


def test_write_raster_bands_first_and_dtype(tmp_path):
    data = np.ones((2, 5, 6))
    path = testing.write_raster(
        tmp_path / "b.tif", data, crs="EPSG:4326", cell=0.5, origin=(100, 45), dtype="uint8"
    )
    with rasterio.open(path) as src:
        assert src.count == 2 and src.dtypes == ("uint8", "uint8")
        assert src.bounds == (100.0, 42.5, 103.0, 45.0)


def test_write_raster_refuses_1d(tmp_path):
    with pytest.raises(ValueError, match="2-D or 3-D"):
        testing.write_raster(tmp_path / "c.tif", np.ones(5))


def test_box_zones_areas_on_the_ellipsoid():
    zones = testing.box_zones({"a": (110, 40, 111, 41), "b": (111, 40, 113, 41)}, crs=4326)
    assert list(zones["zone"]) == ["a", "b"]
    geod = Geod(ellps="WGS84")
    area_a = abs(geod.polygon_area_perimeter([110, 111, 111, 110], [40, 40, 41, 41])[0])
    # a 1° × 1° cell at 40–41° N: about 9,400 km² (R² · Δλ · Δ(sin φ))
    assert 9_300e6 < area_a < 9_500e6
    assert zones.to_crs(6933).area.iloc[1] == pytest.approx(2 * area_a, rel=1e-3)


def test_exact_reference_is_the_hand_mean(tmp_path):
    data = np.array([[1, 2], [3, 4]], "float32")
    path = testing.write_raster(tmp_path / "r.tif", data, cell=1000.0, crs="EPSG:3857")
    # left column whole (1, 3) and a quarter of the right column (2, 4): weights 1, 1, .5, .5
    zones = testing.box_zones({"z": (0, 0, 1500, 2000)})
    got = testing.exact_reference(zones, path, ["mean", "count"])
    assert got["mean"].iloc[0] == pytest.approx((1 + 3 + 0.5 * 2 + 0.5 * 4) / 3)
    assert got["count"].iloc[0] == pytest.approx(3.0)


def test_assert_close_passes_and_fails():
    testing.assert_close([1.0, np.nan], [1.0 + 1e-12, np.nan])
    with pytest.raises(AssertionError, match=r"area differs at \(1,\): 2.0 != 3.0"):
        testing.assert_close([1.0, 2.0], [1.0, 3.0], what="area")


def test_run_cli_captures_an_error_line():
    code, out, err = testing.run_cli("stats", "--zones", "nowhere.gpkg", "--layer", "ndvi")
    assert code == 2 and out == ""
    assert "nowhere.gpkg" in err and err.count("\n") == 1
