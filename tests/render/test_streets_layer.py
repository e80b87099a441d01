"""The street layer: vendored VectorGrid inlined, compact GeoJSON, labels, and a real browser."""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path

import folium
import geopandas as gpd
import pytest
from shapely.geometry import LineString

from analysis.network import build_walk_network, walk_catchment
from render.leaflet_offline import offline_map, remote_assets
from render.map import save_standalone_html
from render.streets import (
    LABEL_MIN_ZOOM,
    STREET_STYLES,
    VECTORGRID_VERSION,
    add_streets,
    add_walk_catchment,
    no_streets_message,
    street_labels,
    streets_geojson,
    vectorgrid_js_uri,
)
from tests.browser_kit import CHROMIUM, CHROMIUM_ARGS

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / ".." / "shared" / "data" / "streets" / "os_open_roads_sample_southampton.geojson"
VENDORED = REPO / "render" / "static" / "leaflet.vectorgrid"
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"

X0, Y0 = 440_000.0, 113_000.0


def toy_streets() -> gpd.GeoDataFrame:
    rows = [
        ("High Street", "a_road", LineString([(X0, Y0), (X0 + 300, Y0)])),
        ("High Street", "a_road", LineString([(X0 + 300, Y0), (X0 + 600, Y0)])),
        ("Mill Lane", "local", LineString([(X0 + 300, Y0 + 400), (X0 + 300, Y0)])),
        ("", "pedestrian", LineString([(X0 + 300, Y0), (X0 + 400, Y0 - 10)])),
        ("Tiny Close", "local", LineString([(X0, Y0), (X0, Y0 + 20)])),
        (HOSTILE, "mystery", LineString([(X0, Y0 + 500), (X0 + 200, Y0 + 700)])),
    ]
    frame = gpd.GeoDataFrame(rows, columns=["name", "road_class", "geometry"], crs=27700)
    frame["length_m"] = frame.length
    return frame


def test_vectorgrid_is_vendored_with_its_licence():
    assert (VENDORED / "Leaflet.VectorGrid.bundled.min.js").stat().st_size > 40_000
    licence = (VENDORED / "LICENSE").read_text(encoding="utf-8")
    assert "BEER-WARE" in licence and "geojson-vt" in licence and "pbf" in licence
    assert VECTORGRID_VERSION in (VENDORED / "README.md").read_text(encoding="utf-8")
    script = base64.b64decode(vectorgrid_js_uri().split(",", 1)[1]).decode("utf-8")
    assert "L.VectorGrid.Slicer" in script or "VectorGrid.Slicer" in script
    assert "L.DomEvent.fakeStop = L.DomEvent.stop" in script


def test_geojson_is_compact_and_classed():
    doc = streets_geojson(toy_streets())
    feats = doc["features"]
    assert len(feats) == 6
    assert [f["properties"]["c"] for f in feats] == [1, 1, 4, 5, 4, 6]
    assert "n" not in feats[3]["properties"]  # no name, no key
    assert feats[0]["properties"]["n"] == "High Street"
    lon, lat = feats[0]["geometry"]["coordinates"][0]
    assert -1.5 < lon < -1.3 and 50.8 < lat < 51.0
    assert len(str(lon).split(".")[1]) <= 6


def test_labels_one_per_stretch_upright_and_long_enough():
    labels = street_labels(toy_streets())
    by_name = {name: (lat, lon, angle) for lat, lon, name, angle in labels}
    # The two High Street links merge into one 600 m stretch, labelled once at its middle.
    assert [n for _, _, n, _ in labels].count("High Street") == 1
    assert by_name["High Street"][2] == pytest.approx(0, abs=0.5)
    # Mill Lane is drawn from north to south, but its text reads upwards (90 degrees).
    assert by_name["Mill Lane"][2] == pytest.approx(90, abs=0.5)
    assert "Tiny Close" not in by_name  # 20 m: too short to write on
    assert by_name[HOSTILE][2] == pytest.approx(45, abs=0.5)
    mid = gpd.GeoSeries.from_xy([X0 + 300], [Y0], crs=27700).to_crs(4326).iloc[0]
    assert by_name["High Street"][:2] == pytest.approx((mid.y, mid.x), abs=1e-5)


def test_the_page_is_offline_and_hostile_names_cannot_end_the_script():
    m = offline_map(location=[50.91, -1.42], zoom_start=14)
    layer = add_streets(m, toy_streets(), name="Streets")
    folium.LayerControl().add_to(m)
    html = m.get_root().render()
    assert remote_assets(html) == []
    assert f'src="{vectorgrid_js_uri()}"' in html
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "\\u003cscript\\u003ealert(1)" in html
    assert f"{layer.get_name()}.addTo(" in html  # shown on opening
    assert '"Streets"' in html  # listed in the layer control
    assert f"labelMinZoom = {LABEL_MIN_ZOOM}" in html
    for colour, _ in STREET_STYLES.values():
        assert colour in html


def test_a_hidden_layer_is_not_added_on_opening():
    m = offline_map(location=[50.91, -1.42], zoom_start=14)
    layer = add_streets(m, toy_streets(), show=False)
    assert f"{layer.get_name()}.addTo(" not in m.get_root().render()


def test_no_streets_message_says_how_to_load_them():
    text = no_streets_message()
    assert text.startswith("No streets loaded.")
    for needed in ("OS Open Roads", "OpenStreetMap", ".osm.pbf", "--streets", "HOTSPOTS_STREETS"):
        assert needed in text
    assert "straight line" in text
    assert no_streets_message(what="Walking catchments").count("Walking catchments need") == 1


# ------------------------------------------------------------------ a real browser

