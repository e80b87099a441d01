"""The folium map builder, tested on its HTML with hand-made layers (no Streamlit)."""

from __future__ import annotations

import json
import re
import struct
import types
import warnings
import zlib

import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import GeometryCollection, LineString, Point, box

from geo.errors import InputError
from render.html import esc, fmt_number, fmt_share, popup_table
from render.leaflet_offline import remote_assets
from render.map import (
    CHANGE_COLOURS,
    CHANGE_STATUSES,
    LAYER_NAMES,
    MapLayers,
    build_map,
    classify,
    cluster_cell_sizes,
    density_image,
)

BNG = "EPSG:27700"
TO_LL = Transformer.from_crs(BNG, "EPSG:4326", always_xy=True)
MERC_TO_BNG = Transformer.from_crs("EPSG:3857", BNG, always_xy=True)
LL_TO_MERC = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)

XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_IMG_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
YLORRD_5 = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]


# ------------------------------------------------------------------------ helpers


def _html(layers: MapLayers, **kwargs) -> str:
    return build_map(layers, **kwargs).get_root().render()


def _decoded(html: str) -> str:
    """The page with JSON string escapes undone, as the browser's strings would hold."""
    html = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)
    return html.replace('\\"', '"').replace("\\/", "/")


def _text_labels(html: str) -> list[list]:
    """Every text label of a page: ``[lat, lon, html]`` (from each TextLabels' list)."""
    out = []
    for line in html.splitlines():
        match = re.match(r"\s*var labels = (\[.*\]);\s*$", line)
        if match:
            out += json.loads(match.group(1))
    return out


def _geojson_payloads(html: str) -> list[dict]:
    out = []
    for line in html.splitlines():
        match = re.match(r"\s*geo_json_\w+_add\((\{.*\})\);\s*$", line)
        if match:
            out.append(json.loads(match.group(1)))
    return out


def _payload_with(html: str, key: str) -> dict:
    found = [
        p
        for p in _geojson_payloads(html)
        if p["features"] and key in p["features"][0]["properties"]
    ]
    assert len(found) == 1, f"expected one GeoJSON layer with property {key!r}"
    return found[0]


def _legends(html: str) -> dict[str, str]:
    pattern = re.compile(
        r'L\.DomUtil\.create\("div", "eh-legend leaflet-control eh-legend-(\w+)"\);\s*'
        r"div\.innerHTML = (\".*?\");\n"
    )
    out = {}
    for kind, text in pattern.findall(html):
        content = json.loads(text)
        if kind != "all":
            out[kind] = content
            continue
        # The one legend of the map: a section per layer, ``eh-legend-<kind>``.
        for chunk in content.split('<div class="eh-legend-section eh-legend-')[1:]:
            name, _, inner = chunk.partition('">')
            out[name] = inner.removesuffix("</div>")
    return out


def _legend_rows(legend_html: str) -> list[str]:
    rows = re.findall(r'<span class="eh-sw"[^>]*></span>(.*?)</div>', legend_html)
    return [re.sub(r"<[^>]+>", "", r) for r in rows]


def _bubble_layers(html: str) -> list[list[list]]:
    return [json.loads(a) for a in re.findall(r"\}\)\(feature_group_\w+, (\[\[.*?\]\])\);", html)]


def _squares(values, *, names=None) -> gpd.GeoDataFrame:
    n = len(values)
    return gpd.GeoDataFrame(
        {
            "code": [f"E0500000{i}" for i in range(n)],
            "name": names or [f"Ward {i}" for i in range(n)],
            "value": values,
            "count": [10 * i for i in range(n)],
            "rate_per_1000": values,
            "ci_low": [v - 1 for v in values],
            "ci_high": [v + 1 for v in values],
            "population": [2000] * n,
        },
        geometry=[box(440_000 + 1000 * i, 115_000, 441_000 + 1000 * i, 116_000) for i in range(n)],
        crs=BNG,
    )


def _grid(values: np.ndarray, x0=445_000.0, y0=115_000.0, cell_m=100.0):
    ny, nx = values.shape
    return types.SimpleNamespace(
        values=values, grid=types.SimpleNamespace(x0=x0, y0=y0, cell_m=cell_m, nx=nx, ny=ny)
    )


