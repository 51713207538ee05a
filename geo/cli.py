"""The ``barrier`` command.

Exit codes: 0 success; 2 bad usage or bad input (one line on stderr naming the input and
the fix, no traceback); 1 an unexpected internal error (with traceback, please report it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from geo import __version__, boundaries, layers, zonal
from geo.errors import GeoError, GeoWarning, UsageError

__all__ = ["main"]

# zonal statistics (the area columns always come) plus class fractions and class areas
_STATS = (*(s for s in zonal.STATS if s not in zonal.AREA_COLUMNS), "fraction", "area")
#: Zone sets listed by ``barrier zones`` and accepted by ``--zones``.
ZONE_SETS = ("province", "league", "county", "battle", "battle_part")
_MEMBERSHIP_HELP = "your battle-zone membership table (default data/zones/battle_zones.csv)"
#: as geo.maps.interactive.BASEMAPS (not imported: folium is slow to load for every command)
_BASEMAPS = ("hillshade", "none", "osm", "tianditu", "amap")
_BASEMAP_HELP = (
    "web-map basemap: hillshade (default; the relief of the shipped DEM embedded in the page, "
    "no network request: opens offline), none, or an online one that loads tiles from its host "
    "over the hillshade: osm (OpenStreetMap), tianditu (天地图, needs TIANDITU_KEY), amap (高德, "
    "data shifted to GCJ-02)"
)
_OFFLINE_HELP = (
    "deprecated, kept for old scripts: maps are self-contained by default; refuses an online "
    "--basemap"
)
_EPILOG = (
    "Documentation: README.md. Exit code 2 means bad input or usage; the message says what to fix."
)


_LAYER_NAMES = (
    "Column prefix: the layer's name, or a file's stem (x.tif → x); file_x if the stem is a "
    "shipped/derived layer name; a/x.tif and b/x.tif → a_x, b_x; a repeat → x_2"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="barrier",
        description="Inner Mongolia ecological security barrier: statistics, maps and reports.",
        epilog=_EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"barrier {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    rep = sub.add_parser("report", help="run the main job on the shipped data", epilog=_EPILOG)
    rep.add_argument(
        "--out", default="report", metavar="DIR", help="output folder (default: report/)"
    )
    rep.add_argument("--quiet", action="store_true", help="no progress messages")
    rep.add_argument("--redline", metavar="FILE", help="official red-line polygons (else a proxy)")
    rep.add_argument("--source-crs", metavar="CRS", help="CRS override for --redline (gcj02 …)")
    rep.add_argument("--cache", metavar="DIR", help="cache folder (default ~/.cache/geo-barrier)")
    rep.add_argument("--force", action="store_true", help="recompute cached layers and coverages")
    rep.add_argument(
        "--zones", metavar="FILE", help="your own zone polygons, reported as level 'user'"
    )
    rep.add_argument("--id-field", metavar="FIELD", help="field identifying each of --zones")
    rep.add_argument("--name-field", metavar="FIELD", help="field naming each of --zones")
    rep.add_argument("--offline", action="store_true", help=_OFFLINE_HELP)
    rep.add_argument(
        "--tables-only", action="store_true", help="skip maps, figures and report.html"
    )
    rep.add_argument(
        "--layer",
        action="append",
        default=[],
        metavar="NAME|FILE",
        help=(
            "a further layer summarised per zone in the tables (repeatable): mean/min/max of "
            f"value layers, class areas of class layers. {_LAYER_NAMES}"
        ),
    )
    rep.add_argument(
        "--data", metavar="DIR", help="use this data folder instead of the shipped one"
    )
    rep.add_argument("--ndvi", metavar="FILE", help="your NDVI GeoTIFF for vegetation cover")
    rep.add_argument("--ndvi-scale", type=float, metavar="S", help="NDVI = stored × S + O")
    rep.add_argument("--ndvi-offset", type=float, metavar="O", help="see --ndvi-scale")
    rep.add_argument("--membership", metavar="CSV", help=_MEMBERSHIP_HELP)
    rep.add_argument("--treated", metavar="FILE", help="treated sandified land polygons (R3)")
    rep.add_argument("--treatable", metavar="FILE", help="treatable sandified land polygons (R3)")
    rep.add_argument(
        "--correction", metavar="FILE", help="polygons with 'layer' and 'value' overriding classes"
    )
    rep.add_argument("--basemap", choices=_BASEMAPS, default=_BASEMAPS[0], help=_BASEMAP_HELP)
    rep.add_argument(
        "--pdf",
        action="store_true",
        help="also write report.pdf (pure Python; report.docx is always written)",
    )
    _lang_option(rep)
    rep.set_defaults(func=_cmd_report)

    zones = sub.add_parser("zones", help="list zone sets and their members", epilog=_EPILOG)
    zones.add_argument("set", nargs="?", choices=ZONE_SETS, help="one zone set (default: all)")
    zones.add_argument("--format", choices=("text", "csv", "json"), default="text")
    zones.add_argument("--membership", metavar="CSV", help=_MEMBERSHIP_HELP)
    zones.set_defaults(func=_cmd_zones)

    lay = sub.add_parser("layers", help="list the shipped layers", epilog=_EPILOG)
    lay.add_argument("--format", choices=("text", "csv", "json"), default="text")
    lay.set_defaults(func=_cmd_layers)

    st = sub.add_parser(
        "stats",
        help="zonal statistics of layers over a zone set",
        description="Exact (coverage-weighted) zonal statistics of raster layers over zones.",
        epilog=_EPILOG,
    )
    _zone_options(st)
    st.add_argument(
        "--layer",
        action="append",
        required=True,
        metavar="NAME|FILE",
        help=f"shipped layer or GeoTIFF (repeatable). {_LAYER_NAMES}",
    )
    st.add_argument(
        "--categorical",
        action="store_true",
        help="treat raster files given with --layer as classes",
    )
    st.add_argument(
        "--stat",
        action="append",
        choices=_STATS,
        metavar="STAT",
        help=f"one of {', '.join(_STATS)} (repeatable)",
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
    _table_options(st)
    st.add_argument("--cache", metavar="DIR", help="keep coverages in DIR for later runs")
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
    st.set_defaults(func=_cmd_stats)

    mp = sub.add_parser(
        "map",
        help="an interactive HTML map of one indicator",
        description="Computes the indicator for the zone set and writes a choropleth web map.",
        epilog=_EPILOG,
    )
    _zone_options(mp)
    mp.add_argument("--indicator", required=True, metavar="NAME", help="e.g. grassland_fvc_pct")
    mp.add_argument(
        "-o", "--output", metavar="FILE.html", help="default maps/<zones>_<indicator>.html"
    )
    mp.add_argument("--offline", action="store_true", help=_OFFLINE_HELP)
    mp.add_argument("--basemap", choices=_BASEMAPS, default=_BASEMAPS[0], help=_BASEMAP_HELP)
    mp.add_argument(
        "--lang",
        choices=("zh", "en", "both"),
        default="both",
        help="language of the legend, tooltips, popups and search box (both: Chinese first)",
    )
    mp.set_defaults(func=_cmd_map)

    ch = sub.add_parser(
        "change",
        help="change between two epochs of a layer, per zone",
        description=(
            "Class layers: transition matrix (area from class i to class j; any integer rasters, "
            "at most 256 classes each). Continuous layers: area-weighted mean of each epoch over "
            "cells valid in both, and the change. Both rasters are streamed by window; zones "
            "whose coverage would exceed the memory budget (GEO_BARRIER_MEMORY, default ¾ of "
            "the available memory) are refused."
        ),
        epilog=_EPILOG,
    )
    _zone_options(ch)
    ch.add_argument("--before", required=True, metavar="FILE", help="raster of the first epoch")
    ch.add_argument("--after", required=True, metavar="FILE", help="raster of the second epoch")
    ch.add_argument("--categorical", action="store_true", help="class rasters: transition matrix")
    _table_options(ch)
    ch.set_defaults(func=_cmd_change)

    bench = sub.add_parser(
        "bench",
        help="side-by-side benchmark against exactextract and rasterstats",
        description="Runs benchmarks/zonal.py (needs a source checkout); options are passed on.",
        epilog=_EPILOG,
    )
    bench.add_argument("options", nargs=argparse.REMAINDER, help="e.g. --resolution 250 --quick")
    bench.set_defaults(func=_cmd_bench)

    look = sub.add_parser(
        "lookup", help="resolve a place name or alias to its adcode", epilog=_EPILOG
    )
    look.add_argument("name", help="Chinese, English or pinyin name, alias, or adcode")
    look.add_argument("--level", choices=boundaries.LEVELS)
    look.set_defaults(func=_cmd_lookup)
    return parser


def _zone_options(parser: argparse.ArgumentParser) -> None:
    """Options choosing the zones, shared by stats, map and change."""
    parser.add_argument(
        "--zones",
        required=True,
        metavar="SET|FILE",
        help=f"one of {', '.join(ZONE_SETS)} or a polygon file (gpkg, shp, geojson …)",
    )
    parser.add_argument("--zones-layer", metavar="NAME", help="layer of a multi-layer zone file")
    parser.add_argument("--id-field", metavar="FIELD", help="field identifying each zone of a file")
    parser.add_argument("--name-field", metavar="FIELD", help="field naming each zone of a file")
    parser.add_argument(
        "--source-crs",
        metavar="CRS",
        help="override the zone file's CRS; gcj02 for Amap/Gaode coordinates",
    )
    parser.add_argument("--membership", metavar="CSV", help=_MEMBERSHIP_HELP)


def _lang_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lang",
        choices=("zh", "en", "both"),
        default="both",
        help=(
            "language of CSV/XLSX headers, class names and yes/no (是/否); both (default) keeps "
            "the column ids as CSV header"
        ),
    )


def _table_options(parser: argparse.ArgumentParser) -> None:
    """Options of a written table, shared by stats and change."""
    from geo.units import AREA_UNITS

    parser.add_argument(
        "--units",
        choices=AREA_UNITS,
        default="km2",
        help="unit of area columns: km2, ha, mu, wanmu (万亩), yimu (亿亩), wanha (万公顷)",
    )
    parser.add_argument(
        "--precision",
        choices=("rounded", "full"),
        default="rounded",
        help=(
            "CSV numbers: rounded per column unit (km² 3 decimals, ha 1, mu 0, 万亩 2, %% 2, "
            "fractions 6, other 6 significant digits; default) or full (every digit, for "
            "programs); JSON and XLSX keep every digit"
        ),
    )
    _lang_option(parser)
    parser.add_argument(
        "--format", choices=("csv", "json", "xlsx"), help="default: from -o, else csv"
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write here (default: standard output)"
    )


def _load_zones(args: argparse.Namespace):
    from geo import zones
    from geo.tables import clean_text

    gdf = zones.load(
        args.zones,
        layer=args.zones_layer,
        id_field=args.id_field,
        name_field=args.name_field,
        source_crs=args.source_crs,
        membership=_membership(args, args.zones),
    )
    # names pasted from word processors may hold control characters: say so once, here
    return clean_text(gdf, gdf.attrs.get("source", args.zones))


def _zone_inputs(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """The files behind ``--zones`` (and ``--membership``), with their roles, for provenance."""
    from geo.boundaries import _BOUNDARY_FILE, _NAMES_FILE
    from geo.data import data_path
    from geo.zones import _MEMBERSHIP_FILE, BATTLE_LEVELS

    spec = str(args.zones)
    if spec not in ZONE_SETS:
        return [("zones", Path(spec))]
    files = [("boundaries", data_path(*_BOUNDARY_FILE)), ("names", data_path(*_NAMES_FILE))]
    if spec in BATTLE_LEVELS:
        files.append(("membership", Path(args.membership or data_path(*_MEMBERSHIP_FILE))))
    return files


def _zone_parameters(args: argparse.Namespace, command: str, zone_set) -> dict:
    """The manifest's record of the command and how its zones were read."""
    return {
        "command": command,
        "zones": str(args.zones),
        "zones_source": zone_set.attrs.get("source"),
        "zones_layer": _zones_layer(args, zone_set),
        "id_field": args.id_field,
        "name_field": getattr(args, "name_field", None),
        "source_crs": args.source_crs,
    }


