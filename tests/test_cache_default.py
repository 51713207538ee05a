"""Warm by default: every command keeps coverages on disk unless told not to (issue 16).

A coverage (which cells each zone covers, by how much) depends on the zones and the grid only:
the second run of any command over the same zones and grid must find it, in memory within one
process and on disk across processes, and ``--no-cache`` must leave nothing behind.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest

from geo import boundaries, zonal
from geo.pipeline import compute_all
from geo.tables import stats_table
from geo.zonal import Coverage

NDVI = boundaries.data_path("rasters", "ndvi_maximum_bess_0p05deg_im.tif")
LANDCOVER = boundaries.data_path("rasters", "landcover_mcd12c1_2019_igbp_0p05deg_im.tif")


@pytest.fixture()
def builds(monkeypatch):
    """The coverages built afresh (not loaded), as a list of method names."""
    made: list[str] = []
    original = Coverage.build.__func__

    def counting(cls, zones, grid, method="exact", *args, **kwargs):
        made.append(method)
        return original(cls, zones, grid, method, *args, **kwargs)

    monkeypatch.setattr(Coverage, "build", classmethod(counting))
    return made


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "user-cache"
    monkeypatch.setenv("GEO_BARRIER_CACHE", str(folder))
    return folder


def _table(out: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(out), dtype={"adcode": str}).set_index("adcode")


STATS = ("stats", "--zones", "league", "--layer", "ndvi_max", "--stat", "mean", "--format", "csv")


def test_stats_keeps_coverages_in_the_cache_folder_by_default(barrier, cache, builds):
    code, first, err = barrier(*STATS)
    assert code == 0, err
    saved = sorted((cache / "coverage").glob("coverage-*.npz"))
    assert len(saved) == 1 and builds == ["exact"]
    code, second, err = barrier(*STATS)  # a new process: found on disk, not built
    assert code == 0, err
    assert builds == ["exact"]
    pd.testing.assert_frame_equal(_table(first), _table(second))


def test_no_cache_leaves_nothing_on_disk(barrier, cache, builds):
    for _ in range(2):
        code, _, err = barrier(*STATS, "--no-cache")
        assert code == 0, err
    assert builds == ["exact", "exact"]  # nothing kept between processes
    assert not (cache / "coverage").exists()


def test_cache_and_no_cache_together_refused(barrier, tmp_path):
    code, out, err = barrier(*STATS, "--cache", tmp_path / "c", "--no-cache")
    assert code == 2 and out == ""
    assert "--cache" in err and "--no-cache" in err and "Traceback" not in err
    assert not (tmp_path / "c").exists()


def test_series_keeps_its_coverage_too(barrier, cache, tmp_path):
    import rasterio

    from geo.testing import write_raster

    with rasterio.open(NDVI) as src:
        data, transform, crs = src.read(1), src.transform, src.crs
    stack = tmp_path / "stack"
    stack.mkdir()
    for year in (2001, 2002, 2003):
        write_raster(stack / f"ndvi_{year}.tif", data, transform=transform, crs=crs)
    code, _, err = barrier(
        "series", "--zones", "league", "--stack", stack, "--stat", "mean", "--out", tmp_path / "o"
    )
    assert code == 0, err
    assert len(list((cache / "coverage").glob("coverage-*.npz"))) == 1


def test_report_no_cache_keeps_nothing(barrier, cache, tmp_path):
    code, _, err = barrier(
        "report", "--out", tmp_path / "r", "--tables-only", "--quiet", "--no-cache"
    )
    assert code == 0, err
    kept = {p.name for p in cache.iterdir()} if cache.exists() else set()
    assert kept <= {"numba"}  # compiled kernels only: no derived layers, no coverages
    assert (tmp_path / "r" / "tables").is_dir()


def test_stats_table_twice_in_one_process_builds_once(builds):
    """The tables' entry point used to load or build its coverage on every call."""
    zone_set = boundaries.load("league")
    from geo.layers import resolve

    layer = resolve(str(LANDCOVER), categorical=True)
    first = stats_table(zone_set, [layer], ["fraction"])
    second = stats_table(zone_set, [layer], ["fraction"])
    assert builds == ["exact"]
    pd.testing.assert_frame_equal(first, second)


def test_compute_all_twice_in_one_process_is_warm(tmp_path, builds):
    """A notebook user re-running the pipeline without a cache folder: no coverage rebuilt."""
    first = compute_all(levels=("league",), cache=tmp_path / "a")
    made = len(builds)
    assert made >= 1
    second = compute_all(levels=("league",), cache=tmp_path / "b")
    assert len(builds) == made  # the new run's disk cache is empty; memory served it
    pd.testing.assert_frame_equal(first.wide["league"], second.wide["league"])
    assert zonal.coverage_cache.info()["hits"] >= made
