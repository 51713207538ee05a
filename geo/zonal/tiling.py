"""The tiled exact build: exactextract on the tiles of a zone's boundary ring only.

A tile the zone boundary does not touch lies wholly inside or outside the zone (decided by
its centre) and needs no geometry; runs of boundary tiles along a tile row go to
exactextract as one rectangle each, the zone clipped to it plus a one-cell margin.
"""

from __future__ import annotations

import numpy as np
import shapely

from geo.grid import Grid
from geo.zonal.options import OPTIONS
from geo.zonal.runs import id_runs, mask_runs, zone_window

__all__ = ["exact_tiled_zone"]


def exact_tiled_zone(geom, grid: Grid, tile: int):
    """Interior runs and partial cells of one zone, exactextract on boundary tiles only.

    A tile that the zone boundary does not touch lies wholly inside or wholly
    outside the zone, so its cells have weight exactly 1 or 0. Cells of the
    boundary tiles get exactextract's fractions; clipping the zone to the tile
    plus a one-cell margin leaves the geometry inside every cell of the tile
    unchanged, so those fractions are exactextract's for the whole zone (up to
    its float32 rounding). Zones only a few tiles across go to exactextract whole.

    Memory grows with the boundary tiles, not with the zone's window: interior
    runs come from the runs of whole tiles plus those of the boundary cells
    wholly inside (runs of one zone may touch; :func:`resolve_overlaps` joins them).
    """
    from geo.zonal.exact import exact_fractions  # imports exactextract: only when needed

    win = zone_window(geom, grid)
    r0, c0, h, w = int(win.row_off), int(win.col_off), int(win.height), int(win.width)
    _, hit, full = _classify_tiles(geom, grid, (r0, c0, h, w), tile)
    n_cols = -(-w // tile)
    bounds = _hit_rectangles(hit.reshape(-1, n_cols), tile, (r0, c0, h, w))
    if _tiles_cost(bounds) >= h * w:
        bounds = np.array([[r0, r0 + h, c0, c0 + w]])
        features = iter([(0, shapely.to_wkb(geom))])
        tile_runs = id_runs(np.empty(0, np.int64), grid.width)
    else:
        tile_runs = _full_tile_runs(full.reshape(-1, n_cols), tile, (r0, c0, h, w))
        features = _tile_features(geom, grid, bounds)
    runs: list[tuple[np.ndarray, ...]] = [tile_runs]
    cells: list[tuple[np.ndarray, ...]] = []

    def keep(k: int, cell_id: np.ndarray, frac: np.ndarray) -> None:
        # Each feature reaches one cell into its neighbours: keep its own covered cells,
        # the wholly covered ones as runs at once (a feature's cells are many, its runs few).
        row, col = np.divmod(cell_id, grid.width)
        b = bounds[k]
        own = (row >= b[0]) & (row < b[1]) & (col >= b[2]) & (col < b[3])
        one = own & (frac >= 1.0)
        part = own & (frac > 0) & ~one
        runs.append(id_runs(cell_id[one], grid.width))
        cells.append((row[part], col[part], frac[part]))

    exact_fractions(grid, features, len(bounds), keep)
    joined = tuple(np.concatenate(a) for a in zip(*runs, strict=True))
    if not cells:
        return joined, (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
    return joined, tuple(np.concatenate(a) for a in zip(*cells, strict=True))


def _full_tile_runs(full: np.ndarray, tile: int, win: tuple[int, int, int, int]):
    """Row runs ``(row, start, end)`` of the cells of the tiles wholly inside a zone.

    ``full`` is the (tile rows × tile columns) mask of those tiles; neighbouring
    tiles of a tile row make one run per cell row.
    """
    r0, c0, h, w = win
    t_row, t_start, t_end = mask_runs(full, 0, 0)
    first = r0 + t_row.astype(np.int64) * tile
    n_rows = np.minimum(first + tile, r0 + h) - first
    row = np.repeat(first, n_rows) + (
        np.arange(n_rows.sum()) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
    )
    start = np.repeat(c0 + t_start.astype(np.int64) * tile, n_rows)
    end = np.repeat(c0 + np.minimum(t_end.astype(np.int64) * tile, w), n_rows)
    return row.astype(np.int32), start.astype(np.int32), end.astype(np.int32)


def _classify_tiles(geom, grid: Grid, win: tuple[int, int, int, int], tile: int):
    """Tiles of a zone window: ``(tr, tr1, tc, tc1)`` (window-relative), hit, full.

    ``hit``: the zone boundary touches the tile; ``full``: the tile lies wholly
    inside the zone (not hit, centre inside).
    """
    r0, c0, h, w = win
    grids = np.meshgrid(np.arange(0, h, tile), np.arange(0, w, tile), indexing="ij")
    tr, tc = (a.ravel() for a in grids)
    tr1, tc1 = np.minimum(tr + tile, h), np.minimum(tc + tile, w)
    boundary = shapely.boundary(geom)
    shapely.prepare(boundary)
    was_prepared = bool(shapely.is_prepared(geom))
    shapely.prepare(geom)
    hit = shapely.intersects(boundary, _cell_boxes(grid, r0 + tr, r0 + tr1, c0 + tc, c0 + tc1))
    cx, cy = grid.transform * (c0 + (tc + tc1) / 2, r0 + (tr + tr1) / 2)
    full = ~hit & shapely.intersects_xy(geom, cx, cy)
    if not was_prepared:
        shapely.destroy_prepared(geom)  # the caller's geometry: leave it as it came
    return (tr, tr1, tc, tc1), hit, full


def _hit_rectangles(hit: np.ndarray, tile: int, win: tuple[int, int, int, int]) -> np.ndarray:
    """Grid cell rectangles ``(row0, row1, col0, col1)`` of the runs of hit tiles.

    Neighbouring boundary tiles of a row of tiles make one rectangle: the same
    cells for exactextract, but fewer features (each has a fixed cost).
    """
    r0, c0, h, w = win
    t_row, t_start, t_end = mask_runs(hit, 0, 0)
    return np.stack(
        [
            r0 + t_row * tile,
            r0 + np.minimum((t_row + 1) * tile, h),
            c0 + t_start * tile,
            c0 + np.minimum(t_end * tile, w),
        ],
        axis=1,
    ).astype(np.int64)


def _tiles_cost(bounds: np.ndarray) -> int:
    """Cost of exactextract on the rectangles, in cells of a whole-zone run.

    exactextract spends ~20 ns per cell of a feature's bounding box and ~0.1 ms
    (clip, WKB, feature) per feature, i.e. the price of ~6000 cells.
    """
    area = (bounds[:, 1] - bounds[:, 0] + 2) * (bounds[:, 3] - bounds[:, 2] + 2)
    return int(area.sum()) + OPTIONS["feature_cost_cells"] * len(bounds)


def _cell_boxes(grid: Grid, r0, r1, c0, c1) -> np.ndarray:
    """Polygons of the cell blocks rows ``[r0, r1)`` × columns ``[c0, c1)``."""
    t = grid.transform
    xa, xb = t.c + t.a * np.asarray(c0), t.c + t.a * np.asarray(c1)
    ya, yb = t.f + t.e * np.asarray(r0), t.f + t.e * np.asarray(r1)
    return shapely.box(
        np.minimum(xa, xb), np.minimum(ya, yb), np.maximum(xa, xb), np.maximum(ya, yb)
    )


def _tile_features(geom, grid: Grid, bounds: np.ndarray):
    """``(k, wkb)`` of the zone clipped to each rectangle ``bounds[k]`` plus one cell.

    ``bounds`` rows are ``(row0, row1, col0, col1)``, sorted by row. The zone is
    clipped to each row of rectangles first, so each rectangle clips a small
    piece instead of the whole zone.
    """
    for r in np.unique(bounds[:, 0]):
        ks = np.flatnonzero(bounds[:, 0] == r)
        b = bounds[ks]
        strip_box = _cell_boxes(grid, r - 1, b[0, 1] + 1, b[:, 2].min() - 1, b[:, 3].max() + 1)
        strip = _clip(geom, strip_box)
        if strip is None:
            continue
        for k in ks:
            b = bounds[k]
            piece = _clip(strip, _cell_boxes(grid, b[0] - 1, b[1] + 1, b[2] - 1, b[3] + 1))
            if piece is not None:
                yield int(k), shapely.to_wkb(piece)


def _clip(geom, box):
    """Polygonal part of ``geom`` inside the rectangle ``box``, or None if empty."""
    part = shapely.clip_by_rect(geom, *shapely.bounds(box))
    if shapely.get_type_id(part) not in (3, 6):
        polys = [p for p in shapely.get_parts(part) if shapely.get_type_id(p) == 3]
        part = shapely.multipolygons(polys) if polys else None
    return None if part is None or part.is_empty else part
