"""Printing from the app: a print stylesheet, and packs written as A4 PDF and HTML to download.

Ctrl+P prints the view without the sidebar, the toolbar or the widgets' chrome
(:data:`PRINT_CSS`). The Patrol plan and the Tasking review offer their pack as a PDF
printed by Chromium and as one offline HTML page (:func:`pack_files`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from packs.model import Pack
from render.report import write_report

__all__ = ["PRINT_CSS", "pack_files", "print_stylesheet"]

PRINT_CSS = """
<style>
@media print {
  @page { size: A4; margin: 12mm; }
  [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"],
  [data-testid="stDecoration"], [data-testid="stStatusWidget"],
  [data-testid="stDownloadButton"], [data-testid="stButton"] { display: none !important; }
  [data-testid="stMain"], [data-testid="stMainBlockContainer"] {
    margin: 0 !important; padding: 0 !important; max-width: 100% !important; }
  [data-testid="stAppViewContainer"] { position: static !important; }
}
</style>
"""
"""The print stylesheet: only the view's content, on A4 (a constant, never data)."""


def print_stylesheet() -> None:
    """Add :data:`PRINT_CSS` to the page."""
    st.markdown(PRINT_CSS, unsafe_allow_html=True)


def pack_files(pack: Pack) -> dict[str, bytes | str]:
    """The pack as ``html`` and ``pdf`` bytes (``pdf`` absent when Chromium is missing).

    Parameters
    ----------
    pack
        A pack with its base map (:mod:`packs`).

    Returns
    -------
    dict
        ``html``, and ``pdf`` where it could be printed; ``note`` says why not.
    """
    with tempfile.TemporaryDirectory(prefix="hotspots_pack_") as tmp:
        files = write_report(pack, Path(tmp), maps="static")
        out: dict[str, bytes | str] = {"html": files.html.read_bytes()}
        if files.pdf is not None:
            out["pdf"] = files.pdf.read_bytes()
        else:
            out["note"] = " ".join(files.notes)
    return out
