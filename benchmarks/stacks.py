"""Benchmark of the plain API twice (EPSG:4326 and Albers) and of a 20-layer stack.

Measured side by side in ONE run (the machine is shared: compare ratios, not seconds):

* ``plain``: ``geo.zonal_stats(zones, path, ...)`` as a notebook calls it — no ``coverage=``,
  no ``cache_dir=`` — twice in one process (float mean + class areas/fractions each time),
  against exactextract (``["mean"]`` on the float raster, ``["unique", "frac"]`` on the class
  raster) and against a single-threaded raw read of every block of both rasters;
  on a geographic (EPSG:4326) grid and on an Albers equal-area grid.
* ``stack``: one ``geo.zonal_stats(zones, Stack, ["mean"])`` over N yearly float layers,
  against exactextract called once per layer, against the raw read of the stack and against
  the decode floor (only the blocks the zones touch, decoded on two threads, no arithmetic).

The raw read runs first, twice (the first, untimed, brings the files into the page cache,
so that no tool pays the disk). Each measurement runs in its own subprocess; its peak
memory is that subprocess's ``ru_maxrss`` (Python, GDAL and the libraries included,
≈ 0.25 GiB baseline). The synthetic
rasters are generated once into ``--data`` (default ``/tmp/geo-bench``), outside any timing.

Usage::

    python benchmarks/stacks.py generate --deg 0.001 --metres 100 --stack-metres 250 --years 20
    python benchmarks/stacks.py plain --grid geographic --deg 0.001
    python benchmarks/stacks.py plain --grid albers --metres 100
    python benchmarks/stacks.py stack --stack-metres 250 --years 20
    python benchmarks/stacks.py peaks --stack-metres 250 --years 20
    python benchmarks/stacks.py classes   # GEO_BENCH_PYTHONPATH=<old checkout> for "before"
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the checkout's geo, installed or not
from geo.bench import ALBERS, BLOCK, CLASS_NODATA, FLOAT_NODATA, REGION, grid_for  # noqa: E402

BOUNDARIES = REPO / "data" / "boundaries" / "im_admin_wgs84.gpkg"


# --------------------------------------------------------------------------- data


def geographic_grid(deg: float):
    """Transform and shape of the EPSG:4326 grid over the region, ``deg`` degrees."""
    from rasterio.transform import from_origin

    w = round((REGION[2] - REGION[0]) / deg)
    h = round((REGION[3] - REGION[1]) / deg)
    return from_origin(REGION[0], REGION[3], deg, deg), (h, w)


def fields(transform, row0: int, nrows: int, width: int, km_per_unit: float, year: int = 0):
    """Vegetation cover (float32, %, nodata on lakes) and IGBP-like classes (uint8 1-17)."""
    x = (transform.c + transform.a * (np.arange(width) + 0.5))[None, :] * km_per_unit
    y = (transform.f + transform.e * (np.arange(row0, row0 + nrows) + 0.5))[:, None] * km_per_unit
    rng = np.random.default_rng([2024, row0, year])
    smooth = np.sin(x / 150.0 + year / 7) * np.cos(y / 110.0) + 0.5 * np.sin((x + y) / 37.0)
    veg = 50 + 30 * smooth + rng.normal(0, 3, (nrows, width))
    veg = (np.round(np.clip(veg, 0, 100) * 100) / 100).astype(np.float32)
    water = np.sin(x / 13.0) * np.sin(y / 17.0) > 0.97
    veg[water] = FLOAT_NODATA
    cls = np.clip(((smooth + 1.5) / 3.0 * 17).astype(np.int16) + 1, 1, 17).astype(np.uint8)
    flip = rng.random((nrows, width)) < 0.05
    cls[flip] = rng.integers(1, 18, flip.sum(), dtype=np.uint8)
    cls[water] = CLASS_NODATA
    return veg, cls


def _profile(crs, transform, shape):
    return dict(driver="GTiff", height=shape[0], width=shape[1], count=1, crs=crs,
                transform=transform, tiled=True, blockxsize=BLOCK, blockysize=BLOCK,
                compress="deflate", num_threads="all_cpus", bigtiff="if_safer")  # fmt: skip


def write_layers(paths: dict[str, Path], crs, transform, shape, km_per_unit, years=(0,)):
    """Write float (and class) layers block row by block row; atomic renames at the end."""
    import rasterio
    from rasterio.windows import Window

    if all(p.exists() for p in paths.values()):
        return
    common = _profile(crs, transform, shape)
    tmp = {k: p.with_suffix(".tmp.tif") for k, p in paths.items()}
    h, w = shape
    t0 = time.perf_counter()
    dsts = {}
    for key, path in tmp.items():
        if key.startswith("class"):
            dsts[key] = rasterio.open(path, "w", dtype="uint8", nodata=CLASS_NODATA, **common)
        else:
            dsts[key] = rasterio.open(path, "w", dtype="float32", nodata=FLOAT_NODATA,
                                      predictor=3, **common)  # fmt: skip
    try:
        for r0 in range(0, h, BLOCK):
            n = min(BLOCK, h - r0)
            for key, dst in dsts.items():
                year = int(key.split("_")[1]) if "_" in key else 0
                veg, cls = fields(transform, r0, n, w, km_per_unit, year)
                dst.write(cls if key.startswith("class") else veg, 1, window=Window(0, r0, w, n))
    finally:
        for dst in dsts.values():
            dst.close()
    for key, path in paths.items():
        os.replace(tmp[key], path)
    print(f"wrote {len(paths)} × {h}×{w} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


def plain_paths(data: Path, grid: str, deg: float, metres: float) -> dict[str, Path]:
    tag = f"4326_{deg:g}" if grid == "geographic" else f"albers_{metres:g}m"
    return {"float": data / f"veg_{tag}.tif", "class": data / f"classes_{tag}.tif"}


def stack_paths(data: Path, metres: float, years: int) -> list[Path]:
    return [data / f"stack_{metres:g}m" / f"veg_{2000 + k}.tif" for k in range(years)]


def generate(args) -> None:
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    transform, shape = geographic_grid(args.deg)
    write_layers(plain_paths(data, "geographic", args.deg, args.metres), "EPSG:4326",
                 transform, shape, 111.32)  # fmt: skip
    transform, shape = grid_for(args.metres, quick=False)
    write_layers(plain_paths(data, "albers", args.deg, args.metres), ALBERS, transform, shape,
                 1 / 1000)  # fmt: skip
    transform, shape = grid_for(args.stack_metres, quick=False)
    paths = stack_paths(data, args.stack_metres, args.years)
    paths[0].parent.mkdir(exist_ok=True)
    write_layers({f"float_{k}": p for k, p in enumerate(paths)}, ALBERS, transform, shape,
                 1 / 1000)  # fmt: skip


# --------------------------------------------------------------------------- measurements


def zones_for(path: Path):
    """The 103 banners in the raster's CRS (reprojected before timing, for every tool)."""
    import geopandas as gpd
    import rasterio

    with rasterio.open(path) as ds:
        crs = ds.crs
    return gpd.read_file(BOUNDARIES, layer="county").to_crs(crs)


