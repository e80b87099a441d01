"""Ten app sessions at once: page-ready and redraw times, and the server's peak memory.

Starts ``streamlit run app.py`` on a free port of 127.0.0.1 (a fresh process), then opens
N sessions at once in Debian's Chromium through Playwright's async API (one browser, one
context and page per session, every request outside 127.0.0.1 blocked and counted):

* **page ready**: from ``page.goto`` to the moment Leaflet has drawn the 14 ward polygons
  of the first view inside the st_folium iframe (polled every 100 ms);
* **filter redraw**: once every page is ready, every session changes a sidebar filter at
  the same moment (each a different change: the measure, the boundary set, the month
  range, a crime type added; the ten cover six distinct changes, so some run the same
  computation at once), timed from the click or key press to the map redrawn with the
  new content (number of areas and the legend's title).

Round 1 meets a cold server (Python imports, the shipped months read and the hotspots
found while ten sessions wait); round 2 opens N new sessions at once on the now warm
server and repeats the changes. Last, "server only": N sessions at once opened over the
websocket the way the page does (first ``rerun_script``), without a browser, timed to
``script_finished``: the server's share of a page open, with the browser's rendering of
N pages (which on this machine shares the same two cores) taken out. The server's resident memory (the process and any
children: psutil when installed, else ``/proc/<pid>/status`` VmRSS) is sampled every
100 ms throughout. CPU time is read from ``/proc`` for the server, for the browser (the
processes this script started) and for the whole machine, to tell the server's work
from the browser's and from other work on the machine.

Run from the repository root::

    .venv/bin/python benchmarks/bench_load_sessions.py                 # 10 sessions, 2 rounds
    .venv/bin/python benchmarks/bench_load_sessions.py --sessions 20 --json load.json

Exit status 0 when every session became ready and redrew with no error or exception on
its page, no request left the machine and the peak RSS stayed under ``--bound-mb``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from app_views.serve import open_session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tests/browser_kit.py
from tests.browser_kit import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    LOCAL_HOSTS,
    MAP_READY,
    free_port,
    start_app,
)

ROOT = Path(__file__).resolve().parents[1]
BOUND_MB = 2000
"""The stated bound on the server's resident memory with 10 sessions on the shipped data
(peak measured here about 1.0 GB; see benchmarks/README.md for the worst case)."""

ERRORS = "[data-testid='stException'], [data-testid='stAlertContentError']"
"""A traceback or an st.error box on the page."""


# The filter changes, one per session in turn: (name, kind, argument, areas, legend text).
CHANGES = [
    ("measure count -> rate", "label", "Rate per 1,000", 14, "ASB, per 1,000 residents"),
    ("boundary set -> local areas", "select", ("Boundary set", "Local areas"), 5, "ASB, count"),
    ("month range 2017-03..05", "thumb", "ArrowRight", 14, "2017-03 to 2017-05"),
    ("crime type + Shoplifting", "type", "Shoplifting", 14, "ASB + Shoplifting, count"),
    ("boundary set -> LSOAs", "select", ("Boundary set", "LSOAs (2011)"), 77, "ASB, count"),
    ("boundary set -> 2002 wards", "select", ("Boundary set", "Wards (2002"), 19, "ASB, count"),
]


# ------------------------------------------------------------------ the server and /proc


def start_server(port: int, folder: Path, cpus: set[int] | None = None) -> subprocess.Popen:
    """``streamlit run app.py`` on 127.0.0.1:port, healthy (see tests/browser_kit.py)."""
    return start_app(port, folder, cpus)


def _ppids() -> dict[int, int]:
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    stat = fh.read()
            except OSError:
                continue
            out[int(entry)] = int(stat[stat.rindex(b")") + 2 :].split()[1])
    return out


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc)."""
    parents = _ppids()
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(c for c, pp in parents.items() if pp == p)
    return tree


