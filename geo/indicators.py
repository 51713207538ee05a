"""Indicator definitions: what each number means, its unit, target and provenance.

Each indicator is data (an :class:`Indicator`), not code scattered around: identifier, Chinese
and English names, unit, direction of the target comparison, target value and year, the plan
line it comes from, whether the toolkit's value is an official statistic or a remote-sensing
proxy, and the method in words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.citations import CITATIONS, Citation
from geo.crs import EQUAL_AREA, area_km2
from geo.units import area_columns

__all__ = [
    "DEGREES",
    "DETECTION_LIMITS",
    "INDICATORS",
    "MIN_CELLS",
    "VERDICTS",
    "Indicator",
    "add_verdicts",
    "compute",
    "gap",
    "meets_target",
    "overlaps",
    "overlay_area_km2",
    "verdict",
    "wide",
]


@dataclass(frozen=True)
class Indicator:
    """Definition of one indicator.

    Attributes
    ----------
    id : str
        Column stem in tables (``grassland_fvc_pct``, ``area`` …).
    name_zh, name_en : str
        Display names.
    unit : str
        ``"%"`` for percentages (0–100), ``"km2"`` for areas (tables then carry
        ``<id>_km2``, ``<id>_ha`` and ``<id>_mu``), or another unit symbol.
    direction : {">=", "<=", None}
        How a value compares with the target: ``">="`` higher is better (coverage),
        ``"<="`` lower is better (a grade where 1 is best, a pollutant). ``None``: no target.
    target : float, optional
        Target value in ``unit``.
    target_year : int, optional
    citation : geo.citations.Citation, optional
        Where the target (or the official figure) is written: document, section and quote.
    official : bool
        True only when the value is the official statistic (user-supplied official layer);
        False for remote-sensing proxies.
    method : str
        How the value is computed, in words (layers, thresholds, weighting).
    layers : tuple of str
        Input layer names.
    """

    id: str
    name_zh: str
    name_en: str
    unit: str
    direction: str | None = None
    target: float | None = None
    target_year: int | None = None
    citation: Citation | None = None
    official: bool = False
    method: str = ""
    layers: tuple[str, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        """``"proxy"`` or ``"official"``: say it next to every value."""
        return "official" if self.official else "proxy"

    @property
    def cited(self) -> str:
        """The citation on one line (document, section, quotes), or ``""``."""
        return self.citation.text if self.citation else ""


def meets_target(value: float, indicator: Indicator) -> bool | None:
    """Whether ``value`` meets the indicator's target, honouring its direction.

    Returns
    -------
    bool or None
        None when there is no target or the value is NaN.
    """
    if indicator.target is None or indicator.direction is None or value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if indicator.direction == ">=":
        return value >= indicator.target
    if indicator.direction == "<=":
        return value <= indicator.target
    raise ValueError(f"indicator {indicator.id}: unknown direction {indicator.direction!r}")


def _ind(**kw) -> Indicator:
    return Indicator(**kw)


_REDLINE_METHOD = (
    "Calibrated proxy: without the official red-line polygons, a layer calibrated so that it "
    "covers 50.46 % of the region (the official share); the region-wide share agrees by "
    "construction, its location is not the red line. With the official polygons (--redline), "
    "the rows are marked official."
)
#: Sandified-land degrees: code in the ``sandified`` layer, English and Chinese names.
DEGREES = (("light", "轻度"), ("moderate", "中度"), ("severe", "重度"), ("extreme", "极重度"))

#: The indicators the toolkit computes, by id. Values are remote-sensing proxies unless the
#: user supplies the official layer (then ``official`` is set on the computed rows).
INDICATORS: dict[str, Indicator] = {
    i.id: i
    for i in (
        _ind(
            id="area",
            name_zh="面积",
            name_en="Area",
            unit="km2",
            method="area of the boundary polygon in the Albers equal-area CRS",
            official=False,
        ),
        _ind(
            id="fvc_mean_pct",
            name_zh="植被覆盖度（全部土地，遥感估算）",
            name_en="Fractional vegetation cover, all land (proxy)",
            unit="%",
            method=(
                "mean FVC of the valid land, each cell weighted by the ground area it covers "
                "(exact coverage × ellipsoidal cell area)"
            ),
            layers=("fvc",),
        ),
        _ind(
            id="grassland_fvc_pct",
            name_zh="草原综合植被盖度（遥感估算）",
            name_en="Grassland comprehensive vegetation coverage (proxy)",
            unit="%",
            direction=">=",
            target=45.0,
            target_year=2027,
            citation=CITATIONS["grassland_cover_2027"],
            method=(
                "mean FVC of the grassland (MODIS IGBP grassland cells), each cell weighted by "
                "the ground area it covers (exact coverage × ellipsoidal cell area)"
            ),
            layers=("fvc_grassland",),
        ),
        _ind(
            id="grassland_area",
            name_zh="草原面积（遥感估算）",
            name_en="Grassland area (proxy)",
            unit="km2",
            method="area of MODIS IGBP grassland cells",
            layers=("landcover_cn",),
        ),
        _ind(
            id="forest_cover_pct",
            name_zh="森林覆盖率（遥感估算）",
            name_en="Forest coverage rate (proxy)",
            unit="%",
            direction=">=",
            target=21.98,
            target_year=2027,
            citation=CITATIONS["forest_cover_2027"],
            method=(
                "(forest by China's definition + nationally specified shrub forest) / land area; "
                "forest = IGBP 1-5 and woody savanna 8, shrub forest = closed shrubland 6"
            ),
            layers=("landcover_cn",),
        ),
        _ind(
            id="forest_area",
            name_zh="森林面积（遥感估算）",
            name_en="Forest area (proxy)",
            unit="km2",
            method="area of forest and shrub-forest cells (China's definition)",
            layers=("landcover_cn",),
        ),
        _ind(
            id="igbp_forest_pct",
            name_zh="IGBP 森林类占比（对照）",
            name_en="IGBP forest classes share (comparison)",
            unit="%",
            method="IGBP forest classes 1-5 only / land area: shows the effect of the definition",
            layers=("landcover",),
        ),
        _ind(
            id="sandified_area",
            name_zh="沙化土地面积（遥感估算）",
            name_en="Sandified land area (proxy)",
            unit="km2",
            citation=CITATIONS["sandified_double_reduction"],
            method="area of sandified-land proxy cells, all degrees",
            layers=("sandified",),
        ),
        _ind(
            id="sandified_pct",
            name_zh="沙化土地占比（遥感估算）",
            name_en="Sandified land share (proxy)",
            unit="%",
            method="sandified-land proxy area / valid area",
            layers=("sandified",),
        ),
        _ind(
            id="redline_area",
            name_zh="生态保护红线面积（校准代理）",
            name_en="Ecological protection red line area (calibrated proxy)",
            unit="km2",
            citation=CITATIONS["redline_area"],
            method=_REDLINE_METHOD + " Value: area of the red-line layer inside the zone.",
            layers=("redline",),
        ),
        _ind(
            id="redline_pct",
            name_zh="生态保护红线占比（校准代理）",
            name_en="Ecological protection red line share (calibrated proxy)",
            unit="%",
            citation=CITATIONS["redline_share"],
            method=_REDLINE_METHOD + " Value: red-line area / zone area.",
            layers=("redline",),
        ),
        *(
            _ind(
                id=f"sandified_{degree}_area",
                name_zh=f"{zh}沙化土地面积（遥感估算）",
                name_en=f"Sandified land, {degree} (proxy)",
                unit="km2",
                method=f"area of {degree} sandified-land proxy cells (GB/T 24255-2009 thresholds)",
                layers=("sandified",),
            )
            for degree, zh in DEGREES
        ),
        _ind(
            id="treated_sandified_pct",
            name_zh="可治理沙化土地治理率",
            name_en="Treatment rate of treatable sandified land",
            unit="%",
            direction=">=",
            target=54.33,
            target_year=2027,
            citation=CITATIONS["sand_treatment_2027"],
            method="treated area within treatable sandified land / treatable sandified land area",
            layers=("treated", "treatable"),
        ),
    )
}


#: Detection limits of the proxies, by indicator: (area indicator, km²). The forest proxy is
#: the majority land-cover class of 0.05° cells (≈ 5.5 × 4 km, 19–25 km² across the region):
#: an area with less forest than one such cell cannot be told apart from one with none, so its
#: share gets no verdict and no rank (it is flagged ``below_detection``).
DETECTION_LIMITS = {"forest_cover_pct": ("forest_area", 25.0)}

#: Fewest grid cells a share or a mean may rest on to be judged and ranked (coverage-weighted
#: count of the valid cells the value is computed from: a cell half inside the zone counts ½;
#: for grassland cover, the grassland cells). A share over n cells moves in steps of 100/n
#: percentage points, and if the cells were independent draws its 95 % margin would reach
#: 1.96 × 50/√n points; n ≥ 25 keeps the steps at 4 points and that margin under 20 points
#: (neighbouring cells are alike, so the real margin is wider still). At 0.05° (19–25 km² a
#: cell) 25 cells are about 500–600 km². In the shipped boundaries twelve city districts of
#: 180–520 km² have 7.8–22.3 cells (Qingshan, Wuda, Kangbashi, Jining …: a handful of cells
#: gave shares such as "100 % sandified"); the next, Manzhouli, has 25.0; the smallest banner
#: over 1,000 km² has 43. Grassland cover is also flagged where a zone has little grassland
#: (Morin Dawa: 11 grassland cells). Values on fewer cells are flagged
#: ``<indicator>_few_cells``: no verdict, no rank, the reason written next to the value.
MIN_CELLS = 25.0

#: Verdict codes of ``<indicator>_verdict`` (the tables keep the code; tables for people show
#: the words, :func:`geo.tables.for_people`): (English, Chinese).
VERDICTS = {
    "met": ("met (robust)", "达标（稳健）"),
    "not_met": ("not met (robust)", "未达标（稳健）"),
    "uncertain": ("uncertain", "不确定"),
    "few_cells": ("too few cells: no verdict", "像元过少，不作判断"),
    "below_detection": ("below the detection limit: no verdict", "低于检出限，不作判断"),
    "no_data": ("no valid data", "无有效数据"),
}


def verdict(
    value: float, indicator: Indicator, low: float, high: float, flag: str | None = None
) -> str | None:
    """Verdict code of a value against its target, given the range over the method variants.

    Parameters
    ----------
    value : float
        The run's value (unit of the indicator).
    indicator : Indicator
        With a target and a direction; otherwise None is returned.
    low, high : float
        Lowest and highest value over the method variants (the run's own value included;
        NaN entries are ignored by the caller).
    flag : str, optional
        ``"few_cells"`` or ``"below_detection"``: the value is not judged.

    Returns
    -------
    str or None
        A key of :data:`VERDICTS`: ``"met"`` / ``"not_met"`` when every variant agrees,
        ``"uncertain"`` when the range straddles the target (one reasonable method says met,
        another not met).
    """
    if indicator.target is None or indicator.direction is None:
        return None
    if value is None or math.isnan(value):
        return "no_data"
    if flag:
        return flag
    lo = meets_target(min(low, value), indicator)
    hi = meets_target(max(high, value), indicator)
    if lo and hi:
        return "met"
    if not lo and not hi:
        return "not_met"
    return "uncertain"


def gap(value: float, indicator: Indicator) -> float:
    """Distance to the target in the indicator's unit, positive when the target is met.

    For ``">="`` indicators ``value − target``; for ``"<="`` ``target − value``; NaN without
    a target.
    """
    if indicator.target is None or indicator.direction is None or value is None:
        return math.nan
    diff = value - indicator.target
    return diff if indicator.direction == ">=" else -diff


def _share(part, whole):
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(whole > 0, 100.0 * part / whole, np.nan)
    # class areas are summed in another order than the valid area: absorb the last-bit excess
    return np.where((pct > 100.0) & (pct < 100.0 + 1e-9), 100.0, pct)


def _class_area(frame: pd.DataFrame, codes) -> np.ndarray:
    cols = [f"area_km2_{c}" for c in codes if f"area_km2_{c}" in frame.columns]
    return frame[cols].sum(axis=1).to_numpy() if cols else np.zeros(len(frame))


def overlay_area_km2(zones: gpd.GeoDataFrame, layer: gpd.GeoDataFrame) -> np.ndarray:
    """Area (km²) of ``layer``'s union inside each zone, in the equal-area CRS."""
    union = shapely.make_valid(shapely.union_all(layer.to_crs(EQUAL_AREA).geometry.values))
    geoms = zones.to_crs(EQUAL_AREA).geometry.values
    return shapely.area(shapely.intersection(geoms, union)) / 1e6


