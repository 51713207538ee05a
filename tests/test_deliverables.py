"""The report's sendable deliverables: ``report.docx`` (always) and ``report.pdf`` (--pdf).

Every check reads the files as a recipient would (python-docx, pypdf) and compares them with
the report's CSV files read independently.
"""

import hashlib
import json
import re

import docx
import geopandas as gpd
import pandas as pd
import pypdf
import pytest

from geo import cli
from geo.indicators import VERDICTS
from geo.outputs import check_replaceable
from geo.tables import verdict_text

#: Columns of the league table of the Word file and the PDF, in order (lang both).
LEAGUE_COLUMNS = [
    "adcode",
    "name_zh",
    "name_en",
    "area_km2",
    "area_wanmu",
    "grassland_fvc_pct",
    "grassland_fvc_pct_verdict",
    "forest_cover_pct",
    "forest_cover_pct_verdict",
    "sandified_pct",
    "sandified_area_wanmu",
    "redline_pct",
]
BATTLE_COLUMNS = [
    "zone",
    "name_zh",
    "name_en",
    "area_km2",
    "sandified_area_wanmu",
    "grassland_fvc_pct",
    "forest_cover_pct",
    "sandified_pct",
    "redline_pct",
    "grassland_fvc_pct_verdict",
    "overlaps_with",
]
A4_MM = (210.0, 297.0)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def built(cli_report):
    """``barrier report --pdf`` (shared, see conftest)."""
    return cli_report


def _csv(folder, name):
    return pd.read_csv(
        folder / "tables" / name, dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )


def _cells(table):
    return [[cell.text for cell in row.cells] for row in table.rows]


def _captions(document):
    return [p.text for p in document.paragraphs if p.style.name == "Caption"]


def _word_table(document, number):
    """The Word table captioned 表<number> (tables follow their captions in order)."""
    captions = [c for c in _captions(document) if c.startswith("表")]
    index = next(i for i, c in enumerate(captions) if c.startswith(f"表{number} "))
    return document.tables[index], captions[index]


def test_word_tables_hold_the_csv_numbers(built):
    document = docx.Document(built / "report.docx")
    table, caption = _word_table(document, 3)
    assert "盟市" in caption and "Table 3" in caption
    rows = _cells(table)
    csv = _csv(built, "indicators_league.csv")
    assert len(rows) == 1 + len(csv) == 13  # header + 12 leagues and cities
    for row, (_, expected) in zip(rows[1:], csv.iterrows(), strict=True):
        assert row == [expected[c] for c in LEAGUE_COLUMNS]
    # verdicts in words as in the CSV (never a bare yes/no: uncertain ones say so), and the 万亩
    # column is the km² area × 0.15 (1 km² = 1500 亩)
    words = {verdict_text(code, "both") for code in VERDICTS}
    assert {r[6] for r in rows[1:]} <= words and verdict_text("uncertain", "both") in {
        r[6] for r in rows[1:]
    }
    full = gpd.read_parquet(built / "tables" / "indicators_league.parquet")
    assert [float(r[4]) for r in rows[1:]] == [round(a * 0.15, 2) for a in full.area_km2]

    table, _ = _word_table(document, 4)
    csv = _csv(built, "indicators_battle_part.csv")
    assert _cells(table)[1:] == csv[BATTLE_COLUMNS].to_numpy().tolist()

    sensitivity = _csv(built, "method_sensitivity.csv")
    table, caption = _word_table(document, len(document.tables))
    assert "方法" in caption
    assert _cells(table)[1:] == sensitivity.to_numpy().tolist()


def test_word_summary_verdicts_match_the_province_csv(built):
    document = docx.Document(built / "report.docx")
    rows = _cells(_word_table(document, 1)[0])
    province = _csv(built, "indicators_province.csv").iloc[0]
    grass, forest = rows[1], rows[2]
    assert grass[1] == province["grassland_fvc_pct"]
    assert forest[1] == province["forest_cover_pct"]
    assert forest[5] == province["forest_cover_pct_gap"]
    # the forest proxy (≈ 9 %) is below the 21.98 % target under every method variant
    sensitivity = pd.read_csv(built / "tables" / "method_sensitivity.csv", encoding="utf-8-sig")
    assert sensitivity.forest_cover_pct.max() < 21.98
    assert forest[3] == "未达到 / not met"
    assert forest[4].startswith("方法稳健")


