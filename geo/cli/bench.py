"""``barrier bench``: side-by-side benchmark against exactextract and rasterstats."""

from __future__ import annotations

import argparse

from geo.cli import options

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``bench`` to the subcommands.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The subcommands of ``barrier``.

    Returns
    -------
    argparse.ArgumentParser
    """
    bench = subparsers.add_parser(
        "bench",
        help="side-by-side benchmark against exactextract and rasterstats",
        description="Runs geo.bench (also benchmarks/zonal.py); options are passed on.",
        epilog=options.EPILOG,
    )
    bench.add_argument("options", nargs=argparse.REMAINDER, help="e.g. --resolution 250 --quick")
    bench.set_defaults(func=run)
    return bench


def run(args: argparse.Namespace) -> int:
    """Run ``barrier bench`` with the options passed on.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line of ``barrier bench`` (see :func:`add_parser`).

    Returns
    -------
    int
        The benchmark's exit code.
    """
    from geo.bench import main  # the code ships in the package: runs from a wheel too

    return int(main(args.options) or 0)
