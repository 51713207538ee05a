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


# --- the vectorised kernel (geo.trendkernel): exact Sen median and tie sums on hard cases ---


def _pairwise_median(y, t):
    """Independent Sen slope: numpy.median of every pairwise slope of the valid years."""
    ok = ~np.isnan(y)
    y, t = y[ok], t[ok]
    i, j = np.triu_indices(len(y), 1)
    return float(np.median((y[j] - y[i]) / (t[j] - t[i])))


def _tie_term(y):
    """Independent Σ t(t−1)(2t+5) over groups of equal valid values."""
    _, counts = np.unique(y[~np.isnan(y)], return_counts=True)
    return float(np.sum(counts * (counts - 1) * (2 * counts + 5)))


def _check_against_numpy(values, years, min_years=3):
    got = trends.mann_kendall(values, years, min_years=min_years)
    for i in range(values.shape[1]):
        y = values[:, i].astype("float64")
        n = int((~np.isnan(y)).sum())
        assert got.n[i] == n
        if n < min_years:
            assert np.isnan(got.slope[i]) and np.isnan(got.p[i])
            continue
        assert got.slope[i] == _pairwise_median(y, np.asarray(years, "float64")), i
        ok = y[~np.isnan(y)]
        d = ok[None, :] - ok[:, None]
        assert got.s[i] == np.sign(d[np.triu_indices(n, 1)]).sum()
        var = (n * (n - 1) * (2 * n + 5) - _tie_term(y)) / 18
        if got.s[i] != 0 and var > 0:
            z = (got.s[i] - np.sign(got.s[i])) / np.sqrt(var)
            assert got.z[i] == pytest.approx(z, rel=1e-12)
    return got


@pytest.mark.parametrize("steps", [3, 4, 7, 25, 40])
def test_kernel_median_equals_numpy_median_with_ties_and_gaps(steps):
    """Random pixels (more than one lane group, a partial last group): heavy rounding makes
    many equal values and equal slopes; a fifth of the years missing at random."""
    rng = np.random.default_rng(steps)
    pixels = 333
    years = np.arange(1990, 1990 + steps)
    values = np.round(rng.normal(0, 1, (steps, pixels)) + 0.05 * years[:, None], 0)
    values[rng.random(values.shape) < 0.2] = np.nan
    _check_against_numpy(values, years)


def test_kernel_median_on_constant_flat_and_stepped_series():
    """Constant series (every slope 0, every value tied), one outlier, two-level steps,
    strictly increasing, and a series whose slopes are all equal except one."""
    steps = 12
    years = np.arange(2000, 2000 + steps)
    cols = [
        np.full(steps, 0.4),
        np.r_[np.full(steps - 1, 0.4), 9.0],
        np.repeat([0.1, 0.2], steps // 2),
        np.arange(steps) * 0.25,
        np.r_[np.arange(steps - 1) * 0.5, 100.0],
        -np.arange(steps) * 1e-7,
    ]
    values = np.stack(cols, axis=1)
    got = _check_against_numpy(values, years)
    assert got.slope[0] == 0 and got.s[0] == 0 and got.p[0] == 1.0
    assert got.slope[3] == 0.25


def test_kernel_uneven_years_and_gaps_use_real_spacing():
    """Irregular years (a missing decade) and per-pixel gaps: slopes use the real spacing."""
    rng = np.random.default_rng(5)
    years = np.array([1985, 1986, 1990, 2000, 2001, 2002, 2010, 2011, 2015, 2020])
    values = np.round(0.3 + 0.01 * (years[:, None] - 1985) + rng.normal(0, 0.02, (10, 70)), 2)
    values[rng.random(values.shape) < 0.3] = np.nan
    values[:, 0] = np.nan  # no data at all
    values[:2, 1] = np.nan
    values[3:, 1] = np.nan  # one valid year
    _check_against_numpy(values, years, min_years=4)


def test_kernel_float32_blocks_equal_float64():
    """Stack blocks arrive as float32: the kernel computes in float64 from them."""
    rng = np.random.default_rng(9)
    values = np.round(rng.normal(0.4, 0.05, (25, 100)), 3).astype("float32")
    a = trends.mann_kendall(values, np.arange(2000, 2025))
    b = trends.mann_kendall(values.astype("float64"), np.arange(2000, 2025))
    for name in ("slope", "p", "z", "s", "n"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def _tiled_stack(folder, values, tile=64):
    """A stack of float32 layers in tiles of ``tile`` × ``tile`` cells, nodata −9999."""
    folder.mkdir()
    years, h, w = values.shape
    profile = dict(driver="GTiff", width=w, height=h, count=1, dtype="float32",
                   crs="EPSG:3857", transform=rasterio.transform.from_origin(0, 0, 100, 100),
                   nodata=-9999, tiled=True, blockxsize=tile, blockysize=tile)  # fmt: skip
    for k in range(years):
        with rasterio.open(folder / f"v_{2000 + k}.tif", "w", **profile) as dst:
            dst.write(values[k], 1)
    return Stack.open(folder)


@pytest.mark.parametrize("reuse", [False, True])
@pytest.mark.parametrize("budget", [None, 5 * 64 * 64 * 4 * 3])
def test_stack_blocks_follow_the_tiles_and_cover_the_grid_once(
    tmp_path, monkeypatch, budget, reuse
):
    """Blocks are whole rows of tiles (or, with a small budget, runs of 3 tiles): every cell
    is yielded once with its own value, nodata as NaN, and every window starts on a tile;
    the same when the blocks are read into two reused buffers (blocks of unequal sizes)."""
    import geo.stack

    if budget:
        monkeypatch.setattr(geo.stack, "BLOCK_BYTES", budget)
    rng = np.random.default_rng(3)
    values = rng.normal(0.4, 0.1, (5, 200, 330)).astype("float32")
    values[:, 10:20, 300:] = -9999
    stack = _tiled_stack(tmp_path / "s", values)
    seen = np.zeros(values.shape[1:], int)
    got = np.full(values.shape, -1.0, "float32")
    for window, block in stack.blocks(reuse=reuse):
        assert block.flags.c_contiguous
        assert window.row_off % 64 == 0 and window.col_off % 64 == 0
        r, c = (
            slice(window.row_off, window.row_off + window.height),
            slice(window.col_off, window.col_off + window.width),
        )
        seen[r, c] += 1
        got[:, r, c] = block
    assert (seen == 1).all()
    expect = np.where(values == -9999, np.nan, values)
    np.testing.assert_array_equal(got, expect)
    if budget:  # 5 layers × 64 rows × 3 tiles of float32 a block
        assert {w.width for w, _ in stack.blocks()} == {192, 330 - 192}


def test_trend_rasters_equal_in_tile_blocks_and_row_strips(tmp_path):
    """The tile-aligned default and strips of 7 rows give identical trend rasters."""
    rng = np.random.default_rng(4)
    years = 12
    values = (0.3 + 0.01 * np.arange(years)[:, None, None]
              + rng.normal(0, 0.02, (years, 130, 150))).astype("float32")  # fmt: skip
    stack = _tiled_stack(tmp_path / "s", values)
    a = trend_rasters(stack, tmp_path / "a")
    b = trend_rasters(stack, tmp_path / "b", rows=7)
    for name in ("slope", "p", "cls", "n"):
        pa, pb = getattr(a, name), getattr(b, name)
        with rasterio.open(pa) as x, rasterio.open(pb) as y:
            np.testing.assert_array_equal(x.read(), y.read())
