"""Reading user polygon files (zones, red line, treated land): any GDAL format, any CRS."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio

from geo.crs import require_crs, to_wgs84
from geo.errors import DataError, LayerError, ZoneError

__all__ = ["read_polygons"]


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
    gdf = gpd.read_file(path, layer=layer or layers[0], engine="pyogrio")
    if gdf.empty:
        raise ZoneError(f"{label} holds no features; choose a layer with polygons")
    if source_crs is None:
        require_crs(gdf, label)
    gdf = to_wgs84(gdf, source_crs, source=label)
    kinds = set(gdf.geometry.geom_type.dropna())
    if not kinds or not kinds <= {"Polygon", "MultiPolygon"}:
        raise ZoneError(f"{label} must hold polygons, found {sorted(kinds) or 'no geometry'}")
    gdf.attrs["source"] = label
    return gdf
