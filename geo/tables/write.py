"""Writing tables atomically: CSV (UTF-8 with BOM), JSON records and XLSX workbooks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo.errors import OutputError
from geo.outputs import atomic_path
from geo.tables.format import UNIT_RE, column_rule, for_people
from geo.tables.labels import column_label, official_column
from geo.tables.text import clean_text, csv_safe, no_formulas

__all__ = ["check_unique_columns", "write_csv", "write_table", "write_xlsx"]


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

    Parameters
    ----------
    table : pandas.DataFrame
        The table, areas in the units of its column names.
    path : path
        Output file.
    precision : {"rounded", "full"}
        Numbers rounded per column unit or every digit.
    lang : {"both", "zh", "en"}
        Header and yes/no language.
    labels : dict, optional
        Header labels of particular columns.

    Returns
    -------
    Path
        ``path``.
    """
    table = for_people(table, lang=lang, precision=precision, labels=labels)
    table = csv_safe(clean_text(table, path))
    check_unique_columns(table, f"the table for {path}")
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8-sig")
    return Path(path)


def check_unique_columns(table: pd.DataFrame, what: str) -> None:
    """Duplicate column names would be dropped or mixed up silently by writers: a bug.

    Parameters
    ----------
    table : pandas.DataFrame
        A table about to be written.
    what : str
        The table, for the message.

    Raises
    ------
    RuntimeError
        If two columns share a name (an internal error, not bad input).
    """
    dupes = sorted({str(c) for c in table.columns[table.columns.duplicated()]})
    if dupes:
        raise RuntimeError(f"internal error: {what} has duplicate columns {dupes}")


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

    Returns
    -------
    pathlib.Path
        The file written.
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
                no_formulas(writer.book)
    return path


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

    Parameters
    ----------
    sheets : dict of str to pandas.DataFrame
        Tables by sheet name.
    path : path
        Output workbook.
    sources : pandas.DataFrame
        The ``sources`` sheet.
    lang : {"both", "zh", "en"}
        Language of row 2 and of yes/no.

    Returns
    -------
    Path
        ``path``.
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
                label = column_label(col, lang, official_column(table, col))
                sheet.cell(row=2, column=j, value=label).font = Font(italic=True)
                sheet.column_dimensions[sheet.cell(row=1, column=j).column_letter].width = min(
                    max(len(col), 10), 40
                )
            _apply_formats(sheet, [_number_format(c) for c in table.columns], first_row=3)
            sheet.freeze_panes = "B3"
        no_formulas(writer.book)
    return path


def _apply_formats(sheet, formats: list[str | None], first_row: int) -> None:
    """Number formats per column (every digit stays in the cell; the format shows fewer)."""
    for j, fmt in enumerate(formats, start=1):
        if fmt:
            for row in sheet.iter_rows(min_row=first_row, min_col=j, max_col=j):
                row[0].number_format = fmt


def _number_format(column) -> str | None:
    """Excel number format of a column: the decimals of :func:`round_table`, separators."""
    kind, n = column_rule(column)
    if kind != "decimals":
        return None
    if UNIT_RE.search(str(column)):
        return "#,##0" + ("." + "0" * n if n else "")
    return "0." + "0" * n
