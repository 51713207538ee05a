"""Raster grid geometry: transform, shape, CRS, cell areas and a stable identity.

A :class:`Grid` describes *where* the cells of a raster are, independently of the
values they hold. Two rasters on the same grid share every per-cell geometric
quantity (cell areas, zone coverage), which is what lets :mod:`geo.zonal` reuse
the coverage of a zone set across layers.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pyproj
from affine import Affine
from rasterio.crs import CRS
from rasterio.windows import Window

from geo.crs import is_equal_area
from geo.errors import CRSError, DataError, GeoWarning

__all__ = ["Grid", "check_transform", "ellipsoid_band_area_m2", "read_window"]


def ellipsoid_band_area_m2(
    lat_south_rad: np.ndarray, lat_north_rad: np.ndarray, dlon_rad: float, a: float, f: float
) -> np.ndarray:
    """Exact area of the ellipsoid between two parallels and two meridians.

    Uses the authalic-latitude integral ``A = b²/2 · Δλ · [q(φ₂) − q(φ₁)]`` with
    ``q(φ) = sin φ / (1 − e² sin² φ) + atanh(e sin φ) / e``.

    Parameters
    ----------
    lat_south_rad, lat_north_rad : numpy.ndarray
        Latitudes of the bounding parallels, radians.
    dlon_rad : float
        Longitude width of the band, radians (positive).
    a : float
        Semi-major axis, metres.
    f : float
        Flattening (0 for a sphere).

    Returns
    -------
    numpy.ndarray
        Area of each band, square metres (non-negative).
    """
    s1 = np.sin(lat_south_rad)
    s2 = np.sin(lat_north_rad)
    if f == 0:
        return np.abs(a * a * dlon_rad * (s2 - s1))
    e2 = f * (2 - f)
    e = math.sqrt(e2)
    b2 = a * a * (1 - e2)

    def q(s: np.ndarray) -> np.ndarray:
        return s / (1 - e2 * s * s) + np.arctanh(e * s) / e

    return np.abs(0.5 * b2 * dlon_rad * (q(s2) - q(s1)))


def check_transform(transform: Affine, name: str, what: str = "raster") -> None:
    """Refuse a geotransform that does not place the cells on the ground.

    GDAL reports a raster without a geotransform (or georeferenced by ground control
    points only) with the identity transform: cells of one unit from the origin, which
    would put any raster at the wrong place with the wrong cell areas.

    Raises
    ------
    DataError
        Identity (missing) transform, zero or non-finite pixel size or origin, rotation.
    """
    t = transform
    if t.is_identity:
        raise DataError(
            f"{what} {name} has no geotransform (no pixel size or origin; GDAL reports the "
            "identity); georeference it, e.g. `gdal_translate -a_ullr <left> <top> <right> "
            f"<bottom> {name} fixed.tif`, or `gdalwarp` if it has ground control points"
        )
    if not all(math.isfinite(v) for v in t[:6]) or t.a == 0 or t.e == 0:
        raise DataError(
            f"{what} {name} has an invalid geotransform (pixel size {t.a:g} × {t.e:g}, origin "
            f"{t.c:g}, {t.f:g}); fix it with `gdal_edit.py -a_ullr` or re-export the raster"
        )
    if t.b != 0 or t.d != 0:
        raise DataError(
            f"{what} {name} has a rotated grid; warp it to a north-up grid first (gdalwarp)"
        )


@dataclass(frozen=True)
class Grid:
    """The geometry of a raster grid: transform, shape and CRS.

    The transform is the file's own, in any orientation GDAL accepts: north-up,
    south-up (positive y pixel size) or east-to-west (negative x pixel size), so a
    whole-array read of the file lines up with it. :meth:`north_up` gives the same
    cells as rows from north to south and columns from west to east, the frame the
    zone coverage of :mod:`geo.zonal` is built in; :func:`read_window` reads a
    window of that frame from a file of any orientation.

    Parameters
    ----------
    transform : affine.Affine
        Pixel-to-CRS transform (rotation terms must be zero).
    shape : tuple of int
        ``(height, width)`` in cells.
    crs : rasterio.crs.CRS
        Coordinate reference system of the grid.
    source : str, default ""
        The file the grid was read from, for messages; not part of its identity.
    """

    transform: Affine
    shape: tuple[int, int]
    crs: CRS
    source: str = field(default="", compare=False)

    @classmethod
    def from_dataset(cls, ds) -> Grid:
        """Grid of an open rasterio dataset.

        Raises
        ------
        CRSError
            If the dataset has no CRS.
        DataError
            If it has no geotransform, a zero or non-finite pixel size, or a rotated
            or sheared grid (see :func:`check_transform`).
        """
        if ds.crs is None:
            raise CRSError(
                f"raster {ds.name} has no CRS; assign one, e.g. "
                f"`gdal_edit.py -a_srs EPSG:4326 {ds.name}`"
            )
        check_transform(ds.transform, ds.name)
        return cls(ds.transform, (ds.height, ds.width), ds.crs, str(ds.name))

    @property
    def flip(self) -> tuple[bool, bool]:
        """``(rows, columns)``: whether rows run south to north, columns east to west."""
        return bool(self.transform.e > 0), bool(self.transform.a < 0)

    def north_up(self) -> Grid:
        """The same cells with rows from north to south and columns from west to east."""
        if self.flip == (False, False):
            return self
        t = self.transform
        left, _, _, top = self.bounds
        return Grid(
            Affine(abs(t.a), 0.0, left, 0.0, -abs(t.e), top), self.shape, self.crs, self.source
        )

    @property
    def height(self) -> int:
        """Number of rows."""
        return self.shape[0]

    @property
    def width(self) -> int:
        """Number of columns."""
        return self.shape[1]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` in CRS units."""
        t = self.transform
        x0, x1 = t.c, t.c + t.a * self.width
        y0, y1 = t.f, t.f + t.e * self.height
        return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)

    @property
    def is_geographic(self) -> bool:
        """Whether the CRS is geographic (cells in angular units)."""
        return bool(self.crs.is_geographic)

    def key(self) -> str:
        """Stable hex digest identifying the cells (north-up transform, shape, CRS).

        A file and its flipped copy have the same cells, hence the same key.
        """
        pcrs = pyproj.CRS.from_user_input(self.crs.to_wkt())
        parts = [
            repr(tuple(float(v) for v in self.north_up().transform[:6])),
            repr(tuple(self.shape)),
            pcrs.to_wkt(),
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

    def same_as(self, other: Grid, *, any_orientation: bool = False) -> bool:
        """Whether ``other`` has the same cells (transform, shape and CRS).

        Parameters
        ----------
        any_orientation : bool, default False
            Also accept the same cells stored in another orientation (``flip``); only
            for callers that read through :func:`read_window`. By default the
            transforms must match, so whole-array reads of both files line up.
        """
        return (
            self.shape == other.shape
            and (any_orientation or self.flip == other.flip)
            and self.north_up().transform.almost_equals(other.north_up().transform, precision=1e-12)
            and (self.crs == other.crs or self.key() == other.key())
        )

    def row_cell_area_m2(self, *, warn: bool = True) -> np.ndarray:
        """Ground area of one cell of each row.

        For geographic grids the area of the ellipsoidal cell (between two
        parallels and two meridians) on the ellipsoid of the grid's CRS; cells
        shrink towards the poles. For projected grids the pixel area in square
        metres, identical for every row.

        Parameters
        ----------
        warn : bool, default True
            Emit a :class:`~geo.errors.GeoWarning` when a projected CRS is not
            equal-area (pixel areas then are not ground areas).

        Returns
        -------
        numpy.ndarray
            float64 array of length ``height``, square metres.
        """
        t = self.transform
        pcrs = pyproj.CRS.from_user_input(self.crs.to_wkt())
        if self.is_geographic:
            to_rad = pcrs.axis_info[0].unit_conversion_factor
            ell = pcrs.ellipsoid
            f = 0.0 if ell.inverse_flattening == 0 else 1.0 / ell.inverse_flattening
            edges = t.f + t.e * np.arange(self.height + 1, dtype=np.float64)
            # Cells beyond the poles do not exist on the ellipsoid.
            lat = np.clip(edges * to_rad, -math.pi / 2, math.pi / 2)
            return ellipsoid_band_area_m2(
                lat[1:], lat[:-1], abs(t.a) * to_rad, ell.semi_major_metre, f
            )
        if warn and not is_equal_area(pcrs):
            method = pcrs.coordinate_operation.method_name if pcrs.coordinate_operation else "?"
            warnings.warn(
                f"grid CRS {pcrs.name!r} ({method}) is not equal-area: cell areas are "
                "map-plane areas, not ground areas; use an equal-area CRS (e.g. Albers) "
                "or a geographic raster for area statistics",
                GeoWarning,
                stacklevel=2,
            )
        unit = pcrs.axis_info[0].unit_conversion_factor
        return np.full(self.height, abs(t.a * t.e - t.b * t.d) * unit * unit)


def read_window(ds, band: int, window: Window, out: np.ndarray | None = None) -> np.ndarray:
    """Read a window of the north-up :class:`Grid` of ``ds``, whatever the file's orientation.

    ``window`` is in the rows (north to south) and columns (west to east) of
    ``Grid.from_dataset(ds)``; for a south-up or east-to-west file the matching
    window of the file is read and flipped.

    Parameters
    ----------
    ds : rasterio.io.DatasetReader
    band : int
        1-based band.
    window : rasterio.windows.Window
        Whole-cell window of the north-up grid.
    out : numpy.ndarray, optional
        Buffer of the window's shape and the band's dtype; used as is for north-up
        files (a flipped file returns a new array).

    Returns
    -------
    numpy.ndarray
        C-contiguous ``(height, width)`` array in north-up order.
    """
    t = ds.transform
    flip_rows, flip_cols = t.e > 0, t.a < 0
    if not (flip_rows or flip_cols):
        return ds.read(band, window=window, out=out)
    r0, c0 = int(window.row_off), int(window.col_off)
    h, w = int(window.height), int(window.width)
    if flip_rows:
        r0 = ds.height - r0 - h
    if flip_cols:
        c0 = ds.width - c0 - w
    a = ds.read(band, window=Window(c0, r0, w, h), out=out)
    return np.ascontiguousarray(a[:: -1 if flip_rows else 1, :: -1 if flip_cols else 1])
