"""What the browser tests and the app benchmarks share: Chromium, the app's server, the map.

Used by ``tests/app/test_app_browser*.py``, ``tests/render/test_render_offline.py`` and
``benchmarks/bench_app.py`` / ``bench_load_sessions.py`` (which put the repository on
``sys.path`` to import it).
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from app_views.serve import APP, server_command, server_env, wait_healthy

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium (``apt-get install chromium``), driven through Playwright."""

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""Headless, and nothing of Chromium's own reaching outside the machine."""

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
"""Hosts a page may reach; every other request is blocked and recorded."""

MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']"
"""The CSS selector of a folium map drawn by ``st_folium``."""

MAP_READY = """([areas, text]) => {
  const frames = Array.from(document.querySelectorAll(
      "[data-stale='false'] iframe[title='streamlit_folium.st_folium']"));
  for (const f of frames) {
    const w = f.contentWindow, d = f.contentDocument;
    if (!w || !d || !w.map_div || !d.querySelector('path.leaflet-interactive')) continue;
    let n = 0;
    w.map_div.eachLayer((l) => {
      const p = l.feature && l.feature.properties;
      if (p && l._path) {
        const c = p.code !== undefined ? p.code : p.p_code;
        if (c !== undefined && !('rank' in p) && !('p_rank' in p)) n += 1;
      }
    });
    const legend = d.querySelector('.eh-legend-areas');
    if (n === areas && legend && legend.textContent.includes(text)) return true;
  }
  return false;
}"""
"""True when the fresh (non-stale) map iframe has drawn ``areas`` area polygons and its
area legend's title contains ``text`` (arguments ``[areas, text]``)."""


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, folder: Path, cpus: set[int] | None = None) -> subprocess.Popen:
    """``streamlit run app.py`` headless on 127.0.0.1:port; returns once it is healthy.

    The venue file goes to ``folder/user`` and the server's output to
    ``folder/streamlit.log``; ``cpus`` pins the server to those CPUs.

    Raises
    ------
    RuntimeError
        If the server does not answer within 90 s (with the end of its log).
    """
    folder.mkdir(parents=True, exist_ok=True)
    env = server_env(dict(os.environ, HOTSPOTS_USER_DIR=str(folder / "user")))
    with (folder / "streamlit.log").open("w") as log:
        proc = subprocess.Popen(
            server_command("127.0.0.1", port),
            cwd=APP.parent,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,  # noqa: PLW1509
        )
    if wait_healthy(port, proc, timeout_s=90):
        return proc
    proc.kill()
    msg = f"the app did not start:\n{(folder / 'streamlit.log').read_text()[-3000:]}"
    raise RuntimeError(msg)


def stop(proc: subprocess.Popen) -> None:
    """Stop a server started by :func:`start_app` (kill it if it does not stop in 10 s)."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def outside_guard(outside: list[str]) -> Callable:
    """A Playwright route handler that lets local requests through and blocks the rest.

    Pass it to ``context.route("**/*", ...)``; every blocked URL is appended to
    ``outside``, so a test can assert the page reached nothing beyond the machine.
    """

    def guard(route) -> None:
        url = route.request.url
        host = urlparse(url).hostname
        if url.startswith(("data:", "blob:", "about:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    return guard


def wait_idle(page, timeout_ms: int = 60_000) -> None:
    """Wait until Streamlit has finished the script run and removed stale elements."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-stale=\"true\"]')",
        timeout=timeout_ms,
    )


def map_frame(page, height: int, timeout_ms: int = 60_000):
    """The view's st_folium iframe, once it is the only fresh one and Leaflet drew in it.

    Maps left over from the previous run are marked stale by Streamlit until removed;
    the main map and the other views' maps also differ in height.
    """
    sel = f"[data-stale='false'] {MAP_IFRAME}[height='{height}']"
    page.wait_for_function(
        f'() => document.querySelectorAll("{MAP_IFRAME}").length === 1'
        f' && document.querySelectorAll("{sel}").length === 1',
        timeout=timeout_ms,
    )
    frame = page.locator(sel).element_handle().content_frame()
    frame.locator("path.leaflet-interactive").first.wait_for(timeout=timeout_ms)
    return frame


def open_view(page, name: str) -> None:
    """Pick the view ``name`` in the sidebar and wait until its heading is drawn and idle."""
    page.locator("[data-testid='stSidebar'] label").filter(has_text=name).first.click()
    main = page.locator("[data-testid='stMain']")  # the sidebar has a 'Map' subheader too
    main.get_by_role("heading", name=name, exact=True).wait_for(timeout=60_000)
    wait_idle(page)


def pick(page, box, option, attempts: int = 4) -> None:
    """Open the select box ``box`` (a locator) and click its option ``option``.

    ``option`` is the option's accessible name (a string or a compiled pattern). A rerun
    that starts just as the box opens (the map reports its first view to the server
    once drawn) redraws the page and closes the list: the box is opened again, up to
    ``attempts`` times, before the wait fails.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: PLC0415

    for attempt in range(attempts):
        box.click()
        choice = page.get_by_role("option", name=option).first
        try:
            choice.wait_for(timeout=10_000)
            choice.click()
            return
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
            wait_idle(page)
