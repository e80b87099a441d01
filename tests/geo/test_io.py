"""Loading police.uk files: every row accounted for, bad input named, real data counted."""

from __future__ import annotations

import re
import shutil
import zipfile

import numpy as np
import pytest

from geo.crs import BNG
from geo.errors import DataValidationError, InputError
from geo.io import REJECT_COLUMNS, load_incidents
from geo.paths import INCIDENTS_DIR, shipped_incident_paths
from geo.schema import INCIDENT_COLUMNS, LOCAL_AREAS
from tests.areas import EASTLEIGH
from tests.conftest import DATA_DIR, POLICE_HEADER, police_line

BAD_ROWS = DATA_DIR / "police_uk_bad_rows.csv"
FEB = INCIDENTS_DIR / "eastleigh_area" / "2017-02-hampshire-street_eastleigh_area.csv"
MAR = INCIDENTS_DIR / "eastleigh_area" / "2017-03-hampshire-street_eastleigh_area.csv"
CAFE = "On or near Chandler\u2019s Ford caf\u00e9"


def _accounts(result) -> tuple[int, int, int, int]:
    return result.rows_in, result.accepted, result.rejected, result.outside_area


# --- one file of every kind of bad row -------------------------------------------------------


@pytest.fixture(scope="module")
def bad() -> object:
    return load_incidents([BAD_ROWS], EASTLEIGH)


def test_bad_rows_file_reconciles_by_hand(bad):
    # 13 rows: lines 3-9 rejected, line 12 (Southampton) outside, lines 2,10,11,13,14 kept.
    assert _accounts(bad) == (13, 5, 7, 1)
    assert bad.reconciles()
    assert bad.rejects["row"].tolist() == [3, 4, 5, 6, 7, 8, 9]
    assert sorted(bad.incidents["row"]) == [2, 10, 11, 13, 14]
    assert bad.without_location == 1
    assert list(bad.rejects.columns) == REJECT_COLUMNS
    assert (bad.rejects["reason"] != "").all()


def test_no_location_row_is_rejected_with_its_reason(bad):
    reason = bad.rejects.set_index("row").loc[9, "reason"]
    assert reason == (
        "Longitude/Latitude/LSOA code: all empty, so the row cannot be placed in any area "
        "(police.uk 'No location' row)"
    )


def test_row_without_coordinates_counts_by_its_lsoa_but_stays_off_the_map(bad):
    row = bad.incidents.set_index("row").loc[10]
    assert not row["has_location"]
    assert row["geometry"] is None
    assert np.isnan(row["x"]) and np.isnan(row["y"])  # not inf
    assert row["lsoa_code"] == "E01022705"
    assert row["ward_code"] == "E05011198"  # Hiltingbury: the ward holding E01022705
    assert row["local_area"] == "Chandler's Ford and Hiltingbury"


def test_row_without_lsoa_is_placed_by_polygon(bad):
    # Line 11's point is the representative point of LSOA E01022652 (Eastleigh 011A).
    row = bad.incidents.set_index("row").loc[11]
    assert row["lsoa_code"] == "E01022652"
    assert row["lsoa_name"] == "Eastleigh 011A"
    assert row["has_location"]


def test_identical_lines_are_two_incidents(bad):
    same = bad.incidents[bad.incidents["row"].isin([13, 14])]
    assert len(same) == 2
    cols = ["month", "location", "lsoa_code", "crime_type", "x", "y"]
    assert same.iloc[0][cols].tolist() == same.iloc[1][cols].tolist()


def test_problems_list_every_rejected_row_at_once(bad):
    problems = bad.problems()
    assert len(problems) == 7
    assert problems[0].startswith(f"{BAD_ROWS}: line 3: Longitude/Latitude: point lies outside")
    with pytest.raises(
        DataValidationError, match=r"7 problem\(s\): .*line 3: .*line 4: .*\.\.\. and 2 more"
    ):
        bad.raise_if_rejected()


