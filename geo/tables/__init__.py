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

The package, by concern: :mod:`~geo.tables.text` (control characters, formula defusing),
:mod:`~geo.tables.labels` (column and class labels in zh/en), :mod:`~geo.tables.format`
(units, rounding, :func:`for_people`), :mod:`~geo.tables.write` (CSV, JSON, XLSX),
:mod:`~geo.tables.layernames` and :mod:`~geo.tables.stats` (the statistics table). Every
public name is importable from ``geo.tables``.
"""

from geo.tables.format import (
    FRACTION_DECIMALS,
    PCT_DECIMALS,
    SIGNIFICANT,
    for_people,
    in_units,
    round_table,
    with_wanmu,
)
from geo.tables.labels import (
    CLASS_NAMES_ZH,
    LEVELS_ZH,
    YES_NO,
    check_lang,
    class_labels,
    column_label,
    official_column,
    verdict_text,
)
from geo.tables.layernames import name_layers
from geo.tables.stats import class_table, stats_table
from geo.tables.text import clean_text, csv_safe
from geo.tables.write import check_unique_columns, write_csv, write_table, write_xlsx

__all__ = [
    "CLASS_NAMES_ZH",
    "FRACTION_DECIMALS",
    "LEVELS_ZH",
    "PCT_DECIMALS",
    "SIGNIFICANT",
    "YES_NO",
    "check_lang",
    "check_unique_columns",
    "class_labels",
    "class_table",
    "clean_text",
    "column_label",
    "csv_safe",
    "for_people",
    "in_units",
    "name_layers",
    "official_column",
    "round_table",
    "stats_table",
    "verdict_text",
    "with_wanmu",
    "write_csv",
    "write_table",
    "write_xlsx",
]
