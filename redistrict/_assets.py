"""Inline Leaflet into folium maps so the saved HTML works without internet.

folium's :class:`folium.Map` links Leaflet, jQuery, Bootstrap and Font Awesome from
public CDNs. On an intranet without internet such a page stays blank. This module
reads Leaflet's JavaScript and CSS from the installed ``xstatic-leaflet`` package at
run time, inlines the images referenced by the CSS as ``data:`` URIs, and puts the
result into the map's own HTML header. The CDN links are removed on the map
*instance* only: folium's class-level lists (shared by every map in the process) are
never touched.

:func:`external_references` and :func:`assert_self_contained` check a rendered page
for anything that a browser would fetch from elsewhere.
"""

from __future__ import annotations

import base64
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import folium
from branca.element import Element, Figure

from redistrict.errors import InputError, RedistrictError

__all__ = [
    "LeafletAssets",
    "RawHtml",
    "assert_self_contained",
    "external_references",
    "inline_leaflet",
    "load_leaflet",
]

logger = logging.getLogger(__name__)

#: ``url(images/...)`` references in leaflet.css, with optional quotes.
_CSS_IMAGE_URL = re.compile(r"""url\(\s*(['"]?)images/([A-Za-z0-9_.-]+)\1\s*\)""")
#: Trailing source-map comment of the minified Leaflet build.
_SOURCE_MAP = re.compile(r"^\s*//# sourceMappingURL=.*$", re.MULTILINE)
#: Opening tags of elements that make a browser load a resource.
_TAG = re.compile(r"<(script|link|img|iframe|embed|source|object)\b([^>]*)>", re.IGNORECASE)
#: One attribute inside an opening tag.
_ATTR = re.compile(r"""\b(src|href|data)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
#: CSS ``url(...)`` and ``@import`` references anywhere in the page.
_CSS_URL = re.compile(r"""url\(\s*['"]?\s*((?:https?:)?//[^'")\s]+)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*['"]?([^'")\s;]+)""", re.IGNORECASE)
#: Schemes a self-contained page may reference.
_LOCAL_PREFIXES = ("data:", "#", "javascript:", "about:")

_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}


@dataclass(frozen=True)
class LeafletAssets:
    """Leaflet's code and stylesheet, ready to be inlined.

    Attributes
    ----------
    version : str
        Leaflet version reported by ``xstatic-leaflet``.
    js : str
        Minified ``leaflet.js`` without its source-map comment.
    css : str
        ``leaflet.css`` with every ``url(images/...)`` replaced by a ``data:`` URI.

    """

    version: str
    js: str
    css: str


class RawHtml(Element):
    """A branca element that renders a fixed string verbatim.

    branca's own :class:`~branca.element.Element` treats its text as a Jinja2
    template, which would corrupt code containing ``{{`` or ``{%``. This element
    never goes through Jinja2.

    Parameters
    ----------
    html : str
        The markup to emit.

    """

    def __init__(self, html: str) -> None:
        super().__init__()
        self._name = "RawHtml"
        self.html = html

    def render(self, **kwargs: object) -> str:
        """Return the markup unchanged.

        Parameters
        ----------
        **kwargs : object
            Ignored; accepted for compatibility with branca's render protocol.

        Returns
        -------
        str
            The markup given at construction.

        """
        return self.html


def _leaflet_dir() -> tuple[Path, str]:
    """Locate the installed Leaflet files.

    Returns
    -------
    tuple of (Path, str)
        The folder holding ``leaflet.js`` and the Leaflet version.

    Raises
    ------
    RedistrictError
        If ``xstatic-leaflet`` is not installed or incomplete.

    """
    try:
        import xstatic.pkg.leaflet as xleaflet
    except ImportError as exc:  # pragma: no cover - dependency of the package
        raise RedistrictError(
            "the Python package 'xstatic-leaflet' is not installed; maps need it to embed "
            "Leaflet: install it with 'pip install xstatic-leaflet' (it is a dependency of "
            "redistrict, so reinstalling redistrict also fixes this)"
        ) from exc
    base = Path(xleaflet.BASE_DIR)
    return base, str(getattr(xleaflet, "VERSION", "unknown"))


def _data_uri(path: Path) -> str:
    """Encode a small file as a base64 ``data:`` URI.

    Parameters
    ----------
    path : Path
        The file to encode; its suffix selects the MIME type.

    Returns
    -------
    str
        ``data:<mime>;base64,<payload>``.

    """
    mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
    payload = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"data:{mime};base64,{payload}"


def load_leaflet() -> LeafletAssets:
    """Read Leaflet's JavaScript and CSS from the installed ``xstatic-leaflet``.

    Returns
    -------
    LeafletAssets
        The code and the stylesheet with its images inlined.

    Raises
    ------
    RedistrictError
        If the package or one of its files is missing.

    """
    base, version = _leaflet_dir()
    js_path, css_path = base / "leaflet.js", base / "leaflet.css"
    missing = [str(p) for p in (js_path, css_path) if not p.is_file()]
    if missing:
        raise RedistrictError(
            f"the 'xstatic-leaflet' installation is incomplete, missing {', '.join(missing)}: "
            "reinstall it with 'pip install --force-reinstall xstatic-leaflet'"
        )
    js = _SOURCE_MAP.sub("", js_path.read_text(encoding="utf-8"))
    # A literal "</script" would end the inline <script> element early.
    js = re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)

    problems: list[str] = []

    def _inline(match: re.Match[str]) -> str:
        image = base / "images" / match.group(2)
        if not image.is_file():
            problems.append(f"leaflet.css refers to {image}, which does not exist")
            return "none"
        return f'url("{_data_uri(image)}")'

    css = _CSS_IMAGE_URL.sub(_inline, css_path.read_text(encoding="utf-8"))
    if problems:
        raise RedistrictError(
            [f"{p}: reinstall 'xstatic-leaflet' (pip install --force-reinstall)" for p in problems]
        )
    logger.debug("loaded Leaflet %s from %s (%d bytes of JS)", version, base, len(js))
    return LeafletAssets(version=version, js=js, css=css)


def inline_leaflet(m: folium.Map, assets: LeafletAssets | None = None) -> folium.Map:
    """Make a folium map self-contained by inlining Leaflet into its page.

    Only the given map instance is changed: ``default_js`` and ``default_css`` are
    replaced by empty lists on the instance (folium's class-level lists stay as they
    are) and Leaflet's ``<style>``/``<script>`` are added to the map's figure header.

    Parameters
    ----------
    m : folium.Map
        The map to modify.
    assets : LeafletAssets, optional
        Pre-loaded Leaflet files; read with :func:`load_leaflet` when omitted.

    Returns
    -------
    folium.Map
        The same map, for chaining.

    """
    assets = assets if assets is not None else load_leaflet()
    # Instance attributes shadow folium's class lists of CDN links (jQuery,
    # Bootstrap, Font Awesome, awesome-markers and Leaflet itself).
    m.default_js = []
    m.default_css = []
    root = m.get_root()
    if not isinstance(root, Figure):  # pragma: no cover - folium always makes one
        raise TypeError("the map is not attached to a branca Figure")
    header = root.header
    header.add_child(
        RawHtml(f"<style>/* Leaflet {assets.version} */\n{assets.css}\n</style>"),
        name="leaflet_css_inline",
    )
    header.add_child(
        RawHtml(f"<script>/* Leaflet {assets.version} */\n{assets.js}\n</script>"),
        name="leaflet_js_inline",
    )
    return m


def _is_local(url: str) -> bool:
    """Tell whether a reference needs no network and no other file.

    Parameters
    ----------
    url : str
        The value of a ``src``/``href`` attribute.

    Returns
    -------
    bool
        True for ``data:`` URIs, fragments and empty values.

    """
    url = url.strip()
    return url == "" or url.lower().startswith(_LOCAL_PREFIXES)


def external_references(html: str) -> list[str]:
    """List everything in a page that a browser would load from outside the page.

    Looks at ``src``/``href``/``data`` attributes of ``<script>``, ``<link>``,
    ``<img>``, ``<iframe>``, ``<embed>``, ``<source>`` and ``<object>`` tags and at
    CSS ``@import`` and ``url(http...)`` references. Hyperlinks (``<a href>``) are
    not loads and are ignored. Tile URL templates passed on purpose to a tile layer
    live inside JavaScript strings and are not reported either.

    Parameters
    ----------
    html : str
        A rendered HTML page.

    Returns
    -------
    list of str
        One ``"<tag attr=value>"`` description per reference, in page order.

    """
    found: list[str] = []
    for tag in _TAG.finditer(html):
        for attr in _ATTR.finditer(tag.group(2)):
            value = next(v for v in attr.group(2, 3, 4) if v is not None)
            if not _is_local(value):
                found.append(f"<{tag.group(1).lower()} {attr.group(1).lower()}={value}>")
    found.extend(f"css url({m.group(1)})" for m in _CSS_URL.finditer(html))
    found.extend(f"css @import {m.group(1)}" for m in _CSS_IMPORT.finditer(html) if not _is_local(m.group(1)))
    return found


def assert_self_contained(html: str, *, what: str = "map") -> None:
    """Raise if a page would load anything from the network or another file.

    Parameters
    ----------
    html : str
        A rendered HTML page.
    what : str, default "map"
        Name of the page used in the error message.

    Raises
    ------
    InputError
        Listing every external reference found (see :func:`external_references`).

    """
    refs = external_references(html)
    if refs:
        raise InputError(
            [
                f"{what}: the page would load {ref} from outside the file, which fails "
                "offline; remove the folium plugin or element that adds it (maps built by "
                "redistrict.maps embed everything they need)"
                for ref in refs
            ]
        )
