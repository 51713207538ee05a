"""Reliability round two: change, derived layers, sensitivity table, report layers, names.

Every case goes through the ``barrier`` command and checks numbers computed independently
(shapely areas of boxes on an equal-area grid, numpy on known arrays).
"""

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from geo.testing import run_cli, write_raster

CRS = "EPSG:6933"  # equal-area: a 1 km cell is exactly 1 km²


def _write(path, data, nodata, *, crs=CRS, **extra):
    return write_raster(path, data, nodata=nodata, crs=crs, **extra)


def _transitions(barrier, zones, before, after):
    """``barrier change --categorical`` as JSON: (exit code, stdout, stderr)."""
    args = ["--zones", zones, "--before", before, "--after", after, "--format", "json"]
    return barrier("change", *args, "--categorical")


def _zones(path, boxes, crs=CRS):
    frame = gpd.GeoDataFrame(
        {"zone": [f"z{k}" for k in range(len(boxes))]},
        geometry=[shapely.box(*b) for b in boxes],
        crs=crs,
    )
    frame.to_file(path)
    return path


# --------------------------------------------------------------------------- change


def test_transition_255_to_255_is_kept(barrier, tmp_path):
    """255→255 was coded 65535 = the nodata of the temporary transition raster: lost."""
    before = np.zeros((10, 10), np.uint8)
    after = np.zeros((10, 10), np.uint8)
    before[2:6, 3:8] = 255  # rows 2–5, columns 3–7 (cells of 1 km²)
    after[2:6, 3:8] = 255
    after[0, 0] = 7  # a 0 → 7 transition
    b = _write(tmp_path / "b.tif", before, None)
    a = _write(tmp_path / "a.tif", after, None)
    # the zone cuts the 255 block: columns 3–7 × y 4.5–8 km (rows 2–5 are y 4–8 km)
    box = (2500, 4500, 7500, 10000)
    z = _zones(tmp_path / "z.gpkg", [box])
    out = tmp_path / "t.csv"
    code, _, err = barrier(
        "change", "--zones", z, "--before", b, "--after", a, "--categorical", "-o", out
    )
    assert code == 0, err
    t = pd.read_csv(out).set_index(["from_class", "to_class"])["area_km2"]
    block = shapely.box(3000, 4000, 8000, 8000)  # the 255 cells
    zone = shapely.box(*box)
    expected = zone.intersection(block).area / 1e6
    assert t[(255, 255)] == pytest.approx(expected)  # 3.5 rows × 5 columns = 17.5 km²
    assert (0, 7) not in t.index  # the 0 → 7 cell (x 0–1 km) lies outside the zone
    assert t[(0, 0)] == pytest.approx(zone.area / 1e6 - expected)
    assert t.sum() == pytest.approx(zone.intersection(shapely.box(0, 0, 10000, 10000)).area / 1e6)


def test_transition_of_16bit_classes(barrier, tmp_path):
    """16-bit class rasters were refused ("needs 8-bit"); their classes are kept as stored."""
    before = np.full((6, 6), 1000, np.uint16)
    after = np.full((6, 6), 1000, np.uint16)
    after[:, 3:] = 65535  # a class value, not nodata (nodata is 0 here)
    before[0, :] = 0  # nodata in the first epoch: left out
    b = _write(tmp_path / "b.tif", before, 0)
    a = _write(tmp_path / "a.tif", after, 0)
    z = _zones(tmp_path / "z.gpkg", [(0, 0, 6000, 6000)])
    code, out, err = _transitions(barrier, z, b, a)
    assert code == 0, err
    rows = {
        (r["from_class"], r["to_class"]): r["area_km2"]
        for r in pd.DataFrame(json.loads(out)).to_dict("records")
    }
    assert rows == {(1000, 1000): pytest.approx(15.0), (1000, 65535): pytest.approx(15.0)}


