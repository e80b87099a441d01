"""The folium map, built as a pure function of its layers.

:func:`build_map` takes a :class:`MapLayers` (frames in British National Grid,
EPSG:27700) and returns a ``folium.Map`` that loads nothing from the network
(:mod:`render.leaflet_offline`). This is the only place where frames are projected to
longitude/latitude (EPSG:4326).

Design choices worth knowing:

* **No basemap by default.** Tile servers are unreachable offline, so the map is drawn
  to read without tiles: a light background, a dark borough outline, grey area lines
  and place names as text labels (``DivIcon``).
* **Escaping.** Every string from data goes through :func:`render.html.esc` before it
  reaches the page. Popups and tooltips on single objects use this module's own
  elements, which hand Leaflet the escaped HTML as a JSON string (folium's ``Popup``
  needs jQuery and both it and ``Tooltip`` paste text into a JavaScript template
  literal, where ``${...}`` would run). GeoJSON layers use ``GeoJsonTooltip`` /
  ``GeoJsonPopup`` on properties that were escaped before the GeoJSON was built.
* **Point clustering is done in Python.** No pip package ships ``leaflet.markercluster``
  (folium's ``MarkerCluster`` plugin loads it from a CDN), so incidents are aggregated
  on square British National Grid cells, one grid per zoom level, each cell about
  ``cluster_px`` (60) screen pixels wide at its zoom (5.8 km at zoom 10 down to 360 m at
  zoom 14, :func:`cluster_cell_sizes`), and drawn as numbered bubbles at the incidents'
  mean position; a small script shows the grid of the current zoom. From
  ``detail_zoom`` on (15 by default) the bubbles give way to the individual map points
  (police.uk points are snapped, so
  incidents are grouped by distinct point, sized by count, with the street, types and
  months in a popup). At most ``max_points`` distinct points are drawn; the rest are
  aggregated into grid bubbles, so the page size stays bounded.
* **Density overlay.** Leaflet stretches an ``ImageOverlay`` linearly between two
  lon/lat corners (in Web Mercator), but the density grid is square in British
  National Grid, which is rotated about 0.5 degrees against the meridians at
  Eastleigh (grid convergence). Placing the grid's own image in the bounding box of its
  projected corners puts the corners of a borough-sized grid up to 173 m off (measured
  on the 14 wards' extent, 9.9 km x 17.2 km: 90 m, 173 m, 140 m and 91 m at the four
  corners), which is more than a 50 m or 100 m cell. :func:`density_image` therefore
  resamples the grid onto the Web Mercator pixels Leaflet will draw (nearest cell, at
  ``oversample`` pixels per cell), so every pixel shows the cell under its centre and
  the placement error is at most half a pixel (a quarter of a cell by default).
"""

from __future__ import annotations

import math
import struct
import warnings
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import folium
import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from branca.element import MacroElement
from folium.template import Template
from pyproj import Transformer

from geo.crs import BNG, WGS84, require_bng
from geo.errors import InputError
from render.html import esc, fmt_number, fmt_share, popup_table
from render.leaflet_offline import (
    OfflineMapError,
    make_offline,
    offline_map,
    remote_assets,
)

__all__ = [
    "CHANGE_COLOURS",
    "CHANGE_STATUSES",
    "LAYER_NAMES",
    "Classification",
    "DensityGrid",
    "DensityImage",
    "DensitySurfaceLike",
    "MapLayers",
    "build_map",
    "classify",
    "cluster_cell_sizes",
    "density_image",
    "save_standalone_html",
]

WEB_MERCATOR = "EPSG:3857"

LAYER_NAMES = {
    "borough": "Borough boundary",
    "outlines": "Boundaries",
    "areas": "Areas",
    "density": "Density",
    "hotspots": "Hotspots",
    "change": "Hotspot change",
    "points": "Incidents",
    "venues": "Diversion venues",
    "schools": "Schools",
    "stations": "Rail stations",
    "labels": "Place labels",
    "area_names": "Area names",
}
"""Names of the layers in the layer control (the areas layer adds its value label)."""

CHANGE_STATUSES = ("new", "persistent", "intensifying", "diminishing", "gone")
"""The statuses a hotspot can have between two periods, in legend order."""

CHANGE_COLOURS = {
    "new": "#d7191c",
    "persistent": "#7b3294",
    "intensifying": "#e66101",
    "diminishing": "#4393c3",
    "gone": "#7f7f7f",
}
"""Colour of each change status (ColorBrewer-derived, distinguishable in print)."""

_SCHEMES = {
    "quantiles": mapclassify.Quantiles,
    "natural_breaks": mapclassify.FisherJenks,
    "equal_interval": mapclassify.EqualInterval,
}

# ColorBrewer YlOrRd, sequential, 3 to 9 classes.
_YLORRD = {
    3: ("#ffeda0", "#feb24c", "#f03b20"),
    4: ("#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"),
    5: ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"),
    6: ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"),
    7: ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"),
    8: ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"),
    9: (
        "#ffffcc",
        "#ffeda0",
        "#fed976",
        "#feb24c",
        "#fd8d3c",
        "#fc4e2a",
        "#e31a1c",
        "#bd0026",
        "#800026",
    ),
}
_NO_DATA_COLOUR = "#d9d9d9"
_LABEL_PANE = "ehLabels"
_SMALL_KINDS = {"suburb", "village", "airport"}

# Density ramp (ColorBrewer BuPu-like), so it does not clash with the YlOrRd choropleth.
_DENSITY_ANCHORS = ("#b3cde3", "#8c96c6", "#8c6bb1", "#88419d", "#810f7c", "#4d004b")

# Dark hues drawn over a white halo, so hotspots stay visible on the YlOrRd choropleth.
_METHOD_COLOURS = {
    "kde": "#08306b",
    "dbscan": "#00441b",
    "hdbscan": "#3f007d",
    "gistar": "#67000d",
    "gi_star": "#67000d",
    "getis_ord": "#67000d",
    "grid": "#238b45",
}
_OTHER_METHOD_COLOURS = ("#8c510a", "#01665e", "#c51b7d", "#4d9221", "#542788")

_VENUE_COLOURS = {"existing": "#1b7837", "running": "#1b7837", "planned": "#e08214"}

