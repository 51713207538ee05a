"""Web pages that read right anywhere (issue 14): every page carries the CJK glyphs it uses, the
web maps follow the print figures' colour conventions, the battle-zone map shows the battles,
their overlaps, the Yellow River and the towns, and report figures have numbered captions.

The font checks decode the ``data:`` URI of each page's ``@font-face`` and read its character map
with fontTools; the browser checks open the pages from ``file://`` with the network blocked.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import re
import unicodedata
from pathlib import Path

import browser as cdp  # tests/browser.py (pytest puts tests/ on sys.path)
import matplotlib as mpl
import numpy as np
import pylopdf_fonts_zh_cn
import pytest
import shapely
from fontTools.ttLib import TTFont

from geo import cli, fonts, zones
from geo.indicators import INDICATORS
from geo.maps import interactive, overlays, static

PACKAGED = Path(pylopdf_fonts_zh_cn.sans_path())
_FACE = re.compile(r'@font-face\{font-family:"geo-cjk";src:url\(data:font/woff;base64,([^)]+)\)')
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _cjk(text: str) -> set[str]:
    """The CJK ideographs and CJK/full-width punctuation of a text (escapes decoded)."""
    text = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return {
        c
        for c in text
        if unicodedata.name(c, "").startswith(("CJK", "FULLWIDTH", "IDEOGRAPHIC"))
        or "\u3000" <= c <= "\u303f"
    }


def _embedded(page: str) -> tuple[set[str], bytes]:
    """The characters of the page's embedded face (from its own cmap) and the font bytes."""
    faces = _FACE.findall(page)
    assert len(faces) == 1, f"{len(faces)} embedded faces"
    data = base64.b64decode(faces[0])
    with TTFont(io.BytesIO(data)) as font:
        assert font.flavor == "woff"
        return {chr(c) for c in font.getBestCmap()}, data


@pytest.fixture(scope="module")
def chrome():
    reason = cdp.available()
    if reason:
        pytest.skip(f"browser tests need headless Chromium: {reason}")
    with cdp.Browser() as browser:
        yield browser


@pytest.fixture(scope="module")
def built(cli_report):
    """``barrier report`` once (default --lang both; shared, see conftest)."""
    return cli_report


@pytest.fixture(scope="module")
def cli_maps(tmp_path_factory):
    """``barrier map --zones county`` of sandified share (zh) and grassland cover (en)."""
    out = tmp_path_factory.mktemp("web-maps")
    saved = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GEO_BARRIER_CACHE", str(out / "cache"))
        for key, indicator, lang in (
            ("sand_zh", "sandified_pct", "zh"),
            ("grass_en", "grassland_fvc_pct", "en"),
        ):
            path = out / f"{key}.html"
            args = ["map", "--zones", "county", "--indicator", indicator, "--lang", lang]
            assert cli.main([*args, "-o", str(path)]) == 0
            saved[key] = path
    return saved


# --------------------------------------------------------------------------- the font


def test_subset_holds_the_asked_characters_and_no_others():
    data = fonts.subset("草原综合植被盖度 abc 草", "woff")
    with TTFont(io.BytesIO(data)) as font:
        have = {chr(c) for c in font.getBestCmap()}
        assert font["name"].getDebugName(1) == "Noto Sans SC"
        assert "Open Font License" in (font["name"].getDebugName(13) or "")
    assert set("草原综合植被盖度abc") <= have
    assert "森" not in have and "林" not in have
    assert len(data) < 10_000  # ten glyphs, not the 8 MB font


def test_font_face_covers_exactly_the_page_characters():
    page = '<html><head></head><body>内蒙古<script>var a = "\\u8349\\u539f";</script></body></html>'
    css = fonts.font_face_css(page)
    have, _ = _embedded(css)
    assert {"内", "蒙", "古", "草", "原"} <= have  # the script's escaped 草原 included
    assert not {"森", "沙"} & have
    embedded = fonts.embed(page)
    assert embedded.index("@font-face") < embedded.index("</head>")


