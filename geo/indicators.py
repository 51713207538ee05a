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
    "Indicator",
    "compute",
    "gap",
    "meets_target",
    "overlay_area_km2",
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
        ``meets_target`` (None below the detection limit), ``gap``, ``below_detection``,
        ``official``, ``method``.
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
        red = stats("redline_proxy", stats=("count",), categorical=True)
        values["redline_area"] = _class_area(red, (1,))
        values["redline_pct"] = _share(values["redline_area"], red["valid_area_km2"].to_numpy())
    if treated is not None and treatable is not None:
        both = overlay_area_km2(
            zones, gpd.overlay(treated, treatable.to_crs(treated.crs), how="intersection")
        )
        values["treated_sandified_pct"] = _share(both, overlay_area_km2(zones, treatable))
        official["treated_sandified_pct"] = True
    return _long(zones, values, official)


def _long(zones: gpd.GeoDataFrame, values: dict, official: dict) -> pd.DataFrame:
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
        frame["gap"] = [gap(v, ind) for v in frame["value"]]
        frame["official"] = official.get(key, ind.official)
        frame["method"] = ind.method
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def wide(long: pd.DataFrame, id_name: str = "adcode") -> pd.DataFrame:
    """Pivot a :func:`compute` table to one row per zone, as in the report's tables.

    Area indicators become ``<id>_km2``, ``<id>_ha`` and ``<id>_mu``; percentages keep their
    ``_pct`` id; indicators with a target get ``<id>_meets_target`` and ``<id>_gap``.
    """
    keys = ["id", "name_zh", "name_en", "level"]
    table = long[keys].drop_duplicates("id").set_index("id")
    for key, group in long.groupby("indicator", sort=False):
        series = group.set_index("id")["value"]
        ind = INDICATORS[key]
        if ind.unit == "km2":
            for col, vals in area_columns(key, series.to_numpy()).items():
                table[col] = pd.Series(vals, index=series.index)
        else:
            table[key] = series
        if ind.target is not None:
            table[f"{key}_meets_target"] = group.set_index("id")["meets_target"]
            table[f"{key}_gap"] = group.set_index("id")["gap"]
        if key in DETECTION_LIMITS and "below_detection" in group:
            table[f"{key}_below_detection"] = group.set_index("id")["below_detection"]
    return table.reset_index().rename(columns={"id": id_name})
