"""Offline maps: no CDN asset in the page, and a real browser that fetches nothing.

The unit tests check :mod:`render.leaflet_offline` on rendered HTML. The browser test
(marked ``browser``) saves a standalone map of the real Eastleigh wards with every
layer, opens it in Debian's Chromium with every non-``file:``/``data:`` request
blocked, and checks that nothing was requested, that Leaflet drew the polygons, that
the zoom levels switch between grouped and individual incidents, and that hostile
strings in the data never run when every popup and tooltip is opened.
"""

from __future__ import annotations

import types
from pathlib import Path

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from render.leaflet_offline import (
    LEAFLET_VERSION,
    OfflineMapError,
    assert_no_remote_assets,
    folium_leaflet_version,
    leaflet_css_uri,
    leaflet_js_uri,
    make_offline,
    offline_map,
    remote_assets,
)
from render.map import MapLayers, build_map, save_standalone_html
from tests.browser_kit import CHROMIUM, CHROMIUM_ARGS

REPO = Path(__file__).resolve().parents[2]
WARDS_2018 = REPO / "boundaries" / "source" / "eastleigh_wards_2018_wd22.geojson"

XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_TEMPLATE = "${alert(1)}`"
POINT_GROUPS_BNG = np.array([[445_800, 119_100], [449_300, 113_000], [447_600, 107_500]])
_zoom = gpd.points_from_xy([445_800], [119_100], crs=27700).to_crs(4326)[0]
ZOOM_AT = (_zoom.y, _zoom.x)


# ----------------------------------------------------------------- remote_assets


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<script src="https://example.invalid/a.js"></script>', ["https://example.invalid/a.js"]),
        ("<link rel='stylesheet' href='//example.invalid/x.css'>", ["//example.invalid/x.css"]),
        (
            "<style>.a{background:url(http://example.invalid/i.png)}</style>",
            ["http://example.invalid/i.png"],
        ),
        (
            "<style>@import 'https://example.invalid/f.css';</style>",
            ["https://example.invalid/f.css"],
        ),
        (
            '{"html": "\\u003cimg src=\\"https://example.invalid/p.png\\"\\u003e"}',
            ["https://example.invalid/p.png"],
        ),
        (
            'L.tileLayer("https://example.invalid/{z}/{x}/{y}.png", {})',
            ["https://example.invalid/{z}/{x}/{y}.png"],
        ),
        ('<script src="data:text/javascript;base64,AAAA"></script><img src="data:,">', []),
        ('<a href="#top">top</a><img src="images/local.png">', []),
        (
            '{"attribution": "\\u0026copy; \\u003ca href=\\"https://example.invalid/c\\"\\u003eX\\u003c/a\\u003e"}',
            [],
        ),
    ],
)
def test_remote_assets_finds_remote_urls_only(html: str, expected: list[str]) -> None:
    assert remote_assets(html) == expected


def test_remote_assets_lists_each_url_once_in_page_order() -> None:
    html = (
        '<script src="https://example.invalid/b.js"></script>'
        '<link href="https://example.invalid/a.css">'
        '<script src="https://example.invalid/b.js"></script>'
    )
    assert remote_assets(html) == ["https://example.invalid/b.js", "https://example.invalid/a.css"]


def test_assert_no_remote_assets_raises_with_the_urls() -> None:
    assert_no_remote_assets('<script src="data:text/javascript;base64,AAAA"></script>')
    with pytest.raises(AssertionError, match="example.invalid/x.js"):
        assert_no_remote_assets('<script src="//example.invalid/x.js"></script>')


# ------------------------------------------------------------------- offline_map


def test_plain_folium_map_loads_cdn_assets_but_offline_map_loads_none() -> None:
    before_js, before_css = list(folium.Map.default_js), list(folium.Map.default_css)
    plain = folium.Map(tiles=None).get_root().render()
    offline = offline_map(location=[50.97, -1.35], zoom_start=12).get_root().render()
    # folium's own map is full of CDN links; ours has none, and Leaflet is inlined.
    assert len(remote_assets(plain)) >= 8
    assert remote_assets(offline) == []
    assert f'src="{leaflet_js_uri()}"' in offline
    assert f'href="{leaflet_css_uri()}"' in offline
    # The class attributes were not touched, so other maps keep folium's behaviour.
    assert folium.Map.default_js == before_js
    assert folium.Map.default_css == before_css
    assert remote_assets(folium.Map(tiles=None).get_root().render()) == remote_assets(plain)


def test_inlined_leaflet_is_the_version_folium_pins() -> None:
    assert folium_leaflet_version() == LEAFLET_VERSION == "1.9.3"


