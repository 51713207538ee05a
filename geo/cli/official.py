"""The official-layer options of ``report`` and ``stats`` (``--forest``, ``--grassland`` …).

``--forest``, ``--grassland``, ``--sandified`` with ``--sandified-field``, and ``--redline``,
declared once from :data:`geo.official.KINDS`; every file honours the command's
``--source-crs`` (as ``--redline`` always has).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from geo.errors import UsageError

__all__ = ["KIND_NAMES", "add_options", "given", "input_files", "official_columns"]

#: The official layer options' names (:data:`geo.official.KINDS`), kept here so that the
#: parser is built without importing the geometry stack.
KIND_NAMES = ("redline", "forest", "grassland", "sandified")


def add_options(parser: argparse.ArgumentParser, *, skip: tuple[str, ...] = ()) -> None:
    """Add one option per official layer and ``--sandified-field``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser of ``report`` or ``stats``.
    skip : tuple of str
        Kinds the parser declares itself (``report`` has its ``--redline``).
    """
    from geo.official import KINDS

    for kind in KINDS.values():
        if kind.name not in skip:
            parser.add_argument(
                kind.option, metavar="FILE", help=f"{kind.help}; CRS override: --source-crs"
            )
    parser.add_argument(
        "--sandified-field",
        metavar="NAME",
        help="degree field of --sandified (轻度/中度/重度/极重度, light … extreme, or 1–4)",
    )


def given(args: argparse.Namespace) -> dict:
    """The official-layer keywords of :func:`geo.pipeline.compute_all` from the command line.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options with those of :func:`add_options`.

    Returns
    -------
    dict
        ``forest``, ``grassland``, ``sandified`` (paths or None) and ``sandified_field``
        (``redline`` too when the parser declared it through :func:`add_options`).

    Raises
    ------
    geo.errors.UsageError
        ``--sandified-field`` without ``--sandified``.
    """
    from geo.official import KINDS

    if args.sandified_field and not args.sandified:
        raise UsageError("--sandified-field names the degree field of --sandified FILE; give it")
    out = {kind: getattr(args, kind, None) for kind in KINDS}
    out["sandified_field"] = args.sandified_field
    return out


def official_columns(zone_set, layers: dict) -> dict:
    """Columns of the official values per zone for a statistics table.

    Areas as ``<id>_km2/_ha/_mu``, shares as ``<id>`` (%), each followed by ``<id>_basis``
    (``official``).

    Parameters
    ----------
    zone_set : geo.zones.ZoneSet or geopandas.GeoDataFrame
        The zones of the table, in its row order.
    layers : dict of str to geo.official.OfficialLayer
        From :func:`geo.official.collect`.

    Returns
    -------
    dict of str to numpy.ndarray
    """
    from geo.indicators import INDICATORS
    from geo.official import official_values
    from geo.units import area_columns
    from geo.zoneset import as_zone_set

    found = official_values(as_zone_set(zone_set), layers)
    columns = {}
    for key, values in found.values.items():
        if INDICATORS[key].unit == "km2":
            columns.update(area_columns(key, values))
        else:
            columns[key] = values
        columns[f"{key}_basis"] = found.basis[key]
    return columns


def input_files(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """The official files given, with their roles, for provenance."""
    from geo.official import KINDS

    return [(kind, Path(p)) for kind in KINDS if (p := getattr(args, kind, None))]
