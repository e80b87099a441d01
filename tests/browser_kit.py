"""What the browser tests and the app benchmarks share: Chromium, the app's server, the map.

Used by ``tests/test_app_browser.py``, ``tests/test_render_offline.py`` and
``benchmarks/bench_app.py`` / ``bench_load_sessions.py`` (which put the repository on
``sys.path`` to import it).
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from app_views.serve import APP, server_command, wait_healthy

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
    env = dict(os.environ, HOTSPOTS_USER_DIR=str(folder / "user"))
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
