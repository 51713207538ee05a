"""``barrier progress``: progress to the plan's dated targets per zone."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geo.cli import options

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``progress`` to the subcommands.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The subcommands of ``barrier``.

    Returns
    -------
    argparse.ArgumentParser
    """
    p = subparsers.add_parser(
        "progress",
        help="progress to the 2027/2030/2035 targets: trend, projection, status per zone",
        description=(
            "For each targeted indicator (grassland vegetation cover >= 45 %% by 2027, forest "
            "cover 21.98 %% by 2027, treatment of treatable sandified land >= 54.33 %% by 2027, "
            "Ten Kongdui soil and water conservation rate >= 63 %% by 2030 and >= 64 %% by "
            "2035), zone and kind of series (official, proxy): the latest value, the trend, the "
            "projection to the target year with its prediction interval and a status (met, "
            "missed, on track, at risk, off track). progress.csv/.xlsx."
        ),
        epilog=options.EPILOG,
    )
    p.add_argument(
        "--official",
        metavar="CSV",
        help="official series: columns indicator, zone, year, value, source",
    )
    p.add_argument(
        "--proxy",
        metavar="CSV",
        help="remote-sensing series in the same columns (kept apart from the official ones)",
    )
    options.monitor_out_opt.add_to(p)
    p.add_argument(
        "--level", type=float, default=0.9, help="probability of the prediction interval (0.9)"
    )
    options.lang_opt.add_to(p)
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``barrier progress``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line of ``barrier progress`` (see :func:`add_parser`).

    Returns
    -------
    int
        Exit code 0.
    """
    import pandas as pd

    from geo.errors import UsageError
    from geo.monitor import progress_job
    from geo.progress import read_official

    if not args.official and not args.proxy:
        raise UsageError("give --official CSV, --proxy CSV or both")
    frames, inputs = [], []
    if args.official:
        frames.append(read_official(args.official))
        inputs.append(("official series", Path(args.official)))
    if args.proxy:
        frames.append(read_official(args.proxy).assign(kind="proxy"))
        inputs.append(("proxy series", Path(args.proxy)))
    out = progress_job(
        pd.concat(frames, ignore_index=True),
        args.out,
        level=args.level,
        lang=args.lang,
        inputs=inputs,
    )
    print(f"barrier progress: wrote {out.folder}", file=sys.stderr)
    return 0
