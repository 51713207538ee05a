"""Tests of geo.zonal: hand-made grids, exactextract/rasterstats parity, cache, errors."""

from __future__ import annotations

import contextlib
import importlib.util
import math
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon, box

from geo import zonal
from geo.crs import is_equal_area
from geo.errors import CRSError, DataError, GeoError, GeoWarning, LayerError, ZoneError
from geo.grid import Grid
from geo.zonal import Coverage, categorical_long, zonal_stats

DATA = Path(__file__).resolve().parents[1] / "data"
RASTERS = DATA / "rasters"
NDVI_MAX = RASTERS / "ndvi_maximum_bess_0p05deg_im.tif"
NDVI_MIN = RASTERS / "ndvi_minimum_bess_0p05deg_im.tif"
LANDCOVER = RASTERS / "landcover_mcd12c1_2019_igbp_0p05deg_im.tif"
KOPPEN = RASTERS / "koppen_geiger_simplified_1km_im.tif"
DEM = RASTERS / "dem_pvlib_mapzen_5arcmin_im.tif"
COPERNICUS = RASTERS / "ndvi_copernicus_lts_jun21_0p0714deg_im.tif"

EQUAL_AREA = "EPSG:6933"  # Lambert cylindrical equal area: pixel area = ground area
CELL = 1000.0  # m, synthetic grid
VALUES = np.arange(1, 17, dtype=np.float32).reshape(4, 4)


# --------------------------------------------------------------------------- helpers


def write_raster(path, data, *, crs=EQUAL_AREA, nodata=-9999.0, transform=None, **extra):
    """Write a single-band GeoTIFF on the synthetic 4×4 km grid (origin 0, 4000)."""
    transform = transform or Affine(CELL, 0, 0, 0, -CELL, 4 * CELL)
    profile = {
        "driver": "GTiff",
        "height": data.shape[0],
        "width": data.shape[1],
        "count": 1,
        "dtype": data.dtype,
        "transform": transform,
        "nodata": nodata,
        **extra,
    }
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return path


def zones_of(*geoms, crs=EQUAL_AREA):
    return gpd.GeoDataFrame({"zone": list(range(len(geoms)))}, geometry=list(geoms), crs=crs)


def km(x0, y0, x1, y1):
    """Box from corner coordinates in km."""
    return box(x0 * CELL, y0 * CELL, x1 * CELL, y1 * CELL)


@pytest.fixture
def zonal_grid(tmp_path):
    """The 4×4 float32 raster holding 1..16 row by row (row 0 is the top)."""
    return write_raster(tmp_path / "grid.tif", VALUES.copy())


@pytest.fixture(scope="module")
def zonal_banners():
    return gpd.read_file(DATA / "boundaries" / "im_admin_wgs84.gpkg", layer="county")


HAS_NUMBA = importlib.util.find_spec("numba") is not None


@pytest.fixture(params=["numpy", "numba"])
def hist_path(request):
    """Run a test with the numpy and with the compiled (numba) class histograms."""
    if request.param == "numba" and not HAS_NUMBA:
        pytest.skip("numba is not installed: the compiled class-histogram kernel is unused")
    with zonal.set_options(use_numba=request.param == "numba"):
        yield request.param


def rel_err(a, b, floor=1e-12):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert np.array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(a)
    return float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), floor), initial=0))


# --------------------------------------------------------------------------- hand-made cases


def test_half_cells_square(zonal_grid):
    # Covers the right half of column 0 and the left half of column 1, rows 0-1.
    out = zonal_stats(zones_of(km(0.5, 2, 1.5, 4)), zonal_grid, ["count", "sum", "mean", "min"])
    row = out.iloc[0]
    assert row["count"] == pytest.approx(2.0)
    assert row["sum"] == pytest.approx(0.5 * (1 + 2 + 5 + 6))
    assert row["mean"] == pytest.approx(3.5)
    assert row["min"] == 1
    assert row["valid_area_km2"] == pytest.approx(2.0)
    assert row["nodata_area_km2"] == 0
    assert row["outside_area_km2"] == 0


