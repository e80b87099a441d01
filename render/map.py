"""The folium map, built as a pure function of its layers.

:func:`build_map` takes a :class:`render.model.MapLayers` (frames in British National Grid,
EPSG:27700) and returns a ``folium.Map`` that loads nothing from the network
(:mod:`render.leaflet_offline`). This is the only place where frames are projected to
longitude/latitude (EPSG:4326): here and in the modules it is built from,
:mod:`render.layers` (one function per layer), :mod:`render.cluster` (incident points),
:mod:`render.raster` (the density image), :mod:`render.legend` (classes and legends) and
:mod:`render.elements` (layer groups, GeoJSON features, small Leaflet elements). Their
public names are importable from here.

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
* **Point clustering is done in Python.** folium's ``MarkerCluster`` plugin loads
  ``leaflet.markercluster`` from a CDN; ``xstatic-leaflet-markercluster`` ships it for
  offline use, but it would change what the map shows (measured and explained in
  :mod:`render.cluster`). Incidents are aggregated
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

from collections.abc import Iterable
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
from folium.map import FitBounds

from geo.crs import BNG, WGS84, reproject
from geo.errors import InputError
from render.cluster import add_points, cluster_cell_sizes, point_xy
from render.colours import CHANGE_COLOURS, CHANGE_STATUSES, EMERGING_COLOURS
from render.elements import (
    LAYER_NAMES,
    Attribution,
    Declutter,
    HtmlControl,
    MapStyle,
    ZoomBand,
    check_frame,
)
from render.html import esc
from render.layers import (
    AREAS_PANE,
    DENSITY_PANE,
    LABEL_PANE,
    add_area_names,
    add_areas,
    add_borough,
    add_change,
    add_density,
    add_emerging,
    add_hotspots,
    add_labels,
    add_named_points,
    add_outlines,
    add_venues,
)
from render.leaflet_offline import (
    OfflineMapError,
    make_offline,
    offline_map,
    remote_assets,
)
from render.legend import Classification, classify
from render.model import MapLayers
from render.raster import DensityGrid, DensityImage, DensitySurfaceLike, density_image
from render.streets import add_streets, add_walk_catchment

__all__ = [
    "CHANGE_COLOURS",
    "CHANGE_STATUSES",
    "EMERGING_COLOURS",
    "LAYER_NAMES",
    "Classification",
    "DensityGrid",
    "DensityImage",
    "DensitySurfaceLike",
    "MapLayers",
    "add_emerging",
    "build_map",
    "classify",
    "cluster_cell_sizes",
    "density_image",
    "save_standalone_html",
]


_CSS = """
#{map_id}.leaflet-container {{ background: #f6f5f1; }}
.eh-label-icon {{ pointer-events: none; }}
.eh-label {{
  transform: translate(-50%, -50%); white-space: nowrap; pointer-events: none;
  width: max-content;
  font: 600 12px/1.2 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #2b2b2b;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 2px #fff, 0 0 1px #fff;
}}
.eh-label.eh-small {{ font-weight: 500; font-size: 11px; color: #555; }}
.eh-label.eh-right {{ transform: translate(8px, -50%); }}
#{map_id}[data-eh-zoom="far"] .eh-minor, #{map_id}[data-eh-zoom="far"] .eh-station,
#{map_id}[data-eh-zoom="mid"] .eh-station,
#{map_id}[data-eh-zoom="far"] .eh-rank-minor, #{map_id}[data-eh-zoom="mid"] .eh-rank-minor {{
  display: none;
}}
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
.eh-legend.eh-legend-all {{ max-height: calc(100vh - 110px); overflow-y: auto; }}
.eh-legend-fold {{ cursor: pointer; font-weight: 600; color: #444; margin-bottom: 2px; }}
.eh-legend-section + .eh-legend-section {{ margin-top: 5px; padding-top: 4px; border-top: 1px solid #ddd; }}
.eh-legend .eh-sym {{
  display: inline-block; width: 18px; margin-right: 4px; text-align: center; vertical-align: middle;
}}
.eh-legend .eh-dot {{ display: inline-block; border-radius: 50%; vertical-align: middle; }}
.eh-legend .eh-sym-dot {{ margin-right: 4px; }}
.eh-legend .eh-item {{ white-space: nowrap; margin-right: 9px; }}
.eh-rank-icon {{ background: transparent; }}
.eh-rank {{
  transform: translate(-50%, -50%); min-width: 18px; height: 18px; border-radius: 9px;
  padding: 0 3px; white-space: nowrap; display: inline-block;
  background: #fff; border: 2px solid #b10026; color: #b10026; text-align: center;
  font: 700 11px/14px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  box-sizing: border-box; pointer-events: none;
}}
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


# --------------------------------------------------------------------------- map


def _bounds_4326(frames: Iterable[gpd.GeoDataFrame | None]) -> list[list[float]] | None:
    boxes = []
    for gdf in frames:
        if isinstance(gdf, gpd.GeoDataFrame) and not gdf.empty and gdf.geometry.notna().any():
            boxes.append(reproject(gdf.geometry, WGS84).total_bounds)
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


def _symbol_rows(layers: MapLayers) -> list[tuple[str, str]]:
    """``(kind, html)`` legend sections for the layers that draw symbols, not classes."""
    out = []

    def row(symbol: str, label: str) -> str:
        return f'<div><span class="eh-sym">{symbol}</span>{esc(label)}</div>'

    if layers.hotspots is not None and len(layers.hotspots) and "rank" in layers.hotspots:
        more = "; past 10 from zoom 14" if len(layers.hotspots) > 10 else ""
        out.append(
            (
                "ranks",
                row(
                    '<span class="eh-rank" style="display:inline-block;transform:none">1</span>',
                    f"hotspot rank (1 = most incidents{more})",
                ),
            )
        )

    def item(symbol: str, label: str) -> str:
        return f'<span class="eh-item">{symbol}{esc(label)}</span>'

    if layers.venues is not None and len(layers.venues):
        dot = '<span class="eh-dot eh-sym-dot" style="width:10px;height:10px;background:{}"></span>'
        ring = (
            '<span class="eh-dot eh-sym-dot" style="width:12px;height:12px;'
            'border:1.5px solid #1b7837;background:transparent"></span>'
        )
        radii = ", ".join(f"{r:,.0f}" for r in layers.venue_rings_m)
        lines = [
            '<div class="eh-legend-title">Diversion venues</div>',
            "<div>"
            + item(dot.format("#1b7837"), "running")
            + item(dot.format("#e08214"), "planned")
            + "</div>",
            "<div>" + item(ring, f"within {radii} m in a straight line") + "</div>",
        ]
        drawn = layers.catchments
        if drawn is not None and len(drawn) and not drawn.geometry.is_empty.all():
            d = float(drawn["distance_m"].iloc[0])
            lines.append(
                "<div>"
                + item(
                    '<span class="eh-sw" style="background:rgba(27,127,95,0.35);'
                    'border-color:#1b7f5f"></span>',
                    f"within {d:,.0f} m on foot along the streets",
                )
                + "</div>"
            )
        out.append(("venues", "".join(lines)))
    if layers.points is not None:
        bubble = '<span class="eh-dot eh-sym-dot eh-tier-{}" style="width:12px;height:12px"></span>'
        out.append(
            (
                "incidents",
                "".join(
                    [
                        '<div class="eh-legend-title">Incidents (number in the bubble)</div>',
                        "<div>"
                        + item(bubble.format("s"), "1\u20139")
                        + item(bubble.format("n"), "10\u201399")
                        + item(bubble.format("l"), "100+")
                        + "</div>",
                        "<div>"
                        + item(
                            '<span class="eh-dot eh-sym-dot" style="width:8px;height:8px;'
                            'background:#c51b8a;border:1px solid #7a0177"></span>',
                            "a police.uk map point (zoomed in)",
                        )
                        + "</div>",
                    ]
                ),
            )
        )
    points = []
    if layers.schools is not None and "schools" not in layers.hidden:
        points.append(
            item(
                '<span class="eh-dot eh-sym-dot" style="width:8px;height:8px;'
                'background:#2166ac"></span>',
                "school",
            )
        )
    if layers.stations is not None:
        points.append(
            item(
                '<span class="eh-dot eh-sym-dot" style="width:10px;height:10px;'
                'background:#252525"></span>',
                "rail station",
            )
        )
    if layers.streets is not None and len(layers.streets):
        points.append(
            item(
                '<span class="eh-sym-dot" style="display:inline-block;width:14px;'
                'height:3px;background:#2f5d8c;vertical-align:middle"></span>',
                "street",
            )
        )
    if points:
        out.append(("places", "<div>" + "".join(points) + "</div>"))
    return out


def _one_legend(m: folium.Map, layers: MapLayers) -> None:
    """Gather every layer's legend into one box that explains every symbol on the map.

    Each layer's part keeps its class (``eh-legend-<kind>``) as a section of the box.
    """
    sections = []
    for name, child in list(m._children.items()):
        if isinstance(child, HtmlControl) and child.kind:
            sections.append((child.kind, child.content))
            del m._children[name]
    sections += _symbol_rows(layers)
    if not sections:
        return
    order = [
        "areas",
        "density",
        "hotspots",
        "ranks",
        "change",
        "emerging",
        "venues",
        "incidents",
        "places",
    ]
    sections.sort(key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
    body = "".join(
        f'<div class="eh-legend-section eh-legend-{kind}">{html}</div>' for kind, html in sections
    )
    # One box, bottom left (a tall district such as Eastleigh leaves that corner empty),
    # open when the map opens; its heading folds it away to clear the map.
    body = f'<details open><summary class="eh-legend-fold">Legend</summary>{body}</details>'
    HtmlControl(body, position="bottomleft", kind="all").add_to(m)


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
        layers.emerging,
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
        ("emerging", layers.emerging),
        ("venues", layers.venues),
        ("schools", layers.schools),
        ("stations", layers.stations),
        ("labels", layers.labels),
        ("streets", layers.streets),
        ("catchments", layers.catchments),
    ):
        if gdf is not None:
            check_frame(gdf, f"layers.{name}")
    bounds = _bounds_4326([layers.borough]) or _bounds_4326(frames)
    if bounds is None and layers.points is not None:
        xy = point_xy(layers.points, "layers.points")
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
    MapStyle(_CSS.format(map_id=m.get_name())).add_to(m)
    # Panes before any layer uses them: the area fills (380) under the density image (390),
    # both under Leaflet's overlay pane (400: hotspots, venues, points); labels above
    # markers and bubbles (640, below tooltips and popups).
    folium.map.CustomPane(AREAS_PANE, z_index=380, pointer_events=True).add_to(m)
    folium.map.CustomPane(DENSITY_PANE, z_index=390, pointer_events=False).add_to(m)
    folium.map.CustomPane(LABEL_PANE, z_index=640, pointer_events=False).add_to(m)
    if attribution:
        Attribution(esc(attribution)).add_to(m)

    if layers.streets is not None and len(layers.streets):
        # Under everything (Leaflet's tile pane); named from street zoom.
        add_streets(m, layers.streets, name=LAYER_NAMES["streets"])
    if layers.areas is not None:
        add_areas(m, layers)
    if layers.outlines is not None:
        add_outlines(m, layers.outlines)
    if layers.density is not None:
        add_density(m, layers)
    if layers.borough is not None:
        add_borough(m, layers.borough)
    if layers.change is not None:
        add_change(m, layers.change)
    if layers.emerging is not None:
        add_emerging(m, layers.emerging)
    if layers.hotspots is not None:
        add_hotspots(m, layers.hotspots)
    if layers.catchments is not None and len(layers.catchments):
        group = folium.FeatureGroup(name=LAYER_NAMES["catchments"])
        for _, row in layers.catchments.iterrows():
            add_walk_catchment(
                m,
                row.geometry,
                distance_m=float(row["distance_m"]),
                group=group,
                venue=str(row["name"]),
            )
        group.add_to(m)
    if layers.venues is not None:
        add_venues(m, layers)
    if layers.schools is not None:
        add_named_points(m, layers.schools, "schools", radius=4, colour="#2166ac")
    if layers.stations is not None:
        add_named_points(m, layers.stations, "stations", radius=6, colour="#252525")
    if layers.points is not None:
        add_points(
            m,
            layers.points,
            max_points=max_points,
            cluster_px=cluster_px,
            detail_zoom=detail_zoom,
            lat=centre[0],
        )
    if layers.area_names and (layers.areas is not None or layers.outlines is not None):
        add_area_names(m, layers.areas if layers.areas is not None else layers.outlines)
    if layers.labels is not None:
        add_labels(m, layers.labels)
    if layers.labels is not None or layers.hotspots is not None:
        ZoomBand().add_to(m)
    Declutter().add_to(m)
    for child in m._children.values():
        if getattr(child, "eh_key", None) in layers.hidden:
            child.show = False
    _one_legend(m, layers)

    # Collapsed: the map and its legend are what is read at a glance; the layer list
    # opens on hover or tap.
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    if bounds is not None:
        # Set at once, not animated: the labels' first pass (Declutter) then measures
        # the view the user sees, not a frame of a zoom in progress (a large area's
        # opening zoom had shown its names overlapping for a quarter of a second).
        fit = FitBounds(bounds, padding=(10, 10))
        fit.options["animate"] = False
        fit.add_to(m)
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