def test_transition_of_signed_8bit_classes(barrier, tmp_path):
    """int8 classes −128 … 127 (the old code wrapped −1 to 65535 = its nodata)."""
    before = np.full((4, 4), -1, np.int8)
    after = np.full((4, 4), -1, np.int8)
    after[:2] = 127
    after[3, 3] = -128  # the declared nodata: left out
    b = _write(tmp_path / "b.tif", before, None)
    a = _write(tmp_path / "a.tif", after, -128)
    z = _zones(tmp_path / "z.gpkg", [(0, 0, 4000, 4000)])
    code, out, err = _transitions(barrier, z, b, a)
    assert code == 0, err
    rows = {(r["from_class"], r["to_class"]): r["area_km2"] for r in json.loads(out)}
    assert rows == {(-1, -1): pytest.approx(7.0), (-1, 127): pytest.approx(8.0)}


def test_too_many_classes_is_one_line(barrier, tmp_path):
    data = np.arange(400, dtype=np.uint16).reshape(20, 20)
    b = _write(tmp_path / "b.tif", data, None)
    z = _zones(tmp_path / "z.gpkg", [(0, 0, 20000, 20000)])
    code, out, err = barrier("change", "--zones", z, "--before", b, "--after", b, "--categorical")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "b.tif" in err and "256" in err


def test_float_class_raster_is_refused(barrier, tmp_path):
    data = np.ones((4, 4), np.float32)
    b = _write(tmp_path / "b.tif", data, None)
    z = _zones(tmp_path / "z.gpkg", [(0, 0, 4000, 4000)])
    code, _, err = barrier("change", "--zones", z, "--before", b, "--after", b, "--categorical")
    assert code == 2 and "b.tif is float32" in err and "Traceback" not in err


def test_transition_zone_batches_give_the_same_numbers(tmp_path, monkeypatch):
    """Zones are split into batches to stay within the memory budget: same numbers."""
    from geo import change

    rng = np.random.default_rng(3)
    before = rng.integers(0, 4, (30, 30), dtype=np.uint8)
    after = rng.integers(0, 4, (30, 30), dtype=np.uint8)
    b = _write(tmp_path / "b.tif", before, None)
    a = _write(tmp_path / "a.tif", after, None)
    boxes = [(k * 3000 + 500, 1000, k * 3000 + 3500, 29000) for k in range(9)]
    zones = gpd.GeoDataFrame(geometry=[shapely.box(*x) for x in boxes], crs=CRS)
    whole = change.transition_matrix(zones, b, a)
    monkeypatch.setattr(change, "MEMORY_BUDGET_BYTES", 2 * change._BYTES_PER_ZONE)
    assert len(change._zone_batches(9)) == 5
    batched = change.transition_matrix(zones, b, a)
    pd.testing.assert_frame_equal(whole, batched)
    # independent: zone 0 covers columns 0.5–3.5, rows 1–29 (y 1–29 km: rows 1..28)
    w = np.zeros((30, 30))
    w[1:29, 0] = 0.5
    w[1:29, 1:3] = 1.0
    w[1:29, 3] = 0.5
    w = w[::-1]  # row 0 is the top (y = 30 km); the box is symmetric, so only for clarity
    ref = {}
    for i, j, wt in zip(before.ravel(), after.ravel(), w.ravel(), strict=True):
        if wt:
            ref[(int(i), int(j))] = ref.get((int(i), int(j)), 0.0) + wt
    got = whole[whole.zone == 0].set_index(["from_class", "to_class"])["area_km2"].to_dict()
    assert got == pytest.approx(ref)


def _sparse(path, value, *, dtype="uint8", nodata=None):
    """A tiled sparse GeoTIFF declaring 60000 × 34000 cells with one 256² block written."""
    profile = {
        "driver": "GTiff",
        "width": 60000,
        "height": 34000,
        "count": 1,
        "dtype": dtype,
        "crs": CRS,
        "transform": from_origin(0, 5_000_000, 100, 100),  # 100 m cells: 0.01 km²
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "sparse_ok": True,
        "nodata": nodata,
        "compress": "deflate",
    }
    with rasterio.open(path, "w", **profile) as dst:
        block = np.full((256, 256), value, dtype=dtype)
        dst.write(block, 1, window=rasterio.windows.Window(512, 256, 256, 256))
    return path