def test_inlined_css_has_its_images_inlined_and_default_icon_is_fixed() -> None:
    import base64

    css = base64.b64decode(leaflet_css_uri().split(",", 1)[1]).decode()
    assert "images/" not in css
    assert css.count('url("data:image/png;base64,') == 3  # layers, layers-2x, marker-icon
    js = base64.b64decode(leaflet_js_uri().split(",", 1)[1]).decode()
    assert "L.Icon.Default.imagePath = '';" in js
    assert "iconUrl: 'data:image/png;base64," in js


def test_tiles_are_allowed_but_reported_as_remote() -> None:
    html = offline_map(tiles="OpenStreetMap", location=[50.97, -1.35]).get_root().render()
    urls = remote_assets(html)
    assert len(urls) == 1
    assert urls[0].endswith("{z}/{x}/{y}.png")


@pytest.mark.parametrize(
    ("add", "match"),
    [
        (lambda m: folium.plugins.MarkerCluster().add_to(m), "MarkerCluster loads"),
        (lambda m: folium.Marker([50.9, -1.3], icon=folium.Icon()).add_to(m), "awesome-markers"),
        (lambda m: folium.Marker([50.9, -1.3], popup="hi").add_to(m), "jQuery"),
    ],
)
def test_make_offline_refuses_elements_that_need_the_network(add, match: str) -> None:
    m = offline_map(location=[50.97, -1.35])
    add(m)
    with pytest.raises(OfflineMapError, match=match):
        make_offline(m)


def test_plain_default_marker_is_allowed_offline() -> None:
    m = offline_map(location=[50.97, -1.35])
    folium.Marker([50.97, -1.35]).add_to(m)
    assert remote_assets(make_offline(m).get_root().render()) == []


# --------------------------------------------------------------- the real browser


def _real_layers() -> MapLayers:
    """Real Eastleigh wards and every layer, with hostile strings in the data."""
    wards = gpd.read_file(WARDS_2018).to_crs(27700)
    wards = wards.rename(columns={"WD22CD": "code", "WD22NM": "name"})[["code", "name", "geometry"]]
    wards["geometry"] = wards.make_valid()
    borough = gpd.GeoDataFrame(geometry=[wards.union_all()], crs=27700)
    areas = wards.copy()
    areas.loc[0, "name"] = XSS_IMG
    areas["value"] = np.arange(1.0, len(areas) + 1.0)
    areas["count"] = np.arange(len(areas)) * 10
    x0, y0, cell_m, nx, ny = 442_000.0, 105_500.0, 200.0, 52, 88
    yy, xx = np.mgrid[0:ny, 0:nx]
    values = np.exp(-((xx - 20) ** 2 + (yy - 66) ** 2) / 30.0) + 0.5 * np.exp(
        -((xx - 38) ** 2 + (yy - 33) ** 2) / 20.0
    )
    density = types.SimpleNamespace(
        values=values, grid=types.SimpleNamespace(x0=x0, y0=y0, cell_m=cell_m, nx=nx, ny=ny)
    )
    hotspots = gpd.GeoDataFrame(
        {
            "rank": [1, 2],
            "name": ["Eastleigh town centre", XSS_SCRIPT],
            "count": [120, 40],
            "share": [0.1, 0.03],
            "area_m2": [282_743.0, 125_664.0],
            "top_streets": [XSS_IMG, XSS_TEMPLATE],
            "peak_months": ["2017-03", "2017-02"],
            "method": ["kde", "dbscan"],
        },
        geometry=[Point(445_700, 119_000).buffer(300), Point(449_500, 112_800).buffer(200)],
        crs=27700,
    )
    change = hotspots.assign(status=["persistent", "new"])
    rng = np.random.default_rng(7)
    xy = np.concatenate([c + rng.normal(0, 150, size=(60, 2)) for c in POINT_GROUPS_BNG])
    xy = xy.round(-1)
    points = pd.DataFrame(
        {
            "x": xy[:, 0],
            "y": xy[:, 1],
            "crime_type": "Anti-social behaviour",
            "month": "2017-03",
            "location": [XSS_IMG if i % 2 else XSS_SCRIPT for i in range(len(xy))],
        }
    )
    venues = gpd.GeoDataFrame(
        {
            "name": [XSS_IMG, "Hedge End (planned)"],
            "status": ["existing", "planned"],
            "hours": ["Fri 19-21", ""],
        },
        geometry=[Point(445_900, 119_300), Point(449_300, 113_600)],
        crs=27700,
    )
    schools = gpd.GeoDataFrame(
        {"name": [XSS_SCRIPT]}, geometry=[Point(446_500, 118_000)], crs=27700
    )
    stations = gpd.GeoDataFrame(
        {"name": ["Eastleigh", XSS_TEMPLATE]},
        geometry=[Point(445_700, 119_100), Point(448_800, 113_900)],
        crs=27700,
    )
    labels = wards[["name", "geometry"]]
    return MapLayers(
        borough=borough,
        areas=areas,
        value_label=XSS_SCRIPT,
        density=density,
        hotspots=hotspots,
        change=change,
        points=points,
        venues=venues,
        schools=schools,
        stations=stations,
        labels=labels,
    )


