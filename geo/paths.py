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
    "HAMPSHIRE_GPKG",
    "INCIDENTS_DIR",
    "LSOA_WARDS_PATH",
    "NATIONAL_DIR",
    "PLACES_DIR",
    "POPULATION_PATH",
    "REVIEW_DIR",
    "ROOT",
    "SCHOOLS_PATH",
    "STATIONS_PATH",
    "VENUES_PATH",
    "DATASETS",
    "DEFAULT_DATASET",
    "dataset_manifest",
    "dataset_name",
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

HAMPSHIRE_GPKG = Path(os.environ.get("HOTSPOTS_HAMPSHIRE") or BOUNDARIES_DIR / "hampshire.gpkg")
"""The 14 districts of the Hampshire force with LSOAs, wards and populations
(``scripts/build_hampshire.py``); ``$HOTSPOTS_HAMPSHIRE`` names another copy."""

NATIONAL_DIR = Path(os.environ.get("HOTSPOTS_NATIONAL_DATA") or ROOT.parent / "shared" / "data")
"""England and Wales LSOAs (2011, 2021), districts, the district -> CSP -> force lookups and
Census 2021 by LSOA, used with a police.uk store (``boundaries/england_wales/`` and
``population/england_wales/`` below it). Not shipped (about 50 MB): the folder beside the
repository by default; ``$HOTSPOTS_NATIONAL_DATA`` names another."""

POPULATION_PATH = DATA_DIR / "population" / "population_by_area.csv"
"""Census 2021 residents by area level."""

LSOA_WARDS_PATH = DATA_DIR / "population" / "lsoa11_to_wards.csv"
"""The ward (both sets) holding most of each LSOA 2011's residents."""

INCIDENTS_DIR = DATA_DIR / "police_uk"
"""The shipped real police.uk months (both datasets, :data:`DATASETS`)."""

DATASETS = {
    "hampshire": (INCIDENTS_DIR, "hampshire-street-2021-03-to-2022-05.zip"),
    "eastleigh-area": (INCIDENTS_DIR / "eastleigh_area", "*.csv"),
}
"""The shipped police.uk datasets by name: (folder, file pattern). ``hampshire``: the whole
force's street files for 2021-03 to 2022-05, as police.uk's archive; ``eastleigh-area``:
2017-02 to 2017-05 and 2022-02 cut to the districts around Eastleigh. Each folder's
README lists its files and rows."""

DEFAULT_DATASET = "hampshire"
"""The dataset used when none is named (``$HOTSPOTS_DATASET`` names another)."""

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


def dataset_name(name: str | None = None) -> str:
    """The dataset to use: ``name``, else ``$HOTSPOTS_DATASET``, else :data:`DEFAULT_DATASET`.

    Raises
    ------
    ValueError
        For a name that is not one of :data:`DATASETS`.
    """
    chosen = name or os.environ.get("HOTSPOTS_DATASET") or DEFAULT_DATASET
    if chosen not in DATASETS:
        msg = f"dataset {chosen!r}: the shipped datasets are {', '.join(DATASETS)}."
        raise ValueError(msg)
    return chosen


def shipped_incident_paths(name: str | None = None) -> list[Path]:
    """The police.uk files of a shipped dataset (:func:`dataset_name`), oldest first.

    Parameters
    ----------
    name
        ``hampshire`` or ``eastleigh-area``; the default dataset when None.

    Returns
    -------
    list of pathlib.Path
        The files (an archive counts as one); empty if they are missing.
    """
    folder, pattern = DATASETS[dataset_name(name)]
    return sorted(Path(folder).glob(pattern))


def dataset_manifest(name: str | None = None) -> Path:
    """The README listing a shipped dataset's files and their rows."""
    folder, _ = DATASETS[dataset_name(name)]
    return Path(folder) / "README.md"