def test_polygon_with_hole(zonal_grid):
    ring = km(0, 0, 4, 4).difference(km(1, 1, 3, 3))
    out = zonal_stats(zones_of(ring), zonal_grid, ["count", "mean", "max"]).iloc[0]
    border = np.ones((4, 4), bool)
    border[1:3, 1:3] = False
    assert out["count"] == pytest.approx(12)
    assert out["mean"] == pytest.approx(VALUES[border].mean())
    assert out["max"] == 16
    assert out["valid_area_km2"] == pytest.approx(12)


def test_multipolygon(zonal_grid):
    # Cell (0, 0) whole plus a quarter of cell (3, 3).
    geom = MultiPolygon([km(0, 3, 1, 4), km(3.5, 0, 4, 0.5)])
    out = zonal_stats(zones_of(geom), zonal_grid, ["count", "mean"]).iloc[0]
    assert out["count"] == pytest.approx(1.25)
    assert out["mean"] == pytest.approx((1 + 0.25 * 16) / 1.25)


def test_zone_outside_and_partly_outside(zonal_grid):
    zones = zones_of(km(10, 10, 11, 12), km(3, 0, 5, 1))
    out = zonal_stats(zones, zonal_grid, ["count", "mean", "sum"])
    assert out["count"].tolist() == [0.0, pytest.approx(1.0)]
    assert math.isnan(out["mean"].iloc[0])
    assert out["sum"].iloc[0] == 0
    assert out["outside_area_km2"].tolist() == [pytest.approx(2.0), pytest.approx(1.0)]
    assert out["valid_area_km2"].tolist() == [0.0, pytest.approx(1.0)]
    assert out["mean"].iloc[1] == 16


def test_nodata_and_nan_not_counted(tmp_path):
    data = VALUES.copy()
    data[0, 0] = -9999  # nodata
    data[0, 1] = np.nan
    data[0, 2] = np.inf
    path = write_raster(tmp_path / "nd.tif", data)
    zones = zones_of(km(0, 3, 4, 4), km(0, 3, 3, 4))
    out = zonal_stats(zones, path, ["count", "mean", "sum", "min", "nodata_fraction"])
    assert out["count"].tolist() == [1.0, 0.0]
    assert out["mean"].iloc[0] == 4
    assert math.isnan(out["mean"].iloc[1])
    assert math.isnan(out["min"].iloc[1])
    assert out["nodata_area_km2"].tolist() == [pytest.approx(3), pytest.approx(3)]
    assert out["valid_area_km2"].tolist() == [pytest.approx(1), 0]
    assert out["nodata_fraction"].tolist() == [pytest.approx(0.75), 1.0]


def test_zone_crs_is_transformed(zonal_grid):
    zone = zones_of(km(0.5, 2, 1.5, 4)).to_crs("EPSG:4326")
    out = zonal_stats(zone, zonal_grid, ["count", "mean"]).iloc[0]
    assert out["count"] == pytest.approx(2.0, rel=1e-6)
    assert out["mean"] == pytest.approx(3.5, rel=1e-6)


def test_overlapping_zones_count_for_both(zonal_grid):
    a = km(0.5, 0.5, 3.5, 3.5)
    zones = zones_of(a, a, km(0, 0, 2, 4))
    out = zonal_stats(zones, zonal_grid, ["count", "sum", "stdev"])
    alone = zonal_stats(zones_of(a), zonal_grid, ["count", "sum", "stdev"])
    for col in ("count", "sum", "stdev", "valid_area_km2"):
        assert out[col].iloc[0] == pytest.approx(alone[col].iloc[0])
        assert out[col].iloc[1] == pytest.approx(alone[col].iloc[0])
    assert out["count"].iloc[2] == pytest.approx(8)


@pytest.mark.parametrize("method, expected", [("all_touched", 9.0), ("center", 1.0)])
def test_binary_methods(zonal_grid, method, expected):
    out = zonal_stats(zones_of(km(0.6, 0.6, 2.4, 2.4)), zonal_grid, method=method)
    assert out["count"].iloc[0] == expected


