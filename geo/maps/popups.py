"""Tooltips and popups of the zones of a web map.

Every column under its table header in words, values formatted with units, texts escaped or set
with ``textContent`` in the browser.

:func:`features` writes full popups (labels stored once per page); :func:`lean_features`
compact ones for maps of many zones.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.utilities import JsCode

from geo.indicators import Indicator
from geo.maps.classes import LABEL_PAIRS, bi, fmt, indicator_title, target_text
from geo.maps.geometry import id_column

__all__ = ["cell", "features", "lean_features", "popup_table", "with_attributes"]

_ESC = html.escape


def _area_triples(columns: Iterable[str]) -> list[str]:
    cols = set(columns)
    return [
        c[:-4] for c in columns if c.endswith("_km2") and {c[:-4] + "_ha", c[:-4] + "_mu"} <= cols
    ]


def cell(value, lang: str = "both") -> str:
    """A popup cell: numbers formatted, booleans as yes/no in ``lang``, missing values as ``–``.

    Numbers are formatted with :func:`geo.maps.classes.fmt`.

    Parameters
    ----------
    value : object
        A cell of the zone table (numbers in their column's unit).
    lang : {"both", "zh", "en"}
        Language of yes/no.

    Returns
    -------
    str
    """
    if isinstance(value, bool | np.bool_):
        return bi("是", "yes", lang) if value else bi("否", "no", lang)
    if isinstance(value, int | float | np.integer | np.floating):
        return fmt(float(value))
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–"
    return str(value)


def _popup_rows(row: pd.Series, skip: set[str], lang: str = "both") -> list[tuple[str, str]]:
    """Rows of a full popup: every column under its table header in words (never a field name)."""
    from geo.tables import official_column, verdict_text

    rows = []
    triples = _area_triples(row.index)
    done = set(skip)
    for stem in triples:
        km2, ha, mu = (row[f"{stem}_{u}"] for u in ("km2", "ha", "mu"))
        text = f"{fmt(float(km2), 'km²')} · {fmt(float(ha), 'ha')} · {fmt(float(mu), '亩 mu')}"
        official = official_column(row, f"{stem}_km2")
        label = re.sub(r"\s*\[[^\]]*\]$", "", _popup_label(f"{stem}_km2", lang, official))
        rows.append((stem if label == f"{stem}_km2" else label, text))
        done |= {f"{stem}_{u}" for u in ("km2", "ha", "mu", "wanmu")}
    for col in row.index:
        if col in done:
            continue
        value = row[col]
        text = cell(verdict_text(value, lang) if col.endswith("_verdict") else value, lang)
        if col.endswith("_pct") and text != "–":
            text += " %"
        rows.append((_popup_label(col, lang, official_column(row, col)), text))
    return rows


def popup_table(rows: list[tuple[str, str]]) -> str:
    """An HTML popup table of (header, text) rows, both escaped.

    Parameters
    ----------
    rows : list of (str, str)
        Header and text of each row (plain text).

    Returns
    -------
    str
        HTML.
    """
    # HTML's optional end tags (</th>, </td>, </tr>) left out: every "<" in a script's JSON
    # becomes 6 bytes, and these tags alone were an eighth of a banner map
    body = "".join(f"<tr><th>{_ESC(str(k))}<td>{_ESC(v)}" for k, v in rows)
    return f'<table class="geo-popup">{body}</table>'


def features(
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

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The zones (WGS84, or GCJ-02 for the Amap basemap) with their table columns.
    column : str
        The mapped column (in the indicator's unit).
    colours : list of str
        Fill colour of each zone, in the order of ``gdf``.
    indicator : geo.indicators.Indicator or None
        The mapped indicator (unit, target, label).
    lang : {"both", "zh", "en"}
        Language of the labels.
    notes : dict, optional
        A further popup note per zone identifier (text).

    Returns
    -------
    tuple of (dict, folium.utilities.JsCode)
        The GeoJSON FeatureCollection (fill colour in each feature's ``c``) and the script that
        binds the tooltips and popups.
    """
    id_col = id_column(gdf)
    unit = indicator.unit if indicator else ""
    label = f" ({bi(*LABEL_PAIRS[indicator.label], lang)})" if indicator else ""
    name_value = indicator_title(column, indicator, lang)[0] if indicator else column
    status = target_text(indicator, lang)
    skip = {gdf.geometry.name}
    feats = []
    labels: dict[str, int] = {}
    for i, (idx, row) in enumerate(gdf.iterrows()):
        fid = str(row[id_col]) if id_col else str(idx)
        zh = str(row.get("name_zh", fid))
        en = str(row.get("name_en", ""))
        value = fmt(float(row[column]) if pd.notna(row[column]) else float("nan"), unit)
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
        head = [(bi("名称", "Name", lang), " / ".join(names)), (name_value, value + label)]
        if status:
            head.append(("", status))
        if note:
            head.append((bi("注意", "Note", lang), note))
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


def _popup_label(column: str, lang: str, official: bool = False) -> str:
    """Header of a popup row: short words for the target columns, the table header otherwise.

    ``official``: the column holds official values (:func:`geo.tables.official_column`).
    """
    from geo.tables import column_label

    if column in ("adcode", "id", "zone"):
        return bi("代码", "Code", lang)
    for suffix, (zh, en) in _POPUP_SUFFIXES.items():
        if column.endswith(suffix):
            return bi(zh, en, lang)
    label = column_label(column, lang, official)
    if lang == "both" and label == column:  # bilingual tables keep ids as headers; popups don't
        zh, en = column_label(column, "zh", official), column_label(column, "en", official)
        label = column if zh == column else bi(zh, en, lang)
    return label


def lean_features(
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

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The zones (WGS84, or GCJ-02 for the Amap basemap) with their table columns.
    column : str
        The mapped column (in the indicator's unit).
    colours : list of str
        Fill colour of each zone, in the order of ``gdf``.
    indicator : geo.indicators.Indicator or None
        The mapped indicator (unit, target, label).
    extra : list of str
        Further columns shown (the user's attributes).
    lang : {"both", "zh", "en"}
        Language of the labels.

    Returns
    -------
    tuple of (dict, folium.utilities.JsCode)
        As for :func:`features`.
    """
    id_col = id_column(gdf)
    unit = indicator.unit if indicator else ""
    label = f" ({bi(*LABEL_PAIRS[indicator.label], lang)})" if indicator else ""
    name_value = indicator_title(column, indicator, lang)[0] if indicator else column
    from geo.tables import official_column, verdict_text

    verdict = f"{column}_verdict"  # met/not met robust or uncertain (geo.indicators.VERDICTS)
    shown = [c for c in (id_col, f"{column}_meets_target", verdict, f"{column}_gap") if c in gdf]
    shown += [c for c in extra if c in gdf.columns and c not in shown]
    labels = [
        bi("名称", "Name", lang),
        name_value + label,
        *(_popup_label(c, lang, official_column(gdf, c)) for c in shown),
    ]
    values = pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype="float64")
    zh = gdf["name_zh"].astype(str).to_numpy() if "name_zh" in gdf else gdf.index.astype(str)
    en = gdf["name_en"].astype(str).to_numpy() if "name_en" in gdf else zh
    cells = [
        [
            cell(verdict_text(v, lang) if c == verdict else v, lang)
            for v in gdf[c].to_numpy(dtype=object)
        ]
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
                "r": [name, fmt(values[i], unit), *(col[i] for col in cells)],
            },
            "geometry": shapely.geometry.mapping(geom),
        })  # fmt: skip
    status = target_text(indicator, lang)
    script = _LEAN_JS % {"labels": _js_json(labels), "status": _js_json(status)}
    return {"type": "FeatureCollection", "features": feats}, JsCode(script)


def with_attributes(
    gdf: gpd.GeoDataFrame, attributes: pd.DataFrame
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Join the user's attributes by zone identifier; their columns (renamed if taken).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The zones.
    attributes : pandas.DataFrame
        The user's attributes, indexed by zone identifier (text).

    Returns
    -------
    tuple of (geopandas.GeoDataFrame, list of str)
        The zones with the attributes joined, and the names of the joined columns.
    """
    id_col = id_column(gdf)
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
