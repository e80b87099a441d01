"""Streets on the map, drawn offline as vector tiles cut in the browser.

A whole district's streets (tens of thousands of links) are too many for one Leaflet
``GeoJson`` layer of SVG paths. :func:`add_streets` hands them to
``L.VectorGrid.Slicer`` (Leaflet.VectorGrid 1.3.0, vendored under
``render/static/leaflet.vectorgrid`` with its licence and inlined as a ``data:`` URI, like
Leaflet in :mod:`render.leaflet_offline`): the GeoJSON is cut into tiles in a Web
Worker and each tile is drawn on a canvas, so only the tiles in view are drawn.

* At borough zoom the streets are thin lines; they widen as the map zooms in.
* Width and colour follow the road class (:data:`STREET_STYLES`): motorways and A roads
  wide and dark, local streets and paths thin and pale. The colours are blue-greys, away
  from the reds and oranges of the hotspot layers drawn above them.
* From :data:`LABEL_MIN_ZOOM` the street names are written along the streets (one label
  per stretch of named street, only those in view), as text, never as HTML.

:func:`no_streets_message` is the text to show where streets would be when none are
loaded.
"""

from __future__ import annotations

import base64
import functools
import json
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import shapely
from folium.elements import JSCSSMixin
from jinja2 import Template

from geo.crs import BNG, WGS84, reproject, require_bng
from render.elements import HtmlTooltip
from render.html import esc

__all__ = [
    "LABEL_MIN_ZOOM",
    "STREET_STYLES",
    "VECTORGRID_VERSION",
    "StreetsLayer",
    "add_streets",
    "add_walk_catchment",
    "no_streets_message",
    "street_labels",
    "streets_geojson",
    "vectorgrid_js_uri",
]

VECTORGRID_VERSION = "1.3.0"
"""Version of the vendored Leaflet.VectorGrid."""

_VECTORGRID = Path(__file__).resolve().parent / "static" / "leaflet.vectorgrid"

LABEL_MIN_ZOOM = 16
"""Street names are written from this zoom level in (street zoom)."""

STREET_STYLES: dict[str, tuple[str, float]] = {
    "motorway": ("#1f3a60", 4.5),
    "a_road": ("#2f5d8c", 3.6),
    "b_road": ("#4f7fa8", 3.0),
    "minor": ("#6f8fa8", 2.4),
    "local": ("#8c9aa6", 1.7),
    "pedestrian": ("#a08a6c", 1.2),
    "other": ("#b0b0b0", 1.0),
}
"""Colour and line width (pixels at zoom 16) of each road class; the width scales down
to about a third at zoom 12."""

_CLASS_ORDER = list(STREET_STYLES)
_MIN_LABEL_LENGTH_M = 60.0
_MAX_LABELS_DRAWN = 400


@functools.cache
def vectorgrid_js_uri() -> str:
    """Leaflet.VectorGrid (bundled) as a ``data:`` URI, with a shim for Leaflet 1.9.

    Returns
    -------
    str
        ``data:text/javascript;base64,...``
    """
    script = (_VECTORGRID / "Leaflet.VectorGrid.bundled.min.js").read_text(encoding="utf-8")
    shim = (
        "\n;(function () {\n"
        "  if (typeof L !== 'undefined' && L.DomEvent && !L.DomEvent.fakeStop) {\n"
        "    L.DomEvent.fakeStop = L.DomEvent.stop;\n"
        "  }\n"
        "})();\n"
    )
    payload = base64.b64encode((shim + script + shim).encode("utf-8")).decode("ascii")
    return f"data:text/javascript;base64,{payload}"


def no_streets_message(*, what: str = "Walking distances and street names") -> str:
    """The text shown where streets would be when no street file is loaded.

    Parameters
    ----------
    what
        What needs the streets, at the start of the sentence.

    Returns
    -------
    str
        One paragraph saying what is missing and how to load it.
    """
    return (
        f"No streets loaded. {what} need a street file: OS Open Roads (GeoPackage or "
        "GeoJSON road links), OS OpenMap Local roads, or an OpenStreetMap extract (.osm or "
        ".osm.pbf) covering the study area. Load one in the Data view, or start the app "
        "with --streets FILE (or set HOTSPOTS_STREETS=FILE). Until then, reach is measured "
        "in a straight line."
    )


