"""``hotspots app``: the server starts, is warmed by one session, says so, and stops with it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_hotspots_app_warms_the_server_then_stops_with_it(tmp_path):
    port = _free_port()
    env = dict(os.environ, HOTSPOTS_USER_DIR=str(tmp_path / "user"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "app", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "the app is ready" in line or "warming it failed" in line:
                break
        said = "".join(lines)
        assert f"the app is ready on http://127.0.0.1:{port}; warmed up in" in said, said
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5) as r:
            assert r.status == 200
        server = _children(proc.pid)
        assert len(server) == 1  # the Streamlit server runs as a child
        # ... with the allocator settings (glibc reads them at its start)
        environ = Path(f"/proc/{server[0]}/environ").read_bytes().split(b"\0")
        assert b"MALLOC_MMAP_THRESHOLD_=268435456" in environ
        assert b"MALLOC_TRIM_THRESHOLD_=1073741824" in environ
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) is not None
        time.sleep(0.5)
        assert not Path(f"/proc/{server[0]}").exists()  # stopped and reaped
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        proc.stderr.close()  # else an unclosed-file ResourceWarning, an error under pytest


def test_the_server_config_binds_locally_sends_nothing_and_skips_the_collection(monkeypatch):
    # Streamlit's own parse of the repository's .streamlit/config.toml (the server runs
    # there), so a misplaced section or misspelt key fails here.
    from streamlit import config

    monkeypatch.chdir(ROOT)
    config.get_config_options(force_reparse=True)
    assert config.get_option("server.address") == "127.0.0.1"
    assert config.get_option("browser.gatherUsageStats") is False
    assert config.get_option("server.fileWatcherType") == "none"
    assert config.get_option("runner.postScriptGC") is False


_MMAPPED_AFTER_100_MIB = """
import ctypes, sys
from app_views.serve import keep_freed_memory

class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
        "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
libc.malloc.restype = ctypes.c_void_p
if sys.argv[1] == "kept":
    assert keep_freed_memory()
before = libc.mallinfo2().hblkhd
block = libc.malloc(100 * 2**20)
print(libc.mallinfo2().hblkhd - before)
"""


@pytest.mark.parametrize(("mode", "mapped"), [("default", True), ("kept", False)])
def test_keep_freed_memory_puts_large_arrays_on_the_heap(mode, mapped):
    # glibc by default gives a 100 MiB block its own mapping (unmapped when freed, so
    # faulted in again next time); with the settings it comes from the heap, and stays.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    run = subprocess.run(
        [sys.executable, "-c", _MMAPPED_AFTER_100_MIB, mode],
        capture_output=True, text=True, env=env, check=True, timeout=120,
    )  # fmt: skip
    assert (int(run.stdout) >= 100 * 2**20) is mapped
