"""The CSP's own logs: a user's column mapping, times kept, rows placed by point, LSOA or ward."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.csp_log import ColumnMapping, normalise_area_name, read_csp_log, sniff_columns
from geo.errors import InputError
from tests.areas import EASTLEIGH
from tests.conftest import DATA_DIR

LOG = DATA_DIR / "csp_asb_log.csv"
MAPPING = ColumnMapping(
    date="Reported",
    type="Category",
    lat="Lat",
    lon="Long",
    ward="Ward",
    location="Street",
    source_name="CSP ASB log",
)


@pytest.fixture(scope="module")
def log():
    return read_csp_log(LOG, MAPPING, EASTLEIGH)


def test_log_reconciles_by_hand(log):
    assert (log.rows_in, log.accepted, log.rejected, log.outside_area) == (8, 5, 3, 0)
    assert log.reconciles()
    assert sorted(log.incidents["row"]) == [2, 3, 4, 5, 8]
    assert log.rejects["row"].tolist() == [6, 7, 9]


def test_times_are_kept_and_dates_read_iso_or_day_first(log):
    inc = log.incidents.set_index("row")
    assert inc.loc[2, "datetime"] == pd.Timestamp("2017-02-14 21:30")
    assert pd.isna(inc.loc[3, "datetime"])  # a date without a time: month only
    assert inc.loc[3, "month"] == "2017-02"  # 14/02/2017
    assert inc.loc[4, "datetime"] == pd.Timestamp("2017-03-01 09:05")  # 01/03/2017: 1 March
    assert inc.loc[5, "month"] == "2017-01"  # 03/01/2017: 3 January, day first
    assert inc.loc[8, "datetime"] == pd.Timestamp("2017-04-02 18:45")  # ISO with a T
    assert set(inc["force"]) == {"CSP ASB log"}
    assert inc.loc[2, "location"] == "Leigh Road"


def test_point_rows_are_placed_by_polygon(log):
    row = log.incidents.set_index("row").loc[2]
    assert row["has_location"]
    assert row["lsoa_code"] == "E01022671"
    assert row["ward_name"] == "Eastleigh North"
    assert row["local_area"] == "Eastleigh"


def test_ward_only_row_placed_by_loosely_matched_name(log):
    # "Hamble and Netley" in the log == "Hamble & Netley" (E05011195) in the ONS file.
    row = log.incidents.set_index("row").loc[4]
    assert not row["has_location"] and row["geometry"] is None
    assert np.isnan(row["x"]) and np.isnan(row["y"])
    assert row["ward_code"] == "E05011195"
    assert row["ward_name"] == "Hamble & Netley"
    assert row["local_area"] == "Bursledon, Hamble-le-Rice and Hound"


def test_ward_of_the_2002_set_is_recognised(log):
    row = log.incidents.set_index("row").loc[5]
    assert row["ward2002_code"] == "E05004510"
    assert row["ward2002_name"] == "Hedge End Wildern"
    assert row["local_area"] == "Hedge End, West End and Botley"


def test_rejected_rows_name_column_value_and_fix(log):
    reasons = log.rejects.set_index("row")["reason"]
    assert (
        reasons[6]
        == "Reported: '2017-02-30' is not a date (use e.g. 2017-02-14 or 14/02/2017 21:30)"
    )
    assert reasons[7] == "Category: empty; every row needs a type"
    assert reasons[9] == "Ward: 'Hamble' is not a ward of either set; check the spelling"
    assert log.rejects.set_index("row").loc[9, "raw"] == "A8,05/04/2017 23:10,Noise,,,Hamble,"


@pytest.mark.parametrize(
    ("given", "same_as"),
    [
        ("Hamble and Netley", "Hamble & Netley"),
        ("  HAMBLE &  NETLEY ", "Hamble & Netley"),
        ("Chandlers Ford", "Chandler's Ford"),
        ("Chandler\u2019s Ford", "Chandler's Ford"),
        ("Bursledon and Hound North", "Bursledon & Hound North"),
    ],
)
def test_area_names_match_loosely(given, same_as):
    assert normalise_area_name(given) == normalise_area_name(same_as)


def test_different_names_stay_different():
    assert normalise_area_name("Hedge End North") != normalise_area_name("Hedge End South")


def test_ward_codes_match_exactly(tmp_csv):
    path = tmp_csv(
        "codes.csv", ["When,What,Ward", "2017-02-01,ASB,E05011195", "2017-02-01,ASB,e05011190"]
    )
    result = read_csp_log(path, ColumnMapping(date="When", type="What", ward="Ward"), EASTLEIGH)
    assert result.incidents["ward_code"].tolist() == ["E05011195", "E05011190"]


def test_easting_northing_mapping(tmp_csv):
    path = tmp_csv(
        "cctv.csv",
        [
            "Date,Incident,E,N",
            "14/02/2017 21:30,Fight,445600,118400",  # Eastleigh town: kept
            "14/02/2017 22:00,Fight,430000,100000",  # on the Solent, outside the borough
            "14/02/2017 22:10,Fight,-1.3502,50.9701",  # degrees, not metres
            "14/02/2017 22:20,Fight,445600,",  # one of the pair missing
        ],
    )
    result = read_csp_log(
        path, ColumnMapping(date="Date", type="Incident", easting="E", northing="N"), EASTLEIGH
    )
    assert (result.rows_in, result.accepted, result.rejected, result.outside_area) == (4, 1, 2, 1)
    row = result.incidents.iloc[0]
    assert (row["x"], row["y"]) == (445600.0, 118400.0)
    assert row["datetime"] == pd.Timestamp("2017-02-14 21:30")
    assert row["ward_name"] == "Eastleigh North"
    reasons = result.rejects.set_index("row")["reason"]
    assert reasons[4].startswith(
        "E/N: point lies outside the National Grid; check these are eastings/northings in metres"
    )
    assert reasons[5] == "E/N: one of the pair is missing; give both or neither"


def test_lsoa_mapping_places_rows_without_coordinates(tmp_csv):
    path = tmp_csv(
        "lsoa.csv", ["Date,Type,LSOA", "2017-02-01,ASB,e01022705", "2017-02-01,ASB,E01017144"]
    )
    result = read_csp_log(path, ColumnMapping(date="Date", type="Type", lsoa="LSOA"), EASTLEIGH)
    assert (result.accepted, result.outside_area) == (1, 1)  # E01017144 is Southampton
    assert result.incidents.loc[0, "lsoa_code"] == "E01022705"
    assert result.incidents.loc[0, "ward_code"] == "E05011198"
    assert result.without_location == 1


def test_identical_log_lines_are_two_incidents(tmp_csv):
    line = "2017-02-14 21:30,ASB,50.9701,-1.3502"
    path = tmp_csv("dup.csv", ["D,T,Lat,Lon", line, line])
    result = read_csp_log(path, ColumnMapping(date="D", type="T", lat="Lat", lon="Lon"), EASTLEIGH)
    assert result.accepted == 2


def test_short_row_is_rejected_for_its_field_count(tmp_csv):
    path = tmp_csv(
        "short.csv",
        ["D,T,Lat,Lon", "2017-02-14 21:30,ASB,50.9701", "", "2017-02-14,ASB,50.9701,-1.3502"],
    )
    result = read_csp_log(path, ColumnMapping(date="D", type="T", lat="Lat", lon="Lon"), EASTLEIGH)
    assert result.rejects.loc[0, "reason"].startswith(
        "row has 3 fields, the header has 4 (too few fields): "
        "column 'Lon' and those after it are missing"
    )
    assert result.rejects.loc[0, "row"] == 2
    assert result.incidents["row"].tolist() == [4]  # the blank line 3 does not shift numbering


def test_missing_mapped_column_lists_the_files_columns():
    bad = ColumnMapping(date="Date", type="Category", lat="Lat", lon="Lon")
    with pytest.raises(
        InputError,
        match=(
            r"csp_asb_log\.csv: column\(s\) \['Date', 'Lon'\] not found; the file has "
            r"\['Ref', 'Reported', 'Category', 'Lat', 'Long', 'Ward', 'Street'\]\. "
            r"Fix the mapping\."
        ),
    ):
        read_csp_log(LOG, bad, EASTLEIGH)


def test_half_a_coordinate_mapping_is_refused():
    with pytest.raises(InputError, match=r"map both lat and lon, or both easting and northing"):
        read_csp_log(LOG, ColumnMapping(date="Reported", type="Category", lat="Lat"), EASTLEIGH)


def test_bom_and_cp1252_logs(tmp_csv):
    text = "Date,Type,Street\r\n2017-02-14,ASB,Chandler\u2019s Ford caf\u00e9\r\n"
    m = ColumnMapping(date="Date", type="Type", location="Street", ward="Street")
    for data in (b"\xef\xbb\xbf" + text.encode(), text.encode("cp1252")):
        result = read_csp_log(tmp_csv("enc.csv", data), m, EASTLEIGH)
        # 'Chandler's Ford cafe' is not a ward: rejected, with the text read correctly
        assert "'Chandler\u2019s Ford caf\u00e9' is not a ward" in result.rejects.loc[0, "reason"]


def test_empty_and_binary_logs_are_refused(tmp_csv):
    with pytest.raises(InputError, match=r"the file is empty"):
        read_csp_log(tmp_csv("e.csv", b""), MAPPING, EASTLEIGH)
    with pytest.raises(InputError, match=r"binary file"):
        read_csp_log(tmp_csv("b.csv", b"\x00\x01\x02" * 10), MAPPING, EASTLEIGH)
    with pytest.raises(InputError, match=r"has a header but no data rows"):
        read_csp_log(
            tmp_csv("h.csv", "Reported,Category,Lat,Long,Ward,Street\n"), MAPPING, EASTLEIGH
        )


def test_sniff_columns():
    assert sniff_columns(LOG) == ["Ref", "Reported", "Category", "Lat", "Long", "Ward", "Street"]
