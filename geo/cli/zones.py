"""``barrier zones``: list the zone sets and their members."""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from geo.cli import options
from geo.cli.helpers import emit, membership

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``zones`` to the subcommands.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The subcommands of ``barrier``.

    Returns
    -------
    argparse.ArgumentParser
    """
    zones = subparsers.add_parser(
        "zones", help="list zone sets and their members", epilog=options.EPILOG
    )
    zones.add_argument(
        "set", nargs="?", choices=options.ZONE_SETS, help="one zone set (default: all)"
    )
    options.list_format_opt.add_to(zones)
    options.membership_opt.add_to(zones)
    zones.set_defaults(func=run)
    return zones


def run(args: argparse.Namespace) -> int:
    """Run ``barrier zones``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line of ``barrier zones`` (see :func:`add_parser`).

    Returns
    -------
    int
        Exit code 0.
    """
    from geo import zones

    frames = []
    for level in [args.set] if args.set else options.ZONE_SETS:
        zone_set = zones.ZoneSet.load(level, membership=membership(args, level))
        gdf, id_col = zone_set.frame, zone_set.id_column
        part_of = "league_adcode" if "league_adcode" in gdf.columns else "members"
        frame = pd.DataFrame(gdf[["level", id_col, "name_zh", "name_en", part_of]])
        frames.append(
            frame.set_axis(["level", "id", "name_zh", "name_en", "parent_or_members"], axis=1)
        )
    table = pd.concat(frames, ignore_index=True)
    if args.format == "text":
        counts = table.groupby("level", sort=False).size()
        sys.stdout.write("zone sets: " + ", ".join(f"{k} ({v})" for k, v in counts.items()) + "\n")
    emit(table, args.format)
    return 0
