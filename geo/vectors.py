"""Reading user polygon files (zones, red line, treated land): any GDAL format, any CRS."""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import Transformer

from geo.crs import require_crs, to_wgs84
from geo.errors import CRSError, DataError, GeoWarning, LayerError, ZoneError

__all__ = ["check_gcj02_shift", "read_polygons"]


def read_polygons(
    path: str | Path,
    *,
    layer: str | None = None,
    source_crs: str | None = None,
    what: str = "polygons",
) -> gpd.GeoDataFrame:
    """Read a polygon layer and return it in WGS84.

    Parameters
    ----------
    path : path
        GeoPackage, shapefile, GeoJSON … (anything pyogrio/GDAL reads).
    layer : str, optional
        Layer of a multi-layer file (default: the first).
    source_crs : str, optional
        Override the declared CRS; ``"gcj02"`` for Amap/Gaode coordinates.
    what : str
        What the file is for (``"red line"``, ``"zones"`` …), used in messages.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326; ``attrs["source"]`` names the file and layer.

    Raises
    ------
    geo.errors.DataError
        Missing, unreadable or non-vector file; a folder.
    geo.errors.LayerError
        A layer that does not exist (the message lists those that do).
    geo.errors.ZoneError
        No features, or geometries that are not polygons.
    geo.errors.CRSError
        No CRS (and no ``source_crs``), or coordinates that do not fit the declared CRS.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{what} file {path} does not exist; check the path")
    if path.is_dir() and path.suffix.lower() != ".gdb":
        raise DataError(
            f"{what} {path} is a folder, not a vector file; give the .gpkg/.shp/.geojson"
        )
    try:
        layers = [name for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio.errors.DataSourceError and GDAL errors
        raise DataError(
            f"{what} {path} is not a readable vector file ({exc}); "
            "export it as GeoPackage or GeoJSON"
        ) from None
    if layer is not None and layer not in layers:
        raise LayerError(
            f"{what} {path} has no layer {layer!r}; its layers are: {', '.join(layers)}"
        )
    label = f"{what} {path}" + (f" (layer {layer})" if layer else "")
    try:
        gdf = gpd.read_file(
            path,
            layer=layer or layers[0],
            engine="pyogrio",
            encoding=_shapefile_encoding(path, label),
        )
    except Exception as exc:  # GDAL read errors: truncated files, broken geometries
        if "closed linestring" in str(exc):
            raise ZoneError(
                f"{label} has a polygon ring that is not closed (its last point differs from its "
                "first); close the rings (e.g. QGIS 'Fix geometries') and try again"
            ) from None
        raise DataError(
            f"cannot read {label}: {exc}; the file may be truncated or corrupt"
        ) from None
    if gdf.empty:
        raise ZoneError(f"{label} holds no features; choose a layer with polygons")
    if source_crs is None:
        require_crs(gdf, label)
    gdf = to_wgs84(gdf, source_crs, source=label)
    gdf = _polygons_only(gdf, label)
    gdf.attrs["source"] = label
    return gdf


def _polygons_only(gdf: gpd.GeoDataFrame, label: str) -> gpd.GeoDataFrame:
    """Refuse empty and non-polygon geometries; repair invalid polygons with a warning."""
    geoms = gdf.geometry
    empty = np.flatnonzero(geoms.isna().to_numpy() | geoms.is_empty.to_numpy())
    if empty.size:
        rows = ", ".join(str(i + 1) for i in empty[:10])
        raise ZoneError(f"{label}: feature(s) {rows} have no geometry; delete them or draw them")
    kinds = set(geoms.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise ZoneError(
            f"{label} must hold polygons only, found {sorted(kinds)}; "
            "split the layer or keep its polygons"
        )
    invalid = np.flatnonzero(~geoms.is_valid.to_numpy())
    if invalid.size:
        reasons = shapely.is_valid_reason(geoms.to_numpy()[invalid[:3]])
        warnings.warn(
            f"{label}: {invalid.size} invalid polygon(s) (feature {invalid[0] + 1}: "
            f"{reasons[0]}) repaired with shapely.make_valid; check them in a GIS",
            GeoWarning,
            stacklevel=3,
        )
        fixed = shapely.make_valid(geoms.to_numpy()[invalid])
        # make_valid may return collections with lines: keep the polygonal part
        fixed = [_polygonal(g) for g in fixed]
        gdf = gdf.copy()
        gdf.loc[gdf.index[invalid], gdf.geometry.name] = fixed
    return gdf


def _polygonal(geom):
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _shapefile_encoding(path: Path, label: str) -> str | None:
    """Encoding of a shapefile's attributes when it has no ``.cpg``: UTF-8 or GB18030.

    Desktop GIS in China often writes GBK attributes without a ``.cpg``; GDAL then reads
    them as Latin-1 and Chinese names turn into mojibake. Decide from the raw bytes.
    """
    if path.suffix.lower() != ".shp" or path.with_suffix(".cpg").exists():
        return None
    if path.with_suffix(".CPG").exists():
        return None
    dbf = path.with_suffix(".dbf")
    if not dbf.exists():
        return None
    raw = dbf.read_bytes()
    if len(raw) > 29 and raw[29] != 0:  # a language driver id in the header: GDAL knows
        return None
    if all(b < 0x80 for b in raw[32:]):
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            raw[32:].decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding != "utf-8":
            warnings.warn(
                f"{label}: no .cpg file; attributes decoded as {encoding.upper()} (Chinese). "
                f"Add {path.with_suffix('.cpg').name} containing 'GBK' to make this explicit",
                GeoWarning,
                stacklevel=4,
            )
        return encoding
    raise DataError(
        f"{label}: no .cpg file and the attributes are neither UTF-8 nor GBK/GB18030; "
        f"add {path.with_suffix('.cpg').name} naming the encoding"
    )


@functools.lru_cache(maxsize=1)
def _boundary_segments() -> tuple[shapely.STRtree, np.ndarray]:
    """Every edge of the shipped county boundaries (which include league and province edges)."""
    from geo import boundaries
    from geo.crs import EQUAL_AREA

    polygons = shapely.get_parts(boundaries.load("county").to_crs(EQUAL_AREA).geometry.to_numpy())
    rings = shapely.get_rings(polygons)
    coords, index = shapely.get_coordinates(rings, return_index=True)
    same = index[:-1] == index[1:]
    segments = shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], axis=1))
    return shapely.STRtree(segments), segments


def check_gcj02_shift(gdf: gpd.GeoDataFrame, label: str) -> None:
    """Refuse polygons that match the shipped boundaries only after a GCJ-02 correction.

    Amap-derived boundaries labelled WGS84 are shifted by ≈ 100–700 m. For zone files whose
    edges follow administrative boundaries, the distance from a sample of their vertices to the
    nearest shipped boundary segment is small only after :func:`geo.crs.gcj02_to_wgs84`; then
    the file is GCJ-02. Zones that follow no administrative boundary are left alone.
    """
    from geo.crs import EQUAL_AREA, gcj02_to_wgs84

    xy = shapely.get_coordinates(gdf.geometry.to_numpy())
    if len(xy) == 0:
        return
    sample = xy[np.linspace(0, len(xy) - 1, min(len(xy), 2000)).astype(int)]
    tree, segments = _boundary_segments()
    to_albers = Transformer.from_crs(gdf.crs, EQUAL_AREA, always_xy=True)
    from_wgs84 = Transformer.from_crs("EPSG:4326", EQUAL_AREA, always_xy=True)
    lon, lat = Transformer.from_crs(gdf.crs, "EPSG:4326", always_xy=True).transform(*sample.T)
    given = shapely.points(*to_albers.transform(*sample.T))
    fixed = shapely.points(*from_wgs84.transform(*gcj02_to_wgs84(lon, lat)))
    d_given = tree.query_nearest(given, return_distance=True)[1]
    d_fixed = tree.query_nearest(fixed, return_distance=True)[1]
    del segments
    as_is, corrected = float(np.median(d_given)), float(np.median(d_fixed))
    if as_is > 50.0 and corrected < 0.3 * as_is:
        raise CRSError(
            f"{label} lines up with the shipped boundaries only after a GCJ-02 correction "
            f"(median vertex offset {as_is:.0f} m as given, {corrected:.0f} m corrected; "
            "typical of Amap/Gaode data): add --source-crs gcj02"
        )
