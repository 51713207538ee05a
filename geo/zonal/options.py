"""Tuning options of the zonal engine, set with :func:`set_options` (modelled on xarray's).

Every knob that used to be a module global (window size, thread counts, the compiled
histogram switch, the tiling of the exact build ...) lives in the one registry
:data:`OPTIONS` of this module and is read where it is used, so a change takes effect on
the next call. None of them changes a result: they trade memory against speed.

The registry is a plain dict, as in xarray, not a :class:`contextvars.ContextVar`: the
engine reads the options from worker threads (coverage build, window prefetch, Dask's
threaded scheduler), which a context variable would not reach.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from geo.errors import UsageError

__all__ = ["OPTIONS", "get_options", "set_options"]

#: The current options (read them with :func:`get_options`, change them with :func:`set_options`).
OPTIONS: dict[str, Any] = {
    "gdal_cachemax_mb": 64,
    "read_threads": 2,
    "window_cells": 4_000_000,
    "int_hist_max_bits": 16,
    "exact_tile": 64,
    "feature_cost_cells": 6000,
    "tiled_min_cells": 20_000_000,
    "build_threads": min(os.cpu_count() or 1, 4),
    "use_numba": True,
    "hist_threads": min(os.cpu_count() or 1, 2),
    "hist_split_cells": 1 << 19,
    "cache_dir": None,
}


def _int_at_least(low: int) -> Callable[[Any], bool]:
    def valid(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= low

    valid.__doc__ = f"an integer >= {low}"
    return valid


def _tile(value: Any) -> bool:
    return value is None or _int_at_least(1)(value)


def _hist_bits(value: Any) -> bool:
    return _int_at_least(1)(value) and value <= 16


def _boolean(value: Any) -> bool:
    return isinstance(value, bool)


def _folder(value: Any) -> bool:
    return value is None or isinstance(value, (str, os.PathLike))


_tile.__doc__ = "None or an integer >= 1"
_folder.__doc__ = "None or a folder path"
_hist_bits.__doc__ = "an integer from 1 to 16"
_boolean.__doc__ = "True or False"

_VALIDATORS: dict[str, Callable[[Any], bool]] = {
    "gdal_cachemax_mb": _int_at_least(1),
    "read_threads": _int_at_least(1),
    "window_cells": _int_at_least(1),
    "int_hist_max_bits": _hist_bits,
    "exact_tile": _tile,
    "feature_cost_cells": _int_at_least(0),
    "tiled_min_cells": _int_at_least(0),
    "build_threads": _int_at_least(1),
    "use_numba": _boolean,
    "hist_threads": _int_at_least(1),
    "hist_split_cells": _int_at_least(0),
    "cache_dir": _folder,
}


class set_options:
    """Set tuning options of :mod:`geo.zonal`, for a ``with`` block or for the process.

    Parameters
    ----------
    gdal_cachemax_mb : int, default 64
        GDAL block cache of the streamed read, MB. The read never revisits a block, so a
        small cache bounds memory without costing speed.
    read_threads : int, default 2
        GDAL threads decoding the blocks of one window (GeoTIFF, GDAL >= 3.6); the decode,
        not the summing, is the bottleneck of float layers.
    window_cells : int, default 4_000_000
        Target cells of one streamed window (before alignment to whole blocks of rows), and
        of one strip of the rasterized (``all_touched``/``center``) coverage build, cells.
    int_hist_max_bits : int, default 16
        Widest integer raster, bits, summarised with per-zone histograms (categorical
        statistics, integer quantiles); at most 16.
    exact_tile : int or None, default 64
        Side of the tiles of the exact coverage build, cells; ``None`` makes exactextract
        cover whole zones.
    feature_cost_cells : int, default 6000
        Fixed cost of one exactextract feature of the tiled build, in cells of a
        whole-zone run (decides when tiling pays).
    tiled_min_cells : int, default 20_000_000
        Jobs whose zone windows hold fewer cells in total are covered whole by
        exactextract (one pass beats per-zone set-up costs), cells.
    build_threads : int, default min(CPU count, 4)
        Threads building the exact coverage of different zones at once.
    use_numba : bool, default True
        Count class histograms with the compiled (numba) kernels when numba imports;
        ``False`` forces the numpy path. Both give identical results.
    hist_threads : int, default min(CPU count, 2)
        Threads the compiled histogram kernel splits the runs of a window over.
    hist_split_cells : int, default 524288
        Windows with fewer run cells than this are counted on one thread, cells.
    cache_dir : str or os.PathLike or None, default None
        Disk cache of coverages used when a call passes no ``cache_dir=``: every coverage
        built is saved there (checksummed) and found by the next process. ``None`` keeps
        coverages in memory only (the process cache). The ``barrier`` commands set it to
        ``<cache folder>/coverage`` unless ``--no-cache`` is given.

    Raises
    ------
    UsageError
        An unknown option, or a value of the wrong type or range (the option is named;
        nothing is changed).

    Examples
    --------
    As a context manager (the old values come back at the end of the block):

    >>> from geo import zonal
    >>> with zonal.set_options(window_cells=1_000_000, use_numba=False):
    ...     zonal.get_options()["window_cells"]
    1000000
    >>> zonal.get_options()["window_cells"]
    4000000

    Or as a plain call, for the rest of the process: ``zonal.set_options(build_threads=1)``.
    """

    def __init__(self, **kwargs: Any) -> None:
        self.old: dict[str, Any] = {}
        for name, value in kwargs.items():
            if name not in OPTIONS:
                raise UsageError(
                    f"unknown geo.zonal option {name!r}; choose from {', '.join(sorted(OPTIONS))}"
                )
            valid = _VALIDATORS[name]
            if not valid(value):
                raise UsageError(
                    f"geo.zonal option {name!r} must be {valid.__doc__}; got {value!r}"
                )
            self.old[name] = OPTIONS[name]
        OPTIONS.update(kwargs)

    def __enter__(self) -> set_options:
        """The options are set already (by ``__init__``)."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Restore the options as they were before the block."""
        OPTIONS.update(self.old)


def get_options() -> MappingProxyType:
    """The current tuning options of :mod:`geo.zonal`, read-only (see :class:`set_options`).

    Returns
    -------
    types.MappingProxyType
        Option name → value, as they are now (a snapshot: later changes do not show).
    """
    return MappingProxyType(dict(OPTIONS))
