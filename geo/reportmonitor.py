"""The "Monitoring over time" section of ``report.html``, drawn from the jobs' results.

Receives the :class:`geo.monitor.JobOutput` of each monitoring job (trends, series, lakes,
progress) and writes HTML; it reads nothing but the PNG figures the jobs wrote, which it embeds.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

__all__ = ["monitoring_section"]

_E = html.escape


def monitoring_section(stage: Path, jobs: dict, figure, table) -> str:
    """HTML of the monitoring section (empty when there is no job).

    Parameters
    ----------
    stage : pathlib.Path
        The report folder (links are relative to it).
    jobs : dict of str to geo.monitor.JobOutput
        The jobs of :func:`geo.monitor.report_monitoring`, in order.
    figure : callable
        ``figure(path, (zh, en)) -> str``: an embedded figure with its numbered caption.
    table : callable
        ``table(frame, columns, headers, digits) -> str``: an HTML table.

    Returns
    -------
    str
    """
    if not jobs:
        return ""
    parts = [
        "<h2 id='s11'>11. Monitoring over time 动态监测</h2>",
        "<p class='note'><b>遥感估算 / Remote-sensing proxies</b> computed from the yearly layers "
        "given with <code>--stack</code> and <code>--water</code>; the progress sheet keeps "
        "official and proxy series apart. Method, inputs and checksums: each folder's "
        "<code>manifest.json</code> under <code>monitoring/</code>.</p>",
    ]
    for key, job in jobs.items():
        kind, _, name = key.partition("_")
        if kind == "trend":
            parts.append(_trend(stage, name, job, figure, table))
        elif kind == "series":
            parts.append(_series(stage, name, job, figure))
        elif key == "lakes":
            parts.append(_lakes(stage, job, figure, table))
        elif key == "progress":
            parts.append(_progress(job, table))
    return "".join(parts)


def _files(stage: Path, job, suffix: str) -> list[Path]:
    return [p for p in job.files if p.suffix == suffix]


def _links(stage: Path, files: list[Path]) -> str:
    items = "".join(
        f"<li><a href='{_E(p.relative_to(stage).as_posix())}'>{_E(p.name)}</a></li>" for p in files
    )
    return f"<ul>{items}</ul>"


def _trend(stage: Path, name: str, job, figure, table) -> str:
    leagues = job.tables.get("trend_league")
    head = f"<h3>Trends of {_E(name)} 趋势（Theil–Sen, Mann–Kendall）</h3>"
    body = ""
    if leagues is not None:
        cols = ["adcode", "name_zh", "name_en", "improving_pct", "stable_pct", "degrading_pct",
                "mean_slope_per_year"]  # fmt: skip
        heads = ["adcode", "名称", "Name", "Improving 改善 %", "Stable 稳定 %",
                 "Degrading 退化 %", "Mean slope / yr 平均斜率"]  # fmt: skip
        body += table(leagues, cols, heads, 3)
    for png in _files(stage, job, ".png"):
        body += figure(png, (f"{name} 趋势分类（遥感估算）", f"{name}: trend class (proxy)"))
    rasters = [p for p in _files(stage, job, ".tif") if p.stem.startswith("trend_")]
    return head + body + _links(stage, rasters + _files(stage, job, ".csv"))


def _series(stage: Path, name: str, job, figure) -> str:
    body = f"<h3>Yearly series of {_E(name)} 逐年序列</h3>"
    for png in _files(stage, job, ".png"):
        body += figure(png, (f"{name} 各盟市逐年均值", f"{name}: yearly mean per league"))
    return body + _links(stage, _files(stage, job, ".html") + _files(stage, job, ".csv"))


def _lakes(stage: Path, job, figure, table) -> str:
    frame: pd.DataFrame = job.tables["lakes"]
    latest = frame.sort_values("year").groupby("lake", sort=False).tail(1)
    cols = ["name_zh", "name_en", "year", "water_km2", "anomaly_pct", "warning_reason"]
    heads = ["湖泊", "Lake", "Year 年", "Water km² 水面", "Anomaly 距平 %", "Warning 预警"]
    body = "<h3>Key lakes 重点湖泊</h3>" + table(latest, cols, heads, 1)
    for png in _files(stage, job, ".png"):
        body += figure(png, ("重点湖泊水面面积与预警", "Key lakes: water area and warnings"))
    return body + _links(stage, _files(stage, job, ".csv"))


def _progress(job, table) -> str:
    frame: pd.DataFrame = job.tables["progress"]
    frame = frame.assign(latest_year=frame["latest_year"].astype("Int64").astype(str))
    cols = ["target", "zone", "kind", "latest_year", "latest_value", "projected",
            "projected_low", "projected_high", "status_zh", "status_en"]  # fmt: skip
    heads = ["Target 目标", "Zone", "Kind 类型", "Latest year", "Latest 最新值", "Projected 预测",
             "Low 下限", "High 上限", "状态", "Status"]  # fmt: skip
    return "<h3>Progress to the targets 目标进展</h3>" + table(frame, cols, heads, 2)
