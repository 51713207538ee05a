"""``barrier series``: one row per zone and year from a yearly stack."""

from __future__ import annotations

import argparse
import sys

from geo.cli import options

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``series`` to the subcommands.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The subcommands of ``barrier``.

    Returns
    -------
    argparse.ArgumentParser
    """
    p = subparsers.add_parser(
        "series",
        help="yearly values per zone from a stack (tables and small-multiple charts)",
        description=(
            "Each year of the stack summarised over the zones (the coverage is built once): "
            "series_<set>.csv/.xlsx with one row per zone, year and statistic (value layers, "
            "--stat) or class (class layers, --categorical: area in km², ha, mu and %% of the "
            "zone's valid area), and series_<set>.png (one panel per zone)."
        ),
        epilog=options.EPILOG,
    )
    options.add_zone_options(p)
    options.add_cache_options(p)
    options.add_stack_options(p)
    options.monitor_out_opt.add_to(p)
    p.add_argument(
        "--stat",
        action="append",
        metavar="S",
        help="statistic of value layers (repeatable; default mean): mean, area_mean, median, …",
    )
    options.categorical_opt.add_to(p, help="class layers: area of each class per year")
    p.add_argument(
        "--nodata-value",
        action="append",
        type=float,
        default=[],
        metavar="V",
        help="a further stored value meaning no data (repeatable; e.g. 0 for JRC yearly classes)",
    )
    p.add_argument("--battles", action="store_true", help="also the battle zones and their parts")
    options.lang_opt.add_to(p)
    options.quiet_opt.add_to(p)
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``barrier series``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line of ``barrier series`` (see :func:`add_parser`).

    Returns
    -------
    int
        Exit code 0.
    """
    from geo.cli.helpers import zone_inputs
    from geo.cli.stackargs import open_stack, progress, zone_sets
    from geo.errors import UsageError
    from geo.monitor import series_job
    from geo.zonal import STATS

    stats = tuple(args.stat or ("mean",))
    unknown = [s for s in stats if s not in STATS]
    if unknown:
        raise UsageError(f"--stat {unknown[0]!r} is not one of {', '.join(STATS)}")
    if args.categorical and args.stat:
        raise UsageError("--stat applies to value layers; --categorical gives class areas")
    stack = open_stack(args)
    out = series_job(
        stack,
        zone_sets(args, battles=args.battles),
        args.out,
        stats=stats,
        categorical=args.categorical,
        nodata_values=args.nodata_value,
        lang=args.lang,
        inputs=zone_inputs(args),
        parameters={"zones": str(args.zones), "stack": str(args.stack)},
        progress=progress(args),
    )
    print(f"barrier series: wrote {out.folder}", file=sys.stderr)
    return 0
