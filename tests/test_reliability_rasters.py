"""Bad or unusual rasters through ``barrier stats``: right numbers or a clear refusal.

Each case goes through the command line (:func:`geo.cli.main`) and checks real values
computed independently (the north-up copy of the same raster, numpy on a known array,
exactextract, pyproj), never values copied from the output.
"""

import io
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import Geod

from geo import boundaries
from geo.testing import write_raster

NDVI = boundaries.data_path("rasters", "ndvi_maximum_bess_0p05deg_im.tif")
LANDCOVER = boundaries.data_path("rasters", "landcover_mcd12c1_2019_igbp_0p05deg_im.tif")
ROOT = Path(__file__).resolve().parents[1]
ID_COLUMNS = 4  # adcode/zone, name_zh, name_en, level


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_BARRIER_CACHE", str(tmp_path / "geo-cache"))


def stats(barrier, *args) -> tuple[pd.DataFrame, str]:
    """``barrier stats ... --format csv``: the table (statistic columns without the layer
    prefix, indexed by zone) and stderr; fails unless the exit code is 0."""
    code, out, err = barrier("stats", *args, "--format", "csv", "--precision", "full")
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out), dtype={"adcode": str, "zone": str})
    table = table.set_index(table.columns[0])
    values = table.iloc[:, ID_COLUMNS - 1 :]
    prefix = os.path.commonprefix(list(values.columns))  # noqa: RUF071 - column names
    prefix = prefix[: prefix.rfind("_") + 1] if len(values.columns) > 1 else prefix
    return values.rename(columns=lambda c: c.removeprefix(prefix)), err


def _write(path, data, transform, *, crs="EPSG:4326", **extra):
    return write_raster(path, data, transform=transform, crs=crs, **extra)


def _flipped(src_path, path, rows: bool, cols: bool):
    """A copy of ``src_path`` stored south-up (``rows``) and/or east-to-west (``cols``)."""
    with rasterio.open(src_path) as src:
        a, t, profile = src.read(1), src.transform, src.profile
    h, w = a.shape
    a = a[:: -1 if rows else 1, :: -1 if cols else 1]
    flipped = Affine(
        -t.a if cols else t.a,
        0.0,
        t.c + t.a * w if cols else t.c,
        0.0,
        -t.e if rows else t.e,
        t.f + t.e * h if rows else t.f,
    )
    profile.update(transform=flipped)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(a, 1)
    return path


T = Affine(0.5, 0, 110, 0, -0.5, 45)
ORIENTATIONS = {"south_up": (True, False), "east_west": (False, True), "both": (True, True)}
ALL_STATS = ["count", "sum", "mean", "area_mean", "min", "max", "stdev", "median"]


def _close(a: pd.DataFrame, b: pd.DataFrame, rel=1e-12):
    assert list(a.columns) == list(b.columns)
    x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
    assert np.array_equal(np.isnan(x), np.isnan(y))
    ok = ~np.isnan(x)
    assert np.allclose(x[ok], y[ok], rtol=rel, atol=1e-9)


# --------------------------------------------------------------------------- 1 orientation


@pytest.mark.parametrize("method", ["exact", "all_touched", "center"])
@pytest.mark.parametrize("name", list(ORIENTATIONS))
def test_any_orientation_gives_the_north_up_numbers(tmp_path, barrier, name, method):
    flipped = _flipped(NDVI, tmp_path / f"{name}.tif", *ORIENTATIONS[name])
    common = ["--zones", "league", "--method", method, "--quantile", "0.25"]
    common += [a for s in ALL_STATS for a in ("--stat", s)]
    north, _ = stats(barrier, *common, "--layer", NDVI)
    other, _ = stats(barrier, *common, "--layer", flipped)
    _close(other, north)
    # the league mean of the old flipped coverage was 0.725 instead of 0.110
    assert other["mean"].notna().all()


