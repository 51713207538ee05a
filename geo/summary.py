"""Readable summaries of indicator tables: sentences, rankings, proxy-vs-official comparison.

Pure functions of the tables computed by :mod:`geo.indicators`; :mod:`geo.report` renders them.
"""

from __future__ import annotations

import math

import pandas as pd

from geo.citations import CITATIONS
from geo.indicators import DETECTION_LIMITS, INDICATORS, MIN_CELLS, VERDICTS, proxy_id

__all__ = [
    "OFFICIAL_STATUS",
    "VERSUS_COLUMNS",
    "below_detection",
    "flags",
    "method_spread",
    "not_ranked",
    "proxy_vs_official",
    "ranked",
    "sentences",
]

_LEVEL_WORDS = {
    "league": ("个盟市", "leagues and cities"),
    "county": ("个旗县（市、区）", "banners and counties"),
    "battle": ("个战役区", "battle zones"),
    "battle_part": ("个片区", "battle-zone parts"),
    "province": ("个自治区", "region"),
}

#: Official status figures (region-wide), each with its year and a named source. Plan *targets*
#: are not here: they come from the indicator definitions (:data:`geo.indicators.INDICATORS`).
#: An indicator without a sourced official figure gets an empty official value, not a guess.
OFFICIAL_STATUS = {
    "redline_pct": {
        "value": 50.46,
        "year": "c. 2023 (source undated, data to 2023)",
        "source": CITATIONS["redline_share"].short,
        "note": (
            "without the official red-line polygons the toolkit uses a proxy calibrated to this "
            "share, so the two agree by construction; the location of the proxy is not the red line"
        ),
    },
    "redline_area": {
        "value": 596_900.0,
        "year": "c. 2023 (source undated, data to 2023)",
        "source": CITATIONS["redline_area"].short,
        "note": (
            "the calibrated share is applied to the area of the shipped boundary polygons, "
            "about 3 % less than the official area of the region"
        ),
    },
    "sandified_area": {
        "value": 408_000.0,
        "year": "2014",
        "source": (
            "第五次全国荒漠化和沙化监测 / 5th national desertification and sandification "
            "monitoring (2014): IM sandified land 6.12亿亩, as reprinted; unverified"
        ),
        "note": (
            "the proxy counts every dryland cell (and, in any climate, every cell of the named "
            "Horqin and Hunshandake sandy lands) of candidate land cover with FVC < 60 % inside "
            "the named sandy lands and deserts, < 40 % elsewhere, including gobi and sparse "
            "steppe; the monitoring maps sandy surface in the field; "
            "the official figure is from the 2014 round, the proxy from a 2019 land-cover map"
        ),
    },
}

#: Why the proxy and the official statistic differ, for indicators with a target.
_NOTES = {
    "grassland_fvc_pct": (
        "no official current figure is among the toolkit's sources; the proxy is the mean "
        "dimidiate-pixel FVC of MODIS-grassland cells from the NDVI climatological maximum at "
        "5.5 km, the official figure comes from ground plots of the grassland monitoring system"
    ),
    "forest_cover_pct": (
        "no official current figure is among the toolkit's sources; at 0.05° the majority "
        "land-cover class erases patchy forests, shelterbelts and plantations, and shrub forest "
        "is mostly mapped as open shrubland or grassland; the official rate comes from the "
        "forest inventory and the land survey"
    ),
    "treated_sandified_pct": (
        "computed only from user-supplied treated and treatable sandified land polygons"
    ),
}

#: Rows of the proxy-vs-official table, in order.
_VERSUS = (
    "grassland_fvc_pct",
    "forest_cover_pct",
    "treated_sandified_pct",
    "redline_pct",
    "redline_area",
    "sandified_area",
)


def _value(province: pd.DataFrame, indicator: str) -> float:
    column = indicator if indicator in province.columns else f"{indicator}_km2"
    return float(province[column].iloc[0]) if column in province.columns else math.nan


def method_spread(
    sensitivity: pd.DataFrame | None, key: str, basis: str = "proxy"
) -> tuple[float, float] | None:
    """Lowest and highest region-wide value of ``key`` over the method variants.

    Parameters
    ----------
    sensitivity : pandas.DataFrame, optional
        The method-sensitivity table (:func:`geo.report.sensitivity_table`).
    key : str
        Indicator column.
    basis : str
        The basis of the value judged (``<key>_basis``): an ``official`` value does not vary
        with the proxy's method, so it has no spread.

    Returns
    -------
    (float, float) or None
        In the indicator's unit; None when the table is missing or has no value for ``key``.
    """
    if (
        basis == "official"
        or sensitivity is None
        or key not in sensitivity
        or sensitivity[key].isna().all()
    ):
        return None
    return float(sensitivity[key].min()), float(sensitivity[key].max())


#: Columns of :func:`proxy_vs_official` shown to readers after the indicator names, in order.
VERSUS_COLUMNS = (
    "unit",
    "proxy_value",
    "official_value",
    "official_year",
    "official_source",
    "target_value",
    "target_year",
    "proxy_minus_official",
    "proxy_minus_target",
    "note",
)


