"""How fast the app shows its first view and redraws after a filter change, in a real browser.

Starts ``streamlit run app.py`` on a free port of 127.0.0.1 (a fresh process), opens it
in Debian's Chromium through Playwright with every request outside 127.0.0.1 blocked,
and times, on the shipped data:

* **first view, cold**: the first page open on the fresh server (Python imports, the
  shipped months read, hotspots found, map built), until Leaflet has drawn the 14 ward
  polygons inside the st_folium iframe;
* **first view, warm**: a new browser session (a new tab and context) on the running
  server, same end point: what every user after the first sees;
* **first view after ``hotspots app`` says ready**: the README's run command starts the
  server and warms it with one session of its own before printing that the app is
  ready; the first page open after that line (also reported: start to ready);
* **filter change**: from the click (or key press) on a sidebar widget to the map
  redrawn with the new content (legend title, number of areas), for the measure
  (count -> rate), the boundary set (2018 wards -> local areas), the crime type (a
  type not yet computed, so hotspots are found again) and the month range (a range
  not yet computed). Each change is then undone and redone: "cached" is the redo,
  whose results Streamlit's caches already hold.

Run from the repository root::

    .venv/bin/python benchmarks/bench_app.py            # 5 warm opens, 3 rounds of changes
    .venv/bin/python benchmarks/bench_app.py --runs 10 --json app_timings.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tests/browser_kit.py
from tests.browser_kit import CHROMIUM, CHROMIUM_ARGS, MAP_READY, free_port, start_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _default_months() -> tuple[str, str]:
    """The months the app opens on: the latest 12 of the shipped dataset."""
    import zipfile  # noqa: PLC0415

    from analysis.periods import default_months  # noqa: PLC0415
    from geo.paths import shipped_incident_paths  # noqa: PLC0415

    months = set()
    for p in shipped_incident_paths():
        if p.suffix == ".zip":
            months |= {n.split("/")[0] for n in zipfile.ZipFile(p).namelist() if "/" in n}
        else:
            months.add(p.name[:7])
    return default_months(sorted(months))


def shift_month(month: str, n: int) -> str:
    """``month`` moved by ``n`` months."""
    y, m = map(int, month.split("-"))
    k = y * 12 + m - 1 + n
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


DEFAULT_MONTHS = _default_months()


def start_server(port: int, log: Path) -> subprocess.Popen:
    """``streamlit run app.py`` on 127.0.0.1:port, healthy (see tests/browser_kit.py)."""
    try:
        return start_app(port, log.parent)
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None


def served_first_view(new_context, folder: Path, outside: list[str]) -> tuple[float, float]:
    """Start ``hotspots app`` on a free port; seconds to its ready line, then to the first view."""
    port = free_port()
    folder.mkdir()
    env = dict(os.environ, HOTSPOTS_USER_DIR=str(folder / "user"))
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "app", "--port", str(port)],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in proc.stderr:
            if "the app is ready" in line:
                break
            if "warming it failed" in line:
                raise SystemExit(line.strip())
        else:
            raise SystemExit("hotspots app stopped before it was ready")
        ready = time.perf_counter() - t0
        ctx = new_context()
        page, view = open_page(ctx, f"http://127.0.0.1:{port}", outside)
        page.close()
        ctx.close()
        return ready, view
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wait_map(page: Page, areas: int, text: str, timeout_ms: int = 120_000) -> None:
    page.wait_for_function(MAP_READY, arg=[areas, text], polling="raf", timeout=timeout_ms)


def open_page(context, url: str, outside: list[str]) -> tuple[Page, float]:
    """Open the app in a new tab; seconds until the ward polygons are drawn."""
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(url)
    wait_map(page, 14, "ASB, count")
    elapsed = time.perf_counter() - t0
    assert not outside, outside
    return page, elapsed


def sidebar_label(page: Page, text: str):
    return page.locator("[data-testid='stSidebar'] label").filter(has_text=text).first


def choose(page: Page, widget_label: str, option: str) -> None:
    """Open a sidebar selectbox or multiselect by its label and pick an option."""
    box = (
        page.locator(
            "[data-testid='stSidebar'] [data-testid='stSelectbox'], "
            "[data-testid='stSidebar'] [data-testid='stMultiSelect']"
        )
        .filter(has_text=widget_label)
        .first
    )
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")


def timed(page: Page, action, areas: int, text: str) -> float:
    t0 = time.perf_counter()
    action()
    wait_map(page, areas, text)
    return time.perf_counter() - t0


def summary(values: list[float]) -> str:
    if not values:
        return "-"
    return (
        f"median {statistics.median(values):.2f} s  min {min(values):.2f}  "
        f"max {max(values):.2f}  (n={len(values)})"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="warm page opens")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of filter changes")
    ap.add_argument("--json", type=Path, help="write the timings here")
    args = ap.parse_args(argv)
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} missing: apt-get install chromium")

    results: dict[str, list[float]] = {}
    outside: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = start_server(port, Path(tmp) / "streamlit.log")
        url = f"http://127.0.0.1:{port}"
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

                def new_context():
                    ctx = browser.new_context(viewport={"width": 1440, "height": 1000})

                    def guard(route) -> None:
                        host = urlparse(route.request.url).hostname
                        if route.request.url.startswith(("data:", "blob:")) or host in (
                            "127.0.0.1",
                            "localhost",
                        ):
                            route.continue_()
                        else:
                            outside.append(route.request.url)
                            route.abort()

                    ctx.route("**/*", guard)
                    return ctx

                ctx = new_context()
                page, cold = open_page(ctx, url, outside)
                results["first view, cold server"] = [cold]
                page.close()
                ctx.close()
                results["first view, warm server (new session)"] = []
                for _ in range(args.runs):
                    ctx = new_context()
                    page, warm = open_page(ctx, url, outside)
                    results["first view, warm server (new session)"].append(warm)
                    page.close()
                    ctx.close()

                ctx = new_context()
                page, _ = open_page(ctx, url, outside)
                page.wait_for_timeout(500)
                changes = {
                    "measure count -> rate": (
                        lambda: sidebar_label(page, "Rate per 1,000").click(),
                        14,
                        "ASB, per 1,000 residents",
                        lambda: sidebar_label(page, "Count").click(),
                        14,
                        "ASB, count",
                    ),
                    "boundary set wards -> local areas": (
                        lambda: choose(page, "Boundary set", "Local areas"),
                        5,
                        "ASB, count",
                        lambda: choose(page, "Boundary set", "Wards (2018)"),
                        14,
                        "ASB, count",
                    ),
                }
                for name, (do, n_do, t_do, undo, n_undo, t_undo) in changes.items():
                    first, cached = [], []
                    for k in range(args.rounds):
                        (first if k == 0 else cached).append(timed(page, do, n_do, t_do))
                        page.wait_for_timeout(300)
                        timed(page, undo, n_undo, t_undo)
                        page.wait_for_timeout(300)
                    results[f"{name} (first)"] = first
                    results[f"{name} (cached)"] = cached

                # Crime type: add Shoplifting to ASB (hotspots found anew), remove it, redo.
                combo = page.locator("[data-testid='stSidebar'] input[aria-label='Crime types']")
                remove = page.locator(
                    "[data-testid='stSidebar'] button[aria-label='Remove Shoplifting']"
                )
                first, cached = [], []
                for k in range(args.rounds):
                    combo.click()
                    combo.fill("Shoplifting")
                    page.wait_for_timeout(300)
                    (first if k == 0 else cached).append(
                        timed(
                            page,
                            lambda: page.keyboard.press("Enter"),
                            14,
                            "ASB + Shoplifting, count",
                        )
                    )
                    page.keyboard.press("Escape")
                    page.wait_for_timeout(300)
                    timed(page, lambda: remove.first.click(), 14, "ASB, count")
                    page.wait_for_timeout(300)
                results["crime type ASB -> ASB + Shoplifting (first)"] = first
                results["crime type ASB -> ASB + Shoplifting (cached)"] = cached

                # Month range: move the first thumb one month later with the keyboard.
                first_m, last_m = DEFAULT_MONTHS
                thumb = page.locator("[data-testid='stSidebar'] input[type='range']").first
                first, cached = [], []
                for k in range(args.rounds):
                    thumb.focus()
                    (first if k == 0 else cached).append(
                        timed(
                            page,
                            lambda: page.keyboard.press("ArrowRight"),
                            14,
                            f"{shift_month(first_m, 1)} to {last_m}",
                        )
                    )
                    page.wait_for_timeout(300)
                    thumb.focus()
                    timed(
                        page, lambda: page.keyboard.press("ArrowLeft"), 14, f"{first_m} to {last_m}"
                    )
                    page.wait_for_timeout(300)
                results["month range one month shorter (first)"] = first
                results["month range one month shorter (cached)"] = cached
                page.close()
                ctx.close()

                # The README's way: `hotspots app` warms its server before saying it is ready.
                served = Path(tmp) / "served"
                ready_s, served_view = served_first_view(new_context, served, outside)
                results["hotspots app: start to 'ready' (server warmed)"] = [ready_s]
                results["first view after hotspots app says ready"] = [served_view]
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    print(f"app first view and redraw, shipped data, Chromium headless, {os.cpu_count()} cores")
    for name, values in results.items():
        print(f"  {name:<66} {summary(values)}")
    print(f"  requests outside 127.0.0.1: {len(outside)}")
    if args.json:
        args.json.write_text(json.dumps({"timings_s": results, "outside": outside}, indent=1))
    return 0 if not outside else 1


if __name__ == "__main__":
    raise SystemExit(main())
