"""The report as a Word file (``report.docx``) for pasting into Chinese reports.

Renders a :class:`geo.reportdoc.Document`: A4, 宋体 body and 黑体 headings for Chinese text
(the East Asian font of every style, ``w:eastAsia``), Times New Roman for Latin text; tables
as Word tables with the CSV's rounding; figures as the 300-dpi PNGs at text width; numbered
captions (tables above, figures below).
"""

from __future__ import annotations

from pathlib import Path

from geo.outputs import atomic_path
from geo.reportdoc import Document, Figure, Heading, Paragraph, Table

__all__ = ["BODY_FONT", "HEADING_FONT", "LATIN_FONT", "write_docx"]

#: East Asian fonts a Chinese bureau expects (present on every Chinese Windows/WPS install).
BODY_FONT = "宋体"
HEADING_FONT = "黑体"
LATIN_FONT = "Times New Roman"
#: A4 and its margins, cm.
_PAGE = (21.0, 29.7)
_MARGINS = {"top": 2.54, "bottom": 2.54, "left": 2.2, "right": 2.2}
#: Tables with this many columns or more are set on a landscape page.
_WIDE = 9


def _set_fonts(style, east_asian: str, size: float | None = None, bold=None) -> None:
    """Latin and East Asian fonts of a style; theme fonts removed (they would win)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    style.font.name = LATIN_FONT
    rfonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    rfonts.set(qn("w:eastAsia"), east_asian)
    style.font.color.rgb = RGBColor(0, 0, 0)
    if size is not None:
        style.font.size = Pt(size)
    if bold is not None:
        style.font.bold = bold


def _styles(doc) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    normal = doc.styles["Normal"]
    _set_fonts(normal, BODY_FONT, 10.5)  # 五号
    normal.paragraph_format.space_after = Pt(4)
    normal.paragraph_format.line_spacing = 1.25
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal.element.get_or_add_rPr().append(lang)
    for name, size in (("Title", 18), ("Subtitle", 12), ("Heading 1", 15), ("Heading 2", 12)):
        _set_fonts(doc.styles[name], HEADING_FONT, size, bold=name.startswith("Heading"))
        doc.styles[name].font.italic = False
    for name in ("List Bullet", "Header", "Footer"):
        _set_fonts(doc.styles[name], BODY_FONT)
    caption = doc.styles["Caption"]
    _set_fonts(caption, HEADING_FONT, 10, bold=False)
    caption.font.italic = False
    caption.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    caption.paragraph_format.keep_with_next = True


def _page(section, landscape: bool = False) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    width, height = _PAGE if not landscape else _PAGE[::-1]
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(width), Cm(height)
    for side, cm in _MARGINS.items():
        setattr(section, f"{side}_margin", Cm(cm))


def _text_width(section):
    return section.page_width - section.left_margin - section.right_margin


def _field(paragraph, code: str) -> None:
    """A Word field (``PAGE``, ``NUMPAGES``) in ``paragraph``."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, code), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {text} "
        run._r.append(el)


def _header_footer(section, label: str, lang: str) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    head = section.header.paragraphs[0]
    head.text = label
    head.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    foot = section.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    before, after = {"zh": ("第 ", " 页"), "en": ("Page ", "")}.get(lang, ("第 ", " 页 / Page"))
    foot.add_run(before)
    _field(foot, "PAGE")
    foot.add_run(after)


def _shade(paragraph, fill: str = "FFF6D6") -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    paragraph._p.get_or_add_pPr().append(shd)


def _repeat_header(row) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(flag)


def _table(doc, table: Table, lang: str) -> None:
    from docx.enum.section import WD_SECTION
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    wide = len(table.headers) >= _WIDE
    if wide:
        _page(doc.add_section(WD_SECTION.NEW_PAGE), landscape=True)
    doc.add_paragraph(table.caption, style="Caption")
    size = Pt(7.5 if len(table.headers) > 7 else 9)
    grid = doc.add_table(rows=1 + len(table.rows), cols=len(table.headers))
    grid.style = doc.styles["Table Grid"]
    _repeat_header(grid.rows[0])
    for r, values in enumerate([table.headers, *table.rows]):
        for c, value in enumerate(values):
            cell = grid.cell(r, c)
            para = cell.paragraphs[0]
            run = para.add_run(str(value))
            run.font.size = size
            run.font.bold = r == 0
            if r and table.numeric[c]:
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if table.source:
        doc.add_paragraph(f"{_data_word(lang)}: tables/{table.source}").runs[0].font.size = Pt(8)
    if wide:
        _page(doc.add_section(WD_SECTION.NEW_PAGE))


def _data_word(lang: str) -> str:
    return {"zh": "数据", "en": "Data"}.get(lang, "数据 / Data")


def _figure(doc, figure: Figure) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm
    from PIL import Image

    section = doc.sections[-1]
    width = _text_width(section)
    with Image.open(figure.path) as img:
        ratio = img.height / img.width
    max_height = Cm(20)  # leaves room for the caption on an A4 page
    if width * ratio > max_height:
        width = int(max_height / ratio)
    doc.add_picture(str(figure.path), width=width)
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.paragraphs[-1].paragraph_format.keep_with_next = True
    doc.add_paragraph(figure.caption, style="Caption")


def render(document: Document):
    """A python-docx document of ``document`` (not saved)."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    doc = docx.Document()
    doc.core_properties.title = document.title
    _styles(doc)
    _page(doc.sections[0])
    _header_footer(doc.sections[0], document.label, document.lang)
    doc.add_paragraph(document.title, style="Title").alignment = WD_ALIGN_PARAGRAPH.CENTER
    if document.subtitle:
        doc.add_paragraph(document.subtitle, style="Subtitle")
        doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for block in document.blocks:
        if isinstance(block, Heading):
            doc.add_heading(block.text, level=block.level)
        elif isinstance(block, Table):
            _table(doc, block, document.lang)
        elif isinstance(block, Figure):
            _figure(doc, block)
        elif isinstance(block, Paragraph):
            style = "List Bullet" if block.kind == "bullet" else None
            para = doc.add_paragraph(block.text, style=style)
            if block.kind == "note":
                _shade(para)
            elif block.kind == "small":
                for run in para.runs:
                    run.font.size = Pt(8)
    return doc


def write_docx(document: Document, path: Path) -> Path:
    """Write ``document`` to ``path`` (``report.docx``) atomically.

    Raises
    ------
    geo.errors.OutputError
        The file cannot be written.
    """
    doc = render(document)
    with atomic_path(path) as tmp:  # OSError → OutputError naming the file
        doc.save(str(tmp))
    return Path(path)