def test_categorical_hand(tmp_path, hist_path):
    data = np.array([[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 0, 0], [3, 3, 0, 0]], dtype=np.uint8)
    path = write_raster(tmp_path / "cls.tif", data, nodata=0)
    out = zonal_stats(zones_of(km(1, 0, 3, 4)), path, categorical=True).iloc[0]
    assert out["area_km2_1"] == pytest.approx(2)
    assert out["area_km2_2"] == pytest.approx(2)
    assert out["area_km2_3"] == pytest.approx(2)
    assert out["fraction_3"] == pytest.approx(1 / 3)
    assert out["nodata_area_km2"] == pytest.approx(2)
    long = categorical_long(zonal_stats(zones_of(km(1, 0, 3, 4)), path, categorical=True))
    assert list(long.columns) == ["zone", "class", "area_km2", "fraction"]
    assert long["class"].tolist() == [1, 2, 3]
    assert long["fraction"].sum() == pytest.approx(1)


def test_categorical_extra_nodata_values(tmp_path, hist_path):
    # Class 3 flagged as nodata (as the water flag of a real layer): no class
    # column, counted in the nodata area, not in the fractions.
    data = np.array([[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 0, 0], [3, 3, 0, 0]], dtype=np.uint8)
    path = write_raster(tmp_path / "cls.tif", data, nodata=0)
    # 7.5 cannot occur in a uint8 raster: ignored, and said
    with pytest.warns(GeoWarning, match="7.5 cannot occur in uint8"):
        out = zonal_stats(
            zones_of(km(1, 0, 3, 4)), path, ["count"], categorical=True, nodata_values=(3, 7.5)
        ).iloc[0]
    assert "area_km2_3" not in out.index
    assert out["count"] == pytest.approx(4)
    assert out["nodata_area_km2"] == pytest.approx(4)
    assert out["fraction_1"] == pytest.approx(0.5)
    assert out["fraction_2"] == pytest.approx(0.5)


def test_median_quantiles_hand(zonal_grid):
    out = zonal_stats(
        zones_of(km(0, 3, 4, 4)), zonal_grid, ["median", "quantile"], quantiles=[0, 1]
    )
    # exactextract's definition on equal weights reduces to linear interpolation
    assert out["median"].iloc[0] == pytest.approx(2.5)
    assert out["quantile_0"].iloc[0] == 1
    assert out["quantile_100"].iloc[0] == 4


def test_projected_not_equal_area_warns(tmp_path):
    path = write_raster(tmp_path / "merc.tif", VALUES.copy(), crs="EPSG:3857")
    with pytest.warns(GeoWarning, match="not equal-area"):
        zonal_stats(zones_of(km(0, 0, 1, 1), crs="EPSG:3857"), path)
    assert is_equal_area("EPSG:6933") and is_equal_area("ESRI:102025")
    assert not is_equal_area("EPSG:3857") and not is_equal_area("EPSG:4326")


# --------------------------------------------------------------------------- cell areas


def test_row_cell_area_matches_geod():
    grid = Grid(Affine(0.05, 0, 97.0, 0, -0.05, 54.0), (340, 590), rasterio.CRS.from_epsg(4326))
    areas = grid.row_cell_area_m2()
    geod = Geod(ellps="WGS84")
    for row in (0, 170, 339):
        north = 54.0 - 0.05 * row
        south = north - 0.05
        # Densify the parallels: Geod joins vertices by geodesics, the cell edges are parallels.
        lons = np.linspace(97.0, 97.05, 201)
        ring_lon = np.r_[lons, lons[::-1]]
        ring_lat = np.r_[np.full(201, south), np.full(201, north)]
        expected = abs(geod.polygon_area_perimeter(ring_lon, ring_lat)[0])
        assert areas[row] == pytest.approx(expected, rel=1e-7)
    assert np.all(np.diff(areas) > 0)  # cells grow southwards (towards the equator)


def test_projected_cell_area():
    grid = Grid(Affine(250, 0, 0, 0, -250, 0), (3, 2), rasterio.CRS.from_string(EQUAL_AREA))
    assert np.allclose(grid.row_cell_area_m2(), 62500.0)


# --------------------------------------------------------------------------- real rasters


