"""Change between two epochs of a layer, per zone.

* Class layers (land cover, sandified degree …): the transition matrix — the area (km²) that
  went from class *i* to class *j* in each zone — computed exactly (coverage-weighted).
* Continuous layers (FVC, NDVI …): the area-weighted mean of each epoch over the cells valid
  in *both*, and their difference, so that a cloud gap in one year does not shift the mean.

Both epochs must be on the same grid (the statistics never resample a raster). Both rasters
are read together, window by window, as :func:`geo.zonal.zonal_stats` reads one: memory holds
two windows of each raster (about four million cells each) and the per-zone sums, never a
whole raster, so a raster that declares tens of billions of cells is streamed too.

Transitions are keyed by the *index* of each class among the classes actually present in
its epoch (at most :data:`MAX_CLASSES`), not by the stored value: any integer class raster
works (8, 16 or 32 bit), and no code can collide with a nodata value, since validity is
carried by a separate mask, never by a reserved code.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio

from geo.budget import memory_budget
from geo.errors import DataError, UsageError
from geo.grid import Grid
from geo.layers import check_raster

__all__ = [
    "MAX_CLASSES",
    "MEMORY_BUDGET_BYTES",
    "continuous_change",
    "transition_matrix",
]

#: Most distinct classes per epoch of a transition matrix (transition codes fit 16 bits).
MAX_CLASSES = 256
#: Memory the per-zone transition histograms may take (bytes); zones are processed in as
#: many batches as needed to stay within it (each batch reads the rasters again).
MEMORY_BUDGET_BYTES = 1 << 30
_NBINS = MAX_CLASSES * MAX_CLASSES
# Bytes per zone of one pass: the float64 area histogram plus the counts and temporaries
# of the accumulator (four arrays of n_zones × 65,536 eight-byte values).
_BYTES_PER_ZONE = 4 * 8 * _NBINS


# --------------------------------------------------------------------------- reading


def _open_pair(before: Path, after: Path, stack: ExitStack):
    """Open both epochs (checked) and make sure they share one grid."""
    check_raster(before, what="'before' raster")
    check_raster(after, what="'after' raster")
    try:
        a = stack.enter_context(rasterio.open(before))
        b = stack.enter_context(rasterio.open(after))
    except rasterio.errors.RasterioIOError as exc:
        raise DataError(f"cannot read {before} or {after}: {exc}") from None
    grid_a, grid_b = Grid.from_dataset(a), Grid.from_dataset(b)
    if not grid_a.same_as(grid_b, any_orientation=True):
        raise DataError(
            f"{before} and {after} are not on the same grid "
            f"({grid_a.shape} vs {grid_b.shape}); "
            "warp one onto the other's grid first (gdalwarp -te/-tr, nearest for classes)"
        )
    return a, b, grid_a


def _coverage(zones: gpd.GeoDataFrame, ds, grid: Grid, coverage):
    from geo.zonal.api import check_overlap
    from geo.zonal.cache import get_coverage

    # the coverage build checks its own memory against geo.budget before allocating
    cov = get_coverage(
        zones, grid, "exact" if coverage is None else coverage.method, coverage, None
    )
    check_overlap(cov, ds)
    return cov


def _pair_windows(a, b, cov) -> Iterator[tuple[int, int, np.ndarray, np.ndarray, np.ndarray, bool]]:
    """Windows of both epochs: ``(row, col, before, after, invalid, whole)``.

    Rows and columns are those of the north-up grid (files of any orientation are read
    flipped, :func:`geo.grid.read_window`). ``invalid`` marks the cells that are nodata
    (declared value compared in the raster's own type, NaN or ±inf) in either epoch;
    ``whole`` is true when the window holds every column the zones touch in its rows
    (else it is a column piece, summed with ``add_chunk``). The next pair is read in a
    background thread while this one is summed.
    """
    from geo.grid import read_window
    from geo.zonal.nodata import PlaceholderWatch, invalid_mask, nodata_codes
    from geo.zonal.stream import prefetched, rows_per_window, stream_windows

    pieces = list(stream_windows(cov, a, 1, rows_per_window(a, 1, cov.grid.width, None)))
    codes = [nodata_codes(ds.dtypes[0], ds.nodata, (), ds.name) for ds in (a, b)]
    watches = [PlaceholderWatch(ds.dtypes[0], ds.nodata) for ds in (a, b)]

    def read(k: int):
        win = pieces[k][0]
        return read_window(a, 1, win), read_window(b, 1, win)

    try:
        for (win, whole), (first, second) in zip(
            pieces, prefetched(len(pieces), read), strict=True
        ):
            invalid = invalid_mask(first, codes[0]) | invalid_mask(second, codes[1])
            watches[0].add(first)
            watches[1].add(second)
            yield int(win.row_off), int(win.col_off), first, second, invalid, whole
    except rasterio.errors.RasterioIOError as exc:
        raise DataError(
            f"cannot read {a.name} or {b.name}: {exc}. The file is corrupt or truncated; "
            "re-download or regenerate it"
        ) from None
    for ds, watch in zip((a, b), watches, strict=True):
        watch.warn(ds.name)


# --------------------------------------------------------------------------- classes


class _ClassIndex:
    """Index (0 … 255) of the class of each cell of one epoch.

    8-bit rasters are their own index (value, or value + 128 for int8): no lookup. Wider
    rasters number their classes in order of first appearance (at most :data:`MAX_CLASSES`).
    """

    def __init__(self, path, dtype: np.dtype) -> None:
        self.path, self.dtype = path, np.dtype(dtype)
        self.direct = self.dtype.itemsize == 1
        small = self.dtype.itemsize <= 2
        self.offset = int(np.iinfo(self.dtype).min) if small else 0
        self._values: list[int] = []
        # 16-bit rasters: a lookup table value → index (-1: not seen yet)
        self.table = (
            np.full(1 << (8 * self.dtype.itemsize), -1, np.int32)
            if small and not self.direct
            else None
        )
        self.known: dict[int, int] = {}

    @property
    def values(self) -> np.ndarray:
        """Class value of each index (int64)."""
        if self.direct:
            return np.arange(MAX_CLASSES, dtype=np.int64) + self.offset
        return np.asarray(self._values, dtype=np.int64)

    def indices(self, a: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Class index of every cell of ``a`` (any index for invalid cells: they are masked)."""
        if self.direct:
            return a.view(np.uint8) ^ np.uint8(0x80) if self.offset else a
        if self.table is not None:
            key = a.astype(np.int64) - self.offset if self.offset else a
            seen = np.bincount(key[valid].ravel(), minlength=len(self.table)) > 0
            for v in np.flatnonzero(seen & (self.table < 0)):
                self.table[v] = self._add(int(v) + self.offset)
            out = self.table[key]
        else:
            uniq, inverse = np.unique(a, return_inverse=True)
            valid_uniq = np.unique(a[valid])
            local = np.zeros(len(uniq), np.int32)
            for k in np.searchsorted(uniq, valid_uniq):
                v = int(uniq[k])
                local[k] = self.known[v] if v in self.known else self._add(v)
            out = local[inverse.reshape(a.shape)]
        out[~valid] = 0
        return out.astype(np.uint8)

    def _add(self, value: int) -> int:
        if len(self._values) >= MAX_CLASSES:
            raise UsageError(
                f"{self.path} holds more than {MAX_CLASSES} distinct values; a transition "
                f"matrix needs class rasters of at most {MAX_CLASSES} classes: reclassify it, "
                "or drop --categorical to compare the means of a continuous layer"
            )
        self._values.append(value)
        self.known[value] = len(self._values) - 1
        return len(self._values) - 1


def _check_class_dtype(ds, path) -> None:
    kind = np.dtype(ds.dtypes[0]).kind
    if kind not in "ui":
        raise UsageError(
            f"{path} is {ds.dtypes[0]}; a transition matrix needs integer class rasters "
            "(drop --categorical to compare the means of a continuous layer)"
        )


def _zone_batches(n: int) -> list[range]:
    """Ranges of zones whose transition histograms fit :data:`MEMORY_BUDGET_BYTES`."""
    per = max(min(MEMORY_BUDGET_BYTES, memory_budget() // 2) // _BYTES_PER_ZONE, 1)
    return [range(z0, min(z0 + per, n)) for z0 in range(0, n, per)]


def _subset(cov, zones: range):
    """The coverage of zones ``zones`` (a contiguous range) of ``cov``, renumbered from 0."""
    z0, z1 = zones.start, zones.stop
    if z0 == 0 and z1 == cov.n_zones:
        return cov
    run = (cov.run_zone >= z0) & (cov.run_zone < z1)
    cell = (cov.cell_zone >= z0) & (cov.cell_zone < z1)
    return replace(
        cov,
        n_zones=z1 - z0,
        run_row=cov.run_row[run],
        run_start=cov.run_start[run],
        run_end=cov.run_end[run],
        run_zone=cov.run_zone[run] - z0,
        cell_row=cov.cell_row[cell],
        cell_col=cov.cell_col[cell],
        cell_zone=cov.cell_zone[cell] - z0,
        cell_weight=cov.cell_weight[cell],
        outside_area_km2=cov.outside_area_km2[z0:z1],
        touched=cov.touched[z0:z1],
    )


def transition_matrix(
    zones: gpd.GeoDataFrame, before: str | Path, after: str | Path, *, coverage=None
) -> pd.DataFrame:
    """Area that changed from each class to each class, per zone (exact coverage weights).

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
    before, after : path
        Integer class rasters (any integer type, at most :data:`MAX_CLASSES` distinct
        values each) on the same grid.
    coverage : geo.zonal.Coverage, optional
        A coverage of ``zones`` on the rasters' grid, to reuse.

    Returns
    -------
    pandas.DataFrame
        Long form: ``zone``, ``from_class``, ``to_class``, ``area_km2`` (km²); one row per
        non-zero transition, by zone (in the order of ``zones``), then class. Cells that are
        nodata in either epoch are left out; every class value (0 … 255, 65535 …) that is
        not the declared nodata is a class.
    """
    from geo.zonal import zone_input
    from geo.zonal.accumulate import Accumulator, Spec

    zones = zone_input(zones)  # one normalisation per call: the zone key is hashed once
    before, after = Path(before), Path(after)
    with ExitStack() as stack:
        a, b, grid = _open_pair(before, after, stack)
        _check_class_dtype(a, before)
        _check_class_dtype(b, after)
        cov = _coverage(zones, a, grid, coverage)
        first = _ClassIndex(before, a.dtypes[0])
        second = _ClassIndex(after, b.dtypes[0])
        spec = Spec(stats=("count",), quantiles=(), categorical=True)
        area = cov.grid.row_cell_area_m2()  # rows of the north-up coverage grid
        frames = []
        for batch in _zone_batches(cov.n_zones):
            part = _subset(cov, batch)
            acc = Accumulator(part.n_zones, spec, np.dtype(np.uint16), area)
            acc.invalid_values = None  # validity comes from the mask of both epochs
            for r0, c0, x, y, invalid, whole in _pair_windows(a, b, part):
                valid = ~invalid
                code = first.indices(x, valid).astype(np.uint16)
                code <<= 8  # × MAX_CLASSES
                code |= second.indices(y, valid)
                add = acc.add_window if whole else acc.add_chunk
                add(part, code, invalid, r0, c0)
            frames.append(_long(acc.hist_area, zones.index, batch))
    long = pd.concat(frames, ignore_index=True)
    long["from_class"] = first.values[long.pop("i").to_numpy()]
    long["to_class"] = second.values[long.pop("j").to_numpy()]
    order = long.pop("z").to_numpy()
    long = long.assign(_z=order).sort_values(["_z", "from_class", "to_class"], kind="stable")
    return long[["zone", "from_class", "to_class", "area_km2"]].reset_index(drop=True)


def _long(hist_area: np.ndarray, index: pd.Index, batch: range) -> pd.DataFrame:
    """Non-zero bins of the transition histograms (m²) of zones ``batch`` as rows (km²)."""
    hist = hist_area.reshape(len(batch), _NBINS)
    zi, ci = np.nonzero(hist > 0)
    area = hist[zi, ci] / 1e6
    zi = zi + batch.start
    return pd.DataFrame(
        {
            "zone": index.to_numpy()[zi],
            "z": zi,
            "i": ci // MAX_CLASSES,
            "j": ci % MAX_CLASSES,
            "area_km2": area,
        }
    )


# --------------------------------------------------------------------------- continuous


def continuous_change(
    zones: gpd.GeoDataFrame, before: str | Path, after: str | Path, *, coverage=None
) -> pd.DataFrame:
    """Area-weighted mean of each epoch over cells valid in both, and the change, per zone.

    Each cell is weighted by the ground area of its covered part (``area_mean`` of
    :func:`geo.zonal.zonal_stats`), so geographic grids are not biased towards the north.
    Each raster's scale and offset are applied (physical values).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``zones``: ``mean_before``, ``mean_after``, ``change`` (after − before, in
        the rasters' unit) and ``valid_area_km2`` (km², area valid in both epochs).
    """
    from geo.zonal import zone_input
    from geo.zonal.accumulate import Accumulator, Spec

    zones = zone_input(zones)  # one normalisation per call: the zone key is hashed once
    before, after = Path(before), Path(after)
    spec = Spec(stats=("count", "area_mean"), quantiles=(), categorical=False)
    with ExitStack() as stack:
        a, b, grid = _open_pair(before, after, stack)
        cov = _coverage(zones, a, grid, coverage)
        area = cov.grid.row_cell_area_m2()  # rows of the north-up coverage grid
        accs = [Accumulator(cov.n_zones, spec, np.dtype(ds.dtypes[0]), area) for ds in (a, b)]
        for r0, c0, x, y, invalid, whole in _pair_windows(a, b, cov):
            for acc, values in zip(accs, (x, y), strict=True):
                add = acc.add_window if whole else acc.add_chunk
                add(cov, values, invalid, r0, c0)
        means = [
            acc.frame(zones.index, cov.outside_area_km2, ds.scales[0], ds.offsets[0])
            for acc, ds in zip(accs, (a, b), strict=True)
        ]
    out = pd.DataFrame(
        {"mean_before": means[0]["area_mean"], "mean_after": means[1]["area_mean"]},
        index=zones.index,
    )
    out["change"] = out["mean_after"] - out["mean_before"]
    out["valid_area_km2"] = means[0]["valid_area_km2"]
    return out
