"""The Chinese font of the figures comes with the Python dependencies (issue 14: a first run that
works anywhere).

On a machine with Python and nothing else (no system CJK font, or one that matplotlib's stale
font cache does not list) the figures use Noto Sans SC from the PyPI package
``pylopdf-fonts-zh-cn``, registered with matplotlib by its file path. The machine's own fonts are
hidden here by filtering matplotlib's font list, which is what a stale cache or a bare machine
looks like to matplotlib.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import unicodedata
import warnings
from pathlib import Path

import matplotlib as mpl
import pandas as pd
import pylopdf_fonts_zh_cn
import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from geo import boundaries, zones
from geo.data import data_dir
from geo.errors import GeoError
from geo.indicators import DEGREES, INDICATORS
from geo.maps import static

PACKAGED = Path(pylopdf_fonts_zh_cn.sans_path())
DEJAVU = Path(mpl.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
# Noto Sans SC 2.004 (notofonts/noto-cjk Sans/SubsetOTF/SC), as published by the package
PACKAGED_SHA256 = "faa6c9df652116dde789d351359f3d7e5d2285a2b2a1f04a2d7244df706d5ea9"


@pytest.fixture
def bare(monkeypatch):
    """matplotlib as on a bare machine: no CJK font in its list, the packaged one not yet added."""
    hidden = {*static.CJK_FONTS, static.PACKAGED_FONT}
    kept = [f for f in font_manager.fontManager.ttflist if f.name not in hidden]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", kept)
    font_manager.fontManager._findfont_cached.cache_clear()
    yield
    font_manager.fontManager._findfont_cached.cache_clear()


def _drawn_text() -> str:
    """Every name and label the toolkit can put in a figure: zone names, indicator names,
    sandification degrees and the literal labels of the figure code."""
    parts = []
    for level in ("province", "league", "county"):
        parts += boundaries.load(level)["name_zh"].tolist()
    parts += pd.read_csv(data_dir() / "boundaries" / "names.csv", dtype=str).stack().tolist()
    for name in ("battle", "battle_part"):
        parts += zones.load(name)["name_zh"].tolist()
    parts += [f"{ind.name_zh} {ind.name_en} {ind.unit}" for ind in INDICATORS.values()]
    parts += [str(d) for d in DEGREES]
    root = Path(static.__file__).parents[1]
    for module in (root / "maps" / "static.py", root / "charts.py", root / "reporthtml.py"):
        parts.append(module.read_text(encoding="utf-8"))
    text = "".join(p for p in parts if isinstance(p, str))  # names.csv has empty cells
    return "".join(sorted({c for c in text if ord(c) > 127 and c.isprintable()}))


def test_packaged_font_is_the_shipped_noto_sans_sc():
    with TTFont(PACKAGED, lazy=True) as font:
        assert font["name"].getDebugName(1) == "Noto Sans SC"
        licence = font["name"].getDebugName(13) or ""
    assert "SIL Open Font License" in licence
    assert hashlib.sha256(PACKAGED.read_bytes()).hexdigest() == PACKAGED_SHA256


def test_every_drawn_character_has_a_glyph():
    """Each character of every zone name and label is in Noto Sans SC or in DejaVu Sans (the
    fallback matplotlib takes glyph by glyph), read from the fonts' own character maps."""
    with TTFont(PACKAGED, lazy=True) as sc, TTFont(DEJAVU, lazy=True) as dejavu:
        covered = set(sc.getBestCmap()) | set(dejavu.getBestCmap())
    text = _drawn_text()
    assert sum(unicodedata.name(c, "").startswith("CJK UNIFIED") for c in text) > 300
    missing = [f"{c} U+{ord(c):04X}" for c in text if ord(c) not in covered]
    assert missing == []


def test_bare_machine_uses_the_packaged_font_by_path(bare):
    assert static.cjk_fonts() == ["Noto Sans SC"]
    found = font_manager.findfont(
        font_manager.FontProperties(family="Noto Sans SC"), fallback_to_default=False
    )
    assert Path(found) == PACKAGED
    # every character drawn without a "Glyph … missing from font(s)" warning
    text = _drawn_text()
    lines = "\n".join(text[i : i + 40] for i in range(0, len(text), 40))
    fig = Figure(figsize=(8, 12))
    FigureCanvasAgg(fig)
    with warnings.catch_warnings(), mpl.rc_context(static.rc()):
        warnings.simplefilter("error")
        fig.text(0.01, 0.99, lines, va="top", fontsize=8)
        fig.canvas.draw()


def test_bold_text_needs_no_bold_file(bare, caplog):
    """The package ships Regular only; bold text is set in it without a log message."""
    fig = Figure(figsize=(2, 1))
    FigureCanvasAgg(fig)
    with mpl.rc_context(static.rc()), caplog.at_level("INFO", logger="matplotlib.font_manager"):
        fig.text(0.1, 0.5, "N 北", fontweight="bold")
        fig.canvas.draw()
        found = font_manager.findfont(
            font_manager.FontProperties(family="Noto Sans SC", weight="bold"),
            fallback_to_default=False,
        )
    assert Path(found) == PACKAGED
    assert not [r for r in caplog.records if "Failed to find font" in r.getMessage()]


def test_registering_twice_adds_the_font_once(bare):
    static.cjk_fonts()
    static.cjk_fonts()
    entries = [f for f in font_manager.fontManager.ttflist if Path(f.fname) == PACKAGED]
    assert len({(f.name, f.weight) for f in entries}) == len(entries) >= 1


def test_system_cjk_font_comes_first(bare):
    static.cjk_fonts()  # registers the packaged font
    entry = next(f for f in font_manager.fontManager.ttflist if Path(f.fname) == PACKAGED)
    system = dataclasses.replace(entry, name="Noto Sans CJK SC", fname="/nonexistent/cjk.ttc")
    font_manager.fontManager.ttflist.append(system)
    assert static.cjk_fonts() == ["Noto Sans SC"]  # its file is gone: a stale cache entry
    system = dataclasses.replace(system, fname=str(font_manager.findfont("DejaVu Sans")))
    font_manager.fontManager.ttflist.append(system)
    assert static.cjk_fonts() == ["Noto Sans CJK SC", "Noto Sans SC"]
    assert static.rc()["font.family"] == ["Noto Sans CJK SC", "Noto Sans SC", "DejaVu Sans"]


def test_no_font_at_all_names_the_package(bare, monkeypatch):
    monkeypatch.setattr(static, "_packaged_font_file", lambda: None)
    with pytest.raises(GeoError, match=r"pylopdf-fonts-zh-cn.*fonts-noto-cjk"):
        static.cjk_fonts()


@pytest.mark.slow
def test_report_on_a_bare_machine_through_the_cli(bare, tmp_path, barrier):
    """`barrier report` draws every figure with no system CJK font and records the font file."""
    out = tmp_path / "report"
    code, _, err = barrier("report", "--out", out, "--cache", tmp_path / "cache", "--quiet")
    assert code == 0, err
    figures = sorted((out / "figures").glob("*.png"))
    assert len(figures) >= 8 and all(f.stat().st_size > 20_000 for f in figures)
    record = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert record["fonts"] == [
        {
            "family": "Noto Sans SC",
            "source": "PyPI pylopdf-fonts-zh-cn " + record["packages"]["pylopdf-fonts-zh-cn"],
            "file": "NotoSansSC-Regular.otf",
            "version": "Version 2.004;hotconv 1.0.118;makeotfexe 2.5.65603",
            "sha256": hashlib.sha256(PACKAGED.read_bytes()).hexdigest(),
        }
    ]
