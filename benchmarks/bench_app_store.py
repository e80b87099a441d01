"""How fast the app on a police.uk store shows the first view of an area not opened before.

Starts the app (``streamlit run app.py``, as ``hotspots app --store DIR`` does) on a
free port of 127.0.0.1 with the store, opens it in Debian's Chromium through
Playwright, waits for the default view and then ``--settle-s`` seconds (the app reads
the Hampshire layers and the national tables in the background at start), and for each
area named: types its name into the sidebar's Area box, presses Enter and times until
the sidebar's title names the area, Streamlit has finished the run and the new map is
drawn as the user sees it (polygons added, labels decluttered, painted). Each area is
new to the server, so nothing it needs is cached; its default view is the Map with
patrol areas where the store holds at least four consecutive months for it (KDE
otherwise). A screenshot of each lands in ``--shots``.

Build a store first (two national months and the Hampshire archive, about 10 s)::

    .venv/bin/hotspots ingest ../shared/data/police_uk/national \\
        ../shared/data/police_uk/hampshire --store /tmp/store
    .venv/bin/python benchmarks/bench_app_store.py /tmp/store \\
        Winchester "New Forest" Southampton Birmingham "Newcastle upon Tyne"
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tests/browser_kit.py
from app_views.map_view import MAIN_MAP_HEIGHT  # noqa: E402
from tests.browser_kit import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    MAP_IFRAME,
    free_port,
    start_app,
    stop,
    wait_idle,
)

TARGET_S = 3.0
"""The issue's target for the first view of a new area."""


def map_drawn(page: Page, timeout_s: float = 60.0) -> None:
    """Wait until the one fresh main map is drawn as the user sees it.

    Its polygons added, its labels decluttered (the container's ``data-eh-decluttered``)
    and two animation frames painted after that.
    """
    fresh = f"[data-stale='false'] {MAP_IFRAME}[height='{MAIN_MAP_HEIGHT}']"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            one = page.evaluate(
                f'() => document.querySelectorAll("{MAP_IFRAME}").length === 1'
                f' && document.querySelectorAll("{fresh}").length === 1'
            )
            frame = page.locator(fresh).element_handle().content_frame() if one else None
            if frame and frame.evaluate(
                "() => document.querySelectorAll('path.leaflet-interactive').length > 0"
                " && !!document.querySelector('.leaflet-container[data-eh-decluttered]')"
            ):
                frame.evaluate(
                    "() => new Promise(done => requestAnimationFrame("
                    "() => requestAnimationFrame(() => done(true))))"
                )
                return
        except Exception:  # noqa: BLE001, S110 - the iframe was replaced while we looked
            pass
        page.wait_for_timeout(50)
    msg = f"the map was not drawn within {timeout_s:.0f} s"
    raise TimeoutError(msg)


def first_view(page: Page, name: str) -> float:
    """Seconds from Enter on ``name`` in the Area box to its map drawn."""
    box = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']")
    box.filter(has_text="Area").first.click()
    page.keyboard.type(name)
    start = time.perf_counter()
    page.keyboard.press("Enter")
    page.get_by_text(f"{name} hotspots").first.wait_for(timeout=60_000)
    wait_idle(page)
    map_drawn(page)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store", type=Path, help="a store written by hotspots ingest")
    ap.add_argument("areas", nargs="+", help="area names as the Area box lists them")
    ap.add_argument("--settle-s", type=float, default=20.0, help="wait after the first page")
    ap.add_argument("--shots", type=Path, help="folder for a screenshot of each area")
    args = ap.parse_args(argv)
    os.environ["HOTSPOTS_STORE"] = str(args.store.resolve())
    if args.shots:
        args.shots.mkdir(parents=True, exist_ok=True)
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_app_store_{os.getpid()}"
    port = free_port()
    proc = start_app(port, folder)
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            start = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}")
            wait_idle(page)
            map_drawn(page, timeout_s=120)
            print(f"default view on the fresh server: {time.perf_counter() - start:.2f} s")
            time.sleep(args.settle_s)
            for name in args.areas:
                seconds = first_view(page, name)
                rows.append((name, seconds))
                print(f"{name}: first view {seconds:.2f} s", flush=True)
                if args.shots:
                    page.screenshot(path=str(args.shots / f"{name.replace(' ', '_')}.png"))
            browser.close()
    finally:
        stop(proc)
    print()
    print("| area | first view | within 3 s |")
    print("|---|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.2f} s | {'yes' if seconds <= TARGET_S else 'no'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
