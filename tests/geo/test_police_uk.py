"""Parsing one police.uk street file: header checks and a reason for every bad row."""

from __future__ import annotations

import re

import numpy as np
import pytest

from geo.errors import InputError
from geo.paths import shipped_incident_paths
from geo.police_uk import parse_police_uk
from geo.sources import SourceText, decode
from tests.conftest import DATA_DIR, POLICE_HEADER, police_line

BAD_ROWS = DATA_DIR / "police_uk_bad_rows.csv"


def _parse(text: str, name: str = "t.csv"):
    return parse_police_uk(SourceText(name, text, "utf-8")).rows


@pytest.fixture(scope="module")
def bad_rows():
    return parse_police_uk(decode(BAD_ROWS.read_bytes(), BAD_ROWS.name)).rows.set_index("row")


def test_shipped_month_parses_without_a_reason():
    path = shipped_incident_paths()[0]
    assert path.name == "2017-02-hampshire-street_eastleigh_area.csv"
    rows = parse_police_uk(decode(path.read_bytes(), str(path))).rows
    assert len(rows) == 6065  # SOURCES.md: rows kept of the force file
    assert (rows["reason"] == "").all()
    assert rows["row"].tolist() == list(range(2, 6067))
    assert set(rows["force"]) == {"Hampshire Constabulary"}
    assert set(rows["month"]) == {"2017-02"}
    assert (rows["raw"] == "").all()  # raw lines are kept for rejected rows only


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (2, r"^$"),
        (
            3,
            r"^Longitude/Latitude: point lies outside Great Britain; check the coordinates are "
            r"longitude/latitude in degrees \(WGS84\)$",
        ),
        (4, r"^Longitude/Latitude: latitude and longitude look swapped .*; swap the two columns"),
        (5, r"^Latitude: missing while Longitude is present; give both or neither$"),
        (6, r"^Longitude: not a number; use decimal degrees such as -1\.3502$"),
        (7, r"^Month: 'Feb-2017' is not a month in YYYY-MM form \(e\.g\. 2017-02\); fix the value"),
        (
            8,
            r"^row has 7 fields, the header has 12 \(too few fields\): "
            r"column 'LSOA code' and those after it are missing",
        ),
        (9, r"^$"),  # 'No location': decided in geo.io (no coordinates and no LSOA)
        (10, r"^$"),
        (11, r"^$"),
        (12, r"^$"),
    ],
)
def test_each_bad_row_has_its_reason(bad_rows, line, reason):
    got = bad_rows.loc[line, "reason"]
    assert re.search(reason, got), got


def test_swapped_coordinates_are_not_repaired(bad_rows):
    assert np.isnan(bad_rows.loc[4, "lon"]) and np.isnan(bad_rows.loc[4, "lat"])


def test_parsed_coordinates_and_no_location_flag(bad_rows):
    assert bad_rows.loc[2, "lon"] == -1.372801 and bad_rows.loc[2, "lat"] == 50.988212
    assert bad_rows.loc[10, "no_location"] and not bad_rows.loc[2, "no_location"]


def test_raw_line_is_the_line_as_read(bad_rows):
    expected = BAD_ROWS.read_text().splitlines()[7]  # line 8, cut short
    assert bad_rows.loc[8, "raw"] == expected
    assert bad_rows.loc[8, "raw"].count(",") == 6


def test_identical_lines_stay_two_rows(bad_rows):
    assert bad_rows.loc[13, "raw"] == "" and bad_rows.loc[14, "raw"] == ""
    cols = ["month", "lon", "lat", "location", "lsoa_code", "crime_type"]
    assert bad_rows.loc[13, cols].tolist() == bad_rows.loc[14, cols].tolist()


def test_too_many_fields_says_to_quote():
    rows = _parse(f"{POLICE_HEADER}\n{police_line(Location='On or near High Street, Botley')}\n")
    assert rows.loc[0, "reason"].startswith(
        "row has 13 fields, the header has 12 (too many fields): values after column 'Context'"
    )
    assert rows.loc[0, "reason"].endswith("a value containing a comma must be in double quotes")


def test_quoted_comma_is_one_field():
    rows = _parse(
        f"{POLICE_HEADER}\n{police_line(Location=chr(34) + 'High Street, Botley' + chr(34))}\n"
    )
    assert rows.loc[0, "reason"] == ""
    assert rows.loc[0, "location"] == "High Street, Botley"


def test_empty_crime_type_is_rejected():
    rows = _parse(f"{POLICE_HEADER}\n{police_line(Crime_type='')}\n")
    assert rows.loc[0, "reason"] == "Crime type: empty; every row needs a type"


def test_every_problem_of_a_row_is_listed():
    rows = _parse(f"{POLICE_HEADER}\n{police_line(Month='2017-13', Latitude='x', Crime_type='')}\n")
    assert rows.loc[0, "reason"].split("; ")[0].startswith("Month: '2017-13'")
    assert "Latitude: not a number" in rows.loc[0, "reason"]
    assert "Crime type: empty" in rows.loc[0, "reason"]


def test_force_falls_back_to_reported_by():
    rows = _parse(f"{POLICE_HEADER}\n{police_line(Falls_within='')}\n")
    assert rows.loc[0, "force"] == "Hampshire Constabulary"


def test_not_a_police_uk_file_names_the_file_the_columns_and_the_fix():
    with pytest.raises(InputError) as err:
        _parse("Date,Type,Lat,Lon\n2017-02-14,ASB,50.97,-1.35\n", "cctv.csv")
    msg = str(err.value)
    assert msg.startswith("cctv.csv: not a police.uk street file: missing column(s) ['Month', ")
    assert "the first line has ['Date', 'Type', 'Lat', 'Lon']" in msg
    assert msg.endswith("or load your own log with the CSP log reader and a column mapping.")


def test_wrong_case_column_names_get_a_hint():
    with pytest.raises(
        InputError, match=r"found 'month' for 'Month'.*column names are case-sensitive"
    ):
        _parse(POLICE_HEADER.replace("Month", "month") + "\n" + police_line() + "\n")


def test_header_without_rows_is_named():
    with pytest.raises(
        InputError, match=r"^h\.csv: has a header but no data rows\. Download the month again"
    ):
        _parse(POLICE_HEADER + "\n\n", "h.csv")
