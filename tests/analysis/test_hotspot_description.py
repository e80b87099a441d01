"""describe_hotspots, classify_change and reference_hotspots on hand-made data."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from analysis.change import classify_change
from analysis.describe import describe_hotspots, top_values
from analysis.reference import reference_hotspots
from geo.crs import BNG
from tests.areas import EASTLEIGH


def incidents(points, *, months=None, locations=None, types=None, times=None):
    n = len(points)
    return gpd.GeoDataFrame(
        {
            "month": months or ["2017-02"] * n,
            "location": locations or [f"On or near Street {i % 3}" for i in range(n)],
            "crime_type": types or ["Anti-social behaviour"] * n,
            "has_location": [p is not None for p in points],
            "datetime": pd.to_datetime(times) if times else pd.NaT,
        },
        geometry=list(points),
        crs=BNG,
    )


@pytest.fixture
def gazetteer():
    return gpd.GeoDataFrame(
        {
            "name": ["Alpha centre", "Beta village"],
            "kind": ["town_centre", "village"],
            "radius_m": [300.0, 500.0],
        },
        geometry=[Point(1000, 1000), Point(5000, 5000)],
        crs=BNG,
    )


@pytest.fixture
def wards():
    return gpd.GeoDataFrame(
        {"name": ["West ward", "East ward"]},
        geometry=[box(0, 0, 3000, 10000), box(3000, 0, 10000, 10000)],
        crs=BNG,
    )


def test_top_values_counts_strips_prefix_and_breaks_ties_alphabetically():
    s = pd.Series(
        ["On or near B Road", "On or near A Road", "On or near B Road", "", "On or near C"]
    )
    assert top_values(s, 2) == "B Road (2), A Road (1)"


def test_describe_counts_share_rank_name_and_wards(gazetteer, wards):
    # 6 points in a square around Alpha centre, 2 in a square near Beta, 2 elsewhere.
    pts = [Point(1000 + dx, 1000 + dy) for dx in (0, 10, 20) for dy in (0, 10)]
    pts += [Point(5000, 5000), Point(5010, 5000), Point(8000, 8000), None]
    inc = incidents(pts, months=["2017-02"] * 4 + ["2017-03"] * 6)
    polys = gpd.GeoDataFrame(
        geometry=[box(4900, 4900, 5100, 5100), box(950, 950, 1050, 1050)], crs=BNG
    )
    out = describe_hotspots(polys, inc, method="test", gazetteer=gazetteer, wards=wards)
    assert list(out["rank"]) == [1, 2]
    assert list(out["count"]) == [6, 2]
    assert out["share"].iloc[0] == pytest.approx(
        6 / 10
    )  # the row without a location counts in the total
    assert list(out["name"]) == ["Alpha centre", "Beta village"]
    assert out["area_m2"].iloc[0] == pytest.approx(100 * 100)
    assert out["density_per_km2"].iloc[0] == pytest.approx(6 / 0.01)
    assert out["wards"].iloc[0] == "West ward"
    assert out["wards"].iloc[1] == "East ward"
    assert out["peak_months"].iloc[0] == "2017-02 (4), 2017-03 (2)"
    assert out["peak_days"].iloc[0] == ""  # police.uk has months only


def test_describe_reports_days_and_hours_when_the_log_has_times(gazetteer, wards):
    pts = [Point(1000, 1000)] * 3
    times = ["2017-02-17 21:15", "2017-02-24 21:40", "2017-02-20 09:00"]  # Fri, Fri, Mon
    inc = incidents(pts, times=times)
    out = describe_hotspots(
        gpd.GeoDataFrame(geometry=[box(900, 900, 1100, 1100)], crs=BNG),
        inc,
        method="t",
        gazetteer=gazetteer,
        wards=wards,
    )
    assert out["peak_days"].iloc[0] == "Fri (2), Mon (1)"
    assert out["peak_hours"].iloc[0].startswith("21:00-22:00 (2)")


def sq(x, y, s=100):
    return box(x, y, x + s, y + s)


def test_change_classes_new_gone_persistent_intensifying_diminishing():
    before = gpd.GeoDataFrame(
        {"name": ["P", "I", "D", "G"]},
        geometry=[sq(0, 0), sq(1000, 0), sq(2000, 0), sq(3000, 0)],
        crs=BNG,
    )
    after = gpd.GeoDataFrame(
        {"name": ["P", "I", "D", "N"]},
        geometry=[sq(0, 0), sq(1000, 0), sq(2000, 0), sq(4000, 0)],
        crs=BNG,
    )

    def at(x, n):
        return [Point(x + 50, 50)] * n

    inc_b = incidents(at(0, 10) + at(1000, 5) + at(2000, 40) + at(3000, 10))
    inc_a = incidents(at(0, 11) + at(1000, 40) + at(2000, 5) + at(4000, 12))
    out = classify_change(before, after, inc_b, inc_a, months_before=1, months_after=1)
    status = dict(zip(out["name"], out["status"], strict=True))
    assert status == {
        "P": "persistent",
        "I": "intensifying",
        "D": "diminishing",
        "N": "new",
        "G": "gone",
    }
    row = out.set_index("name").loc["I"]
    assert (row["count_before"], row["count_after"]) == (5, 40)
    assert row["change_pct"] == pytest.approx(700.0)


def test_change_accounts_for_unequal_period_lengths():
    poly = gpd.GeoDataFrame({"name": ["P"]}, geometry=[sq(0, 0)], crs=BNG)
    # 20 in two months before, 10 in one month after: the same rate, so persistent.
    out = classify_change(
        poly,
        poly,
        incidents([Point(50, 50)] * 20),
        incidents([Point(50, 50)] * 10),
        months_before=2,
        months_after=1,
    )
    assert out["status"].tolist() == ["persistent"]
    assert out["change_pct"].iloc[0] == pytest.approx(0.0)


def test_reference_reports_agreement_and_absence_without_inventing(gazetteer):
    gaz = pd.concat(
        [
            gazetteer,
            gpd.GeoDataFrame(
                {
                    "name": ["Eastleigh town centre", "Hamble foreshore", "Hedge End town centre"],
                    "kind": ["town_centre", "foreshore", "town_centre"],
                    "radius_m": [200.0, 200.0, 200.0],
                },
                geometry=[Point(1000, 1000), Point(9000, 9000), Point(6000, 1000)],
                crs=BNG,
            ),
        ],
        ignore_index=True,
    )
    inc = incidents([Point(1000, 1000)] * 8 + [Point(9000, 9100)])
    detected = gpd.GeoDataFrame(
        {"rank": [1], "name": ["Eastleigh town centre"]}, geometry=[sq(950, 950)], crs=BNG
    )
    ref = reference_hotspots(
        inc, detected, gazetteer=gaz, review_hotspots=EASTLEIGH.review_hotspots
    ).set_index("place")
    assert bool(ref.loc["Eastleigh town centre", "agrees"])
    assert ref.loc["Eastleigh town centre", "incidents_within"] == 8
    assert not bool(ref.loc["Hamble foreshore", "agrees"])
    assert ref.loc["Hamble foreshore", "incidents_within"] == 1
    assert "does not show a hotspot" in ref.loc["Hamble foreshore", "verdict"]
    assert ref.loc["Hedge End town centre", "incidents_within"] == 0
    assert np.isclose(ref.loc["Hamble foreshore", "geometry"].area, np.pi * 200**2, rtol=0.01)


def test_describe_an_empty_hotspot_set_gives_an_empty_frame(gazetteer, wards):
    out = describe_hotspots(
        gpd.GeoDataFrame(geometry=[], crs=BNG),
        incidents([Point(0, 0)]),
        method="gistar",
        gazetteer=gazetteer,
        wards=wards,
    )
    assert len(out) == 0
    assert {"rank", "name", "count", "share", "area_m2"} <= set(out.columns)


def test_change_counts_both_periods_over_the_same_ground():
    # Last month: two hotspots; this month: one covering the first only partly.
    before = gpd.GeoDataFrame({"name": ["A", "B"]}, geometry=[sq(0, 0), sq(5000, 0)], crs=BNG)
    after = gpd.GeoDataFrame({"name": ["C"]}, geometry=[sq(50, 0)], crs=BNG)
    inc_b = incidents([Point(10, 50)] * 6 + [Point(120, 50)] * 2)  # 6 in A only, 2 in C only
    inc_a = incidents([Point(10, 50)] * 3 + [Point(120, 50)] * 5)
    out = classify_change(before, after, inc_b, inc_a, months_before=1, months_after=1)
    row = out.set_index("name").loc["C"]
    # A and C together: 8 before, 8 after.
    assert (row["count_before"], row["count_after"]) == (8, 8)
    assert row["status"] == "persistent"
    assert out.set_index("name").loc["B", "status"] == "gone"


def test_reference_agrees_only_with_a_top_ranked_hotspot(gazetteer):
    gaz = pd.concat(
        [
            gazetteer,
            gpd.GeoDataFrame(
                {"name": ["Hamble foreshore"], "kind": ["foreshore"], "radius_m": [200.0]},
                geometry=[Point(9000, 9000)],
                crs=BNG,
            ),
        ],
        ignore_index=True,
    )
    inc = incidents([Point(9000, 9000)] * 2)
    tail = gpd.GeoDataFrame(
        {"rank": [11], "name": ["Hamble foreshore"]}, geometry=[sq(8950, 8950)], crs=BNG
    )
    ref = reference_hotspots(
        inc, tail, gazetteer=gaz, review_hotspots=EASTLEIGH.review_hotspots
    ).set_index("place")
    assert not bool(ref.loc["Hamble foreshore", "agrees"])
    assert "top 10" in ref.loc["Hamble foreshore", "verdict"]
    ref = reference_hotspots(
        inc, tail, gazetteer=gaz, top_n=11, review_hotspots=EASTLEIGH.review_hotspots
    ).set_index("place")
    assert bool(ref.loc["Hamble foreshore", "agrees"])


def test_change_compares_only_the_top_ranked_hotspots():
    before = gpd.GeoDataFrame(
        {"name": ["A", "tail"], "rank": [1, 2]}, geometry=[sq(0, 0), sq(3000, 0)], crs=BNG
    )
    after = gpd.GeoDataFrame({"name": ["A"], "rank": [1]}, geometry=[sq(0, 0)], crs=BNG)
    inc = incidents([Point(50, 50)] * 5)
    out = classify_change(before, after, inc, inc, months_before=1, months_after=1, top_n=1)
    assert out["name"].tolist() == ["A"]  # the rank-2 patch is not called "gone"
    out = classify_change(before, after, inc, inc, months_before=1, months_after=1, top_n=None)
    assert sorted(out["status"]) == ["gone", "persistent"]
