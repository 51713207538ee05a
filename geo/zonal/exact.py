"""exactextract adapters for the coverage build.

A value-less raster of the grid, zone features and a writer that hands each feature's covered
cells back to the coverage build.

Importing this module imports exactextract; the coverage build imports it only when it
runs an exact coverage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
from exactextract import exact_extract
from exactextract.feature import Feature, FeatureSource
from exactextract.raster import RasterSource
from exactextract.writer import Writer

from geo.grid import Grid

__all__ = ["GridSource", "exact_fractions"]

#: ``on_result(key, cell_id, frac)``: a feature's flat cell ids (int64) and covered fractions.
OnResult = Callable[[int, np.ndarray, np.ndarray], None]


class GridSource(RasterSource):
    """An exactextract raster source with the grid's cells and no values.

    Coverage must not depend on the values (nodata) of any particular raster,
    and reading values would waste I/O, so exactextract gets an all-zero raster.
    """

    def __init__(self, grid: Grid) -> None:
        super().__init__()
        self.grid = grid

    # the RasterSource interface exactextract calls

    def res(self):
        """Cell size (x, y) in CRS units."""
        return abs(self.grid.transform.a), abs(self.grid.transform.e)

    def srs_wkt(self):
        """The grid's CRS as WKT."""
        return self.grid.crs.to_wkt()

    def extent(self):
        """The grid's bounds (xmin, ymin, xmax, ymax)."""
        return self.grid.bounds

    def nodata_value(self):
        """None: the raster has no values, only cells."""
        return None

    def read_window(self, x0, y0, nx, ny):
        """Zeros of the window's shape (the coverage needs cells, not values)."""
        return np.zeros((ny, nx), dtype=np.uint8)


class _KeyedFeature(Feature):
    """A feature holding a WKB geometry and its key (``zone``) as its only property."""

    def __init__(self, zone=None, wkb=None):
        Feature.__init__(self)
        self.props = {} if zone is None else {"zone": zone}
        self.wkb = wkb

    def set(self, name, value):
        self.props[name] = value

    def get(self, name):
        return self.props[name]

    def fields(self):
        return list(self.props)

    def geometry(self):
        return self.wkb

    def set_geometry(self, wkb):
        self.wkb = wkb

    def set_geometry_format(self):
        return "wkb"


class _KeyedSource(FeatureSource):
    """``count`` features from ``(key, wkb)`` pairs, in the grid's CRS."""

    def __init__(self, features: Iterable[tuple[int, bytes]], count: int, grid: Grid):
        super().__init__()
        self._features, self._count, self._grid = features, count, grid

    def count(self):
        return self._count

    def __iter__(self):
        for key, wkb in self._features:
            yield _KeyedFeature(key, wkb)

    def srs_wkt(self):
        return self._grid.crs.to_wkt()


class _ResultWriter(Writer):
    """Passes each feature's ``(key, cell_id, coverage)`` to a callback as it comes out."""

    def __init__(self, on_result: OnResult):
        super().__init__()
        self._on_result = on_result

    def write(self, feature):
        f = _KeyedFeature()
        feature.copy_to(f)
        self._on_result(
            int(f.props["zone"]),
            np.asarray(f.props["cell_id"], dtype=np.int64),
            np.asarray(f.props["coverage"], dtype=np.float64),
        )

    def features(self):
        return None


def exact_source(grid: Grid) -> GridSource:
    """A value-less exactextract raster source of ``grid`` (see :class:`GridSource`)."""
    return GridSource(grid)


def exact_fractions(
    grid: Grid, features: Iterable[tuple[int, bytes]], count: int, on_result: OnResult
) -> None:
    """Run exactextract on ``(key, wkb)`` features; call ``on_result(key, cell_id, frac)``.

    Parameters
    ----------
    grid : Grid
        The grid; the geometries are in its CRS.
    features : iterable of (int, bytes)
        Key and WKB geometry of each feature.
    count : int
        Number of features.
    on_result : callable
        Called per feature with its key, the flat ids (row × width + column) of the cells
        it covers and their covered fractions (0–1].
    """
    if count == 0:
        return
    exact_extract(
        exact_source(grid),
        _KeyedSource(features, count, grid),
        ["cell_id", "coverage"],
        include_cols=["zone"],
        output=_ResultWriter(on_result),
    )
