"""The furniture of every print figure.

The figure itself, scale bar, north arrow, zone labels that never overlap, the legend beside the
map, the footer with sources and the standard-map note, and the equal-area projection of the
zones (simplified once per figure size).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from pyproj import Transformer

from geo.crs import EQUAL_AREA
from geo.errors import DataError
from geo.maps.geometry import simplify_coverage

__all__ = [
    "HALO",
    "STANDARD_MAP_NOTE",
    "add_north_arrow",
    "add_scale_bar",
    "figure_legend",
    "finish_map",
    "footer",
    "label_zones",
    "new_figure",
    "project",
    "wrap",
]


def new_figure(figsize: tuple[float, float]) -> tuple[Figure, mpl.axes.Axes]:
    """A figure of ``figsize`` (inches, constrained layout) with one axes, no frame, equal aspect.

    Call it inside ``mpl.rc_context(geo.maps.static.rc())``.

    Parameters
    ----------
    figsize : tuple of float
        Width and height, inches.

    Returns
    -------
    tuple of (matplotlib.figure.Figure, matplotlib.axes.Axes)
    """
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
    """Draw a two-segment scale bar (km) in the lower left of an equal-area map.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        A map in a projected CRS whose units are metres (the bar's length is a round number of
        km, at most a fifth of the map's width).
    """
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
    """Draw a north arrow in the upper left, turned to true north at its position.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        A map drawn in ``crs``.
    crs : pyproj.CRS or str
        The map's CRS (default the equal-area CRS of the figures).
    """
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


def label_zones(
    ax, fig, gdf: gpd.GeoDataFrame, field: str, fontsize: float = 6.0, *, search: bool = False
) -> int:
    """Label zones at representative points, largest first, skipping small and overlapping ones.

    Labels never overlap each other, the texts already on the map (towns, the river name) nor
    the lines drawn (rivers), all compared in display (pixel) coordinates.
    With ``search``, a label that does not fit at the representative point is tried at points
    of a grid over the zone, nearest first, and placed where it lies wholly inside the zone.

    Returns the number of labels placed.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The map.
    fig : matplotlib.figure.Figure
        Its figure (drawn once to fix the layout and measure the texts in pixels).
    gdf : geopandas.GeoDataFrame
        The zones, in the CRS of the map.
    field : str
        Column of the label texts.
    fontsize : float
        Font size, points.
    search : bool
        Also try points of a grid over a zone whose representative point has no room.

    Returns
    -------
    int
        The number of labels placed.
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
            label.set_bbox(HALO)
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
    """The line layers of the axes in display coordinates, or None when there are none.

    These are the rivers (geopandas draws lines as a LineCollection), widened by their half width
    and 2 px.
    """
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
HALO = {"boxstyle": "round,pad=0.12", "facecolor": "white", "edgecolor": "none", "alpha": 0.7}


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


def wrap(text: str, width: int) -> str:
    """Wrap Latin text at spaces and Chinese text (no spaces) every ``width // 2`` characters.

    Parameters
    ----------
    text : str
        The text.
    width : int
        Characters per line of Latin text; a Chinese line holds at most ``width // 2``.

    Returns
    -------
    str
        The text with line breaks.
    """
    if " " not in text and len(text) > width // 2:
        lines = -(-len(text) // (width // 2))
        step = -(-len(text) // lines)  # lines of even length
        return "\n".join(text[i : i + step] for i in range(0, len(text), step))
    return "\n".join(textwrap.wrap(text, width)) or text


def figure_legend(fig: Figure, handles: list, title: str) -> mpl.legend.Legend:
    """A figure legend beside the map (upper right), in the space the layout reserves for it.

    Never over the map, never off the page.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    handles : list
        Legend handles (patches, lines).
    title : str
        Legend title.

    Returns
    -------
    matplotlib.legend.Legend
    """
    legend = fig.legend(handles=handles, title=title, loc="outside right upper", fontsize=7.5,
                        title_fontsize=8, frameon=False, alignment="left")  # fmt: skip
    return legend


def footer(fig: Figure, parts: Sequence[str], *, standard_map: bool = True) -> mpl.text.Text:
    """Sources and the standard-map note under the map, in a strip the layout keeps free.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    parts : sequence of str
        The source lines.
    standard_map : bool
        Add the standard-map note.

    Returns
    -------
    matplotlib.text.Text
    """
    lines = [p for p in parts if p]
    if standard_map:
        lines.append(STANDARD_MAP_NOTE)
    text = fig.text(0.01, 0.006, "\n".join(lines), fontsize=6.5, color="#333", ha="left",
                    va="bottom", wrap=True)  # fmt: skip
    fig.canvas.draw()  # measure the wrapped footer, then keep the layout above it
    height = text.get_window_extent(fig.canvas.get_renderer()).height / fig.bbox.height
    fig.get_layout_engine().set(rect=(0, height + 0.012, 1, 1 - height - 0.012))
    return text


def project(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The zones in the equal-area CRS, simplified to about 0.4 px of a 300-dpi, 10-inch figure.

    A caller drawing several figures of one zone set projects it once and passes the result
    with ``projected=True``.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Zones (any CRS, set).

    Returns
    -------
    geopandas.GeoDataFrame
        A projected, simplified copy (coordinates in metres).

    Raises
    ------
    geo.errors.DataError
        Zones without a CRS.
    """
    if gdf.crs is None:
        raise DataError("the zones have no CRS; expected WGS84 (EPSG:4326)")
    out = gdf.to_crs(EQUAL_AREA)
    xmin, ymin, xmax, ymax = out.total_bounds
    tol = max(xmax - xmin, ymax - ymin) / 6000  # ≈ 0.4 px at 300 dpi on a 10-inch figure
    geoms = simplify_coverage(out.geometry.values, tolerance=tol, decimals=0)
    return out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=EQUAL_AREA))


def finish_map(
    fig, ax, *, title: str, label_data=None, label_field="name_zh", fontsize=6.0, search=False
):
    """Title, scale bar, north arrow and zone labels (after the layout is fixed).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    ax : matplotlib.axes.Axes
        The map, in the equal-area CRS (metres).
    title : str
        The map title.
    label_data : geopandas.GeoDataFrame, optional
        Zones to label (in the map's CRS); no labels without it.
    label_field : str
        Column of the label texts.
    fontsize : float
        Font size of the labels, points.
    search : bool
        As for :func:`label_zones`.
    """
    ax.set_title(title, fontsize=13)
    add_scale_bar(ax)
    add_north_arrow(ax)
    if label_data is not None and label_field in label_data.columns:
        label_zones(ax, fig, label_data, label_field, fontsize=fontsize, search=search)
