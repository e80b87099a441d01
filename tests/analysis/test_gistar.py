"""Getis-Ord Gi* on square cells and on areas, FDR control and hotspot dissolving."""

from __future__ import annotations

import warnings

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from analysis.gistar import (
    NOT_SIGNIFICANT,
    class_names,
    classify,
    gistar_areas,
    gistar_grid,
    gistar_hotspots,
    grid_weights,
    square_cells,
)
from geo.boundaries import load_layer
from geo.crs import BNG
from geo.errors import InputError
from geo.io import load_incidents
from geo.paths import GPKG, shipped_incident_paths
from tests.areas import EASTLEIGH

X0, Y0 = 440_000.0, 110_000.0
AREA = shapely.box(X0, Y0, X0 + 2_000, Y0 + 2_000)  # 20 x 20 cells of 100 m


def block_points(per_cell: int = 10) -> np.ndarray:
    """``per_cell`` points in each of the 3 x 3 cells at rows/cols 8-10 of AREA."""
    pts = [
        (X0 + c * 100 + 10 + 8 * k, Y0 + r * 100 + 50)
        for r in range(8, 11)
        for c in range(8, 11)
        for k in range(per_cell)
    ]
    return np.array(pts, dtype=float)


def block_masks(cells: gpd.GeoDataFrame) -> tuple[pd.Series, pd.Series]:
    block = cells["iy"].between(8, 10) & cells["ix"].between(8, 10)
    far = ((cells["iy"] - 9).abs() > 3) | ((cells["ix"] - 9).abs() > 3)
    return block, far


def test_square_cells_cover_the_area_on_national_grid_multiples():
    cells = square_cells(AREA, cell_m=100)
    assert len(cells) == 400  # cells that only touch the edge of the box are left out
    assert cells.crs == BNG
    assert cells.geometry.union_all().equals(AREA)
    x0, y0, _, _ = cells.total_bounds
    assert (x0 % 100, y0 % 100) == (0, 0)
    odd = shapely.box(X0 + 30, Y0 + 30, X0 + 250, Y0 + 130)
    small = square_cells(odd, cell_m=100)
    assert len(small) == 3 * 2
    assert tuple(small.total_bounds) == (X0, Y0, X0 + 300, Y0 + 200)


def test_points_are_counted_in_their_cell_and_only_inside_the_study_area():
    pts = np.array(
        [
            (X0 + 150, Y0 + 250),  # row 2, col 1
            (X0 + 150, Y0 + 250),
            (X0 + 100, Y0 + 99.9),  # on the west edge of col 1: counts in col 1, row 0
            (X0 - 50, Y0 + 50),  # outside the study area
            (np.nan, np.nan),  # no location
        ]
    )
    cells = gistar_grid(pts, study_area=AREA, cell_m=100, permutations=99, fdr=False)
    counts = cells.set_index(["iy", "ix"])["count"]
    assert counts[(2, 1)] == 2 and counts[(0, 1)] == 1 and counts.sum() == 3


def test_dense_block_among_empty_cells_is_hot_at_99_and_far_cells_are_not_significant():
    # The centre cell's Gi* is 90/90 = 1: all incidents lie in its 3 x 3 neighbourhood.
    # Under conditional permutation its 8 neighbours are drawn from the 399 other cells,
    # of which 8 are non-empty, so the observed value is never matched (p = 2/1000).
    # A corner cell of the block (40 of 90 in its neighbourhood) needs 3 of the 8
    # non-empty cells among 8 draws, probability about 4e-4.
    cells = gistar_grid(block_points(), study_area=AREA, cell_m=100, permutations=999, fdr=False)
    block, far = block_masks(cells)
    assert (cells.loc[block, "class"] == "hot 99%").all()
    assert (cells.loc[far, "class"] == NOT_SIGNIFICANT).all()
    centre = cells[(cells["iy"] == 9) & (cells["ix"] == 9)].iloc[0]
    assert centre["p_sim"] == pytest.approx(2 / 1000)
    assert centre["z"] > 10


def test_dense_block_with_fdr_is_hot_and_far_cells_stay_not_significant():
    cells = gistar_grid(block_points(), study_area=AREA, cell_m=100, fdr=True)  # 9,999
    block, far = block_masks(cells)
    assert cells.loc[block, "class"].isin(["hot 95%", "hot 99%"]).all()
    assert (cells.loc[far, "class"] == NOT_SIGNIFICANT).all()


