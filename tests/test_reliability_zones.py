"""Users' zone files and other polygon inputs: identifiers, names, attributes, silent choices.

Every case goes through the ``barrier`` command where it can: exit 2 with one line naming the
file, or exit 0 with the right numbers and, where the toolkit chose something, a warning line.
"""

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import boundaries, cli, crs, vectors, zones
from geo.errors import GeoWarning
from geo.maps import interactive


def _leagues():
    return boundaries.load("league")[["adcode", "name_zh", "name_en", "geometry"]].reset_index(
        drop=True
    )


def _error(err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "error:" in lines[0] and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], (needle, err)


@pytest.fixture(scope="module")
def league_stats(tmp_path_factory):
    """``stats --zones league`` for ndvi_max mean, the reference of the file-based runs."""
    out = tmp_path_factory.mktemp("ref") / "league.csv"
    assert cli.main(["stats", "--zones", "league", "--layer", "ndvi_max", "-o", str(out)]) == 0
    return pd.read_csv(out, dtype={"adcode": str}).set_index("adcode")


# --------------------------------------------------------------------------- identifiers


def test_float_ids_become_integer_strings(barrier, tmp_path, league_stats):
    # what a DBF numeric field or an integer column with a null gives: 150200.0
    gdf = _leagues().assign(adcode=lambda d: d.adcode.astype(float))
    path = tmp_path / "float.gpkg"
    gdf.to_file(path)
    out = tmp_path / "o.csv"
    code, _, err = barrier("stats", "--zones", path, "--layer", "ndvi_max", "-o", out)
    assert code == 0, err
    table = pd.read_csv(out, dtype={"zone": str}).set_index("zone")
    assert sorted(table.index) == sorted(boundaries.load("league").adcode)
    assert table.loc[league_stats.index, "ndvi_max_mean"].to_numpy() == pytest.approx(
        league_stats["ndvi_max_mean"].to_numpy(), rel=1e-9
    )


def test_null_id_is_an_error_naming_field_and_feature(barrier, tmp_path):
    gdf = _leagues().assign(code=[float(i) for i in range(12)])
    gdf.loc[[3, 7], "code"] = np.nan
    path = tmp_path / "null.geojson"
    gdf.drop(columns="adcode").to_file(path)
    out = tmp_path / "o.csv"
    code, _, err = barrier("stats", "--zones", path, "--layer", "ndvi_max", "-o", out)
    assert code == 2
    _error(err, str(path), "'code'", "feature(s) 4, 8", "--id-field")
    assert not out.exists()


def test_empty_and_blank_ids_are_errors(barrier, tmp_path):
    gdf = _leagues().head(3).assign(adcode=["150100", "   ", "150300"])
    path = tmp_path / "blank.geojson"
    gdf.to_file(path)
    code, _, err = barrier("stats", "--zones", path, "--layer", "ndvi_max")
    assert code == 2
    _error(err, "'adcode' is empty for feature(s) 2")


def test_ids_equal_after_cleaning_are_duplicates(barrier, tmp_path):
    gdf = _leagues().head(3).assign(adcode=["150100", " 150100", "150300"])
    path = tmp_path / "dupes.geojson"
    gdf.to_file(path)
    code, _, err = barrier("stats", "--zones", path, "--layer", "ndvi_max")
    assert code == 2
    assert "repeat: 150100 (features 1, 2)" in err


def test_leading_zeros_and_non_whole_floats_kept(barrier, tmp_path):
    gdf = _leagues().head(3).assign(code=["0150", "00151", "7"])
    path = tmp_path / "zeros.geojson"
    gdf.drop(columns="adcode").to_file(path)
    code, out, err = barrier("stats", "--zones", path, "--layer", "ndvi_max")
    assert code == 0, err
    assert pd.read_csv(pd.io.common.StringIO(out), dtype=str)["zone"].tolist() == [
        "0150",
        "00151",
        "7",
    ]
    floats = _leagues().head(2).assign(adcode=[1.5, 2.0])
    floats.to_file(tmp_path / "floats.gpkg")
    assert zones.load(tmp_path / "floats.gpkg").index.tolist() == ["1.5", "2"]


