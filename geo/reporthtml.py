"""Presentation of the main job: the readable ``report.html``.

The maps and figures it links are written by :mod:`geo.maps.reportmaps`, re-exported here.

Everything here reads :class:`geo.report.Results` and writes files; nothing is computed
that the tables do not already hold. Every string from the data is HTML-escaped.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
from importlib import resources
from pathlib import Path

import pandas as pd

from geo import __version__, fonts
from geo.indicators import INDICATORS, headline, marked, targeted
from geo.maps.reportmaps import MAP_INDICATORS, write_figures, write_maps
from geo.outputs import atomic_path
from geo.reportverdicts import VERDICT_WORDS, verdict, verdict_code

__all__ = [
    "MAP_INDICATORS",
    "VERDICT_WORDS",
    "verdict",
    "verdict_code",
    "write_figures",
    "write_html",
    "write_maps",
]

_TARGETED = targeted()
_E = html.escape
_SIGN = {">=": "≥", "<=": "≤"}


def _num(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, bool):
        return "yes 是" if value else "no 否"
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}"
    return _E(str(value))


def _table(frame: pd.DataFrame, columns: list[str], headers: list[str], digits: int = 1) -> str:
    head = "".join(f"<th>{_E(h)}</th>" for h in headers)
    rows = []
    for _, row in frame.iterrows():
        cells = "".join(
            f"<td class='n'>{_num(row[c], digits)}</td>"
            if isinstance(row[c], int | float) and not isinstance(row[c], bool)
            else f"<td>{_num(row[c])}</td>"
            for c in columns
        )
        rows.append(f"<tr>{cells}</tr>")
    return _scroll(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _scroll(table: str) -> str:
    """A table inside a box that scrolls sideways on a narrow screen (a phone)."""
    return f"<div class='scroll'>{table}</div>"


def _verdict_cell(row: pd.Series, key: str) -> str:
    """A zone's verdict in words with its method-variant range (table sections 3–5)."""
    from geo.indicators import VERDICTS

    code = row.get(f"{key}_verdict")
    if not isinstance(code, str) or code not in VERDICTS:
        return ""
    en, zh = VERDICTS[code]
    if code in ("met", "not_met", "uncertain"):
        lo, hi = row[f"{key}_variant_min"], row[f"{key}_variant_max"]
        return f"{zh} {en} ({lo:.1f}–{hi:.1f} %)"
    if code == "few_cells":
        cells = row.get(f"{key}_cells", row.get("cells"))
        return f"{zh} {en} (≈ {cells:.0f} cells 像元)" if pd.notna(cells) else f"{zh} {en}"
    return f"{zh} {en}"


def _with_verdicts(frame: pd.DataFrame, keys) -> tuple[pd.DataFrame, list[str], list[str]]:
    """``frame`` with a verdict text column per targeted key present; columns and headers."""
    out, cols, heads = frame.copy(), [], []
    for key in keys:
        if f"{key}_verdict" not in frame:
            continue
        out[f"{key}_said"] = [_verdict_cell(row, key) for _, row in frame.iterrows()]
        cols.append(f"{key}_said")
        heads.append(f"{INDICATORS[key].name_zh}判断 / verdict (variant range 方法变体范围)")
    return out, cols, heads


def _not_ranked(table: pd.DataFrame, key: str) -> str:
    """The zones left out of a ranking, each with its value and the reason."""
    from geo.summary import not_ranked

    left = not_ranked(table, key)
    if left.empty:
        return ""
    items = "; ".join(
        f"{_E(str(r.name_zh))} {_E(str(r.name_en))} {_num(r[key])} % — {_E(r.reason)}"
        + (f" (≈ {r.cells:.0f} cells 像元)" if r.flag == "few_cells" and pd.notna(r.cells) else "")
        for _, r in left.iterrows()
    )
    return f"<p class='unranked'><b>Not ranked 未参与排名 ({len(left)}):</b> {items}</p>"