# --- each bad input: a message naming file, line, column and the fix -------------------------

ROW_CASES = {
    "outside_gb": (
        {"Longitude": "-20.5"},
        r"Longitude/Latitude: point lies outside Great Britain; check the coordinates are "
        r"longitude/latitude in degrees \(WGS84\)",
    ),
    "swapped": (
        {"Longitude": "50.988212", "Latitude": "-1.372801"},
        r"Longitude/Latitude: latitude and longitude look swapped .*; swap the two columns in "
        r"the file",
    ),
    "latitude_missing": (
        {"Latitude": ""},
        r"Latitude: missing while Longitude is present; give both or neither",
    ),
    "longitude_missing": (
        {"Longitude": ""},
        r"Longitude: missing while Latitude is present; give both or neither",
    ),
    "non_numeric": (
        {"Latitude": "fifty"},
        r"Latitude: not a number; use decimal degrees such as 50\.9701",
    ),
    "month": (
        {"Month": "2017/02"},
        r"Month: '2017/02' is not a month in YYYY-MM form \(e\.g\. 2017-02\); fix the value or "
        r"drop the row",
    ),
    "no_location": (
        {"Longitude": "", "Latitude": "", "LSOA_code": "", "LSOA_name": ""},
        r"Longitude/Latitude/LSOA code: all empty, so the row cannot be placed",
    ),
}


@pytest.mark.parametrize("case", sorted(ROW_CASES))
def test_bad_row_message_names_file_line_column_and_fix(tmp_csv, case):
    fields, message = ROW_CASES[case]
    path = tmp_csv(f"{case}.csv", [POLICE_HEADER, police_line(), police_line(**fields)])
    result = load_incidents([path], EASTLEIGH)
    assert _accounts(result) == (2, 1, 1, 0)
    assert result.reconciles()
    with pytest.raises(DataValidationError, match=re.escape(f"{path}: line 3: ") + message):
        result.raise_if_rejected()


def test_too_few_fields_message(tmp_csv):
    path = tmp_csv("short.csv", [POLICE_HEADER, police_line(), ",2017-02,Hampshire Constabulary"])
    result = load_incidents([path], EASTLEIGH)
    assert _accounts(result) == (2, 1, 1, 0)
    with pytest.raises(
        DataValidationError,
        match=re.escape(
            f"{path}: line 3: row has 3 fields, the header has 12 (too few fields): "
            "column 'Falls within' and those after it are missing; the line is cut "
            "short: fix or delete it, or download the file again"
        ),
    ):
        result.raise_if_rejected()
    assert result.rejects.loc[0, "raw"] == ",2017-02,Hampshire Constabulary"


def test_rows_of_many_files_are_all_reported(tmp_csv):
    a = tmp_csv("a.csv", [POLICE_HEADER, police_line(Month="2017-2")])
    b = tmp_csv("b.csv", [POLICE_HEADER, police_line(Month="2017-03", Longitude="x")])
    result = load_incidents([a, b], EASTLEIGH)
    assert result.problems() == [
        f"{a}: line 2: Month: '2017-2' is not a month in YYYY-MM form (e.g. 2017-02); fix the "
        "value or drop the row",
        f"{b}: line 2: Longitude: not a number; use decimal degrees such as -1.3502",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"the file is empty\. Download the month again or pick another file"),
        (
            b"Date,Type\n2017-02-14,ASB\n",
            r"not a police\.uk street file: missing column\(s\) "
            r"\['Month', 'Longitude', 'Latitude', 'LSOA code', 'Crime type'\].*Use the "
            r"street-level CSV from a police\.uk download",
        ),
        (bytes(range(256)) * 4, r"binary file \(it contains NUL bytes\), not a CSV text file"),
        (
            b"%PDF-1.4\n%\xe2\xe3",
            r"this is a PDF document, not a CSV file\. Save or export it as CSV",
        ),
        (
            POLICE_HEADER.encode() + b"\r\n",
            r"has a header but no data rows\. Download the month again",
        ),
    ],
    ids=["empty", "not_police_uk", "binary", "pdf", "header_only"],
)
def test_unusable_file_message_names_the_file_and_the_fix(tmp_csv, data, message):
    path = tmp_csv("upload.csv", data)
    with pytest.raises(InputError, match=re.escape(f"{path}: ") + message):
        load_incidents([path], EASTLEIGH)


