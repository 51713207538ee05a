"""The in-process coverage cache and the one place a zonal call gets its coverage."""

from __future__ import annotations

import os
import threading

from geo.errors import CRSError, DataError, UsageError, ZoneError
from geo.grid import Grid
from geo.zonal.coverage import Coverage
from geo.zonal.inputs import zone_input
from geo.zonal.options import get_options

__all__ = ["CoverageCache", "coverage_cache", "get_coverage", "process_cache"]


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
        zones,
        grid: Grid,
        method: str = "exact",
        cache_dir: str | os.PathLike | None = None,
    ) -> Coverage:
        """The coverage of ``zones`` on ``grid``: from memory, else the disk cache, else built.

        ``zones``: a GeoDataFrame, a zone set or a :class:`~geo.zonal.inputs.ZonesInput`
        (see :func:`geo.zonal.zone_input`); its key is computed once for the lookup, the
        disk cache and the build.
        """
        limit = self.max_bytes  # read first: a malformed GEO_BARRIER_MEMORY is said on every call
        zones = zone_input(zones)
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


def process_cache() -> CoverageCache:
    """The process's coverage cache, :data:`geo.zonal.coverage_cache`.

    Looked up on the package at each call, so a cache put in its place there (a test's
    fresh cache, a notebook's bigger one) is the one used.
    """
    import geo.zonal

    return geo.zonal.coverage_cache


def get_coverage(zones, grid: Grid, method: str, coverage, cache_dir) -> Coverage:
    """The coverage a zonal call uses.

    ``coverage`` checked against the zones and grid, else the process cache's (which loads or
    builds it).

    Parameters
    ----------
    zones : geopandas.GeoDataFrame, zone set or ZonesInput
        The zones (see :func:`geo.zonal.zone_input`).
    grid : Grid
        The raster's grid.
    method : {"exact", "all_touched", "center"}
        Coverage method.
    coverage : Coverage or None
        A coverage given by the caller.
    cache_dir : str or os.PathLike, optional
        Disk cache folder (default: the ``cache_dir`` option of :func:`geo.zonal.set_options`).

    Returns
    -------
    Coverage

    Raises
    ------
    CRSError
        Zones without a CRS.
    DataError
        ``coverage`` built on another grid.
    UsageError
        ``coverage`` built with another method.
    ZoneError
        ``coverage`` built for other zones.
    """
    zones = zone_input(zones)
    if zones.crs is None:
        raise CRSError("zones have no CRS; set it with zones.set_crs(...) before zonal_stats")
    if coverage is None:
        if cache_dir is None:
            cache_dir = get_options()["cache_dir"]
        return process_cache().get(zones, grid, method, cache_dir)
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
