"""``barrier fetch``: yearly public layers cropped to the zones, as COGs with provenance."""

from __future__ import annotations

import argparse
import sys

from geo.cli import options

__all__ = ["FetchBar", "add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``fetch`` to the subcommands.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The subcommands of ``barrier``.

    Returns
    -------
    argparse.ArgumentParser
    """
    from geo.fetch.sources import SOURCES

    p = subparsers.add_parser(
        "fetch",
        help="download yearly public layers (MODIS NDVI, land cover, CLCD …) cropped to zones",
        description=(
            "Fetch the years of a public source cropped to the zones' bounding box, as "
            "cloud-optimised GeoTIFFs, one per year, in DIR/<source>/ (modis-ndvi: "
            "DIR/modis-ndvi-max/ and DIR/modis-ndvi-mean/) with provenance.json (items, "
            "URLs, dates, SHA-256, licence). Resumable: years already fetched are skipped. "
            "Each folder is a --stack for trend and series. Sources: "
            + "; ".join(
                f"{s.name} ({s.resolution}, {s.years[0]}-{s.years[1]})" for s in SOURCES.values()
            )
        ),
        epilog=options.EPILOG,
    )
    p.add_argument("source", choices=tuple(SOURCES), metavar="SOURCE", help=", ".join(SOURCES))
    options.add_zone_options(p)
    p.add_argument("--years", required=True, metavar="A-B", help="years to fetch, e.g. 2001-2024")
    p.add_argument(
        "--out", default="fetched", metavar="DIR", help="parent output folder (default fetched/)"
    )
    p.add_argument(
        "--catalog",
        metavar="URL",
        help="STAC API (or checksum list for clcd, jrc-water) instead of the source's default",
    )
    p.add_argument(
        "--from",
        dest="prepared",
        metavar="DIR",
        help="no network: copy the same layout fetched elsewhere, checked against its checksums",
    )
    options.quiet_opt.add_to(p)
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``barrier fetch``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line of ``barrier fetch`` (see :func:`add_parser`).

    Returns
    -------
    int
        Exit code 0.
    """
    from geo.errors import UsageError
    from geo.fetch import fetch, from_folder, get_source
    from geo.stack import parse_years

    source = get_source(args.source)
    years = parse_years(args.years)
    if args.prepared and args.catalog:
        raise UsageError("give --catalog (fetch) or --from (copy prepared files), not both")
    with FetchBar(years[1] - years[0] + 1, quiet=args.quiet) as bar:
        if args.prepared:
            folders = from_folder(source, args.prepared, years, args.out, progress=bar)
        else:
            folders = fetch(
                source, _bbox(args), years, args.out, catalog=args.catalog, progress=bar
            )
    for folder in folders:
        print(f"barrier fetch: wrote {folder}", file=sys.stderr)
    return 0


def _bbox(args: argparse.Namespace) -> tuple[float, float, float, float]:
    from geo.cli.helpers import load_zones

    w, s, e, n = load_zones(args).to_crs("EPSG:4326").total_bounds
    return float(w), float(s), float(e), float(n)


class FetchBar:
    """A rich progress bar of the years on stderr (plain lines when not a terminal).

    Parameters
    ----------
    total : int
        Number of years.
    quiet : bool
        Print nothing.
    """

    def __init__(self, total: int, *, quiet: bool = False) -> None:
        self.total, self.quiet = total, quiet

    def __enter__(self):
        """Start the bar and return it."""
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console(stderr=True)
        self._plain = not console.is_terminal
        self._bar = Progress(
            TextColumn("[bold]barrier fetch[/]"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} years {task.description}"),
            TimeElapsedColumn(),
            console=console,
            disable=self._plain or self.quiet,
        )
        self._bar.__enter__()
        self._task = self._bar.add_task("", total=self.total)
        return self

    def __call__(self, message: str, advance: int = 0) -> None:
        """Show ``message``; advance by ``advance`` years."""
        if self.quiet:
            return
        if self._plain:
            print(f"barrier fetch: {message}", file=sys.stderr)
        self._bar.update(self._task, advance=advance, description=message)

    def __exit__(self, *exc) -> None:
        """Close the bar."""
        self._bar.__exit__(*exc)
