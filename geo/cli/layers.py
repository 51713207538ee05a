"""``barrier layers``: list the shipped and derived layers."""

from __future__ import annotations

import argparse

import pandas as pd

from geo.cli import options
from geo.cli.helpers import emit

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``layers`` to the subcommands.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The subcommands of ``barrier``.

    Returns
    -------
    argparse.ArgumentParser
    """
    lay = subparsers.add_parser("layers", help="list the shipped layers", epilog=options.EPILOG)
    options.list_format_opt.add_to(lay)
    lay.set_defaults(func=run)
    return lay


def run(args: argparse.Namespace) -> int:
    """Run ``barrier layers``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line of ``barrier layers`` (see :func:`add_parser`).

    Returns
    -------
    int
        Exit code 0.
    """
    from geo import layers
    from geo.layers.derive import derived_layers

    rows = []
    for layer in [*layers.catalogue().values(), *derived_layers().values()]:
        grid = layer.grid()
        xres, yres = grid["res"]
        rows.append(
            {
                "name": layer.name,
                "kind": layer.kind,
                "unit": layer.unit,
                "resolution": f"{xres:.4g}° × {yres:.4g}°"
                if "4326" in str(grid["crs"])
                else f"{xres:g} × {yres:g}",
                "crs": grid["crs"],
                "shape": f"{grid['shape'][1]}×{grid['shape'][0]}",
                "source": layer.source,
                "licence": layer.licence,
            }
        )
    table = pd.DataFrame(rows)
    if args.format == "text":
        with pd.option_context("display.max_colwidth", 60, "display.width", 250):
            emit(table, args.format)
    else:
        emit(table, args.format)
    return 0
