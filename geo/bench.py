"""Benchmark of geo.zonal against the raw raster read, exactextract and rasterstats.

Shipped in the package so that ``barrier bench`` runs from a wheel as from a checkout
(``benchmarks/zonal.py`` runs this module); it uses the public API of :mod:`geo.zonal` only.

Synthetic rasters cover the region's bounding box (97.0–126.5 E, 37.0–54.0 N) on an
Albers equal-area grid (cells of exactly 250 m or 100 m; on an equal-area grid the
area-weighted class fractions of geo.zonal equal exactextract's ``frac``, so the two
can be compared to 1e-6). They are generated once into a cache folder
(``~/.cache/geo-barrier/bench`` by default, never in the repository).

Every measurement runs in its own subprocess so that its peak resident memory
(``ru_maxrss``, which includes GDAL's allocations) is its own.

Usage::

    barrier bench --resolution 250 --repeat 3
    python -m geo.bench --quick
    python benchmarks/zonal.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["MEASUREMENTS", "grid_for", "main"]

REGION = (97.0, 37.0, 126.5, 54.0)  # lon/lat bounding box of the region
ALBERS = "+proj=aea +lat_0=45 +lon_0=112 +lat_1=39 +lat_2=51 +datum=WGS84 +units=m +no_defs"
BLOCK = 256
FLOAT_NODATA = -9999.0
CLASS_NODATA = 255
MEASUREMENTS = ("raw", "exactextract", "rasterstats", "geo_cold", "geo_warm")


# --------------------------------------------------------------------------- data


def grid_for(resolution: float, quick: bool):
    """Transform and shape of the benchmark grid (Albers, ``resolution`` metres)."""
    from affine import Affine
    from pyproj import Transformer

    region = (110.0, 40.0, 113.0, 42.5) if quick else REGION
    tr = Transformer.from_crs("EPSG:4326", ALBERS, always_xy=True)
    x0, y0, x1, y1 = tr.transform_bounds(*region, densify_pts=101)
    x0, y0 = np.floor(x0 / resolution) * resolution, np.floor(y0 / resolution) * resolution
    x1, y1 = np.ceil(x1 / resolution) * resolution, np.ceil(y1 / resolution) * resolution
    shape = (round((y1 - y0) / resolution), round((x1 - x0) / resolution))
    return Affine(resolution, 0, x0, 0, -resolution, y1), shape


def _fields(transform, row0: int, nrows: int, width: int):
    """Vegetation cover (float32, %, with nodata) and IGBP-like classes (uint8 1–17)."""
    x = (transform.c + transform.a * (np.arange(width) + 0.5))[None, :] / 1000.0
    y = (transform.f + transform.e * (np.arange(row0, row0 + nrows) + 0.5))[:, None] / 1000.0
    rng = np.random.default_rng([2024, row0])
    smooth = np.sin(x / 150.0) * np.cos(y / 110.0) + 0.5 * np.sin((x + y) / 37.0)
    veg = 50 + 30 * smooth + rng.normal(0, 3, (nrows, width))
    veg = (np.round(np.clip(veg, 0, 100) * 100) / 100).astype(np.float32)
    water = np.sin(x / 13.0) * np.sin(y / 17.0) > 0.97
    veg[water] = FLOAT_NODATA
    cls = np.clip(((smooth + 1.5) / 3.0 * 17).astype(np.int16) + 1, 1, 17).astype(np.uint8)
    flip = rng.random((nrows, width)) < 0.05
    cls[flip] = rng.integers(1, 18, flip.sum(), dtype=np.uint8)
    cls[water] = CLASS_NODATA
    return veg, cls


def _generate(cache: Path, resolution: float, quick: bool) -> dict[str, Path]:
    """Write the two rasters if they are not in ``cache`` yet; return their paths."""
    import rasterio
    from rasterio.windows import Window

    tag = f"{'quick_' if quick else ''}{int(resolution)}m"
    paths = {"float": cache / f"veg_{tag}.tif", "classes": cache / f"classes_{tag}.tif"}
    if all(p.exists() for p in paths.values()):
        return paths
    cache.mkdir(parents=True, exist_ok=True)
    transform, (h, w) = grid_for(resolution, quick)
    common = dict(
        driver="GTiff",
        height=h,
        width=w,
        count=1,
        crs=ALBERS,
        transform=transform,
        tiled=True,
        blockxsize=BLOCK,
        blockysize=BLOCK,
        compress="deflate",
        num_threads="all_cpus",
        bigtiff="if_safer",
    )
    tmp = {k: p.with_suffix(".tmp.tif") for k, p in paths.items()}
    t0 = time.perf_counter()
    with (
        rasterio.open(
            tmp["float"], "w", dtype="float32", nodata=FLOAT_NODATA, predictor=3, **common
        ) as fdst,
        rasterio.open(tmp["classes"], "w", dtype="uint8", nodata=CLASS_NODATA, **common) as cdst,
    ):
        for r0 in range(0, h, BLOCK):
            n = min(BLOCK, h - r0)
            veg, cls = _fields(transform, r0, n, w)
            fdst.write(veg, 1, window=Window(0, r0, w, n))
            cdst.write(cls, 1, window=Window(0, r0, w, n))
    for k in paths:
        os.replace(tmp[k], paths[k])  # atomic: an interrupted run leaves no half file
    print(
        f"generated {h}×{w} rasters in {time.perf_counter() - t0:.0f} s into {cache}",
        file=sys.stderr,
    )
    return paths


def _banners(quick: bool):
    """The shipped banners (counties) in the benchmark's Albers CRS (``quick``: a few)."""
    import geopandas as gpd

    from geo.boundaries import BOUNDARY_FILE
    from geo.data import data_path

    zones = gpd.read_file(data_path(*BOUNDARY_FILE), layer="county").to_crs(ALBERS)
    if quick:
        transform, (h, w) = grid_for(1000, True)
        from shapely.geometry import box

        extent = box(transform.c, transform.f - h * 1000, transform.c + w * 1000, transform.f)
        zones = zones[zones.intersects(extent)]
    return zones