@pytest.mark.parametrize("path", [NDVI_MAX, LANDCOVER])
@pytest.mark.parametrize("all_touched", [True, False])
def test_binary_methods_match_rasterstats(zonal_banners, path, all_touched):
    rasterstats = pytest.importorskip("rasterstats")
    ref = rasterstats.zonal_stats(
        zonal_banners, str(path), stats=["count", "mean"], all_touched=all_touched
    )
    method = "all_touched" if all_touched else "center"
    out = zonal_stats(zonal_banners, path, ["count", "mean"], method=method)
    assert out["count"].tolist() == [r["count"] for r in ref]
    mean = [np.nan if r["mean"] is None else r["mean"] for r in ref]
    assert rel_err(out["mean"], mean) < 1e-6  # rasterstats accumulates float32 inputs


EXACT_STATS = ["count", "sum", "mean", "min", "max", "stdev"]


@pytest.mark.parametrize("path", [NDVI_MAX, DEM, COPERNICUS, KOPPEN])
def test_exact_matches_exactextract(zonal_banners, path):
    from exactextract import exact_extract

    ref = exact_extract(str(path), zonal_banners, [*EXACT_STATS, "median"], output="pandas")
    out = zonal_stats(zonal_banners, path, [*EXACT_STATS, "median"])
    for stat in EXACT_STATS:
        floor = 1e-9 if stat == "stdev" else 1e-12  # zones of one value have stdev 0
        assert rel_err(out[stat], ref[stat], floor) <= 1e-6, stat
    median = out["median"].to_numpy()
    with rasterio.open(path) as ds:
        is_int = ds.dtypes[0].startswith(("int", "uint"))
    # exactextract returns the quantile in the raster's type (truncated / float32).
    median = np.trunc(median) if is_int else median.astype(np.float32)
    assert rel_err(median, ref["median"]) <= 1e-6


@pytest.mark.parametrize("path", [LANDCOVER, KOPPEN])
def test_class_fractions_match_exactextract(zonal_banners, path, hist_path):
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource, RasterioRasterSource

    out = zonal_stats(zonal_banners, path, categorical=True)
    with rasterio.open(path) as ds:
        grid = Grid.from_dataset(ds)
        cell_area = np.repeat(grid.row_cell_area_m2()[:, None], grid.width, axis=1)
        weights = NumPyRasterSource(cell_area, *ds.bounds, srs_wkt=ds.crs.wkt)
        ref = exact_extract(
            RasterioRasterSource(ds),
            zonal_banners,
            ["unique", "weighted_frac", "weighted_sum"],
            weights=weights,
            output="pandas",
        )
    worst = 0.0
    for i in range(len(zonal_banners)):
        for cls, frac in zip(ref["unique"][i], ref["weighted_frac"][i], strict=True):
            worst = max(worst, abs(out[f"fraction_{cls}"].iloc[i] - frac) / frac)
    assert worst <= 1e-6
    area_cols = [c for c in out if c.startswith("area_km2_")]
    assert np.allclose(out[area_cols].sum(axis=1), out["valid_area_km2"], rtol=1e-12)


def test_geographic_areas_add_up(zonal_banners):
    out = zonal_stats(zonal_banners, NDVI_MAX, ["count"])
    total = out[["valid_area_km2", "nodata_area_km2", "outside_area_km2"]].sum(axis=1)
    geod = Geod(ellps="WGS84")
    ref = [
        abs(geod.geometry_area_perimeter(g.segmentize(0.01))[0]) / 1e6
        for g in zonal_banners.geometry
    ]
    # Cells are bounded by straight lat/lon lines, Geod by geodesics: ~1e-5 apart.
    assert np.allclose(total, ref, rtol=1e-4)


# --------------------------------------------------------------------------- tiled build

COVERAGE_INDEX = ("run_row", "run_start", "run_end", "run_zone", "cell_row", "cell_col")
FLOAT32_STEP = 2.0**-24  # exactextract returns float32 fractions: their resolution below 1


@contextlib.contextmanager
def force_tiles(monkeypatch, tile: int = 8):
    """Make every zone of every job go through the tiled exact build."""
    with zonal.set_options(exact_tile=tile, tiled_min_cells=0), monkeypatch.context() as m:
        m.setattr(zonal.tiling, "_tiles_cost", lambda bounds: 0)
        yield


def whole_zone_coverage(zones, grid) -> Coverage:
    """Coverage by exactextract on whole zones (the reference path)."""
    with zonal.set_options(exact_tile=None):
        return Coverage.build(zones, grid)


