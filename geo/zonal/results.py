"""The result table of an accumulator: statistics, quantiles and class areas per zone.

Sums are kept relative to a shift (see :class:`geo.zonal.accumulate.Accumulator`) and in
stored values; here they become statistics in the raster's units (``scale``/``offset``
applied), km² areas and exactextract's weighted quantiles.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from geo.zonal.accumulate import Accumulator, Spec

__all__ = ["ee_quantile", "quantile_names", "result_frame"]


def result_frame(
    acc: Accumulator, index: pd.Index, outside_km2: np.ndarray, scale: float, offset: float
) -> pd.DataFrame:
    """The result table of ``acc``, one row per zone.

    Parameters
    ----------
    acc : Accumulator
        The sums of one raster over every window.
    index : pandas.Index
        Zone ids (the index of the table).
    outside_km2 : numpy.ndarray
        Area of each zone outside the grid, km².
    scale, offset : float
        The band's scale and offset (value = stored × scale + offset).

    Returns
    -------
    pandas.DataFrame
        The statistics of ``acc.spec`` (raster units), quantiles, the area columns (km²) and,
        for categorical layers, the class areas (km²) and fractions.
    """
    cols = _stat_columns(acc, scale, offset)
    if acc.spec.quantiles:
        cols.update(_quantile_columns(acc, scale, offset))
    cols["valid_area_km2"] = acc.valid_area / 1e6
    cols["nodata_area_km2"] = acc.nodata_area / 1e6
    cols["outside_area_km2"] = np.asarray(outside_km2, dtype=np.float64)
    frame = pd.DataFrame(cols, index=index)
    if acc.spec.categorical:
        frame = pd.concat([frame, _class_frame(acc, index)], axis=1)
    return frame


def _stat_columns(acc: Accumulator, scale: float, offset: float) -> dict[str, np.ndarray]:
    """The columns of the numeric statistics, in the order asked."""
    count = acc.count
    has = count > 0
    shift = acc.shift or 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_shifted = np.where(has, acc.sum / count, np.nan)
        var = np.where(has, acc.sq / count - mean_shifted**2, np.nan)
    raw_mean = mean_shifted + shift
    raw_sum = acc.sum + shift * count
    cols: dict[str, np.ndarray] = {}
    for stat in acc.spec.stats:
        if stat == "count":
            cols["count"] = count
        elif stat == "sum":
            cols["sum"] = np.where(has, raw_sum * scale + offset * count, 0.0)
        elif stat == "mean":
            cols["mean"] = raw_mean * scale + offset
        elif stat == "area_mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                shifted = acc.area_sum / acc.valid_area
            cols[stat] = np.where(acc.valid_area > 0, shifted + shift, np.nan) * scale + offset
        elif stat == "stdev":
            sd = np.sqrt(np.maximum(var, 0.0)) * abs(scale)
            cols["stdev"] = np.where(acc.min == acc.max, 0.0, sd)
        elif stat in ("min", "max"):
            lo = np.where(has, acc.min * scale + offset, np.nan)
            hi = np.where(has, acc.max * scale + offset, np.nan)
            cols[stat] = (
                (lo if stat == "min" else hi) if scale >= 0 else (hi if stat == "min" else lo)
            )
        elif stat == "nodata_fraction":
            total = acc.valid_area + acc.nodata_area
            with np.errstate(invalid="ignore", divide="ignore"):
                cols[stat] = np.where(total > 0, acc.nodata_area / total, np.nan)
    return cols


def _quantile_columns(acc: Accumulator, scale: float, offset: float) -> dict[str, np.ndarray]:
    """Weighted quantiles of each zone's values, raster units (exactextract's definition)."""
    qs = acc.spec.quantiles
    out = np.full((len(qs), acc.n), np.nan)
    for z, (vals, wts) in enumerate(_zone_distributions(acc)):
        if len(vals):
            v = vals * scale + offset
            if scale < 0:
                v, wts = v[::-1], wts[::-1]
            out[:, z] = [ee_quantile(v, wts, q) for q in qs]
    names = quantile_names(acc.spec)
    return dict(zip(names, out, strict=True))


def _zone_distributions(acc: Accumulator) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Per zone: sorted distinct values and their total coverage weight."""
    if acc.hist_cov is not None:
        hist = acc.hist_cov.reshape(acc.n, acc.nbins)
        values = np.arange(acc.nbins, dtype=np.float64) + acc.hist_offset
        for z in range(acc.n):
            nz = hist[z] > 0
            yield values[nz], hist[z][nz]
        return
    if not acc.gathered:
        yield from ((np.empty(0), np.empty(0)) for _ in range(acc.n))
        return
    zone = np.concatenate([g[0] for g in acc.gathered])
    vals = np.concatenate([g[1] for g in acc.gathered])
    wts = np.concatenate([g[2] for g in acc.gathered])
    acc.gathered = []
    order = np.lexsort((vals, zone))
    zone, vals, wts = zone[order], vals[order], wts[order]
    bounds = np.searchsorted(zone, np.arange(acc.n + 1))
    for z in range(acc.n):
        v, w = vals[bounds[z] : bounds[z + 1]], wts[bounds[z] : bounds[z + 1]]
        if len(v) == 0:
            yield v, w
            continue
        first = np.r_[True, v[1:] != v[:-1]]
        yield v[first], np.add.reduceat(w, np.flatnonzero(first))


def _class_frame(acc: Accumulator, index: pd.Index) -> pd.DataFrame:
    hist = acc.hist_area.reshape(acc.n, acc.nbins)
    present = np.flatnonzero(hist.sum(axis=0) > 0)
    classes = present + acc.hist_offset
    area = hist[:, present] / 1e6
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = area / (acc.valid_area / 1e6)[:, None]
    frac[acc.valid_area == 0] = np.nan
    cols = {f"area_km2_{c}": area[:, k] for k, c in enumerate(classes)}
    cols.update({f"fraction_{c}": frac[:, k] for k, c in enumerate(classes)})
    return pd.DataFrame(cols, index=index)


def ee_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """Weighted quantile as defined by exactextract (``WeightedQuantiles``).

    ``x`` are the sorted distinct values, ``w`` their total coverage weights.
    """
    n = len(x)
    cum = np.cumsum(w)
    s = np.zeros(n)
    s[1:] = np.arange(1, n) * w[1:] + (n - 1) * cum[:-1]
    target = q * cum[-1] * (n - 1)
    right = int(np.searchsorted(s, target, side="right"))
    if right == 0:
        return float(x[0])
    if right == n:
        return float(x[-1])
    left = right - 1
    return float(x[left] + (target - s[left]) * (x[right] - x[left]) / (s[right] - s[left]))


def quantile_names(spec: Spec) -> list[str]:
    """Column names of the quantiles of ``spec`` (``median`` for the first 0.5 when asked)."""
    return [
        "median" if q == 0.5 and "median" in spec.stats and k == 0 else f"quantile_{q * 100:g}"
        for k, q in enumerate(spec.quantiles)
    ]