def _decode_png(png: bytes) -> np.ndarray:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        tag, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(tag + data) & 0xFFFFFFFF
        if tag == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", data[:10])
            assert (depth, colour) == (8, 6)  # 8-bit RGBA
        elif tag == b"IDAT":
            idat += data
        pos += 12 + length
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, width * 4 + 1)
    assert (raw[:, 0] == 0).all()  # filter type "none" on every row
    return raw[:, 1:].reshape(height, width, 4)


def _all_layers(hostile: str = "Plain") -> MapLayers:
    """Every layer, hand-made, with ``hostile`` in every string that comes from data."""
    areas = _squares([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], names=[hostile] * 6)
    borough = gpd.GeoDataFrame(geometry=[box(440_000, 115_000, 446_000, 116_000)], crs=BNG)
    hotspots = gpd.GeoDataFrame(
        {
            "rank": [1],
            "name": [hostile],
            "count": [12],
            "share": [0.25],
            "area_m2": [31_416.0],
            "top_streets": [hostile],
            "peak_months": [hostile],
            "method": ["kde"],
        },
        geometry=[Point(442_500, 115_500).buffer(100)],
        crs=BNG,
    )
    change = hotspots.assign(status="new")
    # An emerging hot spot bin whose (withheld) count is text from data.
    emerging = gpd.GeoDataFrame(
        {"class": ["persistent hot spot"], "count": [hostile], "hot_months": [4]},
        geometry=[box(443_600, 115_200, 443_800, 115_400)],
        crs=BNG,
    )
    points = pd.DataFrame(
        {
            "x": [442_500.0, 442_500.0, 443_000.0],
            "y": [115_500.0, 115_500.0, 115_600.0],
            "crime_type": [hostile, "Drugs", "Drugs"],
            "month": ["2017-03", "2017-03", hostile],
            "location": [hostile, hostile, "On or near Market Street"],
        }
    )
    venues = gpd.GeoDataFrame(
        {"name": [hostile], "status": ["existing"], "hours": [hostile], "attendance": [50]},
        geometry=[Point(444_000, 115_500)],
        crs=BNG,
    )
    schools = gpd.GeoDataFrame({"name": [hostile]}, geometry=[Point(441_000, 115_200)], crs=BNG)
    stations = gpd.GeoDataFrame({"name": [hostile]}, geometry=[Point(445_000, 115_800)], crs=BNG)
    labels = gpd.GeoDataFrame({"name": [hostile]}, geometry=[Point(443_000, 115_500)], crs=BNG)
    outlines = areas[["name", "geometry"]]
    density = _grid(np.arange(60, dtype=float).reshape(6, 10), x0=440_000.0, cell_m=200.0)
    return MapLayers(
        borough=borough,
        outlines=outlines,
        areas=areas,
        value_label=hostile,
        density=density,
        density_label=hostile,
        hotspots=hotspots,
        change=change,
        emerging=emerging,
        points=points,
        venues=venues,
        schools=schools,
        stations=stations,
        labels=labels,
    )


# ------------------------------------------------------------------ render.html


def test_esc_escapes_markup_quotes_and_missing_values() -> None:
    assert esc(XSS_SCRIPT) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert esc(XSS_IMG) == XSS_IMG_ESCAPED
    assert esc("\"'&") == "&quot;&#x27;&amp;"
    assert esc(None) == esc(float("nan")) == esc(pd.NA) == ""
    assert esc(3) == "3"


def test_popup_table_escapes_labels_values_and_title() -> None:
    html = popup_table([("<b>", XSS_IMG), ("Missing", None)], title=XSS_SCRIPT)
    assert "<img" not in html and "<script" not in html and "<b>" not in html
    assert XSS_IMG_ESCAPED in html
    assert "<th>Missing</th><td>\u2013</td>" in html


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (10.0, "10"),
        (2.8, "2.8"),
        (12345, "12,345"),
        (28.9644, "28.96"),
        (None, "\u2013"),
        ("x<", "x&lt;"),
    ],
)
def test_fmt_number(value, expected: str) -> None:
    assert fmt_number(value) == expected


def test_fmt_share() -> None:
    assert fmt_share(0.125) == "12.5%"
    assert fmt_share(float("nan")) == "\u2013"


# --------------------------------------------------------------- classification


