"""Honest verdicts: per-zone confidence from the method variants, values on too few grid cells
flagged and not ranked, overlapping battle parts marked and not double counted (issue 14)."""

import contextlib
import io
import math
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import boundaries, cli, indicators, zones
from geo.crs import EQUAL_AREA
from geo.indicators import INDICATORS, MIN_CELLS, add_verdicts, verdict
from geo.summary import not_ranked, ranked, sentences

GRASS = INDICATORS["grassland_fvc_pct"]  # target ≥ 45 %

#: User zones (WGS84 boxes on the 0.05° grid of the shipped rasters, origin 97 °E 54 °N).
BOXES = {
    "green": (121.5, 46.0, 122.5, 47.0),  # Hinggan meadow steppe: every variant above 45 %
    "mixed": (120.0, 44.0, 121.0, 45.0),  # variants on both sides of 45 %
    "tiny": (111.625, 40.8, 111.75, 40.9),  # 2.5 × 2 cells = 5 cells (half a cell at the west)
    "west": (115.0, 43.5, 116.0, 44.5),
    "east": (115.5, 44.0, 116.5, 45.0),  # shares 0.5° × 0.5° with "west"
}


def _user_zones(path):
    """The boxes, and Alxa Right Banner (a dry steppe: every variant below 45 %)."""
    boxes = gpd.GeoDataFrame(
        {"zone": list(BOXES), "name": list(BOXES)},
        geometry=[shapely.box(*b) for b in BOXES.values()],
        crs=4326,
    )
    alxa = boundaries.load("county").set_index("adcode").loc[["152922"]].to_crs(4326)
    dry = gpd.GeoDataFrame({"zone": ["dry"], "name": ["dry"]}, geometry=alxa.geometry.values)
    pd.concat([boxes, dry.set_crs(4326)], ignore_index=True).to_file(path)
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("verdicts")
    out = tmp / "rep"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = cli.main(
            [
                "report", "--zones", str(_user_zones(tmp / "user.gpkg")), "--quiet",
                "--out", str(out), "--cache", str(tmp / "cache"),
            ]
        )  # fmt: skip
    assert code == 0, err.getvalue()
    return out


def _read(folder, level):
    table = gpd.read_parquet(folder / "tables" / f"indicators_{level}.parquet")
    return pd.DataFrame(table.drop(columns="geometry"))


# -- the rule, on numbers made by hand -----------------------------------------------------


def test_variants_straddling_the_target_are_uncertain():
    assert verdict(46.0, GRASS, 44.0, 50.0) == "uncertain"  # one variant below 45
    assert verdict(44.0, GRASS, 40.0, 45.0) == "uncertain"  # 45 meets a ≥ target
    assert verdict(60.0, GRASS, 45.0, 70.0) == "met"
    assert verdict(30.0, GRASS, 20.0, 44.9) == "not_met"
    assert verdict(60.0, GRASS, 45.0, 70.0, "few_cells") == "few_cells"
    assert verdict(math.nan, GRASS, math.nan, math.nan, "few_cells") == "no_data"
    grade = indicators.Indicator("g", "等级", "grade", "", direction="<=", target=3.0)
    assert verdict(2.0, grade, 1.5, 3.5) == "uncertain"
    assert verdict(2.0, grade, 1.5, 3.0) == "met"


def test_add_verdicts_takes_the_range_over_the_variants():
    long = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "name_zh": ["甲", "乙", "丙"],
            "name_en": ["A", "B", "C"],
            "level": "user",
            "indicator": "grassland_fvc_pct",
            "value": [46.0, 60.0, 50.0],
            "meets_target": [True, True, None],
            "gap": [1.0, 15.0, 5.0],
            "below_detection": False,
            "cells": [400.0, 400.0, 5.0],
            "few_cells": [False, False, True],
        }
    )
    variants = pd.DataFrame(
        {
            "id": ["a", "a", "b", "b", "c"],
            "indicator": "grassland_fvc_pct",
            "choice": ["x", "y", "x", "y", "x"],
            "value": [44.0, 52.0, 47.0, np.nan, 30.0],
        }
    )
    out = add_verdicts(long, variants).set_index("id")
    assert out.verdict.tolist() == ["uncertain", "met", "few_cells"]
    assert out.loc["a", ["variant_min", "variant_max"]].tolist() == [44.0, 52.0]
    assert out.loc["b", ["variant_min", "variant_max"]].tolist() == [47.0, 60.0]  # NaN ignored
    # meets_target keeps its meaning: the run's own value against the target
    assert out.meets_target.tolist() == [True, True, None]
    table = indicators.wide(out.reset_index(), "zone")
    said = sentences(table, "grassland_fvc_pct", "user").set_index("zone")
    assert "不确定" in said.loc["a", "zh"] and "44.0%–52.0%" in said.loc["a", "zh"]
    assert "uncertain" in said.loc["a", "en"]
    assert "达标（稳健）" in said.loc["b", "zh"] and "排第1位" in said.loc["b", "zh"]
    assert "像元过少" in said.loc["c", "zh"] and "排第" not in said.loc["c", "zh"]
    assert ranked(table, "grassland_fvc_pct", worst=False).zone.tolist() == ["b", "a"]
    assert not_ranked(table, "grassland_fvc_pct").reason.tolist() == ["too few cells / 像元过少"]


