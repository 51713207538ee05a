"""Official layers in place of the proxies: forest, grassland, sandified land and the red line.

A user who holds the official polygons (forest inventory or 三调 forest land, grassland extent,
sandification-monitoring polygons with their degree, the ecological red line) or a 0/1 forest
raster gives them with ``--forest``, ``--grassland``, ``--sandified`` (with
``--sandified-field``) and ``--redline``. Each layer is read once (:func:`read_layer`: any
GDAL vector format and CRS, ``--source-crs`` honoured, invalid polygons repaired with a
warning), dissolved per class in the equal-area CRS (:data:`geo.crs.EQUAL_AREA`) so that
overlapping polygons are counted once, and intersected with each zone exactly
(:func:`official_values`). The values replace the proxies under the same indicator ids, marked
official; the proxy moves beside it under :func:`geo.indicators.proxy_id`
(``forest_cover_pct`` → ``forest_cover_proxy_pct``), so that every table shows both.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import EQUAL_AREA
from geo.errors import DataError, GeoWarning, UsageError
from geo.indicators import DEGREES, proxy_id
from geo.zoneset import ZoneSet

__all__ = [
    "DEGREE_CODES",
    "KINDS",
    "RASTER_SUFFIXES",
    "OfficialKind",
    "OfficialLayer",
    "OfficialValues",
    "collect",
    "degree_codes",
    "layer_from_frame",
    "merge",
    "official_values",
    "read_layer",
]

#: Raster file endings accepted for ``--forest`` (a 0/1 forest raster).
RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img")


@dataclass(frozen=True)
class OfficialKind:
    """One kind of official layer and the indicators it makes official.

    Attributes
    ----------
    name : str
        Keyword of :func:`geo.pipeline.compute_all` (``forest`` …).
    option : str
        The command-line option (``--forest`` …).
    what : str
        What the file is, in messages.
    keys : tuple of str
        Indicators whose value comes from the layer (marked official).
    extent : tuple of str
        Indicators still estimated, but over the official extent (basis ``official extent``).
    help : str
        Help text of the option.
    """

    name: str
    option: str
    what: str
    keys: tuple[str, ...]
    extent: tuple[str, ...] = ()
    help: str = ""


#: The official layers, by keyword.
KINDS = {
    k.name: k
    for k in (
        OfficialKind(
            "redline",
            "--redline",
            "red line",
            ("redline_area", "redline_pct"),
            help="official red-line polygons (else a proxy)",
        ),
        OfficialKind(
            "forest",
            "--forest",
            "official forest land",
            ("forest_area", "forest_cover_pct"),
            help="official forest-land polygons (forest inventory, 三调), or a 0/1 GeoTIFF",
        ),
        OfficialKind(
            "grassland",
            "--grassland",
            "official grassland",
            ("grassland_area",),
            ("grassland_fvc_pct",),
            help="official grassland polygons (extent; grassland cover is averaged over them)",
        ),
        OfficialKind(
            "sandified",
            "--sandified",
            "official sandified land",
            (
                "sandified_area",
                "sandified_pct",
                *(f"sandified_{degree}_area" for degree, _zh in DEGREES),
            ),
            help="sandification-monitoring polygons with a degree field (see --sandified-field)",
        ),
    )
}

#: GB/T 24255 sandification degrees: each accepted spelling → code 1–4 (light … extreme).
DEGREE_CODES: dict[str, int] = {
    name: code
    for code, (en, zh) in enumerate(DEGREES, start=1)
    for name in (en, zh, zh.removesuffix("度"), str(code))
}


@dataclass(frozen=True)
class OfficialLayer:
    """An official layer read and dissolved, ready to intersect with zones.

    Attributes
    ----------
    kind : str
        A key of :data:`KINDS`.
    source : str
        The file (and layer) it came from, for messages and methods.
    classes : dict of int to shapely.Geometry
        Dissolved polygons in :data:`geo.crs.EQUAL_AREA`, by class: ``1`` for a presence
        layer, the degree codes 1–4 for sandified land (disjoint: where the file gives one
        place two degrees, the more severe is kept).
    raster : Path, optional
        A 0/1 forest raster instead of polygons.
    """

    kind: str
    source: str
    classes: dict = field(default_factory=dict)
    raster: Path | None = None

    @functools.cached_property
    def union(self):
        """All classes as one geometry (equal-area CRS), computed once."""
        if len(self.classes) == 1:  # already dissolved
            return next(iter(self.classes.values()))
        return shapely.union_all(list(self.classes.values()))


def degree_codes(values: pd.Series, label: str, field_name: str) -> np.ndarray:
    """Sandification degree codes 1–4 from names (中文/English) or codes.

    Parameters
    ----------
    values : pandas.Series
        The degree field.
    label : str
        The file (and layer), for the message.
    field_name : str
        The field's name, for the message.

    Returns
    -------
    numpy.ndarray
        Codes 1 (light) … 4 (extreme), one per feature.

    Raises
    ------
    geo.errors.DataError
        Values that are not a degree (empty values included), listed.
    """

    def code(value) -> int | None:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return None
        if isinstance(value, (int, float, np.integer, np.floating)) and float(value).is_integer():
            value = int(value)
        return DEGREE_CODES.get(str(value).strip().lower().removesuffix("沙化"))

    codes = [code(v) for v in values]
    bad = sorted({repr(v) for v, c in zip(values, codes, strict=True) if c is None})
    if bad:
        accepted = "轻度/中度/重度/极重度, light/moderate/severe/extreme or 1–4"
        raise DataError(
            f"{label}: field {field_name!r} has values that are not a sandification degree "
            f"({', '.join(bad[:8])}{' …' if len(bad) > 8 else ''}); use {accepted}"
        )
    return np.asarray(codes, dtype=int)


def read_layer(
    kind: str,
    path: str | Path,
    *,
    source_crs: str | None = None,
    field_name: str | None = None,
) -> OfficialLayer:
    """Read an official layer file, dissolve it per class and check it reaches the region.

    Parameters
    ----------
    kind : str
        A key of :data:`KINDS`.
    path : path
        Polygons (any GDAL vector format); for ``forest`` also a 0/1 GeoTIFF.
    source_crs : str, optional
        CRS override (``gcj02`` for Amap coordinates), as for ``--redline``.
    field_name : str, optional
        The degree field of ``sandified`` (required there).

    Returns
    -------
    OfficialLayer

    Raises
    ------
    geo.errors.DataError
        Missing or unreadable file, not a vector (or raster), a bad degree value.
    geo.errors.UsageError
        ``sandified`` without ``field_name``, or a field the file does not have.
    """
    from geo.vectors import read_polygons

    spec = KINDS[kind]
    path = Path(path)
    if kind == "forest" and path.suffix.lower() in RASTER_SUFFIXES:
        return _raster_layer(path, spec)
    if kind == "sandified" and not field_name:
        raise UsageError(
            f"{spec.option} {path} needs --sandified-field NAME: the field holding the degree "
            "(轻度/中度/重度/极重度, light … extreme or 1–4)"
        )
    gdf = read_polygons(path, source_crs=source_crs, what=spec.what)
    label = gdf.attrs.get("source", str(path))
    if kind == "sandified":
        if field_name not in gdf.columns:
            fields = ", ".join(str(c) for c in gdf.columns if c != gdf.geometry.name)
            raise UsageError(
                f"{label} has no field {field_name!r} (its fields: {fields or 'none'}); "
                "give the degree field with --sandified-field"
            )
        codes = degree_codes(gdf[field_name], label, field_name)
    else:
        codes = np.ones(len(gdf), dtype=int)
    return layer_from_frame(kind, gdf, codes, label)


def layer_from_frame(kind: str, gdf: gpd.GeoDataFrame, codes, label: str) -> OfficialLayer:
    """An :class:`OfficialLayer` from polygons and a class code per feature (dissolved).

    Parameters
    ----------
    kind : str
        A key of :data:`KINDS`.
    gdf : geopandas.GeoDataFrame
        Polygons with a CRS.
    codes : array_like of int
        Class of each feature (1 for presence layers, degree 1–4 for sandified land).
    label : str
        The file, for messages.

    Returns
    -------
    OfficialLayer
    """
    geoms = shapely.make_valid(gdf.to_crs(EQUAL_AREA).geometry.to_numpy())
    codes = np.asarray(codes)
    classes = {}
    severe = None  # union of the more severe classes, taken out of the milder ones
    for code in sorted(set(codes.tolist()), reverse=True):
        whole = shapely.union_all(geoms[codes == code])  # overlaps in a class counted once
        if severe is not None:
            kept = shapely.difference(whole, severe)
            shared = (shapely.area(whole) - shapely.area(kept)) / 1e6
            if shared > 1e-6:
                warnings.warn(
                    f"{label}: {shared:,.3f} km² is given two sandification degrees; "
                    "counted once, under the more severe one",
                    GeoWarning,
                    stacklevel=3,
                )
            whole = kept
            severe = shapely.union(severe, whole)
        else:
            severe = whole
        classes[int(code)] = whole
    layer = OfficialLayer(kind, label, dict(sorted(classes.items())))
    _warn_outside(layer)
    return layer


def _raster_layer(path: Path, spec: OfficialKind) -> OfficialLayer:
    """A 0/1 forest raster: checked to open; its classes are checked when summed per zone."""
    import rasterio

    if not path.exists():
        raise DataError(f"{spec.what} file {path} does not exist; check the path")
    try:
        with rasterio.open(path) as ds:
            if ds.crs is None:
                raise DataError(f"{spec.what} raster {path} has no CRS; assign one in a GIS")
    except rasterio.errors.RasterioIOError as exc:
        raise DataError(
            f"{spec.what} {path} is not a readable raster ({exc}); give a 0/1 GeoTIFF"
        ) from None
    return OfficialLayer(spec.name, f"{spec.what} raster {path}", {}, raster=path)


def _warn_outside(layer: OfficialLayer) -> None:
    """Warn when the layer's polygons lie entirely outside the region (its figures are 0)."""
    region = ZoneSet.load("province").equal_area.to_numpy()
    shapely.prepare(region)
    parts = [shapely.get_parts(geom) for geom in layer.classes.values()]
    parts = np.concatenate(parts) if parts else np.empty(0, dtype=object)
    tree = shapely.STRtree(parts)
    if not len(tree.query(region, predicate="intersects")[0]):
        warnings.warn(
            f"{layer.source}: no polygon lies inside the region; every official "
            f"{KINDS[layer.kind].what} figure is 0. Check the file and its CRS (--source-crs)",
            GeoWarning,
            stacklevel=4,
        )


