"""Charts of indicator tables for the report (matplotlib, Chinese and English labels)."""

from __future__ import annotations

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure

from geo.indicators import DEGREES, INDICATORS
from geo.maps.classes import DEGREE_COLOURS
from geo.maps.layout import new_figure
from geo.maps.static import rc

__all__ = ["indicator_bars", "sandified_stack"]

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
    ind = INDICATORS[indicator]
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