def test_every_unusable_file_is_named_in_one_error(tmp_csv):
    empty = tmp_csv("empty.csv", b"")
    other = tmp_csv("other.csv", b"a,b\n1,2\n")
    good = tmp_csv("good.csv", [POLICE_HEADER, police_line()])
    with pytest.raises(DataValidationError) as err:
        load_incidents([empty, good, other], EASTLEIGH)
    assert err.value.problems[0].startswith(f"{empty}: the file is empty")
    assert err.value.problems[1].startswith(f"{other}: not a police.uk street file")
    assert str(err.value).startswith("2 unusable files: 2 problem(s): ")


def test_archive_without_street_files_is_refused_not_crashed(tmp_path):
    z = tmp_path / "outcomes_only.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("2017-02/2017-02-hampshire-outcomes.csv", "Crime ID,Month\nx,2017-02\n")
    with pytest.raises(
        InputError,
        match=r"outcomes_only\.zip: no police\.uk street file found "
        r"\(.*outcomes\.csv: not a police\.uk street file",
    ):
        load_incidents([z], EASTLEIGH)


# --- encodings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encode", "encoding"),
    [
        (lambda t: t.encode("utf-8"), "utf-8"),
        (lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"), "utf-8-sig"),
        (lambda t: t.encode("cp1252"), "cp1252"),
    ],
    ids=["utf8", "utf8_bom", "cp1252"],
)
def test_encodings_are_read_correctly(tmp_csv, encode, encoding):
    text = f"{POLICE_HEADER}\r\n{police_line(Location=CAFE)}\r\n"
    result = load_incidents([tmp_csv("enc.csv", encode(text))], EASTLEIGH)
    assert _accounts(result) == (1, 1, 0, 0)
    assert result.incidents.loc[0, "location"] == CAFE
    assert result.incidents.loc[0, "crime_id"] == ""  # BOM not glued to 'Crime ID'
    assert result.files.loc[0, "encoding"] == encoding


def test_cp1252_fixture_file():
    result = load_incidents([DATA_DIR / "police_uk_cp1252.csv"], EASTLEIGH)
    assert result.incidents["location"].tolist() == [CAFE, "On or near Kendal Close"]
    assert result.incidents["crime_id"].tolist() == ["", "b3c0ffee"]
    assert result.incidents["outcome"].tolist() == ["", "Under investigation"]


# --- files loaded twice, archives, folders ---------------------------------------------------


def test_same_file_twice_is_kept_once_and_reported():
    result = load_incidents([FEB, FEB], EASTLEIGH)
    assert _accounts(result) == (6065, 845, 0, 5220)
    assert result.duplicate_files == [
        {
            "source_file": str(FEB),
            "force": "Hampshire Constabulary",
            "month": "2017-02",
            "rows": 6065,
            "kept_from": str(FEB),
        }
    ]
    assert result.summary()["duplicate_rows"] == 6065


def _police_archive(tmp_path, months=(FEB, MAR)):
    """A police.uk-style download: YYYY-MM/ folders with street and outcomes members."""
    z = tmp_path / "download.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in months:
            month = path.name[:7]
            zf.write(path, f"{month}/{month}-hampshire-street.csv")
            zf.writestr(
                f"{month}/{month}-hampshire-outcomes.csv",
                "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,"
                "LSOA code,LSOA name,Outcome type\n",
            )
    return z


