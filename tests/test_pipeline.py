"""The main job's computation (geo.pipeline): run configuration, one coverage per zone set."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely

from geo import indicators
from geo.grid import Grid
from geo.layers import catalogue
from geo.layers.derive import DeriveConfig
from geo.pipeline import REPORT_LEVELS, Results, compute_all, sensitivity_table
from geo.zonal import Coverage
from geo.zones import ZoneSet


@pytest.fixture
def builds(monkeypatch):
    """Every coverage built, as (zones key, grid key, method), through Coverage.build."""
    seen = []
    original = Coverage.build.__func__

    def counting(cls, zones, grid, method="exact"):
        seen.append((Coverage.zones_key(zones), grid.north_up().key(), method))
        return original(cls, zones, grid, method)

    monkeypatch.setattr(Coverage, "build", classmethod(counting))
    return seen


def _grid(path) -> str:
    with rasterio.open(path) as ds:
        return Grid.from_dataset(ds).north_up().key()


def _user_ndvi(path):
    """√NDVI of the shipped NDVI maximum: a user's NDVI that moves every vegetation cover."""
    with rasterio.open(catalogue()["ndvi_max"].path) as src:
        profile, ndvi = src.profile, src.read(1)
    own = np.where(ndvi == src.nodata, ndvi, np.sqrt(np.clip(ndvi, 0, 1))).astype("float32")
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(own, 1)
    return path


def test_sensitivity_default_row_is_the_runs_own_method(tmp_path):
    """With a user NDVI and a correction, the "default" row equals the run's province values.

    Two computations: compute_all's province table, and the sensitivity table deriving its
    layers itself from the same configuration (not handed the run's layers).
    """
    config = DeriveConfig(ndvi=str(_user_ndvi(tmp_path / "my_ndvi.tif")))
    fix = gpd.GeoDataFrame(
        {"layer": ["sandified"], "value": [0]}, geometry=[shapely.box(104, 38, 106, 40)], crs=4326
    )
    cache = tmp_path / "cache"
    results = compute_all(levels=("province",), config=config, corrections=fix, cache=cache)
    table = sensitivity_table(config=config, corrections=fix, cache=cache)
    province = results.wide["province"].iloc[0]
    default = table.iloc[0]
    assert list(table.columns) == ["choice", *indicators.sensitive()]
    for key in indicators.sensitive():
        assert default[key] == pytest.approx(province[key], rel=1e-12), key
    assert "my_ndvi.tif" in default["choice"] and "1 user correction" in default["choice"]
    # the user's NDVI and the correction matter: the shipped method gives other values
    shipped = compute_all(levels=("province",), cache=cache).wide["province"].iloc[0]
    assert abs(shipped["grassland_fvc_pct"] - default["grassland_fvc_pct"]) > 1.0
    assert abs(shipped["sandified_pct"] - default["sandified_pct"]) > 0.1


def test_one_coverage_build_per_zone_set_and_grid(tmp_path, builds):
    """compute_all with verdicts and extra layers, then the sensitivity table, cold cache."""
    extra = [catalogue()["dem"], catalogue()["landcover"]]  # another grid, the same grid
    cache = tmp_path / "cache"
    levels = ("province", "league", "battle")
    results = compute_all(
        levels=levels, verdicts=True, extra_layers=extra, cache=cache, progress=None
    )
    sensitivity_table(
        config=results.config, layers=results.layers, cache=cache, context=results.context
    )
    grids = {_grid(results.layers["fvc"].path), _grid(extra[0].path), _grid(extra[1].path)}
    assert len(grids) == 2
    zone_keys = {Coverage.zones_key(results.zones[level].frame) for level in levels}
    expected = {(z, g, "exact") for z in zone_keys for g in grids}
    assert sorted(builds) == sorted(expected)  # each exactly once
    assert results.context.builds == len(expected) == len(results.context)
    # a second run on the warm cache builds nothing; --force builds each once again
    builds.clear()
    compute_all(levels=("league",), extra_layers=extra, cache=cache)
    assert builds == []
    again = compute_all(levels=("league",), extra_layers=extra, cache=cache, force=True)
    league = Coverage.zones_key(again.zones["league"].frame)
    assert sorted(builds) == sorted((league, g, "exact") for g in grids)
    forced = again.wide["league"]  # without verdicts: fewer columns, the same numbers
    pd.testing.assert_frame_equal(forced, results.wide["league"][forced.columns])


def test_results_hold_zone_sets_and_join_geometry_by_id(tmp_path):
    results = compute_all(levels=("league", "battle"), cache=tmp_path / "cache")
    assert isinstance(results, Results)
    for level, id_column in (("league", "adcode"), ("battle", "zone")):
        zone_set = results.zones[level]
        assert isinstance(zone_set, ZoneSet) and zone_set.id_column == id_column
        assert results.wide[level].columns[0] == id_column
    shuffled = results.wide["league"].iloc[::-1]
    joined = results.with_geometry("league", shuffled)
    frame = results.zones["league"].frame
    for adcode, geom in zip(joined["adcode"], joined.geometry, strict=True):
        assert shapely.equals_exact(geom, frame.loc[adcode, "geometry"], 0)
    assert joined.crs.to_epsg() == 4326 and list(joined.index) == list(shuffled.index)


def test_indicator_flags_give_the_presentation_lists():
    assert indicators.headline() == (
        "grassland_fvc_pct",
        "forest_cover_pct",
        "sandified_pct",
        "redline_pct",
    )
    assert indicators.mapped() == (
        "grassland_fvc_pct",
        "forest_cover_pct",
        "fvc_mean_pct",
        "sandified_pct",
        "redline_pct",
    )
    assert indicators.printed() == ("grassland_fvc_pct", "forest_cover_pct", "sandified_pct")
    assert indicators.charted() == ("grassland_fvc_pct", "forest_cover_pct")
    assert indicators.targeted() == (
        "grassland_fvc_pct",
        "forest_cover_pct",
        "treated_sandified_pct",
    )
    assert set(indicators.sensitive()) <= set(indicators.INDICATORS)
    assert REPORT_LEVELS[0] == "province"


def _corrupt_coverages(cache):
    files = sorted((cache / "coverage").glob("coverage-*.npz"))
    for path in files:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    return files


def test_force_rebuilds_every_coverage(barrier, tmp_path):
    """--force reached the indicators' coverages but not those of --layer: a corrupt one was
    read (and said) instead of rebuilt."""
    out, cache = tmp_path / "rep", tmp_path / "cache"
    args = ["report", "--tables-only", "--quiet", "--cache", cache, "--layer", "dem"]
    code, _, err = barrier(*args, "--out", out)
    assert code == 0, err
    files = _corrupt_coverages(cache)
    assert files
    forced = tmp_path / "forced"
    code, _, err = barrier(*args, "--out", forced, "--force")
    assert code == 0, err
    assert "corrupt" not in err and "Traceback" not in err
    for path in files:  # rewritten whole: each loads and checks its checksum
        with np.load(path) as saved:
            assert "meta" in saved.files
    for name in ("indicators_county.csv", "indicators_battle.csv"):
        before = pd.read_csv(out / "tables" / name)
        after = pd.read_csv(forced / "tables" / name)
        pd.testing.assert_frame_equal(after, before)