def test_word_captions_numbered_fonts_and_page(built):
    from docx.oxml.ns import qn
    from docx.shared import Cm

    document = docx.Document(built / "report.docx")
    captions = _captions(document)
    tables = [c for c in captions if c.startswith("表")]
    figures = [c for c in captions if c.startswith("图")]
    assert len(tables) == len(document.tables) and len(tables) + len(figures) == len(captions)
    for i, caption in enumerate(tables, 1):  # Chinese first, English after (--lang both)
        assert re.match(rf"表{i} \S.* / Table {i} \S", caption), caption
    for i, caption in enumerate(figures, 1):
        assert re.match(rf"图{i} \S.* / Figure {i} \S", caption), caption
    pngs = sorted((built / "figures").glob("*.png"))
    assert len(figures) == len(pngs) == len(document.inline_shapes)
    text_width = Cm(21 - 2 * 2.2)
    assert all(
        abs(s.width - text_width) <= Cm(0.01) or s.height >= Cm(19.9)
        for s in document.inline_shapes
    )
    # East Asian fonts for a Chinese bureau; Times New Roman for Latin text
    for style, east in (("Normal", "宋体"), ("Heading 1", "黑体"), ("Caption", "黑体")):
        fonts = document.styles[style].element.rPr.rFonts
        assert fonts.get(qn("w:eastAsia")) == east
        assert fonts.get(qn("w:ascii")) == "Times New Roman"
        assert fonts.get(qn("w:asciiTheme")) is None  # a theme font would override it
    for section in document.sections:  # A4, portrait or landscape
        size = sorted([section.page_width.cm, section.page_height.cm])
        assert size == pytest.approx(A4_MM[0] / 10, abs=0.01) or size == pytest.approx(
            [A4_MM[0] / 10, A4_MM[1] / 10], abs=0.01
        )
    text = "\n".join(p.text for p in document.paragraphs)
    assert "遥感估算" in text and "Remote-sensing proxies" in text
    assert "标准地图" in text and "审图号" in text


def _to_unicode(font) -> dict[int, str]:
    """The ToUnicode map of a Type0 font: 2-byte code → text (bfchar and bfrange entries)."""
    cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    out = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, text in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[int(code, 16)] = bytes.fromhex(text).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, start in re.findall(r"<(\w+)>\s*<(\w+)>\s*<(\w+)>", block):
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                out[code] = chr(int(start, 16) + i)
    return out


def _page_text(reader, page) -> str:
    """A page's text, decoded by the fonts' ToUnicode maps, white space removed.

    Done here rather than by ``page.extract_text()``: pypdf reads the 2-byte codes of a font
    whose encoding is an embedded CMap (what fpdf2 writes for OpenType/CFF fonts) as 1-byte
    codes; PDF viewers (pdfium, Acrobat) read them right.
    """
    from pypdf.generic import ContentStream

    fonts = {name: _to_unicode(f.get_object()) for name, f in page["/Resources"]["/Font"].items()}
    current, parts = {}, []
    for operands, operator in ContentStream(page.get_contents(), reader).operations:
        if operator == b"Tf":
            current = fonts[operands[0]]
        elif operator in (b"Tj", b"TJ"):
            strings = operands[0] if operator == b"TJ" else operands[:1]
            for item in strings:
                if isinstance(item, (int, float)) or not hasattr(item, "original_bytes"):
                    continue
                raw = item.original_bytes
                codes = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
                parts.append("".join(current.get(c, "") for c in codes))
    return re.sub(r"\s+", "", "".join(parts))


def _pdf_text(reader) -> str:
    return "".join(_page_text(reader, page) for page in reader.pages)