def test_very_long_ids_refused_long_names_cut(barrier, tmp_path):
    gdf = _leagues().head(2).assign(adcode=["a" * 300, "b"])
    gdf.to_file(tmp_path / "longid.gpkg")
    code, _, err = barrier("stats", "--zones", tmp_path / "longid.gpkg", "--layer", "ndvi")
    assert code == 2
    _error(err, "longer than 255 characters (feature 1)")
    gdf = _leagues().head(2).assign(name_zh=["长" * 5000, "短"])
    gdf.to_file(tmp_path / "longname.gpkg")
    out = tmp_path / "o.xlsx"
    code, _, err = barrier(
        "stats", "--zones", tmp_path / "longname.gpkg", "--layer", "ndvi", "-o", out
    )
    assert code == 0, err
    assert "warning:" in err and "cut to 200" in err and "feature(s) 1" in err
    names = pd.read_excel(out)["name_zh"].tolist()
    assert len(names[0]) == 200 and names[0].endswith("…") and names[1] == "短"


# --------------------------------------------------------------------------- names


def test_gbk_shapefile_with_upper_case_name_field(barrier, tmp_path, league_stats):
    # the usual shapefile: ADCODE, NAME in Chinese, GBK, further attributes
    shp = tmp_path / "gbk.shp"
    gdf = _leagues().rename(columns={"adcode": "ADCODE", "name_zh": "NAME"})
    gdf = gdf.drop(columns="name_en").assign(POP=np.arange(12) * 1000, REMARK="备注")
    gdf.to_file(shp, encoding="GBK")
    out = tmp_path / "o.csv"
    code, _, err = barrier("stats", "--zones", shp, "--layer", "ndvi_max", "-o", out)
    assert code == 0, err
    table = pd.read_csv(out, dtype={"zone": str}).set_index("zone")
    shipped = boundaries.load("league").set_index("adcode")
    assert table.loc[shipped.index, "name_zh"].tolist() == shipped["name_zh"].tolist()
    assert table.loc[league_stats.index, "ndvi_max_mean"].to_numpy() == pytest.approx(
        league_stats["ndvi_max_mean"].to_numpy(), rel=1e-9
    )
    loaded = zones.load(shp)
    attrs = zones.user_attributes(loaded)
    assert list(attrs.columns) == ["POP", "REMARK"]
    assert attrs.loc["150200", "POP"] == 1000 and attrs.loc["150200", "REMARK"] == "备注"
    assert loaded.attrs["user_fields"] == ["POP", "REMARK"]


@pytest.mark.parametrize(
    ("fields", "id_field", "zh", "en"),
    [
        ({"XZQDM": "code", "XZQMC": "zh"}, "XZQDM", "XZQMC", "XZQMC"),
        ({"PAC": "code", "名称": "zh"}, "PAC", "名称", "名称"),
        ({"qhdm": "code", "QHMC": "zh", "NAME": "en"}, "qhdm", "QHMC", "NAME"),
        ({"Code": "code", "Name": "en", "NAME_ZH": "zh"}, "Code", "NAME_ZH", "Name"),
        ({"ADCODE": "code", "NAME": "en", "xzqmc": "zh"}, "ADCODE", "xzqmc", "NAME"),
    ],
)
def test_chinese_field_conventions(tmp_path, fields, id_field, zh, en):
    base = _leagues().head(3)
    source = {"code": base.adcode, "zh": base.name_zh, "en": base.name_en}
    gdf = gpd.GeoDataFrame(
        {name: source[kind].to_numpy() for name, kind in fields.items()},
        geometry=base.geometry.to_numpy(),
        crs=4326,
    )
    path = tmp_path / "conv.gpkg"
    gdf.to_file(path)
    loaded = zones.load(path)
    assert loaded.index.tolist() == base.adcode.tolist()
    assert loaded.attrs["id_field"] == id_field and loaded.attrs["name_fields"] == [zh, en]
    assert loaded["name_zh"].tolist() == gdf[zh].tolist()
    assert loaded["name_en"].tolist() == gdf[en].tolist()
    assert zones.user_attributes(loaded).columns.tolist() == []


