"""Emerging hot spots: Mann-Kendall and ArcGIS's classes by hand, and a rising cell."""

from pathlib import Path

import numpy as np
import pytest
import shapely

from analysis.emerging import (
    EMERGING_CLASSES,
    classify_series,
    emerging_hotspots,
    gistar_cube,
    mann_kendall,
)
from geo.errors import InputError
from tests.analysis.risk_data import ASB, frame, months


def test_mann_kendall_by_hand():
    s, z, p = mann_kendall(
        np.array(
            [[1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 2.0, 2.0], [4.0, 3.0, 2.0, 1.0], [5.0, 5.0, 5.0, 5.0]]
        )
    )
    assert s.tolist() == [6, 4, -6, 0]
    # n = 4: var = 4*3*13/18 = 8.667; z = (6 - 1) / sqrt(8.667) = 1.698.
    assert z[0] == pytest.approx(5 / np.sqrt(156 / 18))
    assert p[0] == pytest.approx(0.0894, abs=1e-4)
    # Two ties of two: var = (156 - 2 * (2*1*9)) / 18 = 120 / 18; z = 3 / sqrt(6.667).
    assert z[1] == pytest.approx(3 / np.sqrt(120 / 18))
    assert z[2] == pytest.approx(-z[0])
    assert z[3] == 0 and p[3] == 1


def _series(hot_steps, cold_steps=(), n=10):
    hot = np.zeros(n, bool)
    cold = np.zeros(n, bool)
    hot[list(hot_steps)] = True
    cold[list(cold_steps)] = True
    return hot, cold


CASES = [
    # hot steps, cold steps, trend z, expected class (10 months)
    ((9,), (), 0.0, "new hot spot"),
    ((7, 8, 9), (), 0.0, "consecutive hot spot"),
    (range(10), (), 3.0, "intensifying hot spot"),
    (range(10), (), 0.5, "persistent hot spot"),
    (range(1, 10), (), -3.0, "diminishing hot spot"),
    ((2, 5, 9), (), 0.0, "sporadic hot spot"),
    ((0, 8, 9), (), 0.0, "sporadic hot spot"),  # hot before its final run: not consecutive
    ((5, 9), (2,), 0.0, "oscillating hot spot"),
    (range(9), (), 0.0, "historical hot spot"),
    ((), (), 0.0, "no pattern detected"),
    ((4,), (), 0.0, "no pattern detected"),  # hot once, not in the final month
]


@pytest.mark.parametrize(("hot_steps", "cold_steps", "tz", "expected"), CASES)
def test_arcgis_classes_by_hand(hot_steps, cold_steps, tz, expected):
    hot, cold = _series(hot_steps, cold_steps)
    p = 0.001 if abs(tz) > 2 else 0.6
    got = classify_series(hot[None], cold[None], np.array([tz]), np.array([p]))
    assert got.tolist() == [expected]


def test_cold_classes_mirror_the_hot_ones():
    hot, cold = _series((9,))
    assert classify_series(cold[None], hot[None], np.array([0.0]), np.array([1.0])).tolist() == [
        "new cold spot"
    ]
    hot, cold = _series(range(10))
    assert classify_series(cold[None], hot[None], np.array([-3.0]), np.array([0.001])).tolist() == [
        "intensifying cold spot"
    ]
    assert len(EMERGING_CLASSES) == 17


def test_gistar_cube_is_zero_mean_and_high_where_counts_cluster():
    cube = np.ones((3, 10, 10))
    cube[:, 5, 5] = 20
    z = gistar_cube(cube, np.ones((10, 10), bool), neighbourhood_cells=1.0, neighbourhood_steps=0)
    assert z[0, 5, 5] == z.max()
    assert z[0, 0, 0] < 0
    flat = np.ones((3, 10, 10))
    assert np.allclose(gistar_cube(flat, np.ones((10, 10), bool), neighbourhood_cells=1.0), 0.0)


def test_a_cell_rising_every_month_is_an_intensifying_hot_spot():
    rows = []
    ms = months(12)
    area = shapely.box(400000, 100000, 402000, 102000)  # 10 x 10 bins of 200 m
    rng = np.random.default_rng(1)
    for i, m in enumerate(ms):
        rows += [(m, ASB, 401100.0, 101100.0, "On or near Market Street")] * (30 + 4 * i)
        for _ in range(30):
            x, y = rng.uniform(400000, 402000, 2)
            rows.append((m, ASB, float(x), float(y), "On or near Elsewhere"))
    result = emerging_hotspots(
        frame(rows), study_area=area, months=ms, bin_m=200.0, neighbourhood_m=200.0
    )
    cells = result.cells.set_index(["ix", "iy"])
    rising = cells.loc[(5, 5)]  # (401100, 101100) on a grid from (400000, 100000)
    assert rising["class"] == "intensifying hot spot"
    assert rising["trend_z"] > 0 and rising["trend_p"] < 0.05
    assert rising["count_trend_p"] < 0.05
    assert set(result.summary["class"]) <= set(EMERGING_CLASSES)
    assert result.summary["bins"].sum() == len(result.cells)


def test_fewer_than_three_months_are_refused():
    rows = [("2021-01", ASB, 400100.0, 100100.0, "x")]
    with pytest.raises(InputError, match="three months"):
        emerging_hotspots(frame(rows), study_area=shapely.box(400000, 100000, 401000, 101000))


HAMPSHIRE_ZIP = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "data"
    / "police_uk"
    / "hampshire"
    / "hampshire-street-2021-03-to-2022-05.zip"
)


@pytest.mark.skipif(not HAMPSHIRE_ZIP.exists(), reason="the Hampshire months are not here")
def test_eastleigh_asb_busiest_bin_is_a_persistent_or_intensifying_hot_spot():
    from geo.io import load_incidents
    from geo.study_area import load_study_area

    area = load_study_area()
    inc = load_incidents(HAMPSHIRE_ZIP, area).incidents
    asb = inc[(inc["crime_type"] == ASB) & (inc["month"] >= "2021-06")]
    result = emerging_hotspots(asb, study_area=area.geometry)
    assert len(result.months) == 12
    busiest = result.cells.sort_values("count", ascending=False).iloc[0]
    assert busiest["class"] in {"persistent hot spot", "intensifying hot spot"}
    assert result.summary["incidents"].sum() == result.cells["count"].sum()
    assert result.cells["count"].sum() <= len(asb)
