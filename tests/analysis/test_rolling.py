"""Rolling-origin evaluation: splits never reach back, coverage is filled, PEI by hand."""

import numpy as np
import pytest

import analysis.rolling as rolling
from analysis.rolling import best_hit_rate, rolling_evaluation, rolling_splits
from geo.errors import InputError
from tests.analysis.risk_data import AREA, ASB, months, town


def test_splits_train_on_the_past_and_test_on_the_months_after():
    ms = months(15)
    splits = rolling_splits(ms, n_splits=4, test_months=3)
    assert len(splits) == 4
    assert [s.origin for s in splits] == ms[8:12]
    for s in splits:
        assert max(s.train_months) < min(s.test_months)
        assert s.train_months == tuple(ms[: len(s.train_months)])
        assert len(s.test_months) == 3
    assert splits[-1].test_months == tuple(ms[12:15])
    with pytest.raises(InputError, match="cannot give a split"):
        rolling_splits(ms[:7], test_months=3, min_train_months=6)


def test_best_hit_rate_by_hand():
    test = np.array([[5.0, 0.0], [3.0, 2.0]])
    mask = np.ones((2, 2), bool)
    assert best_hit_rate(test, mask, 1) == 0.5
    assert best_hit_rate(test, mask, 2) == 0.8
    assert np.isnan(best_hit_rate(np.zeros((2, 2)), mask, 1))


@pytest.fixture(scope="module")
def result_and_seen():
    seen = []
    real = rolling.fit_risk

    def spy(incidents, **kw):
        seen.append((set(incidents["month"]), tuple(kw["months"])))
        return real(incidents, **kw)

    mp = pytest.MonkeyPatch()
    mp.setattr(rolling, "fit_risk", spy)
    try:
        res = rolling_evaluation(
            town(10),
            types=[ASB],
            study_area=AREA,
            n_splits=2,
            test_months=2,
            min_train_months=5,
            methods=(
                "risk surface",
                "patrol areas",
                "grid counts",
                "kde 50 m",
                "prospective",
                "oracle (test)",
            ),
            coverages=(0.01, 0.05, 0.10),
        )
    finally:
        mp.undo()
    return res, seen


def test_the_risk_surface_is_never_given_a_test_month(result_and_seen):
    res, seen = result_and_seen
    assert len(seen) == len(res.splits) == 2
    for (given, asked), split in zip(seen, res.splits, strict=True):
        assert given == set(split.train_months)
        assert asked == split.train_months
        assert not given & set(split.test_months)


def test_every_surface_method_fills_the_coverage_within_a_tenth(result_and_seen):
    res, _ = result_and_seen
    ps = res.per_split
    surfaces = ps[ps["method"].isin(["risk surface", "grid counts", "kde 50 m", "prospective"])]
    ratio = surfaces["area_share"] / surfaces["coverage"]
    assert ratio.between(0.9, 1.1).all()
    assert (ps["pei"].dropna() <= 1 + 1e-9).all()
    oracle = ps[ps["method"] == "oracle (test)"]
    assert np.allclose(oracle["pei"], 1.0)
    assert set(res.summary.columns) >= {
        "method",
        "coverage",
        "hit_rate",
        "pai",
        "pei",
        "rri",
        "hit_min",
        "hit_max",
        "hit_sd",
    }
    assert (res.summary["splits"] == 2).all()


def test_unknown_methods_are_refused():
    with pytest.raises(InputError, match="unknown method"):
        rolling_evaluation(town(10), types=[ASB], study_area=AREA, methods=("magic",))
