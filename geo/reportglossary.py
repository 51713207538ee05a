"""The indicator glossary of the reports: per indicator, the basis this report's values rest on.

The definitions of :data:`geo.indicators.INDICATORS` are those of the proxies; when the user
gives official layers (``--forest``, ``--grassland``, ``--sandified``, ``--redline``) or a fine
land-cover raster, some values of the report rest on something else. :func:`glossary` reads
what the run did from its indicator tables (the ``basis`` and ``method`` of every row) and says
it per indicator: the official layer with its file name, the remote-sensing proxy (and from
which land-cover raster), or the proxy estimated over an official extent. ``report.html``
(:func:`html_items`) and the Word/PDF document (:func:`doc_lines`) show the same entries.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = ["Entry", "doc_lines", "doc_section", "glossary", "html_items"]


@dataclass(frozen=True)
class Entry:
    """One indicator of the glossary.

    Attributes
    ----------
    id : str
        The indicator id.
    name_zh, name_en : str
        Its names as this report shows them (``（官方）`` / ``(official)`` when official).
    unit : str
        Its unit (``%``, ``km2`` …).
    basis_zh, basis_en : str
        What its values rest on in this report.
    method : str
        How they were computed in this report, in words.
    source : str
        The document of its target (short citation), or ``""``.
    """

    id: str
    name_zh: str
    name_en: str
    unit: str
    basis_zh: str
    basis_en: str
    method: str
    source: str = ""


def glossary(results, files: Mapping[str, str | Path] | None = None) -> list[Entry]:
    """The glossary entries of a run, one per indicator of :data:`geo.indicators.INDICATORS`.

    Parameters
    ----------
    results : geo.pipeline.Results
        The run (its ``long`` tables say each value's basis and method).
    files : mapping of str to path, optional
        The official layer files given, by kind (``forest``, ``grassland``, ``sandified``,
        ``redline``): their names are said. Without them the basis is still said.

    Returns
    -------
    list of Entry
    """
    from geo.indicators import INDICATORS

    rows = pd.concat([t for t in results.long.values() if len(t)], ignore_index=True)
    return [_entry(results, rows, ind, dict(files or {})) for ind in INDICATORS.values()]


def _entry(results, rows: pd.DataFrame, ind, files: dict) -> Entry:
    from geo.indicators import official_name, proxy_id
    from geo.official import KINDS

    mine = rows[rows["indicator"] == ind.id]
    bases = set(mine["basis"]) if "basis" in mine else {"proxy"}
    method = str(mine["method"].iloc[0]) if len(mine) and "method" in mine else ind.method
    cited = ind.citation.short if ind.citation else ""
    entry = Entry(ind.id, ind.name_zh, ind.name_en, ind.unit, "遥感估算", "remote-sensing proxy",
                  method, cited)  # fmt: skip
    kind = next((k for k, spec in KINDS.items() if ind.id in spec.keys), None)
    extent = next((k for k, spec in KINDS.items() if ind.id in spec.extent), None)
    if mine.empty or not mine["value"].notna().any():
        return _replace(entry, "本报告未计算", "not computed in this report", ind.method)
    if bases == {"official"} and kind is not None:
        spec, file = KINDS[kind], _file(files, kind)
        twin = f"{ind.method} (the proxy, kept beside as {proxy_id(ind.id)})"
        return Entry(
            ind.id, official_name(ind.name_zh), official_name(ind.name_en), ind.unit,
            f"官方图层 {file}（{spec.option}）", f"official layer {file} ({spec.option})",
            f"{method}; {twin}", cited,
        )  # fmt: skip
    if bases == {"official extent"} and extent is not None:
        spec, file = KINDS[extent], _file(files, extent)
        return _replace(
            entry,
            f"遥感估算，范围为官方图层 {file}（{spec.option}）",
            f"remote-sensing proxy over the extent of the official layer {file} ({spec.option})",
        )
    if ind.id == "area":
        return _replace(entry, "边界多边形面积", "the boundary polygons")
    if ind.id == "treated_sandified_pct":
        given = "the treated and treatable polygons given (--treated, --treatable)"
        return _replace(entry, "用户提供的治理图层（--treated、--treatable）", given)
    if kind == "redline":
        return _replace(entry, "校准代理（未提供 --redline）",
                        "calibrated proxy (no --redline file given)")  # fmt: skip
    fine = getattr(results, "landcover", None)
    if fine is not None and fine.path.name in method:
        name = fine.path.name
        return _replace(entry, f"遥感估算（土地覆盖栅格 {name}）",
                        f"remote-sensing proxy from the land-cover raster {name}")  # fmt: skip
    return entry


def _replace(entry: Entry, zh: str, en: str, method: str | None = None) -> Entry:
    return Entry(
        entry.id, entry.name_zh, entry.name_en, entry.unit, zh, en,
        entry.method if method is None else method, entry.source,
    )  # fmt: skip


def _file(files: dict, kind: str) -> str:
    """The file name of the official layer ``kind``, or what it is when not known."""
    path = files.get(kind)
    return Path(path).name if path is not None else "given by the user"


def html_items(entries: list[Entry]) -> str:
    """The glossary as ``<li>`` items of ``report.html`` (both languages)."""
    e = html.escape
    return "".join(
        f"<li><b>{e(i.id)}</b> — {e(i.name_zh)} / {e(i.name_en)} [{e(i.unit)}] — "
        f"<i>依据 / basis: {e(i.basis_zh)} / {e(i.basis_en)}</i> — method: {e(i.method)}"
        f"{' — source: ' + e(i.source) if i.source else ''}</li>"
        for i in entries
    )


def doc_section(results, entries: list[Entry] | None, lang: str) -> list:
    """The glossary's heading and bullets for :class:`geo.reportdoc.Document` (methods section).

    ``entries`` default to :func:`glossary` of ``results`` (without file names).
    """
    from geo.reportdoc import Heading, Paragraph, pick

    lines = doc_lines(glossary(results) if entries is None else entries, lang)
    heading = Heading(
        pick("指标定义及本报告的依据", "Indicators and their basis in this report", lang), 2
    )
    return [heading, *(Paragraph(line, "bullet") for line in lines)]


def doc_lines(entries: list[Entry], lang: str) -> list[str]:
    """The glossary as bullet lines of the Word/PDF document, in ``lang``."""
    from geo.reportdoc import pick

    lines = []
    for i in entries:
        name = pick(i.name_zh, i.name_en, lang)
        basis = pick(f"依据：{i.basis_zh}", f"basis: {i.basis_en}", lang)
        cited = f" — {pick('出处', 'source', lang)}: {i.source}" if i.source else ""
        lines.append(f"{i.id} — {name} [{i.unit}] — {basis} — method: {i.method}{cited}")
    return lines
