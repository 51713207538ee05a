"""What the time-series subcommands (``trend``, ``series``, ``lakes``) share."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["open_stack", "progress", "zone_sets"]


def open_stack(args: argparse.Namespace):
    """The :class:`geo.stack.Stack` of ``--stack`` and ``--years``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (``stack``: a folder, a multi-band file; ``years``).

    Returns
    -------
    geo.stack.Stack
        The yearly layers on one grid.

    Raises
    ------
    geo.errors.DataError, geo.errors.UsageError
        As :meth:`geo.stack.Stack.open`.
    """
    from geo.stack import Stack

    return Stack.open(Path(args.stack), args.years)


def zone_sets(args: argparse.Namespace, *, battles: bool) -> dict:
    """The zone set of ``--zones`` as a :class:`geo.zones.ZoneSet`, with battle zones if asked.

    The battle zones and their parts are added when ``battles``; the sets are named by level (a
    file given to ``--zones`` is named ``user``).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (``zones`` and the zone options).
    battles : bool
        Add the zone sets ``battle`` and ``battle_part``.

    Returns
    -------
    dict of str to geo.zones.ZoneSet
        The zone sets by name, ``--zones`` first.
    """
    from geo.cli.helpers import load_zones
    from geo.cli.options import ZONE_SETS
    from geo.zones import BATTLE_LEVELS, ZoneSet

    name = str(args.zones) if str(args.zones) in ZONE_SETS else "user"
    sets = {name: ZoneSet.from_frame(load_zones(args), level=None)}
    if battles:
        for level in BATTLE_LEVELS:
            if level != name:
                sets[level] = ZoneSet.load(level)
    return sets


def progress(args: argparse.Namespace):
    """A one-line-per-step progress printer on standard error, or None with ``--quiet``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (``command``, ``quiet``).

    Returns
    -------
    callable or None
        Called with a message before each step; None with ``--quiet``.
    """
    if getattr(args, "quiet", False):
        return None
    return lambda message: print(f"barrier {args.command}: {message}", file=sys.stderr)
