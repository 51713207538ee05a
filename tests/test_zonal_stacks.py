"""Many layers in one zonal call: lists of files, stacks, multi-band files, xarray in and out.

Synthetic yearly layers (float values with nodata, uint8 classes) on a geographic
(EPSG:4326, 0.05°) and an equal-area (EPSG:6933, 5 km) grid over the 103 banners. Every
many-layer result is checked against single-layer :func:`zonal_stats` calls (exactly: same
windows, same order of sums) and against exactextract.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.transform import from_origin

from geo import zonal
from geo.errors import CRSError, DataError, LayerError, UsageError
from geo.grid import Grid
from geo.series import zone_series
from geo.stack import Stack
from geo.zonal import Coverage, zonal_stats

DATA = Path(__file__).resolve().parents[1] / "data"
YEARS = (2001, 2002, 2003)
GRIDS = {
    # (crs, west, north, cell, width, height): both cover the region's banners
    "geographic": ("EPSG:4326", 97.0, 54.0, 0.05, 590, 340),
    "equal_area": ("EPSG:6933", 9_350_000.0, 6_000_000.0, 5000.0, 580, 330),
}


def _write(path, data, crs, transform, nodata):
    profile = dict(driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                   dtype=data.dtype.name, transform=transform, nodata=nodata, tiled=True,
                   blockxsize=128, blockysize=128)  # fmt: skip
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return path


def _layers(folder: Path, grid: str, seed: int) -> dict[str, list[Path]]:
    crs, west, north, cell, w, h = GRIDS[grid]
    transform = from_origin(west, north, cell, cell)
    rng = np.random.default_rng(seed)
    out: dict[str, list[Path]] = {"value": [], "class": []}
    for year in YEARS:
        values = (rng.random((h, w)) * 100).astype(np.float32)
        values[rng.random((h, w)) < 0.05] = -9999
        out["value"].append(
            _write(folder / f"ndvi_{grid}_{year}.tif", values, crs, transform, -9999)
        )
        classes = rng.integers(1, 12, (h, w)).astype(np.uint8)
        classes[rng.random((h, w)) < 0.05] = 255
        out["class"].append(_write(folder / f"lc_{grid}_{year}.tif", classes, crs, transform, 255))
    return out


@pytest.fixture(scope="module")
def banners():
    return gpd.read_file(DATA / "boundaries" / "im_admin_wgs84.gpkg", layer="county")


@pytest.fixture(scope="module")
def layers(tmp_path_factory):
    """Per grid, three yearly value layers and three yearly class layers."""
    folder = tmp_path_factory.mktemp("stacks")
    return {g: _layers(folder, g, seed) for seed, g in enumerate(GRIDS)}


@pytest.fixture
def builds(monkeypatch):
    """The arguments of every Coverage.build, with a fresh process cache."""
    calls = []
    original = Coverage.build.__func__

    def counting_build(cls, *args, **kwargs):
        calls.append(args)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(Coverage, "build", classmethod(counting_build))
    monkeypatch.setattr(zonal, "coverage_cache", zonal.CoverageCache())
    return calls


def _layer(wide: pd.DataFrame, dim: str, label, like: pd.DataFrame) -> pd.DataFrame:
    """One layer's rows of a wide many-layer table, laid out as ``like``."""
    part = wide[wide[dim] == label].drop(columns=dim)
    return part[like.columns]


def _same(part: pd.DataFrame, one: pd.DataFrame) -> None:
    assert list(part.index) == list(one.index)
    np.testing.assert_array_equal(part.to_numpy(), one.to_numpy())  # exact, NaN == NaN


# --------------------------------------------------------------------------- equal to one call each


@pytest.mark.parametrize("grid", list(GRIDS))
@pytest.mark.parametrize("kind", ["value", "class"])
def test_layers_equal_single_calls(banners, layers, grid, kind, builds):
    paths = layers[grid][kind]
    kwargs = {"categorical": True, "stats": ["count"]} if kind == "class" else {}
    stats = ["count", "mean", "area_mean", "min", "max", "stdev"] if kind == "value" else None
    if stats:
        kwargs["stats"] = stats
    wide = zonal_stats(banners, paths, layout="wide", **kwargs)
    assert len(builds) == 1  # one coverage for the three layers of one grid
    for path in paths:
        one = zonal_stats(banners, path, **kwargs)
        _same(_layer(wide, "layer", path.stem, one), one)
    assert len(builds) == 1  # and the single calls reuse it (process cache)


