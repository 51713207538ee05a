"""Zone windows and row runs on a grid: the vocabulary of the coverage build."""

from __future__ import annotations

import numpy as np
from rasterio.windows import Window

from geo.grid import Grid

__all__ = ["id_runs", "mask_runs", "zone_window"]


def zone_window(geom, grid: Grid) -> Window | None:
    """Window of whole cells containing ``geom`` (plus a one-cell margin), or None."""
    left, bottom, right, top = grid.bounds
    x0, y0, x1, y1 = geom.bounds
    if x1 <= left or x0 >= right or y1 <= bottom or y0 >= top:
        return None
    inv = ~grid.transform
    cols, rows = zip(*(inv @ (x, y) for x in (x0, x1) for y in (y0, y1)), strict=True)
    # The margin absorbs rounding of the bounds to cell edges.
    row0 = max(int(np.floor(min(rows))) - 1, 0)
    col0 = max(int(np.floor(min(cols))) - 1, 0)
    row1 = min(int(np.ceil(max(rows))) + 1, grid.height)
    col1 = min(int(np.ceil(max(cols))) + 1, grid.width)
    if row1 <= row0 or col1 <= col0:
        return None
    return Window(col0, row0, col1 - col0, row1 - row0)


def mask_runs(mask: np.ndarray, row0: int, col0: int) -> tuple[np.ndarray, ...]:
    """Row runs ``(row, start, end)`` of the True cells of a 2-D mask."""
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    d = np.diff(padded, axis=1)
    srow, scol = np.nonzero(d == 1)
    _, ecol = np.nonzero(d == -1)
    return (
        (srow + row0).astype(np.int32),
        (scol + col0).astype(np.int32),
        (ecol + col0).astype(np.int32),
    )


def id_runs(cell_id: np.ndarray, width: int) -> tuple[np.ndarray, ...]:
    """Row runs ``(row, start, end)`` of a set of flat cell ids."""
    if len(cell_id) == 0:
        empty = np.empty(0, np.int32)
        return empty, empty, empty
    cell_id = np.sort(cell_id)
    row, col = np.divmod(cell_id, width)
    brk = np.flatnonzero((np.diff(cell_id) != 1) | (np.diff(row) != 0)) + 1
    first = np.r_[0, brk]
    last = np.r_[brk, len(cell_id)] - 1
    return (
        row[first].astype(np.int32),
        col[first].astype(np.int32),
        (col[last] + 1).astype(np.int32),
    )
