"""Options shared by the subcommands of ``barrier``, each declared once.

As in ``rasterio.rio.options``: an option is declared here with its flags, default and help,
and a subcommand adds it with :meth:`Option.add_to` (changing the help where the option means
something particular to that command). Groups used by several commands are added by one
function (:func:`add_zone_options`, :func:`add_table_options`).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from geo import boundaries, zones

__all__ = [
    "BASEMAPS",
    "EPILOG",
    "FORMATS",
    "ZONE_SETS",
    "Option",
    "add_cache_options",
    "add_landcover_options",
    "add_table_options",
    "add_zone_options",
]

#: Zone sets listed by ``barrier zones`` and accepted by ``--zones``: the administrative
#: levels of :mod:`geo.boundaries`, then the battle-zone sets of :mod:`geo.zones`.
ZONE_SETS = (*boundaries.LEVELS, *zones.BATTLE_LEVELS)
#: as geo.maps.interactive.BASEMAPS (not imported: folium is slow to load for every command)
BASEMAPS = ("hillshade", "none", "osm", "tianditu", "amap")
#: Formats of listings (``barrier zones``, ``barrier layers``).
FORMATS = ("text", "csv", "json")

EPILOG = (
    "Documentation: README.md. Exit code 2 means bad input or usage; the message says what to fix."
)
LAYER_NAMES = (
    "Column prefix: the layer's name, or a file's stem (x.tif → x); file_x if the stem is a "
    "shipped/derived layer name; a/x.tif and b/x.tif → a_x, b_x; a repeat → x_2"
)


@dataclass(frozen=True)
class Option:
    """One command-line option: the flags and keywords of ``ArgumentParser.add_argument``.

    Parameters
    ----------
    flags : tuple of str
        ``("-o", "--output")`` …
    settings : mapping
        ``action``, ``default``, ``metavar``, ``help`` …
    """

    flags: tuple[str, ...]
    settings: Mapping[str, Any]

    def add_to(self, parser: argparse.ArgumentParser, **changes: Any) -> None:
        """Add the option to ``parser``, with ``changes`` replacing some of its settings.

        Parameters
        ----------
        parser : argparse.ArgumentParser
            A subcommand's parser.
        **changes
            Settings particular to this command (its own ``help``, ``required`` …).
        """
        parser.add_argument(*self.flags, **{**self.settings, **changes})


def _option(*flags: str, **settings: Any) -> Option:
    return Option(flags, MappingProxyType(settings))


# --------------------------------------------------------------------- files and folders

out_opt = _option("--out", default="report", metavar="DIR", help="output folder (default: report/)")
output_opt = _option("-o", "--output", metavar="FILE", help="write here (default: standard output)")
cache_opt = _option("--cache", metavar="DIR", help="cache folder (default ~/.cache/geo-barrier)")
no_cache_opt = _option(
    "--no-cache",
    action="store_true",
    help="keep no coverages on disk for later runs (default: kept in the cache folder)",
)
force_opt = _option("--force", action="store_true", help="recompute cached layers and coverages")
data_opt = _option("--data", metavar="DIR", help="use this data folder instead of the shipped one")
quiet_opt = _option("--quiet", action="store_true", help="no progress messages")

# --------------------------------------------------------------------- zones

zones_opt = _option(
    "--zones",
    required=True,
    metavar="SET|FILE",
    help=f"one of {', '.join(ZONE_SETS)} or a polygon file (gpkg, shp, geojson …)",
)
zones_layer_opt = _option("--zones-layer", metavar="NAME", help="layer of a multi-layer zone file")
id_field_opt = _option("--id-field", metavar="FIELD", help="field identifying each zone of a file")
name_field_opt = _option("--name-field", metavar="FIELD", help="field naming each zone of a file")
source_crs_opt = _option(
    "--source-crs",
    metavar="CRS",
    help="override the zone file's CRS; gcj02 for Amap/Gaode coordinates",
)
membership_opt = _option(
    "--membership",
    metavar="CSV",
    help="your battle-zone membership table (default data/zones/battle_zones.csv)",
)

# --------------------------------------------------------------------- layers

layer_opt = _option(
    "--layer",
    action="append",
    required=True,
    metavar="NAME|FILE",
    help=f"shipped layer or GeoTIFF (repeatable). {LAYER_NAMES}",
)
categorical_opt = _option(
    "--categorical",
    action="store_true",
    help="treat raster files given with --layer as classes",
)

# --------------------------------------------------------------------- fine land cover

landcover_opt = _option(
    "--landcover",
    metavar="FILE",
    help=(
        "your fine land-cover GeoTIFF (CLCD, ESA WorldCover, GLC_FCS30, MODIS IGBP or any "
        "integer class raster; any grid and CRS, never resampled): forest, grassland and "
        "cropland areas are its exact class areas, grassland cover the FVC averaged over its "
        "grassland (still proxies)"
    ),
)
landcover_scheme_opt = _option(
    "--landcover-scheme",
    metavar="NAME|CSV",
    help=(
        "classes of --landcover: clcd, worldcover, glc_fcs30, igbp (data/schemes/) or your "
        "CSV table with the columns code,name,group"
    ),
)


def add_landcover_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--landcover`` and ``--landcover-scheme`` (a fine land-cover raster and its scheme).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser of ``report``, ``stats`` or ``map``.
    """
    landcover_opt.add_to(parser)
    landcover_scheme_opt.add_to(parser)


