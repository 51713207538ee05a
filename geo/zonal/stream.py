"""Reading a raster once, in windows of whole blocks of rows, into an accumulator.

:func:`stream` plans the windows (:func:`stream_windows`: the columns the zones touch,
about ``window_cells`` cells each), checks their memory, reads the next window in a
background thread while this one is summed (:func:`prefetched`), and owns the threads it
uses: both are closed when it returns.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import TypeVar

import numpy as np
import rasterio
from rasterio.windows import Window

from geo.budget import check_budget
from geo.errors import DataError
from geo.grid import read_window
from geo.zonal.accumulate import Accumulator, Spec
from geo.zonal.coverage import Coverage
from geo.zonal.kernels import hist_pool
from geo.zonal.nodata import PlaceholderWatch, invalid_mask, invalid_values, nodata_codes
from geo.zonal.options import OPTIONS

__all__ = [
    "open_raster",
    "prefetched",
    "read_error",
    "rows_per_window",
    "stream",
    "stream_bytes",
    "stream_layers",
    "stream_windows",
]


def open_raster(raster, stack: ExitStack):
    """An open dataset for ``raster`` (a path, opened on ``stack``; or an open dataset).

    Raises
    ------
    DataError
        A missing or unreadable file, or a closed dataset.
    """
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
        raise read_error(path, exc) from exc


def read_error(path, exc: Exception) -> DataError:
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


def rows_per_window(ds, band: int, width: int, window_rows: int | None) -> int:
    """Rows per streamed window, rounded up to whole blocks of rows.

    ``window_rows``, or about ``window_cells`` cells (option).
    """
    block_h = max(int(ds.block_shapes[band - 1][0]), 1)
    rows = window_rows or max(OPTIONS["window_cells"] // max(width, 1), 1)
    return max(-(-rows // block_h), 1) * block_h


def stream_windows(cov: Coverage, ds, band: int, rows: int) -> Iterator[tuple[Window, bool]]:
    """Windows of whole block rows, limited to the (block-aligned) columns in use.

    Yields ``(window, whole)``: ``whole`` when the window holds every column the
    zones touch in its rows. A band of block rows much larger than
    ``window_cells`` (option; tall blocks on a wide raster) is cut into block-aligned
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
        if (r1 - r0) * (c1 - c0) <= 2 * OPTIONS["window_cells"]:
            yield Window(c0, r0, c1 - c0, r1 - r0), True
            continue
        step = max(OPTIONS["window_cells"] // (r1 - r0) // block_w, 1) * block_w
        for p0 in range(c0, c1, step):
            yield Window(p0, r0, min(step, c1 - p0), r1 - r0), False


def stream_bytes(n_zones: int, spec: Spec, dtype: np.dtype, window_cells: int) -> float:
    """Estimated peak memory of :func:`stream`, bytes.

    The window buffers and their float64 working copies, and the per-zone class histograms
    (zones × 2^bits bins).
    """
    bits = dtype.itemsize * 8 if dtype.kind in "ui" else 0
    small = 0 < bits <= OPTIONS["int_hist_max_bits"]
    hist = spec.categorical or (spec.need_quantiles and small)
    bins = float(1 << bits) if hist else 0.0
    per_cell = 2 * dtype.itemsize + 1 + (24 if spec.need_sum else 8)
    return window_cells * per_cell + n_zones * bins * 8 * 3


_T = TypeVar("_T")


def prefetched(count: int, read: Callable[[int], _T]) -> Iterator[_T]:
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


def stream(
    ds, band: int, cov: Coverage, spec: Spec, window_rows: int | None, extra: tuple = ()
) -> Accumulator:
    """Read the raster once, window by window, and accumulate per-zone sums.

    The next window is read in a background thread (GDAL releases the GIL while
    decoding) while this one is summed; at most two windows are in memory. Both
    background threads are owned by the call and shut down before it returns.

    Parameters
    ----------
    ds : rasterio.DatasetReader
        The raster, on ``cov``'s grid.
    band : int
        1-based band.
    cov : Coverage
        The zones' coverage of the grid.
    spec : Spec
        What to compute.
    window_rows : int, optional
        Rows per window (rounded up to whole blocks); default about ``window_cells`` cells.
    extra : tuple of float
        Stored values that count as nodata besides the band's.

    Returns
    -------
    Accumulator
        The per-zone sums (``acc.frame(...)`` makes the table).
    """
    return stream_layers([(ds, band)], cov, spec, window_rows, extra)[0]


def stream_layers(
    layers: Sequence[tuple[object, int]],
    cov: Coverage,
    spec: Spec,
    window_rows: int | None,
    extra: tuple = (),
) -> list[Accumulator]:
    """Read several layers of one grid in ONE pass over the windows, one accumulator each.

    The windows are planned once (on the blocks of the first layer); window ``k`` of every
    layer is read, in layer order, before window ``k + 1`` of any, each read overlapped with
    the summing of the previous one (:func:`prefetched`). At most two layer-windows are in
    memory at once, so peak memory does not grow with the number of layers (only the
    per-zone sums, a few KB each, or the class histograms, zones × 2^bits × 8 bytes, do).
    A single layer gives exactly what :func:`stream` gave before: the same windows, summed
    in the same order.

    Parameters
    ----------
    layers : sequence of (dataset, band)
        Open datasets (rasterio, or :class:`geo.zonal.xarrays.DataArrayReader`) on
        ``cov``'s grid, and their 1-based bands.
    cov : Coverage
        The zones' coverage of the grid.
    spec : Spec
        What to compute (the same for every layer).
    window_rows : int, optional
        Rows per window (rounded up to whole blocks of the first layer).
    extra : tuple of float
        Stored values that count as nodata besides each band's.

    Returns
    -------
    list of Accumulator
        One per layer, in the order of ``layers``.
    """
    ds0, band0 = layers[0]
    rows = rows_per_window(ds0, band0, cov.grid.width, window_rows)
    pieces = list(stream_windows(cov, ds0, band0, rows))
    windows = [win for win, _ in pieces]
    most = max((int(win.width) * int(win.height) for win in windows), default=0)
    dtypes = [np.dtype(ds.dtypes[band - 1]) for ds, band in layers]
    window_bytes = max(stream_bytes(cov.n_zones, spec, d, most) for d in dtypes)
    sums_bytes = sum(stream_bytes(cov.n_zones, spec, d, 0) for d in dtypes)
    check_budget(ds0.name, window_bytes + sums_bytes, "the zonal statistics")
    row_area = cov.grid.row_cell_area_m2()
    accs, codes, watches = [], [], []
    for (ds, band), dtype in zip(layers, dtypes, strict=True):
        acc = Accumulator(cov.n_zones, spec, dtype, row_area)
        codes.append(nodata_codes(dtype, ds.nodatavals[band - 1], extra, ds.name))
        acc.invalid_values = invalid_values(codes[-1])
        accs.append(acc)
        watches.append(PlaceholderWatch(dtype, ds.nodatavals[band - 1], extra))

    # Two window buffers per dtype, read into in turn (item k into buffer k % 2: the
    # item being summed and the one being read never share one), and one for the invalid
    # mask: reused rather than allocated per window (fresh pages cost about as much as an
    # integer window's mask). The accumulators keep no reference to them.
    bufs = {d: [np.empty(most, dtype=d), np.empty(most, dtype=d)] for d in set(dtypes)}
    mask_buf = np.empty(most, dtype=bool)
    n = len(layers)

    def read(item: int) -> np.ndarray:
        win, (ds, band) = windows[item // n], layers[item % n]
        out = bufs[dtypes[item % n]][item % 2][: int(win.width) * int(win.height)]
        try:
            return read_window(ds, band, win, out=out.reshape(int(win.height), int(win.width)))
        except rasterio.errors.RasterioIOError as exc:
            raise read_error(ds.name, exc) from exc

    # this call's threads (window prefetch, class counts) are closed before it returns
    with hist_pool(any(acc.nbins > 0 for acc in accs)) as pool:
        for acc in accs:
            acc.pool = pool
        arrays = prefetched(len(windows) * n, read)
        try:
            for (win, whole), _ in zip(pieces, windows, strict=True):
                for k, acc in enumerate(accs):
                    a = next(arrays)
                    invalid = invalid_mask(a, codes[k], mask_buf[: a.size].reshape(a.shape))
                    watches[k].add(a)
                    add = acc.add_window if whole else acc.add_chunk
                    add(cov, a, invalid, int(win.row_off), int(win.col_off))
        finally:
            arrays.close()  # an error mid-pass: stop the read-ahead thread now
            for acc in accs:
                acc.pool = None  # the accumulator outlives the thread (and may be pickled)
    for (ds, band), watch in zip(layers, watches, strict=True):
        watch.warn(ds.name, band)
    return accs
