"""The emerging hot spot layer: its colours, the interactive map and the printed map.

Hand-made bins whose answers can be read off: three 200 m bins (an intensifying hot
spot, a persistent cold spot and a bin with no pattern) draw two coloured bins, a legend
of exactly those two classes, and nothing of the third.
"""

from __future__ import annotations

import itertools
import json
import re

import folium
import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from analysis.emerging import EMERGING_CLASSES
from geo.errors import InputError
from render.map import EMERGING_COLOURS, LAYER_NAMES, MapLayers, add_emerging, build_map
from render.static_map import static_map_svg

BNG = "EPSG:27700"
HOSTILE = "<script>alert(1)</script>"
MAP_BACKGROUND = "#f6f5f1"  # render/map.py's _CSS

# Three bins side by side, 200 m squares, west to east.
X0, Y0 = 445_000.0, 115_000.0


def three_bins(count=(12, 7, 3)) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "class": ["intensifying hot spot", "persistent cold spot", "no pattern detected"],
            "count": list(count),
            "hot_months": [4, 0, 0],
            "cold_months": [0, 4, 1],
            "trend_z": [2.04, -0.34, 0.0],
        },
        geometry=[box(X0 + 200 * i, Y0, X0 + 200 * (i + 1), Y0 + 200) for i in range(3)],
        crs=BNG,
    )


def legend_sections(html: str) -> dict[str, str]:
    """The map's one legend, split into its sections by kind (``eh-legend-<kind>``)."""
    found = re.search(
        r'L\.DomUtil\.create\("div", "eh-legend leaflet-control eh-legend-all"\);\s*'
        r"div\.innerHTML = (\".*?\");\n",
        html,
    )
    assert found, "the map has no legend"
    content = json.loads(found.group(1))
    out = {}
    for chunk in content.split('<div class="eh-legend-section eh-legend-')[1:]:
        kind, _, inner = chunk.partition('">')
        out[kind] = inner
    return out


def legend_rows(section: str) -> list[str]:
    """The text of each row of a legend section (swatch rows only), tags removed."""
    rows = re.findall(r'<span class="eh-sw"[^>]*></span>(.*?)</div>', section)
    return [re.sub(r"<[^>]+>", "", r) for r in rows]


def geojson_payloads(html: str) -> list[dict]:
    out = []
    for line in html.splitlines():
        match = re.match(r"\s*geo_json_\w+_add\((\{.*\})\);\s*$", line)
        if match:
            out.append(json.loads(match.group(1)))
    return out


def emerging_payload(html: str) -> dict:
    found = [
        p
        for p in geojson_payloads(html)
        if p["features"] and "p_class" in p["features"][0]["properties"]
    ]
    assert len(found) == 1
    return found[0]


def _lab(hex_colour: str, alpha: float = 0.6, background: str = MAP_BACKGROUND) -> np.ndarray:
    """CIE L*a*b* (D65) of a colour drawn at ``alpha`` over ``background``."""

    def rgb(h: str) -> np.ndarray:
        return np.array([int(h[i : i + 2], 16) for i in (1, 3, 5)]) / 255

    c = alpha * rgb(hex_colour) + (1 - alpha) * rgb(background)
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = m @ lin / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


# ------------------------------------------------------------------ colours


def test_every_class_but_no_pattern_has_a_colour_hot_warm_and_cold_cool():
    assert list(EMERGING_COLOURS) == [c for c in EMERGING_CLASSES if c != "no pattern detected"]
    for klass, colour in EMERGING_COLOURS.items():
        r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
        if klass.endswith("hot spot"):
            assert r > b, klass  # reds, oranges, pinks
        else:
            assert b > r, klass  # blues
    assert len(set(EMERGING_COLOURS.values())) == 16


@pytest.mark.parametrize("kind", ["hot", "cold"])
def test_classes_of_a_kind_are_told_apart_as_drawn(kind):
    """Any two hot (or cold) classes differ by CIE76 >= 15 at the map's 0.6 fill opacity."""
    colours = {k: v for k, v in EMERGING_COLOURS.items() if k.endswith(f"{kind} spot")}
    assert len(colours) == 8
    worst = min(
        (float(np.linalg.norm(_lab(a) - _lab(b))), ka, kb)
        for (ka, a), (kb, b) in itertools.combinations(colours.items(), 2)
    )
    assert worst[0] >= 15, worst


# ------------------------------------------------------------------ the interactive map


def test_three_bins_draw_two_colours_and_a_legend_of_the_two_classes():
    html = build_map(MapLayers(emerging=three_bins())).get_root().render()
    assert EMERGING_COLOURS["intensifying hot spot"] in html
    assert EMERGING_COLOURS["persistent cold spot"] in html
    payload = emerging_payload(html)
    props = [f["properties"] for f in payload["features"]]
    assert [p["p_class"] for p in props] == ["intensifying hot spot", "persistent cold spot"]
    assert [p["colour"] for p in props] == [
        EMERGING_COLOURS["intensifying hot spot"],
        EMERGING_COLOURS["persistent cold spot"],
    ]
    assert [p["p_count"] for p in props] == ["12", "7"]
    assert [p["p_hot_months"] for p in props] == ["4", "0"]
    assert [p["p_trend_z"] for p in props] == ["+2.04", "-0.34"]
    # The no-pattern bin (the easternmost) is not drawn: what is drawn covers the first
    # two bins only (coordinates are rounded to 6 decimals, about 0.1 m).
    drawn = gpd.GeoDataFrame.from_features(payload, crs=4326).to_crs(BNG)
    assert tuple(drawn.total_bounds) == pytest.approx((X0, Y0, X0 + 400, Y0 + 200), abs=0.5)
    assert "no pattern detected" not in html
    legend = legend_sections(html)["emerging"]
    assert legend_rows(legend) == ["intensifying hot spot (1 bin)", "persistent cold spot (1 bin)"]
    assert "Emerging hot spots" in legend
    assert f"{json.dumps(LAYER_NAMES['emerging'])} : feature_group_" in html
    # The tooltip: pattern, incidents, months hot and cold, trend z.
    assert (
        'let fields = ["p_class", "p_count", "p_hot_months", "p_cold_months", "p_trend_z"];' in html
    )
    assert 'let aliases = ["Pattern", "Incidents", "Months hot", "Months cold", "Trend z"];' in html


