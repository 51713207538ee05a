"""The public entry point :func:`zonal_stats`, its input checks, and :func:`categorical_long`."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from contextlib import ExitStack

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio

from geo.errors import GeoWarning, LayerError, UsageError, ZoneError
from geo.grid import Grid
from geo.zonal.accumulate import Accumulator, make_spec
from geo.zonal.cache import get_coverage
from geo.zonal.coverage import Coverage, check_method
from geo.zonal.inputs import ZonesInput, zone_input
from geo.zonal.options import OPTIONS
from geo.zonal.stream import open_raster, stream

__all__ = [
    "categorical_long",
    "check_band",
    "check_categorical",
    "check_dtype",
    "check_overlap",
    "warn_no_valid",
    "zonal_stats",
]


def zonal_stats(
    zones: gpd.GeoDataFrame | ZonesInput,
    raster,
    stats: Sequence[str] = ("count", "mean"),
    *,
    categorical: bool = False,
    band: int = 1,
    method: str = "exact",
    coverage: Coverage | None = None,
    cache_dir: str | os.PathLike | None = None,
    quantiles: Sequence[float] | None = None,
    window_rows: int | None = None,
    nodata_values: Sequence[float] = (),
    bands: Sequence[int] | None = None,
    layout: str | None = None,
    as_xarray: bool = False,
) -> pd.DataFrame:
    """Summarise a raster band, or many layers in one pass, over polygon zones.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame or zone set
        Polygon zones with a CRS; reprojected to the raster CRS (the raster is
        never resampled). Zones may overlap: a cell inside two zones counts for
        both. A zone set is any object with a ``frame`` (GeoDataFrame) and a
        ``key`` (str), such as ``geo.zones.ZoneSet`` (see :func:`geo.zonal.zone_input`).
    raster : str, os.PathLike, rasterio dataset, list of them, Stack or xarray.DataArray
        The raster to summarise; or many layers at once: a list of files (layers labelled
        by file stem), a :class:`geo.stack.Stack` (by year), a multi-band file with
        ``bands`` (by band number), or a rioxarray-georeferenced ``DataArray`` (or
        one-variable ``Dataset``) with one layer dimension besides y and x (by its
        coordinate, e.g. ``year`` or ``time``). The layers are grouped by grid: one
        coverage per grid (from :data:`coverage_cache`), and the layers of a grid are
        read in ONE pass over its windows, reads overlapped with the sums; memory does
        not grow with the number of layers. Each layer's numbers equal those of a call
        on that layer alone.
    stats : sequence of str, default ("count", "mean")
        Any of :data:`STATS`. ``count`` is the coverage-weighted number of
        valid cells; ``sum``, ``mean``, ``stdev`` (population), ``min``,
        ``max``, ``median`` and ``quantile`` follow exactextract's
        coverage-weighted definitions (raster units); ``area_mean`` is the mean
        weighted by covered ground area (coverage × cell area in m², raster
        units: on geographic grids cells shrink towards the poles, on
        equal-area grids it equals ``mean``); ``nodata_fraction`` is the share
        of the covered area holding nodata. The area columns ``valid_area_km2``,
        ``nodata_area_km2`` and ``outside_area_km2`` (km²) are always returned.
    categorical : bool, default False
        Also return, per class value ``c``, ``area_km2_<c>`` (km²) and
        ``fraction_<c>`` (share of the valid covered area). Needs an integer
        raster of at most 16 bits. See :func:`categorical_long`.
    band : int, default 1
        1-based band number.
    method : {"exact", "all_touched", "center"}, default "exact"
        Cell weights: covered fraction of each cell (exactextract), or 0/1 as
        rasterstats with ``all_touched=True``/``False``.
    coverage : Coverage, optional
        A coverage built for these zones on this raster's grid, to reuse. Without
        it the coverage comes from :data:`coverage_cache` (kept in memory for the
        process: a second call with the same zones on the same grid skips the
        build), else from ``cache_dir``, else it is built.
    cache_dir : str or os.PathLike, optional
        Directory where coverages are saved and looked up (ignored when
        ``coverage`` is given).
    quantiles : sequence of float, optional
        Quantiles in [0, 1] to compute (columns ``quantile_<100q>``).
    window_rows : int, optional
        Rows per streamed window (rounded up to whole blocks); default chosen
        for about four million cells per window.
    nodata_values : sequence of float, optional
        Further stored values that count as nodata besides the band's nodata
        (e.g. a water flag such as 254 in the Copernicus NDVI layer).
    bands : sequence of int, optional
        Bands (1-based) of one multi-band file to summarise as layers (or positions along
        a DataArray's layer dimension).
    layout : {"long", "wide"}, optional
        Many layers only. ``long`` (default): a tidy table with columns zone (named
        after ``zones``' index, else ``zone``), the layer column (``year``, ``layer``,
        ``band`` or the DataArray's dimension), ``stat`` and ``value``. ``wide``: the
        one-row-per-zone tables of the layers stacked, indexed by zone, the layer column
        first. Class columns of a class seen in any layer are in every layer (0 km²
        where absent).
    as_xarray : bool, default False
        Return an :class:`xarray.Dataset` (one variable per statistic, dimensions zone
        and, for many layers, the layer dimension) instead; see :func:`to_xarray`.

    Returns
    -------
    pandas.DataFrame or xarray.Dataset
        One raster: one row per zone, indexed like ``zones``. Zones without a valid
        cell have ``count == 0`` and NaN ``mean``, ``min``, ... . Many layers: see
        ``layout``.

    Raises
    ------
    DataError
        Missing, unreadable or corrupt raster; raster not on the coverage's grid.
    CRSError
        Raster or zones without a CRS.
    LayerError
        Band that does not exist; categorical on a non-integer raster.
    ZoneError
        Empty zone set, non-polygon zones, zones not overlapping the raster,
        coverage built for other zones.
    """
    from geo.zonal.multi import is_many

    if is_many(raster, bands):
        from geo.zonal.multi import zonal_stats_many

        options = dict(categorical=categorical, band=band, bands=bands, method=method)
        options.update(coverage=coverage, cache_dir=cache_dir, quantiles=quantiles)
        options.update(window_rows=window_rows, nodata_values=nodata_values)
        return zonal_stats_many(zones, raster, stats, layout=layout, as_xarray=as_xarray, **options)
    if layout not in (None, "wide"):
        raise UsageError(
            f"layout={layout!r} is for many layers; one raster gives one row per zone "
            "(pass a list, e.g. [path], for the long layout)"
        )
    table = _zonal_stats_one(
        zones, raster, stats, categorical, band, method, coverage, cache_dir, quantiles,
        window_rows, nodata_values,
    )  # fmt: skip
    if as_xarray:
        from geo.zonal.xarrays import to_xarray

        return to_xarray(table)
    return table


def _zonal_stats_one(
    zones, raster, stats, categorical, band, method, coverage, cache_dir, quantiles,
    window_rows, nodata_values,
) -> pd.DataFrame:  # fmt: skip
    """:func:`zonal_stats` of one raster band (one row per zone)."""
    spec = make_spec(stats, quantiles, categorical)
    check_method(method)
    zones = zone_input(zones)  # the one normalisation: its key is hashed at most once
    env = rasterio.Env(
        GDAL_CACHEMAX=OPTIONS["gdal_cachemax_mb"], GDAL_NUM_THREADS=str(OPTIONS["read_threads"])
    )
    with ExitStack() as stack:
        stack.enter_context(env)
        ds = open_raster(raster, stack)
        check_band(ds, band)
        check_dtype(ds, band)
        check_categorical(ds, band, categorical)
        grid = Grid.from_dataset(ds)
        cov = get_coverage(zones, grid, method, coverage, cache_dir)
        check_overlap(cov, ds)
        acc = stream(ds, band, cov, spec, window_rows, tuple(nodata_values))
        warn_no_valid(acc, ds.name)
        scale, offset = ds.scales[band - 1], ds.offsets[band - 1]
        return acc.frame(zones.index, cov.outside_area_km2, scale, offset)


def categorical_long(wide: pd.DataFrame, zone_name: str = "zone") -> pd.DataFrame:
    """Long form of the class columns of a categorical :func:`zonal_stats` result.

    Parameters
    ----------
    wide : pandas.DataFrame
        Result of ``zonal_stats(..., categorical=True)``.
    zone_name : str, default "zone"
        Name of the zone column (taken from the index).

    Returns
    -------
    pandas.DataFrame
        Columns ``zone``, ``class``, ``area_km2`` (km²), ``fraction``; one row
        per zone and class with non-zero area, sorted by zone then class.
    """
    area_cols = [c for c in wide.columns if c.startswith("area_km2_")]
    classes = [int(c.removeprefix("area_km2_")) for c in area_cols]
    area = wide[area_cols].to_numpy()
    frac = wide[[f"fraction_{c}" for c in classes]].to_numpy()
    zi, ci = np.nonzero(area > 0)
    return pd.DataFrame(
        {
            zone_name: wide.index.to_numpy()[zi],
            "class": np.asarray(classes, dtype=np.int64)[ci],
            "area_km2": area[zi, ci],
            "fraction": frac[zi, ci],
        }
    )


def check_categorical(ds, band: int, categorical: bool) -> None:
    """Categorical statistics need an integer band of at most 16 bits (histograms)."""
    if categorical and (
        ds.dtypes[band - 1][0] not in "ui"
        or np.dtype(ds.dtypes[band - 1]).itemsize * 8 > OPTIONS["int_hist_max_bits"]
    ):
        raise LayerError(
            f"categorical statistics need an integer raster of at most 16 bits; "
            f"band {band} of {ds.name} is {ds.dtypes[band - 1]}"
        )


def check_dtype(ds, band: int) -> None:
    """Refuse complex bands: no statistic of this toolkit is defined for them."""
    dtype = ds.dtypes[band - 1]
    if np.dtype(dtype).kind == "c":
        raise LayerError(
            f"band {band} of raster {ds.name} holds complex numbers ({dtype}); zonal statistics "
            "need real values: export the amplitude or the real part, e.g. "
            "`gdal_calc.py -A in.tif --calc='abs(A)' --type=Float32 --outfile=out.tif`"
        )


def warn_no_valid(acc: Accumulator, name) -> None:
    """Say it when no covered cell holds a value: every statistic would be empty."""
    if not (acc.count > 0).any():
        warnings.warn(
            f"raster {name} has no valid cell inside the zones (every covered cell is nodata); "
            "its statistics are empty — check the raster, its nodata value and --nodata",
            GeoWarning,
            stacklevel=3,
        )


def check_overlap(cov: Coverage, ds) -> None:
    """At least one zone must intersect the raster's extent."""
    if not cov.touched.any():
        grid = cov.grid
        raise ZoneError(
            f"no zone overlaps raster {ds.name} (bounds {_fmt_bounds(grid.bounds)}, CRS "
            f"{grid.crs}); check that the zones and the raster cover the same region"
        )


def _fmt_bounds(bounds) -> str:
    return "(" + ", ".join(f"{v:.6g}" for v in bounds) + ")"


def check_band(ds, band: int) -> None:
    """Refuse a band the raster does not have (:class:`~geo.errors.LayerError`)."""
    if not isinstance(band, int | np.integer) or not 1 <= band <= ds.count:
        raise LayerError(
            f"raster {ds.name} has {ds.count} band(s); band {band!r} does not exist "
            f"(bands are numbered 1 to {ds.count})"
        )
