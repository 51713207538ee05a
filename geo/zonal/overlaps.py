"""Overlapping zones and zones reaching past the grid.

:func:`resolve_overlaps` sweeps the runs of every row so that cells inside several zones
count once for each (as weight-1 cell pairs); :func:`outside_area_km2` measures the part
of each zone outside the grid's extent.
"""

from __future__ import annotations

import numpy as np
import pyproj
import shapely

from geo.grid import Grid

__all__ = ["outside_area_km2", "resolve_overlaps"]


def resolve_overlaps(row, start, end, zone):
    """Split runs of possibly overlapping zones.

    Returns the parts covered by exactly one zone as runs, and the cells covered
    by several zones as weight-1 (row, col, zone, weight) pairs, one per zone.
    A sweep over the run ends of each row counts active zones; with zone ids
    offset by one, the running sum of ids equals the zone while one is active.
    """
    n = len(row)
    if n == 0:
        empty = np.empty(0, np.int32)
        return (empty,) * 4, (empty, empty, empty, np.empty(0))
    ev_row = np.r_[row, row].astype(np.int64)
    ev_col = np.r_[start, end].astype(np.int64)
    ev_cnt = np.r_[np.ones(n, np.int64), -np.ones(n, np.int64)]
    ev_id = np.r_[zone + 1, -(zone + 1)].astype(np.int64)
    order = np.lexsort((ev_col, ev_row))
    ev_row, ev_col = ev_row[order], ev_col[order]
    active = np.cumsum(ev_cnt[order])
    ids = np.cumsum(ev_id[order])
    seg = np.flatnonzero((ev_row[:-1] == ev_row[1:]) & (ev_col[1:] > ev_col[:-1]))
    s_row, s_start, s_end = ev_row[seg], ev_col[seg], ev_col[seg + 1]
    single = active[seg] == 1
    runs = (
        s_row[single].astype(np.int32),
        s_start[single].astype(np.int32),
        s_end[single].astype(np.int32),
        (ids[seg][single] - 1).astype(np.int32),
    )
    multi = active[seg] > 1
    return _merge_adjacent(*runs), _overlap_cells(
        row, start, end, zone, s_row[multi], s_start[multi], s_end[multi]
    )


def _merge_adjacent(row, start, end, zone):
    """Join runs that touch end-to-start in the same row and zone."""
    if len(row) < 2:
        return row, start, end, zone
    joins = (row[1:] == row[:-1]) & (start[1:] == end[:-1]) & (zone[1:] == zone[:-1])
    first = np.r_[True, ~joins]
    last = np.r_[~joins, True]
    return row[first], start[first], end[last], zone[first]


def _overlap_cells(row, start, end, zone, o_row, o_start, o_end):
    """Expand multiply-covered segments into one weight-1 pair per (cell, zone)."""
    if len(o_row) == 0:
        empty = np.empty(0, np.int32)
        return empty, empty, empty, np.empty(0)
    w = np.int64(max(int(end.max()), int(o_end.max())) + 1)
    seg_key = o_row * w + o_start  # elementary segments: disjoint, sorted
    run_lo = np.searchsorted(seg_key, row.astype(np.int64) * w + start, side="left")
    run_hi = np.searchsorted(seg_key, row.astype(np.int64) * w + end, side="left")
    n_per_run = run_hi - run_lo
    run_idx = np.repeat(np.arange(len(row)), n_per_run)
    seg_idx = np.arange(n_per_run.sum()) - np.repeat(np.cumsum(n_per_run) - n_per_run, n_per_run)
    seg_idx += run_lo[run_idx]
    lengths = o_end[seg_idx] - o_start[seg_idx]
    pair = np.repeat(np.arange(len(seg_idx)), lengths)
    offset = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    cols = o_start[seg_idx][pair] + offset
    return (
        o_row[seg_idx][pair].astype(np.int32),
        cols.astype(np.int32),
        zone[run_idx][pair].astype(np.int32),
        np.ones(len(cols)),
    )


def outside_area_km2(geoms: np.ndarray, grid: Grid) -> np.ndarray:
    """Area of each zone lying outside the grid extent, km².

    Geographic grids: the ground area of the outside part on the grid's
    ellipsoid, with the cell areas' definition (edges straight in longitude and
    latitude): the part is mapped to authalic coordinates
    (λ, b²/2 · q(φ)) (see :func:`geo.grid.ellipsoid_band_area_m2`), where plane
    area is ellipsoidal area, after densifying its edges. This holds for zones of
    any size, a whole-world box or one reaching past ±180° included; the part
    beyond the poles has no area. Projected grids: plane area in the grid CRS.
    """
    box = shapely.box(*grid.bounds)
    out = np.zeros(len(geoms))
    present = np.array([g is not None for g in geoms])
    if not present.any():
        return out
    parts = shapely.difference(geoms[present], box)
    pcrs = pyproj.CRS.from_user_input(grid.crs.to_wkt())
    unit = pcrs.axis_info[0].unit_conversion_factor
    if grid.is_geographic:
        pole = np.pi / 2 / unit  # 90° in the CRS's angular unit
        parts = shapely.clip_by_rect(parts, -1e12, -pole, 1e12, pole)
        parts = shapely.segmentize(parts, 0.01 * np.pi / 180 / unit)
        ell = pcrs.ellipsoid
        to_plane = _authalic_plane(
            unit,
            ell.semi_major_metre,
            0.0 if ell.inverse_flattening == 0 else 1 / ell.inverse_flattening,
        )
        out[present] = shapely.area(shapely.transform(parts, to_plane)) / 1e6
    else:
        out[present] = shapely.area(parts) * unit * unit / 1e6
    return out


def _authalic_plane(unit: float, a: float, f: float):
    """``xy → (λ, b²/2 · q(φ))`` for shapely.transform: plane area = ellipsoidal area, m²."""
    e2 = f * (2 - f)
    b2 = a * a * (1 - e2)

    def apply(xy: np.ndarray) -> np.ndarray:
        lam = xy[:, 0] * unit
        sin = np.sin(np.clip(xy[:, 1] * unit, -np.pi / 2, np.pi / 2))
        if e2 == 0:
            y = a * a * sin
        else:
            e = np.sqrt(e2)
            y = 0.5 * b2 * (sin / (1 - e2 * sin * sin) + np.arctanh(e * sin) / e)
        return np.column_stack([lam, y])

    return apply