def collect(
    *, source_crs: str | None = None, sandified_field: str | None = None, **given
) -> dict[str, OfficialLayer]:
    """The official layers given by keyword (paths, GeoDataFrames or :class:`OfficialLayer`).

    Parameters
    ----------
    source_crs : str, optional
        CRS override for the files given as paths.
    sandified_field : str, optional
        The degree field of ``sandified`` (a path or a GeoDataFrame).
    **given
        ``forest``, ``grassland``, ``sandified``, ``redline``: each None or a layer.

    Returns
    -------
    dict of str to OfficialLayer
        The layers given, by kind.
    """
    layers = {}
    for kind, value in given.items():
        if value is None:
            continue
        if kind not in KINDS:
            raise UsageError(f"unknown official layer {kind!r}; use one of {', '.join(KINDS)}")
        if isinstance(value, OfficialLayer):
            layers[kind] = value
        elif isinstance(value, gpd.GeoDataFrame):
            label = value.attrs.get("source", f"{KINDS[kind].what} polygons")
            codes = np.ones(len(value), dtype=int)
            if kind == "sandified":
                if sandified_field not in value.columns:
                    raise UsageError(
                        f"{label} has no degree field {sandified_field!r}; give sandified_field"
                    )
                codes = degree_codes(value[sandified_field], label, sandified_field)
            layers[kind] = layer_from_frame(kind, value, codes, label)
        else:
            layers[kind] = read_layer(
                kind, value, source_crs=source_crs, field_name=sandified_field
            )
    return layers


