"""Computing the indicators of a zone set: the tidy table, its verdicts and its wide pivot.

The definitions (what each number means, its target, its flags) are :mod:`geo.indicators`;
:func:`compute`, :func:`add_verdicts` and :func:`wide` are served from there too.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.indicators import (
    DEGREES,
    DETECTION_LIMITS,
    MIN_CELLS,
    definition,
    gap,
    meets_target,
    verdict,
)
from geo.overlays import overlay_area_km2
from geo.units import area_columns
from geo.zoneset import ZoneSet, as_zone_set

__all__ = ["add_verdicts", "compute", "wide"]


def _share(part, whole):
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(whole > 0, 100.0 * part / whole, np.nan)
    # class areas are summed in another order than the valid area: absorb the last-bit excess
    return np.where((pct > 100.0) & (pct < 100.0 + 1e-9), 100.0, pct)


def _class_area(frame: pd.DataFrame, codes) -> np.ndarray:
    cols = [f"area_km2_{c}" for c in codes if f"area_km2_{c}" in frame.columns]
    return frame[cols].sum(axis=1).to_numpy() if cols else np.zeros(len(frame))


def compute(
    zones: ZoneSet | gpd.GeoDataFrame,
    layer_paths: dict[str, Path],
    *,
    redline: gpd.GeoDataFrame | None = None,
    treated: gpd.GeoDataFrame | None = None,
    treatable: gpd.GeoDataFrame | None = None,
    cache_dir: str | Path | None = None,
    context=None,
    official: dict | None = None,
) -> pd.DataFrame:
    """Compute every indicator for a zone set, as one tidy (long) table.

    Parameters
    ----------
    zones : geo.zones.ZoneSet or geopandas.GeoDataFrame
        A zone set, or a GeoDataFrame (from :func:`geo.zones.load` or your own; see
        :func:`geo.zones.as_zone_set`).
    layer_paths : dict
        Paths of the derived GeoTIFFs by name (``fvc``, ``fvc_grassland``, ``landcover_cn``,
        ``sandified``, ``redline_proxy``) and of the shipped ``landcover``; all on one grid.
    redline : geopandas.GeoDataFrame, optional
        The official red-line polygons; their values replace the proxy's, which is kept
        beside them (``redline_proxy_pct`` …).
    treated, treatable : geopandas.GeoDataFrame, optional
        Treated and treatable sandified land polygons; both are needed for R3.
    cache_dir : path, optional
        On-disk coverage cache (without ``context``; the coverage is also kept in memory,
        :data:`geo.zonal.coverage_cache`).
    context : geo.context.ZonalContext, optional
        The run's coverages: the zone set's coverage on the layers' grid comes from it (built
        once per run) instead of ``cache_dir``.
    official : dict of str to geo.official.OfficialLayer, optional
        Official layers by kind (:func:`geo.official.collect`: ``forest``, ``grassland``,
        ``sandified``, ``redline``): their values replace the proxies under the same ids,
        marked official, each proxy kept beside under :func:`geo.indicators.proxy_id`.

    Returns
    -------
    pandas.DataFrame
        One row per (zone, indicator): ``id`` (the zone set's identifier), ``name_zh``, ``name_en``,
        ``level``, ``indicator``, ``value``, ``unit``, ``target``, ``direction``,
        ``meets_target`` (None below the detection limit or on too few cells), ``gap``,
        ``below_detection``, ``cells`` (coverage-weighted count of the grid cells the value
        rests on; NaN for areas and for values from polygons), ``few_cells`` (fewer than
        :data:`MIN_CELLS`), ``official``, ``basis`` (``official``, ``official extent``:
        estimated over an official extent, or ``proxy``), ``method``.
    """
    import rasterio

    from geo.grid import Grid
    from geo.zonal import coverage_cache, zonal_stats

    zone_set = as_zone_set(zones)
    frame = zone_set.frame
    with rasterio.open(layer_paths["fvc"]) as ds:
        grid = Grid.from_dataset(ds)
    if context is not None:
        coverage = context.coverage(zone_set, grid)
    else:  # the process's coverage cache: a notebook's next call on these zones reuses it
        coverage = coverage_cache.get(frame, grid, "exact", cache_dir)

    def stats(name, **kw):
        return zonal_stats(frame, layer_paths[name], coverage=coverage, **kw)

    # "mean cover of the area": every cell weighs the ground it covers (area_mean), not its
    # coverage fraction alone (a cell at 37° N is 1.36× the ground of one at 54° N)
    fvc = stats("fvc", stats=("count", "area_mean"))
    grass = stats("fvc_grassland", stats=("count", "area_mean"))
    cn = stats("landcover_cn", stats=("count",), categorical=True)
    igbp = stats("landcover", stats=("count",), categorical=True)
    sand = stats("sandified", stats=("count",), categorical=True)
    land = cn["valid_area_km2"].to_numpy()
    red = stats("redline_proxy", stats=("count",), categorical=True)
    # how many cells each share or mean rests on (coverage-weighted valid cells)
    cells = {
        "fvc_mean_pct": fvc["count"],
        "grassland_fvc_pct": grass["count"],
        "forest_cover_pct": cn["count"],
        "igbp_forest_pct": igbp["count"],
        "sandified_pct": sand["count"],
        "redline_pct": red["count"],
    }
    forest = _class_area(cn, (1, 2))
    values = {
        "area": np.array(zone_set.area_km2),
        "fvc_mean_pct": fvc["area_mean"].to_numpy(),
        "grassland_fvc_pct": grass["area_mean"].to_numpy(),
        "grassland_area": _class_area(cn, (3,)),
        "forest_cover_pct": _share(forest, land),
        "forest_area": forest,
        "igbp_forest_pct": _share(
            _class_area(igbp, (1, 2, 3, 4, 5)), igbp["valid_area_km2"].to_numpy()
        ),
        "sandified_area": _class_area(sand, (1, 2, 3, 4)),
        "sandified_pct": _share(_class_area(sand, (1, 2, 3, 4)), sand["valid_area_km2"].to_numpy()),
    }
    for code, (degree, _zh) in enumerate(DEGREES, start=1):
        values[f"sandified_{degree}_area"] = _class_area(sand, (code,))
    values["redline_area"] = _class_area(red, (1,))
    values["redline_pct"] = _share(values["redline_area"], red["valid_area_km2"].to_numpy())
    basis, methods = {}, {}
    given = _official_layers(official, redline)
    if given:  # official values in place of the proxies, each proxy kept beside
        from geo.official import merge, official_values

        found = official_values(
            zone_set,
            given,
            fvc=layer_paths["fvc"],
            cache_dir=context.cache_dir if context is not None else cache_dir,
        )
        values, cells, basis = merge(values, cells, found)
        methods = found.methods
    if treated is not None and treatable is not None:
        both = overlay_area_km2(
            zone_set, gpd.overlay(treated, treatable.to_crs(treated.crs), how="intersection")
        )
        values["treated_sandified_pct"] = _share(both, overlay_area_km2(zone_set, treatable))
        basis["treated_sandified_pct"] = "official"
    long = _long(zone_set, values, basis, cells, methods)
    # a tuple: pandas compares attrs when it concatenates tables
    long.attrs["zone_cells"] = tuple(_zone_cells(coverage).tolist())
    return long


def _official_layers(official: dict | None, redline) -> dict:
    """The official layers of a :func:`compute` call, the ``redline`` polygons among them."""
    layers = dict(official or {})
    if redline is not None and "redline" not in layers:
        from geo.official import collect

        layers.update(collect(redline=redline))
    return layers


def _zone_cells(coverage) -> np.ndarray:
    """Coverage-weighted number of grid cells of each zone (sum of covered fractions)."""
    n = coverage.n_zones
    whole = np.bincount(
        coverage.run_zone, weights=coverage.run_end - coverage.run_start, minlength=n
    )
    return whole + np.bincount(coverage.cell_zone, weights=coverage.cell_weight, minlength=n)


def _long(
    zones: ZoneSet,
    values: dict,
    basis: dict,
    cells: dict | None = None,
    methods: dict | None = None,
) -> pd.DataFrame:
    frame = zones.frame
    base = pd.DataFrame(frame[[zones.id_column, "name_zh", "name_en", "level"]])
    base = base.reset_index(drop=True).rename(columns={zones.id_column: "id"})
    frames = []
    for key, vals in values.items():
        ind = definition(key)
        official = basis.get(key) == "official" or ind.official
        frame = base.copy()
        frame["indicator"] = key
        frame["value"] = np.asarray(vals, dtype="float64")
        frame["unit"] = ind.unit
        frame["target"] = ind.target if ind.target is not None else np.nan
        frame["direction"] = ind.direction or ""
        frame["meets_target"] = [meets_target(v, ind) for v in frame["value"]]
        frame["below_detection"] = False
        if key in DETECTION_LIMITS and DETECTION_LIMITS[key][0] in values and not official:
            area, limit = DETECTION_LIMITS[key]
            faint = np.asarray(values[area], dtype="float64") < limit
            frame["below_detection"] = faint
            frame["meets_target"] = frame["meets_target"].astype(object).where(~faint, None)
        # values from polygons (official layers) rest on no cells
        based = None if official else (cells or {}).get(key)
        frame["cells"] = np.nan if based is None else np.asarray(based, dtype="float64")
        few = (frame["cells"] < MIN_CELLS).to_numpy()  # NaN (no cells counted) is not few
        frame["few_cells"] = few
        frame["meets_target"] = frame["meets_target"].astype(object).where(~few, None)
        frame["gap"] = [gap(v, ind) for v in frame["value"]]
        frame["official"] = official
        frame["basis"] = basis.get(key, ind.label)
        frame["method"] = (methods or {}).get(key, ind.method)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def add_verdicts(long: pd.DataFrame, variants: pd.DataFrame | None) -> pd.DataFrame:
    """Add the method-variant range and the verdict of each targeted value to a long table.

    Parameters
    ----------
    long : pandas.DataFrame
        From :func:`compute` (the run's own method).
    variants : pandas.DataFrame, optional
        The same zones under the method variants: ``id``, ``choice``, ``indicator``,
        ``value`` (from :func:`geo.report.zone_variants`). Indicators the variants leave
        unchanged (values from polygons) range over the run's value alone.

    Returns
    -------
    pandas.DataFrame
        ``long`` with ``variant_min``, ``variant_max`` (unit of the indicator, the run's own
        value included) and ``verdict`` (a key of :data:`VERDICTS`; empty for indicators
        without a target).
    """
    out = long.copy()
    own = out[["id", "indicator", "value"]]
    if variants is not None and "basis" in out:
        # the method variants are proxies: an official value ranges over itself alone
        given = out.loc[out["basis"] != "proxy", "indicator"].unique()
        variants = variants[~variants["indicator"].isin(given)]
    every = own if variants is None else pd.concat([own, variants[own.columns]])
    spread = every.groupby(["id", "indicator"], sort=False)["value"].agg(["min", "max"])
    keys = pd.MultiIndex.from_frame(out[["id", "indicator"]])
    out["variant_min"] = spread["min"].reindex(keys).to_numpy()
    out["variant_max"] = spread["max"].reindex(keys).to_numpy()
    codes = []
    for row in out.itertuples(index=False):
        ind = definition(row.indicator)
        flag = "below_detection" if row.below_detection else "few_cells" if row.few_cells else None
        codes.append(verdict(row.value, ind, row.variant_min, row.variant_max, flag) or "")
    out["verdict"] = codes
    targeted = out["verdict"] != ""
    for col in ("variant_min", "variant_max"):
        out[col] = out[col].where(targeted)
    return out


def wide(long: pd.DataFrame, id_name: str = "adcode") -> pd.DataFrame:
    """Pivot a :func:`compute` table to one row per zone, as in the report's tables.

    Area indicators become ``<id>_km2``, ``<id>_ha`` and ``<id>_mu``; percentages keep their
    ``_pct`` id; indicators with a target get ``<id>_meets_target`` and ``<id>_gap`` and, after
    :func:`add_verdicts`, ``<id>_verdict``, ``<id>_variant_min`` and ``<id>_variant_max``.
    Values from an official layer get ``<id>_basis`` (``official``, or ``official extent``
    for grassland cover averaged over official grassland) and the proxy beside them under
    :func:`geo.indicators.proxy_id` (``forest_cover_proxy_pct``, ``forest_area_proxy_km2`` …).
    Values that rest on grid cells get ``<id>_few_cells`` (fewer than :data:`MIN_CELLS`), and
    ``grassland_fvc_pct_cells`` says how many grassland cells the grassland cover rests on
    (the zone's own cell count is ``cells``).
    """
    keys = ["id", "name_zh", "name_en", "level"]
    table = long[keys].drop_duplicates("id").set_index("id")
    zone_cells = long.attrs.get("zone_cells")
    if zone_cells is not None and len(zone_cells) == len(table):
        table["cells"] = np.asarray(zone_cells, dtype="float64")
    for key, group in long.groupby("indicator", sort=False):
        rows = group.set_index("id")
        series = rows["value"]
        ind = definition(key)
        if ind.unit == "km2":
            for col, vals in area_columns(key, series.to_numpy()).items():
                table[col] = pd.Series(vals, index=series.index)
        else:
            table[key] = series
        if ind.target is not None:
            table[f"{key}_meets_target"] = rows["meets_target"]
            table[f"{key}_gap"] = rows["gap"]
            if "verdict" in rows:
                table[f"{key}_verdict"] = rows["verdict"]
                table[f"{key}_variant_min"] = rows["variant_min"]
                table[f"{key}_variant_max"] = rows["variant_max"]
        if "basis" in rows and (rows["basis"] != "proxy").any():
            table[f"{key}_basis"] = rows["basis"]  # official, or estimated on an official extent
        if key in DETECTION_LIMITS and "below_detection" in group:
            table[f"{key}_below_detection"] = rows["below_detection"]
        if "cells" in rows and rows["cells"].notna().any():
            if key == "grassland_fvc_pct":  # the grassland cells, not the zone's
                table[f"{key}_cells"] = rows["cells"]
            table[f"{key}_few_cells"] = rows["few_cells"].astype(bool)
    return table.reset_index().rename(columns={"id": id_name})