def test_cli_map_embeds_every_chinese_character_and_records_the_font(cli_maps):
    page = cli_maps["sand_zh"].read_text(encoding="utf-8")
    have, data = _embedded(page)
    used = _cjk(page.replace(base64.b64encode(data).decode(), ""))
    assert len(used) > 150  # 103 banner names, legends, popups
    assert used <= have, sorted(used - have)
    assert fonts.WEB_FAMILY in page and "Noto Sans CJK SC" in page  # the font-family stack
    side = cli_maps["sand_zh"].with_name(cli_maps["sand_zh"].name + ".manifest.json")
    side = side if side.is_file() else next(cli_maps["sand_zh"].parent.glob("*manifest*.json"))
    record = json.loads(side.read_text(encoding="utf-8"))["web_font"]
    assert record["family"] == "Noto Sans SC"
    assert "OFL" in record["licence"] and "pylopdf-fonts-zh-cn" in record["source"]
    assert record["sha256"] == hashlib.sha256(PACKAGED.read_bytes()).hexdigest()


def test_report_html_embeds_every_chinese_character(built):
    page = (built / "report.html").read_text(encoding="utf-8")
    have, data = _embedded(page)
    text = re.sub(r"data:[a-z/+]+;base64,[A-Za-z0-9+/=]+", "", page)
    used = _cjk(text)
    assert used and used <= have, sorted(used - have)
    # the font costs less than a tenth of the report
    assert len(data) * 4 / 3 < 0.1 * len(page.encode())
    record = json.loads((built / "manifest.json").read_text(encoding="utf-8"))
    assert record["web_font"]["sha256"] == hashlib.sha256(PACKAGED.read_bytes()).hexdigest()


def test_every_report_map_embeds_its_characters(built):
    for path in sorted((built / "maps").glob("*.html")):
        page = path.read_text(encoding="utf-8")
        have, data = _embedded(page)
        used = _cjk(page.replace(base64.b64encode(data).decode(), ""))
        assert used <= have, (path.name, sorted(used - have))


def _css_family(page, selector: str) -> str:
    return page.evaluate(f"getComputedStyle(document.querySelector({selector!r})).fontFamily")


def _platform_fonts(page, selector: str) -> list[str]:
    """The font files Chromium set a node's text in (CSS.getPlatformFontsForNode)."""
    page.send("DOM.enable")
    page.send("CSS.enable")
    root = page.send("DOM.getDocument")["root"]["nodeId"]
    node = page.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts_used = page.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return [f["familyName"] for f in fonts_used]


def _face_status(page) -> list[str]:
    return page.evaluate(
        "document.fonts.ready.then(() => Array.from(document.fonts)"
        f".filter(f => f.family.replace(/\"/g, '') === '{fonts.WEB_FAMILY}')"
        ".map(f => f.status))"
    )


def test_report_and_battle_map_show_chinese_offline_in_browser(chrome, built):
    for path, selector in (
        (built / "report.html", "h1"),
        (built / "maps" / "battle_zones.html", ".geo-title"),
    ):
        page = chrome.open(path, settle=1.0)
        try:
            assert page.errors == [] and page.blocked == [], (path.name, page.blocked)
            outside = [u for u in page.requests if not u.startswith("data:")]
            assert outside == [path.resolve().as_uri()], path.name
            assert _face_status(page) == ["loaded"], path.name
            assert fonts.WEB_FAMILY in _css_family(page, selector)
            used = _platform_fonts(page, selector)
            # the Chinese of the title is set in a CJK font: ours, or a system CJK font
            assert {"Noto Sans SC", *fonts.CJK_FONTS} & set(used), (path.name, used)
        finally:
            page.close()


# --------------------------------------------------------------------------- palettes


