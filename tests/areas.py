"""The study area and the shipped data, loaded once for every test that needs them."""

from __future__ import annotations

from geo.io import load_incidents
from geo.paths import REVIEW_DIR, shipped_incident_paths
from geo.published import load_review_tables
from geo.study_area import load_study_area

EASTLEIGH = load_study_area()
"""Eastleigh, built from the shipped files."""

REVIEW_TABLES = load_review_tables(REVIEW_DIR)
"""The review's published 2021/22 tables."""


class _Shipped:
    """The shipped police.uk months, loaded on first use."""

    _result = None

    @property
    def result(self):
        if _Shipped._result is None:
            _Shipped._result = load_incidents(shipped_incident_paths(), EASTLEIGH)
        return _Shipped._result

    @property
    def incidents(self):
        return self.result.incidents


SHIPPED = _Shipped()
