"""Area units used in Chinese ecological statistics, and their formatting.

The base unit is the square metre. 1 mu (亩) is exactly 10000/15 m² (1/15 ha), so
1 km² = 100 ha = 1500 mu exactly; 1 万亩 (``wanmu``) = 10⁴ mu, 1 亿亩 (``yimu``) = 10⁸ mu
and 1 万公顷 (``wanha``) = 10⁴ ha = 100 km². Conversions are done with
:class:`fractions.Fraction` factors so that round trips through mu stay exact for exactly
representable inputs.

Chinese reports give large areas in 万亩, 亿亩 and 万公顷; :func:`format_area` with
``unit="auto"`` picks 亿亩 from 1 亿亩 up, 万亩 from 1 万亩 up, else 亩.

Examples
--------
>>> convert(1, "km2", "mu")
1500.0
>>> format_area(113_333.333e6, "亿亩", lang="zh")
'1.7亿亩'
>>> format_area(251_525.8e6, "auto", lang="zh")
'3.77亿亩'
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from geo.errors import UsageError

__all__ = [
    "AREA_UNITS",
    "DECIMALS",
    "UNITS",
    "area_columns",
    "auto_unit",
    "convert",
    "format_area",
    "normalise_unit",
]

#: Size of each unit in square metres (exact).
UNITS: dict[str, Fraction] = {
    "m2": Fraction(1),
    "km2": Fraction(10**6),
    "ha": Fraction(10**4),
    "mu": Fraction(10**4, 15),
    "wanmu": Fraction(10**8, 15),
    "yimu": Fraction(10**12, 15),
    "wanha": Fraction(10**8),
}

#: Units accepted by ``--units`` (the area columns of written tables).
AREA_UNITS = ("km2", "ha", "mu", "wanmu", "yimu", "wanha")

#: Decimal places of each unit's columns in tables written for people (CSV): about 0.1 ha
#: for km², ha and mu, 100 mu for 万亩 (as Chinese reports print 万亩 with 2 decimals).
DECIMALS: dict[str, int] = {
    "m2": 0,
    "km2": 3,
    "ha": 1,
    "mu": 0,
    "wanmu": 2,
    "yimu": 6,
    "wanha": 4,
}

_ALIASES = {
    "m²": "m2",
    "sqm": "m2",
    "km²": "km2",
    "sqkm": "km2",
    "hectare": "ha",
    "hectares": "ha",
    "公顷": "ha",
    "平方公里": "km2",
    "平方千米": "km2",
    "平方米": "m2",
    "亩": "mu",
    "万亩": "wanmu",
    "wan_mu": "wanmu",
    "10k_mu": "wanmu",
    "亿亩": "yimu",
    "yi_mu": "yimu",
    "100m_mu": "yimu",
    "万公顷": "wanha",
    "wan_ha": "wanha",
    "10k_ha": "wanha",
}

_SYMBOL = {
    "en": {
        "m2": "m²",
        "km2": "km²",
        "ha": "ha",
        "mu": "mu",
        "wanmu": "10k mu",
        "yimu": "100M mu",
        "wanha": "10k ha",
    },
    "zh": {
        "m2": "平方米",
        "km2": "平方公里",
        "ha": "公顷",
        "mu": "亩",
        "wanmu": "万亩",
        "yimu": "亿亩",
        "wanha": "万公顷",
    },
}


def normalise_unit(unit: str) -> str:
    """Return the canonical key of an area unit name.

    Parameters
    ----------
    unit : str
        ``m2``, ``km2``, ``ha``, ``mu``, ``wanmu``, ``yimu``, ``wanha`` or an alias such
        as ``km²``, ``亩``, ``万亩``, ``亿亩``, ``公顷``, ``万公顷``, ``wan_mu``.

    Raises
    ------
    geo.errors.GeoError
        If the unit is unknown; the message lists the known units.
    """
    key = unit.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in UNITS:
        known = ", ".join(list(UNITS) + list(_ALIASES))
        raise UsageError(f"unknown area unit {unit!r}; use one of: {known}")
    return key


def convert(value, from_unit: str, to_unit: str):
    """Convert an area (scalar or array) between units.

    Parameters
    ----------
    value : float or array_like
        Area in ``from_unit``.
    from_unit, to_unit : str
        Unit names understood by :func:`normalise_unit`.

    Returns
    -------
    float or numpy.ndarray
        Area in ``to_unit``. NaN stays NaN.
    """
    factor = UNITS[normalise_unit(from_unit)] / UNITS[normalise_unit(to_unit)]
    if factor.denominator == 1:
        scaled = np.multiply(value, float(factor.numerator))
    else:
        # multiply then divide by integers: exact for integral km² → mu and back
        scaled = np.divide(np.multiply(value, float(factor.numerator)), float(factor.denominator))
    return float(scaled) if np.ndim(scaled) == 0 else scaled


def area_columns(name: str, km2) -> dict[str, object]:
    """Return the three area columns of the table convention for a quantity.

    Parameters
    ----------
    name : str
        Quantity name, e.g. ``"area"`` or ``"sandified_area"``.
    km2 : float or array_like
        Area in square kilometres.

    Returns
    -------
    dict
        ``{name_km2: …, name_ha: …, name_mu: …}``.
    """
    return {
        f"{name}_km2": km2,
        f"{name}_ha": convert(km2, "km2", "ha"),
        f"{name}_mu": convert(km2, "km2", "mu"),
    }


def auto_unit(value_m2: float, digits: int = 2) -> str:
    """The mu unit a Chinese report would use for an area: 亿亩, 万亩 or 亩.

    ``yimu`` from 1 亿亩 up, ``wanmu`` from 1 万亩 up, else ``mu`` (by absolute value), judged
    on the number as printed (``digits`` decimals of 万亩, whole mu) so that an area just
    below a step never prints as ``10000.00万亩``.
    """
    if round(abs(convert(value_m2, "m2", "wanmu")), digits) >= 10_000:
        return "yimu"
    if round(abs(convert(value_m2, "m2", "mu"))) >= 10_000:
        return "wanmu"
    return "mu"


def format_area(
    value_m2: float, unit: str = "km2", *, lang: str = "en", digits: int | None = None
) -> str:
    """Format an area for people, in English or Chinese.

    Parameters
    ----------
    value_m2 : float
        Area in square metres (``value_km2 * 1e6`` for a table's ``_km2`` column).
    unit : str
        Display unit (see :func:`normalise_unit`), or ``"auto"``: 亿亩 from 1 亿亩 up, 万亩
        from 1 万亩 up, else 亩 (:func:`auto_unit`), as Chinese reports write areas.
    lang : {"en", "zh"}
        ``en`` uses thousands separators and symbols (``113,333 km²``); ``zh`` writes the
        number without separators followed by the Chinese unit (``1.7亿亩``, ``596900平方公里``).
    digits : int, optional
        Decimal places. By default: 2 for ``"auto"`` in 万亩 or 亿亩 (``3.77亿亩``,
        ``5659.31万亩``); otherwise none for values ≥ 100, else up to 2 decimals with
        trailing zeros removed.

    Returns
    -------
    str
        ``"–"`` for NaN.
    """
    if lang not in _SYMBOL:
        raise UsageError(f"unknown language {lang!r}; use 'en' or 'zh'")
    if not np.isfinite(value_m2):
        return "–"
    if unit == "auto":
        key = auto_unit(value_m2, 2 if digits is None else digits)
        if digits is None and key != "mu":
            digits = 2
    else:
        key = normalise_unit(unit)
    value = convert(value_m2, "m2", key)
    if digits is None:
        text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:,.{digits}f}"
    symbol = _SYMBOL[lang][key]
    if lang == "zh":
        return text.replace(",", "") + symbol
    return f"{text} {symbol}"
