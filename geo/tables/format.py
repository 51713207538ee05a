"""Tables for people: areas in a unit, numbers rounded per column unit, 是/否, header language."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from geo.errors import UsageError
from geo.tables.labels import (
    BASIS_ZH,
    CLASS_NAMES_ZH,
    LEVELS_ZH,
    YES_NO,
    check_lang,
    column_label,
    official_column,
    verdict_text,
)
from geo.units import DECIMALS, UNITS, convert, normalise_unit

__all__ = [
    "FRACTION_DECIMALS",
    "PCT_DECIMALS",
    "SIGNIFICANT",
    "UNIT_RE",
    "column_rule",
    "for_people",
    "in_units",
    "round_table",
    "with_wanmu",
]


def in_units(frame: pd.DataFrame, unit: str) -> pd.DataFrame:
    """Convert every ``*area_km2*`` column to ``unit`` (one of :data:`geo.units.AREA_UNITS`).

    The column is renamed (``valid_area_km2`` → ``valid_area_wanmu``); the factor is exact
    (:func:`geo.units.convert`).

    Parameters
    ----------
    frame : pandas.DataFrame
        Area columns in km².
    unit : str
        ``km2``, ``ha``, ``mu``, ``wanmu``, ``yimu`` or ``wanha``.

    Returns
    -------
    pandas.DataFrame
        A copy with the area columns in ``unit`` (``frame`` itself for km²).
    """
    unit = normalise_unit(unit)
    if unit == "km2":
        return frame
    frame = frame.copy()
    renamed = {}
    for col in frame.columns:
        if "area_km2" in col:
            renamed[col] = col.replace("area_km2", f"area_{unit}")
            frame[col] = convert(frame[col].to_numpy(dtype=float), "km2", unit)
    return frame.rename(columns=renamed)


def with_wanmu(table: pd.DataFrame) -> pd.DataFrame:
    """Add a ``<x>_wanmu`` column (万亩) right after every ``<x>_mu`` column.

    The ``_mu`` columns stay (older scripts read them); 1 万亩 = 10⁴ mu exactly.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``<x>_mu`` in mu.

    Returns
    -------
    pandas.DataFrame
        ``table`` with ``<x>_wanmu`` columns in 万亩 (a copy when any is added).
    """
    out = table
    for col in [c for c in table.columns if isinstance(c, str) and c.endswith("_mu")]:
        new = col.removesuffix("_mu") + "_wanmu"
        if new in table.columns:
            continue
        if out is table:
            out = table.copy()
        at = list(out.columns).index(col) + 1
        out.insert(at, new, convert(out[col].to_numpy(dtype=float), "mu", "wanmu"))
    return out


#: ``<…>_<unit>`` or ``<…>_area_<unit>_<class code>``: the area unit of a column.
UNIT_RE = re.compile(r"(?:^|_)(" + "|".join(UNITS) + r")(?:_-?\d+)?$")
_PCT_RE = re.compile(r"(?:^|_)(pct|gap|variant_min|variant_max)(?:_-?\d+)?$")
#: Coverage-weighted cell counts (``cells``, ``<indicator>_cells``): one decimal.
_CELLS_RE = re.compile(r"(?:^|_)cells$")
_FRACTION_RE = re.compile(r"(?:^|_)fraction(?:_-?\d+)?$")
#: Significant digits of floats that are neither areas, percentages nor fractions.
SIGNIFICANT = 6
#: Decimals of percentages (and gaps in percentage points) and of fractions (0–1).
PCT_DECIMALS, FRACTION_DECIMALS = 2, 6


def column_rule(column) -> tuple[str, int]:
    """``("decimals", n)`` or ``("significant", n)`` for a float column, by its name.

    Parameters
    ----------
    column : str
        Column name (``area_km2``, ``grassland_fvc_pct``, ``ndvi_mean`` …).

    Returns
    -------
    tuple of (str, int)
        How its floats are rounded (see :func:`round_table`).
    """
    name = str(column)
    unit = UNIT_RE.search(name)
    if unit:
        return "decimals", DECIMALS[unit.group(1)]
    if _PCT_RE.search(name):
        return "decimals", PCT_DECIMALS
    if _CELLS_RE.search(name):
        return "decimals", 1
    if _FRACTION_RE.search(name):
        return "decimals", FRACTION_DECIMALS
    return "significant", SIGNIFICANT


def _round_value(value, rule: tuple[str, int]):
    # through decimal text: the written number is the correctly rounded one (np.round can
    # leave 0.30000000000000004)
    if not isinstance(value, float | np.floating) or not math.isfinite(value):
        return value
    kind, n = rule
    text = f"{value:.{n}f}" if kind == "decimals" else f"{value:.{n}g}"
    return float(text) + 0.0  # + 0.0: -0.001 → 0.0, not "-0.0"


def _round_series(values: pd.Series, rule: tuple[str, int]) -> pd.Series:
    rounded = values.map(lambda v: _round_value(v, rule))
    if rule == ("decimals", 0) and np.isfinite(rounded.dropna().to_numpy(dtype=float)).all():
        return rounded.astype("Int64")  # whole mu without a trailing ".0"
    return rounded


def round_table(table: pd.DataFrame) -> pd.DataFrame:
    """Round the float columns of a table for people, by a rule on the column name.

    =========================================  ==================================
    column                                     written with
    =========================================  ==================================
    ``…_km2`` (also ``…_area_km2_<class>``)    3 decimals (0.001 km² = 0.1 ha)
    ``…_ha``                                   1 decimal
    ``…_mu``                                   0 decimals (whole mu)
    ``…_wanmu`` (万亩)                         2 decimals
    ``…_yimu`` (亿亩) / ``…_wanha`` (万公顷)   6 / 4 decimals
    ``…_pct``, ``…_gap`` (percentage points)   2 decimals
    ``fraction``, ``…_fraction_<class>``       6 decimals
    any other float (means, quantiles …)       6 significant digits
    ``value``/``gap``/``target`` of a table    by the row's ``unit`` (``km2``,
    with ``indicator`` and ``unit`` columns    ``%``) as above
    =========================================  ==================================

    Integers, text and booleans are unchanged; NaN stays empty. The full-precision numbers
    are in the JSON, XLSX, GeoPackage and GeoParquet outputs (and ``--precision full``).

    Parameters
    ----------
    table : pandas.DataFrame
        Any table the toolkit writes.

    Returns
    -------
    pandas.DataFrame
        A rounded copy.
    """
    out = table.copy()
    per_row = {"indicator", "unit"} <= set(out.columns)  # the long indicator table
    for col in out.columns:
        if not pd.api.types.is_float_dtype(out[col].dtype):
            continue
        if per_row and col in ("value", "gap", "target", "variant_min", "variant_max"):
            units = out["unit"].map(lambda u: "pct" if u == "%" else str(u))
            out[col] = [
                _round_value(v, column_rule(f"x_{u}")) for v, u in zip(out[col], units, strict=True)
            ]
            continue
        out[col] = _round_series(out[col], column_rule(col))
    return out


def _bool_text(values: pd.Series, lang: str) -> pd.Series:
    yes, no = YES_NO[lang]
    return values.map(lambda v: v if pd.isna(v) else (yes if bool(v) else no)).astype(object)


def _is_bool_column(values: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(values.dtype):
        return True
    if values.dtype != object:
        return False
    present = values.dropna()
    return len(present) > 0 and all(isinstance(v, bool | np.bool_) for v in present)


def for_people(
    table: pd.DataFrame,
    *,
    lang: str = "both",
    precision: str = "rounded",
    labels: dict | None = None,
    header: bool = True,
) -> pd.DataFrame:
    """A table as written for people: rounded numbers, 是/否, header in ``lang``.

    Parameters
    ----------
    table : pandas.DataFrame
    lang : {"both", "zh", "en"}
        Booleans become ``yes / 是`` (both), ``是`` (zh) or ``yes`` (en). With ``zh`` or
        ``en`` the header holds the column names in that language with their unit
        (:func:`column_label`); with ``zh`` class names (``class_name``) and levels are given
        in Chinese where known (:data:`CLASS_NAMES_ZH`, :data:`LEVELS_ZH`); ``both`` keeps
        the column ids as header.
    precision : {"rounded", "full"}
        ``rounded``: :func:`round_table`; ``full``: every digit.
    labels : dict, optional
        Header labels of particular columns (``{column: label}``), used before
        :func:`column_label`.
    header : bool
        False keeps the column ids whatever ``lang`` (the report workbook's first row).

    Returns
    -------
    pandas.DataFrame
        A copy of ``table``, ready to write.
    """
    check_lang(lang)
    if precision not in ("rounded", "full"):
        raise UsageError(f"unknown precision {precision!r}; use rounded or full")
    out = round_table(table) if precision == "rounded" else table.copy()
    for col in out.columns:
        if _is_bool_column(out[col]):
            out[col] = _bool_text(out[col], lang)
        elif isinstance(col, str) and (col == "verdict" or col.endswith("_verdict")):
            out[col] = out[col].map(lambda v: verdict_text(v, lang))
    if lang == "zh":
        bases = [(c, BASIS_ZH) for c in out.columns if isinstance(c, str) and c.endswith("_basis")]
        for col, names in (("class_name", CLASS_NAMES_ZH), ("level", LEVELS_ZH), *bases):
            if col in out.columns:
                out[col] = out[col].map(lambda v, n=names: n.get(v, v) if isinstance(v, str) else v)
    if header and lang != "both":
        names = [
            (labels or {}).get(c) or column_label(c, lang, official_column(table, c))
            for c in out.columns
        ]
        out.columns = _unique(names)
    return out


def _unique(names: list[str]) -> list[str]:
    """Labels made unique (two ids with one label would make an ambiguous header)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out
