"""``barrier stats``: zonal statistics of layers over a zone set."""

from __future__ import annotations

import argparse
import sys

from geo import layers, zonal
from geo.cli import official, options
from geo.cli.helpers import (
    coverage_folder,
    emit,
    load_zones,
    output_format,
    refuse_input_as_output,
    shown,
    shown_record,
    write_manifest,
    zone_inputs,
    zone_parameters,
)
from geo.errors import UsageError

__all__ = ["STATS", "add_parser", "run"]

#: zonal statistics (the area columns always come) plus class fractions and class areas
STATS = (*(s for s in zonal.STATS if s not in zonal.AREA_COLUMNS), "fraction", "area")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``stats`` to the subcommands.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The subcommands of ``barrier``.

    Returns
    -------
    argparse.ArgumentParser
    """
    st = subparsers.add_parser(
        "stats",
        help="zonal statistics of layers over a zone set",
        description="Exact (coverage-weighted) zonal statistics of raster layers over zones.",
        epilog=options.EPILOG,
    )
    options.add_zone_options(st)
    options.layer_opt.add_to(st, required=False, default=[])  # or --landcover alone
    options.categorical_opt.add_to(st)
    options.add_landcover_options(st)
    st.add_argument(
        "--stat",
        action="append",
        choices=STATS,
        metavar="STAT",
        help=f"one of {', '.join(STATS)} (repeatable)",
    )
    st.add_argument(
        "--quantile",
        action="append",
        type=float,
        metavar="Q",
        help="quantile in [0, 1] (repeatable)",
    )
    st.add_argument(
        "--nodata",
        action="append",
        type=float,
        default=[],
        metavar="VALUE",
        help="treat VALUE as nodata in raster files (repeatable)",
    )
    st.add_argument("--method", choices=("exact", "all_touched", "center"), default="exact")
    options.add_table_options(st)
    options.add_cache_options(st, help="cache folder (coverages kept in DIR/coverage)")
    st.add_argument(
        "--long", action="store_true", help="class areas as one row per zone and class, with names"
    )
    st.add_argument(
        "--scheduler",
        metavar="NAME|ADDRESS",
        help="run on Dask: threads, processes, synchronous or a scheduler address tcp://host:port",
    )
    st.add_argument(
        "--chunks", type=int, metavar="N", help="Dask chunk size in cells per side (default ~2048)"
    )
    official.add_options(st)  # --forest, --grassland, --sandified, --redline
    st.set_defaults(func=run)
    return st


def run(args: argparse.Namespace) -> int:
    """Run ``barrier stats``: the table to standard output or ``-o`` with a manifest.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line of ``barrier stats`` (see :func:`add_parser`).

    Returns
    -------
    int
        Exit code 0.
    """
    from geo.landcover import as_landcover
    from geo.provenance import raster_record
    from geo.tables import class_labels, class_table, name_layers, stats_table, write_table

    fmt = output_format(args)
    chosen = official.given(args)
    if not args.layer and not args.landcover and not any(chosen[k] for k in official.KIND_NAMES):
        raise UsageError(
            "give at least one --layer NAME|FILE (or --landcover FILE, or an official layer "
            "such as --forest FILE)"
        )
    fine = as_landcover(args.landcover, args.landcover_scheme)  # checked before any work
    zone_set = load_zones(_zone_args(args))
    specs = name_layers(
        [
            layers.resolve(spec, categorical=args.categorical, nodata=tuple(args.nodata))
            for spec in args.layer
        ]
    )
    inputs = [*zone_inputs(args), *(("layer", s.path) for s in specs)]
    if fine is not None:
        inputs += [("landcover", fine.path), ("landcover scheme", fine.scheme.path)]
    inputs += official.input_files(args)
    kept = _official_layers(args)  # read (and refused) before any work
    if any(str(spec) in layers.catalogue() for spec in args.layer):
        from geo.data import data_path

        # scale, offset and flags of shipped layers come from the catalogue
        inputs.append(("layer catalogue", data_path("rasters", "layers.toml")))
    if args.output:
        refuse_input_as_output(args.output, [*inputs, ("membership", args.membership)])
    stats = args.stat or ["count", "mean"]
    if args.quantile and "quantile" not in stats:
        stats.append("quantile")
    table = stats_table(
        zone_set,
        specs,
        stats,
        method=args.method,
        unit=args.units,
        cache_dir=coverage_folder(args),
        quantiles=args.quantile,
        dask=_dask_options(args),
    )
    if fine is not None:
        table = _with_landcover(table, zone_set, fine, specs, args.units)
    table = _with_official(table, zone_set, kept)
    if args.long:
        table = class_table(table, specs, args.units)
    how = shown(args, class_labels(specs, table.columns, args.lang))
    if not args.output:
        emit(table, fmt, **how)
        return 0
    out = write_table(table, args.output, fmt, **how)
    params = {
        **zone_parameters(args, "stats", zone_set),
        "layers": [raster_record(s) for s in specs],
        "stats": stats,
        "quantiles": args.quantile,
        "nodata": args.nodata,
        "categorical": args.categorical,
        "method": args.method,
        "units": args.units,
        "landcover": fine.record() if fine is not None else None,
        **shown_record(args, fmt),
        "official": bool(kept),
        "official_layers": {kind: layer.source for kind, layer in kept.items()},
    }
    side = write_manifest(out, inputs, params)
    print(f"barrier stats: wrote {out} and {side.name}", file=sys.stderr)
    return 0


def _with_landcover(table, zone_set, fine, specs, unit: str):
    """The table with the land-cover columns (:func:`geo.landcover.table.stats_columns`)."""
    import pandas as pd

    from geo.landcover.table import stats_columns
    from geo.zones import as_zone_set

    extra = stats_columns(as_zone_set(zone_set), fine, specs, unit)
    clash = sorted(set(extra.columns) & set(table.columns))
    if clash:
        raise UsageError(f"--landcover columns {clash} clash with --layer columns; rename the file")
    return pd.concat([table, extra.set_axis(table.index)], axis=1)


def _zone_args(args: argparse.Namespace) -> argparse.Namespace:
    """The options of the zones: --source-crs is the official layers' alone over a shipped set."""
    from geo.cli.options import ZONE_SETS

    given = official.given(args)
    if str(args.zones) in ZONE_SETS and any(given[k] for k in official.KIND_NAMES):
        return argparse.Namespace(**{**vars(args), "source_crs": None})
    return args


