"""Column and class labels in Chinese, English or both; the language of yes/no."""

from __future__ import annotations

import re

import numpy as np

from geo.errors import UsageError
from geo.tables.layernames import name_layers
from geo.units import UNITS

__all__ = [
    "BASIS_ZH",
    "CLASS_NAMES_ZH",
    "LEVELS_ZH",
    "YES_NO",
    "check_lang",
    "class_labels",
    "column_label",
    "official_column",
    "verdict_text",
]


#: Text of a boolean (meets target …) in each language.
YES_NO = {"zh": ("是", "否"), "en": ("yes", "no"), "both": ("yes / 是", "no / 否")}
_LANGS = tuple(YES_NO)


def check_lang(lang: str) -> str:
    """``lang`` if it is ``zh``, ``en`` or ``both``; else a UsageError.

    Parameters
    ----------
    lang : str
        A language code.

    Returns
    -------
    str
        ``lang``.

    Raises
    ------
    geo.errors.UsageError
        For any other language.
    """
    if lang not in _LANGS:
        raise UsageError(f"unknown language {lang!r}; use zh, en or both")
    return lang


def verdict_text(code, lang: str = "both"):
    """Words of a verdict code (:data:`geo.indicators.VERDICTS`) in ``lang``.

    Other values (empty, unknown) are returned unchanged.

    Parameters
    ----------
    code : object
        A verdict code (``met_robust`` …) or any other cell value.
    lang : {"both", "zh", "en"}
        Language of the words.

    Returns
    -------
    object
        The words, or ``code`` unchanged.
    """
    from geo.indicators import VERDICTS

    if not isinstance(code, str) or code not in VERDICTS:
        return code
    en, zh = VERDICTS[code]
    return _join(en, zh, lang)


#: Unit of a column suffix in the header label: (English, Chinese, both).
_UNIT_LABEL = {
    "km2": ("km²", "平方公里", "km²"),
    "ha": ("ha", "公顷", "ha"),
    "mu": ("mu", "亩", "亩 mu"),
    "wanmu": ("10k mu", "万亩", "万亩 10k mu"),
    "yimu": ("100M mu", "亿亩", "亿亩 100M mu"),
    "wanha": ("10k ha", "万公顷", "万公顷 10k ha"),
    "pct": ("%", "%", "%"),
    "%": ("%", "%", "%"),
    "pp": ("percentage points", "百分点", "percentage points / 百分点"),
}
_LANG_INDEX = {"en": 0, "zh": 1, "both": 2}