_CSS = """
#{map_id}.leaflet-container {{ background: #f6f5f1; }}
.eh-label-icon {{ pointer-events: none; }}
.eh-label {{
  transform: translate(-50%, -50%); white-space: nowrap; pointer-events: none;
  font: 600 12px/1.2 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #2b2b2b;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 2px #fff, 0 0 1px #fff;
}}
.eh-label.eh-small {{ font-weight: 500; font-size: 11px; color: #555; }}
.eh-label.eh-right {{ transform: translate(8px, -50%); }}
#{map_id}[data-eh-zoom="far"] .eh-minor, #{map_id}[data-eh-zoom="far"] .eh-station,
#{map_id}[data-eh-zoom="mid"] .eh-station {{ display: none; }}
.eh-label.eh-area {{
  font-weight: 500; font-size: 10.5px; color: #6a6a6a; letter-spacing: 0.04em;
  text-transform: uppercase;
}}
.eh-legend {{
  background: rgba(255, 255, 255, 0.93); padding: 6px 9px; border-radius: 4px;
  box-shadow: 0 1px 5px rgba(0, 0, 0, 0.35); max-width: 260px;
  font: 12px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
}}
.eh-legend .eh-legend-title {{ font-weight: 600; margin-bottom: 3px; }}
.eh-legend .eh-sw {{
  display: inline-block; width: 14px; height: 12px; margin-right: 6px;
  vertical-align: -1px; border: 1px solid #777;
}}
.eh-legend .eh-n {{ color: #666; }}
.eh-legend .eh-ramp {{ display: inline-block; width: 120px; height: 10px; vertical-align: middle; }}
.leaflet-popup-content, .leaflet-tooltip {{ font-size: 12px; line-height: 1.35; }}
.foliumpopup table th, .foliumtooltip table th {{ text-align: left; padding: 1px 8px 1px 0; }}
.foliumpopup table, .foliumtooltip table {{ font-size: 12px; border-collapse: collapse; }}
.eh-popup table {{ border-collapse: collapse; font-size: 12px; }}
.eh-popup th {{ text-align: left; padding: 1px 8px 1px 0; font-weight: 600; vertical-align: top; }}
.eh-popup td {{ padding: 1px 0; }}
.eh-cluster-icon {{ background: transparent; }}
.eh-cluster {{
  border-radius: 50%; text-align: center; color: #1a1a1a; font-weight: 600;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  border: 2px solid rgba(255, 255, 255, 0.9); box-shadow: 0 0 0 1px rgba(0, 0, 0, 0.25);
  font-size: 11px; box-sizing: border-box;
}}
.eh-tier-s {{ background: rgba(120, 198, 121, 0.88); }}
.eh-tier-n {{ background: rgba(254, 204, 92, 0.92); }}
.eh-tier-l {{ background: rgba(253, 141, 60, 0.92); }}
.eh-tier-m {{ background: rgba(170, 170, 170, 0.88); }}
"""

_ATTRIBUTION = (
    "Contains OS data \u00a9 Crown copyright and database right; ONS and police data, OGL v3.0"
)


# --------------------------------------------------------------------------- types


class DensityGrid(Protocol):
    """The grid of a density surface, in British National Grid metres.

    ``x0``, ``y0`` are the south-west (outer) corner of cell ``[0, 0]``; cells are
    ``cell_m`` square; there are ``nx`` columns (west to east) and ``ny`` rows (south
    to north).
    """

    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int


class DensitySurfaceLike(Protocol):
    """Anything with ``values`` (``[ny, nx]``, row 0 southernmost) and a ``grid``."""

    values: np.ndarray
    grid: DensityGrid


@dataclass(eq=False)
class MapLayers:
    """The layers of a map. Every frame is in British National Grid (EPSG:27700).

    Parameters
    ----------
    borough
        Borough outline polygon(s).
    outlines
        Plain area outlines (column ``name``) drawn as thin lines with their names as
        tooltips, for when there is no choropleth.
    areas
        Choropleth polygons with columns ``code``, ``name``, ``value``, and optionally
        ``count``, ``rate_per_1000``, ``ci_low``, ``ci_high``, ``population`` and
        ``vs_borough`` (as :func:`analysis.rates.area_rates` gives them).
    value_label
        What ``value`` is, e.g. ``"ASB per 1,000 residents"`` (legend title).
    classification
        ``"quantiles"``, ``"natural_breaks"`` (Fisher-Jenks, exact and deterministic)
        or ``"equal_interval"``.
    k
        Number of classes (1 to 9).
    density
        A density surface (see :class:`DensitySurfaceLike`).
    density_label
        Legend title of the density overlay.
    hotspots
        Hotspot polygons with ``rank``, ``name``, ``count``, ``share`` (0-1),
        ``area_m2``, ``top_streets``, ``peak_months``, ``method`` (and, when present,
        ``density_per_km2``, ``top_types``, ``wards``, ``peak_days``, ``peak_hours``),
        as :func:`analysis.describe.describe_hotspots` makes them.
    change
        Hotspot polygons with a ``status`` column (one of :data:`CHANGE_STATUSES`) and
        any of ``name``, ``count_before``, ``count_after``, ``change_pct``,
        ``p_value`` and the hotspot columns.
    points
        Incident points: a GeoDataFrame, or a DataFrame with ``x``, ``y`` (metres);
        optional ``crime_type``, ``month``, ``location``.
    venues
        Venue points with ``name`` and optional ``status`` (``planned`` is drawn
        dashed), ``place``, ``hours`` (or ``hours_per_session``), ``attendance`` (or
        ``average_attendance``), ``location_precision``, ``note`` and ``rings_m`` (a
        list of reach radii in metres for that venue).
    venue_rings_m
        Reach radii (metres) for venues without their own ``rings_m``.
    schools, stations
        Points with a ``name`` column.
    labels
        Place labels: points or polygons (labelled at a representative point) with a
        ``name`` column. Minor names (``size == "small"``, or a gazetteer ``kind`` of
        suburb, village or airport) are drawn smaller and only from zoom 13;
        stations (``kind == "station"``) beside their point and only from zoom 14.
    area_names
        Label the areas (or outlines) with their names, in small grey capitals, in a
        layer of their own.
    hidden
        Layers that start switched off (keys of :data:`LAYER_NAMES`); the user can
        switch them on in the layer control.
    """

    borough: gpd.GeoDataFrame | None = None
    outlines: gpd.GeoDataFrame | None = None
    areas: gpd.GeoDataFrame | None = None
    value_label: str = "Value"
    classification: str = "quantiles"
    k: int = 5
    density: DensitySurfaceLike | None = None
    density_label: str = "Incident density"
    hotspots: gpd.GeoDataFrame | None = None
    change: gpd.GeoDataFrame | None = None
    points: pd.DataFrame | None = None
    venues: gpd.GeoDataFrame | None = None
    venue_rings_m: tuple[float, ...] = field(default=(400.0, 800.0))
    schools: gpd.GeoDataFrame | None = None
    stations: gpd.GeoDataFrame | None = None
    labels: gpd.GeoDataFrame | None = None
    area_names: bool = True
    hidden: tuple[str, ...] = ("schools",)


@dataclass(frozen=True)
class Classification:
    """Classes of a choropleth.

    Attributes
    ----------
    scheme
        The scheme asked for.
    lower
        Smallest value (lower edge of the first class).
    bins
        Upper edge of each class; class ``i`` is ``(bins[i-1], bins[i]]`` and the
        first is ``[lower, bins[0]]``.
    labels
        ``"lower – upper"`` text of each class.
    colours
        Fill colour of each class.
    counts
        Number of areas in each class.
    classes
        Class of each input value (``-1`` where the value is missing).
    """

    scheme: str
    lower: float
    bins: tuple[float, ...]
    labels: tuple[str, ...]
    colours: tuple[str, ...]
    counts: tuple[int, ...]
    classes: np.ndarray


@dataclass(frozen=True)
class DensityImage:
    """A density surface drawn as a PNG for a Leaflet image overlay.

    Attributes
    ----------
    png
        RGBA PNG bytes; row 0 is the northern edge.
    bounds
        ``((south, west), (north, east))`` in degrees: the bounding box of the grid's
        four projected corners.
    width, height
        Size in pixels.
    max_value
        The value drawn in the darkest colour.
    """

    png: bytes
    bounds: tuple[tuple[float, float], tuple[float, float]]
    width: int
    height: int
    max_value: float

    @property
    def data_uri(self) -> str:
        """The PNG as a ``data:image/png;base64,...`` URI."""
        import base64

        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