def test_the_legend_counts_bins_per_class_hot_first():
    bins = three_bins()
    bins.loc[2, "class"] = "intensifying hot spot"  # now two intensifying bins
    bins = bins.iloc[[1, 0, 2]]  # the cold one first in the frame
    html = build_map(MapLayers(emerging=bins)).get_root().render()
    rows = legend_rows(legend_sections(html)["emerging"])
    assert rows == ["intensifying hot spot (2 bins)", "persistent cold spot (1 bin)"]


def test_an_unknown_class_is_refused_naming_the_column_and_the_allowed_values():
    bins = three_bins()
    bins.loc[0, "class"] = "warm spot"
    with pytest.raises(InputError, match=r"layers\.emerging: column 'class'") as err:
        build_map(MapLayers(emerging=bins))
    assert "'warm spot'" in str(err.value)
    for klass in EMERGING_CLASSES:
        assert repr(klass) in str(err.value)
    with pytest.raises(InputError, match="missing"):
        build_map(MapLayers(emerging=bins.drop(columns="class")))
    with pytest.raises(InputError, match="27700"):
        build_map(MapLayers(emerging=three_bins().to_crs(4326)))


def test_strings_in_other_properties_reach_the_page_escaped():
    bins = three_bins(count=(HOSTILE, 7, 3))
    bins["class"] = [" Intensifying hot spot ", "persistent cold spot", "no pattern detected"]
    html = build_map(MapLayers(emerging=bins)).get_root().render()
    props = emerging_payload(html)["features"][0]["properties"]
    assert props["p_count"] == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert props["p_class"] == "intensifying hot spot"
    decoded = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)
    assert "<script>alert" not in decoded


def test_emerging_is_drawn_after_change_before_hotspots_and_fits_the_map():
    bins = three_bins()
    spot = gpd.GeoDataFrame(
        {"rank": [1], "name": ["A"], "count": [5], "method": ["kde"], "status": ["new"]},
        geometry=[Point(X0 + 100, Y0 + 100).buffer(80)],
        crs=BNG,
    )
    html = build_map(MapLayers(emerging=bins, change=spot, hotspots=spot)).get_root().render()
    names = [LAYER_NAMES[k] for k in ("change", "emerging", "hotspots")]
    at = [html.index(f"{json.dumps(n)} : feature_group_") for n in names]
    assert at == sorted(at)
    # With no borough, the map fits its layers: here the three bins.
    fit = re.search(r"fitBounds\(\s*\[\[([\d.-]+), ([\d.-]+)\], \[([\d.-]+), ([\d.-]+)\]\]", html)
    lat0, lon0, lat1, lon1 = (float(v) for v in fit.groups())
    box_ll = gpd.GeoSeries([box(X0, Y0, X0 + 600, Y0 + 200)], crs=BNG).to_crs(4326).total_bounds
    assert (lon0, lat0, lon1, lat1) == pytest.approx(tuple(box_ll), abs=1e-5)


def test_add_emerging_with_only_no_pattern_draws_nothing_and_says_so():
    m = folium.Map(tiles=None)
    bins = three_bins().iloc[[2]]
    add_emerging(m, bins)
    html = m.get_root().render()
    assert not any(p["features"] for p in geojson_payloads(html))
    assert "no hot or cold spot" in html


# ------------------------------------------------------------------ the printed map


def test_the_static_map_draws_the_two_classes_with_their_legend(shipped_basemap):
    bins = three_bins(count=(HOSTILE, 7, 3))
    # Put the bins inside Eastleigh, so they are on the printed map.
    centre = shipped_basemap.outline.geometry.iloc[0].representative_point()
    bins = bins.set_geometry(bins.geometry.translate(centre.x - X0, centre.y - Y0))
    svg = str(static_map_svg({"emerging": bins}, basemap=shipped_basemap, title=HOSTILE))
    hot, cold = EMERGING_COLOURS["intensifying hot spot"], EMERGING_COLOURS["persistent cold spot"]
    assert svg.count(f'fill="{hot}" fill-opacity="0.6" stroke="none"') == 1
    assert svg.count(f'fill="{cold}" fill-opacity="0.6" stroke="none"') == 1
    assert ">intensifying hot spot (1 bin)</text>" in svg
    assert ">persistent cold spot (1 bin)</text>" in svg
    assert "no pattern" not in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg  # the title, escaped
    legend_text = re.findall(r'font-size="11.5">([^<]*)</text>', svg)
    assert legend_text == ["intensifying hot spot (1 bin)", "persistent cold spot (1 bin)"]
