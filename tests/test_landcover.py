"""Fine land cover in (issue 17): exact class areas on the raster's own grid, fine-to-coarse
aggregation of FVC over the fine grassland, the shipped schemes, and bad inputs.

Expected values are computed by hand (cell counts × cell areas, box overlaps), by exactextract
(per-cell coverage) with pyproj.Geod cell areas, or by shapely polygon intersections.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod, Transformer

from geo import landcover, testing
from geo.crs import EQUAL_AREA

ALBERS = EQUAL_AREA.to_wkt()
WEST, NORTH = 116.0, 43.9  # near Xilinhot, Inner Mongolia
CELL = 0.0003  # degrees (≈ 24 × 33 m)


# --------------------------------------------------------------------------- helpers


def _clcd_pattern(rows: int, cols: int) -> np.ndarray:
    """CLCD codes laid out in known blocks: 4 grassland left, 2 forest / 1 cropland right,
    a 3 shrub column strip, a 5 water square."""
    a = np.full((rows, cols), 4, dtype="uint8")
    a[: rows // 3, cols // 2 :] = 2
    a[rows // 3 :, cols // 2 :] = 1
    a[:, cols - 4 :] = 3
    a[rows - 5 :, 2:6] = 5
    return a


def _box_weights(shape, cell, origin, box) -> np.ndarray:
    """Covered fraction of each cell of a north-up grid by an axis-aligned box (by hand)."""
    rows, cols = shape
    west, north = origin
    x0 = west + cell * np.arange(cols)
    y1 = north - cell * np.arange(rows)
    wx = np.clip(np.minimum(x0 + cell, box[2]) - np.maximum(x0, box[0]), 0, None) / cell
    wy = np.clip(np.minimum(y1, box[3]) - np.maximum(y1 - cell, box[1]), 0, None) / cell
    return wy[:, None] * wx[None, :]


def _geod_cell_area_m2(lat_centre: np.ndarray, cell: float) -> np.ndarray:
    """Ellipsoidal area of a cell (parallels densified) from its centre latitude, by pyproj.Geod."""
    geod = Geod(ellps="WGS84")
    out = {}
    for lat in np.unique(lat_centre):
        s, n = lat - cell / 2, lat + cell / 2
        lons = np.concatenate([np.linspace(0, cell, 9), np.linspace(cell, 0, 9)])
        lats = np.concatenate([np.full(9, s), np.full(9, n)])
        out[lat] = abs(geod.polygon_area_perimeter(lons, lats)[0])
    return np.array([out[v] for v in lat_centre])


def _group_codes(scheme: str) -> dict[str, tuple[int, ...]]:
    s = landcover.load_scheme(scheme)
    return {g: s.codes(g) for g in landcover.GROUPS}


# --------------------------------------------------------------------------- schemes


def test_shipped_schemes_legends_and_landcover_cn_derivable():
    clcd = landcover.load_scheme("clcd")
    legend = {1: "cropland", 2: "forest", 3: "shrub_forest", 4: "grassland", 5: "water"}
    legend |= {6: "snow_ice", 7: "barren", 8: "built_up", 9: "wetland"}
    assert {c: g for c, (_, g) in clcd.classes.items() if c} == legend  # Yang & Huang 2021
    wc = landcover.load_scheme("worldcover")
    assert sorted(c for c in wc.classes if c) == [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100]
    assert landcover.load_scheme("glc_fcs30").codes("grassland") == (130,)
    # the igbp scheme reproduces the toolkit's own MODIS regrouping (landcover_cn codes)
    from geo.layers.derive import DeriveConfig
    from geo.layers.landmasks import landcover_groups

    igbp = landcover.load_scheme("igbp")
    codes = np.arange(17)
    expected = landcover_groups(codes, DeriveConfig())
    assert [igbp.cn_codes[c] for c in codes] == expected.tolist()
    for scheme in landcover.SCHEMES:  # every group code is one of the toolkit's groups
        s = landcover.load_scheme(scheme)
        assert {g for _, g in s.classes.values()} <= set(landcover.GROUPS)
        assert s.codes("forest") and s.codes("grassland") and s.codes("cropland")


# --------------------------------------------------------------------------- class areas


def test_class_areas_by_hand_on_equal_area_grid(tmp_path):
    """30 m cells (900 m² each) in an Albers equal-area CRS; one zone on cell edges, one with
    half- and quarter-cells at its edges: areas are cell counts × 900 m² × covered share."""
    a = _clcd_pattern(40, 60)
    x0, y0 = 500_000.0, 4_800_000.0  # north-west corner, Albers metres
    fine = testing.write_raster(tmp_path / "clcd.tif", a, cell=30.0, origin=(x0, y0), crs=ALBERS)
    boxes = {
        "edges": (x0, y0 - 1200.0, x0 + 1800.0, y0),  # the whole raster
        "halves": (x0 + 15.0, y0 - 1005.0, x0 + 1395.0, y0 - 45.0),
    }
    zones = testing.box_zones(boxes, crs=ALBERS)
    got = landcover.class_areas(zones, fine, "clcd")
    codes = _group_codes("clcd")
    for i, box in enumerate(boxes.values()):
        w = _box_weights(a.shape, 30.0, (x0, y0), box)
        for group in ("forest", "shrub_forest", "grassland", "cropland", "water"):
            want = (w * np.isin(a, codes[group])).sum() * 900.0 / 1e6
            testing.assert_close(got[f"{group}_area_km2"].iloc[i], want, rtol=1e-12, what=group)
        testing.assert_close(got["land_area_km2"].iloc[i], w.sum() * 900.0 / 1e6, rtol=1e-12)
    # the whole raster, by plain counts: 1/3 of the right half forest less the shrub strip …
    whole = got.iloc[0]
    assert whole["forest_area_km2"] == pytest.approx(13 * 26 * 900 / 1e6, rel=1e-12)
    assert whole["shrub_forest_area_km2"] == pytest.approx(40 * 4 * 900 / 1e6, rel=1e-12)
    assert whole["water_area_km2"] == pytest.approx(5 * 4 * 900 / 1e6, rel=1e-12)
    forest = (13 * 26 + 40 * 4) / (40 * 60)
    assert whole["forest_cover_pct"] == pytest.approx(100 * forest, rel=1e-12)
    # and independently by exactextract (coverage-weighted class shares × cell count)
    ref = testing.exact_reference(zones, fine, ["count", "unique", "frac"])
    for i in range(len(zones)):
        share = dict(zip(ref["unique"].iloc[i], ref["frac"].iloc[i], strict=True))
        for group in ("grassland", "cropland", "forest"):
            want = sum(share.get(c, 0.0) for c in codes[group]) * ref["count"].iloc[i] * 900e-6
            testing.assert_close(got[f"{group}_area_km2"].iloc[i], want, rtol=1e-6, what=group)


def test_class_areas_geographic_match_exactextract(tmp_path):
    """0.0003° cells (ellipsoidal areas, shrinking northwards), irregular zones: per-zone group
    areas = Σ exactextract coverage × pyproj.Geod cell area (≤ 1e-6)."""
    a = _clcd_pattern(60, 80)
    fine = testing.write_raster(
        tmp_path / "clcd.tif", a, cell=CELL, origin=(WEST, NORTH), crs="EPSG:4326"
    )
    e, s = WEST + 80 * CELL, NORTH - 60 * CELL
    zones = gpd.GeoDataFrame(
        {"zone": ["tri", "cut"], "name": ["tri", "cut"]},
        geometry=[
            shapely.Polygon(
                [(WEST + 0.001, s + 0.001), (e - 0.002, s + 0.004), (WEST + 1e-5, NORTH - 1e-5)]
            ),
            shapely.box(WEST + 0.0101, s - 0.01, e + 0.01, NORTH - 0.00517),  # beyond the raster
        ],
        crs="EPSG:4326",
    )
    from exactextract import exact_extract

    got = landcover.class_areas(zones, fine, "clcd")
    ref = exact_extract(
        str(fine), zones, ["coverage", "values", "center_y"], output="pandas", include_geom=False
    )
    codes = _group_codes("clcd")
    for i in range(len(zones)):
        cov, vals = ref["coverage"].iloc[i].astype("float64"), ref["values"].iloc[i]
        area = _geod_cell_area_m2(np.round(ref["center_y"].iloc[i], 9), CELL)
        for group in ("forest", "shrub_forest", "grassland", "cropland", "water"):
            want = (cov * area * np.isin(vals, codes[group])).sum() / 1e6
            testing.assert_close(got[f"{group}_area_km2"].iloc[i], want, rtol=1e-6, what=group)
    assert got["outside_area_km2"].iloc[1] > 0  # the second zone reaches beyond the raster


# --------------------------------------------------------------------------- grassland cover


def test_grassland_cover_weighted_by_fine_grassland_by_hand(tmp_path):
    """A 2 × 2 FVC grid of 90 m cells over a 6 × 6 grid of 30 m land-cover cells (nested)."""
    g, f, c = 4, 2, 1  # CLCD grassland, forest, cropland
    a = np.array(
        [
            [c, c, c, g, f, f],
            [g, g, g, g, f, f],
            [g, g, g, g, f, f],
            [g, g, g, g, g, f],
            [g, g, g, g, g, f],
            [g, g, g, c, c, c],
        ],
        dtype="uint8",
    )
    fvc = np.array([[10.0, 20.0], [30.0, 40.0]], dtype="float32")
    fine = testing.write_raster(tmp_path / "lc.tif", a, cell=30.0, crs=ALBERS)
    coarse = testing.write_raster(tmp_path / "fvc.tif", fvc, cell=90.0, crs=ALBERS, nodata=-9999.0)
    zones = testing.box_zones({"all": (0, 0, 180, 180), "part": (15, 45, 120, 180)}, crs=ALBERS)
    got = landcover.class_mean(zones, coarse, fine, "clcd")
    # "all": grassland cells per FVC cell (rows/cols of the array): NW rows 1-2 × cols 0-2 → 6;
    # NE col 3 of rows 0-2 → 3; SW rows 3-5 × cols 0-2 → 9; SE cols 3-4 of rows 3-4 → 4
    counts = {(0, 0): 6, (0, 1): 3, (1, 0): 9, (1, 1): 4}
    want = sum(n * float(fvc[k]) for k, n in counts.items()) / sum(counts.values())
    assert got["mean"].iloc[0] == pytest.approx(want, rel=1e-12)
    assert got["area_km2"].iloc[0] == pytest.approx(22 * 900 / 1e6, rel=1e-12)
    assert got["cells"].iloc[0] == pytest.approx(22 / 9, rel=1e-12)
    # "part": x 15-120 (half of col 0, cols 1-3), y 45-180 (rows 0-3, half of row 4)
    # NW (rows 0-2, cols 0-2): rows 1-2 grass; col 0 half → 2 × (0.5 + 1 + 1) = 5 cells
    # NE (rows 0-2, col 3): rows 0-2 grass → 3 cells
    # SW (rows 3-4, cols 0-2): row 3 → 2.5, row 4 half → 1.25: 3.75 cells
    # SE (rows 3-4, col 3): row 3 → 1, row 4 half → 0.5: 1.5 cells
    parts = {(0, 0): 5.0, (0, 1): 3.0, (1, 0): 3.75, (1, 1): 1.5}
    want = sum(n * float(fvc[k]) for k, n in parts.items()) / sum(parts.values())
    assert got["mean"].iloc[1] == pytest.approx(want, rel=1e-12)
    # an FVC cell without a value drops out of the mean (and of the area it rests on)
    fvc[1, 0] = -9999.0
    coarse = testing.write_raster(tmp_path / "fvc2.tif", fvc, cell=90.0, crs=ALBERS, nodata=-9999.0)
    got = landcover.class_mean(zones, coarse, fine, "clcd")
    want = (6 * 10 + 3 * 20 + 4 * 40) / 13
    assert got["mean"].iloc[0] == pytest.approx(want, rel=1e-12)
    assert got["area_km2"].iloc[0] == pytest.approx(13 * 900 / 1e6, rel=1e-12)


def test_grassland_cover_across_crs_matches_shapely(tmp_path):
    """Fine raster in Albers metres, FVC on a 0.005° geographic grid: each grassland cell's
    area inside the zone (shapely) goes to the FVC cell holding its reprojected centre."""
    rng = np.random.default_rng(17)
    a = np.where(rng.random((50, 70)) < 0.6, 4, 1).astype("uint8")
    to_albers = Transformer.from_crs("EPSG:4326", ALBERS, always_xy=True)
    x0, y0 = to_albers.transform(WEST + 0.002, NORTH - 0.002)
    x0, y0 = round(x0), round(y0)
    fine = testing.write_raster(tmp_path / "lc.tif", a, cell=30.0, origin=(x0, y0), crs=ALBERS)
    fvc = rng.uniform(5, 80, (8, 10)).astype("float32")
    cc = 0.005
    coarse = testing.write_raster(
        tmp_path / "fvc.tif", fvc, cell=cc, origin=(WEST, NORTH), crs="EPSG:4326", nodata=-1.0
    )
    zone = shapely.Polygon([(x0 + 100, y0 - 1400), (x0 + 1900, y0 - 200), (x0 + 1500, y0 - 1450)])
    zones = gpd.GeoDataFrame({"zone": ["z"], "name": ["z"]}, geometry=[zone], crs=ALBERS)
    got = landcover.class_mean(zones, coarse, fine, "clcd")
    back = Transformer.from_crs(ALBERS, "EPSG:4326", always_xy=True)
    num = den = 0.0
    for r, col in zip(*np.nonzero(a == 4), strict=True):
        box = shapely.box(x0 + 30 * col, y0 - 30 * (r + 1), x0 + 30 * (col + 1), y0 - 30 * r)
        part = box.intersection(zone).area
        if part == 0:
            continue
        lon, lat = back.transform(x0 + 30 * col + 15, y0 - 30 * r - 15)
        k = (int(np.floor((NORTH - lat) / cc)), int(np.floor((lon - WEST) / cc)))
        num += part * float(fvc[k])
        den += part
    assert got["mean"].iloc[0] == pytest.approx(num / den, rel=1e-9)
    assert got["area_km2"].iloc[0] == pytest.approx(den / 1e6, rel=1e-9)


# --------------------------------------------------------------------------- the pipeline


def test_igbp_scheme_on_shipped_land_cover_reproduces_default(tmp_path):
    """The shipped MODIS map given as --landcover with the igbp scheme: same grid, same
    groups, so the land-cover values equal the default ones; cropland = IGBP class 12."""
    from geo.layers import catalogue
    from geo.pipeline import compute_all
    from geo.zonal import zonal_stats

    cache = tmp_path / "cache"
    base = compute_all(levels=("league",), cache=cache).wide["league"]
    lc = catalogue()["landcover"].path
    fine = compute_all(levels=("league",), cache=cache, landcover=lc, landcover_scheme="igbp")
    got = fine.wide["league"]
    for col in ("grassland_fvc_pct", "forest_cover_pct", "forest_area_km2", "grassland_area_km2"):
        testing.assert_close(got[col], base[col], rtol=1e-9, what=col)
    ref = zonal_stats(fine.zones["league"], lc, ("count",), categorical=True)
    testing.assert_close(got["cropland_area_km2"], ref["area_km2_12"], rtol=1e-12)
    long = fine.long["league"]
    method = long.loc[long.indicator == "forest_cover_pct", "method"].iloc[0]
    from geo.data import sha256

    assert sha256(lc) in method and "scheme igbp" in method
    assert not long.loc[long.indicator.isin(landcover.OVERRIDDEN), "official"].any()


# --------------------------------------------------------------------------- the command line


@pytest.fixture
def fine_case(tmp_path):
    """A geographic CLCD-coded raster, a coarse value layer and two zones in a GeoPackage."""
    a = _clcd_pattern(60, 80)
    fine = testing.write_raster(
        tmp_path / "clcd.tif", a, cell=CELL, origin=(WEST, NORTH), crs="EPSG:4326", nodata=0
    )
    value = np.arange(12, dtype="float32").reshape(3, 4) * 10.0
    coarse = testing.write_raster(
        tmp_path / "cover.tif", value, cell=0.006, origin=(WEST, NORTH), crs="EPSG:4326"
    )
    s = NORTH - 60 * CELL
    boxes = {
        "a": (WEST, s, WEST + 0.012, NORTH),
        "b": (WEST + 0.0121, s + 0.0012, WEST + 0.024, NORTH - 0.001),
    }
    zones = testing.box_zones(boxes, crs="EPSG:4326")
    zones.to_file(tmp_path / "zones.gpkg")
    return {
        "fine": fine,
        "coarse": coarse,
        "zones": tmp_path / "zones.gpkg",
        "frame": zones,
        "a": a,
    }


def test_cli_stats_landcover_areas_and_grassland_mean(barrier, tmp_path, fine_case):
    out = tmp_path / "stats.csv"
    code, _, err = barrier(
        "stats", "--zones", fine_case["zones"], "--id-field", "zone", "--layer",
        fine_case["coarse"], "--landcover", fine_case["fine"], "--landcover-scheme", "clcd",
        "--precision", "full", "-o", out,
    )  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(out)
    from exactextract import exact_extract

    ref = exact_extract(
        str(fine_case["fine"]), fine_case["frame"], ["coverage", "values", "center_y"],
        output="pandas", include_geom=False,
    )  # fmt: skip
    codes = _group_codes("clcd")
    for i in range(2):
        cov, vals = ref["coverage"].iloc[i].astype("float64"), ref["values"].iloc[i]
        area = _geod_cell_area_m2(np.round(ref["center_y"].iloc[i], 9), CELL)
        for group in ("forest", "grassland", "cropland"):
            want = (cov * area * np.isin(vals, codes[group])).sum() / 1e6
            testing.assert_close(
                table[f"landcover_{group}_area_km2"].iloc[i], want, rtol=1e-6, what=group
            )
    # zone a (whole cells: fine cols 0-39, all 60 rows): value cells are 0.006° = 20 fine cells
    # wide, so fine row r lies in value row r // 20 and fine col c in value col c // 20; each
    # grassland cell weighs its ellipsoidal area (the water square is not grassland)
    a = fine_case["a"]
    lat = NORTH - CELL * (np.arange(60) + 0.5)
    row_area = _geod_cell_area_m2(np.round(lat, 9), CELL)
    value = np.arange(12).reshape(3, 4) * 10.0
    grass = (a[:, :40] == 4) * row_area[:, None]
    vrow, vcol = np.arange(60) // 20, np.arange(40) // 20
    want = (grass * value[vrow][:, vcol]).sum() / grass.sum()
    assert table["cover_grassland_mean"].iloc[0] == pytest.approx(want, rel=1e-9)
    manifest = json.loads((tmp_path / "stats.csv.manifest.json").read_text())
    from geo.data import sha256

    assert json.dumps(manifest).count(sha256(fine_case["fine"])) >= 1


@pytest.fixture
def bad_inputs(tmp_path, fine_case):
    floats = testing.write_raster(
        tmp_path / "float.tif", np.full((5, 5), 0.5, "float32"), cell=CELL,
        origin=(WEST, NORTH), crs="EPSG:4326",
    )  # fmt: skip
    text = tmp_path / "notes.tif"
    text.write_text("not a raster\n")
    short = tmp_path / "short.csv"
    short.write_text("code,name,group\n1,cropland,cropland\n4,grassland,grassland\n")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("code,name,group\n1,cropland,farmland\n")
    return {"float": floats, "text": text, "short": short, "wrong": wrong, **fine_case}


@pytest.mark.parametrize(
    ("landcover", "scheme", "message"),
    [
        ("fine", "clcdd", "unknown land-cover scheme 'clcdd'"),
        ("fine", "short", "holds class code(s) 2, 3, 5"),
        ("fine", "wrong", "group 'farmland'"),
        ("float", "clcd", "float32 values, not class codes"),
        ("text", "clcd", "cannot be read"),
        ("fine", None, "needs --landcover-scheme"),
        (None, "clcd", "--landcover-scheme needs --landcover"),
    ],
)
def test_cli_bad_landcover_input_exit_2_nothing_written(
    barrier, tmp_path, bad_inputs, landcover, scheme, message
):
    out = tmp_path / "out.csv"
    args = ["stats", "--zones", bad_inputs["zones"], "--layer", bad_inputs["coarse"], "-o", out]
    if landcover:
        args += ["--landcover", bad_inputs[landcover]]
    if scheme:
        args += ["--landcover-scheme", bad_inputs.get(scheme, scheme)]
    code, _, err = barrier(*args)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists() and not (tmp_path / "out.csv.manifest.json").exists()
    if scheme == "short":  # names the file and the scheme table
        assert str(bad_inputs["fine"]) in err and str(bad_inputs["short"]) in err


def _exact_group_areas(fine, frame, groups=("forest", "grassland", "cropland")):
    """Per-zone group areas (km²): exactextract coverage × pyproj.Geod cell areas."""
    from exactextract import exact_extract

    ref = exact_extract(
        str(fine), frame, ["coverage", "values", "center_y"], output="pandas", include_geom=False
    )
    codes = _group_codes("clcd")
    out = {g: [] for g in groups}
    for i in range(len(frame)):
        cov, vals = ref["coverage"].iloc[i].astype("float64"), ref["values"].iloc[i]
        area = _geod_cell_area_m2(np.round(ref["center_y"].iloc[i], 9), CELL)
        for g in groups:
            out[g].append((cov * area * np.isin(vals, codes[g])).sum() / 1e6)
    return {g: np.array(v) for g, v in out.items()}


def test_cli_report_landcover_user_zones(barrier, tmp_path, fine_case):
    """``barrier report --landcover``: the user's zones get the raster's exact class areas
    (forest = forest + shrub forest), grassland cover over its grassland, and the provenance
    names the file's SHA-256 and the scheme."""
    from geo.data import sha256
    from geo.layers.derive import DeriveConfig, derived_layers

    out, cache = tmp_path / "report", tmp_path / "cache"
    code, _, err = barrier(
        "report", "--quiet", "--tables-only", "--zones", fine_case["zones"], "--id-field",
        "zone", "--landcover", fine_case["fine"], "--landcover-scheme", "clcd", "--out", out,
        "--cache", cache,
    )  # fmt: skip
    assert code == 0, err
    assert "reach beyond land-cover raster" in err  # the shipped zone sets are mostly outside
    table = gpd.read_parquet(out / "tables" / "indicators_user.parquet")
    want = _exact_group_areas(
        fine_case["fine"], fine_case["frame"], ("forest", "shrub_forest", "grassland", "cropland")
    )
    forest = want["forest"] + want["shrub_forest"]
    testing.assert_close(table["forest_area_km2"], forest, rtol=1e-6, what="forest")
    testing.assert_close(table["grassland_area_km2"], want["grassland"], rtol=1e-6)
    testing.assert_close(table["cropland_area_km2"], want["cropland"], rtol=1e-6)
    fvc = derived_layers(DeriveConfig(), cache=cache)["fvc"].path
    grass = landcover.class_mean(fine_case["frame"], fvc, fine_case["fine"], "clcd")
    testing.assert_close(table["grassland_fvc_pct"], grass["mean"], rtol=1e-12)
    digest = sha256(fine_case["fine"])
    long = pd.read_csv(out / "tables" / "indicators_long.csv")
    rows = long[long["indicator"].isin(landcover.OVERRIDDEN) & (long["level"] == "user")]
    assert len(rows) == 2 * len(landcover.OVERRIDDEN)
    assert rows["method"].str.contains(digest).all() and rows["method"].str.contains("clcd").all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert digest in json.dumps(manifest)