def _zones_layer(args: argparse.Namespace, zone_set) -> str | None:
    """The layer of a zone file that was read (the first one unless --zones-layer)."""
    from geo.provenance import vector_layer

    if str(args.zones) in ZONE_SETS:
        return None
    return vector_layer(args.zones, args.zones_layer, zone_set)


def _write_manifest(out: Path, inputs: list, params: dict) -> Path:
    """Write ``<out>.manifest.json`` beside a single output file."""
    from geo.outputs import atomic_path
    from geo.provenance import manifest

    record = manifest(inputs, [out], out.parent, params)
    side = out.with_name(out.name + ".manifest.json")
    with atomic_path(side) as tmp:
        tmp.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return side


def _emit(
    table: pd.DataFrame,
    fmt: str,
    *,
    precision: str = "full",
    lang: str = "both",
    labels: dict | None = None,
) -> None:
    from geo.tables import _check_unique_columns

    _check_unique_columns(table, "the table")  # to_dict would drop all but one silently
    if fmt == "csv":
        from geo.tables import clean_text, csv_safe, for_people

        # the same table as written with -o: rounded, yes/no and header in --lang
        table = for_people(table, lang=lang, precision=precision, labels=labels)
        # stdout is often redirected into a .csv opened in a spreadsheet: defuse it the same way
        sys.stdout.write(csv_safe(clean_text(table, "standard output")).to_csv(index=False))
    elif fmt == "json":
        # missing values as null: json.dumps writes NaN, which is not JSON
        records = table.astype(object).where(table.notna(), None).to_dict(orient="records")
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=1, allow_nan=False) + "\n")
    else:
        sys.stdout.write(table.to_string(index=False) + "\n")


