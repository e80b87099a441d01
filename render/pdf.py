"""Printing the report to an A4 PDF with headless Chromium, when it is installed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["find_chromium", "print_pdf"]

_CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def find_chromium() -> str | None:
    """Find the Chromium executable.

    Returns
    -------
    str or None
        ``/usr/bin/chromium`` (or ``chromium-browser``, or ``chromium`` on the path), or
        None when it is not installed.
    """
    for p in _CHROMIUM_PATHS:
        if Path(p).exists():
            return p
    return shutil.which("chromium")


def print_pdf(
    html_path: Path,
    pdf_path: Path,
    *,
    chromium: str | None = None,
    budget_ms: int = 8000,
    timeout_s: float = 180.0,
) -> Path:
    """Print an HTML file to an A4 PDF with headless Chromium.

    Parameters
    ----------
    html_path
        The page (opened as a ``file://`` URL).
    pdf_path
        Where to write the PDF.
    chromium
        The browser executable; :func:`find_chromium` by default.
    budget_ms
        Virtual time given to the page before printing (lets maps and scripts settle).
    timeout_s
        Wall-clock limit.

    Returns
    -------
    pathlib.Path
        ``pdf_path``.

    Raises
    ------
    RuntimeError
        If Chromium is missing or fails, or writes no PDF.
    """
    exe = chromium or find_chromium()
    if exe is None:
        msg = "Chromium is not installed (/usr/bin/chromium); the PDF was not printed."
        raise RuntimeError(msg)
    pdf_path = Path(pdf_path).resolve()
    pdf_path.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="eh-chromium-") as profile:
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--mute-audio",
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={int(budget_ms)}",
            f"--print-to-pdf={pdf_path}",
            "--no-pdf-header-footer",
            Path(html_path).resolve().as_uri(),
        ]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired as exc:
            msg = f"Chromium did not finish printing {html_path} within {timeout_s:.0f} s."
            raise RuntimeError(msg) from exc
    if not pdf_path.exists() or pdf_path.stat().st_size == 0:
        tail = (proc.stderr or "").strip().splitlines()[-3:]
        msg = f"Chromium wrote no PDF (exit {proc.returncode}): {' | '.join(tail)}"
        raise RuntimeError(msg)
    return pdf_path
