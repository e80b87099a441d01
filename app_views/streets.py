"""Streets in the app: the user's street file, given once, read once, drawn on every map.

The file comes from ``hotspots app --streets FILE`` (which copies it to the user's data
folder), an upload in the Data view (saved there too), or ``$HOTSPOTS_STREETS``. The copy
in the user's folder wins; ``$HOTSPOTS_STREETS`` is used when there is none. It is read
with :func:`geo.streets.read_streets` for the study area in use, cached on the file's
path and modification time (and the area), and the walking graph is cached beside it.
A file that cannot be used is reported in one line; the rest of the app carries on
without streets.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import streamlit as st

from analysis.network import WalkNetwork, build_walk_network
from app_views import state
from geo.errors import InputError
from geo.streets import read_streets
from render.streets import no_streets_message

__all__ = [
    "STREETS_ENV",
    "STREET_SUFFIXES",
    "save_streets_file",
    "streets",
    "streets_dir",
    "streets_for_map",
    "streets_path",
    "streets_problem",
    "walk_network",
]

STREETS_ENV = "HOTSPOTS_STREETS"
"""Environment variable naming a street file (set by ``hotspots app --streets``)."""

STREET_SUFFIXES = ("gpkg", "geojson", "json", "osm", "pbf")
"""File types the Data view accepts for streets (a Shapefile needs its siblings)."""


def streets_dir() -> Path:
    """Where the user's street file is kept: ``streets/`` in :func:`state.user_dir`."""
    return state.user_dir() / "streets"


def streets_path() -> Path | None:
    """The street file in use: the user's saved copy, else ``$HOTSPOTS_STREETS``, else None."""
    folder = streets_dir()
    if folder.is_dir():
        saved = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        if saved:
            return saved[-1]
    env = os.environ.get(STREETS_ENV)
    return Path(env).expanduser() if env else None


@st.cache_resource(max_entries=2, show_spinner="Reading the streets\u2026")
def _streets(path: str, mtime: float, area_key: str) -> gpd.GeoDataFrame:  # noqa: ARG001 - keys the cache
    # A file for part of the study area is accepted (it must meet it); the view says how
    # much of the area it covers.
    return read_streets(path, area_geometry=state.core_area().geometry, min_cover=0.0)


@st.cache_resource(max_entries=2, show_spinner="Building the walking network\u2026")
def _network(path: str, mtime: float, area_key: str) -> WalkNetwork:
    return build_walk_network(_streets(path, mtime, area_key))


def _stamp() -> tuple[str, float] | None:
    path = streets_path()
    if path is None:
        return None
    try:
        return state.file_stamp(path)
    except OSError as exc:
        msg = f"{path.name}: cannot be opened ({exc.strerror or exc}). Check the path."
        raise InputError(msg) from exc


def streets() -> gpd.GeoDataFrame | None:
    """The streets of the study area, or None when no street file is given.

    Raises
    ------
    InputError
        If the file cannot be used (one line naming it and the fix).
    """
    stamp = _stamp()
    if stamp is None:
        return None
    return _streets(stamp[0], stamp[1], state.core_area().key)


def walk_network() -> WalkNetwork | None:
    """The walking graph of :func:`streets`, or None without a street file."""
    stamp = _stamp()
    if stamp is None:
        return None
    return _network(stamp[0], stamp[1], state.core_area().key)


def streets_problem() -> str | None:
    """Why the street file in use cannot be used (one line), or None if it can (or is absent)."""
    try:
        streets()
    except InputError as exc:
        return str(exc).splitlines()[0]
    return None


def save_streets_file(name: str, content: bytes) -> Path:
    """Check an uploaded street file and keep it as the user's street file.

    It is read for the study area first; only a file that reads replaces the saved one.

    Raises
    ------
    InputError
        If it cannot be used; the saved file is then unchanged.
    """
    safe = Path(name).name or "streets"
    with tempfile.TemporaryDirectory() as tmp:
        trial = Path(tmp) / safe
        trial.write_bytes(content)
        read_streets(trial, area_geometry=state.core_area().geometry, min_cover=0.0)
        folder = streets_dir()
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / safe
        part = folder / f".{safe}.part"
        shutil.copyfile(trial, part)
        for old in folder.iterdir():
            if old.is_file() and not old.name.startswith("."):
                old.unlink()
        part.replace(target)
    return target


def streets_for_map() -> gpd.GeoDataFrame | None:
    """The streets to draw, saying under the map why there are none (no file, or a bad one)."""
    try:
        found = streets()
    except InputError as exc:
        st.error(f"Streets not shown: {str(exc).splitlines()[0]}")
        return None
    if found is None:
        st.caption(no_streets_message(what="Streets on the map and walking distances"))
        return None
    share = found.attrs.get("cover_share")
    if share is not None and share < 0.999:
        st.caption(
            f"Streets: {len(found):,} road links from {found.attrs.get('source', 'the file')}, "
            f"covering {share * 100:.1f}% of the study area."
        )
    return found
