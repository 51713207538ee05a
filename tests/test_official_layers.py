"""Official layers in place of the proxies (``--forest``, ``--grassland``, ``--sandified``).

The official polygons are rectangles drawn in the equal-area CRS inside two leagues, so their
areas are known by hand (width × height; overlaps subtracted by hand) and checked against
pyproj's geodesic area on the ellipsoid; the toolkit's per-zone official values must equal
them, the proxies stay beside them unchanged, and bad inputs stop with exit 2.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.ops import polylabel

from geo.crs import EQUAL_AREA
from geo.errors import GeoWarning
from geo.zoneset import ZoneSet

A, B = "150100", "150200"  # Hohhot and Baotou
REL = 1e-6


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One cache of derived layers and coverages for the module."""
    return tmp_path_factory.mktemp("official-cache")


@pytest.fixture(scope="module")
def anchors():
    """A point well inside each of the two leagues (equal-area metres)."""
    zones = ZoneSet.load("league")
    points = {}
    for code in (A, B):
        geom = zones.equal_area.loc[code]
        largest = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
        p = polylabel(largest, tolerance=1000.0)  # the point farthest from the boundary
        assert geom.contains(shapely.box(p.x - 30_000, p.y - 30_000, p.x + 30_000, p.y + 30_000))
        points[code] = (p.x, p.y)
    return points


def _box(anchor, dx, dy, w, h):
    """A w × h km rectangle whose lower-left corner is (dx, dy) km from ``anchor``."""
    x, y = anchor[0] + dx * 1000, anchor[1] + dy * 1000
    return shapely.box(x, y, x + w * 1000, y + h * 1000)


def _write(path, geoms, **fields):
    gpd.GeoDataFrame(fields, geometry=list(geoms), crs=EQUAL_AREA).to_file(path)
    return path


def _geodesic_km2(geom) -> float:
    """Area on the WGS84 ellipsoid of a polygon drawn in the equal-area CRS (pyproj Geod)."""
    dense = shapely.segmentize(geom, 50.0)  # its edges are straight in the projection
    to_wgs = Transformer.from_crs(EQUAL_AREA, "EPSG:4326", always_xy=True)
    lonlat = shapely.transform(dense, lambda xy: np.column_stack(to_wgs.transform(*xy.T)))
    return abs(Geod(ellps="WGS84").geometry_area_perimeter(lonlat)[0]) / 1e6


@pytest.fixture(scope="module")
def files(tmp_path_factory, anchors):
    """Official layers over two leagues, with their areas by hand (km²)."""
    d = tmp_path_factory.mktemp("official-files")
    a, b = anchors[A], anchors[B]
    # forest: two 10 × 10 km squares overlapping in 5 × 5 km in A (175 km²), 20 × 10 in B
    forest = [_box(a, 0, 0, 10, 10), _box(a, 5, 5, 10, 10), _box(b, 0, 0, 20, 10)]
    grass = [_box(a, -20, -20, 10, 10), _box(a, -20, -20, 5, 5)]  # the second inside: 100
    # sandified: light 10 × 10 and severe 10 × 10 overlapping 5 × 5 in A (severe wins there),
    # moderate 4 × 5 written as code 2 and extreme 3 × 3 in B
    sand = [_box(a, 15, 15, 10, 10), _box(a, 20, 20, 10, 10), _box(b, -25, 0, 4, 5)]
    sand.append(_box(b, -25, -10, 3, 3))
    out = {
        "forest": _write(d / "forest.gpkg", forest, kind=["forest"] * 3),
        "grassland": _write(d / "grassland.gpkg", grass, kind=["grass"] * 2),
        "sandified": _write(d / "sandified.gpkg", sand, degree=["轻度", "severe", 2, "极重度"]),
        "hand": {
            "forest": {A: 175.0, B: 200.0},
            "grassland": {A: 100.0, B: 0.0},
            "light": {A: 75.0, B: 0.0},
            "moderate": {A: 0.0, B: 20.0},
            "severe": {A: 100.0, B: 0.0},
            "extreme": {A: 0.0, B: 9.0},
            "sandified": {A: 175.0, B: 29.0},
        },
        "squares": forest[:1],
        "grass_box": grass[0],
    }
    return out


