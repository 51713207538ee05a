"""Gazetteer: short names, abbreviations and former names resolve; ambiguous names are listed.

Every expected adcode is the one :func:`geo.boundaries.lookup` gives for the unit's full
official name (``name_zh`` of ``data/boundaries/names.csv``), never a copied number.
"""

import pytest

from geo import boundaries
from geo.errors import PlaceLookupError


def full(name_zh):
    """Adcode of a unit given by its full official Chinese name."""
    place = boundaries.lookup(name_zh)
    assert place.name_zh == name_zh
    return place.adcode


# Short name or abbreviation in common use → full official name of the unit it denotes.
SHORT_NAMES = {
    # leagues and cities; old league names (盟 before becoming a city) denote today's unit
    "呼市": "呼和浩特市",
    "包头": "包头市",
    "鄂市": "鄂尔多斯市",
    "伊盟": "鄂尔多斯市",
    "伊克昭盟": "鄂尔多斯市",
    "锡盟": "锡林郭勒盟",
    "阿盟": "阿拉善盟",
    "巴盟": "巴彦淖尔市",
    "巴彦淖尔盟": "巴彦淖尔市",
    "乌盟": "乌兰察布市",
    "乌兰察布盟": "乌兰察布市",
    "兴安盟": "兴安盟",
    "哲盟": "通辽市",
    "哲里木盟": "通辽市",
    "通辽": "通辽市",
    "昭盟": "赤峰市",
    "昭乌达盟": "赤峰市",
    "赤峰": "赤峰市",
    "呼盟": "呼伦贝尔市",
    "呼伦贝尔盟": "呼伦贝尔市",
    # banners, counties, districts
    "阿左旗": "阿拉善左旗",
    "阿右旗": "阿拉善右旗",
    "额旗": "额济纳旗",
    "额济纳": "额济纳旗",
    "达茂旗": "达尔罕茂明安联合旗",
    "达茂": "达尔罕茂明安联合旗",
    "鄂前旗": "鄂托克前旗",
    "伊旗": "伊金霍洛旗",
    "伊金霍洛": "伊金霍洛旗",
    "准旗": "准格尔旗",
    "达旗": "达拉特旗",
    "杭后": "杭锦后旗",
    "乌前旗": "乌拉特前旗",
    "乌中旗": "乌拉特中旗",
    "乌后旗": "乌拉特后旗",
    "察右前旗": "察哈尔右翼前旗",
    "察右中旗": "察哈尔右翼中旗",
    "察右后旗": "察哈尔右翼后旗",
    "四子王": "四子王旗",
    "科左中旗": "科尔沁左翼中旗",
    "科左后旗": "科尔沁左翼后旗",
    "科右前旗": "科尔沁右翼前旗",
    "科右中旗": "科尔沁右翼中旗",
    "阿旗": "阿鲁科尔沁旗",
    "克旗": "克什克腾旗",
    "翁旗": "翁牛特旗",
    "喀旗": "喀喇沁旗",
    "敖汉": "敖汉旗",
    "东乌旗": "东乌珠穆沁旗",
    "西乌旗": "西乌珠穆沁旗",
    "正蓝旗": "正蓝旗",
    "正镶白旗": "正镶白旗",
    "镶黄旗": "镶黄旗",
    "太旗": "太仆寺旗",
    "苏左旗": "苏尼特左旗",
    "苏右旗": "苏尼特右旗",
    "新左旗": "新巴尔虎左旗",
    "新右旗": "新巴尔虎右旗",
    "陈旗": "陈巴尔虎旗",
    "莫旗": "莫力达瓦达斡尔族自治旗",
    "鄂伦春": "鄂伦春自治旗",
    "鄂伦春旗": "鄂伦春自治旗",
    "鄂温克旗": "鄂温克族自治旗",
    "阿荣旗": "阿荣旗",
    "扎兰屯": "扎兰屯市",
    "牙克石": "牙克石市",
    "土右旗": "土默特右旗",
    "土左旗": "土默特左旗",
    "托县": "托克托县",
    "和林": "和林格尔县",
    "清水河": "清水河县",
    "武川": "武川县",
    "固阳": "固阳县",
    "白云": "白云鄂博矿区",
    # pinyin without tones, with spaces or hyphens; English
    "Xilin Gol": "锡林郭勒盟",
    "xilinguole meng": "锡林郭勒盟",
    "Xi-lin-guo-le Meng": "锡林郭勒盟",
    "Alashan": "阿拉善盟",
    "Alxa Zuoqi": "阿拉善左旗",
    "alashan zuoqi": "阿拉善左旗",
    "A-la-shan Zuo-qi": "阿拉善左旗",
    "Alxa Left Banner": "阿拉善左旗",
    "Ordos City": "鄂尔多斯市",
    "Yikezhao League": "鄂尔多斯市",
    "Jirim League": "通辽市",
    "Ju Ud League": "赤峰市",
    "Ulanqab League": "乌兰察布市",
    "E-tuo-ke Qian-qi": "鄂托克前旗",
}


@pytest.mark.parametrize(("short", "name_zh"), sorted(SHORT_NAMES.items()))
def test_short_names_resolve_to_the_full_names_unit(short, name_zh):
    assert boundaries.lookup(short).adcode == full(name_zh)


@pytest.mark.parametrize(
    ("short", "name_zh"),
    [("锡盟", "锡林郭勒盟"), ("鄂市", "鄂尔多斯市"), ("阿左旗", "阿拉善左旗"), ("哲盟", "通辽市")],
)
def test_cli_lookup_short_names(barrier, short, name_zh):
    code, out, err = barrier("lookup", short)
    assert code == 0, err
    adcode, _level, zh, _en = out.rstrip("\n").split("\t")
    assert (adcode, zh) == (full(name_zh), name_zh)


