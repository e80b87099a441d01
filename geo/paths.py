"""Where the shipped data lives: the one place that knows the data folder's layout.

``$HOTSPOTS_DATA_DIR`` points at a copy of ``data/`` and ``$HOTSPOTS_BOUNDARIES`` at a
copy of ``boundaries/eastleigh.gpkg`` (both read once, at import). Only
:func:`geo.study_area.load_study_area`, the app and the command line use these paths;
every other function is given the files or frames it needs.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "BOUNDARIES_DIR",
    "DATA_DIR",
    "GAZETTEER_PATH",
    "GPKG",
    "INCIDENTS_DIR",
    "LSOA_WARDS_PATH",
    "PLACES_DIR",
    "POPULATION_PATH",
    "REVIEW_DIR",
    "ROOT",
    "SCHOOLS_PATH",
    "STATIONS_PATH",
    "VENUES_PATH",
    "shipped_incident_paths",
]

ROOT = Path(__file__).resolve().parents[1]
"""The repository (or installed project) folder."""

BOUNDARIES_DIR = ROOT / "boundaries"
"""The shipped boundaries folder."""

DATA_DIR = Path(os.environ.get("HOTSPOTS_DATA_DIR") or ROOT / "data")
"""The shipped data folder; ``$HOTSPOTS_DATA_DIR`` (read once, at import) points at a copy."""

GPKG = Path(os.environ.get("HOTSPOTS_BOUNDARIES") or BOUNDARIES_DIR / "eastleigh.gpkg")
"""The shipped boundaries; ``$HOTSPOTS_BOUNDARIES`` (read once, at import) names another copy."""

POPULATION_PATH = DATA_DIR / "population" / "population_by_area.csv"
"""Census 2021 residents by area level."""

LSOA_WARDS_PATH = DATA_DIR / "population" / "lsoa11_to_wards.csv"
"""The ward (both sets) holding most of each LSOA 2011's residents."""

INCIDENTS_DIR = DATA_DIR / "police_uk"
"""The shipped real police.uk months."""

PLACES_DIR = DATA_DIR / "places"
"""Named places, schools and rail stations."""

GAZETTEER_PATH = PLACES_DIR / "gazetteer.csv"
"""The gazetteer of named places."""

SCHOOLS_PATH = PLACES_DIR / "schools_eastleigh_area.csv"
"""Schools, colleges and nurseries (DfE)."""

STATIONS_PATH = PLACES_DIR / "rail_stations_eastleigh_area.csv"
"""Rail stations."""

VENUES_PATH = DATA_DIR / "venues" / "friday_night_football.csv"
"""The Friday Night Football venues as shipped."""

REVIEW_DIR = DATA_DIR / "review_2021_22"
"""The strategic review's published 2021/22 tables."""


def shipped_incident_paths(folder: Path = INCIDENTS_DIR) -> list[Path]:
    """The police.uk files in ``folder`` (the shipped months by default), oldest first.

    Parameters
    ----------
    folder
        A folder of police.uk street files.

    Returns
    -------
    list of pathlib.Path
    """
    return sorted(Path(folder).glob("*.csv"))