def test_two_grids_one_call(banners, layers, builds):
    paths = [layers["geographic"]["value"][0], layers["equal_area"]["value"][1],
             layers["geographic"]["value"][2]]  # fmt: skip
    wide = zonal_stats(banners, paths, ["count", "mean"], layout="wide")
    assert len(builds) == 2  # one coverage per grid
    assert {str(args[1].crs) for args in builds} == {"EPSG:4326", "EPSG:6933"}
    for path in paths:
        one = zonal_stats(banners, path, ["count", "mean"])
        _same(_layer(wide, "layer", path.stem, one), one)
    assert len(builds) == 2


def test_stack_built_once_and_warm_second_call(banners, layers, builds, tmp_path):
    stack = Stack.open(layers["geographic"]["class"])
    first = zonal_stats(banners, stack, categorical=True, stats=[])
    again = zonal_stats(banners, stack, categorical=True, stats=[])
    assert len(builds) == 1
    pd.testing.assert_frame_equal(first, again)
    assert set(first["year"]) == set(YEARS)
    # the tidy table holds the class fractions of every zone, year and class
    frac = first[first["stat"].str.startswith("fraction_")]
    sums = frac.groupby(["zone", "year"])["value"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0, rtol=1e-12)


def test_multiband_file(banners, layers, tmp_path):
    paths = layers["equal_area"]["value"]
    with rasterio.open(paths[0]) as src:
        profile = src.profile | {"count": 3}
    multi = tmp_path / "multi.tif"
    with rasterio.open(multi, "w", **profile) as dst:
        for b, path in enumerate(paths, start=1):
            with rasterio.open(path) as src:
                dst.write(src.read(1), b)
    wide = zonal_stats(banners, multi, ["mean"], bands=[3, 1], layout="wide")
    assert list(dict.fromkeys(wide["band"])) == [3, 1]
    for b in (3, 1):
        one = zonal_stats(banners, paths[b - 1], ["mean"])
        _same(_layer(wide, "band", b, one), one)


def test_long_layout_holds_the_wide_values(banners, layers):
    paths = layers["geographic"]["class"]
    wide = zonal_stats(banners, paths, ["count"], categorical=True, layout="wide")
    long = zonal_stats(banners, paths, ["count"], categorical=True)
    assert list(long.columns) == ["zone", "layer", "stat", "value"]
    back = long.pivot(index=["layer", "zone"], columns="stat", values="value")
    for path in paths:
        part = wide[wide["layer"] == path.stem].drop(columns="layer")
        np.testing.assert_array_equal(back.loc[path.stem][part.columns].to_numpy(), part.to_numpy())


# --------------------------------------------------------------------------- exactextract


@pytest.mark.parametrize("grid", list(GRIDS))
def test_layers_match_exactextract(banners, layers, grid):
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource, RasterioRasterSource

    values, classes = layers[grid]["value"], layers[grid]["class"]
    zones = banners.to_crs(GRIDS[grid][0])
    means = zonal_stats(zones, values, ["mean"], layout="wide")
    fracs = zonal_stats(zones, classes, ["count"], categorical=True, layout="wide")
    for path in values:
        ref = exact_extract(str(path), zones, ["mean"], output="pandas")["mean"].to_numpy()
        got = means[means["layer"] == path.stem]["mean"].to_numpy()
        np.testing.assert_allclose(got, ref, rtol=1e-9, atol=0)
    for path in classes:
        with rasterio.open(path) as ds:
            g = Grid.from_dataset(ds)
            area = np.repeat(g.row_cell_area_m2()[:, None], g.width, axis=1)
            weights = NumPyRasterSource(area, *ds.bounds, srs_wkt=ds.crs.wkt)
            ref = exact_extract(RasterioRasterSource(ds), zones, ["unique", "weighted_frac"],
                                weights=weights, output="pandas")  # fmt: skip
        part = fracs[fracs["layer"] == path.stem]
        worst = 0.0
        for i in range(len(zones)):
            for cls, frac in zip(ref["unique"][i], ref["weighted_frac"][i], strict=True):
                worst = max(worst, abs(part[f"fraction_{cls}"].iloc[i] - frac))
        assert worst <= 1e-9


