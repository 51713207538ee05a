"""Area units used in Chinese ecological statistics, and their formatting.

The base unit is the square metre. 1 mu (亩) is exactly 10000/15 m² (1/15 ha), so
1 km² = 100 ha = 1500 mu exactly; 1 万亩 = 10⁴ mu and 1 亿亩 = 10⁸ mu. Conversions are
done with :class:`fractions.Fraction` factors so that round trips through mu stay
exact for exactly representable inputs.

Examples
--------
>>> convert(1, "km2", "mu")
1500.0
>>> format_area(113_333.333e6, "亿亩", lang="zh")
'1.7亿亩'
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from geo.errors import UsageError

__all__ = ["UNITS", "area_columns", "convert", "format_area", "normalise_unit"]

#: Size of each unit in square metres (exact).
UNITS: dict[str, Fraction] = {
    "m2": Fraction(1),
    "km2": Fraction(10**6),
    "ha": Fraction(10**4),
    "mu": Fraction(10**4, 15),
    "wan_mu": Fraction(10**8, 15),
    "yi_mu": Fraction(10**12, 15),
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
    "万亩": "wan_mu",
    "10k_mu": "wan_mu",
    "亿亩": "yi_mu",
    "100m_mu": "yi_mu",
}

_SYMBOL = {
    "en": {
        "m2": "m²",
        "km2": "km²",
        "ha": "ha",
        "mu": "mu",
        "wan_mu": "10k mu",
        "yi_mu": "100M mu",
    },
    "zh": {
        "m2": "平方米",
        "km2": "平方公里",
        "ha": "公顷",
        "mu": "亩",
        "wan_mu": "万亩",
        "yi_mu": "亿亩",
    },
}


def normalise_unit(unit: str) -> str:
    """Return the canonical key of an area unit name.

    Parameters
    ----------
    unit : str
        ``m2``, ``km2``, ``ha``, ``mu``, ``wan_mu``, ``yi_mu`` or an alias such as
        ``km²``, ``亩``, ``万亩``, ``亿亩``, ``公顷``.

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


def format_area(
    value_m2: float, unit: str = "km2", *, lang: str = "en", digits: int | None = None
) -> str:
    """Format an area for people, in English or Chinese.

    Parameters
    ----------
    value_m2 : float
        Area in square metres.
    unit : str
        Display unit (see :func:`normalise_unit`).
    lang : {"en", "zh"}
        ``en`` uses thousands separators and symbols (``113,333 km²``); ``zh`` writes the
        number without separators followed by the Chinese unit (``1.7亿亩``, ``596900平方公里``).
    digits : int, optional
        Decimal places. By default: none for values ≥ 100, otherwise up to 2 significant
        decimals with trailing zeros removed.

    Returns
    -------
    str
    """
    if lang not in _SYMBOL:
        raise UsageError(f"unknown language {lang!r}; use 'en' or 'zh'")
    key = normalise_unit(unit)
    value = convert(value_m2, "m2", key)
    if not np.isfinite(value):
        return "–"
    if digits is None:
        text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:,.{digits}f}"
    symbol = _SYMBOL[lang][key]
    if lang == "zh":
        return text.replace(",", "") + symbol
    return f"{text} {symbol}"