@dataclass
class OfficialValues:
    """Values from official layers for one zone set (see :func:`official_values`).

    Attributes
    ----------
    values : dict of str to numpy.ndarray
        Per indicator id, one value per zone (km² or %).
    basis : dict of str to str
        ``official`` or ``official extent`` per indicator id.
    cells : dict of str to numpy.ndarray
        Grid cells a value estimated over an official extent rests on.
    methods : dict of str to str
        The method of each value, in words.
    """

    values: dict = field(default_factory=dict)
    basis: dict = field(default_factory=dict)
    cells: dict = field(default_factory=dict)
    methods: dict = field(default_factory=dict)


def _clipped(zone_set: ZoneSet, geometry) -> tuple[np.ndarray, np.ndarray]:
    """The pieces of a dissolved ``geometry`` (equal-area CRS) in each zone, and their zone.

    The dissolved polygons are disjoint, so a zone's share is the set of pieces of the
    polygons it meets; a polygon wholly inside is its own piece (no intersection computed),
    which keeps a layer of many small polygons fast.
    """
    zones = zone_set.equal_area.to_numpy()
    parts = shapely.get_parts(geometry)
    parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]  # polygons only
    if not len(parts):
        return np.empty(0, dtype=int), np.empty(0, dtype=object)
    zone, part = shapely.STRtree(parts).query(zones, predicate="intersects")
    shapely.prepare(zones)
    pieces = parts[part]
    cut = ~shapely.contains_properly(zones[zone], pieces)
    pieces[cut] = shapely.intersection(zones[zone[cut]], pieces[cut])
    return zone, pieces