def test_name_field_option_and_nan_names(barrier, tmp_path):
    base = _leagues().head(3)
    gdf = gpd.GeoDataFrame(
        {
            "code": base.adcode.to_numpy(),
            "NAME": ["x1", "x2", "x3"],
            "MC": [base.name_zh[0], None, base.name_zh[2]],
        },
        geometry=base.geometry.to_numpy(),
        crs=4326,
    )
    path = tmp_path / "two_names.gpkg"
    gdf.to_file(path)
    code, out, err = barrier("stats", "--zones", path, "--name-field", "mc", "--layer", "ndvi_max")
    assert code == 0, err
    table = pd.read_csv(pd.io.common.StringIO(out), dtype=str)
    # the missing name falls back to the identifier, never the text "nan"
    assert table["name_zh"].tolist() == [base.name_zh[0], base.adcode[1], base.name_zh[2]]
    assert table["name_en"].tolist() == ["x1", "x2", "x3"]
    code, _, err = barrier("stats", "--zones", path, "--name-field", "nope", "--layer", "ndvi_max")
    assert code == 2
    _error(err, "no field 'nope' for --name-field", "code, NAME, MC")
    code, _, err = barrier(
        "stats", "--zones", "league", "--name-field", "NAME", "--layer", "ndvi_max"
    )
    assert code == 2
    _error(err, "--name-field applies to a zone file")


def test_user_fields_named_like_toolkit_columns_are_prefixed(tmp_path):
    base = _leagues().head(2)
    gdf = base.assign(area_km2=[1.0, 2.0], level=["a", "b"], Zone=["z", "y"])
    gdf.to_file(tmp_path / "clash.gpkg")
    loaded = zones.load(tmp_path / "clash.gpkg")
    # a user's area_km2 must never stand in for the computed zone area
    assert loaded["level"].tolist() == ["user", "user"]
    assert zones.user_attributes(loaded).columns.tolist() == [
        "user_area_km2",
        "user_level",
        "user_Zone",
    ]
    assert "area_km2" not in loaded.columns


def test_zones_without_id_field_say_so(barrier, tmp_path):
    gdf = gpd.GeoDataFrame({"x": [1, 2]}, geometry=list(_leagues().geometry[:2]), crs=4326)
    gdf.to_file(tmp_path / "noid.gpkg")
    code, out, err = barrier("stats", "--zones", tmp_path / "noid.gpkg", "--layer", "ndvi")
    assert code == 0 and "no identifier field" in err and "--id-field" in err
    assert pd.read_csv(pd.io.common.StringIO(out))["zone"].tolist() == [0, 1]


# --------------------------------------------------------------------------- text cleaning


def test_control_characters_cleaned_with_warning(barrier, tmp_path):
    gdf = _leagues().head(3)
    gdf["name_zh"] = ["呼和\x0b浩特\x00", "  包头\r\n市 ", gdf.name_zh[2]]
    gdf["NOTE2"] = ["ok", "bad\x07bell", "ok"]
    path = tmp_path / "word.gpkg"
    gdf.to_file(path)
    out = tmp_path / "o.xlsx"
    code, _, err = barrier("stats", "--zones", path, "--layer", "ndvi_max", "-o", out)
    assert code == 0, err
    warning = [line for line in err.splitlines() if "warning:" in line]
    assert len(warning) == 1 and str(path) in warning[0]
    assert "name_zh, NOTE2" in warning[0] and "feature(s) 1, 2" in warning[0]
    table = pd.read_excel(out, dtype={"zone": str})
    assert table["name_zh"].tolist() == ["呼和浩特", "包头 市", gdf.name_zh[2]]


def test_control_characters_in_ids_cleaned(tmp_path):
    gdf = _leagues().head(2).assign(adcode=["150100\x1f", "150200\t"])
    gdf.to_file(tmp_path / "ids.gpkg")
    with pytest.warns(GeoWarning, match="adcode"):
        loaded = zones.load(tmp_path / "ids.gpkg")
    assert loaded.index.tolist() == ["150100", "150200"]


# --------------------------------------------------------------------------- formats


