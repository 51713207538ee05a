"""The Chinese (CJK) font of every output: print figures (matplotlib) and web pages.

Figures set Chinese text in a system CJK font when matplotlib knows one (:data:`CJK_FONTS`, e.g.
Debian ``fonts-noto-cjk``), otherwise in Noto Sans SC from the PyPI dependency
``pylopdf-fonts-zh-cn`` (SIL OFL 1.1), registered with matplotlib by its file path.

Web pages (``report.html``, every folium map) cannot count on the reader's machine having a CJK
font: without one a browser shows Chinese as boxes ("tofu"). Each page therefore carries an
``@font-face`` rule whose ``src`` is a ``data:`` URI of a WOFF subset of Noto Sans SC holding
exactly the non-ASCII characters the page uses (:func:`font_face_css`), and its text is set in
:data:`FONT_STACK`: the system CJK fonts first (they look native and cost nothing), then the
embedded face, then the browser's sans-serif for Latin. WOFF (zlib) needs nothing beyond
fontTools; WOFF2 would be about 30 % smaller but needs the ``brotli`` package.

Example
-------
>>> css = font_face_css("草原综合植被盖度")  # doctest: +SKIP
>>> css.startswith("<style>@font-face{font-family:")  # doctest: +SKIP
True
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import os
import re
import warnings
from pathlib import Path

__all__ = [
    "CJK_FONTS",
    "FONT_STACK",
    "PACKAGED_FONT",
    "WEB_FAMILY",
    "cjk_font",
    "cjk_fonts",
    "embed",
    "font_face_css",
    "font_record",
    "packaged_font_file",
    "page_characters",
    "subset",
    "web_font_record",
]

#: System CJK font families tried in order (the first is what ``fonts-noto-cjk`` installs);
#: Simplified Chinese faces only, so that Chinese text never takes Japanese glyph forms.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Microsoft YaHei",
    "PingFang SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Noto Serif CJK SC",
)
#: The CJK font that comes with the toolkit's dependencies (PyPI ``pylopdf-fonts-zh-cn``: Noto
#: Sans SC 2.004 from notofonts/noto-cjk ``Sans/SubsetOTF/SC``, SIL OFL 1.1, 30 890 characters).
PACKAGED_FONT = "Noto Sans SC"
PACKAGED_DIST = "pylopdf-fonts-zh-cn"
_LICENCE = "SIL Open Font License 1.1 (OFL-1.1)"
#: The family name of the face embedded in web pages (not a system name, so it never shadows one).
WEB_FAMILY = "geo-cjk"
#: CSS ``font-family`` of web pages: system CJK fonts, the embedded subset, then sans-serif.
FONT_STACK = ", ".join(
    [*(f'"{name}"' for name in (*CJK_FONTS[:6], "Hiragino Sans GB")), WEB_FAMILY, "sans-serif"]
)
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


# --------------------------------------------------------------------------- locating


def packaged_font_file() -> Path | None:
    """Path of the Noto Sans SC file shipped by ``pylopdf-fonts-zh-cn``, or None."""
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:
        return None
    path = Path(pylopdf_fonts_zh_cn.sans_path())
    return path if path.is_file() else None


def _register(path: Path | None) -> bool:
    """Add the packaged font to matplotlib by file path, unless its list holds it already.

    matplotlib's font cache lists only the fonts it found when the cache was built; a font added
    by path needs no rebuild, so a stale cache can never hide it. Checked on every call because
    matplotlib replaces its list when it rebuilds the cache (on finding a listed file missing).
    """
    import dataclasses

    from matplotlib import font_manager

    if path is None:
        return False
    manager = font_manager.fontManager
    if not any(Path(f.fname) == path for f in manager.ttflist):
        manager.addfont(path)
        # The package ships one weight: bold text (the north arrow) is set in it as matplotlib
        # would do anyway, without a "Failed to find font weight bold" message per figure.
        regular = [f for f in manager.ttflist if Path(f.fname) == path]
        manager.ttflist += [dataclasses.replace(f, weight=700) for f in regular]
        manager._findfont_cached.cache_clear()
    return True


_LOOKUP = object()


def cjk_fonts(packaged: Path | object | None = _LOOKUP) -> list[str]:
    """Font families for Chinese text in figures, best first.

    A system CJK font comes first, then the packaged one.

    Parameters
    ----------
    packaged : pathlib.Path or None, optional
        The packaged font file (default: :func:`packaged_font_file`; None: there is none).

    Returns
    -------
    list of str
        One or two family names; matplotlib takes each glyph from the first that has it.

    Raises
    ------
    geo.errors.GeoError
        If neither a font of :data:`CJK_FONTS` nor the packaged font is available.
    """
    from matplotlib import font_manager

    from geo.errors import GeoError

    _register(packaged_font_file() if packaged is _LOOKUP else packaged)
    # a stale cache may list a font since removed: matplotlib would rebuild its list on use
    installed = {f.name for f in font_manager.fontManager.ttflist if os.path.isfile(f.fname)}
    system = [name for name in CJK_FONTS if name in installed][:1]
    ours = [PACKAGED_FONT] if PACKAGED_FONT in installed else []
    if not system and not ours:
        raise GeoError(
            "no Chinese (CJK) font found for static maps: the Python package "
            f"{PACKAGED_DIST} (a dependency of geo-barrier) is missing; reinstall with "
            f"'pip install {PACKAGED_DIST}' or install a system CJK font (Debian: "
            "apt-get install -y fonts-noto-cjk) named one of: " + ", ".join(CJK_FONTS)
        )
    return system + ours


def cjk_font() -> str:
    """Name of the font family that sets Chinese text (the first of :func:`cjk_fonts`)."""
    return cjk_fonts()[0]


@functools.cache
def _file_record(path: str) -> dict:
    from fontTools.ttLib import TTFont

    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            version = font["name"].getDebugName(5)
    except Exception:  # a font matplotlib reads but fontTools does not: keep the hash
        version = None
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"file": Path(path).name, "version": version, "sha256": digest.hexdigest()}


def _source() -> str:
    try:
        from importlib.metadata import version

        return f"PyPI {PACKAGED_DIST} {version(PACKAGED_DIST)}"
    except Exception:
        return f"PyPI {PACKAGED_DIST}"


def font_record(packaged: Path | object | None = _LOOKUP) -> dict:
    """Which font files the figures set Chinese text in: family, source, file, version, SHA-256.

    Returns
    -------
    dict
        ``{"fonts": [{"family", "source", "file", "version", "sha256"}, ...]}`` in the order
        matplotlib tries them.
    """
    from matplotlib import font_manager

    packaged = packaged_font_file() if packaged is _LOOKUP else packaged
    fonts = []
    for family in cjk_fonts(packaged):
        path = font_manager.findfont(
            font_manager.FontProperties(family=family), fallback_to_default=False
        )
        is_ours = packaged is not None and Path(path) == packaged
        source = _source() if is_ours else "system font"
        fonts.append({"family": family, "source": source, **_file_record(path)})
    return {"fonts": fonts}


def web_font_record() -> dict | None:
    """The font whose subsets web pages embed: name, licence, source package, file, SHA-256.

    Returns
    -------
    dict or None
        ``{"family", "embedded_as", "format", "licence", "source", "file", "version",
        "sha256"}`` (the SHA-256 of the full font file the subsets are cut from), or None when
        the packaged font is missing (the pages then rely on the reader's fonts).
    """
    path = packaged_font_file()
    if path is None:
        return None
    return {
        "family": PACKAGED_FONT,
        "embedded_as": f"{WEB_FAMILY} (WOFF subset of the characters each page uses)",
        "format": "woff",
        "licence": _LICENCE,
        "source": _source(),
        **_file_record(str(path)),
    }


# --------------------------------------------------------------------------- web pages


@functools.cache
def _cmap(path: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap())


def page_characters(page: str) -> str:
    r"""The non-ASCII characters of a page, its ``\uXXXX`` escapes (JSON in scripts) decoded.

    Every character the page can show is in its source: HTML text, attribute values (titles,
    placeholders) and the strings of its scripts, which Jinja's ``tojson`` writes as escapes.
    """
    decoded = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), page)
    return "".join(sorted({c for c in decoded if ord(c) > 127 and c.isprintable()}))


@functools.lru_cache(maxsize=32)
def _subset(path: str, chars: str, flavor: str) -> bytes:
    from fontTools import subset as ft_subset
    from fontTools.ttLib import TTFont

    options = ft_subset.Options()
    options.flavor = flavor
    options.layout_features = ["*"]  # vertical forms, punctuation spacing: keep them
    options.name_IDs = ["*"]  # copyright and the OFL licence travel with the subset
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False  # CFF hints add bytes and nothing on screens of today
    options.desubroutinize = True  # compresses better
    with TTFont(path, lazy=True) as font:
        subsetter = ft_subset.Subsetter(options)
        subsetter.populate(text=chars)
        subsetter.subset(font)
        font.flavor = flavor
        buffer = io.BytesIO()
        font.save(buffer)
    return buffer.getvalue()


def subset(text: str, flavor: str = "woff", *, path: str | os.PathLike | None = None) -> bytes:
    """A subset of the CJK font holding the characters of ``text`` that the font has.

    Parameters
    ----------
    text : str
        Any text; each distinct character is kept once, those the font lacks are left out.
    flavor : {"woff", "woff2", None}
        ``"woff"`` (zlib, needs only fontTools), ``"woff2"`` (needs ``brotli``) or None (a
        bare OpenType font).
    path : path-like, optional
        Font file (default: the packaged Noto Sans SC).

    Returns
    -------
    bytes
        The font file.

    Raises
    ------
    geo.errors.GeoError
        No font file, or ``"woff2"`` without the ``brotli`` package.
    """
    from geo.errors import GeoError

    if flavor not in ("woff", "woff2", None):
        raise GeoError(f"unknown font flavor {flavor!r}; use 'woff', 'woff2' or None")
    if flavor == "woff2":
        try:
            import brotli  # noqa: F401
        except ImportError:
            raise GeoError("WOFF2 fonts need the package brotli (pip install brotli)") from None
    font = Path(path) if path is not None else packaged_font_file()
    if font is None:
        raise GeoError(
            f"no CJK font to embed: the Python package {PACKAGED_DIST} (a dependency of "
            f"geo-barrier) is missing; reinstall with 'pip install {PACKAGED_DIST}'"
        )
    have = _cmap(str(font))
    # .notdef only would still make a valid font: callers embed nothing for an empty set
    chars = "".join(sorted({c for c in text if ord(c) in have}))
    return _subset(str(font), chars, flavor)


def font_face_css(text: str) -> str:
    """A ``<style>`` block with the ``@font-face`` of :data:`WEB_FAMILY` for ``text``.

    The face is a WOFF subset (:func:`subset`) of the non-ASCII characters of ``text`` (see
    :func:`page_characters`), as a ``data:`` URI, so the page needs no file and no network;
    ``unicode-range`` keeps the browser from using it for anything else. Empty when ``text``
    has no character the font holds, or (with a warning) when the font is missing.

    Parameters
    ----------
    text : str
        The page, or all the text it shows.

    Returns
    -------
    str
    """
    from geo.errors import GeoWarning

    path = packaged_font_file()
    if path is None:
        warnings.warn(
            f"the Python package {PACKAGED_DIST} is missing: web pages show Chinese only where "
            f"the reader has a CJK font; reinstall with 'pip install {PACKAGED_DIST}'",
            GeoWarning,
            stacklevel=2,
        )
        return ""
    have = _cmap(str(path))
    chars = [c for c in page_characters(text) if ord(c) in have]
    if not chars:
        return ""
    data = subset("".join(chars), "woff", path=path)
    uri = "data:font/woff;base64," + base64.b64encode(data).decode("ascii")
    ranges = _unicode_range(chars)
    return (
        f'<style>@font-face{{font-family:"{WEB_FAMILY}";src:url({uri}) format("woff");'
        f"font-weight:400;font-style:normal;font-display:block;unicode-range:{ranges}}}"
        "</style>"
    )


def _unicode_range(chars: list[str]) -> str:
    """CSS ``unicode-range`` of the characters, consecutive code points as one span."""
    codes = sorted({ord(c) for c in chars})
    spans: list[list[int]] = []
    for code in codes:
        if spans and code == spans[-1][1] + 1:
            spans[-1][1] = code
        else:
            spans.append([code, code])
    return ",".join(f"U+{a:X}" if a == b else f"U+{a:X}-{b:X}" for a, b in spans)


def embed(page: str) -> str:
    """``page`` with the ``@font-face`` of its own characters inserted before ``</head>``."""
    css = font_face_css(page)
    if not css:
        return page
    at = page.find("</head>")
    return page[:at] + css + page[at:] if at >= 0 else css + page
