"""The "proxy check" section of the reports: the proxies against official league figures.

One table of :func:`geo.validation.validate` (per unit: official figure, year, source,
computed value, error) and one of its statistics per indicator (n, MAE, bias, Spearman's rho,
the flag), for ``report.html`` (:func:`html_section`) and the Word/PDF document model
(:func:`add_to_document`). Indicators whose proxy has a large league error carry the flag text
in the header of every table where they appear (:func:`flag_heads`, :func:`flag_document`).
"""

from __future__ import annotations

import html

import pandas as pd

__all__ = [
    "CSV_NAME",
    "add_to_document",
    "flag_document",
    "flag_heads",
    "html_section",
    "stats_table",
]

#: File name of the comparison table in the report's ``tables/`` folder.
CSV_NAME = "proxy_validation.csv"

_FIGURE_COLUMNS = (
    "indicator",
    "level",
    "adcode",
    "name_zh",
    "name_en",
    "year",
    "official",
    "computed",
    "error",
    "kind",
    "title",
)
_FIGURE_HEADS = (
    ("指标", "Indicator"),
    ("层级", "Level"),
    ("代码", "adcode"),
    ("名称", "Name (zh)"),
    ("名称（英文）", "Name"),
    ("年份", "Year"),
    ("官方数值", "Official"),
    ("计算值", "Computed"),
    ("误差", "Error (computed − official)"),
    ("类型", "Kind"),
    ("来源", "Source"),
)
_STAT_COLUMNS = ("indicator", "n", "mae", "bias", "spearman_rho", "threshold", "proxy_check")
_STAT_HEADS = (
    ("指标", "Indicator"),
    ("单位数", "n"),
    ("平均绝对误差", "MAE"),
    ("平均误差", "Bias"),
    ("斯皮尔曼等级相关", "Spearman rho"),
    ("阈值", "Flag threshold"),
    ("检查", "Proxy check"),
)
_INTRO = (
    "计算值与有出处的盟市官方数据（data/official/league_figures.csv）对照；"
    "误差 = 计算值 − 官方数值。"
    "统计量按盟市计算（无盟市数据时用全区数据）；斯皮尔曼等级相关至少需要 3 个单位。"
    "平均绝对误差超过阈值（占比：5 个百分点；面积：官方均值的 25%）的遥感估算指标在各表表头标注。",
    "The computed values beside the sourced official figures of leagues and of the region "
    "(data/official/league_figures.csv); error = computed − official. Statistics are over the "
    "leagues (the region when an indicator has no league figure); Spearman's rank correlation "
    "needs at least 3 units. A proxy whose MAE exceeds the threshold (shares: 5 percentage "
    "points; areas: 25 % of the mean official figure) is flagged in the header of every table "
    "where it appears. Values from an official layer are compared but never flagged. The "
    "official figures are of different years (column Year); the proxies are of 2019 land cover.",
)


