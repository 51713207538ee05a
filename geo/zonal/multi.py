"""Many layers, one call: a list of files, a stack, a multi-band file or an xarray DataArray.

The layers are grouped by grid; each grid gets its coverage once (from the process cache,
:mod:`geo.zonal.cache`) and its layers are read in one pass over the windows
(:func:`geo.zonal.stream.stream_layers`), so a 25-year series costs one coverage and one
read of each layer, with memory independent of the number of layers. Each layer's sums are
exactly those of a single-layer :func:`geo.zonal.zonal_stats` call on it (same windows, same
order); :func:`layer_table` lays the per-layer tables out long (tidy) or wide.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio

from geo.errors import LayerError, UsageError
from geo.grid import Grid
from geo.zonal.accumulate import make_spec
from geo.zonal.api import check_band, check_categorical, check_dtype, check_overlap, warn_no_valid
from geo.zonal.cache import get_coverage
from geo.zonal.coverage import Coverage, check_method
from geo.zonal.inputs import zone_input
from geo.zonal.options import OPTIONS
from geo.zonal.stream import open_raster, stream_layers
from geo.zonal.xarrays import DataArrayReader, is_xarray, to_xarray

__all__ = [
    "LayerSource",
    "is_many",
    "layer_sources",
    "layer_table",
    "zonal_stats_each",
    "zonal_stats_many",
]

LAYOUTS = ("long", "wide")


@dataclass(frozen=True)
class LayerSource:
    """One layer of a many-layer call: its label, where it is read from, and its band.

    Attributes
    ----------
    label : object
        Year (stack), file stem (list of files), band number (multi-band file) or the
        coordinate along a DataArray's layer dimension.
    raster : str, os.PathLike or dataset
        A file path, an open rasterio dataset or a :class:`DataArrayReader`.
    band : int
        1-based band of ``raster``.
    """

    label: object
    raster: object
    band: int


def is_many(raster, bands) -> bool:
    """Whether ``zonal_stats(zones, raster, bands=bands)`` summarises several layers."""
    from geo.stack import Stack

    return bands is not None or isinstance(raster, list | tuple | Stack) or is_xarray(raster)


def layer_sources(raster, bands=None, band: int = 1) -> tuple[str, list[LayerSource]]:
    """The layers of a many-layer ``raster`` argument, and the name of its layer dimension.

    Parameters
    ----------
    raster : list of paths or datasets, geo.stack.Stack, str or os.PathLike, or xarray
        A list of files (labelled by file stem, dimension ``layer``), a stack (by year,
        ``year``), a multi-band file with ``bands`` (by band number, ``band``) or a
        DataArray/one-variable Dataset with one layer dimension besides y and x (by its
        coordinate, named as the dimension).
    bands : sequence of int, optional
        The bands of a multi-band file (1-based).
    band : int, default 1
        The band read from each file of a list.

    Returns
    -------
    (str, list of LayerSource)

    Raises
    ------
    UsageError
        An empty list; ``bands`` with something other than one file; a bad DataArray.
    CRSError
        A DataArray without CRS.
    """
    from geo.stack import Stack

    if isinstance(raster, Stack):
        triples = zip(raster.years, raster.paths, raster.bands, strict=True)
        return "year", [LayerSource(y, p, b) for y, p, b in triples]
    if is_xarray(raster):
        reader = DataArrayReader(raster)
        picked = range(1, reader.count + 1) if bands is None else bands
        return reader.dim, [LayerSource(reader.labels[b - 1], reader, b) for b in picked]
    if isinstance(raster, list | tuple):
        if bands is not None:
            raise UsageError("bands= selects bands of one multi-band file, not of a list of files")
        if not raster:
            raise UsageError("the list of rasters is empty; give at least one file")
        names = [_stem(r) for r in raster]
        if len(set(names)) < len(names):  # same stem in two folders: keep the paths apart
            names = [str(getattr(r, "name", r)) for r in raster]
        return "layer", [LayerSource(n, r, band) for n, r in zip(names, raster, strict=True)]
    if bands is None or isinstance(bands, str | bytes) or not len(bands):
        raise UsageError(
            f"bands= must list the band numbers to summarise, e.g. [1, 2, 3]; got {bands!r}"
        )
    return "band", [LayerSource(int(b), raster, int(b)) for b in bands]


def _stem(raster) -> str:
    return Path(str(getattr(raster, "name", raster))).stem


def zonal_stats_each(
    zones,
    raster,
    stats: Sequence[str] = ("count", "mean"),
    *,
    categorical: bool = False,
    band: int = 1,
    bands: Sequence[int] | None = None,
    method: str = "exact",
    coverage: Coverage | None = None,
    cache_dir: str | os.PathLike | None = None,
    quantiles: Sequence[float] | None = None,
    window_rows: int | None = None,
    nodata_values: Sequence[float] = (),
) -> tuple[str, list[tuple[object, pd.DataFrame]]]:
    """The table of each layer of a many-layer raster, one coverage and one pass per grid.

    Parameters are those of :func:`geo.zonal.zonal_stats` (``raster`` and ``bands`` as in
    :func:`layer_sources`). ``coverage`` is used for the grid it was built on.

    Returns
    -------
    (str, list of (label, pandas.DataFrame))
        The layer dimension's name, and per layer (input order) its label and the table
        ``zonal_stats`` gives for it alone (one row per zone).

    Raises
    ------
    DataError, CRSError, LayerError, ZoneError, UsageError
        As :func:`geo.zonal.zonal_stats`, naming the layer's file; and
        :class:`~geo.errors.LayerError` for categorical layers of different integer types.
    """
    spec = make_spec(stats, quantiles, categorical)
    check_method(method)
    zones = zone_input(zones)
    dim, sources = layer_sources(raster, bands, band)
    env = rasterio.Env(
        GDAL_CACHEMAX=OPTIONS["gdal_cachemax_mb"], GDAL_NUM_THREADS=str(OPTIONS["read_threads"])
    )
    with ExitStack() as stack:
        stack.enter_context(env)
        layers = _open_layers(sources, stack, categorical)
        groups: dict[str, list[int]] = {}
        grids: dict[str, Grid] = {}
        for k, (ds, _) in enumerate(layers):
            grid = Grid.from_dataset(ds)
            key = grid.north_up().key()
            grids.setdefault(key, grid)
            groups.setdefault(key, []).append(k)
        if coverage is not None and not any(
            coverage.grid.same_as(g, any_orientation=True) for g in grids.values()
        ):
            get_coverage(zones, next(iter(grids.values())), method, coverage, cache_dir)  # raises
        frames: list[pd.DataFrame | None] = [None] * len(layers)
        for key, members in groups.items():
            grid = grids[key]
            given = (
                coverage if coverage and coverage.grid.same_as(grid, any_orientation=True) else None
            )
            cov = get_coverage(zones, grid, method, given, cache_dir)
            check_overlap(cov, layers[members[0]][0])
            group = [layers[k] for k in members]
            accs = stream_layers(group, cov, spec, window_rows, tuple(nodata_values))
            for k, (ds, b), acc in zip(members, group, accs, strict=True):
                warn_no_valid(acc, ds.name)
                scale, offset = ds.scales[b - 1], ds.offsets[b - 1]
                frames[k] = acc.frame(zones.index, cov.outside_area_km2, scale, offset)
    return dim, [(s.label, f) for s, f in zip(sources, frames, strict=True)]


def _open_layers(sources: list[LayerSource], stack: ExitStack, categorical: bool) -> list:
    """``(dataset, band)`` of every layer, each file opened once and every layer checked."""
    opened: dict[str, object] = {}
    layers = []
    for src in sources:
        key = str(src.raster) if isinstance(src.raster, str | os.PathLike) else id(src.raster)
        if key not in opened:
            opened[key] = open_raster(src.raster, stack)
        ds = opened[key]
        check_band(ds, src.band)
        check_dtype(ds, src.band)
        check_categorical(ds, src.band, categorical)
        layers.append((ds, src.band))
    if categorical:
        kinds = {ds.dtypes[b - 1] for ds, b in layers}
        if len(kinds) > 1:
            d0, b0 = layers[0]
            first = d0.dtypes[b0 - 1]
            other = next((ds, b) for ds, b in layers if ds.dtypes[b - 1] != first)
            raise LayerError(
                f"class layers of one call must share one integer type: {d0.name} band {b0} "
                f"is {d0.dtypes[b0 - 1]} but {other[0].name} band {other[1]} is "
                f"{other[0].dtypes[other[1] - 1]}; a series mixing types usually mixes "
                "products or codings — convert the layers to one type (gdal_translate -ot)"
            )
    return layers


def layer_table(
    dim: str, results: list[tuple[object, pd.DataFrame]], index: pd.Index, layout: str = "long"
) -> pd.DataFrame:
    """The per-layer tables of :func:`zonal_stats_each` as one table.

    Parameters
    ----------
    dim : str
        Name of the layer column (``year``, ``layer``, ``band`` or a DataArray's dimension).
    results : list of (label, pandas.DataFrame)
        Per layer, its label and its one-row-per-zone table.
    index : pandas.Index
        The zone ids; the zone column is named after the index (``zone`` when unnamed).
    layout : {"long", "wide"}, default "long"
        ``long``: tidy, columns zone, ``dim``, ``stat``, ``value`` (layer by layer, zone by
        zone, statistics in table order). ``wide``: the per-layer tables stacked, indexed by
        zone, with the ``dim`` column first. A class present in any layer gets its
        ``area_km2_<c>`` (0 km² where absent) and ``fraction_<c>`` columns in every layer.

    Returns
    -------
    pandas.DataFrame
        With ``attrs`` ``layer_dim``, ``zone_column`` and ``layout`` (read by
        :func:`geo.zonal.to_xarray`).
    """
    if layout not in LAYOUTS:
        raise UsageError(f"layout must be one of {', '.join(LAYOUTS)}; got {layout!r}")
    zone = index.name if index.name is not None else "zone"
    parts = [frame.assign(**{dim: [label] * len(frame)}) for label, frame in results]
    wide = pd.concat(parts, sort=False)
    wide = wide[[dim, *_column_order(wide.columns.drop(dim))]].copy()
    _fill_absent_classes(wide)
    wide.index = pd.Index(np.tile(index.to_numpy(), len(results)), name=zone)
    attrs = {"layer_dim": dim, "zone_column": zone, "layout": layout}
    if layout == "wide":
        wide.attrs.update(attrs)
        return wide
    stats = list(wide.columns.drop(dim))
    k = len(stats)
    long = pd.DataFrame(
        {
            zone: np.repeat(wide.index.to_numpy(), k),
            dim: np.repeat(wide[dim].to_numpy(), k),
            "stat": np.tile(np.asarray(stats, dtype=object), len(wide)),
            "value": wide[stats].to_numpy(dtype=np.float64).ravel(),
        }
    )
    long.attrs.update(attrs)
    return long


def _column_order(columns: pd.Index) -> list[str]:
    """Statistics first (as computed), then class areas and fractions by class code."""
    area = sorted((c for c in columns if c.startswith("area_km2_")), key=_class_code)
    frac = sorted((c for c in columns if c.startswith("fraction_")), key=_class_code)
    classes = set(area) | set(frac)
    return [c for c in columns if c not in classes] + area + frac


def _class_code(column: str) -> int:
    return int(column.rsplit("_", 1)[1])


def _fill_absent_classes(wide: pd.DataFrame) -> None:
    """A class absent from a layer covers 0 km² of it (0 % of a zone with valid cells)."""
    valid = wide["valid_area_km2"].to_numpy() > 0
    for col in wide.columns:
        if col.startswith("area_km2_"):
            wide[col] = wide[col].fillna(0.0)
        elif col.startswith("fraction_"):
            values = wide[col].to_numpy(copy=True)
            values[np.isnan(values) & valid] = 0.0
            wide[col] = values


def zonal_stats_many(zones, raster, stats, *, layout: str | None, as_xarray: bool, **kwargs):
    """:func:`geo.zonal.zonal_stats` of many layers.

    :func:`zonal_stats_each`, then :func:`layer_table` (``layout`` default ``long``), or
    :func:`geo.zonal.to_xarray`.
    """
    if layout is not None and layout not in LAYOUTS:
        raise UsageError(f"layout must be one of {', '.join(LAYOUTS)}; got {layout!r}")
    zones = zone_input(zones)
    dim, results = zonal_stats_each(zones, raster, stats, **kwargs)
    table = layer_table(dim, results, zones.index, layout or "long")
    return to_xarray(table) if as_xarray else table
