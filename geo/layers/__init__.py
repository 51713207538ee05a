"""The raster layer catalogue: shipped layers by name, with kind, unit, grid, source and licence."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import rasterio

from geo.data import data_path
from geo.errors import DataError, LayerError

__all__ = ["Layer", "catalogue", "get", "resolve"]


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

    @classmethod
    def from_file(cls, path: str | Path, *, categorical: bool = False) -> Layer:
        """Describe a user's raster file as a layer (no scale, no flags)."""
        path = Path(path)
        if not path.is_file():
            raise DataError(f"raster {path} does not exist; check the path")
        return cls(
            name=path.stem,
            path=path,
            kind="categorical" if categorical else "continuous",
            unit="as stored",
            title_en=path.name,
            title_zh=path.name,
            source=str(path),
            licence="user data",
        )

    @property
    def categorical(self) -> bool:
        """True for class layers (land cover, climate zones)."""
        return self.kind == "categorical"


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


def resolve(spec: str | Path, *, categorical: bool | None = None) -> Layer:
    """Return a shipped layer by name, or describe a raster file as a layer.

    Parameters
    ----------
    spec : str or Path
        A catalogue name (``ndvi``, ``landcover`` …) or the path of a GeoTIFF.
    categorical : bool, optional
        For files: treat the values as classes. Ignored for catalogue layers.
    """
    layers = catalogue()
    if str(spec) in layers:
        return layers[str(spec)]
    from geo.layers.derive import DERIVED_NAMES, derived_layers

    if str(spec) in DERIVED_NAMES:
        return derived_layers()[str(spec)]
    path = Path(spec)
    if path.suffix or path.exists():
        return Layer.from_file(path, categorical=bool(categorical))
    raise LayerError(
        f"{str(spec)!r} is neither a shipped layer ({', '.join(sorted(layers))}), a derived layer "
        f"({', '.join(DERIVED_NAMES)}) nor a raster file"
    )


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
