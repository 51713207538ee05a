"""Fractional vegetation cover from NDVI (dimidiate pixel model).

Also reads a layer's physical values onto the analysis grid.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.warp import reproject

from geo.errors import DataError, LayerError
from geo.grid import Grid
from geo.layers import Layer, catalogue
from geo.layers.derive_config import DeriveConfig

__all__ = ["check_ndvi", "fvc_from_ndvi", "fvc_percent", "ndvi_layer", "read_on_grid"]


def read_on_grid(layer: Layer, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Read a layer's physical values onto ``grid``.

    Classes are taken by nearest neighbour, continuous values by cell average when the
    layer's grid differs. Returns ``(values, valid)``; values are float64 for continuous
    layers (scale and offset applied) and the stored integers for categorical ones; flagged
    codes (e.g. water in the NDVI layer) are invalid.
    """
    try:
        with rasterio.open(layer.path) as src:
            nodata = src.nodata
            same = Grid.from_dataset(src).same_as(grid)
            if same:
                raw = src.read(1)
            else:
                raw = np.full(grid.shape, nodata if nodata is not None else 0, dtype=src.dtypes[0])
                reproject(
                    rasterio.band(src, 1),
                    raw,
                    dst_transform=grid.transform,
                    dst_crs=grid.crs,
                    dst_nodata=nodata,
                    resampling=Resampling.nearest if layer.categorical else Resampling.average,
                )
    except rasterio.errors.RasterioIOError as exc:
        raise DataError(f"layer {layer.name!r}: cannot read {layer.path}: {exc}") from None
    from geo.zonal import nodata_codes
    from geo.zonal.nodata import invalid_mask

    # nodata and flags compared in the raster's own type (-9999.1 on float32 …), NaN/inf invalid
    codes = nodata_codes(raw.dtype, nodata, tuple(layer.flags), str(layer.path))
    valid = ~invalid_mask(raw, codes)
    if layer.categorical:
        return raw, valid
    return raw.astype("float64") * layer.scale + layer.offset, valid


