"""Helpers shared by the subcommands: zones, provenance, table output and checks."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

from geo.cli.options import ZONE_SETS
from geo.errors import UsageError

__all__ = [
    "check_basemap",
    "coverage_folder",
    "emit",
    "load_zones",
    "membership",
    "output_format",
    "refuse_input_as_output",
    "run_cache",
    "shown",
    "shown_record",
    "write_manifest",
    "zone_inputs",
    "zone_parameters",
]


def coverage_folder(args: argparse.Namespace) -> Path | None:
    """The disk cache of coverages for this command: ``<cache folder>/coverage``.

    The cache folder is ``--cache DIR``, else :func:`geo.data.cache_dir`; ``None`` with
    ``--no-cache`` or for a command without these options.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    Path or None

    Raises
    ------
    UsageError
        ``--cache`` and ``--no-cache`` together.
    """
    if getattr(args, "no_cache", False) and args.cache:
        raise UsageError(f"--cache {args.cache} and --no-cache contradict each other; give one")
    if getattr(args, "no_cache", True):
        return None
    from geo.data import cache_dir

    return Path(args.cache or cache_dir()) / "coverage"


@contextlib.contextmanager
def run_cache(args: argparse.Namespace):
    """The cache folder of one run: ``--cache``, the default one, or a temporary one.

    With ``--no-cache`` the run works in a temporary folder of its own, removed at the end,
    so nothing is kept between runs.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (``cache`` and ``no_cache``).

    Yields
    ------
    str or None
        The folder (``None``: the default cache folder).
    """
    if not args.no_cache:
        yield args.cache
        return
    with tempfile.TemporaryDirectory(prefix="barrier-run-") as tmp:
        yield tmp


def load_zones(args: argparse.Namespace):
    """The zone set named by ``--zones`` and its companions, names cleaned of control characters.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options of ``stats``, ``map`` or ``change``.

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`geo.zones.load`.
    """
    from geo import zones
    from geo.tables import clean_text

    gdf = zones.load(
        args.zones,
        layer=args.zones_layer,
        id_field=args.id_field,
        name_field=args.name_field,
        source_crs=args.source_crs,
        membership=membership(args, args.zones),
    )
    # names pasted from word processors may hold control characters: say so once, here
    return clean_text(gdf, gdf.attrs.get("source", args.zones))


def zone_inputs(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """The files behind ``--zones`` (and ``--membership``), with their roles, for provenance.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options with ``zones`` and ``membership``.

    Returns
    -------
    list of (str, Path)
        ``(role, path)`` pairs.
    """
    from geo.boundaries import BOUNDARY_FILE, NAMES_FILE
    from geo.data import data_path
    from geo.zones import BATTLE_LEVELS, MEMBERSHIP_FILE

    spec = str(args.zones)
    if spec not in ZONE_SETS:
        return [("zones", Path(spec))]
    files = [("boundaries", data_path(*BOUNDARY_FILE)), ("names", data_path(*NAMES_FILE))]
    if spec in BATTLE_LEVELS:
        files.append(("membership", Path(args.membership or data_path(*MEMBERSHIP_FILE))))
    return files


def zone_parameters(args: argparse.Namespace, command: str, zone_set) -> dict:
    """The manifest's record of the command and how its zones were read.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options with the zone options.
    command : str
        The subcommand's name.
    zone_set : geopandas.GeoDataFrame
        The zones read.

    Returns
    -------
    dict
        JSON-ready parameters.
    """
    return {
        "command": command,
        "zones": str(args.zones),
        "zones_source": zone_set.attrs.get("source"),
        "zones_layer": _zones_layer(args, zone_set),
        "id_field": args.id_field,
        "name_field": getattr(args, "name_field", None),
        "source_crs": args.source_crs,
    }


def _zones_layer(args: argparse.Namespace, zone_set) -> str | None:
    """The layer of a zone file that was read (the first one unless --zones-layer)."""
    from geo.provenance import vector_layer

    if str(args.zones) in ZONE_SETS:
        return None
    return vector_layer(args.zones, args.zones_layer, zone_set)


def write_manifest(out: Path, inputs: list, params: dict) -> Path:
    """Write ``<out>.manifest.json`` beside a single output file.

    Parameters
    ----------
    out : Path
        The output file.
    inputs : list of (str, Path)
        The files read, with their roles.
    params : dict
        The command's parameters.

    Returns
    -------
    Path
        The manifest written.
    """
    from geo.outputs import atomic_path
    from geo.provenance import manifest

    record = manifest(inputs, [out], out.parent, params)
    side = out.with_name(out.name + ".manifest.json")
    with atomic_path(side) as tmp:
        tmp.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return side


def emit(
    table: pd.DataFrame,
    fmt: str,
    *,
    precision: str = "full",
    lang: str = "both",
    labels: dict | None = None,
) -> None:
    """Write a table to standard output as text, CSV or JSON.

    Parameters
    ----------
    table : pandas.DataFrame
        The table (column names must be unique).
    fmt : {"text", "csv", "json"}
        Output format.
    precision : {"full", "rounded"}
        CSV numbers rounded per unit or every digit.
    lang : {"both", "zh", "en"}
        Language of CSV headers and yes/no.
    labels : dict, optional
        Header labels of particular columns.
    """
    from geo.tables import check_unique_columns

    check_unique_columns(table, "the table")  # to_dict would drop all but one silently
    if fmt == "csv":
        from geo.tables import clean_text, csv_safe, for_people

        # the same table as written with -o: rounded, yes/no and header in --lang
        table = for_people(table, lang=lang, precision=precision, labels=labels)
        # stdout is often redirected into a .csv opened in a spreadsheet: defuse it the same way
        sys.stdout.write(csv_safe(clean_text(table, "standard output")).to_csv(index=False))
    elif fmt == "json":
        # missing values as null: json.dumps writes NaN, which is not JSON
        records = table.astype(object).where(table.notna(), None).to_dict(orient="records")
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=1, allow_nan=False) + "\n")
    else:
        sys.stdout.write(table.to_string(index=False) + "\n")


def check_basemap(args: argparse.Namespace) -> None:
    """``--offline`` (deprecated; maps are self-contained by default) refuses online tiles.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options with ``offline`` and ``basemap``.

    Raises
    ------
    geo.errors.UsageError
        If ``--offline`` is given with an online ``--basemap``.
    """
    if args.offline and args.basemap not in ("hillshade", "none"):
        raise UsageError(
            f"--offline and --basemap {args.basemap} contradict each other: the {args.basemap} "
            "tiles come from the internet. Maps are self-contained by default now; drop "
            "--offline to use online tiles, or drop --basemap"
        )


def shown(args: argparse.Namespace, labels: dict | None = None) -> dict:
    """How a table is shown: --precision, --lang and header labels of particular columns.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (``precision``, ``lang``).
    labels : dict, optional
        Header labels of particular columns (``{column: label}``).

    Returns
    -------
    dict
        Keywords of :func:`emit` and :func:`geo.tables.write_table`.
    """
    return {"precision": args.precision, "lang": args.lang, "labels": labels}


def shown_record(args: argparse.Namespace, fmt: str) -> dict:
    """The manifest's record of rounding and language (rounding applies to CSV only).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (``precision``, ``lang``).
    fmt : {"csv", "json", "xlsx"}
        The output format.

    Returns
    -------
    dict
        ``precision`` and ``lang``.
    """
    rounded = fmt == "csv" and args.precision == "rounded"
    return {
        "precision": "rounded (geo.tables.round_table)" if rounded else "full",
        "lang": args.lang,
    }


def membership(args: argparse.Namespace, zone_set: str):
    """The user's membership CSV where it applies (battle zone sets), else None.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (``membership``).
    zone_set : str
        Name of the zone set (a level or ``user``).

    Returns
    -------
    str or None
        ``--membership`` for ``battle`` and ``battle_part``.
    """
    from geo.zones import BATTLE_LEVELS

    return args.membership if str(zone_set) in BATTLE_LEVELS else None


def output_format(args: argparse.Namespace) -> str:
    """The table format from --format or the -o suffix; checks -o is writable before any work.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (``format``, ``output``).

    Returns
    -------
    str
        ``csv``, ``json`` or ``xlsx``.

    Raises
    ------
    geo.errors.UsageError
        If the format cannot be told, or xlsx would go to standard output.
    """
    from geo.outputs import check_output_file

    if args.output is not None:
        check_output_file(args.output)
    fmt = args.format or (Path(args.output).suffix.lstrip(".").lower() if args.output else "csv")
    if fmt not in ("csv", "json", "xlsx"):
        raise UsageError(f"cannot tell the format of {args.output}; add --format csv|json|xlsx")
    if fmt == "xlsx" and not args.output:
        raise UsageError("--format xlsx needs -o FILE.xlsx")
    return fmt


def refuse_input_as_output(output, inputs: list) -> None:
    """Refuse ``-o`` naming one of the command's inputs (a shapefile's sidecars included).

    Parameters
    ----------
    output : path
        The ``-o`` file.
    inputs : list of (str, path or None)
        The command's inputs with their roles.

    Raises
    ------
    geo.errors.UsageError
        If ``output`` is one of the inputs.
    """
    from geo.outputs import check_not_input
    from geo.provenance import input_files

    named = [p for _, p in inputs if p is not None] + [p for _, p in input_files(inputs)]
    check_not_input(output, named)
