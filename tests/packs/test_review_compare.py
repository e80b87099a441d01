"""The 2021/22 review pack with all twelve months of police.uk data loaded.

The real Hampshire force files for March 2021 to May 2022 are read once; every figure
police.uk can give must stand beside the review's published one with its difference,
and police.uk's figures are checked against counts made here directly from the
archive with pandas.
"""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from geo.io import load_incidents
from geo.schema import ASB, CRIME_TYPES
from packs import NOT_IN_POLICE_UK, PUBLISHED, review_pack
from packs.review_compare import (
    COMPARED,
    CRIME_TYPE_GROUPS,
    UNMAPPED,
    covers_review_year,
    crime_type_mapping,
)
from tests.areas import EASTLEIGH, REVIEW_TABLES

ZIP = Path(__file__).resolve().parents[3] / "shared/data/police_uk/hampshire"
ZIP = ZIP / "hampshire-street-2021-03-to-2022-05.zip"
YEAR = ("2021-04", "2022-03")

pytestmark = pytest.mark.skipif(not ZIP.exists(), reason=f"{ZIP} is not present")


@pytest.fixture(scope="module")
def incidents():
    return load_incidents([ZIP], EASTLEIGH).incidents


@pytest.fixture(scope="module")
def pack(incidents):
    return review_pack(YEAR, incidents, area=EASTLEIGH, review_tables=REVIEW_TABLES)


@pytest.fixture(scope="module")
def raw_year() -> pd.DataFrame:
    """Eastleigh's rows of the review year, read straight from the archive by LSOA code."""
    frames = []
    with zipfile.ZipFile(ZIP) as z:
        for name in z.namelist():
            month = Path(name).name[:7]
            if name.endswith(".csv") and YEAR[0] <= month <= YEAR[1]:
                frames.append(pd.read_csv(z.open(name), dtype=str))
    rows = pd.concat(frames, ignore_index=True)
    return rows[rows["LSOA code"].isin(EASTLEIGH.lsoa_codes)]


def _total(table) -> pd.Series:
    return table.frame.iloc[-1]


def test_the_loaded_data_covers_the_review_year(incidents):
    assert covers_review_year(incidents)
    assert not covers_review_year(incidents[incidents["month"] != "2021-07"])


def test_asb_police_uk_beside_published(pack, raw_year):
    n_asb = int((raw_year["Crime type"] == ASB).sum())
    assert n_asb == 1923
    key = pack["key_figures"].frame.set_index("measure")
    asb = key.loc["ASB incidents"]
    assert (asb["published"], asb["police_uk"], asb["difference"]) == (1816, 1923, 107)
    for k in ("asb_by_quarter", "asb_by_local_area"):
        t = pack[k]
        assert t.source_note.startswith(COMPARED), k
        total = _total(t)
        assert total["difference"] == 107 and total["difference_pct"] == 5.9, k
    quarters = pack["asb_by_quarter"].frame
    assert (quarters.iloc[-1]["2021-22_published"], quarters.iloc[-1]["2021-22_police_uk"]) == (
        1816,
        1923,
    )
    # the earlier years stay as published
    assert quarters.iloc[:-1]["2020-21"].sum() == 2183
    areas = pack["asb_by_local_area"].frame.set_index("local_area")
    assert areas.loc["Borough", "published"] == 1816
    assert areas.iloc[:-1]["police_uk"].sum() == 1923
    notes = " ".join(pack["asb_by_quarter"].notes)
    assert "InterAct" in notes and "calendar quarters" in notes


def test_recorded_crime_police_uk_beside_published(pack, raw_year):
    n_crime = int((raw_year["Crime type"] != ASB).sum())
    crime = pack["crime_by_type"]
    total = _total(crime)
    assert total["group"] == "Overall recorded crime"
    assert (total["published"], total["police_uk"]) == (8287, n_crime)
    assert total["difference"] == n_crime - 8287
    key = pack["key_figures"].frame.set_index("measure").loc["Recorded crimes (all types but ASB)"]
    assert (key["published"], key["police_uk"]) == (8287, n_crime)
    months = pack["crime_by_month"].frame
    assert (_total(pack["crime_by_month"])["published"], months.iloc[-1]["police_uk"]) == (
        8287,
        n_crime,
    )
    by_month = raw_year[raw_year["Crime type"] != ASB].groupby("Month").size()
    assert months.iloc[:-1]["police_uk"].tolist() == by_month.sort_index().tolist()
    march = months.set_index("month").loc["March 2022"]
    assert march["published"] == 397
    notes = " ".join(crime.notes)
    for cause in ("Categories", "Extract date", "InterAct", "Snapping", "without a location"):
        assert cause in notes, cause