@pytest.fixture(scope="module")
def computed(files, cache):
    from geo.pipeline import compute_all

    with pytest.warns(GeoWarning, match="two sandification degrees"):
        official = compute_all(
            levels=("league",),
            forest=files["forest"],
            grassland=files["grassland"],
            sandified=files["sandified"],
            sandified_field="degree",
            cache=cache,
            verdicts=True,
        )
    proxy = compute_all(levels=("league",), cache=cache, verdicts=True)
    return official, proxy


def test_hand_areas_are_ellipsoidal_areas(files):
    # the equal-area CRS keeps areas: a 10 × 10 km square is 100 km² on the ellipsoid
    assert _geodesic_km2(files["squares"][0]) == pytest.approx(100.0, rel=REL)


def test_official_areas_and_shares_equal_hand_values(computed, files):
    official, _ = computed
    table = official.wide["league"].set_index("adcode")
    zones = official.zones["league"]
    hand = files["hand"]
    # zone areas independently: the league polygons on the ellipsoid (pyproj Geod)
    geod = Geod(ellps="WGS84")
    for code in (A, B):
        zone_km2 = abs(geod.geometry_area_perimeter(zones.frame.geometry.loc[code])[0]) / 1e6
        row = table.loc[code]
        assert row["forest_area_km2"] == pytest.approx(hand["forest"][code], rel=REL)
        assert row["forest_area_ha"] == pytest.approx(hand["forest"][code] * 100, rel=REL)
        assert row["forest_cover_pct"] == pytest.approx(
            100 * hand["forest"][code] / zone_km2, rel=1e-4
        )
        assert row["grassland_area_km2"] == pytest.approx(hand["grassland"][code], abs=1e-9)
        assert row["sandified_area_km2"] == pytest.approx(hand["sandified"][code], rel=REL)
        assert row["sandified_pct"] == pytest.approx(
            100 * hand["sandified"][code] / zone_km2, rel=1e-4
        )
        for degree in ("light", "moderate", "severe", "extreme"):
            assert row[f"sandified_{degree}_area_km2"] == pytest.approx(
                hand[degree][code], abs=1e-9 + REL * hand[degree][code]
            )
    # every other league holds none of the official polygons
    others = table.drop(index=[A, B])
    assert (others["forest_area_km2"] == 0).all() and (others["sandified_area_km2"] == 0).all()
    for col in ("forest_cover_pct_basis", "forest_area_basis", "sandified_pct_basis"):
        assert (table[col] == "official").all()
    assert (table["grassland_fvc_pct_basis"] == "official extent").all()


def test_proxy_kept_beside_and_unchanged(computed):
    official, proxy = computed
    off = official.wide["league"].set_index("adcode")
    pro = proxy.wide["league"].set_index("adcode")
    pairs = {
        "forest_cover_proxy_pct": "forest_cover_pct",
        "forest_area_proxy_km2": "forest_area_km2",
        "grassland_area_proxy_km2": "grassland_area_km2",
        "grassland_fvc_proxy_pct": "grassland_fvc_pct",
        "sandified_proxy_pct": "sandified_pct",
        "sandified_severe_area_proxy_km2": "sandified_severe_area_km2",
    }
    for beside, original in pairs.items():
        np.testing.assert_array_equal(off[beside].to_numpy(), pro[original].to_numpy())
    np.testing.assert_array_equal(off["igbp_forest_pct"], pro["igbp_forest_pct"])
    long = official.long["league"]
    marked = long.set_index("indicator")
    assert marked.loc["forest_cover_pct", "official"].all()
    assert not marked.loc["forest_cover_proxy_pct", "official"].any()
    assert set(marked.loc["forest_cover_proxy_pct", "basis"]) == {"proxy"}
    # the verdict of an official value rests on it alone (the method variants are proxies)
    rows = long[long["indicator"] == "forest_cover_pct"]
    assert (rows["variant_min"] == rows["value"]).all()


