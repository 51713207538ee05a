"""Tables: zonal statistics of layers as one table, and writing tables (CSV, JSON, XLSX).

CSV files are UTF-8 with a byte-order mark so that Excel shows Chinese names; every file is
written atomically.

Text from users (zone names and ids, file names) is made safe in every table written:
control characters that XML forbids are removed (:func:`clean_text`, with a warning), text
cells of a workbook are stored as text, never as formulas, and CSV text fields that a
spreadsheet would run as a formula get a leading ``'`` (:func:`csv_safe`, as the OWASP
CSV-injection guidance advises). Numbers are never changed.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import DataError, GeoWarning, OutputError, UsageError
from geo.outputs import atomic_path
from geo.units import convert
from geo.vectors import CONTROL_CHARACTERS

__all__ = [
    "class_table",
    "clean_text",
    "column_label",
    "csv_safe",
    "in_units",
    "name_layers",
    "stats_table",
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


def write_csv(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as UTF-8 CSV with a byte-order mark (so Excel shows Chinese), atomically.

    Text is cleaned (:func:`clean_text`) and defused (:func:`csv_safe`).
    """
    table = csv_safe(clean_text(table, path))
    _check_unique_columns(table, f"the table for {path}")
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
    """Convert every ``*area_km2*`` column to ``unit`` (``km2``, ``ha`` or ``mu``), renaming it."""
    if unit == "km2":
        return frame
    frame = frame.copy()
    factor = convert(1.0, "km2", unit)
    renamed = {}
    for col in frame.columns:
        if "area_km2" in col:
            renamed[col] = col.replace("area_km2", f"area_{unit}")
            frame[col] = frame[col] * factor
    return frame.rename(columns=renamed)


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


def _check_unique_columns(table: pd.DataFrame, what: str) -> None:
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
    _check_unique_columns(table, "the statistics table")
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


def write_table(table: pd.DataFrame, path: str | Path, fmt: str | None = None) -> Path:
    """Write a table atomically as CSV (UTF-8 with BOM), JSON (records) or XLSX.

    Parameters
    ----------
    table : pandas.DataFrame
    path : path
        Output file; its suffix chooses the format unless ``fmt`` is given.
    fmt : {"csv", "json", "xlsx"}, optional
    """
    path = Path(path)
    _check_unique_columns(table, f"the table for {path}")
    fmt = fmt or path.suffix.lstrip(".").lower() or "csv"
    if fmt == "csv":
        return write_csv(table, path)
    if fmt not in ("json", "xlsx"):
        raise OutputError(f"unknown table format {fmt!r} for {path}; use csv, json or xlsx")
    table = clean_text(table, path)
    with atomic_path(path) as tmp:
        if fmt == "json":
            tmp.write_text(
                table.to_json(orient="records", force_ascii=False, indent=1), encoding="utf-8"
            )
        else:
            with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
                table.to_excel(writer, index=False, sheet_name="stats", freeze_panes=(1, 0))
                _no_formulas(writer.book)
    return path


_UNIT_LABEL = {"km2": "km²", "ha": "ha", "mu": "亩 mu", "pct": "%"}


def column_label(column: str) -> str:
    """Human header of a table column: English and Chinese name with the unit.

    ``grassland_fvc_pct`` → ``Grassland comprehensive vegetation coverage (proxy) / 草原综合植被
    盖度（遥感估算） [%]``; ``area_mu`` → ``Area / 面积 [亩 mu]``; other columns unchanged.
    """
    from geo.indicators import INDICATORS

    for suffix in ("_meets_target", "_gap"):
        if column.endswith(suffix):
            base = column.removesuffix(suffix)
            if base in INDICATORS:
                what = (
                    "meets 2027 target / 达到目标"
                    if suffix == "_meets_target"
                    else "gap to target / 差距"
                )
                return f"{INDICATORS[base].name_en}: {what}"
    if column in INDICATORS:
        ind = INDICATORS[column]
        return f"{ind.name_en} / {ind.name_zh} [{_UNIT_LABEL.get(ind.unit, ind.unit)}]"
    stem, _, unit = column.rpartition("_")
    if stem in INDICATORS and unit in _UNIT_LABEL:
        ind = INDICATORS[stem]
        return f"{ind.name_en} / {ind.name_zh} [{_UNIT_LABEL[unit]}]"
    return column


def write_xlsx(sheets: dict[str, pd.DataFrame], path: str | Path, sources: pd.DataFrame) -> Path:
    """Write tables to one workbook: a sheet per table plus a ``sources`` sheet.

    Row 1 holds the column ids (as in the CSV files), row 2 the English/Chinese names with
    units; both rows are frozen. Areas get thousands separators, percentages two decimals.
    """
    from openpyxl.styles import Font

    path = Path(path)
    with atomic_path(path) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as writer:
        for name, table in {**sheets, "sources": sources}.items():
            _check_unique_columns(table, f"sheet {name!r} of {path}")
            table = clean_text(table, f"{path} (sheet {name})")
            table.to_excel(writer, index=False, sheet_name=name, startrow=2, header=False)
            sheet = writer.sheets[name]
            for j, col in enumerate(table.columns, start=1):
                sheet.cell(row=1, column=j, value=col).font = Font(bold=True)
                sheet.cell(row=2, column=j, value=column_label(col)).font = Font(italic=True)
                fmt = _number_format(col)
                if fmt:
                    for row in sheet.iter_rows(min_row=3, min_col=j, max_col=j):
                        row[0].number_format = fmt
                sheet.column_dimensions[sheet.cell(row=1, column=j).column_letter].width = min(
                    max(len(col), 10), 40
                )
            sheet.freeze_panes = "B3"
        _no_formulas(writer.book)
    return path


def _number_format(column: str) -> str | None:
    if column.endswith(("_km2", "_ha", "_mu")):
        return "#,##0.00"
    if column.endswith(("_pct", "_gap")):
        return "0.00"
    return None


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
