"""What a web map draws over or under its zones.

The offline hillshade basemap, raster layers as PNG image overlays with their legends, zone and
desert outlines, and the rivers and towns read for the battle-zone maps (:func:`load_context`,
called by the callers, never by the drawing).
"""

from __future__ import annotations

import base64
import html
import io
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import rasterio
import shapely
from PIL import Image
from rasterio.warp import Resampling, calculate_default_transform, reproject

from geo.crs import wgs84_to_gcj02
from geo.data import data_dir, data_path
from geo.errors import DataError, GeoWarning
from geo.maps.classes import DEGREE_COLOURS, bi, fmt
from geo.maps.elements import (
    LEVEL_NAMES,
    ONLINE_BASEMAPS,
    CompactGeoJson,
    Legend,
    add_basemap,
    new_map,
)
from geo.maps.geometry import prepare

__all__ = [
    "CONTEXT_FILE",
    "IGBP_COLOURS",
    "MapContext",
    "Outlines",
    "add_overlay",
    "hillshade_overlay",
    "load_context",
    "open_map",
    "outline_layer",
    "png_uri",
    "raster_overlay",
    "raster_rgba",
]

_ESC = html.escape
_DEM = ("rasters", "dem_pvlib_mapzen_5arcmin_im.tif")
_DEM_CREDIT = "Hillshade: pvlib altitude map (Mapzen terrain tiles), BSD-3-Clause"
#: The shipped Natural Earth rivers and populated places near Inner Mongolia.
CONTEXT_FILE = ("context", "ne_rivers_places_im.gpkg")
#: MODIS IGBP land-cover palette (the usual one of the MCD12 products).
IGBP_COLOURS = {
    0: "#1c0dff", 1: "#05450a", 2: "#086a10", 3: "#54a708", 4: "#78d203", 5: "#009900",
    6: "#c6b044", 7: "#dcd159", 8: "#dade48", 9: "#fbff13", 10: "#b6ff05", 11: "#27ff87",
    12: "#c24f44", 13: "#a5a5a5", 14: "#ff6d4c", 15: "#69fff8", 16: "#f9ffa4",
}  # fmt: skip


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


def png_uri(rgba: np.ndarray, *, jpeg: bool = False) -> str:
    """An RGBA image as a ``data:`` URI: a PNG or a JPEG.

    The PNG is paletted when it has at most 256 colours; the JPEG has quality 70 and no
    transparency.

    Parameters
    ----------
    rgba : numpy.ndarray
        ``(rows, columns, 4)`` uint8 image.
    jpeg : bool
        Write a JPEG (the hillshade) instead of a PNG.

    Returns
    -------
    str
    """
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
        Sun position: azimuth clockwise from north and altitude above the horizon, degrees.
    gcj : bool
        Shift the image to GCJ-02 (for maps whose data are in GCJ-02).
    scale : float
        Resampling factor of the Web Mercator image (1.5 gives a smoother relief, ~70 kB).

    Returns
    -------
    folium.raster_layers.ImageOverlay
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
        png_uri(rgba, jpeg=True),
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
    """Colour and label of each class code present.

    Sandified degrees in the ordinal :data:`geo.maps.static.DEGREE_COLOURS`, IGBP land cover in
    its palette, others tab20.
    """
    import matplotlib as mpl

    from geo.layers.derive import SANDIFIED_CLASSES

    fallback = [mpl.colors.to_hex(c) for c in mpl.colormaps["tab20"].colors]
    out = {}
    for i, code in enumerate(codes):
        if layer.name == "sandified" and code in SANDIFIED_CLASSES:
            en, zh = SANDIFIED_CLASSES[code]
            out[code] = (DEGREE_COLOURS.get(code, fallback[i % 20]), bi(zh, en, lang))
            continue
        known = IGBP_COLOURS if layer.name == "landcover" else {}
        label = f"{code} {layer.classes.get(code, '')}".strip()
        out[code] = (known.get(code, fallback[i % len(fallback)]), label)
    return out


