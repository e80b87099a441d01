"""The app in Debian's Chromium, with every request outside this machine blocked.

Starts ``streamlit run app.py`` on a free port of 127.0.0.1, opens it in
``/usr/bin/chromium`` through Playwright (never ``playwright install``), blocks and
records every request whose host is not 127.0.0.1 or localhost (routing on the
context also catches the map's iframe), waits for Leaflet to draw the ward polygons,
the hotspots and the venues inside the st_folium iframe, clicks a ward to open its
profile, switches through every view, and saves a screenshot of each (in
``$HOTSPOTS_SCREENSHOTS`` when set, else the test's temporary folder).

Without Chromium the test is skipped, except under CI (``$CI`` set), where it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app_views.map_view import MAIN_MAP_HEIGHT, VIEW_MAP_HEIGHT
from tests.browser_kit import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MAP_IFRAME,
    free_port,
    map_frame,
    open_view,
    outside_guard,
    pick,
    start_app,
    stop,
    wait_idle,
)

pytestmark = pytest.mark.browser


# Counts the Leaflet layers of the map in an st_folium iframe: area features (their
# code property starts E0), hotspot features (a rank, no change status) and the venue
# markers and rings (their tooltip names a Friday Night Football venue).
COUNT_LAYERS = """() => {
  const out = {areas: 0, hotspots: 0, venues: 0, change: 0};
  map_div.eachLayer((layer) => {
    const p = layer.feature && layer.feature.properties;
    if (p) {
      const keys = Object.keys(p);
      const get = (name) => p[name] !== undefined ? p[name] : p['p_' + name];
      if (String(get('code') || '').startsWith('E0')) out.areas += 1;
      else if (get('status') !== undefined) out.change += 1;
      else if (get('rank') !== undefined) out.hotspots += 1;
    }
    const tip = layer.getTooltip && layer.getTooltip();
    if (tip && String(tip.getContent()).includes('Friday Night Football')) out.venues += 1;
  });
  return out;
}"""


# A point of the map near [lat, lng] where a click reaches the map itself (a marker or
# a bubble would take the click): searched on a spiral of 10 px steps.
FREE_POINT = """([lat, lng]) => {
  const start = map_div.latLngToContainerPoint([lat, lng]);
  for (let r = 0; r < 300; r += 10) {
    for (let a = 0; a < 360; a += 30) {
      const x = start.x + r * Math.cos(a * Math.PI / 180);
      const y = start.y + r * Math.sin(a * Math.PI / 180);
      const el = document.elementFromPoint(x, y);
      if (el && !el.closest('.leaflet-marker-icon, .leaflet-control')) { return {x, y}; }
    }
  }
  return start;
}"""


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the browser test")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("HOTSPOTS_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def app_url(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    try:
        proc = start_app(port, tmp_path_factory.mktemp("server"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def _layers_when(page, height: int, done, timeout_s: float = 60.0) -> dict:
    """Layer counts of the view's map once ``done(counts)`` holds (the map may be redrawn)."""
    deadline = time.monotonic() + timeout_s
    counts: dict = {}
    while time.monotonic() < deadline:
        try:
            counts = map_frame(page, height).evaluate(COUNT_LAYERS)
        except Exception:  # noqa: BLE001 - the iframe was replaced while we looked
            counts = {}
        if counts and done(counts):
            return counts
        page.wait_for_timeout(250)
    pytest.fail(f"the map did not reach the expected layers; last counts {counts}")