def test_quantiles_of_one_to_ten_in_five_classes() -> None:
    # numpy's linear percentiles of 1..10 at 20, 40, 60, 80, 100 %: 1 + 9 * p.
    c = classify(list(range(1, 11)), "quantiles", 5)
    assert c.bins == pytest.approx([2.8, 4.6, 6.4, 8.2, 10.0])
    assert c.labels == (
        "1 \u2013 2.8",
        "2.8 \u2013 4.6",
        "4.6 \u2013 6.4",
        "6.4 \u2013 8.2",
        "8.2 \u2013 10",
    )
    assert c.counts == (2, 2, 2, 2, 2)
    assert list(c.colours) == YLORRD_5
    assert c.classes.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_equal_interval_and_natural_breaks() -> None:
    assert classify(list(range(0, 11)), "equal_interval", 5).bins == pytest.approx([2, 4, 6, 8, 10])
    # Three obvious groups: Fisher-Jenks puts the breaks at the top of each group.
    groups = [1, 2, 3, 20, 21, 22, 50, 51]
    c = classify(groups, "natural_breaks", 3)
    assert c.bins == pytest.approx([3, 22, 51])
    assert c.classes.tolist() == [0, 0, 0, 1, 1, 1, 2, 2] and c.counts == (3, 3, 2)


@pytest.mark.parametrize("seed", range(6))
def test_natural_breaks_are_mapclassify_fisher_jenks(seed: int) -> None:
    # Rates with ties (rounded) and a long tail, as area rates are.
    rng = np.random.default_rng(seed)
    y = np.round(rng.gamma(1.5, 12.0, int(rng.integers(40, 400))), seed % 3)
    k = 3 + seed % 5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # mapclassify: numba is missing
        want = mapclassify.FisherJenks(y, k=k)
    c = classify(y, "natural_breaks", k)
    assert c.bins == pytest.approx(want.bins.tolist())
    assert c.classes.tolist() == want.yb.tolist()


def test_missing_values_are_no_data_and_k_shrinks_to_distinct_values() -> None:
    c = classify([1.0, float("nan"), 1.0, 2.0], "quantiles", 5)
    assert c.classes.tolist() == [0, -1, 0, 1]
    assert len(c.bins) == 2
    empty = classify([float("nan")], "quantiles", 5)
    assert empty.bins == () and empty.classes.tolist() == [-1]


@pytest.mark.parametrize(
    ("scheme", "k", "match"), [("jenks", 5, "natural_breaks"), ("quantiles", 12, "1 and 9")]
)
def test_bad_classification_is_refused(scheme: str, k: int, match: str) -> None:
    with pytest.raises(InputError, match=match):
        classify([1, 2, 3], scheme, k)


# ------------------------------------------------------------------- choropleth


def test_legend_lists_k_classes_with_the_quantile_breaks() -> None:
    html = _html(
        MapLayers(areas=_squares([float(v) for v in range(1, 11)]), value_label="ASB per 1,000")
    )
    legend = _legends(html)["areas"]
    assert "ASB per 1,000 (quantiles, 5 classes)" in legend
    assert _legend_rows(legend) == [
        "1 \u2013 2.8 (2)",
        "2.8 \u2013 4.6 (2)",
        "4.6 \u2013 6.4 (2)",
        "6.4 \u2013 8.2 (2)",
        "8.2 \u2013 10 (2)",
    ]
    fills = [f["properties"]["fill"] for f in _payload_with(html, "fill")["features"]]
    assert fills == [c for c in YLORRD_5 for _ in range(2)]


def test_area_without_a_value_is_grey_and_counted_as_no_data() -> None:
    html = _html(MapLayers(areas=_squares([1.0, 2.0, float("nan")])))
    props = [f["properties"] for f in _payload_with(html, "fill")["features"]]
    assert props[2]["fill"] == "#d9d9d9" and props[2]["klass"] == "no data"
    assert _legend_rows(_legends(html)["areas"])[-1] == "no data (1)"


def test_area_popup_shows_rate_interval_and_population() -> None:
    areas = _squares([28.964, 5.0]).assign(vs_borough=["higher", "not different"])
    html = _html(MapLayers(areas=areas))
    first = _payload_with(html, "fill")["features"][0]["properties"]
    assert first["value"] == "28.96" and first["ci"] == "27.96 \u2013 29.96"
    assert first["population"] == "2,000" and first["code"] == "E05000000"
    assert first["vs"] == "higher"
    assert '"Rate vs borough"' in html


