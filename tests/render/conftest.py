"""Fixtures of the render tests.

``shipped_basemap`` is a temporary shim: the pack builders (:mod:`packs.review`,
:mod:`packs.tasking`) do not fill :attr:`packs.Pack.basemap` yet, so the tests build it
from the shipped files as the renderer used to (borough, 2018 wards, and the gazetteer
without stations, airports and foreshore) and set it on the pack before writing it.
Remove it once the builders fill the base map themselves.
"""

from __future__ import annotations

import pytest

from geo.boundaries import load_layer
from geo.places import load_gazetteer
from packs import BaseMap

_UNLABELLED_KINDS = ["station", "airport", "foreshore"]


@pytest.fixture(scope="session")
def shipped_basemap() -> BaseMap:
    """The shipped borough, 2018 wards and gazetteer places, as the report maps use them."""
    places = load_gazetteer()
    places = places[~places["kind"].isin(_UNLABELLED_KINDS)]
    return BaseMap(load_layer("borough"), load_layer("wards_2018"), places)
