"""Tables: zonal statistics of layers as one table, and writing tables (CSV, JSON, XLSX).

CSV files are UTF-8 with a byte-order mark so that Excel shows Chinese names; every file is
written atomically.

Text from users (zone names and ids, file names) is made safe in every table written:
control characters that XML forbids are removed (:func:`clean_text`, with a warning), text
cells of a workbook are stored as text, never as formulas, and CSV text fields that a
spreadsheet would run as a formula get a leading ``'`` (:func:`csv_safe`, as the OWASP
CSV-injection guidance advises).

Tables for people (CSV, XLSX) are presented by :func:`for_people`: numbers in CSV are rounded
by the rule of :func:`round_table` (``precision="full"`` keeps every digit; XLSX keeps every
digit and shows them with number formats; JSON, GeoPackage and GeoParquet always keep every
digit), booleans become 是/否 or yes/no, and ``lang`` chooses the header language.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import DataError, GeoWarning, OutputError, UsageError
from geo.outputs import atomic_path
from geo.units import DECIMALS, UNITS, convert, normalise_unit
from geo.vectors import CONTROL_CHARACTERS

__all__ = [
    "class_table",
    "clean_text",
    "column_label",
    "csv_safe",
    "for_people",
    "in_units",
    "name_layers",
    "round_table",
    "stats_table",
    "with_wanmu",
    "write_csv",
    "write_table",
    "write_xlsx",
]


#: A text cell starting with one of these is run as a formula by spreadsheet programs
#: (OWASP lists =, +, -, @, tab and CR; a leading newline is defused as well).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def _text_columns(table: pd.DataFrame) -> list:
    return [
        col
        for col in table.columns
        if table[col].dtype == object or pd.api.types.is_string_dtype(table[col].dtype)
    ]


def _map_text(table: pd.DataFrame, fix) -> tuple[pd.DataFrame, list[tuple[object, object]]]:
    """Apply ``fix`` to every text cell and column name; return the table and what changed."""
    changed: list[tuple[object, object]] = []
    out = None
    for col in _text_columns(table):
        values = table[col]
        new = values.map(lambda v: fix(v) if isinstance(v, str) else v)
        differs = (new != values) & values.notna()
        if differs.any():
            out = table.copy() if out is None else out
            out[col] = new
            changed += [(col, row) for row in np.flatnonzero(differs.to_numpy())]
    names = [fix(c) if isinstance(c, str) else c for c in table.columns]
    if names != list(table.columns):
        out = (table.copy() if out is None else out).set_axis(names, axis=1)
        changed += [(c, None) for c, n in zip(table.columns, names, strict=True) if c != n]
    return (table if out is None else out), changed


def clean_text(table: pd.DataFrame, where: str | Path) -> pd.DataFrame:
    """Remove control characters from the text of ``table`` (with one warning if any).

    Text pasted from word processors can hold characters such as vertical tab (``\\x0b``)
    or form feed that XML, and hence XLSX, forbids; they are removed. A carriage return
    becomes a line break (XLSX does the same; unquoted in a CSV it would split the row).
    Tab and line break stay. Values that are not text are untouched; a table without such
    characters is returned as is, silently.

    Parameters
    ----------
    table : pandas.DataFrame
    where : str or Path
        The file the table comes from or goes to, named in the warning.
    """
    # a carriage return inside a field is written unquoted by pandas and splits the CSV row
    out, changed = _map_text(
        table, lambda v: CONTROL_CHARACTERS.sub("", v.replace("\r\n", "\n").replace("\r", "\n"))
    )
    if changed:
        col, row = changed[0]
        if row is None:
            what = f"column name {col!r}"
        else:
            key = table.iloc[row, 0] if len(table.columns) else row
            what = f"{col} of row {row + 1} ({table.columns[0]} {key!r})"
        warnings.warn(
            f"{where}: removed control characters (carriage returns became line breaks) from "
            f"{len(changed)} text value(s), first {what}; spreadsheets do not allow them",
            GeoWarning,
            stacklevel=2,
        )
    return out


def _defuse(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_safe(table: pd.DataFrame) -> pd.DataFrame:
    """Prefix ``'`` to text fields (and column names) a spreadsheet would run as a formula.

    Only text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return changes;
    numeric columns (negative numbers included) are never touched.
    """
    return _map_text(table, _defuse)[0]


def _no_formulas(book) -> None:
    """Store every text cell of an openpyxl workbook as text, never as a formula."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":  # openpyxl makes any text starting with = a formula
                    cell.data_type = "s"
                    cell.quotePrefix = True  # Excel keeps it text when the cell is edited


def write_csv(
    table: pd.DataFrame,
    path: str | Path,
    *,
    precision: str = "rounded",
    lang: str = "both",
    labels: dict | None = None,
) -> Path:
    """Write a table as UTF-8 CSV with a byte-order mark (so Excel shows Chinese), atomically.

    Numbers are rounded by :func:`round_table` unless ``precision="full"``; booleans and the
    header follow ``lang`` (:func:`for_people`). Text is cleaned (:func:`clean_text`) and
    defused (:func:`csv_safe`).
    """
    table = for_people(table, lang=lang, precision=precision, labels=labels)
    table = csv_safe(clean_text(table, path))
    check_unique_columns(table, f"the table for {path}")
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8-sig")
    return Path(path)


