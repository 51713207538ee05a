"""Tables for people: 万亩/亿亩/万公顷, rounding per unit, 是/否, headers in Chinese (issue 14)."""

import io
import re
from fractions import Fraction

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo import cli, units

LANDCOVER = ["stats", "--zones", "league", "--layer", "landcover", "--stat", "area"]


def _csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype={"adcode": str}).set_index("adcode")


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


# --------------------------------------------------------------------------- units


def test_new_units_are_exact():
    # 1 mu = 10000/15 m²: 1 km² = 10⁶ m² = 1500 mu = 0.15 万亩; 1 万公顷 = 10⁴ ha = 100 km²
    assert units.UNITS["wanmu"] == Fraction(10**4) * Fraction(10**4, 15)
    assert units.UNITS["yimu"] == Fraction(10**8) * Fraction(10**4, 15)
    assert units.UNITS["wanha"] == Fraction(10**8)
    assert units.convert(1, "km2", "wanmu") == 0.15
    assert units.convert(1, "wanha", "km2") == 100
    assert units.convert(3, "yimu", "km2") == 200_000
    assert units.convert(1, "万公顷", "ha") == 10_000
    assert units.normalise_unit("wan_mu") == "wanmu"  # the former key still works


def test_format_area_auto_chooses_yimu_wanmu_mu():
    # 251,525.8 km² × 1500 = 377,288,700 mu = 3.77 亿亩
    assert units.format_area(251_525.8e6, "auto", lang="zh") == "3.77亿亩"
    # 5659.31 万亩 = 56,593,100 mu = 37,728.7333 km²
    assert units.format_area(56_593_100 * 10_000 / 15, "auto", lang="zh") == "5659.31万亩"
    assert units.format_area(3e6, "auto", lang="zh") == "4500亩"  # 3 km² < 1 万亩
    assert units.format_area(1e8 * 10_000 / 15, "auto", lang="zh") == "1.00亿亩"  # ≥ 1 亿亩
    assert units.format_area(1e6 * 2515.26, "wanha", lang="zh", digits=2) == "25.15万公顷"
    assert units.format_area(float("nan"), "auto", lang="zh") == "–"


# --------------------------------------------------------------------------- --units


def test_stats_in_wanmu_is_km2_times_the_exact_factor(barrier):
    code, km2, err = barrier(*LANDCOVER, "--precision", "full")
    assert code == 0, err
    code, wanmu, err = barrier(*LANDCOVER, "--units", "wanmu", "--precision", "full")
    assert code == 0, err
    km2, wanmu = _csv(km2), _csv(wanmu)
    columns = [c for c in km2.columns if "_area_km2" in c]
    assert len(columns) > 10
    for col in columns:
        # 1 km² = 1500 mu = 0.15 万亩
        expected = km2[col].to_numpy() * 1500 / 10_000
        got = wanmu[col.replace("_area_km2", "_area_wanmu")].to_numpy()
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-12), col
    for unit, factor in (("yimu", 1500 / 1e8), ("wanha", 1 / 100)):
        code, out, err = barrier(*LANDCOVER, "--units", unit, "--precision", "full")
        assert code == 0, err
        table = _csv(out)
        assert table[f"landcover_valid_area_{unit}"].to_numpy() == pytest.approx(
            km2["landcover_valid_area_km2"].to_numpy() * factor, rel=1e-12
        )