def rss_mb(pids: list[int]) -> float:
    """Resident memory of the processes, MB (psutil when installed, else /proc VmRSS)."""
    try:
        import psutil  # noqa: PLC0415 - optional

        total = 0
        for p in pids:
            with contextlib.suppress(psutil.Error):
                total += psutil.Process(p).memory_info().rss
        return total / 2**20
    except ImportError:
        pass
    total_kb = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total_kb += int(line.split()[1])
                        break
        except OSError:
            pass
    return total_kb / 1024


def cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds used so far by the processes (from /proc/<pid>/stat)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError):
            pass
    return total / tick


def machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy (all cores), from /proc/stat."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class RssSampler(threading.Thread):
    """Samples the RSS of a process and its children every ``every_s`` seconds."""

    def __init__(self, pid: int, every_s: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.every_s = pid, every_s
        self.samples: list[tuple[float, float]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        t0 = time.monotonic()
        tree_at, tree = 0.0, [self.pid]
        while not self._halt.is_set():
            now = time.monotonic()
            if now - tree_at > 2.0:  # children are rare: look for them every 2 s
                tree, tree_at = process_tree(self.pid), now
            self.samples.append((now - t0, rss_mb(tree)))
            self._halt.wait(self.every_s)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    @property
    def peak_mb(self) -> float:
        return max((mb for _, mb in self.samples), default=0.0)


# ------------------------------------------------------------------ one session


@dataclass
class Session:
    """One browser session: its page and what was measured on it."""

    index: int
    page: object = None
    ready_s: float | None = None
    change: str = ""
    redraw_s: float | None = None
    problems: list[str] = field(default_factory=list)


async def _wait_map(page, areas: int, text: str, timeout_s: float) -> None:
    await page.wait_for_function(
        MAP_READY, arg=[areas, text], polling=100, timeout=timeout_s * 1000
    )


async def _errors_on(page) -> list[str]:
    shown = page.locator(ERRORS)
    return [
        " ".join((await shown.nth(i).inner_text()).split())[:200]
        for i in range(await shown.count())
    ]


async def _open(s: Session, context, url: str, timeout_s: float) -> None:
    s.page = await context.new_page()
    t0 = time.perf_counter()
    try:
        await s.page.goto(url)
        await _wait_map(s.page, 14, "ASB, count", timeout_s)
        s.ready_s = time.perf_counter() - t0
    except Exception as exc:  # noqa: BLE001 - recorded; the caller decides
        s.problems.append(f"not ready: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    s.problems.extend(await _errors_on(s.page))


async def _change(s: Session, timeout_s: float) -> None:
    name, kind, arg, areas, text = CHANGES[s.index % len(CHANGES)]
    s.change = name
    page = s.page
    sidebar = page.locator("[data-testid='stSidebar']")
    try:
        if kind == "type":  # type the name, then time from the Enter key
            combo = sidebar.locator("input[aria-label='Crime types']")
            await combo.click()
            await combo.fill(arg)
            await page.wait_for_timeout(300)
        elif kind == "select":  # open the list, then time from the click on the option
            box = sidebar.locator("[data-testid='stSelectbox']").filter(has_text=arg[0]).first
            await box.click()
            option = page.get_by_role("option", name=arg[1], exact=False)
            await option.first.wait_for()
        elif kind == "thumb":
            await sidebar.locator("input[type='range']").first.focus()
        t0 = time.perf_counter()
        if kind == "label":
            await sidebar.locator("label").filter(has_text=arg).first.click()
        elif kind == "select":
            await option.first.click()
        else:
            await page.keyboard.press("Enter" if kind == "type" else arg)
        await _wait_map(page, areas, text, timeout_s)
        s.redraw_s = time.perf_counter() - t0
        if kind == "type":
            await page.keyboard.press("Escape")
    except Exception as exc:  # noqa: BLE001 - recorded; the caller decides
        s.problems.append(f"{name}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    s.problems.extend(await _errors_on(page))


# ------------------------------------------------------------------ server only


async def _ws_session(url: str, timeout_s: float) -> tuple[float | None, int, str]:
    """Open a session the way the page's script does, over the websocket, without a browser.

    The server's part of a page open (the script run and every message sent), with no
    page to render (:func:`app_views.serve.open_session`, which ``hotspots app`` warms
    its server with). Returns (seconds, bytes received, problem).
    """
    try:
        seconds, size = await open_session(url, timeout_s)
    except RuntimeError as exc:
        return None, 0, f"exception: {exc}"
    except Exception as exc:  # noqa: BLE001 - recorded; the caller decides
        return None, 0, f"{type(exc).__name__}: {exc}"
    return seconds, size, ""


async def _ws_round(port: int, n: int, timeout_s: float, server_pids) -> dict:
    url = f"ws://127.0.0.1:{port}/_stcore/stream"
    cpu0 = (cpu_s(server_pids()), machine_busy_s(), time.monotonic())
    runs = await asyncio.gather(*(_ws_session(url, timeout_s) for _ in range(n)))
    cpu1 = (cpu_s(server_pids()), machine_busy_s(), time.monotonic())
    done = [t for t, _, _ in runs if t is not None]
    return {
        "sessions": n,
        "ready": len(done),
        "ready_s": [t for t, _, _ in runs],
        "bytes": [b for _, b, _ in runs],
        "problems": {i: [p] for i, (_, _, p) in enumerate(runs) if p},
        "ready_summary": _summary(done),
        "cpu": {
            "wall_s": cpu1[2] - cpu0[2],
            "server_cpu_s": cpu1[0] - cpu0[0],
            "machine_busy_s": cpu1[1] - cpu0[1],
        },
    }


# ------------------------------------------------------------------ the run


def _summary(values: list[float]) -> dict[str, float | None]:
    return {
        "slowest": max(values) if values else None,
        "median": statistics.median(values) if values else None,
        "fastest": min(values) if values else None,
    }


async def _round(browser, url: str, n: int, outside: list[str], timeout_s: float, pids) -> dict:
    async def guard(route) -> None:
        req = route.request.url
        if req.startswith(("data:", "blob:", "about:")) or urlparse(req).hostname in LOCAL_HOSTS:
            await route.continue_()
        else:
            outside.append(req)
            await route.abort()

    contexts = []
    for _ in range(n):
        ctx = await browser.new_context(viewport={"width": 1440, "height": 1000})
        await ctx.route("**/*", guard)
        contexts.append(ctx)
    sessions = [Session(i) for i in range(n)]
    server, browser_pids = pids()
    cpu0 = (cpu_s(server), cpu_s(browser_pids), machine_busy_s(), time.monotonic())
    await asyncio.gather(
        *(_open(s, c, url, timeout_s) for s, c in zip(sessions, contexts, strict=True))
    )
    server, browser_pids = pids()
    cpu1 = (cpu_s(server), cpu_s(browser_pids), machine_busy_s(), time.monotonic())
    ready = [s for s in sessions if s.ready_s is not None]
    await asyncio.sleep(1.0)  # let the last pages settle before everyone clicks
    cpu2 = (cpu_s(server), cpu_s(browser_pids), machine_busy_s(), time.monotonic())
    await asyncio.gather(*(_change(s, timeout_s) for s in ready))
    server, browser_pids = pids()
    cpu3 = (cpu_s(server), cpu_s(browser_pids), machine_busy_s(), time.monotonic())
    for ctx in contexts:
        await ctx.close()

    def cpu(a, b) -> dict[str, float]:
        return {
            "wall_s": b[3] - a[3],
            "server_cpu_s": b[0] - a[0],
            "browser_cpu_s": b[1] - a[1],
            "machine_busy_s": b[2] - a[2],
        }

    return {
        "sessions": n,
        "ready": len(ready),
        "ready_s": [s.ready_s for s in sessions],
        "redraw_s": [s.redraw_s for s in sessions],
        "changes": [s.change for s in sessions],
        "problems": {s.index: s.problems for s in sessions if s.problems},
        "ready_summary": _summary([s.ready_s for s in ready]),
        "redraw_summary": _summary([s.redraw_s for s in sessions if s.redraw_s is not None]),
        "cpu_open": cpu(cpu0, cpu1),
        "cpu_change": cpu(cpu2, cpu3),
    }


def measure(
    sessions: int = 10,
    rounds: int = 2,
    timeout_s: float = 240.0,
    chromium: str = str(CHROMIUM),
    *,
    pin: bool = False,
) -> dict:
    """Start the app, open ``sessions`` sessions at once per round, change a filter in each.

    With ``pin``, the server runs on CPU 0 and the browser (this process and everything
    it starts) on CPU 1, so the browser's rendering of N pages cannot take the server's
    CPU: the server then has one core, as a one-core server whose users' browsers run on
    their own machines.

    Returns
    -------
    dict
        Per round: ready and redraw times per session, their slowest and median, the
        problems seen on each page, CPU seconds of server, browser and machine; overall:
        the server's peak RSS (MB), its RSS once started, the requests blocked, the load
        average at the start.
    """
    from playwright.async_api import async_playwright  # noqa: PLC0415

    outside: list[str] = []
    with open("/proc/loadavg") as fh:
        load_before = fh.read().split()[:3]
    with tempfile.TemporaryDirectory(prefix="bench_load_") as tmp:
        port = free_port()
        mask = os.sched_getaffinity(0)
        if pin:
            os.sched_setaffinity(0, {1})  # the browser, started below, inherits it
        proc = start_server(port, Path(tmp), cpus={0} if pin else None)
        url = f"http://127.0.0.1:{port}"
        sampler = RssSampler(proc.pid)
        idle_mb = rss_mb(process_tree(proc.pid))
        sampler.start()
        me = os.getpid()

        def pids() -> tuple[list[int], list[int]]:
            mine = process_tree(me)
            server = process_tree(proc.pid)
            return server, [p for p in mine if p not in server and p != me]

        async def main() -> tuple[list[dict], dict]:
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                out = []
                for _ in range(rounds):
                    out.append(await _round(browser, url, sessions, outside, timeout_s, pids))
                await browser.close()
            await asyncio.sleep(2.0)
            ws = await _ws_round(port, sessions, timeout_s, lambda: pids()[0])
            return out, ws

        try:
            results, server_only = asyncio.run(main())
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
            sampler.stop()
            os.sched_setaffinity(0, mask)
    return {
        "rounds": results,
        "server_only": server_only,
        "server_idle_rss_mb": idle_mb,
        "server_peak_rss_mb": sampler.peak_mb,
        "rss_samples": len(sampler.samples),
        "rss_trace_mb": [
            round(mb, 1) for _, mb in sampler.samples[:: max(1, len(sampler.samples) // 200)]
        ],
        "outside_requests": outside,
        "load_average_before": load_before,
        "cores": os.cpu_count(),
        "pinned": pin,
    }


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def print_table(res: dict, bound_mb: float) -> None:
    """The table: per round, sessions, page ready and redraw times, peak RSS and the bound."""
    where = "server on CPU 0, browser on CPU 1" if res.get("pinned") else "sharing both"
    print(
        f"{res['rounds'][0]['sessions']} app sessions at once, shipped data, Chromium headless, "
        f"{res['cores']} cores ({where}), load average before "
        f"{' '.join(res['load_average_before'])}"
    )
    head = (
        f"{'round':<12}{'sessions':>9}{'ready':>7}{'slowest ready s':>17}{'median ready s':>16}"
        f"{'slowest redraw s':>18}{'median redraw s':>17}"
    )
    print(head)
    for i, r in enumerate(res["rounds"]):
        name = "cold server" if i == 0 else "warm server"
        print(
            f"{name:<12}{r['sessions']:>9}{r['ready']:>7}"
            f"{_fmt(r['ready_summary']['slowest']):>17}{_fmt(r['ready_summary']['median']):>16}"
            f"{_fmt(r['redraw_summary']['slowest']):>18}{_fmt(r['redraw_summary']['median']):>17}"
        )
    w = res["server_only"]
    print(
        f"{'server only':<12}{w['sessions']:>9}{w['ready']:>7}"
        f"{_fmt(w['ready_summary']['slowest']):>17}{_fmt(w['ready_summary']['median']):>16}"
        f"{'-':>18}{'-':>17}   (websocket clients, no browser: until script_finished)"
    )
    print(
        f"server RSS: {res['server_idle_rss_mb']:.0f} MB started, peak {res['server_peak_rss_mb']:.0f} MB"
        f" ({res['rss_samples']} samples, every 100 ms); stated bound {bound_mb:.0f} MB:"
        f" {'within' if res['server_peak_rss_mb'] < bound_mb else 'EXCEEDED'}"
    )
    for i, r in enumerate(res["rounds"]):
        for phase in ("cpu_open", "cpu_change"):
            c = r[phase]
            print(
                f"round {i + 1} {phase[4:]:<6}: wall {c['wall_s']:.1f} s; CPU s: server "
                f"{c['server_cpu_s']:.1f}, browser {c['browser_cpu_s']:.1f}, whole machine "
                f"{c['machine_busy_s']:.1f} of {c['wall_s'] * res['cores']:.1f} available"
            )
    c = w["cpu"]
    print(
        f"server only open : wall {c['wall_s']:.1f} s; CPU s: server {c['server_cpu_s']:.1f}, "
        f"whole machine {c['machine_busy_s']:.1f} of {c['wall_s'] * res['cores']:.1f} available; "
        f"{statistics.median(w['bytes']) / 1e3:.0f} kB sent to each session"
    )
    for idx, problems in w["problems"].items():
        print(f"server only session {idx}: {problems}")
    for i, r in enumerate(res["rounds"]):
        by_change: dict[str, list[float]] = {}
        for name, t in zip(r["changes"], r["redraw_s"], strict=True):
            if t is not None:
                by_change.setdefault(name, []).append(t)
        print(
            f"round {i + 1} redraw by change: "
            + "; ".join(f"{k} {', '.join(f'{t:.2f}' for t in v)}" for k, v in by_change.items())
        )
        for idx, problems in r["problems"].items():
            print(f"round {i + 1} session {idx}: {problems}")
    print(f"requests outside 127.0.0.1: {len(res['outside_requests'])}")


def ok(res: dict, bound_mb: float) -> bool:
    """Every session ready and redrawn, no problem on any page, nothing outside, under the bound."""
    w = res["server_only"]
    return (
        all(r["ready"] == r["sessions"] and not r["problems"] for r in res["rounds"])
        and w["ready"] == w["sessions"]
        and not w["problems"]
        and all(t is not None for r in res["rounds"] for t in r["redraw_s"])
        and not res["outside_requests"]
        and res["server_peak_rss_mb"] < bound_mb
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2, help="1 = cold server only")
    ap.add_argument("--bound-mb", type=float, default=BOUND_MB)
    ap.add_argument(
        "--pin",
        action="store_true",
        help="server on CPU 0, browser on CPU 1 (the browser cannot take the server's CPU)",
    )
    ap.add_argument("--json", type=Path, help="write every figure here")
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} missing: apt-get install chromium")
    res = measure(args.sessions, args.rounds, pin=args.pin)
    print_table(res, args.bound_mb)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))
    return 0 if ok(res, args.bound_mb) else 1


if __name__ == "__main__":
    raise SystemExit(main())
