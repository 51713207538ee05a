import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from geo import boundaries, indicators
from geo.crs import EQUAL_AREA
from geo.errors import CRSError, DataError
from geo.indicators import INDICATORS, Indicator, gap, meets_target
from geo.layers import Layer, derive
from geo.vectors import read_polygons


def test_fvc_dimidiate_by_hand():
    ndvi = np.array([0.1, 0.2, 0.5, 0.8, 0.9, np.nan])
    fvc = derive.fvc_from_ndvi(ndvi, 0.2, 0.8)
    assert fvc[:5] == pytest.approx([0.0, 0.0, 0.5, 1.0, 1.0])  # clipped to [0, 1]
    assert np.isnan(fvc[5])
    # per-pixel soil/veg; undefined where veg <= soil
    per_pixel = derive.fvc_from_ndvi(
        np.array([0.3, 0.3]), np.array([0.1, 0.3]), np.array([0.5, 0.3])
    )
    assert per_pixel[0] == pytest.approx(0.5) and np.isnan(per_pixel[1])


def test_sandified_degrees_at_threshold_edges():
    cfg = derive.DeriveConfig()
    fvc = np.array([60.0, 59.99, 40.0, 39.99, 25.0, 24.99, 10.0, 9.99, 0.0, 5.0, 5.0, 5.0])
    lc = np.array([10] * 9 + [16, 1, 16])  # grassland…, barren, forest (never sandified), barren
    climate = np.array([2] * 11 + [4])  # the last one is not dryland
    valid = np.ones(12, bool)
    out = derive.sandified_degree(fvc, lc, climate, valid, cfg)
    assert out.tolist() == [0, 1, 1, 2, 2, 3, 3, 4, 4, 4, 0, 0]
    valid[0] = False
    assert derive.sandified_degree(fvc, lc, climate, valid, cfg)[0] == 255


def test_landcover_groups_by_china_forest_definition():
    layers = derive.derive_all(boundaries.load("province"))
    lc = rasterio.open(derive.catalogue()["landcover"].path).read(1)
    cn = layers["landcover_cn"].array
    # woody savanna (IGBP 8) is forest by China's definition; grassland is grassland; water water
    assert set(np.unique(cn[lc == 8])) == {1}
    assert set(np.unique(cn[np.isin(lc, (1, 2, 3, 4, 5))])) == {1}
    assert set(np.unique(cn[lc == 6])) == {2}
    assert set(np.unique(cn[lc == 10])) == {3}
    assert set(np.unique(cn[lc == 0])) == {5}
    assert set(np.unique(cn[lc == 16])) == {4}


def test_ndvi_out_of_range_is_refused(tmp_path):
    path = tmp_path / "ndvi_int.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=4,
        height=4,
        count=1,
        dtype="int16",
        crs="EPSG:4326",
        transform=from_origin(110, 42, 0.05, 0.05),
        nodata=-32768,
    ) as dst:
        dst.write(np.full((4, 4), 6500, "int16"), 1)  # MODIS-style NDVI × 10000
    layer = Layer.from_file(path)
    values, valid = derive.read_on_grid(layer, derive.Grid.from_dataset(rasterio.open(path)))
    with pytest.raises(DataError, match=r"outside \[-1, 1\].*scale"):
        derive.check_ndvi(values, valid, layer)


def test_unknown_land_cover_codes_are_refused(tmp_path, monkeypatch):
    real = derive.catalogue()
    path = tmp_path / "lc.tif"
    with rasterio.open(real["landcover"].path) as src:
        data, profile = src.read(1), src.profile
    data[0, 0] = 42
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    fake = dict(real)
    fake["landcover"] = Layer(**{**real["landcover"].__dict__, "path": path})
    monkeypatch.setattr(derive, "catalogue", lambda: fake)
    with pytest.raises(DataError, match=r"unknown class codes \[42\]"):
        derive.derive_all(boundaries.load("province"))