def _overlap_note(parts: pd.DataFrame) -> str:
    """Which battle parts share banners (ground), and that battle totals count it once."""
    if "overlaps_with" not in parts:
        return ""
    shared = parts[parts["overlaps_with"].astype(str) != ""]
    if shared.empty:
        return "<p>No two parts share ground. 各片区之间无重叠。</p>"
    items = "".join(
        f"<li>{_E(str(r.name_zh))} / {_E(str(r.name_en))} ({_E(str(r.zone))}) overlaps 重叠于: "
        f"{_E(str(r.overlaps_with))}</li>"
        for r in shared.itertuples()
    )
    return (
        "<p class='note'><b>Overlapping parts 片区重叠.</b> A banner may belong to two parts of a "
        "battle; such parts share its whole area, so the parts' rows must not be added up. The "
        "battle-zone rows below are computed over the union of their banners (each banner "
        "once). 同一旗县可属于两个片区，片区数值不可相加；战役区合计按旗县并集计算（每个旗县只计一次）。"
        f"</p><ul>{items}</ul>"
    )


def _cite(citation) -> str:
    """A citation for a table cell: document and section, the quotes in small type."""
    if citation is None:
        return ""
    quotes = "<br>".join(
        f"<small>{_E(q)}</small>" for q in (citation.quote_zh, citation.quote_en) if q
    )
    return f"{_E(citation.short)}<br>{quotes}"