@pytest.mark.parametrize("categorical", [True, False])
def test_sparse_huge_raster_is_streamed(barrier, tmp_path, categorical):
    """A 64 KB sparse TIFF declaring 2 billion cells: streamed, right numbers, no MemoryError."""
    b = _sparse(tmp_path / "b.tif", 3)
    a = _sparse(tmp_path / "a.tif", 5)
    assert b.stat().st_size < 1_000_000  # the tile index; no pixel data
    # a zone over part of the written block (columns 512–767, rows 256–511) and empty cells
    top = 5_000_000
    box = (60_000, top - 40_050, 90_000, top - 30_000)
    z = _zones(tmp_path / "z.gpkg", [box])
    args = ["change", "--zones", z, "--before", b, "--after", a, "--format", "json"]
    code, out, err = barrier(*args, *(["--categorical"] if categorical else []))
    assert code == 0, err
    rows = pd.DataFrame(json.loads(out))
    zone = shapely.box(*box)
    block = shapely.box(51_200, top - 51_200, 76_800, top - 25_600)
    inside = zone.intersection(block).area / 1e6
    if categorical:
        t = rows.set_index(["from_class", "to_class"])["area_km2"]
        assert t[(3, 5)] == pytest.approx(inside)
        assert t[(0, 0)] == pytest.approx(zone.area / 1e6 - inside)
    else:
        # unwritten blocks read as 0 (no nodata): mean = share of the block × value
        share = inside / (zone.area / 1e6)
        assert rows.loc[0, "mean_before"] == pytest.approx(3 * share)
        assert rows.loc[0, "change"] == pytest.approx(2 * share)


@pytest.mark.parametrize("categorical", [True, False])
def test_sparse_huge_raster_beyond_the_budget_is_one_line(
    barrier, tmp_path, monkeypatch, categorical
):
    """A zone over all 2 billion declared cells: refused before any allocation, exit 2."""
    monkeypatch.setenv("GEO_BARRIER_MEMORY", "64M")
    b = _sparse(tmp_path / "b.tif", 3)
    a = _sparse(tmp_path / "a.tif", 5)
    z = _zones(tmp_path / "z.gpkg", [(0, 1_600_000, 6_000_000, 5_000_000)])
    out = tmp_path / "t.csv"
    args = ["change", "--zones", z, "--before", b, "--after", a, "-o", out]
    code, stdout, err = barrier(*args, *(["--categorical"] if categorical else []))
    assert code == 2 and stdout == "" and not out.exists()
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "b.tif" in err and "budget" in err and "GEO_BARRIER_MEMORY" in err


def test_memory_budget_must_be_a_number(barrier, tmp_path, monkeypatch):
    data = np.ones((4, 4), np.uint8)
    b = _write(tmp_path / "b.tif", data, None)
    z = _zones(tmp_path / "z.gpkg", [(0, 0, 4000, 4000)])
    monkeypatch.setenv("GEO_BARRIER_MEMORY", "lots")
    code, _, err = barrier("change", "--zones", z, "--before", b, "--after", b)
    assert code == 2 and "GEO_BARRIER_MEMORY='lots'" in err


def test_continuous_change_streamed_valid_in_both(barrier, tmp_path):
    rng = np.random.default_rng(5)
    before = rng.random((40, 40)).astype(np.float32)
    after = rng.random((40, 40)).astype(np.float32)
    before[5:9, :] = -9999.0
    after[:, 30:] = np.nan
    b = _write(tmp_path / "b.tif", before, -9999.0)
    a = _write(tmp_path / "a.tif", after, None)
    z = _zones(tmp_path / "z.gpkg", [(0, 0, 40000, 40000)])
    code, out, err = barrier(
        "change", "--zones", z, "--before", b, "--after", a, "--format", "json"
    )
    assert code == 0, err
    ok = (before != -9999.0) & np.isfinite(after)
    row = pd.DataFrame(json.loads(out)).iloc[0]
    assert row["mean_before"] == pytest.approx(before[ok].astype(float).mean())
    assert row["mean_after"] == pytest.approx(after[ok].astype(float).mean())
    assert row["valid_area_km2"] == pytest.approx(ok.sum())


# --------------------------------------------------------------------------- corrections


