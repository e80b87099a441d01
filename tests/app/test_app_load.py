"""Ten app sessions at once in Debian's Chromium, on a freshly started server.

Runs one round of ``benchmarks/bench_load_sessions.py``: starts ``streamlit run app.py``
on 127.0.0.1, opens 10 sessions at once (one browser, ten contexts, every request
outside 127.0.0.1 blocked), waits for each page's map to draw the 14 ward polygons, then
has every session change a filter at the same moment and waits for each redraw; then
opens 10 more sessions at once over the websocket without a browser (the server's part).

Asserted: all 10 sessions became ready and redrew, no page showed a traceback or an
error box, no request left the machine, and the server's peak resident memory stayed
under :data:`MEMORY_BOUND_MB`. Timings are printed (``pytest -s``), never asserted: on
two cores the ten pages' rendering in the same machine's browser takes most of the CPU.

Without Chromium the test is skipped, except under CI (``$CI`` set), where it fails.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from tests.browser_kit import CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SESSIONS = 10
MEMORY_BOUND_MB = 2000
"""The server's resident memory with 10 sessions on the shipped data stays under this:
0.58 GB was measured at the peak (0.9-1.0 GB before small-bandwidth KDE skipped the FFT
lattice), see ``benchmarks/README.md``; the bound leaves about twice the older figure."""


def _bench():
    path = ROOT / "benchmarks" / "bench_load_sessions.py"
    spec = importlib.util.spec_from_file_location("bench_load_sessions", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_ten_sessions_at_once_all_draw_the_map_and_redraw_within_the_memory_bound():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the browser tests")
        pytest.skip(reason)
    bench = _bench()
    res = bench.measure(SESSIONS, rounds=1, timeout_s=300.0, chromium=str(CHROMIUM))
    bench.print_table(res, MEMORY_BOUND_MB)
    (r,) = res["rounds"]
    assert r["sessions"] == SESSIONS
    assert r["problems"] == {}, r["problems"]
    assert r["ready"] == SESSIONS, r["ready_s"]
    assert all(t is not None for t in r["redraw_s"]), (r["changes"], r["redraw_s"])
    assert len(set(r["changes"])) == len(bench.CHANGES)  # every kind of change was made
    w = res["server_only"]  # the same first view opened over the websocket, no browser
    assert w["ready"] == SESSIONS and w["problems"] == {}, w["problems"]
    assert res["outside_requests"] == [], res["outside_requests"][:5]
    assert res["rss_samples"] > 10
    assert 0 < res["server_peak_rss_mb"] < MEMORY_BOUND_MB, res["server_peak_rss_mb"]
