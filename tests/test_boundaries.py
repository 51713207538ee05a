import geopandas as gpd
import pytest
import shapely

from geo import boundaries
from geo.errors import CRSError, DataError, LayerError, PlaceLookupError, ZoneError


@pytest.fixture(scope="module")
def counties():
    return boundaries.load("county")


def test_levels_and_schema(counties):
    assert len(boundaries.load("province")) == 1
    leagues = boundaries.load("league")
    assert len(leagues) == 12 and len(counties) == 103
    assert counties.adcode.is_unique and counties.adcode.str.fullmatch(r"15\d{4}").all()
    for gdf in (leagues, counties):
        assert list(gdf.columns) == [
            "adcode",
            "name_zh",
            "name_en",
            "name_pinyin",
            "level",
            "league_adcode",
            "area_km2",
            "geometry",
        ]
        assert gdf.crs.to_epsg() == 4326
        assert (gdf.name_en.str.len() > 0).all() and (gdf.name_zh.str.len() > 0).all()
    assert set(counties.league_adcode) == set(leagues.adcode)
    assert (leagues.league_adcode == leagues.adcode).all()


def test_standard_english_names():
    leagues = boundaries.load("league").set_index("adcode").name_en
    assert leagues["150700"] == "Hulunbuir"
    assert leagues["152200"] == "Hinggan League"
    assert leagues["152500"] == "Xilingol League"
    assert leagues["152900"] == "Alxa League"
    assert leagues["150800"] == "Bayannur" and leagues["150900"] == "Ulanqab"
    names = boundaries.load("county").set_index("adcode").name_en
    assert names["152922"] == "Alxa Right Banner"
    assert names["152923"] == "Ejin Banner"
    assert names["150521"] == "Horqin Left Middle Banner"


def test_banner_areas_sum_to_leagues_and_province(counties):
    leagues = boundaries.load("league").set_index("adcode")
    sums = counties.groupby("league_adcode").area_km2.sum()
    rel = (sums - leagues.area_km2).abs() / leagues.area_km2
    assert rel.max() < 1e-3
    province = boundaries.load("province").area_km2.iloc[0]
    assert counties.area_km2.sum() == pytest.approx(province, rel=1e-3)
    assert leagues.area_km2.sum() == pytest.approx(province, rel=1e-3)
    # the shipped file's own Albers areas agree (computed by the data's maker, independently)
    raw = gpd.read_file(boundaries.data_path("boundaries", "im_admin_wgs84.gpkg"), layer="county")
    assert counties.set_index("adcode").area_km2.values == pytest.approx(
        raw.set_index("adcode").loc[counties.adcode].area_km2.values, rel=1e-9
    )


# Every league/banner name or alias of the plan digest (§2.1, §2.2, §2.11) and its adcode.
PLAN_NAMES = {
    "Alxa": "152900",
    "Alxa League": "152900",
    "阿拉善": "152900",
    "阿拉善盟": "152900",
    "Alashan": "152900",
    "Alashan League": "152900",
    "Alxashan": "152900",
    "Xilingol": "152500",
    "Xilingol League": "152500",
    "锡林郭勒盟": "152500",
    "Xilin Gol": "152500",
    "Xilin Gol League": "152500",
    "锡林郭勒": "152500",
    "Hulunbuir": "150700",
    "Hulunbeir": "150700",
    "呼伦贝尔市": "150700",
    "呼伦贝尔": "150700",
    "Xing'an League": "152200",
    "Xing 'an": "152200",
    "Hinggan": "152200",
    "兴安盟": "152200",
    "Arxan": "152202",
    "阿尔山": "152202",
    "Aershan": "152202",
    "Arshan": "152202",
    "Alshan": "152202",
    "Erenhot": "152501",
    "Erlianhot": "152501",
    "二连浩特": "152501",
    "Hohhot": "150100",
    "呼和浩特市": "150100",
    "Baotou": "150200",
    "包头市": "150200",
    "Wuhai": "150300",
    "Chifeng": "150400",
    "Tongliao": "150500",
    "Ordos": "150600",
    "鄂尔多斯市": "150600",
    "Bayannur": "150800",
    "巴彦淖尔市": "150800",
    "Ulanqab": "150900",
    "乌兰察布市": "150900",
    "Alxa Right Banner": "152922",
    "阿拉善右旗": "152922",
    "Ejin Banner": "152923",
    "额济纳旗": "152923",
    "额济纳": "152923",
    "Alxa Left Banner": "152921",
    "阿拉善左旗": "152921",
    "Jalaid Banner": "152223",
    "扎赉特旗": "152223",
    "Linhe District": "150802",
    "临河区": "150802",
    "Dengkou": "150822",
    "磴口": "150822",
    "Manzhouli": "150781",
    "满洲里市": "150781",
    "Otog Banner": "150624",
    "鄂托克旗": "150624",
    "Uxin Banner": "150626",
    "乌审旗": "150626",
    "Dalad Banner": "150621",
    "Horinger": "150123",
    "Helinger": "150123",
    "Holingol": "150581",
    "Darhan Muminggan": "150223",
    "Ulanhot": "152201",
    "Hailar": "150702",
    "Zhalai Nuoer": "150703",
}


@pytest.mark.parametrize(("name", "adcode"), sorted(PLAN_NAMES.items()))
def test_plan_names_resolve(name, adcode):
    assert boundaries.lookup(name).adcode == adcode


def test_lookup_folds_case_space_tones_and_type_words():
    assert boundaries.lookup("  ejin banner ").adcode == "152923"
    assert boundaries.lookup("EJIN").adcode == "152923"
    assert boundaries.lookup("Hūlúnbèiěr").adcode == "150700"
    assert boundaries.lookup("Ordos City").adcode == "150600"
    assert boundaries.lookup("152923").name_en == "Ejin Banner"
    assert boundaries.lookup("Xilingol", level="league").level == "league"


def test_lookup_unknown_lists_candidates():
    with pytest.raises(
        PlaceLookupError, match=r"no administrative unit named 'Ejn Banner'.*closest: Ejin Banner"
    ):
        boundaries.lookup("Ejn Banner")
    with pytest.raises(PlaceLookupError, match=r"considered 116 units"):
        boundaries.lookup("Atlantis")
    with pytest.raises(PlaceLookupError, match="level county"):
        boundaries.lookup("Alxa League", level="county")


def test_bad_inputs(tmp_path):
    with pytest.raises(ZoneError, match="unknown level 'prefecture'"):
        boundaries.load("prefecture")
    missing = tmp_path / "nowhere.gpkg"
    with pytest.raises(DataError, match=r"nowhere\.gpkg"):
        boundaries.load("county", path=missing)
    not_vector = tmp_path / "fake.gpkg"
    not_vector.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    with pytest.raises(DataError, match=r"fake\.gpkg"):
        boundaries.load("county", path=not_vector)
    no_crs = tmp_path / "nocrs.gpkg"
    gpd.GeoDataFrame({"adcode": ["152923"]}, geometry=[shapely.box(100, 41, 101, 42)]).to_file(
        no_crs, layer="county"
    )
    with pytest.raises(CRSError, match=r"nocrs\.gpkg"):
        boundaries.load("county", path=no_crs)
    with pytest.raises(LayerError, match="its layers are: county"):
        boundaries.load("league", path=no_crs)