# ------------------------------------------------------------------ small elements


class _HtmlPopup(MacroElement):
    """Bind a popup whose (already escaped) HTML is passed as a JSON string."""

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


class _HtmlTooltip(MacroElement):
    """Bind a tooltip whose (already escaped) HTML is passed as a JSON string."""

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


class _HtmlControl(MacroElement):
    """A Leaflet control (legend) holding fixed, escaped HTML."""

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
        self.css_class = f"eh-legend leaflet-control eh-legend-{kind}".strip()


class _Style(MacroElement):
    """Page CSS for the map (fixed text, no data)."""

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


class _Attribution(MacroElement):
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


class _ZoomBand(MacroElement):
    """Mark the map container with the zoom band, so CSS can hide minor labels.

    ``data-eh-zoom`` is ``far`` below zoom 13, ``mid`` at 13 and ``near`` from 14.
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


class _ZoomLevels(MacroElement):
    """Inside ``group``, show only the sub-layer whose zoom band holds the map's zoom.

    ``levels`` are ``(min_zoom, layer)`` pairs in increasing ``min_zoom``; below the
    first band the first layer shows.
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


class _Bubbles(MacroElement):
    """Numbered bubbles (server-side clusters) added to the parent layer in one loop.

    Each bubble is ``[lat, lon, size_px, tier, text, tooltip_html]``; the text is a
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
                    L.marker([c[0], c[1]], {icon: icon, keyboard: false})
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


# ----------------------------------------------------------------- classification


def classify(
    values: Sequence[float] | np.ndarray, scheme: str = "quantiles", k: int = 5
) -> Classification:
    """Classify choropleth values with mapclassify.

    Parameters
    ----------
    values
        One value per area; ``NaN`` marks a missing value (class ``-1``, "no data").
    scheme
        ``"quantiles"``, ``"natural_breaks"`` (Fisher-Jenks) or ``"equal_interval"``.
    k
        Number of classes, 1 to 9; fewer are made when there are fewer distinct values.

    Returns
    -------
    Classification
        Breaks, labels, colours and the class of each value.

    Raises
    ------
    InputError
        For an unknown scheme or a ``k`` outside 1-9.

    Examples
    --------
    >>> c = classify(list(range(1, 11)), "quantiles", 5)
    >>> [round(b, 6) for b in c.bins]
    [2.8, 4.6, 6.4, 8.2, 10.0]
    >>> c.labels[0], c.counts
    ('1 – 2.8', (2, 2, 2, 2, 2))
    """
    if scheme not in _SCHEMES:
        msg = f"classification {scheme!r} is not known; use one of {sorted(_SCHEMES)}."
        raise InputError(msg)
    if not 1 <= int(k) <= 9:
        msg = f"k={k}: the legend supports 1 to 9 classes; pass k between 1 and 9."
        raise InputError(msg)
    y = np.asarray(values, dtype=float)
    finite = np.isfinite(y)
    classes = np.full(y.shape, -1, dtype=int)
    if not finite.any():
        return Classification(scheme, math.nan, (), (), (), (), classes)
    yf = y[finite]
    k_eff = min(int(k), int(np.unique(yf).size))
    if k_eff <= 1:
        bins = np.array([yf.max()])
        yb = np.zeros(yf.size, dtype=int)
    else:
        with warnings.catch_warnings():
            # FisherJenks says numba is missing (it is only slower); Quantiles warns and
            # merges classes when ties leave fewer distinct breaks than k.
            warnings.simplefilter("ignore", UserWarning)
            classifier = _SCHEMES[scheme](yf, k=k_eff)
        bins = np.asarray(classifier.bins, dtype=float)
        yb = np.asarray(classifier.yb, dtype=int)
    classes[finite] = yb
    n = bins.size
    if n >= 3:
        colours = _YLORRD[n]
    else:  # one or two classes: the light and dark ends of the three-class ramp
        colours = (_YLORRD[3][2],) if n == 1 else (_YLORRD[3][0], _YLORRD[3][2])
    lower = float(yf.min())
    edges = [lower, *bins.tolist()]
    labels = tuple(f"{fmt_number(edges[i])} \u2013 {fmt_number(edges[i + 1])}" for i in range(n))
    counts = tuple(int((yb == i).sum()) for i in range(n))
    return Classification(
        scheme, lower, tuple(float(b) for b in bins), labels, tuple(colours), counts, classes
    )


def _legend_html(title: str, rows: Iterable[tuple[str, str, str]], *, swatch: str = "box") -> str:
    """Legend HTML: ``rows`` are ``(colour, label, note)``; every string is escaped here.

    ``swatch`` is ``"box"``, ``"line"`` or ``"dashed"``; a label ending in ``"gone"``
    is always dashed (the hotspot-change convention).
    """
    lines = [f'<div class="eh-legend-title">{esc(title)}</div>']
    for colour, label, note in rows:
        style = f"background:{esc(colour)}"
        if label == "gone":
            style = f"background:transparent;border:2px dashed {esc(colour)}"
        if swatch == "line":
            style = f"background:transparent;border:2px solid {esc(colour)}"
        elif swatch == "dashed":
            style = f"background:transparent;border:2px dashed {esc(colour)}"
        note_html = f' <span class="eh-n">{esc(note)}</span>' if note else ""
        lines.append(
            f'<div><span class="eh-sw" style="{style}"></span>{esc(label)}{note_html}</div>'
        )
    return "".join(lines)


# ----------------------------------------------------------------------- helpers


def _check_frame(gdf: pd.DataFrame, what: str, required: Sequence[str] = ()) -> None:
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


def _features(gdf: gpd.GeoDataFrame, props: list[dict[str, object]]) -> dict:
    """GeoJSON FeatureCollection in EPSG:4326 with the given (escaped) properties."""
    geoms = gdf.geometry.to_crs(WGS84)
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


def _col(row: pd.Series, name: str) -> object:
    return row[name] if name in row.index else None


def _latlon(points: gpd.GeoSeries) -> list[tuple[float, float]]:
    ll = points.to_crs(WGS84)
    return [(round(p.y, 6), round(p.x, 6)) for p in ll]


def _group(m: folium.Map, key: str, *, name: str | None = None) -> folium.FeatureGroup:
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


def _clean_polygons(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Repaired polygons only: slivers collapsed to lines by ``make_valid`` are dropped."""
    out = gdf.copy()
    out[out.geometry.name] = [_polygonal(g) for g in out.geometry]
    out = out.set_geometry(out.geometry.name, crs=gdf.crs)
    return out[out.geometry.notna()]


# ------------------------------------------------------------------------ layers


def _add_borough(m: folium.Map, borough: gpd.GeoDataFrame) -> None:
    _check_frame(borough, "layers.borough")
    group = _group(m, "borough")
    gdf = _clean_polygons(borough)
    data = _features(gdf, [{} for _ in range(len(gdf))])
    folium.GeoJson(
        data,
        style_function=lambda _f: {"color": "#1a1a1a", "weight": 3, "fill": False, "opacity": 0.9},
        interactive=False,
    ).add_to(group)