def test_change_accepts_wanmu(barrier, tmp_path):
    import rasterio
    from rasterio.transform import from_origin

    classes = np.ones((4, 4), np.uint8)
    classes[:2] = 2
    paths = []
    for name, data in (("b", classes), ("a", np.full((4, 4), 2, np.uint8))):
        path = tmp_path / f"{name}.tif"
        profile = {"driver": "GTiff", "width": 4, "height": 4, "count": 1, "dtype": "uint8"}
        profile |= {"crs": "EPSG:3857", "transform": from_origin(0, 4000, 1000, 1000)}
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(data, 1)
        paths.append(path)
    zone = gpd.GeoDataFrame({"code": ["z"]}, geometry=gpd.points_from_xy([2000], [2000]), crs=3857)
    zone.geometry = zone.buffer(10_000).envelope  # the whole 4 × 4 km raster
    zone.to_file(tmp_path / "z.gpkg")
    code, out, err = barrier(
        "change", "--zones", tmp_path / "z.gpkg", "--before", paths[0], "--after",
        paths[1], "--categorical", "--units", "wanmu",
    )  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out)).set_index(["from_class", "to_class"])
    # 8 cells of 1 km² from class 1 to class 2: 8 km² = 12,000 mu = 1.2 万亩
    assert table.loc[(1, 2), "area_wanmu"] == pytest.approx(1.2)
    assert table.loc[(2, 2), "area_wanmu"] == pytest.approx(1.2)


def test_unknown_units_and_lang_are_usage_errors(capsys):
    for option, value, listed in (("--units", "acre", "wanmu"), ("--lang", "fr", "zh")):
        with pytest.raises(SystemExit) as exit_:  # argparse: usage and a one-line error
            cli.main([*LANDCOVER, option, value])
        out, err = capsys.readouterr()
        assert exit_.value.code == 2 and out == "" and "Traceback" not in err
        assert err.strip().splitlines()[-1].startswith("barrier stats: error:") and listed in err


# --------------------------------------------------------------------------- rounding


def test_csv_is_rounded_per_column_unit(barrier, tmp_path):
    args = ["stats", "--zones", "league", "--layer", "landcover", "--layer", "ndvi_max"]
    args += ["--stat", "area", "--stat", "fraction", "--stat", "mean", "--stat", "count"]
    assert barrier(*args, "--precision", "full", "-o", tmp_path / "full.csv")[0] == 0
    assert barrier(*args, "-o", tmp_path / "r.csv")[0] == 0
    full = pd.read_csv(tmp_path / "full.csv", dtype={"adcode": str})
    raw = pd.read_csv(tmp_path / "r.csv", dtype=str)
    rules = {
        "landcover_valid_area_km2": 3,
        "landcover_area_km2_10": 3,
        "landcover_fraction_10": 6,
    }
    for col, places in rules.items():
        assert max(_decimals(v) for v in raw[col]) <= places, col
        assert raw[col].astype(float).to_numpy() == pytest.approx(
            np.round(full[col].to_numpy(), places), abs=10.0**-places / 100
        ), col
    # means and counts: 6 significant digits (from the full value, independently)
    for col in ("ndvi_max_mean", "ndvi_max_count"):
        for text, value in zip(raw[col], full[col], strict=True):
            digits = re.sub(r"[^0-9]", "", text.split("e")[0]).lstrip("0")
            assert len(digits) <= 6, (col, text)
            assert float(text) == pytest.approx(value, rel=5e-6), col
    # the full-precision file keeps more digits
    assert max(len(v) for v in pd.read_csv(tmp_path / "full.csv", dtype=str)["ndvi_max_mean"]) > 9
    # mu: whole numbers without ".0"
    code, out, _ = barrier(*LANDCOVER, "--units", "mu")
    assert code == 0
    mu = pd.read_csv(io.StringIO(out), dtype=str)
    assert not mu["landcover_valid_area_mu"].str.contains(r"\.").any()
    # JSON keeps every digit
    code, out, _ = barrier(*args, "--format", "json")
    records = pd.read_json(io.StringIO(out), dtype={"adcode": str})
    assert records["ndvi_max_mean"].to_numpy() == pytest.approx(
        full["ndvi_max_mean"].to_numpy(), rel=1e-12
    )


# --------------------------------------------------------------------------- --lang


