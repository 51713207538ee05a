"""Per-zone running sums of one raster, window by window: :class:`Accumulator`.

:func:`make_spec` turns the arguments of :func:`geo.zonal.zonal_stats` into a :class:`Spec`
(what to compute); an :class:`Accumulator` adds the windows of a raster (numeric sums over
the runs with ``numpy.ufunc.reduceat``, class histograms with the kernels of
:mod:`geo.zonal.kernels`) and turns its sums into the result table
(:mod:`geo.zonal.results`).
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.errors import UsageError
from geo.zonal.coverage import Coverage
from geo.zonal.kernels import compiled_counts, numba_kernels
from geo.zonal.options import OPTIONS
from geo.zonal.results import result_frame

__all__ = ["AREA_COLUMNS", "STATS", "Accumulator", "Spec", "make_spec"]


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

#: Widest histogram (bins) counted row by row on grids of unequal row areas: the per-row
#: flush scans every bin of each zone a row holds (uint8/int8 classes: 256 bins).
ROWWISE_MAX_BINS = 4096


@dataclass
class Spec:
    """What to compute, derived from the arguments of :func:`zonal_stats`."""

    stats: tuple[str, ...]
    quantiles: tuple[float, ...]
    categorical: bool

    @property
    def need_sum(self) -> bool:
        """Whether sums of values are needed (sum, mean, stdev, area_mean)."""
        return bool({"sum", "mean", "stdev", "area_mean"} & set(self.stats))

    @property
    def need_area_sum(self) -> bool:
        """Whether area-weighted sums are needed (area_mean)."""
        return "area_mean" in self.stats

    @property
    def need_sq(self) -> bool:
        """Whether sums of squares are needed (stdev)."""
        return "stdev" in self.stats

    @property
    def need_minmax(self) -> bool:
        """Whether minima and maxima are needed (min, max; stdev for its exact 0)."""
        # stdev needs them too: a zone of equal values has a stdev of exactly 0.
        return bool({"min", "max", "stdev"} & set(self.stats))

    @property
    def need_quantiles(self) -> bool:
        """Whether quantiles (median included) are needed."""
        return bool(self.quantiles)


def make_spec(stats, quantiles, categorical) -> Spec:
    """What to compute, from the arguments of :func:`geo.zonal.zonal_stats`.

    Raises
    ------
    UsageError
        An unknown statistic; ``quantile`` without quantiles; a quantile outside [0, 1].
    """
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
    return Spec(stats=keep, quantiles=qs, categorical=bool(categorical))


class Accumulator:
    """Per-zone running sums over the windows of one raster."""

    def __init__(self, n: int, spec: Spec, dtype: np.dtype, row_area_m2: np.ndarray) -> None:
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
        small = 0 < self.hist_bits <= OPTIONS["int_hist_max_bits"]
        use_hist = spec.categorical or (spec.need_quantiles and small)
        nbins = 1 << self.hist_bits if use_hist else 0
        self.hist_offset = -(1 << (self.hist_bits - 1)) if dtype.kind == "i" else 0
        self.hist_cov = np.zeros(n * nbins) if spec.need_quantiles and nbins else None
        self.hist_area = np.zeros(n * nbins) if spec.categorical else None
        self.nbins = nbins
        self.gathered: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        # Stored values that are nodata, when the caller knows them (integer
        # rasters, see invalid_values); None: only the invalid mask tells.
        self.invalid_values: np.ndarray | None = None
        # A thread sharing the compiled class counts of large windows, owned by the caller
        # (see geo.zonal.kernels.hist_pool); None counts on the calling thread.
        self.pool: Executor | None = None

    # values ----------------------------------------------------------------------------

    def add_window(self, cov: Coverage, a: np.ndarray, invalid: np.ndarray, r0: int, c0: int):
        """Add the window ``a`` (rows from ``r0``, columns from ``c0``).

        The window must hold every column the zones touch in its rows, as the
        windows of :func:`stream` do; :meth:`add_chunk` takes any window.
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

    def merge(self, other: Accumulator) -> Accumulator:
        """Add the sums of ``other`` (same zones, statistics and dtype) into this one.

        Sums are kept relative to a shift (see :meth:`_add`); ``other``'s are moved
        to this accumulator's shift exactly: Σw(y + d) = S + dC and
        Σw(y + d)² = Q + 2dS + d²C with d the difference of the shifts.

        Returns
        -------
        Accumulator
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
        """Add the run cells of window ``a``: counts and areas, sums, extremes, values."""
        row, start, end, zone = runs
        base = (row.astype(np.int64) - r0) * a.shape[1] - c0
        s, e = base + start, base + end
        # reduceat bounds: start, end of each run (the last end dropped at the array's end)
        idx = np.empty(2 * len(s), dtype=np.int64)
        idx[0::2], idx[1::2] = s, e
        if idx[-1] == a.size:
            idx = idx[:-1]
        rows_area = self.row_area[r0 : r0 + a.shape[0]]
        if self.nbins and self.nbins <= ROWWISE_MAX_BINS and rows_area.min() != rows_area.max():
            # rows of unequal area (geographic grids): counts per row, areas once per row
            self._add_rows_hist(row - r0, s, e, zone, a, invalid, rows_area)
        else:
            counts = self._add_histograms(s, e, zone, a, invalid, r0) if self.nbins else None
            self._add_run_counts(row, zone, e - s, idx, counts, invalid, r0)
        if self.spec.need_sum:
            self._add_run_sums(row, zone, x.ravel(), idx)
        if self.spec.need_minmax:
            raw = np.where(invalid, np.nan, a.astype(np.float64)).ravel()
            np.fmin.at(self.min, zone, np.fmin.reduceat(raw, idx)[0::2])
            np.fmax.at(self.max, zone, np.fmax.reduceat(raw, idx)[0::2])
        if not self.nbins and self.spec.need_quantiles:
            labels = expand_labels(s, e, zone, a.size, self.n)
            keep = ~invalid.ravel() & (labels < self.n)
            lab = labels[keep]
            self.gathered.append((lab, a.ravel()[keep].astype(np.float64), np.ones(len(lab))))

    def _add_run_counts(self, row, zone, lengths, idx, counts, invalid, r0) -> None:
        """Valid cell counts and valid and nodata areas of the runs of a window."""
        rows_area = self.row_area[r0 : r0 + invalid.shape[0]]
        if counts is not None and rows_area.min() == rows_area.max():
            # The histograms count exactly the valid run cells: no second pass.
            self._add_run_totals(zone, lengths, counts, rows_area[0])
            return
        n_valid = np.add.reduceat(~invalid.ravel(), idx, dtype=np.int64)[0::2]
        n_valid = n_valid.astype(np.float64)
        n_all = lengths.astype(np.float64)
        area = self.row_area[row]
        self._bin(self.count, zone, n_valid)
        self._bin(self.valid_area, zone, n_valid * area)
        self._bin(self.nodata_area, zone, (n_all - n_valid) * area)

    def _add_run_sums(self, row, zone, flat, idx) -> None:
        """Sums (and area-weighted sums, sums of squares) of the shifted values of the runs."""
        run_sums = np.add.reduceat(flat, idx)[0::2]
        self._bin(self.sum, zone, run_sums)
        if self.spec.need_area_sum:
            # a run lies in one row: one cell area per run
            self._bin(self.area_sum, zone, run_sums * self.row_area[row])
        if self.spec.need_sq:
            self._bin(self.sq, zone, np.add.reduceat(flat * flat, idx)[0::2])

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
        if numba_kernels() is not None:
            return self._add_histograms_compiled(s, e, zone, a, invalid, r0)
        key = key_dtype(size + self.nbins) if not self.hist_offset else np.intp
        idx = expand_labels(s, e, zone.astype(key) * key(self.nbins), a.size, size, key)
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
        kernels = numba_kernels()
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
            counts = compiled_counts(kernels["counts"], s, e, zone, flat, args, size, self.pool)
        counts = self._drop_invalid(counts)
        if self.hist_cov is not None:
            self.hist_cov += counts
        if area is not None:  # equal-area grid: one area for every cell
            self.hist_area += counts * area[0]
        return counts

    def _add_rows_hist(self, row, s, e, zone, a, invalid, area) -> None:
        """Class counts, valid and nodata totals of a window whose rows differ in cell area.

        Counted row by row: a row's cells share one area, so each (zone, class) count of a
        row is multiplied by it once, not summed cell by cell.

        Large windows are cut at a row boundary into two parts (:func:`row_parts`, by
        options only), the second counted on ``pool``'s thread when there is one. Both
        paths add, for every (zone, class) and zone, the rows' terms of each part in row
        order from zero, then the two parts: the compiled and numpy results are identical.
        """
        drop = np.zeros(self.nbins, dtype=bool)
        if self.invalid_values is not None and len(self.invalid_values):
            drop[self.invalid_values - self.hist_offset] = True
        parts = row_parts(row, s, e)
        kernels = numba_kernels()
        if kernels is None:
            done = [self._rows_numpy(row[p], s[p], e[p], zone[p], a, invalid, area, drop)
                    for p in parts]  # fmt: skip
        else:
            i64 = np.int64
            runs = [x.astype(i64, copy=False) for x in (s, e, zone, row)]
            skip = self.invalid_values is None
            bad = invalid.reshape(-1) if skip else np.zeros(1, dtype=bool)
            args = (a.reshape(-1), bad, skip, self.nbins, self.hist_offset, drop, area)

            def count(part: slice):
                out = self._rows_out()
                kernels["rowwise"](*(x[part] for x in runs), *args, *out)
                return out

            if len(parts) > 1 and self.pool is not None:
                job = self.pool.submit(count, parts[1])
                done = [count(parts[0]), job.result()]
            else:
                done = [count(p) for p in parts]
        hist, area_hist, sums = done[0]
        for more in done[1:]:
            hist, area_hist, sums = hist + more[0], area_hist + more[1], sums + more[2]
        self.count += sums[0]
        self.valid_area += sums[1]
        self.nodata_area += sums[2]
        if self.hist_cov is not None:
            self.hist_cov += hist
        if self.hist_area is not None:
            self.hist_area += area_hist

    def _rows_out(self):
        size = self.n * self.nbins
        return np.zeros(size, np.int64), np.zeros(size), np.zeros((3, self.n))

    def _rows_numpy(self, row, s, e, zone, a, invalid, area, drop):
        """One part of :meth:`_add_rows_hist` without numba.

        A histogram per row, flushed in row order. Returns the part's (counts, class areas,
        zone sums).
        """
        hist, area_hist, sums = self._rows_out()
        if not len(row):
            return hist, area_hist, sums
        w = a.shape[1]
        lo, hi = int(row[0]), int(row[-1]) + 1  # runs are sorted by row
        sub, size = a[lo:hi].ravel(), self.n * self.nbins
        s, e = s - lo * w, e - lo * w
        idx = expand_labels(s, e, zone.astype(np.intp) * self.nbins, sub.size, size)
        idx += sub
        idx -= self.hist_offset  # cells outside the runs: size and above, dropped
        if self.invalid_values is None:
            idx[invalid[lo:hi].ravel()] = size
        keep = np.tile(~drop, self.n)
        local = (row - lo) * self.n + zone
        lengths = np.bincount(local, weights=e - s, minlength=(hi - lo) * self.n)
        lengths = lengths.astype(np.int64).reshape(hi - lo, self.n)
        for r in range(hi - lo):
            counts = np.bincount(idx[r * w : (r + 1) * w], minlength=size + 1)[:size]
            counts[~keep] = 0
            valid = counts.reshape(self.n, self.nbins).sum(axis=1)
            ar = area[lo + r]
            hist += counts
            area_hist += counts * ar
            sums[0] += valid
            sums[1] += valid * ar
            sums[2] += (lengths[r] - valid) * ar
        return hist, area_hist, sums

    def _drop_invalid(self, hist: np.ndarray) -> np.ndarray:
        """Zero the bins of the nodata values (when known) of flat per-zone histograms."""
        if self.invalid_values is not None and len(self.invalid_values):
            hist.reshape(self.n, self.nbins)[:, self.invalid_values - self.hist_offset] = 0
        return hist

    def _add_cells(self, cells, x, a, invalid, r0, c0):
        row, col, zone, wt = cells
        spec = self.spec
        kernels = numba_kernels() if self.nbins else None
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
        """:meth:`_add_cells` of a histogram-only layer, compiled.

        The same sums (``np.bincount``'s, added cell by cell in order into zeroed arrays).
        """
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
        """The result table (one row per zone); see :func:`geo.zonal.results.result_frame`."""
        return result_frame(self, index, outside_km2, scale, offset)


def expand_labels(s, e, zone, size: int, none: int, dtype=np.intp) -> np.ndarray:
    """Label window (flat, ``dtype``) from sorted disjoint runs; ``none`` elsewhere."""
    bounds = np.empty(2 * len(s) + 2, dtype=np.int64)
    bounds[0], bounds[-1] = 0, size
    bounds[1:-1:2], bounds[2:-1:2] = s, e
    values = np.full(2 * len(s) + 1, none, dtype=dtype)
    values[1::2] = zone
    return np.repeat(values, np.diff(bounds))


def row_parts(row: np.ndarray, s: np.ndarray, e: np.ndarray) -> list[slice]:
    """The runs of a window in one part, or two cut at a row boundary.

    The cut is at the row boundary nearest half the cells when the window holds at least
    ``hist_split_cells`` cells and ``hist_threads`` is 2 or more (options only: every path cuts
    alike, so results never depend on threads or on numba).
    """
    cells = np.cumsum(e - s)
    if not len(cells) or cells[-1] < OPTIONS["hist_split_cells"] or OPTIONS["hist_threads"] < 2:
        return [slice(None)]
    k = min(int(np.searchsorted(cells, cells[-1] // 2)), len(row) - 1)
    cut = int(np.searchsorted(row, row[k], side="right"))
    if cut >= len(row):
        cut = int(np.searchsorted(row, row[k], side="left"))
    if cut <= 0 or cut >= len(row):
        return [slice(None)]
    return [slice(0, cut), slice(cut, None)]


def key_dtype(n_keys: int) -> type:
    """Narrowest unsigned dtype holding ``n_keys`` histogram keys.

    The key window is written, added to and read once per cell; uint16 keys
    move a quarter of the bytes of intp ones.
    """
    if n_keys <= 1 << 16:
        return np.uint16
    return np.uint32 if n_keys <= 1 << 32 else np.intp