def raw_read(paths) -> None:
    """Decode every block of every raster, one GDAL thread (the floor)."""
    import rasterio

    for path in paths:
        with rasterio.Env(GDAL_NUM_THREADS="1"), rasterio.open(path) as ds:
            for _, win in ds.block_windows(1):
                ds.read(1, window=win)


def touched_blocks(path: Path, zones) -> list:
    """The block windows of ``path`` that hold at least one cell of a zone (all-touched)."""
    import rasterio
    from rasterio import features

    with rasterio.open(path) as ds:
        inside = features.geometry_mask(
            zones.geometry, ds.shape, ds.transform, all_touched=True, invert=True
        )
        return [w for _, w in ds.block_windows(1) if inside[w.toslices()].any()]


def decode_floor(paths, blocks, threads: int = 2) -> None:
    """Decode only the blocks the zones touch, on ``threads`` threads, no arithmetic."""
    from concurrent.futures import ThreadPoolExecutor

    import rasterio

    def part(args):
        path, share = args
        with rasterio.Env(GDAL_NUM_THREADS="1"), rasterio.open(path) as ds:
            for win in share:
                ds.read(1, window=win)

    jobs = [(p, blocks[k::threads]) for p in paths for k in range(threads)]
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(part, jobs))


def measure(kind: str, paths: list[str]) -> dict:
    """One measurement, in this process: seconds per step, the results to compare."""
    paths = [Path(p) for p in paths]
    out: dict = {}
    if kind == "raw":
        raw_read(paths)  # once untimed: every tool then finds the files in the page cache
        t = time.perf_counter()
        raw_read(paths)
        out["raw"] = time.perf_counter() - t
        return out
    zones = zones_for(paths[0])
    if kind == "floor":
        blocks = touched_blocks(paths[0], zones)
        decode_floor(paths, blocks)  # untimed: page cache
        t = time.perf_counter()
        decode_floor(paths, blocks)
        out["floor"] = time.perf_counter() - t
        out["blocks"] = len(blocks)
        return out
    if kind == "ee_plain":
        from exactextract import exact_extract

        t = time.perf_counter()
        mean = exact_extract(str(paths[0]), zones, ["mean"], output="pandas")
        exact_extract(str(paths[1]), zones, ["unique", "frac"], output="pandas")
        out["ee"] = time.perf_counter() - t
        out["mean"] = mean["mean"].tolist()
    elif kind == "geo_plain":
        import geo

        for call in (1, 2):
            t = time.perf_counter()
            mean = geo.zonal_stats(zones, paths[0], ["mean"])
            geo.zonal_stats(zones, paths[1], categorical=True)
            out[f"call{call}"] = time.perf_counter() - t
        out["mean"] = mean["mean"].tolist()
    elif kind == "geo_classes":
        import geopandas as gpd

        import geo

        banners = gpd.read_file(BOUNDARIES, layer="county")
        for path in paths:
            zones = banners.to_crs(zones_for(path).crs)
            geo.zonal_stats(zones, path, categorical=True)  # coverage built, kernels compiled
            times = []
            for _ in range(3):
                t = time.perf_counter()
                geo.zonal_stats(zones, path, categorical=True)
                times.append(time.perf_counter() - t)
            out[path.name] = min(times)
    elif kind == "ee_stack":
        from exactextract import exact_extract

        t = time.perf_counter()
        means = [exact_extract(str(p), zones, ["mean"], output="pandas")["mean"] for p in paths]
        out["ee"] = time.perf_counter() - t
        out["mean"] = [m.tolist() for m in means]
    elif kind == "geo_stack":
        from geo.stack import Stack
        from geo.zonal import zonal_stats

        stack = Stack.from_files(paths)
        for call in (1, 2):
            t = time.perf_counter()
            wide = zonal_stats(zones, stack, ["mean"], layout="wide")
            out[f"call{call}"] = time.perf_counter() - t
        out["mean"] = [wide[wide["year"] == y]["mean"].tolist() for y in stack.years]
    return out


