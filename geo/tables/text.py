"""Text cells of tables: control characters removed, spreadsheet formulas defused."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import GeoWarning
from geo.vectors import CONTROL_CHARACTERS

__all__ = ["clean_text", "csv_safe", "no_formulas"]


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
    r"""Remove control characters from the text of ``table`` (with one warning if any).

    Text pasted from word processors can hold characters such as vertical tab (``\x0b``)
    or form feed that XML, and hence XLSX, forbids; they are removed. A carriage return
    becomes a line break (XLSX does the same; unquoted in a CSV it would split the row).
    Tab and line break stay. Values that are not text are untouched; a table without such
    characters is returned as is, silently.

    Parameters
    ----------
    table : pandas.DataFrame
    where : str or Path
        The file the table comes from or goes to, named in the warning.

    Returns
    -------
    pandas.DataFrame
        ``table`` itself when it holds no such character, else a cleaned copy.
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

    Parameters
    ----------
    table : pandas.DataFrame
        A table about to be written as CSV.

    Returns
    -------
    pandas.DataFrame
        The defused table (a copy when anything changes).
    """
    return _map_text(table, _defuse)[0]


def no_formulas(book) -> None:
    """Store every text cell of an openpyxl workbook as text, never as a formula.

    Parameters
    ----------
    book : openpyxl.Workbook
        A workbook about to be saved (changed in place).
    """
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":  # openpyxl makes any text starting with = a formula
                    cell.data_type = "s"
                    cell.quotePrefix = True  # Excel keeps it text when the cell is edited
