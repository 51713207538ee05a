"""``barrier change``: change between two epochs of a layer, per zone."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from geo.cli import options
from geo.cli.helpers import (
    emit,
    load_zones,
    output_format,
    refuse_input_as_output,
    shown,
    shown_record,
    write_manifest,
    zone_inputs,
    zone_parameters,
)

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``change`` to the subcommands.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The subcommands of ``barrier``.

    Returns
    -------
    argparse.ArgumentParser
    """
    ch = subparsers.add_parser(
        "change",
        help="change between two epochs of a layer, per zone",
        description=(
            "Class layers: transition matrix (area from class i to class j; any integer rasters, "
            "at most 256 classes each). Continuous layers: area-weighted mean of each epoch over "
            "cells valid in both, and the change. Both rasters are streamed by window; zones "
            "whose coverage would exceed the memory budget (GEO_BARRIER_MEMORY, default ¾ of "
            "the available memory) are refused."
        ),
        epilog=options.EPILOG,
    )
    options.add_zone_options(ch)
    options.add_cache_options(ch)
    ch.add_argument("--before", required=True, metavar="FILE", help="raster of the first epoch")
    ch.add_argument("--after", required=True, metavar="FILE", help="raster of the second epoch")
    options.categorical_opt.add_to(ch, help="class rasters: transition matrix")
    options.add_table_options(ch)
    ch.set_defaults(func=run)
    return ch


def run(args: argparse.Namespace) -> int:
    """Run ``barrier change``: the table to standard output or ``-o`` with a manifest.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line of ``barrier change`` (see :func:`add_parser`).

    Returns
    -------
    int
        Exit code 0.
    """
    from geo.change import continuous_change, transition_matrix
    from geo.tables import in_units, write_table

    fmt = output_format(args)
    inputs = [*zone_inputs(args), ("before", Path(args.before)), ("after", Path(args.after))]
    if args.output:
        refuse_input_as_output(args.output, [*inputs, ("membership", args.membership)])
    zone_set = load_zones(args)
    if args.categorical:
        table = transition_matrix(zone_set, args.before, args.after)
    else:
        table = (
            continuous_change(zone_set, args.before, args.after).rename_axis("zone").reset_index()
        )
    # the table convention: identifier, names and level first
    names = (
        pd.DataFrame(zone_set[["name_zh", "name_en", "level"]]).rename_axis("zone").reset_index()
    )
    table = in_units(names.merge(table, on="zone", how="right"), args.units)
    if not args.output:
        emit(table, fmt, **shown(args))
        return 0
    out = write_table(table, args.output, fmt, **shown(args))
    params = {
        **zone_parameters(args, "change", zone_set),
        "before": str(Path(args.before).absolute()),
        "after": str(Path(args.after).absolute()),
        "band": 1,
        "categorical": args.categorical,
        "units": args.units,
        **shown_record(args, fmt),
        "official": False,
    }
    side = write_manifest(out, inputs, params)
    print(f"barrier change: wrote {out} and {side.name}", file=sys.stderr)
    return 0
