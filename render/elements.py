"""The building blocks of the map: layer groups, GeoJSON features and small Leaflet elements.

A layer group per :class:`render.model.MapLayers` field, named from :data:`LAYER_NAMES`;
frames checked (EPSG:27700, required columns), repaired and projected to
longitude/latitude as GeoJSON features; and the small elements that hand Leaflet
already escaped HTML as JSON strings (popups, tooltips, legend controls), the page CSS,
the attribution and the zoom scripts. Used by :mod:`render.layers`,
:mod:`render.cluster` and :mod:`render.map`.
"""

from __future__ import annotations

from collections.abc import Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template

from geo.crs import WGS84, reproject, require_bng
from geo.errors import InputError

__all__ = [
    "LAYER_NAMES",
    "Attribution",
    "Bubbles",
    "Declutter",
    "HtmlControl",
    "HtmlPopup",
    "HtmlTooltip",
    "MapStyle",
    "TextLabels",
    "ZoomBand",
    "ZoomLevels",
    "check_frame",
    "clean_polygons",
    "geojson_features",
    "layer_group",
    "to_latlon",
    "value_or_none",
]


LAYER_NAMES = {
    "borough": "Borough boundary",
    "outlines": "Boundaries",
    "areas": "Areas",
    "density": "Density",
    "hotspots": "Hotspots",
    "change": "Hotspot change",
    "emerging": "Emerging hot spots",
    "points": "Incidents",
    "venues": "Diversion venues",
    "schools": "Schools",
    "stations": "Rail stations",
    "labels": "Place labels",
    "area_names": "Area names",
    "streets": "Streets",
    "catchments": "Walking catchments",
}
"""Names of the layers in the layer control (the areas layer adds its value label)."""


# ------------------------------------------------------------------ small elements


class HtmlPopup(MacroElement):
    """Bind a popup whose (already escaped) HTML is passed as a JSON string.

    Parameters
    ----------
    content
        The popup's HTML, escaped by the caller.
    max_width
        Widest the popup grows, pixels.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindPopup(
                {{ this.content|tojson }}, {{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, content: str, *, max_width: int = 320) -> None:
        super().__init__()
        self._name = "HtmlPopup"
        self.content = content
        self.options = {"maxWidth": max_width}


class TextLabels(MacroElement):
    """Text labels as one element: a marker with a ``DivIcon`` of (escaped) HTML each.

    The labels reach the page as one JSON list and the markers are made in the browser.
    folium compiles a template for every element it draws, twice in the app: one
    ``Marker`` and ``DivIcon`` per label made Birmingham's 639 area names cost about
    2.5 s of a 5.9 s first view.

    Parameters
    ----------
    labels
        ``(lat, lon, html)`` of each label, its HTML escaped by the caller.
    pane
        The map pane the markers go in.
    class_name
        CSS class of each icon.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            (function () {
                var labels = {{ this.labels|tojson }};
                for (var i = 0; i < labels.length; i++) {
                    L.marker([labels[i][0], labels[i][1]], {
                        icon: L.divIcon({
                            html: labels[i][2], iconSize: [0, 0],
                            className: {{ this.class_name|tojson }}}),
                        interactive: false, keyboard: false, pane: {{ this.pane|tojson }}
                    }).addTo({{ this._parent.get_name() }});
                }
            })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        labels: Sequence[tuple[float, float, str]],
        *,
        pane: str,
        class_name: str = "eh-label-icon",
    ) -> None:
        super().__init__()
        self._name = "TextLabels"
        self.labels = [[float(lat), float(lon), str(html)] for lat, lon, html in labels]
        self.pane = pane
        self.class_name = class_name