@pytest.mark.browser
def test_standalone_map_opens_offline_in_chromium(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian Chromium is not installed at /usr/bin/chromium (apt-get install chromium)"
        )
    sync_api = pytest.importorskip("playwright.sync_api")

    page_path = save_standalone_html(build_map(_real_layers()), tmp_path / "map.html")
    shot = tmp_path / "map.png"
    attempted: list[str] = []
    errors: list[str] = []
    dialogs: list[str] = []

    def route(r) -> None:
        url = r.request.url
        if url.startswith(("file:", "data:")):
            r.continue_()
        else:
            attempted.append(url)
            r.abort()

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 900})
            page.route("**/*", route)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(page_path.as_uri())
            page.wait_for_selector("path.leaflet-interactive", timeout=10_000)

            polygons = page.locator("path.leaflet-interactive").count()
            overlays = page.locator("img.leaflet-image-layer").count()
            labels = page.locator(".eh-label:not(.eh-area)").count()
            area_names = page.locator(".eh-label.eh-area").count()
            bubbles = page.locator(".eh-cluster").count()
            legend = page.locator(".eh-legend-areas").inner_text()
            page.screenshot(path=str(shot))

            # Open every popup and tooltip (as a click and a hover would): strings from
            # the data must stay text.
            opened = page.evaluate(
                """() => {
                    const map = window[Object.keys(window).find(k => k.startsWith("map_"))];
                    const texts = [];
                    let injected = 0;
                    const look = () => {
                        document.querySelectorAll(".leaflet-popup-content, .leaflet-tooltip")
                            .forEach(e => {
                                texts.push(e.textContent);
                                injected += e.querySelectorAll("img, script").length;
                            });
                    };
                    map.eachLayer(l => {
                        const at = l.getLatLng ? l.getLatLng()
                            : (l.getBounds && l.getBounds().isValid() ? l.getBounds().getCenter() : null);
                        if (!at) { return; }
                        l.fire("click", {latlng: at}, true);
                        look();
                        l.fire("mouseover", {latlng: at}, true);
                        look();
                        l.fire("mouseout", {latlng: at}, true);
                    });
                    return {texts: texts, injected: injected};
                }"""
            )

            # Zoom in on a group of incidents: bubbles give way to individual points.
            page.evaluate(
                "([lat, lon]) => window[Object.keys(window).find(k => k.startsWith('map_'))]"
                ".setView([lat, lon], 17, {animate: false})",
                list(ZOOM_AT),
            )
            page.wait_for_timeout(300)
            bubbles_zoomed = page.locator(".eh-cluster").count()
            points_zoomed = page.evaluate(
                "() => document.querySelectorAll('path.leaflet-interactive[fill=\"#c51b8a\"]').length"
            )
        finally:
            browser.close()

    assert attempted == [], f"the page tried to fetch {attempted}"
    assert errors == []
    assert polygons > 14  # 14 wards plus hotspots, rings and points
    assert overlays == 1
    assert labels == area_names == 14
    assert bubbles > 0
    assert dialogs == [], "a string from the data ran as script"
    assert opened["injected"] == 0
    assert "1 \u2013" in legend and "<script>alert(1)</script>" in legend
    assert "&lt;" not in legend  # escaped once, not twice
    texts = "\n".join(opened["texts"])
    assert len(opened["texts"]) > 20
    for hostile in (XSS_IMG, XSS_SCRIPT, XSS_TEMPLATE):
        assert hostile in texts  # shown to the reader as text
    assert bubbles_zoomed == 0
    assert points_zoomed > 0
    assert shot.stat().st_size > 20_000


def test_real_layers_render_without_remote_assets() -> None:
    html = build_map(_real_layers()).get_root().render()
    assert remote_assets(html) == []
    assert "$(" not in html  # nothing needs the jQuery that offline maps drop


def test_save_standalone_html_refuses_a_map_with_tiles(tmp_path: Path) -> None:
    borough = gpd.GeoDataFrame(geometry=[box(445_000, 115_000, 447_000, 117_000)], crs=27700)
    target = tmp_path / "online.html"
    with pytest.raises(OfflineMapError, match="tiles=None"):
        save_standalone_html(build_map(MapLayers(borough=borough), tiles="OpenStreetMap"), target)
    assert not target.exists()
    written = save_standalone_html(build_map(MapLayers(borough=borough)), tmp_path / "ok.html")
    assert remote_assets(written.read_text(encoding="utf-8")) == []
