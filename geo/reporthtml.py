"""Presentation of the main job: HTML maps, figures and the readable ``report.html``.

Everything here reads :class:`geo.report.Results` and writes files; nothing is computed
that the tables do not already hold. Every string from the data is HTML-escaped.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import pandas as pd

from geo import __version__
from geo.indicators import INDICATORS
from geo.outputs import atomic_path

__all__ = ["MAP_INDICATORS", "write_figures", "write_html", "write_maps"]

#: Indicators that get a banner-level web map and appear in the summary.
MAP_INDICATORS = (
    "grassland_fvc_pct",
    "forest_cover_pct",
    "fvc_mean_pct",
    "sandified_pct",
    "redline_pct",
)
_TARGETED = ("grassland_fvc_pct", "forest_cover_pct", "treated_sandified_pct")
_E = html.escape


def write_maps(
    stage: Path, results, *, offline: bool = False, basemap: str = "hillshade"
) -> list[Path]:
    """One banner choropleth per indicator and ``battle_zones.html``; returns the files.

    Self-contained (no network request) unless ``basemap`` is an online one.
    """
    from geo.maps import interactive
    from geo.zones import context_overlays

    banners = results.with_geometry("county")
    battle = results.with_geometry("battle")
    written = []
    for key in MAP_INDICATORS:
        m = interactive.choropleth(
            banners,
            key,
            indicator=INDICATORS[key],
            basemap=basemap,
            offline=offline,
            overlays=["leagues", battle],
        )
        written.append(interactive.save(m, stage / "maps" / f"county_{key}.html"))
    overlays = [
        "leagues",
        "banners",
        context_overlays(),
        *([results.corrections] if results.corrections is not None else []),
        results.layers["sandified"],
        results.layers["fvc"],
        "landcover",
    ]
    m = interactive.choropleth(
        battle,
        "sandified_pct",
        indicator=INDICATORS["sandified_pct"],
        basemap=basemap,
        offline=offline,
        overlays=overlays,
        title="“三北”工程三大标志性战役 / The three Three-North battle zones",
    )
    written.append(interactive.save(m, stage / "maps" / "battle_zones.html"))
    return written


def write_figures(stage: Path, results) -> list[Path]:
    """Print maps and charts (PNG 300 dpi and SVG) under ``figures/``; returns the files."""
    from geo import charts
    from geo.maps import static

    out = stage / "figures"
    banners = results.with_geometry("county")
    written = []
    for key in ("grassland_fvc_pct", "forest_cover_pct", "sandified_pct"):
        fig = static.choropleth_figure(banners, key, indicator=INDICATORS[key])
        written += static.save_figure(fig, out / f"county_{key}", formats=("png", "svg"))
    fig = static.battle_zone_figure(results.zones["battle"], banners=results.zones["county"])
    written += static.save_figure(fig, out / "battle_zones", formats=("png", "svg"))
    if "sandified" in results.layers:  # the proxy raster, clipped to the region
        fig = static.sandified_degree_figure(
            results.layers["sandified"].path,
            results.zones["province"],
            zones=results.zones["league"],
        )
        written += static.save_figure(fig, out / "sandified_degree_map", formats=("png", "svg"))
    for key in ("grassland_fvc_pct", "forest_cover_pct"):
        fig = charts.indicator_bars(results.wide["league"], key)
        written += static.save_figure(fig, out / f"league_{key}_bars", formats=("png", "svg"))
    for level in ("league", "battle"):
        fig = charts.sandified_stack(results.wide[level])
        written += static.save_figure(
            fig, out / f"{level}_sandified_degrees", formats=("png", "svg")
        )
    return written


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
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _summary(province: pd.Series) -> str:
    rows = []
    for key in _TARGETED:
        ind = INDICATORS[key]
        value = province.get(key)
        met = province.get(f"{key}_meets_target")
        status = (
            "not computed 未计算 (needs user layers)"
            if value is None or pd.isna(value)
            else ("met 达到" if bool(met) else "not met 未达到")
        )
        rows.append(
            f"<tr><td>{_E(ind.name_zh)}<br><small>{_E(ind.name_en)}</small></td>"
            f"<td class='n'>{_num(value)} %</td><td class='n'>{_E(ind.direction or '')} {ind.target:g} % "
            f"({ind.target_year})</td><td>{_E(status)}</td>"
            f"<td class='n'>{_num(province.get(f'{key}_gap'))}</td><td>{_E(ind.plan_line)}</td>"
            f"<td>{_E(ind.label)}</td></tr>"
        )
    return (
        "<table><thead><tr><th>Indicator 指标</th><th>Value 数值</th><th>Target 目标</th>"
        "<th>Status 状态</th><th>Gap 差距 (pp)</th><th>Plan line 规划条文</th><th>Kind</th>"
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


def _images(stage: Path, files: list[Path]) -> str:
    return "".join(
        f"<figure><img src='{_E(p.relative_to(stage).as_posix())}' alt='{_E(p.stem)}'>"
        f"<figcaption>{_E(p.stem)}</figcaption></figure>"
        for p in files
        if p.suffix == ".png"
    )


def write_html(
    stage: Path,
    results,
    maps: list[Path],
    figures: list[Path],
    tables: list[Path],
    sensitivity: pd.DataFrame | None = None,
) -> Path:
    """Write ``report.html``: summary against the plan's targets, proxy-vs-official notes,
    league and battle-zone tables, sentences, rankings, charts, maps, methods and provenance."""
    from geo.summary import proxy_vs_official, ranked, sentences

    wide = results.wide
    province = wide["province"].iloc[0]
    versus = proxy_vs_official(wide["province"])
    key_cols = ["grassland_fvc_pct", "forest_cover_pct", "sandified_pct", "redline_pct"]
    key_heads = [
        "Grassland cover 草原盖度 %",
        "Forest 森林覆盖率 %",
        "Sandified 沙化 %",
        "Red line 红线 %",
    ]
    league_tbl = _table(
        wide["league"],
        ["adcode", "name_zh", "name_en", "area_km2", "area_mu", *key_cols],
        ["adcode", "名称", "Name", "Area km²", "Area 亩", *key_heads],
    )
    battle_tbl = _table(
        wide["battle_part"],
        ["zone", "name_zh", "area_km2", "sandified_area_km2", "sandified_area_mu", *key_cols],
        ["zone", "名称 / name", "Area km²", "Sandified km²", "Sandified 亩", *key_heads],
    )
    lines = sentences(wide["league"], "grassland_fvc_pct", "league")
    said = "".join(
        f"<li>{_E(zh)}<br><small>{_E(en)}</small></li>"
        for zh, en in zip(lines.zh, lines.en, strict=True)
    )
    lowest = ranked(wide["county"], "grassland_fvc_pct")
    sandiest = ranked(wide["county"], "sandified_pct")
    methods = "".join(
        f"<li><b>{_E(name)}</b>: {_E(layer.source)}</li>" for name, layer in results.layers.items()
    )
    defs = "".join(
        f"<li><b>{_E(i.id)}</b> — {_E(i.name_zh)} / {_E(i.name_en)} [{_E(i.unit)}]: {_E(i.method)}"
        f"{' — plan ' + _E(i.plan_line) if i.plan_line else ''}</li>"
        for i in INDICATORS.values()
    )
    body = f"""
