"""The plain API as a notebook calls it, twice, on a geographic (EPSG:4326) grid.

``geo.zonal_stats(zones, path, ["mean"])`` with no ``coverage=`` and no ``cache_dir=``, three
times in one process, beside exactextract called the same way (it rebuilds its coverage on
every call) and the raw single-threaded read of the raster. The float32 raster covers the
region's bounding box at ``--resolution`` degrees (default 0.005°, 20 M cells) and is written
once to ``~/.cache/geo-barrier/bench``; zones are the 103 banners.

Usage::

    python benchmarks/plain_api.py [--resolution 0.005]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window

REGION = (97.0, 37.0, 126.5, 54.0)


def make_raster(res: float) -> Path:
    folder = Path.home() / ".cache" / "geo-barrier" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"plain_api_4326_{res:g}.tif"
    if path.is_file():
        return path
    w, h = round((REGION[2] - REGION[0]) / res), round((REGION[3] - REGION[1]) / res)
    profile = dict(driver="GTiff", width=w, height=h, count=1, dtype="float32",
                   crs="EPSG:4326", transform=from_origin(REGION[0], REGION[3], res, res),
                   nodata=-9999, tiled=True, blockxsize=256, blockysize=256,
                   compress="deflate", predictor=3)  # fmt: skip
    rng = np.random.default_rng(0)
    with rasterio.open(path, "w", **profile) as dst:
        for r0 in range(0, h, 1024):
            n = min(1024, h - r0)
            dst.write(rng.random((n, w), dtype=np.float32), 1, window=Window(0, r0, w, n))
    return path


def timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=float, default=0.005, help="degrees")
    args = parser.parse_args()

    from exactextract import exact_extract

    import geo
    from geo import boundaries

    path = make_raster(args.resolution)
    zones = boundaries.load("county")
    with rasterio.open(path) as ds:
        shape = ds.shape

    def raw():
        with rasterio.open(path) as ds:
            for _, win in ds.block_windows(1):
                ds.read(1, window=win)

    t_raw, _ = timed(raw)
    t_ee, ee = timed(lambda: exact_extract(str(path), zones, ["mean"], output="pandas"))
    rows = [("raw read (floor)", t_raw), ("exactextract, one call", t_ee)]
    for k in range(3):
        t, ours = timed(lambda: geo.zonal_stats(zones, path, ["mean"]))
        rows.append((f"geo.zonal_stats, call {k + 1}", t))
    # exactextract's mean is unweighted by cell area, like ours: the two agree
    assert np.allclose(ours["mean"].to_numpy(), ee["mean"].to_numpy(), rtol=1e-9, atol=0)
    print(f"grid {shape[0]} x {shape[1]} = {shape[0] * shape[1] / 1e6:.0f} M cells, EPSG:4326")
    for name, t in rows:
        print(f"{name:30s} {t:7.2f} s  {t / t_raw:5.2f} x raw  {t / t_ee:5.2f} x exactextract")


if __name__ == "__main__":
    main()
