"""Fine land cover in: exact class areas and fine-to-coarse aggregation, any grid and CRS.

A user's land-cover map (CLCD 30 m, ESA WorldCover 10 m, GLC_FCS30 30 m, MODIS IGBP, or any
integer class raster with a scheme table) replaces the shipped 0.05° MODIS map where it
matters: per zone, forest (China's definition) and shrub-forest, grassland and cropland
areas are the exact class areas of the raster on its own grid (never resampled), and
grassland cover is the FVC averaged over the fine grassland area (each FVC cell weighted by
the exact grassland area inside it and inside the zone).

Layout: :mod:`~geo.landcover.schemes` (scheme tables, :func:`load_scheme`),
:mod:`~geo.landcover.areas` (:func:`class_areas`), :mod:`~geo.landcover.weights`
(:func:`class_weights`, :func:`weighted_mean`), :mod:`~geo.landcover.scan` (both from one
read of the raster), :mod:`~geo.landcover.run` (:class:`LandCover`, the run's input, used by
:func:`geo.pipeline.compute_all`).

Examples
--------
>>> from geo import landcover
>>> landcover.load_scheme("clcd").codes("grassland")
(4,)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo.landcover.areas import check_landcover_raster, class_areas
from geo.landcover.run import OVERRIDDEN, LandCover, as_landcover
from geo.landcover.schemes import CN_CODES, GROUP_NAMES, GROUPS, SCHEMES, Scheme, load_scheme
from geo.landcover.weights import Weights, class_weights, weighted_mean

__all__ = [
    "CN_CODES",
    "GROUPS",
    "GROUP_NAMES",
    "OVERRIDDEN",
    "SCHEMES",
    "LandCover",
    "Scheme",
    "Weights",
    "as_landcover",
    "check_landcover_raster",
    "class_areas",
    "class_mean",
    "class_weights",
    "load_scheme",
    "weighted_mean",
]


def class_mean(
    zones,
    coarse: str | Path,
    raster: str | Path,
    scheme: str | Path | Scheme,
    group: str = "grassland",
    *,
    nodata_values=(),
) -> pd.DataFrame:
    """Per-zone mean of a coarse raster over the fine area of one land-cover group.

    Each coarse cell is weighted by the exact ground area of the group's fine cells inside
    it and inside the zone (fine cells assigned to the coarse cell holding their centre;
    exact when the grids nest; see :mod:`geo.landcover.weights`). Either raster may be in
    any CRS; neither is resampled.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame or zone set
        Polygon zones, any CRS.
    coarse : str or Path
        The layer to average (e.g. FVC in %, NDVI), band 1, file scale/offset applied.
    raster : str or Path
        The fine land-cover raster (integer class codes).
    scheme : str, path or Scheme
        Its scheme (:func:`load_scheme`).
    group : str
        One of :data:`GROUPS` (default ``grassland``).
    nodata_values : sequence of float
        Stored values of ``coarse`` that count as nodata besides its own.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``zones``: ``mean`` (units of ``coarse``), ``area_km2`` (the group's
        area with a valid coarse value, km²) and ``cells`` (that area in coarse cells).

    Examples
    --------
    >>> from geo.landcover import class_mean
    >>> class_mean(leagues, "fvc.tif", "CLCD_v01_2022.tif", "clcd")  # doctest: +SKIP
    """
    import rasterio

    from geo.grid import Grid
    from geo.zonal import zone_input

    zones = zone_input(zones)
    scheme = load_scheme(scheme)
    check_landcover_raster(raster)
    with rasterio.open(coarse) as ds:
        grid = Grid.from_dataset(ds)
    weights = class_weights(zones, raster, scheme.codes(group), grid)
    table = weighted_mean(weights, coarse, nodata_values=nodata_values)
    return table.set_axis(zones.index)