def proxy_vs_official(province: pd.DataFrame) -> pd.DataFrame:
    """Region-wide proxy values beside the official status figures and the plan's targets.

    Parameters
    ----------
    province : pandas.DataFrame
        The one-row wide indicator table of the province.

    Returns
    -------
    pandas.DataFrame
        ``indicator``, ``name_en``, ``name_zh``, ``unit``, ``proxy_value``,
        ``official_value``, ``official_year``, ``official_source`` (an official *status*
        figure; empty when none is sourced), ``target_value``, ``target_year``,
        ``target_source`` (the plan), ``proxy_minus_official``, ``proxy_minus_target`` (both
        plain differences in the unit: percentage points for %), ``note``.
    """
    rows = []
    for key in _VERSUS:
        ind = INDICATORS[key]
        # with an official layer the proxy is kept beside the official value
        ours = _value(province, proxy_id(key))
        ours = _value(province, key) if math.isnan(ours) else ours
        status = OFFICIAL_STATUS.get(key, {})
        official = status.get("value", math.nan)
        target = ind.target if ind.target is not None else math.nan
        rows.append(
            {
                "indicator": ind.id,
                "name_en": ind.name_en,
                "name_zh": ind.name_zh,
                "unit": "km²" if ind.unit == "km2" else ind.unit,
                "proxy_value": ours,
                "official_value": official,
                "official_year": status.get("year", ""),
                "official_source": status.get("source", ""),
                "target_value": target,
                "target_year": ind.target_year or "",
                "target_source": ind.citation.short if ind.target is not None else "",
                "proxy_minus_official": ours - official,
                "proxy_minus_target": ours - target,
                "note": status.get("note") or _NOTES.get(key, ""),
            }
        )
    return pd.DataFrame(rows)


def below_detection(table: pd.DataFrame, indicator: str) -> pd.Series:
    """True where the indicator's value is below what the data can detect.

    The limits are :data:`DETECTION_LIMITS`; all False for indicators without a limit.
    """
    area, limit = DETECTION_LIMITS.get(indicator, (None, None))
    column = f"{area}_km2"
    if area is None or column not in table:
        return pd.Series(False, index=table.index)
    official = table.get(f"{indicator}_basis", pd.Series("proxy", index=table.index))
    return (table[column] < limit) & (official != "official")  # a proxy's limit only


def few_cells(table: pd.DataFrame, indicator: str) -> pd.Series:
    """True where the indicator's value rests on fewer than :data:`MIN_CELLS` grid cells.

    Read from the ``<indicator>_few_cells`` column of :func:`geo.indicators.wide`; all False
    without it.
    """
    column = f"{indicator}_few_cells"
    if column not in table:
        return pd.Series(False, index=table.index)
    return table[column].fillna(False).astype(bool)


def flags(table: pd.DataFrame, indicator: str) -> pd.Series:
    """Why a value is not judged nor ranked: ``"below_detection"``, ``"few_cells"`` or ``""``."""
    out = pd.Series("", index=table.index, dtype=object)
    out[few_cells(table, indicator)] = "few_cells"
    out[below_detection(table, indicator)] = "below_detection"
    return out


def _cells(row: pd.Series, indicator: str) -> float:
    for column in (f"{indicator}_cells", "cells"):
        if column in row and pd.notna(row[column]):
            return float(row[column])
    return math.nan


def not_ranked(table: pd.DataFrame, indicator: str) -> pd.DataFrame:
    """The zones left out of the ranking of ``indicator``, with the reason in both languages.

    Returns
    -------
    pandas.DataFrame
        The id column, ``name_zh``, ``name_en``, the value, ``cells`` (grid cells the value
        rests on, NaN when not counted), ``flag`` (``few_cells`` or ``below_detection``) and
        ``reason`` (``"too few cells / 像元过少"`` …).
    """
    why = flags(table, indicator)
    out = table.loc[why != "", [table.columns[0], "name_zh", "name_en", indicator]].copy()
    out["cells"] = [_cells(row, indicator) for _, row in table.loc[out.index].iterrows()]
    out["flag"] = why[out.index]
    out["reason"] = [_REASONS[f] for f in out["flag"]]
    return out


_REASONS = {
    "few_cells": "too few cells / 像元过少",
    "below_detection": "below the detection limit / 低于检出限",
}


def _rank(table: pd.DataFrame, indicator: str) -> pd.Series:
    ascending = INDICATORS[indicator].direction == "<="
    values = table[indicator].mask(flags(table, indicator) != "")
    return values.rank(ascending=ascending, method="min")


def _verdict_words(row: pd.Series, indicator: str) -> tuple[str, str]:
    """The verdict in Chinese and English, e.g. `` 不确定（方法变体40.1%–47.3%，跨越目标）``.

    Two empty strings when the table has no verdict (no method variants were computed).
    """
    code = row.get(f"{indicator}_verdict")
    if not isinstance(code, str) or code not in ("met", "not_met", "uncertain"):
        return "", ""
    lo, hi = row[f"{indicator}_variant_min"], row[f"{indicator}_variant_max"]
    en, zh = VERDICTS[code]
    if code == "uncertain":
        return (
            f"，判断{zh}（方法变体结果{lo:.1f}%–{hi:.1f}%，跨越目标）",
            f"; verdict {en} (method variants give {lo:.1f}–{hi:.1f} %, on both sides of the "
            "target)",
        )
    return (
        f"，{zh}（方法变体结果{lo:.1f}%–{hi:.1f}%）",
        f"; {en} (method variants give {lo:.1f}–{hi:.1f} %)",
    )


