"""Value classes, palettes, number formatting and labels shared by web maps and print figures.

The web maps are :mod:`geo.maps.interactive`, the print figures :mod:`geo.maps.static`.

Nothing here draws or loads: these are the rules that make a web map and a print figure of the
same indicator show the same classes, colours, units and target text.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from branca.utilities import color_brewer

from geo.errors import DataError, GeoError
from geo.indicators import Indicator

__all__ = [
    "BATTLE_COLOURS",
    "DEGREE_COLOURS",
    "GOOD_END",
    "LABELS",
    "LABEL_PAIRS",
    "LANGS",
    "NODATA_COLOUR",
    "RAMPS",
    "Classes",
    "bi",
    "check_lang",
    "class_label",
    "classify",
    "fmt",
    "fmt_unit",
    "good_end",
    "indicator_title",
    "map_classes",
    "palette",
    "ramp",
    "target_text",
]

#: Kind of number of an indicator, in both languages (legends and source lines).
LABELS = {"proxy": "遥感代理 remote-sensing proxy", "official": "官方统计 official"}
LABEL_PAIRS = {"proxy": ("遥感代理", "remote-sensing proxy"), "official": ("官方统计", "official")}
#: Languages of the map texts (``--lang``): Chinese, English or both (Chinese first).
LANGS = ("both", "zh", "en")


def bi(zh: str, en: str, lang: str = "both") -> str:
    """A label in ``lang``: ``"zh en"`` (both, Chinese first), ``zh`` or ``en``.

    Parameters
    ----------
    zh, en : str
        The Chinese and English label.
    lang : {"both", "zh", "en"}
        Language of the map texts.

    Returns
    -------
    str

    Examples
    --------
    >>> bi("森林覆盖率", "forest cover")
    '森林覆盖率 forest cover'
    >>> bi("森林覆盖率", "forest cover", "en")
    'forest cover'
    """
    if lang == "zh":
        return zh
    if lang == "en":
        return en
    return f"{zh} {en}" if zh and en else zh or en


def check_lang(lang: str) -> None:
    """Refuse a map language other than :data:`LANGS`.

    Parameters
    ----------
    lang : str
        The language asked for (``--lang``).

    Raises
    ------
    geo.errors.GeoError
        Unknown language.
    """
    if lang not in LANGS:
        raise GeoError(f"unknown map language {lang!r}; use one of {', '.join(LANGS)}")


#: Fill of a zone without a value.
NODATA_COLOUR = "#d9d9d9"

# --------------------------------------------------------------------------- classes


@dataclass(frozen=True)
class Classes:
    """Value classes of a choropleth.

    Attributes
    ----------
    edges : numpy.ndarray
        ``k + 1`` increasing class edges.
    colours : list of str
        ``k`` hex colours.
    meets : list of bool or None
        Per class, whether it meets the target (None without a target).
    right : bool
        A value equal to an interior edge goes to the upper class (``True``, targets of the
        ``">="`` kind) or to the lower one (``False``, ``"<="``).
    """

    edges: np.ndarray
    colours: list[str]
    meets: list[bool | None]
    right: bool = True

    def index(self, values: Sequence[float]) -> np.ndarray:
        """Class number of each value, ``-1`` for missing values."""
        values = np.asarray(values, dtype="float64")
        side = "right" if self.right else "left"
        idx = np.searchsorted(self.edges[1:-1], values, side=side)
        return np.where(np.isfinite(values), idx, -1)

    def colour(self, values: Sequence[float]) -> list[str]:
        """Fill colour of each value (grey for missing values)."""
        return [self.colours[i] if i >= 0 else NODATA_COLOUR for i in self.index(values)]


def palette(name: str, n: int) -> list[str]:
    """``n`` hex colours spread over the ColorBrewer ramp ``name`` (light to dark).

    Parameters
    ----------
    name : str
        A ColorBrewer ramp (``"YlGn"`` …).
    n : int
        Number of colours.

    Returns
    -------
    list of str
        ``"#rrggbb"`` colours.
    """
    full = color_brewer(name, max(n, 3))
    return [full[i] for i in np.linspace(0, len(full) - 1, n).round().astype(int)]


def _quantile_edges(values: np.ndarray, k: int) -> np.ndarray:
    return np.quantile(values, np.linspace(0.0, 1.0, k + 1))


def _target_classes(values: np.ndarray, indicator: Indicator, k: int) -> Classes:
    target = float(indicator.target)
    up = indicator.direction == ">="
    good = values >= target if up else values <= target
    bad_vals, good_vals = values[~good], values[good]
    k_bad = min(max(k // 2, 1), np.unique(bad_vals).size)
    k_good = min(max(k - k_bad, 1), np.unique(good_vals).size)
    reds, greens = color_brewer("RdYlGn", 10)[:5], color_brewer("RdYlGn", 10)[5:]
    pick = (
        (lambda seq, n: [seq[i] for i in np.linspace(0, 4, n).round().astype(int)]) if k else None
    )
    bad_edges = _quantile_edges(bad_vals, k_bad) if k_bad else np.array([target])
    good_edges = _quantile_edges(good_vals, k_good) if k_good else np.array([target])
    if up:  # bad classes below the target, darkest red furthest away
        edges = np.concatenate([bad_edges[:-1], [target], good_edges[1:]])
        colours = pick(reds, k_bad) if k_bad else []
        colours += pick(greens, k_good) if k_good else []
        meets = [False] * k_bad + [True] * k_good
    else:  # good classes below the target, darkest green furthest away
        edges = np.concatenate([good_edges[:-1], [target], bad_edges[1:]])
        colours = pick(greens, k_good)[::-1] if k_good else []
        colours += pick(reds, k_bad)[::-1] if k_bad else []
        meets = [True] * k_good + [False] * k_bad
    return Classes(edges=edges, colours=colours, meets=meets, right=up)


def classify(
    values: Sequence[float],
    indicator: Indicator | None = None,
    *,
    scheme: str = "quantiles",
    k: int = 5,
) -> Classes:
    """Classify values for a choropleth.

    With an indicator that has a target and a direction, the classes are centred on the
    target: the target is a class edge, classes that miss it are red, classes that meet it
    green (darker further from the target). Otherwise :func:`mapclassify.classify` with
    ``scheme`` (``"quantiles"``, ``"natural_breaks"``, ``"fisher_jenks"``,
    ``"equal_interval"`` …) and the sequential ramp of the print figures
    (:data:`geo.maps.static.RAMPS`): light to dark green when higher is better, light to dark
    brown when lower is better (sandified share), light to dark blue when neither is.

    Parameters
    ----------
    values : array_like
        Values; NaN are ignored.
    indicator : geo.indicators.Indicator, optional
    scheme : str
    k : int
        Number of classes (fewer when there are fewer distinct values).

    Returns
    -------
    Classes
        The class edges (in the unit of ``values``), colours and target verdicts.

    Raises
    ------
    geo.errors.DataError
        No finite value.
    """
    values = np.asarray(values, dtype="float64")
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise DataError("the map column has no values (all missing); nothing to colour")
    if indicator is not None and indicator.target is not None and indicator.direction:
        return _target_classes(finite, indicator, k)
    n_unique = np.unique(finite).size
    k = max(1, min(k, n_unique))
    if n_unique == 1:
        edges = np.array([finite[0], finite[0]])
    else:
        import mapclassify  # slow to import: only when needed

        try:
            bins = mapclassify.classify(finite, scheme, k=k).bins
        except (KeyError, ValueError) as exc:
            raise GeoError(f"unknown classification scheme {scheme!r}: {exc}") from None
        edges = np.concatenate([[finite.min()], bins])
    colours = palette(RAMPS[good_end(indicator)], len(edges) - 1)
    return Classes(edges=edges, colours=colours, meets=[None] * (len(edges) - 1))


# --------------------------------------------------------------------------- formatting


def fmt(value: float, unit: str = "") -> str:
    """A number for a map or a legend, with its unit; ``–`` for a missing value.

    At most 3 significant digits (``1,234``, ``12.3``, ``1.23``), thousands separated; the
    unit as printed (``km2`` → km², ``pct`` → %).

    Parameters
    ----------
    value : float or None
        The number, in ``unit``.
    unit : str
        Its unit (``km2``, ``pct``, ``%``, ``ha`` …; empty: none).

    Returns
    -------
    str

    Examples
    --------
    >>> fmt(1234.5, "km2")
    '1,234 km²'
    >>> fmt(12.345, "%")
    '12.3 %'
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    mag = abs(value)
    text = f"{value:,.0f}" if mag >= 100 else f"{value:,.1f}" if mag >= 10 else f"{value:,.2f}"
    unit = {"km2": "km²", "pct": "%"}.get(unit, unit)
    return f"{text} %" if unit == "%" else f"{text} {unit}".rstrip()


