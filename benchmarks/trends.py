"""Per-pixel trends of a yearly stack: time against the read of the stack and pymannkendall.

A synthetic stack of ``--years`` float32 layers (default 25) on an Albers equal-area grid over the
region's bounding box at ``--resolution`` metres (default 250 m, about 80 M cells a layer) is
written once to ``~/.cache/geo-barrier/bench/trend_<res>m`` (generation is not timed). Then, in
one process:

* the raw read of the stack once (rasterio, every block of every layer, one GDAL thread) — the
  floor any trend computation pays; the faster of two reads, so that both it and the trend
  read from the page cache;
* ``geo.trendmaps.trend_rasters`` (Theil–Sen + Mann–Kendall per pixel, written as four
  GeoTIFFs), timed whole and with its peak memory (``ru_maxrss`` of a child process);
* ``geo.series.zone_series`` (the yearly mean of each of the 103 banners, what
  ``barrier series`` computes), a cold call in a child process;
* pymannkendall's ``original_test`` + scipy's ``theilslopes`` per pixel on a sample of
  ``--sample`` pixels, scaled to the whole grid.

``--kernel PIXELS`` times only the kernel (``geo.trends.mann_kendall``) on an in-memory
synthetic block of that many pixels (same values as the stack), in µs per pixel with one and
two numba threads (best of three), and writes nothing.

Usage::

    python benchmarks/trends.py [--resolution 250] [--years 25] [--sample 2000]
    python benchmarks/trends.py --kernel 1000000 [--years 25]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window

ALBERS = "+proj=aea +lat_0=45 +lon_0=112 +lat_1=39 +lat_2=51 +datum=WGS84 +units=m"
# the region's bounding box (97.0–126.5 E, 37.0–54.0 N) in the Albers CRS, rounded out
EXTENT = (-1_260_000.0, -980_000.0, 1_160_000.0, 1_000_000.0)


def make_stack(res: float, years: int) -> Path:
    folder = Path.home() / ".cache" / "geo-barrier" / "bench" / f"trend_{res:g}m_{years}y"
    done = folder / "complete"
    if done.is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    w = round((EXTENT[2] - EXTENT[0]) / res)
    h = round((EXTENT[3] - EXTENT[1]) / res)
    profile = dict(driver="GTiff", width=w, height=h, count=1, dtype="float32", crs=ALBERS,
                   transform=from_origin(EXTENT[0], EXTENT[3], res, res), nodata=-9999,
                   tiled=True, blockxsize=256, blockysize=256, compress="deflate",
                   predictor=3)  # fmt: skip
    rng = np.random.default_rng(0)
    # a per-pixel slope field (cells of 64 rows share a trend) plus yearly noise
    slope = rng.normal(0, 0.004, (h // 64 + 1, w)).astype("float32")
    for k in range(years):
        with rasterio.open(folder / f"ndvi_{2000 + k}.tif", "w", **profile) as dst:
            for r0 in range(0, h, 1024):
                n = min(1024, h - r0)
                trend = np.repeat(slope[r0 // 64 : r0 // 64 + n // 64 + 2], 64, axis=0)[:n]
                noise = rng.normal(0, 0.03, (n, w)).astype("float32")
                values = np.round(0.35 + trend * k + noise, 3).astype("float32")
                dst.write(values, 1, window=Window(0, r0, w, n))
    done.write_text("ok")
    return folder


def raw_read(folder: Path) -> float:
    t = time.perf_counter()
    for path in sorted(folder.glob("*.tif")):
        with rasterio.Env(GDAL_NUM_THREADS=1), rasterio.open(path) as ds:
            for _, win in ds.block_windows(1):
                ds.read(1, window=win)
    return time.perf_counter() - t


def child(folder: str, out: str) -> None:
    """Run the trend in this (child) process and print its time and peak memory."""
    from geo.stack import Stack
    from geo.trendmaps import trend_rasters

    t = time.perf_counter()
    trend_rasters(Stack.open(folder), out)
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peak_bytes": peak}))


def series_child(folder: str) -> None:
    """Yearly means of the 103 banners over the stack (``geo.series.zone_series``, a cold
    call: the coverage is built in it) in this (child) process: time and peak memory."""
    from geo import boundaries
    from geo.series import zone_series
    from geo.stack import Stack

    stack = Stack.open(folder)
    zones = boundaries.load("county").to_crs(stack.grid()["crs"])
    t = time.perf_counter()
    table = zone_series(zones, stack, ["mean"])
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peak_bytes": peak, "rows": len(table)}))


def per_pixel_reference(folder: Path, sample: int) -> tuple[float, int]:
    import pymannkendall as mk
    from scipy import stats

    files = sorted(folder.glob("*.tif"))
    with rasterio.open(files[0]) as ds:
        width, height = ds.width, ds.height
    rng = np.random.default_rng(1)
    rows = rng.integers(0, height, sample)
    cols = rng.integers(0, width, sample)
    values = np.empty((len(files), sample))
    for k, path in enumerate(files):
        with rasterio.open(path) as ds:
            band = ds.read(1, window=Window(0, int(rows.min()), width, 1))  # warm GDAL
            for i, (r, c) in enumerate(zip(rows, cols, strict=True)):
                values[k, i] = ds.read(1, window=Window(int(c), int(r), 1, 1))[0, 0]
    del band
    years = np.arange(2000, 2000 + len(files))
    t = time.perf_counter()
    for i in range(sample):
        mk.original_test(values[:, i])
        stats.theilslopes(values[:, i], years)
    return (time.perf_counter() - t) / sample, width * height


def kernel_only(pixels: int, years: int) -> None:
    """µs per pixel of the kernel alone, with 1 and 2 numba threads (best of 3)."""
    import numba

    from geo import trends

    rng = np.random.default_rng(0)
    slope = rng.normal(0, 0.004, pixels).astype("float32")
    noise = rng.normal(0, 0.03, (years, pixels)).astype("float32")
    values = np.round(0.35 + slope * np.arange(years)[:, None] + noise, 3).astype("float32")
    gaps = values.copy()
    gaps[rng.random(gaps.shape) < 0.1] = np.nan
    t = np.arange(2000, 2000 + years)
    trends.mann_kendall(values[:, :64], t)  # load the compiled kernel
    for threads in (1, 2):
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        for name, block in (("complete", values), ("10 % gaps", gaps)):
            best = np.inf
            for _ in range(3):
                start = time.perf_counter()
                trends.mann_kendall(block, t)
                best = min(best, time.perf_counter() - start)
            print(f"kernel, {threads} thread(s), {name:9s}: {best / pixels * 1e6:.3f} µs/pixel")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=float, default=250.0, help="metres")
    parser.add_argument("--years", type=int, default=25)
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--kernel", type=int, metavar="PIXELS", help="time the kernel only")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--series-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.kernel:
        kernel_only(args.kernel, args.years)
        return
    if args.child:
        child(*args.child)
        return
    if args.series_child:
        series_child(args.series_child)
        return
    folder = make_stack(args.resolution, args.years)
    t_raw = min(raw_read(folder), raw_read(folder))  # the first also fills the page cache
    out = folder.parent / f"{folder.name}_out"
    run = subprocess.run(
        [sys.executable, __file__, "--child", str(folder), str(out)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    ours = json.loads(run.stdout.strip().splitlines()[-1])
    run = subprocess.run(
        [sys.executable, __file__, "--series-child", str(folder)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    series = json.loads(run.stdout.strip().splitlines()[-1])
    per_pixel, cells = per_pixel_reference(folder, args.sample)
    reference = per_pixel * cells
    print(f"stack: {args.years} layers × {cells / 1e6:.1f} M cells ({args.resolution:g} m)")
    print(f"raw read of the stack (floor)        {t_raw:8.1f} s")
    print(f"geo trend_rasters                    {ours['seconds']:8.1f} s "
          f"= {ours['seconds'] / t_raw:.2f} × raw read, "
          f"peak {ours['peak_bytes'] / 2**30:.2f} GiB")  # fmt: skip
    print(f"geo zone_series, 103 banners, mean   {series['seconds']:8.1f} s "
          f"= {series['seconds'] / t_raw:.2f} × raw read, "
          f"peak {series['peak_bytes'] / 2**30:.2f} GiB ({series['rows']} rows)")  # fmt: skip
    print(f"pymannkendall + scipy per pixel      {reference:8.0f} s (scaled from "
          f"{args.sample} pixels: {per_pixel * 1e3:.2f} ms each) "
          f"= {reference / ours['seconds']:.0f} × ours")  # fmt: skip


if __name__ == "__main__":
    main()
