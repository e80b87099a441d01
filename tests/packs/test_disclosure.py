"""Small-count suppression: the rules, and attacks that try to undo it.

The attacks here are written independently of :mod:`packs.disclosure`'s own audit:

* ``linear_recoveries``: every combination, with coefficients -1, 0 or +1, of the sums
  that hold between published cells ("parent minus its published children", "borough
  minus the published local areas minus the published wards of the withheld one", ...);
  a combination that leaves exactly one withheld cell recovers it.
* ``integer_recoveries``: an exact search over whole numbers that knows what an
  attacker knows ("<5" is 1 to 4; "[c]" is 0 or at least 5; every sum holds) and looks,
  for each withheld count of one or more, for a second value consistent with everything
  published. A count with no second value is recovered.

Both attacks are shown to succeed on tables withheld naively (primary cells only), so
they can fail.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.rates import area_rates
from geo.boundaries import load_layer
from geo.errors import InputError
from geo.paths import GPKG
from geo.schema import ASB
from packs.disclosure import (
    COMPLEMENTARY_MARKER,
    attack_bounds,
    mask_text_counts,
    suppress,
    suppress_small,
)
from tests.areas import EASTLEIGH

T = 5
LT = f"<{T}"


# --------------------------------------------------------------------------- attacks


def published_system(st_, col: str) -> tuple[dict[str, object], list[tuple[list[str], str]]]:
    """Cells (name -> shown value) and sums of one column of a suppressed table."""
    cells: dict[str, object] = {}
    eqs: list[tuple[list[str], str]] = []
    children = st_.frame[col]
    for i, v in children.items():
        cells[f"c{i}"] = v
    if st_.parents is not None:
        parent_of = st_.values.loc[children.index, "local_area"].astype(str)
        for p, v in st_.parents[col].items():
            cells[f"p{p}"] = v
            eqs.append(([f"c{i}" for i in parent_of.index[parent_of == p]], f"p{p}"))
        eqs.append(([f"p{p}" for p in st_.parents.index], "total"))
    else:
        eqs.append(([f"c{i}" for i in children.index], "total"))
    cells["total"] = st_.total[col]
    return cells, eqs


def linear_recoveries(cells: dict[str, object], eqs: list[tuple[list[str], str]]) -> list[str]:
    """Withheld cells isolated by some {-1, 0, +1} combination of the sums."""
    unknown = [n for n, v in cells.items() if isinstance(v, str)]
    index = {n: k for k, n in enumerate(unknown)}
    rows = []
    for members, total in eqs:
        r = np.zeros(len(unknown))
        for m in members:
            if m in index:
                r[index[m]] += 1
        if total in index:
            r[index[total]] -= 1
        rows.append(r)
    found = set()
    for coefs in itertools.product((-1, 0, 1), repeat=len(rows)):
        if not any(coefs):
            continue
        combo = sum(c * r for c, r in zip(coefs, rows, strict=True))
        nz = np.flatnonzero(np.abs(combo) > 1e-9)
        if len(nz) == 1:
            found.add(unknown[nz[0]])
    return sorted(found)


def integer_recoveries(
    cells: dict[str, object],
    eqs: list[tuple[list[str], str]],
    truth: dict[str, int],
    threshold: int = T,
) -> list[str]:
    """Withheld cells with no second whole-number value consistent with what is shown.

    The sums form a tree (wards -> local areas -> borough), so the whole numbers each
    sum can reach are found exactly by convolving its members' possible values
    ("<5": 1 to 4; "[c]": 0 or at least 5; shown: the number shown). A withheld cell is
    recovered when only its true value lets the published cells add up.
    """
    # the largest value worth trying: a withheld borough total could be larger than it is
    cap = truth["total"] + 4 * threshold
    owner = {tot: members for members, tot in eqs}

    def domain(n: str, fixed: dict[str, int]) -> np.ndarray:
        ok = np.zeros(cap + 1, dtype=bool)
        v = cells[n]
        if n in fixed:
            if fixed[n] <= cap:
                ok[fixed[n]] = True
        elif not isinstance(v, str):
            if int(v) <= cap:
                ok[int(v)] = True
        elif v == f"<{threshold}":
            ok[1 : min(threshold, cap + 1)] = True
        else:
            ok[0] = True
            ok[threshold:] = True
        return ok

    def reach(n: str, fixed: dict[str, int]) -> np.ndarray:
        own = domain(n, fixed)
        if n not in owner:
            return own
        sums = np.zeros(cap + 1, dtype=bool)
        sums[0] = True
        for m in owner[n]:
            sums = np.convolve(sums, reach(m, fixed))[: cap + 1] > 0
        return sums & own

    recovered = []
    for n, v in cells.items():
        if not isinstance(v, str) or truth[n] == 0:  # a withheld zero identifies no one
            continue
        alternatives = (x for x in range(cap + 1) if x != truth[n] and domain(n, {}).tolist()[x])
        if not any(reach("total", {n: x}).any() for x in alternatives):
            recovered.append(n)
    return recovered


def truth_of(st_, col: str) -> dict[str, int]:
    out = {f"c{i}": int(v) for i, v in st_.values[col].items()}
    if st_.parents is not None:
        sums = st_.values.groupby(st_.values["local_area"].astype(str))[col].sum()
        out.update({f"p{p}": int(sums.get(p, 0)) for p in st_.parents.index})
    out["total"] = int(st_.values[col].sum())
    return out


def assert_safe(st_) -> None:
    for col in st_.count_cols:
        cells, eqs = published_system(st_, col)
        assert linear_recoveries(cells, eqs) == [], col
        assert integer_recoveries(cells, eqs, truth_of(st_, col), st_.threshold) == [], col
        assert not st_.audit["recoverable"].any()


# --------------------------------------------------------------------------- rules


def test_one_small_ward_gets_a_partner_and_zero_is_shown():
    wards = pd.DataFrame({"local_area": ["X"] * 4, "count": [3, 0, 12, 40]})
    st_ = suppress(wards, count_cols=["count"], threshold=T, parent_col="local_area")
    assert st_.frame["count"].tolist() == [LT, 0, COMPLEMENTARY_MARKER, 40]
    assert st_.parents.loc["X", "count"] == 55
    assert st_.n_primary == 1 and st_.n_complementary == 1
    assert_safe(st_)


def test_threshold_of_one_or_less_withholds_nothing():
    wards = pd.DataFrame({"local_area": ["X", "X"], "count": [1, 2]})
    st_ = suppress(wards, count_cols=["count"], threshold=1, parent_col="local_area")
    assert st_.frame["count"].tolist() == [1, 2]


def test_naive_primary_only_suppression_is_recovered_by_both_attacks():
    # The attacks can fail: "<5" alone is undone by subtracting the published wards.
    cells = {"a": LT, "b": 12, "c": 40, "X": 55, "total": 55}
    eqs = [(["a", "b", "c"], "X"), (["X"], "total")]
    assert linear_recoveries(cells, eqs) == ["a"]
    assert integer_recoveries(cells, eqs, {"a": 3, "X": 55, "total": 55}) == ["a"]
    assert attack_bounds(cells, eqs, threshold=T) == {"a": (3, 3)}


def test_bounds_pin_a_cell_that_no_difference_isolates():
    # a ("<5") + b ("[c]", so 0 or >= 5) = 6 has no single-unknown combination, but
    # whole numbers pin it: a = 1, b = 5. Both the integer attack and the audit see it.
    cells = {"a": LT, "b": COMPLEMENTARY_MARKER, "X": 6, "total": 6}
    eqs = [(["a", "b"], "X"), (["X"], "total")]
    assert linear_recoveries(cells, eqs) == []
    truth = {"a": 1, "b": 5, "X": 6, "total": 6}
    assert sorted(integer_recoveries(cells, eqs, truth)) == ["a", "b"]
    assert attack_bounds(cells, eqs, threshold=T)["a"] == (1, 1)
    # suppress() protects the same table by withholding a third ward
    wards = pd.DataFrame({"local_area": ["X"] * 3, "count": [1, 5, 9]})
    st_ = suppress(wards, count_cols=["count"], threshold=T, parent_col="local_area")
    assert st_.frame["count"].tolist() == [LT, COMPLEMENTARY_MARKER, COMPLEMENTARY_MARKER]
    assert_safe(st_)


def test_small_local_area_is_protected_at_the_borough_level():
    # Local area Y holds 3 in all: its ward and its total are small; X's wards add up.
    wards = pd.DataFrame(
        {"local_area": ["X", "X", "X", "Y", "Z", "Z"], "count": [20, 30, 7, 3, 8, 9]}
    )
    st_ = suppress(wards, count_cols=["count"], threshold=T, parent_col="local_area")
    assert st_.parents.loc["Y", "count"] == LT
    assert st_.total["count"] == 77
    # another local area's total is withheld so Y cannot be borough minus the others
    withheld = [p for p, v in st_.parents["count"].items() if isinstance(v, str)]
    assert len(withheld) >= 2
    assert_safe(st_)


def test_periods_are_withheld_together_with_their_change():
    t = pd.DataFrame(
        {
            "local_area": ["X"] * 4,
            "before": [3, 10, 20, 9],
            "after": [8, 11, 25, 9],
        }
    )
    t["change"] = t["after"] - t["before"]
    t["rate"] = t["after"] / 1000
    st_ = suppress(
        t,
        count_cols=["before", "after"],
        threshold=T,
        parent_col="local_area",
        derived={"change": ["before", "after"], "rate": "after"},
    )
    row = st_.frame.iloc[0]
    assert row["before"] == LT
    assert row["after"] == COMPLEMENTARY_MARKER  # 8 is not small, but withheld with its pair
    assert row["change"] == COMPLEMENTARY_MARKER and row["rate"] == COMPLEMENTARY_MARKER
    # the partner row is withheld in both periods too
    assert (st_.mask[["before", "after"]].sum(axis=0) == [2, 2]).all()
    assert_safe(st_)


def test_columns_that_are_different_measures_add_up_separately():
    t = pd.DataFrame({"total": [269, 231, 191], "rangers": [7, 2, 4]})
    st_ = suppress(t, count_cols=["total", "rangers"], threshold=T, link_columns=False)
    assert st_.frame["total"].tolist() == [269, 231, 191]
    # two withheld months that sum to 6 with 1-4 each: (2, 4), (3, 3), (4, 2) all fit
    assert st_.frame["rangers"].tolist() == [7, LT, LT]
    assert_safe(st_)


@pytest.mark.parametrize(
    ("frame", "kwargs", "match"),
    [
        (pd.DataFrame({"count": [1, -2]}), {}, "whole numbers of 0 or more"),
        (pd.DataFrame({"count": [1.5, 2]}), {}, "whole numbers"),
        (pd.DataFrame({"n": [1]}), {}, r"count column\(s\) \['count'\] missing"),
        (
            pd.DataFrame({"count": [1, 2], "local_area": ["X", "X"]}),
            {"parent_col": "local_area", "parents": pd.DataFrame({"count": [4]}, index=["X"])},
            "is not the sum of its rows",
        ),
    ],
)
def test_bad_tables_are_refused_with_the_fix(frame, kwargs, match):
    with pytest.raises(InputError, match=match):
        suppress(frame, count_cols=["count"], threshold=T, **kwargs)


def test_small_counts_in_labels_and_non_additive_tables():
    assert mask_text_counts("Market Street (3), High Street (12)", T) == (
        "Market Street (<5), High Street (12)"
    )
    assert mask_text_counts("Market Street (0)", T) == "Market Street (0)"
    hot = pd.DataFrame({"count": [12, 4], "share": [0.3, 0.1], "top_streets": ["A (9)", "B (4)"]})
    out = suppress_small(
        hot,
        count_cols=["count"],
        threshold=T,
        derived={"share": "count"},
        text_cols=["top_streets"],
    )
    assert out["count"].tolist() == [12, LT]
    assert out["share"].tolist() == [0.3, COMPLEMENTARY_MARKER]
    assert out["top_streets"].tolist() == ["A (9)", "B (<5)"]


# --------------------------------------------------------------------------- real data


def _ward_table(incidents: pd.DataFrame, months: list[str]) -> pd.DataFrame:
    wards = load_layer("wards_2018", GPKG)[["code", "name", "local_area"]]
    for m in months:
        r = area_rates(incidents, EASTLEIGH.level("ward"), types=[ASB], month_from=m, month_to=m)
        wards[m] = wards["code"].map(r.set_index("code")["count"]).astype(int)
    return wards


@pytest.mark.parametrize("threshold", [5, 15])
def test_real_wards_in_local_areas_over_two_months_resist_both_attacks(shipped_result, threshold):
    """April and May 2017 ASB by ward: no withheld ward or local area can be recovered."""
    inc = shipped_result.incidents
    wards = _ward_table(inc, ["2017-04", "2017-05"])
    las = {
        m: area_rates(
            inc, EASTLEIGH.level("local_area"), types=[ASB], month_from=m, month_to=m
        ).set_index("code")["count"]
        for m in ("2017-04", "2017-05")
    }
    parents = pd.DataFrame(las)
    st_ = suppress(
        wards,
        count_cols=["2017-04", "2017-05"],
        threshold=threshold,
        parent_col="local_area",
        parents=parents,
    )
    assert st_.n_primary >= 2  # Hiltingbury had 4 in both months
    small = (wards[["2017-04", "2017-05"]] >= 1) & (wards[["2017-04", "2017-05"]] < threshold)
    assert st_.mask[["2017-04", "2017-05"]][small].fillna(True).all().all()
    # linked: a ward withheld in one month is withheld in the other
    assert (st_.mask["2017-04"] == st_.mask["2017-05"]).all()
    assert_safe(st_)


@settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.lists(
        st.lists(
            st.tuples(st.integers(min_value=0, max_value=9), st.integers(min_value=0, max_value=9)),
            min_size=1,
            max_size=3,
        ),
        min_size=1,
        max_size=3,
    )
)
def test_random_hierarchies_over_two_periods_resist_both_attacks(data):
    rows = [(f"L{p}", a, b) for p, kids in enumerate(data) for a, b in kids]
    wards = pd.DataFrame(rows, columns=["local_area", "before", "after"])
    st_ = suppress(wards, count_cols=["before", "after"], threshold=T, parent_col="local_area")
    small = (wards[["before", "after"]] >= 1) & (wards[["before", "after"]] < T)
    assert st_.mask[["before", "after"]][small].fillna(True).all().all()
    assert (st_.mask["before"] == st_.mask["after"]).all()
    assert_safe(st_)


def test_a_small_total_over_small_children_is_withheld_without_its_range():
    # Four wards of 1 under two local areas: shown as "<5" each with the total "<5" (1-4),
    # an attacker knows four cells of at least 1 sum to at most 4: each is 1. The total
    # is therefore withheld without its range, and nothing can be pinned (found by the
    # property test above).
    wards = pd.DataFrame(
        {"local_area": ["L0", "L0", "L1", "L1"], "before": [0, 0, 0, 0], "after": [1, 1, 1, 1]}
    )
    st_ = suppress(wards, count_cols=["before", "after"], threshold=T, parent_col="local_area")
    assert list(st_.frame["after"]) == ["<5"] * 4
    assert st_.total["after"] == COMPLEMENTARY_MARKER
    assert not st_.audit["recoverable"].any()
    assert_safe(st_)