def test_level_restricts_the_short_names():
    assert boundaries.lookup("锡盟", level="league").adcode == full("锡林郭勒盟")
    with pytest.raises(PlaceLookupError, match="level county"):
        boundaries.lookup("锡盟", level="county")


# Input → the full names of every unit it may denote (all must be listed, none picked).
AMBIGUOUS = {
    # stem of split banners: 鄂托克旗 / 鄂托克前旗, 杭锦旗 / 杭锦后旗
    "鄂托克": ["鄂托克旗", "鄂托克前旗"],
    "Otog": ["鄂托克旗", "鄂托克前旗"],
    "etuoke": ["鄂托克旗", "鄂托克前旗"],
    "鄂托克县": ["鄂托克旗", "鄂托克前旗"],
    "杭锦": ["杭锦旗", "杭锦后旗"],
    "Hanggin": ["杭锦旗", "杭锦后旗"],
    "科尔沁": ["科尔沁区", "科尔沁左翼中旗", "科尔沁左翼后旗", "科尔沁右翼前旗", "科尔沁右翼中旗"],
    "Horqin": ["科尔沁区", "科尔沁左翼中旗", "科尔沁左翼后旗", "科尔沁右翼前旗", "科尔沁右翼中旗"],
    # one abbreviation used for two banners
    "扎旗": ["扎鲁特旗", "扎赉特旗"],
    # fragments of several names
    "苏尼特": ["苏尼特左旗", "苏尼特右旗"],
    "巴林": ["巴林左旗", "巴林右旗"],
    "乌珠穆沁": ["东乌珠穆沁旗", "西乌珠穆沁旗"],
    "土默特": ["土默特左旗", "土默特右旗"],
    "土默特旗": ["土默特左旗", "土默特右旗"],
    "苏尼特旗": ["苏尼特左旗", "苏尼特右旗"],
    "乌拉特": ["乌拉特前旗", "乌拉特中旗", "乌拉特后旗"],
    "察哈尔": ["察哈尔右翼前旗", "察哈尔右翼中旗", "察哈尔右翼后旗"],
    "巴尔虎": ["陈巴尔虎旗", "新巴尔虎左旗", "新巴尔虎右旗"],
    "Urad": ["乌拉特前旗", "乌拉特中旗", "乌拉特后旗"],
    "Xilin": ["锡林郭勒盟", "锡林浩特市"],
}


@pytest.mark.parametrize(("name", "candidates"), sorted(AMBIGUOUS.items()))
def test_ambiguous_names_exit_2_listing_every_candidate(barrier, name, candidates):
    code, out, err = barrier("lookup", name)
    assert code == 2 and out == ""
    assert err.startswith("barrier lookup: error: ") and err.count("\n") == 1
    assert "Traceback" not in err
    listed = {f"{zh} ({full(zh)})" for zh in candidates}
    for item in listed:
        assert item in err
    # nothing else is listed: one "(adcode)" per candidate
    assert err.count("(15") == len(listed)


def test_split_banners_full_names_still_resolve():
    for name, name_zh in [
        ("鄂托克旗", "鄂托克旗"),
        ("Otog Banner", "鄂托克旗"),
        ("etuokeqi", "鄂托克旗"),
        ("鄂托克前旗", "鄂托克前旗"),
        ("Otog Front Banner", "鄂托克前旗"),
        ("杭锦旗", "杭锦旗"),
        ("Hanggin Banner", "杭锦旗"),
        ("杭锦后旗", "杭锦后旗"),
        ("科尔沁区", "科尔沁区"),
        ("Horqin District", "科尔沁区"),
        # not a split banner: Ejin Horo is a name of its own
        ("Ejin", "额济纳旗"),
        # a league and the banners named after it are not rivals
        ("阿拉善", "阿拉善盟"),
        ("Alxa", "阿拉善盟"),
    ]:
        assert boundaries.lookup(name).adcode == full(name_zh), name


def test_level_county_lists_the_banners_named_after_a_league():
    with pytest.raises(PlaceLookupError, match="level county") as err:
        boundaries.lookup("阿拉善", level="county")
    for zh in ("阿拉善左旗", "阿拉善右旗"):
        assert f"{zh} ({full(zh)})" in str(err.value)
    assert full("阿拉善盟") not in str(err.value)


def test_every_name_in_the_table_resolves_to_its_row_or_lists_its_rows():
    """The gazetteer never refuses its own names, and never picks one of a shared alias."""
    table = boundaries.names()
    owners: dict[str, set[str]] = {}
    for row in table.itertuples():
        for variant in [row.name_zh, row.name_en, row.name_pinyin, *row.aliases.split("|")]:
            if variant.strip():
                owners.setdefault(boundaries.normalise(variant), set()).add(row.adcode)
    for row in table.itertuples():
        for variant in [row.name_zh, row.name_en, row.name_pinyin, *row.aliases.split("|")]:
            if not variant.strip():
                continue
            rows = owners[boundaries.normalise(variant)]
            if len(rows) == 1:
                assert boundaries.lookup(variant).adcode == row.adcode, variant
            else:
                with pytest.raises(PlaceLookupError, match="ambiguous") as err:
                    boundaries.lookup(variant)
                assert all(f"({a})" in str(err.value) for a in rows), variant


def test_long_candidate_lists_are_cut():
    with pytest.raises(PlaceLookupError, match=r"and \d+ more") as err:
        boundaries.lookup("Banner")
    assert str(err.value).count("(15") == 12
