"""Provenance: the ``manifest.json`` written beside every output set.

Every file a command read is recorded with its size and SHA-256, a shapefile with its
sidecar files (``.dbf``, ``.shx``, ``.prj``, ``.cpg`` …) and a raster with its ``.aux.xml``
and world file, since those change what is read.
"""

from __future__ import annotations

import datetime as dt
import platform
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from geo import __version__
from geo.data import sha256
from geo.outputs import TOOL

__all__ = ["input_files", "manifest", "raster_record", "vector_layer"]

_PACKAGES = (
    "numpy",
    "pandas",
    "shapely",
    "pyproj",
    "geopandas",
    "pyogrio",
    "rasterio",
    "exactextract",
    "matplotlib",
    "pylopdf-fonts-zh-cn",
)

_FIGURE_SUFFIXES = {".png", ".svg", ".pdf"}

#: Sidecar files read with a file of the given suffix (checked in lower and upper case).
_SIDECARS = {
    ".shp": (".dbf", ".shx", ".prj", ".cpg", ".qix", ".sbn", ".sbx"),
    ".tif": (".tif.aux.xml", ".tfw", ".wld"),
    ".tiff": (".tiff.aux.xml", ".tfw", ".wld"),
}


def _versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0], "geo-barrier": __version__}
    for pkg in _PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _sidecars(path: Path) -> list[Path]:
    found = []
    for suffix in _SIDECARS.get(path.suffix.lower(), ()):
        for variant in (suffix, suffix.upper()):
            side = path.with_name(path.stem + variant)
            if side.is_file() and side not in found:
                found.append(side)
    return found


def input_files(inputs: Iterable) -> list[tuple[str, Path]]:
    """Every file behind ``inputs``, with its role, sidecars included, without repeats.

    Parameters
    ----------
    inputs : iterable of path or (role, path)
        Paths (``None`` skipped) or pairs of a role (``"zones"``, ``"layer"`` …) and a path.
        Folders are skipped (their files are listed by the caller).

    Returns
    -------
    list of (str, Path)
        Absolute paths of existing files; a sidecar takes the role of its main file.
    """
    seen: set[Path] = set()
    out = []
    for item in inputs:
        role, path = item if isinstance(item, tuple) else ("input", item)
        if path is None or str(path) == "":
            continue
        path = Path(path).expanduser().absolute()
        for file in (path, *_sidecars(path)):
            if file.is_file() and file not in seen:
                seen.add(file)
                out.append((role, file))
    return out


def manifest(
    inputs: list, outputs: list[Path], root: Path, parameters: dict, digests: dict | None = None
) -> dict:
    """Return the provenance record of an output set.

    Parameters
    ----------
    inputs : list of path or (role, path)
        Files read; each is recorded with its role, size and SHA-256 (see :func:`input_files`).
    outputs : list of Path
        Files written, recorded relative to ``root`` with their SHA-256.
    root : Path
        The output folder.
    parameters : dict
        Options of the run (command line), methods and CRS used.
    digests : dict of Path to str, optional
        SHA-256 of inputs the caller has already computed (a stack of large layers is then
        read once, not once per record).

    Returns
    -------
    dict
        When figures (PNG, SVG, PDF) are among the outputs, ``fonts`` names the CJK font files
        their Chinese text is set in (family, source, version, SHA-256); when web pages (HTML)
        are, ``web_font`` names the font their embedded subsets are cut from
        (:func:`geo.fonts.web_font_record`).
    """
    record = {
        "tool": TOOL,
        "version": __version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "packages": _versions(),
        "parameters": parameters,
        "inputs": [
            {
                "role": role,
                "path": str(p),
                "bytes": p.stat().st_size,
                "sha256": (digests or {}).get(p) or sha256(p),
            }
            for role, p in input_files(inputs)
        ],
        "outputs": [
            {"path": Path(p).relative_to(root).as_posix(), "sha256": sha256(p)} for p in outputs
        ],
    }
    if any(Path(p).suffix in _FIGURE_SUFFIXES for p in outputs):
        from geo.maps.static import font_record

        record["fonts"] = font_record()["fonts"]  # the files the Chinese text was set in
    if any(Path(p).suffix == ".html" for p in outputs):
        from geo.fonts import web_font_record

        # web pages embed a subset of this file (name, licence, package, SHA-256 of the file)
        record["web_font"] = web_font_record()
    return record


def vector_layer(path, layer: str | None = None, frame=None) -> str | None:
    """The layer read from a vector file: ``layer`` if given, else the first (the default)."""
    import pyogrio

    layer = layer or (frame.attrs.get("layer") if frame is not None else None)
    if layer:
        return str(layer)
    try:
        return str(pyogrio.list_layers(path)[0][0])
    except (OSError, ValueError, IndexError, pyogrio.errors.DataSourceError):
        return None  # provenance only: the file was read already


def raster_record(layer, role: str = "layer") -> dict:
    """Provenance of a raster layer used: name, file, band read and the bands in the file."""
    import rasterio

    with rasterio.open(layer.path) as src:
        count = src.count
    return {
        "role": role,
        "name": layer.name,
        "path": str(Path(layer.path).absolute()),
        "band": int(getattr(layer, "band", 1) or 1),
        "bands_in_file": count,
    }
