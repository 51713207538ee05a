"""The zonal context of a run: each zone set's coverage on a grid, built once.

Which cells a zone covers, and by how much, depends on the zones and the raster grid only. A
run of the main job reads a dozen rasters on one grid over five zone sets, then the same
rasters under five method variants: a :class:`ZonalContext` holds the coverage of each
(zone set, grid) for the whole run, so it is built (or read from the disk cache) once and
passed to every computation (:func:`geo.indicators.compute`, extra layers, the sensitivity
runs).
"""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path

from geo.errors import GeoWarning
from geo.zoneset import as_zone_set

__all__ = ["ZonalContext"]


class ZonalContext:
    """Coverages of zone sets on grids, shared by the computations of one run.

    Parameters
    ----------
    cache_dir : path, optional
        On-disk coverage cache (``<cache>/coverage``); ``None`` keeps coverages in memory
        only (this context and the process cache, :data:`geo.zonal.coverage_cache`).
    force : bool
        Build every coverage afresh without reading the disk cache (the new one replaces
        the file there).

    Attributes
    ----------
    builds : int
        Coverages this context did not find in the disk cache (built afresh).

    Examples
    --------
    >>> from geo.context import ZonalContext
    >>> context = ZonalContext()
    >>> # context.coverage(zone_set, grid) → geo.zonal.Coverage, the same object on every call
    """

    def __init__(self, cache_dir: str | os.PathLike | None = None, force: bool = False) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.force = force
        self.builds = 0
        self._coverages: dict = {}
        self._lock = threading.Lock()

    def coverage(self, zones, grid, method: str = "exact"):
        """The coverage of ``zones`` on ``grid``: held, else from the disk cache, else built.

        Parameters
        ----------
        zones : geo.zones.ZoneSet or geopandas.GeoDataFrame
        grid : geo.grid.Grid
        method : {"exact", "all_touched", "center"}

        Returns
        -------
        geo.zonal.Coverage
            Built for ``zones.frame`` (pass that frame to :func:`geo.zonal.zonal_stats`).
        """
        zone_set = as_zone_set(zones)
        grid = grid.north_up()
        key = (zone_set.key, grid.key(), method)
        with self._lock:
            cov = self._coverages.get(key)
            if cov is None:
                cov = self._coverages[key] = self._make(zone_set.frame, grid, method)
        return cov

    def _make(self, frame, grid, method: str):
        from geo.zonal import Coverage
        from geo.zonal.cache import process_cache

        if not self.force:  # the process cache first: a second run in a notebook is warm
            memory = process_cache()
            on_disk = self.cache_dir is not None and (
                Coverage.cache_path(frame, grid, method, self.cache_dir).is_file()
            )
            misses = memory.misses
            cov = memory.get(frame, grid, method, self.cache_dir)
            self.builds += memory.misses > misses and not on_disk
            return cov
        cov = Coverage.build(frame, grid, method)
        self.builds += 1
        if self.cache_dir is not None:  # forced: the fresh coverage replaces the saved one
            try:
                cov.save(Coverage.cache_path(frame, grid, method, self.cache_dir))
            except OSError as exc:
                warnings.warn(
                    f"cannot write the coverage cache in {self.cache_dir} "
                    f"({exc.strerror or exc}); carrying on without caching — give a writable "
                    "--cache folder",
                    GeoWarning,
                    stacklevel=4,
                )
        return cov

    def __len__(self) -> int:
        """Number of coverages held (one per zone set, grid and method)."""
        return len(self._coverages)
