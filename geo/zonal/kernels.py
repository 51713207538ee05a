"""Compiled (numba) class-histogram kernels and the thread that shares their work.

numba is imported and the kernels defined on first use, never at import; the numpy path
of :class:`geo.zonal.accumulate.Accumulator` gives identical results without them.
"""

from __future__ import annotations

import tempfile
import threading
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext

import numpy as np

from geo.zonal.options import OPTIONS

__all__ = ["compiled_counts", "hist_pool", "numba_kernels", "warm_kernels"]


# The kernels once defined (a memo, not a setting: {} when numba does not import).
_KERNELS: dict | None = None
_KERNELS_LOCK = threading.Lock()


def numba_kernels() -> dict | None:
    """The compiled histogram kernels; None without numba or with ``use_numba`` off.

    numba is imported and the kernels are defined on first use, never at import;
    each is compiled (``njit`` is lazy) on its first call for a raster dtype, see
    :func:`warm_kernels`.
    """
    global _KERNELS
    if not OPTIONS["use_numba"]:
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
    """The kernels, cached on disk.

    numba's first-call compilation (~1 s) is then paid once per machine rather than per process,
    under the geo cache folder, or under ``NUMBA_CACHE_DIR`` when the user set one; uncached if
    neither is writable. Only numba's setting during the definitions is changed.
    """
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

    @jit
    def rowwise(s, e, zone, row, a, bad, skip, nbins, offset, drop, area, hist, area_hist, sums):
        # Class counts of the runs row by row (runs sorted by row), then, once per row and
        # per (zone, class) the row holds, the area: count × the row's cell area. A row's
        # cells share one area, so the per-cell work is the integer count alone (in four
        # partial histograms, as `counts`). Each (zone, class) and zone sum gets its rows
        # in row order, as the numpy path adds them. `drop` flags the bins of nodata
        # values (counted as nodata, never as a class); sums: count, valid and nodata area.
        n = sums.shape[1]
        cur = np.zeros((4, n * nbins), np.int64)
        seen = np.full(n, -1, np.int64)
        zones = np.empty(n, np.int64)
        length = np.zeros(n, np.int64)
        k, runs = 0, s.shape[0]
        while k < runs:
            r, nz = row[k], 0
            while k < runs and row[k] == r:
                z = zone[k]
                if seen[z] != r:
                    seen[z], zones[nz], length[z] = r, z, 0
                    nz += 1
                length[z] += e[k] - s[k]
                base = z * nbins - offset
                i, stop = s[k], e[k]
                if skip:
                    for j in range(i, stop):
                        if not bad[j]:
                            cur[0, base + a[j]] += 1
                else:
                    while i + 4 <= stop:
                        cur[0, base + a[i]] += 1
                        cur[1, base + a[i + 1]] += 1
                        cur[2, base + a[i + 2]] += 1
                        cur[3, base + a[i + 3]] += 1
                        i += 4
                    for j in range(i, stop):
                        cur[0, base + a[j]] += 1
                k += 1
            ar = area[r]
            for t in range(nz):
                z = zones[t]
                valid = 0
                for b in range(nbins):
                    j = z * nbins + b
                    c = cur[0, j] + cur[1, j] + cur[2, j] + cur[3, j]
                    if c:
                        cur[0, j], cur[1, j], cur[2, j], cur[3, j] = 0, 0, 0, 0
                        if not drop[b]:
                            valid += c
                            hist[j] += c
                            area_hist[j] += c * ar
                sums[0, z] += valid
                sums[1, z] += valid * ar
                sums[2, z] += (length[z] - valid) * ar

    return {"counts": counts, "weighted": weighted, "cells": cells, "rowwise": rowwise}


def compiled_counts(
    kernel, s, e, zone, flat, args, size: int, pool: Executor | None = None
) -> np.ndarray:
    """Per-zone value counts of the runs.

    Large windows are split in two, one half counted on ``pool``'s thread (see
    :func:`hist_pool`), the other on this one.

    Counts are integers, so the split changes nothing in the result.
    """
    hist = np.zeros((4, size), np.int64)
    cells = int((e - s).sum())
    if pool is None or cells < OPTIONS["hist_split_cells"] or len(s) < 2:
        kernel(s, e, zone, flat, *args, hist)
        return hist.sum(axis=0)
    cut = int(np.searchsorted(np.cumsum(e - s), cells // 2)) + 1
    cut = min(max(cut, 1), len(s) - 1)
    other = np.zeros((4, size), np.int64)
    job = pool.submit(kernel, s[cut:], e[cut:], zone[cut:], flat, *args, other)
    kernel(s[:cut], e[:cut], zone[:cut], flat, *args, hist)
    job.result()
    return hist.sum(axis=0) + other.sum(axis=0)


def hist_pool(needed: bool) -> AbstractContextManager[Executor | None]:
    """The thread that shares the compiled class counts of one streaming call.

    Use as ``with hist_pool(needed) as pool:``; the thread is shut down at the end of the
    block (it starts only when a window is large enough to split). ``None`` (one thread)
    when not ``needed`` (no class histograms), with the ``hist_threads`` option below 2, or
    without the compiled kernels.

    Parameters
    ----------
    needed : bool
        Whether the call counts class histograms at all.

    Returns
    -------
    contextlib.AbstractContextManager
        Gives a :class:`concurrent.futures.ThreadPoolExecutor` of one thread, or None.
    """
    if not needed or OPTIONS["hist_threads"] < 2 or numba_kernels() is None:
        return nullcontext(None)
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="geo-hist")


def warm_kernels(dtype) -> bool:
    """Compile the histogram kernels for rasters of ``dtype`` now (numba's first-call cost).

    False when the compiled path is off. Results are not affected.
    """
    kernels = numba_kernels()
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
        kernels["rowwise"](
            one, one + 1, one, one * 0, a, bad, skip, 1, 0, bad, np.ones(1),
            np.zeros(1, np.int64), np.zeros(1), np.zeros((3, 1)),
        )  # fmt: skip
        kernels["counts"](one, one + 1, one, a, bad, skip, 1, 0, np.zeros((4, 1), np.int64))
        kernels["weighted"](
            one, one + 1, one, a, bad, skip, 1, 0, np.ones(1), np.zeros(1, np.int64), np.zeros(1)
        )
    return True
