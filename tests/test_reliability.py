"""The catalogue of bad inputs: each gets a clear answer, nothing is lost, nothing is injected.

Every case goes through the ``barrier`` command: exit code 2 and one line naming the input and
the fix (no traceback), and no output file written — or, where carrying on is right, exit 0
with an explicit warning line.
"""

import contextlib
import os
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import boundaries, crs
from geo.errors import GeoError

SHIPPED_NDVI = boundaries.data_path("rasters", "ndvi_maximum_bess_0p05deg_im.tif")


def _raster(path, data=None, **changes):
    with rasterio.open(SHIPPED_NDVI) as src:
        profile, array = src.profile, src.read(1)
    profile.update(changes)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array if data is None else data, 1)
    return path


def _leagues():
    return boundaries.load("league")[["adcode", "name_zh", "name_en", "geometry"]]


@pytest.fixture
def bad(tmp_path):
    """Bad inputs made on the fly."""
    items = {}
    (tmp_path / "folder.tif").mkdir()
    items["folder"] = tmp_path / "folder.tif"
    png = tmp_path / "image.tif"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(300))
    items["image"] = png
    whole = SHIPPED_NDVI.read_bytes()
    trunc = tmp_path / "truncated.tif"
    trunc.write_bytes(whole[: len(whole) // 2])
    items["truncated"] = trunc
    items["nocrs_tif"] = _raster(tmp_path / "nocrs.tif", crs=None)
    items["elsewhere"] = _raster(
        tmp_path / "elsewhere.tif", transform=rasterio.transform.from_origin(0, 10, 0.05, 0.05)
    )
    empty = tmp_path / "empty.gpkg"
    _leagues().iloc[:0].to_file(empty, layer="zones")
    items["empty"] = empty
    nocrs = tmp_path / "nocrs.gpkg"
    gpd.GeoDataFrame(
        _leagues().drop(columns="geometry"), geometry=_leagues().geometry.to_numpy()
    ).to_file(nocrs)
    items["nocrs_gpkg"] = nocrs
    metres = tmp_path / "metres.gpkg"
    _leagues().to_crs(3857).set_crs(4326, allow_override=True).to_file(metres)
    items["metres"] = metres
    gcj = tmp_path / "gcj.gpkg"
    moved = _leagues().copy()
    moved.geometry = crs.transform_geometry(moved.geometry.values, crs.wgs84_to_gcj02)
    moved.to_file(gcj)
    items["gcj"] = gcj
    dupes = tmp_path / "dupes.gpkg"
    twice = _leagues().head(2).copy()
    twice["adcode"] = "150100"
    twice.to_file(dupes)
    items["dupes"] = dupes
    mixed = tmp_path / "mixed.geojson"
    gpd.GeoDataFrame(
        {"adcode": ["1", "2"]},
        geometry=[shapely.box(110, 40, 111, 41), shapely.Point(112, 42)],
        crs=4326,
    ).to_file(mixed)
    items["mixed"] = mixed
    nogeom = tmp_path / "nogeom.geojson"
    nogeom.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"adcode":"1"},'
        '"geometry":{"type":"Polygon","coordinates":[[[110,40],[111,40],[111,41],[110,40]]]}},'
        '{"type":"Feature","properties":{"adcode":"2"},"geometry":null}]}'
    )
    items["nogeom"] = nogeom
    return items


# (arguments with {name} placeholders, expected message) — each must exit 2 and write nothing
ERRORS = [
    (["--zones", "league", "--layer", "{tmp}/missing.tif"], "missing.tif does not exist"),
    (["--zones", "league", "--layer", "{folder}"], "is a folder, not a raster file"),
    (["--zones", "league", "--layer", "{image}"], "is a PNG image, not a GeoTIFF"),
    (["--zones", "league", "--layer", "{truncated}"], "truncated or corrupt"),
    (["--zones", "league", "--layer", "{nocrs_tif}"], "has no CRS; assign one"),
    (["--zones", "league", "--layer", "{elsewhere}"], "no zone overlaps raster"),
    (["--zones", "league", "--layer", "ndvi", "--layer", "nonsense"], "neither a shipped layer"),
    (["--zones", "{tmp}/nowhere.gpkg", "--layer", "ndvi"], "neither a level"),
    (["--zones", "{folder}", "--layer", "ndvi"], "is a folder, not a vector file"),
    (["--zones", "{image}", "--layer", "ndvi"], "not a readable vector file"),
    (["--zones", "{empty}", "--layer", "ndvi"], "holds no features"),
    (
        ["--zones", "{dupes}", "--zones-layer", "nope", "--layer", "ndvi"],
        "its layers are: dupes",
    ),
    (["--zones", "{nocrs_gpkg}", "--layer", "ndvi"], "no coordinate reference system"),
    (["--zones", "{metres}", "--layer", "ndvi"], "which are not degrees"),
    (["--zones", "{gcj}", "--layer", "ndvi"], "--source-crs gcj02"),
    (["--zones", "{dupes}", "--layer", "ndvi"], "repeat: 150100"),
    (["--zones", "{mixed}", "--layer", "ndvi"], "must hold polygons only"),
    (["--zones", "{nogeom}", "--layer", "ndvi"], "have no geometry"),
    (["--zones", "league", "--layer", "ndvi", "-o", "{tmp}/x.txt"], "cannot tell the format"),
]