_LINEAR = ("mean", "area_mean", "min", "max", "median")


def _physical(frame: pd.DataFrame, layer) -> pd.DataFrame:
    """Statistics of stored values → statistics of physical values (value × scale + offset)."""
    if layer.scale == 1 and layer.offset == 0:
        return frame
    out = frame.copy()
    for col in out.columns:
        if col in _LINEAR or col.startswith("quantile_"):
            out[col] = out[col] * layer.scale + layer.offset
        elif col == "stdev":
            out[col] = out[col] * abs(layer.scale)
        elif col == "sum":
            out[col] = out[col] * layer.scale + layer.offset * out["count"]
    return out


def in_units(frame: pd.DataFrame, unit: str) -> pd.DataFrame:
    """Convert every ``*area_km2*`` column to ``unit`` (one of :data:`geo.units.AREA_UNITS`).

    The column is renamed (``valid_area_km2`` → ``valid_area_wanmu``); the factor is exact
    (:func:`geo.units.convert`).
    """
    unit = normalise_unit(unit)
    if unit == "km2":
        return frame
    frame = frame.copy()
    renamed = {}
    for col in frame.columns:
        if "area_km2" in col:
            renamed[col] = col.replace("area_km2", f"area_{unit}")
            frame[col] = convert(frame[col].to_numpy(dtype=float), "km2", unit)
    return frame.rename(columns=renamed)


def with_wanmu(table: pd.DataFrame) -> pd.DataFrame:
    """Add a ``<x>_wanmu`` column (万亩) right after every ``<x>_mu`` column.

    The ``_mu`` columns stay (older scripts read them); 1 万亩 = 10⁴ mu exactly.
    """
    out = table
    for col in [c for c in table.columns if isinstance(c, str) and c.endswith("_mu")]:
        new = col.removesuffix("_mu") + "_wanmu"
        if new in table.columns:
            continue
        if out is table:
            out = table.copy()
        at = list(out.columns).index(col) + 1
        out.insert(at, new, convert(out[col].to_numpy(dtype=float), "mu", "wanmu"))
    return out


#: ``<…>_<unit>`` or ``<…>_area_<unit>_<class code>``: the area unit of a column.
_UNIT_RE = re.compile(r"(?:^|_)(" + "|".join(UNITS) + r")(?:_-?\d+)?$")
_PCT_RE = re.compile(r"(?:^|_)(pct|gap|variant_min|variant_max)(?:_-?\d+)?$")
#: Coverage-weighted cell counts (``cells``, ``<indicator>_cells``): one decimal.
_CELLS_RE = re.compile(r"(?:^|_)cells$")
_FRACTION_RE = re.compile(r"(?:^|_)fraction(?:_-?\d+)?$")
#: Significant digits of floats that are neither areas, percentages nor fractions.
SIGNIFICANT = 6
#: Decimals of percentages (and gaps in percentage points) and of fractions (0–1).
PCT_DECIMALS, FRACTION_DECIMALS = 2, 6


def _column_rule(column) -> tuple[str, int]:
    """``("decimals", n)`` or ``("significant", n)`` for a float column, by its name."""
    name = str(column)
    unit = _UNIT_RE.search(name)
    if unit:
        return "decimals", DECIMALS[unit.group(1)]
    if _PCT_RE.search(name):
        return "decimals", PCT_DECIMALS
    if _CELLS_RE.search(name):
        return "decimals", 1
    if _FRACTION_RE.search(name):
        return "decimals", FRACTION_DECIMALS
    return "significant", SIGNIFICANT


def _round_value(value, rule: tuple[str, int]):
    # through decimal text: the written number is the correctly rounded one (np.round can
    # leave 0.30000000000000004)
    if not isinstance(value, float | np.floating) or not math.isfinite(value):
        return value
    kind, n = rule
    text = f"{value:.{n}f}" if kind == "decimals" else f"{value:.{n}g}"
    return float(text) + 0.0  # + 0.0: -0.001 → 0.0, not "-0.0"


def _round_series(values: pd.Series, rule: tuple[str, int]) -> pd.Series:
    rounded = values.map(lambda v: _round_value(v, rule))
    if rule == ("decimals", 0) and np.isfinite(rounded.dropna().to_numpy(dtype=float)).all():
        return rounded.astype("Int64")  # whole mu without a trailing ".0"
    return rounded