# Leaflet keeps the last zoom's tiles (scaled) until the new ones are drawn: wait for that.
_SETTLED = """() => {
  const levels = Array.from(document.querySelectorAll('.leaflet-tile-container'));
  const top = Math.max(...levels.map(c => Number(c.style.zIndex)));
  return levels.every(c => Number(c.style.zIndex) === top || !c.querySelector('canvas'))
      && levels.some(c => c.querySelector('canvas'));
}"""

_COUNT = """() => {
  const name = Object.keys(window).find(k => k.startsWith('streets_layer_'));
  const grid = window[name].getLayers()[0];
  const zoom = grid._map.getZoom();
  const ids = new Set();
  for (const k in grid._vectorTiles) {  // keys are "x:y:z"; count the tiles at this zoom
    if (Number(k.split(':')[2]) !== zoom) { continue; }
    for (const id in grid._vectorTiles[k]._features) { ids.add(id); }
  }
  return {features: ids.size, labels: document.querySelectorAll('.eh-street-label span').length,
          texts: Array.from(document.querySelectorAll('.eh-street-label span'))
                      .map(e => e.textContent)};
}"""


@pytest.mark.browser
@pytest.mark.skipif(not FIXTURE.exists(), reason="shared street fixture absent")
def test_the_southampton_streets_draw_offline_in_chromium(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian Chromium is not installed at /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    from geo.streets import read_streets

    streets = read_streets(FIXTURE)
    howard = streets["name"] == "Howard Road"
    hostile = streets.index[howard][0]
    streets.loc[howard, "name"] = HOSTILE
    centre = streets.to_crs(4326).geometry.union_all().centroid
    m = offline_map(location=[centre.y, centre.x], zoom_start=14)
    add_streets(m, streets)
    venue = streets.geometry.union_all().centroid
    net = build_walk_network(streets)
    catchment = walk_catchment(net, venue, 800, width_m=35)
    add_walk_catchment(m, catchment, centre_bng=(venue.x, venue.y), distance_m=800)
    folium.LayerControl().add_to(m)
    page_path = save_standalone_html(m, tmp_path / "streets.html")

    attempted: list[str] = []
    errors: list[str] = []
    dialogs: list[str] = []

    def route(r) -> None:
        url = r.request.url
        if url.startswith(("file:", "data:", "blob:", "about:")):
            r.continue_()
        else:
            attempted.append(url)
            r.abort()

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 800})
            page.route("**/*", route)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            t0 = time.perf_counter()
            page.goto(page_path.as_uri())
            page.wait_for_function(
                "() => document.querySelectorAll('canvas.leaflet-tile').length > 0",
                timeout=20_000,
            )
            map_name = page.evaluate("() => Object.keys(window).find(k => k.startsWith('map_'))")
            # Borough zoom: the whole sample in view, thin lines, no names.
            page.evaluate(f"() => {{ window['{map_name}'].setZoom(13); }}")
            page.wait_for_timeout(1_000)
            page.wait_for_function(_SETTLED, timeout=20_000)
            borough = page.evaluate(_COUNT)
            first_s = time.perf_counter() - t0
            page.screenshot(path="/tmp/streets_borough_z13.png")
            # Street zoom over Howard Road: names written, the hostile one as text.
            at = (
                streets.loc[[hostile]]
                .to_crs(4326)
                .geometry.iloc[0]
                .interpolate(0.5, normalized=True)
            )
            page.evaluate(f"() => {{ window['{map_name}'].setView([{at.y}, {at.x}], 17); }}")
            page.wait_for_timeout(1_000)
            page.wait_for_function(_SETTLED, timeout=20_000)
            street = page.evaluate(_COUNT)
            page.screenshot(path="/tmp/streets_street_z17.png")
            # The venue's walking catchment beside its straight-line circle.
            page.evaluate(
                f"() => {{ window['{map_name}'].setView([{centre.y}, {centre.x}], 15); }}"
            )
            page.wait_for_timeout(1_000)
            page.wait_for_function(_SETTLED, timeout=20_000)
            page.screenshot(path="/tmp/streets_catchment_z15.png")
            shapes = page.locator("path.leaflet-interactive").count()
        finally:
            browser.close()
    print(
        f"\nstreets drawn at zoom 13: {borough['features']:,} of {len(streets):,} links "
        f"({first_s:.1f} s to open and draw); zoom 17: {street['features']:,} links, "
        f"{street['labels']} names"
    )
    assert attempted == [] and errors == [] and dialogs == []
    assert shapes >= 2  # the catchment and the circle
    assert abs(borough["features"] - len(streets)) <= 0.02 * len(streets)
    assert borough["labels"] == 0
    assert 0 < street["features"] < borough["features"]
    assert street["labels"] > 5
    assert HOSTILE in street["texts"]
    assert all(re.fullmatch(r"[^<>]+", t) or t == HOSTILE for t in street["texts"])
    html = page_path.read_text(encoding="utf-8")
    assert json.dumps(HOSTILE) not in html


def test_streamlit_folium_would_load_vectorgrid_after_leaflet():
    """streamlit_folium drops the header's scripts and loads each element's default_js,
    walking the map's elements in order: VectorGrid must be there, after Leaflet."""
    m = offline_map(location=[50.91, -1.42], zoom_start=14)
    add_streets(m, toy_streets())

    def walk(element):
        yield element
        for child in element._children.values():
            yield from walk(child)

    scripts = [src for e in walk(m) for _, src in getattr(e, "default_js", [])]
    assert vectorgrid_js_uri() in scripts
    leaflet = next(
        i for i, src in enumerate(scripts) if "base64" in src and src != vectorgrid_js_uri()
    )
    assert leaflet < scripts.index(vectorgrid_js_uri())
    html = m.get_root().render()
    assert html.count(vectorgrid_js_uri()) == 1
