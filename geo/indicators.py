"""Indicator definitions: what each number means, its unit, target and provenance.

Each indicator is data (an :class:`Indicator`), not code scattered around: identifier, Chinese
and English names, unit, direction of the target comparison, target value and year, the plan
line it comes from, whether the toolkit's value is an official statistic or a remote-sensing
proxy, the method in words, and where presentation shows it (flags read by :func:`headline`,
:func:`mapped`, :func:`printed`, :func:`charted`, :func:`sensitive`). The computation
(:func:`compute`, :func:`add_verdicts`, :func:`wide`) lives in :mod:`geo.indicatortables` and
is served from here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

from geo.citations import CITATIONS, Citation
from geo.overlays import overlaps, overlay_area_km2

#: Names computed in :mod:`geo.indicatortables`, served from here (imported on first use).
_TABLES = ("add_verdicts", "compute", "wide")

__all__ = [
    *_TABLES,
    "DEGREES",
    "DETECTION_LIMITS",
    "INDICATORS",
    "MIN_CELLS",
    "OFFICIAL_CAPABLE",
    "PROXY_TWINS",
    "VERDICTS",
    "Indicator",
    "charted",
    "definition",
    "gap",
    "headline",
    "mapped",
    "marked",
    "official_name",
    "meets_target",
    "overlaps",
    "overlay_area_km2",
    "printed",
    "proxy_id",
    "sensitive",
    "targeted",
    "verdict",
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
    headline, mapped, printed, charted, sensitive : int
        Where presentation shows the indicator, as its position in that list (1 first; 0:
        not shown there): ``headline`` the key columns of summaries, ``mapped`` a web map per
        banner, ``printed`` a print map per banner, ``charted`` a bar chart per league;
        ``sensitive`` is recomputed under the method variants (``geo.pipeline.SENSITIVITY``).
        Read them with :func:`headline`, :func:`mapped`, :func:`printed`, :func:`charted`
        and :func:`sensitive`.
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
    headline: int = 0
    mapped: int = 0
    printed: int = 0
    charted: int = 0
    sensitive: int = 0

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
            mapped=3,
            sensitive=2,
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
            headline=1,
            mapped=1,
            printed=1,
            charted=1,
            sensitive=1,
        ),
        _ind(
            id="grassland_area",
            name_zh="草原面积（遥感估算）",
            name_en="Grassland area (proxy)",
            unit="km2",
            method="area of MODIS IGBP grassland cells",
            layers=("landcover_cn",),
        ),
        # -- landcover helper: only computed with a fine land-cover raster (--landcover)
        _ind(
            id="cropland_area",
            name_zh="耕地面积（遥感估算）",
            name_en="Cropland area (proxy)",
            unit="km2",
            method=(
                "area of the cropland classes of the user's land-cover raster (--landcover, "
                "exact class areas on its own grid); computed only with --landcover"
            ),
            layers=("landcover_user",),
        ),
        # -- end landcover helper
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
            headline=2,
            mapped=2,
            printed=2,
            charted=2,
            sensitive=3,
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
            headline=3,
            mapped=4,
            printed=3,
            sensitive=4,
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
            headline=4,
            mapped=5,
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


#: Indicators an official layer can replace (``--forest``, ``--grassland``, ``--sandified``,
#: ``--redline``; see :mod:`geo.official`).
OFFICIAL_CAPABLE = (
    "forest_area",
    "forest_cover_pct",
    "grassland_area",
    "grassland_fvc_pct",
    "sandified_area",
    "sandified_pct",
    *(f"sandified_{degree}_area" for degree, _zh in DEGREES),
    "redline_area",
    "redline_pct",
)


def proxy_id(key: str) -> str:
    """Id of the proxy kept beside an official value (``forest_cover_proxy_pct`` …).

    Shares keep their ``_pct`` ending and areas get ``_proxy`` before the unit columns
    (``forest_area`` → ``forest_area_proxy_km2`` …), as the table convention wants.
    """
    return f"{key.removesuffix('_pct')}_proxy_pct" if key.endswith("_pct") else f"{key}_proxy"


#: The proxies kept beside official values, by id (:func:`proxy_id`): the proxy's definition,
#: without a target (the official value is the one judged) and shown nowhere by itself.
PROXY_TWINS: dict[str, Indicator] = {
    proxy_id(key): replace(
        INDICATORS[key],
        id=proxy_id(key),
        name_zh=f"{INDICATORS[key].name_zh}（对照）",
        name_en=f"{INDICATORS[key].name_en}, beside the official value",
        direction=None,
        target=None,
        target_year=None,
        headline=0,
        mapped=0,
        printed=0,
        charted=0,
        sensitive=0,
    )
    for key in OFFICIAL_CAPABLE
}


def definition(key: str) -> Indicator:
    """The definition of an indicator id or of a proxy kept beside an official value.

    Raises
    ------
    KeyError
        Neither an indicator nor a proxy twin.
    """
    return INDICATORS[key] if key in INDICATORS else PROXY_TWINS[key]


_PROXY_MARK = re.compile(r"\((?:calibrated )?proxy\)|（(?:遥感估算|校准代理)）")


def official_name(text: str) -> str:
    """A name with its proxy mark made official (``(proxy)`` → ``(official)``, ``（官方）``)."""
    return _PROXY_MARK.sub(lambda m: "（官方）" if m[0].startswith("（") else "(official)", text)


def all_official(key: str, table) -> bool:
    """Whether every value of ``key`` in ``table`` (a table or one row) is official.

    Official: its ``<key>_basis`` column says ``official`` (an official layer's value).
    """
    if not hasattr(table, "get"):
        return False
    # a column made from an indicator's value (its verdict, its gap) shares its basis
    owner = max((k for k in INDICATORS if key.startswith(f"{k}_")), key=len, default=key)
    basis = table.get(f"{key}_basis", table.get(f"{owner}_basis"))
    values = basis.tolist() if hasattr(basis, "tolist") else [basis]
    return bool(values) and all(v == "official" for v in values)


def official_if(text: str, key: str, table) -> str:
    """``text``, a label of column ``key``, marked official where ``table``'s values are.

    Unchanged when some value is a proxy (:func:`all_official`) or without a table.
    """
    return official_name(text) if table is not None and all_official(key, table) else text


def marked(key: str, table) -> Indicator:
    """The definition of ``key`` as ``table`` holds it: official when its values all are.

    Parameters
    ----------
    key : str
        An indicator id.
    table : pandas.DataFrame
        A wide table (:func:`wide`); its ``<key>_basis`` column says ``official`` where the
        value came from an official layer (:mod:`geo.official`).

    Returns
    -------
    Indicator
        The definition, or a copy named and labelled official (method: the official layer).
    """
    ind = definition(key)
    if not all_official(key, table):
        return ind
    return replace(
        ind,
        official=True,
        name_en=official_name(ind.name_en),
        name_zh=official_name(ind.name_zh),
        method="the official layer given by the user, intersected exactly with each zone",
    )


def _flagged(flag: str) -> tuple[str, ...]:
    shown = [(getattr(ind, flag), key) for key, ind in INDICATORS.items() if getattr(ind, flag)]
    return tuple(key for _, key in sorted(shown))


def headline() -> tuple[str, ...]:
    """Ids of the headline indicators (the key columns of summaries), in order.

    Examples
    --------
    >>> headline()
    ('grassland_fvc_pct', 'forest_cover_pct', 'sandified_pct', 'redline_pct')
    """
    return _flagged("headline")


def mapped() -> tuple[str, ...]:
    """Ids of the indicators that get a web map per banner, in order."""
    return _flagged("mapped")


def printed() -> tuple[str, ...]:
    """Ids of the indicators that get a print map (figure) per banner, in order."""
    return _flagged("printed")


def charted() -> tuple[str, ...]:
    """Ids of the indicators that get a bar chart per league, in order."""
    return _flagged("charted")


def sensitive() -> tuple[str, ...]:
    """Ids of the method-sensitive indicators (recomputed under each method variant), in order.

    Examples
    --------
    >>> sensitive()
    ('grassland_fvc_pct', 'fvc_mean_pct', 'forest_cover_pct', 'sandified_pct')
    """
    return _flagged("sensitive")


def targeted() -> tuple[str, ...]:
    """Ids of the indicators with a target (and so a verdict), in :data:`INDICATORS` order."""
    return tuple(key for key, ind in INDICATORS.items() if ind.target is not None)


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


def __getattr__(name: str):
    if name in _TABLES:
        from geo import indicatortables

        return getattr(indicatortables, name)
    raise AttributeError(f"module 'geo.indicators' has no attribute {name!r}")