@pytest.mark.parametrize("name", list(ORIENTATIONS))
def test_any_orientation_class_raster_cache_and_dask(tmp_path, barrier, name):
    flipped = _flipped(LANDCOVER, tmp_path / f"lc_{name}.tif", *ORIENTATIONS[name])
    common = ["--zones", "county", "--categorical", "--stat", "fraction", "--stat", "area"]
    north, _ = stats(barrier, *common, "--layer", LANDCOVER, "--cache", tmp_path / "c")
    # the north-up run's cached coverage serves the flipped file too (same cells)
    cached, _ = stats(barrier, *common, "--layer", flipped, "--cache", tmp_path / "c")
    _close(cached, north)
    dask, _ = stats(barrier, *common, "--layer", flipped, "--scheduler", "synchronous")
    _close(dask, north)


def test_any_orientation_area_mean_on_dask(tmp_path, barrier):
    south = _flipped(NDVI, tmp_path / "south.tif", True, False)
    args = ["--zones", "league", "--stat", "mean", "--stat", "area_mean", "--stat", "max"]
    north, _ = stats(barrier, *args, "--layer", NDVI)
    dask, _ = stats(barrier, *args, "--layer", south, "--scheduler", "threads", "--chunks", "100")
    _close(dask, north)


def test_flipped_copies_are_not_mixed_up_by_whole_array_readers(tmp_path):
    """Grid.same_as keeps files of different storage order apart unless asked."""
    from geo.grid import Grid

    south = _flipped(NDVI, tmp_path / "s.tif", True, False)
    with rasterio.open(NDVI) as a, rasterio.open(south) as b:
        ga, gb = Grid.from_dataset(a), Grid.from_dataset(b)
    assert ga.key() == gb.key() and ga.north_up().transform == gb.north_up().transform
    assert gb.transform.e > 0  # the file's own transform: whole-array reads line up with it
    assert not ga.same_as(gb) and ga.same_as(gb, any_orientation=True)


# --------------------------------------------------------------------------- 2 nodata in dtype


def test_nodata_compared_in_the_raster_type(tmp_path, barrier):
    with rasterio.open(NDVI) as src:
        a, profile = src.read(1), src.profile
    hole = np.zeros(a.shape, dtype=bool)
    hole[100:200, 200:400] = True
    hole &= a != profile["nodata"]
    odd = a.copy()
    odd[hole] = np.float32(-9999.1)
    marked = a.copy()
    marked[hole] = profile["nodata"]  # the same cells as declared nodata: the expected numbers
    odd_path = _write(tmp_path / "odd.tif", odd, profile["transform"], nodata=profile["nodata"])
    ref_path = _write(tmp_path / "ref.tif", marked, profile["transform"], nodata=profile["nodata"])
    args = ["--zones", "league", "--stat", "count", "--stat", "mean", "--stat", "min"]
    expected, _ = stats(barrier, *args, "--layer", ref_path)
    got, _ = stats(barrier, *args, "--layer", odd_path, "--nodata", "-9999.1")
    _close(got, expected)
    assert got["min"].min() > -1  # no -9999.1 cell counted
    # the same value declared as the file's nodata
    declared = _write(tmp_path / "declared.tif", odd, profile["transform"], nodata=-9999.1)
    again, _ = stats(barrier, *args, "--layer", declared)
    _close(again.drop(columns="nodata_area_km2"), expected.drop(columns="nodata_area_km2"))


def test_nodata_that_cannot_occur_in_an_integer_raster_is_said(tmp_path, barrier):
    lc = tmp_path / "lc.tif"
    with rasterio.open(LANDCOVER) as src:
        _write(lc, src.read(1), src.transform, nodata=src.nodata)
    args = ["--zones", "league", "--categorical", "--stat", "fraction", "--layer", lc]
    plain, _ = stats(barrier, *args)
    got, err = stats(barrier, *args, "--nodata", "300", "--nodata", "2.5")
    assert "nodata value 300 cannot occur in uint8 raster" in err and str(lc) in err
    assert "nodata value 2.5 cannot occur" in err
    _close(got, plain)


# --------------------------------------------------------------------------- 3 geotransform