# -- through the command ---------------------------------------------------------------------


def test_zone_verdicts_robust_and_uncertain(built):
    user = _read(built, "user").set_index("zone")
    assert user.loc["green", "grassland_fvc_pct_verdict"] == "met"
    assert user.loc["mixed", "grassland_fvc_pct_verdict"] == "uncertain"
    assert user.loc["dry", "grassland_fvc_pct_verdict"] == "not_met"
    for zone in ("green", "mixed", "dry"):
        row = user.loc[zone]
        lo, hi = row.grassland_fvc_pct_variant_min, row.grassland_fvc_pct_variant_max
        assert lo <= row.grassland_fvc_pct <= hi
        # the rule: uncertain exactly when the range holds values on both sides of 45 %
        assert (row.grassland_fvc_pct_verdict == "uncertain") == (lo < 45.0 <= hi)
        assert row.grassland_fvc_pct_meets_target == (row.grassland_fvc_pct >= 45.0)
    assert user.loc["green", "grassland_fvc_pct_variant_min"] > 45.0
    assert user.loc["dry", "grassland_fvc_pct_variant_max"] < 45.0
    # people's tables say it in words, in both languages by default
    csv = pd.read_csv(built / "tables" / "indicators_user.csv", dtype=str).set_index("zone")
    assert csv.loc["mixed", "grassland_fvc_pct_verdict"] == "uncertain / 不确定"
    assert csv.loc["green", "grassland_fvc_pct_verdict"] == "met (robust) / 达标（稳健）"
    said = pd.read_csv(built / "tables" / "sentences.csv", dtype=str)
    mixed = said[(said.id == "mixed") & (said.indicator == "grassland_fvc_pct")].iloc[0]
    assert "不确定" in mixed.zh and "uncertain" in mixed.en


def test_region_range_is_the_method_sensitivity_table(built):
    # two routes: the per-zone variants (province row) and the region-wide sensitivity table
    province = _read(built, "province").iloc[0]
    table = pd.read_excel(
        built / "tables" / "indicators.xlsx", sheet_name="method_sensitivity", skiprows=[1]
    )
    for key in ("grassland_fvc_pct", "forest_cover_pct"):
        assert province[f"{key}_variant_min"] == pytest.approx(table[key].min(), rel=1e-9)
        assert province[f"{key}_variant_max"] == pytest.approx(table[key].max(), rel=1e-9)


def test_tiny_zone_is_flagged_and_not_ranked(built):
    user = _read(built, "user").set_index("zone")
    tiny = user.loc["tiny"]
    assert tiny.cells == pytest.approx(2.5 * 2, rel=1e-9)  # grid arithmetic, see BOXES
    assert tiny.cells < MIN_CELLS and user.drop(index="tiny").cells.min() > MIN_CELLS
    assert tiny.sandified_pct_few_cells and tiny.grassland_fvc_pct_few_cells
    assert tiny.grassland_fvc_pct_verdict in ("few_cells", "no_data")
    assert pd.isna(tiny.grassland_fvc_pct_meets_target)
    said = pd.read_csv(built / "tables" / "sentences.csv", dtype=str)
    rows = said[(said.level == "user") & (said.indicator == "grassland_fvc_pct")]
    line = rows[rows.id == "tiny"].iloc[0]
    if tiny.grassland_fvc_pct_verdict == "few_cells":
        assert "像元过少" in line.zh and "too few cells" in line.en
    assert not re.search(r"排第\d", line.zh) and not re.search(r"rank \d", line.en)
    # every other zone has a grassland value on enough cells: ranked among len - 1
    ranked_n = {int(n) for n in re.findall(r"在(\d+)个单元中排第", " ".join(rows.zh))}
    assert ranked_n == {len(user) - 1}


