"""The sandified-land and red-line proxies (issue 17: better proxies from what ships)."""

import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.transform import from_origin

from geo import boundaries
from geo.grid import Grid
from geo.layers import derive
from geo.layers.landmasks import rasterize_region, sandy_land_banners, sandy_land_mask

CFG = derive.DeriveConfig()


def _one_cell(lon: float, lat: float) -> Grid:
    """A 1 × 1 grid of 0.05° centred on (lon, lat)."""
    return Grid(from_origin(lon - 0.025, lat + 0.025, 0.05, 0.05), (1, 1), CRS.from_epsg(4326))


def _degree(sandy: bool, climate: int, fvc: float, known: bool | None = None) -> int:
    """Degree of one grassland cell (IGBP 10) with the given climate group and FVC (%)."""
    known = sandy if known is None else known
    out = derive.sandified_degree(
        np.array([fvc]),
        np.array([10]),
        np.array([climate]),
        np.array([True]),
        CFG,
        np.array([sandy]),
        np.array([known]),
    )
    return int(out[0])


def test_koppen_d_cell_counts_in_horqin_not_outside():
    """A cold-climate (Köppen D) grassland cell of FVC 30 % is sandified in Horqin only."""
    naiman = _one_cell(120.65, 42.85)  # Naiman Banner (150525), Horqin sandy land
    hohhot = _one_cell(111.75, 40.85)  # Hohhot, in no sandy-land part
    inside = bool(sandy_land_mask(naiman, CFG)[0, 0])
    outside = bool(sandy_land_mask(hohhot, CFG)[0, 0])
    assert inside and not outside
    # FVC 30 %: moderate (25 <= FVC < 40) by GB/T 24255-2009
    assert _degree(inside, climate=4, fvc=30.0) == 2
    assert _degree(outside, climate=4, fvc=30.0) == 0
    # the old rule (Köppen B only) is what an empty parts list gives
    old = derive.DeriveConfig(sandy_land_parts=())
    assert not sandy_land_mask(naiman, old).any()


def test_light_degree_only_where_sand_is_known():
    """FVC 50 % in a dryland: light inside a named sandy land or desert, not counted elsewhere."""
    assert _degree(False, climate=2, fvc=50.0, known=True) == 1
    assert _degree(False, climate=2, fvc=50.0, known=False) == 0
    # FVC 39.99 % is moderate and counts everywhere in a dryland
    assert _degree(False, climate=2, fvc=39.99, known=False) == 2
    # without the masks the single cap of the earlier versions applies (60 %)
    single = derive.sandified_degree(
        np.array([50.0]), np.array([10]), np.array([2]), np.array([True]), CFG
    )
    assert single.tolist() == [1]


def test_sandy_land_banners_from_the_battle_table():
    """Horqin and Hunshandake rows of confidence high/medium, read from battle_zones.csv."""
    import csv

    from geo.data import data_path

    with open(data_path("zones", "battle_zones.csv"), encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    expected = sorted(
        {
            r["adcode"]
            for r in rows
            if r["part"] in CFG.sandy_land_parts and r["confidence"] in ("high", "medium")
        }
    )
    banners = sandy_land_banners(CFG)
    assert banners == expected
    assert {"150525", "150522", "150425"} <= set(banners)  # Naiman, Horqin Left Rear, Hexigten
    assert "152530" not in banners  # Zhenglan: a low-confidence (longitude-split) row
    assert not any(b.startswith("1507") for b in banners)  # no sourced Hulunbuir sandy land


def test_method_text_and_cache_key_name_the_rule():
    assert CFG.key() != derive.DeriveConfig(sandy_land_parts=()).key()
    assert CFG.key() != derive.DeriveConfig(sandified_max_fvc_pct_elsewhere=60.0).key()


@pytest.fixture(scope="module")
def shipped():
    return derive.derive_all(boundaries.load("province"))


def test_redline_calibration_still_official_share(shipped):
    """The red-line proxy covers 50.46 % of the region (area-weighted, independent sum)."""
    layer = shipped["redline_proxy"]
    grid = layer.grid
    region = rasterize_region(grid, boundaries.load("province"))
    lat = grid.transform.f + (np.arange(grid.height) + 0.5) * grid.transform.e
    # cell area on the sphere ∝ cos(latitude) for a regular lon/lat grid
    weight = np.broadcast_to(np.cos(np.radians(lat))[:, None], grid.shape)
    valid = region & (layer.array != 255)
    share = weight[valid & (layer.array == 1)].sum() / weight[valid].sum() * 100
    assert share == pytest.approx(50.46, abs=0.1)


def test_shipped_sandified_counts_cold_horqin(shipped):
    """Cells of the shipped layer in Horqin banners outside Köppen B are sandified now."""
    sand = shipped["sandified"]
    with rasterio.open(derive.catalogue()["climate"].path) as src:
        climate = np.empty(sand.grid.shape, "uint8")
        rasterio.warp.reproject(
            rasterio.band(src, 1),
            climate,
            dst_transform=sand.grid.transform,
            dst_crs=sand.grid.crs,
            resampling=rasterio.enums.Resampling.nearest,
        )
    horqin = sandy_land_mask(sand.grid, CFG)
    cold = horqin & (climate != 2) & np.isin(sand.array, (1, 2, 3, 4))
    assert cold.sum() > 0
    outside = ~sandy_land_mask(sand.grid, CFG, (*CFG.sandy_land_parts, *CFG.desert_parts))
    # outside every named sandy land and desert, no light degree remains
    assert not (outside & (sand.array == 1)).any()


def test_cli_layers_state_the_sandy_land_rule(barrier, tmp_path, monkeypatch):
    """``barrier layers``: the sandified layer's method names the rule and its banners."""
    import json

    monkeypatch.setenv("GEO_BARRIER_CACHE", str(tmp_path / "cache"))
    code, out, _ = barrier("layers", "--format", "json")
    assert code == 0
    source = {r["name"]: r for r in json.loads(out)}["sandified"]["source"]
    banners = len(sandy_land_banners(CFG))
    assert f"{banners} banners" in source and "'horqin'" in source
    assert "< 40 % elsewhere" in source and "GB/T 24255" in source