def test_csv_without_geometry_is_a_clear_error(barrier, tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text("adcode,name\n150100,a\n150200,b\n", encoding="utf-8")
    for extra in ([], ["--source-crs", "gcj02"], ["--source-crs", "EPSG:4326"]):
        code, _, err = barrier("stats", "--zones", plain, *extra, "--layer", "ndvi")
        assert code == 2
        _error(err, str(plain), "no geometry column", "adcode, name", "WKT")


def test_csv_with_wkt_geometry_column(barrier, tmp_path):
    box = shapely.box(110, 40, 111, 41)
    path = tmp_path / "wkt.csv"
    path.write_text(f'code,geometry\n0150,"{box.wkt}"\n', encoding="utf-8")
    code, out, err = barrier(
        "stats", "--zones", path, "--source-crs", "EPSG:4326", "--layer", "ndvi_max"
    )
    assert code == 0, err
    table = pd.read_csv(pd.io.common.StringIO(out), dtype={"zone": str})
    assert table["zone"].tolist() == ["0150"] and list(table.columns[:4]) == [
        "zone",
        "name_zh",
        "name_en",
        "level",
    ]
    ref = gpd.GeoDataFrame({"zone": ["0150"]}, geometry=[box], crs=4326)
    ref.to_file(tmp_path / "ref.gpkg")
    code, out2, _ = barrier("stats", "--zones", tmp_path / "ref.gpkg", "--layer", "ndvi_max")
    assert out == out2


def test_mixed_geometries_name_the_features(barrier, tmp_path):
    path = tmp_path / "mixed.geojson"
    gpd.GeoDataFrame(
        {"adcode": ["1", "2", "3"]},
        geometry=[shapely.box(110, 40, 111, 41), shapely.Point(112, 42), shapely.box(1, 1, 2, 2)],
        crs=4326,
    ).to_file(path)
    code, _, err = barrier("stats", "--zones", path, "--layer", "ndvi")
    assert code == 2
    _error(err, "must hold polygons only", "feature(s) 2 are not polygons")


def test_multi_layer_geopackage_choice_is_said_and_recorded(barrier, tmp_path):
    path = tmp_path / "two.gpkg"
    _leagues().head(2).to_file(path, layer="first")
    _leagues().tail(3).to_file(path, layer="second")
    out = tmp_path / "o.csv"
    code, _, err = barrier("stats", "--zones", path, "--layer", "ndvi_max", "-o", out)
    assert code == 0, err
    assert "2 layers (first, second); using the first, 'first'" in err
    assert "--zones-layer" in err
    assert len(pd.read_csv(out)) == 2
    manifest = json.loads((tmp_path / "o.csv.manifest.json").read_text(encoding="utf-8"))
    assert "(layer first)" in json.dumps(manifest, ensure_ascii=False)
    code, _, err = barrier(
        "stats",
        "--zones",
        path,
        "--zones-layer",
        "second",
        "--layer",
        "ndvi_max",
        "-o",
        out,
    )
    assert code == 0 and "warning" not in err and len(pd.read_csv(out)) == 3
    assert zones.load(path, layer="second").attrs["layer"] == "second"


# --------------------------------------------------------------------------- GCJ-02


def test_needless_gcj02_correction_is_warned(barrier, tmp_path):
    path = tmp_path / "wgs84.gpkg"
    _leagues().to_file(path)
    code, _, err = barrier("stats", "--zones", path, "--source-crs", "gcj02", "--layer", "ndvi_max")
    assert code == 0, err
    warning = [line for line in err.splitlines() if "warning:" in line]
    assert len(warning) == 1 and "looks like WGS84 already" in warning[0]
    # the offsets measured independently: vertices as given sit on the shipped edges
    given = float(warning[0].split("offset ")[1].split(" m")[0])
    moved = float(warning[0].split("m as given, ")[1].split(" m")[0])
    assert given < 5 and moved > 100


def test_gcj02_on_zones_off_any_boundary_is_silent(barrier, tmp_path):
    path = tmp_path / "boxes.gpkg"
    boxes = [shapely.box(110.13, 40.17, 110.61, 40.53), shapely.box(114.21, 43.02, 114.83, 43.6)]
    gpd.GeoDataFrame({"zone": ["a", "b"]}, geometry=boxes, crs=4326).to_file(path)
    code, _, err = barrier("stats", "--zones", path, "--source-crs", "gcj02", "--layer", "ndvi")
    assert code == 0 and "warning" not in err, err


def test_gcj02_refused_for_projected_coordinates(barrier, tmp_path):
    path = tmp_path / "metres.gpkg"
    _leagues().to_crs(crs.EQUAL_AREA).to_file(path)
    code, _, err = barrier("stats", "--zones", path, "--source-crs", "gcj02", "--layer", "ndvi_max")
    assert code == 2
    _error(err, "projected CRS", "longitude/latitude")


# --------------------------------------------------------------------------- siblings


def test_other_polygon_readers_clean_and_warn(tmp_path):
    path = tmp_path / "red.gpkg"
    gdf = _leagues().head(2).assign(name_zh=["红线\x0c", "ok"])
    gdf.to_file(path, layer="a")
    gdf.to_file(path, layer="b")
    with pytest.warns(GeoWarning) as caught:
        red = vectors.read_polygons(path, what="red line")
    messages = [str(w.message) for w in caught]
    assert any("2 layers (a, b)" in m and "export the one you mean alone" in m for m in messages)
    assert any("control characters" in m and "feature(s) 1" in m for m in messages)
    assert red["name_zh"].tolist() == ["红线", "ok"] and red.attrs["layer"] == "a"


# --------------------------------------------------------------------------- big maps


def _features(page: str) -> list[dict]:
    """The zone features folium embedded in a saved page."""
    start = re.search(r"geo_json_\w+_add\(", page).end()
    return json.JSONDecoder().raw_decode(page, start)[0]["features"]


def _grid(n: int) -> gpd.GeoDataFrame:
    side = np.sqrt(12 * 6 / n)
    xs, ys = np.arange(108, 120, side), np.arange(40, 46, side)
    boxes = [shapely.box(x, y, x + side, y + side) for y in ys for x in xs][:n]
    return gpd.GeoDataFrame(
        {"zone": [f"Z{i:05d}" for i in range(len(boxes))], "name_zh": "格", "name_en": "cell"},
        geometry=boxes,
        crs=4326,
    )


@pytest.mark.slow
def test_map_of_50000_zones_stays_under_budget(tmp_path):
    grid = _grid(50_000)
    grid["level"] = "user"
    values = np.linspace(0, 100, len(grid))
    grid["grassland_fvc_pct"] = values
    attrs = pd.DataFrame({"OWNER": ["村" + str(i) for i in range(len(grid))]}, index=grid.zone)
    m = interactive.choropleth(grid, "grassland_fvc_pct", offline=True, attributes=attrs)
    path = interactive.save(m, tmp_path / "big.html")
    size = path.stat().st_size
    assert size < interactive.MAP_BUDGET_MB * 1e6, size
    page = path.read_text(encoding="utf-8")
    # compact popups: every value and the user's attribute are there, as data not HTML
    features = _features(page)
    assert len(features) == 50_000
    assert features[-1]["properties"]["r"] == ["格 / cell", "100", "Z49999", "村49999"]
    assert "OWNER" in page and page.count("geo-popup") < 10


def test_map_cli_many_zones_compact_and_refusal(barrier, tmp_path, monkeypatch):
    path = tmp_path / "grid.gpkg"
    grid = _grid(2_100).assign(OWNER="牧民合作社")
    grid.to_file(path)
    out = tmp_path / "m.html"
    code, _, err = barrier(
        "map", "--zones", path, "--indicator", "grassland_fvc_pct", "--offline", "-o", out
    )
    assert code == 0, err
    features = _features(out.read_text(encoding="utf-8"))
    assert len(features) == len(grid) and all("p" not in f["properties"] for f in features)
    assert features[0]["properties"]["r"][0] == "格 / cell"
    assert features[0]["properties"]["r"][-1] == "牧民合作社"
    assert out.stat().st_size < 2_100 * 1_000  # < 1 kB a zone (main: 3.9 kB)
    monkeypatch.setattr(interactive, "MAX_MAP_MB", 0.1)
    out2 = tmp_path / "refused.html"
    code, _, err = barrier("map", "--zones", path, "--indicator", "grassland_fvc_pct", "-o", out2)
    assert code == 2 and not out2.exists()
    _error(err, "2,100 zones", "over the 0 MB", "QGIS")


def test_map_popup_shows_user_attributes(tmp_path):
    table = _leagues().head(3).assign(level="user", grassland_fvc_pct=[10.0, 50.0, 90.0])
    table = table.rename(columns={"adcode": "zone"})
    attrs = pd.DataFrame({"负责人": ["张三", "李四", "<b>x</b>"]}, index=table.zone)
    m = interactive.choropleth(table, "grassland_fvc_pct", attributes=attrs)
    page = interactive.save(m, tmp_path / "m.html").read_text(encoding="utf-8")
    features = _features(page)
    labels = json.loads(re.search(r"var H = (\[.*?\]);", page).group(1))
    popups = [{labels[k]: text for k, text in f["properties"]["p"]} for f in features]
    assert popups[0]["负责人"] == "张三" and popups[1]["负责人"] == "李四"
    # hostile text stays text: the browser puts every cell in with textContent, never as HTML
    assert popups[2]["负责人"] == "<b>x</b>" and "<b>x</b>" not in page
    script = re.search(r"var H = .*?return t;", page, re.S).group(0)
    assert "textContent" in script and "innerHTML" not in script


def test_report_zone_fields_need_a_zone_file(barrier, tmp_path):
    out = tmp_path / "rep"
    code, _, err = barrier("report", "--out", out, "--name-field", "NAME", "--quiet")
    assert code == 2 and not out.exists()
    _error(err, "--name-field apply to --zones FILE")


def test_report_uses_name_field_of_zone_file(barrier, tmp_path):
    own = _leagues().rename(columns={"adcode": "XZQDM", "name_zh": "MC"}).drop(columns="name_en")
    own.to_file(tmp_path / "own.gpkg")
    out = tmp_path / "rep"
    code, _, err = barrier(
        "report",
        "--out",
        out,
        "--tables-only",
        "--quiet",
        "--zones",
        tmp_path / "own.gpkg",
        "--name-field",
        "mc",
    )
    assert code == 0, err
    table = pd.read_csv(out / "tables" / "indicators_user.csv", dtype={"zone": str})
    shipped = boundaries.load("league").set_index("adcode")["name_zh"]
    assert table["name_zh"].tolist() == shipped.loc[table["zone"]].tolist()


@pytest.mark.browser
def test_compact_popups_in_browser(tmp_path):
    import browser as cdp  # tests/browser.py (pytest puts tests/ on sys.path)

    reason = cdp.available()
    if reason:
        pytest.skip(f"browser tests need headless Chromium: {reason}")
    grid = _grid(2_100).assign(level="user", grassland_fvc_pct=50.0)
    attrs = pd.DataFrame({"OWNER": '<img src=x onerror="alert(1)">'}, index=grid.zone)
    m = interactive.choropleth(grid, "grassland_fvc_pct", offline=True, attributes=attrs)
    with cdp.Browser() as chrome:
        page = chrome.open(interactive.save(m, tmp_path / "lean.html"))
        try:
            shown = page.evaluate(
                """(() => {
                const p = document.querySelectorAll('path.geo-zone')[0];
                const r = p.getBoundingClientRect();
                const o = {bubbles: true, clientX: r.x + r.width / 2, clientY: r.y + r.height / 2};
                p.dispatchEvent(new MouseEvent('mouseover', o));
                p.dispatchEvent(new MouseEvent('click', o));
                return Array.from(document.querySelectorAll('.leaflet-tooltip, .leaflet-popup'))
                    .map(e => e.textContent).join(' ');
                })()"""
            )
            assert page.evaluate("document.querySelectorAll('path.geo-zone').length") == 2_100
            assert "格 / cell" in shown and "OWNER" in shown and "onerror" in shown
            assert page.dialogs == [] and page.errors == []
        finally:
            page.close()


def test_stats_table_carries_the_users_attributes(barrier, tmp_path, league_stats):
    """A user's own fields come through to the table, clashing ones renamed user_<name>."""
    gdf = _leagues().rename(columns={"name_zh": "XZQMC"})
    gdf["FZR"] = [f"负责人{k}" for k in range(len(gdf))]  # a bureau's own field
    gdf["ndvi_max_mean"] = 999.0  # named like a statistics column: must not replace it
    path = tmp_path / "own.gpkg"
    gdf.drop(columns="name_en").to_file(path)
    out = tmp_path / "o.csv"
    code, _, err = barrier("stats", "--zones", path, "--layer", "ndvi_max", "-o", out)
    assert code == 0, err
    table = pd.read_csv(out, dtype={"zone": str}).set_index("zone")
    assert list(table.columns[:4]) == ["name_zh", "name_en", "level", "FZR"]
    assert table.loc[gdf.adcode[3], "FZR"] == "负责人3"
    assert (table["user_ndvi_max_mean"] == 999.0).all()
    assert table.loc[league_stats.index, "ndvi_max_mean"].to_numpy() == pytest.approx(
        league_stats["ndvi_max_mean"].to_numpy(), rel=1e-9
    )