def _safe_json(value: object) -> str:
    """JSON that cannot end a ``<script>`` element or open a comment."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def streets_geojson(streets: gpd.GeoDataFrame, *, simplify_m: float = 1.0, digits: int = 6) -> dict:
    """The streets as a compact GeoJSON FeatureCollection in longitude/latitude.

    Parameters
    ----------
    streets
        Frame from :func:`geo.streets.read_streets` (EPSG:27700).
    simplify_m
        Tolerance (metres) of the simplification before projecting; 0 keeps every vertex.
    digits
        Decimal places kept (6 is about 0.1 m).

    Returns
    -------
    dict
        A FeatureCollection; each feature has properties ``i`` (row number), ``c`` (index
        of its road class in :data:`STREET_STYLES`) and ``n`` (name, may be empty).
    """
    require_bng(streets, "streets")
    geoms = streets.geometry.to_numpy()
    if simplify_m > 0:
        geoms = shapely.simplify(geoms, simplify_m, preserve_topology=False)
    lonlat = reproject(gpd.GeoSeries(geoms, crs=streets.crs), WGS84).to_numpy()
    lonlat = shapely.set_precision(lonlat, 10.0**-digits)
    classes = (
        streets["road_class"].to_numpy() if "road_class" in streets else ["other"] * len(streets)
    )
    names = streets["name"].fillna("").astype(str).to_numpy() if "name" in streets else None
    features = []
    for i, geom in enumerate(lonlat):
        if geom is None or geom.is_empty:
            continue
        cls = classes[i] if classes[i] in STREET_STYLES else "other"
        props = {"i": i, "c": _CLASS_ORDER.index(cls)}
        if names is not None and names[i]:
            props["n"] = names[i]
        features.append(
            {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}
        )
    return {"type": "FeatureCollection", "features": features}


def street_labels(
    streets: gpd.GeoDataFrame, *, min_length_m: float = _MIN_LABEL_LENGTH_M
) -> list[list]:
    """Where to write each street name: one label per stretch of named street.

    Links of the same name that join are merged; each merged stretch at least
    ``min_length_m`` long gets one label at its middle, turned along the street.

    Parameters
    ----------
    streets
        Frame from :func:`geo.streets.read_streets` (EPSG:27700).
    min_length_m
        Shorter stretches are not labelled.

    Returns
    -------
    list of list
        ``[lat, lon, name, angle]`` per label, larger roads and longer stretches first
        (the map skips a label that would overlap one before it); ``angle`` in degrees
        anticlockwise from east, between -90 and 90 so the text is never upside down.
    """
    require_bng(streets, "streets")
    if "name" not in streets or streets.empty:
        return []
    named = streets[streets["name"].fillna("").astype(str).str.strip() != ""]
    rank = {cls: i for i, cls in enumerate(_CLASS_ORDER)}
    found: list[tuple[int, float, shapely.Point, str, float]] = []
    for name, group in named.groupby(named["name"].astype(str).str.strip(), sort=True):
        classes = group.get("road_class", ["other"])
        best = min(rank.get(c, len(rank)) for c in classes)
        merged = shapely.line_merge(shapely.union_all(group.geometry.to_numpy()))
        for part in getattr(merged, "geoms", [merged]):
            if part.is_empty or part.length < min_length_m:
                continue
            half = part.length / 2
            a = part.interpolate(max(half - 10, 0))
            b = part.interpolate(min(half + 10, part.length))
            angle = float(np.degrees(np.arctan2(b.y - a.y, b.x - a.x)))
            if angle > 90:
                angle -= 180
            elif angle <= -90:
                angle += 180
            found.append((best, -part.length, part.interpolate(half), name, round(angle, 1)))
    if not found:
        return []
    # Larger roads first, then longer stretches: where labels would overlap, these win.
    found.sort(key=lambda f: (f[0], f[1], f[3]))
    lonlat = reproject(gpd.GeoSeries([f[2] for f in found], crs=streets.crs), WGS84)
    return [[round(p.y, 6), round(p.x, 6), f[3], f[4]] for p, f in zip(lonlat, found, strict=True)]


_TEMPLATE = Template(
    """
{% macro header(this, kwargs) %}
<style>
  .eh-street-label { background: none; border: none; }
  .eh-street-label span {
    position: absolute; left: 0; top: 0; white-space: nowrap;
    transform: translate(-50%, -50%);
    font: 600 11px/1.1 system-ui, "Segoe UI", Arial, sans-serif; color: #23313f;
    text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff; pointer-events: none;
  }
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function () {
  var map = {{ this._parent.get_name() }};
  var data = {{ this.data_json }};
  var labels = {{ this.labels_json }};
  var styles = {{ this.styles_json }};
  var labelMinZoom = {{ this.label_min_zoom }};
  var maxLabels = {{ this.max_labels }};
  if (!map.getPane('ehStreetLabels')) {
    map.createPane('ehStreetLabels');
    map.getPane('ehStreetLabels').style.zIndex = 450;
    map.getPane('ehStreetLabels').style.pointerEvents = 'none';
  }
  var grid = L.vectorGrid.slicer(data, {
    rendererFactory: L.canvas.tile,
    maxZoom: 20,
    tolerance: 2,
    interactive: false,
    pane: 'tilePane',
    getFeatureId: function (f) { return f.properties.i; },
    vectorTileLayerStyles: {
      sliced: function (p, zoom) {
        var s = styles[p.c] || styles[styles.length - 1];
        var k = Math.max(0.3, Math.min(1.6, 1 + (zoom - 16) * 0.18));
        return {color: s[0], weight: Math.max(0.5, s[1] * k), opacity: 0.9,
                lineCap: 'round', lineJoin: 'round', fill: false};
      }
    }
  });
  // Leaflet keeps the last zoom's tiles, scaled, until the new ones are drawn, then
  // prunes them; after a zoom animation in which every new tile was drawn it may not
  // prune again, leaving blurred doubled lines. Prune after each zoom, and again every
  // 300 ms (at most 20 times) while tiles of another zoom are still kept.
  function prune(_e, tries) {
    tries = tries || 0;
    setTimeout(function () {
      if (!grid._map || !grid._pruneTiles) { return; }
      if (!map._animatingZoom) { grid._pruneTiles(); }
      var zoom = grid._tileZoom, stale = false;
      for (var key in grid._tiles) { stale = stale || grid._tiles[key].coords.z !== zoom; }
      if (stale && tries < 20) { prune(null, tries + 1); }
    }, 300);
  }
  grid.on('load', prune);
  map.on('zoomend', prune);
  var labelLayer = L.layerGroup();
  var group = L.layerGroup([grid, labelLayer]);
  function drawLabels() {
    labelLayer.clearLayers();
    if (!map.hasLayer(group) || map.getZoom() < labelMinZoom) { return; }
    var view = map.getBounds().pad(0.1), drawn = 0, placed = [];
    for (var i = 0; i < labels.length && drawn < maxLabels; i++) {
      var l = labels[i];
      if (!view.contains([l[0], l[1]])) { continue; }
      // The label's box once turned, in pixels; skip it if it meets one already written.
      var pt = map.latLngToContainerPoint([l[0], l[1]]);
      var a = l[3] * Math.PI / 180, w = 6.6 * l[2].length + 6, h = 14;
      var bw = Math.abs(w * Math.cos(a)) + Math.abs(h * Math.sin(a));
      var bh = Math.abs(w * Math.sin(a)) + Math.abs(h * Math.cos(a));
      var box = [pt.x - bw / 2, pt.y - bh / 2, pt.x + bw / 2, pt.y + bh / 2], clash = false;
      for (var j = 0; j < placed.length && !clash; j++) {
        var o = placed[j];
        clash = box[0] < o[2] && o[0] < box[2] && box[1] < o[3] && o[1] < box[3];
      }
      if (clash) { continue; }
      placed.push(box);
      var span = document.createElement('span');
      span.textContent = l[2];
      span.style.transform = 'translate(-50%, -50%) rotate(' + (-l[3]) + 'deg)';
      L.marker([l[0], l[1]], {
        icon: L.divIcon({className: 'eh-street-label', html: span, iconSize: [0, 0]}),
        pane: 'ehStreetLabels', interactive: false, keyboard: false
      }).addTo(labelLayer);
      drawn += 1;
    }
  }
  map.on('zoomend moveend', drawLabels);
  group.on('add', drawLabels);
  group.on('remove', function () { labelLayer.clearLayers(); });
  return group;
})();
{% endmacro %}
"""
)


class StreetsLayer(JSCSSMixin, folium.map.Layer):
    """A folium layer of streets drawn by Leaflet.VectorGrid, with names at street zoom.

    VectorGrid is listed in ``default_js`` (as a ``data:`` URI), the way folium's plugins
    list their scripts: a saved page gets it in its header, and ``streamlit_folium``
    (which drops the header's scripts and loads every element's ``default_js`` instead)
    loads it after Leaflet. Use :func:`add_streets` rather than this class directly.
    """

    _template = _TEMPLATE

    def __init__(
        self,
        streets: gpd.GeoDataFrame,
        *,
        name: str = "Streets",
        show: bool = True,
        label_min_zoom: int = LABEL_MIN_ZOOM,
        max_labels: int = _MAX_LABELS_DRAWN,
        simplify_m: float = 1.0,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "StreetsLayer"
        self.data_json = _safe_json(streets_geojson(streets, simplify_m=simplify_m))
        self.labels_json = _safe_json(street_labels(streets))
        self.styles_json = _safe_json([list(v) for v in STREET_STYLES.values()])
        self.label_min_zoom = int(label_min_zoom)
        self.max_labels = int(max_labels)
        self.feature_count = len(streets)
        self.default_js = [("leaflet_vectorgrid", vectorgrid_js_uri())]


def add_streets(
    m: folium.Map,
    streets: gpd.GeoDataFrame,
    *,
    name: str = "Streets",
    show: bool = True,
    label_min_zoom: int = LABEL_MIN_ZOOM,
) -> StreetsLayer:
    """Draw streets on a map as an offline vector layer, named at street zoom.

    Parameters
    ----------
    m
        The map (from :func:`render.leaflet_offline.offline_map` or
        :func:`render.map.build_map`).
    streets
        Frame from :func:`geo.streets.read_streets` (EPSG:27700).
    name
        The layer's name in the layer control.
    show
        Whether the layer is on when the map opens.
    label_min_zoom
        Zoom level from which street names are written.

    Returns
    -------
    StreetsLayer
        The layer, already added to ``m``. Add it before the hotspot layers' layer
        control is built so that it is listed there.
    """
    layer = StreetsLayer(streets, name=name, show=show, label_min_zoom=label_min_zoom)
    layer.add_to(m)
    return layer


def add_walk_catchment(
    m: folium.Map,
    catchment: shapely.Geometry,
    *,
    centre_bng: tuple[float, float] | None = None,
    distance_m: float | None = None,
    name: str = "Walking catchment",
    colour: str = "#1b7f5f",
    group: folium.FeatureGroup | None = None,
    venue: str | None = None,
) -> folium.FeatureGroup:
    """Draw a walking catchment and, for comparison, the straight-line circle.

    Parameters
    ----------
    m
        The map.
    catchment
        From :func:`analysis.network.walk_catchment` (EPSG:27700 metres).
    centre_bng
        The venue's ``(x, y)`` in EPSG:27700; with ``distance_m``, a dashed circle of that
        radius is drawn around it.
    distance_m
        The walking distance the catchment was made for.
    name
        The layer's name in the layer control.
    colour
        Outline and fill colour.
    group
        A layer to draw into (one layer for several venues); by default a new one.
    venue
        The venue's name, for the tooltips.

    Returns
    -------
    folium.FeatureGroup
        The layer (catchment and circle), already added to ``m``.
    """
    new = group is None
    if group is None:
        group = folium.FeatureGroup(name=name)
    label = f"within {distance_m:,.0f} m walking" if distance_m else "walking catchment"
    if venue:
        label = f"{label} of {venue}"
    if catchment is not None and not catchment.is_empty:
        shape = reproject(gpd.GeoSeries([catchment], crs=BNG), WGS84).iloc[0]
        folium.GeoJson(
            shapely.geometry.mapping(shape),
            style_function=lambda _f: {
                "color": colour,
                "weight": 1.5,
                "fillColor": colour,
                "fillOpacity": 0.25,
            },
        ).add_to(group).add_child(HtmlTooltip(esc(label[:1].upper() + label[1:])))
    if centre_bng is not None and distance_m:
        at = gpd.GeoSeries.from_xy([centre_bng[0]], [centre_bng[1]], crs="EPSG:27700")
        at = reproject(at, WGS84).iloc[0]
        folium.Circle(
            location=[at.y, at.x],
            radius=float(distance_m),
            color="#444444",
            weight=1.5,
            dash_array="6 6",
            fill=False,
            interactive=True,
        ).add_to(group).add_child(
            HtmlTooltip(
                esc(
                    f"Within {distance_m:,.0f} m in a straight line"
                    + (f" of {venue}" if venue else "")
                )
            )
        )
        folium.CircleMarker(
            location=[at.y, at.x], radius=5, color="#222222", fill=True, fill_opacity=1
        ).add_to(group)
    if new:
        group.add_to(m)
    return group