def stats_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per indicator of a :func:`geo.validation.validate` table (its statistics)."""
    if table.empty:
        return pd.DataFrame(columns=list(_STAT_COLUMNS))
    return table.drop_duplicates("indicator")[list(_STAT_COLUMNS)].reset_index(drop=True)


def flag_heads(keys, heads, checks: dict[str, str]) -> list[str]:
    """Table headers of the indicator columns ``keys``, the flag text added to flagged ones."""
    return [f"{h} ⚠ {checks[k]}" if k in checks else h for k, h in zip(keys, heads, strict=True)]


def _cell(value, digits: int = 2) -> str:
    if isinstance(value, float):
        return "–" if pd.isna(value) else f"{value:,.{digits}f}"
    return html.escape(str(value))


def _html_table(frame: pd.DataFrame, columns, heads) -> str:
    head = "".join(f"<th>{html.escape(zh)} {html.escape(en)}</th>" for zh, en in heads)
    rows = "".join(
        "<tr>" + "".join(f"<td>{_cell(row[c])}</td>" for c in columns) + "</tr>"
        for _, row in frame.iterrows()
    )
    return (
        f"<div class='scroll'><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
    )


def html_section(table: pd.DataFrame, anchor: str = "s2b") -> str:
    """The proxy-check section of ``report.html`` (an ``<h2>`` with both tables).

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`geo.validation.validate`.
    anchor : str
        ``id`` of the heading.
    """
    title = "2b. Proxy check against official league figures 遥感估算与盟市官方数据检验"
    if table.empty:
        none = "No official figure to compare. 无可对照的官方数据。"
        return f"<h2 id='{anchor}'>{title}</h2><p>{none}</p>"
    intro = f"<p>{html.escape(_INTRO[1])}<br><small>{html.escape(_INTRO[0])}</small></p>"
    return (
        f"<h2 id='{anchor}'>{title}</h2>{intro}"
        f"<h3>Error statistics 误差统计</h3>"
        f"{_html_table(stats_table(table), _STAT_COLUMNS, _STAT_HEADS)}"
        f"<h3>Per unit 各单位</h3>"
        f"{_html_table(table, _FIGURE_COLUMNS, _FIGURE_HEADS)}"
    )


def add_to_document(document, table: pd.DataFrame, lang: str) -> None:
    """Insert the proxy-check section into a :class:`geo.reportdoc.Document`, in place.

    It goes before the methods section (as section 6b), so that the numbers of the tables
    before it stay those of earlier reports (Table 3 the leagues, Table 4 the battle parts);
    the tables from there on are renumbered.
    """
    from geo.reportdoc import Heading, Paragraph, Table, csv_cells, pick

    def doc_table(caption_zh, caption_en, frame, columns, heads) -> Table:
        cells = csv_cells(frame[list(columns)], lang)
        return Table(
            caption=pick(f"表0 {caption_zh}", f"Table 0 {caption_en}", lang),
            headers=[pick(zh, en, lang) for zh, en in heads],
            rows=cells.to_numpy().tolist(),
            numeric=[pd.api.types.is_numeric_dtype(frame[c]) for c in columns],
            source=CSV_NAME,
        )

    blocks = [
        Heading(
            pick(
                "6b. 遥感估算与盟市官方数据检验（即网页报告第2b节）",
                "6b. Proxy check against official figures (section 2b of report.html)",
                lang,
            )
        ),
        Paragraph(pick(*_INTRO, lang)),
    ]
    if len(table):
        blocks += [
            doc_table(
                "误差统计", "Error statistics", stats_table(table), _STAT_COLUMNS, _STAT_HEADS
            ),
            doc_table("各单位对照", "Per unit", table, _FIGURE_COLUMNS, _FIGURE_HEADS),
        ]
    at = next(
        (
            i
            for i, b in enumerate(document.blocks)
            if isinstance(b, Heading) and b.level == 1 and b.text.startswith("7.")
        ),
        len(document.blocks),
    )
    document.blocks[at:at] = blocks
    _renumber(document, Table)


def _renumber(document, table_type) -> None:
    """Number the tables' captions 1, 2, … in reading order (表N / Table N)."""
    import re

    tables = [b for b in document.blocks if isinstance(b, table_type)]
    for n, block in enumerate(tables, start=1):
        caption = re.sub(r"^表\d+ ", f"表{n} ", block.caption)
        block.caption = re.sub(r"(^|/ )Table \d+ ", rf"\g<1>Table {n} ", caption)


def flag_document(document, checks: dict[str, str], lang: str) -> None:
    """Add the flag text to every header of a flagged indicator's column, in place."""
    from geo.reportdoc import Table, header

    labels = {header(key, lang): text for key, text in checks.items()}
    for block in document.blocks:
        if isinstance(block, Table) and block.source != CSV_NAME:
            block.headers = [f"{h} ⚠ {labels[h]}" if h in labels else h for h in block.headers]