@pytest.mark.parametrize(
    "transform, said",
    [
        (None, "has no geotransform"),
        ("110, 0, 0, 45, 0, -0.5", "invalid geotransform"),
        ("110, 0.5, 0, 45, 0, 0", "invalid geotransform"),
        ("nan, 0.5, 0, 45, 0, -0.5", "invalid geotransform"),
    ],
)
def test_missing_or_degenerate_geotransform_refused(tmp_path, barrier, transform, said):
    data = np.ones((10, 10), "float32")
    if transform is None:
        path = tmp_path / "nogeo.tif"
        with pytest.warns(rasterio.errors.NotGeoreferencedWarning):
            _write(path, data, None)
    else:  # GDAL writes no such GeoTIFF; a VRT declares any geotransform
        src = _write(tmp_path / "src.tif", data, T)
        path = tmp_path / "nogeo.vrt"
        path.write_text(_vrt(src.name, transform))
    code, out, err = barrier("stats", "--zones", "league", "--layer", path)
    assert code == 2 and out == ""
    assert said in err and str(path) in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def _vrt(source: str, geotransform: str = "110, 0.5, 0, 45, 0, -0.5") -> str:
    return f"""<VRTDataset rasterXSize="10" rasterYSize="10">
  <SRS>EPSG:4326</SRS>
  <GeoTransform>{geotransform}</GeoTransform>
  <VRTRasterBand dataType="Float32" band="1">
    <SimpleSource>
      <SourceFilename relativeToVRT="1">{source}</SourceFilename>
      <SourceBand>1</SourceBand>
    </SimpleSource>
  </VRTRasterBand>
</VRTDataset>"""


# --------------------------------------------------------------------------- 4 area_mean


def _geod_row_areas(transform, height: int) -> np.ndarray:
    """Ground area of one cell of each row, from pyproj.Geod on the cell's outline
    (edges densified so they follow the parallels)."""
    geod = Geod(ellps="WGS84")
    out = []
    for r in range(height):
        cell = shapely.box(
            transform.c,
            transform.f + transform.e * (r + 1),
            transform.c + transform.a,
            transform.f + transform.e * r,
        )
        ring = shapely.orient_polygons(shapely.segmentize(cell, transform.a / 200))
        out.append(abs(geod.geometry_area_perimeter(ring)[0]))
    return np.array(out)


def test_area_mean_weights_cells_by_ground_area(tmp_path, barrier):
    # 1° cells from 54° N down to 36° N: ground area shrinks northwards (cos φ)
    t = Affine(1.0, 0, 100.0, 0, -1.0, 54.0)
    values = np.tile(np.arange(18, dtype="float32")[:, None], (1, 6))  # value = row
    path = _write(tmp_path / "rows.tif", values, t)
    zone = shapely.box(101.0, 36.0, 104.0, 54.0)  # whole cells: coverage 1 or 0
    zones = tmp_path / "zone.gpkg"
    gpd.GeoDataFrame({"zone": ["z"]}, geometry=[zone], crs=4326).to_file(zones)
    got, _ = stats(
        barrier, "--zones", zones, "--layer", path, "--stat", "mean", "--stat", "area_mean"
    )
    areas = _geod_row_areas(t, 18)
    rows = np.arange(18)
    assert got["mean"].iloc[0] == pytest.approx(rows.mean(), rel=1e-12)
    assert got["area_mean"].iloc[0] == pytest.approx((rows * areas).sum() / areas.sum(), rel=1e-9)
    assert got["area_mean"].iloc[0] > got["mean"].iloc[0] + 0.4  # the southern rows weigh more


def test_area_mean_matches_exactextract_weighted_mean(barrier):
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource, RasterioRasterSource

    got, _ = stats(
        barrier, "--zones", "league", "--layer", NDVI, "--stat", "mean", "--stat", "area_mean"
    )
    leagues = boundaries.load("league").set_index("adcode").loc[got.index]
    with rasterio.open(NDVI) as ds:
        cell_area = np.repeat(_geod_row_areas(ds.transform, ds.height)[:, None], ds.width, 1)
        weights = NumPyRasterSource(cell_area, *ds.bounds, srs_wkt=ds.crs.wkt)
        ref = exact_extract(
            RasterioRasterSource(ds),
            leagues.reset_index(),
            ["mean", "weighted_mean"],
            weights=weights,
            output="pandas",
        )
    assert np.allclose(got["mean"], ref["mean"], rtol=1e-9, atol=0)
    assert np.allclose(got["area_mean"], ref["weighted_mean"], rtol=1e-7, atol=0)
    # the two differ (cells at 37° N are 1.36× those at 54° N)
    assert (got["area_mean"] - got["mean"]).abs().max() > 1e-4


