"""Undeclared fill values (−9999, −32768 …) are counted where the cells are read and warned.

Through the plain API (as a notebook calls ``geo.zonal_stats``) and through ``barrier change``;
the numbers are checked against numpy on the known arrays.
"""

import geopandas as gpd
import numpy as np
import pytest
import shapely

import geo
from geo import cli
from geo.errors import GeoWarning
from geo.testing import write_raster

CRS = "EPSG:6933"  # equal-area: a 1 km cell is exactly 1 km²


def _write(path, data, nodata=None):
    return write_raster(path, data, nodata=nodata, crs=CRS)


def _whole(shape):
    """One zone covering whole cells: the raster itself."""
    box = shapely.box(0, 0, 1000 * shape[1], 1000 * shape[0])
    return gpd.GeoDataFrame({"zone": ["all"]}, geometry=[box], crs=CRS)


def _values(dtype=np.float32):
    rng = np.random.default_rng(7)
    return rng.uniform(0, 1, (20, 30)).astype(dtype)


def test_api_warns_on_undeclared_minus_9999_and_nodata_values_fixes_it(tmp_path):
    data = _values()
    data[:3, :] = -9999.0
    path = _write(tmp_path / "fill.tif", data)
    zones = _whole(data.shape)
    with pytest.warns(GeoWarning, match=r"declares no nodata, but 90 cells \(15\.00%"):
        wrong = geo.zonal_stats(zones, path, ["mean"])
    assert wrong["mean"].iloc[0] == pytest.approx(float(data.mean(dtype=np.float64)), rel=1e-9)
    right = geo.zonal_stats(zones, path, ["mean"], nodata_values=(-9999,))
    valid = data[3:, :].astype(np.float64)
    assert right["mean"].iloc[0] == pytest.approx(valid.mean(), rel=1e-9)


def test_api_warns_when_another_nodata_is_declared(tmp_path):
    data = _values()
    data[0, :5] = -9999.0
    path = _write(tmp_path / "wrong.tif", data, nodata=-3000)
    with pytest.warns(GeoWarning, match=r"declares nodata -3000, but 5 cells .* hold -9999"):
        geo.zonal_stats(_whole(data.shape), path, ["mean"])


def test_declared_fill_and_unsigned_classes_are_quiet(tmp_path, recwarn):
    data = _values()
    data[:2] = -9999.0
    declared = _write(tmp_path / "declared.tif", data, nodata=-9999)
    classes = np.full((20, 30), 255, dtype=np.uint8)  # 255 is a class value here
    classes[:, :10] = 3
    unsigned = _write(tmp_path / "classes.tif", classes)
    zones = _whole(data.shape)
    out = geo.zonal_stats(zones, declared, ["mean"])
    assert out["mean"].iloc[0] == pytest.approx(data[2:].astype(np.float64).mean(), rel=1e-9)
    geo.zonal_stats(zones, unsigned, ["count"], categorical=True)
    assert not [w for w in recwarn if issubclass(w.category, GeoWarning)]


def test_int16_minimum_is_watched(tmp_path):
    data = np.arange(600, dtype=np.int16).reshape(20, 30)
    data[5, 5] = -32768
    path = _write(tmp_path / "int16.tif", data)
    with pytest.warns(GeoWarning, match=r"1 cells .* hold -32768"):
        geo.zonal_stats(_whole(data.shape), path, ["mean"])


def test_change_warns_on_undeclared_fill(capsys, tmp_path):
    before = _values()
    after = _values() + 0.5
    after[:4] = -9999.0
    a = _write(tmp_path / "before.tif", before)
    b = _write(tmp_path / "after.tif", after)
    zones = _whole(before.shape)
    zones.to_file(tmp_path / "zones.gpkg")
    code = cli.main(
        ["change", "--zones", str(tmp_path / "zones.gpkg"), "--before", str(a), "--after", str(b)]
    )
    err = capsys.readouterr().err
    assert code == 0
    assert "after.tif: band 1 declares no nodata, but 120 cells" in err
    assert "before.tif" not in err