#: Names of the identifier and statistics columns: (English, Chinese).
_NAMES = {
    "adcode": ("Administrative code", "行政区划代码"),
    "zone": ("Zone", "区域"),
    "id": ("Identifier", "代码"),
    "name_zh": ("Chinese name", "中文名称"),
    "name_en": ("English name", "英文名称"),
    "name_pinyin": ("Pinyin", "拼音"),
    "level": ("Level", "级别"),
    "layer": ("Layer", "图层"),
    "class": ("Class code", "类别代码"),
    "class_name": ("Class", "类别"),
    "fraction": ("Share of valid area (0–1)", "占有效面积比例（0–1）"),
    "indicator": ("Indicator", "指标"),
    "value": ("Value", "数值"),
    "unit": ("Unit", "单位"),
    "target": ("Target", "目标值"),
    "direction": ("Target direction", "目标方向"),
    "meets_target": ("Meets target", "达到目标"),
    "verdict": ("Verdict, robust to method variants?", "目标判断（方法稳健性）"),
    "variant_min": ("Lowest over method variants", "方法变体最小值"),
    "variant_max": ("Highest over method variants", "方法变体最大值"),
    "cells": ("Grid cells (coverage-weighted)", "像元数（按覆盖加权）"),
    "few_cells": ("Too few cells to judge", "像元过少"),
    "below_detection": ("Below the data's detection limit", "低于数据检测限"),
    "overlaps_with": ("Overlaps with (shared area)", "与之重叠的片区（重叠面积）"),
    "overlap_area": ("Area shared with other zones", "与其他片区重叠面积"),
    "gap": ("Gap to target", "与目标差距"),
    "official": ("Official figure", "官方数据"),
    "method": ("Method", "方法"),
    "proxy_check": ("Proxy check against official figures", "与官方数据对照检验"),
    "from_class": ("From class", "原类别"),
    "to_class": ("To class", "现类别"),
    "mean_before": ("Mean, before", "前期平均值"),
    "mean_after": ("Mean, after", "后期平均值"),
    "change": ("Change (after − before)", "变化（后期−前期）"),
    "count": ("Cell count (coverage-weighted)", "像元数（按覆盖加权）"),
    "nodata_fraction": ("Nodata share (0–1)", "无数据比例（0–1）"),
    "mean": ("Mean", "平均值"),
    "area_mean": ("Area-weighted mean", "面积加权平均值"),
    "min": ("Minimum", "最小值"),
    "max": ("Maximum", "最大值"),
    "median": ("Median", "中位数"),
    "stdev": ("Standard deviation", "标准差"),
    "sum": ("Sum", "总和"),
    "majority": ("Majority", "众数"),
    "minority": ("Minority", "少数类"),
    "variety": ("Number of values", "值的种数"),
    "area": ("Area", "面积"),
    "valid_area": ("Valid area", "有效面积"),
    "nodata_area": ("Nodata area", "无数据面积"),
    "outside_area": ("Area outside the raster", "栅格范围外面积"),
    "choice": ("Method choice", "方法选择"),
    "toolkit": ("Toolkit value", "本工具数值"),
    "kind": ("Kind of figure", "数据类型"),
    "difference": ("Difference", "差值"),
    "source": ("Source", "来源"),
    "why": ("Why they differ", "差异原因"),
    "item": ("Item", "项目"),
    "file": ("File", "文件"),
    "licence": ("Licence", "许可"),
    "zh": ("Chinese", "中文"),
    "en": ("English", "英文"),
}

#: Chinese names of the class names of the shipped and derived layers (IGBP land cover in
#: the usual Chinese translation of the MODIS IGBP legend, Köppen-Geiger groups, derived
#: classes). Layers keep English class names; tables in Chinese use these.
CLASS_NAMES_ZH = {
    # IGBP (MCD12C1)
    "water": "水体",
    "evergreen needleleaf forest": "常绿针叶林",
    "evergreen broadleaf forest": "常绿阔叶林",
    "deciduous needleleaf forest": "落叶针叶林",
    "deciduous broadleaf forest": "落叶阔叶林",
    "mixed forest": "混交林",
    "closed shrubland": "郁闭灌丛",
    "open shrubland": "稀疏灌丛",
    "woody savanna": "木本稀树草原",
    "savanna": "稀树草原",
    "grassland": "草地",
    "permanent wetland": "永久湿地",
    "cropland": "耕地",
    "urban": "城镇建设用地",
    "cropland/natural mosaic": "耕地与自然植被镶嵌",
    "snow/ice": "冰雪",
    "barren": "裸地",
    # Köppen-Geiger main groups
    "A tropical": "A 热带",
    "B arid": "B 干旱带",
    "C temperate": "C 温带",
    "D cold": "D 冷温带",
    "E polar": "E 极地",
    # derived layers
    "forest": "林地",
    "shrub forest": "灌木林地",
    "other land": "其他土地",
    "not sandified": "非沙化",
    "light": "轻度",
    "moderate": "中度",
    "severe": "重度",
    "extreme": "极重度",
    "outside": "红线外",
    "inside": "红线内",
}


#: Chinese names of the zone levels (the ``level`` column of tables in Chinese).
LEVELS_ZH = {
    "province": "自治区",
    "league": "盟市",
    "county": "旗县（市、区）",
    "battle": "战役区",
    "battle_part": "战役区片区",
    "user": "自定义区域",
}


