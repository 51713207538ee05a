"""``barrier lookup``: resolve a place name or alias to its adcode."""

from __future__ import annotations

import argparse

from geo import boundaries
from geo.cli import options

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``lookup`` to the subcommands.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The subcommands of ``barrier``.

    Returns
    -------
    argparse.ArgumentParser
    """
    look = subparsers.add_parser(
        "lookup", help="resolve a place name or alias to its adcode", epilog=options.EPILOG
    )
    look.add_argument("name", help="Chinese, English or pinyin name, alias, or adcode")
    look.add_argument("--level", choices=boundaries.LEVELS)
    look.set_defaults(func=run)
    return look


def run(args: argparse.Namespace) -> int:
    """Run ``barrier lookup``: print adcode, level and names, tab-separated.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line of ``barrier lookup`` (see :func:`add_parser`).

    Returns
    -------
    int
        Exit code 0.
    """
    place = boundaries.lookup(args.name, level=args.level)
    print(f"{place.adcode}\t{place.level}\t{place.name_zh}\t{place.name_en}")
    return 0
