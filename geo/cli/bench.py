"""``barrier bench``: side-by-side benchmark against exactextract and rasterstats."""

from __future__ import annotations

import argparse
from pathlib import Path

from geo.cli import options
from geo.errors import UsageError

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
        description="Runs benchmarks/zonal.py (needs a source checkout); options are passed on.",
        epilog=options.EPILOG,
    )
    bench.add_argument("options", nargs=argparse.REMAINDER, help="e.g. --resolution 250 --quick")
    bench.set_defaults(func=run)
    return bench


def run(args: argparse.Namespace) -> int:
    """Run ``barrier bench`` with the options passed on.

    Returns
    -------
    int
        The benchmark's exit code.
    """
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "zonal.py"
    if not script.is_file():
        raise UsageError(
            "barrier bench needs the project's source checkout (benchmarks/zonal.py); "
            "run it from a git clone"
        )
    spec = importlib.util.spec_from_file_location("geo_bench_zonal", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return int(module.main(args.options) or 0)