def _corrections(path, rows, fields=("layer", "value")):
    """A correction file: one 1°×1° box per row in Alxa (inside the region)."""
    data = {f: [r[k] for r in rows] for k, f in enumerate(fields)}
    boxes = [shapely.box(104 + k * 0.1, 39, 105 + k * 0.1, 40) for k in range(len(rows))]
    gpd.GeoDataFrame(data, geometry=boxes, crs=4326).to_file(path)
    return path


@pytest.mark.parametrize(
    ("rows", "fields", "message"),
    [
        ([("sandified", 0), ("sandified", 300)], None, "feature 2: value 300"),
        ([("sandified", -1)], None, "value -1"),
        ([("sandified", "abc")], None, "value 'abc' is not a number"),
        ([("landcover_cn", 2.5)], None, "value 2.5 is not a whole class code"),
        ([("landcover_cn", 9)], None, "is not a class of 'landcover_cn'"),
        ([("sandified", None)], None, "the 'value' field is empty"),
        ([("sandified", True)], None, "value True is a yes/no field"),
        ([("sandy", 0)], None, "'sandy' is not a derived layer; use one of"),
        ([(None, 0)], None, "the 'layer' field is empty"),
        ([("fvc", 150.0)], None, "value 150.0 is out of range"),
        ([("sandified", 0)], ("layer", "note"), "lacks the field(s) ['value']"),
    ],
)
def test_bad_correction_values_are_refused(barrier, tmp_path, rows, fields, message):
    """300 wrapped to class 44, −1 became nodata, "abc" gave a traceback: now exit 2."""
    fix = _corrections(tmp_path / "fix.gpkg", rows, fields or ("layer", "value"))
    out, cache = tmp_path / "rep", tmp_path / "cache"
    code, _, err = barrier(
        "report",
        "--out",
        out,
        "--cache",
        cache,
        "--tables-only",
        "--quiet",
        "--correction",
        fix,
    )
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "fix.gpkg" in err and message in err
    assert not out.exists() and not cache.exists()  # refused before any work
    if message.startswith(("feature", "value")):
        assert "takes one of its classes" in err or "takes a number" in err
    if "not a derived layer" in message:
        assert "sandified" in err and "landcover_cn" in err


# --------------------------------------------------------------------------- layer names


def _const(path, value, shape=(8, 8)):
    path.parent.mkdir(parents=True, exist_ok=True)
    return _write(path, np.full(shape, value, np.float32), -9999.0)


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx", "stdout-json"])
def test_layers_with_the_same_stem_get_unique_names(barrier, tmp_path, fmt):
    """a/x.tif, b/x.tif and a user ndvi_max.tif: unique columns, none dropped, no traceback."""
    ax, bx = _const(tmp_path / "a" / "x.tif", 1.0), _const(tmp_path / "b" / "x.tif", 2.0)
    user = _const(tmp_path / "c" / "ndvi_max.tif", 3.0)
    z = _zones(tmp_path / "z.gpkg", [(0, 0, 8000, 8000)])
    args = ["stats", "--zones", z, "--layer", ax, "--layer", bx, "--layer", user]
    args += ["--layer", ax, "--stat", "mean"]
    if fmt == "stdout-json":
        code, out, err = barrier(*args, "--format", "json")
        assert code == 0, err
        row = json.loads(out)[0]
    else:
        target = tmp_path / f"t.{fmt}"
        code, out, err = barrier(*args, "-o", target)
        assert code == 0, err
        read = {"json": pd.read_json, "csv": pd.read_csv, "xlsx": pd.read_excel}[fmt]
        row = read(target).iloc[0].to_dict()
    means = {k: v for k, v in row.items() if k.endswith("_mean")}
    assert means == {"a_x_mean": 1.0, "b_x_mean": 2.0, "file_ndvi_max_mean": 3.0, "a_x_2_mean": 1.0}


# --------------------------------------------------------------------------- report runs


def _report(barrier, out, cache, *extra):
    return barrier("report", "--out", out, "--cache", cache, "--tables-only", "--quiet", *extra)