@pytest.mark.parametrize("path", [NDVI_MAX, KOPPEN], ids=["0p05deg", "1km"])
def test_default_build_matches_whole_zone_build(zonal_banners, monkeypatch, path):
    with rasterio.open(path) as ds:
        grid = Grid.from_dataset(ds)
    ref = whole_zone_coverage(zonal_banners, grid)
    cov = Coverage.build(zonal_banners, grid)
    for name in (*COVERAGE_INDEX, "cell_zone"):
        np.testing.assert_array_equal(getattr(cov, name), getattr(ref, name))
    assert np.max(np.abs(cov.cell_weight - ref.cell_weight)) <= 1e-12


@pytest.mark.parametrize("path", [NDVI_MAX, KOPPEN], ids=["0p05deg", "1km"])
def test_tiled_build_matches_whole_zone_build(zonal_banners, monkeypatch, path):
    """Tiles give the same cells and weights as exactextract on whole zones.

    exactextract rounds each fraction to float32 from a double that depends on
    the origin of the feature's bounding box (to ~1e-16), so a clipped feature
    may round a few boundary cells to the neighbouring float32: one step, 6e-8.
    """
    with rasterio.open(path) as ds:
        grid = Grid.from_dataset(ds)
    ref = whole_zone_coverage(zonal_banners, grid)
    with force_tiles(monkeypatch):
        cov = Coverage.build(zonal_banners, grid)
    for name in (*COVERAGE_INDEX, "cell_zone"):
        np.testing.assert_array_equal(getattr(cov, name), getattr(ref, name))
    diff = np.abs(cov.cell_weight - ref.cell_weight)
    assert diff.max() <= FLOAT32_STEP
    assert np.mean(diff > 0) < 0.01


def test_tiled_build_hand(monkeypatch, tmp_path):
    # A rotated square with a square hole on a 1 m grid of 120 × 120 cells,
    # tiles of 8 cells: the weights add up to the polygon's area and every cell
    # wholly inside is a weight-1 run cell.
    transform = Affine(1.0, 0, 0, 0, -1.0, 120.0)
    path = write_raster(
        tmp_path / "fine.tif", np.zeros((120, 120), np.float32), transform=transform
    )
    outer = Polygon([(60, 3.3), (116.7, 60), (60, 116.7), (3.3, 60)])
    zone = Polygon(outer.exterior.coords, [box(40.5, 40.5, 79.25, 79.25).exterior.coords])
    with rasterio.open(path) as ds:
        grid = Grid.from_dataset(ds)
    with force_tiles(monkeypatch):
        cov = Coverage.build(zones_of(zone), grid)
    covered = np.sum(cov.run_end - cov.run_start) + cov.cell_weight.sum()
    assert covered == pytest.approx(zone.area, rel=1e-7)
    assert np.all((cov.cell_weight > 0) & (cov.cell_weight < 1))
    cells = [
        box(c, 119 - r, c + 1, 120 - r) for r, c in zip(cov.cell_row, cov.cell_col, strict=True)
    ]
    exact = np.array([zone.intersection(c).area for c in cells])
    assert np.max(np.abs(cov.cell_weight - exact)) < 1e-6
    for r, s, e in zip(cov.run_row, cov.run_start, cov.run_end, strict=True):
        assert zone.contains(box(s, 119 - r, e, 120 - r))


# --------------------------------------------------------------------------- coverage cache


def test_coverage_reused_for_second_raster(zonal_banners, monkeypatch, tmp_path):
    calls = []
    original = Coverage.build.__func__

    def counting_build(cls, *args, **kwargs):
        calls.append(args)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(Coverage, "build", classmethod(counting_build))
    monkeypatch.setattr(zonal, "coverage_cache", zonal.CoverageCache())
    with rasterio.open(NDVI_MAX) as ds:
        cov = Coverage.build(zonal_banners, Grid.from_dataset(ds))
    warm = zonal_stats(zonal_banners, NDVI_MIN, EXACT_STATS, coverage=cov)
    zonal_stats(zonal_banners, LANDCOVER, categorical=True, coverage=cov)
    assert len(calls) == 1
    cold = zonal_stats(zonal_banners, NDVI_MIN, EXACT_STATS)
    assert len(calls) == 2
    pd.testing.assert_frame_equal(warm, cold)

    # Disk cache: the coverage held in memory is written there without a rebuild, and a
    # process that starts empty (memory cleared) loads it for the next raster on the grid.
    first = zonal_stats(zonal_banners, NDVI_MAX, EXACT_STATS, cache_dir=tmp_path)
    assert len(calls) == 2
    assert len(list(tmp_path.glob("coverage-*.npz"))) == 1
    zonal.coverage_cache.clear()
    second = zonal_stats(zonal_banners, NDVI_MIN, EXACT_STATS, cache_dir=tmp_path)
    assert len(calls) == 2
    pd.testing.assert_frame_equal(second, cold)
    assert first["count"].equals(second["count"])
    zonal.coverage_cache.clear()
    zonal_stats(zonal_banners, NDVI_MIN, EXACT_STATS)  # neither memory nor disk: built
    assert len(calls) == 3
    assert not list(tmp_path.glob("*.tmp"))