def indicator_title(
    column: str, indicator: Indicator | None, lang: str = "both"
) -> tuple[str, str]:
    """The title and unit of a mapped column: the indicator's names in ``lang``, else the column.

    Parameters
    ----------
    column : str
        The mapped column.
    indicator : geo.indicators.Indicator or None
        Its indicator, if any.
    lang : {"both", "zh", "en"}
        Language of the title.

    Returns
    -------
    tuple of str
        The title and the unit (``pct``, ``km2`` …; empty without an indicator).
    """
    if indicator is None:
        return column, ""
    return bi(indicator.name_zh, indicator.name_en, lang), indicator.unit


def target_text(indicator: Indicator | None, lang: str = "both") -> str:
    """``Target: ≥ 21.98 % (2027)`` in ``lang``, or ``""`` for an indicator without target.

    Parameters
    ----------
    indicator : geo.indicators.Indicator or None
        The indicator (target in its unit, direction and year).
    lang : {"both", "zh", "en"}
        Language of the text.

    Returns
    -------
    str
    """
    if indicator is None or indicator.target is None or not indicator.direction:
        return ""
    year = f" ({indicator.target_year})" if indicator.target_year else ""
    sign = "≥" if indicator.direction == ">=" else "≤"
    return f"{bi('目标', 'Target', lang)}: {sign} {fmt(indicator.target, indicator.unit)}{year}"


