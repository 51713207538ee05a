"""Change between two epochs of a layer, per zone.

* Class layers (land cover, sandified degree …): the transition matrix — the area (km²) that
  went from class *i* to class *j* in each zone — computed exactly (coverage-weighted) by one
  zonal pass over the combined code ``before × 256 + after`` of two 8-bit class rasters.
* Continuous layers (FVC, NDVI …): the area-weighted mean of each epoch over the cells valid
  in *both*, and their difference, so that a cloud gap in one year does not shift the mean.

Both epochs must be on the same grid (the statistics never resample a raster).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio

from geo.errors import DataError, UsageError
from geo.grid import Grid
from geo.layers import check_raster

__all__ = ["continuous_change", "transition_matrix"]


def _read_pair(before: Path, after: Path) -> tuple[np.ndarray, np.ndarray, dict, Grid]:
    check_raster(before, what="'before' raster")
    check_raster(after, what="'after' raster")
    with rasterio.open(before) as a, rasterio.open(after) as b:
        grid_a, grid_b = Grid.from_dataset(a), Grid.from_dataset(b)
        if not grid_a.same_as(grid_b):
            raise DataError(
                f"{before} and {after} are not on the same grid "
                f"({grid_a.shape} vs {grid_b.shape}); "
                "warp one onto the other's grid first (gdalwarp -te/-tr, nearest for classes)"
            )
        first, second = a.read(1, masked=True), b.read(1, masked=True)
        profile = a.profile
    return first, second, profile, grid_a


def _write(array: np.ndarray, profile: dict, nodata, folder: Path, name: str) -> Path:
    path = folder / name
    prof = {**profile, "dtype": array.dtype.name, "nodata": nodata, "count": 1, "driver": "GTiff"}
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(array, 1)
    return path


def transition_matrix(
    zones: gpd.GeoDataFrame, before: str | Path, after: str | Path, *, coverage=None
) -> pd.DataFrame:
    """Area that changed from each class to each class, per zone (exact coverage weights).

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
    before, after : path
        Integer class rasters (≤ 8 bit) on the same grid.

    Returns
    -------
    pandas.DataFrame
        Long form: ``zone``, ``from_class``, ``to_class``, ``area_km2``; one row per non-zero
        transition. Cells that are nodata in either epoch are left out.
    """
    from geo.zonal import zonal_stats

    first, second, profile, _ = _read_pair(Path(before), Path(after))
    for arr, path in ((first, before), (second, after)):
        if arr.dtype.kind not in "ui" or arr.dtype.itemsize > 1:
            raise UsageError(
                f"{path} is {arr.dtype}; a transition matrix needs 8-bit class rasters"
            )
    invalid = np.ma.getmaskarray(first) | np.ma.getmaskarray(second)
    code = first.filled(0).astype("uint16") * 256 + second.filled(0).astype("uint16")
    nodata = 65535
    code = np.where(invalid, nodata, code).astype("uint16")
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(code, profile, nodata, Path(tmp), "transitions.tif")
        wide = zonal_stats(zones, path, stats=("count",), categorical=True, coverage=coverage)
    cols = [c for c in wide.columns if c.startswith("area_km2_")]
    long = wide[cols].stack().reset_index()
    long.columns = ["zone", "code", "area_km2"]
    codes = long["code"].str.removeprefix("area_km2_").astype(int)
    long["from_class"], long["to_class"] = codes // 256, codes % 256
    long = long[long["area_km2"] > 0]
    return long[["zone", "from_class", "to_class", "area_km2"]].reset_index(drop=True)


def continuous_change(
    zones: gpd.GeoDataFrame, before: str | Path, after: str | Path, *, coverage=None
) -> pd.DataFrame:
    """Area-weighted mean of each epoch over cells valid in both, and the change, per zone.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``zones``: ``mean_before``, ``mean_after``, ``change`` (after − before, in
        the rasters' unit) and ``valid_area_km2`` (area valid in both epochs).
    """
    from geo.zonal import zonal_stats

    first, second, profile, _ = _read_pair(Path(before), Path(after))
    invalid = np.ma.getmaskarray(first) | np.ma.getmaskarray(second)
    invalid |= ~np.isfinite(first.filled(0).astype("float64"))
    invalid |= ~np.isfinite(second.filled(0).astype("float64"))
    nodata = -3.0e38
    with tempfile.TemporaryDirectory() as tmp:
        means = []
        for name, arr in (("before", first), ("after", second)):
            data = np.where(invalid, nodata, arr.filled(0).astype("float64")).astype("float64")
            path = _write(data, profile, nodata, Path(tmp), f"{name}.tif")
            means.append(zonal_stats(zones, path, stats=("count", "mean"), coverage=coverage))
    out = pd.DataFrame(
        {"mean_before": means[0]["mean"], "mean_after": means[1]["mean"]}, index=zones.index
    )
    out["change"] = out["mean_after"] - out["mean_before"]
    out["valid_area_km2"] = means[0]["valid_area_km2"]
    return out
