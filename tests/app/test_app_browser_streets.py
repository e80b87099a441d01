"""The map an officer plans with, in Debian's Chromium (issue 13): Southampton with streets.

Starts the app on Southampton (``HOTSPOTS_AREA=E06000045``) with the OS Open Roads
sample of Shirley and Freemantle (``HOTSPOTS_STREETS``), every request outside
127.0.0.1 blocked and recorded. Checks by hand-checkable answers: the streets layer holds
the fixture's 1,466 road links and draws canvas tiles; a click inside each of five
wards opens that ward's profile (the ward holding the clicked point, found here with
shapely); a click on a cluster bubble in Venue siting registers the point as a
candidate. Screenshots (``$HOTSPOTS_SCREENSHOTS`` or a temporary folder): borough zoom,
street zoom, the legend, the siting map with walking catchments.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely

from app_views.map_view import MAIN_MAP_HEIGHT, VIEW_MAP_HEIGHT
from geo.crs import BNG, WGS84, transformer
from geo.study_area import load_study_area
from tests.app.test_app_browser import FREE_POINT
from tests.browser_kit import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MAP_IFRAME,
    free_port,
    map_frame,
    open_view,
    outside_guard,
    start_app,
    stop,
    wait_idle,
)

pytestmark = pytest.mark.browser

STREETS = Path("/work/shared/data/streets/os_open_roads_sample_southampton.geojson")
SOUTHAMPTON = "E06000045"

# Pairs of visible map labels (place, area, rank) whose boxes overlap: none after declutter.
LABEL_CLASHES = """() => {
  const els = Array.from(document.querySelectorAll('.leaflet-pane .eh-rank, '
      + '.leaflet-pane .eh-label')).filter((e) => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && getComputedStyle(e).visibility !== 'hidden'
        && getComputedStyle(e).display !== 'none';
  });
  let clashes = 0;
  for (let i = 0; i < els.length; i++) {
    for (let j = i + 1; j < els.length; j++) {
      const a = els[i].getBoundingClientRect(), b = els[j].getBoundingClientRect();
      if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) clashes++;
    }
  }
  return [els.length, clashes];
}"""

STREET_COUNT = """() => {
  const html = document.documentElement.innerHTML;
  const at = html.indexOf('var data = {"type":"FeatureCollection"');
  if (at < 0) return -1;
  const start = html.indexOf('{', at);
  const end = html.indexOf(';\\n', start);
  return JSON.parse(html.slice(start, end)).features.length;
}"""


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.exists() or not STREETS.exists():
        pytest.skip("Chromium or the streets fixture is missing")
    saved = {k: os.environ.get(k) for k in ("HOTSPOTS_AREA", "HOTSPOTS_STREETS")}
    os.environ.update(HOTSPOTS_AREA=SOUTHAMPTON, HOTSPOTS_STREETS=str(STREETS))
    port = free_port()
    try:
        proc = start_app(port, tmp_path_factory.mktemp("server"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("HOTSPOTS_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _five_wards() -> list[tuple[str, float, float]]:
    """Five wards of Southampton, each with a point well inside it (lat, lon)."""
    wards = load_study_area(SOUTHAMPTON).areas("ward").sort_values("name").reset_index(drop=True)
    picks = wards.iloc[:: max(1, len(wards) // 5)].head(5)
    to_ll = transformer(BNG, WGS84)
    out = []
    for name, geom in zip(picks["name"], picks.geometry, strict=True):
        part = max(shapely.get_parts(geom), key=lambda p: p.area)
        pt = shapely.ops.polylabel(part, tolerance=10.0)
        lon, lat = to_ll.transform(pt.x, pt.y)
        out.append((str(name), lat, lon))
    return out


def _ward_at(lat: float, lon: float) -> str | None:
    x, y = transformer(WGS84, BNG).transform(lon, lat)
    wards = load_study_area(SOUTHAMPTON).areas("ward")
    hit = wards[wards.geometry.intersects(shapely.Point(x, y))]
    return str(hit["name"].iloc[0]) if len(hit) else None


def test_streets_ward_clicks_and_bubble_click(app_url, shots):
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only with a browser

    outside: list[str] = []

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 2000})
        context.route("**/*", outside_guard(outside))
        page = context.new_page()
        page.goto(app_url)
        wait_idle(page)
        frame = map_frame(page, MAIN_MAP_HEIGHT)

        # The streets: every one of the fixture's 1,466 links, drawn as canvas tiles.
        count = frame.evaluate(STREET_COUNT)
        print(f"streets on the map: {count}")
        assert count == 1466
        frame.locator("canvas.leaflet-tile").first.wait_for(timeout=30_000)
        # Collapsed layer control: the list is hidden until hovered.
        assert frame.locator(".leaflet-control-layers-expanded").count() == 0
        assert frame.locator(".eh-legend-all").count() == 1
        page.wait_for_timeout(800)
        shown, clashes = frame.evaluate(LABEL_CLASHES)
        print(f"labels shown at borough zoom: {shown}, overlapping pairs: {clashes}")
        assert shown > 10 and clashes == 0
        page.locator(MAP_IFRAME).screenshot(path=str(shots / "s1_borough_zoom.png"))

        # Hovering an area shows its table (a tooltip, not a popup).
        frame = map_frame(page, MAIN_MAP_HEIGHT)
        box = page.locator(MAP_IFRAME).bounding_box()
        name, lat, lon = _five_wards()[2]
        pt = frame.evaluate(FREE_POINT, [lat, lon])
        page.mouse.move(box["x"] + pt["x"], box["y"] + pt["y"])
        frame.locator(".leaflet-tooltip").first.wait_for(timeout=10_000)
        page.locator(MAP_IFRAME).screenshot(path=str(shots / "s1b_area_tooltip.png"))

        # Five wards: a click inside each opens its profile.
        opened = []
        for name, lat, lon in _five_wards():
            frame = map_frame(page, MAIN_MAP_HEIGHT)
            box = page.locator(MAP_IFRAME).bounding_box()
            pt = frame.evaluate(FREE_POINT, [lat, lon])
            clicked = frame.evaluate(
                "([x, y]) => { const l = map_div.containerPointToLatLng([x, y]);"
                " return [l.lat, l.lng]; }",
                [pt["x"], pt["y"]],
            )
            expect = _ward_at(*clicked)
            assert expect is not None, (name, clicked)
            page.mouse.click(box["x"] + pt["x"], box["y"] + pt["y"])
            page.get_by_role("heading", name=expect, exact=True).wait_for(timeout=60_000)
            wait_idle(page)
            opened.append(expect)
        print(f"ward profiles opened by clicks: {opened}")
        assert len(set(opened)) == 5

        # Street zoom over Shirley: street names written along the streets.
        frame = map_frame(page, MAIN_MAP_HEIGHT)
        frame.evaluate("() => map_div.setView([50.9235, -1.4330], 17, {animate: false})")
        page.wait_for_timeout(2500)
        labels = frame.locator(".eh-street-label").count()
        print(f"street labels at zoom 17: {labels}")
        assert labels > 0
        page.locator(MAP_IFRAME).screenshot(path=str(shots / "s2_street_zoom.png"))
        frame.locator(".eh-legend-all").screenshot(path=str(shots / "s3_legend.png"))

        # Venue siting: a click on a cluster bubble registers that point as a candidate.
        open_view(page, "Venue siting")
        frame = map_frame(page, VIEW_MAP_HEIGHT)
        bubble = frame.locator(".eh-cluster").first
        bubble.wait_for(timeout=60_000)
        page.locator(MAP_IFRAME).screenshot(path=str(shots / "s4_siting_map.png"))
        bubble.click()
        page.get_by_text("Clicked point:", exact=False).wait_for(timeout=60_000)
        wait_idle(page)
        assert page.get_by_text("named places and the clicked point", exact=False).count() == 1
        page.get_by_role("button", name="Add a venue at the clicked point").click()
        wait_idle(page)
        grid = page.locator("[data-testid='stDataFrame'], [data-testid='stDataFrameResizable']")
        assert grid.count() >= 1
        page.screenshot(path=str(shots / "s5_siting_after_bubble_click.png"), full_page=True)
        browser.close()
    print(f"requests outside 127.0.0.1: {len(outside)}")
    assert outside == [], outside[:5]
    assert json.dumps(opened) and re.sub(r"\s", "", "ok") == "ok"