def test_cli_map_cropland_from_landcover(barrier, tmp_path, fine_case, monkeypatch):
    monkeypatch.setenv("GEO_BARRIER_CACHE", str(tmp_path / "cache"))
    html = tmp_path / "crop.html"
    code, _, err = barrier(
        "map", "--zones", fine_case["zones"], "--id-field", "zone", "--indicator",
        "cropland_area", "--landcover", fine_case["fine"], "--landcover-scheme", "clcd",
        "-o", html,
    )  # fmt: skip
    assert code == 0, err
    manifest = json.loads(html.with_name(html.name + ".manifest.json").read_text())
    from geo.data import sha256

    assert manifest["parameters"]["landcover"]["sha256"] == sha256(fine_case["fine"])


def test_cli_stats_zone_beyond_landcover_is_warned_and_empty(barrier, tmp_path, fine_case):
    """A zone wholly beyond the raster has no land-cover value (not 0 km²), said in one line."""
    zones = testing.box_zones(
        {"in": (WEST, NORTH - 0.01, WEST + 0.01, NORTH), "out": (WEST + 1, 40, WEST + 1.1, 40.1)},
        crs="EPSG:4326",
    )
    zones.to_file(tmp_path / "two.gpkg")
    code, out, err = barrier(
        "stats", "--zones", tmp_path / "two.gpkg", "--id-field", "zone", "--landcover",
        fine_case["fine"], "--landcover-scheme", "clcd", "--format", "csv",
    )  # fmt: skip
    assert code == 0, err
    assert "1 wholly (no land-cover value)" in err
    table = pd.read_csv(__import__("io").StringIO(out))
    assert table["landcover_grassland_area_km2"].iloc[0] > 0
    assert np.isnan(table["landcover_grassland_area_km2"].iloc[1])