def test_disk_cache_round_trip(zonal_banners, tmp_path):
    with rasterio.open(KOPPEN) as ds:
        grid = Grid.from_dataset(ds)
    built = Coverage.load_or_build(zonal_banners, grid, "exact", tmp_path)
    (path,) = tmp_path.glob("coverage-*.npz")
    loaded = Coverage.load(path, grid)
    for name, arr in built._arrays().items():
        np.testing.assert_array_equal(getattr(loaded, name), arr)
    assert loaded.matches(zonal_banners) and loaded.method == "exact"
    # A different zone set or method gets its own file.
    Coverage.load_or_build(zonal_banners.iloc[:5], grid, "exact", tmp_path)
    Coverage.load_or_build(zonal_banners.iloc[:5], grid, "center", tmp_path)
    assert len(list(tmp_path.glob("coverage-*.npz"))) == 3
    # A corrupt cache file is recomputed, with a warning.
    path.write_bytes(b"garbage")
    with pytest.warns(GeoWarning, match="unreadable coverage cache"):
        again = Coverage.load_or_build(zonal_banners, grid, "exact", tmp_path)
    np.testing.assert_array_equal(again.cell_weight, built.cell_weight)


def test_coverage_mismatch_errors(zonal_banners, zonal_grid):
    with rasterio.open(NDVI_MAX) as ds:
        cov = Coverage.build(zonal_banners, Grid.from_dataset(ds))
    with pytest.raises(DataError, match="not on the grid"):
        zonal_stats(zonal_banners, KOPPEN, coverage=cov)
    with pytest.raises(ZoneError, match="other zones"):
        zonal_stats(zonal_banners.iloc[:3], NDVI_MIN, coverage=cov)
    with pytest.raises(GeoError, match="method"):
        zonal_stats(zonal_banners, NDVI_MIN, coverage=cov, method="center")


def test_small_windows_same_result(zonal_banners, hist_path):
    whole = zonal_stats(zonal_banners, KOPPEN, EXACT_STATS, categorical=True)
    streamed = zonal_stats(zonal_banners, KOPPEN, EXACT_STATS, categorical=True, window_rows=1)
    pd.testing.assert_frame_equal(whole, streamed, rtol=1e-12)


def _both_paths(monkeypatch, run):
    with zonal.set_options(use_numba=False):
        slow = run()
    with zonal.set_options(use_numba=True):
        return slow, run()


@pytest.mark.skipif(not HAS_NUMBA, reason="numba is not installed: no compiled kernel to compare")
@pytest.mark.parametrize("window_rows", [None, 7])
def test_compiled_histograms_identical_landcover(zonal_banners, monkeypatch, window_rows):
    # Geographic grid: rows of unequal area, so the area sums go through the
    # weighted kernel, which adds cell by cell in np.bincount's order.
    slow, fast = _both_paths(
        monkeypatch,
        lambda: zonal_stats(zonal_banners, LANDCOVER, categorical=True, window_rows=window_rows),
    )
    assert zonal.kernels.numba_kernels() is not None
    pd.testing.assert_frame_equal(slow, fast, check_exact=True)