def run(kind: str, paths) -> dict:
    """:func:`measure` in a fresh subprocess, with its peak resident memory (GiB)."""
    code = (
        "import json, resource, sys; sys.path.insert(0, {!r}); import stacks; "
        "out = stacks.measure({!r}, {!r}); "
        "out['peak_gib'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20; "
        "print(json.dumps(out))"
    ).format(str(REPO / "benchmarks"), kind, [str(p) for p in paths])
    env = os.environ | {"PYTHONPATH": os.environ.get("GEO_BENCH_PYTHONPATH", str(REPO))}
    # cwd: the benchmarks folder, so that `geo` comes from PYTHONPATH, not from the cwd
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=REPO / "benchmarks")  # fmt: skip
    if done.returncode:
        sys.exit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def worst_rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = ~(np.isnan(a) & np.isnan(b))
    return float(np.max(np.abs(a[ok] - b[ok]) / np.abs(b[ok]), initial=0))


def plain(args) -> None:
    paths = plain_paths(Path(args.data), args.grid, args.deg, args.metres)
    paths = [paths["float"], paths["class"]]
    raw = run("raw", paths)["raw"]
    ee = run("ee_plain", paths)
    ours = run("geo_plain", paths)
    import rasterio

    with rasterio.open(paths[0]) as ds:
        h, w = ds.shape
    print(f"## plain API, {args.grid} grid {h} × {w} = {h * w / 1e6:.0f} M cells, 103 banners")
    print(f"raw single-threaded read of both rasters   {raw:7.2f} s")
    print(f"exactextract mean + unique/frac           {ee['ee']:7.2f} s  "
          f"{ee['ee'] / raw:5.2f} × raw   peak {ee['peak_gib']:.2f} GiB")  # fmt: skip
    for call in (1, 2):
        t = ours[f"call{call}"]
        print(f"geo.zonal_stats float + classes, call {call}   {t:7.2f} s  {t / raw:5.2f} × raw  "
              f"{ee['ee'] / t:5.2f} × faster than exactextract")  # fmt: skip
    print(f"geo peak {ours['peak_gib']:.2f} GiB; means vs exactextract: worst relative "
          f"difference {worst_rel(ours['mean'], ee['mean']):.1e}")  # fmt: skip