def test_small_districts_are_not_ranked_in_the_report(built):
    county = _read(built, "county").set_index("adcode")
    wuda = county.loc["150304"]  # Wuda District, about 200 km²: "100 % sandified" before
    geom = boundaries.load("county").set_index("adcode").loc["150304", "geometry"]
    # independent cell count: its equal-area area over the ellipsoidal area of a 0.05° cell
    lat = math.radians(geom.centroid.y)
    cell_km2 = (6371.0088**2) * math.radians(0.05) * math.radians(0.05) * math.cos(lat)
    area = gpd.GeoSeries([geom], crs=4326).to_crs(EQUAL_AREA).area.iloc[0] / 1e6
    assert wuda.cells == pytest.approx(area / cell_km2, rel=0.02)
    assert wuda.cells < MIN_CELLS and wuda.sandified_pct_few_cells
    page = (built / "report.html").read_text(encoding="utf-8")
    start = page.index("Highest sandified share")
    table, rest = page[start:].split("Not ranked", 1)
    assert "乌达区" not in table and "乌达区" in rest.split("</p>", 1)[0]
    assert "像元过少" in rest.split("</p>", 1)[0]
    said = pd.read_csv(built / "tables" / "sentences.csv", dtype=str)
    line = said[(said.id == "150304") & (said.indicator == "grassland_fvc_pct")].iloc[0]
    assert "像元过少" in line.zh and "排第" not in line.zh
    # no flagged banner gets a rank in any sentence
    flagged = county.index[county.grassland_fvc_pct_few_cells]
    grass = said[(said.level == "county") & (said.indicator == "grassland_fvc_pct")]
    assert not grass[grass.id.isin(flagged)].zh.str.contains("排第").any()


def test_overlapping_user_zones_share_the_shapely_area(built):
    user = _read(built, "user").set_index("zone")
    # polygons projected to the equal-area CRS, then intersected (as geo.crs.area_km2 does)
    boxes = gpd.GeoSeries([shapely.box(*BOXES[k]) for k in ("west", "east")], crs=4326)
    west, east = boxes.to_crs(EQUAL_AREA)
    shared = west.intersection(east).area
    assert user.loc["west", "overlap_area_km2"] == pytest.approx(shared / 1e6, rel=1e-6)
    assert user.loc["east", "overlap_area_km2"] == pytest.approx(shared / 1e6, rel=1e-6)
    assert user.loc["west", "overlaps_with"] == f"east ({shared / 1e6:,.1f} km²)"
    assert user.loc["green", "overlap_area_km2"] == 0 and user.loc["green", "overlaps_with"] == ""


def test_battle_parts_overlaps_marked_and_battles_not_double_counted(built):
    parts = zones.load("battle_part")
    eq = parts.to_crs(EQUAL_AREA).geometry
    table = _read(built, "battle_part").set_index("zone")
    for zone, geom in eq.items():
        others = shapely.union_all(eq.drop(index=zone).to_numpy())
        expected = shapely.area(shapely.intersection(geom, others)) / 1e6
        assert table.loc[zone, "overlap_area_km2"] == pytest.approx(expected, rel=1e-6, abs=0.01)
    # the shipped membership has banners in two parts (Alxa Left, Urad Rear, Alxa Right)
    assert (table.overlap_area_km2 > 1000).sum() >= 4
    assert "jizhiwan/tengger" in table.loc["jizhiwan/ulan_buh", "overlaps_with"]
    # battle totals: computed over the union of the parts (each banner once), not summed
    battle = _read(built, "battle").set_index("zone")
    for slug, group in parts.to_crs(EQUAL_AREA).groupby("battle"):
        union = shapely.area(shapely.union_all(group.geometry.to_numpy())) / 1e6
        assert battle.loc[slug, "area_km2"] == pytest.approx(union, rel=1e-6)
    summed = table.loc[table.index.str.startswith("jizhiwan/"), "sandified_area_km2"].sum()
    assert battle.loc["jizhiwan", "sandified_area_km2"] < summed  # parts overlap
    county = _read(built, "county").set_index("adcode")
    members = zones.load("battle").set_index("zone").loc["jizhiwan", "members"].split(",")
    assert battle.loc["jizhiwan", "sandified_area_km2"] == pytest.approx(
        county.loc[members, "sandified_area_km2"].sum(), rel=1e-9
    )
    # section 4 of the report says which parts overlap
    page = (built / "report.html").read_text(encoding="utf-8")
    section = page[page.index('id="s4"') : page.index('id="s5"')]
    assert "Overlapping parts 片区重叠" in section
    pair = shapely.area(eq["jizhiwan/ulan_buh"].intersection(eq["jizhiwan/tengger"])) / 1e6
    assert f"(jizhiwan/ulan_buh) overlaps 重叠于: jizhiwan/tengger ({pair:,.1f} km²)" in section
