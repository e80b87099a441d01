"""A map that reads at a glance, and streets on it (issue 13).

Checked on the page the builder writes: the layer control starts collapsed; one legend
explains every symbol drawn (area classes, density, hotspots and their rank numbers,
venues with their rings and walking catchments, incident bubbles and points, streets);
hotspot ranks are written on the hotspots; labels are decluttered in the browser; area
polygons carry a tooltip, not a popup, so a click goes to the map; a cluster bubble passes
its click on to the map; the streets fixture's 1,466 links are all in the streets layer.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from analysis.network import build_walk_network, venue_catchments
from geo.crs import BNG
from render.map import MapLayers, build_map

STREETS = Path("/work/shared/data/streets/os_open_roads_sample_southampton.geojson")


def _all_layers() -> MapLayers:
    """Every layer that draws a symbol, hand-made (six square wards in a row)."""
    areas = gpd.GeoDataFrame(
        {
            "code": [f"E0500000{i}" for i in range(6)],
            "name": [f"Ward {i}" for i in range(6)],
            "value": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        },
        geometry=[box(440_000 + 1000 * i, 115_000, 441_000 + 1000 * i, 116_000) for i in range(6)],
        crs=BNG,
    )
    hotspots = gpd.GeoDataFrame(
        {
            "rank": [1],
            "name": ["Market Street"],
            "count": [12],
            "share": [0.25],
            "area_m2": [31_416.0],
            "top_streets": ["Market Street"],
            "peak_months": ["2017-03"],
            "method": ["kde"],
        },
        geometry=[Point(442_500, 115_500).buffer(100)],
        crs=BNG,
    )
    points = pd.DataFrame(
        {
            "x": [442_500.0, 443_000.0],
            "y": [115_500.0, 115_600.0],
            "crime_type": ["Drugs", "Drugs"],
            "month": ["2017-03", "2017-03"],
            "location": ["On or near Market Street"] * 2,
        }
    )
    one = {"name": ["Hall"]}
    return MapLayers(
        borough=gpd.GeoDataFrame(geometry=[box(440_000, 115_000, 446_000, 116_000)], crs=BNG),
        areas=areas,
        hotspots=hotspots,
        change=hotspots.assign(status="new"),
        points=points,
        venues=gpd.GeoDataFrame(
            {**one, "status": ["running"]}, geometry=[Point(444_000, 115_500)], crs=BNG
        ),
        schools=gpd.GeoDataFrame(one, geometry=[Point(441_000, 115_200)], crs=BNG),
        stations=gpd.GeoDataFrame(one, geometry=[Point(445_000, 115_800)], crs=BNG),
        labels=gpd.GeoDataFrame(
            {"name": ["Eastleigh"]}, geometry=[Point(443_000, 115_500)], crs=BNG
        ),
    )


def _legends(html: str) -> dict[str, str]:
    """The sections of the map's one legend, by kind."""
    pattern = re.compile(
        r'L\.DomUtil\.create\("div", "eh-legend leaflet-control eh-legend-all"\);\s*'
        r"div\.innerHTML = (\".*?\");\n"
    )
    (text,) = pattern.findall(html)
    out = {}
    for chunk in json.loads(text).split('<div class="eh-legend-section eh-legend-')[1:]:
        name, _, inner = chunk.partition('">')
        out[name] = inner
    return out


def _html(layers: MapLayers) -> str:
    return build_map(layers).get_root().render()


def _catchments() -> gpd.GeoDataFrame:
    streets = gpd.GeoDataFrame(
        {
            "name": ["Market Street"],
            "road_class": ["local"],
            "start_node": ["a"],
            "end_node": ["b"],
            "length_m": [2000.0],
        },
        geometry=[LineString([(441_500, 115_500), (443_500, 115_500)])],
        crs=BNG,
    )
    venues = gpd.GeoDataFrame(
        {"name": ["Hall"]}, geometry=gpd.points_from_xy([442_500], [115_500]), crs=BNG
    )
    return venue_catchments(build_walk_network(streets), venues, 800)


def test_the_layer_control_starts_collapsed() -> None:
    html = _html(_all_layers())
    assert re.search(r'"collapsed":\s*true', html)
    assert not re.search(r'"collapsed":\s*false', html)


def test_one_legend_explains_every_symbol() -> None:
    layers = _all_layers()
    layers.catchments = _catchments()
    html = _html(layers)
    assert html.count('L.DomUtil.create("div", "eh-legend leaflet-control') == 1
    legend = _legends(html)
    for kind in ("areas", "hotspots", "ranks", "change", "venues", "incidents", "places"):
        assert kind in legend, kind
    assert "1 = most incidents" in legend["ranks"]
    assert "on foot along the streets" in legend["venues"]
    assert "in a straight line" in legend["venues"]
    assert "100+" in legend["incidents"]


def test_hotspot_ranks_are_written_on_the_hotspots() -> None:
    html = _html(_all_layers())
    assert re.findall(r'class=\\"eh-rank\\"\\u003e(\d+)\\u003c', html) == ["1"]


def test_labels_are_decluttered_and_area_polygons_have_no_popup() -> None:
    html = _html(_all_layers())
    assert "function declutter()" in html
    # The area layer (property "klass") is bound to a tooltip with its whole table and
    # to no popup, so a click anywhere in an area reaches the map.
    area_layer = re.search(
        r"var (geo_json_\w+) = L\.geoJson\(null, \{[^;]*?\}\);\s*"
        r"function \1_add \(data\) \{\s*\1\s*\.addData\(data\);\s*\}\s*"
        r"\1_add\((\{.*?\"klass\".*?\})\);",
        html,
        re.S,
    )
    assert area_layer, "no area layer"
    name = area_layer.group(1)
    assert f"{name}.bindTooltip(" in html
    assert f"{name}.bindPopup(" not in html


def test_cluster_bubbles_pass_their_click_to_the_map() -> None:
    html = _html(_all_layers())
    assert "bubblingMouseEvents: true" in html


@pytest.mark.skipif(not STREETS.exists(), reason="the streets fixture is absent")
def test_the_fixture_streets_are_all_drawn() -> None:
    from geo.streets import read_streets  # noqa: PLC0415

    streets = read_streets(STREETS)
    assert len(streets) == 1466
    html = _html(MapLayers(streets=streets))
    data = re.search(r"var data = (\{\"type\":\"FeatureCollection\".*?\});\n", html, re.S)
    assert data, "no streets GeoJSON on the page"
    assert len(json.loads(data.group(1))["features"]) == 1466
    assert "vectorGrid.slicer" in html
