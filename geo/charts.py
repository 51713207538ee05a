"""Charts of indicator tables for the report (matplotlib, Chinese and English labels)."""

from __future__ import annotations

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure

from geo.indicators import DEGREES, marked
from geo.maps.classes import DEGREE_COLOURS
from geo.maps.layout import new_figure
from geo.maps.static import rc

__all__ = ["indicator_bars", "lake_panels", "sandified_stack", "series_panels"]

#: Ordinal light-to-dark browns of the degrees 1–4, as on the degree map.
_DEGREE_COLOURS = tuple(DEGREE_COLOURS[code] for code in (1, 2, 3, 4))


def _axes(width: float, height: float):
    fig, ax = new_figure((width, height))
    ax.set_axis_on()
    ax.set_aspect("auto")
    ax.tick_params(labelsize=8)
    return fig, ax


def _labels(table: pd.DataFrame) -> list[str]:
    return [f"{zh} {en}" for zh, en in zip(table["name_zh"], table["name_en"], strict=True)]


def indicator_bars(table: pd.DataFrame, indicator: str, *, title: str | None = None) -> Figure:
    """Horizontal bars of one indicator (%) per area, with the plan's target as a dashed line.

    Bars meeting the target are green, the others red; without a target, grey.
    """
    ind = marked(indicator, table)  # official when the user gave the layer
    data = table.dropna(subset=[indicator]).sort_values(indicator)
    with mpl.rc_context(rc()):
        fig, ax = _axes(8, 0.32 * len(data) + 1.4)
        colours = ["#9e9e9e"] * len(data)
        if ind.target is not None:
            ok = (
                data[indicator] >= ind.target
                if ind.direction == ">="
                else data[indicator] <= ind.target
            )
            colours = ["#1a9850" if met else "#d73027" for met in ok]
            ax.axvline(ind.target, color="black", linestyle="--", linewidth=1)
            ax.text(
                ind.target,
                len(data) - 0.4,
                f" {ind.target_year} 目标 target {ind.target:g} %",
                fontsize=8,
                va="bottom",
            )
        ax.barh(_labels(data), data[indicator], color=colours)
        ax.set_xlabel(f"{ind.name_zh} / {ind.name_en} [%]", fontsize=9)
        ax.set_title(title or f"{ind.name_zh}\n{ind.name_en}", fontsize=10)
    return fig


def sandified_stack(table: pd.DataFrame, *, unit: str = "km2", title: str | None = None) -> Figure:
    """Stacked bars of sandified-land area by degree per area (remote-sensing proxy)."""
    data = table.sort_values(f"sandified_area_{unit}")
    symbol = {"km2": "km²", "ha": "ha", "mu": "亩 mu"}[unit]
    with mpl.rc_context(rc()):
        fig, ax = _axes(8, 0.32 * len(data) + 1.6)
        left = pd.Series(0.0, index=data.index)
        for (degree, zh), colour in zip(DEGREES, _DEGREE_COLOURS, strict=True):
            values = data[f"sandified_{degree}_area_{unit}"]
            ax.barh(_labels(data), values, left=left, color=colour, label=f"{zh} {degree}")
            left = left + values
        # beside the bars, never over them
        fig.legend(fontsize=8, loc="outside right upper", title="程度 Degree", title_fontsize=8)
        ax.set_xlabel(f"沙化土地面积（遥感估算）/ sandified land, proxy [{symbol}]", fontsize=9)
        ax.set_title(title or "沙化土地分级面积 / Sandified land by degree", fontsize=10)
    return fig


def _panel_grid(n: int, width: float = 11.0):
    """A grid of small panels (at most four across), sharing the x axis."""
    import math

    cols = min(4, max(1, n))
    rows = math.ceil(n / cols)
    with mpl.rc_context(rc()):
        fig = Figure(figsize=(width, 1.0 + 2.1 * rows), layout="constrained")
        axes = fig.subplots(rows, cols, sharex=True, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def series_panels(table: pd.DataFrame, id_column: str, value: str, label: str) -> Figure:
    """Small multiples of yearly series: one panel per zone, one line per ``panel_line``.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy series (:func:`geo.series.zone_series`) with a ``panel_line`` column naming the
        line of each row (the statistic, or the class of a class layer).
    id_column : str
        The zone identifier column (one panel per value).
    value : str
        Column plotted.
    label : str
        Y-axis label (Chinese and English, with the unit).
    """
    zones = list(dict.fromkeys(table[id_column]))
    fig, axes = _panel_grid(len(zones))
    with mpl.rc_context(rc()):
        for ax, zone in zip(axes, zones, strict=True):
            rows = table[table[id_column] == zone]
            for line, part in rows.groupby("panel_line", sort=False):
                ax.plot(part["year"], part[value], marker="o", markersize=2.5, label=str(line))
            first = rows.iloc[0]
            name = f"{first.get('name_zh', zone)} {first.get('name_en', '')}".strip()
            ax.set_title(name, fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
        axes[0].set_ylabel(label, fontsize=8)
        if table["panel_line"].nunique() > 1:
            fig.legend(*axes[0].get_legend_handles_labels(), fontsize=7, loc="outside right upper")
        fig.suptitle("逐年变化（遥感估算）Yearly series (remote-sensing proxy)", fontsize=10)
    return fig


def lake_panels(table: pd.DataFrame, sd_factor: float) -> Figure:
    """Water area per lake and year, the baseline mean and its warning floor, warnings marked.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`geo.lakes.lake_water`.
    sd_factor : float
        ``k`` of the floor "baseline mean − k × SD" drawn as a dashed line.
    """
    lakes = list(dict.fromkeys(table["lake"]))
    fig, axes = _panel_grid(len(lakes), width=10.0)
    with mpl.rc_context(rc()):
        for ax, lake in zip(axes, lakes, strict=True):
            rows = table[table["lake"] == lake]
            ax.bar(rows["year"], rows["water_km2"], color="#4a90c2", width=0.8)
            mean, sd = rows["baseline_mean_km2"].iloc[0], rows["baseline_sd_km2"].iloc[0]
            ax.axhline(mean, color="black", linewidth=0.8)
            if pd.notna(sd):
                ax.axhline(mean - sd_factor * sd, color="#d73027", linestyle="--", linewidth=0.8)
            warn = rows[rows["warning"]]
            ax.plot(warn["year"], warn["water_km2"], "v", color="#d73027", markersize=5)
            first = rows.iloc[0]
            ax.set_title(f"{first['name_zh']} {first['name_en']}", fontsize=8)
            ax.tick_params(labelsize=7)
        axes[0].set_ylabel("水面面积 water area [km²]", fontsize=8)
        fig.suptitle(
            "重点湖泊水面面积与预警（黑线：基准期均值；红色虚线：预警下限；▼：预警）\n"
            "Key lakes: water area and warnings (black: baseline mean; red dashed: warning "
            "floor; ▼ warning)",
            fontsize=9,
        )
    return fig
