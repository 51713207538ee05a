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
tiles of the boundary ring (see :func:`_exact_coverage`).

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
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import rasterio
import shapely
from rasterio.features import rasterize
from rasterio.windows import Window

from geo.budget import check_budget
from geo.errors import CRSError, DataError, GeoWarning, LayerError, UsageError, ZoneError
from geo.grid import Grid, read_window

__all__ = [
    "AREA_COLUMNS",
    "METHODS",
    "PLACEHOLDERS",
    "STATS",
    "Coverage",
    "CoverageCache",
    "PlaceholderWatch",
    "categorical_long",
    "coverage_cache",
    "nodata_codes",
    "zonal_stats",
]

METHODS = ("exact", "all_touched", "center")
STATS = (
    "count",
    "sum",
    "mean",
    "area_mean",
    "min",
    "max",
    "stdev",
    "median",
    "quantile",
    "nodata_fraction",
    "valid_area_km2",
    "nodata_area_km2",
    "outside_area_km2",
)
AREA_COLUMNS = ("valid_area_km2", "nodata_area_km2", "outside_area_km2")

_CACHE_FORMAT = 2  # 2: arrays checksummed (sha256 in the metadata)
# GDAL block cache for the streamed read: we never revisit a block, so a small
# cache bounds memory without costing speed.
_GDAL_CACHEMAX_MB = 64
# GDAL threads decoding the blocks of one window read (GeoTIFF, GDAL >= 3.6): the
# decode, not the summing, is the bottleneck of float layers.
_READ_THREADS = "2"
# Target cells per streamed window (before alignment to whole blocks of rows).
_WINDOW_CELLS = 4_000_000
_INT_HIST_MAX_BITS = 16
# Side, in cells, of the tiles of the exact coverage build (see _exact_coverage);
# None makes exactextract cover whole zones.
_EXACT_TILE: int | None = 64
# Fixed cost of one exactextract feature of the tiled build, in cells (see _tiles_cost).
_FEATURE_COST_CELLS = 6000
# Zone windows smaller than this in total (cells) are covered whole by exactextract.
_TILED_MIN_CELLS = 20_000_000
# Threads building the coverage of different zones at once.
_BUILD_THREADS = min(os.cpu_count() or 1, 4)
# Class histograms of run cells with a compiled (numba) kernel when numba imports;
# False forces the numpy path. Both give identical results.
_USE_NUMBA = True
# Threads the compiled histogram kernel splits the runs of a window over.
_HIST_THREADS = min(os.cpu_count() or 1, 2)
# Windows with fewer run cells than this are counted on one thread.
_HIST_SPLIT_CELLS = 1 << 19


# --------------------------------------------------------------------------- coverage


@dataclass(eq=False)
class Coverage:
    """Coverage of a zone set on a raster grid, reusable across rasters.

    Build with :meth:`Coverage.build` (or :meth:`Coverage.load_or_build` for a
    disk cache); pass to :func:`zonal_stats` as ``coverage=``.

    Attributes
    ----------
    grid : Grid
        The grid the coverage was computed on, north-up (:meth:`Grid.north_up`).
    method : str
        ``"exact"``, ``"all_touched"`` or ``"center"``.
    zone_key : str
        Digest of the zone ids and geometries (see :meth:`zones_key`).
    n_zones : int
        Number of zones (rows of the zone table).
    run_row, run_start, run_end, run_zone : numpy.ndarray
        int32 runs of cells wholly inside exactly one zone, sorted by row then
        start; ``end`` is exclusive.
    cell_row, cell_col, cell_zone : numpy.ndarray
        int32 sparse (cell, zone) pairs, sorted by row.
    cell_weight : numpy.ndarray
        float64 weight (covered share of the cell, 0–1] of each pair.
    outside_area_km2 : numpy.ndarray
        float64 area of each zone outside the grid extent, km².
    touched : numpy.ndarray
        bool, whether each zone intersects the grid extent at all.
    """

    grid: Grid
    method: str
    zone_key: str
    n_zones: int
    run_row: np.ndarray
    run_start: np.ndarray
    run_end: np.ndarray
    run_zone: np.ndarray
    cell_row: np.ndarray
    cell_col: np.ndarray
    cell_zone: np.ndarray
    cell_weight: np.ndarray
    outside_area_km2: np.ndarray
    touched: np.ndarray

    def __post_init__(self) -> None:
        h = self.grid.height
        self._run_ptr = np.searchsorted(self.run_row, np.arange(h + 1))
        self._cell_ptr = np.searchsorted(self.cell_row, np.arange(h + 1))
        self._row_cmin, self._row_cmax = self._row_col_span()

    # -- construction -------------------------------------------------------------

    @classmethod
    def build(cls, zones: gpd.GeoDataFrame, grid: Grid, method: str = "exact") -> Coverage:
        """Compute the coverage of ``zones`` on ``grid``.

        Parameters
        ----------
        zones : geopandas.GeoDataFrame
            Polygon zones with a CRS (any CRS; reprojected to the grid's CRS).
        grid : Grid
            Target raster grid.
        method : {"exact", "all_touched", "center"}
            ``"exact"``: partial cells weighted by their covered fraction
            (exactextract). ``"all_touched"``/``"center"``: 0/1 weights from
            GDAL rasterization (every touched cell / cells whose centre is inside).

        Returns
        -------
        Coverage
        """
        _check_method(method)
        grid = grid.north_up()  # coverage rows run north to south, whatever the file's order
        key = cls.zones_key(zones)
        geoms = _zones_in_grid_crs(zones, grid)
        check_budget(
            grid.source or None,
            _coverage_bytes(geoms, grid),
            f"the coverage of {len(zones)} zone(s) on the {grid.height} × {grid.width}-cell grid",
        )
        runs, cells = _coverage_pieces(geoms, grid, method)
        runs, overlap_cells = _resolve_overlaps(*runs)
        cells = [np.concatenate(parts) for parts in zip(cells, overlap_cells, strict=True)]
        box = shapely.box(*grid.bounds)
        order = np.lexsort((cells[1], cells[0]))
        return cls(
            grid=grid,
            method=method,
            zone_key=key,
            n_zones=len(zones),
            run_row=runs[0],
            run_start=runs[1],
            run_end=runs[2],
            run_zone=runs[3],
            cell_row=cells[0][order],
            cell_col=cells[1][order],
            cell_zone=cells[2][order],
            cell_weight=cells[3][order],
            outside_area_km2=_outside_area_km2(geoms, grid),
            touched=np.array([g is not None and g.intersects(box) for g in geoms], dtype=bool),
        )

    @classmethod
    def load_or_build(
        cls,
        zones: gpd.GeoDataFrame,
        grid: Grid,
        method: str = "exact",
        cache_dir: str | os.PathLike | None = None,
    ) -> Coverage:
        """Load the coverage from ``cache_dir`` if saved there, else build and save it.

        The file name is a digest of the zone ids and geometries, the grid and
        the method, so a changed zone set or grid never reuses a stale file. A
        file that cannot be read or fails its checksum (truncated, bit-flipped)
        is deleted and rebuilt, with a :class:`~geo.errors.GeoWarning`; a cache
        folder that cannot be written is said once and the coverage is used
        without being saved.
        """
        if cache_dir is None:
            return cls.build(zones, grid, method)
        _check_method(method)
        path = cls.cache_path(zones, grid, method, cache_dir)
        if path.is_file():
            try:
                cov = cls.load(path, grid)
                if cov.method != method or cov.n_zones != len(zones) or not cov.matches(zones):
                    raise ValueError("saved for other zones or another method")
                return cov
            except _CORRUPT_CACHE as exc:
                warnings.warn(
                    f"ignoring unreadable coverage cache {path} (corrupt: {type(exc).__name__}: "
                    f"{exc}); discarded it and rebuilt the coverage",
                    GeoWarning,
                    stacklevel=2,
                )
                path.unlink(missing_ok=True)
        cov = cls.build(zones, grid, method)
        cov.save_to_cache(zones, grid, cache_dir)
        return cov

    @classmethod
    def cache_path(
        cls, zones: gpd.GeoDataFrame, grid: Grid, method: str, cache_dir: str | os.PathLike
    ) -> Path:
        """File of the coverage of ``zones`` on ``grid`` in the disk cache ``cache_dir``."""
        return Path(cache_dir) / f"coverage-{cls.cache_key(zones, grid, method)[:40]}.npz"

    def save_to_cache(
        self, zones: gpd.GeoDataFrame, grid: Grid, cache_dir: str | os.PathLike
    ) -> None:
        """Save into the disk cache unless already there; an unwritable folder is a warning."""
        path = self.cache_path(zones, grid, self.method, cache_dir)
        if path.is_file():
            return
        try:
            self.save(path)
        except OSError as exc:
            warnings.warn(
                f"cannot write the coverage cache in {cache_dir} ({exc.strerror or exc}); "
                "carrying on without caching — give a writable --cache folder",
                GeoWarning,
                stacklevel=3,
            )

    # -- identity -----------------------------------------------------------------

    @staticmethod
    def zones_key(zones: gpd.GeoDataFrame) -> str:
        """Digest of the zone ids, CRS and geometries (WKB)."""
        h = hashlib.sha256()
        h.update(repr(list(zones.index)).encode())
        h.update((zones.crs.to_wkt() if zones.crs is not None else "").encode())
        for wkb in shapely.to_wkb(np.asarray(zones.geometry.values), byte_order=1):
            h.update(b"\0" if wkb is None else wkb)
        return h.hexdigest()

    @classmethod
    def cache_key(cls, zones: gpd.GeoDataFrame, grid: Grid, method: str) -> str:
        """Digest keying a saved coverage: zones, grid, method and file format."""
        parts = [str(_CACHE_FORMAT), cls.zones_key(zones), grid.key(), method]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

    def matches(self, zones: gpd.GeoDataFrame) -> bool:
        """Whether this coverage was built from exactly these zones."""
        if len(zones) != self.n_zones:
            return False
        # shapely geometries are immutable: the same objects, ids and CRS as last time mean the
        # same zones, without hashing every vertex again for each further layer
        geoms = np.asarray(zones.geometry.values, dtype=object)
        seen = getattr(self, "_seen", None)
        if (
            seen is not None
            and seen[1] == zones.crs
            and seen[2] == list(zones.index)
            and all(a is b for a, b in zip(seen[0], geoms, strict=True))
        ):
            return True
        ok = self.zones_key(zones) == self.zone_key
        if ok:
            self._seen = (geoms.copy(), zones.crs, list(zones.index))
        return ok

    @property
    def nbytes(self) -> int:
        """Memory held by the coverage arrays, bytes."""
        arrays = (
            self.run_row,
            self.run_start,
            self.run_end,
            self.run_zone,
            self.cell_row,
            self.cell_col,
            self.cell_zone,
            self.cell_weight,
        )
        return int(sum(a.nbytes for a in arrays))

    # -- persistence ----------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> Path:
        """Write the coverage to ``path`` (``.npz``) atomically (temp file + rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": _CACHE_FORMAT,
            "method": self.method,
            "zone_key": self.zone_key,
            "n_zones": self.n_zones,
            "grid_key": self.grid.key(),
        }
        meta["sha256"] = _arrays_digest(self._arrays(), meta)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, meta=np.array(json.dumps(meta)), **self._arrays())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, grid: Grid) -> Coverage:
        """Read a coverage written by :meth:`save` for ``grid``.

        Raises
        ------
        ValueError
            If the file is not a coverage of this format for this grid, or its
            arrays do not match the checksum saved with them.
        OSError, EOFError, KeyError, zipfile.BadZipFile
            If the file is truncated or corrupt.
        """
        grid = grid.north_up()
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
            if meta.get("format") != _CACHE_FORMAT or meta.get("grid_key") != grid.key():
                raise ValueError("coverage file is for another grid or format")
            arrays = {name: f[name] for name in f.files if name != "meta"}
        if meta.get("sha256") != _arrays_digest(arrays, meta):
            raise ValueError("checksum mismatch")
        return cls(
            grid=grid,
            method=meta["method"],
            zone_key=meta["zone_key"],
            n_zones=int(meta["n_zones"]),
            **arrays,
        )

    def _arrays(self) -> dict[str, np.ndarray]:
        names = (
            "run_row",
            "run_start",
            "run_end",
            "run_zone",
            "cell_row",
            "cell_col",
            "cell_zone",
            "cell_weight",
            "outside_area_km2",
            "touched",
        )
        return {n: getattr(self, n) for n in names}

    # -- window helpers ---------------------------------------------------------------

    def _row_col_span(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-row first and last+1 column touched by any zone (width, 0 if none)."""
        h, w = self.grid.shape
        cmin = np.full(h, w, dtype=np.int64)
        cmax = np.zeros(h, dtype=np.int64)
        np.minimum.at(cmin, self.run_row, self.run_start)
        np.maximum.at(cmax, self.run_row, self.run_end)
        np.minimum.at(cmin, self.cell_row, self.cell_col)
        np.maximum.at(cmax, self.cell_row, self.cell_col + 1)
        return cmin, cmax

    def col_span(self, r0: int, r1: int) -> tuple[int, int] | None:
        """Columns ``[c0, c1)`` touched by any zone in rows ``[r0, r1)``, or None."""
        c0 = int(self._row_cmin[r0:r1].min())
        c1 = int(self._row_cmax[r0:r1].max())
        return (c0, c1) if c1 > c0 else None

    def runs_in(self, r0: int, r1: int) -> slice:
        """Slice of the run arrays for rows ``[r0, r1)``."""
        return slice(int(self._run_ptr[r0]), int(self._run_ptr[r1]))

    def cells_in(self, r0: int, r1: int) -> slice:
        """Slice of the cell arrays for rows ``[r0, r1)``."""
        return slice(int(self._cell_ptr[r0]), int(self._cell_ptr[r1]))


