"""Monitoring jobs over time: trends, yearly series, key lakes and progress to the targets.

Each job writes one output folder the way ``barrier report`` does: built in a hidden staging
folder and swapped in whole (an existing folder is replaced only if the toolkit wrote it), with
a ``manifest.json`` recording every input (SHA-256), the method and parameters, and that the
values are remote-sensing proxies unless an official series was given. The command-line
programs ``barrier trend``, ``series``, ``lakes`` and ``progress`` are thin wrappers of
:func:`trend_job`, :func:`series_job`, :func:`lakes_job` and :func:`progress_job`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geo.outputs import MANIFEST, atomic_path, staged_dir
from geo.stack import Stack

__all__ = ["JobOutput", "lakes_job", "progress_job", "report_monitoring", "series_job", "trend_job"]

PROXY_NOTE = (
    "remote-sensing proxy computed from the user's stack; not an official statistic "
    "(遥感估算，非官方统计)"
)


@dataclass
class JobOutput:
    """What a monitoring job wrote: its folder, its tables (by file stem) and its files.

    Attributes
    ----------
    folder : pathlib.Path
        The output folder.
    tables : dict of str to pandas.DataFrame
        Every table written, every digit, by file stem (``trend_league`` …).
    files : list of pathlib.Path
        Every file written (final paths).
    """

    folder: Path
    tables: dict = field(default_factory=dict)
    files: list = field(default_factory=list)


def trend_job(
    stack: Stack,
    zone_sets: dict,
    out: str | Path,
    *,
    alpha: float = 0.05,
    min_years: int = 5,
    autocorrelation: bool = False,
    periods: dict | None = None,
    lang: str = "both",
    inputs: Sequence = (),
    parameters: dict | None = None,
    progress: Callable[[str], None] | None = None,
) -> JobOutput:
    """Per-pixel trend rasters, per-zone class areas and a trend-class map, in ``out``.

    Parameters
    ----------
    stack : geo.stack.Stack
        Yearly layers on one grid.
    zone_sets : dict of str to geo.zones.ZoneSet
        Zone sets by name; each gives ``trend_<name>.csv``/``.xlsx`` (areas of the trend
        classes per zone, km²).
    out : str or Path
        Output folder (replaced whole, only if the toolkit wrote it).
    alpha : float
        Significance level of the Mann–Kendall test (a probability, default 0.05).
    min_years : int
        Fewest valid years for a pixel's trend (default 5).
    autocorrelation : bool
        Hamed–Rao correction of the Mann–Kendall variance; see
        :func:`geo.trendmaps.trend_rasters`.
    periods : dict of str to (int, int), optional
        ``{"baseline": (a, b), "reporting": (c, d)}``: also the SDG 15.3.1-style productivity
        trajectory of each period (:func:`geo.trendmaps.trajectory_rasters`) and
        ``sdg_trajectory_<name>.csv`` per zone set.
    lang : {"both", "zh", "en"}
        Language of the table headers.
    inputs : sequence of (role, path)
        Further input files to record (the zone files).
    parameters : dict, optional
        Further parameters to record (the command line).
    progress : callable, optional
        Called with a message before each step.

    Returns
    -------
    JobOutput
        The folder (``.folder``), its tables (``.tables``) and files: ``trend_slope.tif``
        (layer units per year), ``trend_p.tif``, ``trend_class.tif``, ``trend_n.tif``, the
        tables, ``trend_class.png`` and ``manifest.json``.

    Examples
    --------
    >>> from geo.monitor import trend_job
    >>> from geo.stack import Stack
    >>> from geo.zones import ZoneSet
    >>> stack = Stack.open("ndvi_stack/", "2000-2024")  # doctest: +SKIP
    >>> trend_job(stack, {"league": ZoneSet.load("league")}, "trend_out")  # doctest: +SKIP
    """
    from geo.errors import UsageError
    from geo.trendmaps import trend_rasters, zone_summary

    if len(stack) < min_years:
        raise UsageError(
            f"stack {stack.source} holds {len(stack)} year(s) ({stack.years[0]}–"
            f"{stack.years[-1]}); a trend needs at least {min_years} (--min-years): give more "
            "years"
        )
    say = progress or (lambda _m: None)

    def write(stage: Path, sink: _Sink) -> list[Path]:
        say(f"per-pixel trends of {len(stack)} years")
        files = trend_rasters(
            stack, stage, alpha=alpha, min_years=min_years, autocorrelation=autocorrelation
        )
        written = [files.slope, files.p, files.cls, files.n]
        for name, zone_set in zone_sets.items():
            say(f"trend classes per zone: {name}")
            table = zone_summary(zone_set.frame, files, id_column=zone_set.id_column)
            written += sink.table(table, stage / f"trend_{name}")
            written.append(_trend_map(stage / f"trend_{name}.html", zone_set, table, lang))
        written += _trend_figure(stage, files, zone_sets)
        if periods:
            written += _trajectories(stage, sink)
        return written

    def _trajectories(stage: Path, sink: _Sink) -> list[Path]:
        from geo.trendmaps import trajectory_rasters, trajectory_summary

        say("productivity trajectory of each period (SDG 15.3.1-style)")
        paths = trajectory_rasters(stack, stage, periods, min_years=min_years)
        written = list(paths.values())
        for name, zone_set in zone_sets.items():
            table = trajectory_summary(zone_set.frame, paths, id_column=zone_set.id_column)
            written += sink.table(table, stage / f"sdg_trajectory_{name}")
        return written

    params = {
        "command": "trend",
        "lang": lang,
        "years": f"{stack.years[0]}-{stack.years[-1]}",
        "n_years": len(stack),
        "alpha": alpha,
        "min_years": min_years,
        "method": "Theil-Sen slope (units per year); Mann-Kendall test, tie-corrected variance"
        + ("; Hamed-Rao autocorrelation correction" if autocorrelation else ""),
        "classes": {"1": "degrading", "2": "stable", "3": "improving", "0": "no data"},
        "sdg_periods": {k: f"{a}-{b}" for k, (a, b) in (periods or {}).items()} or None,
        **(parameters or {}),
    }
    return _run(out, stack, inputs, params, write)


def series_job(
    stack: Stack,
    zone_sets: dict,
    out: str | Path,
    *,
    stats: Sequence[str] = ("mean",),
    categorical: bool = False,
    nodata_values: Sequence[float] = (),
    lang: str = "both",
    inputs: Sequence = (),
    parameters: dict | None = None,
    progress: Callable[[str], None] | None = None,
) -> JobOutput:
    """One row per zone and year (``series_<name>.csv``/``.xlsx``) and small-multiple charts.

    Parameters
    ----------
    stack : geo.stack.Stack
        Yearly layers on one grid.
    zone_sets : dict of str to geo.zones.ZoneSet
        Zone sets by name; each gives ``series_<name>.csv``/``.xlsx`` and its chart.
    out : str or Path
        Output folder (replaced whole, only if the toolkit wrote it).
    stats : sequence of str
        Statistics of :data:`geo.zonal.STATS` per zone and year (``mean`` …, in the layer's
        units), as for :func:`geo.series.zone_series`.
    categorical : bool
        Class layers: area of each class per zone and year (km², ha, mu and % of the valid
        area) instead of ``stats``.
    nodata_values : sequence of float
        Stored values that mean "no data" besides each layer's declared nodata.
    lang, inputs, parameters, progress
        As for :func:`trend_job`.

    Returns
    -------
    JobOutput
        The folder, its tables and files.
    """
    from geo.series import zone_series

    say = progress or (lambda _m: None)

    def write(stage: Path, sink: _Sink) -> list[Path]:
        written = []
        for name, zone_set in zone_sets.items():
            say(f"yearly series per zone: {name}")
            table = zone_series(
                zone_set.frame,
                stack,
                stats,
                categorical=categorical,
                nodata_values=nodata_values,
                id_column=zone_set.id_column,
            )
            written += sink.table(table, stage / f"series_{name}")
            written += _series_figure(stage / f"series_{name}", table, zone_set, categorical)
            if not categorical:
                written.append(_series_map(stage / f"series_{name}.html", table, zone_set, lang))
        return written

    params = {
        "command": "series",
        "lang": lang,
        "years": f"{stack.years[0]}-{stack.years[-1]}",
        "stats": list(stats),
        "categorical": categorical,
        "nodata_values": list(nodata_values),
        **(parameters or {}),
    }
    return _run(out, stack, inputs, params, write)


def lakes_job(
    stack: Stack,
    lakes,
    out: str | Path,
    *,
    scheme: str = "jrc",
    water_classes: Sequence[int] | None = None,
    rule=None,
    lang: str = "both",
    inputs: Sequence = (),
    parameters: dict | None = None,
    progress: Callable[[str], None] | None = None,
) -> JobOutput:
    """Water area per key lake and year, with anomalies and warnings.

    Writes ``lakes.csv``/``.xlsx`` and ``lakes.png``; see :func:`geo.lakes.lake_water`.

    Parameters
    ----------
    stack : geo.stack.Stack
        Yearly water masks on one grid.
    lakes : geopandas.GeoDataFrame
        Lake zones (:func:`geo.lakes.key_lakes`, buffered, areas in km²).
    out : str or Path
        Output folder (replaced whole, only if the toolkit wrote it).
    scheme : {"jrc", "mask"}
        Convention of the masks (:data:`geo.lakes.WATER_SCHEMES`).
    water_classes : sequence of int, optional
        Classes counted as water (default: the scheme's).
    rule : geo.lakes.WarningRule, optional
        Baseline years and thresholds (SD factor, drop in %, unobserved share in %).
    lang, inputs, parameters, progress
        As for :func:`trend_job`.

    Returns
    -------
    JobOutput
        The folder, its tables and files.
    """
    from geo.lakes import WarningRule, lake_water

    say = progress or (lambda _m: None)
    rule = rule or WarningRule()

    def write(stage: Path, sink: _Sink) -> list[Path]:
        say(f"water area of {len(lakes)} lakes over {len(stack)} years")
        table = lake_water(stack, lakes, scheme=scheme, water_classes=water_classes, rule=rule)
        params["baseline"] = "{}-{}".format(*table.attrs["baseline"])
        written = sink.table(table, stage / "lakes")
        written += _lakes_figure(stage / "lakes", table, rule)
        written.append(_lakes_map(stage / "lakes.html", lakes, table, lang))
        return written

    params = {
        "command": "lakes",
        "lang": lang,
        "years": f"{stack.years[0]}-{stack.years[-1]}",
        "scheme": scheme,
        "water_classes": list(water_classes) if water_classes else None,
        "lake_zones": lakes.attrs.get("source"),
        "lake_buffer_km": lakes.attrs.get("buffer_km"),
        "warning_rule": {
            "sd_factor": rule.sd_factor,
            "drop_pct": rule.drop_pct,
            "max_nodata_pct": rule.max_nodata_pct,
        },
        **(parameters or {}),
    }
    return _run(out, stack, inputs, params, write)


def progress_job(
    series: pd.DataFrame,
    out: str | Path,
    *,
    level: float = 0.9,
    lang: str = "both",
    inputs: Sequence = (),
    parameters: dict | None = None,
) -> JobOutput:
    """The progress sheet (``progress.csv``/``.xlsx``) of :func:`geo.progress.progress_table`.

    Parameters
    ----------
    series : pandas.DataFrame
        Yearly values (%) per indicator, zone and kind, as for
        :func:`geo.progress.progress_table`.
    out : str or Path
        Output folder (replaced whole, only if the toolkit wrote it).
    level : float
        Probability of the projections' prediction intervals (default 0.9).
    lang, inputs, parameters
        As for :func:`trend_job`.

    Returns
    -------
    JobOutput
        The folder, its tables and files.
    """
    from geo.progress import progress_table

    def write(stage: Path, sink: _Sink) -> list[Path]:
        table = progress_table(series, level=level)
        return sink.table(table, stage / "progress")

    params = {
        "command": "progress",
        "lang": lang,
        "method": "OLS line per target, zone and kind; projection with its t prediction "
        f"interval ({level:.0%})",
        "kinds": sorted(set(series["kind"])),
        **(parameters or {}),
    }
    return _run(out, None, inputs, params, write)


def _run(out, stack: Stack | None, inputs, params: dict, write) -> JobOutput:
    from geo.data import sha256
    from geo.provenance import input_files, manifest

    files = [("stack layer", p) for p in dict.fromkeys(stack.paths)] if stack else []
    files += list(inputs)
    official = params.get("kinds") == ["official"]
    params.setdefault("values", "official statistics" if official else PROXY_NOTE)
    # each input (a stack can be gigabytes) is hashed once, for the sources sheet and manifest
    digests = {p: sha256(p) for _, p in input_files(files)}
    sink = _Sink(_sources(files, params, digests), params.get("lang", "both"))
    with staged_dir(out) as stage:
        written = write(stage, sink)
        result = JobOutput(Path(out), sink.tables)
        result.files = [Path(out) / p.relative_to(stage) for p in written]
        record = manifest(files, written, stage, params, digests)
        record["files"] = sorted(
            p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file()
        )
        record["files"].append(MANIFEST)
        with atomic_path(stage / MANIFEST) as tmp:
            tmp.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return result


def _sources(files, params: dict, digests: dict) -> pd.DataFrame:
    """The workbook's ``sources`` sheet: every input with its SHA-256, and the method."""
    rows = [
        {
            "role": role,
            "file": str(Path(path).absolute()),
            "sha256": digests[Path(path).expanduser().absolute()],
        }
        for role, path in files
    ]
    rows.append({"role": "method", "file": params.get("method", ""), "sha256": ""})
    rows.append({"role": "values", "file": params.get("values", ""), "sha256": ""})
    return pd.DataFrame(rows)


class _Sink:
    """Writes a job's tables and keeps them for the caller.

    CSV rounded for people; XLSX with every digit and the sources sheet.
    """

    def __init__(self, sources: pd.DataFrame, lang: str) -> None:
        self.sources, self.lang, self.tables = sources, lang, {}

    def table(self, table: pd.DataFrame, stem: Path) -> list[Path]:
        from geo.tables import write_csv, write_xlsx

        self.tables[stem.name] = table
        csv = write_csv(table, stem.with_suffix(".csv"), lang=self.lang)
        sheets = {stem.name[:31]: table}
        xlsx = write_xlsx(sheets, stem.with_suffix(".xlsx"), self.sources, lang=self.lang)
        return [csv, xlsx]


def _trend_figure(stage: Path, files, zone_sets: dict) -> list[Path]:
    from geo.maps import static
    from geo.trends import CLASS_NAMES

    if not zone_sets:
        return []
    frame = next(iter(zone_sets.values())).frame
    span = f"{files.years[0]}–{files.years[-1]}"
    fig = static.class_raster_figure(
        files.cls,
        frame,
        classes=CLASS_NAMES,
        colours={1: "#a6611a", 2: "#e0e0e0", 3: "#1a9641"},
        title=f"变化趋势 {span}（Mann-Kendall, α = {files.alpha:g}）\n"
        f"Trend {span} (Mann-Kendall, α = {files.alpha:g})",
        zones=frame,
        source="用户提供的逐年数据 the user's yearly stack; 遥感估算 remote-sensing proxy",
    )
    return static.save_figure(fig, stage / "trend_class", formats=("png",))


def _series_figure(stem: Path, table: pd.DataFrame, zone_set, categorical: bool) -> list[Path]:
    from geo.charts import series_panels
    from geo.maps import static

    if categorical:
        value, label = "area_km2", "面积 area [km²]"
        data = table.assign(panel_line=table["class"].astype(str))
    else:
        value, label = "value", "值 value"
        data = table.assign(panel_line=table["stat"])
    fig = series_panels(data, zone_set.id_column, value, label)
    return static.save_figure(fig, stem, formats=("png",))


def _series_map(path: Path, table: pd.DataFrame, zone_set, lang: str) -> Path:
    """A web map of the first statistic with a year slider (self-contained)."""
    from geo.maps.interactive import save
    from geo.maps.yearly import year_slider_map

    stat = table["stat"].iloc[0]
    m = year_slider_map(
        zone_set.frame,
        table[table["stat"] == stat],
        "value",
        id_column=zone_set.id_column,
        title=f"{stat} — 逐年（遥感估算）yearly (remote-sensing proxy)",
        lang=lang,
    )
    return save(m, path)


def _trend_map(path: Path, zone_set, table: pd.DataFrame, lang: str) -> Path:
    """A web map of the share of each zone whose trend is degrading (self-contained)."""
    from geo.maps.interactive import choropleth, save

    m = choropleth(
        zone_set.join(table),
        "degrading_pct",
        title="显著退化面积占比（遥感估算）/ Share degrading (remote-sensing proxy) %",
        source="Theil-Sen slope, Mann-Kendall test of the user's yearly stack (proxy)",
        lang=lang,
    )
    return save(m, path)


def _lakes_map(path: Path, lakes, table: pd.DataFrame, lang: str) -> Path:
    """A web map of the lake zones coloured by the latest year's anomaly (self-contained)."""
    from geo.maps.interactive import choropleth, save

    latest = table.sort_values("year").groupby("lake", sort=False).tail(1).set_index("lake")
    frame = lakes.assign(
        year=latest["year"].reindex(lakes.index).to_numpy(),
        anomaly_pct=latest["anomaly_pct"].reindex(lakes.index).to_numpy(),
        water_km2=latest["water_km2"].reindex(lakes.index).to_numpy(),
        warning=latest["warning_reason"].reindex(lakes.index).fillna("").to_numpy(),
    )
    m = choropleth(
        frame,
        "anomaly_pct",
        title="湖泊水面面积距平（最新年份）/ Lake water area anomaly, latest year %",
        source="yearly water masks (user's stack); lake zones: Natural Earth outlines, buffered",
        lang=lang,
    )
    return save(m, path)


def _lakes_figure(stem: Path, table: pd.DataFrame, rule) -> list[Path]:
    from geo.charts import lake_panels
    from geo.maps import static

    fig = lake_panels(table, rule.sd_factor)
    return static.save_figure(fig, stem, formats=("png",))


def report_monitoring(
    stage: Path,
    *,
    stacks: dict | None = None,
    water: str | Path | None = None,
    official: str | Path | None = None,
    lang: str = "both",
    progress: Callable[[str], None] | None = None,
) -> dict[str, JobOutput]:
    """The monitoring part of ``barrier report``, each job in ``stage/monitoring/<job>``.

    Trends and series of each stack, the lakes, the progress sheet.

    Parameters
    ----------
    stage : pathlib.Path
        The report's staging folder.
    stacks : dict of str to path, optional
        Name → stack folder (``--stack NAME=DIR``): per-pixel trends per league, battle zone
        and part, and yearly means per league.
    water : path, optional
        A stack of yearly water masks (JRC classes) for the key lakes.
    official : path, optional
        The official series CSV for the progress sheet.
    lang : {"both", "zh", "en"}
        Language of the table headers.
    progress : callable, optional
        Called with a message before each step.

    Returns
    -------
    dict of str to JobOutput
        By job (``trend_<name>``, ``series_<name>``, ``lakes``, ``progress``), in order.
    """
    from geo.lakes import key_lakes
    from geo.progress import read_official
    from geo.zones import ZoneSet

    out: dict[str, JobOutput] = {}
    folder = Path(stage) / "monitoring"
    if stacks:
        sets = {level: ZoneSet.load(level) for level in ("league", "battle", "battle_part")}
    for name, path in (stacks or {}).items():
        stack = Stack.open(path)
        out[f"trend_{name}"] = trend_job(
            stack, sets, folder / f"trend_{name}", lang=lang, progress=progress
        )
        out[f"series_{name}"] = series_job(
            stack, {"league": sets["league"]}, folder / f"series_{name}", lang=lang,
            progress=progress,
        )  # fmt: skip
    if water:
        lakes = key_lakes()
        out["lakes"] = lakes_job(
            Stack.open(water), lakes, folder / "lakes", lang=lang, progress=progress,
            inputs=[("lakes", Path(lakes.attrs["source"]))],
        )  # fmt: skip
    if official:
        out["progress"] = progress_job(
            read_official(official), folder / "progress", lang=lang,
            inputs=[("official series", Path(official))],
        )  # fmt: skip
    return out
