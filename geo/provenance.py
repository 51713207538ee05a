"""Provenance: the ``manifest.json`` written beside every output set."""

from __future__ import annotations

import datetime as dt
import platform
import sys
from importlib import metadata
from pathlib import Path

from geo import __version__
from geo.data import sha256

__all__ = ["manifest"]

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


def _versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0], "geo-barrier": __version__}
    for pkg in _PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def manifest(inputs: list[Path], outputs: list[Path], root: Path, parameters: dict) -> dict:
    """Return the provenance record of an output set.

    Parameters
    ----------
    inputs : list of Path
        Files read; each is recorded with its size and SHA-256.
    outputs : list of Path
        Files written, recorded relative to ``root`` with their SHA-256.
    root : Path
        The output folder.
    parameters : dict
        Options of the run (command line), methods and CRS used.

    Returns
    -------
    dict
        When figures (PNG, SVG, PDF) are among the outputs, ``fonts`` names the CJK font files
        their Chinese text is set in (family, source, version, SHA-256).
    """
    record = {
        "tool": "barrier (geo-barrier)",
        "version": __version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "packages": _versions(),
        "parameters": parameters,
        "inputs": [
            {"path": str(p), "bytes": p.stat().st_size, "sha256": sha256(p)} for p in inputs
        ],
        "outputs": [{"path": str(p.relative_to(root)), "sha256": sha256(p)} for p in outputs],
    }
    if any(p.suffix in _FIGURE_SUFFIXES for p in outputs):
        from geo.maps.static import font_record

        record["fonts"] = font_record()["fonts"]  # the files the Chinese text was set in
    return record
