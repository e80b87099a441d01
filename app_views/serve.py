"""Start the app's server and warm it before saying it is ready.

The first page open on a fresh Streamlit server pays for everything once: importing
geopandas, SciPy, folium and Streamlit's own modules, reading the shipped months and
finding the default hotspots (about 4-5 s here). ``hotspots app`` therefore starts the
server, opens one session itself over the server's websocket (what a browser's page
does first: ask for a script run, then receive every element) and only then prints
that the app is ready: the first user then sees what every later user sees.

The server is a child process; stopping ``hotspots app`` (Ctrl-C, SIGTERM) stops it.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

__all__ = [
    "MALLOC_SETTINGS",
    "keep_freed_memory",
    "open_session",
    "serve",
    "server_command",
    "server_env",
    "wait_healthy",
]

APP = Path(__file__).resolve().parents[1] / "app.py"

MALLOC_SETTINGS = {
    "MALLOC_MMAP_THRESHOLD_": str(256 * 2**20),
    "MALLOC_TRIM_THRESHOLD_": str(2**30),
    "MALLOC_TOP_PAD_": str(64 * 2**20),
}
"""The server's glibc allocator settings: arrays up to 256 MiB from the heap, and up to
1 GiB of freed memory kept for the next run. By default glibc gives every large array
its own mapping and unmaps it when freed, so every run faults its memory in again:
measured here in one process, each later run of New Forest's patrol-area fit spent
0.17-0.22 s in the kernel (its first run 0.9-1.2 s); with these, 0.00-0.03 s (its first
run 0.3-0.7 s). The process keeps the memory of its largest run (freed memory beyond
1 GiB is returned). Values already in the environment win."""


_MALLOPT_PARAMS = {
    "MALLOC_TRIM_THRESHOLD_": -1,
    "MALLOC_TOP_PAD_": -2,
    "MALLOC_MMAP_THRESHOLD_": -3,
}
"""glibc's ``mallopt`` parameter numbers (M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD)."""


def keep_freed_memory() -> bool:
    """Give this process's glibc allocator :data:`MALLOC_SETTINGS`, as it runs.

    The server gets them in its environment at start (:func:`server_env`); a command
    already running (``hotspots ingest``) sets them with ``mallopt``. Measured on the
    two national months' ingest, each in a fresh process, three rounds alternating:
    2.56-2.61 s without, 2.18-2.42 s with (kernel time 0.43-0.87 s -> 0.36-0.53 s).
    A value the environment already sets is the one applied.

    Returns
    -------
    bool
        True when every setting was taken; False where the C library is not glibc.
    """
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    taken = [
        mallopt(param, int(os.environ.get(key, MALLOC_SETTINGS[key]))) == 1
        for key, param in _MALLOPT_PARAMS.items()
    ]
    return all(taken)


async def open_session(url: str, timeout_s: float = 120.0) -> tuple[float, int]:
    """Open one app session over the websocket, without a browser, and wait for its script run.

    Parameters
    ----------
    url
        The server's stream endpoint, ``ws://127.0.0.1:<port>/_stcore/stream``.
    timeout_s
        Longest wait for any one message.

    Returns
    -------
    tuple of (float, int)
        Seconds until the script run finished, and bytes received.

    Raises
    ------
    RuntimeError
        If the script run shows an exception.
    OSError, TimeoutError
        If the server cannot be reached or stops answering.
    """
    import websockets  # noqa: PLC0415 - a dependency of Streamlit
    from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: PLC0415
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: PLC0415

    t0 = time.perf_counter()
    size = 0
    async with websockets.connect(url, subprotocols=["streamlit"], max_size=None) as ws:
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        await ws.send(msg.SerializeToString())
        while True:
            data = await asyncio.wait_for(ws.recv(), timeout_s)
            size += len(data)
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.new_element.WhichOneof("type") == "exception":
                raise RuntimeError(fwd.delta.new_element.exception.message)
            if kind == "script_finished":
                return time.perf_counter() - t0, size


def wait_healthy(
    port: int, proc: subprocess.Popen, timeout_s: float = 60.0, host: str = "127.0.0.1"
) -> bool:
    """Wait until the server on ``port`` answers its health check (False if it died or timed out).

    Parameters
    ----------
    port
        The server's port.
    proc
        The server process.
    timeout_s
        Longest wait.
    host
        The address to reach it on.

    Returns
    -------
    bool
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/_stcore/health", timeout=2):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def server_command(address: str, port: int) -> list[str]:
    """The command that runs the app's Streamlit server, headless, without usage statistics.

    Parameters
    ----------
    address
        Address to bind.
    port
        Port.

    Returns
    -------
    list of str
    """
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        address,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]


def server_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the app's server runs in: ``base`` with :data:`MALLOC_SETTINGS`.

    Parameters
    ----------
    base
        The environment to start from (this process's by default); a setting it already
        has is kept.

    Returns
    -------
    dict

    Examples
    --------
    >>> env = server_env({"MALLOC_TOP_PAD_": "0", "HOME": "/home/x"})
    >>> env["MALLOC_TOP_PAD_"], env["HOME"], env["MALLOC_MMAP_THRESHOLD_"]
    ('0', '/home/x', '268435456')
    """
    env = dict(os.environ if base is None else base)
    for key, value in MALLOC_SETTINGS.items():
        env.setdefault(key, value)
    return env


def serve(address: str = "127.0.0.1", port: int = 8501, *, warm_up: bool = True) -> int:
    """Run the app's server until stopped; warm it first.

    Parameters
    ----------
    address
        Address to bind (127.0.0.1: this machine only).
    port
        Port.
    warm_up
        Open one session before announcing the app as ready.

    Returns
    -------
    int
        The server's exit status (0 when stopped with Ctrl-C or SIGTERM).
    """
    cmd = server_command(address, port)
    everywhere = address in ("0.0.0.0", "::", "")  # noqa: S104 - only when asked for
    host = "127.0.0.1" if everywhere else address
    url = f"http://{socket.gethostname() if everywhere else address}:{port}"
    url += " (every network interface)" if everywhere else ""
    print(f"starting the app on {url}", file=sys.stderr, flush=True)
    proc = subprocess.Popen(cmd, cwd=APP.parent, env=server_env())

    def stop(*_: object) -> None:
        proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        if warm_up and wait_healthy(port, proc, host=host):
            t0 = time.perf_counter()
            try:
                asyncio.run(open_session(f"ws://{host}:{port}/_stcore/stream"))
                print(
                    f"the app is ready on {url}; warmed up in {time.perf_counter() - t0:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
            except (OSError, TimeoutError, RuntimeError) as exc:
                print(
                    f"the app is up on {url}; warming it failed ({exc}), so the first page "
                    "open will be slower",
                    file=sys.stderr,
                    flush=True,
                )
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        try:
            return 0 if proc.wait(timeout=10) in (0, -signal.SIGINT) else proc.returncode
        except subprocess.TimeoutExpired:
            proc.kill()
            return 0
    finally:
        if proc.poll() is None:
            proc.terminate()
