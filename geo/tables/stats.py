"""Zonal statistics of several layers over one zone set as one table, and its long form."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from geo.errors import DataError, GeoWarning, UsageError
from geo.tables.format import in_units
from geo.tables.layernames import name_layers
from geo.tables.write import check_unique_columns

__all__ = ["class_table", "stats_table"]


_LINEAR = ("mean", "area_mean", "min", "max", "median")


def _physical(frame: pd.DataFrame, layer) -> pd.DataFrame:
    """Statistics of stored values → statistics of physical values (value × scale + offset)."""
    if layer.scale == 1 and layer.offset == 0:
        return frame
    out = frame.copy()
    for col in out.columns:
        if col in _LINEAR or col.startswith("quantile_"):
            out[col] = out[col] * layer.scale + layer.offset
        elif col == "stdev":
            out[col] = out[col] * abs(layer.scale)
        elif col == "sum":
            out[col] = out[col] * layer.scale + layer.offset * out["count"]
    return out


def stats_table(
    zones,
    layer_specs,
    stats=("count", "mean"),
    *,
    method: str = "exact",
    unit: str = "km2",
    cache_dir=None,
    quantiles=None,
    dask: dict | None = None,
    context=None,
) -> pd.DataFrame:
    """Zonal statistics of several layers over one zone set, as one table.

    The coverage of the zones is computed once per raster grid and reused for every
    further layer on the same grid.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        From :func:`geo.zones.load`.
    layer_specs : sequence of geo.layers.Layer
    stats : sequence of str
        Statistics of :func:`geo.zonal.zonal_stats` for continuous layers; ``fraction`` and
        ``area`` ask for class fractions and class areas (km², ha or mu) of categorical layers.
    method : {"exact", "all_touched", "center"}
    unit : {"km2", "ha", "mu"}
        Unit of every area column.
    cache_dir : path, optional
        Folder for the on-disk coverage cache.
    quantiles : sequence of float, optional
        Quantiles in [0, 1] for the ``quantile`` statistic.
    dask : dict, optional
        Run on Dask with these options of :func:`geo.scale.zonal_stats_dask`
        (``scheduler``, ``chunks``, ``client``); same numbers as in process.
    context : geo.context.ZonalContext, optional
        A run's coverages: each grid's coverage comes from it instead of ``cache_dir``.

    Returns
    -------
    pandas.DataFrame
        Identifier (``adcode`` or ``zone``), names and level, the further attributes of a
        user's zone file (:func:`geo.zones.user_attributes`; one that would clash with a
        statistics column is renamed ``user_<name>``), then ``<layer>_<stat>`` columns,
        ``<layer>`` being the unique name given by :func:`name_layers`.
        Statistics are of physical values (the layer's scale and offset applied); flagged
        codes (e.g. the NDVI water flag) count as nodata.
    """
    if {"fraction", "area"} & set(stats) and not any(layer.categorical for layer in layer_specs):
        raise UsageError(
            "--stat fraction/area need a class layer (landcover, climate, sandified, landcover_cn, "
            "redline_proxy, or a raster file with --categorical)"
        )
    layer_specs = name_layers(layer_specs)
    from geo.zones import as_zone_set

    id_col = as_zone_set(zones).id_column
    table = pd.DataFrame(zones[[id_col, "name_zh", "name_en", "level"]]).reset_index(drop=True)
    coverages: dict = {}
    for layer in layer_specs:
        frame = _layer_frame(
            zones, layer, stats, method, cache_dir, coverages, quantiles, dask, context
        )
        _warn_partial(frame, layer)
        frame = in_units(_physical(frame, layer), unit)
        frame.columns = [f"{layer.name}_{c}" for c in frame.columns]
        table = pd.concat([table, frame.reset_index(drop=True)], axis=1)
    table = _with_user_attributes(table, zones)
    check_unique_columns(table, "the statistics table")
    return table


def _with_user_attributes(table: pd.DataFrame, zones) -> pd.DataFrame:
    """The user's own zone attributes after the level column (a user file keeps its fields)."""
    from geo.zones import user_attributes

    extra = user_attributes(zones).reset_index(drop=True)
    if extra.columns.empty:
        return table
    taken = set(table.columns)
    extra.columns = [c if c not in taken else f"user_{c}" for c in extra.columns]
    at = list(table.columns).index("level") + 1
    return pd.concat([table.iloc[:, :at], extra, table.iloc[:, at:]], axis=1)


def _warn_partial(frame: pd.DataFrame, layer) -> None:
    """Say when zones reach beyond the raster: their statistics cover only part of them."""
    outside = frame["outside_area_km2"].to_numpy()
    total = outside + frame["valid_area_km2"].to_numpy() + frame["nodata_area_km2"].to_numpy()
    partial = outside > 1e-9 * np.maximum(total, 1.0)
    if partial.any():
        share = 100.0 * (1.0 - outside[partial] / total[partial])
        warnings.warn(
            f"{int(partial.sum())} zone(s) lie partly outside raster {layer.path} (covered share "
            f"as low as {share.min():.1f} %); their statistics describe the covered part only — "
            "see the outside_area column",
            GeoWarning,
            stacklevel=3,
        )


def _layer_frame(
    zones, layer, stats, method, cache_dir, coverages, quantiles, dask=None, context=None
) -> pd.DataFrame:
    import rasterio

    from geo.grid import Grid
    from geo.zonal import zonal_stats
    from geo.zonal.cache import get_coverage

    # class fractions and areas apply to class layers; the other statistics to value layers
    categorical = layer.categorical
    wanted = [s for s in stats if s not in ("fraction", "area")]
    if categorical:
        wanted = [s for s in wanted if s in ("count", "nodata_fraction")]
    try:
        with rasterio.open(layer.path) as ds:
            grid = Grid.from_dataset(ds)
    except rasterio.errors.RasterioIOError as exc:
        raise DataError(f"layer {layer.name!r}: cannot open {layer.path}: {exc}") from None
    key = grid.key()
    if key not in coverages and context is not None:
        coverages[key] = context.coverage(zones, grid, method)
    if key not in coverages:
        coverages[key] = get_coverage(zones, grid, method, None, cache_dir)
    if dask is not None:
        from geo.scale import zonal_stats_dask as zonal_stats
    frame = zonal_stats(
        zones,
        layer.path,
        stats=wanted,
        categorical=categorical,
        coverage=coverages[key],
        method=method,
        quantiles=quantiles,
        nodata_values=tuple(layer.flags),
        **(dask or {}),
    )
    drop = []
    if categorical and "area" not in stats:
        drop += [c for c in frame.columns if c.startswith("area_km2_")]
    if categorical and "fraction" not in stats:
        drop += [c for c in frame.columns if c.startswith("fraction_")]
    return frame.drop(columns=drop)


def class_table(table: pd.DataFrame, layer_specs, unit: str = "km2") -> pd.DataFrame:
    """Long form of the class columns of :func:`stats_table`, with class names.

    Parameters
    ----------
    table : pandas.DataFrame
        A table of :func:`stats_table` with class areas (``--stat area``); its first four
        columns (the identifier and name columns) are kept as keys.
    layer_specs : sequence of geo.layers.Layer
        The layers of the table (class names from their ``classes``).
    unit : {"km2", "ha", "mu"}
        Unit of the table's area columns.

    Returns
    -------
    pandas.DataFrame
        The identifier and name columns, then ``layer``, ``class``, ``class_name``,
        ``area_<unit>`` and ``fraction`` (share of the valid area, 0–1); one row per zone, class
        layer and class with a non-zero area.
    """
    keys = list(table.columns[:4])
    frames = []
    for layer in name_layers(layer_specs):
        prefix = f"{layer.name}_area_{unit}_"
        # only class codes: the columns of a layer named e.g. "<name>_area_km2_map" also
        # start with the prefix
        codes = [
            int(c.removeprefix(prefix))
            for c in table.columns
            if c.startswith(prefix) and c.removeprefix(prefix).lstrip("-").isdigit()
        ]
        for code in codes:
            frac = table.get(f"{layer.name}_fraction_{code}")
            frame = table[keys].copy()
            frame["layer"] = layer.name
            frame["class"] = code
            frame["class_name"] = layer.classes.get(code, "")
            frame[f"area_{unit}"] = table[f"{prefix}{code}"]
            frame["fraction"] = frac if frac is not None else float("nan")
            frames.append(frame[frame[f"area_{unit}"] > 0])
    if not frames:
        raise UsageError("--long needs a class layer with --stat area or --stat fraction")
    order = {zone: i for i, zone in enumerate(table[keys[0]])}
    long = pd.concat(frames, ignore_index=True)
    long = long.assign(_order=long[keys[0]].map(order)).sort_values(["_order", "layer", "class"])
    return long.drop(columns="_order").reset_index(drop=True)
