"""Shared fixtures: the shipped data loaded once, and writing small files for a test.

Kept small and generic on purpose; a fixture used by one test file lives in that file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from geo.io import LoadResult, load_incidents
from geo.paths import shipped_incident_paths
from geo.schema import POLICE_UK_COLUMNS
from tests.areas import EASTLEIGH

TESTS_DIR = Path(__file__).resolve().parent
DATA_DIR = TESTS_DIR / "data"
"""Small hand-made fixture files (tests/data/)."""

POLICE_HEADER = ",".join(POLICE_UK_COLUMNS)
"""The header line of a police.uk street file."""

# A real row of data/police_uk/2017-02-hampshire-street_eastleigh_area.csv (line 2):
# an ASB report in Eastleigh 001A (E01022705), Hiltingbury ward.
_GOOD = {
    "Crime ID": "",
    "Month": "2017-02",
    "Reported by": "Hampshire Constabulary",
    "Falls within": "Hampshire Constabulary",
    "Longitude": "-1.372801",
    "Latitude": "50.988212",
    "Location": "On or near Petrol Station",
    "LSOA code": "E01022705",
    "LSOA name": "Eastleigh 001A",
    "Crime type": "Anti-social behaviour",
    "Last outcome category": "",
    "Context": "",
}


def police_line(**fields: str) -> str:
    """One police.uk CSV line: a real Eastleigh ASB row with some fields replaced.

    Keyword names are the column names with spaces as underscores
    (``LSOA_code="E01022653"``). Values are written as given (no quoting).
    """
    row = dict(_GOOD)
    for key, value in fields.items():
        col = key.replace("_", " ")
        assert col in row, f"not a police.uk column: {col}"
        row[col] = value
    return ",".join(row[c] for c in POLICE_UK_COLUMNS)


@pytest.fixture(scope="session")
def shipped_result() -> LoadResult:
    """``load_incidents()`` on the five shipped police.uk months (read once per session).

    Shared by every test: read it, never change it (``.incidents.copy()`` first).
    """
    return load_incidents(shipped_incident_paths(), EASTLEIGH)


@pytest.fixture
def tmp_csv(tmp_path: Path) -> Callable[..., Path]:
    """Write a file in ``tmp_path`` and return its path.

    ``tmp_csv(name, data)`` writes ``data`` as given when it is bytes, else encodes the
    text (``encoding="utf-8"`` by default). Lines given as a list are joined with
    ``"\\n"`` and end with one.
    """

    def write(name: str, data: bytes | str | list[str], *, encoding: str = "utf-8") -> Path:
        if isinstance(data, list):
            data = "\n".join(data) + "\n"
        if isinstance(data, str):
            data = data.encode(encoding)
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    return write
