"""``barrier lakes``: water area of the key lakes per year, anomalies and early warnings."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geo.cli import options

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``lakes`` to the subcommands.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The subcommands of ``barrier``.

    Returns
    -------
    argparse.ArgumentParser
    """
    p = subparsers.add_parser(
        "lakes",
        help="key lakes early warning: water area per year from yearly water masks",
        description=(
            "Water area per lake and year inside each lake zone (the shipped Natural Earth "
            "outlines of Hulun Lake, Ulansuhai, Dali Nur and Gaxun Nur, or --lakes FILE, "
            "buffered by --buffer-km), its anomaly against the baseline years and a warning "
            "when it falls below the baseline mean minus --sd-factor standard deviations or "
            "drops more than --drop-pct %% in a year. Years with more than --max-nodata-pct %% "
            "of the lake zone unobserved are not judged. lakes.csv/.xlsx and lakes.png."
        ),
        epilog=options.EPILOG,
    )
    options.add_stack_options(p)
    options.add_cache_options(p)
    options.monitor_out_opt.add_to(p)
    p.add_argument("--lakes", metavar="FILE", help="lake polygons (fields lake, name_zh, name_en)")
    p.add_argument("--buffer-km", type=float, default=2.0, help="buffer of each outline, km")
    p.add_argument(
        "--scheme",
        choices=("jrc", "mask"),
        default="jrc",
        help="jrc: JRC GSW yearly classes (2, 3 water; 0 no data); mask: 1 water, 0 land",
    )
    p.add_argument(
        "--water-class", action="append", type=int, metavar="C", help="classes counted as water"
    )
    p.add_argument("--baseline", metavar="A-B", help="baseline years (default: all but the last 5)")
    p.add_argument("--sd-factor", type=float, default=2.0, help="warning below mean - k SD (2)")
    p.add_argument("--drop-pct", type=float, default=10.0, help="warning on a yearly fall > X %%")
    p.add_argument("--max-nodata-pct", type=float, default=10.0, help="judge years below X %%")
    options.lang_opt.add_to(p)
    options.quiet_opt.add_to(p)
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``barrier lakes``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line of ``barrier lakes`` (see :func:`add_parser`).

    Returns
    -------
    int
        Exit code 0.
    """
    from geo.cli.stackargs import open_stack, progress
    from geo.lakes import WarningRule, key_lakes
    from geo.monitor import lakes_job
    from geo.stack import parse_years

    rule = WarningRule(
        baseline=parse_years(args.baseline) if args.baseline else None,
        sd_factor=args.sd_factor,
        drop_pct=args.drop_pct,
        max_nodata_pct=args.max_nodata_pct,
    )
    stack = open_stack(args)
    lakes = key_lakes(args.lakes, buffer_km=args.buffer_km)
    inputs = [("lakes", Path(lakes.attrs["source"]))]
    out = lakes_job(
        stack,
        lakes,
        args.out,
        scheme=args.scheme,
        water_classes=args.water_class,
        rule=rule,
        lang=args.lang,
        inputs=inputs,
        parameters={"stack": str(args.stack)},
        progress=progress(args),
    )
    print(f"barrier lakes: wrote {out.folder}", file=sys.stderr)
    return 0
