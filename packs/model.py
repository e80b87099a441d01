"""The model of a pack: an ordered list of tables, each with its notes, chart and map.

Builders (:mod:`packs.review`, :mod:`packs.tasking`) fill a :class:`Pack`; the
renderer (:mod:`render.report`) draws it and never reads a file: what the maps are
drawn on travels with the pack as its :class:`BaseMap`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

__all__ = [
    "NOT_IN_POLICE_UK",
    "PUBLISHED",
    "REVIEW_PERIOD",
    "SECTION_TITLES",
    "TOTAL_LABELS",
    "BaseMap",
    "Chart",
    "Pack",
    "Table",
]

PUBLISHED = "published table from the 2021/22 review"
"""Source note of a table whose numbers are the review's own."""

NOT_IN_POLICE_UK = "not in police.uk data"
"""Source note of a table the police.uk data cannot give."""

REVIEW_PERIOD = ("2021-04", "2022-03")
"""The year of the one review whose tables are published (April 2021 - March 2022)."""

TOTAL_LABELS = frozenset(
    {
        "Total",
        "Total (as printed)",
        "Total (sum of quarters)",
        "Total (sum of months)",
        "Overall recorded crime",
        "All recorded crime",
        "All types",
        "Borough",
        "Partnership",
    }
)
"""Labels of the total rows the packs append (last row of a table)."""

SECTION_TITLES = {
    "summary": "Summary",
    "crime": "Recorded crime",
    "asb": "Anti-social behaviour",
    "partners": "Partnership data",
    "hotspots": "Hotspots",
    "venues": "Diversion venues",
    "areas": "Areas",
    "patrol": "Patrol plan",
}
"""Heading of each section key used by :attr:`Table.section` (page breaks fall between)."""


@dataclass(frozen=True)
class Chart:
    """A chart of a table's columns (drawn by :mod:`render.report`).

    Attributes
    ----------
    kind
        ``"bar"`` (categories along the bottom) or ``"hbar"`` (categories down the side).
    x
        Column of category labels.
    y
        Columns of values, one bar series each.
    label
        What the values are (axis label).
    """

    kind: str
    x: str
    y: tuple[str, ...]
    label: str = ""


@dataclass
class Table:
    """One table of a pack.

    Attributes
    ----------
    key
        Short identifier (also the CSV file name).
    title
        Heading.
    frame
        The table as published: numbers, text, and suppression markers where withheld.
    source_note
        Where the numbers come from (:data:`PUBLISHED`, :func:`computed_note` or
        :data:`NOT_IN_POLICE_UK`).
    notes
        What a reader must know (checks, caveats, what was withheld).
    section
        The section it belongs to (page breaks fall between sections).
    chart
        A chart to draw from ``frame``, if any.
    layers
        Map layers in EPSG:27700 (``hotspots``, ``change``, ``emerging``, ``reference``,
        ``venues``), with withheld counts already replaced; None for no map.
    show_rows
        Rows to print (the first ones); None for all. The CSV always holds every row.
    total_row
        Whether the last row is a total (printed in bold, left out of charts).
    """

    key: str
    title: str
    frame: pd.DataFrame
    source_note: str
    notes: list[str] = field(default_factory=list)
    section: str = ""
    chart: Chart | None = None
    layers: dict[str, gpd.GeoDataFrame] | None = None
    show_rows: int | None = None
    total_row: bool = False

    def __post_init__(self) -> None:
        if len(self.frame) and len(self.frame.columns):
            last = self.frame.iloc[-1]
            self.total_row = self.total_row or any(
                isinstance(v, str) and v in TOTAL_LABELS for v in last.to_numpy()
            )

    @property
    def available(self) -> bool:
        """False for a table the data cannot give (it has no rows)."""
        return self.source_note != NOT_IN_POLICE_UK


@dataclass
class Pack:
    """An ordered list of tables with a title.

    Attributes
    ----------
    kind
        ``"review"`` or ``"tasking"``.
    title
        Title of the pack.
    period
        First and last month covered (``YYYY-MM``).
    tables
        The tables in reading order.
    notes
        Notes on the whole pack (data loaded, suppression).
    suppress_below
        The suppression threshold used, or None.
    basemap
        What the maps are drawn on (outline, ward outlines, place labels); no map is
        drawn without it.
    area_name
        The study area the pack is about, as its header names it.
    """

    kind: str
    title: str
    period: tuple[str, str]
    tables: list[Table]
    notes: list[str] = field(default_factory=list)
    suppress_below: int | None = None
    basemap: BaseMap | None = None
    area_name: str = ""

    def __iter__(self) -> Iterator[Table]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)

    def __getitem__(self, key: str) -> Table:
        for t in self.tables:
            if t.key == key:
                return t
        msg = f"the pack has no table {key!r}; it has {[t.key for t in self.tables]}."
        raise KeyError(msg)

    @property
    def sections(self) -> list[str]:
        """Section names in order of first appearance."""
        seen: dict[str, None] = {}
        for t in self.tables:
            seen.setdefault(t.section, None)
        return list(seen)


@dataclass(frozen=True)
class BaseMap:
    """What a pack's maps are drawn on, taken from the study area by the pack builder.

    Attributes
    ----------
    outline
        The study area's outline (one or more polygons, EPSG:27700).
    areas
        The areas drawn as thin outlines (wards), with ``code`` and ``name``.
    labels
        Named places to label, with ``name`` (points, EPSG:27700); may be empty.
    streets
        Road links (lines, EPSG:27700) with ``road_class``, drawn thinly under the
        rest, when the user has loaded a streets file; None otherwise.
    areas_label
        What the area outlines are, for the map's caption (e.g. "2018 ward boundaries").
    """

    outline: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    labels: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame | None = None
    areas_label: str = "2018 ward boundaries"