def _official_layers(args: argparse.Namespace) -> dict:
    """The official layers of ``--forest``, ``--grassland``, ``--sandified``, ``--redline``."""
    from geo.official import collect

    given = official.given(args)
    if args.long and any(given[kind] for kind in official.KIND_NAMES):
        raise UsageError(
            "--long writes one row per zone and class: the official layers (--forest …) need "
            "the table of one row per zone; drop --long or run stats twice"
        )
    return collect(source_crs=args.source_crs, **given)


def _with_official(table, zone_set, layers: dict):
    """The table with the official values per zone (areas, shares, ``<id>_basis``)."""
    import pandas as pd

    if not layers:
        return table
    extra = pd.DataFrame(official.official_columns(zone_set, layers), index=table.index)
    return pd.concat([table, extra], axis=1)


def _dask_options(args: argparse.Namespace) -> dict | None:
    if args.scheduler is None and args.chunks is None:
        return None
    try:
        import distributed  # noqa: F401 - checked here to give a clear message
    except ImportError:
        raise UsageError(
            "--scheduler/--chunks need Dask: pip install 'geo-barrier[dask]'"
        ) from None
    chunks = (args.chunks, args.chunks) if args.chunks else None
    return {"scheduler": args.scheduler or "threads", "chunks": chunks}
