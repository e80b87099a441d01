"""The layers of the map other than incident points, one function per layer.

Each ``add_*`` function draws one :class:`render.model.MapLayers` field into its own
layer group: the borough outline, area outlines, the choropleth with its legend, the
density overlay, hotspots (coloured by method), hotspot change (coloured by
:data:`CHANGE_COLOURS`), emerging hot spot bins (coloured by :data:`EMERGING_COLOURS`),
diversion venues with their reach rings, schools, stations,
place labels and area names. Every string from data is escaped before it reaches the
page. :func:`render.map.build_map` calls them.
"""

from __future__ import annotations

from collections.abc import Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops

from analysis.emerging import EMERGING_CLASSES
from geo.crs import BNG
from geo.errors import InputError
from render.colours import (
    CHANGE_COLOURS,
    CHANGE_STATUSES,
    DENSITY_ANCHORS,
    EMERGING_COLOURS,
    NO_DATA_COLOUR,
)
from render.elements import (
    LAYER_NAMES,
    HtmlControl,
    HtmlPopup,
    HtmlTooltip,
    TextLabels,
    check_frame,
    clean_polygons,
    geojson_features,
    layer_group,
    to_latlon,
    value_or_none,
)
from render.html import esc, fmt_number, fmt_share, popup_table
from render.legend import classify, legend_html
from render.model import MapLayers
from render.raster import density_image

__all__ = [
    "AREAS_PANE",
    "DENSITY_PANE",
    "LABEL_PANE",
    "add_area_names",
    "add_areas",
    "add_borough",
    "add_change",
    "add_density",
    "add_emerging",
    "add_hotspots",
    "add_labels",
    "add_named_points",
    "add_outlines",
    "add_venues",
]


LABEL_PANE = "ehLabels"
"""Leaflet pane of the place and area labels (z-index 640, above markers)."""

# Leaflet panes, bottom to top: the choropleth (380), the density image over it (390), then
# Leaflet's overlay pane (400: hotspots, outlines, venues, points), so the density is
# hidden neither under the area fills nor over the hotspots; labels on top (640).
AREAS_PANE = "ehAreas"
"""Leaflet pane of the choropleth fills (z-index 380)."""
DENSITY_PANE = "ehDensity"
"""Leaflet pane of the density image (z-index 390, over the fills, under hotspots)."""

_SMALL_KINDS = {"suburb", "village", "airport"}

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


# ------------------------------------------------------------------------ layers


def add_borough(m: folium.Map, borough: gpd.GeoDataFrame) -> None:
    """Draw the borough outline (a dark line, not interactive).

    Parameters
    ----------
    m : folium.Map
        The map.
    borough : geopandas.GeoDataFrame
        Outline polygon(s), EPSG:27700.

    Raises
    ------
    InputError
        If the frame is not in EPSG:27700.
    """
    check_frame(borough, "layers.borough")
    group = layer_group(m, "borough")
    gdf = clean_polygons(borough)
    data = geojson_features(gdf, [{} for _ in range(len(gdf))])
    folium.GeoJson(
        data,
        style_function=lambda _f: {"color": "#1a1a1a", "weight": 3, "fill": False, "opacity": 0.9},
        interactive=False,
    ).add_to(group)


def add_outlines(m: folium.Map, outlines: gpd.GeoDataFrame) -> None:
    """Draw plain area outlines with their names as tooltips.

    Parameters
    ----------
    m : folium.Map
        The map.
    outlines : geopandas.GeoDataFrame
        Polygons with ``name``, EPSG:27700.

    Raises
    ------
    InputError
        If the frame is not in EPSG:27700 or has no ``name``.
    """
    check_frame(outlines, "layers.outlines", ["name"])
    gdf = clean_polygons(outlines)
    props = [{"name": esc(v)} for v in gdf["name"]]
    group = layer_group(m, "outlines")
    folium.GeoJson(
        geojson_features(gdf, props),
        style_function=lambda _f: {
            "color": "#6b6b6b",
            "weight": 1.2,
            "fillOpacity": 0.0,
            "fill": True,
        },
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
    ).add_to(group)