def _check_basemap(args: argparse.Namespace) -> None:
    """``--offline`` (deprecated; maps are self-contained by default) refuses online tiles."""
    if args.offline and args.basemap not in ("hillshade", "none"):
        raise UsageError(
            f"--offline and --basemap {args.basemap} contradict each other: the {args.basemap} "
            "tiles come from the internet. Maps are self-contained by default now; drop "
            "--offline to use online tiles, or drop --basemap"
        )


def _cmd_report(args: argparse.Namespace) -> int:
    from geo.report import build_report  # heavy imports only for this command

    if str(args.out).strip() == "":
        raise UsageError("--out needs a folder name, not an empty string")
    _check_basemap(args)
    if args.data:
        from geo.data import ENV_VAR

        os.environ[ENV_VAR] = args.data  # geo.data resolves every shipped path from it

    options = {
        "redline": args.redline,
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
        "layers": tuple(args.layer),
        "offline": args.offline,
        "basemap": args.basemap,
        "tables_only": args.tables_only,
        "cache": args.cache,
        "force": args.force,
        "lang": args.lang,
        "pdf": args.pdf,
    }
    if args.quiet:
        build_report(args.out, **options)
        return 0
    with _ProgressBar() as step:
        out = build_report(args.out, progress=step, **options)
    print(f"barrier report: done → {out}", file=sys.stderr)
    return 0


