"""Exact class and group areas of a fine land-cover raster over zones, on its own grid.

The raster is never resampled: the zonal engine (:func:`geo.zonal.zonal_stats`) weighs each
cell of the raster's own grid by its exact covered fraction times its ground area
(ellipsoidal cell area on geographic grids), in any CRS, streamed window by window.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import LayerError
from geo.landcover.schemes import GROUPS, Scheme, load_scheme

__all__ = [
    "check_landcover_raster",
    "class_areas",
    "group_columns",
    "raw_class_areas",
    "summarise",
]

#: Widest class codes the engine histograms (bits): UInt8/Int8, UInt16/Int16.
_MAX_BITS = 16


def check_landcover_raster(path: str | Path) -> dict:
    """Refuse a file that is not a categorical (integer) raster the engine can read.

    Parameters
    ----------
    path : str or Path
        The land-cover GeoTIFF.

    Returns
    -------
    dict
        What :func:`geo.layers.check_raster` returns (CRS, dtype, nodata, shape …).

    Raises
    ------
    geo.errors.DataError, geo.errors.CRSError
        Not a raster file, unreadable, no CRS or no geotransform.
    geo.errors.LayerError
        Float values, or integers wider than 16 bits.
    """
    from geo.layers import check_raster

    info = check_raster(path, what="land-cover raster (--landcover)")
    dtype = np.dtype(info["dtype"])
    if dtype.kind not in "ui":
        raise LayerError(
            f"land-cover raster {path} holds {dtype.name} values, not class codes; a land-cover "
            "map stores integer classes (e.g. CLCD 1-9): give the categorical product, or "
            f"convert it: `gdal_translate -ot Byte {path} classes.tif`"
        )
    if dtype.itemsize * 8 > _MAX_BITS:
        raise LayerError(
            f"land-cover raster {path} stores classes as {dtype.name}; class areas need 8- or "
            f"16-bit codes: `gdal_translate -ot UInt16 {path} classes.tif`"
        )
    return info


def raw_class_areas(zones, raster: str | Path, *, coverage=None, cache_dir=None) -> pd.DataFrame:
    """Per-zone area of every class code of ``raster`` (the zonal engine's class areas).

    Parameters
    ----------
    zones : geopandas.GeoDataFrame or zone set
        Polygon zones, any CRS (reprojected to the raster's).
    raster : str or Path
        Categorical raster (integer codes).
    coverage : geo.zonal.Coverage, optional
        The zones' coverage on the raster's grid (else the engine's cache).
    cache_dir : path, optional
        On-disk coverage cache (without ``coverage``).

    Returns
    -------
    pandas.DataFrame
        :func:`geo.zonal.zonal_stats` with ``categorical=True``: ``count`` (coverage-weighted
        valid cells), ``area_km2_<code>`` and ``fraction_<code>`` per class (km², 0–1),
        ``valid_area_km2``, ``nodata_area_km2``, ``outside_area_km2`` (km²).
    """
    from geo.zonal import zonal_stats

    return zonal_stats(
        zones, raster, ("count",), categorical=True, coverage=coverage, cache_dir=cache_dir
    )


def group_columns(raw: pd.DataFrame, scheme: Scheme, raster) -> pd.DataFrame:
    """Group areas from the class areas of :func:`raw_class_areas`, checked against the scheme.

    Parameters
    ----------
    raw : pandas.DataFrame
        Class areas (``area_km2_<code>`` columns, km²).
    scheme : Scheme
        The codes of each group.
    raster : str or Path
        The raster, for the message of an unlisted code.

    Returns
    -------
    pandas.DataFrame
        Same index: ``<group>_area_km2`` for every group but ``nodata`` (km²), and
        ``land_area_km2`` (their sum: the area of classified land, water included).

    Raises
    ------
    geo.errors.DataError
        A code present inside the zones is not listed by the scheme.
    """
    present = {
        int(c.removeprefix("area_km2_"))
        for c in raw.columns
        if c.startswith("area_km2_") and (raw[c].to_numpy() > 0).any()
    }
    scheme.check_codes(present, raster)
    out = pd.DataFrame(index=raw.index)
    for group in GROUPS[:-1]:  # every group but nodata
        cols = [f"area_km2_{c}" for c in scheme.codes(group) if f"area_km2_{c}" in raw]
        out[f"{group}_area_km2"] = raw[cols].sum(axis=1) if cols else 0.0
    out["land_area_km2"] = out.sum(axis=1)
    return out


def class_areas(
    zones, raster: str | Path, scheme: str | Path | Scheme, *, coverage=None, cache_dir=None
) -> pd.DataFrame:
    """Exact per-zone areas of the land-cover groups of a fine raster, on its own grid.

    The raster is never resampled: every cell of its own grid counts with its covered
    fraction (exact, exactextract's definition) times its ground area (ellipsoidal area of
    the cell on geographic grids; pixel area on projected grids, which should then be
    equal-area), in any CRS; the raster is streamed in windows.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame or zone set
        Polygon zones, any CRS.
    raster : str or Path
        Land-cover GeoTIFF of integer class codes (8 or 16 bits).
    scheme : str, path or Scheme
        A shipped scheme name (``clcd``, ``worldcover``, ``glc_fcs30``, ``igbp``) or a CSV
        table (``code,name,group``); see :func:`geo.landcover.load_scheme`.
    coverage : geo.zonal.Coverage, optional
        The zones' coverage on the raster's grid, to reuse.
    cache_dir : path, optional
        On-disk coverage cache.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``zones``: ``<group>_area_km2`` for each group of
        :data:`geo.landcover.GROUPS` but ``nodata`` (km²), ``land_area_km2`` (km²),
        ``forest_cover_pct`` ((forest + shrub forest) / land area, %), ``cells`` (fine
        cells, coverage-weighted), ``outside_area_km2`` (part of the zone beyond the raster,
        km²), ``nodata_area_km2`` (nodata and fill cells inside the zone, km²), then the
        class areas ``area_km2_<code>`` (km²).

    Raises
    ------
    geo.errors.UsageError
        Unknown scheme name.
    geo.errors.DataError
        Not a raster, or a class code inside the zones that the scheme does not list.
    geo.errors.LayerError
        A raster of float values (not class codes).

    Examples
    --------
    >>> from geo.landcover import class_areas
    >>> from geo.zones import ZoneSet
    >>> areas = class_areas(ZoneSet.load("league"), "CLCD_v01_2022.tif", "clcd")  # doctest: +SKIP
    >>> areas[["forest_area_km2", "grassland_area_km2", "cropland_area_km2"]]  # doctest: +SKIP
    """
    scheme = load_scheme(scheme)
    check_landcover_raster(raster)
    raw = raw_class_areas(zones, raster, coverage=coverage, cache_dir=cache_dir)
    return summarise(raw, scheme, raster)


def summarise(raw: pd.DataFrame, scheme: Scheme, raster) -> pd.DataFrame:
    """The table of :func:`class_areas` from the engine's class areas (``raw``)."""
    groups = group_columns(raw, scheme, raster)
    # a zone with no classified cell (beyond the raster, or fill only) has no value, not 0 km²
    groups.loc[~(groups["land_area_km2"].to_numpy() > 0), :] = np.nan
    forest = groups["forest_area_km2"] + groups["shrub_forest_area_km2"]
    land = groups["land_area_km2"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(land > 0, 100.0 * forest.to_numpy() / land, np.nan)
    groups["forest_cover_pct"] = np.minimum(pct, 100.0)  # sums in another order: last bit
    groups["cells"] = raw["count"].to_numpy()
    groups["outside_area_km2"] = raw["outside_area_km2"].to_numpy()
    fill = [f"area_km2_{c}" for c in scheme.codes("nodata") if f"area_km2_{c}" in raw]
    nodata = raw["nodata_area_km2"].to_numpy() if "nodata_area_km2" in raw else 0.0
    groups["nodata_area_km2"] = nodata + raw[fill].sum(axis=1).to_numpy()
    classes = raw[[c for c in raw.columns if c.startswith("area_km2_")]]
    return pd.concat([groups, classes], axis=1)
