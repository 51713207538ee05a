"""Public data fetched on demand (``barrier fetch``): sources, downloads, composites, provenance.

Examples
--------
>>> from geo.fetch import SOURCES, fetch
>>> fetch(SOURCES["worldcover"], (111, 40, 112, 41), (2021, 2021), "fetched")  # doctest: +SKIP
"""

from geo.fetch.job import PROVENANCE, fetch, from_folder, read_provenance
from geo.fetch.sources import SOURCES, Source, get_source

__all__ = [
    "PROVENANCE",
    "SOURCES",
    "Source",
    "fetch",
    "from_folder",
    "get_source",
    "read_provenance",
]
