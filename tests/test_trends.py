"""Per-pixel trends on SYNTHETIC stacks with known trends, checked against scipy and pymannkendall,
and per-zone class areas against exactextract."""

import numpy as np
import pytest
import rasterio
from scipy import stats

from geo import testing, trends
from geo.errors import DataError, UsageError
from geo.stack import Stack, parse_years
from geo.trendmaps import trend_rasters, zone_summary

mk = pytest.importorskip("pymannkendall")

YEARS = np.arange(2000, 2021)


def _synthetic_series(rng, pixels, gaps=0.1):
    """Known trends: a third rising 0.02/yr, a third falling 0.015/yr, a third flat; noise,
    rounding (ties) and missing years."""
    T = len(YEARS)
    slope = np.repeat([0.02, -0.015, 0.0], -(-pixels // 3))[:pixels]
    values = 0.4 + slope * (YEARS - YEARS[0])[:, None] + rng.normal(0, 0.02, (T, pixels))
    values = np.round(values, 2)
    values[rng.random(values.shape) < gaps] = np.nan
    return values, slope


@pytest.mark.parametrize("autocorrelation", [False, True])
def test_synthetic_known_trend_matches_pymannkendall_and_scipy(autocorrelation):
    rng = np.random.default_rng(7)
    values, _ = _synthetic_series(rng, 600)
    got = trends.mann_kendall(values, YEARS, autocorrelation=autocorrelation)
    test = mk.hamed_rao_modification_test if autocorrelation else mk.original_test
    for i in range(0, 600, 7):
        y = values[:, i]
        ok = ~np.isnan(y)
        ref = test(y)
        assert got.s[i] == ref.s
        assert got.z[i] == pytest.approx(ref.z, abs=1e-9)
        assert got.p[i] == pytest.approx(ref.p, abs=1e-9)
        assert got.slope[i] == pytest.approx(stats.theilslopes(y[ok], YEARS[ok])[0], abs=1e-12)
        assert got.n[i] == ok.sum()


def test_synthetic_known_trend_classes_recover_the_sign():
    rng = np.random.default_rng(3)
    values, slope = _synthetic_series(rng, 900, gaps=0.05)
    got = trends.mann_kendall(values, YEARS)
    cls = trends.classify(got.slope, got.p, 0.05)
    assert (cls[slope > 0] == trends.IMPROVING).mean() > 0.99
    assert (cls[slope < 0] == trends.DEGRADING).mean() > 0.99
    # flat pixels: about alpha of them significant by chance
    assert (cls[slope == 0] == trends.STABLE).mean() > 0.9


def test_gaps_use_real_year_spacing_and_min_years():
    y = np.array([1.0, np.nan, np.nan, 4.0, 5.0, np.nan, 7.0])
    got = trends.mann_kendall(y[:, None], np.arange(2000, 2007), min_years=4)
    assert got.slope[0] == pytest.approx(1.0)  # 1 per year although three years are missing
    assert got.n[0] == 4
    short = trends.mann_kendall(y[:, None], np.arange(2000, 2007), min_years=5)
    assert np.isnan(short.slope[0]) and np.isnan(short.p[0]) and short.n[0] == 4
    assert trends.classify(short.slope, short.p)[0] == trends.NO_DATA


def test_exact_hand_values_of_a_tiny_series():
    # 1 2 3 2: pairs +1 +1 +1 +1 0 -1 → S = 3, no ties in pairs but value 2 twice (one tie
    # group of 2): Var = (4·3·13 − 2·1·9)/18 = 138/18; Z = (3 − 1)/√(138/18)
    got = trends.mann_kendall(
        np.array([[1.0], [2.0], [3.0], [2.0]]), [2000, 2001, 2002, 2003], min_years=3
    )
    assert got.s[0] == 3
    assert got.z[0] == pytest.approx(2 / np.sqrt(138 / 18), rel=1e-15)
    # slopes: 1, 2/2, 1/3, 1, 0, -1 → sorted -1 0 1/3 1 1 1 → median (1/3 + 1)/2
    assert got.slope[0] == pytest.approx((1 / 3 + 1) / 2)


def test_bad_arguments_are_usage_errors():
    with pytest.raises(UsageError, match="min_years"):
        trends.mann_kendall(np.ones((5, 2)), range(2000, 2005), min_years=2)
    with pytest.raises(UsageError, match="increase"):
        trends.mann_kendall(np.ones((3, 2)), [2001, 2000, 2002])
    with pytest.raises(UsageError, match="one layer per year"):
        trends.mann_kendall(np.ones((3, 2)), [2000, 2001])
    with pytest.raises(UsageError, match="run backwards"):
        parse_years("2020-2010")


def _write_stack(folder, values, cell=1000.0):
    folder.mkdir()
    for k, year in enumerate(YEARS):
        band = np.where(np.isnan(values[k]), -9999, values[k]).astype("float32")
        testing.write_raster(
            folder / f"ndvi_{year}.tif", band, cell=cell, crs="EPSG:6933", nodata=-9999
        )
    return folder


def test_stack_from_folder_orders_years_and_refuses_mixed_grids(tmp_path):
    rng = np.random.default_rng(0)
    values, _ = _synthetic_series(rng, 12)
    folder = _write_stack(tmp_path / "s", values.reshape(len(YEARS), 3, 4))
    stack = Stack.open(folder)
    assert stack.years == tuple(YEARS)
    assert Stack.open(folder, "2005-2009").years == (2005, 2006, 2007, 2008, 2009)
    testing.write_raster(folder / "ndvi_2030.tif", np.ones((3, 5), "float32"), crs="EPSG:6933")
    with pytest.raises(DataError, match=r"ndvi_2030\.tif is on another grid"):
        Stack.open(folder)


def test_stack_file_without_year_is_named(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    testing.write_raster(folder / "ndvi_2001.tif", np.ones((2, 2), "float32"))
    testing.write_raster(folder / "ndvi_final.tif", np.ones((2, 2), "float32"))
    with pytest.raises(DataError, match=r"ndvi_final\.tif has no year"):
        Stack.open(folder)


def test_trend_rasters_equal_the_kernel_and_zone_areas_match_exactextract(tmp_path):
    rng = np.random.default_rng(11)
    rows, cols = 30, 40
    values, _ = _synthetic_series(rng, rows * cols)
    values = values.reshape(len(YEARS), rows, cols)
    values[:, :5, :5] = np.nan  # a corner without data
    folder = _write_stack(tmp_path / "stack", values)
    files = trend_rasters(Stack.open(folder), tmp_path / "out", rows=7)  # several blocks
    direct = trends.mann_kendall(values.astype("float32").astype("float64"), YEARS)
    with rasterio.open(files.slope) as src:
        np.testing.assert_array_equal(src.read(1), direct.slope.astype("float32"))
    with rasterio.open(files.cls) as src:
        cls = src.read(1)
    np.testing.assert_array_equal(cls, trends.classify(direct.slope, direct.p))
    assert (cls[:5, :5] == trends.NO_DATA).all()

    zones = testing.box_zones(
        {"west": (0, 0, 17_500, 30_000), "east": (17_500, 3_300, 40_000, 30_000)}, crs="EPSG:6933"
    ).set_index("zone", drop=False)
    table = zone_summary(zones, files)
    ref = testing.exact_reference(zones, files.cls, ["count", "unique", "frac"])
    for i, row in ref.iterrows():
        shares = dict(zip(row["unique"], row["frac"], strict=True))
        for code, word in ((1, "degrading"), (2, "stable"), (3, "improving")):
            expected = shares.get(code, 0.0) * row["count"]  # 1 km² cells
            assert table[f"{word}_km2"].iloc[i] == pytest.approx(expected, rel=1e-6)
            assert table[f"{word}_mu"].iloc[i] == pytest.approx(expected * 1500, rel=1e-6)
    pct = table[["improving_pct", "stable_pct", "degrading_pct"]].sum(axis=1)
    np.testing.assert_allclose(pct, 100.0)


def test_synthetic_stack_on_dask_equals_in_process(tmp_path):
    pytest.importorskip("rioxarray")
    rng = np.random.default_rng(21)
    rows, cols = 24, 18
    values, _ = _synthetic_series(rng, rows * cols)
    folder = _write_stack(tmp_path / "stack", values.reshape(len(YEARS), rows, cols))
    stack = Stack.open(folder)
    files = trend_rasters(stack, tmp_path / "out", autocorrelation=True)
    lazy = trends.trend_dataset(stack.to_dataarray(chunks=7), autocorrelation=True)
    assert lazy.slope.chunks is not None  # computed chunk by chunk
    with rasterio.open(files.slope) as src:
        np.testing.assert_array_equal(lazy.slope.values.astype("float32"), src.read(1))
    with rasterio.open(files.cls) as src:
        np.testing.assert_array_equal(lazy.trend_class.values, src.read(1))
    assert lazy.attrs["years"] == f"{YEARS[0]}-{YEARS[-1]}"