def fvc_from_ndvi(ndvi: np.ndarray, ndvi_soil, ndvi_veg) -> np.ndarray:
    """Dimidiate-pixel FVC (0–1) from NDVI.

    Parameters
    ----------
    ndvi : numpy.ndarray
        NDVI (−1…1); NaN where undefined.
    ndvi_soil, ndvi_veg : float or numpy.ndarray
        NDVI of bare soil and of full vegetation cover (scalars or per cell).

    Returns
    -------
    numpy.ndarray
        FVC clipped to [0, 1]; NaN where NDVI is NaN or ``ndvi_veg <= ndvi_soil``.
    """
    ndvi = np.asarray(ndvi, dtype="float64")
    span = np.asarray(ndvi_veg, dtype="float64") - np.asarray(ndvi_soil, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        fvc = (ndvi - ndvi_soil) / span
    fvc = np.clip(fvc, 0.0, 1.0)
    return np.where(span > 0, fvc, np.nan)


def check_ndvi(values: np.ndarray, valid: np.ndarray, layer: Layer) -> None:
    """Refuse NDVI outside [−1, 1] (e.g. scaled integers without scale metadata)."""
    if not valid.any():
        raise DataError(f"NDVI layer {layer.name!r} ({layer.path}) has no valid cell")
    lo, hi = float(values[valid].min()), float(values[valid].max())
    if lo < -1.0001 or hi > 1.0001:
        shipped = layer.name in catalogue()
        where = (
            "in data/rasters/layers.toml"
            if shipped
            else "with --ndvi-scale/--ndvi-offset (Python: DeriveConfig(ndvi_scale=…, "
            "ndvi_offset=…))"
        )
        raise DataError(
            f"NDVI layer {layer.name!r} ({layer.path}) has values {lo:g}…{hi:g}, outside [-1, 1]: "
            "it looks like scaled integers; give its scale and offset (e.g. 0.0001 for MODIS "
            f"NDVI, 0.004/-0.08 for Copernicus) {where}, or rescale the file"
        )


def _percentiles(values: np.ndarray, mask: np.ndarray, config: DeriveConfig) -> tuple[float, float]:
    sample = values[mask]
    if sample.size == 0:
        raise DataError("no valid NDVI cell inside the region; check the NDVI layer's extent")
    soil, veg = np.percentile(sample, [config.soil_pct, config.veg_pct])
    if veg <= soil:
        raise LayerError(
            f"NDVI percentiles {config.soil_pct}/{config.veg_pct} give NDVI_veg {veg:.3f} <= "
            f"NDVI_soil {soil:.3f}; choose percentiles further apart"
        )
    return float(soil), float(veg)


def fvc_percent(
    grid: Grid, region_mask: np.ndarray, config: DeriveConfig
) -> tuple[np.ndarray, str]:
    """FVC in % (0–100, NaN where undefined) on ``grid`` and its method in words.

    ``region_mask`` (bool, grid shape) bounds the cells whose NDVI percentiles give
    NDVI_soil/NDVI_veg (``fvc_method="percentile"``).
    """
    layers = catalogue()
    source = ndvi_layer(config, layers)
    ndvi, ok = read_on_grid(source, grid)
    check_ndvi(ndvi, ok, source)
    ndvi = np.where(ok, ndvi, np.nan)
    if config.fvc_method == "percentile":
        soil, veg = _percentiles(ndvi, ok & region_mask, config)
        method = (
            f"FVC = (NDVI - {soil:.4f}) / ({veg:.4f} - {soil:.4f}) clipped to [0, 1]; NDVI = layer "
            f"{config.ndvi}; NDVI_soil/NDVI_veg = {config.soil_pct:g}th/{config.veg_pct:g}th "
            "percentiles of NDVI over the region (dimidiate pixel model)"
        )
        return fvc_from_ndvi(ndvi, soil, veg) * 100.0, method
    if config.fvc_method == "pixel":
        if config.ndvi in ("ndvi_max", "ndvi_min"):
            raise LayerError(
                f"per-pixel FVC scales NDVI between the per-pixel minimum and maximum "
                f"climatology; with NDVI = {config.ndvi} it is 0 or 100 % everywhere: choose an "
                "observed NDVI (e.g. ndvi, or your own file)"
            )
        lo, ok_lo = read_on_grid(layers["ndvi_min"], grid)
        hi, ok_hi = read_on_grid(layers["ndvi_max"], grid)
        lo, hi = np.where(ok_lo, lo, np.nan), np.where(ok_hi, hi, np.nan)
        method = (
            f"FVC = (NDVI - NDVI_min) / (NDVI_max - NDVI_min) per cell, clipped to [0, 1]; NDVI = "
            f"layer {config.ndvi}; NDVI_min/NDVI_max = BESS climatology per cell (undefined where "
            "max <= min)"
        )
        return fvc_from_ndvi(ndvi, lo, hi) * 100.0, method
    raise LayerError(f"unknown FVC method {config.fvc_method!r}; use 'percentile' or 'pixel'")


def ndvi_layer(config: DeriveConfig, layers: dict[str, Layer]) -> Layer:
    """The NDVI layer of ``config``: a catalogue layer by name, else the user's file.

    A user's file takes its scale and offset from the config, else from the file's tags.
    """
    if config.ndvi in layers:
        return layers[config.ndvi]
    if not Path(config.ndvi).suffix:
        raise LayerError(
            f"no NDVI layer named {config.ndvi!r}; shipped layers: {', '.join(layers)}, "
            "or give the path of an NDVI GeoTIFF"
        )
    layer = Layer.from_file(config.ndvi)
    with rasterio.open(layer.path) as src:
        scale = config.ndvi_scale if config.ndvi_scale is not None else src.scales[0]
        offset = config.ndvi_offset if config.ndvi_offset is not None else src.offsets[0]
    return replace(layer, name="ndvi (user)", scale=scale, offset=offset)