@pytest.mark.parametrize(("args", "message"), ERRORS, ids=[m for _, m in ERRORS])
def test_bad_input_exit_2_nothing_written(barrier, tmp_path, bad, args, message):
    out = tmp_path / "result.csv"
    argv = ["stats"] + [a.format(tmp=tmp_path, **bad) for a in args]
    if "-o" not in argv:
        argv += ["-o", str(out)]
    code, _, err = barrier(*argv)
    assert code == 2, err
    assert message in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("barrier stats: error:")
    assert "Traceback" not in err
    assert not out.exists() and not (tmp_path / "x.txt").exists()
    assert not list(tmp_path.glob(".*.part*"))


def test_gcj02_file_accepted_with_source_crs(barrier, tmp_path, bad):
    out = tmp_path / "r.csv"
    code, _, err = barrier(
        "stats",
        "--zones",
        bad["gcj"],
        "--source-crs",
        "gcj02",
        "--layer",
        "landcover",
        "--stat",
        "area",
        "--precision",
        "full",
        "-o",
        out,
    )
    assert code == 0, err
    direct = pd.read_csv(out, dtype={"zone": str}).set_index("zone")
    code, _, _ = barrier(
        "stats",
        "--zones",
        "league",
        "--layer",
        "landcover",
        "--stat",
        "area",
        "--precision",
        "full",
        "-o",
        tmp_path / "l.csv",
    )
    shipped = pd.read_csv(tmp_path / "l.csv", dtype={"adcode": str}).set_index("adcode")
    col = "landcover_area_km2_10"
    assert direct.loc[shipped.index, col].to_numpy() == pytest.approx(
        shipped[col].to_numpy(), rel=1e-6
    )


def test_partial_raster_is_an_explicit_warning(barrier, tmp_path):
    with rasterio.open(SHIPPED_NDVI) as src:
        profile, array = src.profile, src.read(1)
    profile.update(width=200)
    part = tmp_path / "west.tif"
    with rasterio.open(part, "w", **profile) as dst:
        dst.write(array[:, :200], 1)
    code, _, err = barrier("stats", "--zones", "league", "--layer", part, "-o", tmp_path / "o.csv")
    assert code == 0
    assert "warning:" in err and "partly outside raster" in err
    table = pd.read_csv(tmp_path / "o.csv", dtype={"adcode": str}).set_index("adcode")
    assert (table["west_outside_area_km2"] > 0).any()
    assert table.loc["150700", "west_count"] == 0 and np.isnan(table.loc["150700", "west_mean"])


def test_nan_and_inf_count_as_nodata(barrier, tmp_path):
    with rasterio.open(SHIPPED_NDVI) as src:
        array = src.read(1)
    poisoned = array.copy()
    poisoned[:, ::2] = np.nan
    poisoned[::3, 1::2] = np.inf
    path = _raster(tmp_path / "nan.tif", poisoned, nodata=None)
    clean = array.copy()
    clean[:, ::2] = -3000
    clean[::3, 1::2] = -3000
    ref = _raster(tmp_path / "ref.tif", clean, nodata=-3000)
    barrier(
        "stats",
        "--zones",
        "league",
        "--layer",
        path,
        "--stat",
        "mean",
        "--precision",
        "full",
        "-o",
        tmp_path / "a.csv",
    )
    barrier(
        "stats",
        "--zones",
        "league",
        "--layer",
        ref,
        "--stat",
        "mean",
        "--precision",
        "full",
        "-o",
        tmp_path / "b.csv",
    )
    a = pd.read_csv(tmp_path / "a.csv")
    b = pd.read_csv(tmp_path / "b.csv")
    assert a["nan_mean"].to_numpy() == pytest.approx(b["ref_mean"].to_numpy(), rel=1e-12)