def test_lang_zh_headers_and_class_names(barrier):
    code, out, err = barrier(*LANDCOVER, "--units", "wanmu", "--lang", "zh")
    assert code == 0, err
    header = out.splitlines()[0].split(",")
    assert header[:4] == ["行政区划代码", "中文名称", "英文名称", "级别"]
    assert "landcover：草地面积 [万亩]" in header  # IGBP 10 grassland
    assert "landcover：有效面积 [万亩]" in header
    code, out, err = barrier(*LANDCOVER, "--long", "--lang", "zh")
    assert code == 0, err
    long = pd.read_csv(io.StringIO(out), dtype=str)
    assert {"草地", "耕地"} <= set(long["类别"]) and set(long["级别"]) == {"盟市"}
    assert "面积 [平方公里]" in long.columns
    code, out, err = barrier(*LANDCOVER, "--long", "--lang", "en")
    assert code == 0, err
    assert out.splitlines()[0].startswith("Administrative code,Chinese name,English name,Level")
    assert "grassland" in out
    # both (default): the column ids stay the header
    code, out, _ = barrier(*LANDCOVER)
    assert out.startswith("adcode,name_zh,name_en,level,landcover_valid_area_km2")


@pytest.fixture(scope="module")
def report_zh(tmp_path_factory):
    out = tmp_path_factory.mktemp("zh") / "rep"
    cache = tmp_path_factory.mktemp("cache")
    args = ["report", "--out", out, "--cache", cache, "--tables-only", "--quiet", "--lang", "zh"]
    assert cli.main([str(a) for a in args]) == 0
    return out / "tables"


def test_report_zh_tables_yes_no_and_wanmu(report_zh):
    from geo.indicators import INDICATORS

    full = gpd.read_parquet(report_zh / "indicators_league.parquet").set_index("adcode")
    # parquet: booleans and every digit; 万亩 = mu / 10⁴ beside the mu column
    assert full["grassland_fvc_pct_meets_target"].dtype == bool
    assert full["sandified_area_wanmu"].to_numpy() == pytest.approx(
        full["sandified_area_km2"].to_numpy() * 0.15, rel=1e-12
    )
    columns = list(full.columns)
    assert columns.index("sandified_area_wanmu") == columns.index("sandified_area_mu") + 1
    shown = pd.read_csv(report_zh / "indicators_league.csv", dtype=str)
    ind = INDICATORS["grassland_fvc_pct"]
    meets = f"{ind.name_zh}：达到目标"
    assert shown.columns[0] == "行政区划代码" and meets in shown.columns
    expected = np.where(full.loc[shown["行政区划代码"], "grassland_fvc_pct"] >= 45.0, "是", "否")
    assert shown[meets].tolist() == expected.tolist()
    wanmu = "沙化土地面积（遥感估算） [万亩]"
    assert wanmu in shown.columns and max(_decimals(v) for v in shown[wanmu]) <= 2
    assert shown[wanmu].astype(float).to_numpy() == pytest.approx(
        np.round(full.loc[shown["行政区划代码"], "sandified_area_km2"].to_numpy() * 0.15, 2),
        abs=1e-9,
    )


def test_report_workbook_keeps_digits_with_formats(report_zh):
    from openpyxl import load_workbook

    sheet = load_workbook(report_zh / "indicators.xlsx")["league"]
    ids = [c.value for c in sheet[1]]
    labels = [c.value for c in sheet[2]]
    col = ids.index("sandified_area_wanmu") + 1
    assert labels[col - 1] == "沙化土地面积（遥感估算） [万亩]"
    cell = sheet.cell(row=3, column=col)
    assert cell.number_format == "#,##0.00"
    full = gpd.read_parquet(report_zh / "indicators_league.parquet")
    assert cell.value == pytest.approx(full["sandified_area_wanmu"].iloc[0], rel=1e-15)
    meets = sheet.cell(row=3, column=ids.index("grassland_fvc_pct_meets_target") + 1).value
    assert meets == ("是" if full["grassland_fvc_pct"].iloc[0] >= 45.0 else "否")