# --------------------------------------------------------------------------- measurements


def _run_raw(paths, zones, out):
    import rasterio
    from rasterio.windows import Window

    times = {}
    with rasterio.Env(GDAL_CACHEMAX=64):
        for key, path in paths.items():
            t0 = time.perf_counter()
            with rasterio.open(path) as ds:
                h, w = ds.shape
                rows = max(4_000_000 // w // BLOCK, 1) * BLOCK
                for r0 in range(0, h, rows):
                    ds.read(1, window=Window(0, r0, w, min(rows, h - r0)))
            times[key] = time.perf_counter() - t0
    return times


def _run_exactextract(paths, zones, out):
    from exactextract import exact_extract

    t0 = time.perf_counter()
    mean = exact_extract(str(paths["float"]), zones, ["mean"], output="pandas")
    t1 = time.perf_counter()
    frac = exact_extract(str(paths["classes"]), zones, ["unique", "frac"], output="pandas")
    t2 = time.perf_counter()
    out["mean"] = mean["mean"].to_numpy()
    out["frac"] = [
        dict(zip(u, f, strict=True)) for u, f in zip(frac["unique"], frac["frac"], strict=True)
    ]
    return {"float": t1 - t0, "classes": t2 - t1}


def _run_rasterstats(paths, zones, out):
    from rasterstats import zonal_stats

    t0 = time.perf_counter()
    res = zonal_stats(zones, str(paths["float"]), stats=["mean"])
    out["mean"] = np.array([np.nan if r["mean"] is None else r["mean"] for r in res])
    return {"float": time.perf_counter() - t0}


def _geo_layers(paths, zones, cov, out):
    from geo.zonal import zonal_stats

    t0 = time.perf_counter()
    mean = zonal_stats(zones, paths["float"], ["mean"], coverage=cov)
    t1 = time.perf_counter()
    cls = zonal_stats(zones, paths["classes"], ["count"], categorical=True, coverage=cov)
    t2 = time.perf_counter()
    out["mean"] = mean["mean"].to_numpy()
    fcols = [c for c in cls if c.startswith("fraction_")]
    out["frac"] = [
        {int(c.removeprefix("fraction_")): v for c, v in row.items() if v > 0}
        for row in cls[fcols].to_dict("records")
    ]
    return {"float": t1 - t0, "classes": t2 - t1}


def _run_geo_cold(paths, zones, out):
    import rasterio

    from geo.grid import Grid
    from geo.zonal import Coverage

    t0 = time.perf_counter()
    with rasterio.open(paths["float"]) as ds:
        cov = Coverage.build(zones, Grid.from_dataset(ds))
    build = time.perf_counter() - t0
    times = _geo_layers(paths, zones, cov, out)
    out["coverage_mb"] = cov.nbytes / 2**20
    return {"build": build, **times}


def _run_geo_warm(paths, zones, out):
    import rasterio

    from geo.grid import Grid
    from geo.zonal import Coverage

    with rasterio.open(paths["float"]) as ds:
        grid = Grid.from_dataset(ds)
    cov = Coverage.build(zones, grid)
    # numba's first-call compilation (when numba is installed) is a one-off cost of the
    # process, not of a layer: both layers over one zone, here, outside the timed region
    one = zones.iloc[:1]
    _geo_layers(paths, one, Coverage.build(one, grid), {})
    return _geo_layers(paths, zones, cov, out)


_RUNNERS = {
    "raw": _run_raw,
    "exactextract": _run_exactextract,
    "rasterstats": _run_rasterstats,
    "geo_cold": _run_geo_cold,
    "geo_warm": _run_geo_warm,
}


def _child(name: str, args) -> None:
    """Run one measurement ``repeat`` times; print timings and peak memory as JSON."""
    paths = _generate(args.cache, args.resolution, args.quick)
    zones = _banners(args.quick)
    runs, out = [], {}
    for _ in range(args.repeat if name != "rasterstats" else 1):
        runs.append(_RUNNERS[name](paths, zones, out))
    with open(args.cache / f"result_{name}.pkl", "wb") as f:
        pickle.dump(out, f)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB → GiB
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(json.dumps({"times": med, "peak_gib": peak, "n_zones": len(zones)}))


# --------------------------------------------------------------------------- report


def _hist_path() -> str:
    """Which class-histogram path geo.zonal uses here (compiled or numpy)."""
    try:
        import numba
    except ImportError:
        return "numpy (numba not installed)"
    return f"numba {numba.__version__}"


def _measure(name: str, args) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "geo.bench",
        "--child",
        name,
        "--resolution",
        str(int(args.resolution)),
        "--repeat",
        str(args.repeat),
        "--cache",
        str(args.cache),
    ]
    if args.quick:
        cmd.append("--quick")
    # the child imports the same geo as this process (a checkout not installed included)
    here = str(Path(__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path}
    res = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if res.returncode:
        raise SystemExit(f"{name} failed:\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _disagreement(cache: Path, ref: str, name: str) -> float:
    """Largest relative difference of means and class fractions between two results."""
    a = pickle.loads((cache / f"result_{name}.pkl").read_bytes())
    b = pickle.loads((cache / f"result_{ref}.pkl").read_bytes())
    ok = np.isfinite(b["mean"])
    worst = float(np.max(np.abs(a["mean"][ok] - b["mean"][ok]) / np.abs(b["mean"][ok])))
    if "frac" in a and "frac" in b:
        for fa, fb in zip(a["frac"], b["frac"], strict=True):
            for k, v in fb.items():
                if v > 1e-12:
                    worst = max(worst, abs(fa.get(int(k), 0.0) - v) / v)
    return worst


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table (``argv`` as ``barrier bench`` takes them).

    Parameters
    ----------
    argv : list of str, optional
        ``--resolution 250|100``, ``--repeat N``, ``--cache DIR``, ``--quick``,
        ``--rasterstats auto|yes|no`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit code 0 (a failed measurement raises SystemExit with its error output).
    """
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--resolution", type=int, choices=(250, 100), default=250)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--cache", type=Path, default=Path.home() / ".cache/geo-barrier/bench")
    p.add_argument("--quick", action="store_true", help="small region, few banners (smoke run)")
    p.add_argument(
        "--rasterstats",
        choices=("auto", "yes", "no"),
        default="auto",
        help="run rasterstats (auto: only at 250 m)",
    )
    p.add_argument("--child", choices=MEASUREMENTS, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.cache = args.cache.expanduser()
    if args.child:
        _child(args.child, args)
        return 0

    _generate(args.cache, args.resolution, args.quick)
    names = ["raw", "exactextract", "geo_cold", "geo_warm"]
    if args.rasterstats == "yes" or (args.rasterstats == "auto" and args.resolution == 250):
        names.insert(2, "rasterstats")
    res = {n: _measure(n, args) for n in names}
    _transform, shape = grid_for(args.resolution, args.quick)
    raw = res["raw"]["times"]
    raw_both = raw["float"] + raw["classes"]
    ee = res["exactextract"]["times"]
    ee_both = ee["float"] + ee["classes"]
    cold = res["geo_cold"]["times"]
    cold_both = cold["build"] + cold["float"] + cold["classes"]
    warm = res["geo_warm"]["times"]
    warm_both = warm["float"] + warm["classes"]

    print(
        f"# zonal benchmark — {args.resolution} m Albers grid {shape[0]}×{shape[1]} "
        f"({shape[0] * shape[1] / 1e6:.0f} M cells), {res['raw']['n_zones']} banners, "
        f"median of {args.repeat}"
    )
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"python {platform.python_version()}, class histograms: {_hist_path()}"
    )
    print(f"{'measurement':38s} {'wall s':>8s} {'× raw':>7s} {'× ee':>7s} {'peak GiB':>9s}")

    def line(label, t, peak=None):
        print(
            f"{label:38s} {t:8.2f} {t / raw_both:7.2f} {t / ee_both:7.2f} "
            f"{'' if peak is None else f'{peak:9.2f}'}"
        )

    line("raw read, float + classes", raw_both, res["raw"]["peak_gib"])
    print(f"{'  raw read float / classes':38s} {raw['float']:8.2f} / {raw['classes']:.2f}")
    line("exactextract mean + frac", ee_both, res["exactextract"]["peak_gib"])
    if "rasterstats" in res:
        line(
            "rasterstats mean (float only)",
            res["rasterstats"]["times"]["float"],
            res["rasterstats"]["peak_gib"],
        )
    line("geo.zonal cold (build + both layers)", cold_both, res["geo_cold"]["peak_gib"])
    print(f"{'  of which coverage build':38s} {cold['build']:8.2f}")
    line("geo.zonal warm (both layers)", warm_both, res["geo_warm"]["peak_gib"])
    print(
        f"{'  warm float layer / raw float':38s} {warm['float']:8.2f} "
        f"{warm['float'] / raw['float']:7.2f}"
    )
    print(
        f"{'  warm class layer / raw classes':38s} {warm['classes']:8.2f} "
        f"{warm['classes'] / raw['classes']:7.2f}"
    )
    print(
        f"speed-up warm vs exactextract: {ee_both / warm_both:.2f}×; "
        f"cold vs exactextract: {ee_both / cold_both:.2f}×"
    )
    print(
        f"largest relative disagreement with exactextract: "
        f"geo_warm {_disagreement(args.cache, 'exactextract', 'geo_warm'):.2e}, "
        f"geo_cold {_disagreement(args.cache, 'exactextract', 'geo_cold'):.2e}"
    )
    if "rasterstats" in res:
        print(
            f"rasterstats (center rule) vs exactextract mean: "
            f"{_disagreement(args.cache, 'exactextract', 'rasterstats'):.2e} (expected: not exact)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
