import json

import pandas as pd
import pytest

from geo import boundaries, report
from geo.data import sha256


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "report"
    report.build_report(out)
    return out


def test_tables_have_real_areas(built):
    tables = {
        level: pd.read_csv(
            built / "tables" / f"indicators_{level}.csv",
            dtype={"adcode": str, "league_adcode": str},
        )
        for level in boundaries.LEVELS
    }
    assert [len(t) for t in tables.values()] == [1, 12, 103]
    for table in tables.values():
        assert list(table.columns[:4]) == ["adcode", "name_zh", "name_en", "level"]
        assert {"area_km2", "area_ha", "area_mu"} <= set(table.columns)
        assert table.area_ha.to_numpy() == pytest.approx(table.area_km2.to_numpy() * 100)
        assert table.area_mu.to_numpy() == pytest.approx(table.area_km2.to_numpy() * 1500)
    province = tables["province"].area_km2.iloc[0]
    assert tables["league"].area_km2.sum() == pytest.approx(province, rel=1e-3)
    assert tables["county"].area_km2.sum() == pytest.approx(province, rel=1e-3)
    # Inner Mongolia: ~1.14 million km² on these (Amap) boundaries
    assert 1.10e6 < province < 1.20e6
    # BOM so that Excel shows the Chinese names
    assert (built / "tables" / "indicators_league.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    assert "锡林郭勒盟" in tables["league"].name_zh.tolist()


def test_manifest_traces_inputs_and_outputs(built):
    record = json.loads((built / "manifest.json").read_text(encoding="utf-8"))
    assert record["parameters"]["official"] is False
    assert "+proj=aea" in record["parameters"]["equal_area_crs"]
    inputs = {i["path"].split("/")[-1]: i for i in record["inputs"]}
    gpkg = boundaries.data_path("boundaries", "im_admin_wgs84.gpkg")
    assert inputs["im_admin_wgs84.gpkg"]["sha256"] == sha256(gpkg)
    outputs = {o["path"]: o["sha256"] for o in record["outputs"]}
    assert outputs["tables/indicators_county.csv"] == sha256(
        built / "tables" / "indicators_county.csv"
    )
    assert record["packages"]["geopandas"]


def test_rerun_replaces_whole_folder(built):
    stale = built / "tables" / "old_file.csv"
    stale.write_text("from an older run")
    report.build_report(built)
    assert not stale.exists()
    assert (built / "manifest.json").exists()
    assert not list(built.parent.glob(".report.*"))