def test_police_uk_archive_loads_and_skips_outcomes(tmp_path):
    result = load_incidents([_police_archive(tmp_path)], EASTLEIGH)
    assert _accounts(result) == (6065 + 6853, 845 + 947, 0, 5220 + 5906)
    assert result.skipped == [
        (
            "download.zip!2017-02/2017-02-hampshire-outcomes.csv",
            "not a police.uk street file (skipped)",
        ),
        (
            "download.zip!2017-03/2017-03-hampshire-outcomes.csv",
            "not a police.uk street file (skipped)",
        ),
    ]
    assert result.files["source_file"].tolist() == [
        "download.zip!2017-02/2017-02-hampshire-street.csv",
        "download.zip!2017-03/2017-03-hampshire-street.csv",
    ]
    assert result.duplicate_files == []


def test_an_archive_of_two_forces_counts_only_eastleigh_and_keeps_both_forces(tmp_path):
    # A download of two forces for the same month: different forces are not duplicates.
    # The Thames Valley rows (Reading, about 60 km away) are all outside the study area.
    reading = police_line(
        Reported_by="Thames Valley Police",
        Falls_within="Thames Valley Police",
        Longitude="-0.971",
        Latitude="51.455",
        LSOA_code="E01016388",
        LSOA_name="Reading 001A",
        Location="On or near Broad Street",
    )
    z = tmp_path / "two_forces.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(FEB, "2017-02/2017-02-hampshire-street.csv")
        zf.writestr(
            "2017-02/2017-02-thames-valley-street.csv",
            "\n".join([POLICE_HEADER, reading, reading, reading]) + "\n",
        )
    result = load_incidents([z], EASTLEIGH)
    assert _accounts(result) == (6065 + 3, 845, 0, 5220 + 3)
    assert result.reconciles()
    assert result.duplicate_files == []
    assert len(result.files) == 2


@pytest.mark.parametrize("file_first", [True, False])
def test_file_and_archive_holding_it_are_kept_once(tmp_path, file_first):
    z = _police_archive(tmp_path)
    paths = [FEB, z] if file_first else [z, FEB]
    result = load_incidents(paths, EASTLEIGH)
    assert _accounts(result) == (6065 + 6853, 845 + 947, 0, 5220 + 5906)
    assert len(result.duplicate_files) == 1
    dup = result.duplicate_files[0]
    assert (dup["force"], dup["month"], dup["rows"]) == ("Hampshire Constabulary", "2017-02", 6065)
    member = "download.zip!2017-02/2017-02-hampshire-street.csv"
    assert (dup["source_file"], dup["kept_from"]) == (
        (member, str(FEB)) if file_first else (str(FEB), member)
    )


def test_folder_loads_like_its_files(tmp_path):
    folder = tmp_path / "months"
    folder.mkdir()
    for path in (FEB, MAR):
        shutil.copy(path, folder / path.name)
    result = load_incidents([folder], EASTLEIGH)
    assert _accounts(result) == (6065 + 6853, 845 + 947, 0, 5220 + 5906)


def test_unpacked_download_folder_loads(tmp_path):
    with zipfile.ZipFile(_police_archive(tmp_path)) as zf:
        zf.extractall(tmp_path / "unpacked")
    result = load_incidents([tmp_path / "unpacked"], EASTLEIGH)
    assert result.accepted == 845 + 947
    assert len(result.skipped) == 2


def test_a_single_path_string_is_one_file():
    assert load_incidents(str(FEB), EASTLEIGH).accepted == 845


def test_study_area_can_be_narrowed(tmp_csv):
    path = tmp_csv(
        "two.csv",
        [
            POLICE_HEADER,
            police_line(),
            police_line(
                LSOA_code="E01022652", LSOA_name="Eastleigh 011A", Longitude="", Latitude=""
            ),
        ],
    )
    result = load_incidents([path], EASTLEIGH, study_lsoas={"E01022652"})
    assert _accounts(result) == (2, 1, 0, 1)
    assert result.incidents["lsoa_code"].tolist() == ["E01022652"]


