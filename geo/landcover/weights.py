"""Fine-to-coarse fractional aggregation: a coarse layer averaged over a fine land-cover class.

Method
------
For a zone *z* and a cell *k* of the coarse grid (the FVC or NDVI layer), the weight is the
ground area of the chosen class (grassland) that lies inside the zone and inside the cell::

    W[z, k] = Σ  c[f, z] · A[f]     over the fine cells f of the class whose centre lies in k

where ``c[f, z]`` is the exact covered fraction of fine cell *f* by zone *z* (the zonal
engine's coverage on the fine raster's own grid, exactextract's definition) and ``A[f]`` its
ground area (ellipsoidal on geographic grids). The coarse layer's mean over the class is then
``Σ_k W[z, k] · v[k] / Σ_k W[z, k]`` over the cells *k* with a valid value ``v[k]``.

* Fine cells are assigned to the coarse cell that holds their centre (centres are
  reprojected with pyproj when the CRSs differ; any CRS for either raster). When the grids
  nest (every fine cell inside one coarse cell, e.g. 30 m in 0.05° with aligned edges), the
  weights are exact: ``W[z, k]`` is the area of the class inside zone *z* and cell *k*.
  Otherwise a fine cell that straddles a coarse edge counts wholly for the cell holding its
  centre: the error is at most half a fine cell along the coarse edges and averages out.
* ``Σ_k W[z, k]`` equals the class area of the zone from the fine raster (same coverage,
  same cell areas), less the part whose centres fall outside the coarse grid.
* Nothing is resampled: the fine raster is read once, in windows of whole rows (memory:
  one window of the fine raster plus the sparse weights, at most one entry per zone and
  coarse cell touched).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
from rasterio.windows import Window

from geo.errors import DataError
from geo.grid import Grid, read_window

__all__ = ["WeightSums", "Weights", "class_weights", "wanted_codes", "weighted_mean"]


@dataclass(frozen=True)
class Weights:
    """Ground area of a fine class inside each (zone, coarse cell) pair.

    Attributes
    ----------
    grid : geo.grid.Grid
        The coarse grid, north-up (rows north to south).
    n_zones : int
        Number of zones.
    zone : numpy.ndarray
        int64 zone position (0-based) of each pair.
    cell : numpy.ndarray
        int64 flat index ``row * width + col`` of the coarse cell of each pair.
    area_m2 : numpy.ndarray
        float64 ground area of the class inside the zone and the coarse cell, m².
    outside_m2 : numpy.ndarray
        float64 per zone: area of the class whose fine cells' centres fall outside the
        coarse grid (no coarse value for them), m².
    """

    grid: Grid
    n_zones: int
    zone: np.ndarray
    cell: np.ndarray
    area_m2: np.ndarray
    outside_m2: np.ndarray

    def total_km2(self) -> np.ndarray:
        """Area of the class in each zone, inside and outside the coarse grid, km²."""
        inside = np.bincount(self.zone, weights=self.area_m2, minlength=self.n_zones)
        return (inside + self.outside_m2) / 1e6


def _reduce(keys: list[np.ndarray], sums: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Merge partial (key, sum) lists into one sorted pair of arrays."""
    if not keys:
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    key = np.concatenate(keys)
    uniq, inv = np.unique(key, return_inverse=True)
    return uniq, np.bincount(inv, weights=np.concatenate(sums), minlength=len(uniq))


