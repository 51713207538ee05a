"""Per-pixel trends of a yearly stack: Theil–Sen slope and the Mann–Kendall test.

For each pixel with at least ``min_years`` valid years:

- **Theil–Sen slope** (units of the layer per year): the median of ``(y_j − y_i) / (t_j − t_i)``
  over all pairs of valid years ``i < j`` (as :func:`scipy.stats.theilslopes` with the years
  as ``x``; gaps in the series are spaced by their real years).
- **Mann–Kendall test** (as ``pymannkendall.original_test`` on the valid values):
  ``S = Σ sign(y_j − y_i)``; variance with the tie correction
  ``Var(S) = [n(n−1)(2n+5) − Σ t(t−1)(2t+5)] / 18``; continuity-corrected
  ``Z = (S − sign S) / √Var(S)``; two-sided ``p = erfc(|Z| / √2)``.
- Optionally the **Hamed & Rao (1998)** variance correction for autocorrelation (as
  ``pymannkendall.hamed_rao_modification_test`` with ``lag=None``): ranks of the series
  detrended by the Sen slope, their autocorrelations outside the ±z(1−α/2)/√n band, and
  ``Var*(S) = Var(S) · [1 + 2/(n(n−1)(n−2)) Σ (n−k)(n−k−1)(n−k−2) ρ_k]``.
- **Class**: 1 = degrading (p < α and slope < 0), 2 = stable, 3 = improving (p < α and
  slope > 0), 0 = no data (fewer than ``min_years`` valid years).

The kernels (:mod:`geo.trendkernel`) are compiled with numba, vectorised across pixels and
run in parallel over blocks of pixels; a stack is streamed block by block
(:meth:`geo.stack.Stack.blocks`), so memory is bounded by the block size.

References
----------
Mann (1945), Kendall (1975), Sen (1968), Hamed & Rao (1998) J. Hydrol. 204:182–196;
Hussain & Mahmud (2019) pyMannKendall, JOSS 4(39):1556.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from geo.errors import UsageError

__all__ = [
    "CLASS_NAMES",
    "DEGRADING",
    "IMPROVING",
    "NO_DATA",
    "STABLE",
    "TrendResult",
    "classify",
    "mann_kendall",
    "trend_dataset",
]

NO_DATA, DEGRADING, STABLE, IMPROVING = 0, 1, 2, 3
#: Trend classes: code → (Chinese, English).
CLASS_NAMES = {
    DEGRADING: ("显著退化", "degrading"),
    STABLE: ("稳定/不显著", "stable"),
    IMPROVING: ("显著改善", "improving"),
}


@dataclass(frozen=True)
class TrendResult:
    """Per-pixel trend of a block of pixels (arrays of the block's shape).

    Attributes
    ----------
    slope : numpy.ndarray
        Theil–Sen slope, layer units per year (NaN without enough valid years).
    p : numpy.ndarray
        Two-sided Mann–Kendall p-value (NaN without enough valid years).
    z : numpy.ndarray
        Mann–Kendall Z statistic.
    s : numpy.ndarray
        Mann–Kendall S statistic.
    n : numpy.ndarray
        Number of valid years (int16).
    """

    slope: np.ndarray
    p: np.ndarray
    z: np.ndarray
    s: np.ndarray
    n: np.ndarray


def mann_kendall(
    values,
    years,
    *,
    min_years: int = 5,
    autocorrelation: bool = False,
    alpha: float = 0.05,
) -> TrendResult:
    """Theil–Sen slope and Mann–Kendall test of every pixel of a stack block.

    Parameters
    ----------
    values : array_like
        Shape ``(years, ...)``: the series of each pixel along the first axis, NaN where a
        year has no data.
    years : array_like of int or float
        The year of each layer, increasing.
    min_years : int
        Fewest valid years for a trend (at least 3; 4 with ``autocorrelation``); pixels
        with fewer get NaN.
    autocorrelation : bool
        Apply the Hamed–Rao variance correction.
    alpha : float
        Significance level; with ``autocorrelation`` it also sets the band of negligible
        autocorrelations (as pymannkendall does).

    Returns
    -------
    TrendResult
        Arrays of shape ``values.shape[1:]``.

    Examples
    --------
    >>> import numpy as np
    >>> from geo.trends import mann_kendall
    >>> r = mann_kendall(np.arange(10.0)[:, None] * 2, np.arange(2000, 2010))
    >>> float(r.slope[0]), float(r.s[0])
    (2.0, 45.0)
    """
    values = np.asarray(values)
    if values.dtype not in (np.float32, np.float64):
        values = values.astype("float64")
    years = np.asarray(years, dtype="float64")
    _check(values, years, min_years, autocorrelation, alpha)
    shape = values.shape[1:]
    flat = np.ascontiguousarray(values.reshape(values.shape[0], -1))  # (years, pixels), a view
    out = np.empty((flat.shape[1], 4), "float64")
    count = np.empty(flat.shape[1], "int16")
    band = _normal_quantile(1 - alpha / 2)
    _kernels()["trend"](flat, years, int(min_years), bool(autocorrelation), band, out, count)
    cols = [out[:, k].reshape(shape) for k in range(4)]
    return TrendResult(cols[0], cols[1], cols[2], cols[3], count.reshape(shape))


def classify(slope, p, alpha: float = 0.05) -> np.ndarray:
    """Trend class per pixel: 1 degrading, 2 stable, 3 improving, 0 no data (uint8).

    Significant (``p < alpha``) with a negative slope is degrading, with a positive slope
    improving; every other pixel with a p-value is stable.
    """
    slope, p = np.asarray(slope), np.asarray(p)
    out = np.full(slope.shape, NO_DATA, "uint8")
    valid = np.isfinite(p) & np.isfinite(slope)
    out[valid] = STABLE
    sig = valid & (p < alpha)
    out[sig & (slope < 0)] = DEGRADING
    out[sig & (slope > 0)] = IMPROVING
    return out


def _check(values, years, min_years, autocorrelation, alpha) -> None:
    if values.ndim < 2 or values.shape[0] != years.shape[0]:
        raise UsageError(
            f"values must be (years, ...) with one layer per year: got shape {values.shape} "
            f"for {years.shape[0]} years"
        )
    if np.any(np.diff(years) <= 0):
        raise UsageError(f"years must increase: {years.tolist()}")
    low = 4 if autocorrelation else 3
    if int(min_years) < low:
        raise UsageError(f"min_years must be at least {low}, not {min_years}")
    if not 0 < alpha < 1:
        raise UsageError(f"alpha must lie between 0 and 1, not {alpha}")


def _normal_quantile(q: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(q)


def warm(dtype="float32", years: int = 3) -> None:
    """Load the compiled kernel for blocks of ``dtype`` and ``years`` layers.

    numba loads its cached machine code at the first call of each type (about a second):
    run on a thread, this overlaps the first read of a stack.
    """
    values = np.full((max(int(years), 3), 1), np.nan, np.dtype(dtype))
    mann_kendall(values, np.arange(values.shape[0]), min_years=3)


@functools.cache
def _kernels() -> dict:
    """The compiled kernels, imported on first use (never at import of :mod:`geo.trends`)."""
    from geo import trendkernel

    return {"trend": trendkernel.trend}


def trend_dataset(
    data,
    dim: str | None = None,
    *,
    min_years: int = 5,
    autocorrelation: bool = False,
    alpha: float = 0.05,
):
    """Per-pixel trends of an :class:`xarray.DataArray` with a time dimension.

    NumPy-backed arrays are computed at once; Dask-backed arrays (``rioxarray.open_rasterio(
    ..., chunks=...)`` or :meth:`geo.stack.Stack.to_dataarray`) lazily, chunk by chunk, with
    the same kernel, so that the results are identical to :func:`mann_kendall` in process.
    The time dimension is brought into one chunk when it is split.

    Parameters
    ----------
    data : xarray.DataArray
        Values with a time dimension (NaN where no data).
    dim : str, optional
        The time dimension: ``"year"``, ``"time"`` or ``"band"`` (first found, in that order).
        Its coordinate gives the years (integers, or datetimes whose year is taken).
    min_years, autocorrelation, alpha
        As for :func:`mann_kendall`.

    Returns
    -------
    xarray.Dataset
        ``slope`` (units per year), ``p``, ``z``, ``s``, ``n`` and ``trend_class`` on the
        non-time dimensions, with the input's other coordinates (and CRS, via rioxarray).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from geo.trends import trend_dataset
    >>> da = xr.DataArray(np.arange(8.0).reshape(8, 1), dims=("year", "x"),
    ...                   coords={"year": np.arange(2000, 2008)})
    >>> float(trend_dataset(da).slope[0])
    1.0
    """
    import xarray as xr

    dim = dim or next((d for d in ("year", "time", "band") if d in data.dims), None)
    if dim is None or dim not in data.dims:
        raise UsageError(
            f"no time dimension among {tuple(data.dims)}: name it with dim= "
            "(a coordinate of years or dates)"
        )
    coord = data[dim].values
    years = (
        coord.astype("datetime64[Y]").astype(int) + 1970
        if np.issubdtype(coord.dtype, np.datetime64)
        else coord.astype("float64")
    )
    if data.chunks is not None and len(data.chunksizes.get(dim, ())) > 1:
        data = data.chunk({dim: -1})
    kwargs = {"min_years": min_years, "autocorrelation": autocorrelation, "alpha": alpha}
    _check(
        np.empty((len(years), 1)), np.asarray(years, "float64"), min_years, autocorrelation, alpha
    )

    def block(values):
        moved = np.moveaxis(values, -1, 0)
        r = mann_kendall(moved, years, **kwargs)
        cls = classify(r.slope, r.p, alpha)
        return r.slope, r.p, r.z, r.s, r.n.astype("int16"), cls

    outputs = xr.apply_ufunc(
        block,
        data.astype("float64"),
        input_core_dims=[[dim]],
        output_core_dims=[[]] * 6,
        dask="parallelized",
        output_dtypes=["float64", "float64", "float64", "float64", "int16", "uint8"],
    )
    names = ("slope", "p", "z", "s", "n", "trend_class")
    result = xr.Dataset(dict(zip(names, outputs, strict=True)))
    result.attrs.update(
        years=f"{int(years[0])}-{int(years[-1])}",
        alpha=alpha,
        min_years=min_years,
        method="Theil-Sen slope; Mann-Kendall test"
        + (" with Hamed-Rao correction" if autocorrelation else ""),
    )
    return result
