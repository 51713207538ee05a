"""Scaling benchmark of geo.scale (Dask) against the in-process geo.zonal path.

A synthetic float32 vegetation-cover raster at 30 m on an Albers equal-area grid
covers (part of) the bounding box of Xilingol League; the zones are the
league's banners. Two raster sizes are run with the same chunk size to show
that the memory of a worker follows the chunk size, not the raster size.

For each size: the coverage is built (or loaded from the cache) once and reused
by every run; then ``geo.zonal.zonal_stats`` in this process, and
``geo.scale.zonal_stats_dask`` on a ``LocalCluster`` with 1 and with 2 worker
processes (one thread each). Reported: wall time, speed-up over the in-process
run, peak resident memory of each worker process (sampled with psutil every
50 ms, also as growth over the idle worker), and the largest relative
difference from the in-process table.

Rasters and coverages are generated once into ``~/.cache/geo-barrier/bench``
(never in the repository).

Usage::

    python benchmarks/dask_scaling.py            # both sizes, ~2 minutes once generated
    python benchmarks/dask_scaling.py --sizes small --chunks 1024
"""

from __future__ import annotations

import argparse
import contextlib
import os
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
BOUNDARIES = REPO / "data" / "boundaries" / "im_admin_wgs84.gpkg"
ALBERS = "+proj=aea +lat_0=45 +lon_0=112 +lat_1=39 +lat_2=51 +datum=WGS84 +units=m +no_defs"
RESOLUTION = 30.0  # m
BLOCK = 512
NODATA = -9999.0
XILINGOL = "1525"  # adcode prefix of the league's banners
# lon/lat boxes: "large" is Xilingol League's bounding box, "small" a quarter of it.
SIZES = {
    "small": (113.5, 42.5, 117.0, 45.0),
    "large": (111.1, 41.6, 119.9, 46.8),
}
STATS = ("count", "mean", "min", "max", "stdev")


# --------------------------------------------------------------------------- data


def grid_for(region: tuple[float, float, float, float]):
    """Transform and shape of a 30 m Albers grid covering a lon/lat box."""
    from affine import Affine
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4326", ALBERS, always_xy=True)
    x0, y0, x1, y1 = tr.transform_bounds(*region, densify_pts=101)
    r = RESOLUTION
    x0, y0 = np.floor(x0 / r) * r, np.floor(y0 / r) * r
    x1, y1 = np.ceil(x1 / r) * r, np.ceil(y1 / r) * r
    shape = (round((y1 - y0) / r), round((x1 - x0) / r))
    return Affine(r, 0, x0, 0, -r, y1), shape


def cover(transform, row0: int, nrows: int, width: int) -> np.ndarray:
    """Smooth vegetation cover (%) with noise and 'lakes' of nodata, float32."""
    x = (transform.c + transform.a * (np.arange(width) + 0.5))[None, :] / 1000.0
    y = (transform.f + transform.e * (np.arange(row0, row0 + nrows) + 0.5))[:, None] / 1000.0
    rng = np.random.default_rng([30, row0])
    smooth = np.sin(x / 150.0) * np.cos(y / 110.0) + 0.5 * np.sin((x + y) / 37.0)
    veg = (50 + 30 * smooth).astype(np.float32)
    veg += rng.normal(0, 3, (nrows, width)).astype(np.float32)
    np.clip(veg, 0, 100, out=veg)
    veg[np.sin(x / 13.0) * np.sin(y / 17.0) > 0.97] = NODATA
    return veg


def generate(cache: Path, name: str) -> Path:
    """Write the 30 m raster of size ``name`` if it is not cached yet; return its path."""
    import rasterio

    path = cache / f"fvc_30m_{name}.tif"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    transform, (h, w) = grid_for(SIZES[name])
    profile = {
        "driver": "GTiff",
        "height": h,
        "width": w,
        "count": 1,
        "dtype": "float32",
        "crs": ALBERS,
        "transform": transform,
        "nodata": NODATA,
        "tiled": True,
        "blockxsize": BLOCK,
        "blockysize": BLOCK,
        "compress": "deflate",
        "predictor": 3,
        "BIGTIFF": "YES",
    }
    tmp = path.with_suffix(".tmp.tif")
    t0 = time.perf_counter()
    with rasterio.open(tmp, "w", **profile) as dst:
        for r0 in range(0, h, 4 * BLOCK):
            n = min(4 * BLOCK, h - r0)
            dst.write(cover(transform, r0, n, w), 1, window=((r0, r0 + n), (0, w)))
    os.replace(tmp, path)
    print(f"generated {path} ({h}×{w}) in {time.perf_counter() - t0:.0f} s", flush=True)
    return path


def league_zones():
    import geopandas as gpd

    zones = gpd.read_file(BOUNDARIES, layer="county").set_index("adcode")
    zones = zones[zones.index.astype(str).str.startswith(XILINGOL)]
    return zones.to_crs(ALBERS)


# --------------------------------------------------------------------------- measuring