def _join(en: str, zh: str, lang: str) -> str:
    return {"en": en, "zh": zh, "both": f"{en} / {zh}"}[lang]


def _with_unit(text: str, unit: str | None, lang: str) -> str:
    if unit is None:
        return text
    symbol = _UNIT_LABEL.get(unit, (unit, unit, unit))[_LANG_INDEX[lang]]
    return f"{text} [{symbol}]"


#: The basis of a value (``<indicator>_basis`` columns, :mod:`geo.official`) in Chinese.
BASIS_ZH = {"official": "官方", "official extent": "官方范围内遥感估算", "proxy": "遥感估算"}


def official_column(table, column: str) -> bool:
    """Whether every value of ``column`` comes from an official layer (``<id>_basis``).

    ``forest_area_km2``, ``forest_cover_pct`` and ``forest_cover_pct_gap`` are official when
    the table's ``forest_area_basis`` / ``forest_cover_pct_basis`` say ``official`` in every
    row; the proxies kept beside (``forest_cover_proxy_pct``) never are.
    """
    if not isinstance(column, str) or column.endswith("_basis"):
        return False
    for col in getattr(table, "columns", table.index):  # a table, or one row of it
        if not isinstance(col, str) or not col.endswith("_basis"):
            continue
        stem = col.removesuffix("_basis")
        if column != stem and not column.startswith(f"{stem}_"):
            continue
        if "_proxy" not in column.removeprefix(stem):
            return bool(np.all(np.asarray(table[col]) == "official"))
    return False


def column_label(column: str, lang: str = "both", official: bool = False) -> str:
    """Human header of a table column, with its unit, in English, Chinese or both.

    ``grassland_fvc_pct`` → ``Grassland comprehensive vegetation coverage (proxy) / 草原综合植被
    盖度（遥感估算） [%]``; ``area_mu`` → ``Area / 面积 [亩 mu]`` (``lang="zh"``: ``面积 [亩]``;
    ``"en"``: ``Area [mu]``); statistics columns ``<layer>_<stat>[_<class>]`` →
    ``<layer>: Mean``/``<layer>：平均值``; columns not known keep their id.

    Parameters
    ----------
    column : str
        Column id.
    lang : {"both", "zh", "en"}
        Language of the label.
    official : bool
        The column holds official values (:func:`official_column`): the indicator's
        "(proxy)" / "（遥感估算）" mark reads "(official)" / "（官方）".

    Returns
    -------
    str
        The label, with the unit in brackets where the column has one.
    """
    from geo.indicators import official_name

    label = _column_label(column, lang)
    if isinstance(column, str) and column.endswith("_basis"):  # says itself what it is
        return official_name(label).replace(" (official)", "").replace("（官方）", "")
    return official_name(label) if official else label