def test_grassland_cover_averaged_over_official_grassland(computed, files):
    from exactextract import exact_extract

    official, _ = computed
    fvc = official.layers["fvc"].path
    box = gpd.GeoDataFrame(geometry=[files["grass_box"]], crs=EQUAL_AREA).to_crs("EPSG:4326")
    mean = exact_extract(str(fvc), box, "mean", output="pandas")["mean"].iloc[0]
    got = official.wide["league"].set_index("adcode").loc[A, "grassland_fvc_pct"]
    # the toolkit also weighs each cell by its ground area (a 10 km box: ≤ 1e-3 relative)
    assert got == pytest.approx(mean, rel=1e-3)
    assert np.isnan(official.wide["league"].set_index("adcode").loc[B, "grassland_fvc_pct"])


def test_overlapping_polygons_counted_once(tmp_path, anchors):
    from geo.official import collect, official_values

    a = anchors[A]
    twice = [_box(a, 0, 0, 10, 10), _box(a, 0, 0, 10, 10), _box(a, 2, 2, 3, 3)]
    layers = collect(forest=_write(tmp_path / "dup.gpkg", twice, n=[1, 2, 3]))
    zones = ZoneSet.load("league")
    found = official_values(zones, layers)
    area = dict(zip(zones.ids, found.values["forest_area"], strict=True))
    assert area[A] == pytest.approx(100.0, rel=REL)


def test_degree_names_and_codes():
    from geo.official import degree_codes

    values = pd.Series(["轻度", "Moderate", " severe ", "极重度", 1, 2.0, "3", "中度沙化"])
    assert degree_codes(values, "f", "d").tolist() == [1, 2, 3, 4, 1, 2, 3, 2]


def test_report_cli_writes_tables_marked_official(barrier, tmp_path, files, cache):
    out = tmp_path / "report"
    code, _, err = barrier(
        "report", "--quiet", "--tables-only", "--out", out, "--cache", cache,
        "--forest", files["forest"], "--sandified", files["sandified"],
        "--sandified-field", "degree",
    )  # fmt: skip
    assert code == 0, err
    assert "two sandification degrees" in err
    league = pd.read_csv(out / "tables" / "indicators_league.csv", dtype={"adcode": str})
    league = league.set_index("adcode")
    assert league.loc[A, "forest_area_km2"] == pytest.approx(175.0, rel=1e-3)
    assert league.loc[B, "sandified_area_km2"] == pytest.approx(29.0, rel=1e-3)
    assert league.loc[A, "forest_cover_pct_basis"] == "official"
    assert "forest_cover_proxy_pct" in league and "forest_area_proxy_km2" in league
    long = pd.read_csv(out / "tables" / "indicators_long.csv", dtype={"id": str})
    rows = long[(long["id"] == A) & (long["indicator"] == "forest_area")]
    assert rows["official"].astype(str).isin(["yes / 是"]).all()
    assert (rows["basis"] == "official").all()
    sheet = pd.read_excel(out / "tables" / "indicators.xlsx", sheet_name="league", header=None)
    assert "forest_cover_proxy_pct" in sheet.to_numpy().ravel().tolist()
    record = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(record["parameters"]["official_layers"]) == {"forest", "sandified"}


def test_stats_cli_adds_official_columns(barrier, tmp_path, files, cache):
    out = tmp_path / "stats.csv"
    code, _, err = barrier(
        "stats", "--zones", "league", "--layer", "ndvi_max", "--cache", cache,
        "--grassland", files["grassland"], "--forest", files["forest"], "-o", out,
    )  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(out, dtype={"adcode": str}).set_index("adcode")
    assert table.loc[A, "forest_area_km2"] == pytest.approx(175.0, rel=1e-3)
    assert table.loc[B, "forest_area_km2"] == pytest.approx(200.0, rel=1e-3)
    assert table.loc[A, "grassland_area_km2"] == pytest.approx(100.0, rel=1e-3)
    assert (table["forest_area_basis"] == "official").all()
    record = json.loads(out.with_name(out.name + ".manifest.json").read_text(encoding="utf-8"))
    assert record["parameters"]["official"] is True


