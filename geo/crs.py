"""Coordinate reference systems: the equal-area CRS for areas, GCJ-02 ⇄ WGS84, CRS checks.

Areas are never computed in degrees or in Web Mercator: polygons are projected to
:data:`EQUAL_AREA` (Albers conic equal-area on the WGS84 ellipsoid, standard parallels
25° N and 47° N, central meridian 105° E — the usual choice for China) first.

GCJ-02 (the "Mars" datum of Amap, Tencent and other Chinese web maps) is not a CRS that
PROJ knows: it is WGS84 longitude/latitude plus a published, deliberately irregular
offset of a few hundred metres. :func:`wgs84_to_gcj02` is that forward model (the
widely re-implemented formula, identical to the one in cnmaps 2.1.0 ``cnmaps/geo.py``);
:func:`gcj02_to_wgs84` inverts it by fixed-point iteration to far below a millimetre.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from geo.errors import CRSError

__all__ = [
    "EQUAL_AREA",
    "WGS84",
    "area_km2",
    "gcj02_to_wgs84",
    "is_equal_area",
    "require_crs",
    "to_wgs84",
    "transform_geometry",
    "wgs84_to_gcj02",
]

#: The equal-area CRS used for every area computed from polygons.
EQUAL_AREA = CRS.from_proj4(
    "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +ellps=WGS84 +units=m +no_defs"
)
#: Geographic WGS84 (longitude, latitude order for all arrays in this module).
WGS84 = CRS.from_epsg(4326)

# Krasovsky 1940 semi-major axis and eccentricity² used by the GCJ-02 model.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323

#: Names accepted for GCJ-02 by :func:`to_wgs84` and the ``--source-crs`` option.
GCJ02_NAMES = frozenset({"gcj02", "gcj-02", "gcj_02", "mars", "amap"})


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the GCJ-02 offset (dlon, dlat) in degrees at WGS84 positions."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += common
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += common
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * pi
    magic = 1.0 - _GCJ_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrtmagic * np.cos(radlat) * pi)
    return dlon, dlat


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    # The model applies only inside China's rough box; outside, GCJ-02 equals WGS84.
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 longitude/latitude (degrees) to GCJ-02.

    Parameters
    ----------
    lon, lat : array_like
        WGS84 coordinates in degrees.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        GCJ-02 longitude and latitude in degrees. Points outside China are returned unchanged.
    """
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    dlon, dlat = _gcj_offset(lon, lat)
    inside = _in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_wgs84(
    lon, lat, *, tol_deg: float = 1e-12, max_iter: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 longitude/latitude (degrees) to WGS84 with an exact iterative inverse.

    Starts from the one-step inverse ``w = g − offset(g)`` and repeats
    ``w ← w − (forward(w) − g)`` until the largest correction is below ``tol_deg``
    (1e-12° ≈ 0.1 µm). The offset field is smooth, so this converges in a few steps.

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 coordinates in degrees.
    tol_deg : float
        Convergence tolerance in degrees.
    max_iter : int
        Iteration limit; a :class:`geo.errors.CRSError` is raised if it is reached.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        WGS84 longitude and latitude in degrees.
    """
    glon = np.asarray(lon, dtype="float64")
    glat = np.asarray(lat, dtype="float64")
    dlon, dlat = _gcj_offset(glon, glat)
    wlon, wlat = glon - dlon, glat - dlat
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon, wlat = wlon - elon, wlat - elat
        if glon.size == 0 or max(np.nanmax(np.abs(elon)), np.nanmax(np.abs(elat))) < tol_deg:
            break
    else:
        raise CRSError(
            "GCJ-02 → WGS84 did not converge; are the coordinates longitude/latitude in degrees?"
        )
    outside = ~_in_china(glon, glat)
    return np.where(outside, glon, wlon), np.where(outside, glat, wlat)


def transform_geometry(geoms, func):
    """Apply a ``(lon, lat) → (lon, lat)`` function to every vertex of shapely geometries.

    Parameters
    ----------
    geoms : shapely geometry or array_like of geometries
    func : callable
        :func:`wgs84_to_gcj02` or :func:`gcj02_to_wgs84`.
    """

    def _apply(xy: np.ndarray) -> np.ndarray:
        x, y = func(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, _apply)


def describe(obj: Any) -> str:
    """Return a short name of a data source for error messages (path, layer)."""
    name = getattr(obj, "attrs", {}).get("source") if hasattr(obj, "attrs") else None
    return str(name or getattr(obj, "name", None) or "the input")


def require_crs(obj: Any, source: str | None = None) -> CRS:
    """Return the CRS of a GeoDataFrame/GeoSeries or a rasterio dataset, or raise.

    Parameters
    ----------
    obj : geopandas object or rasterio dataset
    source : str, optional
        Name of the file or layer, used in the error message.

    Raises
    ------
    geo.errors.CRSError
        If the object has no CRS, naming the source and the fix.
    """
    crs = getattr(obj, "crs", None)
    if crs is None or (hasattr(crs, "is_valid") and not crs.is_valid):
        src = source or describe(obj)
        raise CRSError(
            f"{src} has no coordinate reference system; set one (e.g. EPSG:4326 for "
            "longitude/latitude, or --source-crs gcj02 for Amap/Gaode coordinates) or fix the "
            "file (a .prj beside a shapefile)"
        )
    crs = CRS.from_user_input(crs)
    if isinstance(obj, gpd.GeoDataFrame | gpd.GeoSeries) and crs.is_geographic and len(obj):
        xmin, ymin, xmax, ymax = obj.total_bounds
        if xmin < -180.5 or xmax > 360.5 or ymin < -90.5 or ymax > 90.5:
            src = source or describe(obj)
            raise CRSError(
                f"{src} declares geographic {crs.name} but its coordinates reach "
                f"({xmin:.0f}, {ymin:.0f}, {xmax:.0f}, {ymax:.0f}), which are not degrees; "
                "declare the projected CRS the coordinates are really in"
            )
    return crs


# Projection methods that preserve area (matched case-insensitively against the
# PROJ method name), so a projected pixel has the same ground area everywhere.
_EQUAL_AREA_METHODS = (
    "equal area",
    "albers",
    "mollweide",
    "sinusoidal",
    "equal earth",
    "eckert ii",
    "eckert iv",
    "eckert vi",
    "homolosine",
    "hammer",
    "quartic authalic",
    "bonne",
)


def is_equal_area(crs: Any) -> bool:
    """Whether ``crs`` is a projected CRS whose projection method preserves area.

    Parameters
    ----------
    crs : pyproj.CRS, rasterio.crs.CRS or str
        Any CRS definition pyproj understands.

    Returns
    -------
    bool
        True for equal-area projections (Albers, Lambert azimuthal/cylindrical equal area,
        Mollweide, …); False for geographic and other projected CRSs.
    """
    crs = CRS.from_user_input(crs.to_wkt() if hasattr(crs, "to_wkt") else crs)
    if not crs.is_projected or crs.coordinate_operation is None:
        return False
    name = crs.coordinate_operation.method_name.lower()
    return any(key in name for key in _EQUAL_AREA_METHODS)


def to_wgs84(
    gdf: gpd.GeoDataFrame, source_crs: str | None = None, *, source: str | None = None
) -> gpd.GeoDataFrame:
    """Return polygons in WGS84 longitude/latitude.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
    source_crs : str, optional
        Override the declared CRS. ``"gcj02"`` (or ``"amap"``, ``"mars"``) says the
        coordinates are GCJ-02 longitude/latitude whatever the file declares; any other
        value is passed to :class:`pyproj.CRS`.
    source : str, optional
        File/layer name used in error messages.
    """
    if source_crs is not None and source_crs.strip().lower() in GCJ02_NAMES:
        out = gdf.copy()
        out.geometry = gpd.GeoSeries(
            transform_geometry(gdf.geometry.values, gcj02_to_wgs84), index=gdf.index
        )
        return out.set_crs(WGS84, allow_override=True)
    if source_crs is not None:
        try:
            gdf = gdf.set_crs(CRS.from_user_input(source_crs), allow_override=True)
        except Exception as exc:  # pyproj raises its own CRSError subclass
            raise CRSError(
                f"--source-crs {source_crs!r} is not a CRS pyproj understands: {exc}"
            ) from None
    require_crs(gdf, source)
    return gdf.to_crs(WGS84)


def area_km2(geoms: gpd.GeoSeries | gpd.GeoDataFrame) -> np.ndarray:
    """Area of each geometry in km², computed in :data:`EQUAL_AREA`.

    Parameters
    ----------
    geoms : geopandas.GeoSeries or GeoDataFrame
        Polygons in any CRS (which must be set).
    """
    require_crs(geoms)
    series = geoms.geometry if isinstance(geoms, gpd.GeoDataFrame) else geoms
    return series.to_crs(EQUAL_AREA).area.to_numpy() / 1e6
