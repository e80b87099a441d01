"""folium maps that need no network: Leaflet inlined, every CDN asset removed.

folium's ``Map`` loads Leaflet, jQuery, Bootstrap, the awesome-markers plugin and two
icon fonts from public CDNs (the class attributes ``folium.Map.default_js`` and
``default_css``, read by ``folium.elements.JSCSSMixin.render`` when the map's header is
built). On the council's and police networks, and on this machine, those requests fail
and the map is blank. :func:`offline_map` gives each map *instance* its own
``default_js``/``default_css`` (the class attributes are never touched, so other maps in
the same process keep folium's behaviour):

* Leaflet's JavaScript and CSS come from the pip package ``xstatic-leaflet`` (the same
  Leaflet version folium pins; :func:`folium_leaflet_version` reads it from folium),
  inlined as ``data:`` URIs. The images the CSS refers to (the layer-control icon and the
  default marker) are inlined into the CSS as ``data:`` URIs too.
* Default markers: ``L.Icon.Default.imagePath`` is set to ``""`` and the default icon's
  ``iconUrl``/``iconRetinaUrl``/``shadowUrl`` to ``data:`` URIs of xstatic's PNGs, so a
  plain ``folium.Marker`` draws its blue pin offline. :mod:`render.map` itself draws
  points as circle markers and labels as ``DivIcon`` text, and needs no image.
* jQuery, Bootstrap, awesome-markers and the font CSS are dropped. What needs them
  cannot be used: ``folium.Popup`` (it parses its HTML with jQuery's ``$()``),
  ``folium.Icon`` (awesome-markers), ``Map(keep_in_front=...)`` and
  ``GeoJson(embed=False)``. :func:`make_offline` refuses a map that contains them, and
  any element (a plugin) that loads its own JavaScript from elsewhere, with an
  :class:`OfflineMapError` saying what to use instead. ``folium.plugins.MarkerCluster``
  is one of those (it loads ``leaflet.markercluster`` from a CDN); :mod:`render.map`
  clusters points in Python instead (:mod:`render.cluster` says why it does not inline
  the copy that ``xstatic-leaflet-markercluster`` ships).

:func:`remote_assets` lists every remote URL that a rendered page would fetch, so tests
(and :func:`render.map.save_standalone_html`) can prove a page is self-contained.
"""

from __future__ import annotations

import base64
import functools
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import folium
import folium.folium
import xstatic.pkg.leaflet as xleaflet
from branca.element import Element
from folium.features import GeoJson

__all__ = [
    "LEAFLET_VERSION",
    "OfflineMapError",
    "assert_no_remote_assets",
    "folium_leaflet_version",
    "leaflet_css_uri",
    "leaflet_js_uri",
    "make_offline",
    "offline_map",
    "remote_assets",
]

LEAFLET_VERSION: str = xleaflet.VERSION
"""Version of the Leaflet files shipped by ``xstatic-leaflet``."""

_LEAFLET_DIR = Path(xleaflet.BASE_DIR)

# Names folium's Map uses for the assets it loads; only Leaflet's own are kept.
_LEAFLET_JS_NAME = "leaflet"
_LEAFLET_CSS_NAME = "leaflet_css"
_DROPPABLE = {
    "jquery",
    "bootstrap",
    "awesome_markers",
    "bootstrap_css",
    "glyphicons_css",
    "awesome_markers_font_css",
    "awesome_markers_css",
    "awesome_rotate_css",
}

_URL_BODY = r"(?:https?:)?//[^\s\"'<>\\)]+"
_REMOTE_PATTERNS = (
    # src="..." / href='...' / srcset=... , also with JSON-escaped quotes (\")
    re.compile(
        r"\b(?:src|href|srcset|poster|data|action|xlink:href)\s*=\s*(?:\\?[\"'])?\s*("
        + _URL_BODY
        + ")",
        re.IGNORECASE,
    ),
    # CSS url(...) and @import
    re.compile(r"url\(\s*(?:\\?[\"'])?\s*(" + _URL_BODY + ")", re.IGNORECASE),
    re.compile(r"@import\s+(?:\\?[\"'])\s*(" + _URL_BODY + ")", re.IGNORECASE),
    # Leaflet tile layers and folium's GeoJson(embed=False) fetch
    re.compile(r"L\.tileLayer(?:\.wms)?\(\s*\"(" + _URL_BODY + ")"),
    re.compile(r"\.ajax\(\s*\"(" + _URL_BODY + ")"),
)
_ATTRIBUTION = re.compile(r"\"attribution\"\s*:\s*\"(?:[^\"\\]|\\.)*\"")


class OfflineMapError(RuntimeError):
    """A map holds an element that cannot work without the network.

    The message names the element and what to use instead.
    """