# What reading a damaged .npz raises (numpy, zipfile, json): the entry is rebuilt.
_CORRUPT_CACHE = (
    OSError,
    EOFError,
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    zipfile.BadZipFile,
    zlib.error,
)


def _arrays_digest(arrays: dict[str, np.ndarray], meta: dict) -> str:
    """SHA-256 of a saved coverage: its metadata (but the digest) and its named arrays
    (names, dtypes, shapes and bytes, in name order)."""
    h = hashlib.sha256()
    h.update(json.dumps({k: v for k, v in meta.items() if k != "sha256"}, sort_keys=True).encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise UsageError(f"unknown zonal method {method!r}; use one of {', '.join(METHODS)}")


def _zones_in_grid_crs(zones: gpd.GeoDataFrame, grid: Grid) -> np.ndarray:
    """Zone geometries reprojected to the grid CRS (array of shapely geometries)."""
    if zones.crs is None:
        raise CRSError("zones have no CRS; set it with zones.set_crs(...) before zonal_stats")
    if len(zones) == 0:
        raise ZoneError("the zone set is empty (0 zones); nothing to summarise")
    geoms = zones.geometry.to_crs(grid.crs) if zones.crs != grid.crs else zones.geometry
    values = np.asarray(geoms.values, dtype=object)
    present = ~(shapely.is_missing(values) | shapely.is_empty(values))
    if not present.any():
        raise ZoneError("every zone geometry is empty or missing; nothing to summarise")
    kinds = set(shapely.get_type_id(values[present]).tolist())
    if not kinds <= {3, 6}:  # Polygon, MultiPolygon
        raise ZoneError("zones must be polygons or multipolygons (got points or lines)")
    values[~present] = None
    return values


# ---- per-zone coverage ---------------------------------------------------------------


def _zone_window(geom, grid: Grid) -> Window | None:
    """Window of whole cells containing ``geom`` (plus a one-cell margin), or None."""
    left, bottom, right, top = grid.bounds
    x0, y0, x1, y1 = geom.bounds
    if x1 <= left or x0 >= right or y1 <= bottom or y0 >= top:
        return None
    inv = ~grid.transform
    cols, rows = zip(*(inv @ (x, y) for x in (x0, x1) for y in (y0, y1)), strict=True)
    # The margin absorbs rounding of the bounds to cell edges.
    row0 = max(int(np.floor(min(rows))) - 1, 0)
    col0 = max(int(np.floor(min(cols))) - 1, 0)
    row1 = min(int(np.ceil(max(rows))) + 1, grid.height)
    col1 = min(int(np.ceil(max(cols))) + 1, grid.width)
    if row1 <= row0 or col1 <= col0:
        return None
    return Window(col0, row0, col1 - col0, row1 - row0)


def _coverage_bytes(geoms: np.ndarray, grid: Grid) -> float:
    """Estimated peak memory of building a coverage, bytes (see :func:`geo.budget.check_budget`).

    Runs grow with the rows of each zone, partial cells with its boundary length in
    cells, the tile classification of the exact build with its window (one box per
    ``_EXACT_TILE``² cells), rasterized strips with ``_WINDOW_CELLS``; the result is
    sorted and concatenated a few times (×4), on ``_BUILD_THREADS`` zones at once.
    """
    cell = min(abs(grid.transform.a), abs(grid.transform.e))
    total = 0.0
    largest = 0.0
    for g in geoms:
        win = None if g is None else _zone_window(g, grid)
        if win is None:
            continue
        rows, cells = float(win.height), float(win.height) * float(win.width)
        boundary = 3.0 * float(shapely.length(g)) / cell
        tiles = cells / float(_EXACT_TILE or 64) ** 2
        total += 4 * (rows * 4 * 16 + boundary * 24)
        largest = max(largest, tiles * 300 + boundary * 64 * 16 / 4)
    return total + largest * _BUILD_THREADS + _WINDOW_CELLS * 4.0


def _mask_runs(mask: np.ndarray, row0: int, col0: int) -> tuple[np.ndarray, ...]:
    """Row runs ``(row, start, end)`` of the True cells of a 2-D mask."""
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    d = np.diff(padded, axis=1)
    srow, scol = np.nonzero(d == 1)
    _, ecol = np.nonzero(d == -1)
    return (
        (srow + row0).astype(np.int32),
        (scol + col0).astype(np.int32),
        (ecol + col0).astype(np.int32),
    )


def _id_runs(cell_id: np.ndarray, width: int) -> tuple[np.ndarray, ...]:
    """Row runs ``(row, start, end)`` of a set of flat cell ids."""
    if len(cell_id) == 0:
        empty = np.empty(0, np.int32)
        return empty, empty, empty
    cell_id = np.sort(cell_id)
    row, col = np.divmod(cell_id, width)
    brk = np.flatnonzero((np.diff(cell_id) != 1) | (np.diff(row) != 0)) + 1
    first = np.r_[0, brk]
    last = np.r_[brk, len(cell_id)] - 1
    return (
        row[first].astype(np.int32),
        col[first].astype(np.int32),
        (col[last] + 1).astype(np.int32),
    )


def _exact_source(grid: Grid):
    """An exactextract raster source with the grid's cells and no values.

    Coverage must not depend on the values (nodata) of any particular raster,
    and reading values would waste I/O, so exactextract gets an all-zero raster.
    """
    from exactextract.raster import RasterSource

    class _GridSource(RasterSource):
        def __init__(self) -> None:
            super().__init__()

        def res(self):
            return abs(grid.transform.a), abs(grid.transform.e)

        def srs_wkt(self):
            return grid.crs.to_wkt()

        def extent(self):
            return grid.bounds

        def nodata_value(self):
            return None

        def read_window(self, x0, y0, nx, ny):
            return np.zeros((ny, nx), dtype=np.uint8)

    return _GridSource()


def _coverage_pieces(geoms: np.ndarray, grid: Grid, method: str):
    """Per-zone interior runs and weighted partial cells, concatenated over zones.

    Returns ``(row, start, end, zone)`` runs and ``(row, col, zone, weight)`` cells.
    """
    runs: list[list[np.ndarray]] = [[], [], [], []]
    cells: list[list[np.ndarray]] = [[], [], [], []]

    def add(i: int, zone_runs, zone_cells) -> None:
        for acc, arr in zip(runs, (*zone_runs, np.full(len(zone_runs[0]), i)), strict=True):
            acc.append(arr)
        if zone_cells is not None:
            for acc, arr in zip(cells, (*zone_cells, np.full(len(zone_cells[0]), i)), strict=True):
                acc.append(arr)

    todo = [i for i, g in enumerate(geoms) if g is not None and _zone_window(g, grid) is not None]
    if method == "exact":
        _exact_coverage(geoms, todo, grid, add)
    else:
        for i in todo:
            add(i, _rasterized_zone(geoms[i], grid, method == "all_touched"), None)
    run_row, run_start, run_end, run_zone = (_cat(a, np.int32) for a in runs)
    row, col, weight, zone = (_cat(a, dt) for a, dt in zip(cells, _CELL_DTYPES, strict=True))
    return (run_row, run_start, run_end, run_zone), (row, col, zone, weight)


_CELL_DTYPES = (np.int32, np.int32, np.float64, np.int32)


def _cat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype)


def _exact_coverage(geoms: np.ndarray, todo: list[int], grid: Grid, add) -> None:
    """Exact coverage fractions of the zones ``todo``.

    Large jobs (zone windows of ``_TILED_MIN_CELLS`` cells or more) cut each zone
    into square tiles of ``_EXACT_TILE`` cells: tiles the zone boundary does not
    touch are wholly inside or wholly outside (decided by their centre) and need
    no geometry; exactextract computes only the tiles on the boundary ring, each
    from the zone clipped to the tile plus a one-cell margin (see
    :func:`_exact_tiled_zone`). exactextract's cost grows with the bounding box of
    each feature, so this is much faster on fine grids (103 banners at 100 m: 4 s
    instead of 24 s). Small jobs, and every job with
    ``_EXACT_TILE = None``, run exactextract on whole zones.
    """
    windows = {i: _zone_window(geoms[i], grid) for i in todo}
    size = {i: int(windows[i].width) * int(windows[i].height) for i in todo}
    if _EXACT_TILE is None or sum(size.values()) < _TILED_MIN_CELLS:
        # Small jobs: one exactextract pass beats per-zone set-up costs.
        _exact_whole(geoms, todo, grid, add)
        return
    # exactextract, GEOS and numpy release the GIL, so zones build in parallel;
    # the largest go first to balance the threads, results are added in zone order.
    with ThreadPoolExecutor(max_workers=_BUILD_THREADS) as pool:
        futures = {
            i: pool.submit(_exact_tiled_zone, geoms[i], grid, _EXACT_TILE)
            for i in sorted(todo, key=size.__getitem__, reverse=True)
        }
        for i in todo:
            add(i, *futures[i].result())


