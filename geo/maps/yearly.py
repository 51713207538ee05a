"""A web map of a yearly series with a year slider, self-contained like every map.

The zones are drawn once; a range input re-colours them and rewrites their tooltips for the
year chosen. The classes are computed over every year's values, so one legend holds for the
whole series and colours compare across years.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from geo.maps.classes import bi, fmt, map_classes

__all__ = ["YearSlider", "year_slider_map"]


class YearSlider(MacroElement):
    """A year slider re-colouring a zone layer: colours and tooltip texts per year and zone."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }}, layer = {{ this.layer.get_name() }};
            var Y = {{ this.years|tojson }}, C = {{ this.colours|tojson }};
            var T = {{ this.tips|tojson }}, at = Y.length - 1;
            var base = layer.options.style;
            function idx(f) { return parseInt(String(f.id).slice(1), 10); }
            layer.options.style = function (f) {
                var s = base ? base(f) : {};
                s.fillColor = C[at][idx(f)];
                return s;
            };
            function show(k) {
                at = k;
                layer.setStyle(layer.options.style);
                layer.eachLayer(function (l) {
                    if (l.getTooltip()) { l.setTooltipContent(T[at][idx(l.feature)]); }
                });
                label.textContent = {{ this.caption|tojson }} + Y[at];
            }
            var box = L.control({position: 'bottomleft'});
            var label, input;
            box.onAdd = function () {
                var div = L.DomUtil.create('div', 'geo-legend geo-year');
                label = L.DomUtil.create('div', '', div);
                input = L.DomUtil.create('input', '', div);
                input.type = 'range'; input.min = 0; input.max = Y.length - 1;
                input.value = Y.length - 1; input.style.width = '16em';
                input.setAttribute('aria-label', {{ this.caption|tojson }});
                input.addEventListener('input', function (e) { show(+e.target.value); });
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            box.addTo(map);
            show(Y.length - 1);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, layer, years, colours, tips, caption: str) -> None:
        super().__init__()
        self._name = "YearSlider"
        self.layer = layer
        self.years = [int(y) for y in years]
        self.colours = colours
        self.tips = tips
        self.caption = caption


def year_slider_map(
    zones: gpd.GeoDataFrame,
    series: pd.DataFrame,
    value: str,
    *,
    id_column: str,
    indicator=None,
    title: str | None = None,
    unit: str = "",
    lang: str = "both",
    basemap: str = "hillshade",
) -> folium.Map:
    """A choropleth of the last year with a slider over every year of ``series``.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        The zones (WGS84) with ``id_column``, ``name_zh`` and ``name_en``.
    series : pandas.DataFrame
        One row per zone and year: ``id_column``, ``year`` and ``value``.
    value : str
        Column of ``series`` mapped.
    id_column : str
        The zone identifier column of both tables.
    indicator : geo.indicators.Indicator, optional
        Names, unit and target of the value (classes centred on the target).
    title : str, optional
        Map title.
    unit : str
        Unit of the values as :func:`geo.maps.classes.fmt` takes it (``"pct"``, ``"km2"`` …).
    lang : {"both", "zh", "en"}
        Language of the texts.
    basemap : str
        As for :func:`geo.maps.interactive.choropleth`.

    Returns
    -------
    folium.Map
        Save it with :func:`geo.maps.interactive.save` (self-contained, offline).
    """
    from geo.maps.interactive import choropleth

    years = sorted(series["year"].unique())
    wide = series.pivot_table(index=id_column, columns="year", values=value, aggfunc="first")
    ids = zones[id_column].astype(str).to_numpy()
    wide.index = wide.index.astype(str)
    wide = wide.reindex(ids)
    classes = map_classes(wide.to_numpy().ravel(), indicator, "quantiles", 5)
    last = zones.assign(**{value: wide[years[-1]].to_numpy()})
    m = choropleth(
        last, value, indicator=indicator, title=title, lang=lang, basemap=basemap, classes=classes
    )
    layer = next(c for c in m._children.values() if isinstance(c, folium.GeoJson))
    names = [
        bi(str(zh), str(en), lang)
        for zh, en in zip(zones["name_zh"], zones["name_en"], strict=True)
    ]
    colours, tips = [], []
    for year in years:
        column = wide[year].to_numpy(dtype="float64")
        colours.append(classes.colour(column))
        tips.append(
            [
                f"<b>{_esc(n)}</b><br>{year}: {_esc(fmt(v, unit))}"
                for n, v in zip(names, column, strict=True)
            ]
        )
    caption = bi("年份", "Year", lang) + ": "
    YearSlider(layer, years, colours, tips, caption).add_to(m)
    return m


def _esc(text: str) -> str:
    import html

    return html.escape(str(text))