def _summary(province: pd.Series, sensitivity: pd.DataFrame | None = None) -> str:
    from geo.summary import method_spread

    rows = []
    for key in _TARGETED:
        ind = marked(key, province)  # named official when the user gave the layer
        value = province.get(key)
        spread = method_spread(sensitivity, key, province.get(f"{key}_basis", ind.label))
        status, confidence = verdict(value, ind, spread)
        rows.append(
            f"<tr><td>{_E(ind.name_zh)}<br><small>{_E(ind.name_en)}</small></td>"
            f"<td class='n'>{_num(value)} %</td><td class='n'>{_SIGN.get(ind.direction, '')} {ind.target:g} % "
            f"({ind.target_year})</td><td>{_E(status)}</td><td>{_E(confidence)}</td>"
            f"<td class='n'>{_num(province.get(f'{key}_gap'))}</td><td>{_cite(ind.citation)}</td>"
            f"<td>{_E(str(province.get(f'{key}_basis', ind.label)))}</td></tr>"
        )
    return _scroll(
        "<table><thead><tr><th>Indicator 指标</th><th>Value 数值</th><th>Target 目标</th>"
        "<th>Verdict 判断</th><th>Confidence 可信度</th><th>Gap 差距 (pp)</th>"
        "<th>Source of the target 目标出处</th><th>Kind 类型</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _sensitivity(table: pd.DataFrame | None) -> str:
    if table is None:
        return ""
    heads = [
        "Choice 方法",
        "Grassland cover 草原盖度",
        "FVC all land 全部植被盖度",
        "Forest 森林覆盖率",
        "Sandified 沙化",
    ]
    return _table(table, list(table.columns), heads) + (
        "<p>The first row is the method used everywhere else in this report; the others show how "
        "much each choice moves the region-wide proxies. Change them with "
        "<code>geo.layers.derive.DeriveConfig</code>.</p>"
    )


def _links(stage: Path, files: list[Path], kind: str) -> str:
    items = [
        f"<li><a href='{_E(p.relative_to(stage).as_posix())}'>{_E(p.name)}</a></li>"
        for p in files
        if p.suffix == kind
    ]
    return f"<ul>{''.join(items)}</ul>"


def _data_uri(path: Path, max_width: int = 1800) -> str:
    """A PNG as a ``data:`` URI, scaled down to ``max_width`` pixels.

    The default, 1800 pixels, is about 150 dpi across an A4 page, so that the report carries every
    figure and stays a few MB.
    """
    import base64
    import io

    from PIL import Image

    with Image.open(path) as img:
        img = img.convert("RGBA")
        if img.width > max_width:
            img = img.resize((max_width, round(img.height * max_width / img.width)), Image.LANCZOS)
        # on white paper, then 256 colours: maps and charts have few, and the file shrinks 3×
        flat = Image.alpha_composite(Image.new("RGBA", img.size, "white"), img).convert("RGB")
        buffer = io.BytesIO()
        flat.quantize(256, method=Image.Quantize.MEDIANCUT).save(buffer, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(path: Path, caption: str) -> str:
    return (
        f"<figure><img src='{_data_uri(path)}' alt='{_E(caption)}'>"
        f"<figcaption>{_E(caption)}</figcaption></figure>"
    )


#: Caption of each figure (file stem): Chinese, English.
CAPTIONS = {
    "league_grassland_fvc_pct_bars": (
        "各盟市草原综合植被盖度（遥感估算）",
        "Grassland comprehensive vegetation coverage by league and city (remote-sensing proxy)",
    ),
    "county_grassland_fvc_pct": (
        "各旗县（市、区）草原综合植被盖度（遥感估算）",
        "Grassland comprehensive vegetation coverage by banner and county (remote-sensing proxy)",
    ),
    "county_forest_cover_pct": (
        "各旗县（市、区）森林覆盖率（遥感估算）",
        "Forest coverage rate by banner and county (remote-sensing proxy)",
    ),
    "county_sandified_pct": (
        "各旗县（市、区）沙化土地占比（遥感估算）",
        "Share of sandified land by banner and county (remote-sensing proxy)",
    ),
    "battle_zones": (
        "“三北”工程三大标志性战役区、黄河与主要城镇",
        "The three Three-North battle zones, the Yellow River and the main towns",
    ),
    "sandified_degree_map": (
        "沙化土地分级（遥感估算）",
        "Sandified land by degree (remote-sensing proxy)",
    ),
    "league_forest_cover_pct_bars": (
        "各盟市森林覆盖率（遥感估算）",
        "Forest coverage rate by league and city (remote-sensing proxy)",
    ),
    "league_sandified_degrees": (
        "各盟市沙化土地分级面积（遥感估算）",
        "Sandified land by degree, by league and city (remote-sensing proxy)",
    ),
    "battle_sandified_degrees": (
        "三大战役区沙化土地分级面积（遥感估算）",
        "Sandified land by degree in the three battle zones (remote-sensing proxy)",
    ),
}


class _Captions:
    """Numbered captions in the order the figures appear: 图1 … / Figure 1 …, per ``lang``."""

    def __init__(self, lang: str = "both"):
        self.lang = lang
        self.count = 0

    def __call__(self, stem: str) -> str:
        return self.numbered(*CAPTIONS.get(stem, (stem.replace("_", " "), stem.replace("_", " "))))

    def numbered(self, zh: str, en: str) -> str:
        """The next number with this Chinese and English caption."""
        self.count += 1
        n = self.count
        return {"zh": f"图{n} {zh}", "en": f"Figure {n} {en}"}.get(
            self.lang, f"图{n} {zh} / Figure {n} {en}"
        )


def _images(files: list[Path], shown: tuple[str, ...] = (), captions=None) -> str:
    """Every PNG figure not ``shown`` already, embedded, each with its numbered caption.

    Embedded so that the report works emailed alone; in the order of :data:`CAPTIONS`.
    """
    captions = captions or _Captions()
    order = {stem: i for i, stem in enumerate(CAPTIONS)}
    pngs = sorted(
        (p for p in files if p.suffix == ".png" and p.stem not in shown),
        key=lambda p: order.get(p.stem, len(order)),
    )
    return "".join(_figure(p, captions(p.stem)) for p in pngs)


def _citations() -> str:
    """Every cited document once, with the passages cited from it (section and quotes)."""
    from geo.citations import CITATIONS

    by_doc: dict = {}
    for c in CITATIONS.values():
        by_doc.setdefault(c.document, []).append(c)
    items = []
    for doc, cites in by_doc.items():
        head = ", ".join(_E(x) for x in (doc.title_en, doc.issuer, doc.date) if x)
        passages = "".join(
            f"<li>{_E(' / '.join(x for x in (c.section_zh, c.section_en) if x))}<br>"
            + "<br>".join(f"<q>{_E(q)}</q>" for q in (c.quote_zh, c.quote_en) if q)
            + "</li>"
            for c in cites
        )
        items.append(f"<li><b>{_E(doc.name)}</b> {head}<ul>{passages}</ul></li>")
    return f"<ul class='cites'>{''.join(items)}</ul>"


def write_html(
    stage: Path,
    results,
    maps: list[Path],
    figures: list[Path],
    tables: list[Path],
    sensitivity: pd.DataFrame | None = None,
    lang: str = "both",
    monitoring: dict | None = None,
    checked: pd.DataFrame | None = None,
    glossary: list | None = None,
) -> Path:
    """Write ``report.html``.

    It holds the summary against the plan's targets, proxy-vs-official notes, league and
    battle-zone tables, sentences, rankings, charts, maps, methods and provenance; with
    ``monitoring`` (:func:`geo.monitor.report_monitoring`) a monitoring section. ``checked``
    is the run's proxy check (:func:`geo.validation.validate`; computed here when not given),
    ``glossary`` the indicator definitions with their basis in this run
    (:func:`geo.reportglossary.glossary`; made here, without file names, when not given).
    """
    from geo.citations import CITATIONS
    from geo.indicators import MIN_CELLS
    from geo.reportvalidation import flag_heads, html_section
    from geo.summary import (
        VERSUS_COLUMNS,
        below_detection,
        few_cells,
        proxy_vs_official,
        ranked,
        sentences,
    )
    from geo.validation import proxy_checks, validate

    wide = results.wide
    captions = _Captions(lang)  # figures numbered as they appear
    province = wide["province"].iloc[0]
    versus = proxy_vs_official(wide["province"])
    versus["target_year"] = versus["target_year"].astype(str)  # a year, not a quantity
    key_cols = list(headline())
    # the indicators' own names, so a proxy says so in every header (the red line: calibrated)
    named = [marked(k, wide["province"]) for k in key_cols]  # official where the user gave it
    key_heads = [f"{ind.name_en} / {ind.name_zh} %" for ind in named]
    # proxies with a large error against official league figures: flagged in every table
    checked = validate(results) if checked is None else checked
    checks = proxy_checks(checked)
    key_heads = flag_heads(key_cols, key_heads, checks)
    versus["note"] = [
        f"{note} ⚠ {checks[key]}".strip() if key in checks else note
        for key, note in zip(versus["indicator"], versus["note"], strict=True)
    ]
    leagues, said_cols, said_heads = _with_verdicts(wide["league"], _TARGETED)
    league_tbl = _table(
        leagues,
        ["adcode", "name_zh", "name_en", "area_km2", "area_mu", *key_cols, *said_cols],
        ["adcode", "名称", "Name", "Area km²", "Area 亩", *key_heads, *said_heads],
    )
    parts, said_cols, said_heads = _with_verdicts(wide["battle_part"], _TARGETED)
    overlap = ["overlaps_with"] if "overlaps_with" in parts else []
    battle_tbl = _table(
        parts,
        [
            "zone",
            "name_zh",
            "area_km2",
            "sandified_area_km2",
            "sandified_area_mu",
            *key_cols,
            *said_cols,
            *overlap,
        ],
        [
            "zone",
            "名称 / name",
            "Area km²",
            "Sandified km²",
            "Sandified 亩",
            *key_heads,
            *said_heads,
            *(["Overlaps with 与之重叠的片区 (shared km² 重叠面积)"] if overlap else []),
        ],
    )
    battles, said_cols, said_heads = _with_verdicts(wide["battle"], _TARGETED)
    battles_tbl = _table(
        battles,
        ["zone", "name_zh", "area_km2", "sandified_area_km2", *key_cols, *said_cols],
        ["zone", "名称 / name", "Area km²", "Sandified km²", *key_heads, *said_heads],
    )
    lines = sentences(wide["league"], "grassland_fvc_pct", "league")
    said = "".join(
        f"<li>{_E(zh)}<br><small>{_E(en)}</small></li>"
        for zh, en in zip(lines.zh, lines.en, strict=True)
    )
    lowest, said_cols, said_heads = _with_verdicts(
        ranked(wide["county"], "grassland_fvc_pct"), ("grassland_fvc_pct",)
    )
    lowest = lowest.drop(columns=[c for c in lowest if c.endswith(("_verdict", "_min", "_max"))])
    faint = below_detection(wide["county"], "forest_cover_pct")
    sandiest = ranked(wide["county"], "sandified_pct")
    grass_head = flag_heads(["grassland_fvc_pct"], ["Grassland cover %"], checks)
    sand_head = flag_heads(["sandified_pct"], ["Sandified %"], checks)
    few = int(few_cells(wide["county"], "sandified_pct").sum())
    methods = "".join(
        f"<li><b>{_E(name)}</b>: {_E(layer.source)}</li>" for name, layer in results.layers.items()
    )
    from geo import reportglossary as basis

    defs = basis.html_items(basis.glossary(results) if glossary is None else glossary)
    body = f"""
{_NAV}
<h1>内蒙古北方重要生态安全屏障监测报告<br><small>Inner Mongolia ecological security barrier: indicator report</small></h1>
<p class="note"><b>遥感估算 / Remote-sensing proxies.</b> Unless a row says <i>official</i>, every value
below is a remote-sensing estimate computed by this toolkit from the shipped open data, not the official
statistic of the forestry and grassland or ecology departments. Areas are areas of the boundary polygons.</p>
<h2 id="s1">1. Region-wide indicators against the plan's 2027 targets 全区指标与 2027 年目标</h2>
{_summary(province, sensitivity)}
<p>Verdicts are for remote-sensing proxies. A verdict is <i>uncertain 不确定</i> when the method
variants of section 9 give values on both sides of the target.</p>
<h2 id="s2">2. Proxy vs official 遥感估算与官方数据对照</h2>
<p>Official values are official <i>status</i> figures (with their year and source); targets are
the plan's. A blank official value means no sourced official figure is available to the toolkit.</p>
{
        _table(
            versus,
            ["name_en", "name_zh", *VERSUS_COLUMNS],
            [
                "Indicator",
                "指标",
                "Unit 单位",
                "Proxy value 遥感估算值",
                "Official value 官方数值",
                "Official year 年份",
                "Official source 官方来源",
                "Target value 目标值",
                "Target year 目标年",
                "Proxy − official 估算−官方",
                "Proxy − target 估算−目标",
                "Note 说明",
            ],
            2,
        )
    }
{html_section(checked)}
<h2 id="s3">3. Leagues and cities 盟市</h2>
{league_tbl}
{
        _figure(
            stage / "figures" / "league_grassland_fvc_pct_bars.png",
            captions("league_grassland_fvc_pct_bars"),
        )
        if (stage / "figures" / "league_grassland_fvc_pct_bars.png").is_file()
        else ""
    }
<h3>Sentences 概述</h3><ul>{said}</ul>
<h2 id="s4">4. The three battle zones and their parts 三大战役及其片区</h2>
<p>The three battles: {_E(CITATIONS["three_battles"].short)}; mandated by
{_E(CITATIONS["three_battles_mandate"].short)} (full quotes in section 10).</p>
<p>Zones are unions of member banners from <code>data/zones/battle_zones.csv</code> (sourced, with a
confidence per banner); a banner union is not a desert outline.</p>
<h3>Battle zones 战役区 (union of member banners, each banner once 旗县并集)</h3>
{battles_tbl}
<h3>Parts 片区</h3>
{_overlap_note(wide["battle_part"])}
{battle_tbl}
<p>Verdicts: <i>met (robust) 达标（稳健）</i> and <i>not met (robust) 未达标（稳健）</i> when every
method variant of section 9 agrees; <i>uncertain 不确定</i> when the variants fall on both sides of
the target. The range in brackets is the lowest and highest value over the variants.</p>
<h2 id="s5">5. Rankings 排名</h2>
<p>Forest coverage rate (proxy) 森林覆盖率（遥感估算）: {int(faint.sum())} of {
        len(faint)
    } banners and
counties have less forest than one 0.05° cell (about 25 km²), below the detection limit of the 5 km
land-cover data; their shares are flagged in <code>sentences.csv</code>, not judged against the
target and not ranked. {
        int(faint.sum())
    } 个旗县（市、区）森林面积不足一个 0.05° 像元（约 25 平方千米），
低于 5 公里分辨率数据的检出限，不作目标判断，不参与排名。</p>
<p>Too few cells 像元过少: {few} banners and districts are covered by fewer than {MIN_CELLS:g}
grid cells of 0.05° (coverage-weighted); a share over so few cells moves in steps of 4
percentage points or more (one cell of a 20-cell district is 5 %), so their shares (e.g.
"100 % sandified") are written with the note <i>too few cells / 像元过少</i>, not judged and not
ranked. {few} 个旗县（市、区）覆盖的 0.05° 像元不足 {
        MIN_CELLS:g} 个，其占比不作目标判断，不参与排名。</p>
<h3>Lowest five banners for grassland cover 草原盖度最低的五个旗县</h3>
{_table(lowest, list(lowest.columns), ["adcode", "名称", "Name", *grass_head, *said_heads])}
{_not_ranked(wide["county"], "grassland_fvc_pct")}
<h3>Highest sandified share 沙化土地占比最高的五个旗县</h3>
{_table(sandiest, list(sandiest.columns), ["adcode", "名称", "Name", *sand_head])}
<p>Shares near 100 % in banners with enough cells come from
the proxy's definition, not from too few cells: every dryland cell of a candidate land cover
with vegetation cover below 60 % (inside the named sandy lands and deserts; below 40 %
elsewhere) counts, gobi and sparse steppe included (section 2); the Horqin and Hunshandake
sandy lands count in any climate. 像元充足的旗县占比接近 100%，源于代理指标的定义（干旱区植被盖度
低于 60%（已知沙地、沙漠内；其他地方低于 40%）的候选地类像元均计入，包括戈壁和稀疏草原；
科尔沁、浑善达克沙地不限气候），并非像元过少。</p>
{_not_ranked(wide["county"], "sandified_pct")}
<h2 id="s6">6. Figures 图</h2>
<p>Embedded in this file. Full-resolution PNG (300 dpi) and SVG versions are in the
<i>figures</i> folder of the report. 图已嵌入本文件；高分辨率版本见报告的 figures 文件夹。</p>
{_images(figures, shown=("league_grassland_fvc_pct_bars",), captions=captions)}
<h2 id="s7">7. Maps 交互地图</h2>
<p>The interactive maps are separate HTML files in the <b>maps/ folder beside this file</b>; the
links work when the whole report folder is kept together. 交互地图为本文件旁 maps/ 文件夹中的独立
HTML 文件。</p>
{_links(stage, maps, ".html")}
<h2 id="s8">8. Tables 表</h2>
<p>Files in the tables/ folder beside this file. 表格文件位于本文件旁的 tables/ 文件夹。
The same report as a Word file for pasting into reports: <a href="report.docx">report.docx</a>
(and report.pdf when the report is made with <code>--pdf</code>). 同一报告的 Word 版
（report.docx，便于粘贴到报告中）与 PDF 版（report.pdf，使用 --pdf 生成）位于本文件旁。</p>
{_links(stage, tables, ".csv")}{_links(stage, tables, ".xlsx")}{_links(stage, tables, ".gpkg")}
<h2 id="s9">9. Methods and provenance 方法与数据来源</h2>
<h3>Method choices and their effect 方法选择及其影响 (region-wide, %)</h3>
{_sensitivity(sensitivity)}
<ul>{methods}</ul>
<h3 id="glossary">Indicators and their basis in this report 指标定义及本报告的依据</h3><ul>{
        defs
    }</ul>
<h2 id="s10">10. Sources cited 引用文献</h2>
{_citations()}
{_monitoring(stage, monitoring, captions)}
<p>Inputs, SHA-256 checksums and package versions: <a href="manifest.json">manifest.json</a>.
Generated by barrier {__version__} on {dt.date.today().isoformat()}.</p>
"""
    page = (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>内蒙古生态安全屏障监测报告 / Ecological barrier report</title>"
        f"<style>{_css()}</style></head><body>{body}</body></html>"
    )
    page = fonts.embed(page)  # Chinese shows without a CJK font on the reader's machine
    path = stage / "report.html"
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


def _monitoring(stage: Path, jobs: dict | None, captions) -> str:
    from geo.reportmonitor import monitoring_section

    def figure(path: Path, caption: tuple[str, str]) -> str:
        return _figure(path, captions.numbered(*caption))

    return monitoring_section(stage, jobs or {}, figure, _table)


_NAV = (
    "<nav><a href='#s1'>1 目标 Targets</a> · <a href='#s2'>2 对照 Official</a> · "
    "<a href='#s2b'>2b 检验 Check</a> · "
    "<a href='#s3'>3 盟市 Leagues</a> · <a href='#s4'>4 战役 Battles</a> · "
    "<a href='#s5'>5 排名 Rankings</a> · <a href='#s6'>6 图 Figures</a> · "
    "<a href='#s7'>7 地图 Maps</a> · <a href='#s8'>8 表 Tables</a> · "
    "<a href='#s9'>9 方法 Methods</a> · <a href='#s10'>10 引用 Sources</a></nav>"
)


@functools.cache
def _css() -> str:
    """The page style (``geo/reporthtml.css``, package data) with the toolkit's font stack."""
    text = resources.files("geo").joinpath("reporthtml.css").read_text(encoding="utf-8")
    return text.replace("@FONT@", fonts.FONT_STACK)
