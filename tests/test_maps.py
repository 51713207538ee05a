"""Tests of geo.maps: interactive (folium) and static (matplotlib) maps.

Browser tests open the saved HTML in headless Chromium (Debian ``chromium``; driver in
``tests/browser.py``, PyPI ``websocket-client``) with every outside request blocked; they are
skipped with the reason when either is missing.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import warnings

import browser as cdp  # tests/browser.py (pytest puts tests/ on sys.path)
import folium
import numpy as np
import pytest
import shapely
from PIL import Image

from geo import boundaries, cli
from geo.crs import wgs84_to_gcj02
from geo.errors import GeoError
from geo.indicators import Indicator
from geo.maps import interactive, overlays, static
from geo.units import area_columns

FVC = Indicator(
    id="grassland_fvc_pct",
    name_zh="草原植被盖度",
    name_en="Grassland vegetation cover",
    unit="%",
    direction=">=",
    target=50.0,
    target_year=2030,
    method="NDVI dimidiate pixel model",
)
XSS = "<script>alert(1)</script>"
MAX_BYTES = 1_500_000
#: A banner map (103 polygons, popups, Leaflet inlined) stays under this (measured ≈ 0.74 MB).
BANNER_MAP_BYTES = 1_000_000
#: Elements and calls that make the browser fetch a URL (tags also inside JSON strings, where
#: "<" is written \u003c and quotes \").
_LOADS = [
    re.compile(r"<(?:script|img|iframe|frame|embed|source|audio|video|object)\b[^>]*?"
               r"\b(?:src|data|srcset)\s*=\s*[\"']?\s*((?:https?:)?//[^\"'\s>]+)", re.I),
    re.compile(r"<link\b[^>]*?\bhref\s*=\s*[\"']?\s*((?:https?:)?//[^\"'\s>]+)", re.I),
    re.compile(r"url\(\s*[\"']?\s*((?:https?:)?//[^\"')\s]+)", re.I),
    re.compile(r"@import\s+[\"']\s*((?:https?:)?//[^\"'\s]+)", re.I),
    re.compile(r"L\.(?:tileLayer(?:\.wms)?|imageOverlay|videoOverlay|svgOverlay)\(\s*[\"']"
               r"((?:https?:)?//[^\"']+)"),
    re.compile(r"(?:\$\.ajax|\$\.getJSON|fetch|\.open)\(\s*(?:[\"'][A-Z]+[\"']\s*,\s*)?"
               r"[\"']((?:https?:)?//[^\"']+)"),
]  # fmt: skip


def outside_urls(page: str) -> list[str]:
    """Every URL on another host that a saved map makes the browser load.

    Links (``<a href>``, e.g. in the attribution) and URLs in text or in the code's comments and
    strings (SVG namespaces, Leaflet's own credit) load nothing and are not counted.
    """
    text = page.replace("\\u003c", "<").replace("\\u003e", ">").replace('\\"', '"')
    return [m.group(1) for pattern in _LOADS for m in pattern.finditer(text)]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def banners():
    gdf = boundaries.load("county")
    gdf["grassland_fvc_pct"] = np.linspace(20.0, 90.0, len(gdf))
    for key, value in area_columns("sandified", gdf["area_km2"] * 0.1).items():
        gdf[key] = value
    return gdf


@pytest.fixture(scope="module")
def battle_zones(banners):
    groups = {
        "horqin_hunshandake": (["152500", "150900"], "科尔沁、浑善达克", "Horqin–Hunshandake"),
        "hexi_taklimakan": (["152900", "150800"], "河西走廊—塔克拉玛干", "Hexi–Taklimakan"),
    }
    rows = []
    for zone, (leagues, zh, en) in groups.items():
        geom = shapely.union_all(banners[banners.league_adcode.isin(leagues)].geometry.values)
        rows.append({"zone": zone, "name_zh": zh, "name_en": en, "geometry": geom})
    import geopandas as gpd

    return gpd.GeoDataFrame(rows, crs=4326)


@pytest.fixture(scope="module")
def saved(banners, battle_zones, tmp_path_factory):
    """The banner map saved by default, online and offline (with overlays), built once."""
    out = tmp_path_factory.mktemp("maps")
    default = interactive.choropleth(banners, "grassland_fvc_pct", indicator=FVC)
    online = interactive.choropleth(banners, "grassland_fvc_pct", indicator=FVC, basemap="osm")
    offline = interactive.choropleth(
        banners,
        "grassland_fvc_pct",
        indicator=FVC,
        offline=True,
        overlays=["leagues", battle_zones, "landcover", "ndvi"],
    )
    plain = interactive.choropleth(banners, "grassland_fvc_pct", indicator=FVC, offline=True)
    return {
        "default": interactive.save(default, out / "default.html"),
        "online": interactive.save(online, out / "online.html"),
        "offline": interactive.save(offline, out / "offline.html"),
        "plain": interactive.save(plain, out / "plain.html"),
    }


@pytest.fixture(scope="module")
def chrome():
    reason = cdp.available()
    if reason:
        pytest.skip(f"browser tests need headless Chromium: {reason}")
    with cdp.Browser() as browser:
        yield browser


def _geojson(page: str) -> list[dict]:
    """Every GeoJSON object embedded by folium in a saved page."""
    decoder = json.JSONDecoder()
    return [decoder.raw_decode(page, m.end())[0] for m in re.finditer(r"geo_json_\w+_add\(", page)]


# --------------------------------------------------------------------------- classes, geometry


def test_target_centred_classes():
    values = np.array([10, 20, 30, 45, 55, 60, 80, np.nan])
    classes = interactive.classify(values, FVC, k=5)
    assert 50.0 in classes.edges
    idx = classes.index(values)
    assert idx[-1] == -1
    for value, i in zip(values[:-1], idx[:-1], strict=True):
        assert classes.meets[i] is bool(value >= 50)
    assert classes.meets[classes.index([50.0])[0]] is True  # the target itself meets it
    lower = Indicator("x", "x", "x", "%", "<=", 30.0)
    lc = interactive.classify(values, lower, k=4)
    assert lc.meets[lc.index([30.0])[0]] is True and lc.meets[lc.index([31.0])[0]] is False


def test_mapclassify_without_target():
    values = np.arange(100.0)
    classes = interactive.classify(values, scheme="quantiles", k=5)
    assert len(classes.colours) == 5 and classes.meets == [None] * 5
    natural = interactive.classify(values, scheme="natural_breaks", k=4)
    assert len(natural.colours) == 4
    assert len(interactive.classify([3.0, 3.0]).colours) == 1


def test_simplification_keeps_shared_edges(banners):
    simple = interactive.simplify_coverage(banners.geometry.values)
    assert (
        shapely.get_num_coordinates(simple).sum()
        < 0.2 * shapely.get_num_coordinates(banners.geometry.values).sum()
    )
    # neighbours still share edges: no gaps or overlaps beyond rounding (≈ 10 m) noise
    union = shapely.union_all(simple)
    assert abs(union.area - shapely.area(simple).sum()) < 1e-4 * union.area
    a, b = simple[0], simple[1]
    if shapely.intersects(banners.geometry.values[0], banners.geometry.values[1]):
        assert shapely.intersection(a.boundary, b.boundary).length > 0


# --------------------------------------------------------------------------- HTML content


def test_html_size_and_offline_inlining(saved):
    for key in ("default", "online", "plain"):
        assert saved[key].stat().st_size <= MAX_BYTES, (key, saved[key].stat().st_size)
    page = saved["plain"].read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert not re.search(r"<link[^>]*\bhref=\"(https?:)?//", page)
    assert "L.tileLayer(" not in page and "leaflet-search" in page
    assert "data:image/jpeg;base64," in page  # the embedded hillshade


def test_online_basemap_loads_only_its_tiles_over_the_hillshade(saved):
    page = saved["online"].read_text(encoding="utf-8")
    assert outside_urls(page) == ["https://tile.openstreetmap.org/{z}/{x}/{y}.png"]
    assert "cdn.jsdelivr.net" not in page and "leaflet-search" in page  # Leaflet inlined
    # the relief stays underneath (its pane below Leaflet's tile pane, z-index 200)
    assert re.search(r'L\.imageOverlay\(\s*"data:image/jpeg;base64,', page)
    pane = re.search(r'createPane\(\s*"geo_base"\);\s*[\w.]+\.style\.zIndex = (\d+)', page)
    assert pane and int(pane.group(1)) < 200


def test_default_map_requests_nothing_outside(saved):
    page = saved["default"].read_text(encoding="utf-8")
    assert outside_urls(page) == []
    assert "L.tileLayer(" not in page
    assert re.search(r'L\.imageOverlay\(\s*"data:image/jpeg;base64,', page)  # the hillshade
    assert saved["default"].stat().st_size < BANNER_MAP_BYTES
    # the detector itself: folium's own page loads Leaflet from CDNs and OSM tiles
    plain_folium = folium.Map().get_root().render()
    found = outside_urls(plain_folium)
    assert any("leaflet" in u and u.endswith(".js") for u in found)
    assert any("leaflet" in u and u.endswith(".css") for u in found)
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in found


def test_jupyter_map_is_self_contained(banners):
    m = interactive.choropleth(banners.head(3), "grassland_fvc_pct", indicator=FVC)
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', m._repr_html_()).group(1))
    assert outside_urls(srcdoc) == [] and "leaflet-search" in srcdoc


def test_outlines_carry_shared_edges_once(banners):
    layer = overlays.outline_layer(banners, "x", colour="#000", weight=1, dash=None, gcj=False)
    lines = [shapely.geometry.shape(f["geometry"]) for f in layer.data["features"]]
    rings = interactive.simplify_coverage(banners.geometry.values)
    drawn = sum(shapely.get_num_coordinates(lines))
    assert drawn < 0.65 * shapely.get_num_coordinates(rings).sum()
    # the same lines: every simplified boundary lies on the outlines
    union = shapely.union_all(lines)
    assert shapely.boundary(rings[0]).difference(union.buffer(1e-6)).length == 0


def test_utf8_popups_areas_and_jupyter(banners, saved):
    page = saved["online"].read_text(encoding="utf-8")
    assert "charset=UTF-8" in page
    assert "草原植被盖度" in page  # title, raw UTF-8
    features = _geojson(page)[0]["features"]
    props = features[0]["properties"]
    assert banners.name_zh.iloc[0] in props["t"] and banners.name_en.iloc[0] in props["t"]
    labels = json.loads(re.search(r"var H = (\[.*?\]);", page).group(1))
    popup = {labels[k]: text for k, text in props["p"]}  # header → cell, built by the browser
    area = popup["sandified"]  # the three units of one area in one row
    assert "km²" in area and " ha" in area and "亩" in area
    assert not any(label.endswith("_km2") or label == "area_km2" for label in popup)
    assert banners.name_pinyin.iloc[0] in props["s"]
    m = interactive.choropleth(banners.head(3), "grassland_fvc_pct", indicator=FVC)
    frame = m._repr_html_()  # what Jupyter shows: an iframe with the page in srcdoc
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', frame).group(1))
    assert "charset=UTF-8" in srcdoc and FVC.name_zh in srcdoc
    assert banners.name_zh.iloc[0] in _geojson(srcdoc)[0]["features"][0]["properties"]["t"]


def test_amap_moves_geometries_to_gcj02(banners):
    square = shapely.Polygon([(111.5, 40.5), (111.7, 40.5), (111.7, 40.7), (111.5, 40.7)])
    gdf = banners.head(1).copy()
    gdf = gdf.set_geometry([square], crs=4326)
    page = interactive.choropleth(gdf, "grassland_fvc_pct", basemap="amap").get_root().render()
    assert "autonavi.com" in page
    ring = np.array(_geojson(page)[0]["features"][0]["geometry"]["coordinates"][0])
    lon, lat = wgs84_to_gcj02(111.5, 40.5)
    assert np.abs(ring - [float(lon), float(lat)]).sum(axis=1).min() < 2e-5
    assert np.abs(ring - [111.5, 40.5]).sum(axis=1).min() > 1e-3  # really moved (~500 m)


def test_tianditu_key(banners, monkeypatch):
    gdf = banners.head(2)
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(GeoError, match="TIANDITU_KEY"):
        interactive.choropleth(gdf, "grassland_fvc_pct", basemap="tianditu")
    monkeypatch.setenv("TIANDITU_KEY", "abc123def456")
    page = interactive.choropleth(gdf, "grassland_fvc_pct", basemap="tianditu").get_root().render()
    assert "tianditu.gov.cn/vec_w/wmts" in page and "tk=abc123def456" in page
    with pytest.raises(GeoError, match="basemap"):
        interactive.choropleth(gdf, "grassland_fvc_pct", basemap="google")


def test_user_strings_are_escaped_in_html(banners, tmp_path):
    gdf = banners.head(3).copy()
    gdf.loc[gdf.index[0], "name_zh"] = XSS
    m = interactive.choropleth(gdf, "grassland_fvc_pct", title=XSS, source=XSS, offline=True)
    page = interactive.save(m, tmp_path / "xss.html").read_text(encoding="utf-8")
    assert XSS not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --------------------------------------------------------------------------- in the browser


def test_offline_map_in_browser(chrome, saved):
    page = chrome.open(saved["offline"])
    try:
        assert page.errors == []
        assert page.blocked == []
        outside = [u for u in page.requests if not u.startswith("data:")]
        assert outside == [saved["offline"].resolve().as_uri()]
        assert page.evaluate("document.querySelectorAll('path.geo-zone').length") == 103
        layers = page.evaluate(
            "Array.from(document.querySelectorAll('.leaflet-control-layers label'))"
            ".map(e => e.textContent.trim())"
        )
        for name in ("旗县 Banners", "盟市 Leagues", "战区 Battle zones", "landcover", "ndvi"):
            assert any(name in label for label in layers), (name, layers)
        legend = page.evaluate("document.querySelector('.geo-legend').textContent")
        assert "Target" in legend and "%" in legend and "remote-sensing proxy" in legend
        assert page.evaluate("!!document.querySelector('.leaflet-control-scale')")
        assert page.evaluate("!!document.querySelector('.leaflet-control-search')")
        assert page.evaluate("!!document.querySelector('.leaflet-control-zoom-fullscreen')")
        shot = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("L"), dtype=float)
        assert shot.var() > 200
        # turning the land-cover overlay on shows its class legend
        page.evaluate(
            "Array.from(document.querySelectorAll('.leaflet-control-layers label'))"
            ".find(e => e.textContent.includes('landcover')).querySelector('input').click()"
        )
        page.pump(0.3)
        texts = page.evaluate(
            "Array.from(document.querySelectorAll('.geo-legend')).map(e => e.textContent)"
        )
        assert any("grassland" in t for t in texts)
        assert page.errors == [] and page.blocked == []
    finally:
        page.close()


def test_plain_offline_map_is_small_and_loads(chrome, saved):
    page = chrome.open(saved["plain"])
    try:
        assert page.errors == [] and page.blocked == []
        assert page.evaluate("document.querySelectorAll('path.geo-zone').length") == 103
        for query, expected in (
            ("xilinhao", "锡林浩特市"),
            ("Xilinhot", "锡林浩特市"),
            ("锡林浩", "Xilinhot"),
        ):
            page.evaluate(
                "(() => { const i = document.querySelector('input.search-input');"
                f" i.value = {json.dumps(query)};"
                " i.dispatchEvent(new KeyboardEvent('keyup', {bubbles: true})); })()"
            )
            page.pump(0.6)  # leaflet-search waits 400 ms after typing
            tips = page.evaluate(
                "Array.from(document.querySelectorAll('.search-tip')).map(e => e.textContent)"
            )
            assert any(expected in tip for tip in tips), (query, tips)
    finally:
        page.close()


def test_script_name_shows_as_text_in_browser(chrome, banners, tmp_path):
    gdf = banners.head(4).copy()
    gdf.loc[gdf.index[0], "name_zh"] = XSS
    gdf.loc[gdf.index[1], "name_en"] = '<img src=x onerror="alert(2)">'
    m = interactive.choropleth(gdf, "grassland_fvc_pct", indicator=FVC, title=XSS, offline=True)
    page = chrome.open(interactive.save(m, tmp_path / "xss.html"))
    try:
        tips = page.evaluate(
            """(() => {
            const seen = [];
            const shown = '.leaflet-tooltip, .leaflet-popup';
            for (const p of document.querySelectorAll('path.geo-zone')) {
                const r = p.getBoundingClientRect();
                const o = {bubbles: true, clientX: r.x + r.width / 2, clientY: r.y + r.height / 2};
                p.dispatchEvent(new MouseEvent('mouseover', o));
                p.dispatchEvent(new MouseEvent('click', o));
                document.querySelectorAll(shown).forEach(e => seen.push(e.textContent));
                p.dispatchEvent(new MouseEvent('mouseout', o));
            }
            return seen.join(' ');
            })()"""
        )
        page.pump(0.3)
        title = page.evaluate("document.querySelector('.geo-title').textContent")
        injected = page.evaluate(
            "document.querySelectorAll('.leaflet-container script, .leaflet-container img"
            ":not(.leaflet-image-layer)').length"
        )
        assert XSS in tips and title == XSS
        assert injected == 0 and page.dialogs == [] and page.errors == []
    finally:
        page.close()


# --------------------------------------------------------------------------- static maps


def test_static_choropleth_chinese_glyphs(banners, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font(s)" becomes a failure
        fig = static.choropleth_figure(banners, "grassland_fvc_pct", indicator=FVC)
        files = static.save_figure(fig, tmp_path / "fvc.png")
    assert [f.suffix for f in files] == [".png", ".svg", ".pdf"]
    assert all(f.stat().st_size > 10_000 for f in files)
    with Image.open(files[0]) as img:
        assert round(img.info["dpi"][0]) == 300
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    names = set(banners.name_zh)
    labels = [t for t in ax.texts if t.get_text() in names]
    assert 20 <= len(labels) < 103  # small banners stay unlabelled
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    legend = fig.legends[0]  # beside the map, not on it
    assert "%" in legend.get_title().get_text() and "Target" in legend.get_title().get_text()
    assert any(t.get_text() == "km" for t in ax.texts)  # scale bar
    assert any(t.get_text() == "N 北" for t in ax.texts)  # north arrow


def test_static_battle_zones(battle_zones, banners, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = static.battle_zone_figure(battle_zones, banners=banners)
        files = static.save_figure(fig, tmp_path / "zones", formats=("png",))
    assert files[0].name == "zones.png" and files[0].stat().st_size > 10_000
    texts = " ".join(t.get_text() for t in fig.legends[0].get_texts())
    assert "Horqin" in texts and "河西" in texts


def test_missing_cjk_font_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(static.font_manager.fontManager, "ttflist", [])
    monkeypatch.setattr(static, "_packaged_font_file", lambda: None)  # nor the PyPI font
    with pytest.raises(GeoError, match="fonts-noto-cjk"):
        static.cjk_font()


# ------------------------------------------------------------ self-contained by default


def _hillshade(page: str) -> bool:
    """The DEM relief is in the page as an image (its own pane, under any tiles)."""
    return bool(
        re.search(r'L\.imageOverlay\(\s*"data:image/jpeg;base64,[A-Za-z0-9+/=]{2000,}"', page)
        and '"pane": "geo_base"' in page
    )


@pytest.fixture(scope="module")
def cli_maps(tmp_path_factory):
    """``barrier map --zones county --indicator grassland_fvc_pct`` by default and with OSM."""
    out = tmp_path_factory.mktemp("cli_maps")
    args = ["map", "--zones", "county", "--indicator", "grassland_fvc_pct", "-o"]
    saved = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GEO_BARRIER_CACHE", str(out / "cache"))
        for key, extra in (("default", []), ("osm", ["--basemap", "osm"])):
            assert cli.main([*args, str(out / f"{key}.html"), *extra]) == 0
            saved[key] = out / f"{key}.html"
    return saved


def test_cli_map_is_self_contained_by_default(cli_maps):
    path = cli_maps["default"]
    page = path.read_text(encoding="utf-8")
    assert outside_urls(page) == []
    assert _hillshade(page)
    assert "L.tileLayer(" not in page
    assert path.stat().st_size < BANNER_MAP_BYTES, path.stat().st_size
    features = _geojson(page)[0]["features"]
    assert len(features) == 103
    # coordinates quantised (3 decimals ≈ 100 m, a tenth of the ≈ 1 km tolerance), simplified
    coords = np.concatenate(
        [np.asarray(shapely.get_coordinates(shapely.geometry.shape(f["geometry"])))
         for f in features]
    )  # fmt: skip
    assert np.allclose(coords, coords.round(3), atol=1e-9, rtol=0)
    assert (
        len(coords) < 0.15 * shapely.get_num_coordinates(boundaries.load("county").geometry).sum()
    )
    record = json.loads(path.with_name(path.name + ".manifest.json").read_text(encoding="utf-8"))
    assert record["parameters"]["basemap"] == "hillshade"


def test_cli_online_basemap_keeps_the_hillshade(cli_maps):
    page = cli_maps["osm"].read_text(encoding="utf-8")
    assert outside_urls(page) == ["https://tile.openstreetmap.org/{z}/{x}/{y}.png"]
    assert _hillshade(page)


def test_cli_offline_with_online_basemap_is_refused(tmp_path, capsys):
    out = tmp_path / "m.html"
    args = ["map", "--zones", "league", "--indicator", "grassland_fvc_pct", "-o", str(out)]
    assert cli.main([*args, "--offline", "--basemap", "osm"]) == 2
    err = capsys.readouterr().err
    assert "--offline and --basemap osm contradict" in err and "Traceback" not in err
    assert not out.exists()
    assert cli.main(["report", "--out", str(tmp_path / "r"), "--offline", "--basemap", "amap"]) == 2
    assert "contradict" in capsys.readouterr().err and not (tmp_path / "r").exists()


def test_cli_report_maps_default_to_hillshade(tmp_path, monkeypatch, capsys):
    """The report's maps: ``barrier report`` asks for the hillshade (the maps: test_report)."""
    from geo import report

    seen = {}
    monkeypatch.setattr(report, "build_report", lambda out, **kw: seen.update(kw) or out)
    assert cli.main(["report", "--quiet", "--out", str(tmp_path / "r")]) == 0
    assert seen["basemap"] == "hillshade" and seen["offline"] is False
    assert cli.main(["report", "--quiet", "--out", str(tmp_path / "r"), "--offline"]) == 0
    assert seen["basemap"] == "hillshade" and seen["offline"] is True  # old scripts still run
    assert interactive.BASEMAPS == cli.options.BASEMAPS and interactive.BASEMAPS[0] == "hillshade"
    for command in ("report", "map"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "hillshade (default;" in text and "no network request" in text
        assert "--offline deprecated" in text


def test_default_map_in_browser_requests_nothing(chrome, cli_maps):
    page = chrome.open(cli_maps["default"])
    try:
        assert page.errors == [] and page.blocked == []
        outside = [u for u in page.requests if not u.startswith("data:")]
        assert outside == [cli_maps["default"].resolve().as_uri()]
        assert page.evaluate("document.querySelectorAll('path.geo-zone').length") == 103
        assert page.evaluate("!!document.querySelector('.geo-legend')")
        loaded = page.evaluate(
            "Array.from(document.querySelectorAll('img.leaflet-image-layer'))"
            ".map(i => i.complete && i.naturalWidth > 0)"
        )
        assert loaded == [True]  # the hillshade
    finally:
        page.close()


def test_online_basemap_without_network_still_shows_the_data(chrome, cli_maps):
    page = chrome.open(cli_maps["osm"], settle=1.5)
    try:
        # the only requests outside the file are the tiles asked for, and they fail here
        assert page.blocked and all(
            re.match(r"https://tile\.openstreetmap\.org/\d+/\d+/\d+\.png$", u) for u in page.blocked
        ), page.blocked
        own = [u for u in page.requests if not u.startswith(("data:", "https://tile."))]
        assert own == [cli_maps["osm"].resolve().as_uri()]
        # failed tiles are logged by the browser; nothing else may fail
        assert [e for e in page.errors if "tile.openstreetmap.org" not in e] == []
        assert page.evaluate("document.querySelectorAll('path.geo-zone').length") == 103
        assert page.evaluate("!!document.querySelector('.geo-legend')")
        assert page.evaluate(
            "Array.from(document.querySelectorAll('img.leaflet-image-layer'))"
            ".some(i => i.complete && i.naturalWidth > 0)"
        )
        # the relief and the zones are drawn (not a title on white)
        shot = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("L"), dtype=float)
        assert shot.var() > 200 and (shot < 235).mean() > 0.5
    finally:
        page.close()


def test_raster_overlays_are_paletted_exactly():
    rng = np.random.default_rng(0)
    colours = rng.integers(0, 256, size=(40, 4), dtype=np.uint8)
    rgba = colours[rng.integers(0, 40, size=(30, 50))]
    uri = overlays.png_uri(rgba)
    with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as img:
        assert img.mode == "P"
        assert np.array_equal(np.asarray(img.convert("RGBA")), rgba)
    many = rng.integers(0, 256, size=(30, 50, 4), dtype=np.uint8)  # > 256 colours: kept RGBA
    with Image.open(io.BytesIO(base64.b64decode(overlays.png_uri(many).split(",", 1)[1]))) as img:
        assert np.array_equal(np.asarray(img.convert("RGBA")), many)
    overlay, legend = interactive.raster_overlay("ndvi")
    assert len(overlay.url) < 150_000 and "geo-colourbar" in legend