def test_target_comparison_honours_direction():
    grade = Indicator(
        "quality_grade",
        "耕地质量等级",
        "Cultivated land quality grade",
        "grade",
        direction="<=",
        target=5.10,
    )
    assert meets_target(5.10, grade) and meets_target(4.9, grade)
    assert not meets_target(5.2, grade)
    assert gap(4.9, grade) == pytest.approx(0.2)
    cover = INDICATORS["grassland_fvc_pct"]
    assert cover.direction == ">=" and cover.target == 45.0
    # cited by the plan's title and section, with the words, never by a file's line number
    assert cover.citation.document.title_zh.startswith("全面推进美丽内蒙古建设")
    assert "（二）目标愿景" in cover.citation.section_zh
    assert meets_target(45.0, cover) and not meets_target(44.9, cover)
    assert gap(40.0, cover) == pytest.approx(-5.0)
    assert meets_target(float("nan"), cover) is None
    assert INDICATORS["forest_cover_pct"].target == 21.98
    assert INDICATORS["treated_sandified_pct"].target == 54.33
    assert all(not i.official for i in INDICATORS.values())


def test_redline_share_from_a_polygon_of_known_area():
    # a 100 km × 100 km zone in the equal-area CRS; the red line covers its western 37 km
    zone = gpd.GeoDataFrame(
        {"adcode": ["999999"], "name_zh": ["测试"], "name_en": ["test"], "level": ["user"]},
        geometry=[shapely.box(0, 4_500_000, 100_000, 4_600_000)],
        crs=EQUAL_AREA,
    )
    red = gpd.GeoDataFrame(
        geometry=[shapely.box(-50_000, 4_400_000, 37_000, 4_700_000)], crs=EQUAL_AREA
    )
    area = indicators.overlay_area_km2(zone, red)
    assert area[0] == pytest.approx(3700.0, rel=1e-9)


def test_redline_without_crs_is_refused(tmp_path):
    path = tmp_path / "redline.gpkg"
    gpd.GeoDataFrame(geometry=[shapely.box(110, 40, 111, 41)]).to_file(path)
    with pytest.raises(CRSError, match=r"red line .*redline\.gpkg.*no coordinate reference system"):
        read_polygons(path, what="red line")


def test_per_pixel_fvc_refuses_the_maximum_itself():
    from geo.errors import LayerError

    cfg = derive.DeriveConfig(fvc_method="pixel", ndvi="ndvi_max")
    with pytest.raises(LayerError, match="0 or 100 % everywhere"):
        derive.derive_all(boundaries.load("province"), cfg)


def test_every_target_is_cited_with_its_number_in_both_languages():
    import re

    for ind in INDICATORS.values():
        if ind.target is None:
            continue
        cite = ind.citation
        assert cite is not None, ind.id
        # the quoted words carry the target itself, in the Chinese original and in English
        assert f"{ind.target:g}%" in cite.quote_zh and f"{ind.target:g}%" in cite.quote_en, ind.id
        assert str(ind.target_year) in cite.quote_zh and str(ind.target_year) in cite.quote_en
        assert (
            "《全面推进美丽内蒙古建设筑牢我国北方重要生态安全屏障规划纲要（2025—2035年）》"
            in cite.text
        )
    for ind in INDICATORS.values():
        text = f"{ind.name_en} {ind.name_zh} {ind.method} {ind.cited}"
        assert not re.search(r"\d{3}:L\d+", text) and "digest" not in text.lower(), ind.id


def test_redline_indicators_say_calibrated_proxy():
    for key in ("redline_area", "redline_pct"):
        ind = INDICATORS[key]
        assert "calibrated proxy" in ind.name_en and "校准代理" in ind.name_zh
        assert "50.46 %" in ind.method
    from geo.citations import CITATIONS

    assert CITATIONS["three_battles_mandate"].document.number == "国发〔2023〕16号"
    assert "50.46%" in CITATIONS["redline_share"].quote_en
