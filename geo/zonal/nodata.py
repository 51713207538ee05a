"""Which cells are nodata.

Codes in the raster's own type, the invalid mask, and the watch for undeclared fill values
(:class:`PlaceholderWatch`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from geo.errors import GeoWarning

__all__ = ["PLACEHOLDERS", "PlaceholderWatch", "invalid_mask", "invalid_values", "nodata_codes"]


def nodata_codes(
    dtype, nodata=None, extra: Sequence[float] = (), name: str = "raster"
) -> np.ndarray:
    """The stored values that count as nodata, in the raster's own type.

    Each value (the band's declared nodata, then ``extra``: layer flags and
    ``--nodata``) is cast to ``dtype`` as GDAL stores it, so the comparison with
    the cells happens in that type: ``-9999.1`` on a float32 raster matches the
    cells that hold float32(−9999.1), which a float64 comparison would miss. A
    value no cell of the type can hold (a fraction or an out-of-range number on an
    integer raster, a number beyond the float range) cannot mark any cell: it is
    left out with a :class:`~geo.errors.GeoWarning`. NaN needs no code (non-finite
    float cells are always nodata).

    Parameters
    ----------
    dtype : numpy.dtype or str
        Data type of the band.
    nodata : float, optional
        Declared nodata of the band.
    extra : sequence of float
        Further stored values that count as nodata.
    name : str
        The raster, for the warning.

    Returns
    -------
    numpy.ndarray
        Distinct codes, of ``dtype``.
    """
    dtype = np.dtype(dtype)
    codes = []
    for v in (nodata, *extra):
        if v is None:
            continue
        v = float(v)
        if np.isnan(v):
            continue
        if dtype.kind in "ui":
            info = np.iinfo(dtype)
            ok = v.is_integer() and info.min <= v <= info.max
        else:
            with np.errstate(over="ignore"):
                ok = bool(np.isfinite(np.asarray(v).astype(dtype))) or np.isinf(v)
        if not ok:
            warnings.warn(
                f"nodata value {v:g} cannot occur in {dtype.name} raster {name}; it is ignored "
                "(check the value: no cell of this type can hold it)",
                GeoWarning,
                stacklevel=3,
            )
            continue
        codes.append(np.asarray(v).astype(dtype))
    return np.unique(np.asarray(codes, dtype=dtype))


#: Stored values that data producers use as fill when they forget to declare nodata (GDAL and
#: ArcGIS -9999, MODIS -3000, int16 minimum, -999, 65535 in float files, the netCDF default
#: fill, the float32 lowest value). A cell holding one on a band that does not declare it is
#: almost surely a missing value counted as data, so it is never silent (:class:`PlaceholderWatch`).
PLACEHOLDERS = (
    -9999.0,
    -3000.0,
    -32768.0,
    -999.0,
    65535.0,
    9.96920996838687e36,
    float(np.finfo(np.float32).min),
)


class PlaceholderWatch:
    """Counts the cells of a band that hold an undeclared no-data placeholder.

    Every window the engine reads goes through :meth:`add`, so the count is exact (not a
    sample) and costs one comparison per placeholder; :meth:`warn` then says what was found
    and how to declare it. Values the band declares or the caller passes as nodata are not
    watched; integer bands watch only the placeholders their type can hold.

    Parameters
    ----------
    dtype : numpy.dtype or str
        Data type of the band.
    declared : float, optional
        The band's declared nodata.
    extra : sequence of float
        Values the caller already counts as nodata.
    """

    def __init__(self, dtype, declared=None, extra: Sequence[float] = ()) -> None:
        dtype = np.dtype(dtype)
        self.declared = declared
        told = {float(v) for v in (declared, *extra) if v is not None}
        self.values = []
        if dtype.kind in "if":
            for v in PLACEHOLDERS:
                if dtype.kind == "i" and not np.iinfo(dtype).min <= v <= np.iinfo(dtype).max:
                    continue
                with np.errstate(over="ignore"):
                    stored = np.asarray(v).astype(dtype)
                if float(stored) == v and not any(np.isclose(v, t) for t in told):
                    self.values.append(stored)
        self.counts = dict.fromkeys((float(v) for v in self.values), 0)
        self.cells = 0

    def add(self, a: np.ndarray) -> None:
        """Count the placeholders among the cells of one window."""
        self.cells += a.size
        for v in self.values:
            self.counts[float(v)] += int(np.count_nonzero(a == v))

    def warn(self, name, band: int = 1) -> None:
        """One :class:`~geo.errors.GeoWarning` for the commonest placeholder found."""
        found = {v: n for v, n in self.counts.items() if n}
        if not found:
            return
        v = max(found, key=found.get)
        n = found[v]
        said = (
            "declares no nodata" if self.declared is None else f"declares nodata {self.declared:g}"
        )
        warnings.warn(
            f"{name}: band {band} {said}, but {n:,} cells ({n / max(self.cells, 1):.2%} of "
            f"those read) hold {v:g}, a common fill value; they were counted as data values. "
            f"If they mean no data, pass --nodata {v:g} (Python: nodata_values=({v:g},)) or "
            f"declare it with `gdal_edit.py -a_nodata {v:g} FILE`",
            GeoWarning,
            stacklevel=4,
        )


def invalid_mask(a: np.ndarray, codes: np.ndarray, out=None) -> np.ndarray:
    """Cells of ``a`` that hold one of ``codes`` (see :func:`nodata_codes`) or are NaN/inf.

    The comparison runs in the raster's own type (``codes`` has ``a``'s dtype): for
    integers ~10x faster than against floats, for floats the only exact one.
    """
    invalid = np.zeros(a.shape, dtype=bool) if out is None else out
    codes = np.asarray(codes).astype(a.dtype, copy=False)
    if len(codes):
        np.equal(a, codes[0], out=invalid)
        for v in codes[1:]:
            invalid |= a == v
    else:
        invalid[...] = False
    if a.dtype.kind in "fc":
        invalid |= ~np.isfinite(a)
    return invalid


def invalid_values(codes: np.ndarray) -> np.ndarray | None:
    """Stored values :func:`invalid_mask` flags in an integer raster (None for floats).

    On integer rasters validity is a function of the value alone, so histograms
    can count every cell and drop the bins of these values afterwards.
    """
    if codes.dtype.kind not in "ui":
        return None
    return np.unique(codes.astype(np.int64))
