"""Bandwidth rules, cross-validation across months, and the default on real data."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

from analysis.bandwidth import (
    QUARTIC_PER_GAUSSIAN_SD,
    bandwidth_sensitivity,
    choose_bandwidth,
    cv_bandwidth_m,
    log_score,
    scott_m,
    silverman_m,
    spatial_silverman_m,
)
from analysis.coverage import hit_rate_at_coverage
from analysis.grid import Grid
from analysis.kde import kde_surface
from geo.errors import InputError
from geo.paths import shipped_incident_paths
from tests.areas import EASTLEIGH

BNG = "EPSG:27700"

# Four corners of a 400 m square and its centre.
SQUARE = np.array([[0.0, 0.0], [400.0, 0.0], [0.0, 400.0], [400.0, 400.0], [200.0, 200.0]])


def test_scott_by_hand():
    # variances (n - 1): x and y both (4 * 200^2) / 4 = 40,000 -> sigma = 200 m; n = 5
    assert scott_m(SQUARE) == pytest.approx(200.0 * 5 ** (-1 / 6))  # 152.9 m


def test_silverman_by_hand_uses_the_robust_spread():
    # square: IQR of x = 400 - 0 -> 400 / 1.349 = 296.5 > sigma = 200, so Silverman = Scott
    assert silverman_m(SQUARE) == pytest.approx(200.0 * 5 ** (-1 / 6))
    # one far outlier inflates sigma but not the IQR
    pts = np.array([[0.0, 0.0], [100.0, 100.0], [200.0, 200.0], [300.0, 300.0], [5000.0, 5000.0]])
    var = np.var([0.0, 100.0, 200.0, 300.0, 5000.0], ddof=1)
    iqr = 300.0 - 100.0  # numpy's quantiles of 0, 100, 200, 300, 5000
    assert math.sqrt(var) > iqr / 1.349
    assert silverman_m(pts) == pytest.approx(iqr / 1.349 * 5 ** (-1 / 6))


def test_spatial_silverman_by_hand():
    # mean centre (200, 200); distances 282.8 (x4) and 0
    sd = math.sqrt(4 * 200.0**2 * 2 / 5)  # standard distance = 252.98 m
    dm = math.hypot(200.0, 200.0)  # median distance = 282.84 m
    assert sd < math.sqrt(1 / math.log(2)) * dm  # so SD is the smaller
    expected = 0.9 * sd * 5 ** (-0.2)  # 165.0 m
    assert spatial_silverman_m(SQUARE) == pytest.approx(expected)
    # many points near the centre: the median distance term takes over
    pts = np.r_[SQUARE, np.full((20, 2), 200.0) + np.arange(20)[:, None] * [1.0, 0.0]]
    centre = pts.mean(axis=0)
    d = np.hypot(*(pts - centre).T)
    by_hand = 0.9 * min(math.sqrt((d**2).mean()), math.sqrt(1 / math.log(2)) * np.median(d))
    assert spatial_silverman_m(pts) == pytest.approx(by_hand * 25 ** (-0.2))
    assert math.sqrt(1 / math.log(2)) * np.median(d) < math.sqrt((d**2).mean())


def test_weights_count_as_repeated_points():
    w = np.array([3.0, 1.0, 1.0, 1.0, 1.0])
    repeated = np.r_[SQUARE[:1], SQUARE[:1], SQUARE]
    assert scott_m(SQUARE, w) == pytest.approx(scott_m(repeated))


def test_rules_refuse_too_few_points():
    with pytest.raises(InputError, match="at least two"):
        scott_m(np.array([[1.0, 2.0]]))
    with pytest.raises(InputError, match="no spread"):
        spatial_silverman_m(np.array([[1.0, 2.0], [1.0, 2.0]]))


def test_choose_bandwidth_rules_convert_between_kernels_and_say_why():
    scott = choose_bandwidth(SQUARE, "scott", kernel="quartic")
    assert scott.rule == "scott"
    assert scott.bandwidth_m == pytest.approx(scott_m(SQUARE) * QUARTIC_PER_GAUSSIAN_SD)
    assert "Gaussian sd" in scott.detail
    arc = choose_bandwidth(SQUARE, "spatial_silverman", kernel="gaussian")
    assert arc.bandwidth_m == pytest.approx(spatial_silverman_m(SQUARE) / math.sqrt(8))
    fixed = choose_bandwidth(SQUARE, 120)
    assert (fixed.bandwidth_m, fixed.rule) == (120.0, "fixed")
    # no months: auto falls back to the spatial Silverman rule and says so
    auto = choose_bandwidth(SQUARE, "auto")
    assert auto.rule == "spatial_silverman"
    assert auto.bandwidth_m == pytest.approx(spatial_silverman_m(SQUARE))
    assert "too few to cross-validate" in auto.detail
    with pytest.raises(InputError, match="rule"):
        choose_bandwidth(SQUARE, "ripley")


def test_quartic_radius_matches_the_gaussian_spread():
    # a quartic of radius h has per-axis variance h^2 / 8: check numerically on a fine grid
    h, step = 100.0, 0.5
    o = np.arange(-h, h + step, step)
    x, y = np.meshgrid(o, o)
    k = np.clip(1 - (x**2 + y**2) / h**2, 0, None) ** 2
    var_x = (k * x**2).sum() / k.sum()
    assert math.sqrt(var_x) * QUARTIC_PER_GAUSSIAN_SD == pytest.approx(h, rel=1e-3)


def _mixture(rng, n, centres, sd):
    j = rng.integers(0, len(centres), n)
    return centres[j] + rng.normal(0.0, sd, (n, 2))


def _months_frame(xy, months):
    return gpd.GeoDataFrame(
        {"month": months}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=BNG
    )


CANDS = [25.0, 37.5, 50.0, 75.0, 100.0, 150.0, 200.0, 300.0, 400.0, 600.0]
AREA = shapely.box(0.0, 0.0, 6000.0, 6000.0)


def _synthetic(sd, seed=1):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(1500.0, 4500.0, (12, 2))
    months = [f"2020-{m:02d}" for m in range(1, 7)]
    xy = np.concatenate([_mixture(rng, 300, centres, sd) for _ in months])
    return rng, centres, xy, np.repeat(months, 300), months


def test_cv_finds_the_best_bandwidth_for_a_known_gaussian_mixture():
    sd = 150.0
    rng, centres, xy, mon, months = _synthetic(sd)
    choice = cv_bandwidth_m(
        _months_frame(xy, mon),
        candidates_m=CANDS,
        kernel="gaussian",
        study_area=AREA,
        scheme="consecutive",
        max_folds=5,
    )
    # The truth: the same fits scored on 200,000 fresh draws from the known mixture.
    fresh = _mixture(rng, 200_000, centres, sd)
    grid = Grid.covering(AREA, 50.0)
    truth = []
    for h in CANDS:
        scores = []
        for t in range(1, len(months)):
            train = xy[mon == months[t - 1]]
            surf = kde_surface(train, bandwidth_m=h, grid=grid, kernel="gaussian", study_area=AREA)
            scores.append(log_score(surf, fresh)["score"])
        truth.append(np.mean(scores))
    best = CANDS[int(np.argmax(truth))]
    assert abs(CANDS.index(choice.bandwidth_m) - CANDS.index(best)) <= 1
    assert choice.rule == "cv"
    assert len(choice.scores) == len(CANDS) * 5
    assert choice.summary["alpha"].iloc[0] < 0.05  # no snapping here: almost no floor needed


def test_cv_scores_only_the_latest_max_folds_months():
    _, _, xy, mon, months = _synthetic(150.0)
    choice = cv_bandwidth_m(
        _months_frame(xy, mon), candidates_m=CANDS, kernel="gaussian", study_area=AREA, max_folds=2
    )
    assert sorted(choice.scores["test_month"].unique()) == months[-2:]
    assert len(choice.scores) == len(CANDS) * 2


def test_cv_bandwidth_grows_with_the_spread_of_the_mixture():
    picks = []
    for sd in (60.0, 300.0):
        _, _, xy, mon, _ = _synthetic(sd, seed=2)
        picks.append(
            cv_bandwidth_m(
                _months_frame(xy, mon), candidates_m=CANDS, kernel="gaussian", study_area=AREA
            ).bandwidth_m
        )
    assert picks[0] <= 50.0 <= 150.0 <= picks[1]


def test_cv_needs_two_months():
    xy = np.random.default_rng(0).uniform(0, 1000, (50, 2))
    with pytest.raises(InputError, match="at least two months"):
        cv_bandwidth_m(_months_frame(xy, ["2020-01"] * 50))
    one = choose_bandwidth(_months_frame(xy, ["2020-01"] * 50), "auto")
    assert one.rule == "spatial_silverman" and "1 month" in one.detail


# --- real data: Eastleigh ASB, February-March 2017 -> April-May 2017 ----------------


@pytest.fixture(scope="module")
def asb_2017():
    from geo.io import load_incidents

    inc = load_incidents(shipped_incident_paths(), EASTLEIGH).incidents
    asb = inc[(inc["crime_type"] == "Anti-social behaviour") & inc["has_location"]]
    train = asb[asb["month"].isin(["2017-02", "2017-03"])]
    test = asb[asb["month"].isin(["2017-04", "2017-05"])]
    return train, test, EASTLEIGH.geometry


def test_default_bandwidth_on_real_asb_holds_45_percent_in_the_top_1_percent(asb_2017):
    train, test, borough = asb_2017
    assert (len(train), len(test)) == (581, 427)
    # The rule is resolved first (kde_surface takes metres or a choice); defaults otherwise.
    auto = choose_bandwidth(train, "auto", study_area=borough)
    surf = kde_surface(train, bandwidth_m=auto, study_area=borough)
    choice = surf.bandwidth_choice
    assert choice.rule == "cv" and surf.bandwidth_m <= 25.0
    assert "cross-validation" in choice.detail
    hit_rate, area_share, pai = hit_rate_at_coverage(surf, test, 0.01)
    assert hit_rate >= 0.45  # measured 0.455 (194 of 426) with exact cell means
    assert area_share == pytest.approx(0.01, rel=0.1)
    assert pai == pytest.approx(hit_rate / area_share)


def test_sensitivity_on_real_asb_matches_the_domain_figures(asb_2017):
    train, test, borough = asb_2017
    table = bandwidth_sensitivity(train, test, [6.25, 200.0], 0.01, study_area=borough)
    by_h = table.set_index("bandwidth_m")
    assert 0.14 <= by_h.loc[200.0, "hit_rate"] <= 0.19  # DOMAIN.md: about 16 %
    assert by_h.loc[6.25, "hit_rate"] > 2 * by_h.loc[200.0, "hit_rate"]
    assert by_h.loc[6.25, "cv_score"] > by_h.loc[200.0, "cv_score"]
    assert set(table.columns) >= {"hit_rate", "pai", "cv_score", "area_share"}


def test_a_small_fixed_floor_prefers_wide_bandwidths_on_real_asb(asb_2017):
    # Why the floor is fitted (analysis.bandwidth notes): a fixed 1 % floor picks >= 400 m.
    train, _, borough = asb_2017
    fixed = cv_bandwidth_m(train, study_area=borough, floor=0.01)
    fitted = cv_bandwidth_m(train, study_area=borough)
    assert fixed.bandwidth_m >= 400.0
    assert fitted.bandwidth_m == 6.25
    assert 0.4 < fitted.summary["alpha"].iloc[0] < 0.7