def test_the_app_works_with_every_outside_request_blocked(app_url, chromium, shots):
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only with a browser

    outside: list[str] = []

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 2200})
        context.route("**/*", outside_guard(outside))
        page = context.new_page()
        page.goto(app_url)

        # Map: the 14 wards, the hotspots and the venues drawn by Leaflet.
        wait_idle(page)
        frame = map_frame(page, MAIN_MAP_HEIGHT)
        counts = frame.evaluate(COUNT_LAYERS)
        assert counts["areas"] == 14, counts
        assert counts["hotspots"] > 0, counts
        assert counts["venues"] >= 4, counts
        paths = frame.locator("path.leaflet-interactive").count()
        assert paths >= 14 + counts["hotspots"]
        page.screenshot(path=str(shots / "1_map.png"))

        # Click a ward on the map: its profile opens (count, rate, a Vega chart).
        box = page.locator(MAP_IFRAME).bounding_box()
        # A point of Eastleigh Central away from the venue marker (a marker takes the click).
        pt = frame.evaluate("() => map_div.latLngToContainerPoint([50.9700, -1.3600])")
        page.mouse.click(box["x"] + pt["x"], box["y"] + pt["y"])
        page.get_by_role("heading", name="Eastleigh Central").wait_for(timeout=60_000)
        wait_idle(page)
        page.locator(
            "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg"
        ).first.wait_for(timeout=60_000)
        page.get_by_role("heading", name="Eastleigh Central").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "2_map_area_profile.png"))

        # The month range slider works from the keyboard: one month later, then back.
        thumb = page.locator("[data-testid='stSidebar'] input[type='range']").first
        thumb.focus()
        page.keyboard.press("ArrowRight")
        wait_idle(page)
        legend = map_frame(page, MAIN_MAP_HEIGHT).locator(".eh-legend-areas")
        legend.filter(has_text="2017-03 to 2017-05").wait_for(timeout=60_000)
        thumb.focus()
        page.keyboard.press("ArrowLeft")
        wait_idle(page)
        legend = map_frame(page, MAIN_MAP_HEIGHT).locator(".eh-legend-areas")
        legend.filter(has_text="2017-02 to 2017-05").wait_for(timeout=60_000)

        # More layers: the KDE density surface and the incident points.
        page.locator("[data-testid='stSidebar'] label").filter(has_text="Density surface").click()
        wait_idle(page)
        page.locator("[data-testid='stSidebar'] label").filter(has_text="Incident points").click()
        wait_idle(page)
        frame = map_frame(page, MAIN_MAP_HEIGHT)
        assert frame.locator("img.leaflet-image-layer").count() == 1
        # The auto bandwidth (6.25 m) is drawn smoothed so it can be read, and says so;
        # the image lies in its pane between the area fills and the hotspots.
        density_legend = frame.locator(".leaflet-control").filter(has_text="kernel density")
        assert "150 m for reading; hotspots use 6.25 m" in density_legend.inner_text()
        assert frame.locator(".leaflet-ehDensity-pane img.leaflet-image-layer").count() == 1
        page.locator(MAP_IFRAME).scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "3_map_density_points.png"))

        open_view(page, "Patrol plan")
        frame = map_frame(page, VIEW_MAP_HEIGHT)
        assert frame.evaluate(COUNT_LAYERS)["hotspots"] > 0
        page.screenshot(path=str(shots / "4_patrol_plan.png"))
        pick(
            page,
            page.locator("[data-testid='stMain'] [data-testid='stSelectbox']").first,
            re.compile(r"^Zoom to hotspot #1 "),
        )
        wait_idle(page)
        _layers_when(page, VIEW_MAP_HEIGHT, lambda c: c["hotspots"] == 1)
        frame = map_frame(page, VIEW_MAP_HEIGHT)
        frame.wait_for_function("() => !map_div._animatingZoom")
        assert frame.evaluate("() => map_div.getZoom()") >= 15
        page.screenshot(path=str(shots / "4b_patrol_hotspot_1.png"))

        open_view(page, "Tasking review")
        page.get_by_text("The sidebar's months: the period before").click()
        wait_idle(page)
        page.get_by_role("button", name="Compare 2017-04 to 2017-05", exact=False).click()
        page.get_by_text("Previous period (2017-02 to 2017-03)").wait_for(timeout=60_000)
        wait_idle(page)
        frame = map_frame(page, VIEW_MAP_HEIGHT)
        assert frame.evaluate(COUNT_LAYERS)["change"] > 0
        page.screenshot(path=str(shots / "5_tasking_review.png"))

        open_view(page, "Venue siting")
        frame = map_frame(page, VIEW_MAP_HEIGHT)
        assert frame.evaluate(COUNT_LAYERS)["venues"] >= 4
        page.get_by_text("After adding Friday Night Football Hedge End").wait_for()
        page.screenshot(path=str(shots / "6_venue_siting.png"))
        # A point clicked on the map becomes a candidate site.
        box = page.locator(f"{MAP_IFRAME}[height='{VIEW_MAP_HEIGHT}']").bounding_box()
        pt = frame.evaluate(FREE_POINT, [50.95, -1.31])
        page.mouse.click(box["x"] + pt["x"], box["y"] + pt["y"])
        page.get_by_text("Clicked point:", exact=False).wait_for(timeout=60_000)
        wait_idle(page)
        assert page.get_by_text("named places and the clicked point", exact=False).count() == 1
        page.screenshot(path=str(shots / "6b_venue_siting_clicked_point.png"))

        open_view(page, "Data")
        page.get_by_text("Where every layer comes from").wait_for()
        page.screenshot(path=str(shots / "7_data.png"))

        assert outside == [], f"requests left the machine: {outside[:10]}"
        assert not page.locator("[data-testid='stException']").count()

        # The guard does see the map iframe's requests: with map tiles switched on, the
        # tile requests are caught (and blocked) by the same route.
        open_view(page, "Map")
        pick(
            page,
            page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(
                has_text="Background"
            ),
            re.compile("OpenStreetMap"),
        )
        wait_idle(page)
        deadline = time.monotonic() + 30
        while not outside and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        assert outside, "tile requests from the map iframe were not seen by the guard"
        browser.close()
    assert shutil.which(str(chromium))


def test_a_choice_the_new_area_lacks_is_replaced_on_screen_too(app_url, chromium):
    """Local areas exist for Eastleigh only: after moving to Winchester the boundary set
    shows, in the browser, the set the app uses (a dropped choice used to stay shown)."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only with a browser

    def shown(label: str) -> str:
        box = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']")
        return box.filter(has_text=label).first.locator("input").input_value()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1400})
        page.goto(app_url)
        wait_idle(page)
        pick(
            page,
            page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']")
            .filter(has_text="Boundary set")
            .first,
            "Local areas",
        )
        wait_idle(page)
        assert shown("Boundary set") == "Local areas"
        page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(
            has_text="Area"
        ).first.click()
        page.keyboard.type("Winchester")
        page.keyboard.press("Enter")
        page.get_by_text("Winchester hotspots").first.wait_for(timeout=60_000)
        wait_idle(page)
        assert shown("Boundary set") == "Wards (2025)"  # Winchester's first boundary set
        # And the map draws Winchester's 16 wards (2025).
        _layers_when(page, MAIN_MAP_HEIGHT, lambda c: c["areas"] == 16)
        browser.close()
