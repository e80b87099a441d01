"""The strategic review pack and the monthly tasking pack, as tables.

Every year the CSP writes a strategic review whose data section is a fixed set of
tables; every month the District Tasking and Priority group meets over maps and
tables. :func:`review_pack` and :func:`tasking_pack` assemble those tables from the
data as pandas frames (this module writes no HTML: :mod:`render.report` does), each
:class:`Table` saying where its numbers come from:

* ``"published table from the 2021/22 review"``: the review's own numbers
  (:mod:`geo.published`), used for 2021/22, the one year whose tables exist; with all
  twelve months of that year loaded, police.uk's figures stand beside them with the
  difference and its likely causes (:mod:`packs.review_compare`);
* ``"computed from police.uk data for <months>"``: counted here from the incidents;
* ``"not in police.uk data"``: CCTV control-room logs, hate crime, arson (fire service)
  and domestic abuse flags are not in police.uk street data; such tables are listed
  with that note and no numbers, never invented.

With ``suppress_below=N`` every count from 1 to N-1 is withheld
(:mod:`packs.disclosure`), consistently across wards, local areas and the borough
and across every period shown, so that no withheld count can be worked out from the
tables of the pack taken together.

The code lives in :mod:`packs.model` (the types), :mod:`packs.tables` (periods and
shared helpers), :mod:`packs.review` (with :mod:`packs.published_tables` and
:mod:`packs.review_compare`),
:mod:`packs.tasking` and :mod:`packs.maps` (hotspot and venue tables);
import the public names from here.

Examples
--------
>>> from geo.io import load_incidents
>>> from geo.paths import REVIEW_DIR, shipped_incident_paths
>>> from geo.published import load_review_tables
>>> from geo.study_area import load_study_area
>>> area = load_study_area()
>>> incidents = load_incidents(shipped_incident_paths(), area).incidents
>>> pack = review_pack(("2021-04", "2022-03"), incidents, area=area,
...                    review_tables=load_review_tables(REVIEW_DIR))
>>> 8287 in pack["crime_by_type"].frame.iloc[-1].tolist()
True
"""

from packs.model import (
    NOT_IN_POLICE_UK,
    PUBLISHED,
    REVIEW_PERIOD,
    SECTION_TITLES,
    TOTAL_LABELS,
    BaseMap,
    Chart,
    Pack,
    Table,
)
from packs.review import review_pack
from packs.tables import computed_note, month_range, parse_period
from packs.tasking import tasking_pack

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
    "computed_note",
    "month_range",
    "parse_period",
    "review_pack",
    "tasking_pack",
]
