"""Zonal statistics on Dask: many chunked rasters, one coverage, any scheduler.

:func:`zonal_stats_dask` computes the same table as :func:`geo.zonal.zonal_stats`
with the raster split into chunks that are read and summed in parallel by Dask
(threads, processes, or a ``dask.distributed`` cluster).

How it works
------------
* The :class:`~geo.zonal.Coverage` of the zones on the raster grid is built once,
  on the client, and shipped to the workers once, never re-pickled per task: it
  is the output of one graph task that every chunk task depends on (a worker
  fetches it once; if its holder dies, distributed recomputes it), and for the
  ``"processes"`` scheduler it travels as the path of a temporary file that each
  process loads once.
* One task per (layer, chunk) opens the raster, reads the chunk's window and sums
  it into a per-zone accumulator (:meth:`geo.zonal.accumulate.Accumulator.add_chunk`, which
  clips the coverage to the chunk, so chunks need not align with zones or with
  the raster's blocks). Chunks that no zone touches are never read.
* The partial accumulators of a layer are combined by a tree reduction
  (``split_every`` at a time); sums are exact up to floating-point reassociation,
  so results agree with the in-memory path to ~1e-12.
* Tasks are pure: when distributed loses a worker it reruns the lost tasks and
  the result is unchanged; when it gives up, :class:`WorkerLostError` is raised
  and no table is returned.

Memory per task is bounded by the chunk size (about 30 bytes per cell for the
float64 working copies), not by the raster size.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from itertools import pairwise
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from rasterio.windows import Window

from geo.budget import check_budget
from geo.errors import DataError, GeoError, UsageError
from geo.grid import Grid, read_window
from geo.zonal.accumulate import Accumulator, Spec, make_spec
from geo.zonal.api import check_band, check_categorical, check_dtype, check_overlap, warn_no_valid
from geo.zonal.cache import get_coverage
from geo.zonal.coverage import Coverage, check_method
from geo.zonal.inputs import zone_input
from geo.zonal.nodata import invalid_mask, nodata_codes
from geo.zonal.options import OPTIONS
from geo.zonal.stream import open_raster, stream_bytes

__all__ = ["SCHEDULERS", "WorkerLostError", "chunk_windows", "zonal_stats_dask"]

SCHEDULERS = ("threads", "processes", "synchronous")
# Default chunk: about as many cells as a window of the in-memory path.
_CHUNK_CELLS = 4_000_000
_SPLIT_EVERY = 8
# Shared coverages unpickled in this process, by token (see _SharedCoverage).
_SHARED_CACHE: dict[str, tuple[Coverage, np.ndarray]] = {}


class WorkerLostError(GeoError):
    """A Dask worker died (out of memory, killed) and the computation was abandoned."""


# --------------------------------------------------------------------------- public API


def zonal_stats_dask(
    zones: gpd.GeoDataFrame,
    rasters,
    stats: Sequence[str] = ("count", "mean"),
    *,
    categorical: bool = False,
    coverage: Coverage | None = None,
    method: str = "exact",
    chunks=None,
    client=None,
    scheduler: str | None = None,
    nodata_values: Sequence[float] = (),
    band: int = 1,
    quantiles: Sequence[float] | None = None,
    cache_dir: str | os.PathLike | None = None,
    layers: Sequence[str] | None = None,
    tidy: bool = False,
    split_every: int = _SPLIT_EVERY,
) -> pd.DataFrame:
    """Summarise one or many rasters on the same grid over polygon zones, with Dask.

    Same statistics and definitions as :func:`geo.zonal.zonal_stats`; see there.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        Polygon zones with a CRS.
    rasters : str, os.PathLike or sequence of them
        Raster file(s) on one grid (e.g. one per year). Paths, not open
        datasets: every worker opens the files itself.
    stats : sequence of str, default ("count", "mean")
        Any of :data:`geo.zonal.STATS`.
    categorical : bool, default False
        Also return class areas (km²) and fractions (see ``zonal_stats``).
    coverage : Coverage, optional
        A coverage of ``zones`` on the rasters' grid, to reuse.
    method : {"exact", "all_touched", "center"}, default "exact"
        Cell weights (see ``zonal_stats``).
    chunks : int, (int, int), "auto" or dask chunk spec, optional
        Chunk size in cells (rows, columns). Default: about four million cells,
        aligned to the raster's internal blocks. Any size works (chunks need not
        align with blocks or zones); memory per task grows with it.
    client : distributed.Client, optional
        Run on this cluster.
    scheduler : str, optional
        ``"threads"``, ``"processes"``, ``"synchronous"`` or the address of a
        running distributed scheduler (``"tcp://host:port"``). Default: the
        current default distributed client if there is one, else threads.
    nodata_values : sequence of float, optional
        Further stored values counted as nodata.
    band : int, default 1
        1-based band number, the same in every raster.
    quantiles : sequence of float, optional
        Quantiles in [0, 1] (see ``zonal_stats``). On float rasters every
        covered value is gathered on the client: use on modest rasters only.
    cache_dir : str or os.PathLike, optional
        Where coverages are saved and looked up (ignored with ``coverage``).
    layers : sequence of str, optional
        Layer names (default: file stems), one per raster.
    tidy : bool, default False
        Return the long table ``zone, layer, stat, value`` instead.
    split_every : int, default 8
        Partial results combined per reduction task.

    Returns
    -------
    pandas.DataFrame
        One raster given as a single path: one row per zone, indexed like
        ``zones``, the columns of ``zonal_stats``. A sequence of rasters: the
        same with a ``(layer, zone)`` MultiIndex. ``tidy=True``: columns
        ``zone, layer, stat, value``, one row per zone, layer and statistic.

    Raises
    ------
    DataError
        Missing or unreadable raster; rasters not on one grid.
    UsageError
        Bad statistic, method, chunks, scheduler or layer names.
    WorkerLostError
        A Dask worker died and distributed gave up retrying its tasks.
    LayerError, CRSError, ZoneError
        As ``zonal_stats``.
    """
    paths, single = _as_paths(rasters)
    names = _layer_names(paths, layers)
    spec = make_spec(stats, quantiles, categorical)
    check_method(method)
    zones = zone_input(zones)  # one normalisation per call: the zone key is hashed once
    if split_every < 2:
        raise UsageError(f"split_every must be at least 2; got {split_every}")
    metas = [_layer_meta(p, band, categorical, nodata_values) for p in paths]
    grid = metas[0]["grid"]
    for p, m in zip(paths, metas, strict=True):
        # every chunk is read by read_window: files of any orientation share a grid
        if not m["grid"].same_as(grid, any_orientation=True):
            raise DataError(
                f"raster {p} is not on the grid of {paths[0]} ({m['grid'].shape} vs "
                f"{grid.shape}); zonal_stats_dask needs every layer on one grid"
            )
    cov = get_coverage(zones, grid, method, coverage, cache_dir)
    with ExitStack() as stack:
        ds = open_raster(paths[0], stack)
        check_overlap(cov, ds)
    windows = chunk_windows(cov, metas[0]["dtype"], metas[0]["block"], chunks)
    _check_chunk_budget(paths[0], cov, spec, metas[0]["dtype"], windows, client, scheduler)
    extra = tuple(nodata_values)
    accs = _run(cov, paths, metas, windows, spec, band, extra, client, scheduler, split_every)
    for acc, p in zip(accs, paths, strict=True):
        warn_no_valid(acc, p)
    frames = [
        acc.frame(zones.index, cov.outside_area_km2, m["scale"], m["offset"])
        for acc, m in zip(accs, metas, strict=True)
    ]
    if tidy:
        return _tidy(frames, names)
    if single:
        return frames[0]
    return pd.concat(frames, keys=names, names=["layer", zones.index.name or "zone"])


def chunk_windows(cov: Coverage, dtype, block: tuple[int, int], chunks=None) -> list[Window]:
    """Windows of the chunks of the grid that some zone touches.

    Parameters
    ----------
    cov : Coverage
        Coverage of the zones on the grid.
    dtype : numpy.dtype
        Raster data type (sizes ``"auto"`` chunks).
    block : (int, int)
        Internal block shape of the raster, cells; ``"auto"`` chunks are whole blocks.
    chunks : int, (int, int), "auto" or dask chunk spec, optional
        Chunk size in cells; default about four million cells.

    Returns
    -------
    list of rasterio.windows.Window
    """
    from dask.array.core import normalize_chunks

    dtype = np.dtype(dtype)
    spec = "auto" if chunks is None else chunks
    try:
        row_chunks, col_chunks = normalize_chunks(
            spec,
            shape=cov.grid.shape,
            dtype=dtype,
            previous_chunks=block,
            limit=_CHUNK_CELLS * dtype.itemsize,
        )
    except (ValueError, TypeError, NotImplementedError) as exc:
        raise UsageError(
            f"invalid chunks {chunks!r} for a {cov.grid.shape} raster ({exc}); give rows and "
            "columns per chunk, e.g. chunks=(2048, 2048)"
        ) from exc
    row_edges = np.r_[0, np.cumsum(row_chunks)]
    col_edges = np.r_[0, np.cumsum(col_chunks)]
    out = []
    for r0, r1 in pairwise(row_edges.tolist()):
        span = cov.col_span(int(r0), int(r1))
        if span is None:
            continue
        for c0, c1 in pairwise(col_edges.tolist()):
            if c1 > span[0] and c0 < span[1]:
                out.append(Window(int(c0), int(r0), int(c1 - c0), int(r1 - r0)))
    return out


def _check_chunk_budget(path, cov, spec, dtype, windows, client, scheduler) -> None:
    """Refuse chunks whose working memory, on the local workers at once, exceeds the budget.

    A distributed cluster's memory is its own: only local schedulers are checked.
    """
    if client is not None or (scheduler is not None and scheduler not in SCHEDULERS):
        return
    most = max((int(w.width) * int(w.height) for w in windows), default=0)
    parallel = 1 if scheduler == "synchronous" else min(len(windows), os.cpu_count() or 1)
    check_budget(
        path,
        stream_bytes(cov.n_zones, spec, np.dtype(dtype), most) * max(parallel, 1),
        f"Dask chunks of {most} cells",
    )


# --------------------------------------------------------------------------- inputs


def _as_paths(rasters) -> tuple[list[str], bool]:
    """File paths of ``rasters`` and whether a single raster was given."""
    single = isinstance(rasters, str | os.PathLike) or not isinstance(rasters, Sequence)
    items = [rasters] if single else list(rasters)
    if not items:
        raise UsageError("no raster given; pass a file path or a list of paths")
    for r in items:
        if not isinstance(r, str | os.PathLike):
            raise UsageError(
                f"zonal_stats_dask needs raster file paths (workers open them); got {r!r}"
            )
    return [os.fspath(r) for r in items], single


def _layer_names(paths: list[str], layers) -> list[str]:
    names = [Path(p).stem for p in paths] if layers is None else [str(n) for n in layers]
    if len(names) != len(paths):
        raise UsageError(f"{len(names)} layer names for {len(paths)} rasters; give one per raster")
    if len(set(names)) != len(names):
        raise UsageError(f"layer names are not unique ({names}); pass layers=[...] to name them")
    return names


def _layer_meta(path: str, band: int, categorical: bool, extra: Sequence[float] = ()) -> dict:
    """Grid, dtype, nodata codes, block shape and scale/offset of one raster (checked).

    ``nodata`` holds the stored nodata codes in the raster's type (the band's and
    ``extra``; see :func:`geo.zonal.nodata_codes`).
    """
    with ExitStack() as stack:
        ds = open_raster(path, stack)
        check_band(ds, band)
        check_dtype(ds, band)
        check_categorical(ds, band, categorical)
        dtype = np.dtype(ds.dtypes[band - 1])
        return {
            "grid": Grid.from_dataset(ds),
            "dtype": dtype,
            "nodata": nodata_codes(dtype, ds.nodatavals[band - 1], extra, path),
            "block": tuple(int(b) for b in ds.block_shapes[band - 1]),
            "scale": ds.scales[band - 1],
            "offset": ds.offsets[band - 1],
        }


# --------------------------------------------------------------------------- shipping the coverage


class _SharedCoverage:
    """The coverage and cell areas every chunk task needs, shipped once per worker.

    Pickled normally (into the graph once, then once per worker) unless :meth:`spill`
    has written it to a file: then it pickles as just that path, and each
    process loads the file once (for the ``"processes"`` scheduler, which
    pickles every task's arguments).
    """

    def __init__(self, cov: Coverage, row_area: np.ndarray) -> None:
        self.cov, self.row_area = cov, row_area
        self.token = uuid.uuid4().hex
        self.path: str | None = None

    def spill(self, folder: str) -> None:
        path = os.path.join(folder, f"coverage-{self.token}.pkl")
        with open(path, "wb") as f:
            pickle.dump((self.cov, self.row_area), f, protocol=pickle.HIGHEST_PROTOCOL)
        self.path = path

    def __reduce__(self):
        if self.path is None:
            return (_SharedCoverage._restore, (self.cov, self.row_area, self.token))
        return (_SharedCoverage._from_file, (self.path, self.token))

    @staticmethod
    def _restore(cov, row_area, token) -> _SharedCoverage:
        shared = _SharedCoverage(cov, row_area)
        shared.token = token
        return shared

    @staticmethod
    def _from_file(path: str, token: str) -> _SharedCoverage:
        if token not in _SHARED_CACHE:
            _SHARED_CACHE.clear()  # one coverage at a time per worker process
            with open(path, "rb") as f:
                _SHARED_CACHE[token] = pickle.load(f)
        shared = _SharedCoverage(*_SHARED_CACHE[token])
        shared.token = token
        return shared


# --------------------------------------------------------------------------- tasks


def _read_window(path: str, band: int, window: Window) -> np.ndarray:
    """Read one window of a raster (a separate function so tests can inject faults)."""
    try:
        with rasterio.Env(GDAL_CACHEMAX=OPTIONS["gdal_cachemax_mb"]), rasterio.open(path) as ds:
            return read_window(ds, band, window)
    except rasterio.errors.RasterioIOError as exc:
        from geo.layers import missing_vrt_sources

        missing = missing_vrt_sources(path) if os.path.isfile(path) else []
        if missing:
            raise DataError(
                f"raster {path} is a VRT whose source file {missing[0]} does not exist on the "
                "Dask worker; restore that file or rebuild the VRT (gdalbuildvrt)"
            ) from exc
        raise DataError(
            f"cannot read raster {path}: {exc}. The file is corrupt, truncated or not "
            "reachable from the Dask worker; check the path on the workers"
        ) from exc


def _chunk_partial(
    shared: _SharedCoverage,
    path: str,
    band: int,
    window: Window,
    spec: Spec,
    dtype: np.dtype,
    nodata,
    extra: tuple,
) -> Accumulator:
    """Per-zone sums of one chunk of one raster.

    ``nodata`` holds the raster's nodata codes, ``extra`` included (see :func:`_layer_meta`).
    """
    a = _read_window(path, band, window)
    acc = Accumulator(shared.cov.n_zones, spec, dtype, shared.row_area)
    invalid = invalid_mask(a, nodata)
    acc.add_chunk(shared.cov, a, invalid, int(window.row_off), int(window.col_off))
    # The cell areas are only needed while adding; don't ship them back with every partial.
    acc.row_area = None
    return acc


def _identity(x):
    return x


def _merge_partials(*parts: Accumulator) -> Accumulator:
    """A new accumulator holding the sums of ``parts`` (a node of the tree reduction).

    The inputs are left untouched: a scheduler may still hold them (e.g. to rerun
    this task after losing a worker).
    """
    out = _empty_partial(parts[0].n, parts[0].spec, parts[0].dtype)
    for p in parts:
        out.merge(p)
    return out


def _empty_partial(n: int, spec: Spec, dtype: np.dtype) -> Accumulator:
    acc = Accumulator(n, spec, dtype, np.zeros(0))
    acc.row_area = None
    return acc


# --------------------------------------------------------------------------- graph and scheduling


def _graph(shared, seed, paths, metas, windows, spec, band, extra, split_every, n_zones) -> list:
    """One delayed accumulator per layer: chunk tasks reduced as a tree.

    ``shared`` is the delayed :class:`_SharedCoverage`; ``seed`` makes the task keys
    unique to this run.
    """
    import dask
    from dask.base import tokenize

    token = tokenize(seed, paths, [tuple(w.flatten()) for w in windows], spec, band, extra)
    chunk = dask.delayed(_chunk_partial, pure=True)
    merge = dask.delayed(_merge_partials, pure=True)
    out = []
    for k, (path, m) in enumerate(zip(paths, metas, strict=True)):
        level = [
            chunk(
                *(shared, path, band, w, spec, m["dtype"], m["nodata"], extra),
                dask_key_name=f"geo-chunk-{k}-{i}-{token}",
            )
            for i, w in enumerate(windows)
        ]
        depth = 0
        while len(level) > 1:
            level = [
                merge(
                    *level[i : i + split_every], dask_key_name=f"geo-merge-{k}-{depth}-{i}-{token}"
                )
                for i in range(0, len(level), split_every)
            ]
            depth += 1
        out.append(level[0] if level else dask.delayed(_empty_partial)(n_zones, spec, m["dtype"]))
    return out


def _run(cov, paths, metas, windows, spec, band, extra, client, scheduler, split_every):
    """Build and compute the graph on the chosen scheduler; one accumulator per layer."""
    import dask

    shared = _SharedCoverage(cov, cov.grid.row_cell_area_m2())
    with ExitStack() as stack:
        client = _client(client, scheduler, stack)
        if client is None and scheduler == "processes":
            folder = tempfile.mkdtemp(prefix="geo-scale-")
            stack.callback(shutil.rmtree, folder, ignore_errors=True)
            shared.spill(folder)
        # One task yields the coverage and every chunk task depends on it: each worker
        # fetches it once, and unlike scattered data it is recomputed if its holder dies.
        ship = dask.delayed(_identity)(shared, dask_key_name=f"geo-coverage-{shared.token}")
        graph = _graph(
            ship, shared.token, paths, metas, windows, spec, band, extra, split_every, cov.n_zones
        )
        try:
            if client is not None:
                return client.gather(client.compute(graph))
            return list(dask.compute(*graph, scheduler=scheduler or "threads"))
        except Exception as exc:
            lost = _worker_lost(exc, paths)
            if lost is None:
                raise
            raise lost from exc


def _client(client, scheduler, stack: ExitStack):
    """The distributed client to use, or None for a local dask scheduler."""
    if client is not None:
        if scheduler is not None:
            raise UsageError("pass either client= or scheduler=, not both")
        return client
    if scheduler is None:
        try:
            from distributed import default_client
        except ImportError:
            return None
        try:
            return default_client()
        except ValueError:  # no client running
            return None
    if scheduler in SCHEDULERS:
        return None
    if not isinstance(scheduler, str) or "://" not in scheduler:
        raise UsageError(
            f"unknown scheduler {scheduler!r}; use one of {', '.join(SCHEDULERS)} or a "
            "distributed scheduler address such as 'tcp://127.0.0.1:8786'"
        )
    try:
        from distributed import Client
    except ImportError as exc:
        raise UsageError(
            f"scheduler {scheduler!r} needs dask.distributed; pip install distributed"
        ) from exc
    try:
        return stack.enter_context(Client(scheduler, set_as_default=False, timeout="10s"))
    except OSError as exc:
        raise UsageError(
            f"cannot connect to the Dask scheduler at {scheduler} ({exc}); start it or fix "
            "the address"
        ) from exc


def _worker_lost(exc: BaseException, paths: list[str]) -> WorkerLostError | None:
    """A clear error for a computation abandoned because a worker died, else None."""
    if isinstance(exc, BrokenProcessPool):
        what, key = "a worker process of the 'processes' scheduler", ""
    else:
        try:
            from distributed.client import FutureCancelledError
            from distributed.scheduler import KilledWorker
        except ImportError:
            return None
        # KilledWorker: distributed gave up after allowed-failures deaths; a cancelled
        # future: the cluster dropped the computation (e.g. all workers gone).
        if not isinstance(exc, KilledWorker | FutureCancelledError):
            return None
        what = "a Dask worker"
        key = str(getattr(exc, "task", None) or getattr(exc, "key", None) or "")
    layer = _layer_of_key(key)
    source = paths[layer] if layer is not None and layer < len(paths) else ", ".join(paths)
    return WorkerLostError(
        f"{what} died while reading or summing {source} (task {key or '?'}) and the "
        "computation was abandoned; no result was returned. Rerun, lower chunks= or give "
        "the workers more memory"
    )


def _layer_of_key(key: str) -> int | None:
    """Layer index encoded in a task key ``geo-chunk-<layer>-...``/``geo-merge-<layer>-...``."""
    parts = key.split("-")
    if len(parts) > 2 and parts[0] == "geo" and parts[2].isdigit():
        return int(parts[2])
    return None


# --------------------------------------------------------------------------- output


def _tidy(frames: list[pd.DataFrame], names: list[str]) -> pd.DataFrame:
    """Long table ``zone, layer, stat, value`` from one wide frame per layer."""
    parts = []
    for name, frame in zip(names, frames, strict=True):
        n_zones, n_stats = frame.shape
        parts.append(
            pd.DataFrame(
                {
                    "zone": np.repeat(frame.index.to_numpy(), n_stats),
                    "layer": name,
                    "stat": np.tile(frame.columns.to_numpy(dtype=object), n_zones),
                    "value": frame.to_numpy(dtype=np.float64).ravel(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
