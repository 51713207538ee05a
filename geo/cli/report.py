"""``barrier report``: the main job on the shipped data, with a progress bar."""

from __future__ import annotations

import argparse
import contextlib
import sys

from geo.cli import official, options
from geo.cli.helpers import check_basemap, run_cache
from geo.errors import UsageError

__all__ = ["ProgressBar", "add_parser", "run", "step_count"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``report`` to the subcommands.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The subcommands of ``barrier``.

    Returns
    -------
    argparse.ArgumentParser
    """
    rep = subparsers.add_parser(
        "report", help="run the main job on the shipped data", epilog=options.EPILOG
    )
    options.out_opt.add_to(rep)
    options.quiet_opt.add_to(rep)
    official.add_options(rep)  # --forest, --grassland, --sandified, --redline (geo.official)
    options.source_crs_opt.add_to(
        rep, help="CRS override for --zones and the official layers (--redline … ; gcj02 …)"
    )
    options.add_cache_options(rep)
    options.force_opt.add_to(rep)
    options.zones_opt.add_to(
        rep,
        required=False,
        metavar="FILE",
        help="your own zone polygons, reported as level 'user'",
    )
    options.id_field_opt.add_to(rep, help="field identifying each of --zones")
    options.name_field_opt.add_to(rep, help="field naming each of --zones")
    options.offline_opt.add_to(rep)
    rep.add_argument(
        "--tables-only", action="store_true", help="skip maps, figures and report.html"
    )
    options.layer_opt.add_to(
        rep,
        required=False,
        default=[],
        help=(
            "a further layer summarised per zone in the tables (repeatable): mean/min/max of "
            f"value layers, class areas of class layers. {options.LAYER_NAMES}"
        ),
    )
    options.data_opt.add_to(rep)
    rep.add_argument("--ndvi", metavar="FILE", help="your NDVI GeoTIFF for vegetation cover")
    rep.add_argument("--ndvi-scale", type=float, metavar="S", help="NDVI = stored × S + O")
    rep.add_argument("--ndvi-offset", type=float, metavar="O", help="see --ndvi-scale")
    options.add_landcover_options(rep)
    options.membership_opt.add_to(rep)
    rep.add_argument("--treated", metavar="FILE", help="treated sandified land polygons (R3)")
    rep.add_argument("--treatable", metavar="FILE", help="treatable sandified land polygons (R3)")
    rep.add_argument(
        "--correction", metavar="FILE", help="polygons with 'layer' and 'value' overriding classes"
    )
    options.basemap_opt.add_to(rep)
    rep.add_argument(
        "--pdf",
        action="store_true",
        help="also write report.pdf (pure Python; report.docx is always written)",
    )
    options.lang_opt.add_to(rep)
    rep.add_argument(
        "--stack",
        action="append",
        metavar="NAME=DIR",
        help=(
            "a folder of yearly layers (a year in each file name), repeatable: per-pixel trends "
            "and yearly series under monitoring/ and a monitoring section in report.html"
        ),
    )
    rep.add_argument(
        "--water", metavar="DIR", help="yearly water masks (JRC classes) for the key lakes"
    )
    rep.add_argument(
        "--official",
        metavar="CSV",
        help="official series (indicator, zone, year, value, source) for the progress sheet",
    )
    rep.set_defaults(func=run)
    return rep


def build_options(args: argparse.Namespace) -> dict:
    """The keywords of :func:`geo.report.build_report` given by the command line.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options of ``barrier report``.

    Returns
    -------
    dict
    """
    return {
        "source_crs": args.source_crs,
        "zones_file": args.zones,
        "zones_id_field": args.id_field,
        "zones_name_field": args.name_field,
        "treated": args.treated,
        "treatable": args.treatable,
        "corrections": args.correction,
        "membership": args.membership,
        "ndvi": args.ndvi,
        "ndvi_scale": args.ndvi_scale,
        "ndvi_offset": args.ndvi_offset,
        "landcover": args.landcover,
        "landcover_scheme": args.landcover_scheme,
        "layers": tuple(args.layer),
        "offline": args.offline,
        "basemap": args.basemap,
        "tables_only": args.tables_only,
        "cache": args.cache,
        "force": args.force,
        "lang": args.lang,
        "pdf": args.pdf,
        "stacks": stack_options(args.stack),
        "water": args.water,
        "official": args.official,
        **official.given(args),  # official layers: redline, forest, grassland, sandified
    }


def stack_options(values: list[str] | None) -> dict[str, str]:
    """``--stack NAME=DIR`` values as a dict (a bare DIR is named after its folder).

    Raises
    ------
    geo.errors.UsageError
        A name given twice, or an empty name or folder.
    """
    from geo.errors import UsageError

    stacks: dict[str, str] = {}
    for value in values or []:
        name, sep, folder = value.partition("=")
        if not sep:
            name, folder = value.rstrip("/").rsplit("/", 1)[-1], value
        if not name.strip() or not folder.strip():
            raise UsageError(f"--stack {value!r}: write NAME=DIR (e.g. ndvi=data/ndvi_yearly)")
        if name in stacks:
            raise UsageError(f"--stack name {name!r} is given twice; name each stack once")
        stacks[name] = folder
    return stacks


def step_count(args: argparse.Namespace) -> int:
    """The number of ``progress(message)`` calls :func:`geo.report.build_report` makes.

    Counted from the steps of the job for these options (a test runs the job and checks the
    count, so a new step cannot leave the progress bar short).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options of ``barrier report``.

    Returns
    -------
    int
        Steps of the run.
    """
    from geo.report import REPORT_LEVELS, SENSITIVITY

    variants = len(SENSITIVITY)
    steps = 1  # derived layers
    steps += 1 if args.correction else 0  # applying corrections
    steps += len(REPORT_LEVELS) + (1 if args.zones else 0)  # indicators per zone set
    steps += variants  # method variants per zone (the verdicts)
    steps += 1  # writing tables
    steps += variants  # method sensitivity, region-wide
    steps += 0 if args.tables_only else 3  # web maps, figures, report.html
    steps += 1 + (1 if args.pdf else 0)  # report.docx, report.pdf
    steps += 5 * len(stack_options(args.stack))  # trends (pixels, 3 zone sets) and series
    steps += 1 if args.water else 0  # key lakes
    return steps + 1  # manifest


def run(args: argparse.Namespace) -> int:
    """Run ``barrier report``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line of ``barrier report`` (see :func:`add_parser`).

    Returns
    -------
    int
        Exit code 0 (errors are raised as :class:`geo.errors.GeoError`).
    """
    from geo.data import use_data_dir
    from geo.report import build_report  # heavy imports only for this command

    if str(args.out).strip() == "":
        raise UsageError("--out needs a folder name, not an empty string")
    check_basemap(args)
    with (
        use_data_dir(args.data) if args.data else contextlib.nullcontext(),
        run_cache(args) as cache,
    ):
        given = {**build_options(args), "cache": cache}
        if args.quiet:
            build_report(args.out, **given)
            return 0
        with ProgressBar(step_count(args)) as step:
            out = build_report(args.out, progress=step, **given)
    print(f"barrier report: done → {out}", file=sys.stderr)
    return 0


class ProgressBar:
    """A rich progress bar on stderr for the report's steps (plain lines when not a terminal).

    Parameters
    ----------
    total : int
        Number of steps (see :func:`step_count`).
    """

    def __init__(self, total: int) -> None:
        self.total = total

    def __enter__(self):
        """Start the bar (or plain lines when stderr is not a terminal) and return it."""
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console(stderr=True)
        self._plain = not console.is_terminal
        self._bar = Progress(
            TextColumn("[bold]barrier report[/]"),
            BarColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            disable=self._plain,
        )
        self._bar.__enter__()
        self._task = self._bar.add_task("starting", total=self.total)
        return self

    def __call__(self, message: str) -> None:
        """Advance by one step, showing ``message``."""
        if self._plain:
            print(f"barrier report: {message}", file=sys.stderr)
        self._bar.update(self._task, advance=1, description=message)

    def __exit__(self, *exc) -> None:
        """Fill the bar to ``total`` and close it."""
        self._bar.update(self._task, completed=self.total)
        self._bar.__exit__(*exc)