def _exact_whole(geoms: np.ndarray, todo: list[int], grid: Grid, add) -> None:
    """Coverage of whole zones by one exactextract pass (reference path).

    Each zone's cells are split into interior runs and partial cells as they come
    out, so only one zone's per-cell arrays are in memory at a time.
    """

    def split(i: int, cell_id: np.ndarray, frac: np.ndarray) -> None:
        inside = frac >= 1.0
        partial = (frac > 0) & ~inside
        prow, pcol = np.divmod(cell_id[partial], grid.width)
        add(i, _id_runs(cell_id[inside], grid.width), (prow, pcol, frac[partial]))

    _exact_fractions(grid, ((i, shapely.to_wkb(geoms[i])) for i in todo), len(todo), split)


def _exact_tiled_zone(geom, grid: Grid, tile: int):
    """Interior runs and partial cells of one zone, exactextract on boundary tiles only.

    A tile that the zone boundary does not touch lies wholly inside or wholly
    outside the zone, so its cells have weight exactly 1 or 0. Cells of the
    boundary tiles get exactextract's fractions; clipping the zone to the tile
    plus a one-cell margin leaves the geometry inside every cell of the tile
    unchanged, so those fractions are exactextract's for the whole zone (up to
    its float32 rounding). Zones only a few tiles across go to exactextract whole.

    Memory grows with the boundary tiles, not with the zone's window: interior
    runs come from the runs of whole tiles plus those of the boundary cells
    wholly inside (runs of one zone may touch; :func:`_resolve_overlaps` joins them).
    """
    win = _zone_window(geom, grid)
    r0, c0, h, w = int(win.row_off), int(win.col_off), int(win.height), int(win.width)
    _, hit, full = _classify_tiles(geom, grid, (r0, c0, h, w), tile)
    n_cols = -(-w // tile)
    bounds = _hit_rectangles(hit.reshape(-1, n_cols), tile, (r0, c0, h, w))
    if _tiles_cost(bounds) >= h * w:
        bounds = np.array([[r0, r0 + h, c0, c0 + w]])
        features = iter([(0, shapely.to_wkb(geom))])
        tile_runs = _id_runs(np.empty(0, np.int64), grid.width)
    else:
        tile_runs = _full_tile_runs(full.reshape(-1, n_cols), tile, (r0, c0, h, w))
        features = _tile_features(geom, grid, bounds)
    runs: list[tuple[np.ndarray, ...]] = [tile_runs]
    cells: list[tuple[np.ndarray, ...]] = []

    def keep(k: int, cell_id: np.ndarray, frac: np.ndarray) -> None:
        # Each feature reaches one cell into its neighbours: keep its own covered cells,
        # the wholly covered ones as runs at once (a feature's cells are many, its runs few).
        row, col = np.divmod(cell_id, grid.width)
        b = bounds[k]
        own = (row >= b[0]) & (row < b[1]) & (col >= b[2]) & (col < b[3])
        one = own & (frac >= 1.0)
        part = own & (frac > 0) & ~one
        runs.append(_id_runs(cell_id[one], grid.width))
        cells.append((row[part], col[part], frac[part]))

    _exact_fractions(grid, features, len(bounds), keep)
    joined = tuple(np.concatenate(a) for a in zip(*runs, strict=True))
    if not cells:
        return joined, (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
    return joined, tuple(np.concatenate(a) for a in zip(*cells, strict=True))


def _full_tile_runs(full: np.ndarray, tile: int, win: tuple[int, int, int, int]):
    """Row runs ``(row, start, end)`` of the cells of the tiles wholly inside a zone.

    ``full`` is the (tile rows × tile columns) mask of those tiles; neighbouring
    tiles of a tile row make one run per cell row.
    """
    r0, c0, h, w = win
    t_row, t_start, t_end = _mask_runs(full, 0, 0)
    first = r0 + t_row.astype(np.int64) * tile
    n_rows = np.minimum(first + tile, r0 + h) - first
    row = np.repeat(first, n_rows) + (
        np.arange(n_rows.sum()) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
    )
    start = np.repeat(c0 + t_start.astype(np.int64) * tile, n_rows)
    end = np.repeat(c0 + np.minimum(t_end.astype(np.int64) * tile, w), n_rows)
    return row.astype(np.int32), start.astype(np.int32), end.astype(np.int32)


def _classify_tiles(geom, grid: Grid, win: tuple[int, int, int, int], tile: int):
    """Tiles of a zone window: ``(tr, tr1, tc, tc1)`` (window-relative), hit, full.

    ``hit``: the zone boundary touches the tile; ``full``: the tile lies wholly
    inside the zone (not hit, centre inside).
    """
    r0, c0, h, w = win
    grids = np.meshgrid(np.arange(0, h, tile), np.arange(0, w, tile), indexing="ij")
    tr, tc = (a.ravel() for a in grids)
    tr1, tc1 = np.minimum(tr + tile, h), np.minimum(tc + tile, w)
    boundary = shapely.boundary(geom)
    shapely.prepare(boundary)
    was_prepared = bool(shapely.is_prepared(geom))
    shapely.prepare(geom)
    hit = shapely.intersects(boundary, _cell_boxes(grid, r0 + tr, r0 + tr1, c0 + tc, c0 + tc1))
    cx, cy = grid.transform * (c0 + (tc + tc1) / 2, r0 + (tr + tr1) / 2)
    full = ~hit & shapely.intersects_xy(geom, cx, cy)
    if not was_prepared:
        shapely.destroy_prepared(geom)  # the caller's geometry: leave it as it came
    return (tr, tr1, tc, tc1), hit, full


def _hit_rectangles(hit: np.ndarray, tile: int, win: tuple[int, int, int, int]) -> np.ndarray:
    """Grid cell rectangles ``(row0, row1, col0, col1)`` of the runs of hit tiles.

    Neighbouring boundary tiles of a row of tiles make one rectangle: the same
    cells for exactextract, but fewer features (each has a fixed cost).
    """
    r0, c0, h, w = win
    t_row, t_start, t_end = _mask_runs(hit, 0, 0)
    return np.stack(
        [
            r0 + t_row * tile,
            r0 + np.minimum((t_row + 1) * tile, h),
            c0 + t_start * tile,
            c0 + np.minimum(t_end * tile, w),
        ],
        axis=1,
    ).astype(np.int64)


def _tiles_cost(bounds: np.ndarray) -> int:
    """Cost of exactextract on the rectangles, in cells of a whole-zone run.

    exactextract spends ~20 ns per cell of a feature's bounding box and ~0.1 ms
    (clip, WKB, feature) per feature, i.e. the price of ~6000 cells.
    """
    area = (bounds[:, 1] - bounds[:, 0] + 2) * (bounds[:, 3] - bounds[:, 2] + 2)
    return int(area.sum()) + _FEATURE_COST_CELLS * len(bounds)


def _concat_results(results: list[tuple[int, np.ndarray, np.ndarray]]):
    """Concatenated ``(key per cell, cell_id, fraction)`` of per-feature results."""
    if not results:
        return np.empty(0, np.intp), np.empty(0, np.int64), np.empty(0)
    keys = np.repeat([k for k, _, _ in results], [len(c) for _, c, _ in results])
    return (
        keys,
        np.concatenate([c for _, c, _ in results]),
        np.concatenate([f for *_, f in results]),
    )


def _cell_boxes(grid: Grid, r0, r1, c0, c1) -> np.ndarray:
    """Polygons of the cell blocks rows ``[r0, r1)`` × columns ``[c0, c1)``."""
    t = grid.transform
    xa, xb = t.c + t.a * np.asarray(c0), t.c + t.a * np.asarray(c1)
    ya, yb = t.f + t.e * np.asarray(r0), t.f + t.e * np.asarray(r1)
    return shapely.box(
        np.minimum(xa, xb), np.minimum(ya, yb), np.maximum(xa, xb), np.maximum(ya, yb)
    )


def _tile_features(geom, grid: Grid, bounds: np.ndarray):
    """``(k, wkb)`` of the zone clipped to each rectangle ``bounds[k]`` plus one cell.

    ``bounds`` rows are ``(row0, row1, col0, col1)``, sorted by row. The zone is
    clipped to each row of rectangles first, so each rectangle clips a small
    piece instead of the whole zone.
    """
    for r in np.unique(bounds[:, 0]):
        ks = np.flatnonzero(bounds[:, 0] == r)
        b = bounds[ks]
        strip_box = _cell_boxes(grid, r - 1, b[0, 1] + 1, b[:, 2].min() - 1, b[:, 3].max() + 1)
        strip = _clip(geom, strip_box)
        if strip is None:
            continue
        for k in ks:
            b = bounds[k]
            piece = _clip(strip, _cell_boxes(grid, b[0] - 1, b[1] + 1, b[2] - 1, b[3] + 1))
            if piece is not None:
                yield int(k), shapely.to_wkb(piece)


def _clip(geom, box):
    """Polygonal part of ``geom`` inside the rectangle ``box``, or None if empty."""
    part = shapely.clip_by_rect(geom, *shapely.bounds(box))
    if shapely.get_type_id(part) not in (3, 6):
        polys = [p for p in shapely.get_parts(part) if shapely.get_type_id(p) == 3]
        part = shapely.multipolygons(polys) if polys else None
    return None if part is None or part.is_empty else part


def _exact_fractions(grid: Grid, features, count: int, on_result) -> None:
    """Run exactextract on ``(key, wkb)`` features; call ``on_result(key, cell_id, frac)``."""
    from exactextract import exact_extract
    from exactextract.feature import Feature, FeatureSource
    from exactextract.writer import Writer

    class _Feature(Feature):
        def __init__(self, zone=None, wkb=None):
            Feature.__init__(self)
            self.props = {} if zone is None else {"zone": zone}
            self.wkb = wkb

        def set(self, name, value):
            self.props[name] = value

        def get(self, name):
            return self.props[name]

        def fields(self):
            return list(self.props)

        def geometry(self):
            return self.wkb

        def set_geometry(self, wkb):
            self.wkb = wkb

        def set_geometry_format(self):
            return "wkb"

    class _Source(FeatureSource):
        def __init__(self):
            super().__init__()

        def count(self):
            return count

        def __iter__(self):
            for key, wkb in features:
                yield _Feature(key, wkb)

        def srs_wkt(self):
            return grid.crs.to_wkt()

    class _Writer(Writer):
        def __init__(self):
            super().__init__()

        def write(self, feature):
            f = _Feature()
            feature.copy_to(f)
            on_result(
                int(f.props["zone"]),
                np.asarray(f.props["cell_id"], dtype=np.int64),
                np.asarray(f.props["coverage"], dtype=np.float64),
            )

        def features(self):
            return None

    if count == 0:
        return
    exact_extract(
        _exact_source(grid),
        _Source(),
        ["cell_id", "coverage"],
        include_cols=["zone"],
        output=_Writer(),
    )


def _rasterized_zone(geom, grid: Grid, all_touched: bool):
    """0/1 coverage of one zone by GDAL rasterization, as row runs.

    The zone's window is rasterized in strips of about ``_WINDOW_CELLS`` cells, so
    memory does not grow with the window (GDAL burns each cell from its own
    position: strips give the cells of a whole-window burn).
    """
    win = _zone_window(geom, grid)
    r0, c0, h, w = int(win.row_off), int(win.col_off), int(win.height), int(win.width)
    step = max(_WINDOW_CELLS // max(w, 1), 1)
    parts = []
    for s0 in range(r0, r0 + h, step):
        strip = Window(c0, s0, w, min(step, r0 + h - s0))
        mask = rasterize(
            [(geom, 1)],
            out_shape=(int(strip.height), w),
            transform=rasterio.windows.transform(strip, grid.transform),
            all_touched=all_touched,
            fill=0,
            dtype="uint8",
        )
        parts.append(_mask_runs(mask.view(bool), s0, c0))
    return tuple(np.concatenate(a) for a in zip(*parts, strict=True))


def _resolve_overlaps(row, start, end, zone):
    """Split runs of possibly overlapping zones.

    Returns the parts covered by exactly one zone as runs, and the cells covered
    by several zones as weight-1 (row, col, zone, weight) pairs, one per zone.
    A sweep over the run ends of each row counts active zones; with zone ids
    offset by one, the running sum of ids equals the zone while one is active.
    """
    n = len(row)
    if n == 0:
        empty = np.empty(0, np.int32)
        return (empty,) * 4, (empty, empty, empty, np.empty(0))
    ev_row = np.r_[row, row].astype(np.int64)
    ev_col = np.r_[start, end].astype(np.int64)
    ev_cnt = np.r_[np.ones(n, np.int64), -np.ones(n, np.int64)]
    ev_id = np.r_[zone + 1, -(zone + 1)].astype(np.int64)
    order = np.lexsort((ev_col, ev_row))
    ev_row, ev_col = ev_row[order], ev_col[order]
    active = np.cumsum(ev_cnt[order])
    ids = np.cumsum(ev_id[order])
    seg = np.flatnonzero((ev_row[:-1] == ev_row[1:]) & (ev_col[1:] > ev_col[:-1]))
    s_row, s_start, s_end = ev_row[seg], ev_col[seg], ev_col[seg + 1]
    single = active[seg] == 1
    runs = (
        s_row[single].astype(np.int32),
        s_start[single].astype(np.int32),
        s_end[single].astype(np.int32),
        (ids[seg][single] - 1).astype(np.int32),
    )
    multi = active[seg] > 1
    return _merge_adjacent(*runs), _overlap_cells(
        row, start, end, zone, s_row[multi], s_start[multi], s_end[multi]
    )


def _merge_adjacent(row, start, end, zone):
    """Join runs that touch end-to-start in the same row and zone."""
    if len(row) < 2:
        return row, start, end, zone
    joins = (row[1:] == row[:-1]) & (start[1:] == end[:-1]) & (zone[1:] == zone[:-1])
    first = np.r_[True, ~joins]
    last = np.r_[~joins, True]
    return row[first], start[first], end[last], zone[first]


def _overlap_cells(row, start, end, zone, o_row, o_start, o_end):
    """Expand multiply-covered segments into one weight-1 pair per (cell, zone)."""
    if len(o_row) == 0:
        empty = np.empty(0, np.int32)
        return empty, empty, empty, np.empty(0)
    w = np.int64(max(int(end.max()), int(o_end.max())) + 1)
    seg_key = o_row * w + o_start  # elementary segments: disjoint, sorted
    run_lo = np.searchsorted(seg_key, row.astype(np.int64) * w + start, side="left")
    run_hi = np.searchsorted(seg_key, row.astype(np.int64) * w + end, side="left")
    n_per_run = run_hi - run_lo
    run_idx = np.repeat(np.arange(len(row)), n_per_run)
    seg_idx = np.arange(n_per_run.sum()) - np.repeat(np.cumsum(n_per_run) - n_per_run, n_per_run)
    seg_idx += run_lo[run_idx]
    lengths = o_end[seg_idx] - o_start[seg_idx]
    pair = np.repeat(np.arange(len(seg_idx)), lengths)
    offset = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    cols = o_start[seg_idx][pair] + offset
    return (
        o_row[seg_idx][pair].astype(np.int32),
        cols.astype(np.int32),
        zone[run_idx][pair].astype(np.int32),
        np.ones(len(cols)),
    )


def _outside_area_km2(geoms: np.ndarray, grid: Grid) -> np.ndarray:
    """Area of each zone lying outside the grid extent, km².

    Geographic grids: the ground area of the outside part on the grid's
    ellipsoid, with the cell areas' definition (edges straight in longitude and
    latitude): the part is mapped to authalic coordinates
    (λ, b²/2 · q(φ)) (see :func:`geo.grid.ellipsoid_band_area_m2`), where plane
    area is ellipsoidal area, after densifying its edges. This holds for zones of
    any size, a whole-world box or one reaching past ±180° included; the part
    beyond the poles has no area. Projected grids: plane area in the grid CRS.
    """
    box = shapely.box(*grid.bounds)
    out = np.zeros(len(geoms))
    present = np.array([g is not None for g in geoms])
    if not present.any():
        return out
    parts = shapely.difference(geoms[present], box)
    pcrs = pyproj.CRS.from_user_input(grid.crs.to_wkt())
    unit = pcrs.axis_info[0].unit_conversion_factor
    if grid.is_geographic:
        pole = np.pi / 2 / unit  # 90° in the CRS's angular unit
        parts = shapely.clip_by_rect(parts, -1e12, -pole, 1e12, pole)
        parts = shapely.segmentize(parts, 0.01 * np.pi / 180 / unit)
        ell = pcrs.ellipsoid
        to_plane = _authalic_plane(
            unit,
            ell.semi_major_metre,
            0.0 if ell.inverse_flattening == 0 else 1 / ell.inverse_flattening,
        )
        out[present] = shapely.area(shapely.transform(parts, to_plane)) / 1e6
    else:
        out[present] = shapely.area(parts) * unit * unit / 1e6
    return out


def _authalic_plane(unit: float, a: float, f: float):
    """``xy → (λ, b²/2 · q(φ))`` for shapely.transform: plane area = ellipsoidal area, m²."""
    e2 = f * (2 - f)
    b2 = a * a * (1 - e2)

    def apply(xy: np.ndarray) -> np.ndarray:
        lam = xy[:, 0] * unit
        sin = np.sin(np.clip(xy[:, 1] * unit, -np.pi / 2, np.pi / 2))
        if e2 == 0:
            y = a * a * sin
        else:
            e = np.sqrt(e2)
            y = 0.5 * b2 * (sin / (1 - e2 * sin * sin) + np.arctanh(e * sin) / e)
        return np.column_stack([lam, y])

    return apply


# --------------------------------------------------------------------------- streaming


@dataclass
class _Spec:
    """What to compute, derived from the arguments of :func:`zonal_stats`."""

    stats: tuple[str, ...]
    quantiles: tuple[float, ...]
    categorical: bool

    @property
    def need_sum(self) -> bool:
        return bool({"sum", "mean", "stdev", "area_mean"} & set(self.stats))

    @property
    def need_area_sum(self) -> bool:
        return "area_mean" in self.stats

    @property
    def need_sq(self) -> bool:
        return "stdev" in self.stats

    @property
    def need_minmax(self) -> bool:
        # stdev needs them too: a zone of equal values has a stdev of exactly 0.
        return bool({"min", "max", "stdev"} & set(self.stats))

    @property
    def need_quantiles(self) -> bool:
        return bool(self.quantiles)


class _Accumulator:
    """Per-zone running sums over the windows of one raster."""

    def __init__(self, n: int, spec: _Spec, dtype: np.dtype, row_area_m2: np.ndarray) -> None:
        self.n, self.spec, self.dtype = n, spec, dtype
        self.row_area = row_area_m2
        self.count = np.zeros(n)
        self.sum = np.zeros(n)
        self.sq = np.zeros(n)
        # Σ coverage × cell ground area × (value − shift), m² × value (area_mean)
        self.area_sum = np.zeros(n)
        self.min = np.full(n, np.inf)
        self.max = np.full(n, -np.inf)
        self.valid_area = np.zeros(n)
        self.nodata_area = np.zeros(n)
        self.shift: float | None = None
        self.hist_bits = dtype.itemsize * 8 if dtype.kind in "ui" else 0
        use_hist = spec.categorical or (spec.need_quantiles and 0 < self.hist_bits <= 16)
        nbins = 1 << self.hist_bits if use_hist else 0
        self.hist_offset = -(1 << (self.hist_bits - 1)) if dtype.kind == "i" else 0
        self.hist_cov = np.zeros(n * nbins) if spec.need_quantiles and nbins else None
        self.hist_area = np.zeros(n * nbins) if spec.categorical else None
        self.nbins = nbins
        self.gathered: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        # Stored values that are nodata, when the caller knows them (integer
        # rasters, see _invalid_values); None: only the invalid mask tells.
        self.invalid_values: np.ndarray | None = None

    # values ----------------------------------------------------------------------------

    def add_window(self, cov: Coverage, a: np.ndarray, invalid: np.ndarray, r0: int, c0: int):
        """Add the window ``a`` (rows from ``r0``, columns from ``c0``).

        The window must hold every column the zones touch in its rows, as the
        windows of :func:`_stream` do; :meth:`add_chunk` takes any window.
        """
        h = a.shape[0]
        rs, cs = cov.runs_in(r0, r0 + h), cov.cells_in(r0, r0 + h)
        runs = (cov.run_row[rs], cov.run_start[rs], cov.run_end[rs], cov.run_zone[rs])
        cells = (cov.cell_row[cs], cov.cell_col[cs], cov.cell_zone[cs], cov.cell_weight[cs])
        self._add(runs, cells, a, invalid, r0, c0)

    def add_chunk(self, cov: Coverage, a: np.ndarray, invalid: np.ndarray, r0: int, c0: int):
        """Add the chunk ``a`` (rows from ``r0``, columns from ``c0``), of any extent.

        Runs are clipped to the chunk's columns and cells outside them dropped, so
        chunks need not align with zones or with the raster's blocks; the chunks of
        a tiling add up to the same sums as whole-row windows.
        """
        h, w = a.shape
        c1 = c0 + w
        rs, cs = cov.runs_in(r0, r0 + h), cov.cells_in(r0, r0 + h)
        start, end = cov.run_start[rs], cov.run_end[rs]
        keep = (end > c0) & (start < c1)
        runs = (
            cov.run_row[rs][keep],
            np.maximum(start[keep], c0),
            np.minimum(end[keep], c1),
            cov.run_zone[rs][keep],
        )
        col = cov.cell_col[cs]
        inside = (col >= c0) & (col < c1)
        cells = (cov.cell_row[cs][inside], col[inside], cov.cell_zone[cs][inside])
        self._add(runs, (*cells, cov.cell_weight[cs][inside]), a, invalid, r0, c0)

    def merge(self, other: _Accumulator) -> _Accumulator:
        """Add the sums of ``other`` (same zones, statistics and dtype) into this one.

        Sums are kept relative to a shift (see :meth:`_add`); ``other``'s are moved
        to this accumulator's shift exactly: Σw(y + d) = S + dC and
        Σw(y + d)² = Q + 2dS + d²C with d the difference of the shifts.

        Returns
        -------
        _Accumulator
            ``self``, updated.
        """
        if other.shift is not None and self.shift is None:
            # No valid cell summed here yet: sum and sq are 0, so adopting is exact.
            self.shift = other.shift
        d = (other.shift or 0.0) - (self.shift or 0.0)
        self.sum += other.sum + d * other.count
        self.sq += other.sq + 2 * d * other.sum + d * d * other.count
        self.area_sum += other.area_sum + d * other.valid_area
        self.count += other.count
        np.fmin(self.min, other.min, out=self.min)
        np.fmax(self.max, other.max, out=self.max)
        self.valid_area += other.valid_area
        self.nodata_area += other.nodata_area
        if self.hist_cov is not None:
            self.hist_cov += other.hist_cov
        if self.hist_area is not None:
            self.hist_area += other.hist_area
        self.gathered.extend(other.gathered)
        return self

    def _add(self, runs, cells, a: np.ndarray, invalid: np.ndarray, r0: int, c0: int) -> None:
        """Add window ``a`` given its runs ``(row, start, end, zone)`` and cells."""
        x = None
        if self.spec.need_sum:
            x = a.astype(np.float64)
            if self.shift is None and (~invalid).any():
                # A shift near the data keeps the sum of squares free of cancellation.
                self.shift = float(x[~invalid].flat[0])
            if self.shift:
                x -= self.shift
            x[invalid] = 0.0
        if len(runs[0]):
            self._add_runs(runs, x, a, invalid, r0, c0)
        if len(cells[0]):
            self._add_cells(cells, x, a, invalid, r0, c0)

    def _add_runs(self, runs, x, a, invalid, r0, c0):
        w = a.shape[1]
        row, start, end, zone = runs
        base = (row.astype(np.int64) - r0) * w - c0
        s, e = base + start, base + end
        idx = np.empty(2 * len(s), dtype=np.int64)
        idx[0::2], idx[1::2] = s, e
        if idx[-1] == a.size:
            idx = idx[:-1]
        counts = self._add_histograms(s, e, zone, a, invalid, r0) if self.nbins else None
        rows_area = self.row_area[r0 : r0 + a.shape[0]]
        if counts is not None and rows_area.min() == rows_area.max():
            # The histograms count exactly the valid run cells: no second pass.
            self._add_run_totals(zone, e - s, counts, rows_area[0])
        else:
            n_valid = np.add.reduceat(~invalid.ravel(), idx, dtype=np.int64)[0::2]
            n_valid = n_valid.astype(np.float64)
            n_all = (e - s).astype(np.float64)
            area = self.row_area[row]
            self._bin(self.count, zone, n_valid)
            self._bin(self.valid_area, zone, n_valid * area)
            self._bin(self.nodata_area, zone, (n_all - n_valid) * area)
        if self.spec.need_sum:
            flat = x.ravel()
            run_sums = np.add.reduceat(flat, idx)[0::2]
            self._bin(self.sum, zone, run_sums)
            if self.spec.need_area_sum:
                # a run lies in one row: one cell area per run
                self._bin(self.area_sum, zone, run_sums * self.row_area[row])
        if self.spec.need_sq:
            self._bin(self.sq, zone, np.add.reduceat(flat * flat, idx)[0::2])
        if self.spec.need_minmax:
            raw = np.where(invalid, np.nan, a.astype(np.float64)).ravel()
            np.fmin.at(self.min, zone, np.fmin.reduceat(raw, idx)[0::2])
            np.fmax.at(self.max, zone, np.fmax.reduceat(raw, idx)[0::2])
        if not self.nbins and self.spec.need_quantiles:
            labels = _expand_labels(s, e, zone, a.size, self.n)
            keep = ~invalid.ravel() & (labels < self.n)
            lab = labels[keep]
            self.gathered.append((lab, a.ravel()[keep].astype(np.float64), np.ones(len(lab))))

    def _add_run_totals(self, zone, lengths, counts: np.ndarray, area: float) -> None:
        """Valid and nodata totals of a window of equal-area rows, from its histograms."""
        n_valid = counts.reshape(self.n, self.nbins).sum(axis=1)
        n_all = np.bincount(zone, weights=lengths, minlength=self.n)
        self.count += n_valid
        self.valid_area += n_valid * area
        self.nodata_area += (n_all - n_valid) * area

    def _add_histograms(self, s, e, zone, a, invalid, r0) -> np.ndarray:
        """Per-zone value histograms of the run cells of a window.

        The bin index ``zone * nbins + value`` is built from the runs in the
        narrowest integer type; cells outside the runs go to a discarded extra
        zone. Invalid cells go there too, unless their values are known
        (``invalid_values``): then their bins are simply zeroed afterwards, which
        saves a masked write per cell.

        Returns
        -------
        numpy.ndarray
            The counts of valid run cells, ``zone * nbins + value``.
        """
        h, w = a.shape
        size = self.n * self.nbins
        if _numba_kernels() is not None:
            return self._add_histograms_compiled(s, e, zone, a, invalid, r0)
        key = _key_dtype(size + self.nbins) if not self.hist_offset else np.intp
        idx = _expand_labels(s, e, zone.astype(key) * key(self.nbins), a.size, size, key)
        idx += a.ravel()
        if self.hist_offset:
            idx -= self.hist_offset
        if self.invalid_values is None:
            idx[invalid.ravel()] = size
        counts = self._drop_invalid(np.bincount(idx, minlength=size + self.nbins)[:size])
        if self.hist_cov is not None:
            self.hist_cov += counts
        if self.hist_area is not None:
            area = self.row_area[r0 : r0 + h]
            if area.min() == area.max():  # equal-area grid: one area for every cell
                self.hist_area += counts * area[0]
            else:
                weights = np.repeat(area, w)
                binned = np.bincount(idx, weights=weights, minlength=size + self.nbins)[:size]
                self.hist_area += self._drop_invalid(binned)
        return counts

    def _add_histograms_compiled(self, s, e, zone, a, invalid, r0) -> np.ndarray:
        """:meth:`_add_histograms` with the compiled kernels (same counts and sums).

        Counts are integers, so splitting the runs over threads changes nothing;
        the area sums of rows of unequal area are added cell by cell in the flat
        order of the window, as ``np.bincount`` does, on one thread.
        """
        kernels = _numba_kernels()
        h, w = a.shape
        size = self.n * self.nbins
        flat = a.reshape(-1)
        skip = self.invalid_values is None
        bad = invalid.reshape(-1) if skip else np.zeros(1, dtype=bool)
        zone = zone.astype(np.int64, copy=False)
        s, e = s.astype(np.int64, copy=False), e.astype(np.int64, copy=False)
        area = self.row_area[r0 : r0 + h] if self.hist_area is not None else None
        args = (bad, skip, self.nbins, self.hist_offset)
        if area is not None and area.min() != area.max():
            run_area = area[s // w]
            counts, binned = np.zeros(size, np.int64), np.zeros(size)
            kernels["weighted"](s, e, zone, flat, *args, run_area, counts, binned)
            self.hist_area += self._drop_invalid(binned)
            area = None
        else:
            counts = _compiled_counts(kernels["counts"], s, e, zone, flat, args, size)
        counts = self._drop_invalid(counts)
        if self.hist_cov is not None:
            self.hist_cov += counts
        if area is not None:  # equal-area grid: one area for every cell
            self.hist_area += counts * area[0]
        return counts

    def _drop_invalid(self, hist: np.ndarray) -> np.ndarray:
        """Zero the bins of the nodata values (when known) of flat per-zone histograms."""
        if self.invalid_values is not None and len(self.invalid_values):
            hist.reshape(self.n, self.nbins)[:, self.invalid_values - self.hist_offset] = 0
        return hist

    def _add_cells(self, cells, x, a, invalid, r0, c0):
        row, col, zone, wt = cells
        spec = self.spec
        kernels = _numba_kernels() if self.nbins else None
        if kernels is not None and not (spec.need_sum or spec.need_sq or spec.need_minmax):
            self._add_cells_compiled(kernels["cells"], cells, a, invalid, r0, c0)
            return
        r = row - r0
        c = col - c0
        ok = ~invalid[r, c]
        area = wt * self.row_area[row]
        self._bin(self.count, zone, wt * ok)
        self._bin(self.valid_area, zone, area * ok)
        self._bin(self.nodata_area, zone, area * ~ok)
        if self.spec.need_sum:
            xv = x[r, c]
            self._bin(self.sum, zone, wt * xv)
            if self.spec.need_area_sum:
                self._bin(self.area_sum, zone, area * xv)
        if self.spec.need_sq:
            self._bin(self.sq, zone, wt * xv * xv)
        zv, raw = zone[ok], a[r, c][ok]
        if self.spec.need_minmax:
            np.fmin.at(self.min, zv, raw.astype(np.float64))
            np.fmax.at(self.max, zv, raw.astype(np.float64))
        if self.nbins:
            idx = zv.astype(np.int64) * self.nbins + (raw.astype(np.int64) - self.hist_offset)
            size = self.n * self.nbins
            if self.hist_area is not None:
                self.hist_area += np.bincount(idx, weights=area[ok], minlength=size)
            if self.hist_cov is not None:
                self.hist_cov += np.bincount(idx, weights=wt[ok], minlength=size)
        elif self.spec.need_quantiles:
            self.gathered.append((zv, raw.astype(np.float64), wt[ok]))

    def _add_cells_compiled(self, kernel, cells, a, invalid, r0, c0) -> None:
        """:meth:`_add_cells` of a histogram-only layer, compiled: the same sums
        (``np.bincount``'s, added cell by cell in order into zeroed arrays)."""
        row, col, zone, wt = cells
        size = self.n * self.nbins
        sums = np.zeros((3, self.n))  # count, valid area, nodata area
        hists = np.zeros((2, size))  # area, coverage
        kernel(
            row.astype(np.int64, copy=False) - r0,
            col.astype(np.int64, copy=False) - c0,
            zone.astype(np.int64, copy=False),
            wt.astype(np.float64, copy=False),
            self.row_area[row],
            a,
            invalid,
            self.nbins,
            self.hist_offset,
            sums,
            hists,
        )
        self.count += sums[0]
        self.valid_area += sums[1]
        self.nodata_area += sums[2]
        if self.hist_area is not None:
            self.hist_area += hists[0]
        if self.hist_cov is not None:
            self.hist_cov += hists[1]

    def _bin(self, target: np.ndarray, zone: np.ndarray, weights: np.ndarray) -> None:
        target += np.bincount(zone, weights=weights, minlength=self.n)

    # results -----------------------------------------------------------------------------

    def frame(self, index: pd.Index, outside_km2: np.ndarray, scale: float, offset: float):
        """The result table (one row per zone)."""
        spec = self.spec
        count = self.count
        has = count > 0
        shift = self.shift or 0.0
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_shifted = np.where(has, self.sum / count, np.nan)
            var = np.where(has, self.sq / count - mean_shifted**2, np.nan)
        raw_mean = mean_shifted + shift
        raw_sum = self.sum + shift * count
        cols: dict[str, np.ndarray] = {}
        for stat in spec.stats:
            if stat == "count":
                cols["count"] = count
            elif stat == "sum":
                cols["sum"] = np.where(has, raw_sum * scale + offset * count, 0.0)
            elif stat == "mean":
                cols["mean"] = raw_mean * scale + offset
            elif stat == "area_mean":
                with np.errstate(invalid="ignore", divide="ignore"):
                    shifted = self.area_sum / self.valid_area
                cols[stat] = np.where(self.valid_area > 0, shifted + shift, np.nan) * scale + offset
            elif stat == "stdev":
                sd = np.sqrt(np.maximum(var, 0.0)) * abs(scale)
                cols["stdev"] = np.where(self.min == self.max, 0.0, sd)
            elif stat in ("min", "max"):
                lo = np.where(has, self.min * scale + offset, np.nan)
                hi = np.where(has, self.max * scale + offset, np.nan)
                cols[stat] = (
                    (lo if stat == "min" else hi) if scale >= 0 else (hi if stat == "min" else lo)
                )
            elif stat == "nodata_fraction":
                total = self.valid_area + self.nodata_area
                with np.errstate(invalid="ignore", divide="ignore"):
                    cols[stat] = np.where(total > 0, self.nodata_area / total, np.nan)
        if spec.quantiles:
            cols.update(self._quantile_columns(scale, offset))
        cols["valid_area_km2"] = self.valid_area / 1e6
        cols["nodata_area_km2"] = self.nodata_area / 1e6
        cols["outside_area_km2"] = np.asarray(outside_km2, dtype=np.float64)
        frame = pd.DataFrame(cols, index=index)
        if spec.categorical:
            frame = pd.concat([frame, self._class_frame(index)], axis=1)
        return frame

    def _quantile_columns(self, scale: float, offset: float) -> dict[str, np.ndarray]:
        qs = self.spec.quantiles
        out = np.full((len(qs), self.n), np.nan)
        for z, (vals, wts) in enumerate(self._zone_distributions()):
            if len(vals):
                v = vals * scale + offset
                if scale < 0:
                    v, wts = v[::-1], wts[::-1]
                out[:, z] = [_ee_quantile(v, wts, q) for q in qs]
        names = _quantile_names(self.spec)
        return dict(zip(names, out, strict=True))

    def _zone_distributions(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Per zone: sorted distinct values and their total coverage weight."""
        if self.hist_cov is not None:
            hist = self.hist_cov.reshape(self.n, self.nbins)
            values = np.arange(self.nbins, dtype=np.float64) + self.hist_offset
            for z in range(self.n):
                nz = hist[z] > 0
                yield values[nz], hist[z][nz]
            return
        if not self.gathered:
            yield from ((np.empty(0), np.empty(0)) for _ in range(self.n))
            return
        zone = np.concatenate([g[0] for g in self.gathered])
        vals = np.concatenate([g[1] for g in self.gathered])
        wts = np.concatenate([g[2] for g in self.gathered])
        self.gathered = []
        order = np.lexsort((vals, zone))
        zone, vals, wts = zone[order], vals[order], wts[order]
        bounds = np.searchsorted(zone, np.arange(self.n + 1))
        for z in range(self.n):
            v, w = vals[bounds[z] : bounds[z + 1]], wts[bounds[z] : bounds[z + 1]]
            if len(v) == 0:
                yield v, w
                continue
            first = np.r_[True, v[1:] != v[:-1]]
            yield v[first], np.add.reduceat(w, np.flatnonzero(first))

    def _class_frame(self, index: pd.Index) -> pd.DataFrame:
        hist = self.hist_area.reshape(self.n, self.nbins)
        present = np.flatnonzero(hist.sum(axis=0) > 0)
        classes = present + self.hist_offset
        area = hist[:, present] / 1e6
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = area / (self.valid_area / 1e6)[:, None]
        frac[self.valid_area == 0] = np.nan
        cols = {f"area_km2_{c}": area[:, k] for k, c in enumerate(classes)}
        cols.update({f"fraction_{c}": frac[:, k] for k, c in enumerate(classes)})
        return pd.DataFrame(cols, index=index)


def _expand_labels(s, e, zone, size: int, none: int, dtype=np.intp) -> np.ndarray:
    """Label window (flat, ``dtype``) from sorted disjoint runs; ``none`` elsewhere."""
    bounds = np.empty(2 * len(s) + 2, dtype=np.int64)
    bounds[0], bounds[-1] = 0, size
    bounds[1:-1:2], bounds[2:-1:2] = s, e
    values = np.full(2 * len(s) + 1, none, dtype=dtype)
    values[1::2] = zone
    return np.repeat(values, np.diff(bounds))


_KERNELS: dict | None = None
_KERNELS_LOCK = threading.Lock()


def _numba_kernels() -> dict | None:
    """The compiled histogram kernels; None without numba or with ``_USE_NUMBA`` off.

    numba is imported and the kernels are defined on first use, never at import;
    each is compiled (``njit`` is lazy) on its first call for a raster dtype, see
    :func:`_warm_kernels`.
    """
    global _KERNELS
    if not _USE_NUMBA:
        return None
    if _KERNELS is None:
        with _KERNELS_LOCK:  # threads (e.g. Dask's) may stream at once
            if _KERNELS is None:
                try:
                    import numba
                except ImportError:
                    _KERNELS = {}
                else:
                    _KERNELS = _define_kernels(numba)
    return _KERNELS or None


def _numba_cache_dir() -> str | None:
    """Writable folder for the compiled kernels (``<geo cache>/numba``), else None."""
    from geo.data import cache_dir

    path = cache_dir() / "numba"
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError:
        return None
    return str(path)


def _define_kernels(numba) -> dict:
    """The kernels, cached on disk (numba's first-call compilation, ~1 s, is then
    paid once per machine rather than per process) under the geo cache folder,
    or under ``NUMBA_CACHE_DIR`` when the user set one; uncached if neither is
    writable. Only numba's setting during the definitions is changed."""
    saved = numba.config.CACHE_DIR
    folder = saved or _numba_cache_dir()
    numba.config.CACHE_DIR = folder or ""
    try:
        return _kernel_functions(numba.njit(nogil=True, cache=folder is not None))
    finally:
        numba.config.CACHE_DIR = saved


def _kernel_functions(jit) -> dict:

    @jit
    def counts(s, e, zone, a, bad, skip, nbins, offset, hist):
        # hist[zone * nbins + value - offset] += 1 over the cells of the runs, in
        # four partial histograms (hist is 4 × bins; the caller adds them up):
        # neighbouring cells mostly share a class, and one histogram would make
        # every increment wait for the previous one.
        for k in range(s.shape[0]):
            base = zone[k] * nbins - offset
            i, stop = s[k], e[k]
            if skip:
                for j in range(i, stop):
                    if not bad[j]:
                        hist[0, base + a[j]] += 1
                continue
            while i + 4 <= stop:
                hist[0, base + a[i]] += 1
                hist[1, base + a[i + 1]] += 1
                hist[2, base + a[i + 2]] += 1
                hist[3, base + a[i + 3]] += 1
                i += 4
            for j in range(i, stop):
                hist[0, base + a[j]] += 1

    @jit
    def weighted(s, e, zone, a, bad, skip, nbins, offset, run_area, hist, area_hist):
        # As counts, and the cell area of each run's row summed per bin, cell by cell.
        for k in range(s.shape[0]):
            base = zone[k] * nbins - offset
            ar = run_area[k]
            for i in range(s[k], e[k]):
                if skip and bad[i]:
                    continue
                j = base + a[i]
                hist[j] += 1
                area_hist[j] += ar

    @jit
    def cells(r, c, zone, wt, row_area, a, bad, nbins, offset, sums, hists):
        # The partial cells, in order: weight, area, and their per-zone and
        # per-bin sums (as np.bincount adds them; zero terms left out).
        for i in range(r.shape[0]):
            z = zone[i]
            area = wt[i] * row_area[i]
            if bad[r[i], c[i]]:
                sums[2, z] += area
            else:
                sums[0, z] += wt[i]
                sums[1, z] += area
                j = z * nbins + (np.int64(a[r[i], c[i]]) - offset)
                hists[0, j] += area
                hists[1, j] += wt[i]

    return {"counts": counts, "weighted": weighted, "cells": cells}


def _compiled_counts(kernel, s, e, zone, flat, args, size: int) -> np.ndarray:
    """Per-zone value counts of the runs, the runs split over ``_HIST_THREADS``."""
    hist = np.zeros((4, size), np.int64)
    cells = int((e - s).sum())
    if _HIST_THREADS < 2 or cells < _HIST_SPLIT_CELLS or len(s) < 2:
        kernel(s, e, zone, flat, *args, hist)
        return hist.sum(axis=0)
    cut = int(np.searchsorted(np.cumsum(e - s), cells // 2)) + 1
    cut = min(max(cut, 1), len(s) - 1)
    other = np.zeros((4, size), np.int64)
    job = _hist_pool().submit(kernel, s[cut:], e[cut:], zone[cut:], flat, *args, other)
    kernel(s[:cut], e[:cut], zone[:cut], flat, *args, hist)
    job.result()
    return hist.sum(axis=0) + other.sum(axis=0)


_HIST_POOL: ThreadPoolExecutor | None = None


def _hist_pool() -> ThreadPoolExecutor:
    global _HIST_POOL
    if _HIST_POOL is None:
        _HIST_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="geo-hist")
    return _HIST_POOL


def _warm_kernels(dtype) -> bool:
    """Compile the histogram kernels for rasters of ``dtype`` now (numba's first-call
    cost); False when the compiled path is off. Results are not affected."""
    kernels = _numba_kernels()
    if kernels is None:
        return False
    one = np.zeros(1, np.int64)
    a = np.zeros(1, dtype=np.dtype(dtype))
    bad = np.zeros(1, dtype=bool)
    kernels["cells"](
        one,
        one,
        one,
        np.ones(1),
        np.ones(1),
        a.reshape(1, 1),
        bad.reshape(1, 1),
        1,
        0,
        np.zeros((3, 1)),
        np.zeros((2, 1)),
    )
    for skip in (False, True):
        kernels["counts"](one, one + 1, one, a, bad, skip, 1, 0, np.zeros((4, 1), np.int64))
        kernels["weighted"](
            one, one + 1, one, a, bad, skip, 1, 0, np.ones(1), np.zeros(1, np.int64), np.zeros(1)
        )
    return True


def _key_dtype(n_keys: int) -> type:
    """Narrowest unsigned dtype holding ``n_keys`` histogram keys.

    The key window is written, added to and read once per cell; uint16 keys
    move a quarter of the bytes of intp ones.
    """
    if n_keys <= 1 << 16:
        return np.uint16
    return np.uint32 if n_keys <= 1 << 32 else np.intp


def _ee_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """Weighted quantile as defined by exactextract (``WeightedQuantiles``).

    ``x`` are the sorted distinct values, ``w`` their total coverage weights.
    """
    n = len(x)
    cum = np.cumsum(w)
    s = np.zeros(n)
    s[1:] = np.arange(1, n) * w[1:] + (n - 1) * cum[:-1]
    target = q * cum[-1] * (n - 1)
    right = int(np.searchsorted(s, target, side="right"))
    if right == 0:
        return float(x[0])
    if right == n:
        return float(x[-1])
    left = right - 1
    return float(x[left] + (target - s[left]) * (x[right] - x[left]) / (s[right] - s[left]))


def _quantile_names(spec: _Spec) -> list[str]:
    return [
        "median" if q == 0.5 and "median" in spec.stats and k == 0 else f"quantile_{q * 100:g}"
        for k, q in enumerate(spec.quantiles)
    ]


# --------------------------------------------------------------------------- public API


def zonal_stats(
    zones: gpd.GeoDataFrame,
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
) -> pd.DataFrame:
    """Summarise a raster band over polygon zones.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        Polygon zones with a CRS; reprojected to the raster CRS (the raster is
        never resampled). Zones may overlap: a cell inside two zones counts for
        both.
    raster : str, os.PathLike or rasterio dataset
        The raster to summarise.
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

    Returns
    -------
    pandas.DataFrame
        One row per zone, indexed like ``zones``. Zones without a valid cell
        have ``count == 0`` and NaN ``mean``, ``min``, ... .

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
    spec = _make_spec(stats, quantiles, categorical)
    _check_method(method)
    with ExitStack() as stack:
        stack.enter_context(
            rasterio.Env(GDAL_CACHEMAX=_GDAL_CACHEMAX_MB, GDAL_NUM_THREADS=_READ_THREADS)
        )
        ds = _open_raster(raster, stack)
        _check_band(ds, band)
        _check_dtype(ds, band)
        _check_categorical(ds, band, categorical)
        grid = Grid.from_dataset(ds)
        cov = _get_coverage(zones, grid, method, coverage, cache_dir)
        _check_overlap(cov, ds)
        acc = _stream(ds, band, cov, spec, window_rows, tuple(nodata_values))
        _warn_no_valid(acc, ds.name)
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


# ---- helpers of zonal_stats --------------------------------------------------------------


def _make_spec(stats, quantiles, categorical) -> _Spec:
    if isinstance(stats, str):
        stats = (stats,)
    unknown = [s for s in stats if s not in STATS]
    if unknown:
        raise UsageError(f"unknown statistic(s) {unknown}; choose from {', '.join(STATS)}")
    qs = tuple(float(q) for q in (quantiles or ()))
    if "quantile" in stats and not qs:
        raise UsageError("statistic 'quantile' needs quantiles=..., e.g. quantiles=(0.1, 0.9)")
    if any(not 0 <= q <= 1 for q in qs):
        raise UsageError(f"quantiles must lie in [0, 1]; got {list(qs)}")
    if "median" in stats:
        qs = (0.5, *qs)
    keep = tuple(s for s in stats if s not in AREA_COLUMNS and s != "quantile")
    return _Spec(stats=keep, quantiles=qs, categorical=bool(categorical))


def _open_raster(raster, stack: ExitStack):
    if not isinstance(raster, str | os.PathLike):
        if getattr(raster, "closed", True) or not hasattr(raster, "read"):
            raise DataError(
                f"raster {getattr(raster, 'name', raster)!r} is not an open rasterio dataset; "
                "pass a file path or an open dataset"
            )
        return raster
    path = Path(raster)
    if not path.exists():
        raise DataError(f"raster file not found: {path}; check the path (or run the data download)")
    try:
        return stack.enter_context(rasterio.open(path))
    except rasterio.errors.RasterioIOError as exc:
        raise _read_error(path, exc) from exc


def _check_categorical(ds, band: int, categorical: bool) -> None:
    """Categorical statistics need an integer band of at most 16 bits (histograms)."""
    if categorical and (
        ds.dtypes[band - 1][0] not in "ui"
        or np.dtype(ds.dtypes[band - 1]).itemsize * 8 > _INT_HIST_MAX_BITS
    ):
        raise LayerError(
            f"categorical statistics need an integer raster of at most 16 bits; "
            f"band {band} of {ds.name} is {ds.dtypes[band - 1]}"
        )


def _read_error(path, exc: Exception) -> DataError:
    """The error for a raster GDAL cannot read: a VRT's missing source is named."""
    from geo.layers import missing_vrt_sources

    missing = missing_vrt_sources(path) if Path(str(path)).is_file() else []
    if missing:
        return DataError(
            f"raster {path} is a VRT whose source file {missing[0]} does not exist; restore "
            "that file or rebuild the VRT (gdalbuildvrt)"
        )
    return DataError(
        f"cannot read raster {path}: {exc}. It is not a raster GDAL can read, or it is corrupt "
        "or truncated; re-download or regenerate it"
    )


def _check_dtype(ds, band: int) -> None:
    """Refuse complex bands: no statistic of this toolkit is defined for them."""
    dtype = ds.dtypes[band - 1]
    if np.dtype(dtype).kind == "c":
        raise LayerError(
            f"band {band} of raster {ds.name} holds complex numbers ({dtype}); zonal statistics "
            "need real values: export the amplitude or the real part, e.g. "
            "`gdal_calc.py -A in.tif --calc='abs(A)' --type=Float32 --outfile=out.tif`"
        )


def _warn_no_valid(acc: _Accumulator, name) -> None:
    """Say it when no covered cell holds a value: every statistic would be empty."""
    if not (acc.count > 0).any():
        warnings.warn(
            f"raster {name} has no valid cell inside the zones (every covered cell is nodata); "
            "its statistics are empty — check the raster, its nodata value and --nodata",
            GeoWarning,
            stacklevel=3,
        )


def _check_overlap(cov: Coverage, ds) -> None:
    """At least one zone must intersect the raster's extent."""
    if not cov.touched.any():
        grid = cov.grid
        raise ZoneError(
            f"no zone overlaps raster {ds.name} (bounds {_fmt_bounds(grid.bounds)}, CRS "
            f"{grid.crs}); check that the zones and the raster cover the same region"
        )


def _fmt_bounds(bounds) -> str:
    return "(" + ", ".join(f"{v:.6g}" for v in bounds) + ")"


def _check_band(ds, band: int) -> None:
    if not isinstance(band, int | np.integer) or not 1 <= band <= ds.count:
        raise LayerError(
            f"raster {ds.name} has {ds.count} band(s); band {band!r} does not exist "
            f"(bands are numbered 1 to {ds.count})"
        )


class CoverageCache:
    """In-process, memory-bounded cache of coverages, least recently used out first.

    :func:`zonal_stats` called without ``coverage=`` looks here first, so a notebook that
    summarises the same zones over several rasters (or the same raster twice) builds the
    coverage once per process, as the CLI does with its disk cache. Keys are
    :meth:`Coverage.cache_key` (zone ids, CRS, every vertex, the grid and the method): an
    edited zone set or another grid never gets a stale coverage.

    Parameters
    ----------
    max_bytes : int, optional
        Memory the cached coverages may hold, bytes; default a quarter of
        :func:`geo.budget.memory_budget` (at most 2 GiB). ``0`` turns caching off.

    Examples
    --------
    >>> from geo.zonal import coverage_cache
    >>> coverage_cache.clear()  # e.g. to measure a cold call
    >>> coverage_cache.info()["items"]
    0
    """

    def __init__(self, max_bytes: int | None = None) -> None:
        self._max_bytes = max_bytes
        self._items: dict[str, Coverage] = {}  # insertion order = recency
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def max_bytes(self) -> int:
        """The memory bound, bytes."""
        if self._max_bytes is not None:
            return self._max_bytes
        from geo.budget import memory_budget

        return min(memory_budget() // 4, 2 << 30)

    @max_bytes.setter
    def max_bytes(self, value: int | None) -> None:
        with self._lock:
            self._max_bytes = value
            self._evict()

    def get(
        self,
        zones: gpd.GeoDataFrame,
        grid: Grid,
        method: str = "exact",
        cache_dir: str | os.PathLike | None = None,
    ) -> Coverage:
        """The coverage of ``zones`` on ``grid``: from memory, else the disk cache, else built."""
        limit = self.max_bytes  # read first: a malformed GEO_BARRIER_MEMORY is said on every call
        key = Coverage.cache_key(zones, grid.north_up(), method)
        with self._lock:
            cov = self._items.pop(key, None) if limit > 0 else None
            if cov is not None:
                self._items[key] = cov  # most recent last
                self.hits += 1
        if cov is not None:
            if cache_dir is not None:  # asked for a disk cache: the next process finds it there
                cov.save_to_cache(zones, grid, cache_dir)
            return cov
        with self._lock:
            self.misses += 1
        cov = Coverage.load_or_build(zones, grid, method, cache_dir)
        with self._lock:
            self._items[key] = cov
            self._evict()
        return cov

    def clear(self) -> None:
        """Forget every cached coverage."""
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0

    def info(self) -> dict:
        """``items``, ``bytes``, ``max_bytes``, ``hits`` and ``misses``."""
        with self._lock:
            held = sum(c.nbytes for c in self._items.values())
            return {
                "items": len(self._items),
                "bytes": held,
                "max_bytes": self.max_bytes,
                "hits": self.hits,
                "misses": self.misses,
            }

    def _evict(self) -> None:
        limit = self.max_bytes
        while self._items and sum(c.nbytes for c in self._items.values()) > limit:
            self._items.pop(next(iter(self._items)))


#: The process's coverage cache, used by :func:`zonal_stats` when no ``coverage=`` is given.
coverage_cache = CoverageCache()


def _get_coverage(zones, grid: Grid, method: str, coverage, cache_dir) -> Coverage:
    if zones.crs is None:
        raise CRSError("zones have no CRS; set it with zones.set_crs(...) before zonal_stats")
    if coverage is None:
        return coverage_cache.get(zones, grid, method, cache_dir)
    if not coverage.grid.same_as(grid, any_orientation=True):  # read by read_window
        raise DataError(
            "the raster is not on the grid the coverage was built for "
            f"(raster {grid.shape} {grid.transform[:6]}, coverage {coverage.grid.shape} "
            f"{coverage.grid.transform[:6]}); build a Coverage for this raster's grid"
        )
    if coverage.method != method:
        raise UsageError(
            f"coverage was built with method {coverage.method!r}, not {method!r}; "
            "pass method=coverage.method or build another Coverage"
        )
    if not coverage.matches(zones):
        raise ZoneError("coverage was built for other zones; build one for these zones")
    return coverage


def _window_rows(ds, band: int, width: int, window_rows: int | None) -> int:
    block_h = max(int(ds.block_shapes[band - 1][0]), 1)
    rows = window_rows or max(_WINDOW_CELLS // max(width, 1), 1)
    return max(-(-rows // block_h), 1) * block_h


def _windows(cov: Coverage, ds, band: int, rows: int) -> Iterator[tuple[Window, bool]]:
    """Windows of whole block rows, limited to the (block-aligned) columns in use.

    Yields ``(window, whole)``: ``whole`` when the window holds every column the
    zones touch in its rows. A band of block rows much larger than
    ``_WINDOW_CELLS`` (tall blocks on a wide raster) is cut into block-aligned
    column pieces, so memory stays bounded by the window size, not the raster width.
    """
    h, w = cov.grid.shape
    block_w = max(int(ds.block_shapes[band - 1][1]), 1)
    for r0 in range(0, h, rows):
        r1 = min(r0 + rows, h)
        span = cov.col_span(r0, r1)
        if span is None:
            continue
        c0 = span[0] // block_w * block_w
        c1 = min(-(-span[1] // block_w) * block_w, w)
        if (r1 - r0) * (c1 - c0) <= 2 * _WINDOW_CELLS:
            yield Window(c0, r0, c1 - c0, r1 - r0), True
            continue
        step = max(_WINDOW_CELLS // (r1 - r0) // block_w, 1) * block_w
        for p0 in range(c0, c1, step):
            yield Window(p0, r0, min(step, c1 - p0), r1 - r0), False


def nodata_codes(
    dtype, nodata=None, extra: Sequence[float] = (), name: str = "raster"
) -> np.ndarray:
    """The stored values that count as nodata, in the raster's own type.

    Each value (the band's declared nodata, then ``extra``: layer flags and
    ``--nodata``) is cast to ``dtype`` as GDAL stores it, so the comparison with
    the cells happens in that type: ``-9999.1`` on a float32 raster matches the
    cells that hold float32(−9999.1), which a float64 comparison would miss. A
    value no cell of the type can hold (a fraction or an out-of-range number on an
    integer raster, a number beyond the float range) cannot mark any cell: it is
    left out with a :class:`~geo.errors.GeoWarning`. NaN needs no code (non-finite
    float cells are always nodata).

    Parameters
    ----------
    dtype : numpy.dtype or str
        Data type of the band.
    nodata : float, optional
        Declared nodata of the band.
    extra : sequence of float
        Further stored values that count as nodata.
    name : str
        The raster, for the warning.

    Returns
    -------
    numpy.ndarray
        Distinct codes, of ``dtype``.
    """
    dtype = np.dtype(dtype)
    codes = []
    for v in (nodata, *extra):
        if v is None:
            continue
        v = float(v)
        if np.isnan(v):
            continue
        if dtype.kind in "ui":
            info = np.iinfo(dtype)
            ok = v.is_integer() and info.min <= v <= info.max
        else:
            with np.errstate(over="ignore"):
                ok = bool(np.isfinite(np.asarray(v).astype(dtype))) or np.isinf(v)
        if not ok:
            warnings.warn(
                f"nodata value {v:g} cannot occur in {dtype.name} raster {name}; it is ignored "
                "(check the value: no cell of this type can hold it)",
                GeoWarning,
                stacklevel=3,
            )
            continue
        codes.append(np.asarray(v).astype(dtype))
    return np.unique(np.asarray(codes, dtype=dtype))


#: Stored values that data producers use as fill when they forget to declare nodata (GDAL and
#: ArcGIS -9999, MODIS -3000, int16 minimum, -999, 65535 in float files, the netCDF default
#: fill, the float32 lowest value). A cell holding one on a band that does not declare it is
#: almost surely a missing value counted as data, so it is never silent (:class:`PlaceholderWatch`).
PLACEHOLDERS = (
    -9999.0,
    -3000.0,
    -32768.0,
    -999.0,
    65535.0,
    9.96920996838687e36,
    float(np.finfo(np.float32).min),
)


class PlaceholderWatch:
    """Counts the cells of a band that hold an undeclared no-data placeholder.

    Every window the engine reads goes through :meth:`add`, so the count is exact (not a
    sample) and costs one comparison per placeholder; :meth:`warn` then says what was found
    and how to declare it. Values the band declares or the caller passes as nodata are not
    watched; integer bands watch only the placeholders their type can hold.

    Parameters
    ----------
    dtype : numpy.dtype or str
        Data type of the band.
    declared : float, optional
        The band's declared nodata.
    extra : sequence of float
        Values the caller already counts as nodata.
    """

    def __init__(self, dtype, declared=None, extra: Sequence[float] = ()) -> None:
        dtype = np.dtype(dtype)
        self.declared = declared
        told = {float(v) for v in (declared, *extra) if v is not None}
        self.values = []
        if dtype.kind in "if":
            for v in PLACEHOLDERS:
                if dtype.kind == "i" and not np.iinfo(dtype).min <= v <= np.iinfo(dtype).max:
                    continue
                with np.errstate(over="ignore"):
                    stored = np.asarray(v).astype(dtype)
                if float(stored) == v and not any(np.isclose(v, t) for t in told):
                    self.values.append(stored)
        self.counts = dict.fromkeys((float(v) for v in self.values), 0)
        self.cells = 0

    def add(self, a: np.ndarray) -> None:
        """Count the placeholders among the cells of one window."""
        self.cells += a.size
        for v in self.values:
            self.counts[float(v)] += int(np.count_nonzero(a == v))

    def warn(self, name, band: int = 1) -> None:
        """One :class:`~geo.errors.GeoWarning` for the commonest placeholder found."""
        found = {v: n for v, n in self.counts.items() if n}
        if not found:
            return
        v = max(found, key=found.get)
        n = found[v]
        said = (
            "declares no nodata" if self.declared is None else f"declares nodata {self.declared:g}"
        )
        warnings.warn(
            f"{name}: band {band} {said}, but {n:,} cells ({n / max(self.cells, 1):.2%} of "
            f"those read) hold {v:g}, a common fill value; they were counted as data values. "
            f"If they mean no data, pass --nodata {v:g} (Python: nodata_values=({v:g},)) or "
            f"declare it with `gdal_edit.py -a_nodata {v:g} FILE`",
            GeoWarning,
            stacklevel=4,
        )


def _invalid_mask(a: np.ndarray, codes: np.ndarray, out=None) -> np.ndarray:
    """Cells of ``a`` that hold one of ``codes`` (see :func:`nodata_codes`) or are NaN/inf.

    The comparison runs in the raster's own type (``codes`` has ``a``'s dtype): for
    integers ~10x faster than against floats, for floats the only exact one.
    """
    invalid = np.zeros(a.shape, dtype=bool) if out is None else out
    codes = np.asarray(codes).astype(a.dtype, copy=False)
    if len(codes):
        np.equal(a, codes[0], out=invalid)
        for v in codes[1:]:
            invalid |= a == v
    else:
        invalid[...] = False
    if a.dtype.kind in "fc":
        invalid |= ~np.isfinite(a)
    return invalid


def _invalid_values(codes: np.ndarray) -> np.ndarray | None:
    """Stored values :func:`_invalid_mask` flags in an integer raster (None for floats).

    On integer rasters validity is a function of the value alone, so histograms
    can count every cell and drop the bins of these values afterwards.
    """
    if codes.dtype.kind not in "ui":
        return None
    return np.unique(codes.astype(np.int64))


def _stream_bytes(n_zones: int, spec: _Spec, dtype: np.dtype, window_cells: int) -> float:
    """Estimated peak memory of :func:`_stream`, bytes: the window buffers and their float64
    working copies, and the per-zone class histograms (zones × 2^bits bins)."""
    bits = dtype.itemsize * 8 if dtype.kind in "ui" else 0
    hist = spec.categorical or (spec.need_quantiles and 0 < bits <= _INT_HIST_MAX_BITS)
    bins = float(1 << bits) if hist else 0.0
    per_cell = 2 * dtype.itemsize + 1 + (24 if spec.need_sum else 8)
    return window_cells * per_cell + n_zones * bins * 8 * 3


_T = TypeVar("_T")


def _prefetched(count: int, read: Callable[[int], _T]) -> Iterator[_T]:
    """``read(0)``, ``read(1)`` … ``read(count - 1)``, each read ahead in a background thread.

    GDAL releases the GIL while it decodes, so window ``k + 1`` is read while the caller
    sums window ``k``; at most two reads are alive at once (callers may reuse two buffers).
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(read, 0) if count else None
        for k in range(count):
            item = pending.result()
            pending = pool.submit(read, k + 1) if k + 1 < count else None
            yield item


def _stream(
    ds, band: int, cov: Coverage, spec: _Spec, window_rows: int | None, extra: tuple = ()
) -> _Accumulator:
    """Read the raster once, window by window, and accumulate per-zone sums.

    The next window is read in a background thread (GDAL releases the GIL while
    decoding) while this one is summed; at most two windows are in memory.
    """
    dtype = np.dtype(ds.dtypes[band - 1])
    pieces = list(_windows(cov, ds, band, _window_rows(ds, band, cov.grid.width, window_rows)))
    windows = [win for win, _ in pieces]
    most = max((int(win.width) * int(win.height) for win in windows), default=0)
    check_budget(ds.name, _stream_bytes(cov.n_zones, spec, dtype, most), "the zonal statistics")
    acc = _Accumulator(cov.n_zones, spec, dtype, cov.grid.row_cell_area_m2())
    codes = nodata_codes(dtype, ds.nodatavals[band - 1], extra, ds.name)
    acc.invalid_values = _invalid_values(codes)
    watch = PlaceholderWatch(dtype, ds.nodatavals[band - 1], extra)

    # Two window buffers, read into in turn, and one for the invalid mask: reused
    # rather than allocated per window (fresh pages cost about as much as an
    # integer window's mask). The accumulator keeps no reference to them.
    bufs = [np.empty(most, dtype=dtype), np.empty(most, dtype=dtype)]
    mask_buf = np.empty(most, dtype=bool)

    def read(k: int) -> np.ndarray:
        win = windows[k]
        out = bufs[k % 2][: int(win.width) * int(win.height)]
        return read_window(ds, band, win, out=out.reshape(int(win.height), int(win.width)))

    try:
        for (win, whole), a in zip(pieces, _prefetched(len(windows), read), strict=True):
            invalid = _invalid_mask(a, codes, mask_buf[: a.size].reshape(a.shape))
            watch.add(a)
            add = acc.add_window if whole else acc.add_chunk
            add(cov, a, invalid, int(win.row_off), int(win.col_off))
    except rasterio.errors.RasterioIOError as exc:
        raise _read_error(ds.name, exc) from exc
    watch.warn(ds.name, band)
    return acc
