"""Helpers for testing code that uses ``geo``: raster and zone factories, CLI runs, checks.

In the spirit of :mod:`xarray.testing`: small, public and stable, so that the toolkit's own
tests, an independent checker's and a user's notebook build inputs the same way. Nothing here
is imported by the rest of the package.

Examples
--------
>>> import numpy as np
>>> from geo import testing
>>> path = testing.write_raster(tmp / "a.tif", np.ones((4, 4), "float32"), cell=1000.0,
...                             crs="EPSG:3857")  # doctest: +SKIP
>>> zones = testing.box_zones({"a": (0, 0, 2000, 4000)}, crs="EPSG:3857")  # doctest: +SKIP
>>> result = testing.run_cli("stats", "--zones", "league", "--layer", "ndvi")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = [
    "CliResult",
    "assert_close",
    "box_zones",
    "exact_reference",
    "run_cli",
    "write_raster",
]


class CliResult(NamedTuple):
    """What one in-process run of ``barrier`` gave: exit code, standard output and error."""

    code: int
    out: str
    err: str


def run_cli(*args, capsys=None) -> CliResult:
    """Run ``barrier ARGS`` in this process, as a new process would, and capture its output.

    The process coverage cache is emptied first: a real ``barrier`` run starts with nothing
    in memory, so what a run finds on disk is what the next run would find.

    Parameters
    ----------
    *args : str or path-like
        The command line after ``barrier`` (converted with :class:`str`).
    capsys : pytest.CaptureFixture, optional
        Pytest's capture fixture; when given, the output is read from it (pytest already
        captures ``sys.stdout``), otherwise from redirected standard streams.

    Returns
    -------
    CliResult
        ``(code, out, err)``: 0 success, 2 bad input (the error is one line on ``err``).
    """
    from geo import cli, zonal

    argv = [str(a) for a in args]
    zonal.coverage_cache.clear()  # each `barrier` run is a new process: nothing in memory
    if capsys is not None:
        code = cli.main(argv)
        out, err = capsys.readouterr()
        return CliResult(code, out, err)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return CliResult(code, out.getvalue(), err.getvalue())


def write_raster(
    path: str | Path,
    data,
    *,
    transform=...,
    cell: float = 1000.0,
    origin: tuple[float, float] | None = None,
    crs="EPSG:3857",
    nodata=None,
    dtype=None,
    **profile,
) -> Path:
    """Write a GeoTIFF of one band (2-D ``data``) or several (3-D, bands first).

    Parameters
    ----------
    path : str or Path
        File to write (GeoTIFF).
    data : array_like
        Cell values, rows from north to south.
    transform : affine.Affine or None, optional
        Geotransform (None writes a file without one); default: square cells of ``cell``
        CRS units whose north-west corner is ``origin`` (default ``(0, cell * rows)``,
        so that the raster covers ``[0, cell * cols] × [0, cell * rows]``).
    cell : float
        Cell size in CRS units (metres for a projected CRS, degrees for EPSG:4326).
    origin : tuple of float, optional
        ``(west, north)`` of the raster, CRS units.
    crs : str or CRS or None
        Coordinate reference system (None writes a file without one).
    nodata : float, optional
        Declared nodata value.
    dtype : str or numpy.dtype, optional
        Stored type (default: the type of ``data``).
    **profile
        Further GDAL creation options (``tiled=True``, ``compress="deflate"`` …).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import rasterio
    from rasterio.transform import from_origin

    data = np.asarray(data)
    if data.ndim not in (2, 3):
        raise ValueError(f"data must be 2-D or 3-D (bands first), not {data.ndim}-D")
    rows, cols = data.shape[-2:]
    if transform is ...:
        west, north = origin if origin is not None else (0.0, cell * rows)
        transform = from_origin(west, north, cell, cell)
    meta = {
        "driver": "GTiff",
        "width": cols,
        "height": rows,
        "count": 1 if data.ndim == 2 else data.shape[0],
        "dtype": np.dtype(dtype or data.dtype).name,
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
        **profile,
    }
    with rasterio.open(path, "w", **meta) as dst:
        dst.write(data if data.ndim == 3 else data[None])
    return Path(path)


def box_zones(boxes: Mapping[str, Sequence[float]], *, crs="EPSG:3857", field: str = "zone"):
    """Rectangular zones, one per identifier.

    Parameters
    ----------
    boxes : mapping of str to (minx, miny, maxx, maxy)
        Zone identifier → its bounds in ``crs`` units.
    crs : str or CRS
        CRS of the bounds.
    field : str
        Name of the identifier column.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per zone in the order given, with ``field``, ``name`` (= the identifier)
        and polygon geometry in ``crs``. Write it with ``to_file`` to test a user's zone file.
    """
    import geopandas as gpd
    import shapely

    ids = list(boxes)
    geoms = [shapely.box(*boxes[i]) for i in ids]
    return gpd.GeoDataFrame({field: ids, "name": ids}, geometry=geoms, crs=crs)


def exact_reference(zones, raster: str | Path, ops: Sequence[str] = ("mean",)):
    """Per-zone statistics computed independently by exactextract.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        Zones, in any CRS (reprojected to the raster's).
    raster : str or Path
        One-band raster file.
    ops : sequence of str
        exactextract operations (``"mean"``, ``"sum"``, ``"count"``, ``"frac"``, …).

    Returns
    -------
    pandas.DataFrame
        One row per zone (in the order of ``zones``), one column per operation.
    """
    import rasterio
    from exactextract import exact_extract

    with rasterio.open(raster) as src:
        crs = src.crs
    return exact_extract(
        str(raster), zones.to_crs(crs), list(ops), output="pandas", include_geom=False
    )


def assert_close(actual, expected, *, rtol: float = 1e-9, atol: float = 0.0, what: str = ""):
    """Assert two arrays (or scalars) agree, NaN where both are NaN, with a readable message.

    Parameters
    ----------
    actual, expected : array_like
        Values to compare (same shape after broadcasting).
    rtol, atol : float
        Relative and absolute tolerances (as :func:`numpy.isclose`).
    what : str
        Name of the quantity, used in the failure message.

    Raises
    ------
    AssertionError
        Naming the first differing position, both values and the relative difference.
    """
    a = np.asarray(actual, dtype="float64")
    e = np.asarray(expected, dtype="float64")
    ok = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
    if np.all(ok):
        return
    at = np.argwhere(~np.broadcast_to(ok, np.broadcast(a, e).shape))[0]
    got = float(np.broadcast_to(a, ok.shape)[tuple(at)])
    want = float(np.broadcast_to(e, ok.shape)[tuple(at)])
    rel = abs(got - want) / abs(want) if want else float("inf")
    label = f"{what} " if what else ""
    raise AssertionError(
        f"{label}differs at {tuple(int(i) for i in at)}: {got!r} != {want!r} "
        f"(relative {rel:.3g} > rtol {rtol:g}); {int((~ok).sum())} of {ok.size} values differ"
    )