def compute(
    zones: gpd.GeoDataFrame,
    layer_paths: dict[str, Path],
    *,
    redline: gpd.GeoDataFrame | None = None,
    treated: gpd.GeoDataFrame | None = None,
    treatable: gpd.GeoDataFrame | None = None,
    cache_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Compute every indicator for a zone set, as one tidy (long) table.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        From :func:`geo.zones.load` (``adcode`` or ``zone`` identifiers, names, level, area).
    layer_paths : dict
        Paths of the derived GeoTIFFs by name (``fvc``, ``fvc_grassland``, ``landcover_cn``,
        ``sandified``, ``redline_proxy``) and of the shipped ``landcover``; all on one grid.
    redline : geopandas.GeoDataFrame, optional
        The official red-line polygons; without them the labelled proxy layer is used.
    treated, treatable : geopandas.GeoDataFrame, optional
        Treated and treatable sandified land polygons; both are needed for R3.
    cache_dir : path, optional
        On-disk coverage cache.

    Returns
    -------
    pandas.DataFrame
        One row per (zone, indicator): ``id`` (adcode or zone), ``name_zh``, ``name_en``,
        ``level``, ``indicator``, ``value``, ``unit``, ``target``, ``direction``,
        ``meets_target`` (None below the detection limit or on too few cells), ``gap``,
        ``below_detection``, ``cells`` (coverage-weighted count of the grid cells the value
        rests on; NaN for areas and for values from polygons), ``few_cells`` (fewer than
        :data:`MIN_CELLS`), ``official``, ``method``.
    """
    import rasterio

    from geo.grid import Grid
    from geo.zonal import Coverage, zonal_stats

    with rasterio.open(layer_paths["fvc"]) as ds:
        grid = Grid.from_dataset(ds)
    coverage = Coverage.load_or_build(zones, grid, "exact", cache_dir)

    def stats(name, **kw):
        return zonal_stats(zones, layer_paths[name], coverage=coverage, **kw)

    # "mean cover of the area": every cell weighs the ground it covers (area_mean), not its
    # coverage fraction alone (a cell at 37° N is 1.36× the ground of one at 54° N)
    fvc = stats("fvc", stats=("count", "area_mean"))
    grass = stats("fvc_grassland", stats=("count", "area_mean"))
    cn = stats("landcover_cn", stats=("count",), categorical=True)
    igbp = stats("landcover", stats=("count",), categorical=True)
    sand = stats("sandified", stats=("count",), categorical=True)
    land = cn["valid_area_km2"].to_numpy()
    red = stats("redline_proxy", stats=("count",), categorical=True) if redline is None else None
    # how many cells each share or mean rests on (coverage-weighted valid cells)
    cells = {
        "fvc_mean_pct": fvc["count"],
        "grassland_fvc_pct": grass["count"],
        "forest_cover_pct": cn["count"],
        "igbp_forest_pct": igbp["count"],
        "sandified_pct": sand["count"],
        **({"redline_pct": red["count"]} if red is not None else {}),
    }
    forest = _class_area(cn, (1, 2))
    values = {
        "area": zones["area_km2"].to_numpy() if "area_km2" in zones else area_km2(zones),
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
    official = {}
    if redline is not None:
        red_area = overlay_area_km2(zones, redline)
        values["redline_area"], values["redline_pct"] = red_area, _share(red_area, area_km2(zones))
        official.update(redline_area=True, redline_pct=True)
    else:
        values["redline_area"] = _class_area(red, (1,))
        values["redline_pct"] = _share(values["redline_area"], red["valid_area_km2"].to_numpy())
    if treated is not None and treatable is not None:
        both = overlay_area_km2(
            zones, gpd.overlay(treated, treatable.to_crs(treated.crs), how="intersection")
        )
        values["treated_sandified_pct"] = _share(both, overlay_area_km2(zones, treatable))
        official["treated_sandified_pct"] = True
    long = _long(zones, values, official, cells)
    # a tuple: pandas compares attrs when it concatenates tables
    long.attrs["zone_cells"] = tuple(_zone_cells(coverage).tolist())
    return long


def _zone_cells(coverage) -> np.ndarray:
    """Coverage-weighted number of grid cells of each zone (sum of covered fractions)."""
    n = coverage.n_zones
    whole = np.bincount(
        coverage.run_zone, weights=coverage.run_end - coverage.run_start, minlength=n
    )
    return whole + np.bincount(coverage.cell_zone, weights=coverage.cell_weight, minlength=n)


def _long(
    zones: gpd.GeoDataFrame, values: dict, official: dict, cells: dict | None = None
) -> pd.DataFrame:
    id_col = "adcode" if "adcode" in zones.columns else "zone"
    base = pd.DataFrame(zones[[id_col, "name_zh", "name_en", "level"]]).reset_index(drop=True)
    base = base.rename(columns={id_col: "id"})
    frames = []
    for key, vals in values.items():
        ind = INDICATORS[key]
        frame = base.copy()
        frame["indicator"] = key
        frame["value"] = np.asarray(vals, dtype="float64")
        frame["unit"] = ind.unit
        frame["target"] = ind.target if ind.target is not None else np.nan
        frame["direction"] = ind.direction or ""
        frame["meets_target"] = [meets_target(v, ind) for v in frame["value"]]
        frame["below_detection"] = False
        if key in DETECTION_LIMITS and DETECTION_LIMITS[key][0] in values:
            area, limit = DETECTION_LIMITS[key]
            faint = np.asarray(values[area], dtype="float64") < limit
            frame["below_detection"] = faint
            frame["meets_target"] = frame["meets_target"].astype(object).where(~faint, None)
        # values from polygons (official layers) rest on no cells
        based = (cells or {}).get(key) if key not in official else None
        frame["cells"] = np.nan if based is None else np.asarray(based, dtype="float64")
        few = (frame["cells"] < MIN_CELLS).to_numpy()  # NaN (no cells counted) is not few
        frame["few_cells"] = few
        frame["meets_target"] = frame["meets_target"].astype(object).where(~few, None)
        frame["gap"] = [gap(v, ind) for v in frame["value"]]
        frame["official"] = official.get(key, ind.official)
        frame["method"] = ind.method
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
    every = own if variants is None else pd.concat([own, variants[own.columns]])
    spread = every.groupby(["id", "indicator"], sort=False)["value"].agg(["min", "max"])
    keys = pd.MultiIndex.from_frame(out[["id", "indicator"]])
    out["variant_min"] = spread["min"].reindex(keys).to_numpy()
    out["variant_max"] = spread["max"].reindex(keys).to_numpy()
    codes = []
    for row in out.itertuples(index=False):
        ind = INDICATORS[row.indicator]
        flag = "below_detection" if row.below_detection else "few_cells" if row.few_cells else None
        codes.append(verdict(row.value, ind, row.variant_min, row.variant_max, flag) or "")
    out["verdict"] = codes
    targeted = out["verdict"] != ""
    for col in ("variant_min", "variant_max"):
        out[col] = out[col].where(targeted)
    return out


def overlaps(zones: gpd.GeoDataFrame, min_km2: float = 0.01) -> pd.DataFrame:
    """Which zones of a set overlap which others, and by how much (polygon areas).

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        A zone set (``zone`` or ``adcode`` identifiers), any CRS.
    min_km2 : float
        Shared areas below this (km²) are slivers of boundary noise and are ignored.

    Returns
    -------
    pandas.DataFrame
        Same index as ``zones``: ``overlaps_with`` (``"<id> (<km²> km²); …"``, empty when
        none) and ``overlap_area_km2`` (area of the zone that lies in at least one other
        zone of the set, km² in the equal-area CRS; counted once however many others).
    """
    id_col = "zone" if "zone" in zones.columns else "adcode"
    ids = zones[id_col].astype(str).to_numpy()
    geoms = shapely.make_valid(zones.to_crs(EQUAL_AREA).geometry.to_numpy())
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    shared = shapely.intersection(geoms[left], geoms[right])
    km2 = shapely.area(shared) / 1e6
    said: list[list[str]] = [[] for _ in ids]
    pieces: list[list] = [[] for _ in ids]
    for i, j, a, g in zip(left, right, km2, shared, strict=True):
        if a < min_km2:
            continue
        said[i].append(f"{ids[j]} ({a:,.1f} km²)")
        said[j].append(f"{ids[i]} ({a:,.1f} km²)")
        pieces[i].append(g)
        pieces[j].append(g)
    area = [shapely.area(shapely.union_all(p)) / 1e6 if p else 0.0 for p in pieces]
    return pd.DataFrame(
        {"overlaps_with": ["; ".join(s) for s in said], "overlap_area_km2": area},
        index=zones.index,
    )


def wide(long: pd.DataFrame, id_name: str = "adcode") -> pd.DataFrame:
    """Pivot a :func:`compute` table to one row per zone, as in the report's tables.

    Area indicators become ``<id>_km2``, ``<id>_ha`` and ``<id>_mu``; percentages keep their
    ``_pct`` id; indicators with a target get ``<id>_meets_target`` and ``<id>_gap`` and, after
    :func:`add_verdicts`, ``<id>_verdict``, ``<id>_variant_min`` and ``<id>_variant_max``.
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
        ind = INDICATORS[key]
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
        if key in DETECTION_LIMITS and "below_detection" in group:
            table[f"{key}_below_detection"] = rows["below_detection"]
        if "cells" in rows and rows["cells"].notna().any():
            if key == "grassland_fvc_pct":  # the grassland cells, not the zone's
                table[f"{key}_cells"] = rows["cells"]
            table[f"{key}_few_cells"] = rows["few_cells"].astype(bool)
    return table.reset_index().rename(columns={"id": id_name})
