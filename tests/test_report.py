import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo import boundaries, report, zones
from geo.crs import EQUAL_AREA
from geo.data import sha256
from geo.indicators import INDICATORS

AREA_INDICATORS = [k for k, v in INDICATORS.items() if v.unit == "km2" and k != "area"]


def _read(folder, level):
    """The wide table of ``level`` with every digit (the CSV files are rounded for people)."""
    table = gpd.read_parquet(folder / "tables" / f"indicators_{level}.parquet")
    return pd.DataFrame(table.drop(columns="geometry"))


def _sheet(folder, name):
    """A sheet of the workbook with every digit (row 1: ids, row 2: labels)."""
    book = folder / "tables" / "indicators.xlsx"
    return pd.read_excel(book, sheet_name=name, skiprows=[1], dtype={"adcode": str, "id": str})


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "report"
    report.build_report(out, cache=tmp_path_factory.mktemp("cache"))
    return out


def test_tables_schema_and_units(built):
    tables = {level: _read(built, level) for level in report.REPORT_LEVELS}
    parts = len(zones.load("battle_part"))
    assert [len(t) for t in tables.values()] == [1, 12, 103, 3, parts]
    for level, table in tables.items():
        id_col = "zone" if level.startswith("battle") else "adcode"
        assert list(table.columns[:4]) == [id_col, "name_zh", "name_en", "level"]
        for name in ["area", "grassland_area", "forest_area", "sandified_area", "redline_area"]:
            km2, ha, mu = (table[f"{name}_{u}"].to_numpy() for u in ("km2", "ha", "mu"))
            assert ha == pytest.approx(km2 * 100) and mu == pytest.approx(km2 * 1500)
        for pct in [
            "fvc_mean_pct",
            "grassland_fvc_pct",
            "forest_cover_pct",
            "sandified_pct",
            "redline_pct",
        ]:
            assert table[pct].between(0, 100).all(), pct
        assert {"grassland_fvc_pct_meets_target", "grassland_fvc_pct_gap"} <= set(table.columns)
    # BOM so that Excel shows the Chinese names
    assert (built / "tables" / "indicators_league.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    assert "锡林郭勒盟" in tables["league"].name_zh.tolist()


def test_totals_agree_across_levels(built):
    province, leagues, counties = (_read(built, lv) for lv in ("province", "league", "county"))
    for col in ["area_km2"] + [f"{k}_km2" for k in AREA_INDICATORS if f"{k}_km2" in province]:
        total = province[col].iloc[0]
        assert leagues[col].sum() == pytest.approx(total, rel=1e-9, abs=1e-6), col
        assert counties[col].sum() == pytest.approx(total, rel=1e-9, abs=1e-6), col
    by_league = counties.groupby(counties.adcode.str[:4] + "00").sandified_area_km2.sum()
    # abs 1e-6 km² (1 m²) as for the totals above: the sums of exact cell fractions along
    # internal boundaries differ by ~4e-7 km², beyond rel 1e-9 for a league with ~100 km²
    assert by_league.to_numpy() == pytest.approx(
        leagues.set_index("adcode").loc[by_league.index].sandified_area_km2.to_numpy(),
        rel=1e-9,
        abs=1e-6,
    )
    # sandified degrees add up to the sandified area
    degrees = sum(
        counties[f"sandified_{d}_area_km2"] for d in ("light", "moderate", "severe", "extreme")
    )
    assert degrees.to_numpy() == pytest.approx(counties.sandified_area_km2.to_numpy(), rel=1e-9)
    # battle zones: the sum of their member banners (each banner once per zone)
    battle = _read(built, "battle").set_index("zone")
    members = zones.load("battle").set_index("zone").members.str.split(",")
    by_adcode = counties.set_index("adcode")
    for zone, adcodes in members.items():
        for col in ("area_km2", "sandified_area_km2", "forest_area_km2"):
            expected = by_adcode.loc[adcodes, col].sum()
            assert battle.loc[zone, col] == pytest.approx(expected, rel=1e-9), (zone, col)
    # the red-line proxy is calibrated to the official 50.46 % region-wide share
    assert province.redline_pct.iloc[0] == pytest.approx(50.46, abs=0.1)


def test_long_table_labels_proxies(built):
    long = _sheet(built, "indicators_long")
    assert set(long.level) == set(report.REPORT_LEVELS)
    assert (long.official == "no / 否").all()
    r1 = long[(long.indicator == "grassland_fvc_pct") & (long.level == "province")].iloc[0]
    assert r1.target == 45.0 and r1.direction == ">="
    assert r1.gap == pytest.approx(r1.value - 45.0)
    assert r1.meets_target == ("yes / 是" if r1.value >= 45.0 else "no / 否")


def test_manifest_traces_inputs_and_outputs(built):
    record = json.loads((built / "manifest.json").read_text(encoding="utf-8"))
    assert record["parameters"]["official"] is False
    assert "PROXY" in record["parameters"]["redline"]
    assert "dimidiate" in record["parameters"]["derived_layers"]["fvc"]
    assert "+proj=aea" in record["parameters"]["equal_area_crs"]
    inputs = {i["path"].split("/")[-1]: i for i in record["inputs"]}
    gpkg = boundaries.data_path("boundaries", "im_admin_wgs84.gpkg")
    assert inputs["im_admin_wgs84.gpkg"]["sha256"] == sha256(gpkg)
    assert "landcover_mcd12c1_2019_igbp_0p05deg_im.tif" in inputs
    outputs = {o["path"]: o["sha256"] for o in record["outputs"]}
    county_csv = built / "tables" / "indicators_county.csv"
    assert outputs["tables/indicators_county.csv"] == sha256(county_csv)
    assert record["packages"]["geopandas"]


def test_rerun_replaces_whole_folder(tmp_path):
    out = report.build_report(tmp_path / "report", cache=tmp_path / "c", tables_only=True)
    stale = out / "tables" / "old_file.csv"
    stale.write_text("from an older run")
    # an older run wrote it, so its manifest lists it (a file it does not list is the user's,
    # and the folder is then refused: tests/test_reliability_outputs.py)
    record = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    record["files"].append("tables/old_file.csv")
    (out / "manifest.json").write_text(json.dumps(record), encoding="utf-8")
    report.build_report(out, cache=tmp_path / "c", tables_only=True)
    assert not stale.exists()
    assert (out / "manifest.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "report"]


def test_official_redline_file(tmp_path):
    # a red line covering everything west of 110° E (in WGS84), given in the Albers CRS
    west = gpd.GeoDataFrame(geometry=[shapely.box(90, 30, 110, 60)], crs=4326).to_crs(EQUAL_AREA)
    path = tmp_path / "redline.gpkg"
    west.to_file(path)
    out = report.build_report(
        tmp_path / "rep", redline=path, cache=tmp_path / "cache", tables_only=True
    )
    province = _read(out, "province").iloc[0]
    outline = boundaries.load("province").to_crs(EQUAL_AREA).geometry.iloc[0]
    expected = shapely.intersection(outline, west.geometry.iloc[0]).area / 1e6
    assert province.redline_area_km2 == pytest.approx(expected, rel=1e-6)
    assert province.redline_pct == pytest.approx(100 * expected / province.area_km2, rel=1e-6)
    long = pd.read_csv(out / "tables" / "indicators_long.csv")
    assert (long[long.indicator == "redline_pct"].official == "yes / 是").all()
    assert (long[long.indicator == "grassland_fvc_pct"].official == "no / 否").all()


def test_xlsx_holds_the_csv_numbers(built):
    from openpyxl import load_workbook

    book = load_workbook(built / "tables" / "indicators.xlsx", read_only=True)
    assert {"province", "league", "county", "battle", "battle_part", "sources"} <= set(
        book.sheetnames
    )
    sheet = book["league"]
    rows = list(sheet.iter_rows(values_only=True))
    header, labels, body = rows[0], rows[1], rows[2:]
    csv = _read(built, "league")
    assert list(header) == list(csv.columns)
    assert "Area / 面积 [km²]" in labels and "Area / 面积 [亩 mu]" in labels
    col = header.index("sandified_area_mu")
    assert [r[col] for r in body] == pytest.approx(csv.sandified_area_mu.tolist(), rel=1e-12)
    assert [r[header.index("name_zh")] for r in body] == csv.name_zh.tolist()
    sources = list(book["sources"].iter_rows(values_only=True))
    assert any("MCD12C1" in str(r) for r in sources)


def test_gpkg_and_geoparquet_keep_names_and_values(built):
    import pyogrio

    layers = [name for name, _ in pyogrio.list_layers(built / "tables" / "indicators.gpkg")]
    assert layers == list(report.REPORT_LEVELS)
    leagues = gpd.read_file(built / "tables" / "indicators.gpkg", layer="league")
    assert "锡林郭勒盟" in leagues.name_zh.tolist() and leagues.crs.to_epsg() == 4326
    parquet = gpd.read_parquet(built / "tables" / "indicators_county.parquet")
    assert len(parquet) == 103
    assert parquet.forest_area_km2.sum() == pytest.approx(
        _read(built, "county").forest_area_km2.sum()
    )


def test_proxy_vs_official_table(built):
    # the workbook keeps every digit (the CSV is rounded for people)
    versus = _sheet(built, "proxy_vs_official").set_index("indicator")
    assert list(versus.columns) == [
        "name_en",
        "name_zh",
        "unit",
        "proxy_value",
        "official_value",
        "official_year",
        "official_source",
        "target_value",
        "target_year",
        "target_source",
        "proxy_minus_official",
        "proxy_minus_target",
        "note",
    ]
    # official = an official status figure with its year and source; the target is apart
    assert versus.loc["redline_pct", "official_value"] == 50.46
    assert "2023" in versus.loc["redline_pct", "official_year"]
    assert "50.46" not in str(versus.loc["redline_pct", "target_value"])
    assert pd.isna(versus.loc["redline_pct", "target_value"])
    assert versus.loc["forest_cover_pct", "target_value"] == 21.98
    assert versus.loc["forest_cover_pct", "target_year"] == 2027
    assert "规划纲要" in versus.loc["forest_cover_pct", "target_source"]
    # no sourced official current forest figure: blank, not the target passed off as one
    assert pd.isna(versus.loc["forest_cover_pct", "official_value"])
    assert pd.isna(versus.loc["forest_cover_pct", "official_source"])
    province = _read(built, "province").iloc[0]
    assert versus.loc["forest_cover_pct", "proxy_value"] == pytest.approx(province.forest_cover_pct)
    assert versus.loc["forest_cover_pct", "proxy_minus_target"] == pytest.approx(
        province.forest_cover_pct - 21.98
    )
    assert versus.loc["redline_area", "proxy_minus_official"] == pytest.approx(
        province.redline_area_km2 - 596_900.0
    )
    # every official value has a year and a source
    has = versus[versus.official_value.notna()]
    assert has.official_year.notna().all() and has.official_source.str.len().min() > 10
    assert versus.note.str.len().min() > 40


def test_report_html_has_every_indicator_and_working_links(built):
    import re

    page = (built / "report.html").read_text(encoding="utf-8")
    for key in INDICATORS:
        assert f"<b>{key}</b>" in page, key
    assert "遥感估算" in page and "Remote-sensing proxies" in page
    targets = re.findall(r"(?:href|src)='([^']+)'|(?:href|src)=\"([^\"]+)\"", page)
    links = [a or b for a, b in targets]
    assert len(links) > 20
    assert sum(link.startswith("data:image/png") for link in links) >= 8
    for link in links:
        assert link.startswith(("data:image/png;base64,", "#")) or (built / link).is_file(), link
    maps = sorted(p.name for p in (built / "maps").glob("*.html"))
    assert "battle_zones.html" in maps and "county_grassland_fvc_pct.html" in maps
    # the real (Natural Earth) desert outlines are offered as an overlay, labelled display-only
    assert "desert outlines (1:10M, display only)" in (
        built / "maps" / "battle_zones.html"
    ).read_text(encoding="utf-8")
    assert (built / "figures" / "county_sandified_pct.png").stat().st_size > 50_000
    assert (built / "report.log").read_text(encoding="utf-8").count("\n") >= 8


def test_report_maps_are_self_contained_and_light(built):
    """Every web map of the default report loads nothing from another host (issue 14)."""
    from test_maps import BANNER_MAP_BYTES, _hillshade, outside_urls

    maps = sorted((built / "maps").glob("*.html"))
    assert len(maps) >= 6
    for path in maps:
        page = path.read_text(encoding="utf-8")
        assert outside_urls(page) == [], path.name
        assert "L.tileLayer(" not in page and _hillshade(page), path.name
        if path.name.startswith("county_"):  # 103 banners with popups, Leaflet inlined
            assert path.stat().st_size < BANNER_MAP_BYTES, (path.name, path.stat().st_size)


@pytest.mark.browser
def test_report_maps_show_their_data_offline_in_browser(built):
    """Opened from file:// with the network blocked, every map draws its zones and legend."""
    import browser as cdp  # tests/browser.py

    reason = cdp.available()
    if reason:
        pytest.skip(f"browser tests need headless Chromium: {reason}")
    with cdp.Browser() as chrome:
        for path in sorted((built / "maps").glob("*.html")):
            page = chrome.open(path)
            try:
                assert page.errors == [] and page.blocked == [], (path.name, page.blocked)
                outside = [u for u in page.requests if not u.startswith("data:")]
                assert outside == [path.resolve().as_uri()], path.name
                zones_drawn = page.evaluate("document.querySelectorAll('path.geo-zone').length")
                assert zones_drawn == (3 if path.name == "battle_zones.html" else 103), path.name
                assert page.evaluate("!!document.querySelector('.geo-legend')"), path.name
            finally:
                page.close()


def test_user_zone_file(tmp_path):
    leagues = zones.load("league")[["adcode", "name_zh", "name_en", "geometry"]].head(2)
    path = tmp_path / "mine.geojson"
    leagues.rename(columns={"adcode": "code"}).to_file(path)
    out = report.build_report(
        tmp_path / "rep", zones_file=path, cache=tmp_path / "c", tables_only=True
    )
    user = _read(out, "user")
    league = _read(out, "league").set_index("adcode").loc[user.zone]
    assert user.sandified_area_km2.to_numpy() == pytest.approx(
        league.sandified_area_km2.to_numpy(), rel=1e-6
    )


def test_results_render_in_jupyter():
    results = report.compute_all(levels=("league",))
    page = results._repr_html_()
    assert "league (12)" in page and "锡林郭勒盟" in page and "proxies" in page


def test_treated_land_and_corrections(tmp_path):
    # treatable: everything west of 108° E; treated: the part of it west of 105° E
    treatable = gpd.GeoDataFrame(geometry=[shapely.box(90, 30, 108, 60)], crs=4326)
    treated = gpd.GeoDataFrame(geometry=[shapely.box(90, 30, 105, 60)], crs=4326)
    # a correction: a box in Alxa Left Banner declared "not sandified" (class 0) after field work
    fix = gpd.GeoDataFrame(
        {"layer": ["sandified"], "value": [0], "note": ["treated, field survey 2026"]},
        geometry=[shapely.box(104, 38, 106, 40)],
        crs=4326,
    )
    paths = {}
    for name, gdf in (("treatable", treatable), ("treated", treated), ("fix", fix)):
        paths[name] = tmp_path / f"{name}.gpkg"
        gdf.to_file(paths[name])
    out = report.build_report(
        tmp_path / "rep",
        treated=paths["treated"],
        treatable=paths["treatable"],
        corrections=paths["fix"],
        cache=tmp_path / "c",
    )
    province = _read(out, "province").iloc[0]
    outline = boundaries.load("province").to_crs(EQUAL_AREA).geometry.iloc[0]

    def area(box):
        return shapely.intersection(
            outline, gpd.GeoSeries([box], crs=4326).to_crs(EQUAL_AREA).iloc[0]
        ).area

    expected = 100 * area(shapely.box(90, 30, 105, 60)) / area(shapely.box(90, 30, 108, 60))
    assert province.treated_sandified_pct == pytest.approx(expected, rel=1e-6)
    long = pd.read_csv(out / "tables" / "indicators_long.csv")
    assert (long[long.indicator == "treated_sandified_pct"].official == "yes / 是").all()
    plain = report.build_report(tmp_path / "plain", cache=tmp_path / "c", tables_only=True)
    before = _read(plain, "county").set_index("adcode").loc["152921", "sandified_area_km2"]
    after = _read(out, "county").set_index("adcode").loc["152921", "sandified_area_km2"]
    assert after < before - 1000  # the 2°×2° box (~ 37,000 km²) was largely sandified
    record = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "corrected by 1 user polygon" in record["parameters"]["derived_layers"]["sandified"]
    assert "User corrections" in (out / "maps" / "battle_zones.html").read_text(encoding="utf-8")


def test_method_sensitivity_documents_each_choice(built):
    table = _sheet(built, "method_sensitivity")
    assert len(table) == len(report.SENSITIVITY)
    province = _read(built, "province").iloc[0]
    default = table.iloc[0]
    for key in ("grassland_fvc_pct", "forest_cover_pct", "sandified_pct"):
        assert default[key] == pytest.approx(province[key], rel=1e-9)
    igbp = table[table.choice.str.startswith("forest = IGBP")].iloc[0]
    assert igbp.forest_cover_pct == pytest.approx(province.igbp_forest_pct, rel=1e-9)
    assert "Method choices and their effect" in (built / "report.html").read_text(encoding="utf-8")


def test_sentences_for_every_area(built):
    said = pd.read_csv(built / "tables" / "sentences.csv", dtype={"id": str})
    county = said[(said.level == "county") & (said.indicator == "grassland_fvc_pct")]
    assert len(county) == 103
    ejin = county[county.id == "152923"].iloc[0]
    value = _read(built, "county").set_index("adcode").loc["152923", "grassland_fvc_pct"]
    assert ejin.zh.startswith(f"额济纳旗草原综合植被盖度（遥感估算）为{value:.1f}%")
    # banners whose grassland cover rests on too few cells are not ranked (tests/test_verdicts.py)
    few = int(_read(built, "county").grassland_fvc_pct_few_cells.sum())
    assert 0 < few < 103
    assert "below the 2027 target of 45 %" in ejin.en
    assert f"of {103 - few} banners and counties" in ejin.en


def test_further_layers_join_the_tables(tmp_path):
    from geo import zonal

    out = report.build_report(
        tmp_path / "rep", layers=("dem", "climate"), cache=tmp_path / "c", tables_only=True
    )
    leagues = _read(out, "league").set_index("adcode")
    direct = zonal.zonal_stats(
        zones.load("league"), boundaries.data_path("rasters", "dem_pvlib_mapzen_5arcmin_im.tif")
    )
    assert leagues.loc[direct.index, "dem_mean"].to_numpy() == pytest.approx(
        direct["mean"].to_numpy(), rel=1e-12
    )
    assert "climate_area_km2_2" in leagues.columns  # Koppen B (arid) area per league


def _page_parts(page: str) -> dict:
    """Tags and attributes of an HTML page, parsed (not by string search)."""
    from html.parser import HTMLParser

    class Parts(HTMLParser):
        def __init__(self):
            super().__init__()
            self.img, self.href, self.th, self._th = [], [], [], None

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "img":
                self.img.append(attrs.get("src", ""))
            if tag == "a":
                self.href.append(attrs.get("href", ""))
            if tag == "th":
                self._th = []

        def handle_data(self, data):
            if self._th is not None:
                self._th.append(data)

        def handle_endtag(self, tag):
            if tag == "th":
                self.th.append("".join(self._th))
                self._th = None

    parser = Parts()
    parser.feed(page)
    return {"img": parser.img, "href": parser.href, "th": parser.th}


def test_report_html_works_alone(built, tmp_path):
    import base64
    import io
    import shutil

    from PIL import Image

    alone = tmp_path / "mail"
    alone.mkdir()
    shutil.copy(built / "report.html", alone / "report.html")
    page = (alone / "report.html").read_text(encoding="utf-8")
    parts = _page_parts(page)
    pngs = sorted(p.stem for p in (built / "figures").glob("*.png"))
    assert len(parts["img"]) == len(pngs) >= 8  # each figure once
    for src in parts["img"]:
        assert src.startswith("data:image/png;base64,"), src[:60]
        img = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
        assert img.width >= 800  # readable on an A4 page, not a thumbnail
    assert "figures/" not in page and "../" not in page
    # links that leave the file are the maps, tables and manifest, said to sit beside it
    outside = [h for h in parts["href"] if not h.startswith("#")]
    assert all(
        h.startswith(("maps/", "tables/")) or h in ("manifest.json", "report.docx") for h in outside
    )
    assert "report.docx" in outside  # the Word version, written beside the page
    assert "maps/ folder beside this file" in page
    # a phone scrolls tables sideways; a printer gets A4 pages without cut rows or navigation
    assert "width=device-width" in page
    assert page.count("<div class='scroll'><table>") == page.count("<table>")
    assert ".scroll{overflow-x:auto" in page
    print_css = page[page.index("@media print") :]
    assert "@page{size:A4" in page
    assert "tr,figure,img,li{break-inside:avoid" in print_css
    assert "nav{display:none}" in print_css and "img{max-width:100%" in print_css


def test_outputs_cite_documents_not_line_numbers(built):
    import re

    from openpyxl import load_workbook

    texts = {"report.html": (built / "report.html").read_text(encoding="utf-8")}
    for csv in (built / "tables").glob("*.csv"):
        texts[csv.name] = csv.read_text(encoding="utf-8-sig")
    book = load_workbook(built / "tables" / "indicators.xlsx", read_only=True)
    for sheet in book.worksheets:
        cells = (str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None)
        texts[f"xlsx:{sheet.title}"] = "\n".join(cells)
    for name, text in texts.items():
        assert not re.search(r"\d{3}:L\d+", text), name
        assert "digest" not in text.lower(), name
    plan = "《全面推进美丽内蒙古建设筑牢我国北方重要生态安全屏障规划纲要（2025—2035年）》"
    assert plan in texts["report.html"] and "国发〔2023〕16号" in texts["report.html"]
    assert "草原综合植被盖度稳定在45%以上" in texts["report.html"]
    assert "（二）目标愿景" in texts["report.html"]
    sources = texts["xlsx:sources"]
    assert (
        plan[1:-1] in sources
        and "国发〔2023〕16号" in sources
        and "森林覆盖率达到21.98%" in sources
    )
    assert "规划纲要" in texts["sentences.csv"]


def test_redline_is_labelled_calibrated_proxy_everywhere(built):
    import re

    from openpyxl import load_workbook

    page = (built / "report.html").read_text(encoding="utf-8")
    heads = [h for h in _page_parts(page)["th"] if "red line" in h.lower() or "红线" in h]
    assert len(heads) >= 2  # league and battle-zone tables
    for head in heads:
        assert "calibrated proxy" in head and "校准代理" in head, head
    names = re.findall(r"(?:Ecological protection red line (?:area|share))(.{0,20})", page)
    names += re.findall(r"(?:生态保护红线(?:面积|占比))(.{0,6})", page)
    assert len(names) >= 4
    for tail in names:
        assert tail.startswith((" (calibrated proxy)", "（校准代理）")), tail
    book = load_workbook(built / "tables" / "indicators.xlsx", read_only=True)
    labelled = 0
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(min_row=2, max_row=2, values_only=True))
        for label in rows[0] if rows else ():
            text = str(label or "")
            if "red line" in text.lower():
                assert "calibrated proxy" in text, (sheet.title, text)
                labelled += 1
            if "红线" in text:
                assert "校准代理" in text, (sheet.title, text)
    assert labelled >= 10  # redline_pct and redline_area_* on the five level sheets
    title = re.search(
        r'class="geo-title">([^<]*)<',
        (built / "maps" / "county_redline_pct.html").read_text(encoding="utf-8"),
    ).group(1)
    assert "calibrated proxy" in title and "校准代理" in title


def test_verdicts_carry_a_confidence_from_the_method_range():
    from geo.reporthtml import verdict

    cover = INDICATORS["forest_cover_pct"]  # target ≥ 21.98 %
    assert verdict(10.0, cover, (8.0, 25.0))[0] == "uncertain 不确定"
    said, why = verdict(10.0, cover, (8.0, 12.0))
    assert said == "not met 未达到" and "robust" in why
    assert verdict(23.0, cover, (22.0, 30.0))[0] == "met 达到"
    assert verdict(23.0, cover, None)[1].startswith("not tested")


def test_forest_below_detection_is_flagged_not_ranked(built):
    said = pd.read_csv(built / "tables" / "sentences.csv", dtype={"id": str})
    forest = said[(said.level == "county") & (said.indicator == "forest_cover_pct")].set_index("id")
    county = _read(built, "county").set_index("adcode")
    # one 0.05° cell is 19–25 km² over the region: less forest than that is not detectable
    faint = county.forest_area_km2 < 25.0
    assert 0 < faint.sum() < len(county)
    for adcode in county.index[faint]:
        assert "below the detection limit" in forest.loc[adcode, "en"]
        assert "not ranked" in forest.loc[adcode, "en"] and "不参与排名" in forest.loc[adcode, "zh"]
        assert "rank" not in forest.loc[adcode, "en"].replace("ranked", "")
    # the tables flag them and give no verdict (met / not met) for them
    assert (county.forest_cover_pct_below_detection == faint).all()
    assert county.loc[faint, "forest_cover_pct_meets_target"].isna().all()
    assert county.loc[~faint, "forest_cover_pct_meets_target"].notna().all()
    seen = county[~faint].forest_cover_pct.dropna()
    best = seen.idxmax()
    assert f"rank 1 of {len(seen)} banners" in forest.loc[best, "en"]
    worst = seen.idxmin()
    expected = int((seen > seen[worst]).sum()) + 1
    assert f"rank {expected} of {len(seen)} banners" in forest.loc[worst, "en"]
    page = (built / "report.html").read_text(encoding="utf-8")
    assert f"{int(faint.sum())} of {len(county)} banners" in page


def test_cli_tables_cite_documents_and_split_official_from_target(tmp_path, capsys):
    import re

    from geo import cli

    code = cli.main(
        ["report", "--tables-only", "--quiet", "--out", str(tmp_path / "r"),
         "--cache", str(tmp_path / "c")]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    tables = tmp_path / "r" / "tables"
    for csv in tables.glob("*.csv"):
        text = csv.read_text(encoding="utf-8-sig")
        assert not re.search(r"\d{3}:L\d+", text) and "digest" not in text.lower(), csv.name
    versus = _sheet(tmp_path / "r", "proxy_vs_official").set_index("indicator")
    # the 2027 grassland target is a target, not an official current value
    assert versus.loc["grassland_fvc_pct", "target_value"] == 45.0
    assert pd.isna(versus.loc["grassland_fvc_pct", "official_value"])
    province = _read(tmp_path / "r", "province").iloc[0]
    assert versus.loc["grassland_fvc_pct", "proxy_minus_target"] == pytest.approx(
        province.grassland_fvc_pct - 45.0
    )
    # sandified land: the 2014 monitoring, 6.12亿亩 = 6.12e8 mu / 1500 mu per km²
    assert versus.loc["sandified_area", "official_value"] == pytest.approx(6.12e8 / 1500, rel=1e-3)
    assert str(versus.loc["sandified_area", "official_year"]) == "2014"
