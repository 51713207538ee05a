"""Exception and warning classes of the toolkit.

Every error raised for bad input is a :class:`GeoError`. Its message names the
offending input (file, layer, name) and says what to do; the ``barrier``
command turns it into one line on stderr and exit code 2.
"""

from __future__ import annotations

__all__ = [
    "CRSError",
    "DataError",
    "GeoError",
    "GeoWarning",
    "LayerError",
    "OutputError",
    "PlaceLookupError",
    "UsageError",
    "ZoneError",
]


class GeoError(Exception):
    """Base class of every expected error of the toolkit (bad input, bad usage)."""


class DataError(GeoError):
    """A data file is missing, unreadable, corrupt or holds unusable values."""


class CRSError(GeoError):
    """A layer has no coordinate reference system, or coordinates that do not fit it."""


class LayerError(GeoError):
    """A named layer (raster or vector) does not exist or cannot be used as asked."""


class ZoneError(GeoError):
    """A zone set, zone level or zone membership table is unknown or malformed."""


class PlaceLookupError(ZoneError, LookupError):
    """A place name or adcode does not resolve to exactly one administrative unit."""


class UsageError(GeoError):
    """An argument is not valid (unknown statistic, method or unit, missing option)."""


class OutputError(GeoError):
    """An output location cannot be written (read-only, full disk, not a directory)."""


class GeoWarning(UserWarning):
    """Carrying on is right, but the user should know (e.g. a non-equal-area CRS)."""