def _add_outlines(m: folium.Map, outlines: gpd.GeoDataFrame) -> None:
    _check_frame(outlines, "layers.outlines", ["name"])
    gdf = _clean_polygons(outlines)
    props = [{"name": esc(v)} for v in gdf["name"]]
    group = _group(m, "outlines")
    folium.GeoJson(
        _features(gdf, props),
        style_function=lambda _f: {
            "color": "#6b6b6b",
            "weight": 1.2,
            "fillOpacity": 0.0,
            "fill": True,
        },
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
    ).add_to(group)


def _add_areas(m: folium.Map, layers: MapLayers) -> None:
    areas = layers.areas
    assert areas is not None
    _check_frame(areas, "layers.areas", ["code", "name", "value"])
    gdf = _clean_polygons(areas).reset_index(drop=True)
    result = classify(gdf["value"].to_numpy(dtype=float), layers.classification, layers.k)
    props = []
    for i, row in gdf.iterrows():
        cls = int(result.classes[i])
        lo, hi = _col(row, "ci_low"), _col(row, "ci_high")
        ci = "" if lo is None or hi is None else f"{fmt_number(lo)} \u2013 {fmt_number(hi)}"
        props.append(
            {
                "code": esc(row["code"]),
                "name": esc(row["name"]),
                "value": fmt_number(row["value"]),
                "count": fmt_number(_col(row, "count")),
                "rate": fmt_number(_col(row, "rate_per_1000")),
                "ci": ci or "\u2013",
                "population": fmt_number(_col(row, "population"), decimals=0),
                "klass": esc(result.labels[cls]) if cls >= 0 else "no data",
                "vs": _fmt_text(_col(row, "vs_borough")),
                "fill": result.colours[cls] if cls >= 0 else _NO_DATA_COLOUR,
            }
        )
    label = esc(layers.value_label)
    fields = ["name", "code", "value", "count", "rate", "ci", "population", "klass"]
    aliases = [
        "Area",
        "Code",
        label,
        "Count",
        "Rate per 1,000",
        "95% CI of rate",
        "Population",
        "Class",
    ]
    if "vs_borough" in gdf.columns:
        fields.append("vs")
        aliases.append("Rate vs borough")
    group = _group(m, "areas", name=f"{LAYER_NAMES['areas']}: {label}")
    folium.GeoJson(
        _features(gdf, props),
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "fillOpacity": 0.62,
            "color": "#555555",
            "weight": 1.2,
        },
        highlight_function=lambda _f: {"weight": 3, "color": "#222222"},
        tooltip=folium.GeoJsonTooltip(fields=["name", "value"], aliases=["Area", label]),
        popup=folium.GeoJsonPopup(
            fields=fields,
            aliases=aliases,
        ),
    ).add_to(group)
    rows = [
        (c, lab, f"({n})")
        for c, lab, n in zip(result.colours, result.labels, result.counts, strict=True)
    ]
    if (result.classes < 0).any():
        rows.append((_NO_DATA_COLOUR, "no data", f"({int((result.classes < 0).sum())})"))
    scheme = layers.classification.replace("_", " ")
    title = f"{layers.value_label} ({scheme}, {len(result.bins)} classes)"
    _HtmlControl(_legend_html(title, rows), kind="areas").add_to(m)


def _hex_to_rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def _lut(anchors: Sequence[str], n: int = 256) -> np.ndarray:
    rgb = np.array([_hex_to_rgb(a) for a in anchors], dtype=float)
    pos = np.linspace(0.0, 1.0, len(anchors))
    t = np.linspace(0.0, 1.0, n)
    return (
        np.stack([np.interp(t, pos, rgb[:, i]) for i in range(3)], axis=1).round().astype(np.uint8)
    )


def _png(rgba: np.ndarray) -> bytes:
    """Encode an ``[h, w, 4]`` uint8 array as a PNG (no filtering, zlib level 9)."""
    height, width, _ = rgba.shape
    raw = np.zeros((height, width * 4 + 1), dtype=np.uint8)
    raw[:, 1:] = rgba.reshape(height, width * 4)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + tag
            + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw.tobytes(), 9))
        + chunk(b"IEND", b"")
    )


def density_image(
    surface: DensitySurfaceLike,
    *,
    oversample: int = 2,
    max_pixels: int = 2048,
    min_share: float = 0.02,
) -> DensityImage:
    """Draw a density surface as a PNG placed correctly on a Leaflet (Web Mercator) map.

    The image covers the bounding box of the grid's four corners projected to
    longitude/latitude. Each pixel takes the value of the grid cell under its centre
    (the pixel centre is projected back to British National Grid), so the grid's
    rotation against the meridians is drawn, not ignored; pixels outside the grid are
    transparent.

    Parameters
    ----------
    surface
        ``values`` ``[ny, nx]`` with row 0 the southernmost, and ``grid`` with ``x0``,
        ``y0`` (south-west outer corner, metres), ``cell_m``, ``nx``, ``ny``.
    oversample
        Pixels per cell edge (placement error is at most half a pixel).
    max_pixels
        Largest width or height of the image; the pixel size grows to respect it.
    min_share
        Cells below this share of the maximum are transparent (so kernel tails do not
        wash over the whole borough).

    Returns
    -------
    DensityImage
        PNG bytes, bounds and size.

    Raises
    ------
    InputError
        If ``values`` does not have the grid's shape or the grid is malformed.
    """
    grid = getattr(surface, "grid", None)
    values = getattr(surface, "values", None)
    needed = ("x0", "y0", "cell_m", "nx", "ny")
    if grid is None or values is None or not all(hasattr(grid, a) for a in needed):
        msg = (
            "layers.density: expected an object with .values [ny, nx] and .grid with "
            f"{list(needed)}; got {type(surface).__name__}."
        )
        raise InputError(msg)
    x0, y0, cell_m = float(grid.x0), float(grid.y0), float(grid.cell_m)
    nx, ny = int(grid.nx), int(grid.ny)
    arr = np.asarray(values, dtype=float)
    if arr.shape != (ny, nx) or cell_m <= 0:
        msg = (
            f"layers.density: values have shape {arr.shape} but the grid says (ny, nx) = "
            f"({ny}, {nx}) with cell_m={cell_m}; pass the surface's own grid."
        )
        raise InputError(msg)
    to_ll = Transformer.from_crs(BNG, WGS84, always_xy=True)
    corners_e = np.array([x0, x0 + nx * cell_m, x0, x0 + nx * cell_m])
    corners_n = np.array([y0, y0, y0 + ny * cell_m, y0 + ny * cell_m])
    lon, lat = to_ll.transform(corners_e, corners_n)
    west, east, south, north = (
        float(lon.min()),
        float(lon.max()),
        float(lat.min()),
        float(lat.max()),
    )

    to_merc = Transformer.from_crs(WGS84, WEB_MERCATOR, always_xy=True)
    mx0, my0 = to_merc.transform(west, south)
    mx1, my1 = to_merc.transform(east, north)
    scale = 1.0 / math.cos(math.radians((south + north) / 2.0))  # Mercator metres per ground metre
    pixel = cell_m * scale / max(int(oversample), 1)
    width, height = math.ceil((mx1 - mx0) / pixel), math.ceil((my1 - my0) / pixel)
    if max(width, height) > max_pixels:
        shrink = max(width, height) / max_pixels
        width, height = max(1, math.ceil(width / shrink)), max(1, math.ceil(height / shrink))
    width, height = max(width, 1), max(height, 1)
    # Leaflet stretches the image linearly between the projected corners.
    px = mx0 + (np.arange(width) + 0.5) * (mx1 - mx0) / width
    py = my1 - (np.arange(height) + 0.5) * (my1 - my0) / height
    gx, gy = np.meshgrid(px, py)
    to_bng = Transformer.from_crs(WEB_MERCATOR, BNG, always_xy=True)
    e, n = to_bng.transform(gx, gy)
    col = np.floor((e - x0) / cell_m).astype(int)
    row = np.floor((n - y0) / cell_m).astype(int)
    inside = (col >= 0) & (col < nx) & (row >= 0) & (row < ny)
    sampled = np.full(gx.shape, np.nan)
    sampled[inside] = arr[row[inside], col[inside]]

    finite = np.isfinite(arr)
    vmax = float(arr[finite].max()) if finite.any() else 0.0
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    if vmax > 0:
        share = np.where(np.isfinite(sampled), sampled / vmax, 0.0)
        share = np.clip(share, 0.0, 1.0)
        shown = share >= max(min_share, 1e-12)
        lut = _lut(_DENSITY_ANCHORS)
        idx = np.round(np.sqrt(share) * 255).astype(int)  # sqrt: long tails stay visible
        rgba[..., :3] = lut[idx]
        alpha = np.where(shown, 90 + 140 * np.sqrt(share), 0)
        rgba[..., 3] = alpha.round().astype(np.uint8)
    return DensityImage(
        png=_png(rgba),
        bounds=((south, west), (north, east)),
        width=width,
        height=height,
        max_value=vmax,
    )