def round_table(table: pd.DataFrame) -> pd.DataFrame:
    """Round the float columns of a table for people, by a rule on the column name.

    =========================================  ==================================
    column                                     written with
    =========================================  ==================================
    ``…_km2`` (also ``…_area_km2_<class>``)    3 decimals (0.001 km² = 0.1 ha)
    ``…_ha``                                   1 decimal
    ``…_mu``                                   0 decimals (whole mu)
    ``…_wanmu`` (万亩)                         2 decimals
    ``…_yimu`` (亿亩) / ``…_wanha`` (万公顷)   6 / 4 decimals
    ``…_pct``, ``…_gap`` (percentage points)   2 decimals
    ``fraction``, ``…_fraction_<class>``       6 decimals
    any other float (means, quantiles …)       6 significant digits
    ``value``/``gap``/``target`` of a table    by the row's ``unit`` (``km2``,
    with ``indicator`` and ``unit`` columns    ``%``) as above
    =========================================  ==================================

    Integers, text and booleans are unchanged; NaN stays empty. The full-precision numbers
    are in the JSON, XLSX, GeoPackage and GeoParquet outputs (and ``--precision full``).
    """
    out = table.copy()
    per_row = {"indicator", "unit"} <= set(out.columns)  # the long indicator table
    for col in out.columns:
        if not pd.api.types.is_float_dtype(out[col].dtype):
            continue
        if per_row and col in ("value", "gap", "target", "variant_min", "variant_max"):
            units = out["unit"].map(lambda u: "pct" if u == "%" else str(u))
            out[col] = [
                _round_value(v, _column_rule(f"x_{u}"))
                for v, u in zip(out[col], units, strict=True)
            ]
            continue
        out[col] = _round_series(out[col], _column_rule(col))
    return out


#: Text of a boolean (meets target …) in each language.
YES_NO = {"zh": ("是", "否"), "en": ("yes", "no"), "both": ("yes / 是", "no / 否")}
_LANGS = tuple(YES_NO)


def check_lang(lang: str) -> str:
    """``lang`` if it is ``zh``, ``en`` or ``both``; else a UsageError."""
    if lang not in _LANGS:
        raise UsageError(f"unknown language {lang!r}; use zh, en or both")
    return lang


def _bool_text(values: pd.Series, lang: str) -> pd.Series:
    yes, no = YES_NO[lang]
    return values.map(lambda v: v if pd.isna(v) else (yes if bool(v) else no)).astype(object)


