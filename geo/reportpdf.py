"""The report as a PDF (``report.pdf``), in pure Python (fpdf2): no browser, no system font.

Renders a :class:`geo.reportdoc.Document` on A4 with a header (the proxy label) and a footer
(page numbers). Chinese and Latin text are set in the CJK font the figures use
(:func:`geo.maps.static.cjk_fonts`: a system CJK font first, else Noto Sans SC from PyPI),
embedded as a subset. Tables wrap their cells to the page width; tables of many columns get a
landscape page.
"""

from __future__ import annotations

import functools
from pathlib import Path

from fpdf import FPDF

from geo.errors import OutputError
from geo.outputs import atomic_path
from geo.reportdoc import Document, Figure, Heading, Paragraph, Table

__all__ = ["font_file", "write_pdf"]

_FAMILY = "cjk"
#: Page margins, mm (A4 is 210 × 297 mm).
_MARGIN = 18.0
#: Tables with this many columns or more are set on a landscape page.
_WIDE = 9
#: Widest figure embedded, pixels: about 280 dpi across the text width (the 300-dpi PNGs are
#: in figures/); keeps the PDF a size that can be e-mailed.
_MAX_PIXELS = 2000


def _collection_index(path: str, family: str) -> int:
    """Index of ``family`` in a font collection (``.ttc``/``.otc``); 0 for a single font."""
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    from fontTools.ttLib import TTCollection

    with TTCollection(path, lazy=True) as collection:
        for index, font in enumerate(collection.fonts):
            names = {font["name"].getDebugName(i) for i in (1, 16)}
            if family in names:
                return index
    return 0


@functools.cache
def font_file() -> tuple[str, int]:
    """The CJK font file the PDF is set in and its index in a collection.

    The first family of :func:`geo.maps.static.cjk_fonts` (a system CJK font, else the
    packaged Noto Sans SC), as matplotlib finds its file.

    Raises
    ------
    geo.errors.GeoError
        No CJK font at all (the message says how to install one).
    """
    from matplotlib import font_manager

    from geo.maps.static import cjk_fonts

    family = cjk_fonts()[0]
    path = font_manager.findfont(
        font_manager.FontProperties(family=family), fallback_to_default=False
    )
    return path, _collection_index(path, family)