def raster_rgba(layer, data: np.ndarray, lang: str = "both") -> tuple[np.ndarray, str]:
    """Colours of a raster and the HTML of its legend.

    Parameters
    ----------
    layer : geo.layers.Layer
        Its ``name``, ``categorical``, ``classes`` and ``unit`` choose the colours.
    data : numpy.ndarray
        2-D float values in the layer's unit, NaN where there is none (transparent).
    lang : {"both", "zh", "en"}

    Returns
    -------
    (numpy.ndarray, str)
        ``(rows, columns, 4)`` uint8 image and the legend (escaped HTML): the classes present,
        or a colour bar over the 2–98 % range in 32 steps.
    """
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
            f"</div><div>{_ESC(fmt(float(lo)))} – {_ESC(fmt(float(hi)))} "
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
        Opacity of the image, 0 (transparent) to 1.
    show : bool
        Whether the overlay is on when the map opens.
    gcj : bool
        Shift the image to GCJ-02 (Amap basemap).
    lang : {"both", "zh", "en"}
        Language of the legend.

    Returns
    -------
    tuple of (folium.raster_layers.ImageOverlay, str)
        The overlay and the HTML of its legend.
    """
    from geo import layers as catalogue

    layer = catalogue.get(layer) if isinstance(layer, str) else layer
    from geo.zonal import invalid_mask, nodata_codes

    with rasterio.open(layer.path) as src:
        raw = src.read(1)
        transform, crs = src.transform, src.crs
        # nodata and flags compared in the raster's own type, before the cast to float64
        codes = nodata_codes(raw.dtype, src.nodata, tuple(layer.flags), str(layer.path))
    data = np.where(invalid_mask(raw, codes), np.nan, raw.astype("float64"))
    if not layer.categorical:
        data = data * layer.scale + layer.offset
    method = Resampling.nearest if layer.categorical else Resampling.bilinear
    merc, bounds = _to_mercator(data, transform, crs, method)
    rgba, legend = raster_rgba(layer, merc, lang)
    zh, en = layer.title_zh, layer.title_en
    if zh == en == layer.name:  # a derived layer: its file carries only its name
        zh, en = _RASTER_TITLES.get(layer.name, (zh, en))
    title = bi(zh, en, lang) if zh != en else zh
    short = bi(re.split("[（，(,]", zh)[0], re.split("[(,]", en)[0].strip(), lang)
    overlay = folium.raster_layers.ImageOverlay(
        png_uri(rgba),
        _shift_bounds(bounds) if gcj else bounds,
        name=f"{layer.name}: {short}",
        opacity=opacity,
        show=show,
        pane="geo_rasters",
        attribution=_ESC(f"{layer.name}: {layer.source} ({layer.licence})"),
    )
    legend_html = f'<div class="geo-legend-title">{_ESC(title)}</div>{legend}'
    return overlay, legend_html


def outline_layer(
    gdf: gpd.GeoDataFrame,
    name: str,
    *,
    colour: str,
    weight: float,
    dash: str | None,
    gcj: bool,
    simplified: bool = False,
) -> folium.GeoJson:
    """Unfilled, not clickable outlines of ``gdf`` (each shared edge drawn once).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Polygons (any CRS, set).
    name : str
        Name in the layer control.
    colour : str
    weight : float
        Line width (px).
    dash : str or None
        SVG dash pattern (``"6 4"``).
    gcj : bool
        Move the lines to GCJ-02.
    simplified : bool
        ``gdf`` is already simplified for the screen.

    Returns
    -------
    folium.GeoJson
    """
    gdf = prepare(gdf[[gdf.geometry.name]], gcj, simplified=simplified)
    data = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(g)}
            for g in _edges(gdf.geometry.to_numpy())
        ],
    }
    style = {"color": colour, "weight": weight, "fill": False, "dashArray": dash}
    return CompactGeoJson(data, name=name, style_function=lambda f: style, interactive=False)


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


#: Outline style of each zone level: colour, width (px), dash pattern.
_OUTLINE_STYLES = {
    "league": ("#222", 2, None),
    "county": ("#555", 0.7, None),
    "battle": ("#7b3294", 3, "6 4"),
}


@dataclass(frozen=True)
class Outlines:
    """Zone outlines drawn over a map: a zone set and its level.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        The zones (any CRS, set).
    level : str
        ``"league"``, ``"county"`` or ``"battle"`` (the style and the name in the layer
        control), or another name (drawn as battle zones are).
    simplified : bool
        ``frame`` is already simplified for the screen (:func:`geo.maps.geometry.prepare`).
    """

    frame: gpd.GeoDataFrame
    level: str
    simplified: bool = False


def add_overlay(m: folium.Map, item, gcj: bool, lang: str = "both") -> None:
    """Add one overlay to a map: outlines of zones, corrections or deserts, or a raster layer.

    Parameters
    ----------
    m : folium.Map
    item : Outlines, geopandas.GeoDataFrame, str or geo.layers.Layer
        :class:`Outlines`; a GeoDataFrame of corrections (``layer``, ``value``), of Natural
        Earth deserts (``featurecla``) or of battle zones / other outlines; a raster layer
        (catalogue name or Layer: an image overlay with its legend and opacity slider).
    gcj : bool
        The map's data are in GCJ-02 (Amap basemap).
    lang : {"both", "zh", "en"}
    """
    if isinstance(item, Outlines):
        colour, weight, dash = _OUTLINE_STYLES.get(item.level, _OUTLINE_STYLES["battle"])
        name = LEVEL_NAMES.get(item.level, "Outlines")
        outline_layer(item.frame, name, colour=colour, weight=weight, dash=dash, gcj=gcj,
                      simplified=item.simplified).add_to(m)  # fmt: skip
        return
    if isinstance(item, gpd.GeoDataFrame) and {"layer", "value"} <= set(item.columns):
        # geo.layers.derive.apply_corrections(): where the user overrode a derived class
        name = "用户更正 User corrections (field survey)"
        outline_layer(item, name, colour="#e7298a", weight=2, dash=None, gcj=gcj).add_to(m)
        return
    if isinstance(item, gpd.GeoDataFrame) and "featurecla" in item.columns:
        # geo.zones.context_overlays(): real desert outlines, generalised — never a banner union
        name = "Natural Earth 沙漠轮廓 desert outlines (1:10M, display only)"
        outline_layer(item, name, colour="#b8860b", weight=2, dash="2 4", gcj=gcj).add_to(m)
        return
    if isinstance(item, gpd.GeoDataFrame):
        is_zone = "zone" in item.columns
        name = LEVEL_NAMES["battle"] if is_zone else "Outlines"
        outline_layer(item, name, colour="#7b3294", weight=3, dash="6 4", gcj=gcj).add_to(m)
        return
    overlay, legend = raster_overlay(item, gcj=gcj, lang=lang)
    overlay.add_to(m)
    Legend(legend, overlay, position="bottomleft", slider=True, opacity=0.7, lang=lang).add_to(m)


@dataclass(frozen=True)
class MapContext:
    """The rivers and towns drawn around the battle zones (Natural Earth, WGS84).

    Attributes
    ----------
    rivers : geopandas.GeoDataFrame
        River centre lines with ``name_zh`` and ``name_en`` (named ones drawn).
    places : geopandas.GeoDataFrame
        Populated places with ``name``, ``name_zh``, ``scalerank`` and ``featurecla``.
    """

    rivers: gpd.GeoDataFrame
    places: gpd.GeoDataFrame


def load_context(parts: Sequence[str] = CONTEXT_FILE) -> MapContext | None:
    """Read the shipped rivers and towns, or None (with a warning) when the file is absent.

    A loader for the callers of the drawing functions (the report, the convenience defaults of
    the public map functions); the drawing code itself never reads it.

    Parameters
    ----------
    parts : sequence of str
        Path of the GeoPackage under the data folder (layers ``rivers`` and ``places``).

    Returns
    -------
    MapContext or None
        None when the file is missing: maps are still right without it, and say so.
    """
    path = data_dir().joinpath(*parts)
    if not path.is_file():  # the map is still right without them: say what is missing
        warnings.warn(
            f"{path} is missing: the battle-zone map is drawn without rivers and towns; "
            "reinstall geo-barrier to restore the shipped data",
            GeoWarning,
            stacklevel=2,
        )
        return None
    read = lambda layer: gpd.read_file(path, layer=layer, engine="pyogrio")  # noqa: E731
    return MapContext(rivers=read("rivers"), places=read("places"))


def open_map(data: gpd.GeoDataFrame, basemap: str, tianditu_key: str | None = None) -> folium.Map:
    """A new map fitted to ``data`` on its basemap.

    The offline hillshade (unless ``"none"``) lies under the tiles of an online basemap, which
    cover it where they load.

    Parameters
    ----------
    data : geopandas.GeoDataFrame
        The zones in WGS84 (or GCJ-02 for ``"amap"``).
    basemap : str
        A checked basemap (:func:`geo.maps.elements.check_basemap`).
    tianditu_key : str, optional
        Tianditu ``tk`` key (default: environment variable ``TIANDITU_KEY``).

    Returns
    -------
    folium.Map
    """
    gcj = basemap == "amap"
    m = new_map(data)
    m._geo_offline = basemap not in ONLINE_BASEMAPS
    m._geo_gcj = gcj
    if basemap != "none":  # under the tiles of an online basemap: shown where they fail
        hillshade_overlay(gcj=gcj).add_to(m)
    add_basemap(m, basemap, tianditu_key)
    return m