def _add_density(m: folium.Map, layers: MapLayers) -> None:
    assert layers.density is not None
    image = density_image(layers.density)
    group = _group(m, "density")
    (south, west), (north, east) = image.bounds
    folium.raster_layers.ImageOverlay(
        image=image.data_uri,
        bounds=[[south, west], [north, east]],
        opacity=0.85,
        pixelated=True,
        interactive=False,
        zindex=2,
    ).add_to(group)
    ramp = ", ".join(_DENSITY_ANCHORS)
    legend = (
        f'<div class="eh-legend-title">{esc(layers.density_label)}</div>'
        f'<div>low <span class="eh-ramp" style="background:linear-gradient(to right, {ramp})">'
        "</span> high</div>"
    )
    _HtmlControl(legend, position="bottomleft", kind="density").add_to(m)


def _method_colour(method: object, order: list[str]) -> str:
    key = str(method).strip().lower().replace("*", "_star").replace(" ", "_").replace("-", "_")
    if key in _METHOD_COLOURS:
        return _METHOD_COLOURS[key]
    index = order.index(str(method)) if str(method) in order else 0
    return _OTHER_METHOD_COLOURS[index % len(_OTHER_METHOD_COLOURS)]


def _fmt_text(value: object) -> str:
    return esc(value) or "\u2013"


def _fmt_int(value: object) -> str:
    return fmt_number(value, decimals=0)


def _fmt_area(value: object) -> str:
    if value is None or pd.isna(value):
        return "\u2013"
    area = float(value)  # type: ignore[arg-type]
    if area >= 1e5:
        return f"{fmt_number(area / 1e6, decimals=3)} km\u00b2"
    return f"{fmt_number(area, decimals=0)} m\u00b2"


def _fmt_pct(value: object) -> str:
    if value is None or pd.isna(value):
        return "\u2013"
    return f"{float(value):+.0f}%"  # type: ignore[arg-type]


def _fmt_p(value: object) -> str:
    if value is None or pd.isna(value):
        return "\u2013"
    p = float(value)  # type: ignore[arg-type]
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


# (column, label, formatter) of the hotspot popups, in the order shown; a column the
# frame lacks is left out of the popup.
_HOTSPOT_FIELDS = (
    ("rank", "Rank", _fmt_int),
    ("name", "Name", _fmt_text),
    ("count", "Incidents", _fmt_int),
    ("share", "Share of incidents", fmt_share),
    ("area_m2", "Area", _fmt_area),
    ("density_per_km2", "Incidents per km\u00b2", fmt_number),
    ("top_streets", "Top streets", _fmt_text),
    ("top_types", "Main types", _fmt_text),
    ("wards", "Wards", _fmt_text),
    ("peak_months", "Peak months", _fmt_text),
    ("peak_days", "Peak days", _fmt_text),
    ("peak_hours", "Peak hours", _fmt_text),
    ("method", "Method", _fmt_text),
)
_CHANGE_FIELDS = (
    ("status", "Status", _fmt_text),
    ("name", "Name", _fmt_text),
    ("count_before", "Incidents before", _fmt_int),
    ("count_after", "Incidents after", _fmt_int),
    ("change_pct", "Change per month", _fmt_pct),
    ("p_value", "p-value (change)", _fmt_p),
    *(f for f in _HOTSPOT_FIELDS if f[0] not in ("name",)),
)


def _field_props(
    gdf: pd.DataFrame, spec: Sequence[tuple[str, str, object]]
) -> tuple[list[dict[str, object]], list[str], list[str]]:
    """Escaped, formatted popup properties of the spec's columns present in ``gdf``."""
    present = [(c, label, fmt) for c, label, fmt in spec if c in gdf.columns]
    props = [
        {f"p_{c}": fmt(row[c]) for c, _, fmt in present}  # type: ignore[operator]
        for _, row in gdf.iterrows()
    ]
    return props, [f"p_{c}" for c, _, _ in present], [label for _, label, _ in present]


def _add_hotspots(m: folium.Map, hotspots: gpd.GeoDataFrame) -> None:
    _check_frame(hotspots, "layers.hotspots")
    gdf = _clean_polygons(hotspots).reset_index(drop=True)
    methods = sorted({str(v) for v in gdf["method"]}) if "method" in gdf.columns else []
    props, fields, aliases = _field_props(gdf, _HOTSPOT_FIELDS)
    for prop, method in zip(props, gdf["method"] if methods else [None] * len(gdf), strict=True):
        prop["colour"] = _method_colour(method, methods) if methods else _METHOD_COLOURS["kde"]
    group = _group(m, "hotspots")
    if props:
        tip = [(f, a) for f, a in zip(fields, aliases, strict=True) if f in _TIP_FIELDS]
        folium.GeoJson(  # the halo: a wide white line under the coloured outline
            _features(gdf, [{} for _ in props]),
            style_function=lambda _f: {"color": "#ffffff", "weight": 6, "opacity": 0.85,
                                       "fill": False},
            interactive=False,
        ).add_to(group)
        folium.GeoJson(
            _features(gdf, props),
            style_function=lambda f: {
                "color": f["properties"]["colour"],
                "fillColor": f["properties"]["colour"],
                "weight": 2.5,
                "fillOpacity": 0.25,
            },
            highlight_function=lambda _f: {"weight": 4, "fillOpacity": 0.4},
            tooltip=folium.GeoJsonTooltip(fields=[f for f, _ in tip], aliases=[a for _, a in tip])
            if tip
            else None,
            popup=folium.GeoJsonPopup(fields=fields, aliases=aliases) if fields else None,
        ).add_to(group)
    if methods:
        rows = [(_method_colour(mth, methods), mth, "") for mth in methods]
        _HtmlControl(
            _legend_html("Hotspots by method", rows, swatch="line"), kind="hotspots"
        ).add_to(m)