@pytest.fixture
def bad_layers(tmp_path, anchors):
    a = anchors[A]
    empty = gpd.GeoDataFrame({"degree": []}, geometry=[], crs=EQUAL_AREA)
    empty.to_file(tmp_path / "empty.gpkg")
    (tmp_path / "notes.txt").write_text("not a map\n", encoding="utf-8")
    (tmp_path / "fake.tif").write_text("not a raster\n", encoding="utf-8")
    return {
        "missing": tmp_path / "nowhere.gpkg",
        "text": tmp_path / "notes.txt",
        "fake": tmp_path / "fake.tif",
        "empty": tmp_path / "empty.gpkg",
        "heavy": _write(tmp_path / "heavy.gpkg", [_box(a, 0, 0, 1, 1)] * 2, degree=["heavy", 9]),
        "nodegree": _write(tmp_path / "nodeg.gpkg", [_box(a, 0, 0, 1, 1)], grade=["轻度"]),
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--forest", "missing"), "does not exist"),
        (("--grassland", "text"), "not a readable vector file"),
        (("--forest", "fake"), "not a readable raster"),
        (("--forest", "empty"), "holds no features"),
        (
            ("--sandified", "heavy", "--sandified-field", "degree"),
            "field 'degree' has values that are not a sandification degree ('9', 'heavy')",
        ),
        (("--sandified", "nodegree", "--sandified-field", "degree"), "no field 'degree'"),
        (("--sandified", "nodegree"), "needs --sandified-field"),
        (("--sandified-field", "degree"), "give it"),
        (("--forest", "empty", "--stat", "area", "--long"), "drop --long"),
    ],
)
def test_bad_official_inputs_exit_2_nothing_written(barrier, tmp_path, bad_layers, args, message):
    argv = [str(bad_layers.get(a, a)) for a in args]
    out = tmp_path / "stats.csv"
    code, _, err = barrier("stats", "--zones", "league", "--layer", "ndvi_max", *argv, "-o", out)
    assert code == 2
    assert message in err and "Traceback" not in err
    if args[0] != "--sandified-field" and "--long" not in args:
        assert str(bad_layers[args[1]].name) in err  # the message names the file
    assert not out.exists()


def test_bad_official_input_report_writes_nothing(barrier, tmp_path, bad_layers, cache):
    out = tmp_path / "report"
    code, _, err = barrier(
        "report", "--quiet", "--tables-only", "--out", out, "--cache", cache,
        "--sandified", bad_layers["heavy"], "--sandified-field", "degree",
    )  # fmt: skip
    assert code == 2 and "field 'degree'" in err and "heavy.gpkg" in err
    assert not out.exists()


def test_polygons_outside_the_region_warn(barrier, tmp_path):
    far = _write(tmp_path / "far.gpkg", [shapely.box(-9e6, -9e6, -8.9e6, -8.9e6)], n=[1])
    out = tmp_path / "stats.csv"
    code, _, err = barrier(
        "stats", "--zones", "league", "--layer", "ndvi_max", "--forest", far, "-o", out
    )
    assert code == 0
    assert "no polygon lies inside the region" in err
    assert (pd.read_csv(out)["forest_area_km2"] == 0).all()


def test_official_values_have_no_proxy_detection_limit(computed):
    from geo.summary import below_detection

    official, proxy = computed
    # the proxy cannot see forest below one 5 km cell; an official figure has no such limit
    assert below_detection(proxy.wide["league"], "forest_cover_pct").any()
    assert not below_detection(official.wide["league"], "forest_cover_pct").any()
    assert not official.wide["league"]["forest_cover_pct_below_detection"].any()


def test_proxy_vs_official_compares_the_proxy_kept_beside():
    from geo.summary import proxy_vs_official

    province = pd.DataFrame({"forest_cover_pct": [30.0], "forest_cover_proxy_pct": [5.0]})
    versus = proxy_vs_official(province).set_index("indicator")
    assert versus.loc["forest_cover_pct", "proxy_value"] == 5.0


def test_redline_proxy_kept_beside(computed, files, cache):
    from geo.pipeline import compute_all

    _, proxy = computed
    red = gpd.read_file(files["forest"])  # any polygons will do
    both = compute_all(levels=("league",), redline=red, cache=cache).wide["league"]
    table = both.set_index("adcode")
    assert table.loc[A, "redline_area_km2"] == pytest.approx(175.0, rel=REL)
    assert (table["redline_pct_basis"] == "official").all()
    np.testing.assert_array_equal(both["redline_proxy_pct"], proxy.wide["league"]["redline_pct"])