class _ProgressBar:
    """A rich progress bar on stderr for the report's steps (plain lines when not a terminal)."""

    _STEPS = 12  # derived layers, 6 zone sets, tables, maps, figures, html, manifest

    def __enter__(self):
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
        self._task = self._bar.add_task("starting", total=self._STEPS)
        return self

    def __call__(self, message: str) -> None:
        if self._plain:
            print(f"barrier report: {message}", file=sys.stderr)
        self._bar.update(self._task, advance=1, description=message)

    def __exit__(self, *exc) -> None:
        self._bar.update(self._task, completed=self._STEPS)
        self._bar.__exit__(*exc)


def _cmd_zones(args: argparse.Namespace) -> int:
    frames = []
    from geo import zones

    for level in [args.set] if args.set else ZONE_SETS:
        gdf = zones.load(level, membership=_membership(args, level))
        id_col = "adcode" if "adcode" in gdf.columns else "zone"
        part_of = "league_adcode" if "league_adcode" in gdf.columns else "members"
        frame = pd.DataFrame(gdf[["level", id_col, "name_zh", "name_en", part_of]])
        frames.append(
            frame.set_axis(["level", "id", "name_zh", "name_en", "parent_or_members"], axis=1)
        )
    table = pd.concat(frames, ignore_index=True)
    if args.format == "text":
        counts = table.groupby("level", sort=False).size()
        sys.stdout.write("zone sets: " + ", ".join(f"{k} ({v})" for k, v in counts.items()) + "\n")
    _emit(table, args.format)
    return 0


def _cmd_layers(args: argparse.Namespace) -> int:
    from geo.layers.derive import derived_layers

    rows = []
    for layer in [*layers.catalogue().values(), *derived_layers().values()]:
        grid = layer.grid()
        xres, yres = grid["res"]
        rows.append(
            {
                "name": layer.name,
                "kind": layer.kind,
                "unit": layer.unit,
                "resolution": f"{xres:.4g}° × {yres:.4g}°"
                if "4326" in str(grid["crs"])
                else f"{xres:g} × {yres:g}",
                "crs": grid["crs"],
                "shape": f"{grid['shape'][1]}×{grid['shape'][0]}",
                "source": layer.source,
                "licence": layer.licence,
            }
        )
    table = pd.DataFrame(rows)
    if args.format == "text":
        with pd.option_context("display.max_colwidth", 60, "display.width", 250):
            _emit(table, args.format)
    else:
        _emit(table, args.format)
    return 0