def folium_leaflet_version() -> str:
    """Return the Leaflet version the installed folium loads from its CDN.

    Returns
    -------
    str
        For example ``"1.9.3"``, read from ``folium.Map.default_js``.

    Raises
    ------
    OfflineMapError
        If folium's Leaflet URL no longer carries a version.
    """
    for name, url in folium.folium._default_js:
        if name == _LEAFLET_JS_NAME:
            match = re.search(r"leaflet@(\d+(?:\.\d+)+)", url)
            if match:
                return match.group(1)
    msg = (
        "cannot read the Leaflet version from folium.Map.default_js; folium changed how it "
        "names Leaflet. Check render/leaflet_offline.py against the installed folium."
    )
    raise OfflineMapError(msg)


def _data_uri(mime: str, payload: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"


def _image_uri(name: str) -> str:
    return _data_uri("image/png", (_LEAFLET_DIR / "images" / name).read_bytes())


@functools.cache
def leaflet_js_uri() -> str:
    """Return Leaflet's JavaScript as a ``data:`` URI, with the default icon inlined.

    The script is xstatic's ``leaflet.js`` followed by a few lines that set
    ``L.Icon.Default.imagePath = ""`` and point the default marker's images at
    ``data:`` URIs, so no marker ever asks for ``images/marker-icon.png``.

    Returns
    -------
    str
        ``data:text/javascript;base64,...``
    """
    script = (_LEAFLET_DIR / "leaflet.js").read_text(encoding="utf-8")
    fix = (
        "\n;(function () {\n"
        "  if (typeof L === 'undefined') { return; }\n"
        "  L.Icon.Default.imagePath = '';\n"
        "  L.Icon.Default.mergeOptions({\n"
        f"    iconUrl: '{_image_uri('marker-icon.png')}',\n"
        f"    iconRetinaUrl: '{_image_uri('marker-icon-2x.png')}',\n"
        f"    shadowUrl: '{_image_uri('marker-shadow.png')}'\n"
        "  });\n"
        "})();\n"
    )
    return _data_uri("text/javascript", (script + fix).encode("utf-8"))


@functools.cache
def leaflet_css_uri() -> str:
    """Return Leaflet's CSS as a ``data:`` URI, its images inlined as ``data:`` URIs.

    Returns
    -------
    str
        ``data:text/css;base64,...``
    """
    css = (_LEAFLET_DIR / "leaflet.css").read_text(encoding="utf-8")
    css = re.sub(
        r"url\((?:['\"]?)images/([\w.-]+\.png)(?:['\"]?)\)",
        lambda m: f'url("{_image_uri(m.group(1))}")',
        css,
    )
    return _data_uri("text/css", css.encode("utf-8"))


def _check_versions() -> None:
    pinned = folium_leaflet_version()
    if pinned != LEAFLET_VERSION:
        warnings.warn(
            f"folium expects Leaflet {pinned} but xstatic-leaflet ships {LEAFLET_VERSION}; "
            f"install xstatic-leaflet=={pinned}.0 so folium's templates match the inlined "
            "Leaflet.",
            stacklevel=3,
        )


def _is_remote(url: str) -> bool:
    return bool(re.match(r"^\s*(?:https?:)?//", url, re.IGNORECASE))


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def _problems(element: Element) -> list[str]:
    name = type(element).__name__
    if isinstance(element, folium.Popup):
        return [
            f"{name}: folium.Popup parses its HTML with jQuery, which offline maps do not "
            "load; bind popups with render.map's helpers (they escape and need no jQuery)"
        ]
    if isinstance(element, folium.Icon):
        return [
            f"{name}: folium.Icon needs the awesome-markers plugin from a CDN; draw a "
            "CircleMarker or a DivIcon instead"
        ]
    if isinstance(element, folium.Map) and getattr(element, "objects_to_stay_in_front", None):
        return [f"{name}: keep_in_front uses jQuery; add the layers in the wanted order instead"]
    if isinstance(element, GeoJson) and not getattr(element, "embed", True):
        return [f"{name}: GeoJson(embed=False) fetches its data with jQuery; embed the data"]
    return []


def make_offline(m: folium.Map) -> folium.Map:
    """Make a map (and every element in it) load nothing from the network.

    The map gets instance-level ``default_js``/``default_css`` holding Leaflet as
    ``data:`` URIs; folium's jQuery, Bootstrap, awesome-markers and font links are
    dropped. Any other element with remote JavaScript or CSS (a plugin) is refused.

    Parameters
    ----------
    m
        The map, usually made by :func:`offline_map`. It is changed in place.

    Returns
    -------
    folium.Map
        The same map, for chaining.

    Raises
    ------
    OfflineMapError
        If the map holds an element that needs a remote asset or jQuery (for example
        ``folium.plugins.MarkerCluster``, ``folium.Icon`` or ``folium.Popup``); the
        message names each one and what to use instead.
    """
    problems: list[str] = []
    for element in _walk(m):
        problems.extend(_problems(element))
        js = getattr(element, "default_js", None)
        css = getattr(element, "default_css", None)
        if js is None and css is None:
            continue
        is_map = element is m
        new_js: list[tuple[str, str]] = []
        for link_name, url in js or []:
            if is_map and link_name == _LEAFLET_JS_NAME:
                new_js.append((link_name, leaflet_js_uri()))
            elif is_map and link_name in _DROPPABLE:
                continue
            elif _is_remote(url):
                problems.append(
                    f"{type(element).__name__} loads {link_name!r} from {url}; it has no "
                    "offline copy here. Use a layer that needs no plugin (render.map "
                    "clusters points itself)"
                )
            else:
                new_js.append((link_name, url))
        new_css: list[tuple[str, str]] = []
        for link_name, url in css or []:
            if is_map and link_name == _LEAFLET_CSS_NAME:
                new_css.append((link_name, leaflet_css_uri()))
            elif is_map and link_name in _DROPPABLE:
                continue
            elif _is_remote(url):
                problems.append(
                    f"{type(element).__name__} loads the stylesheet {link_name!r} from {url}; "
                    "it has no offline copy here"
                )
            else:
                new_css.append((link_name, url))
        # Instance attributes shadow folium's class-level lists, which stay untouched.
        element.default_js = new_js
        element.default_css = new_css
    if problems:
        msg = "the map cannot work offline: " + "; ".join(problems)
        raise OfflineMapError(msg)
    return m


def offline_map(**folium_kwargs: object) -> folium.Map:
    """Create a ``folium.Map`` whose page loads Leaflet from ``data:`` URIs.

    Parameters
    ----------
    **folium_kwargs
        Passed to ``folium.Map``. ``tiles`` defaults to ``None`` (no basemap: tile
        servers are unreachable offline). Passing a tile set (``tiles="OpenStreetMap"``)
        is allowed for users who are online, but the tiles are then fetched from the
        network and :func:`remote_assets` lists the tile URL.

    Returns
    -------
    folium.Map
        A map with its own ``default_js``/``default_css``; ``folium.Map.default_js``
        and ``folium.Map.default_css`` are not modified.

    Examples
    --------
    >>> m = offline_map(location=[50.97, -1.35], zoom_start=12)
    >>> remote_assets(m.get_root().render())
    []
    """
    _check_versions()
    folium_kwargs.setdefault("tiles", None)
    m = folium.Map(**folium_kwargs)  # type: ignore[arg-type]
    return make_offline(m)


def remote_assets(html: str) -> list[str]:
    r"""List the remote URLs a rendered page would fetch.

    Looks for ``http://``, ``https://`` and protocol-relative ``//`` URLs in ``src``,
    ``href`` and similar attributes (also inside JSON strings, where quotes are written
    ``\"``), in CSS ``url(...)`` and ``@import``, in Leaflet tile-layer URL templates and
    in jQuery ``ajax`` calls. Links inside a tile layer's ``"attribution"`` text are not
    assets and are ignored. ``data:`` URIs are never remote.

    Parameters
    ----------
    html
        The page, e.g. ``m.get_root().render()``.

    Returns
    -------
    list of str
        Each remote URL once, in order of first appearance; empty for a self-contained
        page.

    Examples
    --------
    >>> remote_assets('<script src="//cdn.example.invalid/x.js"></script><img src="data:,">')
    ['//cdn.example.invalid/x.js']
    """
    skip = [match.span() for match in _ATTRIBUTION.finditer(html)]
    found: list[tuple[int, str]] = []
    for pattern in _REMOTE_PATTERNS:
        for match in pattern.finditer(html):
            start = match.start(1)
            if any(lo <= start < hi for lo, hi in skip):
                continue
            found.append((start, match.group(1)))
    seen: dict[str, None] = {}
    for _, url in sorted(found):
        seen.setdefault(url, None)
    return list(seen)


def assert_no_remote_assets(html: str) -> None:
    """Raise if a rendered page would fetch anything from the network.

    Parameters
    ----------
    html
        The page, e.g. ``m.get_root().render()``.

    Raises
    ------
    AssertionError
        Listing the remote URLs found by :func:`remote_assets`.
    """
    urls = remote_assets(html)
    if urls:
        msg = f"page loads {len(urls)} remote asset(s): " + ", ".join(urls[:10])
        raise AssertionError(msg)
