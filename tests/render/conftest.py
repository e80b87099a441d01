"""Fixtures of the render tests."""

from __future__ import annotations

import pytest

from packs import BaseMap
from packs.maps import basemap_for
from tests.areas import EASTLEIGH


@pytest.fixture(scope="session")
def shipped_basemap() -> BaseMap:
    """Eastleigh's base map (outline, 2018 wards, named places) as the pack builders make it."""
    return basemap_for(EASTLEIGH)