def add_areas(m: folium.Map, layers: MapLayers) -> None:
    """Draw the choropleth of ``layers.areas`` with its legend.

    Parameters
    ----------
    m : folium.Map
        The map.
    layers : MapLayers
        Its ``areas``, ``value_label``, ``classification``, ``k`` and ``density`` are used.

    Raises
    ------
    InputError
        If the frame is not in EPSG:27700 or lacks ``code``, ``name``, ``value``.
    """
    areas = layers.areas
    assert areas is not None
    check_frame(areas, "layers.areas", ["code", "name", "value"])
    gdf = clean_polygons(areas).reset_index(drop=True)
    result = classify(gdf["value"].to_numpy(dtype=float), layers.classification, layers.k)
    props = []
    for i, row in gdf.iterrows():
        cls = int(result.classes[i])
        lo, hi = value_or_none(row, "ci_low"), value_or_none(row, "ci_high")
        ci = "" if lo is None or hi is None else f"{fmt_number(lo)} \u2013 {fmt_number(hi)}"
        props.append(
            {
                "code": esc(row["code"]),
                "name": esc(row["name"]),
                "value": fmt_number(row["value"]),
                "count": fmt_number(value_or_none(row, "count")),
                "rate": fmt_number(value_or_none(row, "rate_per_1000")),
                "ci": ci or "\u2013",
                "population": fmt_number(value_or_none(row, "population"), decimals=0),
                "klass": esc(result.labels[cls]) if cls >= 0 else "no data",
                "vs": _fmt_text(value_or_none(row, "vs_borough")),
                "fill": result.colours[cls] if cls >= 0 else NO_DATA_COLOUR,
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
    group = layer_group(m, "areas", name=f"{LAYER_NAMES['areas']}: {label}")
    # Fainter fills under a density layer, so that its colour scale is not mixed into theirs.
    fill_opacity = 0.62 if layers.density is None else 0.3
    folium.GeoJson(
        geojson_features(gdf, props),
        pane=AREAS_PANE,
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "fillOpacity": fill_opacity,
            "color": "#555555",
            "weight": 1.2,
        },
        highlight_function=lambda _f: {"weight": 3, "color": "#222222"},
        # A tooltip, not a popup: the whole table shows on hover, and a click anywhere
        # in the area goes to the map (the app opens the area's profile), with no popup
        # to close first or to cover the next area.
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
    ).add_to(group)
    rows = [
        (c, lab, f"({n})")
        for c, lab, n in zip(result.colours, result.labels, result.counts, strict=True)
    ]
    if (result.classes < 0).any():
        rows.append((NO_DATA_COLOUR, "no data", f"({int((result.classes < 0).sum())})"))
    scheme = layers.classification.replace("_", " ")
    title = f"{layers.value_label} ({scheme}, {len(result.bins)} classes)"
    faded = fill_opacity if layers.density is not None else None
    HtmlControl(legend_html(title, rows, opacity=faded), kind="areas").add_to(m)


def add_density(m: folium.Map, layers: MapLayers) -> None:
    """Draw ``layers.density`` as an image overlay with its colour-ramp legend.

    Parameters
    ----------
    m : folium.Map
        The map.
    layers : MapLayers
        Its ``density`` and ``density_label`` are used.

    Raises
    ------
    InputError
        If the surface is malformed (:func:`render.raster.density_image`).
    """
    assert layers.density is not None
    image = density_image(layers.density)
    group = layer_group(m, "density")
    (south, west), (north, east) = image.bounds
    folium.raster_layers.ImageOverlay(
        image=image.data_uri,
        bounds=[[south, west], [north, east]],
        opacity=0.85,
        pixelated=True,
        interactive=False,
        pane=DENSITY_PANE,
    ).add_to(group)
    ramp = ", ".join(DENSITY_ANCHORS)
    legend = (
        f'<div class="eh-legend-title">{esc(layers.density_label)}</div>'
        f'<div>low <span class="eh-ramp" style="background:linear-gradient(to right, {ramp})">'
        "</span> high</div>"
    )
    HtmlControl(legend, position="bottomleft", kind="density").add_to(m)


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


def add_hotspots(m: folium.Map, hotspots: gpd.GeoDataFrame) -> None:
    """Draw hotspot polygons coloured by method, with tooltips, popups and a legend.

    Parameters
    ----------
    m : folium.Map
        The map.
    hotspots : geopandas.GeoDataFrame
        Hotspots as :class:`MapLayers` describes them.

    Raises
    ------
    InputError
        If the frame is not in EPSG:27700.
    """
    check_frame(hotspots, "layers.hotspots")
    gdf = clean_polygons(hotspots).reset_index(drop=True)
    methods = sorted({str(v) for v in gdf["method"]}) if "method" in gdf.columns else []
    props, fields, aliases = _field_props(gdf, _HOTSPOT_FIELDS)
    for prop, method in zip(props, gdf["method"] if methods else [None] * len(gdf), strict=True):
        prop["colour"] = _method_colour(method, methods) if methods else _METHOD_COLOURS["kde"]
    group = layer_group(m, "hotspots")
    if props:
        tip = [(f, a) for f, a in zip(fields, aliases, strict=True) if f in _TIP_FIELDS]
        folium.GeoJson(  # the halo: a wide white line under the coloured outline
            geojson_features(gdf, [{} for _ in props]),
            style_function=lambda _f: {
                "color": "#ffffff",
                "weight": 6,
                "opacity": 0.85,
                "fill": False,
            },
            interactive=False,
        ).add_to(group)
        folium.GeoJson(
            geojson_features(gdf, props),
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
        if "rank" in gdf.columns:
            _rank_numbers(group, gdf)
    if methods:
        rows = [(_method_colour(mth, methods), mth, "") for mth in methods]
        HtmlControl(legend_html("Hotspots by method", rows, swatch="line"), kind="hotspots").add_to(
            m
        )


def _rank_numbers(group: folium.FeatureGroup, gdf: gpd.GeoDataFrame) -> None:
    """Write each hotspot's rank inside it (in the label pane, never catching the mouse).

    The ten highest ranks show at every zoom, the others from zoom 14 in.
    """
    ranks = pd.to_numeric(gdf["rank"], errors="coerce")
    anchors = gpd.GeoSeries(
        [shapely.ops.polylabel(_largest_part(g), tolerance=5.0) for g in gdf.geometry],
        crs=gdf.crs,
    )
    items = []
    for rank, (lat, lon) in zip(ranks, to_latlon(anchors), strict=True):
        if pd.notna(rank):
            # Beyond the ten highest, ranks are written only from zoom 14 (CSS, ZoomBand).
            css = "eh-rank" if int(rank) <= 10 else "eh-rank eh-rank-minor"
            items.append((lat, lon, f'<div class="{css}">{int(rank)}</div>'))
    _labels(group, items)


_TIP_FIELDS = {"p_rank", "p_status", "p_name", "p_count", "p_count_after"}


def add_change(m: folium.Map, change: gpd.GeoDataFrame) -> None:
    """Draw hotspot change coloured by :data:`CHANGE_COLOURS`, with a legend.

    Parameters
    ----------
    m : folium.Map
        The map.
    change : geopandas.GeoDataFrame
        Polygons with ``status`` (one of :data:`CHANGE_STATUSES`).

    Raises
    ------
    InputError
        If the frame is not in EPSG:27700 or a status is not known.
    """
    check_frame(change, "layers.change", ["status"])
    gdf = clean_polygons(change).reset_index(drop=True)
    gdf["status"] = gdf["status"].astype(str).str.strip().str.lower()
    unknown = sorted(set(gdf["status"]) - set(CHANGE_STATUSES))
    if unknown:
        msg = f"layers.change: status values {unknown} are not known; use {list(CHANGE_STATUSES)}."
        raise InputError(msg)
    props, fields, aliases = _field_props(gdf, _CHANGE_FIELDS)
    for prop, status in zip(props, gdf["status"], strict=True):
        prop["colour"] = CHANGE_COLOURS[status]
        prop["gone"] = status == "gone"
    group = layer_group(m, "change")
    if props:
        tip = [(f, a) for f, a in zip(fields, aliases, strict=True) if f in _TIP_FIELDS]
        folium.GeoJson(
            geojson_features(gdf, props),
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
    HtmlControl(legend_html("Hotspot change", rows), kind="change").add_to(m)


def _fmt_z(value: object) -> str:
    if value is None or pd.isna(value):
        return "\u2013"
    return f"{float(value):+.2f}"  # type: ignore[arg-type]


# (column, label, formatter) of the emerging hot spot tooltips; a column the frame lacks
# is left out. ``count`` may hold a withheld marker (text), which fmt_number escapes.
_EMERGING_FIELDS = (
    ("class", "Pattern", _fmt_text),
    ("count", "Incidents", _fmt_int),
    ("hot_months", "Months hot", _fmt_int),
    ("cold_months", "Months cold", _fmt_int),
    ("trend_z", "Trend z", _fmt_z),
)

_NO_PATTERN = "no pattern detected"


def add_emerging(m: folium.Map, emerging: gpd.GeoDataFrame) -> None:
    """Draw emerging hot spot bins coloured by :data:`EMERGING_COLOURS`, with a legend.

    Bins with "no pattern detected" are not drawn. The legend lists the classes drawn,
    hot first, each with its number of bins.

    Parameters
    ----------
    m : folium.Map
        The map.
    emerging : geopandas.GeoDataFrame
        Bins with ``class`` (one of :data:`analysis.emerging.EMERGING_CLASSES`) and
        optionally ``count``, ``hot_months``, ``cold_months``, ``trend_z``.

    Raises
    ------
    InputError
        If the frame is not in EPSG:27700, has no ``class`` or a class is not known.
    """
    check_frame(emerging, "layers.emerging", ["class"])
    gdf = clean_polygons(emerging).reset_index(drop=True)
    gdf["class"] = gdf["class"].astype(str).str.strip().str.lower()
    unknown = sorted(set(gdf["class"]) - set(EMERGING_CLASSES))
    if unknown:
        msg = (
            f"layers.emerging: column 'class' values {unknown} are not known; "
            f"use {list(EMERGING_CLASSES)}."
        )
        raise InputError(msg)
    gdf = gdf[gdf["class"] != _NO_PATTERN].reset_index(drop=True)
    props, fields, aliases = _field_props(gdf, _EMERGING_FIELDS)
    for prop, klass in zip(props, gdf["class"], strict=True):
        prop["colour"] = EMERGING_COLOURS[klass]
    group = layer_group(m, "emerging")
    if props:
        folium.GeoJson(
            geojson_features(gdf, props),
            style_function=lambda f: {
                "stroke": False,
                "fillColor": f["properties"]["colour"],
                "fillOpacity": 0.6,
            },
            highlight_function=lambda _f: {
                "stroke": True,
                "color": "#222222",
                "weight": 2,
                "fillOpacity": 0.8,
            },
            tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
        ).add_to(group)
    counts = gdf["class"].value_counts()
    rows = [
        (EMERGING_COLOURS[c], c, f"({int(counts[c])} bin{'s' * (int(counts[c]) != 1)})")
        for c in EMERGING_COLOURS
        if c in counts.index
    ]
    legend = legend_html("Emerging hot spots", rows, opacity=0.6)
    if not rows:
        legend += '<div class="eh-n">no hot or cold spot</div>'
    HtmlControl(legend, kind="emerging").add_to(m)


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


def add_venues(m: folium.Map, layers: MapLayers) -> None:
    """Draw diversion venues and their reach rings.

    Parameters
    ----------
    m : folium.Map
        The map.
    layers : MapLayers
        Its ``venues`` and ``venue_rings_m`` are used.

    Raises
    ------
    InputError
        If the frame is not in EPSG:27700 or has no ``name``.
    """
    venues = layers.venues
    assert venues is not None
    check_frame(venues, "layers.venues", ["name"])
    gdf = venues[venues.geometry.notna()].reset_index(drop=True)
    group = layer_group(m, "venues")
    rings_default = tuple(float(r) for r in layers.venue_rings_m)
    centres = gdf.geometry.representative_point()
    for (_, row), latlon in zip(gdf.iterrows(), to_latlon(centres), strict=True):
        status = str(value_or_none(row, "status") or "").strip().lower()
        colour = _VENUE_COLOURS.get(status, "#1b7837")
        rings = value_or_none(row, "rings_m")
        radii = (
            rings_default
            if rings is None or (np.ndim(rings) == 0 and pd.isna(rings))
            else tuple(float(r) for r in rings)
        )
        name = value_or_none(row, "name")
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
            HtmlTooltip(f"Within {fmt_number(radius_m)} m of {esc(name)}").add_to(circle)
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
        HtmlPopup(popup_table(rows, title=name)).add_to(marker)
        HtmlTooltip(esc(name)).add_to(marker)
        marker.add_to(group)


def add_named_points(
    m: folium.Map, gdf: gpd.GeoDataFrame, key: str, *, radius: float, colour: str
) -> None:
    """Draw named points (schools, stations) as circle markers with tooltips.

    Parameters
    ----------
    m : folium.Map
        The map.
    gdf : geopandas.GeoDataFrame
        Points with ``name`` (optional ``phase``, ``kind``, ``type``).
    key : str
        The layer (a key of :data:`render.elements.LAYER_NAMES`).
    radius : float
        Marker radius, pixels.
    colour : str
        Fill colour.

    Raises
    ------
    InputError
        If the frame is not in EPSG:27700 or has no ``name``.
    """
    check_frame(gdf, f"layers.{key}", ["name"])
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
    group = layer_group(m, key)
    if props:
        folium.GeoJson(
            geojson_features(pts, props),
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


def add_labels(m: folium.Map, labels: gpd.GeoDataFrame) -> None:
    """Draw place names as text labels, minor ones smaller and only when zoomed in.

    Parameters
    ----------
    m : folium.Map
        The map.
    labels : geopandas.GeoDataFrame
        Points or polygons with ``name`` (optional ``kind``, ``size``).

    Raises
    ------
    InputError
        If the frame is not in EPSG:27700 or has no ``name``.
    """
    check_frame(labels, "layers.labels", ["name"])
    clean = labels[labels.geometry.notna() & ~labels.geometry.is_empty].reset_index(drop=True)
    group = layer_group(m, "labels")
    anchors = clean.geometry.representative_point()
    items = []
    for (_, row), (lat, lon) in zip(clean.iterrows(), to_latlon(anchors), strict=True):
        kind = str(value_or_none(row, "kind") or "").lower()
        css = "eh-label"
        if kind == "station":
            css += " eh-small eh-right eh-station"
        elif str(value_or_none(row, "size") or "").lower() == "small" or kind in _SMALL_KINDS:
            css += " eh-small eh-minor"
        items.append((lat, lon, f'<div class="{css}">{esc(row["name"])}</div>'))
    _labels(group, items)


def _labels(group: folium.FeatureGroup, items: list[tuple[float, float, str]]) -> None:
    """Text labels ``(lat, lon, html)`` in the label pane, never catching the mouse.

    The HTML is escaped by the caller.
    """
    if items:
        TextLabels(items, pane=LABEL_PANE).add_to(group)


def add_area_names(m: folium.Map, areas: gpd.GeoDataFrame) -> None:
    """Label each area with its name in small grey capitals, inside its largest part.

    Parameters
    ----------
    m : folium.Map
        The map.
    areas : geopandas.GeoDataFrame
        Polygons with ``name``.
    """
    gdf = clean_polygons(areas).reset_index(drop=True)
    group = layer_group(m, "area_names")
    anchors = gpd.GeoSeries(
        [shapely.ops.polylabel(_largest_part(g), tolerance=10.0) for g in gdf.geometry], crs=gdf.crs
    )
    _labels(
        group,
        [
            (lat, lon, f'<div class="eh-label eh-area">{esc(name)}</div>')
            for name, (lat, lon) in zip(gdf["name"], to_latlon(anchors), strict=True)
        ],
    )


def _largest_part(geom: shapely.Geometry) -> shapely.Polygon:
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon)]
    return max(parts, key=lambda p: p.area)