def test_empty_neighbourhoods_are_not_cold_although_esda_p_sim_says_so():
    cells = gistar_grid(block_points(), study_area=AREA, cell_m=100, permutations=999, fdr=False)
    _, far = block_masks(cells)
    # every simulated value ties with the observed 0: not evidence of anything
    assert (cells.loc[far, "p_sim"] > 0.5).all()
    assert not cells["class"].astype(str).str.startswith("cold").any()
    # esda's own folded p-value counts those ties the other way (documented in gistar.py)
    w = grid_weights(cells, "queen", 200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = esda.G_Local(cells["count"].to_numpy(float), w, transform="B", star=True, seed=0)
    assert np.all(g.p_sim[far.to_numpy()] == pytest.approx(1 / 1000))


def test_fdr_reduces_significant_cells_on_noise():
    rng = np.random.default_rng(7)
    n = 6_000  # about 15 per cell, uniformly at random: no real hot spot
    pts = rng.uniform((X0, Y0), (X0 + 2_000, Y0 + 2_000), size=(n, 2))
    raw = gistar_grid(pts, study_area=AREA, cell_m=100, permutations=999, fdr=False)
    fdr = gistar_grid(pts, study_area=AREA, cell_m=100, permutations=999, fdr=True)
    sig_raw = raw["class"] != NOT_SIGNIFICANT
    sig_fdr = fdr["class"] != NOT_SIGNIFICANT
    assert sig_raw.sum() >= 10  # about 10% of 400 cells at the 90% level by chance
    assert sig_fdr.sum() < sig_raw.sum()
    assert not (sig_fdr & ~sig_raw).any()  # FDR only ever removes cells


def test_classify_applies_fdr_per_level():
    # 10 p-values; BH at 0.05 over m = 10: p_(k) < k * 0.005.
    p = np.array([0.001, 0.008, 0.012, 0.03, 0.2, 0.5, 0.6, 0.7, 0.8, 0.9])
    hot = np.array([True, True, False, True] + [True] * 6)
    plain = classify(p, hot, fdr=False)
    assert plain.tolist()[:5] == ["hot 99%", "hot 99%", "cold 95%", "hot 95%", NOT_SIGNIFICANT]
    corrected = classify(p, hot, fdr=True)
    # 0.01: 0.001 < 0.001? no -> none at 99%. 0.05: 0.001<0.005, 0.008<0.01, 0.012<0.015,
    # 0.03 >= 0.02 -> three at 95%. 0.10: 0.03 < 0.04 -> four at 90%.
    assert corrected.tolist()[:5] == ["hot 95%", "hot 95%", "cold 95%", "hot 90%", NOT_SIGNIFICANT]
    assert list(corrected.categories) == class_names()
    assert class_names((0.05, 0.001)) == [
        "cold 99.9%",
        "cold 95%",
        NOT_SIGNIFICANT,
        "hot 95%",
        "hot 99.9%",
    ]


def test_distance_weights_give_the_same_block_result():
    cells = gistar_grid(
        block_points(), study_area=AREA, cell_m=100, permutations=999, fdr=False,
        weights="distance", distance_m=150,
    )  # fmt: skip
    block, far = block_masks(cells)
    # 150 m from a centre reaches the 8 queen neighbours (100 m and 141 m), as queen does
    assert (cells.loc[block, "class"] == "hot 99%").all()
    assert (cells.loc[far, "class"] == NOT_SIGNIFICANT).all()


def test_bad_input_is_refused():
    with pytest.raises(InputError, match="no incidents"):
        gistar_grid(np.array([[X0 - 10, Y0 - 10]]), study_area=AREA, cell_m=100)
    with pytest.raises(InputError, match="weights"):
        gistar_grid(block_points(), study_area=AREA, cell_m=100, weights="rook")
    with pytest.raises(InputError, match="permutations"):
        gistar_grid(block_points(), study_area=AREA, cell_m=100, permutations=10)
    with pytest.raises(InputError, match="larger cells"):
        gistar_grid(block_points(), study_area=AREA, cell_m=10, permutations=9_999)
    wgs = gpd.GeoDataFrame(geometry=[shapely.Point(-1.35, 50.97)], crs="EPSG:4326")
    with pytest.raises(InputError, match="to_bng"):
        gistar_grid(wgs, study_area=AREA, cell_m=100)


# --- dissolving hot cells --------------------------------------------------------------


def hand_cells(spec: dict[tuple[int, int], tuple[int, str]]) -> gpd.GeoDataFrame:
    rows = [
        {"row": r, "col": c, "count": n, "class": k, "geometry": shapely.box(
            X0 + c * 100, Y0 + r * 100, X0 + (c + 1) * 100, Y0 + (r + 1) * 100)}
        for (r, c), (n, k) in spec.items()
    ]  # fmt: skip
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=BNG)
    frame["class"] = pd.Categorical(frame["class"], categories=class_names(), ordered=True)
    return frame