_TIP_FIELDS = {"p_rank", "p_status", "p_name", "p_count", "p_count_after"}


def _add_change(m: folium.Map, change: gpd.GeoDataFrame) -> None:
    _check_frame(change, "layers.change", ["status"])
    gdf = _clean_polygons(change).reset_index(drop=True)
    gdf["status"] = gdf["status"].astype(str).str.strip().str.lower()
    unknown = sorted(set(gdf["status"]) - set(CHANGE_STATUSES))
    if unknown:
        msg = f"layers.change: status values {unknown} are not known; use {list(CHANGE_STATUSES)}."
        raise InputError(msg)
    props, fields, aliases = _field_props(gdf, _CHANGE_FIELDS)
    for prop, status in zip(props, gdf["status"], strict=True):
        prop["colour"] = CHANGE_COLOURS[status]
        prop["gone"] = status == "gone"
    group = _group(m, "change")
    if props:
        tip = [(f, a) for f, a in zip(fields, aliases, strict=True) if f in _TIP_FIELDS]
        folium.GeoJson(
            _features(gdf, props),
            style_function=lambda f: {
                "color": f["properties"]["colour"],
                "fillColor": f["properties"]["colour"],
                "weight": 2.5,
                "fillOpacity": 0.0 if f["properties"]["gone"] else 0.3,
                "dashArray": "6 4" if f["properties"]["gone"] else None,
            },
            tooltip=folium.GeoJsonTooltip(fields=[f for f, _ in tip], aliases=[a for _, a in tip]),
            popup=folium.GeoJsonPopup(fields=fields, aliases=aliases),
        ).add_to(group)
    counts = gdf["status"].value_counts()
    rows = [(CHANGE_COLOURS[s], s, f"({int(counts.get(s, 0))})") for s in CHANGE_STATUSES]
    _HtmlControl(_legend_html("Hotspot change", rows), kind="change").add_to(m)


def _point_xy(points: pd.DataFrame, what: str) -> pd.DataFrame:
    """Return a frame with float columns x, y (metres) and the other columns; drop missing."""
    if isinstance(points, gpd.GeoDataFrame) and points.geometry.name in points.columns:
        require_bng(points, what)
        geom = points.geometry
        has = geom.notna() & ~geom.is_empty
        xs = np.full(len(points), np.nan)
        ys = np.full(len(points), np.nan)
        xs[has.to_numpy()] = geom[has].x.to_numpy()
        ys[has.to_numpy()] = geom[has].y.to_numpy()
        frame = pd.DataFrame(points.drop(columns=points.geometry.name))
        frame["x"], frame["y"] = xs, ys
    elif {"x", "y"} <= set(points.columns):
        frame = pd.DataFrame(points).copy()
        frame["x"] = pd.to_numeric(frame["x"], errors="coerce")
        frame["y"] = pd.to_numeric(frame["y"], errors="coerce")
    else:
        msg = (
            f"{what}: needs point geometry (EPSG:27700) or columns 'x', 'y' in metres; "
            f"found {list(points.columns)}."
        )
        raise InputError(msg)
    return frame[np.isfinite(frame["x"]) & np.isfinite(frame["y"])].reset_index(drop=True)


def _top_values(series: pd.Series, n: int = 3) -> str:
    counts = series.dropna().astype(str).value_counts()
    counts = counts[counts.index != ""]
    return "; ".join(f"{name} {int(c)}" for name, c in counts.head(n).items())


def _month_span(series: pd.Series) -> str:
    months = sorted({str(v) for v in series.dropna() if str(v)})
    if not months:
        return ""
    return months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"


def _bubble_size(count: int) -> int:
    return int(min(24 + 10 * math.log10(max(count, 1)), 46))


def _bubble_tier(count: int, *, muted: bool) -> str:
    if muted:
        return "m"
    return "s" if count < 10 else "l" if count >= 100 else "n"


def _add_cells(
    parent: folium.FeatureGroup, frame: pd.DataFrame, cell_m: float, *, muted: bool, what: str
) -> None:
    """Aggregate points into square cells and draw one numbered bubble per cell."""
    if frame.empty:
        return
    cells = frame.assign(
        ix=np.floor(frame["x"] / cell_m).astype(int), iy=np.floor(frame["y"] / cell_m).astype(int)
    )
    agg = cells.groupby(["ix", "iy"], sort=True).agg(
        n=("x", "size"), x=("x", "mean"), y=("y", "mean")
    )
    types = (
        cells.groupby(["ix", "iy"])["crime_type"].apply(_top_values)
        if "crime_type" in cells.columns
        else None
    )
    pts = gpd.GeoSeries(gpd.points_from_xy(agg["x"], agg["y"]), crs=BNG)
    rows_out = []
    for (key, row), (lat, lon) in zip(agg.iterrows(), _latlon(pts), strict=True):
        count = int(row["n"])
        rows: list[tuple[str, object]] = [
            ("Incidents", f"{count:,}"),
            ("Cell", f"{fmt_number(cell_m)} m square"),
        ]
        if types is not None:
            rows.append(("Main types", types.get(key, "")))
        text = f"{count / 1000:.1f}k" if count >= 10_000 else f"{count:,}"
        rows_out.append(
            [
                lat,
                lon,
                _bubble_size(count),
                _bubble_tier(count, muted=muted),
                text,
                popup_table(rows, title=what),
            ]
        )
    _Bubbles(rows_out).add_to(parent)


def _metres_per_pixel(zoom: int, lat: float) -> float:
    """Ground metres per screen pixel of Web Mercator tiles at ``zoom`` and ``lat``."""
    return 2 * math.pi * 6_378_137.0 * math.cos(math.radians(lat)) / (256 * 2**zoom)


def cluster_cell_sizes(
    lat: float, *, cluster_px: int = 60, min_zoom: int = 10, detail_zoom: int = 15
) -> dict[int, float]:
    """Cell size (metres) of the point grid used at each zoom below ``detail_zoom``.

    A cell spans about ``cluster_px`` screen pixels at its zoom (as
    ``leaflet.markercluster``'s radius does), rounded to 10 m.

    Parameters
    ----------
    lat
        Latitude of the map's centre, degrees.
    cluster_px
        Width of a cell on screen, pixels.
    min_zoom
        Coarsest zoom with its own grid (zooms below use the same one).
    detail_zoom
        First zoom at which points are drawn one by one.

    Returns
    -------
    dict
        ``{zoom: cell_m}`` for ``min_zoom <= zoom < detail_zoom``, plus ``detail_zoom``
        itself (the grid for points beyond ``max_points``).

    Examples
    --------
    >>> cluster_cell_sizes(51.0, detail_zoom=15)
    {10: 5770.0, 11: 2890.0, 12: 1440.0, 13: 720.0, 14: 360.0, 15: 180.0}
    """
    return {
        z: float(max(10.0, round(cluster_px * _metres_per_pixel(z, lat) / 10.0) * 10.0))
        for z in range(min_zoom, detail_zoom + 1)
    }


def _mode(series: pd.Series) -> str:
    counts = series.dropna().astype(str).value_counts()
    counts = counts[counts.index != ""]
    return str(counts.index[0]) if len(counts) else ""


