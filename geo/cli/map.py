"""``barrier map``: an interactive HTML map of one indicator."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geo.cli import options
from geo.cli.helpers import (
    check_basemap,
    load_zones,
    membership,
    refuse_input_as_output,
    write_manifest,
    zone_inputs,
    zone_parameters,
)
from geo.errors import UsageError

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``map`` to the subcommands.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The subcommands of ``barrier``.

    Returns
    -------
    argparse.ArgumentParser
    """
    mp = subparsers.add_parser(
        "map",
        help="an interactive HTML map of one indicator",
        description="Computes the indicator for the zone set and writes a choropleth web map.",
        epilog=options.EPILOG,
    )
    options.add_zone_options(mp)
    options.add_cache_options(mp)
    mp.add_argument("--indicator", required=True, metavar="NAME", help="e.g. grassland_fvc_pct")
    options.output_opt.add_to(mp, metavar="FILE.html", help="default maps/<zones>_<indicator>.html")
    options.add_landcover_options(mp)
    options.offline_opt.add_to(mp)
    options.basemap_opt.add_to(mp)
    options.lang_opt.add_to(
        mp, help="language of the legend, tooltips, popups and search box (both: Chinese first)"
    )
    mp.set_defaults(func=run)
    return mp


def run(args: argparse.Namespace) -> int:
    """Run ``barrier map``: the web map and its manifest.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line of ``barrier map`` (see :func:`add_parser`).

    Returns
    -------
    int
        Exit code 0.
    """
    from geo.indicators import INDICATORS
    from geo.landcover import as_landcover
    from geo.maps import interactive
    from geo.outputs import check_output_file
    from geo.report import compute_all

    if args.indicator not in INDICATORS:
        raise UsageError(
            f"unknown indicator {args.indicator!r}; use one of {', '.join(INDICATORS)}"
        )
    check_basemap(args)
    stem = Path(str(args.zones)).stem
    if args.output is not None:
        check_output_file(args.output)  # an empty -o is a mistake, not "the default"
    out = Path(args.output or Path("maps") / f"{stem}_{args.indicator}.html").expanduser()
    check_output_file(out)
    refuse_input_as_output(
        out, [*zone_inputs(args), ("membership", args.membership), ("landcover", args.landcover)]
    )
    fine = as_landcover(args.landcover, args.landcover_scheme)  # checked before any work
    attributes = None
    if str(args.zones) in options.ZONE_SETS:
        results = compute_all(
            levels=(str(args.zones),), membership=membership(args, args.zones), landcover=fine
        )
        level = str(args.zones)
    else:
        from geo.zones import user_attributes

        own = load_zones(args)
        results, level = compute_all(levels=(), user_zones=own, landcover=fine), "user"
        attributes = user_attributes(own)
    table = results.with_geometry(level)
    column = args.indicator if args.indicator in table.columns else f"{args.indicator}_km2"
    if column not in table.columns:
        raise UsageError(f"indicator {args.indicator!r} was not computed for these zones")
    m = interactive.choropleth(
        table,
        column,
        indicator=INDICATORS[args.indicator],
        basemap=args.basemap,
        offline=args.offline,
        attributes=attributes,
        lang=args.lang,
    )
    interactive.save(m, out)
    side = write_manifest(out, _map_inputs(args, results), _map_parameters(args, results))
    print(f"barrier map: wrote {out} and {side.name}", file=sys.stderr)
    return 0


def _map_inputs(args: argparse.Namespace, results) -> list:
    """Files behind a map: the zones, the shipped rasters and the derived layers used."""
    from geo.data import data_path
    from geo.report import shipped_inputs

    inputs = [*zone_inputs(args), ("layer catalogue", data_path("rasters", "layers.toml"))]
    inputs += [("shipped layer", layer.path) for layer in shipped_inputs()]
    if results.landcover is not None:
        inputs += [("landcover", results.landcover.path)]
        inputs += [("landcover scheme", results.landcover.scheme.path)]
    return inputs + [("derived layer", layer.path) for layer in results.layers.values()]


def _map_parameters(args: argparse.Namespace, results) -> dict:
    zone_set = next(iter(results.zones.values()))
    return {
        **zone_parameters(args, "map", zone_set),
        "indicator": args.indicator,
        "basemap": args.basemap,
        "offline": args.offline,
        "lang": args.lang,
        "derived_layers": {name: layer.source for name, layer in results.layers.items()},
        "landcover": results.landcover.record() if results.landcover is not None else None,
        "official": False,
    }