def _column_label(column: str, lang: str) -> str:
    """The label of :func:`column_label`, as the indicator's definition names it."""
    from geo.indicators import INDICATORS, MIN_CELLS, PROXY_TWINS

    known = {**INDICATORS, **PROXY_TWINS}  # and the proxies kept beside official values

    check_lang(lang)
    suffixes = {
        "_meets_target": ("meets 2027 target", "达到目标"),
        "_gap": ("gap to target", "差距"),
        "_below_detection": ("below the data's detection limit", "低于数据检测限"),
        "_verdict": (
            "verdict vs target (robust / uncertain over method variants)",
            "目标判断（方法稳健 / 不确定）",
        ),
        "_variant_min": ("lowest over method variants", "方法变体最小值"),
        "_variant_max": ("highest over method variants", "方法变体最大值"),
        "_few_cells": (
            f"too few cells (< {MIN_CELLS:g}) to judge or rank",
            "像元过少，不判断不排名",
        ),
        "_cells": ("grid cells it rests on (coverage-weighted)", "所依据像元数（按覆盖加权）"),
        "_basis": ("basis: official, official extent or proxy", "依据：官方或遥感估算"),
        "_proxy_check": ("proxy check against official figures", "与官方数据对照检验"),
    }
    for suffix, what in suffixes.items():
        if column.endswith(suffix):
            base = column.removesuffix(suffix)
            if base in known:
                ind = known[base]
                if lang == "both":
                    return f"{ind.name_en}: {what[0]} / {what[1]}"
                name = ind.name_en if lang == "en" else ind.name_zh
                sep = ": " if lang == "en" else "："
                pct = suffix in ("_variant_min", "_variant_max")
                unit = "pp" if suffix == "_gap" and ind.unit == "%" else "%" if pct else None
                return _with_unit(f"{name}{sep}{what[_LANG_INDEX[lang]]}", unit, lang)
    if column in known:
        ind = known[column]
        return _with_unit(_join(ind.name_en, ind.name_zh, lang), ind.unit, lang)
    stem, _, unit = column.rpartition("_")
    if stem in known and unit in _UNIT_LABEL:
        ind = known[stem]
        return _with_unit(_join(ind.name_en, ind.name_zh, lang), unit, lang)
    return _generic_label(column, lang)


_STAT_RE = re.compile(
    r"^(?:(?P<layer>.+?)_)??(?P<stat>"
    + "|".join(sorted((re.escape(k) for k in _NAMES), key=len, reverse=True))
    + r"|quantile_[0-9.]+)(?:_(?P<unit>"
    + "|".join(UNITS)
    + r"))?(?:_(?P<code>-?\d+))?$"
)


def _generic_label(column: str, lang: str) -> str:
    """Label of an identifier or ``[<layer>_]<stat>[_<unit>][_<class>]`` column, else the id."""
    if lang == "both":
        return column  # ids are the bilingual header: unchanged as before
    match = _STAT_RE.match(column)
    if not match:
        return column
    stat, unit = match["stat"], match["unit"]
    if stat.startswith("quantile_"):
        en, zh = (
            f"Quantile {stat.removeprefix('quantile_')}",
            f"{stat.removeprefix('quantile_')} 分位数",
        )
    else:
        en, zh = _NAMES[stat]
    text = en if lang == "en" else zh
    if match["code"] is not None:
        text = (
            f"{text}, class {match['code']}" if lang == "en" else f"{text}（类别 {match['code']}）"
        )
    if match["layer"]:
        text = f"{match['layer']}: {text}" if lang == "en" else f"{match['layer']}：{text}"
    return _with_unit(text, unit, lang)


def class_labels(layer_specs, columns, lang: str) -> dict[str, str]:
    """Header labels of class columns ``<layer>_area_<unit>_<code>`` with the class names.

    Parameters
    ----------
    layer_specs : sequence of geo.layers.Layer
        The layers of the table (named by :func:`geo.tables.name_layers`).
    columns : sequence of str
        The table's columns.
    lang : {"both", "zh", "en"}
        Language of the labels (``both`` gives none: the ids are the header).

    Returns
    -------
    dict of str to str
        ``{column: label}`` for class columns of layers with class names.
    """
    labels = {}
    for layer in name_layers(layer_specs):
        for col in columns:
            match = _STAT_RE.match(str(col))
            if not match or match["layer"] != layer.name or match["code"] is None:
                continue
            name = layer.classes.get(int(match["code"]))
            if not name or lang == "both":
                continue
            stat = _NAMES.get(match["stat"], (match["stat"], match["stat"]))
            if lang == "zh":
                text = f"{layer.name}：{CLASS_NAMES_ZH.get(name, name)}{stat[1]}"
            else:
                text = f"{layer.name}: {name}, {stat[0].lower()}"
            labels[col] = _with_unit(text, match["unit"], lang)
    return labels