class RssSampler:
    """Peak resident memory of some processes, sampled every ``interval`` seconds."""

    def __init__(self, pids: list[int], interval: float = 0.05) -> None:
        import psutil

        self.procs = {pid: psutil.Process(pid) for pid in pids}
        self.idle = {pid: p.memory_info().rss for pid, p in self.procs.items()}
        self.peak = dict(self.idle)
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid, p in self.procs.items():
                # A worker that died or restarted keeps its last peak.
                with contextlib.suppress(Exception):
                    self.peak[pid] = max(self.peak[pid], p.memory_info().rss)
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def rel_diff(a, b) -> float:
    x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
    ok = ~np.isnan(y)
    if not np.array_equal(np.isnan(x), np.isnan(y)):
        return float("inf")
    return float(np.max(np.abs(x[ok] - y[ok]) / np.maximum(np.abs(y[ok]), 1e-12), initial=0))


def run_in_process(zones, path, cov) -> dict:
    from geo.zonal import zonal_stats

    with RssSampler([os.getpid()]) as rss:
        t0 = time.perf_counter()
        frame = zonal_stats(zones, path, STATS, coverage=cov)
        wall = time.perf_counter() - t0
    pid = os.getpid()
    return {
        "wall": wall,
        "frame": frame,
        "peak": [rss.peak[pid]],
        "growth": [rss.peak[pid] - rss.idle[pid]],
    }


def _warm_up() -> None:
    import geo.scale  # noqa: F401  (geopandas, rasterio, pyproj: ~1–2 s per process)


def run_dask(zones, path, cov, workers: int, chunks: int) -> dict:
    from distributed import Client, LocalCluster

    from geo.scale import zonal_stats_dask

    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        # A long-lived cluster has its libraries imported; time that once, apart.
        t0 = time.perf_counter()
        client.run(_warm_up)
        warm = time.perf_counter() - t0
        pids = list(client.run(os.getpid).values())
        with RssSampler(pids) as rss:
            t0 = time.perf_counter()
            frame = zonal_stats_dask(
                zones, path, STATS, coverage=cov, chunks=(chunks, chunks), client=client
            )
            wall = time.perf_counter() - t0
    return {
        "wall": wall,
        "warm": warm,
        "frame": frame,
        "peak": [rss.peak[p] for p in pids],
        "growth": [rss.peak[p] - rss.idle[p] for p in pids],
    }


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    parser.add_argument("--chunks", type=int, default=2048, help="chunk side, cells")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--cache", type=Path, default=Path.home() / ".cache" / "geo-barrier" / "bench"
    )
    args = parser.parse_args(argv)

    import rasterio

    from geo.grid import Grid
    from geo.zonal import Coverage

    zones = league_zones()
    mib = 2**20
    rows = []
    for name in args.sizes:
        path = generate(args.cache, name)
        with rasterio.open(path) as ds:
            grid = Grid.from_dataset(ds)
        t0 = time.perf_counter()
        cov = Coverage.load_or_build(zones, grid, "exact", cache_dir=args.cache)
        t_cov = time.perf_counter() - t0
        cells = grid.height * grid.width
        print(
            f"\n{name}: {grid.height}×{grid.width} = {cells / 1e6:.0f} M cells, "
            f"{path.stat().st_size / 2**30:.2f} GiB on disk; coverage {cov.nbytes / mib:.0f} MiB "
            f"({t_cov:.1f} s to build/load)",
            flush=True,
        )
        base = run_in_process(zones, path, cov)
        runs = [("in-process", base)]
        for k in args.workers:
            runs.append((f"dask {k} worker(s)", run_dask(zones, path, cov, k, args.chunks)))
        for label, r in runs:
            row = {
                "size": name,
                "cells_M": cells / 1e6,
                "run": label,
                "wall_s": r["wall"],
                "speedup": base["wall"] / r["wall"],
                "ns_per_cell_core": r["wall"]
                * (1 if label == "in-process" else int(label.split()[1]))
                / cells
                * 1e9,
                "peak_MiB": max(r["peak"]) / mib,
                "growth_MiB": max(r["growth"]) / mib,
                "rel_diff": rel_diff(r["frame"], base["frame"]),
            }
            rows.append(row)
            print(
                f"  {label:18s} {row['wall_s']:7.2f} s  ×{row['speedup']:.2f}  "
                f"{row['ns_per_cell_core']:5.1f} ns/cell·core  peak {row['peak_MiB']:6.0f} MiB "
                f"(+{row['growth_MiB']:.0f})  rel diff {row['rel_diff']:.1e}"
                + (f"  (worker import {r['warm']:.1f} s, not timed)" if "warm" in r else ""),
                flush=True,
            )
    print("\n| size | cells (M) | run | wall s | speed-up | ns/cell·core | peak RSS/worker MiB "
          "| growth MiB | max rel diff |")  # fmt: skip
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['size']} | {r['cells_M']:.0f} | {r['run']} | {r['wall_s']:.2f} | "
            f"{r['speedup']:.2f} | {r['ns_per_cell_core']:.1f} | {r['peak_MiB']:.0f} | "
            f"{r['growth_MiB']:.0f} | {r['rel_diff']:.1e} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
