"""One entry point for the ``zones`` argument of every zonal function: :func:`zone_input`.

A zone set reaches the engine as a GeoDataFrame, or as a zone-set object (e.g.
``geo.zones.ZoneSet``) that carries its own frame and key. :func:`zone_input` turns either into
a :class:`ZonesInput` once per call, so the digest of every vertex that keys the coverage
caches (:func:`zones_digest`) is computed at most once per call, and a zone set that brings
its key is never hashed at all.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geo.errors import CRSError, UsageError, ZoneError

__all__ = ["ZonesInput", "zone_input", "zones_digest", "zones_in_grid_crs"]


def zones_digest(frame: gpd.GeoDataFrame) -> str:
    """SHA-256 of the zone ids, CRS and geometries (WKB, every vertex) of ``frame``.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The zones.

    Returns
    -------
    str
        Hex digest (64 characters).
    """
    h = hashlib.sha256()
    h.update(repr(list(frame.index)).encode())
    h.update((frame.crs.to_wkt() if frame.crs is not None else "").encode())
    for wkb in shapely.to_wkb(np.asarray(frame.geometry.values), byte_order=1):
        h.update(b"\0" if wkb is None else wkb)
    return h.hexdigest()


class ZonesInput:
    """The zones of one call: frame, key and geometry in a grid's CRS.

    The key is computed once; the geometry is reprojected once per CRS.

    Build with :func:`zone_input`; every zonal function accepts one where it accepts a
    GeoDataFrame, and passes it on instead of the frame.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        The zones, indexed by zone id (the index of the result tables).
    """

    def __init__(self, frame: gpd.GeoDataFrame, source: Any = None) -> None:
        self.frame = frame
        self._source = source  # a zone-set object with its own key and geometry_in, or None

    def __len__(self) -> int:
        """The number of zones."""
        return len(self.frame)

    @property
    def crs(self):
        """CRS of the frame (None if unset)."""
        return self.frame.crs

    @property
    def index(self):
        """Zone ids (the frame's index)."""
        return self.frame.index

    @property
    def has_own_key(self) -> bool:
        """Whether the key is the zone set's own (not :func:`zones_digest` of the frame)."""
        return self._source is not None

    @cached_property
    def key(self) -> str:
        """Digest identifying the zones: the zone set's own key, else :func:`zones_digest`.

        Computed on first use, once.
        """
        if self._source is not None:
            return str(self._source.key)
        return zones_digest(self.frame)

    def geometry_in(self, crs) -> np.ndarray:
        """Zone geometries in ``crs`` (object array of shapely geometries), cached per CRS.

        A zone-set object's own ``geometry_in(crs)`` is used when it has one.
        """
        cache = self.__dict__.setdefault("_by_crs", {})
        for known, values in cache.items():
            if known == crs:
                return values
        if self._source is not None and hasattr(self._source, "geometry_in"):
            geoms = self._source.geometry_in(crs)
        elif self.frame.crs != crs:
            geoms = self.frame.geometry.to_crs(crs)
        else:
            geoms = self.frame.geometry
        values = np.array(getattr(geoms, "values", geoms), dtype=object)
        cache[crs] = values
        return values


def zone_input(zones: Any) -> ZonesInput:
    """Normalise the ``zones`` argument of a zonal function (the one place that does).

    Parameters
    ----------
    zones : geopandas.GeoDataFrame, ZonesInput or zone-set object
        Polygon zones with a CRS; or any object with a ``frame`` (GeoDataFrame) and a ``key``
        (str identifying the zones: ids, CRS and geometry), and optionally
        ``geometry_in(crs)``, such as ``geo.zones.ZoneSet``; or what this function returned.

    Returns
    -------
    ZonesInput
        ``zones`` itself when it is one already (so the key is computed once per call).

    Raises
    ------
    UsageError
        ``zones`` is none of these.
    """
    if isinstance(zones, ZonesInput):
        return zones
    if isinstance(zones, gpd.GeoDataFrame):  # before the duck test: a column may be named "key"
        return ZonesInput(zones)
    frame = getattr(zones, "frame", None)
    if isinstance(frame, gpd.GeoDataFrame) and isinstance(getattr(zones, "key", None), str):
        return ZonesInput(frame, source=zones)
    raise UsageError(
        f"zones must be a GeoDataFrame of polygons or a zone set (with .frame and .key); "
        f"got {type(zones).__name__}"
    )


def zones_in_grid_crs(zones: ZonesInput, crs) -> np.ndarray:
    """Zone geometries in ``crs``, checked (object array; missing or empty ones are None).

    Raises
    ------
    CRSError
        The zones have no CRS.
    ZoneError
        No zone, no geometry, or geometries that are not (multi)polygons.
    """
    if zones.crs is None:
        raise CRSError("zones have no CRS; set it with zones.set_crs(...) before zonal_stats")
    if len(zones) == 0:
        raise ZoneError("the zone set is empty (0 zones); nothing to summarise")
    values = zones.geometry_in(crs).copy()
    present = ~(shapely.is_missing(values) | shapely.is_empty(values))
    if not present.any():
        raise ZoneError("every zone geometry is empty or missing; nothing to summarise")
    kinds = set(shapely.get_type_id(values[present]).tolist())
    if not kinds <= {3, 6}:  # Polygon, MultiPolygon
        raise ZoneError("zones must be polygons or multipolygons (got points or lines)")
    values[~present] = None
    return values