def _areas(zone_set: ZoneSet, geometry) -> np.ndarray:
    """km² of a dissolved ``geometry`` (equal-area CRS) inside each zone."""
    zone, pieces = _clipped(zone_set, geometry)
    area = shapely.area(pieces) if len(pieces) else np.empty(0)
    return np.bincount(zone, weights=area, minlength=len(zone_set.ids)) / 1e6


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(whole > 0, np.minimum(100.0 * part / whole, 100.0), np.nan)


def official_values(
    zone_set: ZoneSet, layers: dict[str, OfficialLayer], *, fvc=None, cache_dir=None
) -> OfficialValues:
    """Each zone's official values from the official layers.

    Areas are the exact polygon intersections in the equal-area CRS (km²); shares are of the
    zone's area (%). With official grassland, grassland cover is the FVC (``fvc``, a raster
    path) averaged over the zone's official grassland, each cell weighted by the ground it
    covers there (basis ``official extent``: the extent is official, the cover estimated).

    Parameters
    ----------
    zone_set : geo.zones.ZoneSet
    layers : dict of str to OfficialLayer
        From :func:`collect`.
    fvc : path, optional
        The FVC raster (needed with ``grassland``).
    cache_dir : path, optional
        Coverage cache folder.

    Returns
    -------
    OfficialValues
        ``values`` by indicator id, ``basis`` (``official`` or ``official extent``),
        ``cells`` (the FVC cells grassland cover rests on), ``methods`` (the method text).
    """
    out = OfficialValues()
    zone_km2 = np.asarray(zone_set.area_km2, dtype="float64")
    for kind, layer in layers.items():
        spec = KINDS[kind]
        name = spec.what if spec.what.startswith("official") else f"official {spec.what}"
        how = f"{name} ({layer.source}), intersected exactly with each zone"
        if layer.raster is not None:
            area = _raster_forest_km2(zone_set, layer, cache_dir)
        else:  # the classes are disjoint: their areas add up
            per_class = {code: _areas(zone_set, geom) for code, geom in layer.classes.items()}
            area = sum(per_class.values(), np.zeros(len(zone_km2)))
        stem = spec.keys[0]
        out.values[stem] = area
        out.methods[stem] = f"area of the {how} (km², equal-area CRS)"
        if kind == "sandified":
            for code, (degree, _zh) in enumerate(DEGREES, start=1):
                key = f"sandified_{degree}_area"
                out.values[key] = per_class.get(code, np.zeros(len(zone_km2)))
                out.methods[key] = f"area of {degree} sandified land of the {how}"
        for key in spec.keys[1:]:
            if key.endswith("_pct"):
                out.values[key] = _share(area, zone_km2)
                out.methods[key] = f"area of the {how} / zone area"
        for key in spec.keys:
            out.basis[key] = "official"
        if spec.extent and fvc is not None:
            mean, cells = _mean_over(zone_set, layer.union, fvc, cache_dir)
            key = spec.extent[0]
            out.values[key], out.cells[key] = mean, cells
            out.basis[key] = "official extent"
            out.methods[key] = (
                f"mean FVC over the {how}, each cell weighted by the ground it covers there"
            )
    return out


