r"""Interactive web maps (folium/Leaflet) that open anywhere, including offline intranets.

:func:`choropleth` builds a :class:`folium.Map` of one zone level (province, leagues, banners,
battle zones) coloured by one value column, with tooltips and popups in Chinese and English,
a legend with units and the target, name search, fullscreen, a scale bar, a layer control with
outline and raster overlays, a title and a source line. :func:`save` writes it as one HTML file.

Every page is self-contained: Leaflet and the plugins are inlined from ``geo/maps/_assets`` (see
``SOURCES.md`` there), also in Jupyter (``m`` in a cell). With the default basemap, a hillshade of
the shipped DEM embedded as an image, the page makes no network request at all and opens from
``file://`` on an offline intranet. Only an online basemap the user asks for (``"osm"``,
``"tianditu"``, ``"amap"``) loads tiles from its host; the hillshade stays underneath, so when the
tiles cannot load the map still shows its data on the relief.

The zone geometry is kept light for the screen: polygons are simplified with shared edges kept and
their coordinates rounded (:func:`simplify_coverage`), outlines carry each shared edge once, and
the GeoJSON is written without spaces or ``\u`` escapes (a banner map of 103 polygons is about
0.75 MB with Leaflet inlined and the popups).

Basemaps
--------
``"hillshade"`` (default)
    The embedded DEM hillshade; no network request.
``"osm"``
    OpenStreetMap tiles (WGS84 data, no shift needed).
``"tianditu"``
    天地图 vector tiles and Chinese annotation (CGCS2000, within a metre or so of WGS84, so the
    data are not shifted). Tianditu needs a free key (``tk``): pass ``tianditu_key=`` or set the
    environment variable ``TIANDITU_KEY``. Tile template::

        https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0
        &LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}
        &TILECOL={x}&tk=<key>

``"amap"``
    高德 (Amap) tiles, which are in GCJ-02: every data geometry is moved to GCJ-02 with
    :func:`geo.crs.wgs84_to_gcj02` so that it lines up with the tiles (raster overlays are
    shifted by the offset at their centre, a few hundred metres, well below their pixel size).
``"none"``
    No tiles, no relief; no network request.

Security: every user string (names, attribute values, titles, sources) is escaped with
:func:`html.escape` before it reaches HTML, and JSON embedded in scripts is written with
Jinja's HTML-safe ``tojson``; the search box builds its suggestions with ``textContent``.

The code is split by concern: :mod:`geo.maps.classes` (classes, palettes, formatting, shared
with the print figures), :mod:`geo.maps.geometry` (simplification), :mod:`geo.maps.elements`
(Leaflet pieces), :mod:`geo.maps.popups`, :mod:`geo.maps.overlays` (hillshade, rasters,
outlines), :mod:`geo.maps.offline` (inlined assets) and :mod:`geo.maps.battle`. This module
holds the public entry points; the drawing receives its data, and only these entry points fill
in the shipped data (boundaries, rivers and towns) a notebook user leaves out.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import DataError, OutputError
from geo.indicators import Indicator
from geo.maps import battle, popups
from geo.maps.battle import town_label_sides  # noqa: F401  (kept importable from here)
from geo.maps.classes import (  # noqa: F401  (LANGS kept importable from here)
    LABEL_PAIRS,
    LABELS,
    LANGS,
    NODATA_COLOUR,
    Classes,
    bi,
    check_lang,
    class_label,
    classify,
    fmt_unit,
    indicator_title,
    map_classes,
    target_text,
)
from geo.maps.elements import (  # noqa: F401  (ONLINE_BASEMAPS kept importable from here)
    BASEMAPS,
    BOUNDARY_CREDIT,
    ONLINE_BASEMAPS,
    Credit,
    Legend,
    add_controls,
    add_title,
    check_basemap,
    level_name,
    zone_layer,
)
from geo.maps.geometry import SCREEN_TOLERANCE, prepare, simplify_coverage  # noqa: F401
from geo.maps.offline import inline_assets
from geo.maps.overlays import (  # noqa: F401  (IGBP_COLOURS kept importable from here)
    IGBP_COLOURS,
    MapContext,
    Outlines,
    add_overlay,
    hillshade_overlay,
    load_context,
    open_map,
    raster_overlay,
)
from geo.outputs import atomic_path

__all__ = [
    "BASEMAPS",
    "Classes",
    "battle_zone_map",
    "choropleth",
    "classify",
    "hillshade_overlay",
    "raster_overlay",
    "save",
    "screen_geometry",
    "simplify_coverage",
]


_ESC = html.escape
#: Above this many zones the popups are compact: labels stored once, cells built in the browser.
LEAN_ZONES = 2_000
#: Size (MB) a map's zone geometry is fitted into by raising the simplification tolerance.
MAP_BUDGET_MB = 20.0
#: Maps estimated larger than this (MB) are refused with advice.
MAX_MAP_MB = 60.0
_BYTES_PER_VERTEX = 20  # "[108.1897, 40.1897], " in the page
#: Zone-set outlines named by a word in ``overlays`` (read from the shipped boundaries).
_OUTLINE_WORDS = {"leagues": "league", "league": "league", "banners": "county", "county": "county"}


def _check_size(data: dict, n: int) -> None:
    """Refuse a map whose zone data alone would exceed :data:`MAX_MAP_MB`."""
    size = len(json.dumps(data, ensure_ascii=True)) / 1e6
    if size > MAX_MAP_MB:
        raise OutputError(
            f"a web map of {n:,} zones would be about {size:.0f} MB, over the {MAX_MAP_MB:.0f} MB "
            "a browser opens comfortably; map a coarser zone set (e.g. --zones county), or write "
            "the numbers with `barrier stats --zones FILE -o table.csv` and join them to your "
            "zone file in QGIS"
        )


def _max_vertices() -> int:
    """The vertex budget of a map's zones (:data:`MAP_BUDGET_MB`)."""
    return int(MAP_BUDGET_MB * 1e6 * 0.6 / _BYTES_PER_VERTEX)


