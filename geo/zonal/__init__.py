"""Zonal statistics of rasters over polygon zones, with a reusable coverage cache.

The expensive part of zonal statistics is geometric: which cells each zone
covers, and by how much. That depends only on the zones and on the raster
*grid*, not on the raster values, so it is computed once into a
:class:`Coverage` and reused for every further raster on the same grid
(in memory, or on disk with ``cache_dir``).

Coverage layout
---------------
* **Runs** — for cells lying wholly inside exactly one zone, one run-length
  record per row segment ``(row, start, end, zone)``. This is the label raster
  stored as run-length encoding: its size grows with the zone *perimeters*, not
  with the number of cells (about 10⁵–10⁶ runs for 103 banners at 100 m, a few
  MB, where a uint8 label raster would take 465 MB and an int32 one 1.9 GB).
  Numeric statistics are summed over the runs directly (``numpy.ufunc.reduceat``);
  a label window is expanded from the runs (``numpy.repeat``) only for
  categorical histograms and quantiles.
* **Cells** — a sparse list ``(row, col, zone, weight)`` of every other
  (cell, zone) pair: cells partially covered (``method="exact"``) and cells
  shared by overlapping zones. A cell inside two zones counts for both.

Exact coverages of large jobs are built tile by tile: tiles the zone boundary
does not touch are wholly inside or outside, so exactextract only runs on the
tiles of the boundary ring (see :mod:`geo.zonal.tiling`).

Each raster is then read once, in windows of whole blocks of rows restricted to
the columns the zones touch, and summed with weighted ``numpy.bincount``.

Weights and areas
-----------------
``count``, ``sum``, ``mean``, ``stdev``, ``min``/``max``, ``median`` and
``quantile`` are weighted by the covered share of each cell (its coverage
fraction for ``"exact"``, 0/1 for ``"all_touched"``/``"center"``), as
exactextract does: on a geographic grid ``mean`` gives a cell near the pole the
weight of one near the equator. ``area_mean`` weights each cell by the ground
area it covers (coverage × ellipsoidal cell area), the mean over the *area* of
the zone; on equal-area grids it equals ``mean``. Areas (``*_area_km2``, class
areas and class fractions, ``nodata_fraction``) weight each cell by its
coverage times its ground area (ellipsoidal cell area on geographic grids), so
class areas sum to the valid area of the zone.

Package layout
--------------
:mod:`~geo.zonal.api` (:func:`zonal_stats`, :func:`categorical_long`, input checks) →
:mod:`~geo.zonal.cache` (:data:`coverage_cache`, the one place a call gets its coverage) →
:mod:`~geo.zonal.coverage` (:class:`Coverage`: model, identity, file) built by
:mod:`~geo.zonal.build` (per-zone runs and cells) with :mod:`~geo.zonal.tiling`,
:mod:`~geo.zonal.exact` (exactextract adapters) and :mod:`~geo.zonal.overlaps`; rasters are
read by :mod:`~geo.zonal.stream` into an :mod:`~geo.zonal.accumulate` accumulator (class
counts by :mod:`~geo.zonal.kernels`, tables by :mod:`~geo.zonal.results`, nodata by
:mod:`~geo.zonal.nodata`). Every entry point takes its zones through
:func:`zone_input` (:mod:`~geo.zonal.inputs`); tuning knobs are :func:`set_options`
(:mod:`~geo.zonal.options`).
"""

from __future__ import annotations

from geo.grid import Grid  # noqa: F401  (geo.zonal.Grid, as before the split)
from geo.zonal.accumulate import AREA_COLUMNS, STATS
from geo.zonal.api import categorical_long, zonal_stats
from geo.zonal.cache import CoverageCache, coverage_cache
from geo.zonal.coverage import METHODS, Coverage
from geo.zonal.inputs import ZonesInput, zone_input
from geo.zonal.multi import zonal_stats_each
from geo.zonal.nodata import PLACEHOLDERS, PlaceholderWatch, invalid_mask, nodata_codes
from geo.zonal.options import get_options, set_options
from geo.zonal.xarrays import to_xarray

__all__ = [
    "AREA_COLUMNS",
    "METHODS",
    "PLACEHOLDERS",
    "STATS",
    "Coverage",
    "CoverageCache",
    "PlaceholderWatch",
    "ZonesInput",
    "categorical_long",
    "coverage_cache",
    "get_options",
    "invalid_mask",
    "nodata_codes",
    "set_options",
    "to_xarray",
    "zonal_stats",
    "zonal_stats_each",
    "zone_input",
]

# The public names say where users import them from (reprs, docs, pickles), as numpy does.
for _obj in (
    Coverage,
    CoverageCache,
    PlaceholderWatch,
    ZonesInput,
    categorical_long,
    get_options,
    nodata_codes,
    set_options,
    to_xarray,
    zonal_stats,
    zonal_stats_each,
    zone_input,
):
    _obj.__module__ = __name__
del _obj
