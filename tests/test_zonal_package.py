"""geo.zonal as a package: tuning options, owned threads, one normalisation of the zones.

Values are checked against numpy on a known array (``np.arange``) on an equal-area grid of
1 km cells, where a zone of whole cells has the plain mean of its cells.
"""

from __future__ import annotations

import threading

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from geo import zonal
from geo.change import continuous_change
from geo.errors import UsageError, ZoneError
from geo.zonal import Coverage, CoverageCache, zonal_stats

CRS = "EPSG:6933"


def _write(path, data, nodata=None):
    profile = dict(driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                   dtype=data.dtype.name, crs=CRS, transform=from_origin(0, 40_000, 1000, 1000),
                   nodata=nodata)  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return path


@pytest.fixture
def raster(tmp_path):
    data = np.arange(40 * 50, dtype=np.float32).reshape(40, 50)
    return _write(tmp_path / "r.tif", data, nodata=-1), data


def _zones(*boxes):
    return gpd.GeoDataFrame(
        {"zone": [f"z{i}" for i in range(len(boxes))]},
        geometry=[shapely.box(*b) for b in boxes],
        crs=CRS,
    )


ZONES = ((0, 0, 10_000, 10_000), (20_000, 20_000, 50_000, 40_000))


def _expected_means(data):
    # box (0, 0, 10 km, 10 km): rows 30-39, columns 0-9; (20, 20, 50, 40 km): rows 0-19, 20-49
    return [data[30:40, 0:10].mean(), data[0:20, 20:50].mean()]


@pytest.fixture
def fresh_cache(monkeypatch):
    cache = CoverageCache()
    monkeypatch.setattr(zonal, "coverage_cache", cache)
    return cache


@pytest.fixture
def digests(monkeypatch):
    """Count the hashes of every vertex of a zone set (zonal.inputs.zones_digest calls)."""
    calls = []
    original = zonal.inputs.zones_digest

    def counted(frame):
        calls.append(len(frame))
        return original(frame)

    monkeypatch.setattr(zonal.inputs, "zones_digest", counted)
    return calls


# --------------------------------------------------------------------------- options


def test_set_options_as_context_restores_the_old_values():
    before = dict(zonal.get_options())
    with zonal.set_options(window_cells=1000, use_numba=False, exact_tile=None):
        now = zonal.get_options()
        assert (now["window_cells"], now["use_numba"], now["exact_tile"]) == (1000, False, None)
    assert dict(zonal.get_options()) == before


def test_set_options_as_plain_call_lasts_until_changed_back():
    old = zonal.get_options()["build_threads"]
    try:
        zonal.set_options(build_threads=1)
        assert zonal.get_options()["build_threads"] == 1
    finally:
        zonal.set_options(build_threads=old)
    assert zonal.get_options()["build_threads"] == old


def test_context_restores_after_an_error_inside():
    old = zonal.get_options()["window_cells"]
    with pytest.raises(RuntimeError), zonal.set_options(window_cells=7):
        raise RuntimeError("boom")
    assert zonal.get_options()["window_cells"] == old


@pytest.mark.parametrize(
    "kwargs, named",
    [
        ({"window_cell": 10}, "window_cell"),  # typo of an option
        ({"window_cells": 0}, "window_cells"),
        ({"window_cells": 2.5}, "window_cells"),
        ({"use_numba": "yes"}, "use_numba"),
        ({"build_threads": True}, "build_threads"),  # a bool is not a thread count
        ({"int_hist_max_bits": 32}, "int_hist_max_bits"),
        ({"exact_tile": -1}, "exact_tile"),
    ],
)
def test_bad_option_is_a_usage_error_naming_it(kwargs, named):
    before = dict(zonal.get_options())
    with pytest.raises(UsageError, match=named):
        zonal.set_options(**kwargs)
    assert dict(zonal.get_options()) == before


def test_bad_option_changes_nothing_even_after_good_ones():
    before = dict(zonal.get_options())
    with pytest.raises(UsageError, match="hist_threads"):
        zonal.set_options(window_cells=5, hist_threads=0)
    assert dict(zonal.get_options()) == before


def test_get_options_is_read_only():
    with pytest.raises(TypeError):
        zonal.get_options()["window_cells"] = 1  # type: ignore[index]


def test_options_change_the_path_not_the_numbers(raster, fresh_cache):
    path, data = raster
    zones = _zones(*ZONES)
    with zonal.set_options(window_cells=50, build_threads=1, gdal_cachemax_mb=8, read_threads=1):
        small = zonal_stats(zones, path, ["mean"])
    assert small["mean"].to_numpy() == pytest.approx(_expected_means(data), rel=1e-12)
    assert zonal.get_options()["window_cells"] == 4_000_000


def test_use_numba_off_turns_the_kernels_off():
    with zonal.set_options(use_numba=False):
        assert zonal.kernels.numba_kernels() is None


# --------------------------------------------------------------------------- threads