# --------------------------------------------------------------------- maps

basemap_opt = _option(
    "--basemap",
    choices=BASEMAPS,
    default=BASEMAPS[0],
    help=(
        "web-map basemap: hillshade (default; the relief of the shipped DEM embedded in the "
        "page, no network request: opens offline), none, or an online one that loads tiles "
        "from its host over the hillshade: osm (OpenStreetMap), tianditu (天地图, needs "
        "TIANDITU_KEY), amap (高德, data shifted to GCJ-02)"
    ),
)
offline_opt = _option(
    "--offline",
    action="store_true",
    help=(
        "deprecated, kept for old scripts: maps are self-contained by default; refuses an "
        "online --basemap"
    ),
)

# --------------------------------------------------------------------- tables

lang_opt = _option(
    "--lang",
    choices=("zh", "en", "both"),
    default="both",
    help=(
        "language of CSV/XLSX headers, class names and yes/no (是/否); both (default) keeps "
        "the column ids as CSV header"
    ),
)
units_opt = _option(
    "--units",
    choices=None,  # geo.units.AREA_UNITS, filled in by add_table_options
    default="km2",
    help="unit of area columns: km2, ha, mu, wanmu (万亩), yimu (亿亩), wanha (万公顷)",
)
precision_opt = _option(
    "--precision",
    choices=("rounded", "full"),
    default="rounded",
    help=(
        "CSV numbers: rounded per column unit (km² 3 decimals, ha 1, mu 0, 万亩 2, %% 2, "
        "fractions 6, other 6 significant digits; default) or full (every digit, for "
        "programs); JSON and XLSX keep every digit"
    ),
)
table_format_opt = _option(
    "--format", choices=("csv", "json", "xlsx"), help="default: from -o, else csv"
)
list_format_opt = _option("--format", choices=FORMATS, default="text")


def add_zone_options(parser: argparse.ArgumentParser) -> None:
    """Add the options choosing the zones (``--zones`` and its companions).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser of ``stats``, ``map`` or ``change``.
    """
    for opt in (
        zones_opt,
        zones_layer_opt,
        id_field_opt,
        name_field_opt,
        source_crs_opt,
        membership_opt,
    ):
        opt.add_to(parser)


def add_cache_options(parser: argparse.ArgumentParser, **changes: Any) -> None:
    """Add ``--cache DIR`` and ``--no-cache`` (the on-disk cache of coverages and layers).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser of a command that computes zonal statistics.
    **changes
        Settings of ``--cache`` to change (e.g. ``help=``).
    """
    cache_opt.add_to(parser, **changes)
    no_cache_opt.add_to(parser)


def add_table_options(parser: argparse.ArgumentParser) -> None:
    """Add the options of a written table: unit, rounding, language, format and file.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser of ``stats`` or ``change``.
    """
    from geo.units import AREA_UNITS

    units_opt.add_to(parser, choices=AREA_UNITS)
    precision_opt.add_to(parser)
    lang_opt.add_to(parser)
    table_format_opt.add_to(parser)
    output_opt.add_to(parser)


# --------------------------------------------------------------------- time series

stack_opt = _option(
    "--stack",
    required=True,
    metavar="DIR|FILE",
    help=(
        "yearly layers on one grid: a folder of GeoTIFFs with a four-digit year in each name "
        "(ndvi_2001.tif …), or one multi-band file with --years giving the year of each band"
    ),
)
years_opt = _option(
    "--years",
    metavar="YEARS",
    help=(
        "years to use (a folder: a range A-B selects the layers in it, a list such as "
        "2000,2005,2010-2012 exactly those years) or the years of the bands (a multi-band "
        "file), e.g. 2000-2024"
    ),
)
monitor_out_opt = _option("--out", required=True, metavar="DIR", help="output folder")


def add_stack_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--stack`` and ``--years`` (the yearly layers of a time-series command).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser of ``trend``, ``series`` or ``lakes``.
    """
    stack_opt.add_to(parser)
    years_opt.add_to(parser)