# --- the shipped real data -------------------------------------------------------------------


def test_shipped_files_reconcile(shipped_result):
    r = shipped_result
    assert len(shipped_incident_paths()) == 5
    assert r.rows_in == 6065 + 6853 + 6630 + 7215 + 5913  # SOURCES.md: rows kept
    assert _accounts(r) == (32676, 4370, 0, 28306)
    assert r.reconciles()
    assert r.without_location == 0
    assert r.duplicate_files == []


def test_shipped_accepted_per_month_match_sources(shipped_result):
    per_month = shipped_result.incidents.groupby("month").size().to_dict()
    assert per_month == {
        "2017-02": 845,
        "2017-03": 947,
        "2017-04": 833,
        "2017-05": 914,
        "2022-02": 831,
    }
    assert shipped_result.files["accepted"].tolist() == [845, 947, 833, 914, 831]


def test_shipped_asb_feb_to_may_2017(shipped_result):
    inc = shipped_result.incidents
    asb = inc[
        (inc["crime_type"] == "Anti-social behaviour") & inc["month"].between("2017-02", "2017-05")
    ]
    assert len(asb) == 282 + 299 + 221 + 206 == 1008
    # Identical rows are real: the shipped ASB holds repeated lines, all kept.
    cols = ["month", "x", "y", "location", "lsoa_code"]
    assert asb.duplicated(cols).sum() > 0


def test_shipped_incidents_follow_the_schema(shipped_result):
    inc = shipped_result.incidents
    assert inc.crs == BNG
    assert set(INCIDENT_COLUMNS) <= set(inc.columns)
    assert {"ward_code", "ward_name", "ward2002_code", "ward2002_name", "local_area"} <= set(
        inc.columns
    )
    assert inc["row"].dtype == np.int64
    assert inc["has_location"].all() and inc.geometry.notna().all()
    # BNG metres inside the borough's box (about 441-453 km E, 107-124 km N)
    assert inc["x"].between(438_000, 456_000).all() and inc["y"].between(105_000, 125_000).all()
    assert inc["source_file"].str.endswith("_eastleigh_area.csv").all()


def test_shipped_areas(shipped_result):
    inc = shipped_result.incidents
    assert inc["ward_code"].notna().all() and inc["ward2002_code"].notna().all()
    assert inc["ward_code"].nunique() == 14
    assert set(inc["ward_code"]) <= {f"E050111{n}" for n in range(87, 100)} | {"E05011200"}
    assert inc["ward2002_code"].nunique() == 19
    assert set(inc["ward2002_code"]) == {f"E0500{n}" for n in range(4497, 4516)}
    assert set(inc["local_area"]) == set(LOCAL_AREAS)
    assert inc["lsoa_code"].nunique() == 77


def test_whole_force_month_counts_only_eastleigh_rows():
    # No whole-force file is shipped: the real 2017-02 file is the force file cut to five
    # districts. Only its Eastleigh rows count; the rest are outside the study area.
    result = load_incidents([FEB], EASTLEIGH)
    assert _accounts(result) == (6065, 845, 0, 5220)
    assert result.incidents["lsoa_name"].str.startswith("Eastleigh ").all()


def test_a_point_far_from_the_lsoa_its_row_names_is_rejected(tmp_csv):
    # The real row sits in Eastleigh 001A (E01022705); the second claims the same LSOA
    # from a point near Hamble, about 12.6 km away.
    path = tmp_csv(
        "far.csv", [POLICE_HEADER, police_line(), police_line(Longitude="-1.30", Latitude="50.88")]
    )
    result = load_incidents([path], EASTLEIGH)
    assert (result.accepted, result.rejected) == (1, 1)
    assert result.reconciles()
    reason = result.rejects["reason"].iloc[0]
    assert "12.6 km outside E01022705" in reason and "check the coordinates" in reason
    assert result.rejects["row"].iloc[0] == 3