# --------------------------------------------------------------------------- xarray


def _year_dataarray(paths):
    import rioxarray
    import xarray as xr

    arrays = [rioxarray.open_rasterio(p).sel(band=1, drop=True) for p in paths]
    return xr.concat(arrays, dim="year").assign_coords(year=list(YEARS))


@pytest.mark.parametrize("kind", ["value", "class"])
def test_dataarray_in(banners, layers, kind, builds):
    paths = layers["geographic"][kind]
    kwargs = {"categorical": True, "stats": ["count"]} if kind == "class" else {"stats": ["mean"]}
    wide = zonal_stats(banners, _year_dataarray(paths), layout="wide", **kwargs)
    for year, path in zip(YEARS, paths, strict=True):
        one = zonal_stats(banners, path, **kwargs)
        _same(_layer(wide, "year", year, one), one)
    assert len(builds) == 1  # the DataArray's grid is the files' grid: one coverage


def test_dask_dataarray_in(banners, layers):
    stack = Stack.open(layers["equal_area"]["value"])
    lazy = stack.to_dataarray(chunks=128)  # float64, NaN where no data, Dask-backed
    got = zonal_stats(banners, lazy, ["mean"], layout="wide")
    for year, path in zip(YEARS, stack.paths, strict=True):
        one = zonal_stats(banners, path, ["mean"])
        part = _layer(got, "year", year, one)
        np.testing.assert_allclose(part.to_numpy(), one.to_numpy(), rtol=1e-12, atol=1e-12)


def test_xarray_out(banners, layers):
    stack = Stack.open(layers["geographic"]["value"])
    ds = zonal_stats(banners, stack, ["mean", "count"], as_xarray=True)
    assert dict(ds.sizes) == {"zone": len(banners), "year": len(YEARS)}
    for year, path in zip(YEARS, stack.paths, strict=True):
        one = zonal_stats(banners, path, ["mean", "count"])
        np.testing.assert_array_equal(ds["mean"].sel(year=year).to_numpy(), one["mean"].to_numpy())
    wide = zonal_stats(banners, stack, ["mean"], layout="wide")
    again = zonal.to_xarray(wide)
    np.testing.assert_array_equal(again["mean"].to_numpy(), ds["mean"].to_numpy())
    single = zonal_stats(banners, stack.paths[0], ["mean"], as_xarray=True)
    assert dict(single.sizes) == {"zone": len(banners)}


# --------------------------------------------------------------------------- series


def test_zone_series_equals_yearly_calls(banners, layers, builds):
    stack = Stack.open(layers["equal_area"]["class"])
    table = zone_series(banners, stack, categorical=True, id_column="banner")
    assert len(builds) == 1
    for year, path in zip(YEARS, stack.paths, strict=True):
        one = zonal_stats(banners, path, (), categorical=True)
        rows = table[(table["year"] == year) & (table["class"] == 3)]
        np.testing.assert_array_equal(rows["area_km2"].to_numpy(), one["area_km2_3"].to_numpy())


# --------------------------------------------------------------------------- bad input


def test_missing_layer_named(banners, layers, tmp_path):
    gone = tmp_path / "ndvi_2004.tif"
    with pytest.raises(DataError, match=r"ndvi_2004\.tif"):
        zonal_stats(banners, [*layers["geographic"]["value"], gone], ["mean"])


def test_layer_without_crs_named(banners, layers, tmp_path):
    with rasterio.open(layers["geographic"]["value"][0]) as src:
        data, transform = src.read(1), src.transform
    bare = _write(tmp_path / "nocrs_2004.tif", data, None, transform, -9999)
    with pytest.raises(CRSError, match=r"nocrs_2004\.tif"):
        zonal_stats(banners, [layers["geographic"]["value"][0], bare], ["mean"])


def test_dataarray_without_crs(banners, layers):
    da = _year_dataarray(layers["geographic"]["value"])
    da = da.drop_vars("spatial_ref")
    da.attrs.pop("grid_mapping", None)
    da.encoding.pop("grid_mapping", None)
    with pytest.raises(CRSError, match="no CRS"):
        zonal_stats(banners, da, ["mean"])