def test_hotspots_join_touching_hot_cells_and_rank_by_count():
    cells = hand_cells(
        {
            (0, 0): (5, "hot 95%"),
            (0, 1): (6, "hot 99%"),  # shares an edge with (0, 0)
            (1, 2): (2, "hot 95%"),  # meets (0, 1) at a corner only
            (5, 5): (20, "hot 95%"),  # alone, but the most incidents
            (5, 6): (50, "hot 90%"),  # not hot enough to join
            (9, 9): (1, NOT_SIGNIFICANT),
        }
    )
    hot = gistar_hotspots(cells)
    assert hot["rank"].tolist() == [1, 2]
    assert hot["count"].tolist() == [20, 13]
    assert hot["n_cells"].tolist() == [1, 3]
    assert hot["class"].tolist() == ["hot 95%", "hot 99%"]
    assert hot["area_m2"].tolist() == [10_000, 30_000]
    assert hot.geometry.iloc[1].geom_type == "MultiPolygon"  # corner contact only
    assert hot.crs == BNG


def test_no_hot_cells_give_an_empty_frame():
    cells = hand_cells({(0, 0): (1, NOT_SIGNIFICANT)})
    hot = gistar_hotspots(cells)
    assert len(hot) == 0 and list(hot.columns) == [
        "rank", "count", "n_cells", "area_m2", "class", "geometry",
    ]  # fmt: skip


# --- areas -------------------------------------------------------------------------------


def square_areas() -> gpd.GeoDataFrame:
    """A 7 x 7 mesh of 100 m squares, code 'A<row><col>'."""
    rows = [
        {"code": f"A{r}{c}", "geometry": shapely.box(
            X0 + c * 100, Y0 + r * 100, X0 + (c + 1) * 100, Y0 + (r + 1) * 100)}
        for r in range(7)
        for c in range(7)
    ]  # fmt: skip
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=BNG)


def test_gistar_areas_on_counts_and_rates():
    areas = square_areas()
    centre = [f"A{r}{c}" for r in (2, 3, 4) for c in (2, 3, 4)]
    counts = pd.Series(20, index=centre)  # the other 40 areas: no incidents
    out = gistar_areas(areas, counts, permutations=999, fdr=False)
    assert out.set_index("code").loc["A33", "class"] == "hot 99%"
    assert out["count"].sum() == 180 and out.set_index("code").loc["A00", "count"] == 0
    assert out.set_index("code").loc["A33", "n_neighbours"] == 8
    assert out.set_index("code").loc["A00", "n_neighbours"] == 3
    pop = pd.Series(1_000, index=areas["code"])
    rated = gistar_areas(areas, counts, population=pop, permutations=999, fdr=False)
    assert rated.set_index("code").loc["A33", "rate"] == 20.0
    assert rated["class"].tolist() == out["class"].tolist()  # equal populations


def test_gistar_areas_refuses_unknown_codes_and_zero_population():
    areas = square_areas()
    with pytest.raises(InputError, match="not among"):
        gistar_areas(areas, pd.Series({"A00": 3, "Z99": 1}), permutations=99)
    pop = np.full(len(areas), 1_000.0)
    pop[4] = 0
    with pytest.raises(InputError, match="positive population"):
        gistar_areas(areas, pd.Series({"A00": 3}), population=pop, permutations=99)


# --- the real data -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def asb_2017() -> gpd.GeoDataFrame:
    paths = [p for p in shipped_incident_paths() if p.name.startswith("2017-")]
    inc = load_incidents(paths, EASTLEIGH).incidents
    return inc[inc["crime_type"] == "Anti-social behaviour"]


def test_real_grid_hotspot_is_eastleigh_town_centre(asb_2017):
    area = EASTLEIGH.geometry
    cells = gistar_grid(asb_2017, study_area=area, cell_m=200)
    inside = shapely.contains_xy(area, asb_2017["x"].to_numpy(), asb_2017["y"].to_numpy())
    assert cells["count"].sum() == inside.sum()  # 1,006 of 1,008: two points lie just outside
    hot = gistar_hotspots(cells)
    assert len(hot) >= 1
    wards = load_layer("wards_2018", GPKG)
    centre = wards.loc[wards["name"] == "Eastleigh Central", "geometry"].iloc[0]
    assert hot.geometry.iloc[0].intersects(centre)
    assert hot["count"].iloc[0] >= 50


def test_real_lsoa_gistar_has_no_islands_and_finds_eastleigh(asb_2017):
    lsoas = EASTLEIGH.areas("lsoa")
    counts = asb_2017.groupby("lsoa_code").size()
    out = gistar_areas(lsoas, counts, population="population", fdr=False)
    assert out["n_neighbours"].min() >= 1
    assert out["count"].sum() == len(asb_2017)
    hot = out[out["class"].astype(str).str.startswith("hot")]
    assert hot["name"].str.startswith("Eastleigh 007").any()  # the town-centre LSOAs