def test_indicator_means_of_cover_are_ground_area_weighted(tmp_path):
    """grassland_fvc_pct / fvc_mean_pct: the mean cover of the *area* (area_mean)."""
    from geo import indicators

    t = Affine(1.0, 0, 100.0, 0, -1.0, 54.0)
    fvc = np.tile(np.linspace(10, 80, 18, dtype="float32")[:, None], (1, 4))
    ones = np.ones((18, 4), "uint8")
    paths = {
        "fvc": _write(tmp_path / "fvc.tif", fvc, t, nodata=-1.0),
        "fvc_grassland": _write(tmp_path / "grass.tif", fvc, t, nodata=-1.0),
        "landcover_cn": _write(tmp_path / "cn.tif", ones * 3, t, nodata=255),
        "landcover": _write(tmp_path / "lc.tif", ones * 10, t, nodata=255),
        "sandified": _write(tmp_path / "sand.tif", ones * 0, t, nodata=255),
        "redline_proxy": _write(tmp_path / "red.tif", ones * 0, t, nodata=255),
    }
    zones = gpd.GeoDataFrame(
        {"zone": ["z"], "name_zh": ["z"], "name_en": ["z"], "level": ["user"]},
        geometry=[shapely.box(100, 36, 104, 54)],
        crs=4326,
    )
    long = indicators.compute(zones, paths).set_index("indicator")
    areas = _geod_row_areas(t, 18)
    expected = (fvc[:, 0] * areas).sum() / areas.sum()
    assert long.loc["grassland_fvc_pct", "value"] == pytest.approx(expected, rel=1e-9)
    assert long.loc["fvc_mean_pct", "value"] == pytest.approx(expected, rel=1e-9)
    assert abs(expected - fvc[:, 0].mean()) > 1.0  # coverage weights alone would be off


# --------------------------------------------------------------------------- 5 outside area


def _ellipsoid_area_km2() -> float:
    """Total area of the WGS84 ellipsoid (closed form, from pyproj's a and f)."""
    g = Geod(ellps="WGS84")
    e = np.sqrt(g.f * (2 - g.f))
    return 2 * np.pi * g.a**2 * (1 + (1 - e * e) / e * np.arctanh(e)) / 1e6


def test_outside_area_of_a_zone_far_larger_than_the_raster(tmp_path, barrier):
    assert _ellipsoid_area_km2() == pytest.approx(510_065_621.7, abs=0.1)
    zones = tmp_path / "world.gpkg"
    gpd.GeoDataFrame(
        {"zone": ["world", "antimeridian"]},
        geometry=[shapely.box(-180, -90, 180, 90), shapely.box(100, 40, 200, 50)],
        crs=4326,
    ).to_file(zones)
    got, err = stats(barrier, "--zones", zones, "--layer", NDVI, "--stat", "count")
    geod = Geod(ellps="WGS84")
    with rasterio.open(NDVI) as ds:
        raster_box = shapely.box(*ds.bounds)
    covered = abs(geod.geometry_area_perimeter(shapely.segmentize(raster_box, 0.001))[0]) / 1e6
    assert got.loc["world", "outside_area_km2"] == pytest.approx(
        _ellipsoid_area_km2() - covered, rel=1e-7
    )
    # 100°–200° E, 40°–50° N, minus the part the raster covers (100°–126.5° E there)
    band = shapely.box(100, 40, 200, 50).difference(raster_box)
    parts = [shapely.segmentize(p, 0.001) for p in shapely.get_parts(band)]
    beyond = sum(abs(geod.geometry_area_perimeter(p)[0]) for p in parts) / 1e6
    assert got.loc["antimeridian", "outside_area_km2"] == pytest.approx(beyond, rel=1e-6)
    assert "partly outside raster" in err


# --------------------------------------------------------------------------- 6 odd rasters


def test_complex_raster_refused(tmp_path, barrier):
    path = _write(tmp_path / "c.tif", np.ones((10, 10), "complex64"), T)
    code, out, err = barrier("stats", "--zones", "league", "--layer", path)
    assert (
        code == 2 and out == "" and "complex" in err and str(path) in err and "Traceback" not in err
    )


