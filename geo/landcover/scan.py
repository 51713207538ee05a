"""One streamed read of a fine land-cover raster for both its class areas and its class weights.

:meth:`geo.landcover.LandCover.values` needs, per zone set, the exact class areas (the zonal
engine's categorical sums) and the grassland weights of the FVC grid
(:class:`~geo.landcover.weights.Weights`). Both come from the same cells: :func:`scan` reads
each window of the raster once and hands it to the engine's accumulator and to the weight
sums. The windows, their order and the accumulator are the engine's own
(:func:`geo.zonal.stream.stream_windows`, :class:`geo.zonal.accumulate.Accumulator`), so the
class areas are those of :func:`geo.landcover.areas.raw_class_areas` bit for bit; the weights
are those of :func:`geo.landcover.weights.class_weights` up to the order of the additions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import rasterio

from geo.errors import DataError
from geo.grid import Grid, read_window
from geo.landcover.weights import Weights, WeightSums, wanted_codes

__all__ = ["scan"]


def scan(
    raster: str | Path, cov, *, areas: bool = True, weights: dict | None = None
) -> tuple[pd.DataFrame | None, dict[object, Weights]]:
    """Class areas and class weights of ``raster`` over the zones of ``cov``, in one read.

    Parameters
    ----------
    raster : str or Path
        The fine land-cover raster (integer class codes, band 1).
    cov : geo.zonal.Coverage
        The zones' coverage on the raster's grid.
    areas : bool
        Compute the class areas.
    weights : dict, optional
        Key → ``(codes, coarse grid)``: the weights of the classes ``codes`` on each coarse
        grid (see :func:`geo.landcover.class_weights`).

    Returns
    -------
    tuple
        ``(raw, weights)``: the class areas as :func:`geo.landcover.areas.raw_class_areas`
        returns them (positional index; ``None`` without ``areas``) and key → :class:`Weights`.

    Raises
    ------
    geo.errors.DataError
        The raster cannot be read, or ``cov`` is not on its grid.
    """
    from geo.budget import check_budget
    from geo.zonal import get_options, invalid_mask, nodata_codes
    from geo.zonal.accumulate import Accumulator, make_spec
    from geo.zonal.api import warn_no_valid
    from geo.zonal.kernels import hist_pool
    from geo.zonal.nodata import PlaceholderWatch, invalid_values
    from geo.zonal.stream import (
        prefetched,
        read_error,
        rows_per_window,
        stream_bytes,
        stream_windows,
    )

    options = get_options()
    env = rasterio.Env(
        GDAL_CACHEMAX=options["gdal_cachemax_mb"], GDAL_NUM_THREADS=str(options["read_threads"])
    )
    with env, rasterio.open(raster) as ds:
        grid = Grid.from_dataset(ds)
        if not cov.grid.same_as(grid, any_orientation=True):
            raise DataError(f"the coverage given is not on the grid of raster {raster}")
        dtype = np.dtype(ds.dtypes[0])
        codes = nodata_codes(dtype, ds.nodatavals[0], (), ds.name)
        spec = make_spec(("count",), None, True)
        acc = Accumulator(cov.n_zones, spec, dtype, cov.grid.row_cell_area_m2()) if areas else None
        if acc is not None:
            acc.invalid_values = invalid_values(codes)
        sums = {
            key: WeightSums(cov, grid, coarse, wanted_codes(wanted, dtype, codes))
            for key, (wanted, coarse) in (weights or {}).items()
        }
        # the engine's windows, in its order: the class areas are its sums bit for bit
        rows = rows_per_window(ds, 1, cov.grid.width, None)
        pieces = list(stream_windows(cov, ds, 1, rows)) if acc is not None or sums else []
        most = max((int(w.width) * int(w.height) for w, _ in pieces), default=0)
        need = stream_bytes(cov.n_zones, spec, dtype, most) + stream_bytes(
            cov.n_zones, spec, dtype, 0
        )
        check_budget(ds.name, need, "the land-cover areas")
        watch = PlaceholderWatch(dtype, ds.nodatavals[0], ())

        def read(k: int) -> np.ndarray:
            try:
                return read_window(ds, 1, pieces[k][0])
            except rasterio.errors.RasterioIOError as exc:
                raise read_error(ds.name, exc) from exc

        with hist_pool(acc is not None and acc.nbins > 0) as pool:
            if acc is not None:
                acc.pool = pool
            arrays = prefetched(len(pieces), read)
            try:
                for (win, whole), a in zip(pieces, arrays, strict=True):
                    r0, c0 = int(win.row_off), int(win.col_off)
                    if acc is not None:
                        invalid = invalid_mask(a, codes, np.empty(a.shape, dtype=bool))
                        watch.add(a)
                        (acc.add_window if whole else acc.add_chunk)(cov, a, invalid, r0, c0)
                    for one in sums.values():
                        one.add(a, r0, c0)
            finally:
                arrays.close()
                if acc is not None:
                    acc.pool = None
        raw = None
        if acc is not None:
            watch.warn(ds.name, 1)
            warn_no_valid(acc, ds.name)
            index = pd.RangeIndex(cov.n_zones)
            raw = acc.frame(index, cov.outside_area_km2, ds.scales[0], ds.offsets[0])
    return raw, {key: one.result() for key, one in sums.items()}