def fmt_unit(unit: str) -> str:
    """A unit as printed: ``km2`` → ``km²``, ``pct`` → ``%``, others unchanged.

    Parameters
    ----------
    unit : str
        A unit as the tables name it.

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_unit("km2"), fmt_unit("pct"), fmt_unit("ha")
    ('km²', '%', 'ha')
    """
    return {"km2": "km²", "pct": "%"}.get(unit, unit)


#: Ordinal colours of the sandified-degree codes (0 = not sandified … 4 = extreme): light to
#: dark brown, one hue family (ColorBrewer YlOrBr), so that a darker cell is always worse.
DEGREE_COLOURS = {0: "#f7f4ea", 1: "#fee391", 2: "#fe9929", 3: "#cc4c02", 4: "#662506"}
#: Which end of an indicator is good when its definition carries no target direction:
#: ``"higher"`` (more cover is better), ``"lower"`` (less sandified land is better) or None
#: (neither: area, red-line share). Indicators with a target use their ``direction``.
GOOD_END = {
    "fvc_mean_pct": "higher",
    "grassland_fvc_pct": "higher",
    "grassland_area": "higher",
    "forest_cover_pct": "higher",
    "forest_area": "higher",
    "igbp_forest_pct": "higher",
    "treated_sandified_pct": "higher",
    "sandified_area": "lower",
    "sandified_pct": "lower",
    **{f"sandified_{d}_area": "lower" for d in ("light", "moderate", "severe", "extreme")},
}
#: Sequential ColorBrewer ramps, light to dark: good values dark green, bad ones dark brown,
#: neither blue.
RAMPS = {"higher": "YlGn", "lower": "YlOrBr", None: "Blues"}
#: Fixed colours of the three battle zones (ColorBrewer Set2), so each zone keeps its colour.
BATTLE_COLOURS = {
    "jizhiwan": "#e5c494",
    "horqin_hunshandake": "#8da0cb",
    "hexi_taklimakan": "#fc8d62",
}


