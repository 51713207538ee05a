"""Cropping, compositing and writing the fetched rasters as cloud-optimised GeoTIFFs.

The output grid is the first item's grid (its CRS, cell size and alignment) cut to the zones'
bounding box plus a margin, so that cells are copied, not resampled,
wherever the items share that grid (MODIS tiles, WorldCover tiles). Items are read block of rows
by block, so memory stays bounded whatever the resolution.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from geo.errors import DataError

__all__ = ["BLOCK_CELLS", "Grid", "composite", "target_grid"]

#: Cells of one block of rows (float64 accumulators of this many cells are held at once).
BLOCK_CELLS = 8 << 20


class Grid(dict):
    """The output grid: ``crs``, ``transform``, ``width``, ``height`` (a dict, as rasterio's)."""


def _open(path: Path):
    import rasterio

    try:
        return rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise DataError(f"downloaded file {path.name} is not a readable raster ({exc})") from None


def target_grid(paths: Sequence[Path], bbox: Sequence[float], margin: float = 0.05) -> Grid:
    """The grid of ``paths[0]`` cut to ``bbox`` (+ ``margin``), snapped outwards to its cells.

    Not cut to the files' extent: a year with a missing tile still gets the same grid as the
    other years (no data where no file reaches), so the folder stays one stack.

    Parameters
    ----------
    paths : sequence of Path
        The items' files (the first gives CRS, cell size and alignment).
    bbox : sequence of float
        West, south, east, north of the zones, degrees (EPSG:4326).
    margin : float
        Added on each side of ``bbox``, degrees.

    Returns
    -------
    Grid

    Raises
    ------
    geo.errors.DataError
        The files do not reach the zones.
    """
    from affine import Affine
    from rasterio.warp import transform_bounds

    with _open(paths[0]) as src:
        crs, t = src.crs, src.transform
    w, s, e, n = bbox
    want = transform_bounds(
        "EPSG:4326", crs, w - margin, s - margin, e + margin, n + margin, densify_pts=21
    )
    reach = False
    for path in paths:
        with _open(path) as src:
            b = transform_bounds(src.crs, crs, *src.bounds, densify_pts=21)
        reach |= b[0] < want[2] and b[2] > want[0] and b[1] < want[3] and b[3] > want[1]
    if not reach:
        raise DataError(
            f"the fetched files ({len(paths)}) do not reach the zones' box {tuple(bbox)}; "
            "check --zones"
        )
    # the whole box, also where no file reaches (no data there): every year on one grid
    left, bottom, right, top = want
    # snap outwards to the first file's cell edges (tolerance for float noise)
    col0 = math.floor((left - t.c) / t.a + 1e-6)
    col1 = math.ceil((right - t.c) / t.a - 1e-6)
    row0 = math.floor((top - t.f) / t.e + 1e-6)
    row1 = math.ceil((bottom - t.f) / t.e - 1e-6)
    transform = Affine(t.a, 0.0, t.c + col0 * t.a, 0.0, t.e, t.f + row0 * t.e)
    return Grid(crs=crs, transform=transform, width=col1 - col0, height=row1 - row0)


def composite(
    paths: Sequence[Path],
    grid: Grid,
    outputs: dict[str, Path],
    *,
    scale: float = 1.0,
    categorical: bool = True,
    valid: tuple[float, float] | None = None,
    quality: Sequence[Path | None] | None = None,
    good: tuple[int, ...] = (),
) -> None:
    """Write the composites of ``paths`` on ``grid`` as COGs (``{"max"|"mean"|"mosaic": path}``).

    ``max`` and ``mean``: per-pixel maximum and mean of the valid values of all files, times
    ``scale``, float32 with NaN as nodata (a cell valid in no file is NaN). ``mosaic``: the first
    valid value in file order, in the files' type and nodata.

    Parameters
    ----------
    paths : sequence of Path
        The items' files, in date order.
    grid : Grid
        From :func:`target_grid`.
    outputs : dict of str to Path
        Composite → temporary GeoTIFF path (the caller renames it into place).
    scale : float
        Factor applied to ``max`` and ``mean``.
    categorical : bool
        Nearest-neighbour overviews (classes) instead of averages.
    valid : tuple of float, optional
        Valid range of the stored values (inclusive); values outside it are no data.
    quality : sequence of Path or None, optional
        Per file, a quality raster on the file's grid (MOD13Q1 pixel reliability), or None.
    good : tuple of int
        Quality values kept; a cell of another quality is no data in that file.
    """
    import rasterio

    valid_range = valid
    from rasterio.windows import Window, bounds, transform

    with _open(paths[0]) as src:
        dtype, nodata = src.dtypes[0], src.nodata
    if nodata is None:
        nodata = np.nan if np.dtype(dtype).kind == "f" else 0
    profiles = {}
    for kind in outputs:
        mosaic = kind == "mosaic"
        profiles[kind] = dict(
            driver="GTiff",
            crs=grid["crs"],
            transform=grid["transform"],
            width=grid["width"],
            height=grid["height"],
            count=1,
            dtype=dtype if mosaic else "float32",
            nodata=nodata if mosaic else np.nan,
            tiled=True,
            blockxsize=256,
            blockysize=256,
            compress="deflate",
            bigtiff="IF_SAFER",  # WorldCover at 10 m over a league passes 4 GB
        )
    plain = {k: p.with_name(p.stem + ".plain.tif") for k, p in outputs.items()}
    rows = max(1, BLOCK_CELLS // max(grid["width"], 1))
    handles = [_open(p) for p in paths]
    checks = [_open(q) if q is not None else None for q in (quality or [None] * len(paths))]
    try:
        sinks = {k: rasterio.open(plain[k], "w", **profiles[k]) for k in outputs}
        try:
            for row0 in range(0, grid["height"], rows):
                window = Window(0, row0, grid["width"], min(rows, grid["height"] - row0))
                where = transform(window, grid["transform"])
                box = bounds(window, grid["transform"])
                total = np.zeros((window.height, window.width))
                count = np.zeros((window.height, window.width), "int32")
                top = np.full((window.height, window.width), -np.inf)
                first = np.full((window.height, window.width), np.nan)
                for src, check in zip(handles, checks, strict=True):
                    if not _overlaps(src, grid["crs"], box):
                        continue
                    block = _warp(src, window, where, grid["crs"])
                    if check is not None:
                        block[~np.isin(_warp(check, window, where, grid["crs"]), good)] = np.nan
                    if valid_range is not None:
                        lo, hi = valid_range
                        block[(block < lo) | (block > hi)] = np.nan
                    valid = np.isfinite(block)
                    total[valid] += block[valid]
                    count[valid] += 1
                    np.fmax(top, block, out=top, where=valid)
                    fill = valid & np.isnan(first)
                    first[fill] = block[fill]
                empty = count == 0
                for kind, sink in sinks.items():
                    if kind == "max":
                        values = np.where(empty, np.nan, top * scale)
                    elif kind == "mean":
                        values = np.where(empty, np.nan, total / np.maximum(count, 1) * scale)
                    else:
                        values = np.where(np.isnan(first), nodata, first)
                    sink.write(values.astype(sink.dtypes[0]), 1, window=window)
        finally:
            for sink in sinks.values():
                sink.close()
        for kind, path in outputs.items():
            _to_cog(plain[kind], path, categorical=categorical or kind == "mosaic")
    finally:
        for src in [*handles, *(c for c in checks if c is not None)]:
            src.close()
        for p in plain.values():
            p.unlink(missing_ok=True)


def _warp(src, window, where, crs) -> np.ndarray:
    """Band 1 of ``src`` on the block ``window`` (transform ``where``), float, NaN no data."""
    import rasterio
    from rasterio.warp import Resampling, reproject

    block = np.full((window.height, window.width), np.nan)
    reproject(
        rasterio.band(src, 1),
        block,
        src_nodata=src.nodata,
        dst_transform=where,
        dst_crs=crs,
        dst_nodata=np.nan,
        resampling=Resampling.nearest,
    )
    return block


def _overlaps(src, crs, box) -> bool:
    from rasterio.warp import transform_bounds

    b = transform_bounds(src.crs, crs, *src.bounds, densify_pts=21)
    return b[0] < box[2] and b[2] > box[0] and b[1] < box[3] and b[3] > box[1]


def _to_cog(plain: Path, dest: Path, *, categorical: bool) -> None:
    from rasterio.shutil import copy

    copy(
        plain,
        dest,
        driver="COG",
        compress="DEFLATE",
        bigtiff="IF_SAFER",
        blocksize=512,
        overview_resampling="NEAREST" if categorical else "AVERAGE",
        resampling="NEAREST",
    )
