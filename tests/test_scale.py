"""Tests of geo.scale: the Dask path gives the numbers of the in-memory path."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from shapely.geometry import Point, box

from geo.errors import DataError, GeoError, UsageError
from geo.scale import WorkerLostError, _SharedCoverage, chunk_windows, zonal_stats_dask
from geo.zonal import STATS, Coverage, zonal_stats

DATA = Path(__file__).resolve().parents[1] / "data"
NDVI_MAX = DATA / "rasters" / "ndvi_maximum_bess_0p05deg_im.tif"
LANDCOVER = DATA / "rasters" / "landcover_mcd12c1_2019_igbp_0p05deg_im.tif"
EQUAL_AREA = "EPSG:6933"
CELL = 1000.0
SHAPE = (300, 410)
ODD_CHUNKS = (37, 53)  # aligned with neither the 64×64 blocks nor the zones
FLOAT_STATS = [s for s in STATS if s != "quantile"]
TOL = 1e-9

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install distributed)"
)


# --------------------------------------------------------------------------- helpers


def rel_err(a: pd.DataFrame, b: pd.DataFrame, floor: float = 1e-12) -> float:
    """Largest relative difference of two tables with the same shape and NaNs."""
    assert list(a.columns) == list(b.columns)
    assert a.index.equals(b.index)
    x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
    assert np.array_equal(np.isnan(x), np.isnan(y))
    ok = ~np.isnan(x)
    return float(np.max(np.abs(x[ok] - y[ok]) / np.maximum(np.abs(y[ok]), floor), initial=0))


def write_synthetic(path: Path, year: int = 0, *, dtype="float32") -> Path:
    """A tiled 300×410 raster (64×64 blocks) with nodata, NaNs and a trend by year."""
    rng = np.random.default_rng(year)
    rows, cols = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    if dtype == "uint8":
        data = ((rows // 23 + cols // 31 + year) % 9 + 1).astype(np.uint8)
        data[rng.random(SHAPE) < 0.05] = 255
        nodata = 255
    else:
        data = (50 + 20 * np.sin(rows / 17) * np.cos(cols / 29) + year).astype(np.float32)
        data += rng.normal(0, 2, SHAPE).astype(np.float32)
        data[rng.random(SHAPE) < 0.05] = -9999.0
        data[rng.random(SHAPE) < 0.01] = np.nan
        nodata = -9999.0
    profile = {
        "driver": "GTiff",
        "height": SHAPE[0],
        "width": SHAPE[1],
        "count": 1,
        "dtype": data.dtype,
        "crs": EQUAL_AREA,
        "transform": Affine(CELL, 0, 0, 0, -CELL, SHAPE[0] * CELL),
        "nodata": nodata,
        "tiled": True,
        "blockxsize": 64,
        "blockysize": 64,
        "compress": "deflate",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return path


def synthetic_zones() -> gpd.GeoDataFrame:
    """Circles and boxes: partial cells, overlaps, a hole, one zone partly off the grid."""
    km = CELL
    geoms = [
        Point(100 * km, 150 * km).buffer(61.3 * km),
        Point(150 * km, 170 * km).buffer(45.7 * km),  # overlaps the first
        box(200.5 * km, 20.25 * km, 390.75 * km, 120.5 * km),
        box(380 * km, 250 * km, 470 * km, 330 * km),  # partly outside
        Point(300 * km, 220 * km).buffer(40 * km).difference(Point(300 * km, 220 * km).buffer(9)),
        box(10.1 * km, 10.1 * km, 11.9 * km, 12.3 * km),  # a few cells only
    ]
    return gpd.GeoDataFrame(
        {"name": list("abcdef")},
        geometry=geoms,
        index=pd.Index([11, 12, 13, 14, 15, 16], name="zone_id"),
        crs=EQUAL_AREA,
    )


@pytest.fixture(scope="module")
def banners():
    zones = gpd.read_file(DATA / "boundaries" / "im_admin_wgs84.gpkg", layer="county")
    return zones.set_index("adcode")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cl:
        yield cl


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster, set_as_default=False) as cl:
        yield cl


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scale")
    years = [write_synthetic(folder / f"fvc_{2000 + y}.tif", y) for y in range(3)]
    classes = write_synthetic(folder / "classes.tif", 0, dtype="uint8")
    return years, classes


# --------------------------------------------------------------------------- agreement


def test_cluster_matches_in_memory_ndvi(banners, client):
    stats = ["count", "sum", "mean", "min", "max", "stdev", "nodata_fraction"]
    expected = zonal_stats(banners, NDVI_MAX, stats)
    got = zonal_stats_dask(banners, NDVI_MAX, stats, client=client, chunks=(64, 128))
    assert rel_err(got, expected) <= TOL
    assert got["count"].gt(0).all()


def test_cluster_matches_in_memory_class_areas(banners, client):
    expected = zonal_stats(banners, LANDCOVER, ["count"], categorical=True)
    got = zonal_stats_dask(banners, LANDCOVER, ["count"], categorical=True, client=client)
    assert any(c.startswith("area_km2_") for c in got.columns)
    assert rel_err(got, expected) <= TOL


def test_unaligned_chunks_on_cluster(synthetic, client):
    (year0, *_), classes = synthetic
    zones = synthetic_zones()
    kw = {"quantiles": (0.1, 0.9)}
    expected = zonal_stats(zones, year0, [*FLOAT_STATS, "quantile"], **kw)
    got = zonal_stats_dask(
        zones, year0, [*FLOAT_STATS, "quantile"], chunks=ODD_CHUNKS, client=client, **kw
    )
    assert rel_err(got, expected) <= TOL
    assert got.loc[14, "outside_area_km2"] > 0 and got.loc[12, "count"] > 0

    expected = zonal_stats(zones, classes, ["count", "median"], categorical=True)
    got = zonal_stats_dask(
        zones, classes, ["count", "median"], categorical=True, chunks=ODD_CHUNKS, client=client
    )
    assert rel_err(got, expected) <= TOL


@pytest.mark.parametrize("scheduler", ["threads", "synchronous"])
@pytest.mark.parametrize("method", ["exact", "all_touched"])
def test_local_schedulers(synthetic, scheduler, method):
    (year0, *_), _ = synthetic
    zones = synthetic_zones()
    expected = zonal_stats(zones, year0, FLOAT_STATS, method=method)
    got = zonal_stats_dask(
        zones, year0, FLOAT_STATS, method=method, chunks=ODD_CHUNKS, scheduler=scheduler
    )
    assert rel_err(got, expected) <= TOL


def test_processes_scheduler_and_coverage_shipped_once(synthetic, tmp_path):
    (year0, *_), _ = synthetic
    zones = synthetic_zones()
    cov = Coverage.build(zones, _grid(year0))
    # Spilled to a file, the coverage pickles as a path: tasks don't carry its arrays.
    shared = _SharedCoverage(cov, cov.grid.row_cell_area_m2())
    shared.spill(str(tmp_path))
    assert len(pickle.dumps(shared)) < 1000 < cov.nbytes
    assert pickle.loads(pickle.dumps(shared)).cov.n_zones == len(zones)
    expected = zonal_stats(zones, year0, FLOAT_STATS, coverage=cov)
    got = zonal_stats_dask(
        zones, year0, FLOAT_STATS, coverage=cov, chunks=(100, 1000), scheduler="processes"
    )
    assert rel_err(got, expected) <= TOL


def _grid(path):
    from geo.grid import Grid

    with rasterio.open(path) as ds:
        return Grid.from_dataset(ds)


def test_chunk_windows_tile_the_covered_part(synthetic):
    (year0, *_), _ = synthetic
    cov = Coverage.build(synthetic_zones(), _grid(year0))
    windows = chunk_windows(cov, np.float32, (64, 64), ODD_CHUNKS)
    cells = sum(int(w.width * w.height) for w in windows)
    assert 0 < cells <= SHAPE[0] * SHAPE[1]
    assert all(w.width <= ODD_CHUNKS[1] and w.height <= ODD_CHUNKS[0] for w in windows)
    with pytest.raises(UsageError, match="chunks"):
        chunk_windows(cov, np.float32, (64, 64), "nonsense")


# --------------------------------------------------------------------------- many layers


def test_multi_year_stack_in_one_pass(synthetic, client):
    years, _ = synthetic
    zones = synthetic_zones()
    stats = ["count", "mean", "stdev", "max"]
    names = ["2000", "2001", "2002"]
    stack = zonal_stats_dask(zones, years, stats, chunks=ODD_CHUNKS, client=client, layers=names)
    assert stack.index.names == ["layer", "zone_id"]
    for name, path in zip(names, years, strict=True):
        single = zonal_stats_dask(zones, path, stats, chunks=ODD_CHUNKS, client=client)
        assert rel_err(stack.loc[name], single) <= TOL
        assert rel_err(stack.loc[name], zonal_stats(zones, path, stats)) <= TOL
    means = stack["mean"].unstack("layer")
    assert (means["2002"] > means["2000"]).all()  # the synthetic trend is +1 a year

    tidy = zonal_stats_dask(zones, years, stats, scheduler="threads", tidy=True, layers=names)
    assert list(tidy.columns) == ["zone", "layer", "stat", "value"]
    assert len(tidy) == 3 * len(zones) * stack.shape[1]
    wide = tidy.pivot_table(index=["layer", "zone"], columns="stat", values="value", dropna=False)
    wide.index.names = stack.index.names
    assert rel_err(wide[stack.columns], stack) <= TOL


def test_scheduler_address(synthetic, cluster):
    (year0, *_), _ = synthetic
    zones = synthetic_zones()
    got = zonal_stats_dask(zones, year0, ["mean"], scheduler=cluster.scheduler_address)
    assert rel_err(got, zonal_stats(zones, year0, ["mean"])) <= TOL


# --------------------------------------------------------------------------- failures


def _arm_worker_death(flag: str, once: bool):
    """A function for ``client.run``: workers exit on a chunk read (only once if ``once``)."""

    def arm(flag=flag, once=once):
        import geo.scale

        original = geo.scale._read_window

        def dying_read(*args, **kwargs):
            if not once:
                os._exit(1)
            try:
                fd = os.open(flag, os.O_CREAT | os.O_EXCL)
            except FileExistsError:  # another worker died already
                return original(*args, **kwargs)
            os.close(fd)
            os._exit(1)

        geo.scale._read_window = dying_read

    return arm


def test_worker_killed_mid_run_is_retried(synthetic, tmp_path):
    (year0, *_), _ = synthetic
    zones = synthetic_zones()
    flag = tmp_path / "died"
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        client.run(_arm_worker_death(str(flag), once=True))
        got = zonal_stats_dask(zones, year0, FLOAT_STATS, chunks=ODD_CHUNKS, client=client)
    assert flag.exists()  # a worker did die
    assert rel_err(got, zonal_stats(zones, year0, FLOAT_STATS)) <= TOL


def test_worker_deaths_give_clear_error(synthetic, tmp_path):
    import dask

    (year0, *_), _ = synthetic
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        client.run(_arm_worker_death(str(tmp_path / "unused"), once=False))
        with pytest.raises(WorkerLostError, match=r"died while reading .*fvc_2000\.tif") as err:
            zonal_stats_dask(synthetic_zones(), year0, ["mean"], chunks=ODD_CHUNKS, client=client)
    assert isinstance(err.value, GeoError)
    assert "no result was returned" in str(err.value)


def test_input_errors(synthetic, tmp_path):
    years, _ = synthetic
    zones = synthetic_zones()
    with pytest.raises(UsageError, match="unknown scheduler"):
        zonal_stats_dask(zones, years[0], scheduler="gpu")
    with pytest.raises(UsageError, match="file paths"), rasterio.open(years[0]) as ds:
        zonal_stats_dask(zones, ds)
    with pytest.raises(UsageError, match="not unique"):
        zonal_stats_dask(zones, [years[0], years[0]])
    with pytest.raises(DataError, match="not found"):
        zonal_stats_dask(zones, [years[0], tmp_path / "missing.tif"])
    other = tmp_path / "other_grid.tif"
    with rasterio.open(years[0]) as ds:
        profile = ds.profile | {"width": 100}
        data = ds.read(1, window=((0, SHAPE[0]), (0, 100)))
    with rasterio.open(other, "w", **profile) as dst:
        dst.write(data, 1)
    with pytest.raises(DataError, match="not on the grid"):
        zonal_stats_dask(zones, [years[0], other])