def test_multiband_raster_says_band_one(tmp_path, barrier):
    data = np.stack([np.full((10, 10), k, "float32") for k in (1, 2, 3)])
    path = _write(tmp_path / "multi.tif", data, T)
    got, err = stats(barrier, "--zones", "league", "--layer", path, "--stat", "mean")
    assert f"{path} has 3 bands; only band 1 is used" in err
    assert set(got["mean"].dropna()) == {1.0}
    from geo.layers import check_raster

    with pytest.warns(Warning, match="3 bands"):
        assert check_raster(path)["band"] == 1


def test_all_nodata_raster_warned(tmp_path, barrier):
    path = _write(tmp_path / "empty.tif", np.full((10, 10), -5, "float32"), T, nodata=-5)
    got, err = stats(barrier, "--zones", "league", "--layer", path)
    assert f"raster {path} has no valid cell inside the zones" in err
    assert (got["count"] == 0).all()


def test_vrt_with_missing_source_named(tmp_path, barrier):
    src = _write(tmp_path / "src.tif", np.ones((10, 10), "float32"), T)
    vrt = tmp_path / "mosaic.vrt"
    vrt.write_text(_vrt(src.name))
    ok, _ = stats(barrier, "--zones", "league", "--layer", vrt, "--stat", "mean")
    assert set(ok["mean"].dropna()) == {1.0}
    src.unlink()
    code, out, err = barrier("stats", "--zones", "league", "--layer", vrt)
    assert code == 2 and out == ""
    assert f"source file {src} does not exist" in err and "truncated" not in err


# --------------------------------------------------------------------------- 7 memory


def _sparse(path):
    """60000 × 34000 uint8 cells over the region (≈ 50 m), one 256 × 256 block written."""
    profile = {
        "driver": "GTiff",
        "width": 60000,
        "height": 34000,
        "count": 1,
        "dtype": "uint8",
        "crs": "EPSG:4326",
        "transform": Affine(29.5 / 60000, 0, 97, 0, -17 / 34000, 54),
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "sparse_ok": True,
        "nodata": 0,
    }
    with rasterio.open(path, "w", **profile) as dst:
        block = rasterio.windows.Window(30000, 17000, 256, 256)
        dst.write(np.full((256, 256), 7, "uint8"), 1, window=block)
    assert path.stat().st_size < 1_000_000
    return path, block, profile["transform"]


def test_huge_sparse_raster_over_budget_refused(tmp_path, barrier, monkeypatch):
    path, _, _ = _sparse(tmp_path / "sparse.tif")
    monkeypatch.setenv("GEO_BARRIER_MEMORY", "64M")
    code, out, err = barrier("stats", "--zones", "league", "--layer", path)
    assert code == 2 and out == ""
    assert "GEO_BARRIER_MEMORY" in err and str(path) in err and "Traceback" not in err
    monkeypatch.setenv("GEO_BARRIER_MEMORY", "lots")
    code, _, err = barrier("stats", "--zones", "league", "--layer", path)
    assert code == 2 and "GEO_BARRIER_MEMORY='lots' is not a memory size" in err


