"""Citations of the plan and of the official figures, as a reader would look them up.

A citation names the document (title in Chinese and English, document number), the chapter
and section where the words sit, and quotes them (Chinese original and English translation).
Reports, tables and sentences print these; they never print the line numbers of the
project's working copies of the documents.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CITATIONS", "DOCUMENTS", "Citation", "Document"]


@dataclass(frozen=True)
class Document:
    """A cited document.

    Attributes
    ----------
    title_zh, title_en : str
        Title; ``title_zh`` is empty when the document exists only in English among the
        project's sources.
    number : str
        Document number (文号) such as ``国发〔2023〕16号``; empty when it has none.
    issuer, date : str
        Issuing body and date as printed (``""`` when undated).
    short_en : str
        A short English name for table cells, for documents without a Chinese title.
    """

    title_zh: str
    title_en: str
    number: str = ""
    issuer: str = ""
    date: str = ""
    short_en: str = ""

    @property
    def name(self) -> str:
        """``《title》 (number)`` in Chinese when there is a Chinese title, else English."""
        title = f"《{self.title_zh}》" if self.title_zh else f"“{self.title_en}”"
        return f"{title}（{self.number}）" if self.number else title

    @property
    def brief(self) -> str:
        """The name for a table cell: the Chinese title, or the short English name."""
        if self.title_zh or not self.short_en:
            return self.name
        return self.short_en


@dataclass(frozen=True)
class Citation:
    """Where a target or figure is written, with the words.

    Attributes
    ----------
    document : Document
    section_zh, section_en : str
        Chapter and section (``一、… （二）目标愿景 · 近期目标``).
    quote_zh, quote_en : str
        The words; ``quote_zh`` is empty when no Chinese original is among the sources.
    """

    document: Document
    section_zh: str
    section_en: str
    quote_zh: str
    quote_en: str

    @property
    def short(self) -> str:
        """Document and section, for a table cell: ``《…》 一、…（二）目标愿景``."""
        section = self.section_zh or self.section_en
        return f"{self.document.brief} {section}"

    @property
    def text(self) -> str:
        """The full citation on one line: document, section and both quotes."""
        quotes = "；".join(
            q for q in (f"“{self.quote_zh}”" if self.quote_zh else "", f'"{self.quote_en}"') if q
        )
        section = " / ".join(s for s in (self.section_zh, self.section_en) if s)
        return f"{self.document.name} / {self.document.title_en} — {section}: {quotes}"

    def as_row(self) -> dict:
        """Flat fields for a table (the workbook's ``sources`` sheet)."""
        doc = self.document
        return {
            "title_zh": doc.title_zh,
            "title_en": doc.title_en,
            "doc_number": doc.number,
            "issuer": doc.issuer,
            "date": doc.date,
            "section_zh": self.section_zh,
            "section_en": self.section_en,
            "quote_zh": self.quote_zh,
            "quote_en": self.quote_en,
        }


#: The documents the toolkit cites, by key.
DOCUMENTS: dict[str, Document] = {
    "plan": Document(
        title_zh="全面推进美丽内蒙古建设筑牢我国北方重要生态安全屏障规划纲要（2025—2035年）",
        title_en=(
            "Plan Outline for Comprehensively Promoting the Construction of a Beautiful Inner "
            "Mongolia and Strengthening the Important Ecological Security Barrier in Northern "
            "China (2025–2035)"
        ),
        issuer="内蒙古自治区人民政府办公厅 / General Office of the IM People's Government",
        date="2025-10-28",
    ),
    "opinion": Document(
        title_zh="国务院关于推动内蒙古高质量发展奋力书写中国式现代化新篇章的意见",
        title_en=(
            "Opinions of the State Council on Promoting High-quality Development in Inner "
            "Mongolia to Strive to Write a New Chapter of Chinese-style Modernization"
        ),
        number="国发〔2023〕16号",
        issuer="国务院 / State Council",
        date="2023-10-05",
    ),
    "feature": Document(
        title_zh="",
        title_en=(
            "Inner Mongolia resolutely builds an important ecological security barrier in "
            "northern China (news feature, English translation; data to 2023)"
        ),
        short_en="news feature “Inner Mongolia resolutely builds an important ecological "
        "security barrier…” (c. 2024)",
    ),
    "commentary": Document(
        title_zh="",
        title_en=(
            "Focusing on the main line of building a strong sense of community of the Chinese "
            "nation, write a new chapter in the construction of a beautiful China in Inner "
            "Mongolia (commentary, English translation; after June 2023)"
        ),
        short_en="commentary “… a new chapter in the construction of a beautiful China in "
        "Inner Mongolia” (after June 2023)",
    ),
}

_PLAN = DOCUMENTS["plan"]
_GOALS_ZH = "一、开启美丽中国内蒙古样板建设新征程 （二）目标愿景 · 近期目标"
_GOALS_EN = (
    "I. Embarking on a New Journey to Build an Inner Mongolia Model of a Beautiful China, "
    "(II) Vision and Goals, short-term goal"
)

#: Every citation the toolkit prints, by key.
CITATIONS: dict[str, Citation] = {
    "grassland_cover_2027": Citation(
        _PLAN,
        _GOALS_ZH,
        _GOALS_EN,
        "到2027年，……草原综合植被盖度稳定在45%以上",
        "By 2027, … the comprehensive vegetation coverage of grasslands will stabilize above 45%",
    ),
    "forest_cover_2027": Citation(
        _PLAN,
        _GOALS_ZH,
        _GOALS_EN,
        "到2027年，……森林覆盖率达到21.98%",
        "By 2027, … the forest coverage rate will reach 21.98%",
    ),
    "sand_treatment_2027": Citation(
        _PLAN,
        _GOALS_ZH,
        _GOALS_EN,
        "到2027年，……可治理沙化土地治理率达到54.33%以上",
        "By 2027, … the treatment rate of treatable sandified land reaching over 54.33% "
        "(the official English text says “desertified”; 沙化 is sandified)",
    ),
    "kongdui_2030": Citation(
        _PLAN,
        "二、筑牢我国北方重要生态安全屏障 （二）全力保护修复大草原大森林 · 加大水土保持力度",
        "II. Strengthening the Crucial Ecological Security Barrier in Northern China, "
        "(II) Fully Protect and Restore Large Grasslands and Forests · soil and water conservation",
        "到2030年，十大孔兑水土流失治理水平进一步提升，水土保持率达到63%及以上",
        "By 2030, the level of soil erosion control in the Ten Kongdui basins will be further "
        "enhanced, with a soil and water conservation rate reaching 63% or higher",
    ),
    "kongdui_2035": Citation(
        _PLAN,
        "二、筑牢我国北方重要生态安全屏障 （二）全力保护修复大草原大森林 · 加大水土保持力度",
        "II. Strengthening the Crucial Ecological Security Barrier in Northern China, "
        "(II) Fully Protect and Restore Large Grasslands and Forests · soil and water conservation",
        "到2035年，十大孔兑水土流失得到全面治理，水土保持率达到64%及以上",
        "by 2035, soil erosion in the Ten Kongdui basins will be fully managed, with a soil and "
        "water conservation rate reaching 64% or higher",
    ),
    "three_battles": Citation(
        _PLAN,
        "二、筑牢我国北方重要生态安全屏障 （三）坚决打好“三北”工程攻坚战",
        "II. Strengthening the Crucial Ecological Security Barrier in Northern China, "
        "(III) Resolutely Win the Battle of the “Three Norths” Shelterbelt Project",
        "打好黄河“几字弯”攻坚战……打好科尔沁和浑善达克沙地歼灭战……"
        "打好河西走廊—塔克拉玛干沙漠边缘阻击战",
        "Win the Battle of the Yellow River's “Ji Zi Wan” Region … Win the Battle of the "
        "Horqin and Hunshandak Sandy Lands … Firmly combat desertification along the Hexi "
        "Corridor–Taklimakan Desert edge",
    ),
    "three_battles_mandate": Citation(
        DOCUMENTS["opinion"],
        "二、统筹山水林田湖草沙系统治理，筑牢我国北方重要生态安全屏障 （四）科学推进荒漠化综合防治",
        "2. Coordinate the systematic management of mountains, rivers, forests, fields, lakes, "
        "grasslands and sands …, (IV) Scientifically promote comprehensive desertification "
        "control",
        "",
        "make every effort to fight the battle of … the Yellow River “Several Bend”, the Horqin "
        "and Hunshandake desert annihilation war, and the Hexi Corridor–Taklamakan Desert edge "
        "blocking war (English translation as published; Chinese original not among the "
        "project's sources)",
    ),
    "sandified_double_reduction": Citation(
        DOCUMENTS["feature"],
        "",
        "section “Coordinate and promote ecosystem protection and restoration”",
        "",
        "The “double reduction” of the area of desertified land has achieved a historic "
        "transformation from “sand entering and retreating” to “green advancing and sand "
        "retreating”.",
    ),
    "redline_area": Citation(
        DOCUMENTS["feature"],
        "",
        "section “Make every effort to promote green, low-carbon and high-quality development”",
        "",
        "The district has delineated an ecological protection red line of 596,900 square "
        "kilometers, accounting for more than half of the autonomous region's land area.",
    ),
    "redline_share": Citation(
        DOCUMENTS["commentary"],
        "",
        "paragraph on the region's ecological achievements",
        "",
        "the ecological protection red line accounts for 50.46% of the total area of the "
        "district, … the second largest province",
    ),
}