def test_geometry_collection_slivers_are_dropped_from_polygons() -> None:
    areas = _squares([1.0, 2.0])
    areas.loc[0, "geometry"] = GeometryCollection(
        [
            box(440_000, 115_000, 441_000, 116_000),
            LineString([(441_000, 115_000), (441_500, 115_000)]),
        ]
    )
    html = _html(MapLayers(areas=areas))
    types_ = [f["geometry"]["type"] for f in _payload_with(html, "fill")["features"]]
    assert types_ == ["Polygon", "Polygon"]


# ------------------------------------------------------------ layers and safety


def test_every_layer_is_named_in_the_layer_control() -> None:
    html = _html(_all_layers())
    expected = [
        v for k, v in LAYER_NAMES.items() if k not in {"areas", "streets", "catchments"}
    ] + ["Areas: Plain"]
    for name in expected:
        assert f"{json.dumps(name)} : feature_group_" in html, name
    assert html.count("L.control.layers(") == 1


def test_density_is_drawn_over_the_area_fills_and_under_the_hotspots() -> None:
    html = _html(_all_layers())
    z = {
        name: int(v)
        for name, v in re.findall(r'createPane\(\s*"(\w+)"\);\s*\w+\.style\.zIndex = (\d+);', html)
    }
    # Leaflet's overlay pane (hotspots, venues, points) is at 400.
    assert z["ehAreas"] < z["ehDensity"] < 400 < z["ehLabels"], z
    assert re.search(r'"pane": "ehAreas"', html) and re.search(r'"pane": "ehDensity"', html)


def test_strings_from_data_appear_only_escaped() -> None:
    decoded = _decoded(_html(_all_layers(XSS_IMG)))
    assert "<img src=x" not in decoded
    assert decoded.count("onerror=") == decoded.count(XSS_IMG_ESCAPED) > 10
    decoded = _decoded(_html(_all_layers(XSS_SCRIPT)))
    assert "<script>alert" not in decoded
    assert decoded.count("&lt;script&gt;alert(1)&lt;/script&gt;") > 10


def test_map_with_every_layer_loads_nothing_remote() -> None:
    html = _html(_all_layers())
    assert remote_assets(html) == []
    assert "$(" not in html  # no jQuery needed


def test_map_fits_the_borough_and_does_not_change_the_input() -> None:
    layers = _all_layers()
    before = layers.areas.copy()
    html = _html(layers)
    lon0, lat0 = TO_LL.transform(440_000, 115_000)
    lon1, lat1 = TO_LL.transform(446_000, 116_000)
    match = re.search(r"\.fitBounds\(\s*(\[\[.*?\]\]),\s*(\{.*?\})", html, re.S)
    (south, west), (north, east) = json.loads(match.group(1))
    assert json.loads(match.group(2))["animate"] is False  # the first view is set at once
    # A BNG box is a slightly rotated quadrilateral in lon/lat: compare to its corners.
    corners_lon, corners_lat = TO_LL.transform(
        [440_000, 446_000, 440_000, 446_000], [115_000, 115_000, 116_000, 116_000]
    )
    assert (south, west, north, east) == pytest.approx(
        (min(corners_lat), min(corners_lon), max(corners_lat), max(corners_lon)), abs=1e-9
    )
    assert south < min(lat0, lat1) + 1e-3 and north > max(lat0, lat1) - 1e-3
    pd.testing.assert_frame_equal(layers.areas, before)
    assert layers.areas.crs == BNG


@pytest.mark.parametrize("field", ["borough", "areas", "hotspots", "venues", "labels", "points"])
def test_frames_not_in_british_national_grid_are_refused(field: str) -> None:
    layers = _all_layers()
    frame = getattr(layers, field)
    if not isinstance(frame, gpd.GeoDataFrame):
        frame = gpd.GeoDataFrame(
            frame, geometry=gpd.points_from_xy(frame["x"], frame["y"]), crs=BNG
        )
    setattr(layers, field, frame.to_crs(4326))
    with pytest.raises(InputError, match="EPSG:27700"):
        build_map(layers)


