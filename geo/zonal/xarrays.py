"""xarray in, xarray out: a rioxarray-backed DataArray read as layers, results as a Dataset.

:class:`DataArrayReader` gives a ``(layer, y, x)`` :class:`xarray.DataArray` the few
attributes of a rasterio dataset the streamed read uses (grid, dtype, nodata, blocks,
``read``), so a DataArray goes through exactly the engine a GeoTIFF does: the window of
each layer is taken with ``isel`` (computed there when the array is Dask-backed), never the
whole array. :func:`to_xarray` turns a result table into an :class:`xarray.Dataset`
(zone × layer) for notebooks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.errors import CRSError, UsageError

__all__ = ["DataArrayReader", "is_xarray", "layer_dim", "to_xarray"]


def is_xarray(obj) -> bool:
    """Whether ``obj`` is an xarray DataArray or Dataset (without importing xarray)."""
    return type(obj).__module__.startswith("xarray.") and hasattr(obj, "dims")


def _as_dataarray(obj):
    """The DataArray of ``obj`` (a DataArray, or a Dataset of exactly one variable)."""
    if hasattr(obj, "data_vars"):
        names = list(obj.data_vars)
        if len(names) != 1:
            raise UsageError(
                f"an xarray.Dataset of {len(names)} variables ({', '.join(map(str, names))}) "
                "is ambiguous as a raster; pass one variable, e.g. ds['ndvi']"
            )
        return obj[names[0]]
    return obj


def layer_dim(da) -> str | None:
    """The one dimension of ``da`` that is not spatial (``year``, ``time``, ``band`` …).

    None for a 2-D array.
    """
    spatial = {da.rio.y_dim, da.rio.x_dim}
    others = [d for d in da.dims if d not in spatial]
    if len(others) > 1:
        raise UsageError(
            f"DataArray {da.name!r} has dimensions {da.dims}: give one layer dimension "
            "besides y and x (select or stack the others first)"
        )
    return others[0] if others else None


class DataArrayReader:
    """A read-only, rasterio-like view of a DataArray with one layer dimension.

    Bands are the positions along the layer dimension (1-based), as in a multi-band file.

    Parameters
    ----------
    obj : xarray.DataArray or xarray.Dataset
        Georeferenced with rioxarray (``.rio.crs``, ``.rio.transform()``): dimensions
        ``(layer, y, x)`` or ``(y, x)``; a Dataset must hold one variable.

    Raises
    ------
    geo.errors.UsageError
        rioxarray is not installed, or the array has more than one layer dimension.
    geo.errors.CRSError
        The array has no CRS (``.rio.write_crs(...)``).
    """

    closed = False

    def __init__(self, obj) -> None:
        try:
            import rioxarray  # noqa: F401  (registers the .rio accessor)
        except ImportError:
            raise UsageError(
                "xarray rasters need rioxarray: pip install rioxarray (or the [xarray] extra)"
            ) from None
        da = _as_dataarray(obj)
        self.name = f"xarray.DataArray {da.name!r}" if da.name is not None else "xarray.DataArray"
        if da.rio.crs is None:
            raise CRSError(
                f"{self.name} has no CRS; assign one with da.rio.write_crs('EPSG:4326') "
                "before zonal_stats"
            )
        self.dim = layer_dim(da)
        if self.dim is None:
            da = da.expand_dims("layer")
            self.dim = "layer"
        ydim, xdim = da.rio.y_dim, da.rio.x_dim
        self.da = da.transpose(self.dim, ydim, xdim)
        self.crs = da.rio.crs
        self.transform = da.rio.transform()
        self.count, self.height, self.width = self.da.shape
        self.dtypes = (str(self.da.dtype),) * self.count
        nodata = da.rio.nodata
        self.nodatavals = (None if nodata is None else float(nodata),) * self.count
        self.block_shapes = (self._block(da, ydim, xdim),) * self.count
        self.scales = (float(da.attrs.get("scale_factor", 1.0)),) * self.count
        self.offsets = (float(da.attrs.get("add_offset", 0.0)),) * self.count

    def _block(self, da, ydim: str, xdim: str) -> tuple[int, int]:
        """Block shape windows are aligned on.

        The Dask chunks, else the blocks of the file the array was read from (rioxarray's
        ``preferred_chunks``: the windows, hence the sums, are then those of the file), else
        none.
        """
        if self.da.chunks:
            return int(self.da.chunks[1][0]), int(self.da.chunks[2][0])
        preferred = da.encoding.get("preferred_chunks", {})
        return int(preferred.get(ydim, 1)), int(preferred.get(xdim, 1))

    @property
    def labels(self) -> list:
        """The coordinate of each layer (positions when the dimension has none)."""
        if self.dim in self.da.coords:
            return list(self.da[self.dim].to_numpy())
        return list(range(self.count))

    def read(self, band: int, window=None, out: np.ndarray | None = None) -> np.ndarray:
        """Values of one layer (1-based ``band``) in ``window`` (the whole grid without one)."""
        r0, c0 = (int(window.row_off), int(window.col_off)) if window is not None else (0, 0)
        h = int(window.height) if window is not None else self.height
        w = int(window.width) if window is not None else self.width
        values = self.da[band - 1, r0 : r0 + h, c0 : c0 + w].to_numpy()
        if out is None:
            return np.ascontiguousarray(values)
        out[...] = values
        return out


def to_xarray(table: pd.DataFrame):
    """A result of :func:`geo.zonal.zonal_stats` as an :class:`xarray.Dataset`.

    Parameters
    ----------
    table : pandas.DataFrame
        A single-raster result (one row per zone), a many-layer long result (``zone``,
        layer, ``stat``, ``value``) or a many-layer wide one (a layer column).

    Returns
    -------
    xarray.Dataset
        One variable per statistic (raster units; areas in km²), dimensions ``zone`` and,
        for many layers, the layer dimension (``year``, ``band``, ``layer`` or the
        DataArray's own).
    """
    dim = table.attrs.get("layer_dim")
    zone = table.attrs.get("zone_column")
    if dim is None:  # one raster: one row per zone
        frame = table.copy()
        frame.index.name = frame.index.name or "zone"
        return frame.to_xarray()
    if table.attrs.get("layout") == "long":
        wide = table.set_index([zone, dim, "stat"])["value"].unstack("stat")
        order = list(dict.fromkeys(table["stat"]))
        return wide[order].to_xarray()
    return table.reset_index().set_index([zone, dim]).to_xarray()