class HtmlTooltip(MacroElement):
    """Bind a tooltip whose (already escaped) HTML is passed as a JSON string.

    Parameters
    ----------
    content
        The tooltip's HTML, escaped by the caller.
    sticky
        Whether the tooltip follows the mouse.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindTooltip(
                {{ this.content|tojson }}, {{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, content: str, *, sticky: bool = True) -> None:
        super().__init__()
        self._name = "HtmlTooltip"
        self.content = content
        self.options = {"sticky": sticky}


class HtmlControl(MacroElement):
    """A Leaflet control (legend) holding fixed, escaped HTML.

    Parameters
    ----------
    content
        The control's HTML, escaped by the caller.
    position
        Leaflet control position, e.g. ``"bottomright"``.
    kind
        Suffix of its CSS class ``eh-legend-<kind>``.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
            {{ this.get_name() }}.onAdd = function (map) {
                var div = L.DomUtil.create("div", {{ this.css_class|tojson }});
                div.innerHTML = {{ this.content|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, content: str, *, position: str = "bottomright", kind: str = "") -> None:
        super().__init__()
        self._name = "HtmlControl"
        self.content = content
        self.position = position
        self.kind = kind
        self.css_class = f"eh-legend leaflet-control eh-legend-{kind}".strip()


class MapStyle(MacroElement):
    """Page CSS for the map (fixed text, no data).

    Parameters
    ----------
    css
        The style sheet.
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}
            <style>{{ this.css }}</style>
        {% endmacro %}
        """
    )

    def __init__(self, css: str) -> None:
        super().__init__()
        self._name = "EhStyle"
        self.css = css


class Attribution(MacroElement):
    """Add a data attribution to the map's attribution control.

    Parameters
    ----------
    text
        The attribution HTML, escaped by the caller.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            (function (map) {
                if (map.attributionControl) {
                    map.attributionControl.addAttribution({{ this.text|tojson }});
                }
            })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "EhAttribution"
        self.text = text


class ZoomBand(MacroElement):
    """Mark the map container with the zoom band, so CSS can hide minor labels.

    ``data-eh-zoom`` is ``far`` below zoom 13, ``mid`` at 13 and ``near`` from 14. It
    takes no parameters.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            (function (map) {
                function sync() {
                    var zoom = map.getZoom();
                    var band = zoom >= 14 ? "near" : (zoom >= 13 ? "mid" : "far");
                    map.getContainer().setAttribute("data-eh-zoom", band);
                }
                map.on("zoomend", sync);
                sync();
            })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "ZoomBand"


class Declutter(MacroElement):
    """Hide text labels that would overlap one already shown, after every zoom and pan.

    Priority: the ranks of the ten highest hotspots (in rank order), then the place
    names, the area names, the other hotspots' ranks, and minor places and stations; a
    label is hidden (``visibility: hidden``) when its box meets the box of one of higher
    priority, or meets a control (the legend, the layer control). After its first pass
    the map's container carries ``data-eh-decluttered="yes"`` (the browser tests and the
    app benchmark wait for it: the map is then drawn as the user sees it). Takes no
    parameters.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            (function (map) {
                // The ten highest-ranked hotspots first (in rank order), then place
                // names, area names, the other hotspots' ranks, minor places.
                function rank(el) {
                    if (el.classList.contains("eh-rank")) {
                        var n = parseInt(el.textContent, 10) || 999;
                        return n <= 10 ? n / 100 : 2.5 + n / 10000;
                    }
                    if (el.classList.contains("eh-area")) { return 2; }
                    if (el.classList.contains("eh-small")) { return 3; }
                    return 1;
                }
                function declutter() {
                    var els = Array.prototype.slice.call(
                        map.getContainer().querySelectorAll(".eh-rank, .eh-label"));
                    els.forEach(function (el) { el.style.visibility = ""; });
                    // Every box is read before any label is hidden: reading a box
                    // after a label changed makes the browser lay the page out again,
                    // once per label (seconds for Birmingham's 639 area names).
                    // The legend and the other controls count as placed: a label
                    // half under them is hidden rather than cut.
                    var placed = Array.prototype.slice.call(
                        map.getContainer().querySelectorAll(".leaflet-control")
                    ).map(function (el) { return el.getBoundingClientRect(); });
                    var items = els.filter(function (el) {
                        return !el.closest(".leaflet-control");
                    }).map(function (el, i) {
                        return {el: el, r: el.getBoundingClientRect(), k: rank(el), i: i};
                    });
                    items.sort(function (a, b) { return a.k - b.k || a.i - b.i; });
                    var hide = [];
                    items.forEach(function (it) {
                        var r = it.r;
                        if (!r.width || !r.height) { return; }
                        var clash = placed.some(function (o) {
                            return r.left < o.right + 2 && o.left < r.right + 2 &&
                                r.top < o.bottom + 1 && o.top < r.bottom + 1;
                        });
                        if (clash) { hide.push(it.el); }
                        else { placed.push(r); }
                    });
                    hide.forEach(function (el) { el.style.visibility = "hidden"; });
                    map.getContainer().setAttribute("data-eh-decluttered", "yes");
                }
                map.on("zoomend moveend overlayadd overlayremove", function () {
                    setTimeout(declutter, 0);
                });
                map.whenReady(function () { setTimeout(declutter, 0); });
                // Folding or opening the legend frees or covers labels.
                map.getContainer().addEventListener("toggle", function () {
                    setTimeout(declutter, 0);
                }, true);
            })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "Declutter"


class ZoomLevels(MacroElement):
    """Inside ``group``, show only the sub-layer whose zoom band holds the map's zoom.

    Parameters
    ----------
    group
        The layer group holding the sub-layers.
    levels
        ``(min_zoom, layer)`` pairs in increasing ``min_zoom``; below the first band the
        first layer shows.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            (function (map, group, levels) {
                function sync() {
                    var zoom = map.getZoom();
                    var pick = levels[0][1];
                    levels.forEach(function (level) { if (zoom >= level[0]) { pick = level[1]; } });
                    levels.forEach(function (level) {
                        var layer = level[1];
                        if (layer === pick) {
                            if (!group.hasLayer(layer)) { group.addLayer(layer); }
                        } else if (group.hasLayer(layer)) {
                            group.removeLayer(layer);
                        }
                    });
                }
                map.on("zoomend", sync);
                sync();
            })(
                {{ this._parent.get_name() }},
                {{ this.group.get_name() }},
                [{% for zoom, layer in this.levels %}[{{ zoom }}, {{ layer.get_name() }}],{% endfor %}]
            );
        {% endmacro %}
        """
    )

    def __init__(
        self, group: folium.FeatureGroup, levels: Sequence[tuple[int, folium.FeatureGroup]]
    ) -> None:
        super().__init__()
        self._name = "ZoomLevels"
        self.group = group
        self.levels = [(int(z), layer) for z, layer in levels]


class Bubbles(MacroElement):
    """Numbered bubbles (server-side clusters) added to the parent layer in one loop.

    Parameters
    ----------
    cells
        One ``[lat, lon, size_px, tier, text, tooltip_html]`` per bubble; the text is a
        formatted count and the tooltip HTML is escaped before it gets here.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            (function (group, cells) {
                cells.forEach(function (c) {
                    var div = document.createElement("div");
                    div.className = "eh-cluster eh-tier-" + c[3];
                    div.style.width = div.style.height = c[2] + "px";
                    div.style.lineHeight = (c[2] - 4) + "px";
                    div.textContent = c[4];
                    var icon = L.divIcon({
                        html: div, iconSize: [c[2], c[2]],
                        iconAnchor: [c[2] / 2, c[2] / 2], className: "eh-cluster-icon"
                    });
                    // The click goes on to the map (bubblingMouseEvents), so a click on
                    // a bubble is a click on the map at that point (area profile, siting).
                    L.marker([c[0], c[1]], {icon: icon, keyboard: false,
                                            bubblingMouseEvents: true})
                        .bindTooltip(c[5], {sticky: false})
                        .addTo(group);
                });
            })({{ this._parent.get_name() }}, {{ this.cells|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, cells: list[list[object]]) -> None:
        super().__init__()
        self._name = "Bubbles"
        self.cells = cells


# ----------------------------------------------------------------------- helpers


def check_frame(gdf: pd.DataFrame, what: str, required: Sequence[str] = ()) -> None:
    """Check that a layer's frame is in British National Grid and has its columns.

    Parameters
    ----------
    gdf
        The frame (a GeoDataFrame is checked for EPSG:27700; a plain DataFrame is not).
    what
        Its name in error messages, e.g. ``"layers.hotspots"``.
    required
        Columns it must have.

    Raises
    ------
    InputError
        If the CRS is not EPSG:27700 or a column is missing.
    """
    if isinstance(gdf, gpd.GeoDataFrame):
        require_bng(gdf, what)
    missing = [c for c in required if c not in gdf.columns]
    if missing:
        msg = (
            f"{what}: column(s) {missing} missing; found {list(gdf.columns)}. "
            "Rename the columns or add them before building the map."
        )
        raise InputError(msg)


def _round_coords(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda c: np.round(c, 6))


def geojson_features(gdf: gpd.GeoDataFrame, props: list[dict[str, object]]) -> dict:
    """Build a GeoJSON FeatureCollection in EPSG:4326 with the given (escaped) properties.

    Parameters
    ----------
    gdf
        Geometries in EPSG:27700; empty or missing ones are left out.
    props
        One property dict per row, already escaped.

    Returns
    -------
    dict
        The FeatureCollection; feature ids are the row positions, coordinates are
        rounded to 6 decimals.
    """
    geoms = reproject(gdf.geometry, WGS84)
    features = []
    for i, (geom, prop) in enumerate(zip(geoms, props, strict=True)):
        if geom is None or geom.is_empty:
            continue
        features.append(
            {
                "type": "Feature",
                "id": str(i),
                "geometry": shapely.geometry.mapping(_round_coords(geom)),
                "properties": prop,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def value_or_none(row: pd.Series, name: str) -> object:
    """Return ``row[name]``, or None when the row has no such column.

    Parameters
    ----------
    row
        A row of a frame.
    name
        Column name.

    Returns
    -------
    object
        The value, or None.
    """
    return row[name] if name in row.index else None


def to_latlon(points: gpd.GeoSeries) -> list[tuple[float, float]]:
    """Project points to ``(lat, lon)`` pairs, rounded to 6 decimals.

    Parameters
    ----------
    points
        Points with a CRS.

    Returns
    -------
    list of tuple
        ``(latitude, longitude)`` of each point, in order.
    """
    ll = reproject(points, WGS84)
    return [(round(p.y, 6), round(p.x, 6)) for p in ll]


def layer_group(m: folium.Map, key: str, *, name: str | None = None) -> folium.FeatureGroup:
    """Add the layer group that draws one :class:`render.model.MapLayers` field.

    Parameters
    ----------
    m
        The map.
    key
        The field (a key of :data:`LAYER_NAMES`), kept as ``eh_key`` for
        ``MapLayers.hidden``.
    name
        Name in the layer control; ``LAYER_NAMES[key]`` by default.

    Returns
    -------
    folium.FeatureGroup
        The group, already added to ``m``.
    """
    group = folium.FeatureGroup(name=name or LAYER_NAMES[key]).add_to(m)
    group.eh_key = key  # which MapLayers field it draws (for MapLayers.hidden)
    return group


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry | None:
    """Repair a geometry and keep only its polygonal parts (None if there are none)."""
    if geom is None or geom.is_empty:
        return None
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if isinstance(geom, shapely.Polygon | shapely.MultiPolygon):
        return geom
    parts = [
        p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon | shapely.MultiPolygon)
    ]
    if not parts:
        return None
    return shapely.union_all(parts)


def clean_polygons(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Repair polygons and keep only the polygonal parts.

    Parameters
    ----------
    gdf
        Polygons (any CRS).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy; rows whose geometry ``make_valid`` collapsed to lines or points are dropped.
    """
    out = gdf.copy()
    out[out.geometry.name] = [_polygonal(g) for g in out.geometry]
    out = out.set_geometry(out.geometry.name, crs=gdf.crs)
    return out[out.geometry.notna()]
