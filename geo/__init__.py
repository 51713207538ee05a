"""geo — mapping toolkit for Inner Mongolia's northern ecological security barrier.

Data flows one way: load (:mod:`geo.boundaries`, :mod:`geo.zones`, :mod:`geo.layers`) → align
(:mod:`geo.crs`) → compute (:mod:`geo.zonal`, :mod:`geo.indicators`, :mod:`geo.pipeline`) →
present (:mod:`geo.report`, :mod:`geo.maps`, the ``barrier`` command). A zone set travels as
a :class:`geo.zones.ZoneSet` (one declared id column, derived geometry computed once).

The names below are imported on first use, so ``import geo`` stays light.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

from geo.errors import CRSError, DataError, GeoError, GeoWarning, LayerError, UsageError, ZoneError

# public name → (module, attribute)
_LAZY = {
    "load_boundaries": ("geo.boundaries", "load"),
    "lookup": ("geo.boundaries", "lookup"),
    "load_zones": ("geo.zones", "load"),
    "ZoneSet": ("geo.zones", "ZoneSet"),
    "zonal_stats": ("geo.zonal", "zonal_stats"),
    "Coverage": ("geo.zonal", "Coverage"),
    "INDICATORS": ("geo.indicators", "INDICATORS"),
    "compute_indicators": ("geo.indicators", "compute"),
    "compute_all": ("geo.pipeline", "compute_all"),
    "build_report": ("geo.report", "build_report"),
    "convert": ("geo.units", "convert"),
    "format_area": ("geo.units", "format_area"),
}

__all__ = [
    "CRSError",
    "DataError",
    "GeoError",
    "GeoWarning",
    "LayerError",
    "UsageError",
    "ZoneError",
    "__version__",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'geo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