def good_end(indicator: Indicator | None) -> str | None:
    """``"higher"``, ``"lower"`` or None: which values of the indicator are good.

    From the target's direction when there is one (``">="`` → higher), else from
    :data:`GOOD_END`.

    Parameters
    ----------
    indicator : geo.indicators.Indicator or None
        The indicator (None: neither end).

    Returns
    -------
    str or None
    """
    if indicator is None:
        return None
    if indicator.direction in (">=", "<="):
        return "higher" if indicator.direction == ">=" else "lower"
    return GOOD_END.get(indicator.id)


def ramp(indicator: Indicator | None, n: int) -> list[str]:
    """``n`` hex colours, light to dark, for increasing values of ``indicator``.

    Dark means good (green) when higher values are better, bad (brown) when lower values are
    better, and is blue when neither is (see :func:`good_end`).

    Parameters
    ----------
    indicator : geo.indicators.Indicator or None
        The indicator whose good end sets the ramp.
    n : int
        Number of colours.

    Returns
    -------
    list of str
        ``"#rrggbb"`` colours.
    """
    return palette(RAMPS[good_end(indicator)], max(n, 1))[:n]


def map_classes(values: np.ndarray, indicator: Indicator | None, scheme: str, k: int):
    """Classes of :func:`geo.maps.interactive.classify` without empty classes.

    When the classes are not centred on a target, they take the ramp of the indicator's
    good/bad direction (:func:`ramp`).

    Parameters
    ----------
    values : numpy.ndarray
        The mapped values (NaN ignored), in the indicator's unit.
    indicator : geo.indicators.Indicator or None
        The indicator (target, direction, good end).
    scheme : str
        A :func:`mapclassify.classify` scheme, for classes not centred on a target.
    k : int
        Number of classes asked for.

    Returns
    -------
    Classes
    """
    classes = _drop_empty(classify(values, indicator, scheme=scheme, k=k), values)
    if classes.meets[0] is None:  # no target: a sequential ramp in the good/bad direction
        classes = dataclasses.replace(classes, colours=ramp(indicator, len(classes.colours)))
    return classes


def _drop_empty(classes, values: np.ndarray):
    """Remove classes that hold no value (``0.00 – 0.00 %`` in a legend says nothing).

    An empty class is merged into a neighbour by removing one of its edges; no value changes
    class, and a target edge (between a class that meets the target and one that does not) is
    never removed.
    """
    edges, colours, meets = list(classes.edges), list(classes.colours), list(classes.meets)
    while len(colours) > 1:
        current = dataclasses.replace(classes, edges=np.asarray(edges), colours=colours,
                                      meets=meets)  # fmt: skip
        idx = current.index(values)
        counts = np.bincount(idx[idx >= 0], minlength=len(colours))
        empty = np.flatnonzero(counts == 0)
        if empty.size == 0:
            break
        i = int(empty[0])
        # keep the edge between classes of different verdicts (the target)
        upper_is_target = i + 1 < len(colours) and meets[i + 1] != meets[i]
        drop_edge = i if (upper_is_target or i + 1 == len(colours)) and i > 0 else i + 1
        if i == 0 and upper_is_target:
            drop_edge = 0
        del edges[drop_edge]
        del colours[i]
        del meets[i]
    return dataclasses.replace(classes, edges=np.asarray(edges), colours=colours, meets=meets)


def class_label(lo: float, hi: float, unit: str) -> str:
    """A legend row of the class ``lo``–``hi`` (one value when both print alike), with unit.

    Parameters
    ----------
    lo, hi : float
        The class edges, in ``unit``.
    unit : str
        Unit of the values (``km2``, ``pct`` …), printed after the upper edge.

    Returns
    -------
    str

    Examples
    --------
    >>> class_label(10.0, 20.0, "pct")
    '10.0 – 20.0 %'
    """
    if fmt(lo) == fmt(hi):  # a class of one value (e.g. all zeros)
        return fmt(lo, unit)
    return f"{fmt(lo)} – {fmt(hi, unit)}"
