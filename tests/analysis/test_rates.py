"""Rates per 1,000 with exact Poisson intervals and change between periods: hand-made and real."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from analysis.rates import area_rates, filter_incidents, pct_change, period_change, poisson_ci
from geo.crs import BNG
from geo.errors import InputError
from geo.join import lsoa_at
from geo.study_area import AreaLevel
from tests.areas import EASTLEIGH

ASB = "Anti-social behaviour"


# --- hand-made geometry --------------------------------------------------------------------------


@pytest.fixture
def wards() -> gpd.GeoDataFrame:
    # W1: a 1 km x 1 km ward of 2,000 residents; W2 beside it, 1,000 residents.
    return gpd.GeoDataFrame(
        {"code": ["W1", "W2"], "name": ["One", "Two"], "population": [2000, 1000]},
        geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
        crs=BNG,
    )


def _level(wards):
    return AreaLevel(
        key="ward",
        label="Wards",
        areas=wards,
        column="ward_code",
        boundaries="made up",
        population="made up",
    )


YEAR = {"month_from": "2017-01", "month_to": "2017-12"}
"""A twelve-month period: rates per year are the counts per 1,000 residents."""


def _points(x, y, *, month="2017-02", crime_type=ASB) -> pd.DataFrame:
    return pd.DataFrame({"x": x, "y": y, "month": month, "crime_type": crime_type})


def test_five_points_in_a_1km2_ward_of_2000_give_2_5_per_1000(wards):
    assert wards.area.iloc[0] == 1_000_000.0  # 1 km2
    inc = _points([100.0, 200.0, 300.0, 400.0, 500.0], [500.0] * 5)
    inc["ward_code"] = lsoa_at(inc["x"].to_numpy(), inc["y"].to_numpy(), wards)
    table = area_rates(inc, _level(wards), **YEAR).set_index("code")
    assert table.loc["W1", "count"] == 5
    assert table.loc["W1", "rate_per_1000"] == 2.5  # 5 / 2,000 x 1,000
    assert table.loc["W2", "count"] == 0 and table.loc["W2", "rate_per_1000"] == 0.0
    # Exact interval for 5 events (1.6235, 11.6683) scaled by 1,000 / 2,000.
    assert table.loc["W1", "ci_low"] == pytest.approx(0.81174, abs=1e-4)
    assert table.loc["W1", "ci_high"] == pytest.approx(5.83417, abs=1e-4)
    # The borough: 5 incidents in 3,000 residents = 1.667 per 1,000, inside W1's interval.
    assert table.loc["W1", "borough_rate"] == pytest.approx(5 / 3)
    assert table.loc["W1", "vs_borough"] == "not different"
    assert table.loc["W1", "share"] == 1.0


def test_rate_flagged_higher_only_when_the_interval_excludes_the_borough(wards):
    # 30 in W1: 15 per 1,000, interval (20.24, 42.83) / 2 = 10.12-21.41; 2 in W2: 2 per 1,000,
    # interval (0.242, 7.225) / 1. Borough: 32 / 3,000 = 10.67 per 1,000, inside W1's
    # interval (not distinguishable) and above W2's (lower).
    inc = pd.DataFrame(
        {"ward_code": ["W1"] * 30 + ["W2"] * 2, "month": "2017-02", "crime_type": ASB}
    )
    table = area_rates(inc, _level(wards), **YEAR).set_index("code")
    assert table.loc["W1", "ci_low"] == pytest.approx(10.12, abs=0.01)
    assert table.loc["W1", "ci_high"] == pytest.approx(21.41, abs=0.01)
    assert table.loc["W1", "vs_borough"] == "not different"
    assert table.loc["W2", "ci_high"] == pytest.approx(7.22, abs=0.01)
    assert table.loc["W2", "vs_borough"] == "lower"
    inc = pd.DataFrame(
        {"ward_code": ["W1"] * 60 + ["W2"] * 2, "month": "2017-02", "crime_type": ASB}
    )
    table = area_rates(inc, _level(wards), **YEAR).set_index("code")
    # 30 per 1,000 with interval 22.9-38.6 against a borough of 20.7: higher.
    assert table.loc["W1", "vs_borough"] == "higher"


def test_an_area_without_residents_has_no_rate_and_is_not_compared(wards):
    # An LSOA whose Census 2021 residents went to its neighbours: 4 incidents, 0 residents.
    wards = wards.assign(population=[2000, 0])
    inc = pd.DataFrame(
        {"ward_code": ["W1"] * 30 + ["W2"] * 4, "month": "2017-02", "crime_type": ASB}
    )
    table = area_rates(inc, _level(wards), **YEAR).set_index("code")
    assert table.loc["W2", "count"] == 4
    assert np.isnan(table.loc["W2", ["rate_per_1000", "ci_low", "ci_high"]].astype(float)).all()
    assert table.loc["W2", "vs_borough"] == "no residents"
    assert table.loc["W1", "rate_per_1000"] == 15.0  # 30 / 2,000 x 1,000
    assert table.loc["W1", "borough_rate"] == pytest.approx(34 / 2000 * 1000)


def test_rates_are_per_year_annualised_from_the_period(wards):
    # The same 5 incidents counted over one month are 12 times the yearly rate: 30 per
    # 1,000 a year, and the interval and the borough's rate scale alike; over the year
    # they are 2.5 (the test above).
    inc = _points([100.0, 200.0, 300.0, 400.0, 500.0], [500.0] * 5)
    inc["ward_code"] = lsoa_at(inc["x"].to_numpy(), inc["y"].to_numpy(), wards)
    month = area_rates(inc, _level(wards), month_from="2017-02", month_to="2017-02")
    month = month.set_index("code")
    assert month.loc["W1", "rate_per_1000"] == pytest.approx(30.0)  # 5 / 2,000 x 1,000 x 12
    assert month.loc["W1", "ci_low"] == pytest.approx(0.81174 * 12, abs=1e-3)
    assert month.loc["W1", "borough_rate"] == pytest.approx(20.0)  # 5 / 3,000 x 1,000 x 12
    assert (month["months"] == 1).all()
    # Without bounds the period is the months present: one here.
    assert area_rates(inc, _level(wards)).set_index("code").loc["W1", "rate_per_1000"] == 30.0
    assert month.attrs["population_source"] == "made up"


def test_rates_over_a_range_with_months_missing_from_the_data_count_only_those_held(wards):
    # A store holding 2 of the 12 months of 2017 for the area: the 5 incidents are over
    # 2 months, 15 per 1,000 a year (5 / 2,000 x 1,000 x 12 / 2), not 2.5.
    inc = _points([100.0, 200.0, 300.0, 400.0, 500.0], [500.0] * 5)
    inc["ward_code"] = lsoa_at(inc["x"].to_numpy(), inc["y"].to_numpy(), wards)
    held = ["2016-12", "2017-02", "2017-09", "2018-01"]  # two of them inside the range
    year = area_rates(
        inc, _level(wards), month_from="2017-01", month_to="2017-12", months_held=held
    ).set_index("code")
    assert year.loc["W1", "rate_per_1000"] == pytest.approx(15.0)
    assert (year["months"] == 2).all()


def test_rates_are_sorted_highest_first(wards):
    inc = pd.DataFrame({"ward_code": ["W2"] * 3 + ["W1"], "month": "2017-02", "crime_type": ASB})
    assert area_rates(inc, _level(wards))["code"].tolist() == ["W2", "W1"]


# --- exact Poisson intervals -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "low", "high"),
    [(0, 0.0, 3.689), (1, 0.0253, 5.572), (10, 4.795, 18.390)],
)
def test_exact_poisson_interval_known_values(count, low, high):
    lo, hi = poisson_ci(count)
    assert float(lo) == pytest.approx(low, abs=6e-4)
    assert float(hi) == pytest.approx(high, abs=6e-4)


def test_poisson_interval_for_zero_is_minus_log_of_alpha_over_two():
    # For k = 0 the upper bound solves exp(-mu) = 0.025: mu = -ln(0.025) = 3.6889.
    assert float(poisson_ci(0)[1]) == pytest.approx(-math.log(0.025), rel=1e-9)
    # For k = 1 the lower bound solves 1 - exp(-mu) = 0.025: mu = -ln(0.975) = 0.02532.
    assert float(poisson_ci(1)[0]) == pytest.approx(-math.log(0.975), rel=1e-9)


def test_poisson_interval_is_vectorised():
    lo, hi = poisson_ci(np.array([0, 1, 10]))
    assert lo.shape == hi.shape == (3,)
    assert np.all(np.diff(hi) > 0)


# --- change ----------------------------------------------------------------------------------


def test_review_asb_change_is_minus_16_81_percent():
    assert round(pct_change(2183, 1816), 2) == -16.81


def test_pct_change_edge_cases():
    assert pct_change(100, 150) == 50.0
    assert math.isnan(pct_change(0, 5))


def _ward_months(counts: dict[tuple[str, str], int]) -> pd.DataFrame:
    rows = [(w, m) for (w, m), n in counts.items() for _ in range(n)]
    return pd.DataFrame(rows, columns=["ward_code", "month"]).assign(crime_type=ASB)


def test_period_change_binomial_test_by_hand():
    # Eastleigh Central (E05011191): 10 in Feb, 0 in Mar. With equal periods and no change
    # each incident falls in either month with p = 1/2: P = 2 x 0.5^10 = 0.001953.
    # Botley (E05011188): 3 and 3: P = 1. Hiltingbury (E05011198): 0 and 0: P = 1.
    inc = _ward_months(
        {("E05011191", "2017-02"): 10, ("E05011188", "2017-02"): 3, ("E05011188", "2017-03"): 3}
    )
    out = period_change(
        inc, EASTLEIGH.level("ward"), before=("2017-02", "2017-02"), after=("2017-03", "2017-03")
    )
    out = out.set_index("code")
    assert len(out) == 14
    assert out.loc["E05011191", ["before", "after", "change"]].tolist() == [10, 0, -10]
    assert out.loc["E05011191", "change_pct"] == -100.0
    assert out.loc["E05011191", "p_value"] == pytest.approx(2 * 0.5**10)
    assert out.loc["E05011191", "direction"] == "down"
    assert out.loc["E05011188", "p_value"] == pytest.approx(1.0)
    assert out.loc["E05011188", "direction"] == "no clear change"
    assert out.loc["E05011198", "p_value"] == 1.0
    assert math.isnan(out.loc["E05011198", "change_pct"])


def test_period_change_weights_unequal_periods():
    # One month before (0), two months after (3): under no change p = 2/3 per incident.
    # P(X=3) = 8/27; two-sided: outcomes no likelier than 8/27 are X=0 (1/27), X=1 (6/27)
    # and X=3 (8/27): P = 15/27 = 0.5556.
    inc = _ward_months({("E05011191", "2017-03"): 2, ("E05011191", "2017-04"): 1})
    out = period_change(
        inc, EASTLEIGH.level("ward"), before=("2017-02", "2017-02"), after=("2017-03", "2017-04")
    )
    row = out.set_index("code").loc["E05011191"]
    assert row["p_value"] == pytest.approx(15 / 27)
    assert not row["significant"]


def test_period_backwards_is_refused():
    inc = _ward_months({("E05011191", "2017-03"): 1})
    with pytest.raises(
        InputError,
        match=r"months 2017-05\.\.2017-02: the range ends before it starts; swap the two months",
    ):
        period_change(
            inc,
            EASTLEIGH.level("ward"),
            before=("2017-05", "2017-02"),
            after=("2017-06", "2017-06"),
        )


# --- filters ---------------------------------------------------------------------------------


def test_filter_by_type_and_inclusive_months():
    inc = pd.DataFrame(
        {
            "crime_type": [ASB, ASB, "Burglary", ASB],
            "month": ["2017-01", "2017-02", "2017-03", "2017-05"],
        }
    )
    assert len(filter_incidents(inc, types=[ASB], month_from="2017-02", month_to="2017-05")) == 2
    assert len(filter_incidents(inc, types=ASB)) == 3  # one type as a string
    assert len(filter_incidents(inc, types=["Bicycle theft"])) == 0  # a category with no rows
    assert len(filter_incidents(inc)) == 4


def test_filter_refuses_unknown_types_and_bad_months():
    inc = pd.DataFrame({"crime_type": [ASB], "month": ["2017-02"]})
    with pytest.raises(InputError, match=r"type\(s\) \['Anti-social behavior'\] do not occur"):
        filter_incidents(inc, types=["Anti-social behavior"])
    with pytest.raises(InputError, match=r"month '2017-13' is not in YYYY-MM form"):
        filter_incidents(inc, month_from="2017-13")


def test_unknown_level_is_refused():
    with pytest.raises(InputError, match=r"unknown level 'county'"):
        area_rates(pd.DataFrame({"crime_type": [], "month": []}), EASTLEIGH.level("county"))


# --- real data -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "areas"),
    [("ward", 14), ("ward2002", 19), ("local_area", 5), ("lsoa", 77), ("borough", 1)],
)
def test_shipped_asb_feb_may_2017_sums_at_every_level(shipped_result, level, areas):
    table = area_rates(
        shipped_result.incidents,
        EASTLEIGH.level(level),
        types=[ASB],
        month_from="2017-02",
        month_to="2017-05",
    )
    assert len(table) == areas
    assert table["count"].sum() == 1008
    assert table["population"].sum() == 136_435
    assert table["code"].is_unique
    # Four months, annualised: 1,008 / 136,435 x 1,000 x 12 / 4.
    assert table["borough_rate"].iloc[0] == pytest.approx(1008 / 136_435 * 1000 * 3)


def test_shipped_ward_rates_match_their_counts(shipped_result):
    table = area_rates(
        shipped_result.incidents,
        EASTLEIGH.level("ward"),
        types=[ASB],
        month_from="2017-02",
        month_to="2017-05",
    ).set_index("name")
    top = table.iloc[0]
    assert top.name == "Eastleigh Central"
    assert top["rate_per_1000"] == pytest.approx(top["count"] / top["population"] * 1000 * 3)
    assert top["vs_borough"] == "higher"
    assert (table["ci_low"] <= table["rate_per_1000"]).all()
    assert (table["rate_per_1000"] <= table["ci_high"]).all()


def test_shipped_local_areas_are_the_five(shipped_result):
    table = area_rates(shipped_result.incidents, EASTLEIGH.level("local_area"))
    assert sorted(table["name"]) == sorted(
        [
            "Eastleigh",
            "Chandler's Ford and Hiltingbury",
            "Bishopstoke, Fair Oak and Horton Heath",
            "Hedge End, West End and Botley",
            "Bursledon, Hamble-le-Rice and Hound",
        ]
    )
    assert table["count"].sum() == 4370