def _add_points(
    m: folium.Map,
    points: pd.DataFrame,
    *,
    max_points: int,
    cluster_px: int,
    detail_zoom: int,
    lat: float,
) -> None:
    frame = _point_xy(points, "layers.points")
    group = _group(m, "points")
    sizes = cluster_cell_sizes(lat, cluster_px=cluster_px, detail_zoom=detail_zoom)
    levels: list[tuple[int, folium.FeatureGroup]] = []
    for zoom, cell_m in sizes.items():
        if zoom == detail_zoom:
            continue
        layer = folium.FeatureGroup(name=f"Incidents z{zoom}", control=False).add_to(group)
        _add_cells(layer, frame, cell_m, muted=False, what="Incidents in this area")
        levels.append((zoom, layer))
    fine = folium.FeatureGroup(name="Incidents (points)", control=False).add_to(group)
    levels.append((detail_zoom, fine))
    _ZoomLevels(group, levels).add_to(m)
    if frame.empty:
        return

    key = frame.assign(kx=frame["x"].round(1), ky=frame["y"].round(1))
    grouped = key.groupby(["kx", "ky"], sort=True)
    distinct = grouped.size().rename("n").reset_index()
    distinct = distinct.sort_values(
        ["n", "kx", "ky"], ascending=[False, True, True], kind="mergesort"
    )
    shown = distinct.head(max_points)
    rest_keys = distinct.iloc[max_points:]
    details: dict[str, pd.Series] = {}
    for col, fn in (("location", _mode), ("crime_type", _top_values), ("month", _month_span)):
        if col in key.columns:
            details[col] = grouped[col].apply(fn)
    props = []
    for _, row in shown.iterrows():
        k = (row["kx"], row["ky"])
        n = int(row["n"])
        prop: dict[str, object] = {"count": f"{n:,}"}
        for col, out in (("location", "location"), ("crime_type", "types"), ("month", "months")):
            prop[out] = (esc(details[col].get(k, "")) if col in details else "") or "\u2013"
        prop["radius"] = round(min(3.0 + 2.0 * math.sqrt(n), 14.0), 1)
        props.append(prop)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(shown["kx"], shown["ky"]), crs=BNG)
    folium.GeoJson(
        _features(pts, props),
        marker=folium.CircleMarker(
            radius=4, color="#7a0177", weight=1, fill=True, fill_color="#c51b8a", fill_opacity=0.75
        ),
        style_function=lambda f: {"radius": f["properties"]["radius"]},
        tooltip=folium.GeoJsonTooltip(
            fields=["location", "count"], aliases=["", "Incidents"], labels=False
        ),
        popup=folium.GeoJsonPopup(
            fields=["location", "count", "types", "months"],
            aliases=["Location", "Incidents", "Types", "Months"],
        ),
    ).add_to(fine)
    if not rest_keys.empty:
        rest = key.merge(rest_keys[["kx", "ky"]], on=["kx", "ky"], how="inner")
        _add_cells(
            fine,
            rest,
            sizes[detail_zoom],
            muted=True,
            what=f"Incidents at points beyond the first {max_points:,}",
        )


def _plain(value: object) -> object:
    return value


def _whole(value: object) -> object:
    return None if value is None or pd.isna(value) else fmt_number(value, decimals=0)


# (accepted column names, label, formatter) of a venue popup; popup_table escapes.
_VENUE_FIELDS = (
    (("status",), "Status", _plain),
    (("place",), "Place", _plain),
    (("hours", "hours_per_session"), "Hours", _plain),
    (("attendance", "average_attendance"), "Attendance", _whole),
    (("location_precision",), "Location", _plain),
    (("note",), "Note", _plain),
)


def _add_venues(m: folium.Map, layers: MapLayers) -> None:
    venues = layers.venues
    assert venues is not None
    _check_frame(venues, "layers.venues", ["name"])
    gdf = venues[venues.geometry.notna()].reset_index(drop=True)
    group = _group(m, "venues")
    rings_default = tuple(float(r) for r in layers.venue_rings_m)
    centres = gdf.geometry.representative_point()
    for (_, row), latlon in zip(gdf.iterrows(), _latlon(centres), strict=True):
        status = str(_col(row, "status") or "").strip().lower()
        colour = _VENUE_COLOURS.get(status, "#1b7837")
        rings = _col(row, "rings_m")
        radii = (
            rings_default
            if rings is None or (np.ndim(rings) == 0 and pd.isna(rings))
            else tuple(float(r) for r in rings)
        )
        name = _col(row, "name")
        for radius_m in sorted(radii, reverse=True):
            circle = folium.Circle(
                latlon,
                radius=float(radius_m),
                color=colour,
                weight=1.5,
                dash_array="6 4" if status == "planned" else None,
                fill=True,
                fill_color=colour,
                fill_opacity=0.06,
            )
            _HtmlTooltip(f"Within {fmt_number(radius_m)} m of {esc(name)}").add_to(circle)
            circle.add_to(group)
        marker = folium.CircleMarker(
            latlon,
            radius=8,
            color="#ffffff",
            weight=2,
            fill=True,
            fill_color=colour,
            fill_opacity=1.0,
        )
        rows: list[tuple[str, object]] = []
        for columns, label, fmt in _VENUE_FIELDS:
            column = next((c for c in columns if c in row.index), None)
            if column is not None:
                rows.append((label, fmt(row[column])))
        rows.append(("Reach rings", ", ".join(f"{fmt_number(r)} m" for r in sorted(radii))))
        _HtmlPopup(popup_table(rows, title=name)).add_to(marker)
        _HtmlTooltip(esc(name)).add_to(marker)
        marker.add_to(group)


def _add_named_points(
    m: folium.Map, gdf: gpd.GeoDataFrame, key: str, *, radius: float, colour: str
) -> None:
    _check_frame(gdf, f"layers.{key}", ["name"])
    clean = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty].reset_index(drop=True)
    pts = gpd.GeoDataFrame(
        clean.drop(columns=clean.geometry.name),
        geometry=clean.geometry.representative_point(),
        crs=BNG,
    )
    extra = [c for c in ("phase", "kind", "type") if c in clean.columns]
    props = [
        {"name": esc(row["name"]), **{c: esc(row[c]) for c in extra}} for _, row in clean.iterrows()
    ]
    group = _group(m, key)
    if props:
        folium.GeoJson(
            _features(pts, props),
            marker=folium.CircleMarker(
                radius=radius,
                color="#ffffff",
                weight=1.5,
                fill=True,
                fill_color=colour,
                fill_opacity=0.95,
            ),
            tooltip=folium.GeoJsonTooltip(fields=["name", *extra], labels=False),
        ).add_to(group)


def _add_labels(m: folium.Map, labels: gpd.GeoDataFrame) -> None:
    _check_frame(labels, "layers.labels", ["name"])
    clean = labels[labels.geometry.notna() & ~labels.geometry.is_empty].reset_index(drop=True)
    group = _group(m, "labels")
    anchors = clean.geometry.representative_point()
    for (_, row), latlon in zip(clean.iterrows(), _latlon(anchors), strict=True):
        kind = str(_col(row, "kind") or "").lower()
        css = "eh-label"
        if kind == "station":
            css += " eh-small eh-right eh-station"
        elif str(_col(row, "size") or "").lower() == "small" or kind in _SMALL_KINDS:
            css += " eh-small eh-minor"
        _label(group, latlon, f'<div class="{css}">{esc(row["name"])}</div>')


