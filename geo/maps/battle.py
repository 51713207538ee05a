"""The web map of the three battle zones.

Zones in their fixed colours and labelled, battle parts dashed, overlapping parts hatched, the
Yellow River, rivers and main towns.

The drawing receives all its data (zones, parts, overlays, the rivers and towns, the region);
:func:`geo.maps.interactive.battle_zone_map` is the public entry that fills in the shipped data
a notebook user leaves out.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element
from folium.utilities import JsCode

from geo import fonts
from geo.crs import EQUAL_AREA, transform_geometry, wgs84_to_gcj02
from geo.errors import DataError
from geo.indicators import Indicator
from geo.maps import popups
from geo.maps.classes import BATTLE_COLOURS, bi, check_lang, fmt
from geo.maps.elements import (
    BOUNDARY_CREDIT,
    CompactGeoJson,
    Credit,
    Legend,
    add_controls,
    add_title,
    check_basemap,
    label_icon,
    zone_layer,
)
from geo.maps.geometry import SCREEN_TOLERANCE, prepare, simplify_coverage
from geo.maps.overlays import MapContext, add_overlay, open_map

__all__ = ["battle_map", "town_label_sides"]

_ESC = html.escape

#: A diagonal hatch for overlapping battle parts (an SVG pattern the CSS class fills with).
_HATCH = (
    '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
    '<pattern id="geo-hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="8" height="8" fill="#ffffff" fill-opacity="0.25"/>'
    '<line x1="0" y1="0" x2="0" y2="8" stroke="#b2182b" stroke-width="2.5"/></pattern>'
    "</defs></svg>"
)
_BATTLE_CSS = """<style>
.leaflet-container path.geo-overlap{fill:url(#geo-hatch);fill-opacity:1}
.geo-label{background:rgba(255,255,255,.82);border-radius:3px;padding:1px 5px;
  font:bold 13px/1.25 {font};color:#222;white-space:nowrap;text-align:center;
  box-shadow:0 0 3px rgba(0,0,0,.35);transform:translate(-50%,-50%);width:max-content}
.geo-label small{font-weight:normal;font-size:11px;color:#444}
.geo-town{font:12px/1.2 {font};color:#111;white-space:nowrap;width:max-content;text-shadow:
  -1px -1px 0 #fff,1px -1px 0 #fff,-1px 1px 0 #fff,1px 1px 0 #fff}
.geo-town.geo-left{transform:translateX(calc(-100% - 10px))}
.geo-town.geo-above{transform:translate(calc(-50% - 5px),-12px)}
.geo-town.geo-below{transform:translate(calc(-50% - 5px),14px)}
.geo-river{font:italic 12px {font};color:#08519c;white-space:nowrap;text-shadow:
  -1px -1px 0 #fff,1px -1px 0 #fff,-1px 1px 0 #fff,1px 1px 0 #fff}
.geo-legend .geo-hatch{background:repeating-linear-gradient(45deg,#b2182b 0 2px,#fff 2px 6px)}
.geo-legend .geo-line{height:0;border:none;border-top:3px solid #2171b5;margin-bottom:4px}
.geo-legend .geo-dash{background:none;border:2px dashed #333}
.geo-legend .geo-dot{width:8px;height:8px;border-radius:50%;background:#111;border:none;
  margin:0 9px 0 3px}
</style>""".replace("{font}", fonts.FONT_STACK)


def _overlaps(parts: gpd.GeoDataFrame, min_km2: float = 1.0) -> dict[int, list[tuple[int, float]]]:
    """For each part (by position), the parts it overlaps and the shared area (km²)."""
    geoms = parts.to_crs(EQUAL_AREA).geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    out: dict[int, list[tuple[int, float]]] = {}
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i == j:
            continue
        km2 = shapely.intersection(geoms[i], geoms[j]).area / 1e6
        if km2 >= min_km2:  # touching neighbours share an edge, not land
            out.setdefault(i, []).append((j, km2))
    return out


def _draw_context(
    m: folium.Map, region, context: MapContext, lang: str, gcj: bool
) -> tuple[list[tuple[str, str]], list]:
    """The Yellow River, the other named rivers and the main towns of ``context`` in ``region``.

    The towns are those of Natural Earth scalerank ≤ 6.

    Returns the legend rows and the drawn geometries (WGS84), which zone labels avoid.
    """
    rows, drawn = [], []
    rivers, places = context.rivers, context.places
    if rivers is not None:
        named = rivers[rivers["name_zh"].notna()].copy()
        named["geometry"] = named.geometry.intersection(region.buffer(0.3))
        named = named[~named.geometry.is_empty]
        named = named.set_geometry(named.geometry.simplify(0.01))
        group = folium.FeatureGroup(name=bi("河流", "Rivers", lang), show=True)
        drawn += list(named.geometry)
        for row in named.itertuples():
            yellow = row.name_zh == "黄河"
            geom = shapely.set_precision(row.geometry, 0.001)
            if gcj:
                geom = transform_geometry(np.array([geom]), wgs84_to_gcj02)[0]
            name = bi(row.name_zh, "Yellow River" if yellow else str(row.name_en), lang)
            style = {"color": "#2171b5" if yellow else "#6baed6", "weight": 3.5 if yellow else 1.5}
            CompactGeoJson(shapely.geometry.mapping(geom), style_function=lambda f, s=style: s,
                     tooltip=_ESC(name)).add_to(group)  # fmt: skip
            if yellow:
                line = max(shapely.get_parts(row.geometry), key=lambda g: g.length)
                at = line.interpolate(0.35, normalized=True)
                folium.Marker([at.y, at.x], icon=label_icon(_ESC(name), "geo-river"),
                              interactive=False).add_to(group)  # fmt: skip
        group.add_to(m)
        rows.append(("geo-line", bi("黄河", "Yellow River", lang)))
    if places is not None:
        main = places[(places["scalerank"] <= 6) & places.within(region)]
        # the regional capital first, then by Natural Earth rank: the most important keep a label
        main = main.assign(_capital=main["featurecla"].str.contains("capital", case=False))
        main = main.sort_values(["_capital", "scalerank", "name"], ascending=[False, True, True])
        drawn += list(main.geometry)
        group = folium.FeatureGroup(name=bi("城镇", "Towns", lang), show=True)
        names = [bi(str(r.name_zh), str(r.name), lang) for r in main.itertuples()]
        sides = town_label_sides(list(main.geometry), names, _fit_zoom(region.bounds))
        for row, name, side in zip(main.itertuples(), names, sides, strict=True):
            x, y = row.geometry.x, row.geometry.y
            if gcj:
                x, y = (float(v) for v in wgs84_to_gcj02(x, y))
            folium.CircleMarker([y, x], radius=3.5, color="#fff", weight=1, fill_color="#111",
                                fill_opacity=1, tooltip=_ESC(name)).add_to(group)  # fmt: skip
            if side is None:  # no room at the opening zoom: the dot and its tooltip only
                continue
            css = "geo-town" if side == "right" else f"geo-town geo-{side}"
            icon = folium.DivIcon(html=f'<div class="{css}">{_ESC(name)}</div>',
                                  icon_size=(0, 0), icon_anchor=(-5, 8))  # fmt: skip
            folium.Marker([y, x], icon=icon, interactive=False).add_to(group)
        group.add_to(m)
        rows.append(("geo-dot", bi("城镇（Natural Earth）", "Town (Natural Earth)", lang)))
    return rows, drawn


def _text_px(text: str) -> float:
    """Width of a 12-px map label, px: 12 per CJK character, 6.5 per other one."""
    return sum(12.0 if ord(c) >= 0x2E80 else 6.5 for c in text)


def town_label_sides(
    points: Sequence, names: Sequence[str], zoom: float, keep: int = 1
) -> list[str | None]:
    """Where each town's label goes at the opening ``zoom``: right, left, above, below or None.

    Towns are taken in the order given (most important first). A label sits right of its dot
    unless its box (Web Mercator pixels, 15 px high) would overlap a label already placed or
    another town's dot; then left, above, below; if all collide it is left out (the dot keeps
    its tooltip), except the first ``keep`` towns (the regional capital), whose label goes where
    it covers the fewest other dots.

    Parameters
    ----------
    points : sequence of shapely.Point
        The towns, longitude/latitude degrees (WGS84).
    names : sequence of str
        Their labels.
    zoom : float
        The map's opening zoom level.
    keep : int
        Number of leading towns whose label is never left out.

    Returns
    -------
    list of str or None
        ``"right"``, ``"left"``, ``"above"``, ``"below"`` or None per town.
    """
    scale = 256 * 2**zoom

    def px(pt):
        lat = math.radians(pt.y)
        return (pt.x + 180) / 360 * scale, (
            1 - math.log(math.tan(lat) + 1 / math.cos(lat)) / math.pi
        ) / 2 * scale

    dots = [px(p) for p in points]
    dot_boxes = [shapely.box(x - 4, y - 4, x + 4, y + 4) for x, y in dots]
    placed: list = []
    sides: list[str | None] = []
    for i, ((x, y), name) in enumerate(zip(dots, names, strict=True)):
        w = _text_px(name)
        options = {
            "right": shapely.box(x + 5, y - 8, x + 5 + w, y + 7),
            "left": shapely.box(x - 10 - w, y - 8, x - 10, y + 7),
            "above": shapely.box(x - w / 2, y - 20, x + w / 2, y - 5),
            "below": shapely.box(x - w / 2, y + 6, x + w / 2, y + 21),
        }
        dots_hit = {
            k: sum(box.intersects(d) for j, d in enumerate(dot_boxes) if j != i)
            for k, box in options.items()
            if not any(box.intersects(o) for o in placed)
        }
        side = next((k for k, n in dots_hit.items() if n == 0), None)
        if side is None and i < keep and dots_hit:  # e.g. the capital: over the fewest dots
            side = min(dots_hit, key=dots_hit.get)
        if side is not None:
            placed.append(options[side])
        sides.append(side)
    return sides


def _fit_zoom(bounds: Sequence[float], size: tuple[int, int] = (1280, 800)) -> int:
    """The zoom Leaflet's ``fitBounds`` opens a map of ``bounds`` at in a window of ``size``."""
    xmin, ymin, xmax, ymax = bounds
    merc = lambda lat: math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))  # noqa: E731
    for zoom in range(12, 0, -1):
        scale = 256 * 2**zoom
        width = (xmax - xmin) / 360 * scale
        height = (merc(ymax) - merc(ymin)) / (2 * math.pi) * scale
        if width <= size[0] and height <= size[1]:
            return zoom
    return 1


def _label_point(geom, text_lines: Sequence[str], avoid: Sequence, zoom: float):
    """A point inside ``geom`` where a label of ``text_lines`` clears ``avoid`` (rivers, towns).

    The label's box at the map's opening ``zoom`` (Web Mercator, 13 px per Chinese character,
    6.5 px per Latin one, 17 px a line) is tried at the representative point and at points of a
    grid inside the zone; the box that overlaps least of ``avoid`` (buffered by 6 px) and of the
    outside of the zone wins, the nearest to the representative point among equals.
    """
    first = geom.representative_point()
    px = 256 * 2**zoom / 360  # pixels per degree of longitude
    width = max(sum(13 if ord(c) > 0x2E7F else 6.5 for c in line) for line in text_lines) + 12
    height = 17 * len(text_lines) + 6
    obstacles = (
        shapely.union_all([shapely.buffer(g, 6 / px) for g in avoid]) if len(avoid) else None
    )
    x0, y0, x1, y1 = geom.bounds
    xs, ys = np.meshgrid(np.linspace(x0, x1, 30), np.linspace(y0, y1, 30))
    grid = shapely.points(xs.ravel(), ys.ravel())
    best, best_score = first, None
    for point in [first, *grid[shapely.contains(geom, grid)]]:
        half_w = width / 2 / px
        half_h = height / 2 / px * math.cos(math.radians(point.y))  # Mercator stretch
        box = shapely.box(point.x - half_w, point.y - half_h, point.x + half_w, point.y + half_h)
        hit = box.intersection(obstacles).area if obstacles is not None else 0.0
        score = (round(hit / box.area, 3), round(box.difference(geom).area / box.area, 1),
                 point.distance(first))  # fmt: skip
        if best_score is None or score < best_score:
            best, best_score = point, score
    return best


def battle_map(
    zones: gpd.GeoDataFrame,
    *,
    parts: gpd.GeoDataFrame | None = None,
    column: str = "sandified_pct",
    indicator: Indicator | None = None,
    title: str | None = None,
    basemap: str = "hillshade",
    offline: bool = False,
    overlays: Iterable | None = None,
    context: MapContext | None = None,
    region=None,
    lang: str = "both",
) -> folium.Map:
    """A web map of the three battle zones, each in its own colour and labelled, Chinese first.

    The zones are filled with the print figure's colours
    (:data:`geo.maps.static.BATTLE_COLOURS`) and labelled at a point inside; their popups hold
    ``column`` and every other value. The battle ``parts`` are drawn as dashed outlines; a part
    that overlaps another is hatched and its popup names the other part and the shared area
    (its banners count in both: the parts' figures must not be summed). With ``context``, the
    Yellow River, the other named rivers and the main towns of the shipped Natural Earth file
    are drawn.

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
    basemap, offline
        As for :func:`geo.maps.interactive.choropleth`.
    overlays : iterable, optional
        Items of :func:`geo.maps.overlays.add_overlay` (outlines, deserts, rasters).
    context : geo.maps.overlays.MapContext, optional
        Rivers and towns to draw (none without).
    region : shapely geometry, optional
        The region (WGS84) the rivers and towns are clipped to; needed with ``context``.
    lang : {"both", "zh", "en"}

    Returns
    -------
    folium.Map

    Raises
    ------
    geo.errors.DataError
        Zones without the ``zone``/``name_zh``/``name_en`` columns, or none at all.
    """
    basemap = check_basemap(basemap, offline)
    check_lang(lang)
    missing = {"zone", "name_zh", "name_en"} - set(zones.columns)
    if missing or len(zones) == 0:
        raise DataError(f"battle zones: no zones, or the columns {sorted(missing)} are missing")
    gcj = basemap == "amap"
    data = prepare(zones, gcj)
    m = open_map(data, basemap)
    m.get_root().header.add_child(Element(_BATTLE_CSS), name="geo_battle_css")
    m.get_root().html.add_child(Element(_HATCH), name="geo_hatch")
    spare = ["#66c2a5", "#a6d854", "#ffd92f", "#e78ac3", "#b3b3b3"]
    colours = [BATTLE_COLOURS.get(z, spare[i % len(spare)]) for i, z in enumerate(data["zone"])]
    values = data[column] if column in data.columns else pd.Series(np.nan, index=data.index)
    data = data.assign(**{column: values})
    feats, bind = popups.features(data, column, colours, indicator, lang)
    name = bi("三大战役区", "Battle zones", lang)
    layer = zone_layer(
        m, feats, bind, name, line=("#333", 2), fill_opacity=0.6, highlight=(4, 0.75)
    )
    rows = [(f"background:{c}", bi(str(r.name_zh), str(r.name_en), lang))
            for c, r in zip(colours, data.itertuples(), strict=True)]  # fmt: skip
    if parts is not None and len(parts):
        rows += _parts_layer(m, parts, lang, gcj)
    for item in overlays or ():
        add_overlay(m, item, gcj, lang)
    avoid = []
    if context is not None:
        extra, avoid = _draw_context(m, region, context, lang, gcj)
        rows += extra
    zoom = _fit_zoom(data.total_bounds)
    labels = folium.FeatureGroup(name=bi("战区名称", "Zone names", lang), show=True)
    for row in data.itertuples():
        zh, en = str(row.name_zh), str(row.name_en)
        lines = {"zh": [zh], "en": [en]}.get(lang, [zh, en])
        at = _label_point(row.geometry, lines, avoid, zoom)
        text = _ESC(lines[0]) + "".join(f"<br><small>{_ESC(t)}</small>" for t in lines[1:])
        folium.Marker([at.y, at.x], icon=label_icon(text, "geo-label"), interactive=False
                      ).add_to(labels)  # fmt: skip
    labels.add_to(m)
    items = "".join(
        f'<div><i class="{_ESC(s)}"></i>{_ESC(t)}</div>'
        if s.startswith("geo-")
        else f'<div><i style="{_ESC(s)}"></i>{_ESC(t)}</div>'
        for s, t in rows
    )
    head = bi("战区", "Battle zones", lang)
    Legend(f'<div class="geo-legend-title">{_ESC(head)}</div>{items}').add_to(m)
    add_controls(m, layer, lang)
    add_title(
        m, title or bi("“三北”工程三大标志性战役", "The three Three-North battle zones", lang)
    )
    credits = [BOUNDARY_CREDIT]
    if context is not None:
        credits.append("Rivers, towns: Natural Earth (public domain)")
    Credit(" | ".join(credits)).add_to(m)
    return m


def _parts_layer(m: folium.Map, parts: gpd.GeoDataFrame, lang: str, gcj: bool) -> list:
    """Dashed outlines of the battle parts and their overlaps hatched; returns legend rows.

    An outline is red where a part overlaps another; each overlap has a popup note.

    The outlines are not filled, so the zones' popups stay reachable everywhere but in an overlap.
    """
    parts = parts.reset_index(drop=True).to_crs(4326)
    shared = _overlaps(parts)
    # a reference layer over the zones: 4× the screen tolerance (≈ 4 km) is still exact at the
    # opening zoom, and keeps the page well under 1 MB
    xmin, ymin, xmax, ymax = parts.total_bounds
    tolerance = 4 * SCREEN_TOLERANCE * max(xmax - xmin, ymax - ymin)
    geoms = simplify_coverage(parts.geometry.to_numpy(), tolerance=tolerance, decimals=3)
    data = prepare(parts.set_geometry(gpd.GeoSeries(geoms, crs=4326)), gcj)
    zh, en = data["name_zh"].astype(str).tolist(), data["name_en"].astype(str).tolist()
    names = [bi(a, b, lang) for a, b in zip(zh, en, strict=True)]
    feats = []
    for i, geom in enumerate(data.geometry.to_numpy()):
        rows = [(bi("片区", "Part", lang), names[i])]
        if "n_banners" in data.columns:
            rows.append((bi("旗县数", "Banners", lang), popups.cell(data["n_banners"].iloc[i])))
        if "area_km2" in data.columns:
            rows.append((bi("面积", "Area", lang), fmt(float(data["area_km2"].iloc[i]), "km²")))
        for j, km2 in shared.get(i, []):
            rows.append((bi("重叠", "Overlap", lang), _overlap_note(zh[j], en[j], km2, lang)))
        feats.append({
            "type": "Feature",
            "properties": {"t": _ESC(names[i]), "p": popups.popup_table(rows), "o": i in shared},
            "geometry": shapely.geometry.mapping(shapely.boundary(geom)),
        })  # fmt: skip
    bind = JsCode(
        "function (f, layer) { layer.bindTooltip(f.properties.t, {sticky: true});"
        " layer.bindPopup(f.properties.p, {maxWidth: 420}); }"
    )
    CompactGeoJson(
        {"type": "FeatureCollection", "features": feats},
        name=bi("战役片区（虚线）", "Battle parts (dashed)", lang),
        style_function=lambda f: {
            "color": "#b2182b" if f["properties"]["o"] else "#333",
            "weight": 2 if f["properties"]["o"] else 1.5, "dashArray": "6 4",
        },
        on_each_feature=bind,
    ).add_to(m)  # fmt: skip
    rows = [("geo-dash", bi("战役片区", "Battle part", lang))]
    overlaps = []
    for i, others in shared.items():
        for j, km2 in others:
            if j < i:
                continue
            geom = shapely.intersection(geoms[i], geoms[j])
            if gcj:
                geom = transform_geometry(np.array([geom]), wgs84_to_gcj02)[0]
            table = popups.popup_table([
                (bi("重叠", "Overlap", lang), f"{names[i]} ∩ {names[j]}"),
                (bi("说明", "Note", lang), _overlap_note(zh[j], en[j], km2, lang)),
            ])  # fmt: skip
            tip = _ESC(bi("重叠片区：数值计入两个片区", "Overlap: counted in both parts", lang))
            overlaps.append({"type": "Feature", "properties": {"t": tip, "p": table},
                             "geometry": shapely.geometry.mapping(geom)})  # fmt: skip
    if overlaps:
        CompactGeoJson(
            {"type": "FeatureCollection", "features": overlaps},
            name=bi("片区重叠（斜线）", "Overlapping parts (hatched)", lang),
            style_function=lambda f: {
                "color": "#b2182b", "weight": 1, "fillOpacity": 1, "className": "geo-overlap",
            },
            on_each_feature=bind,
        ).add_to(m)  # fmt: skip
        label = bi("片区重叠（数值不可相加）", "Overlapping parts (do not add up)", lang)
        rows.append(("geo-hatch", label))
    return rows


def _overlap_note(zh: str, en: str, km2: float, lang: str) -> str:
    return bi(
        f"与{zh}重叠约 {fmt(km2, 'km²')}：共有旗县的数值计入两个片区，片区数值不可相加",
        f"overlaps {en} by about {fmt(km2, 'km²')}: shared banners count in both parts; "
        "do not add the parts up",
        lang,
    )