def _cmd_stats(args: argparse.Namespace) -> int:
    from geo.provenance import raster_record
    from geo.tables import class_labels, class_table, name_layers, stats_table, write_table

    fmt = _output_format(args)
    zone_set = _load_zones(args)
    specs = name_layers(
        [
            layers.resolve(spec, categorical=args.categorical, nodata=tuple(args.nodata))
            for spec in args.layer
        ]
    )
    inputs = [*_zone_inputs(args), *(("layer", s.path) for s in specs)]
    if any(str(spec) in layers.catalogue() for spec in args.layer):
        from geo.data import data_path

        # scale, offset and flags of shipped layers come from the catalogue
        inputs.append(("layer catalogue", data_path("rasters", "layers.toml")))
    if args.output:
        _refuse_input_as_output(args.output, [*inputs, ("membership", args.membership)])
    stats = args.stat or ["count", "mean"]
    if args.quantile and "quantile" not in stats:
        stats.append("quantile")
    table = stats_table(
        zone_set,
        specs,
        stats,
        method=args.method,
        unit=args.units,
        cache_dir=args.cache,
        quantiles=args.quantile,
        dask=_dask_options(args),
    )
    if args.long:
        table = class_table(table, specs, args.units)
    shown = _shown(args, class_labels(specs, table.columns, args.lang))
    if not args.output:
        _emit(table, fmt, **shown)
        return 0
    out = write_table(table, args.output, fmt, **shown)
    params = {
        **_zone_parameters(args, "stats", zone_set),
        "layers": [raster_record(s) for s in specs],
        "stats": stats,
        "quantiles": args.quantile,
        "nodata": args.nodata,
        "categorical": args.categorical,
        "method": args.method,
        "units": args.units,
        **_shown_record(args, fmt),
        "official": False,
    }
    side = _write_manifest(out, inputs, params)
    print(f"barrier stats: wrote {out} and {side.name}", file=sys.stderr)
    return 0


def _cmd_map(args: argparse.Namespace) -> int:
    from geo.indicators import INDICATORS
    from geo.maps import interactive
    from geo.outputs import check_output_file
    from geo.report import compute_all

    if args.indicator not in INDICATORS:
        raise UsageError(
            f"unknown indicator {args.indicator!r}; use one of {', '.join(INDICATORS)}"
        )
    _check_basemap(args)
    stem = Path(str(args.zones)).stem
    if args.output is not None:
        check_output_file(args.output)  # an empty -o is a mistake, not "the default"
    out = Path(args.output or Path("maps") / f"{stem}_{args.indicator}.html").expanduser()
    check_output_file(out)
    _refuse_input_as_output(out, [*_zone_inputs(args), ("membership", args.membership)])
    attributes = None
    if str(args.zones) in ZONE_SETS:
        results = compute_all(levels=(str(args.zones),), membership=_membership(args, args.zones))
        level = str(args.zones)
    else:
        from geo.zones import user_attributes

        own = _load_zones(args)
        results, level = compute_all(levels=(), user_zones=own), "user"
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
    side = _write_manifest(out, _map_inputs(args, results), _map_parameters(args, results))
    print(f"barrier map: wrote {out} and {side.name}", file=sys.stderr)
    return 0


def _map_inputs(args: argparse.Namespace, results) -> list:
    """Files behind a map: the zones, the shipped rasters and the derived layers used."""
    from geo.data import data_path
    from geo.report import _shipped_inputs

    inputs = [*_zone_inputs(args), ("layer catalogue", data_path("rasters", "layers.toml"))]
    inputs += [("shipped layer", layer.path) for layer in _shipped_inputs()]
    return inputs + [("derived layer", layer.path) for layer in results.layers.values()]


def _map_parameters(args: argparse.Namespace, results) -> dict:
    zone_set = next(iter(results.zones.values()))
    return {
        **_zone_parameters(args, "map", zone_set),
        "indicator": args.indicator,
        "basemap": args.basemap,
        "offline": args.offline,
        "lang": args.lang,
        "derived_layers": {name: layer.source for name, layer in results.layers.items()},
        "official": False,
    }