def _label(group: folium.FeatureGroup, latlon: tuple[float, float], html: str) -> None:
    """A text label (already escaped HTML) in the label pane, never catching the mouse."""
    folium.Marker(
        latlon,
        icon=folium.DivIcon(html=html, icon_size=(0, 0), class_name="eh-label-icon"),
        interactive=False,
        keyboard=False,
        pane=_LABEL_PANE,
    ).add_to(group)


def _add_area_names(m: folium.Map, areas: gpd.GeoDataFrame) -> None:
    gdf = _clean_polygons(areas).reset_index(drop=True)
    group = _group(m, "area_names")
    anchors = gpd.GeoSeries(
        [shapely.ops.polylabel(_largest_part(g), tolerance=10.0) for g in gdf.geometry], crs=gdf.crs
    )
    for name, latlon in zip(gdf["name"], _latlon(anchors), strict=True):
        _label(group, latlon, f'<div class="eh-label eh-area">{esc(name)}</div>')


def _largest_part(geom: shapely.Geometry) -> shapely.Polygon:
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon)]
    return max(parts, key=lambda p: p.area)


def _bounds_4326(frames: Iterable[gpd.GeoDataFrame | None]) -> list[list[float]] | None:
    boxes = []
    for gdf in frames:
        if isinstance(gdf, gpd.GeoDataFrame) and not gdf.empty and gdf.geometry.notna().any():
            boxes.append(gdf.geometry.to_crs(WGS84).total_bounds)
    if not boxes:
        return None
    arr = np.array(boxes)
    if not np.isfinite(arr).all():
        arr = arr[np.isfinite(arr).all(axis=1)]
        if arr.size == 0:
            return None
    return [
        [float(arr[:, 1].min()), float(arr[:, 0].min())],
        [float(arr[:, 3].max()), float(arr[:, 2].max())],
    ]


def build_map(
    layers: MapLayers,
    *,
    tiles: str | None = None,
    height: int | str = "100%",
    width: int | str = "100%",
    max_points: int = 2000,
    cluster_px: int = 60,
    detail_zoom: int = 15,
    attribution: str | None = _ATTRIBUTION,
) -> folium.Map:
    """Build the hotspot map from its layers.

    Parameters
    ----------
    layers
        The layers to draw; ``None`` fields are left out. Frames are in EPSG:27700.
    tiles
        A folium tile set name or URL template for users who are online (for example
        ``"OpenStreetMap"``); ``None`` (default) draws no basemap and loads nothing.
    height, width
        Size of the map (pixels or CSS percentage).
    max_points
        Most distinct incident points drawn individually; the rest are aggregated.
    cluster_px
        Screen width of the grid cells that group incidents below ``detail_zoom``; the
        cell size in metres halves with each zoom step (:func:`cluster_cell_sizes`).
    detail_zoom
        Zoom level from which individual incident points replace the grouped bubbles.
    attribution
        Data attribution shown in the corner (escaped); ``None`` for none.

    Returns
    -------
    folium.Map
        A map with a layer control, fitted to the borough (or to all layers when there
        is no borough), that loads no remote asset when ``tiles`` is ``None``.

    Raises
    ------
    InputError
        If a frame is not in EPSG:27700 or lacks a required column.
    """
    unknown = sorted(set(layers.hidden) - set(LAYER_NAMES))
    if unknown:
        msg = f"MapLayers.hidden: {unknown} are not layers; use keys of {sorted(LAYER_NAMES)}."
        raise InputError(msg)
    frames = [
        layers.borough,
        layers.outlines,
        layers.areas,
        layers.hotspots,
        layers.change,
        layers.venues,
        layers.schools,
        layers.stations,
        layers.labels,
    ]
    for name, gdf in (
        ("borough", layers.borough),
        ("outlines", layers.outlines),
        ("areas", layers.areas),
        ("hotspots", layers.hotspots),
        ("change", layers.change),
        ("venues", layers.venues),
        ("schools", layers.schools),
        ("stations", layers.stations),
        ("labels", layers.labels),
    ):
        if gdf is not None:
            _check_frame(gdf, f"layers.{name}")
    bounds = _bounds_4326([layers.borough]) or _bounds_4326(frames)
    if bounds is None and layers.points is not None:
        xy = _point_xy(layers.points, "layers.points")
        if not xy.empty:
            pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy["x"], xy["y"]), crs=BNG)
            bounds = _bounds_4326([pts])
    centre = (
        [50.96, -1.33]
        if bounds is None
        else [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    )

    m = offline_map(
        location=centre, zoom_start=12, tiles=tiles, height=height, width=width, control_scale=True
    )
    _Style(_CSS.format(map_id=m.get_name())).add_to(m)
    # Labels sit in their own pane above markers and bubbles (below tooltips and popups).
    folium.map.CustomPane(_LABEL_PANE, z_index=640, pointer_events=False).add_to(m)
    if attribution:
        _Attribution(esc(attribution)).add_to(m)

    if layers.areas is not None:
        _add_areas(m, layers)
    if layers.outlines is not None:
        _add_outlines(m, layers.outlines)
    if layers.density is not None:
        _add_density(m, layers)
    if layers.borough is not None:
        _add_borough(m, layers.borough)
    if layers.change is not None:
        _add_change(m, layers.change)
    if layers.hotspots is not None:
        _add_hotspots(m, layers.hotspots)
    if layers.venues is not None:
        _add_venues(m, layers)
    if layers.schools is not None:
        _add_named_points(m, layers.schools, "schools", radius=4, colour="#2166ac")
    if layers.stations is not None:
        _add_named_points(m, layers.stations, "stations", radius=6, colour="#252525")
    if layers.points is not None:
        _add_points(
            m,
            layers.points,
            max_points=max_points,
            cluster_px=cluster_px,
            detail_zoom=detail_zoom,
            lat=centre[0],
        )
    if layers.area_names and (layers.areas is not None or layers.outlines is not None):
        _add_area_names(m, layers.areas if layers.areas is not None else layers.outlines)
    if layers.labels is not None:
        _add_labels(m, layers.labels)
        _ZoomBand().add_to(m)
    for child in m._children.values():
        if getattr(child, "eh_key", None) in layers.hidden:
            child.show = False

    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    if bounds is not None:
        m.fit_bounds(bounds, padding=(10, 10))
    return make_offline(m)


def save_standalone_html(m: folium.Map, path: str | Path) -> Path:
    """Write the map as one self-contained HTML file that opens offline.

    Parameters
    ----------
    m
        A map from :func:`build_map` (or :func:`render.leaflet_offline.offline_map`).
    path
        Where to write the file.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    OfflineMapError
        If the page would load anything from the network (for example a tile layer),
        or the map holds an element that cannot work offline. Nothing is written then.
    """
    make_offline(m)
    html = m.get_root().render()
    urls = remote_assets(html)
    if urls:
        msg = (
            f"{path}: the page would load {len(urls)} remote asset(s) ({', '.join(urls[:3])}); "
            "build the map with tiles=None for a standalone file."
        )
        raise OfflineMapError(msg)
    out = Path(path)
    out.write_text(html, encoding="utf-8")
    return out