<h1>内蒙古北方重要生态安全屏障监测报告<br><small>Inner Mongolia ecological security barrier: indicator report</small></h1>
<p class="note"><b>遥感估算 / Remote-sensing proxies.</b> Unless a row says <i>official</i>, every value
below is a remote-sensing estimate computed by this toolkit from the shipped open data, not the official
statistic of the forestry and grassland or ecology departments. Areas are areas of the boundary polygons.</p>
<h2>1. Region-wide indicators against the plan's 2027 targets 全区指标与 2027 年目标</h2>
{_summary(province)}
<h2>2. Proxy vs official 遥感估算与官方数据对照</h2>
{
        _table(
            versus,
            ["name_en", "name_zh", "toolkit", "official", "kind", "difference", "source", "why"],
            [
                "Indicator",
                "指标",
                "Toolkit",
                "Official",
                "Kind",
                "Difference",
                "Source",
                "Why they differ",
            ],
            2,
        )
    }
<h2>3. Leagues and cities 盟市</h2>
{league_tbl}
<figure><img src="figures/league_grassland_fvc_pct_bars.png" alt="league grassland cover bars"></figure>
<h3>Sentences 概述</h3><ul>{said}</ul>
<h2>4. The three battle zones and their parts 三大战役及其片区</h2>
<p>Zones are unions of member banners from <code>data/zones/battle_zones.csv</code> (sourced, with a
confidence per banner); a banner union is not a desert outline.</p>
{battle_tbl}
<h2>5. Rankings 排名</h2>
<h3>Lowest five banners for grassland cover 草原盖度最低的五个旗县</h3>
{_table(lowest, list(lowest.columns), ["adcode", "名称", "Name", "Grassland cover %"])}
<h3>Highest sandified share 沙化土地占比最高的五个旗县</h3>
{_table(sandiest, list(sandiest.columns), ["adcode", "名称", "Name", "Sandified %"])}
<h2>6. Figures 图</h2>
{_images(stage, figures)}
<h2>7. Maps 交互地图</h2>
{_links(stage, maps, ".html")}
<h2>8. Tables 表</h2>
{_links(stage, tables, ".csv")}{_links(stage, tables, ".xlsx")}{_links(stage, tables, ".gpkg")}
<h2>9. Methods and provenance 方法与数据来源</h2>
<h3>Method choices and their effect 方法选择及其影响 (region-wide, %)</h3>
{_sensitivity(sensitivity)}
<ul>{methods}</ul>
<h3>Indicators 指标定义</h3><ul>{defs}</ul>
<p>Inputs, SHA-256 checksums and package versions: <a href="manifest.json">manifest.json</a>.
Generated by barrier {__version__} on {dt.date.today().isoformat()}.</p>
"""
    page = (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>内蒙古生态安全屏障监测报告 / Ecological barrier report</title>"
        f"<style>{_CSS}</style></head><body>{body}</body></html>"
    )
    path = stage / "report.html"
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1 small,h2 small{color:#555;font-weight:normal}
table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.88em}
th,td{border:1px solid #ccc;padding:3px 6px;vertical-align:top}
th{background:#f0f0f0}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{background:#fff6d6;border-left:4px solid #e0a800;padding:0.5em 1em}
figure{margin:1em 0}
img{max-width:100%;border:1px solid #ddd}
"""