def _cmd_change(args: argparse.Namespace) -> int:
    from geo.change import continuous_change, transition_matrix
    from geo.tables import in_units, write_table

    fmt = _output_format(args)
    inputs = [*_zone_inputs(args), ("before", Path(args.before)), ("after", Path(args.after))]
    if args.output:
        _refuse_input_as_output(args.output, [*inputs, ("membership", args.membership)])
    zone_set = _load_zones(args)
    if args.categorical:
        table = transition_matrix(zone_set, args.before, args.after)
    else:
        table = (
            continuous_change(zone_set, args.before, args.after).rename_axis("zone").reset_index()
        )
    # the table convention: identifier, names and level first
    names = (
        pd.DataFrame(zone_set[["name_zh", "name_en", "level"]]).rename_axis("zone").reset_index()
    )
    table = in_units(names.merge(table, on="zone", how="right"), args.units)
    if not args.output:
        _emit(table, fmt, **_shown(args))
        return 0
    out = write_table(table, args.output, fmt, **_shown(args))
    params = {
        **_zone_parameters(args, "change", zone_set),
        "before": str(Path(args.before).absolute()),
        "after": str(Path(args.after).absolute()),
        "band": 1,
        "categorical": args.categorical,
        "units": args.units,
        **_shown_record(args, fmt),
        "official": False,
    }
    side = _write_manifest(out, inputs, params)
    print(f"barrier change: wrote {out} and {side.name}", file=sys.stderr)
    return 0


def _shown(args: argparse.Namespace, labels: dict | None = None) -> dict:
    """How a table is shown: --precision, --lang and header labels of particular columns."""
    return {"precision": args.precision, "lang": args.lang, "labels": labels}


def _shown_record(args: argparse.Namespace, fmt: str) -> dict:
    """The manifest's record of rounding and language (rounding applies to CSV only)."""
    rounded = fmt == "csv" and args.precision == "rounded"
    return {
        "precision": "rounded (geo.tables.round_table)" if rounded else "full",
        "lang": args.lang,
    }


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


def _membership(args: argparse.Namespace, zone_set: str):
    """The user's membership CSV where it applies (battle zone sets), else None."""
    from geo.zones import BATTLE_LEVELS

    return args.membership if str(zone_set) in BATTLE_LEVELS else None


def _output_format(args: argparse.Namespace) -> str:
    """The table format from --format or the -o suffix; checks -o is writable before any work."""
    from geo.outputs import check_output_file

    if args.output is not None:
        check_output_file(args.output)
    fmt = args.format or (Path(args.output).suffix.lstrip(".").lower() if args.output else "csv")
    if fmt not in ("csv", "json", "xlsx"):
        raise UsageError(f"cannot tell the format of {args.output}; add --format csv|json|xlsx")
    if fmt == "xlsx" and not args.output:
        raise UsageError("--format xlsx needs -o FILE.xlsx")
    return fmt


def _refuse_input_as_output(output, inputs: list) -> None:
    """Refuse ``-o`` naming one of the command's inputs (a shapefile's sidecars included)."""
    from geo.outputs import check_not_input
    from geo.provenance import input_files

    named = [p for _, p in inputs if p is not None] + [p for _, p in input_files(inputs)]
    check_not_input(output, named)


def _cmd_bench(args: argparse.Namespace) -> int:
    import importlib.util

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "zonal.py"
    if not script.is_file():
        raise UsageError(
            "barrier bench needs the project's source checkout (benchmarks/zonal.py); "
            "run it from a git clone"
        )
    spec = importlib.util.spec_from_file_location("geo_bench_zonal", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return int(module.main(args.options) or 0)


def _cmd_lookup(args: argparse.Namespace) -> int:
    place = boundaries.lookup(args.name, level=args.level)
    print(f"{place.adcode}\t{place.level}\t{place.name_zh}\t{place.name_en}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``barrier`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "bench":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "bench":
        args.options = [*extra, *args.options]

    def one_line(message, category, *_args, **_kwargs):
        print(f"barrier {args.command}: warning: {message}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default", GeoWarning)
            warnings.showwarning = one_line
            return args.func(args)
    except GeoError as exc:
        print(f"barrier {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"barrier {args.command}: interrupted; no partial output was kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