def test_histogram_thread_is_shut_down_after_each_call(tmp_path, monkeypatch, fresh_cache):
    pytest.importorskip("numba")
    made = []
    real = zonal.kernels.ThreadPoolExecutor

    class Recorded(real):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.jobs = 0
            made.append(self)

        def submit(self, *args, **kwargs):
            self.jobs += 1
            return super().submit(*args, **kwargs)

    monkeypatch.setattr(zonal.kernels, "ThreadPoolExecutor", Recorded)
    data = (np.arange(40 * 50) % 5).astype(np.uint8).reshape(40, 50)
    path = _write(tmp_path / "cls.tif", data)
    zones = _zones(*ZONES)
    with zonal.set_options(hist_threads=2, hist_split_cells=0, use_numba=True):
        out = zonal_stats(zones, path, categorical=True)
    assert len(made) == 1 and made[0].jobs > 0  # the split ran on the call's own thread...
    assert made[0]._shutdown  # ...which is shut down when the call returns
    assert not [t for t in threading.enumerate() if t.name.startswith("geo-hist")]
    # class 0: every fifth cell of the zone (1 km² cells)
    first = data[30:40, 0:10]
    assert out.loc[0, "area_km2_0"] == pytest.approx(np.count_nonzero(first == 0))


def test_no_histogram_thread_for_float_layers(raster, monkeypatch, fresh_cache):
    made = []
    monkeypatch.setattr(zonal.kernels, "ThreadPoolExecutor", lambda *a, **k: made.append(1))
    path, _ = raster
    zonal_stats(_zones(*ZONES), path, ["mean"])
    assert made == []


# --------------------------------------------------------------------------- zones


def test_cold_call_hashes_the_zones_once(raster, tmp_path, fresh_cache, digests):
    path, data = raster
    zones = _zones(*ZONES)
    # memory lookup, disk cache path, build and save: one hash of every vertex
    out = zonal_stats(zones, path, ["mean"], cache_dir=tmp_path / "cache")
    assert digests == [2]
    assert out["mean"].to_numpy() == pytest.approx(_expected_means(data), rel=1e-12)
    # a fresh process (memory empty) that finds the file: one hash again
    fresh_cache.clear()
    zonal_stats(zones, path, ["sum"], cache_dir=tmp_path / "cache")
    assert digests == [2, 2]


def test_coverage_building_and_cache_lookup_hash_once(raster, tmp_path, digests):
    path, _ = raster
    zones = _zones(*ZONES)
    with rasterio.open(path) as ds:
        grid = zonal.Grid.from_dataset(ds)
    Coverage.load_or_build(zones, grid, cache_dir=tmp_path / "c")
    assert len(digests) == 1
    CoverageCache().get(zones, grid, cache_dir=tmp_path / "d")
    assert len(digests) == 2


def test_change_hashes_the_zones_once(raster, tmp_path, fresh_cache, digests):
    path, data = raster
    after = _write(tmp_path / "after.tif", data + 2, nodata=-1)
    out = continuous_change(_zones(*ZONES), path, after)
    assert digests == [2]
    assert out["change"].to_numpy() == pytest.approx([2, 2], rel=1e-12)


class StandInZoneSet:
    """The duck type of geo.zones.ZoneSet the engine relies on: frame, key, geometry_in."""

    def __init__(self, frame):
        self.frame = frame
        self.key = "stand-in-zone-set-v1"
        self.asked: list = []

    def geometry_in(self, crs):
        self.asked.append(crs)
        return self.frame.geometry.to_crs(crs)


def test_zone_set_key_is_used_instead_of_hashing(raster, fresh_cache, digests):
    path, data = raster
    frame = _zones(*ZONES).to_crs("EPSG:4326")  # a ZoneSet holds WGS84
    zs = StandInZoneSet(frame)
    out = zonal_stats(zs, path, ["mean"])
    assert digests == []  # its own key, never a hash of the vertices
    assert len(zs.asked) == 1 and zs.asked[0] == CRS  # reprojected once, by the zone set
    # reprojecting the boxes to WGS84 and back moves their edges by ~1e-6 m: slivers of
    # ~1e-9 of a cell enter or leave, so the means agree to 1e-8, not to the last digit
    assert out["mean"].to_numpy() == pytest.approx(_expected_means(data), rel=1e-8)
    assert list(out.index) == list(frame.index)
    (cov,) = fresh_cache._items.values()
    assert cov.zone_key == zs.key
    # the same zone set again: from the process cache, still no hash
    zonal_stats(zs, path, ["sum"])
    assert digests == [] and fresh_cache.info()["hits"] == 1


def test_coverage_of_the_frame_serves_the_zone_set(raster, fresh_cache):
    path, data = raster
    frame = _zones(*ZONES)
    with rasterio.open(path) as ds:
        cov = Coverage.build(frame, zonal.Grid.from_dataset(ds))
    out = zonal_stats(StandInZoneSet(frame), path, ["mean"], coverage=cov)
    assert out["mean"].to_numpy() == pytest.approx(_expected_means(data), rel=1e-12)
    other = StandInZoneSet(_zones(ZONES[0]))
    with pytest.raises(ZoneError, match="other zones"):
        zonal_stats(other, path, ["mean"], coverage=cov)


def test_zone_input_is_idempotent_and_refuses_other_things():
    frame = _zones(*ZONES)
    zi = zonal.zone_input(frame)
    assert zonal.zone_input(zi) is zi and zi.frame is frame
    # a GeoDataFrame with columns named "key" and "frame" is still a GeoDataFrame
    odd = frame.assign(key="k", frame="f")
    assert zonal.zone_input(odd).frame is odd and not zonal.zone_input(odd).has_own_key
    with pytest.raises(UsageError, match="zones must be"):
        zonal.zone_input([shapely.box(0, 0, 1, 1)])