def stack(args) -> None:
    paths = stack_paths(Path(args.data), args.stack_metres, args.years)
    raw = run("raw", paths)["raw"]
    ee = run("ee_stack", paths)
    floor = run("floor", paths)
    ours = run("geo_stack", paths)
    import rasterio

    with rasterio.open(paths[0]) as ds:
        h, w = ds.shape
    print(f"## {len(paths)}-layer stack, Albers {args.stack_metres:g} m, {h} × {w} "
          f"= {h * w / 1e6:.0f} M cells per layer, 103 banners")  # fmt: skip
    print(f"raw single-threaded read of the stack      {raw:7.2f} s")
    print(f"exactextract mean, one call per layer     {ee['ee']:7.2f} s  "
          f"{ee['ee'] / raw:5.2f} × raw   peak {ee['peak_gib']:.2f} GiB")  # fmt: skip
    fl = floor["floor"]
    print(f"decode of the {floor['blocks']} blocks the zones touch, 2 threads, no sums "
          f"{fl:7.2f} s  {fl / raw:5.2f} × raw  (exactextract ÷ floor = {ee['ee'] / fl:.2f}: "
          "the largest ratio any tool decoding these blocks can reach here)")  # fmt: skip
    for call in (1, 2):
        t = ours[f"call{call}"]
        print(f"geo.zonal_stats(zones, stack), call {call}      {t:7.2f} s  {t / raw:5.2f} × raw  "
              f"{ee['ee'] / t:5.2f} × faster than exactextract")  # fmt: skip
    worst = max(worst_rel(a, b) for a, b in zip(ours["mean"], ee["mean"], strict=True))
    print(f"geo peak {ours['peak_gib']:.2f} GiB; means vs exactextract: worst relative "
          f"difference {worst:.1e}")  # fmt: skip


def classes(args) -> None:
    """Class areas alone (warm: coverage cached), geographic beside Albers, best of three.

    ``GEO_BENCH_PYTHONPATH=<old checkout>`` measures another version of ``geo`` (before/after).
    """
    data = Path(args.data)
    paths = [plain_paths(data, g, args.deg, args.metres)["class"] for g in ("geographic", "albers")]
    raws = [run("raw", [p])["raw"] for p in paths]
    ours = run("geo_classes", paths)
    import rasterio

    print("## class areas + fractions, warm call, best of 3")
    for path, raw in zip(paths, raws, strict=True):
        with rasterio.open(path) as ds:
            cells = ds.width * ds.height
        t = ours[path.name]
        print(f"{path.name:28s} {t:6.2f} s  {t / cells * 1e8:5.2f} s per 100 M cells  "
              f"{t / raw:5.2f} × its raw read ({raw:.2f} s)")  # fmt: skip


def peaks(args) -> None:
    """Peak memory of the one-pass call on the first 1, 5 and N layers of the stack."""
    paths = stack_paths(Path(args.data), args.stack_metres, args.years)
    print(f"## peak memory of geo.zonal_stats(zones, stack), Albers {args.stack_metres:g} m")
    for n in sorted({1, 5, len(paths)}):
        r = run("geo_stack", paths[:n])
        print(f"{n:3d} layers  call 1 {r['call1']:6.2f} s  call 2 {r['call2']:6.2f} s  "
              f"peak {r['peak_gib']:.2f} GiB")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["generate", "plain", "stack", "peaks", "classes"])
    parser.add_argument("--data", default="/tmp/geo-bench")
    parser.add_argument("--grid", choices=["geographic", "albers"], default="geographic")
    parser.add_argument("--deg", type=float, default=0.001, help="geographic cell, degrees")
    parser.add_argument("--metres", type=float, default=100, help="Albers cell, m")
    parser.add_argument("--stack-metres", type=float, default=250, help="stack cell, m")
    parser.add_argument("--years", type=int, default=20, help="layers of the stack")
    args = parser.parse_args()
    {"generate": generate, "plain": plain, "stack": stack, "peaks": peaks, "classes": classes}[
        args.what
    ](args)


if __name__ == "__main__":
    main()