def test_official_layer_outranks_landcover_which_improves_the_proxy_beside(tmp_path):
    """--forest (official) with --landcover: the official value stays the indicator's value,
    marked official; the land-cover map fills the proxy kept beside it (its method names the
    map), never the official value."""
    from geo.data import sha256
    from geo.layers import catalogue
    from geo.pipeline import compute_all
    from geo.zoneset import ZoneSet

    leagues = ZoneSet.load("league")
    hohhot = leagues.equal_area.loc["150100"]
    c = hohhot.representative_point()
    square = shapely.box(c.x - 5_000, c.y - 5_000, c.x + 5_000, c.y + 5_000)  # 100 km²
    assert hohhot.contains(square)
    forest = gpd.GeoDataFrame(geometry=[square], crs=EQUAL_AREA)
    cache, lc = tmp_path / "cache", catalogue()["landcover"].path
    alone = compute_all(levels=("league",), cache=cache, forest=forest).wide["league"]
    both = compute_all(
        levels=("league",), cache=cache, forest=forest, landcover=lc, landcover_scheme="igbp"
    )
    wide = both.wide["league"].set_index("adcode")
    area_km2 = leagues.area_km2[list(leagues.frame.index).index("150100")]
    assert wide.loc["150100", "forest_area_km2"] == pytest.approx(100.0, rel=1e-6)
    assert wide.loc["150100", "forest_cover_pct"] == pytest.approx(100 * 100 / area_km2, rel=1e-6)
    testing.assert_close(wide["forest_cover_pct"], alone.set_index("adcode")["forest_cover_pct"])
    assert (wide["forest_cover_pct_basis"] == "official").all()
    long = both.long["league"]
    official = long[long.indicator == "forest_cover_pct"]
    assert official["official"].all() and not official["method"].str.contains(sha256(lc)).any()
    beside = long[long.indicator == "forest_cover_proxy_pct"]
    assert len(beside) == len(official) and not beside["official"].any()
    assert beside["method"].str.contains(sha256(lc)).all()
