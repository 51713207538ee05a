"""``barrier trend``: per-pixel Theil–Sen slope and Mann–Kendall test of a yearly stack."""

from __future__ import annotations

import argparse
import sys

from geo.cli import options

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``trend`` to the subcommands.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The subcommands of ``barrier``.

    Returns
    -------
    argparse.ArgumentParser
    """
    p = subparsers.add_parser(
        "trend",
        help="per-pixel trends of a yearly stack (Theil-Sen, Mann-Kendall) and areas per zone",
        description=(
            "Per pixel: the Theil-Sen slope (units per year) and the Mann-Kendall test "
            "(tie-corrected; --autocorrelation for the Hamed-Rao correction), written as "
            "trend_slope.tif, trend_p.tif, trend_class.tif (1 degrading, 2 stable, 3 improving: "
            "significant at --alpha by the sign of the slope; 0 no data) and trend_n.tif (valid "
            "years). Per zone: trend_<set>.csv/.xlsx with the improving, stable and degrading "
            "areas (km², ha, mu, %%) and the area-weighted mean slope, for --zones and for the "
            "battle zones and their parts. The stack is streamed block by block."
        ),
        epilog=options.EPILOG,
    )
    options.add_zone_options(p)
    options.add_cache_options(p)
    options.add_stack_options(p)
    options.monitor_out_opt.add_to(p)
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    p.add_argument(
        "--min-years",
        type=int,
        default=5,
        metavar="N",
        help="fewest valid years for a trend; pixels with fewer are no data (default 5)",
    )
    p.add_argument(
        "--autocorrelation",
        action="store_true",
        help="Hamed-Rao correction of the Mann-Kendall variance for serial correlation",
    )
    p.add_argument(
        "--sdg-baseline",
        metavar="A-B",
        help="with --sdg-reporting: SDG 15.3.1-style productivity trajectory of two periods",
    )
    p.add_argument("--sdg-reporting", metavar="C-D", help="the reporting period (e.g. 2016-2020)")
    p.add_argument(
        "--no-battles", action="store_true", help="only --zones, not the battle zones and parts"
    )
    options.lang_opt.add_to(p)
    options.quiet_opt.add_to(p)
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``barrier trend``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line of ``barrier trend`` (see :func:`add_parser`).

    Returns
    -------
    int
        Exit code 0.
    """
    from geo.cli.helpers import zone_inputs
    from geo.cli.stackargs import open_stack, progress, zone_sets
    from geo.errors import UsageError
    from geo.monitor import trend_job

    if not 0 < args.alpha < 1:
        raise UsageError(f"--alpha must lie between 0 and 1, not {args.alpha}")
    from geo.stack import parse_years

    if bool(args.sdg_baseline) != bool(args.sdg_reporting):
        raise UsageError("give both --sdg-baseline and --sdg-reporting, or neither")
    periods = None
    if args.sdg_baseline:
        periods = {
            "baseline": parse_years(args.sdg_baseline),
            "reporting": parse_years(args.sdg_reporting),
        }
    stack = open_stack(args)
    sets = zone_sets(args, battles=not args.no_battles)
    out = trend_job(
        stack,
        sets,
        args.out,
        alpha=args.alpha,
        min_years=args.min_years,
        autocorrelation=args.autocorrelation,
        periods=periods,
        lang=args.lang,
        inputs=zone_inputs(args),
        parameters={"zones": str(args.zones), "stack": str(args.stack)},
        progress=progress(args),
    )
    print(f"barrier trend: wrote {out.folder}", file=sys.stderr)
    return 0