def _forest_raster(path, anchor, values):
    """A 1 km grid in the equal-area CRS whose lower-left corner is ``anchor``."""
    import rasterio
    from rasterio.transform import from_origin

    rows, cols = values.shape
    transform = from_origin(anchor[0], anchor[1] + rows * 1000.0, 1000.0, 1000.0)
    with rasterio.open(
        path, "w", driver="GTiff", width=cols, height=rows, count=1, dtype="uint8",
        crs=EQUAL_AREA.to_wkt(), transform=transform, nodata=255,
    ) as dst:  # fmt: skip
        dst.write(values.astype("uint8"), 1)
    return path


def test_forest_raster_of_zeros_and_ones(barrier, tmp_path, anchors):
    grid = np.zeros((20, 20))
    grid[:5, :10] = 1  # 50 cells of 1 km²
    grid[10:, :] = 255  # nodata
    path = _forest_raster(tmp_path / "forest.tif", anchors[A], grid)
    out = tmp_path / "stats.csv"
    code, _, err = barrier(
        "stats", "--zones", "league", "--layer", "ndvi_max", "--forest", path, "-o", out
    )
    assert code == 0, err
    table = pd.read_csv(out, dtype={"adcode": str}).set_index("adcode")
    assert table.loc[A, "forest_area_km2"] == pytest.approx(50.0, rel=1e-4)
    assert table.loc[B, "forest_area_km2"] == 0
    grid[0, 0] = 7
    _forest_raster(path, anchors[A], grid)
    code, _, err = barrier(
        "stats", "--zones", "league", "--layer", "ndvi_max", "--forest", path, "-o", out
    )
    assert code == 2 and "forest.tif" in err and "holds values 7" in err


def test_people_headers_say_official(barrier, tmp_path, files, cache):
    out = tmp_path / "stats.csv"
    code, _, err = barrier(
        "stats", "--zones", "league", "--layer", "ndvi_max", "--cache", cache, "--lang", "zh",
        "--forest", files["forest"], "-o", out,
    )  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(out)
    assert "森林面积（官方） [平方公里]" in table.columns
    assert not any("（遥感估算）" in c for c in table.columns if "森林" in c)
    assert set(table["森林面积：依据：官方或遥感估算"]) == {"官方"}


def test_maps_and_charts_name_official_values(computed):
    from geo.indicators import marked

    official, proxy = computed
    ind = marked("forest_cover_pct", official.wide["league"])
    assert ind.official and ind.name_en == "Forest coverage rate (official)"
    assert ind.name_zh == "森林覆盖率（官方）"
    assert ind.target == 21.98  # the official value is the one judged
    assert not marked("forest_cover_pct", proxy.wide["league"]).official
    assert not marked("grassland_fvc_pct", official.wide["league"]).official  # estimated


def test_invalid_polygons_repaired_with_a_warning(barrier, tmp_path, anchors):
    x, y = anchors[A]
    km = 1000.0
    # a bow tie over a 10 × 10 km square: make_valid keeps two triangles of 25 km² each
    bowtie = shapely.Polygon(
        [(x, y), (x + 10 * km, y + 10 * km), (x + 10 * km, y), (x, y + 10 * km)]
    )
    assert not bowtie.is_valid
    path = _write(tmp_path / "bowtie.gpkg", [bowtie], n=[1])
    out = tmp_path / "stats.csv"
    code, _, err = barrier(
        "stats", "--zones", "league", "--layer", "ndvi_max", "--forest", path, "-o", out
    )
    assert code == 0 and "invalid polygon" in err and "bowtie.gpkg" in err
    table = pd.read_csv(out, dtype={"adcode": str}).set_index("adcode")
    assert table.loc[A, "forest_area_km2"] == pytest.approx(50.0, rel=1e-3)


