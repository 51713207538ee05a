"""The raster layer catalogue: shipped layers by name, with kind, unit, grid, source and licence."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import rasterio

from geo.data import data_path
from geo.errors import DataError, LayerError

__all__ = ["Layer", "catalogue", "get"]


@dataclass(frozen=True)
class Layer:
    """A named raster layer.

    Attributes
    ----------
    name : str
        Catalogue name (``ndvi``, ``landcover`` …).
    path : pathlib.Path
        GeoTIFF file.
    kind : {"continuous", "categorical"}
    unit : str
        Unit of the physical value (after ``scale``/``offset``).
    scale, offset : float
        Physical value = stored value × scale + offset.
    flags : dict
        Stored codes that are valid pixels but not measurements (masked out).
    classes : dict
        Class code → label, for categorical layers.
    """

    name: str
    path: Path
    kind: str
    unit: str
    title_en: str
    title_zh: str
    source: str
    licence: str
    scale: float = 1.0
    offset: float = 0.0
    flags: dict[int, str] = field(default_factory=dict)
    classes: dict[int, str] = field(default_factory=dict)

    def grid(self) -> dict:
        """Return the file's grid: CRS, resolution (CRS units), shape, bounds, dtype, nodata."""
        try:
            with rasterio.open(self.path) as src:
                return {
                    "crs": src.crs.to_string() if src.crs else None,
                    "res": src.res,
                    "shape": src.shape,
                    "bounds": tuple(src.bounds),
                    "dtype": src.dtypes[0],
                    "nodata": src.nodata,
                }
        except rasterio.errors.RasterioIOError as exc:
            raise DataError(f"layer {self.name!r}: cannot read {self.path}: {exc}") from None


def _int_keys(table: dict) -> dict[int, str]:
    return {int(k): str(v) for k, v in table.items()}


def catalogue() -> dict[str, Layer]:
    """Return the shipped layers by name, read from ``data/rasters/layers.toml``."""
    toml_path = data_path("rasters", "layers.toml")
    with open(toml_path, "rb") as fh:
        spec = tomllib.load(fh)["layers"]
    layers = {}
    for name, entry in spec.items():
        entry = dict(entry)
        path = data_path("rasters", entry.pop("file"))
        entry["flags"] = _int_keys(entry.get("flags", {}))
        entry["classes"] = _int_keys(entry.get("classes", {}))
        layers[name] = Layer(name=name, path=path, **entry)
    return layers


def get(name: str) -> Layer:
    """Return one shipped layer by name.

    Raises
    ------
    geo.errors.LayerError
        If there is no such layer; the message lists the layers that exist.
    """
    layers = catalogue()
    if name not in layers:
        raise LayerError(f"no layer named {name!r}; shipped layers: {', '.join(sorted(layers))}")
    return layers[name]