def screen_geometry(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The zones in WGS84 simplified for a web map, as :func:`choropleth` would simplify them.

    A caller drawing several maps of one zone set simplifies it once with this function and
    passes the result with ``simplified=True`` (or in :class:`geo.maps.overlays.Outlines`).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Zones in any CRS (set).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy; shared edges kept, vertices within :data:`MAP_BUDGET_MB`, degrees.
    """
    return prepare(gdf, False, _max_vertices())


def _with_outlines(overlays: Iterable | None) -> list:
    """``overlays`` with the words ``"leagues"``/``"banners"`` replaced by the shipped outlines.

    The convenience of a notebook call; the report passes :class:`Outlines` of its own zones.
    """
    items = list(overlays or ())
    if not any(isinstance(i, str) and i in _OUTLINE_WORDS for i in items):
        return items
    from geo import boundaries

    return [
        Outlines(boundaries.load(_OUTLINE_WORDS[i]), _OUTLINE_WORDS[i])
        if isinstance(i, str) and i in _OUTLINE_WORDS
        else i
        for i in items
    ]


def _legend_html(
    classes: Classes,
    column: str,
    indicator: Indicator | None,
    missing: bool,
    lang: str = "both",
) -> str:
    """The legend of a choropleth, in ``lang``.

    One row per class (a class of one value shows the value), the target, the unit and the kind
    of number.
    """
    title, unit = indicator_title(column, indicator, lang)
    tag = {
        True: " " + bi("达标", "meets target", lang),
        False: " " + bi("未达标", "below target", lang),
        None: "",
    }
    rows = [
        (colour, class_label(classes.edges[i], classes.edges[i + 1], unit) + tag[classes.meets[i]])
        for i, colour in enumerate(classes.colours)
    ]
    if missing:
        rows.append((NODATA_COLOUR, bi("无数据", "no data", lang)))
    items = "".join(f'<div><i style="background:{c}"></i>{_ESC(label)}</div>' for c, label in rows)
    extra = [target_text(indicator, lang)] if target_text(indicator) else []
    if indicator is not None:
        extra.append(bi(*LABEL_PAIRS[indicator.label], lang))
    unit_line = f"{bi('单位', 'Unit', lang)}: {fmt_unit(unit)}" if unit else ""
    lines = "".join(
        f'<div class="geo-legend-note">{_ESC(t)}</div>' for t in [unit_line, *extra] if t
    )
    return f'<div class="geo-legend-title">{_ESC(title)}</div>{items}{lines}'


def choropleth(
    gdf: gpd.GeoDataFrame,
    column: str,
    *,
    indicator: Indicator | None = None,
    title: str | None = None,
    basemap: str = "hillshade",
    offline: bool = False,
    overlays: Iterable | None = None,
    scheme: str = "quantiles",
    k: int = 5,
    tianditu_key: str | None = None,
    source: str | None = None,
    attributes: pd.DataFrame | None = None,
    lang: str = "both",
    simplified: bool = False,
    classes: Classes | None = None,
) -> folium.Map:
    """A choropleth web map of one zone level.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Zones in WGS84 with ``name_zh``, ``name_en``, an id column (``adcode`` or ``zone``),
        the value ``column``; every other column is shown in the popup (area triples
        ``<x>_km2/_ha/_mu`` on one line). Polygons are simplified with shared edges kept,
        the tolerance raised until the zone outlines fit :data:`MAP_BUDGET_MB`; above
        :data:`LEAN_ZONES` zones the popups are compact (name, value, identifier, target
        status, the user's attributes), and a map estimated over :data:`MAX_MAP_MB` is refused.
    column : str
        Numeric column to colour by.
    indicator : geo.indicators.Indicator, optional
        Names, unit, target and direction; with a target the classes are target-centred.
    title : str, optional
        Map title (default: the indicator's names or the column).
    basemap : {"hillshade", "none", "osm", "tianditu", "amap"}
        See the module documentation. ``"hillshade"`` (default) and ``"none"`` make no network
        request; the online ones load tiles from their host over the embedded hillshade, and
        ``"amap"`` moves all geometries to GCJ-02.
    offline : bool
        Force no network request at all: an online ``basemap`` is replaced by the hillshade
        (with a warning). Maps are self-contained by default; this is for callers that must
        guarantee it whatever basemap they are given.
    overlays : iterable, optional
        Extra layers in the layer control: :class:`geo.maps.overlays.Outlines` of a zone set,
        ``"leagues"``, ``"banners"`` (the shipped outlines, read here), a GeoDataFrame
        (battle-zone outlines when it has ``zone``), or raster layer names /
        :class:`geo.layers.Layer` objects (image overlays with their legend and opacity).
    scheme, k : str, int
        mapclassify scheme and class count when there is no target.
    tianditu_key : str, optional
        Tianditu ``tk`` key (default: environment variable ``TIANDITU_KEY``).
    source : str, optional
        Source line of the values (default: the indicator's method, or the column name).
    attributes : pandas.DataFrame, optional
        Further columns shown in the popups (the user's own fields, from
        :func:`geo.zones.user_attributes`), indexed by the zone identifier.
    lang : {"both", "zh", "en"}
        Language of the legend, tooltips, popup labels and search box (``"both"``: Chinese
        first). Classes are those of the print figures (:func:`classify` without empty
        classes, in the indicator's good/bad ramp).
    simplified : bool
        ``gdf``'s geometry is already simplified for the screen (:func:`screen_geometry`), as
        when one zone set is mapped several times.
    classes : Classes, optional
        Classes to use instead of those of ``column`` (e.g. classes of every year of a series,
        so that a year slider keeps one legend).

    Returns
    -------
    folium.Map

    Raises
    ------
    geo.errors.DataError
        Missing or non-numeric column, empty table.
    geo.errors.GeoError
        Unknown basemap, missing Tianditu key.
    geo.errors.OutputError
        A map too large for a browser (over :data:`MAX_MAP_MB`), with advice.
    """
    basemap = check_basemap(basemap, offline)
    check_lang(lang)
    if column not in gdf.columns:
        raise DataError(f"column {column!r} is not in the table; columns: {list(gdf.columns)}")
    if len(gdf) == 0:
        raise DataError("the zone table is empty; nothing to map")
    values = pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype="float64")
    gcj = basemap == "amap"
    extra: list[str] = []
    if attributes is not None and len(attributes.columns):
        gdf, extra = popups.with_attributes(gdf, attributes)
    data = prepare(gdf, gcj, _max_vertices(), simplified=simplified)
    if classes is None:
        classes = map_classes(values, indicator, scheme, k)  # the print figures': no empty ones
    m = open_map(data, basemap, tianditu_key)
    colours = classes.colour(values)
    if len(data) > LEAN_ZONES:
        feats, bind = popups.lean_features(data, column, colours, indicator, extra, lang)
    else:
        feats, bind = popups.features(data, column, colours, indicator, lang)
    _check_size(feats, len(data))
    name = f"{level_name(gdf)}: {indicator.name_zh if indicator else column}"
    layer = zone_layer(m, feats, bind, name)
    for item in _with_outlines(overlays):
        add_overlay(m, item, gcj, lang)
    missing = bool(np.isnan(values).any())
    Legend(_legend_html(classes, column, indicator, missing, lang)).add_to(m)
    add_controls(m, layer, lang)
    add_title(m, title or indicator_title(column, indicator, lang)[0])
    credits = [BOUNDARY_CREDIT]
    if source or indicator is not None:
        credits.append(source or f"{LABELS[indicator.label]}: {indicator.method}")
    Credit(" | ".join(credits)).add_to(m)
    return m


def battle_zone_map(
    zones: gpd.GeoDataFrame,
    *,
    parts: gpd.GeoDataFrame | None = None,
    column: str = "sandified_pct",
    indicator: Indicator | None = None,
    title: str | None = None,
    basemap: str = "hillshade",
    offline: bool = False,
    overlays: Iterable | None = None,
    context: bool | MapContext | None = True,
    region=None,
    lang: str = "both",
) -> folium.Map:
    """A web map of the three battle zones, each in its own colour and labelled, Chinese first.

    The zones are filled with the print figure's colours
    (:data:`geo.maps.classes.BATTLE_COLOURS`) and labelled at a point inside; their popups hold
    ``column`` and every other value. The battle ``parts`` are drawn as dashed outlines; a part
    that overlaps another is hatched and its popup names the other part and the shared area
    (its banners count in both: the parts' figures must not be summed). With ``context``, the
    Yellow River, the other named rivers and the main towns of the shipped Natural Earth file
    are drawn. The drawing is :func:`geo.maps.battle.battle_map`, which receives all its data;
    this function reads what is left out (the shipped rivers and towns, the region outline,
    outlines named by a word in ``overlays``).

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        Battle zones (``zone``, ``name_zh``, ``name_en``, polygons; any CRS, set).
    parts : geopandas.GeoDataFrame, optional
        Battle parts (``zone``, ``name_zh``, ``name_en``, polygons).
    column : str
        Value shown first in the popups (default: sandified share).
    indicator : geo.indicators.Indicator, optional
    title : str, optional
    basemap, offline, overlays
        As for :func:`choropleth`.
    context : bool or geo.maps.overlays.MapContext
        Draw rivers and towns: ``True`` reads the shipped ones (:func:`load_context`), a
        MapContext draws those, ``False`` or None none.
    region : shapely geometry, optional
        The region outline (WGS84) the rivers and towns are clipped to (default: the shipped
        province boundary).
    lang : {"both", "zh", "en"}

    Returns
    -------
    folium.Map

    Raises
    ------
    geo.errors.DataError
        Zones without the ``zone``/``name_zh``/``name_en`` columns, or none at all.
    """
    if context is True:
        context = load_context()
    context = context or None
    if context is not None and region is None:
        from geo import boundaries

        region = boundaries.load("province").to_crs(4326).union_all()
    return battle.battle_map(
        zones, parts=parts, column=column, indicator=indicator, title=title, basemap=basemap,
        offline=offline, overlays=_with_outlines(overlays), context=context, region=region,
        lang=lang,
    )  # fmt: skip


def _make_offline(m: folium.Map) -> None:
    tiles = [k for k, v in m._children.items() if isinstance(v, folium.TileLayer)]
    for key in tiles:
        del m._children[key]
    has_base = any(
        isinstance(v, folium.raster_layers.ImageOverlay) and v.options.get("pane") == "geo_base"
        for v in m._children.values()
    )
    if not has_base:
        hillshade_overlay(gcj=getattr(m, "_geo_gcj", False)).add_to(m)


def save(m: folium.Map, path: str | os.PathLike, *, offline: bool | None = None) -> Path:
    """Write a map as one UTF-8 HTML file, atomically.

    Parameters
    ----------
    m : folium.Map
    path : str or path-like
    offline : bool, optional
        ``True``: make no network request even if the map was built with an online basemap
        (its tiles removed, the DEM hillshade as basemap). Leaflet and the plugins are always
        inlined. Default: as the map was built (no request unless its basemap is online).

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    geo.errors.OutputError
        The file cannot be written, or a resource cannot be inlined.
    """
    offline = getattr(m, "_geo_offline", False) if offline is None else offline
    if offline:
        _make_offline(m)
    page = inline_assets(m.get_root().render())  # a no-op for our own pages (Page)
    if offline and re.search(r"L\.tileLayer\(", page):
        raise OutputError("offline map still has web tiles; build it with offline=True")
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path