def _tables(folder):
    """Every table of a report with every digit: the CSV files are rounded for people, so the
    tables also in the workbook are read from it (row 2 holds labels)."""
    tables = {
        p.name: pd.read_csv(p, dtype={"adcode": str})
        for p in sorted((folder / "tables").glob("*.csv"))
    }
    book = pd.read_excel(
        folder / "tables" / "indicators.xlsx", sheet_name=None, skiprows=[1], dtype={"adcode": str}
    )
    for name, sheet in book.items():
        key = f"indicators_{name}.csv" if f"indicators_{name}.csv" in tables else f"{name}.csv"
        if key in tables:
            tables[key] = sheet
    return tables


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """One report with the user's NDVI, a correction, and value, class and same-stem layers."""
    from geo.layers import catalogue

    root = tmp_path_factory.mktemp("base")
    shipped = catalogue()["ndvi_max"].path
    with rasterio.open(shipped) as src:
        profile, ndvi = src.profile, src.read(1)
    own = np.where(ndvi == src.nodata, ndvi, np.sqrt(np.clip(ndvi, 0, 1))).astype("float32")
    with rasterio.open(root / "my_ndvi.tif", "w", **profile) as dst:
        dst.write(own, 1)
    for folder, factor in (("a", 1.0), ("b", 2.0)):
        (root / folder).mkdir()
        with rasterio.open(root / folder / "x.tif", "w", **profile) as dst:
            dst.write(np.where(ndvi == src.nodata, ndvi, ndvi * factor).astype("float32"), 1)
    # shapefile-style upper-case field names, matched case-insensitively
    # feature 2 lies in the Pacific: it changes no cell, which is said
    fix = gpd.GeoDataFrame(
        {"LAYER": ["sandified", "sandified"], "VALUE": [0, 1]},
        geometry=[shapely.box(104, 38, 106, 40), shapely.box(150, 0, 151, 1)],
        crs=4326,
    )
    fix.to_file(root / "fix.gpkg")
    args = ["--ndvi", root / "my_ndvi.tif", "--correction", root / "fix.gpkg"]
    args += ["--layer", "dem", "--layer", "landcover", "--layer", root / "a" / "x.tif"]
    args += ["--layer", root / "b" / "x.tif"]
    code, _, err = _report(run_cli, root / "rep", root / "cache", *args)
    assert code == 0, err
    return {"root": root, "args": args, "out": root / "rep", "cache": root / "cache", "err": err}