def sentences(table: pd.DataFrame, indicator: str, level: str) -> pd.DataFrame:
    """One sentence per area in Chinese and English on a targeted indicator.

    Example (zh): "锡林郭勒盟草原综合植被盖度（遥感估算）为52.2%，高于2027年目标45%
    7.2个百分点，判断不确定（方法变体结果32.9%–63.3%，跨越目标），在12个盟市中排第6位。"
    The verdict and the variant range are said when the table has them
    (:func:`geo.indicators.add_verdicts`); values below the detection limit or on too few
    grid cells are said with the reason, not judged and not ranked.

    Returns
    -------
    pandas.DataFrame
        The id column, ``zh``, ``en`` and ``verdict`` (the verdict code, or the flag).
    """
    ind = INDICATORS[indicator]
    id_col = table.columns[0]
    rank = _rank(table, indicator)
    n = int(rank.notna().sum())
    why = flags(table, indicator)
    unit_zh, unit_en = _LEVEL_WORDS.get(level, ("个单元", "areas"))
    zh, en, codes = [], [], []
    for (_, row), r, flag in zip(table.iterrows(), rank, why, strict=True):
        value = row[indicator]
        code = row.get(f"{indicator}_verdict", "")
        codes.append(flag or (code if isinstance(code, str) else ""))
        if pd.isna(value):
            zh.append(f"{row['name_zh']}{ind.name_zh}：无有效数据。")
            en.append(f"{row['name_en']}: {ind.name_en}: no valid data.")
            continue
        if flag == "below_detection":
            zh.append(
                f"{row['name_zh']}{ind.name_zh}为{value:.1f}%，低于5公里分辨率数据的检出限"
                "（森林不足一个0.05°像元，约25平方千米），不作目标判断，不参与排名。"
            )
            en.append(
                f"{row['name_en']}: {ind.name_en} is {value:.1f} %, below the detection limit "
                "of the 5 km data (less forest than one 0.05° cell, about 25 km²): no verdict "
                "against the target, not ranked."
            )
            continue
        if flag == "few_cells":
            cells = _cells(row, indicator)
            zh.append(
                f"{row['name_zh']}{ind.name_zh}为{value:.1f}%，仅依据约{cells:.0f}个0.05°像元"
                f"（少于{MIN_CELLS:g}个），像元过少，不作目标判断，不参与排名。"
            )
            en.append(
                f"{row['name_en']}: {ind.name_en} is {value:.1f} %, from only about "
                f"{cells:.0f} cells of 0.05° (fewer than {MIN_CELLS:g}): too few cells to judge "
                "against the target; not ranked."
            )
            continue
        diff = value - ind.target
        above = diff >= 0
        said_zh, said_en = _verdict_words(row, indicator)
        zh.append(
            f"{row['name_zh']}{ind.name_zh}为{value:.1f}%，{'高于' if above else '低于'}"
            f"{ind.target_year}年目标{ind.target:g}% {abs(diff):.1f}个百分点{said_zh}，"
            f"在{n}{unit_zh}中排第{int(r)}位。"
        )
        en.append(
            f"{row['name_en']}: {ind.name_en} is {value:.1f} %, {abs(diff):.1f} percentage points "
            f"{'above' if above else 'below'} the {ind.target_year} target of {ind.target:g} %"
            f"{said_en}; rank {int(r)} of {n} {unit_en}."
        )
    return pd.DataFrame({id_col: table[id_col].to_numpy(), "zh": zh, "en": en, "verdict": codes})


def _verdict_columns(indicator: str) -> tuple[str, ...]:
    return tuple(f"{indicator}_{x}" for x in ("verdict", "variant_min", "variant_max"))


def ranked(table: pd.DataFrame, indicator: str, n: int = 5, *, worst: bool = True) -> pd.DataFrame:
    """The ``n`` worst (or best) areas for an indicator, judged by its target direction.

    For indicators without a direction, "worst" means the largest values (e.g. sandified share).
    Values below the detection limit or on too few grid cells are left out (they are listed
    by :func:`not_ranked` with the reason). With a verdict column the rows carry
    ``<indicator>_verdict`` (met / not met robust, or uncertain) and the variant range
    ``<indicator>_variant_min``, ``<indicator>_variant_max``.
    """
    ind = INDICATORS[indicator]
    low_is_bad = ind.direction == ">="
    ascending = low_is_bad if worst else not low_is_bad
    cols = [table.columns[0], "name_zh", "name_en", indicator]
    cols += [c for c in _verdict_columns(indicator) if c in table]
    seen = table[flags(table, indicator) == ""]  # flagged: listed with the reason, not ranked
    return seen.dropna(subset=[indicator]).sort_values(indicator, ascending=ascending)[cols].head(n)
