"""Yearly series per zone and the key-lakes early warning, on SYNTHETIC stacks with known areas."""

import numpy as np
import pandas as pd
import pytest

from geo import testing
from geo.lakes import WarningRule, key_lakes, lake_water
from geo.series import zone_series
from geo.stack import Stack

CRS = "EPSG:6933"  # equal-area: a 1 km cell is 1 km²


def _jrc_stack(folder, water_cells_by_year, nodata_cells_by_year=None, shape=(20, 20)):
    """JRC-style yearly classes: the first n cells (row-major) of the lake box are water (3),
    the rest of the box land (1); cells in rows 0-9 × cols 0-9 form the lake box."""
    folder.mkdir()
    nodata_cells_by_year = nodata_cells_by_year or {}
    for year, n in water_cells_by_year.items():
        grid = np.ones(shape, "uint8")
        box = np.ones(100, "uint8")
        box[:n] = 3
        gaps = nodata_cells_by_year.get(year, 0)
        if gaps:
            box[100 - gaps :] = 0
        grid[:10, :10] = box.reshape(10, 10)
        testing.write_raster(folder / f"gsw_{year}.tif", grid, cell=1000.0, crs=CRS)
    return Stack.open(folder)


def _lake_file(tmp_path):
    lakes = testing.box_zones({"testlake": (0, 10_000, 10_000, 20_000)}, crs=CRS, field="lake")
    lakes["name_zh"], lakes["name_en"] = "试验湖", "Test lake"
    path = tmp_path / "lakes.gpkg"
    lakes.to_file(path)
    return path


def test_synthetic_lake_areas_anomaly_and_warnings(tmp_path):
    areas = {2000 + k: 80 for k in range(10)}
    areas.update({2001: 82, 2003: 78, 2010: 79, 2011: 60, 2012: 61, 2013: 70})
    stack = _jrc_stack(tmp_path / "gsw", areas, {2013: 30})
    lakes = key_lakes(_lake_file(tmp_path), buffer_km=0)
    rule = WarningRule(baseline=(2000, 2009), sd_factor=2, drop_pct=10)
    table = lake_water(stack, lakes, scheme="jrc", rule=rule).set_index("year")

    assert table.loc[2011, "water_km2"] == pytest.approx(60.0, rel=1e-9)
    assert table.loc[2011, "water_mu"] == pytest.approx(60 * 1500, rel=1e-9)
    base = np.array([areas[y] for y in range(2000, 2010)], float)
    assert table.loc[2011, "baseline_mean_km2"] == pytest.approx(base.mean())
    assert table.loc[2011, "baseline_sd_km2"] == pytest.approx(base.std(ddof=1))
    assert table.loc[2011, "anomaly_pct"] == pytest.approx(100 * (60 - base.mean()) / base.mean())
    # 2011: 24 % fall and far below mean − 2 SD; 2012 below mean − 2 SD only; 2010 fine
    assert table.loc[2011, "warning"] and "fell 24.1 %" in table.loc[2011, "warning_reason"]
    assert table.loc[2012, "warning"] and "SD" in table.loc[2012, "warning_reason"]
    assert not table.loc[2010, "warning"]
    # 2013: 30 % of the lake zone unobserved (JRC class 0) — not judged, said so
    assert table.loc[2013, "nodata_pct"] == pytest.approx(30.0)
    assert not table.loc[2013, "warning"]
    assert table.loc[2013, "warning_reason"].startswith("not judged")
    assert table.loc[2013, "water_km2"] == pytest.approx(70.0)


def test_synthetic_series_class_areas_fill_missing_classes(tmp_path):
    stack = _jrc_stack(tmp_path / "gsw", {2000: 0, 2001: 25, 2002: 100})
    zones = testing.box_zones({"box": (0, 10_000, 10_000, 20_000)}, crs=CRS).set_index(
        "zone", drop=False
    )
    table = zone_series(zones, stack, categorical=True)
    water = table[table["class"] == 3].set_index("year")
    assert list(water["area_km2"]) == pytest.approx([0.0, 25.0, 100.0])
    assert list(water["pct"]) == pytest.approx([0.0, 25.0, 100.0])
    assert water.loc[2001, "area_ha"] == pytest.approx(2500.0)
    land = table[table["class"] == 1].set_index("year")
    assert list(land["area_km2"]) == pytest.approx([100.0, 75.0, 0.0])


def test_synthetic_series_value_stats_equal_hand_means(tmp_path):
    folder = tmp_path / "ndvi"
    folder.mkdir()
    for year, level in ((2001, 0.2), (2002, 0.3)):
        values = np.full((4, 4), level, "float32")
        values[0, 0] = 1.0
        testing.write_raster(folder / f"ndvi{year}.tif", values, cell=1000.0, crs=CRS)
    zones = testing.box_zones({"nw": (0, 2000, 2000, 4000)}, crs=CRS).set_index("zone")
    table = zone_series(zones, Stack.open(folder), ("mean", "max"))
    got = table.pivot_table(index="year", columns="stat", values="value")
    assert got.loc[2001, "mean"] == pytest.approx((1.0 + 3 * 0.2) / 4)
    assert got.loc[2002, "max"] == pytest.approx(1.0)
    assert isinstance(table, pd.DataFrame) and set(table["zone"]) == {"nw"}


def test_shipped_key_lakes_have_areas_near_natural_earth():
    lakes = key_lakes(buffer_km=0)
    assert {"hulun", "ulansuhai", "dalinor", "gaxun_nur"} <= set(lakes.index)
    # Natural Earth outline of Hulun Lake: about 2,355 km² (official surface ~2,339 km²)
    assert 2_200 < lakes.loc["hulun", "outline_km2"] < 2_500
    wider = key_lakes(buffer_km=2)
    assert (wider["zone_km2"] > lakes["zone_km2"]).all()