def test_missing_column_names_the_layer_and_the_fix() -> None:
    with pytest.raises(InputError, match=r"layers\.areas.*'value'.*Rename"):
        build_map(MapLayers(areas=_squares([1.0, 2.0]).drop(columns="value")))


# ---------------------------------------------------------------------- density


def test_density_overlay_bounds_are_the_projected_grid_corners() -> None:
    surface = _grid(np.ones((10, 20)))  # 2 km x 1 km from (445000, 115000)
    image = density_image(surface)
    lon, lat = TO_LL.transform(
        [445_000, 447_000, 445_000, 447_000], [115_000, 115_000, 116_000, 116_000]
    )
    assert image.bounds == ((min(lat), min(lon)), (max(lat), max(lon)))
    # The grid is rotated against the meridians, so the bounding box is wider than the
    # grid's own south edge: the south-east corner lies south of the south-west one.
    assert lat[1] < lat[0]
    html = _html(MapLayers(density=surface))
    match = re.search(
        r'L\.imageOverlay\(\s*"data:image/png;base64,[^"]+",\s*(\[\[.*?\]\])', html, re.S
    )
    assert json.loads(match.group(1)) == [[min(lat), min(lon)], [max(lat), max(lon)]]
    assert image.data_uri in html


def test_density_pixels_show_the_cell_under_them() -> None:
    # A 10 km grid with one hot cell 9 km north-east of its origin: placing the grid's
    # own image in the lon/lat box would put this cell about 80 m off (grid convergence).
    values = np.zeros((100, 100))
    values[90, 95] = 1.0  # row 90 from the south, column 95 from the west
    image = density_image(_grid(values, x0=440_000.0, y0=110_000.0), oversample=2)
    rgba = _decode_png(image.png)
    assert rgba.shape == (image.height, image.width, 4)
    (south, west), (north, east) = image.bounds
    mx0, my0 = LL_TO_MERC.transform(west, south)
    mx1, my1 = LL_TO_MERC.transform(east, north)
    rows, cols = np.nonzero(rgba[..., 3])
    assert 2 <= len(rows) <= 9  # about 2 x 2 pixels per 100 m cell
    # Leaflet stretches the image linearly in Web Mercator between the bounds.
    px = mx0 + (cols + 0.5) * (mx1 - mx0) / image.width
    py = my1 - (rows + 0.5) * (my1 - my0) / image.height
    e, n = MERC_TO_BNG.transform(px, py)
    assert ((e >= 449_500) & (e < 449_600)).all()
    assert ((n >= 119_000) & (n < 119_100)).all()
    # The pixel under the cell's centre is drawn.
    cx, cy = LL_TO_MERC.transform(*TO_LL.transform(449_550, 119_050))
    col = int((cx - mx0) / (mx1 - mx0) * image.width)
    row = int((my1 - cy) / (my1 - my0) * image.height)
    assert rgba[row, col, 3] > 0


def test_density_with_the_wrong_shape_is_refused() -> None:
    surface = _grid(np.ones((10, 20)))
    surface.grid.nx = 21
    with pytest.raises(InputError, match="shape"):
        density_image(surface)
    with pytest.raises(InputError, match="grid"):
        density_image(types.SimpleNamespace(values=np.ones((2, 2))))


# -------------------------------------------------------------- hotspots, change


def test_hotspot_popup_fields_follow_the_columns_present() -> None:
    hotspots = _all_layers().hotspots.assign(top_types="Drugs 3", wards="Eastleigh Central")
    html = _html(MapLayers(hotspots=hotspots))
    props = _payload_with(html, "p_top_streets")["features"][0]["properties"]
    assert props["p_share"] == "25.0%" and props["p_area_m2"] == "31,416 m\u00b2"
    assert props["p_top_types"] == "Drugs 3" and props["p_wards"] == "Eastleigh Central"
    assert props["colour"] == "#08306b"  # KDE: dark blue over a white halo
    assert "p_peak_hours" not in props  # column absent: not shown