class _Locator:
    """Coarse flat cell index of fine cell centres (reprojected when the CRSs differ)."""

    def __init__(self, fine: Grid, coarse: Grid) -> None:
        self.fine, self.coarse = fine, coarse
        self.transformer = None
        if not (fine.crs == coarse.crs or fine.crs.to_wkt() == coarse.crs.to_wkt()):
            from pyproj import Transformer

            self.transformer = Transformer.from_crs(
                fine.crs.to_wkt(), coarse.crs.to_wkt(), always_xy=True
            )

    def __call__(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Flat coarse index of each fine cell (row, col); -1 where outside the coarse grid."""
        tf, tc = self.fine.transform, self.coarse.transform
        x = tf.c + (cols + 0.5) * tf.a
        y = tf.f + (rows + 0.5) * tf.e
        if self.transformer is not None:
            x, y = self.transformer.transform(x, y)
        with np.errstate(invalid="ignore"):
            cc = np.floor((np.asarray(x) - tc.c) / tc.a)
            rc = np.floor((np.asarray(y) - tc.f) / tc.e)
        h, w = self.coarse.shape
        ok = np.isfinite(cc) & np.isfinite(rc) & (cc >= 0) & (cc < w) & (rc >= 0) & (rc < h)
        flat = np.full(rows.shape, -1, dtype=np.int64)
        flat[ok] = rc[ok].astype(np.int64) * w + cc[ok].astype(np.int64)
        return flat


def _class_cells(cov, a: np.ndarray, hit: np.ndarray, r0: int, c0: int):
    """``(row, col, zone, weight)`` of the covered fine cells of the class in one window.

    Runs (cells wholly inside one zone) are matched without expanding them: each class
    cell is looked up among the runs of its row (sorted, non-overlapping).
    """
    r1 = r0 + a.shape[0]
    w = a.shape[1] + c0
    rr, cc = np.nonzero(hit)
    rr = rr.astype(np.int64) + r0
    cc = cc.astype(np.int64) + c0
    s = cov.runs_in(r0, r1)
    # runs clipped to the window's columns (a window may be one column piece of its rows)
    start, end = cov.run_start[s].astype(np.int64), cov.run_end[s].astype(np.int64)
    keep = (end > c0) & (start < w)
    run_row = cov.run_row[s][keep].astype(np.int64)
    start = run_row * w + np.maximum(start[keep], c0)
    end = run_row * w + np.minimum(end[keep], w)
    key = rr * w + cc
    at = np.searchsorted(start, key, side="right") - 1
    inside = (at >= 0) & (key < end[np.maximum(at, 0)])
    out_r, out_c = [rr[inside]], [cc[inside]]
    out_z = [cov.run_zone[s][keep][at[inside]].astype(np.int64)]
    out_w = [np.ones(int(inside.sum()))]
    s = cov.cells_in(r0, r1)
    pr, pc = cov.cell_row[s].astype(np.int64), cov.cell_col[s].astype(np.int64)
    took = np.zeros(pr.shape, dtype=bool)
    mine = (pc >= c0) & (pc < w)
    took[mine] = hit[pr[mine] - r0, pc[mine] - c0]
    out_r.append(pr[took])
    out_c.append(pc[took])
    out_z.append(cov.cell_zone[s][took].astype(np.int64))
    out_w.append(cov.cell_weight[s][took])
    return tuple(np.concatenate(x) for x in (out_r, out_c, out_z, out_w))


class WeightSums:
    """Running sums of :class:`Weights`, fed window by window with the fine raster's values.

    Shared by :func:`class_weights` (its own read) and :func:`geo.landcover.scan.scan` (one
    read for the class areas and the weights).

    Parameters
    ----------
    cov : geo.zonal.Coverage
        The zones' coverage on the fine raster's grid.
    fine : geo.grid.Grid
        The fine raster's grid.
    coarse : geo.grid.Grid
        The grid of the coarse layer to be averaged, any CRS.
    wanted : numpy.ndarray
        The class codes to weigh, in the fine raster's dtype, fill values removed.
    """

    def __init__(self, cov, fine: Grid, coarse: Grid, wanted: np.ndarray) -> None:
        self.cov, self.wanted = cov, wanted
        fine, self.coarse = fine.north_up(), coarse.north_up()
        self.row_area = fine.row_cell_area_m2()
        self.locate = _Locator(fine, self.coarse)
        self.outside = np.zeros(cov.n_zones)
        self.keys: list[np.ndarray] = []
        self.sums: list[np.ndarray] = []
        self.pending = 0

    def add(self, a: np.ndarray, r0: int, c0: int) -> None:
        """Add the window ``a`` of the fine raster (north-up rows from ``r0``, columns ``c0``)."""
        if self.wanted.size == 0:
            return
        cov, coarse = self.cov, self.coarse
        rows, cols, zone, weight = _class_cells(cov, a, np.isin(a, self.wanted), r0, c0)
        area = weight * self.row_area[rows]
        flat = self.locate(rows, cols)
        off = flat < 0
        self.outside += np.bincount(zone[off], weights=area[off], minlength=cov.n_zones)
        self.keys.append(zone[~off] * (coarse.height * coarse.width) + flat[~off])
        self.sums.append(area[~off])
        self.pending += self.keys[-1].size
        if self.pending > 8_000_000:  # bound memory: merge the partial sums
            key, total = _reduce(self.keys, self.sums)
            self.keys, self.sums, self.pending = [key], [total], key.size

    def result(self) -> Weights:
        """The weights of every window added."""
        key, total = _reduce(self.keys, self.sums)
        n = self.coarse.height * self.coarse.width
        return Weights(self.coarse, self.cov.n_zones, key // n, key % n, total, self.outside)


def wanted_codes(codes, dtype, fill: np.ndarray) -> np.ndarray:
    """``codes`` in the raster's ``dtype``, without its fill values ``fill``."""
    return np.setdiff1d(np.asarray(list(codes), dtype=dtype), fill)


def class_weights(
    zones, raster: str | Path, codes, coarse: Grid, *, coverage=None, cache_dir=None
) -> Weights:
    """Ground area of the fine classes ``codes`` inside each zone and each coarse cell.

    See the module docstring for the method (fine cells assigned to the coarse cell that
    holds their centre; exact when the grids nest).

    Parameters
    ----------
    zones : geopandas.GeoDataFrame or zone set
        Polygon zones, any CRS.
    raster : str or Path
        The fine land-cover raster (integer class codes), any CRS.
    codes : sequence of int
        The class codes to weigh (e.g. the grassland codes of a scheme).
    coarse : geo.grid.Grid
        The grid of the coarse layer to be averaged, any CRS.
    coverage : geo.zonal.Coverage, optional
        The zones' coverage on the fine raster's grid (else from the engine's cache).
    cache_dir : path, optional
        On-disk coverage cache (without ``coverage``).

    Returns
    -------
    Weights
    """
    from geo.zonal import coverage_cache, nodata_codes
    from geo.zonal.stream import rows_per_window

    with rasterio.open(raster) as ds:
        fine = Grid.from_dataset(ds).north_up()
        cov = coverage or coverage_cache.get(zones, fine, "exact", cache_dir)
        if not cov.grid.same_as(fine, any_orientation=True):
            raise DataError(f"the coverage given is not on the grid of raster {raster}")
        dtype = np.dtype(ds.dtypes[0])
        fill = nodata_codes(dtype, ds.nodata, (), ds.name)
        sums = WeightSums(cov, fine, coarse, wanted_codes(codes, dtype, fill))
        h = fine.height
        span = cov.col_span(0, h)
        width = (span[1] - span[0]) if span else 1
        step = rows_per_window(ds, 1, width, None)
        for r0 in range(0, h, step):
            r1 = min(r0 + step, h)
            span = cov.col_span(r0, r1)
            if span is None or sums.wanted.size == 0:
                continue
            c0, c1 = span
            sums.add(read_window(ds, 1, Window(c0, r0, c1 - c0, r1 - r0)), r0, c0)
    return sums.result()


def weighted_mean(weights: Weights, raster: str | Path, *, nodata_values=()) -> pd.DataFrame:
    """Per-zone mean of a coarse raster, each cell weighted by :class:`Weights`.

    Parameters
    ----------
    weights : Weights
        From :func:`class_weights` on this raster's grid.
    raster : str or Path
        The coarse raster (band 1), values scaled by the file's scale and offset.
    nodata_values : sequence of float
        Stored values that count as nodata besides the band's own.

    Returns
    -------
    pandas.DataFrame
        One row per zone (positional index): ``mean`` (raster units; NaN without a valid
        weighted cell), ``area_km2`` (the class area the mean rests on: weights of the
        cells with a valid value, km²) and ``cells`` (that area in coarse cells: the sum of
        ``W / A[k]``, ``A[k]`` the coarse cell's ground area).

    Raises
    ------
    DataError
        The raster is not on the weights' grid.
    """
    from geo.zonal import invalid_mask, nodata_codes

    grid = weights.grid
    n = weights.n_zones
    sum_wv, sum_w, cells = np.zeros(n), np.zeros(n), np.zeros(n)
    with rasterio.open(raster) as ds:
        if not Grid.from_dataset(ds).same_as(grid, any_orientation=True):
            raise DataError(
                f"raster {raster} is not on the grid the land-cover weights were made for"
            )
        codes = nodata_codes(ds.dtypes[0], ds.nodata, tuple(nodata_values), ds.name)
        scale, offset = ds.scales[0], ds.offsets[0]
        row_area = grid.row_cell_area_m2(warn=False)
        order = np.argsort(weights.cell, kind="stable")
        cell, zone, area = weights.cell[order], weights.zone[order], weights.area_m2[order]
        rows, cols = cell // grid.width, cell % grid.width
        if cell.size:
            c0, c1 = int(cols.min()), int(cols.max()) + 1
            step = max(4_000_000 // (c1 - c0), 1)
            first, last = int(rows[0]), int(rows[-1])
            edges = np.append(np.arange(first, last + 1, step), last + 1)
            bounds = np.searchsorted(rows, edges)
            for lo, hi in itertools.pairwise(bounds):
                if hi <= lo:
                    continue
                r0, r1 = int(rows[lo]), int(rows[hi - 1]) + 1
                a = read_window(ds, 1, Window(c0, r0, c1 - c0, r1 - r0))
                bad = invalid_mask(a, codes, np.empty(a.shape, dtype=bool))
                pick = (rows[lo:hi] - r0, cols[lo:hi] - c0)
                ok = ~bad[pick]
                v = a[pick][ok].astype(np.float64) * scale + offset
                z, w = zone[lo:hi][ok], area[lo:hi][ok]
                sum_wv += np.bincount(z, weights=w * v, minlength=n)
                sum_w += np.bincount(z, weights=w, minlength=n)
                cells += np.bincount(z, weights=w / row_area[rows[lo:hi][ok]], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(sum_w > 0, sum_wv / sum_w, np.nan)
    return pd.DataFrame({"mean": mean, "area_km2": sum_w / 1e6, "cells": cells})
