"""Zone geometry made light for the screen.

Coverage simplification that keeps shared edges, fitted to a size budget, moved to GCJ-02 for
the Amap basemap.

A caller drawing several maps of one zone set simplifies it once (:func:`prepare` with
``gcj=False``) and passes the result with ``simplified=True``.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely

from geo.crs import transform_geometry, wgs84_to_gcj02

__all__ = ["SCREEN_TOLERANCE", "id_column", "prepare", "simplify_coverage"]

#: Default simplification tolerance as a fraction of the extent: for a region map about 2 screen
#: pixels at the zoom where one league fills the screen (z7, ≈ 0.005°/px), invisible at the
#: opening zoom; a banner map of Inner Mongolia keeps ≈ 15,000 of its 196,000 vertices.
SCREEN_TOLERANCE = 1 / 3000


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

    Returns
    -------
    numpy.ndarray
        The simplified polygons (object array), in the order of ``geoms``.
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


def prepare(
    gdf: gpd.GeoDataFrame,
    gcj: bool,
    max_vertices: int | None = None,
    *,
    simplified: bool = False,
) -> gpd.GeoDataFrame:
    """The zones in WGS84, simplified for the screen and, for the Amap basemap, in GCJ-02.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Zones in any CRS (set).
    gcj : bool
        Move the geometry to GCJ-02 (coordinates rounded to 5 decimals, about 1 m).
    max_vertices : int, optional
        Raise the tolerance until at most this many vertices remain (see :func:`_fit_geometry`).
    simplified : bool
        The geometry was already simplified by this function (with ``gcj=False``): only
        reproject and shift it. Lets a caller simplify a zone set once for several maps.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with the new geometry (degrees).
    """
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs(4326)
    out = gdf.copy()
    geoms = out.geometry.values
    if not simplified:
        geoms = _fit_geometry(geoms, max_vertices)
    if gcj:
        geoms = transform_geometry(geoms, wgs84_to_gcj02)
        geoms = shapely.transform(geoms, lambda xy: np.round(xy, 5))
    out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=4326))
    return out


def id_column(gdf: gpd.GeoDataFrame) -> str | None:
    """The zone identifier column of a frame to be mapped.

    The one a zone set declared (``attrs["id_column"]``, set by :meth:`geo.zones.ZoneSet.join`),
    else the column a :class:`~geo.zones.ZoneSet` would use for a frame of this kind (``adcode``,
    ``zone``); a frame from elsewhere without its level: the first of ``adcode``, ``zone`` it
    holds, else None (the index identifies the zones).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The zones.

    Returns
    -------
    str or None
    """
    declared = gdf.attrs.get("id_column")
    if declared in gdf.columns:
        return declared
    from geo.zoneset import ID_COLUMNS, level_of

    column = ID_COLUMNS.get(level_of(gdf), "zone")
    if column in gdf.columns:
        return column
    return next((c for c in ("adcode", "zone") if c in gdf.columns), None)