def test_change_statuses_are_coloured_and_listed_in_the_legend() -> None:
    geoms = [Point(442_000 + 500 * i, 115_500).buffer(100) for i in range(3)]
    change = gpd.GeoDataFrame(
        {
            "status": ["new", "Gone", "new"],
            "name": ["A", "B", "C"],
            "count_before": [0, 9, 1],
            "count_after": [5, 0, 4],
            "change_pct": [np.nan, -100.0, 300.0],
            "p_value": [0.01, 0.0001, 0.2],
        },
        geometry=geoms,
        crs=BNG,
    )
    html = _html(MapLayers(change=change))
    props = [f["properties"] for f in _payload_with(html, "p_status")["features"]]
    assert [p["colour"] for p in props] == [
        CHANGE_COLOURS["new"],
        CHANGE_COLOURS["gone"],
        CHANGE_COLOURS["new"],
    ]
    assert [p["p_change_pct"] for p in props] == ["\u2013", "-100%", "+300%"]
    assert props[1]["p_p_value"] == "< 0.001" and props[1]["gone"] is True
    rows = _legend_rows(_legends(html)["change"])
    assert rows == ["new (2)", "persistent (0)", "intensifying (0)", "diminishing (0)", "gone (1)"]
    assert [r.split(" ")[0] for r in rows] == list(CHANGE_STATUSES)


def test_unknown_change_status_is_refused() -> None:
    change = gpd.GeoDataFrame({"status": ["fading"]}, geometry=[box(0, 0, 10, 10)], crs=BNG)
    with pytest.raises(InputError, match="fading"):
        build_map(MapLayers(change=change))


def test_empty_hotspots_still_make_the_layer() -> None:
    empty = gpd.GeoDataFrame({"name": [], "method": []}, geometry=[], crs=BNG)
    html = _html(MapLayers(hotspots=empty, borough=_all_layers().borough))
    assert f"{json.dumps(LAYER_NAMES['hotspots'])} : feature_group_" in html


# --------------------------------------------------------------- points, venues


