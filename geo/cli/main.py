"""The ``barrier`` command group: the parser of every subcommand and the error handling."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from geo import __version__, zonal
from geo.cli import (
    bench,
    change,
    fetch,
    lakes,
    layers,
    lookup,
    options,
    progress,
    report,
    series,
    stats,
    trend,
    zones,
)
from geo.cli import map as map_command
from geo.cli.helpers import coverage_folder
from geo.data import remembered_digests
from geo.errors import GeoError, GeoWarning

__all__ = ["COMMANDS", "build_parser", "main"]

#: The subcommand modules, in the order of ``barrier --help``; each has ``add_parser`` and ``run``.
COMMANDS = (
    report, zones, layers, stats, map_command, change, series, trend, lakes, progress, bench,
    lookup, fetch,
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``barrier`` and all its subcommands.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog="barrier",
        description="Inner Mongolia ecological security barrier: statistics, maps and reports.",
        epilog=options.EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"barrier {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``barrier`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit code.

    Exit codes: 0 success; 2 bad usage or bad input (one line on stderr naming the input and
    the fix, no traceback); 1 an unexpected internal error (with traceback, please report it);
    130 interrupted. Warnings (:class:`geo.errors.GeoWarning`) are printed as one line each.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after ``barrier``.

    Returns
    -------
    int
        The exit code.
    """
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "bench":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "bench":
        args.options = [*extra, *args.options]

    def one_line(message, category, *_args, **_kwargs):
        print(f"barrier {args.command}: warning: {message}", file=sys.stderr)

    try:
        import rasterio

        with (
            warnings.catch_warnings(),
            zonal.set_options(cache_dir=coverage_folder(args)),
            remembered_digests(),  # one run: each unchanged input file is hashed once
            # the commands stream every raster once: GDAL's block cache (5 % of the RAM by
            # default) would only hold decoded blocks never read again
            rasterio.Env(GDAL_CACHEMAX=zonal.get_options()["gdal_cachemax_mb"]),
        ):
            warnings.simplefilter("default", GeoWarning)
            warnings.showwarning = one_line
            return args.func(args)
    except GeoError as exc:
        print(f"barrier {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"barrier {args.command}: interrupted; no partial output was kept", file=sys.stderr)
        return 130