@pytest.mark.skipif(not HAS_NUMBA, reason="numba is not installed: no compiled kernel to compare")
@pytest.mark.parametrize("dtype, nodata", [("uint8", 255), ("int16", -32768), ("uint16", None)])
def test_compiled_histograms_identical_synthetic(tmp_path, monkeypatch, dtype, nodata):
    # Equal-area grid (one area per cell, counts split over threads), signed
    # values (histogram offset), unknown nodata values (masked in the kernel) and
    # integer quantiles (coverage histograms).
    rng = np.random.default_rng(7)
    data = rng.integers(-3 if dtype == "int16" else 0, 9, size=(600, 2000)).astype(dtype)
    if nodata is not None:
        data[rng.random(data.shape) < 0.1] = nodata
    transform = Affine(CELL, 0, 0, 0, -CELL, 600 * CELL)
    path = write_raster(tmp_path / "cls.tif", data, nodata=nodata, transform=transform)
    zones = zones_of(km(0.3, 0.2, 1500.5, 599.7), km(200.1, 10.4, 1999.9, 333.3))
    for kwargs in (
        {"categorical": True, "nodata_values": (4,)},
        {"categorical": True},
        {"stats": ["count", "median", "quantile"], "quantiles": [0.1, 0.9]},
    ):
        slow, fast = _both_paths(monkeypatch, lambda kw=kwargs: zonal_stats(zones, path, **kw))
        pd.testing.assert_frame_equal(slow, fast, check_exact=True)


def test_numpy_path_without_numba(tmp_path, monkeypatch):
    # numba not importable: the kernels are absent and the numpy path runs.
    monkeypatch.setitem(sys.modules, "numba", None)
    monkeypatch.setattr(zonal.kernels, "_KERNELS", None)
    assert zonal.kernels.numba_kernels() is None
    assert zonal.kernels.warm_kernels(np.uint8) is False
    data = np.array([[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 0, 0], [3, 3, 0, 0]], dtype=np.uint8)
    path = write_raster(tmp_path / "cls.tif", data, nodata=0)
    out = zonal_stats(zones_of(km(1, 0, 3, 4)), path, categorical=True).iloc[0]
    assert out["area_km2_2"] == pytest.approx(2)


# --------------------------------------------------------------------------- properties


@pytest.fixture(scope="module")
def zonal_classes(tmp_path_factory):
    """A 40×50 uint8 class raster (classes 1-5, 0 = nodata) on a 1 km equal-area grid."""
    rng = np.random.default_rng(4)
    data = rng.integers(0, 6, size=(40, 50)).astype(np.uint8)
    path = tmp_path_factory.mktemp("zonal") / "classes.tif"
    return write_raster(path, data, nodata=0, transform=Affine(CELL, 0, 0, 0, -CELL, 40 * CELL))


coord = st.floats(min_value=-3, max_value=53, allow_nan=False)