def test_points_grouped_by_map_point_and_capped_with_the_rest_aggregated() -> None:
    xs = [445_000.0] * 3 + [445_100.0] * 2 + [446_000.0 + 100 * i for i in range(5)]
    ys = [115_000.0] * 5 + [116_000.0] * 5
    points = pd.DataFrame(
        {"x": xs + [np.nan], "y": ys + [115_000.0], "location": ["On or near A"] * 11}
    )
    html = _html(MapLayers(points=points), max_points=3)
    features = _payload_with(html, "radius")["features"]
    assert [f["properties"]["count"] for f in features] == ["3", "2", "1"]
    assert [f["properties"]["radius"] for f in features] == [
        round(3 + 2 * 3**0.5, 1),
        round(3 + 2 * 2**0.5, 1),
        5.0,
    ]
    lon, lat = TO_LL.transform(445_000.0, 115_000.0)
    assert features[0]["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-6)
    layers = _bubble_layers(html)
    grouped = [cells for cells in layers if cells and cells[0][3] != "m"]
    muted = [cells for cells in layers if cells and cells[0][3] == "m"]
    assert len(grouped) == 5  # zooms 10 to 14
    for cells in grouped:  # every zoom level accounts for all ten located incidents
        assert sum(int(c[4]) for c in cells) == 10
    assert sum(int(c[4]) for c in muted[0]) == 4  # the points beyond the first three


def test_points_from_a_geodataframe_skip_rows_without_location() -> None:
    points = gpd.GeoDataFrame(
        {"crime_type": ["Drugs", "Drugs", "Drugs"]},
        geometry=[Point(445_000, 115_000), None, Point(445_000, 115_000)],
        crs=BNG,
    )
    html = _html(MapLayers(points=points))
    features = _payload_with(html, "radius")["features"]
    assert [f["properties"]["count"] for f in features] == ["2"]
    assert features[0]["properties"]["types"] == "Drugs 2"


def test_cluster_cells_halve_with_each_zoom() -> None:
    sizes = cluster_cell_sizes(51.0, cluster_px=60, min_zoom=12, detail_zoom=15)
    assert list(sizes) == [12, 13, 14, 15]
    assert sizes[12] == pytest.approx(2 * sizes[13], abs=10) and sizes[13] == pytest.approx(
        2 * sizes[14], abs=10
    )
    # 60 px at zoom 12, latitude 51: 60 * 156543.03 * cos(51 deg) / 4096 = 1443 m.
    assert sizes[12] == 1440.0


def test_venue_reach_rings_are_circles_with_radius_in_metres() -> None:
    venues = gpd.GeoDataFrame(
        {"name": ["A", "B"], "status": ["existing", "planned"], "rings_m": [None, [250]]},
        geometry=[Point(445_000, 115_000), Point(447_000, 115_000)],
        crs=BNG,
    )
    html = _html(MapLayers(venues=venues, venue_rings_m=(400.0, 800.0)))
    circles = re.findall(r"L\.circle\(\s*\[([-\d.]+), ([-\d.]+)\],\s*(\{.*?\})\s*\)", html, re.S)
    found = sorted((round(float(lon), 6), json.loads(opts)["radius"]) for lat, lon, opts in circles)
    lon_a, lat_a = TO_LL.transform(445_000, 115_000)
    lon_b, _ = TO_LL.transform(447_000, 115_000)
    assert found == sorted(
        [(round(lon_a, 6), 400.0), (round(lon_a, 6), 800.0), (round(lon_b, 6), 250.0)]
    )
    assert any(abs(float(lat) - lat_a) < 1e-6 for lat, _, _ in circles)
    dashed = [json.loads(o)["dashArray"] for _, _, o in circles]
    assert dashed.count("6 4") == 1  # the planned venue's ring


def test_venue_popup_accepts_the_venue_file_columns() -> None:
    venues = gpd.GeoDataFrame(
        {
            "name": ["Botley"],
            "hours_per_session": [3],
            "average_attendance": [20.0],
            "note": ["placed at the village centre"],
        },
        geometry=[Point(449_000, 113_000)],
        crs=BNG,
    )
    decoded = _decoded(_html(MapLayers(venues=venues)))
    assert "<th>Hours</th><td>3</td>" in decoded
    assert "<th>Attendance</th><td>20</td>" in decoded
    assert "<th>Note</th><td>placed at the village centre</td>" in decoded
    assert "<th>Reach rings</th><td>400 m, 800 m</td>" in decoded


def test_labels_are_text_in_their_own_pane() -> None:
    labels = gpd.GeoDataFrame(
        {"name": ["Eastleigh", "Fair Oak"], "kind": ["town_centre", "village"]},
        geometry=[Point(445_000, 119_000), box(450_000, 117_000, 451_000, 118_000)],
        crs=BNG,
    )
    html = _html(MapLayers(labels=labels))
    assert [t[2] for t in _text_labels(html)] == [
        '<div class="eh-label">Eastleigh</div>',
        '<div class="eh-label eh-small eh-minor">Fair Oak</div>',
    ]
    # One element draws both, in the label pane; the HTML reaches the page escaped.
    assert html.count("var labels = ") == 1
    assert 'pane: "ehLabels"' in html
    assert '<div class="eh-label' not in html
    assert "L.Icon.Default" not in html  # no image marker is used


def test_area_names_label_each_area_inside_it() -> None:
    areas = _squares([1.0, 2.0], names=["Botley", "Hamble & Netley"])
    labels = _text_labels(_html(MapLayers(areas=areas)))
    assert [t[2] for t in labels] == [
        '<div class="eh-label eh-area">Botley</div>',
        '<div class="eh-label eh-area">Hamble &amp; Netley</div>',
    ]
    to_bng = Transformer.from_crs("EPSG:4326", BNG, always_xy=True)
    for (lat, lon, _), square in zip(labels, areas.geometry, strict=True):
        assert square.contains(Point(to_bng.transform(float(lon), float(lat))))
    assert "eh-label eh-area" not in _html(MapLayers(areas=areas, area_names=False))


def _group_var(html: str, name: str) -> str:
    return re.search(rf"{re.escape(json.dumps(name))} : (feature_group_\w+)", html).group(1)


def test_hidden_layers_start_switched_off() -> None:
    html = _html(_all_layers())  # schools are hidden by default
    assert f"{_group_var(html, 'Schools')}.addTo(" not in html
    assert f"{_group_var(html, 'Hotspots')}.addTo(" in html
    layers = _all_layers()
    layers.hidden = ("points", "density")
    html = _html(layers)
    assert f"{_group_var(html, 'Incidents')}.addTo(" not in html
    assert f"{_group_var(html, 'Density')}.addTo(" not in html
    assert f"{_group_var(html, 'Schools')}.addTo(" in html
    layers.hidden = ("incidents",)
    with pytest.raises(InputError, match="incidents"):
        build_map(layers)
