"""geo — mapping toolkit for Inner Mongolia's northern ecological security barrier.

Data flows one way: load (``geo.boundaries``, ``geo.data``) → align (``geo.crs``)
→ compute (``geo.zonal``, ``geo.units``) → present (``geo.report``, ``geo.cli``).
"""

from __future__ import annotations

__version__ = "0.1.0"

from geo import errors
from geo.errors import CRSError, DataError, GeoError, LayerError, ZoneError

__all__ = [
    "CRSError",
    "DataError",
    "GeoError",
    "LayerError",
    "ZoneError",
    "__version__",
    "errors",
]
