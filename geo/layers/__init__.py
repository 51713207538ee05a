"""The raster layer catalogue: shipped layers by name, with kind, unit, grid, source and licence."""

from __future__ import annotations

import tomllib
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import Window

from geo.data import data_path
from geo.errors import CRSError, DataError, GeoWarning, LayerError
from geo.grid import check_transform

__all__ = ["Layer", "catalogue", "check_raster", "get", "missing_vrt_sources", "resolve"]


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
    flags: dict[float, str] = field(default_factory=dict)
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
        check_raster(path)
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


# First bytes of formats users rename to .tif by mistake.
_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"PK\x03\x04": "a ZIP archive",
    b"%PDF": "a PDF document",
    b"<?xml": "an XML file",
    b"<!DOCTYPE": "an HTML page",
    b"<html": "an HTML page",
}
# GDAL block cache (MB) while checking: only a few blocks are read.
_CHECK_CACHE_MB = 64


def _sniff(path: Path) -> str | None:
    with open(path, "rb") as fh:
        head = fh.read(16)
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            return what
    return None


def check_raster(path: str | Path, *, what: str = "raster") -> dict:
    """Open a raster file once and refuse what would give wrong numbers.

    Checks that the path is an existing file, that GDAL can read it (not a renamed image,
    not truncated: the last block row is read; a VRT whose source file is missing is named
    as such), that it has a CRS and a usable geotransform (the check of
    :meth:`geo.grid.Grid.from_dataset`: not missing, no zero or non-finite pixel size, not
    rotated; any orientation), that band 1 is not complex, and warns when the file has
    several bands (band 1 is used). Undeclared fill values (−9999, −3000 …) are counted
    exactly where the cells are read (:class:`geo.zonal.PlaceholderWatch`), not sampled here.

    Returns
    -------
    dict
        ``crs``, ``dtype``, ``nodata``, ``shape``, ``bounds``, ``count`` (bands), ``band``
        (the band the toolkit reads: 1).

    Raises
    ------
    geo.errors.DataError, geo.errors.CRSError, geo.errors.LayerError
    """
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{what} {path} is a folder, not a raster file; give the GeoTIFF itself")
    if not path.is_file():
        raise DataError(f"{what} {path} does not exist; check the path")
    kind = _sniff(path)
    if kind:
        raise DataError(f"{what} {path} is {kind}, not a GeoTIFF; export the raster as GeoTIFF")
    try:
        with warnings.catch_warnings(), rasterio.Env(GDAL_CACHEMAX=_CHECK_CACHE_MB):
            # a missing geotransform is refused below, in words
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as src:
                info = {
                    "crs": src.crs,
                    "dtype": src.dtypes[0],
                    "nodata": src.nodata,
                    "shape": src.shape,
                    "bounds": tuple(src.bounds),
                    "count": src.count,
                    "band": 1,
                }
                if info["crs"] is None:
                    raise CRSError(
                        f"{what} {path} has no CRS; assign one, e.g. "
                        f"`gdal_edit.py -a_srs EPSG:4326 {path}`"
                    )
                check_transform(src.transform, str(path), what)
                _check_real(path, what, info["dtype"])
                # a truncated file opens fine and fails on the blocks it lost: read the last row
                src.read(1, window=Window(0, src.height - 1, src.width, 1))
    except rasterio.errors.RasterioIOError as exc:
        missing = missing_vrt_sources(path)
        if missing:
            raise DataError(
                f"{what} {path} is a VRT whose source file {missing[0]} does not exist; "
                "restore that file or rebuild the VRT (gdalbuildvrt)"
            ) from None
        raise DataError(
            f"{what} {path} cannot be read ({exc}); the file is truncated or corrupt: "
            "copy or export it again"
        ) from None
    if info["count"] > 1:
        warnings.warn(
            f"{what} {path} has {info['count']} bands; only band 1 is used (extract another "
            f"with `gdal_translate -b N {path} band_N.tif`)",
            GeoWarning,
            stacklevel=2,
        )
    return info


def _check_real(path: Path, what: str, dtype: str) -> None:
    """Refuse complex rasters: no statistic of the toolkit is defined for them."""
    if np.dtype(dtype).kind == "c":
        raise LayerError(
            f"{what} {path} holds complex numbers ({dtype}); export the amplitude or the real "
            "part as a real raster, e.g. `gdal_calc.py -A in.tif --calc='abs(A)' "
            "--type=Float32 --outfile=out.tif`"
        )


def missing_vrt_sources(path: str | Path) -> list[str]:
    """Source files named by a VRT that do not exist.

    Empty for other files and for VRTs whose sources all exist. GDAL's own read error does not
    name the missing files, hence this list.
    """
    path = Path(path)
    import xml.etree.ElementTree as ET

    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError):
        return []
    if root.tag != "VRTDataset":
        return []
    missing = []
    for node in root.iter("SourceFilename"):
        name = (node.text or "").strip()
        if not name or name.startswith("/vsi") or ":" in name.split("/")[0][2:]:
            continue  # virtual file systems and subdatasets (HDF5:"f":x) are not plain files
        src = path.parent / name if node.get("relativeToVRT") == "1" else Path(name)
        if not src.exists() and str(src) not in missing:
            missing.append(str(src))
    return missing


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


def resolve(
    spec: str | Path, *, categorical: bool | None = None, nodata: tuple[float, ...] = ()
) -> Layer:
    """Return a shipped layer by name, or describe a raster file as a layer.

    Parameters
    ----------
    spec : str or Path
        A catalogue name (``ndvi``, ``landcover`` …) or the path of a GeoTIFF.
    categorical : bool, optional
        For files: treat the values as classes. Ignored for catalogue layers.
    nodata : tuple of float
        Further stored values to treat as nodata (added to the layer's flags).
    """
    from dataclasses import replace

    from geo.layers.derive import DERIVED_NAMES, derived_layers

    layers = catalogue()
    if str(spec) in layers:
        layer = layers[str(spec)]
    elif str(spec) in DERIVED_NAMES:
        layer = derived_layers()[str(spec)]
    elif Path(spec).suffix or Path(spec).exists():
        layer = Layer.from_file(spec, categorical=bool(categorical))
    else:
        layer = None
    if layer is not None:
        flags = {**layer.flags, **{value: "nodata (user)" for value in nodata}}
        return replace(layer, flags=flags) if nodata else layer
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
