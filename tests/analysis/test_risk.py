"""The risk surface: exact coverage, deterministic ties, and no look at later months."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from analysis.risk import FEATURES, fit_risk, hit_rates, top_cells
from geo.errors import InputError
from tests.analysis.risk_data import AREA, ASB, frame, months, town


def test_top_cells_fill_the_coverage_exactly_and_break_ties_by_cell_index():
    score = np.zeros((20, 20))
    mask = np.ones((20, 20), bool)
    score[3, 4] = 5.0
    chosen = top_cells(score, mask, 0.05)  # 5% of 400 cells = 20
    assert len(chosen) == 20
    assert chosen[0] == 3 * 20 + 4
    # The other 19 are all tied at 0: the lowest flat indices, in order.
    assert chosen[1:].tolist() == list(range(19))
    mask[0, :] = False  # cells outside the area are never chosen
    assert len(top_cells(score, mask, 0.05)) == round(0.05 * 380)
    assert not set(top_cells(score, mask, 0.05).tolist()) & set(range(20))


def test_top_cells_equal_a_stable_sort_of_every_cell_with_ties_and_gaps():
    # The answer is a stable descending sort of every cell's score, NaN last, ties in
    # cell-index order, whatever the share of cells tied.
    rng = np.random.default_rng(3)
    score = rng.integers(0, 4, size=(30, 40)).astype(float)
    score[rng.random((30, 40)) < 0.1] = np.nan
    mask = rng.random((30, 40)) < 0.8
    flat = np.flatnonzero(mask.ravel())
    s = np.nan_to_num(score.ravel()[flat], nan=-np.inf)
    full = flat[np.argsort(-s, kind="stable")]
    for coverage in (0.0, 0.01, 0.05, 0.1, 0.37, 1.0):
        n = round(coverage * len(flat))
        assert top_cells(score, mask, coverage).tolist() == full[:n].tolist()
    test = rng.poisson(1.0, size=(30, 40)).astype(float)
    total = test.ravel()[flat].sum()
    want = [test.ravel()[full[: round(c * len(flat))]].sum() / total for c in (0.05, 0.5)]
    assert hit_rates(score, mask, test, [0.05, 0.5]).tolist() == pytest.approx(want)


def test_top_cells_rejects_a_coverage_that_is_not_a_share():
    with pytest.raises(InputError, match="coverage"):
        top_cells(np.zeros((2, 2)), np.ones((2, 2), bool), 5)


def test_hit_rates_by_hand():
    score = np.array([[3.0, 2.0], [1.0, 0.0]])
    mask = np.ones((2, 2), bool)
    test = np.array([[1.0, 0.0], [3.0, 0.0]])
    # 25% = one cell (the top-left): 1 of 4 incidents; 50%: two cells, still 1 of 4.
    assert hit_rates(score, mask, test, [0.25, 0.5, 0.75]).tolist() == [0.25, 0.25, 1.0]


@pytest.fixture(scope="module")
def surface():
    return fit_risk(town(), types=[ASB], study_area=AREA)


def test_the_busy_car_park_is_the_top_cell_and_the_supermarket_is_next(surface):
    top = surface.top_cells(0.01)  # 4 cells
    grid = surface.grid
    car_park = 4 * grid.nx + 4  # (225, 225) is cell (ix 4, iy 4)
    supermarket = 14 * grid.nx + 14
    assert top[0] == car_park
    # The supermarket has little ASB of its own but much shoplifting: it ranks high.
    assert supermarket in surface.top_cells(0.02)


def test_expected_counts_are_calibrated_and_shared_among_map_points(surface):
    # ASB a month: 3 + 1 + 6 + 0.5 = 10.5 on average.
    assert 5 < surface.expected_total < 20
    assert (surface.expected >= 0).all()
    assert surface.expected[~surface.mask].sum() == 0
    pts = surface.points
    cells = surface.grid.cell_index(pts["x"].to_numpy(), pts["y"].to_numpy())
    per_cell = np.zeros(surface.expected.size)
    np.add.at(per_cell, cells[1] * surface.grid.nx + cells[0], pts["expected"].to_numpy())
    has = per_cell > 0
    assert np.allclose(per_cell[has], surface.expected.ravel()[has])


def test_the_bandwidth_weights_and_validation_are_reported(surface):
    assert surface.bandwidth_m in (75.0, 150.0, 300.0)
    assert set(FEATURES) <= set(surface.weights)
    assert f"{surface.bandwidth_m:.0f} m" in surface.description
    v = surface.validation
    assert v["chosen"].any()
    assert {"hit_1", "hit_5", "hit_10", "score", "origin", "test_months"} <= set(v.columns)
    # PEI: the hit rate over the best any surface could do with as many cells, so at
    # most 1, and never below the hit rate (the best is at most 1).
    for c in (1, 5, 10):
        pei = v[f"pei_{c}"].dropna()
        assert len(pei) and (pei <= 1 + 1e-12).all() and (pei >= 0).all()
        assert (pei >= v.loc[pei.index, f"hit_{c}"] - 1e-12).all()


def test_validation_scores_only_months_after_each_origin_and_within_the_loaded_ones(surface):
    loaded = surface.months
    for origin, tested in zip(
        surface.validation["origin"], surface.validation["test_months"], strict=True
    ):
        first, last = tested.split("..")
        assert origin < first <= last <= loaded[-1]


def test_months_after_the_loaded_ones_change_nothing():
    past = town(8)
    # A later month with a huge new cluster somewhere else.
    future = frame([(months(1, "2021-09")[0], ASB, 875.0, 125.0, "On or near X")] * 50)
    both = gpd.GeoDataFrame(pd.concat([past, future], ignore_index=True), crs=past.crs)
    a = fit_risk(past, types=[ASB], study_area=AREA, months=months(8))
    b = fit_risk(both, types=[ASB], study_area=AREA, months=months(8))
    assert np.array_equal(a.expected, b.expected)
    assert a.validation.equals(b.validation)


def test_too_few_or_gapped_months_are_refused():
    with pytest.raises(InputError, match="four months"):
        fit_risk(town(3), types=[ASB], study_area=AREA)
    with pytest.raises(InputError, match="consecutive"):
        fit_risk(
            town(8),
            types=[ASB],
            study_area=AREA,
            months=["2021-01", "2021-02", "2021-04", "2021-05"],
        )


def test_a_large_rural_area_does_not_invent_incidents_on_its_empty_land():
    # The same town inside a 25 km x 10 km district: 100,000 cells, 99.6% of them never
    # with a report. Their panel rows are thinned harder than in the town alone; the
    # few cells that gain a report next month are all kept, so the empty land adds
    # little: the expected total stays within 15% of the town's (10.4 a month; it rose
    # to 15.0 when those cells were thinned with the rest).
    small = fit_risk(town(), types=[ASB], study_area=AREA)
    large = fit_risk(town(), types=[ASB], study_area=shapely.box(0.0, 0.0, 25000.0, 10000.0))
    assert large.mask.sum() == 100_000
    assert abs(large.expected_total - small.expected_total) < 0.15 * small.expected_total
    assert large.top_cells(0.0001)[0] == 4 * large.grid.nx + 4  # the car park


def test_bandwidths_run_side_by_side_give_the_answer_of_one_at_a_time(surface):
    # Each bandwidth alone is the same run as the three side by side, and the library
    # thread pools are as they were before the fit.
    from threadpoolctl import threadpool_info  # noqa: PLC0415

    before = [(p["filepath"], p["num_threads"]) for p in threadpool_info()]
    for bw in (75.0, 150.0, 300.0):
        alone = fit_risk(town(), types=[ASB], study_area=AREA, bandwidths_m=(bw,))
        mine = surface.validation[surface.validation["bandwidth_m"] == bw]
        theirs = alone.validation.drop(columns="chosen")
        pd.testing.assert_frame_equal(
            mine.drop(columns="chosen").reset_index(drop=True), theirs.reset_index(drop=True)
        )
    assert [(p["filepath"], p["num_threads"]) for p in threadpool_info()] == before