def test_pdf_is_a4_with_headings_numbers_and_labels(built):
    reader = pypdf.PdfReader(built / "report.pdf")
    points = [v * 72 / 25.4 for v in A4_MM]
    for page in reader.pages:
        size = sorted([float(page.mediabox.width), float(page.mediabox.height)])
        assert size == pytest.approx(points, abs=0.1)
    text = _pdf_text(reader)
    for heading in ("全区指标与2027年目标", "遥感估算与官方数据对照", "三大战役及其片区", "排名"):
        assert heading in text
    n = len(reader.pages)
    for i, page in enumerate(reader.pages, 1):  # header label and page number on every page
        page_text = _page_text(reader, page)
        assert "遥感估算，非官方统计" in page_text
        assert f"第{i}页，共{n}页" in page_text
    league = _csv(built, "indicators_league.csv")
    for _, row in league.iterrows():
        assert row["name_zh"] + row["name_en"].replace(" ", "") in text
        assert row["grassland_fvc_pct"] in text and row["area_wanmu"] in text
    assert "表1" in text and "图1" in text


def test_pdf_embeds_the_cjk_font_as_a_subset(built):
    reader = pypdf.PdfReader(built / "report.pdf")
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[font["/BaseFont"]] = font
    assert fonts
    for name, font in fonts.items():
        assert re.match(r"/[A-Z]{6}\+", name), name  # subset tag
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert {"/FontFile2", "/FontFile3"} & set(descriptor), name


def test_manifest_records_docx_and_pdf(built):
    record = json.loads((built / "manifest.json").read_text(encoding="utf-8"))
    outputs = {o["path"]: o for o in record["outputs"]}
    for name in ("report.docx", "report.pdf"):
        digest = hashlib.sha256((built / name).read_bytes()).hexdigest()
        assert outputs[name]["sha256"] == digest
        assert name in record["files"]
    assert check_replaceable(built) == built.absolute()  # a later run may replace it


def test_lang_zh_word_file(tmp_path, cache, built):
    out = tmp_path / "zh"
    code = cli.main(
        [
            "report",
            "--quiet",
            "--tables-only",
            "--pdf",
            "--lang",
            "zh",
            "--out",
            str(out),
            "--cache",
            str(cache),
        ]
    )
    assert code == 0
    document = docx.Document(out / "report.docx")
    captions = _captions(document)
    assert captions and all(re.match(r"表\d+ ", c) for c in captions)  # no figures: tables only
    assert not any("Table" in c for c in captions)
    table, _ = _word_table(document, 3)
    rows = _cells(table)
    # the zh CSV has Chinese headers: its columns in the order of the ids of the bilingual one
    ids = list(_csv(built, "indicators_league.csv").columns)
    csv = _csv(out, "indicators_league.csv").set_axis(ids, axis=1)
    zh_columns = [c for c in LEAGUE_COLUMNS if c != "name_en"]
    assert rows[1:] == csv[zh_columns].to_numpy().tolist()
    assert {r[5] for r in rows[1:]} <= {verdict_text(code, "zh") for code in VERDICTS}
    assert "不确定" in {r[5] for r in rows[1:]}
    assert rows[0][1] == "中文名称"
    reader = pypdf.PdfReader(out / "report.pdf")
    text = _pdf_text(reader)
    assert f"第1页，共{len(reader.pages)}页" in text and "Page" not in text
    assert "表3各盟市主要指标（遥感估算）" in text and "Table" not in text


def test_pdf_failure_leaves_the_old_report(tmp_path, cache, capsys, monkeypatch):
    from geo import reportpdf

    out = tmp_path / "report"
    args = ["report", "--quiet", "--tables-only", "--out", str(out), "--cache", str(cache)]
    assert cli.main(args) == 0
    assert (out / "report.docx").is_file() and not (out / "report.pdf").exists()  # no --pdf
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    capsys.readouterr()
    broken = tmp_path / "broken.otf"
    broken.write_bytes(b"not a font")
    monkeypatch.setattr(reportpdf, "font_file", lambda: (str(broken), 0))
    code = cli.main([*args, "--pdf"])
    err = capsys.readouterr().err
    assert code == 2
    assert "broken.otf" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    after = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before  # the old folder, untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.otf", "report"]  # no leftovers


def test_pdf_into_a_path_that_cannot_be_a_folder(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    code = cli.main(["report", "--quiet", "--pdf", "--out", str(blocker / "report")])
    err = capsys.readouterr().err
    assert code == 2 and "a_file" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]