def test_undeclared_fill_value_is_warned_and_fixable(barrier, tmp_path):
    with rasterio.open(SHIPPED_NDVI) as src:
        array = src.read(1)
    array[:100] = -9999.0
    path = _raster(tmp_path / "fill.tif", array, nodata=None)
    code, _, err = barrier("stats", "--zones", "league", "--layer", path, "-o", tmp_path / "a.csv")
    assert code == 0 and "declares no nodata" in err and "--nodata -9999" in err
    code, _, err = barrier(
        "stats",
        "--zones",
        "league",
        "--layer",
        path,
        "--nodata",
        "-9999",
        "-o",
        tmp_path / "b.csv",
    )
    fixed = pd.read_csv(tmp_path / "b.csv")
    assert fixed["fill_mean"].between(-1, 1).all()


def test_gbk_shapefile_without_cpg(barrier, tmp_path):
    shp = tmp_path / "gbk.shp"
    _leagues().rename(columns={"name_zh": "name"}).drop(columns="name_en").to_file(
        shp, encoding="GBK"
    )
    shp.with_suffix(".cpg").unlink()
    out = tmp_path / "o.csv"
    code, _, err = barrier("stats", "--zones", shp, "--layer", "ndvi_max", "-o", out)
    assert code == 0, err
    assert "GB18030" in err and "warning" in err
    assert "锡林郭勒盟" in pd.read_csv(out).name_zh.tolist()


def test_self_intersecting_polygon_is_repaired_with_warning(barrier, tmp_path):
    bowtie = shapely.Polygon([(110, 40), (112, 42), (112, 40), (110, 42), (110, 40)])
    path = tmp_path / "bowtie.geojson"
    gpd.GeoDataFrame({"zone": ["x"]}, geometry=[bowtie], crs=4326).to_file(path)
    out = tmp_path / "o.csv"
    code, _, err = barrier("stats", "--zones", path, "--layer", "ndvi_max", "-o", out)
    assert code == 0 and "invalid polygon" in err and "make_valid" in err
    assert pd.read_csv(out).ndvi_max_count.iloc[0] > 0