class _ReportPDF(FPDF):
    """fpdf2 with the report's header (proxy label, title) and footer (page numbers)."""

    def __init__(self, label: str, title: str, lang: str) -> None:
        super().__init__(format="A4", unit="mm")
        self.label, self.short_title, self.report_lang = label, title, lang

    def header(self) -> None:
        self.set_font(_FAMILY, size=7.5)
        self.set_text_color(110)
        self.cell(0, 5, self.label, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, self.short_title, align="R", new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(180)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(3)
        self.set_text_color(0)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(_FAMILY, size=8)
        self.set_text_color(110)
        text = {"zh": "第 {n} 页，共 {nb} 页", "en": "Page {n} of {nb}"}.get(
            self.report_lang, "第 {n} 页，共 {nb} 页 / Page {n} of {nb}"
        )
        self.cell(0, 5, text.format(n=self.page_no(), nb="{nb}"), align="C")
        self.set_text_color(0)


def _setup(document: Document):
    path, index = font_file()
    pdf = _ReportPDF(document.label, _short_title(document), document.lang)
    from fontTools.ttLib import TTLibError
    from fpdf.errors import FPDFException

    try:
        for style in ("", "B"):  # one weight: bold cells (table headers) are set in it too
            pdf.add_font(_FAMILY, style, path, collection_font_number=index)
    except (OSError, FPDFException, TTLibError, ValueError, KeyError) as exc:
        raise OutputError(
            f"cannot use the font {path} for report.pdf ({exc}); reinstall the Python "
            "package pylopdf-fonts-zh-cn or drop --pdf (report.docx and report.html hold "
            "the same)"
        ) from None
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_title(document.title)
    pdf.set_creator("barrier (geo-barrier)")
    pdf.set_lang("zh-CN" if document.lang != "en" else "en")
    return pdf


def _short_title(document: Document) -> str:
    return {"en": "Ecological barrier report"}.get(document.lang, "内蒙古生态安全屏障监测报告")


def _heading(pdf, block: Heading) -> None:
    size = 14 if block.level == 1 else 11.5
    # keep a heading with what follows: start a new page when too little room is left
    if pdf.get_y() > pdf.h - pdf.b_margin - 40:
        pdf.add_page()
    pdf.ln(3 if block.level == 1 else 1.5)
    pdf.set_font(_FAMILY, size=size)
    pdf.multi_cell(0, size * 0.5, block.text, align="L", new_x="LMARGIN", new_y="NEXT")
    if block.level == 1:
        y = pdf.get_y() + 0.5
        pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
    pdf.ln(2)


def _wrap(text: str):
    """Break Chinese text anywhere (it has no spaces between words), other text at spaces."""
    from fpdf.enums import WrapMode

    cjk = sum("\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in text)
    return WrapMode.CHAR if cjk * 2 > len(text.replace(" ", "")) else WrapMode.WORD


def _paragraph(pdf, block: Paragraph) -> None:
    size = {"small": 7.5, "bullet": 9.5}.get(block.kind, 10)
    pdf.set_font(_FAMILY, size=size)
    height = size * 0.5
    if block.kind == "note":
        pdf.set_fill_color(255, 246, 214)
        pdf.multi_cell(
            0,
            height,
            block.text,
            fill=True,
            padding=2,
            new_x="LMARGIN",
            new_y="NEXT",
            wrapmode=_wrap(block.text),
        )
        pdf.set_fill_color(255)  # tables fill nothing but their header
    elif block.kind == "bullet":
        pdf.set_x(pdf.l_margin + 4)
        pdf.multi_cell(
            0,
            height,
            f"• {block.text}",
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
            wrapmode=_wrap(block.text),
        )
    else:
        pdf.multi_cell(
            0,
            height,
            block.text,
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
            wrapmode=_wrap(block.text),
        )
    pdf.ln(1.5)


def _widths(pdf, table: Table, size: float, width: float) -> list[float]:
    """Column widths (mm) filling ``width``.

    Each column gets at least its longest header word and, for numbers, its longest number
    (numbers never wrap); then as much as it wants (cells on one line, header on at most
    three lines) as the page allows; room left over goes to the columns cut most.
    """
    pdf.set_font(_FAMILY, size=size)
    pad = 2.2
    cols = range(len(table.headers))
    body = [
        max((pdf.get_string_width(str(r[c])) for r in table.rows), default=0) + pad for c in cols
    ]
    head = [pdf.get_string_width(h) + pad for h in table.headers]
    word = [max(pdf.get_string_width(w) for w in (h.split() or [""])) + pad for h in table.headers]
    least = [
        max(min(word[c], 25.0), body[c] if table.numeric[c] else min(body[c], 14.0), 7.0)
        for c in cols
    ]
    want = [max(least[c], min(body[c], width * 0.4)) for c in cols]
    if sum(least) >= width:
        return [w * width / sum(least) for w in least]
    if sum(want) > width:
        grow = (width - sum(least)) / (sum(want) - sum(least))
        return [lo + (w - lo) * grow for lo, w in zip(least, want, strict=True)]
    # first headers on three lines at most, then on one
    third = [max(want[c], head[c] / 3) for c in cols]
    if sum(third) > width:
        grow = (width - sum(want)) / (sum(third) - sum(want))
        return [w + (t - w) * grow for w, t in zip(want, third, strict=True)]
    want = third
    more = [max(head[c], body[c]) - want[c] for c in cols]
    spare = width - sum(want)
    if sum(more) <= 0:
        return [w + spare / len(want) for w in want]
    grow = min(spare / sum(more), 1.0)
    widths = [w + m * grow for w, m in zip(want, more, strict=True)]
    return [w + (width - sum(widths)) / len(widths) for w in widths]


def _table(pdf, table: Table) -> None:
    from fpdf.fonts import FontFace

    wide = len(table.headers) >= _WIDE
    if wide:
        pdf.add_page(orientation="L")
    size = 8 if len(table.headers) <= 6 else (7 if len(table.headers) < _WIDE else 6.5)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    widths = _widths(pdf, table, size, width)
    if pdf.get_y() > pdf.h - pdf.b_margin - 30:  # keep the caption with the table
        pdf.add_page()
    _caption(pdf, table.caption)
    if table.source:  # under the caption, so that it never sits alone atop a page
        pdf.set_font(_FAMILY, size=6.5)
        pdf.set_text_color(90)
        pdf.cell(0, 3.5, f"tables/{table.source}", align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0)
    pdf.set_font(_FAMILY, size=size)
    pdf.set_draw_color(150)
    with pdf.table(
        col_widths=widths,
        width=width,
        line_height=size * 0.45,
        text_align=["RIGHT" if n else "LEFT" for n in table.numeric],
        headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
        padding=0.8,
        repeat_headings=1,
    ) as grid:
        grid.row(table.headers)
        for values in table.rows:
            grid.row([str(v) for v in values])
    pdf.ln(3)
    if wide:
        pdf.add_page(orientation="P")


def _caption(pdf, text: str) -> None:
    pdf.set_font(_FAMILY, size=9)
    pdf.multi_cell(0, 4.5, text, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _image(path: Path):
    """The figure on white, at most :data:`_MAX_PIXELS` wide (a PIL image)."""
    from PIL import Image

    with Image.open(path) as img:
        img = img.convert("RGBA")
        if img.width > _MAX_PIXELS:
            size = (_MAX_PIXELS, round(img.height * _MAX_PIXELS / img.width))
            img = img.resize(size, Image.LANCZOS)
        flat = Image.alpha_composite(Image.new("RGBA", img.size, "white"), img).convert("RGB")
    # maps and charts have few colours: 256 of them keep them and shrink the PDF about 3×
    # (as report.html does)
    return flat.quantize(256, method=Image.Quantize.MEDIANCUT)


def _figure(pdf, block: Figure) -> None:
    img = _image(block.path)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    height = width * img.height / img.width
    room = pdf.h - pdf.t_margin - pdf.b_margin - 25  # the header and the caption
    if height > room:
        width, height = width * room / height, room
    if pdf.get_y() + height + 12 > pdf.h - pdf.b_margin:
        pdf.add_page()
    x = (pdf.w - width) / 2
    pdf.image(img, x=x, y=pdf.get_y(), w=width, h=height, alt_text=block.caption)
    pdf.set_y(pdf.get_y() + height + 1.5)
    _caption(pdf, block.caption)
    pdf.ln(2)


def render(document: Document) -> bytes:
    """The PDF of ``document`` as bytes."""
    pdf = _setup(document)
    pdf.add_page()
    pdf.set_font(_FAMILY, size=18)
    pdf.multi_cell(0, 9, document.title, align="C", new_x="LMARGIN", new_y="NEXT")
    if document.subtitle:
        pdf.set_font(_FAMILY, size=12)
        pdf.multi_cell(0, 6, document.subtitle, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    draw = {Heading: _heading, Paragraph: _paragraph, Table: _table, Figure: _figure}
    for block in document.blocks:
        draw[type(block)](pdf, block)
    return bytes(pdf.output())


def write_pdf(document: Document, path: Path) -> Path:
    """Write ``document`` to ``path`` (``report.pdf``) atomically.

    Raises
    ------
    geo.errors.OutputError
        The PDF cannot be made (fpdf2 refused the font or the layout) or written.
    """
    from fpdf.errors import FPDFException

    try:
        data = render(document)
    except FPDFException as exc:
        raise OutputError(
            f"cannot make {path}: {exc}; report.docx and report.html hold the same"
        ) from None
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)