def test_polygons_across_zone_boundaries_split_exactly(tmp_path, anchors):
    from geo.official import collect, official_values
    from geo.zones import load
    from geo.zoneset import as_zone_set

    a = anchors[A]
    # two user zones side by side (20 × 20 km each); forest 10 × 4 km across their border,
    # 3 km in the west zone and 7 km in the east, plus 2 × 2 km wholly in the west
    zones = [_box(a, 0, 0, 20, 20), _box(a, 20, 0, 20, 20)]
    path = _write(tmp_path / "zones.gpkg", zones, zone=["west", "east"], name=["W", "E"])
    forest = [_box(a, 17, 5, 10, 4), _box(a, 2, 2, 2, 2)]
    layers = collect(forest=_write(tmp_path / "f.gpkg", forest, n=[1, 2]))
    zone_set = load(path, id_field="zone", name_field="name")
    found = official_values(as_zone_set(zone_set), layers)
    area = dict(zip(as_zone_set(zone_set).ids, found.values["forest_area"], strict=True))
    assert area["west"] == pytest.approx(3 * 4 + 2 * 2, rel=REL)
    assert area["east"] == pytest.approx(7 * 4, rel=REL)
    assert found.values["forest_cover_pct"] == pytest.approx(
        [100 * 16 / 400, 100 * 28 / 400], rel=REL
    )


def test_official_value_has_no_method_spread():
    from geo.summary import method_spread

    sensitivity = pd.DataFrame({"choice": ["a", "b"], "forest_cover_pct": [1.0, 3.0]})
    assert method_spread(sensitivity, "forest_cover_pct") == (1.0, 3.0)
    assert method_spread(sensitivity, "forest_cover_pct", "official") is None


def test_map_popups_name_official_values(computed):
    import json as js

    from geo.indicators import marked
    from geo.maps.popups import features

    official, _ = computed
    leagues = official.with_geometry("league")
    data, _script = features(
        leagues, "forest_cover_pct", ["#000"] * len(leagues), marked("forest_cover_pct", leagues)
    )
    text = js.dumps(data, ensure_ascii=False) + getattr(_script, "js_code", str(_script))
    assert "Forest coverage rate (official) / 森林覆盖率（官方） [%]" in text
    assert "Forest area (official) / 森林面积（官方）" in text
    assert "Forest coverage rate (proxy), beside the official value" in text


def test_source_crs_applies_to_official_layers_over_shipped_zones(barrier, tmp_path, anchors):
    from geo.crs import wgs84_to_gcj02

    x, y = anchors[A]
    square = gpd.GeoSeries([_box((x, y), 0, 0, 10, 10)], crs=EQUAL_AREA).to_crs("EPSG:4326")
    shifted = shapely.transform(square.iloc[0], lambda xy: np.column_stack(wgs84_to_gcj02(*xy.T)))
    path = tmp_path / "gcj.gpkg"
    gpd.GeoDataFrame({"n": [1]}, geometry=[shifted], crs="EPSG:4326").to_file(path)
    out = tmp_path / "stats.csv"
    code, _, err = barrier(
        "stats", "--zones", "league", "--layer", "ndvi_max", "--forest", path,
        "--source-crs", "gcj02", "-o", out,
    )  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(out, dtype={"adcode": str}).set_index("adcode")
    assert table.loc[A, "forest_area_km2"] == pytest.approx(100.0, rel=1e-4)


def test_grassland_cover_over_pieces_in_several_zones(computed, tmp_path, anchors):
    from exactextract import exact_extract

    from geo.official import collect, official_values

    official, _ = computed
    fvc = official.layers["fvc"].path
    # grassland in the second league (B) and across nothing else: zone A has none
    square = _box(anchors[B], 5, 5, 10, 10)
    layers = collect(grassland=_write(tmp_path / "g.gpkg", [square], n=[1]))
    zones = ZoneSet.load("league")
    found = official_values(zones, layers, fvc=fvc)
    mean = dict(zip(zones.ids, found.values["grassland_fvc_pct"], strict=True))
    box = gpd.GeoDataFrame(geometry=[square], crs=EQUAL_AREA).to_crs("EPSG:4326")
    expected = exact_extract(str(fvc), box, "mean", output="pandas")["mean"].iloc[0]
    assert mean[B] == pytest.approx(expected, rel=1e-3)
    assert np.isnan(mean[A])