def test_every_crime_category_is_mapped_and_no_row_is_lost(pack, raw_year):
    review_types = REVIEW_TABLES["crime_by_type"]["crime_type"].tolist()
    mapping = crime_type_mapping(review_types)
    assert not (mapping["group"] == UNMAPPED).any()
    assert set(mapping[mapping["side"] == "review"]["category"]) == set(review_types)
    assert set(mapping[mapping["side"] == "police.uk"]["category"]) == set(CRIME_TYPES) - {ASB}
    assert len({g for g, _, _ in CRIME_TYPE_GROUPS}) == len(CRIME_TYPE_GROUPS)
    body = pack["crime_by_type"].frame.iloc[:-1]
    assert sorted(body["group"]) == sorted(g for g, _, _ in CRIME_TYPE_GROUPS)
    assert body["published"].sum() == 8287
    assert body["police_uk"].sum() == _total(pack["crime_by_type"])["police_uk"]
    assert body["police_uk"].sum() == int((raw_year["Crime type"] != ASB).sum())
    # an unknown category is shown as not mapped, never dropped
    odd = crime_type_mapping([*review_types, "Kite flying"])
    assert odd.set_index("category").loc["Kite flying", "group"] == UNMAPPED


def test_tables_police_uk_cannot_give_stay_published_and_say_so(pack):
    for key in ("domestic_abuse", "hate_crime", "arson_by_quarter", "cctv_by_month"):
        t = pack[key]
        assert t.source_note == PUBLISHED and len(t.frame), key
        assert NOT_IN_POLICE_UK in t.notes[0].lower(), key
    key = pack["key_figures"].frame.set_index("measure")
    assert key.loc["Hate crimes", "police_uk_note"] == NOT_IN_POLICE_UK
    assert key.loc["Hate crimes", "police_uk"] is None


def test_top_wards_on_both_ward_sets(pack):
    t = pack["top_wards"]
    wards = t.frame.set_index("ward")
    assert wards["published_per_1000"].to_dict() == {
        "Hamble": 36.36,
        "Eastleigh Central": 28.96,
        "Eastleigh South": 27.92,
        "Hedge End Wildern": 22.47,
    }
    assert wards.loc["Hedge End Wildern", "ward_2018"] == "(no such ward)"
    assert wards["rank_2002"].tolist() == [1, 2, 3, 4]
    assert any("2002 ward set matches the review better" in n for n in t.notes)


def test_named_hotspots_each_get_a_plain_verdict(pack, incidents):
    t = pack["review_hotspots"].frame.set_index("review_hotspot")
    assert list(t.index) == [
        "Hamble including the foreshore",
        "Eastleigh town centre",
        "Hedge End town centre",
    ]
    for name, row in t.iterrows():
        agrees = row["data_agrees"] == "yes"
        start = "The data agrees: " if agrees else "The data does not show a hotspot here: "
        assert row["verdict"].startswith(start), name
        assert f"{row['asb_within']:,} ASB reports within" in row["verdict"], name
    assert t.loc["Eastleigh town centre", "data_agrees"] == "yes"
    assert "#1 Eastleigh town centre" in t.loc["Eastleigh town centre", "verdict"]
    assert (
        pack["hotspots"].source_note == "computed from police.uk data for April 2021 to March 2022"
    )


def test_a_missing_month_keeps_the_published_tables(incidents):
    part = incidents[incidents["month"] != "2022-03"]
    pack = review_pack(YEAR, part, area=EASTLEIGH, review_tables=REVIEW_TABLES)
    crime = pack["crime_by_type"]
    assert crime.source_note == PUBLISHED and _total(crime)["count"] == 8287
    assert "police_uk" not in crime.frame.columns
    assert "load all twelve months" in pack.notes[0]


def test_suppressed_pack_withholds_small_counts(incidents):
    pack = review_pack(YEAR, incidents, 5, area=EASTLEIGH, review_tables=REVIEW_TABLES)
    assert _total(pack["crime_by_type"])["published"] == 8287
    hate = pack["hate_crime"].frame.set_index("characteristic")
    assert hate.loc["Other", "crimes"] == "<5"


def test_report_page_prints_the_figures_side_by_side(pack, tmp_path):
    from render.report import write_report  # noqa: PLC0415

    files = write_report(pack, tmp_path, maps="none", pdf=False)
    page = files.html.read_text(encoding="utf-8")
    for text in (">police.uk<", ">published<", ">difference<", "1,923", "1,816", "8,287"):
        assert text in page, text
    assert "The data agrees: " in page and "Not in police.uk data, so shown as published" in page
    crime = pd.read_csv(next(p for p in files.csvs if p.name.endswith("crime_by_type.csv")))
    assert crime["published"].iloc[-1] == 8287 and crime["difference"].iloc[-1] == 704


def test_the_published_tables_and_their_comparison_are_eastleighs_only(incidents):
    # Eastleigh's own data under another area's code: its 2021/22 is computed like any
    # year, with no published table (they are Eastleigh's) and no comparison.
    other = dataclasses.replace(EASTLEIGH, code="E07000087", name="Fareham")
    pack = review_pack(YEAR, incidents, area=other, review_tables=REVIEW_TABLES)
    assert not any(PUBLISHED in t.source_note for t in pack)
    assert pack["crime_by_type"].source_note.startswith("computed from police.uk data")
    assert "published" not in pack["crime_by_type"].frame.columns
