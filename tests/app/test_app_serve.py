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
