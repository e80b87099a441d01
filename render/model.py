"""What a map is drawn from: :class:`MapLayers`, one field per layer.

Kept in a module of its own so that :mod:`render.layers` (which draws each field) and
:mod:`render.map` (which builds the map from all of them) both import it without
importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from render.raster import DensitySurfaceLike

__all__ = ["MapLayers"]


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
    emerging
        Emerging hot spot bins (as :attr:`analysis.emerging.EmergingResult.cells`) with
        a ``class`` column (one of :data:`analysis.emerging.EMERGING_CLASSES`) and
        optionally ``count`` (incidents, or a withheld marker), ``hot_months``,
        ``cold_months`` and ``trend_z``; coloured by
        :data:`render.colours.EMERGING_COLOURS`. Bins with "no pattern detected" are
        not drawn.
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
    streets
        Road links (from :func:`geo.streets.read_streets`) drawn under everything else
        as an offline vector layer, named at street zoom (:func:`render.streets.add_streets`).
    catchments
        Walking catchments with ``name`` and ``distance_m`` (as
        :func:`analysis.network.venue_catchments` makes them), each drawn with its
        straight-line circle around the venue (``x``, ``y`` columns, metres).
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
    emerging: gpd.GeoDataFrame | None = None
    points: pd.DataFrame | None = None
    venues: gpd.GeoDataFrame | None = None
    venue_rings_m: tuple[float, ...] = field(default=(400.0, 800.0))
    schools: gpd.GeoDataFrame | None = None
    stations: gpd.GeoDataFrame | None = None
    labels: gpd.GeoDataFrame | None = None
    streets: gpd.GeoDataFrame | None = None
    catchments: gpd.GeoDataFrame | None = None
    area_names: bool = True
    hidden: tuple[str, ...] = ("schools",)