def _features(page: str) -> list[dict]:
    """The features of the zone layer (the first GeoJSON with colours ``c``) of a saved map."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"geo_json_\w+_add\(", page):
        obj, _ = decoder.raw_decode(page, match.end())
        feats = obj.get("features", [])
        if feats and "c" in feats[0]["properties"]:
            return feats
    raise AssertionError("no zone layer")


def _lightness(colour: str) -> float:
    r, g, b = mpl.colors.to_rgb(colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_sandified_share_is_light_to_dark_brown_like_the_figures(cli_maps):
    page = cli_maps["sand_zh"].read_text(encoding="utf-8")
    feats = _features(page)
    colours = [f["properties"]["c"] for f in feats]
    assert len(feats) == 103
    # the legend: every class holds zones, the ramp is YlOrBr (lower is better), light → dark
    legend = json.loads(
        re.search(r"div\.innerHTML = (\".*?\");", page).group(1)
    )  # the first legend: the choropleth's
    shown = re.findall(r"background:(#[0-9a-f]{6})", legend)
    ramp = static.ramp(INDICATORS["sandified_pct"], len(shown))
    assert shown == ramp
    assert [_lightness(c) for c in shown] == sorted((_lightness(c) for c in shown), reverse=True)
    assert set(shown) == set(colours) - {"#d9d9d9"}  # no empty class
    assert "no data" not in legend and "Unit" not in legend  # --lang zh
    assert "单位" in legend


def test_web_classes_follow_the_good_end_and_drop_empty_classes():
    values = np.array([0.0, 5.0, 10.0, 20.0, 35.0, 50.0, 70.0, 90.0, 95.0, 100.0])
    gdf = zones.load("league").head(len(values)).copy()
    gdf["sandified_pct"] = values[: len(gdf)]
    m = interactive.choropleth(gdf, "sandified_pct", indicator=INDICATORS["sandified_pct"])
    page = m.get_root().render()
    feats = _features(page)
    by_value = {}
    for f, v in zip(feats, gdf["sandified_pct"], strict=True):
        by_value.setdefault(v, set()).add(f["properties"]["c"])
    # most sandified darkest, least lightest (dark = bad, as in the print figures)
    assert _lightness(next(iter(by_value[100.0]))) < _lightness(next(iter(by_value[0.0])))
    fvc = interactive.classify([10.0, 20.0, 30.0, 40.0], INDICATORS["fvc_mean_pct"], k=4)
    assert fvc.colours == static.ramp(INDICATORS["fvc_mean_pct"], 4)  # greens: more is good
    assert _lightness(fvc.colours[-1]) < _lightness(fvc.colours[0])


def test_sandified_raster_overlay_uses_the_ordinal_degree_colours():
    class Layer:
        name, categorical, classes = "sandified", True, {}

    data = np.array([[0, 1, 2], [3, 4, np.nan]], dtype="float64")
    rgba, legend = overlays.raster_rgba(Layer(), data, "both")
    for code, colour in static.DEGREE_COLOURS.items():
        assert tuple(rgba[data == code][0][:3]) == tuple(bytes.fromhex(colour[1:]))
    assert legend.index(static.DEGREE_COLOURS[1]) < legend.index(static.DEGREE_COLOURS[4])
    assert "轻度 light" in legend and "极重度 extreme" in legend
    _, only_zh = overlays.raster_rgba(Layer(), data[:1, :2], "zh")
    assert "轻度" in only_zh and "light" not in only_zh and "中度" not in only_zh  # no empty class


def test_map_texts_follow_lang(cli_maps):
    en = cli_maps["grass_en"].read_text(encoding="utf-8")
    legend = json.loads(re.search(r"div\.innerHTML = (\".*?\");", en).group(1))
    assert "meets target" in legend and "达标" not in legend
    assert "Search name/pinyin" in en and "搜索" not in en


# --------------------------------------------------------------------------- battle zones


def test_battle_zone_map_colours_labels_overlaps_and_context(built):
    path = built / "maps" / "battle_zones.html"
    page = path.read_text(encoding="utf-8")
    assert path.stat().st_size < 900_000, path.stat().st_size
    feats = _features(page)
    battles = zones.load("battle")
    colours = {f["properties"]["s"].split(" / ")[0]: f["properties"]["c"] for f in feats}
    assert len(set(colours.values())) == 3
    decoded = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), page)
    for zone, name in zip(battles["zone"], battles["name_zh"], strict=True):
        assert colours[name] == static.BATTLE_COLOURS[zone]
        # labelled, Chinese first
        assert re.search(r'geo-label\\?">' + re.escape(name) + "<br><small>", decoded), name
    assert "黄河 Yellow River" in decoded and "包头 Baotou" in decoded
    # the two pairs of overlapping battle parts are hatched, each with its note
    assert re.search(r'"className":\s*"geo-overlap"', decoded)
    assert "不可相加" in decoded and "do not add the parts up" in decoded
    parts = zones.load("battle_part").to_crs("ESRI:102025")
    names = dict(zip(parts["zone"], parts["name_en"], strict=True))
    tengger = [z for z in names if z.endswith("tengger")]
    assert tengger and all(names[z] in html.unescape(decoded) for z in tengger)
    inter = shapely.intersection(
        parts.set_index("zone").geometry["jizhiwan/ulan_buh"],
        parts.set_index("zone").geometry[tengger[0]],
    )
    assert inter.area / 1e6 > 1_000  # the overlap the map marks is real land


def test_battle_zone_map_refuses_zones_without_names():
    battles = zones.load("battle").drop(columns=["name_en"])
    from geo.errors import DataError

    with pytest.raises(DataError, match="name_en"):
        interactive.battle_zone_map(battles)


# --------------------------------------------------------------------------- print figure


def test_static_battle_labels_do_not_cross_the_yellow_river():
    fig = static.battle_zone_figure(zones.load("battle"))
    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    rivers = [c for c in ax.collections if type(c) is mpl.collections.LineCollection]
    assert rivers, "no river drawn"
    lines = shapely.union_all([
        shapely.LineString(ax.transData.transform(seg))
        for c in rivers for seg in c.get_segments() if len(seg) >= 2
    ])  # fmt: skip
    names = {n.replace("\n", "") for n in zones.load("battle")["name_zh"]}
    labels = [t for t in ax.texts if t.get_text().replace("\n", "") in names]
    assert len(labels) == 3, [t.get_text() for t in labels]
    for label in labels:
        box = label.get_window_extent(renderer)
        assert not lines.intersects(shapely.box(*box.extents)), label.get_text()


# --------------------------------------------------------------------------- captions


def test_report_figures_have_numbered_bilingual_captions(built):
    page = (built / "report.html").read_text(encoding="utf-8")
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", page)
    assert len(captions) >= 8
    for n, caption in enumerate(captions, start=1):
        assert caption.startswith(f"图{n} ") and f" / Figure {n} " in caption, caption
        assert "_" not in caption and "bars" not in caption
    assert captions[0] == (
        "图1 各盟市草原综合植被盖度（遥感估算） / Figure 1 Grassland comprehensive vegetation "
        "coverage by league and city (remote-sensing proxy)"
    )
    assert "图2 各旗县（市、区）草原综合植被盖度（遥感估算）" in captions[1]


def test_captions_follow_lang():
    from geo.reporthtml import _Captions

    zh, en = _Captions("zh"), _Captions("en")
    assert zh("county_forest_cover_pct") == "图1 各旗县（市、区）森林覆盖率（遥感估算）"
    assert zh("battle_zones").startswith("图2 ")
    assert en("county_sandified_pct") == (
        "Figure 1 Share of sandified land by banner and county (remote-sensing proxy)"
    )


# --------------------------------------------------------------------------- bad input


def test_missing_font_package_warns_and_writes_the_page_without_a_face(monkeypatch):
    from geo.errors import GeoWarning

    monkeypatch.setattr(fonts, "packaged_font_file", lambda: None)
    with pytest.warns(GeoWarning, match="pylopdf-fonts-zh-cn"):
        assert fonts.embed("<head></head>草原") == "<head></head>草原"


def test_woff2_without_brotli_and_unknown_lang_are_clear_errors():
    from geo.errors import GeoError

    try:
        import brotli  # noqa: F401
    except ImportError:
        with pytest.raises(GeoError, match="pip install brotli"):
            fonts.subset("草", "woff2")
    with pytest.raises(GeoError, match="unknown font flavor"):
        fonts.subset("草", "ttc")
    gdf = zones.load("battle")
    gdf["v"] = 1.0
    with pytest.raises(GeoError, match="unknown map language 'fr'"):
        interactive.choropleth(gdf, "v", lang="fr")


def test_cli_map_rejects_unknown_lang(capsys):
    with pytest.raises(SystemExit) as exit_:  # argparse: usage and a one-line error
        cli.main(["map", "--zones", "league", "--indicator", "sandified_pct", "--lang", "fr"])
    assert exit_.value.code == 2
    assert "invalid choice: 'fr'" in capsys.readouterr().err


def test_popups_name_their_rows_in_words(built, cli_maps):
    # raw field names (grassland_fvc_pct_meets_target, adcode) are not for readers
    page = (built / "maps" / "county_grassland_fvc_pct.html").read_text(encoding="utf-8")
    decoded = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), page)
    for raw in ("_meets_target", "_verdict", "_gap", '"adcode"'):
        assert raw not in decoded, raw
    for words in ("是否达到2027年目标 meets the 2027 target", "判断（方法变体） verdict over"):
        assert words in decoded, words
    # the verdict cells are words too, in the page's language
    assert "uncertain / 不确定" in decoded or "不确定 uncertain" in decoded
    en = cli_maps["grass_en"].read_text(encoding="utf-8")
    labels = json.loads(re.search(r"var H = (\[.*?\]);", en).group(1))
    assert "Code" in labels and "meets the 2027 target" in labels
    assert not [x for x in labels if "_" in x or re.search(r"[\u4e00-\u9fff]", x)], labels


def test_town_labels_never_overlap_each_other():
    # three towns 1° apart on a parallel at zoom 5 (about 23 px a degree): a 94-px label to the
    # right of the first would run over the next two; the first (the capital) always keeps one
    points = [shapely.Point(111.0 + k, 41.0) for k in range(3)] + [shapely.Point(115.0, 45.0)]
    names = ["呼和浩特 Hohhot", "集宁 Jining", "丰镇 Fengzhen", "锡林浩特 Xilinhot"]
    sides = interactive.town_label_sides(points, names, zoom=5)
    assert sides[0] is not None and sides[3] == "right"  # alone: the usual place
    scale = 256 * 2**5

    def box(point, name, side):
        x = (point.x + 180) / 360 * scale
        lat = np.radians(point.y)
        y = (1 - np.log(np.tan(lat) + 1 / np.cos(lat)) / np.pi) / 2 * scale
        w = sum(12 if ord(c) >= 0x2E80 else 6.5 for c in name)
        return {
            "right": shapely.box(x + 5, y - 8, x + 5 + w, y + 7),
            "left": shapely.box(x - 10 - w, y - 8, x - 10, y + 7),
            "above": shapely.box(x - w / 2, y - 20, x + w / 2, y - 5),
            "below": shapely.box(x - w / 2, y + 6, x + w / 2, y + 21),
        }[side]

    boxes = [box(p, n, s) for p, n, s in zip(points, names, sides, strict=True) if s]
    assert len(boxes) >= 3
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.intersects(b)


def test_battle_map_places_town_labels(built):
    page = (built / "maps" / "battle_zones.html").read_text(encoding="utf-8")
    decoded = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), page)
    assert 'class=\\"geo-town' in decoded or 'class="geo-town' in decoded
    assert "呼和浩特 Hohhot</div>" in html.unescape(decoded.replace('\\"', '"'))
    assert ".geo-town.geo-left{" in page and ".geo-town.geo-above{" in page
    # the shifts are a share of the label's own width: a zero-width box would not move
    town_css = re.search(r"\.geo-town\{[^}]*\}", page).group(0)
    assert "width:max-content" in town_css