def test_mixed_class_dtypes_named(banners, layers, tmp_path):
    with rasterio.open(layers["geographic"]["class"][0]) as src:
        data, transform = src.read(1).astype(np.int16), src.transform
    wide = _write(tmp_path / "lc_int16_2004.tif", data, "EPSG:4326", transform, 255)
    with pytest.raises(LayerError, match=r"lc_int16_2004.tif.*int16|int16.*lc_int16_2004"):
        zonal_stats(banners, [layers["geographic"]["class"][0], wide], categorical=True)


def test_float_class_layer_named(banners, layers):
    mixed = [layers["geographic"]["class"][0], layers["geographic"]["value"][1]]
    with pytest.raises(LayerError, match=re.escape(layers["geographic"]["value"][1].name)):
        zonal_stats(banners, mixed, categorical=True)


def test_bad_layer_arguments(banners, layers):
    with pytest.raises(UsageError, match="empty"):
        zonal_stats(banners, [], ["mean"])
    with pytest.raises(UsageError, match="layout"):
        zonal_stats(banners, layers["geographic"]["value"], ["mean"], layout="tall")
    with pytest.raises(UsageError, match="many layers"):
        zonal_stats(banners, layers["geographic"]["value"][0], ["mean"], layout="long")
    with pytest.raises(LayerError, match="band 4"):
        zonal_stats(banners, layers["geographic"]["value"][0], ["mean"], bands=[1, 4])


# --------------------------------------------------------------------------- warm by default


def test_every_entry_point_shares_the_process_cache(banners, layers, builds, monkeypatch):
    from geo import scale
    from geo.zonal import inputs

    digests = []
    original = inputs.zones_digest

    def counted(frame):
        digests.append(len(frame))
        return original(frame)

    monkeypatch.setattr(inputs, "zones_digest", counted)
    paths = layers["geographic"]["value"]
    first = zonal_stats(banners, paths[0], ["mean"])
    again = zonal_stats(banners, paths[0], ["mean"])  # the plain call, twice
    assert len(builds) == 1 and len(digests) == 2  # built once; hashed once per call
    pd.testing.assert_frame_equal(first, again)
    zonal_stats(banners, paths, ["mean"])  # many layers
    dask = scale.zonal_stats_dask(banners, paths[:1], ["mean"], scheduler="synchronous")
    assert len(builds) == 1 and len(digests) == 4
    np.testing.assert_array_equal(dask["mean"].to_numpy(), first["mean"].to_numpy())


# --------------------------------------------------------------------------- geographic rows


@pytest.mark.parametrize("dtype, nodata", [("uint8", 255), ("int8", -128)])
def test_geographic_class_rows_numpy_and_compiled_identical(banners, tmp_path, dtype, nodata):
    # Rows of unequal area: counts per row, one multiplication per row and class; the
    # compiled kernel and the numpy path add the same terms in the same order.
    pytest.importorskip("numba")
    _, west, north, cell, w, h = GRIDS["geographic"]
    rng = np.random.default_rng(5)
    data = rng.integers(-3 if dtype == "int8" else 0, 9, (h, w)).astype(dtype)
    data[rng.random((h, w)) < 0.1] = nodata
    path = _write(tmp_path / "cls.tif", data, "EPSG:4326", from_origin(west, north, cell, cell),
                  nodata)  # fmt: skip
    for kwargs, split in (
        ({"categorical": True, "nodata_values": (4,)}, 1 << 19),
        ({"categorical": True, "nodata_values": (4,)}, 1000),  # windows cut in two parts
        ({"stats": ["count", "median"], "categorical": True, "window_rows": 13}, 1000),
    ):
        with zonal.set_options(use_numba=False, hist_split_cells=split):
            slow = zonal_stats(banners, path, **kwargs)
        with zonal.set_options(hist_split_cells=split):
            fast = zonal_stats(banners, path, **kwargs)
        pd.testing.assert_frame_equal(slow, fast, check_exact=True)
        area = slow[[c for c in slow if c.startswith("area_km2_")]].sum(axis=1)
        np.testing.assert_allclose(area, slow["valid_area_km2"], rtol=1e-12)
        if "nodata_values" in kwargs:  # a nodata value is never a class
            assert "area_km2_4" not in slow
