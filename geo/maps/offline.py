"""Self-contained web pages: a map makes no network request and opens from ``file://`` offline.

Leaflet, its plugins, their CSS images and a subset of the CJK font are inlined.

The vendored copies are in ``geo/maps/_assets`` (see ``SOURCES.md`` there).
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

from branca.element import Figure

from geo import fonts
from geo.errors import OutputError

__all__ = ["ASSETS", "Page", "inline_assets"]

#: Folder of the vendored Leaflet and plugin files.
ASSETS = Path(__file__).with_name("_assets")


class Page(Figure):
    """The page of a map: rendered with Leaflet and the plugins inlined (no CDN request).

    Used for :func:`save` and for Jupyter (``Map._repr_html_`` renders the parent figure), so
    that a notebook's map opens offline as well. The page carries a WOFF subset of the CJK font
    with the characters it uses (:func:`geo.fonts.embed`), so that its Chinese shows on a
    machine without a CJK font.
    """

    def render(self, **kwargs) -> str:
        """The page's HTML with the assets and the CJK font subset inlined."""
        # the CJK subset last: it holds the characters of the whole page, scripts included
        return fonts.embed(inline_assets(super().render(**kwargs)))


_ASSET_FOR = {
    "leaflet.js": "leaflet.js",
    "leaflet.css": "leaflet.css",
    "leaflet-search.min.js": "leaflet-search.min.js",
    "leaflet-search.min.css": "leaflet-search.min.css",
    "Control.FullScreen.min.js": "Control.FullScreen.js",
    "Control.FullScreen.css": "Control.FullScreen.css",
}
_UNUSED = ("jquery", "bootstrap", "awesome-markers", "fontawesome", "awesome.rotate")
_TAG = re.compile(
    r"<script[^>]*\bsrc=\"([^\"]+)\"[^>]*>\s*</script>|<link[^>]*\bhref=\"([^\"]+)\"[^>]*/?>"
)
_CSS_URL = re.compile(r"url\((['\"]?)([^)'\"]+)\1\)")
_MIME = {".png": "image/png", ".gif": "image/gif", ".svg": "image/svg+xml"}


def _data_uri(path: Path) -> str:
    return f"data:{_MIME[path.suffix]};base64," + base64.b64encode(path.read_bytes()).decode()


def _inline_css(text: str) -> str:
    def repl(match: re.Match) -> str:
        ref = match.group(2)
        if ref.startswith(("data:", "#")):
            return match.group(0)
        path = ASSETS / "images" / Path(ref).name
        path = path if path.exists() else ASSETS / Path(ref).name
        return f'url("{_data_uri(path)}")'

    return _CSS_URL.sub(repl, text)


def inline_assets(page: str) -> str:
    """``page`` with every script and stylesheet of Leaflet and its plugins inlined.

    Parameters
    ----------
    page : str
        An HTML page rendered by folium.

    Returns
    -------
    str
        The page without a request for a script or a stylesheet (unused ones, such as jQuery
        and Bootstrap, are dropped).

    Raises
    ------
    geo.errors.OutputError
        A script or stylesheet with no vendored copy.
    """

    def repl(match: re.Match) -> str:
        url = match.group(1) or match.group(2)
        name = url.rsplit("/", 1)[-1]
        if name in _ASSET_FOR:
            text = (ASSETS / _ASSET_FOR[name]).read_text(encoding="utf-8")
            if name.endswith(".css"):
                return f"<style>{_inline_css(text)}</style>"
            return f"<script>{text}</script>"
        if any(word in url for word in _UNUSED):
            return ""
        if match.group(2) and not url.startswith(("http:", "https:", "//")):
            return match.group(0)
        raise OutputError(f"web map: no vendored copy of {url}; cannot make it self-contained")

    return _TAG.sub(repl, page)
