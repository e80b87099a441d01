"""Hit rate, PAI and RRI on hand-made grids; merging nearby hotspot patches."""

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from analysis.evaluate import score_hit_rates
from analysis.hotspots import merge_nearby
from geo.crs import BNG


def test_hit_rate_pai_and_rri_by_hand():
    # A 10 x 10 study area; the score ranks cell (0, 0) first, then (0, 1).
    mask = np.ones((10, 10), dtype=bool)
    score = np.zeros((10, 10))
    score[0, 0], score[0, 1] = 2.0, 1.0
    train = np.zeros((10, 10))
    train[0, 0], train[5, 5] = 6, 4  # 10 training incidents, 6 in the top cell
    test = np.zeros((10, 10))
    test[0, 0], test[0, 1], test[9, 9] = 3, 1, 6  # 10 test incidents
    t = score_hit_rates(score, mask, train, test, [0.01, 0.02]).set_index("coverage")
    # 1% = 1 cell: 3 of 10 test incidents -> hit rate 0.3, PAI 0.3 / 0.01 = 30.
    assert t.loc[0.01, "area_share"] == pytest.approx(0.01)
    assert t.loc[0.01, "hit_rate"] == pytest.approx(0.3)
    assert t.loc[0.01, "pai"] == pytest.approx(30.0)
    # RRI: (3 test / 6 train inside) / (10 test / 10 train overall) = 0.5.
    assert t.loc[0.01, "rri"] == pytest.approx(0.5)
    # 2% = 2 cells: 4 of 10 -> 0.4, PAI 20.
    assert t.loc[0.02, "hit_rate"] == pytest.approx(0.4)
    assert t.loc[0.02, "pai"] == pytest.approx(20.0)


def test_cells_outside_the_study_area_are_never_chosen():
    mask = np.ones((10, 10), dtype=bool)
    mask[0, 0] = False
    score = np.zeros((10, 10))
    score[0, 0], score[3, 3] = 9.0, 1.0
    test = np.zeros((10, 10))
    test[3, 3] = 1
    t = score_hit_rates(score, mask, test, test, [0.01])
    # 1% of 99 cells rounds to 1 cell, and it is (3, 3), not the masked (0, 0).
    assert t["hit_rate"].iloc[0] == pytest.approx(1.0)


def test_only_positive_scores_leave_the_coverage_short():
    mask = np.ones((10, 10), dtype=bool)
    score = np.zeros((10, 10))
    score[2, 2] = 1.0
    test = np.ones((10, 10))
    t = score_hit_rates(score, mask, test, test, [0.05], only_positive=True)
    assert t["area_share"].iloc[0] == pytest.approx(0.01)  # one cell claimed, not five


def test_merge_nearby_groups_patches_closer_than_the_gap():
    cells = gpd.GeoDataFrame(
        geometry=[box(0, 0, 50, 50), box(100, 0, 150, 50), box(1000, 0, 1050, 50)], crs=BNG
    )
    merged = merge_nearby(cells, 100)
    assert len(merged) == 2
    assert sorted(merged.area) == pytest.approx([2500, 5000])  # gaps are not added
    assert len(merge_nearby(cells, 40)) == 3
    assert len(merge_nearby(cells, 0)) == 3