def test_correction_that_changes_nothing_is_said(base):
    lines = [line for line in base["err"].splitlines() if "change no cell" in line]
    assert len(lines) == 1 and "fix.gpkg" in lines[0] and "feature 2 " in lines[0]
    assert lines[0].startswith("barrier report: warning:")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ndvi", "my.tif", "--ndvi-scale", "nan"], "--ndvi-scale nan is not a finite number"),
        (["--ndvi", "my.tif", "--ndvi-offset", "inf"], "--ndvi-offset inf is not a finite"),
        (["--ndvi", "my.tif", "--ndvi-scale", "0"], "--ndvi-scale 0 would make every NDVI"),
        (["--ndvi-scale", "0.0001"], "apply to your own NDVI file"),  # was silently ignored
    ],
)
def test_bad_ndvi_scale_is_refused(barrier, tmp_path, args, message):
    _const(tmp_path / "my.tif", 0.5)
    args = [str(tmp_path / a) if a == "my.tif" else a for a in args]
    out = tmp_path / "rep"
    code, _, err = _report(barrier, out, tmp_path / "cache", *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_sensitivity_first_row_is_the_runs_method(base):
    """The "default" row ignored --ndvi and corrections while said to be the method used."""
    tables = _tables(base["out"])
    first = tables["method_sensitivity.csv"].iloc[0]
    province = tables["indicators_province.csv"].iloc[0]
    for key in ("grassland_fvc_pct", "fvc_mean_pct", "forest_cover_pct", "sandified_pct"):
        assert first[key] == pytest.approx(province[key], rel=1e-9), key
    assert "my_ndvi.tif" in first["choice"] and "2 user correction" in first["choice"]
    # the shipped-NDVI row differs: the user's NDVI (√NDVI) moved the grassland cover
    others = tables["method_sensitivity.csv"].iloc[1:]
    assert (others["grassland_fvc_pct"] - first["grassland_fvc_pct"]).abs().max() > 1.0


def test_report_layer_summarises_value_and_class_layers(base):
    """--layer dem was refused ("--stat fraction/area need a class layer")."""
    from exactextract import exact_extract

    from geo import boundaries
    from geo.layers import catalogue

    league = _tables(base["out"])["indicators_league.csv"].set_index("adcode")
    zones = boundaries.load("league").set_index("adcode")
    dem = catalogue()["dem"].path
    ref = exact_extract(
        str(dem),
        zones.reset_index(),
        ["mean", "min", "max"],
        include_cols=["adcode"],
        output="pandas",
    ).set_index("adcode")
    for stat in ("mean", "min", "max"):
        got = league[f"dem_{stat}"].loc[ref.index].to_numpy()
        assert got == pytest.approx(ref[stat].to_numpy(), rel=1e-6), stat
    assert league.filter(like="landcover_area_km2_").shape[1] >= 5
    assert "dem_area_km2_0" not in league
    # a/x.tif and b/x.tif: two columns, b twice a
    assert league["b_x_mean"].to_numpy() == pytest.approx(2 * league["a_x_mean"].to_numpy())


def _corrupt(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_corrupt_cache_is_rebuilt_with_a_warning(barrier, base):
    """A corrupt derived or corrected layer is detected by checksum, rebuilt, same numbers."""
    cache = base["cache"]
    derived = sorted(cache.glob("derived/*/fvc.tif"))
    corrected = sorted(cache.glob("corrected/*/sandified.tif"))
    assert derived and corrected
    derived[0].write_bytes(derived[0].read_bytes()[:1000])  # truncated
    _corrupt(corrected[0])  # one flipped byte
    out = base["root"] / "again"
    code, _, err = _report(barrier, out, cache, *base["args"])
    assert code == 0, err
    assert "corrupt" in err and str(derived[0].parent) in err and str(corrected[0].parent) in err
    assert "Traceback" not in err
    for name, table in _tables(base["out"]).items():
        pd.testing.assert_frame_equal(_tables(out)[name], table, check_exact=False, rtol=1e-12)


def test_force_repairs_every_cache_entry(barrier, base):
    """--force reached neither the sensitivity table nor the corrections cache."""
    cache = base["cache"]
    for meta in cache.glob("derived/*/layers.json"):
        meta.write_text("{ not json", encoding="utf-8")
    for tif in cache.glob("corrected/*/*.tif"):
        _corrupt(tif)
    out = base["root"] / "forced"
    code, _, err = _report(barrier, out, cache, *base["args"], "--force")
    assert code == 0, err
    assert "corrupt" not in err  # --force rebuilds without looking
    for name, table in _tables(base["out"]).items():
        pd.testing.assert_frame_equal(_tables(out)[name], table, check_exact=False, rtol=1e-12)
    for meta in cache.glob("derived/*/layers.json"):
        json.loads(meta.read_text(encoding="utf-8"))


def test_unwritable_cache_is_named(barrier, tmp_path):
    """Cache errors were blamed on the output folder ("cannot write <out>")."""
    blocker = tmp_path / "cache"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    out = tmp_path / "rep"
    code, _, err = _report(barrier, out, blocker)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f"cache folder {blocker}" in err and "--cache" in err
    assert not out.exists()


def test_json_on_stdout_has_null_not_nan(barrier, tmp_path):
    """A zone without a valid cell has no mean: ``null``, not the non-JSON ``NaN``."""
    before = np.full((4, 4), 1.0, np.float32)
    before[:, 2:] = -9999.0
    b = _write(tmp_path / "b.tif", before, -9999.0)
    z = _zones(tmp_path / "z.gpkg", [(0, 0, 2000, 4000), (2000, 0, 4000, 4000)])
    code, out, err = barrier(
        "change", "--zones", z, "--before", b, "--after", b, "--format", "json"
    )
    assert code == 0, err

    def refuse(name):
        raise ValueError(f"not JSON: {name}")

    rows = json.loads(out, parse_constant=refuse)
    assert rows[0]["mean_before"] == 1.0 and rows[0]["change"] == 0.0
    assert rows[1]["mean_before"] is None and rows[1]["valid_area_km2"] == 0.0


def test_corrupt_cache_metadata_is_rebuilt(tmp_path):
    from geo.errors import GeoWarning
    from geo.layers.derive import derived_layers

    first = derived_layers(cache=tmp_path)
    meta = next(tmp_path.glob("derived/*/layers.json"))
    meta.write_text('{"fvc": ', encoding="utf-8")  # cut short
    with pytest.warns(GeoWarning, match=r"derived-layer cache .* is corrupt"):
        again = derived_layers(cache=tmp_path)
    assert json.loads(meta.read_text(encoding="utf-8"))["sha256"].keys() >= {"fvc.tif"}
    assert {k: v.path for k, v in again.items()} == {k: v.path for k, v in first.items()}


def test_long_table_with_a_layer_name_that_extends_another(barrier, tmp_path):
    """x.tif and x_area_km2_v.tif: the class columns of one are not read as the other's."""
    x = _write(tmp_path / "x.tif", np.full((4, 4), 1, np.uint8), None)
    xv = _write(tmp_path / "x_area_km2_v.tif", np.full((4, 4), 2, np.uint8), None)
    z = _zones(tmp_path / "z.gpkg", [(0, 0, 4000, 4000)])
    code, out, err = barrier(
        "stats",
        "--zones",
        z,
        "--layer",
        x,
        "--layer",
        xv,
        "--categorical",
        "--stat",
        "area",
        "--long",
        "--format",
        "json",
    )
    assert code == 0, err
    rows = {(r["layer"], r["class"]): r["area_km2"] for r in json.loads(out)}
    assert rows == {("x", 1): 16.0, ("x_area_km2_v", 2): 16.0}


@pytest.mark.parametrize("categorical", [True, False])
def test_change_of_flipped_rasters_equals_north_up(barrier, tmp_path, categorical):
    """South-up and east-to-west copies give the north-up transitions and means."""
    from affine import Affine

    rng = np.random.default_rng(7)
    before = rng.integers(1, 6, (30, 40)).astype(np.uint8)
    after = rng.integers(1, 6, (30, 40)).astype(np.uint8)
    h, w = before.shape
    north = from_origin(0, 1000 * h, 1000, 1000)
    south = Affine(1000, 0, 0, 0, 1000, 0)  # row 0 is the southern edge
    west = Affine(-1000, 0, 1000 * w, 0, -1000, 1000 * h)  # column 0 is the eastern edge
    z = _zones(tmp_path / "z.gpkg", [(3500, 2500, 27300, 21800), (20000, 9000, 39000, 29000)])
    flag = ["--categorical"] if categorical else []
    tables = []
    for name, transform, flip in (
        ("n", north, lambda a: a),
        ("s", south, lambda a: a[::-1]),
        ("w", west, lambda a: a[:, ::-1]),
    ):
        b = _write(tmp_path / f"b{name}.tif", flip(before).copy(), 0, transform=transform)
        a = _write(tmp_path / f"a{name}.tif", flip(after).copy(), 0, transform=transform)
        args = ["change", "--zones", z, "--before", b, "--after", a, "--format", "json"]
        code, out, err = barrier(*args, *flag)
        assert code == 0, err
        tables.append(pd.DataFrame(json.loads(out)))
    for other in tables[1:]:
        pd.testing.assert_frame_equal(tables[0], other, rtol=1e-12)
    if categorical:  # an independent total: the zones' areas (equal-area grid, inside it)
        total = tables[0].groupby("zone")["area_km2"].sum()
        assert total["z0"] == pytest.approx((27300 - 3500) * (21800 - 2500) / 1e6)
        assert total["z1"] == pytest.approx((39000 - 20000) * (29000 - 9000) / 1e6)


def test_the_same_file_twice_keeps_its_stem(barrier, tmp_path):
    """One file given twice: ``x`` and ``x_2`` (no folder prefix: nothing to tell apart)."""
    ax = _const(tmp_path / "a" / "x.tif", 1.0)
    z = _zones(tmp_path / "z.gpkg", [(0, 0, 8000, 8000)])
    args = ["stats", "--zones", z, "--layer", ax, "--layer", ax, "--stat", "mean"]
    code, out, err = barrier(*args, "--format", "json")
    assert code == 0, err
    row = json.loads(out)[0]
    assert {k: v for k, v in row.items() if k.endswith("_mean")} == {"x_mean": 1.0, "x_2_mean": 1.0}
