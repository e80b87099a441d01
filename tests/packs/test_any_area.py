"""The review and tasking packs of areas other than Eastleigh: their own levels, no
borrowed Eastleigh tables, and the store's caveat first."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.io import load_incidents
from geo.paths import NATIONAL_DIR, shipped_incident_paths
from geo.schema import ASB
from geo.store_query import national_study_area
from geo.study_area import load_study_area
from packs import PUBLISHED, review_pack, tasking_pack
from packs.area_counts import Nesting, pack_nesting
from packs.tables import rate_columns, vs_borough
from render.report import render_html
from tests.areas import EASTLEIGH, REVIEW_TABLES

NATIONAL_2022_03 = NATIONAL_DIR / "police_uk" / "national" / "police-uk-street-2022-03.zip"


@pytest.fixture(scope="module")
def north_hampshire():
    area = load_study_area("North Hampshire")  # a CSP of three districts, with wards
    return area, load_incidents(shipped_incident_paths("hampshire"), area).incidents


@pytest.fixture(scope="module")
def newcastle():
    area = national_study_area("E08000021")  # no ward file: LSOAs only
    return area, load_incidents([NATIONAL_2022_03], area).incidents


def test_each_area_counts_by_its_own_levels(north_hampshire, newcastle):
    assert pack_nesting(EASTLEIGH) == Nesting("ward", "local_area")
    assert pack_nesting(north_hampshire[0]) == Nesting("ward", "district")
    assert pack_nesting(newcastle[0]) == Nesting("lsoa", None)


def test_a_partnership_pack_counts_wards_within_its_districts(north_hampshire):
    area, inc = north_hampshire
    pack = tasking_pack("2022-05", inc, area=area, caveats=["Read this first."])
    tables = {t.key: t for t in pack}
    assert {"districts", "wards", "wards_above"} <= set(tables)
    assert "local_areas" not in tables
    assert pack.notes[0] == "Read this first."
    districts = tables["districts"].frame.set_index("district")
    asb = inc[(inc["crime_type"] == ASB) & (inc["month"] == "2022-05")]
    # by hand: this month's ASB rows in each district's wards
    ward_district = area.areas("ward").set_index("code")
    in_ward = asb[asb["ward_code"].notna()]
    names = area.areas("district").set_index("code")["name"]
    expected = in_ward["district_code"].map(names).value_counts()
    for name, n in expected.items():
        assert districts.loc[name, "this_month"] == n
    assert districts.loc["Partnership", "this_month"] == len(in_ward)
    wards = tables["wards"].frame
    assert wards["this_month"].sum() == len(in_ward)
    by_district = wards.groupby("district")["this_month"].sum()
    assert by_district.to_dict() == expected.to_dict()
    assert len(wards) == len(ward_district)
    page = render_html(pack, maps="none")
    assert f"{area.name} ({area.code})" in page  # "North Hampshire CSP (E22000374)"
    assert "Eastleigh" not in page


def test_an_area_without_wards_counts_lsoas_and_prints_the_busiest(newcastle):
    area, inc = newcastle
    pack = tasking_pack("2022-03", inc, area=area)
    tables = {t.key: t for t in pack}
    assert "lsoas" in tables and "lsoas_above" in tables
    assert not {"wards", "local_areas", "districts"} & set(tables)
    lsoas = tables["lsoas"]
    assert len(lsoas.frame) == len(area.areas("lsoa")) == 175
    assert lsoas.show_rows == 30
    counts = lsoas.frame["this_month"].astype(int).tolist()
    assert counts == sorted(counts, reverse=True)  # no last month: the most incidents first
    asb = inc[(inc["crime_type"] == ASB) & (inc["month"] == "2022-03")]
    assert sum(counts) == int(asb["lsoa_code"].isin(set(area.areas("lsoa")["code"])).sum())
    trend_free = [t.key for t in pack]
    assert "trend" not in trend_free  # one month: no trend


def test_another_areas_review_year_is_computed_never_eastleighs_published_tables(
    north_hampshire,
):
    area, inc = north_hampshire
    pack = review_pack("2021-04..2022-03", inc, area=area, review_tables=REVIEW_TABLES)
    assert pack.tables
    assert not any(PUBLISHED in t.source_note for t in pack)
    keys = [t.key for t in pack]
    assert "asb_by_district" in keys and "top_wards" in keys
    assert "review_hotspots" not in keys  # the review's named places are Eastleigh's
    by_district = next(t for t in pack if t.key == "asb_by_district")
    assert by_district.frame["district"].iloc[-1] == "Partnership"
    assert by_district.total_row  # printed in bold, left out of the chart
    venues = next(t for t in pack if t.key == "venue_reach")
    assert venues.frame.empty and "No diversion venues" in venues.notes[0]
    page = render_html(pack, maps="none")
    assert "Strategic Review 2021/22" not in page
    assert "Every table is counted by this service" in page


def test_an_area_with_no_residents_has_no_rate_and_says_so():
    frame = pd.DataFrame({"code": ["A", "B"], "count": [5, 10]})
    pop = pd.Series({"A": 0.0, "B": 1000.0})
    out = rate_columns(frame, "count", pop, pd.Series([False, False]), "code", months=12)
    assert out["per_1000"].isna().tolist() == [True, False]
    assert out.loc[1, "per_1000"] == 10.0  # 10 a year per 1,000 residents
    assert vs_borough(out, 1.0).tolist() == ["no residents", "higher"]