def _is_bool_column(values: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(values.dtype):
        return True
    if values.dtype != object:
        return False
    present = values.dropna()
    return len(present) > 0 and all(isinstance(v, bool | np.bool_) for v in present)


def for_people(
    table: pd.DataFrame,
    *,
    lang: str = "both",
    precision: str = "rounded",
    labels: dict | None = None,
    header: bool = True,
) -> pd.DataFrame:
    """A table as written for people: rounded numbers, 是/否, header in ``lang``.

    Parameters
    ----------
    table : pandas.DataFrame
    lang : {"both", "zh", "en"}
        Booleans become ``yes / 是`` (both), ``是`` (zh) or ``yes`` (en). With ``zh`` or
        ``en`` the header holds the column names in that language with their unit
        (:func:`column_label`); with ``zh`` class names (``class_name``) and levels are given
        in Chinese where known (:data:`CLASS_NAMES_ZH`, :data:`LEVELS_ZH`); ``both`` keeps
        the column ids as header.
    precision : {"rounded", "full"}
        ``rounded``: :func:`round_table`; ``full``: every digit.
    labels : dict, optional
        Header labels of particular columns (``{column: label}``), used before
        :func:`column_label`.
    header : bool
        False keeps the column ids whatever ``lang`` (the report workbook's first row).
    """
    check_lang(lang)
    if precision not in ("rounded", "full"):
        raise UsageError(f"unknown precision {precision!r}; use rounded or full")
    out = round_table(table) if precision == "rounded" else table.copy()
    for col in out.columns:
        if _is_bool_column(out[col]):
            out[col] = _bool_text(out[col], lang)
        elif isinstance(col, str) and (col == "verdict" or col.endswith("_verdict")):
            out[col] = out[col].map(lambda v: verdict_text(v, lang))
    if lang == "zh":
        for col, names in (("class_name", CLASS_NAMES_ZH), ("level", LEVELS_ZH)):
            if col in out.columns:
                out[col] = out[col].map(lambda v, n=names: n.get(v, v) if isinstance(v, str) else v)
    if header and lang != "both":
        names = [(labels or {}).get(c) or column_label(c, lang) for c in out.columns]
        out.columns = _unique(names)
    return out


def verdict_text(code, lang: str = "both"):
    """Words of a verdict code (:data:`geo.indicators.VERDICTS`) in ``lang``; other values
    (empty, unknown) unchanged."""
    from geo.indicators import VERDICTS

    if not isinstance(code, str) or code not in VERDICTS:
        return code
    en, zh = VERDICTS[code]
    return _join(en, zh, lang)


def _unique(names: list[str]) -> list[str]:
    """Labels made unique (two ids with one label would make an ambiguous header)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def _is_user_file(layer) -> bool:
    """A raster file given by path (``Layer.from_file``), not a shipped or derived layer."""
    return layer.licence == "user data"


def name_layers(layer_specs) -> list:
    """Give every layer a unique, predictable name (the prefix of its table columns).

    * A shipped or derived layer keeps its name (``ndvi_max``, ``fvc`` …).
    * A raster file is named by its file stem (``data/dem.tif`` → ``dem``); a stem equal to a
      shipped or derived layer name gets ``file_`` in front (``ndvi_max.tif`` →
      ``file_ndvi_max``) so that it is never mistaken for the shipped layer.
    * Different files whose names still collide get their parent folder's name in front
      (``a/x.tif``, ``b/x.tif`` → ``a_x``, ``b_x``).
    * Names that still repeat (the same layer or file given twice) get ``_2``, ``_3`` … in
      order, the first keeping its name.

    Names given by an earlier call are kept, so naming twice changes nothing.

    Parameters
    ----------
    layer_specs : sequence of geo.layers.Layer

    Returns
    -------
    list of geo.layers.Layer
        The layers, renamed where needed (same order).
    """
    from dataclasses import replace

    from geo.layers import catalogue
    from geo.layers.derive import DERIVED_NAMES

    reserved = {*catalogue(), *DERIVED_NAMES}
    names = []
    for layer in layer_specs:
        stem = Path(layer.path).stem
        fresh = _is_user_file(layer) and layer.name == stem
        names.append(f"file_{stem}" if fresh and stem in reserved else layer.name)
    # the folder tells apart different files of one stem; the same file twice gets _2
    files: dict[str, set] = {}
    for name, layer in zip(names, layer_specs, strict=True):
        files.setdefault(name, set()).add(Path(layer.path).resolve())
    for k, layer in enumerate(layer_specs):
        if (
            len(files[names[k]]) > 1
            and _is_user_file(layer)
            and names[k].endswith(Path(layer.path).stem)
        ):
            names[k] = f"{Path(layer.path).absolute().parent.name}_{names[k]}"
    seen: set[str] = set()
    for k, name in enumerate(names):
        n, unique = 1, name
        while unique in seen:
            n += 1
            unique = f"{name}_{n}"
        seen.add(unique)
        names[k] = unique
    return [
        layer if layer.name == name else replace(layer, name=name)
        for layer, name in zip(layer_specs, names, strict=True)
    ]


def check_unique_columns(table: pd.DataFrame, what: str) -> None:
    """Duplicate column names would be dropped or mixed up silently by writers: a bug."""
    dupes = sorted({str(c) for c in table.columns[table.columns.duplicated()]})
    if dupes:
        raise RuntimeError(f"internal error: {what} has duplicate columns {dupes}")


def stats_table(
    zones,
    layer_specs,
    stats=("count", "mean"),
    *,
    method: str = "exact",
    unit: str = "km2",
    cache_dir=None,
    quantiles=None,
    dask: dict | None = None,
) -> pd.DataFrame:
    """Zonal statistics of several layers over one zone set, as one table.

    The coverage of the zones is computed once per raster grid and reused for every
    further layer on the same grid.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        From :func:`geo.zones.load`.
    layer_specs : sequence of geo.layers.Layer
    stats : sequence of str
        Statistics of :func:`geo.zonal.zonal_stats` for continuous layers; ``fraction`` and
        ``area`` ask for class fractions and class areas (km², ha or mu) of categorical layers.
    method : {"exact", "all_touched", "center"}
    unit : {"km2", "ha", "mu"}
        Unit of every area column.
    cache_dir : path, optional
        Folder for the on-disk coverage cache.
    quantiles : sequence of float, optional
        Quantiles in [0, 1] for the ``quantile`` statistic.
    dask : dict, optional
        Run on Dask with these options of :func:`geo.scale.zonal_stats_dask`
        (``scheduler``, ``chunks``, ``client``); same numbers as in process.

    Returns
    -------
    pandas.DataFrame
        Identifier (``adcode`` or ``zone``), names and level, the further attributes of a
        user's zone file (:func:`geo.zones.user_attributes`; one that would clash with a
        statistics column is renamed ``user_<name>``), then ``<layer>_<stat>`` columns,
        ``<layer>`` being the unique name given by :func:`name_layers`.
        Statistics are of physical values (the layer's scale and offset applied); flagged
        codes (e.g. the NDVI water flag) count as nodata.
    """
    if {"fraction", "area"} & set(stats) and not any(layer.categorical for layer in layer_specs):
        raise UsageError(
            "--stat fraction/area need a class layer (landcover, climate, sandified, landcover_cn, "
            "redline_proxy, or a raster file with --categorical)"
        )
    layer_specs = name_layers(layer_specs)
    id_col = "adcode" if "adcode" in zones.columns else "zone"
    table = pd.DataFrame(zones[[id_col, "name_zh", "name_en", "level"]]).reset_index(drop=True)
    coverages: dict = {}
    for layer in layer_specs:
        frame = _layer_frame(zones, layer, stats, method, cache_dir, coverages, quantiles, dask)
        _warn_partial(frame, layer)
        frame = in_units(_physical(frame, layer), unit)
        frame.columns = [f"{layer.name}_{c}" for c in frame.columns]
        table = pd.concat([table, frame.reset_index(drop=True)], axis=1)
    table = _with_user_attributes(table, zones)
    check_unique_columns(table, "the statistics table")
    return table


def _with_user_attributes(table: pd.DataFrame, zones) -> pd.DataFrame:
    """The user's own zone attributes after the level column (a user file keeps its fields)."""
    from geo.zones import user_attributes

    extra = user_attributes(zones).reset_index(drop=True)
    if extra.columns.empty:
        return table
    taken = set(table.columns)
    extra.columns = [c if c not in taken else f"user_{c}" for c in extra.columns]
    at = list(table.columns).index("level") + 1
    return pd.concat([table.iloc[:, :at], extra, table.iloc[:, at:]], axis=1)


def _warn_partial(frame: pd.DataFrame, layer) -> None:
    """Say when zones reach beyond the raster: their statistics cover only part of them."""
    outside = frame["outside_area_km2"].to_numpy()
    total = outside + frame["valid_area_km2"].to_numpy() + frame["nodata_area_km2"].to_numpy()
    partial = outside > 1e-9 * np.maximum(total, 1.0)
    if partial.any():
        share = 100.0 * (1.0 - outside[partial] / total[partial])
        warnings.warn(
            f"{int(partial.sum())} zone(s) lie partly outside raster {layer.path} (covered share "
            f"as low as {share.min():.1f} %); their statistics describe the covered part only — "
            "see the outside_area column",
            GeoWarning,
            stacklevel=3,
        )


def _layer_frame(
    zones, layer, stats, method, cache_dir, coverages, quantiles, dask=None
) -> pd.DataFrame:
    import rasterio

    from geo.grid import Grid
    from geo.zonal import Coverage, zonal_stats

    # class fractions and areas apply to class layers; the other statistics to value layers
    categorical = layer.categorical
    wanted = [s for s in stats if s not in ("fraction", "area")]
    if categorical:
        wanted = [s for s in wanted if s in ("count", "nodata_fraction")]
    try:
        with rasterio.open(layer.path) as ds:
            grid = Grid.from_dataset(ds)
    except rasterio.errors.RasterioIOError as exc:
        raise DataError(f"layer {layer.name!r}: cannot open {layer.path}: {exc}") from None
    key = grid.key()
    if key not in coverages:
        coverages[key] = Coverage.load_or_build(zones, grid, method, cache_dir)
    if dask is not None:
        from geo.scale import zonal_stats_dask as zonal_stats
    frame = zonal_stats(
        zones,
        layer.path,
        stats=wanted,
        categorical=categorical,
        coverage=coverages[key],
        method=method,
        quantiles=quantiles,
        nodata_values=tuple(layer.flags),
        **(dask or {}),
    )
    drop = []
    if categorical and "area" not in stats:
        drop += [c for c in frame.columns if c.startswith("area_km2_")]
    if categorical and "fraction" not in stats:
        drop += [c for c in frame.columns if c.startswith("fraction_")]
    return frame.drop(columns=drop)


def write_table(
    table: pd.DataFrame,
    path: str | Path,
    fmt: str | None = None,
    *,
    precision: str = "rounded",
    lang: str = "both",
    labels: dict | None = None,
) -> Path:
    """Write a table atomically as CSV (UTF-8 with BOM), JSON (records) or XLSX.

    Parameters
    ----------
    table : pandas.DataFrame
    path : path
        Output file; its suffix chooses the format unless ``fmt`` is given.
    fmt : {"csv", "json", "xlsx"}, optional
    precision : {"rounded", "full"}
        CSV only: numbers rounded by :func:`round_table` or every digit. JSON and XLSX keep
        every digit (XLSX shows them with number formats).
    lang : {"both", "zh", "en"}
        CSV and XLSX: header and booleans (:func:`for_people`). JSON is for programs: column
        ids and true/false.
    labels : dict, optional
        Header labels of particular columns (see :func:`for_people`).
    """
    path = Path(path)
    check_unique_columns(table, f"the table for {path}")
    fmt = fmt or path.suffix.lstrip(".").lower() or "csv"
    if fmt == "csv":
        return write_csv(table, path, precision=precision, lang=lang, labels=labels)
    if fmt not in ("json", "xlsx"):
        raise OutputError(f"unknown table format {fmt!r} for {path}; use csv, json or xlsx")
    if fmt == "xlsx":
        formats = [_number_format(c) for c in table.columns]
        table = for_people(table, lang=lang, precision="full", labels=labels)
    table = clean_text(table, path)
    with atomic_path(path) as tmp:
        if fmt == "json":
            tmp.write_text(
                table.to_json(orient="records", force_ascii=False, indent=1), encoding="utf-8"
            )
        else:
            with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
                table.to_excel(writer, index=False, sheet_name="stats", freeze_panes=(1, 0))
                _apply_formats(writer.sheets["stats"], formats, first_row=2)
                _no_formulas(writer.book)
    return path


#: Unit of a column suffix in the header label: (English, Chinese, both).
_UNIT_LABEL = {
    "km2": ("km²", "平方公里", "km²"),
    "ha": ("ha", "公顷", "ha"),
    "mu": ("mu", "亩", "亩 mu"),
    "wanmu": ("10k mu", "万亩", "万亩 10k mu"),
    "yimu": ("100M mu", "亿亩", "亿亩 100M mu"),
    "wanha": ("10k ha", "万公顷", "万公顷 10k ha"),
    "pct": ("%", "%", "%"),
    "%": ("%", "%", "%"),
    "pp": ("percentage points", "百分点", "percentage points / 百分点"),
}
_LANG_INDEX = {"en": 0, "zh": 1, "both": 2}

#: Names of the identifier and statistics columns: (English, Chinese).
_NAMES = {
    "adcode": ("Administrative code", "行政区划代码"),
    "zone": ("Zone", "区域"),
    "id": ("Identifier", "代码"),
    "name_zh": ("Chinese name", "中文名称"),
    "name_en": ("English name", "英文名称"),
    "name_pinyin": ("Pinyin", "拼音"),
    "level": ("Level", "级别"),
    "layer": ("Layer", "图层"),
    "class": ("Class code", "类别代码"),
    "class_name": ("Class", "类别"),
    "fraction": ("Share of valid area (0–1)", "占有效面积比例（0–1）"),
    "indicator": ("Indicator", "指标"),
    "value": ("Value", "数值"),
    "unit": ("Unit", "单位"),
    "target": ("Target", "目标值"),
    "direction": ("Target direction", "目标方向"),
    "meets_target": ("Meets target", "达到目标"),
    "verdict": ("Verdict, robust to method variants?", "目标判断（方法稳健性）"),
    "variant_min": ("Lowest over method variants", "方法变体最小值"),
    "variant_max": ("Highest over method variants", "方法变体最大值"),
    "cells": ("Grid cells (coverage-weighted)", "像元数（按覆盖加权）"),
    "few_cells": ("Too few cells to judge", "像元过少"),
    "below_detection": ("Below the data's detection limit", "低于数据检测限"),
    "overlaps_with": ("Overlaps with (shared area)", "与之重叠的片区（重叠面积）"),
    "overlap_area": ("Area shared with other zones", "与其他片区重叠面积"),
    "gap": ("Gap to target", "与目标差距"),
    "official": ("Official figure", "官方数据"),
    "method": ("Method", "方法"),
    "from_class": ("From class", "原类别"),
    "to_class": ("To class", "现类别"),
    "mean_before": ("Mean, before", "前期平均值"),
    "mean_after": ("Mean, after", "后期平均值"),
    "change": ("Change (after − before)", "变化（后期−前期）"),
    "count": ("Cell count (coverage-weighted)", "像元数（按覆盖加权）"),
    "nodata_fraction": ("Nodata share (0–1)", "无数据比例（0–1）"),
    "mean": ("Mean", "平均值"),
    "area_mean": ("Area-weighted mean", "面积加权平均值"),
    "min": ("Minimum", "最小值"),
    "max": ("Maximum", "最大值"),
    "median": ("Median", "中位数"),
    "stdev": ("Standard deviation", "标准差"),
    "sum": ("Sum", "总和"),
    "majority": ("Majority", "众数"),
    "minority": ("Minority", "少数类"),
    "variety": ("Number of values", "值的种数"),
    "area": ("Area", "面积"),
    "valid_area": ("Valid area", "有效面积"),
    "nodata_area": ("Nodata area", "无数据面积"),
    "outside_area": ("Area outside the raster", "栅格范围外面积"),
    "choice": ("Method choice", "方法选择"),
    "toolkit": ("Toolkit value", "本工具数值"),
    "kind": ("Kind of figure", "数据类型"),
    "difference": ("Difference", "差值"),
    "source": ("Source", "来源"),
    "why": ("Why they differ", "差异原因"),
    "item": ("Item", "项目"),
    "file": ("File", "文件"),
    "licence": ("Licence", "许可"),
    "zh": ("Chinese", "中文"),
    "en": ("English", "英文"),
}

#: Chinese names of the class names of the shipped and derived layers (IGBP land cover in
#: the usual Chinese translation of the MODIS IGBP legend, Köppen-Geiger groups, derived
#: classes). Layers keep English class names; tables in Chinese use these.
CLASS_NAMES_ZH = {
    # IGBP (MCD12C1)
    "water": "水体",
    "evergreen needleleaf forest": "常绿针叶林",
    "evergreen broadleaf forest": "常绿阔叶林",
    "deciduous needleleaf forest": "落叶针叶林",
    "deciduous broadleaf forest": "落叶阔叶林",
    "mixed forest": "混交林",
    "closed shrubland": "郁闭灌丛",
    "open shrubland": "稀疏灌丛",
    "woody savanna": "木本稀树草原",
    "savanna": "稀树草原",
    "grassland": "草地",
    "permanent wetland": "永久湿地",
    "cropland": "耕地",
    "urban": "城镇建设用地",
    "cropland/natural mosaic": "耕地与自然植被镶嵌",
    "snow/ice": "冰雪",
    "barren": "裸地",
    # Köppen-Geiger main groups
    "A tropical": "A 热带",
    "B arid": "B 干旱带",
    "C temperate": "C 温带",
    "D cold": "D 冷温带",
    "E polar": "E 极地",
    # derived layers
    "forest": "林地",
    "shrub forest": "灌木林地",
    "other land": "其他土地",
    "not sandified": "非沙化",
    "light": "轻度",
    "moderate": "中度",
    "severe": "重度",
    "extreme": "极重度",
    "outside": "红线外",
    "inside": "红线内",
}


#: Chinese names of the zone levels (the ``level`` column of tables in Chinese).
LEVELS_ZH = {
    "province": "自治区",
    "league": "盟市",
    "county": "旗县（市、区）",
    "battle": "战役区",
    "battle_part": "战役区片区",
    "user": "自定义区域",
}


def _join(en: str, zh: str, lang: str) -> str:
    return {"en": en, "zh": zh, "both": f"{en} / {zh}"}[lang]


def _with_unit(text: str, unit: str | None, lang: str) -> str:
    if unit is None:
        return text
    symbol = _UNIT_LABEL.get(unit, (unit, unit, unit))[_LANG_INDEX[lang]]
    return f"{text} [{symbol}]"


def column_label(column: str, lang: str = "both") -> str:
    """Human header of a table column, with its unit, in English, Chinese or both.

    ``grassland_fvc_pct`` → ``Grassland comprehensive vegetation coverage (proxy) / 草原综合植被
    盖度（遥感估算） [%]``; ``area_mu`` → ``Area / 面积 [亩 mu]`` (``lang="zh"``: ``面积 [亩]``;
    ``"en"``: ``Area [mu]``); statistics columns ``<layer>_<stat>[_<class>]`` →
    ``<layer>: Mean``/``<layer>：平均值``; columns not known keep their id.
    """
    from geo.indicators import INDICATORS, MIN_CELLS

    check_lang(lang)
    suffixes = {
        "_meets_target": ("meets 2027 target", "达到目标"),
        "_gap": ("gap to target", "差距"),
        "_below_detection": ("below the data's detection limit", "低于数据检测限"),
        "_verdict": (
            "verdict vs target (robust / uncertain over method variants)",
            "目标判断（方法稳健 / 不确定）",
        ),
        "_variant_min": ("lowest over method variants", "方法变体最小值"),
        "_variant_max": ("highest over method variants", "方法变体最大值"),
        "_few_cells": (
            f"too few cells (< {MIN_CELLS:g}) to judge or rank",
            "像元过少，不判断不排名",
        ),
        "_cells": ("grid cells it rests on (coverage-weighted)", "所依据像元数（按覆盖加权）"),
    }
    for suffix, what in suffixes.items():
        if column.endswith(suffix):
            base = column.removesuffix(suffix)
            if base in INDICATORS:
                ind = INDICATORS[base]
                if lang == "both":
                    return f"{ind.name_en}: {what[0]} / {what[1]}"
                name = ind.name_en if lang == "en" else ind.name_zh
                sep = ": " if lang == "en" else "："
                pct = suffix in ("_variant_min", "_variant_max")
                unit = "pp" if suffix == "_gap" and ind.unit == "%" else "%" if pct else None
                return _with_unit(f"{name}{sep}{what[_LANG_INDEX[lang]]}", unit, lang)
    if column in INDICATORS:
        ind = INDICATORS[column]
        return _with_unit(_join(ind.name_en, ind.name_zh, lang), ind.unit, lang)
    stem, _, unit = column.rpartition("_")
    if stem in INDICATORS and unit in _UNIT_LABEL:
        ind = INDICATORS[stem]
        return _with_unit(_join(ind.name_en, ind.name_zh, lang), unit, lang)
    return _generic_label(column, lang)


_STAT_RE = re.compile(
    r"^(?:(?P<layer>.+?)_)??(?P<stat>"
    + "|".join(sorted((re.escape(k) for k in _NAMES), key=len, reverse=True))
    + r"|quantile_[0-9.]+)(?:_(?P<unit>"
    + "|".join(UNITS)
    + r"))?(?:_(?P<code>-?\d+))?$"
)


def _generic_label(column: str, lang: str) -> str:
    """Label of an identifier or ``[<layer>_]<stat>[_<unit>][_<class>]`` column, else the id."""
    if lang == "both":
        return column  # ids are the bilingual header: unchanged as before
    match = _STAT_RE.match(column)
    if not match:
        return column
    stat, unit = match["stat"], match["unit"]
    if stat.startswith("quantile_"):
        en, zh = (
            f"Quantile {stat.removeprefix('quantile_')}",
            f"{stat.removeprefix('quantile_')} 分位数",
        )
    else:
        en, zh = _NAMES[stat]
    text = en if lang == "en" else zh
    if match["code"] is not None:
        text = (
            f"{text}, class {match['code']}" if lang == "en" else f"{text}（类别 {match['code']}）"
        )
    if match["layer"]:
        text = f"{match['layer']}: {text}" if lang == "en" else f"{match['layer']}：{text}"
    return _with_unit(text, unit, lang)


def class_labels(layer_specs, columns, lang: str) -> dict[str, str]:
    """Header labels of class columns ``<layer>_area_<unit>_<code>`` with the class names."""
    labels = {}
    for layer in name_layers(layer_specs):
        for col in columns:
            match = _STAT_RE.match(str(col))
            if not match or match["layer"] != layer.name or match["code"] is None:
                continue
            name = layer.classes.get(int(match["code"]))
            if not name or lang == "both":
                continue
            stat = _NAMES.get(match["stat"], (match["stat"], match["stat"]))
            if lang == "zh":
                text = f"{layer.name}：{CLASS_NAMES_ZH.get(name, name)}{stat[1]}"
            else:
                text = f"{layer.name}: {name}, {stat[0].lower()}"
            labels[col] = _with_unit(text, match["unit"], lang)
    return labels


def write_xlsx(
    sheets: dict[str, pd.DataFrame],
    path: str | Path,
    sources: pd.DataFrame,
    *,
    lang: str = "both",
) -> Path:
    """Write tables to one workbook: a sheet per table plus a ``sources`` sheet.

    Row 1 holds the column ids (as in the CSV files), row 2 the names with units in
    ``lang`` (:func:`column_label`); both rows are frozen. Numbers keep every digit and are
    shown with number formats (:func:`_number_format`: areas with thousands separators and
    the decimals of :func:`round_table`, percentages two decimals); booleans are 是/否 or
    yes/no (:data:`YES_NO`).
    """
    from openpyxl.styles import Font

    path = Path(path)
    with atomic_path(path) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as writer:
        for name, table in {**sheets, "sources": sources}.items():
            check_unique_columns(table, f"sheet {name!r} of {path}")
            table = clean_text(table, f"{path} (sheet {name})")
            shown = for_people(table, lang=lang, precision="full", header=False)
            shown.to_excel(writer, index=False, sheet_name=name, startrow=2, header=False)
            sheet = writer.sheets[name]
            for j, col in enumerate(table.columns, start=1):
                sheet.cell(row=1, column=j, value=col).font = Font(bold=True)
                label = column_label(col, lang)
                sheet.cell(row=2, column=j, value=label).font = Font(italic=True)
                sheet.column_dimensions[sheet.cell(row=1, column=j).column_letter].width = min(
                    max(len(col), 10), 40
                )
            _apply_formats(sheet, [_number_format(c) for c in table.columns], first_row=3)
            sheet.freeze_panes = "B3"
        _no_formulas(writer.book)
    return path


def _apply_formats(sheet, formats: list[str | None], first_row: int) -> None:
    """Number formats per column (every digit stays in the cell; the format shows fewer)."""
    for j, fmt in enumerate(formats, start=1):
        if fmt:
            for row in sheet.iter_rows(min_row=first_row, min_col=j, max_col=j):
                row[0].number_format = fmt


def _number_format(column) -> str | None:
    """Excel number format of a column: the decimals of :func:`round_table`, separators."""
    kind, n = _column_rule(column)
    if kind != "decimals":
        return None
    if _UNIT_RE.search(str(column)):
        return "#,##0" + ("." + "0" * n if n else "")
    return "0." + "0" * n


def class_table(table: pd.DataFrame, layer_specs, unit: str = "km2") -> pd.DataFrame:
    """Long form of the class columns of :func:`stats_table`, with class names.

    Returns
    -------
    pandas.DataFrame
        The identifier and name columns, then ``layer``, ``class``, ``class_name``,
        ``area_<unit>`` and ``fraction`` (share of the valid area); one row per zone, class
        layer and class with a non-zero area.
    """
    keys = list(table.columns[:4])
    frames = []
    for layer in name_layers(layer_specs):
        prefix = f"{layer.name}_area_{unit}_"
        # only class codes: the columns of a layer named e.g. "<name>_area_km2_map" also
        # start with the prefix
        codes = [
            int(c.removeprefix(prefix))
            for c in table.columns
            if c.startswith(prefix) and c.removeprefix(prefix).lstrip("-").isdigit()
        ]
        for code in codes:
            frac = table.get(f"{layer.name}_fraction_{code}")
            frame = table[keys].copy()
            frame["layer"] = layer.name
            frame["class"] = code
            frame["class_name"] = layer.classes.get(code, "")
            frame[f"area_{unit}"] = table[f"{prefix}{code}"]
            frame["fraction"] = frac if frac is not None else float("nan")
            frames.append(frame[frame[f"area_{unit}"] > 0])
    if not frames:
        raise UsageError("--long needs a class layer with --stat area or --stat fraction")
    order = {zone: i for i, zone in enumerate(table[keys[0]])}
    long = pd.concat(frames, ignore_index=True)
    long = long.assign(_order=long[keys[0]].map(order)).sort_values(["_order", "layer", "class"])
    return long.drop(columns="_order").reset_index(drop=True)