def test_huge_sparse_raster_streams_in_bounded_memory(tmp_path):
    path, block, t = _sparse(tmp_path / "sparse.tif")
    script = (
        "import resource, sys; from geo import cli; code = cli.main(sys.argv[1:]); "
        "print('maxrss', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); "
        "sys.exit(code)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GEO_BARRIER_CACHE": str(tmp_path / "c")}
    env.pop("GEO_BARRIER_MEMORY", None)
    args = ["stats", "--zones", "league", "--layer", str(path), "--format", "csv"]
    args += ["--precision", "full"]
    done = subprocess.run(
        [sys.executable, "-c", script, *args], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
    maxrss_kb = int(done.stderr.split("maxrss")[1].split()[0])
    assert maxrss_kb < 1_500_000  # the raster declares 2 GB of cells; a float64 copy is 16 GB
    table = pd.read_csv(io.StringIO(done.stdout), dtype={"adcode": str})
    count = table.filter(like="_count").iloc[:, 0].to_numpy()
    mean = table.filter(like="_mean").iloc[:, 0].to_numpy()
    # the written block lies in the zones it covers: its 65536 cells (coverage-weighted)
    leagues = boundaries.load("league")
    west, north = t * (block.col_off, block.row_off)
    east, south = t * (block.col_off + 256, block.row_off + 256)
    inside = shapely.area(
        shapely.intersection(leagues.geometry.values, shapely.box(west, south, east, north))
    )
    expected = inside / (t.a * -t.e)
    assert count == pytest.approx(expected, rel=1e-6, abs=1e-6)
    assert np.all(mean[count > 0] == 7)


# --------------------------------------------------------------------------- 8 coverage cache


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corrupt_coverage_cache_rebuilt(tmp_path, barrier, damage):
    cache = tmp_path / "cov"
    args = ["--zones", "league", "--layer", NDVI, "--stat", "mean", "--cache", cache]
    first, err = stats(barrier, *args)
    (entry,) = (cache / "coverage").glob("coverage-*.npz")
    raw = bytearray(entry.read_bytes())
    if damage == "truncate":
        entry.write_bytes(raw[: len(raw) // 3])
    else:
        raw[len(raw) // 2] ^= 0x40
        entry.write_bytes(raw)
    again, err = stats(barrier, *args)
    _close(again, first)
    lines = [line for line in err.splitlines() if "coverage cache" in line]
    assert len(lines) == 1 and str(entry) in lines[0] and "rebuilt" in lines[0]
    third, err = stats(barrier, *args)  # repaired: read back silently
    _close(third, first)
    assert "coverage cache" not in err


def test_unwritable_cache_named_once(tmp_path, barrier):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache = blocker / "cov"
    got, err = stats(barrier, "--zones", "league", "--layer", NDVI, "--cache", cache)
    expected, _ = stats(barrier, "--zones", "league", "--layer", NDVI)
    _close(got, expected)
    lines = [line for line in err.splitlines() if "cache" in line]
    folder = cache / "coverage"
    assert len(lines) == 1 and f"cannot write the coverage cache in {folder}" in lines[0]


def test_cache_entry_of_other_zones_under_this_name_rebuilt(tmp_path, barrier):
    """A well-formed file that is not this entry (copied over it) is caught, not used."""
    cache = tmp_path / "cov"
    leagues = ["--zones", "league", "--layer", NDVI, "--stat", "mean", "--cache", cache]
    counties = ["--zones", "county", "--layer", NDVI, "--stat", "mean", "--cache", cache]
    first, _ = stats(barrier, *leagues)
    (league_entry,) = (cache / "coverage").glob("coverage-*.npz")
    stats(barrier, *counties)
    (county_entry,) = set((cache / "coverage").glob("coverage-*.npz")) - {league_entry}
    league_entry.write_bytes(county_entry.read_bytes())
    again, err = stats(barrier, *leagues)
    _close(again, first)
    assert "ignoring unreadable coverage cache" in err and "other zones" in err


@pytest.mark.parametrize("layer", ["ndvi", "landcover"])
def test_windows_cut_into_column_pieces_give_the_same_numbers(barrier, monkeypatch, layer):
    """Tall blocks on a wide raster: windows are cut into column pieces (bounded memory)."""
    from geo import zonal

    args = ["--zones", "county", "--layer", layer, "--stat", "mean", "--stat", "median"]
    if layer == "landcover":
        args = ["--zones", "county", "--layer", layer, "--stat", "fraction", "--stat", "area"]
    whole, _ = stats(barrier, *args)
    with zonal.set_options(window_cells=5000):  # 256-row blocks: pieces of 256 columns
        pieces, _ = stats(barrier, *args)
    _close(pieces, whole, rel=1e-10)


def test_derived_layers_read_nodata_in_the_raster_type(tmp_path):
    """The reader of derived layers (user --ndvi …) compares nodata in the raster's type too."""
    from geo.grid import Grid
    from geo.layers import Layer
    from geo.layers.derive import read_on_grid

    with rasterio.open(NDVI) as src:
        a, profile = src.read(1), src.profile
        grid = Grid.from_dataset(src)
    odd = a.copy()
    odd[100:200, 200:400] = np.float32(-9999.1)
    path = _write(tmp_path / "odd.tif", odd, profile["transform"], nodata=-9999.1)
    values, valid = read_on_grid(Layer.from_file(path), grid)
    expected = np.isfinite(a) & (a != profile["nodata"])
    expected[100:200, 200:400] = False
    assert np.array_equal(valid, expected)
    assert values[valid].min() > -1