def _mean_over(zone_set: ZoneSet, extent, raster, cache_dir) -> tuple[np.ndarray, np.ndarray]:
    """Area-weighted mean of ``raster`` over each zone's part of ``extent``, and its cells."""
    from geo.zonal import zonal_stats

    n = len(zone_set.ids)
    zone, pieces = _clipped(zone_set, extent)
    polygons, index = shapely.get_parts(pieces, return_index=True)
    polygon = shapely.get_type_id(polygons) == 3
    polygons, owner = polygons[polygon], zone[index[polygon]]
    # each zone's pieces as one multipolygon (disjoint pieces of a dissolved layer)
    pieces = np.full(n, None, dtype=object)
    if len(polygons):
        order = np.argsort(owner, kind="stable")
        shapely.multipolygons(polygons[order], indices=owner[order], out=pieces)
    keep = np.array([p is not None and shapely.area(p) > 0 for p in pieces], dtype=bool)
    mean, cells = np.full(n, np.nan), np.zeros(n)
    if keep.any():
        frame = gpd.GeoDataFrame(
            {"zone": np.flatnonzero(keep).astype(str)}, geometry=pieces[keep], crs=EQUAL_AREA
        )
        stats = zonal_stats(frame, raster, stats=("count", "area_mean"), cache_dir=cache_dir)
        mean[keep] = stats["area_mean"].to_numpy()
        cells[keep] = stats["count"].to_numpy()
    return mean, cells


def _raster_forest_km2(zone_set: ZoneSet, layer: OfficialLayer, cache_dir) -> np.ndarray:
    """Forest km² of a 0/1 raster in each zone (exact coverage × cell area)."""
    from geo.zonal import zonal_stats

    table = zonal_stats(
        zone_set.frame, layer.raster, stats=("count",), categorical=True, cache_dir=cache_dir
    )
    found = {c.removeprefix("area_km2_") for c in table.columns if c.startswith("area_km2_")}
    bad = sorted(found - {"0", "1"})
    if bad:
        raise DataError(
            f"{layer.source} holds values {', '.join(bad)}; a forest raster holds 1 (forest) "
            "and 0 (not forest), other cells nodata"
        )
    if "area_km2_1" not in table:
        return np.zeros(len(table))
    return table["area_km2_1"].fillna(0.0).to_numpy()


def merge(values: dict, cells: dict, found: OfficialValues) -> tuple[dict, dict, dict]:
    """Put official values in place of the proxies and keep each proxy beside them.

    Parameters
    ----------
    values, cells : dict
        The proxies by indicator id (values; the cells each rests on).
    found : OfficialValues
        From :func:`official_values`.

    Returns
    -------
    values, cells, basis : dict
        ``values`` with each official value under the indicator's id directly followed by
        the proxy under :func:`geo.indicators.proxy_id`; ``cells`` likewise (official
        values rest on no cells); ``basis`` the basis of each official value.
    """
    merged, counted = {}, dict(cells)
    for key, proxy in values.items():
        if key not in found.values:
            merged[key] = proxy
            continue
        merged[key] = found.values[key]
        merged[proxy_id(key)] = proxy
        if key in counted:
            counted[proxy_id(key)] = counted.pop(key)
        if key in found.cells:
            counted[key] = found.cells[key]
    return merged, counted, dict(found.basis)