def test_unwritable_output_fails_before_work(barrier, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = barrier("stats", "--zones", "league", "--layer", "ndvi", "-o", blocker / "o.csv")
    assert code == 2 and "not a folder" in err


def test_html_injection_in_names_is_escaped(tmp_path):
    from geo import report

    evil = _leagues().head(2).copy()
    evil["name_zh"] = ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>"]
    evil["name_en"] = evil["name_zh"]
    path = tmp_path / "evil.geojson"
    evil.to_file(path)
    out = report.build_report(tmp_path / "rep", zones_file=path, cache=tmp_path / "c")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    for html_file in (out / "maps").glob("*.html"):
        assert "<script>alert(1)</script>" not in html_file.read_text(encoding="utf-8")


# ---- properties and fuzzing ---------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.floats(97, 126.5), st.floats(37, 54))
def test_gcj02_round_trip_property(lon, lat):
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    wlon, wlat = crs.gcj02_to_wgs84(glon, glat)
    assert abs(wlon - lon) < 1e-9 and abs(wlat - lat) < 1e-9


@settings(max_examples=25, deadline=None)
@given(st.floats(100, 120), st.floats(38, 50), st.floats(0.01, 3), st.floats(0.01, 3))
def test_coverage_weights_in_unit_interval(x, y, w, h):
    from geo.grid import Grid
    from geo.zonal import Coverage

    with rasterio.open(SHIPPED_NDVI) as src:
        grid = Grid.from_dataset(src)
    zone = gpd.GeoDataFrame(geometry=[shapely.box(x, y, x + w, y + h)], crs=4326)
    cov = Coverage.build(zone, grid)
    assert ((cov.cell_weight > 0) & (cov.cell_weight <= 1 + 1e-12)).all()


def _mutations(data: bytes, rng: np.random.Generator, n: int):
    for _ in range(n):
        buf = bytearray(data)
        kind = rng.integers(3)
        if kind == 0 and buf:  # flip bytes
            for i in rng.integers(0, len(buf), size=rng.integers(1, 20)):
                buf[i] = rng.integers(256)
        elif kind == 1:  # truncate
            buf = buf[: rng.integers(0, max(len(buf), 1))]
        else:  # random garbage
            buf = bytearray(
                rng.integers(0, 256, size=rng.integers(0, 2000), dtype=np.uint8).tobytes()
            )
        yield bytes(buf)


def test_fuzz_membership_csv(tmp_path):
    from geo import zones

    valid = boundaries.data_path("zones", "battle_zones.csv").read_bytes()
    rng = np.random.default_rng(20261123)
    for i, data in enumerate(_mutations(valid, rng, 60)):
        path = tmp_path / f"m{i}.csv"
        path.write_bytes(data)
        with contextlib.suppress(GeoError):
            zones.membership(path)


def test_fuzz_vector_reader(tmp_path):
    from geo.vectors import read_polygons

    src = tmp_path / "valid.geojson"
    _leagues().head(3).to_file(src)
    valid = src.read_bytes()
    rng = np.random.default_rng(7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, data in enumerate(_mutations(valid, rng, 40)):
            path = tmp_path / f"v{i}.geojson"
            path.write_bytes(data)
            try:
                read_polygons(path)
            except GeoError:
                pass
            finally:
                os.unlink(path)


def test_scaled_integer_ndvi_needs_its_scale(barrier, tmp_path):
    with rasterio.open(SHIPPED_NDVI) as src:
        array = src.read(1)
    valid = np.isfinite(array) & (array != -3000)
    scaled = np.where(valid, np.round(np.nan_to_num(array) * 10000), -32768).astype("int16")
    path = _raster(tmp_path / "ndvi_int16.tif", scaled, dtype="int16", nodata=-32768)
    out = tmp_path / "rep"
    args = ["report", "--out", out, "--ndvi", path, "--tables-only", "--cache", tmp_path / "c"]
    code, _, err = barrier(*args)
    assert code == 2 and "outside [-1, 1]" in err and "with --ndvi-scale/--ndvi-offset" in err
    assert "layers.toml" not in err  # the user's own file: the fix is the option, not our catalogue
    assert not out.exists()
    code, _, err = barrier(*args, "--ndvi-scale", "0.0001")
    assert code == 0, err
    own = pd.read_parquet(out / "tables" / "indicators_league.parquet").fvc_mean_pct
    code, _, _ = barrier(
        "report", "--out", tmp_path / "ref", "--tables-only", "--cache", tmp_path / "c"
    )
    ref = pd.read_parquet(tmp_path / "ref" / "tables" / "indicators_league.parquet").fvc_mean_pct
    assert own.to_numpy() == pytest.approx(ref.to_numpy(), abs=0.05)  # 1e-4 NDVI quantisation


def test_malformed_membership_csv_names_the_line(barrier, tmp_path):
    rows = (
        boundaries.data_path("zones", "battle_zones.csv").read_text(encoding="utf-8").splitlines()
    )
    bad = tmp_path / "members.csv"
    bad.write_text(
        "\n".join(
            [
                *rows[:3],
                rows[3]
                .replace(",high", ",certain")
                .replace(",medium", ",certain")
                .replace(",low", ",certain"),
            ]
        ),
        encoding="utf-8",
    )
    out = tmp_path / "o.csv"
    code, _, err = barrier(
        "stats", "--zones", "battle", "--membership", bad, "--layer", "fvc", "-o", out
    )
    assert code == 2 and "line 4" in err and "Traceback" not in err
    assert not out.exists()


def test_unclosed_ring(barrier, tmp_path):
    path = tmp_path / "open.geojson"
    path.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"zone":"u"},'
        '"geometry":{"type":"Polygon","coordinates":[[[110,40],[111,40],[111,41],[110,41]]]}}]}'
    )
    code, _, err = barrier(
        "stats", "--zones", path, "--layer", "ndvi_max", "-o", tmp_path / "o.csv"
    )
    assert code == 2 and "not closed" in err
    assert not (tmp_path / "o.csv").exists()


def test_full_disk_through_the_cli(barrier, tmp_path, monkeypatch):
    import errno

    real_replace = os.replace

    def full(src, dst):
        if str(dst).endswith(".csv"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", full)
    out = tmp_path / "o.csv"
    code, _, err = barrier("stats", "--zones", "league", "--layer", "ndvi", "-o", out)
    assert code == 2 and "no space left" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_wrong_declared_nodata_is_warned(barrier, tmp_path):
    with rasterio.open(SHIPPED_NDVI) as src:
        array = src.read(1)
    array[:100] = -9999.0  # the real fill, while the file declares -3000
    path = _raster(tmp_path / "wrong.tif", array, nodata=-3000)
    code, _, err = barrier("stats", "--zones", "league", "--layer", path, "-o", tmp_path / "a.csv")
    assert code == 0 and "declares nodata -3000" in err and "--nodata -9999" in err
