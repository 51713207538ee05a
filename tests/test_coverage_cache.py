"""The process's coverage cache: a plain ``zonal_stats`` call twice builds the coverage once.

Builds are counted by wrapping :meth:`Coverage.build`; results are compared with a call that
is given a freshly built coverage, and with numpy on the known array.
"""

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

import geo
from geo import zonal
from geo.zonal import Coverage, CoverageCache

CRS = "EPSG:6933"


@pytest.fixture
def raster(tmp_path):
    data = np.arange(40 * 50, dtype=np.float32).reshape(40, 50)
    path = tmp_path / "r.tif"
    profile = dict(driver="GTiff", width=50, height=40, count=1, dtype="float32", crs=CRS,
                   transform=from_origin(0, 40_000, 1000, 1000), nodata=-1)  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return path, data


def _zones(*boxes):
    return gpd.GeoDataFrame(
        {"zone": [f"z{i}" for i in range(len(boxes))]},
        geometry=[shapely.box(*b) for b in boxes],
        crs=CRS,
    )


@pytest.fixture
def builds(monkeypatch):
    """Count Coverage.build calls; a fresh process cache for the test."""
    calls = []
    original = Coverage.build.__func__

    def counted(cls, zones, grid, method="exact"):
        calls.append(len(zones))
        return original(cls, zones, grid, method)

    monkeypatch.setattr(Coverage, "build", classmethod(counted))
    monkeypatch.setattr(zonal, "coverage_cache", CoverageCache())
    return calls


def test_second_plain_call_reuses_the_coverage(raster, builds):
    path, data = raster
    zones = _zones((0, 0, 10_000, 10_000), (20_000, 20_000, 50_000, 40_000))
    first = geo.zonal_stats(zones, path, ["mean", "count"])
    second = geo.zonal_stats(zones, path, ["sum"])
    assert builds == [2]  # built once for both calls
    assert zonal.coverage_cache.info()["hits"] == 1
    # the numbers are those of whole cells: rows 30-39, cols 0-9 and rows 0-19, cols 20-49
    assert first["mean"].tolist() == pytest.approx(
        [data[30:, :10].mean(dtype=np.float64), data[:20, 20:].mean(dtype=np.float64)], rel=1e-12
    )
    assert second["sum"].tolist() == pytest.approx(
        [data[30:, :10].sum(dtype=np.float64), data[:20, 20:].sum(dtype=np.float64)], rel=1e-12
    )


def test_edited_zones_or_another_method_are_built_again(raster, builds):
    path, data = raster
    zones = _zones((0, 0, 10_000, 10_000))
    geo.zonal_stats(zones, path, ["mean"])
    moved = zones.copy()
    moved.geometry = [shapely.box(0, 0, 20_000, 10_000)]  # same id, new geometry
    out = geo.zonal_stats(moved, path, ["mean"])
    assert out["mean"].iloc[0] == pytest.approx(data[30:, :20].mean(dtype=np.float64))
    geo.zonal_stats(zones, path, ["mean"], method="center")
    renamed = zones.set_axis(["other"])
    geo.zonal_stats(renamed, path, ["mean"])
    assert builds == [1, 1, 1, 1]


def test_cache_is_bounded_and_can_be_cleared(raster, builds):
    path, _ = raster
    a, b = _zones((0, 0, 10_000, 10_000)), _zones((0, 0, 30_000, 30_000))
    zonal.coverage_cache.max_bytes = 0  # off
    geo.zonal_stats(a, path, ["mean"])
    geo.zonal_stats(a, path, ["mean"])
    assert builds == [1, 1] and zonal.coverage_cache.info()["items"] == 0
    zonal.coverage_cache.max_bytes = None  # default bound
    geo.zonal_stats(a, path, ["mean"])
    geo.zonal_stats(b, path, ["mean"])
    geo.zonal_stats(a, path, ["mean"])
    assert builds == [1, 1, 1, 1] and zonal.coverage_cache.info()["items"] == 2
    one = Coverage.build(a, zonal.Grid.from_dataset(rasterio.open(path)))
    zonal.coverage_cache.max_bytes = one.nbytes  # room for one: the least recent goes
    assert zonal.coverage_cache.info()["items"] == 1
    zonal.coverage_cache.clear()
    geo.zonal_stats(a, path, ["mean"])
    assert len(builds) == 6


def test_explicit_coverage_bypasses_the_cache(raster, builds):
    path, _ = raster
    zones = _zones((0, 0, 10_000, 10_000))
    with rasterio.open(path) as ds:
        cov = Coverage.build(zones, zonal.Grid.from_dataset(ds))
    geo.zonal_stats(zones, path, ["mean"], coverage=cov)
    assert zonal.coverage_cache.info()["items"] == 0 and builds == [1]


def test_malformed_memory_budget_is_said_even_on_a_hit(raster, builds, monkeypatch):
    path, _ = raster
    zones = _zones((0, 0, 10_000, 10_000))
    geo.zonal_stats(zones, path, ["mean"])
    monkeypatch.setenv("GEO_BARRIER_MEMORY", "lots")
    with pytest.raises(geo.UsageError, match="GEO_BARRIER_MEMORY='lots'"):
        geo.zonal_stats(zones, path, ["mean"])
