"""The patrol plan as a pack: one table of ranked, named hotspots or patrol areas with its map.

:func:`patrol_pack` turns the hotspots the app (or the command line) found into a
:class:`~packs.model.Pack` that :mod:`render.report` prints on A4: title, area, period and
method at the top, the map of the hotspots with their rank numbers on the area's wards,
and the table.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import pandas as pd

from geo.study_area import StudyArea
from packs.maps import basemap_for
from packs.model import Chart, Pack, Table
from packs.tables import computed_note, month_range, months_in_words

__all__ = ["PATROL_TABLE_COLUMNS", "patrol_pack"]

PATROL_TABLE_COLUMNS = (
    "rank",
    "name",
    "count",
    "expected",
    "expected_low",
    "expected_high",
    "share_pct",
    "top_streets",
    "top_types",
    "peak_months",
    "peak_days",
    "peak_hours",
    "wards",
)
"""Columns of the printed plan, where the hotspots have them (``share_pct`` in percent)."""


def patrol_pack(
    hotspots: gpd.GeoDataFrame,
    *,
    area: StudyArea,
    period: tuple[str, str],
    types_label: str,
    method_label: str,
    notes: Sequence[str] = (),
    streets: gpd.GeoDataFrame | None = None,
) -> Pack:
    """The patrol plan of ``hotspots`` as a pack with a map.

    Parameters
    ----------
    hotspots
        Ranked, named hotspots or patrol areas (EPSG:27700), as
        :func:`analysis.hotspots.detect_hotspots` gives them.
    area
        The study area (its outline, wards and named places are the map's base).
    period
        First and last month the hotspots were found from.
    types_label, method_label
        The crime types and the method, in words, for the title and notes.
    notes
        Notes on the method (how the bandwidth or the risk surface was chosen).
    streets
        Road links to draw under the map (when the user has loaded a streets file).

    Returns
    -------
    packs.model.Pack
        Kind ``"patrol"``, one table (``patrol``) with its map.
    """
    frame = pd.DataFrame(hotspots.drop(columns=hotspots.geometry.name))
    if "share" in frame:
        frame["share_pct"] = (frame["share"] * 100).round(1)
    if "expected" in frame:
        frame["expected"] = frame["expected"].round(1)
    cols = [
        c
        for c in PATROL_TABLE_COLUMNS
        if c in frame.columns and frame[c].astype(str).str.len().gt(0).any()
    ]
    months = month_range(*period)
    span = months_in_words(months)
    what = "expected next month" if "expected" in frame else "incidents inside"
    table = Table(
        "patrol",
        f"Patrol plan: {types_label}, {span}",
        frame[cols].reset_index(drop=True),
        computed_note(months),
        [f"Ranked by the {what}; {method_label}.", *notes],
        "patrol",
        chart=Chart(
            "hbar", "name", ("expected" if "expected" in frame else "count",), what.capitalize()
        ),
        layers={"hotspots": hotspots[["rank", "name", "count", hotspots.geometry.name]]},
    )
    return Pack(
        "patrol",
        f"Patrol plan, {area.name}: {types_label}, {span}",
        period,
        [table],
        notes=[f"{area.name}; {types_label}; {span}; {method_label}."],
        basemap=basemap_for(area, streets),
    )