def test_report_sentences_use_wanmu_yimu_and_wanha(report_zh):
    said = pd.read_csv(report_zh / "sentences.csv", dtype=str)
    said.columns = ["level", "id", "indicator", "zh", "en", "target_source"]
    full = gpd.read_parquet(report_zh / "indicators_league.parquet").set_index("adcode")
    rows = said[(said.level == "盟市") & (said.indicator == "sandified_area")]  # levels in zh
    assert len(rows) == 12
    for _, row in rows.iterrows():
        km2 = full.loc[row.id, "sandified_area_km2"]
        mu = km2 * 1500
        if mu >= 1e8:
            amount = f"{mu / 1e8:.2f}亿亩"
        elif mu >= 1e4:
            amount = f"{mu / 1e4:.2f}万亩"
        else:
            amount = f"{mu:.0f}亩"
        assert f"为{amount}（{km2 / 100:.2f}万公顷）" in row.zh, row.zh
        assert f"{km2:,.1f} km²" in row.en
    # no raw mu figures like 377,288,649.7 in any Chinese sentence
    assert not said.zh.str.contains(r"\d{6,}亩").any()


def test_stats_xlsx_keeps_digits_with_number_formats(barrier, tmp_path):
    import json

    from openpyxl import load_workbook

    book = tmp_path / "w.xlsx"
    code, _, err = barrier(*LANDCOVER, "--units", "wanmu", "--lang", "zh", "-o", book)
    assert code == 0, err
    code, out, err = barrier(*LANDCOVER, "--precision", "full")
    km2 = _csv(out)
    sheet = load_workbook(book)["stats"]
    header = [c.value for c in sheet[1]]
    col = header.index("landcover：有效面积 [万亩]") + 1
    cell = sheet.cell(row=2, column=col)
    assert cell.number_format == "#,##0.00"
    adcode = sheet.cell(row=2, column=1).value
    assert cell.value == pytest.approx(
        km2.loc[adcode, "landcover_valid_area_km2"] * 0.15, rel=1e-12
    )
    record = json.loads((tmp_path / "w.xlsx.manifest.json").read_text(encoding="utf-8"))
    assert record["parameters"]["precision"] == "full" and record["parameters"]["lang"] == "zh"
    assert record["parameters"]["units"] == "wanmu"
    code, _, err = barrier(*LANDCOVER, "-o", tmp_path / "r.csv")
    record = json.loads((tmp_path / "r.csv.manifest.json").read_text(encoding="utf-8"))
    assert record["parameters"]["precision"].startswith("rounded")


def test_round_table_rule_by_hand():
    from geo.tables import round_table

    table = pd.DataFrame(
        {
            "a_km2": [1234.56789, np.nan],
            "a_ha": [123456.789, 0.04],
            "a_mu": [1851851.5001, 2.4],
            "a_wanmu": [185.18515, 0.004999],
            "x_area_km2_10": [0.0004999, 1.0],
            "g_pct": [-0.001, 99.999],
            "x_gap": [-12.345678, 0.0],
            "x_fraction_3": [0.12345678, 1.0],
            "m": [0.000123456789, 987654321.0],
            "n": [3, 4],
            "ok": [True, False],
        }
    )
    text = round_table(table).to_csv(index=False).splitlines()
    assert text[1] == "1234.568,123456.8,1851852,185.19,0.0,0.0,-12.35,0.123457,0.000123457,3,True"
    assert text[2] == ",0.0,2,0.0,1.0,100.0,0.0,1.0,987654000.0,4,False"


def test_below_detection_column_has_a_label():
    from geo.indicators import INDICATORS
    from geo.tables import column_label

    ind = INDICATORS["forest_cover_pct"]
    assert (
        column_label("forest_cover_pct_below_detection", "zh") == f"{ind.name_zh}：低于数据检测限"
    )
    assert column_label("forest_cover_pct_below_detection", "en").startswith(ind.name_en)
