"""Polygon measures of a zone set: overlay layers inside each zone, zones sharing ground.

Computed on the polygons in the equal-area CRS (:data:`geo.crs.EQUAL_AREA`), not on a grid:
the official layers (red line, treated land) given as polygons, and the overlaps of zone sets
whose zones may share ground (battle parts, a user's zones). Re-exported by
:mod:`geo.indicators`.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import EQUAL_AREA
from geo.zoneset import ZoneSet, as_zone_set

__all__ = ["overlaps", "overlay_area_km2"]


def overlay_area_km2(zones: ZoneSet | gpd.GeoDataFrame, layer: gpd.GeoDataFrame) -> np.ndarray:
    """Area (km²) of ``layer``'s union inside each zone, in the equal-area CRS.

    Parameters
    ----------
    zones : geo.zones.ZoneSet or geopandas.GeoDataFrame
        The zones (any CRS).
    layer : geopandas.GeoDataFrame
        Polygons with a CRS.

    Returns
    -------
    numpy.ndarray
        km² per zone, in zone order.
    """
    union = shapely.make_valid(shapely.union_all(layer.to_crs(EQUAL_AREA).geometry.values))
    if isinstance(zones, ZoneSet):
        geoms = zones.equal_area.values
    else:
        geoms = zones.to_crs(EQUAL_AREA).geometry.values
    return shapely.area(shapely.intersection(geoms, union)) / 1e6


def overlaps(zones: ZoneSet | gpd.GeoDataFrame, min_km2: float = 0.01) -> pd.DataFrame:
    """Which zones of a set overlap which others, and by how much (polygon areas).

    Parameters
    ----------
    zones : geo.zones.ZoneSet or geopandas.GeoDataFrame
        A zone set (see :func:`geo.zones.as_zone_set`).
    min_km2 : float
        Shared areas below this (km²) are slivers of boundary noise and are ignored.

    Returns
    -------
    pandas.DataFrame
        Indexed by the zone identifier: ``overlaps_with`` (``"<id> (<km²> km²); …"``, empty when
        none) and ``overlap_area_km2`` (area of the zone that lies in at least one other
        zone of the set, km² in the equal-area CRS; counted once however many others).
    """
    zone_set = as_zone_set(zones)
    ids = zone_set.ids.to_numpy()
    geoms = shapely.make_valid(zone_set.equal_area.to_numpy())
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    shared = shapely.intersection(geoms[left], geoms[right])
    km2 = shapely.area(shared) / 1e6
    said: list[list[str]] = [[] for _ in ids]
    pieces: list[list] = [[] for _ in ids]
    for i, j, a, g in zip(left, right, km2, shared, strict=True):
        if a < min_km2:
            continue
        said[i].append(f"{ids[j]} ({a:,.1f} km²)")
        said[j].append(f"{ids[i]} ({a:,.1f} km²)")
        pieces[i].append(g)
        pieces[j].append(g)
    area = [shapely.area(shapely.union_all(p)) / 1e6 if p else 0.0 for p in pieces]
    return pd.DataFrame(
        {"overlaps_with": ["; ".join(s) for s in said], "overlap_area_km2": area},
        index=zone_set.ids,
    )
