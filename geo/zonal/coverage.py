"""The coverage of a zone set on a raster grid: the model, its identity and its file.

A :class:`Coverage` says which cells each zone covers and by how much, as run-length
records of the cells wholly inside one zone and a sparse list of the other (cell, zone)
pairs (see :mod:`geo.zonal`). It depends only on the zones and the grid, so it is built
once (:meth:`Coverage.build`) and reused for every raster on the grid, in memory
(:mod:`geo.zonal.cache`) or on disk (:meth:`Coverage.load_or_build`, checksummed ``.npz``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from geo.budget import check_budget
from geo.errors import GeoWarning, UsageError
from geo.grid import Grid
from geo.zonal.build import coverage_bytes, coverage_pieces
from geo.zonal.inputs import zone_input, zones_digest, zones_in_grid_crs
from geo.zonal.overlaps import outside_area_km2, resolve_overlaps

__all__ = ["METHODS", "Coverage", "check_method"]

METHODS = ("exact", "all_touched", "center")
_CACHE_FORMAT = 2  # 2: arrays checksummed (sha256 in the metadata)


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
        """Index the runs and partial cells by row (for windowed reads)."""
        h = self.grid.height
        self._run_ptr = np.searchsorted(self.run_row, np.arange(h + 1))
        self._cell_ptr = np.searchsorted(self.cell_row, np.arange(h + 1))
        self._row_cmin, self._row_cmax = self._row_col_span()

    # -- construction -------------------------------------------------------------

    @classmethod
    def build(cls, zones, grid: Grid, method: str = "exact") -> Coverage:
        """Compute the coverage of ``zones`` on ``grid``.

        Parameters
        ----------
        zones : geopandas.GeoDataFrame, zone set or ZonesInput
            Polygon zones with a CRS (any CRS; reprojected to the grid's CRS); see
            :func:`geo.zonal.zone_input`.
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
        check_method(method)
        zones = zone_input(zones)
        grid = grid.north_up()  # coverage rows run north to south, whatever the file's order
        geoms = zones_in_grid_crs(zones, grid.crs)
        check_budget(
            grid.source or None,
            coverage_bytes(geoms, grid),
            f"the coverage of {len(zones)} zone(s) on the {grid.height} × {grid.width}-cell grid",
        )
        runs, cells = coverage_pieces(geoms, grid, method)
        runs, overlap_cells = resolve_overlaps(*runs)
        cells = [np.concatenate(parts) for parts in zip(cells, overlap_cells, strict=True)]
        box = shapely.box(*grid.bounds)
        order = np.lexsort((cells[1], cells[0]))
        return cls(
            grid=grid,
            method=method,
            zone_key=zones.key,
            n_zones=len(zones),
            run_row=runs[0],
            run_start=runs[1],
            run_end=runs[2],
            run_zone=runs[3],
            cell_row=cells[0][order],
            cell_col=cells[1][order],
            cell_zone=cells[2][order],
            cell_weight=cells[3][order],
            outside_area_km2=outside_area_km2(geoms, grid),
            touched=np.array([g is not None and g.intersects(box) for g in geoms], dtype=bool),
        )

    @classmethod
    def load_or_build(
        cls,
        zones,
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
        without being saved. ``zones`` as in :meth:`build`.
        """
        zones = zone_input(zones)
        if cache_dir is None:
            return cls.build(zones, grid, method)
        check_method(method)
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
    def cache_path(cls, zones, grid: Grid, method: str, cache_dir: str | os.PathLike) -> Path:
        """File of the coverage of ``zones`` on ``grid`` in the disk cache ``cache_dir``."""
        return Path(cache_dir) / f"coverage-{cls.cache_key(zones, grid, method)[:40]}.npz"

    def save_to_cache(self, zones, grid: Grid, cache_dir: str | os.PathLike) -> None:
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
    def zones_key(zones) -> str:
        """Digest of the zone ids, CRS and geometries (WKB): :attr:`ZonesInput.key`."""
        return zone_input(zones).key

    @classmethod
    def cache_key(cls, zones, grid: Grid, method: str) -> str:
        """Digest keying a saved coverage: zones, grid, method and file format."""
        parts = [str(_CACHE_FORMAT), zone_input(zones).key, grid.key(), method]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

    def matches(self, zones) -> bool:
        """Whether this coverage was built from exactly these zones (as in :meth:`build`)."""
        zones = zone_input(zones)
        if len(zones) != self.n_zones:
            return False
        # shapely geometries are immutable: the same objects, ids and CRS as last time mean the
        # same zones, without hashing every vertex again for each further layer
        frame = zones.frame
        geoms = np.asarray(frame.geometry.values, dtype=object)
        seen = getattr(self, "_seen", None)
        if (
            seen is not None
            and seen[1] == frame.crs
            and seen[2] == list(frame.index)
            and all(a is b for a, b in zip(seen[0], geoms, strict=True))
        ):
            return True
        ok = zones.key == self.zone_key
        if not ok and zones.has_own_key:
            # a zone set's own key differs from the digest of a coverage built from its frame
            ok = zones_digest(frame) == self.zone_key
        if ok:
            self._seen = (geoms.copy(), frame.crs, list(frame.index))
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
    """SHA-256 of a saved coverage.

    Its metadata (but the digest) and its named arrays (names, dtypes, shapes and bytes, in name
    order).
    """
    h = hashlib.sha256()
    h.update(json.dumps({k: v for k, v in meta.items() if k != "sha256"}, sort_keys=True).encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def check_method(method: str) -> None:
    """Refuse an unknown coverage method.

    Raises
    ------
    UsageError
        ``method`` is not one of :data:`METHODS`.
    """
    if method not in METHODS:
        raise UsageError(f"unknown zonal method {method!r}; use one of {', '.join(METHODS)}")