def _said_empty(zones, raster, stats, method):
    """Class statistics; a small zone may cover only nodata cells (random 0s): then the
    warning must come, and only then (every zone's valid area 0)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GeoWarning)
        out = zonal_stats(zones, raster, stats, categorical=True, method=method)
    said = any("has no valid cell" in str(w.message) for w in caught)
    assert said == bool((out["valid_area_km2"] == 0).all())
    return out


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    x0=coord,
    x1=coord,
    y0=coord,
    y1=coord,
    split=st.floats(0.05, 0.95),
    method=st.sampled_from(["exact", "all_touched", "center"]),
)
def test_split_rectangle_adds_up(zonal_classes, hist_path, x0, x1, y0, y1, split, method):
    x0, x1 = sorted((x0, x1))
    y0, y1 = sorted((y0, y1))
    assume(x1 - x0 > 0.5 and y1 - y0 > 0.5)
    assume(x0 < 49 and x1 > 1 and y0 < 39 and y1 > 1)  # overlaps the 50 × 40 km grid
    xs = x0 + split * (x1 - x0)
    zones = zones_of(km(x0, y0, x1, y1), km(x0, y0, xs, y1), km(xs, y0, x1, y1))
    out = _said_empty(zones, zonal_classes, ["count", "sum"], method="exact")
    whole, parts = out.iloc[0], out.iloc[1:].sum()
    for col in ("count", "sum", "valid_area_km2", "nodata_area_km2", "outside_area_km2"):
        assert parts[col] == pytest.approx(whole[col], rel=1e-7, abs=1e-9), col
    assert whole[[c for c in out if c.startswith("area_km2_")]].sum() == pytest.approx(
        whole["valid_area_km2"], rel=1e-12, abs=1e-12
    )
    total = (x1 - x0) * (y1 - y0)
    assert whole[["valid_area_km2", "nodata_area_km2", "outside_area_km2"]].sum() == (
        pytest.approx(total, rel=1e-7)
    )
    # exactextract coverage fractions carry ~1e-9 relative rounding, hence rel=1e-7 above.
    # Class areas sum to the valid area for the 0/1 methods as well.
    binary = _said_empty(zones, zonal_classes, ["count"], method=method)
    area_cols = [c for c in binary if c.startswith("area_km2_")]
    assert np.allclose(binary[area_cols].sum(axis=1), binary["valid_area_km2"], rtol=1e-12)


# --------------------------------------------------------------------------- bad input


def test_raster_without_crs(tmp_path):
    path = write_raster(tmp_path / "nocrs.tif", VALUES.copy(), crs=None)
    with pytest.raises(CRSError, match=r"nocrs\.tif"):
        zonal_stats(zones_of(km(0, 0, 1, 1)), path)


def test_zones_without_crs(zonal_grid):
    zones = gpd.GeoDataFrame(geometry=[km(0, 0, 1, 1)])
    with pytest.raises(CRSError, match="zones have no CRS"):
        zonal_stats(zones, zonal_grid)


def test_zones_not_overlapping(zonal_grid):
    with pytest.raises(ZoneError, match=r"grid\.tif"):
        zonal_stats(zones_of(km(100, 100, 101, 101)), zonal_grid)


def test_missing_band(zonal_grid):
    with pytest.raises(LayerError, match=r"1 band\(s\); band 2"):
        zonal_stats(zones_of(km(0, 0, 1, 1)), zonal_grid, band=2)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"not found.*nope\.tif"):
        zonal_stats(zones_of(km(0, 0, 1, 1)), tmp_path / "nope.tif")


@pytest.mark.parametrize("content", [b"this is not a raster", b"II*\x00garbage" * 10])
def test_not_a_raster(tmp_path, content):
    path = tmp_path / "bad.tif"
    path.write_bytes(content)
    with pytest.raises(DataError, match=r"bad\.tif.*re-download"):
        zonal_stats(zones_of(km(0, 0, 1, 1)), path)


def test_empty_zones(zonal_grid):
    with pytest.raises(ZoneError, match="empty"):
        zonal_stats(zones_of(), zonal_grid)
    empty_geoms = gpd.GeoDataFrame(geometry=gpd.GeoSeries([None], crs=EQUAL_AREA))
    with pytest.raises(ZoneError, match="empty or missing"):
        zonal_stats(empty_geoms, zonal_grid)


def test_bad_arguments(zonal_grid, tmp_path):
    zones = zones_of(km(0, 0, 1, 1))
    with pytest.raises(GeoError, match="unknown statistic"):
        zonal_stats(zones, zonal_grid, ["average"])
    with pytest.raises(GeoError, match="unknown zonal method"):
        zonal_stats(zones, zonal_grid, method="nearest")
    with pytest.raises(GeoError, match="needs quantiles"):
        zonal_stats(zones, zonal_grid, ["quantile"])
    with pytest.raises(LayerError, match="integer raster"):
        zonal_stats(zones, zonal_grid, categorical=True)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy([500], [500]), crs=EQUAL_AREA)
    with pytest.raises(ZoneError, match="polygons"):
        zonal_stats(points, zonal_grid)


def test_coverage_match_sees_a_changed_geometry():
    zones = gpd.read_file(DATA / "boundaries" / "im_admin_wgs84.gpkg", layer="county")
    zones = zones.set_index("adcode")
    with rasterio.open(LANDCOVER) as src:
        grid = Grid.from_dataset(src)
    cov = Coverage.build(zones, grid)
    assert cov.matches(zones) and cov.matches(zones.copy())  # second call: the fast path
    edited = zones.copy()
    edited.loc["152923", "geometry"] = edited.geometry.iloc[0]
    assert not cov.matches(edited)
    with pytest.raises(ZoneError, match="built for other zones"):
        zonal_stats(edited, LANDCOVER, coverage=cov)
