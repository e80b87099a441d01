"""Column names shared by every incident frame.

An *incident frame* is a :class:`geopandas.GeoDataFrame` in EPSG:27700 with one
row per incident (identical rows are real incidents and are never merged) and
these columns:

================  =====================================================================
column            meaning
================  =====================================================================
source_file       file the row came from (an archive member is ``archive.zip!member``)
row               line number in that file (the header is line 1)
crime_id          police.uk Crime ID ("" for ASB)
month             ``YYYY-MM``
datetime          timestamp when the source has one (CSP logs), else NaT
force             police.uk "Falls within" (or the log's name)
location          police.uk "Location" (street), e.g. "On or near Market Street"
lsoa_code         LSOA 2011 code
lsoa_name         LSOA 2011 name
crime_type        one of the 14 police.uk categories, or the log's own type
outcome           police.uk "Last outcome category"
has_location      False when the row had no coordinates (counted by LSOA, kept off maps)
x, y              British National Grid metres (NaN without a location)
geometry          Point in EPSG:27700, or None without a location
ward_code         2018 ward code (after :func:`geo.join.join_areas`)
ward_name         2018 ward name
ward2002_code     2002 ward code
ward2002_name     2002 ward name
local_area        one of the five local areas
================  =====================================================================
"""

from __future__ import annotations

__all__ = [
    "ASB",
    "CRIME_TYPES",
    "INCIDENT_COLUMNS",
    "LEVELS",
    "LOCAL_AREAS",
    "POLICE_UK_COLUMNS",
]

POLICE_UK_COLUMNS = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)
"""The twelve columns of a police.uk street-level file, in order."""

INCIDENT_COLUMNS = (
    "source_file",
    "row",
    "crime_id",
    "month",
    "datetime",
    "force",
    "location",
    "lsoa_code",
    "lsoa_name",
    "crime_type",
    "outcome",
    "has_location",
    "x",
    "y",
)

ASB = "Anti-social behaviour"

CRIME_TYPES = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)

LOCAL_AREAS = (
    "Eastleigh",
    "Chandler's Ford and Hiltingbury",
    "Bishopstoke, Fair Oak and Horton Heath",
    "Hedge End, West End and Botley",
    "Bursledon, Hamble-le-Rice and Hound",
)
"""The council's five local areas (``../shared/docs/DOMAIN.md``)."""

LEVELS = ("lsoa", "ward", "ward2002", "local_area", "borough")
"""Area levels for counts and rates: ``ward`` is the 2018 set."""
