"""Boundaries: the shipped GeoPackage and populations, and reading a user's boundary file."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from geo.boundaries import (
    list_layers,
    load_layer,
    load_populations,
    outline_of_tiles,
    read_boundary_file,
)
from geo.crs import BNG
from geo.errors import DataValidationError, InputError
from geo.paths import GPKG, POPULATION_PATH
from geo.schema import LOCAL_AREAS
from geo.study_area import DataFiles, warm_hampshire
from tests.areas import EASTLEIGH

BOROUGH_POPULATION = 136_435


# --- the shipped boundaries ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "count"),
    [
        ("wards_2018", 14),
        ("wards_2002", 19),
        ("lsoa_2011", 77),
        ("msoa_2011", 15),
        ("local_areas", 5),
        ("borough", 1),
    ],
)
def test_shipped_layers(layer, count):
    gdf = load_layer(layer, GPKG)
    assert len(gdf) == count
    assert gdf.crs == BNG
    assert gdf.is_valid.all()
    assert not gdf.is_empty.any()
    assert gdf["code"].is_unique


def test_shipped_gpkg_lists_its_layers():
    assert {"wards_2018", "wards_2002", "lsoa_2011", "msoa_2011", "local_areas", "borough"} <= set(
        list_layers(GPKG)
    )


def test_borough_area_is_about_79_7_km2():
    assert EASTLEIGH.geometry.area / 1e6 == pytest.approx(79.7, abs=0.05)
    # The 14 wards tile the borough: their areas add up to it.
    assert load_layer("wards_2018", GPKG).area.sum() / 1e6 == pytest.approx(79.7, abs=0.05)


def test_local_areas_are_the_five():
    assert sorted(load_layer("local_areas", GPKG)["name"]) == sorted(LOCAL_AREAS)


def test_load_layer_returns_a_copy():
    a = load_layer("borough", GPKG)
    a["name"] = "changed"
    assert load_layer("borough", GPKG)["name"].iloc[0] == "Eastleigh"


@pytest.mark.parametrize("level", ["lsoa", "ward", "ward2002", "local_area", "borough"])
def test_populations_sum_to_the_borough_at_every_level(level):
    areas = EASTLEIGH.areas(level)
    assert areas["population"].notna().all()
    assert int(areas["population"].sum()) == BOROUGH_POPULATION


def test_local_areas_equal_the_sums_of_their_2018_wards():
    wards = EASTLEIGH.areas("ward")  # the 2018 wards, each with its local area
    by_area = wards.groupby("local_area")["population"].sum()
    local = EASTLEIGH.areas("local_area").set_index("name")["population"]
    assert by_area.sort_index().tolist() == local.sort_index().tolist()
    assert set(by_area.index) == set(LOCAL_AREAS)


def test_population_table_levels():
    pops = load_populations(POPULATION_PATH)
    assert pops.groupby("level").size().to_dict() == {
        "borough": 1,
        "local_area": 5,
        "lsoa": 77,
        "ward": 14,
        "ward2002": 19,
    }


def test_unknown_level_is_named():
    with pytest.raises(
        InputError, match=r"unknown level 'wards'; choose one of lsoa, ward, ward2002"
    ):
        EASTLEIGH.areas("wards")


# --- a user's boundary files -----------------------------------------------------------------


def _two_squares() -> gpd.GeoDataFrame:
    # Two 1 km squares side by side on the National Grid near Eastleigh.
    return gpd.GeoDataFrame(
        {"code": ["A", "B"], "name": ["West", "East"]},
        geometry=[box(445_000, 118_000, 446_000, 119_000), box(446_000, 118_000, 447_000, 119_000)],
        crs=BNG,
    )


def test_list_layers_of_a_two_layer_geopackage(tmp_path):
    path = tmp_path / "two.gpkg"
    _two_squares().to_file(path, layer="wards")
    _two_squares().iloc[:1].to_file(path, layer="outline")
    assert sorted(list_layers(path)) == ["outline", "wards"]
    with pytest.raises(InputError, match=r"two\.gpkg: has 2 layers .*; choose one with layer="):
        read_boundary_file(path)
    assert len(read_boundary_file(path, layer="outline").areas) == 1
    with pytest.raises(InputError, match=r"two\.gpkg: no layer 'lsoa'; the layers are"):
        read_boundary_file(path, layer="lsoa")


def test_list_layers_of_something_else(tmp_path):
    path = tmp_path / "notes.gpkg"
    path.write_text("not a geopackage")
    with pytest.raises(
        InputError, match=r"notes\.gpkg: not a boundary file GDAL can read .*Use GeoPackage"
    ):
        list_layers(path)


def test_shapefile_round_trip_in_bng(tmp_path):
    path = tmp_path / "wards.shp"
    _two_squares().to_file(path)
    got = read_boundary_file(path, code_col="code", name_col="name")
    assert got.problems == []
    assert got.areas.crs == BNG
    assert got.areas["code"].tolist() == ["A", "B"]
    assert got.areas.area.tolist() == [1e6, 1e6]


def test_shapefile_without_prj_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "noprj.shp"
    _two_squares().to_file(path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(
        InputError,
        match=(
            r"^noprj\.shp: no coordinate reference system, so it cannot be placed on the map\. "
            r"Add the \.prj file beside the Shapefile, or re-export it as GeoPackage\.$"
        ),
    ):
        read_boundary_file(path)


def _ring(*xy):
    return [[list(p) for p in (*xy, xy[0])]]


@pytest.fixture
def broken_geojson(tmp_path):
    # Degrees around Eastleigh: a square, a bow-tie (self-intersecting) and a null geometry.
    features = [
        {
            "type": "Feature",
            "properties": {"code": "A", "name": "Square"},
            "geometry": {
                "type": "Polygon",
                "coordinates": _ring(
                    (-1.36, 50.96), (-1.34, 50.96), (-1.34, 50.98), (-1.36, 50.98)
                ),
            },
        },
        {
            "type": "Feature",
            "properties": {"code": "B", "name": "Bow-tie"},
            "geometry": {
                "type": "Polygon",
                "coordinates": _ring(
                    (-1.36, 50.90), (-1.34, 50.92), (-1.34, 50.90), (-1.36, 50.92)
                ),
            },
        },
        {"type": "Feature", "properties": {"code": "C", "name": "Nothing"}, "geometry": None},
        {
            "type": "Feature",
            "properties": {"code": "D", "name": "Sliver"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[-1.3, 50.9], [-1.29, 50.91], [-1.3, 50.9]]],
            },
        },
    ]
    path = tmp_path / "wards.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_broken_features_are_named_and_the_rest_kept(broken_geojson):
    got = read_boundary_file(broken_geojson, code_col="code", name_col="name")
    assert got.areas["code"].tolist() == ["A", "B"]
    assert got.areas.is_valid.all()
    assert got.areas.crs == BNG
    assert len(got.problems) == 3
    assert got.problems[0].startswith(
        "wards.geojson: feature 2 (B Bow-tie): invalid geometry (Self-intersection"
    )
    assert got.problems[0].endswith("), repaired")
    assert got.problems[1] == "wards.geojson: feature 3 (C Nothing): no geometry, skipped"
    assert got.problems[2].startswith("wards.geojson: feature 4 (D Sliver): invalid geometry")
    assert got.problems[2].endswith("with no area left once repaired, skipped")


def test_bow_tie_is_repaired_into_its_two_triangles(tmp_path):
    # A bow-tie over the 2 km square crosses itself at (1000, 1000): repaired, it is two
    # triangles of 1 km2 each (half of a 2 km x 1 km rectangle).
    bow = shapely.Polygon([(0, 0), (2000, 2000), (2000, 0), (0, 2000)])
    assert not bow.is_valid
    path = tmp_path / "bow.gpkg"
    gpd.GeoDataFrame({"code": ["BOW"]}, geometry=[bow], crs=BNG).to_file(path)
    got = read_boundary_file(path, code_col="code")
    assert got.problems == [
        "bow.gpkg: feature 1 (BOW): invalid geometry (Self-intersection[1000 1000]), repaired"
    ]
    fixed = got.areas.geometry.iloc[0]
    assert fixed.is_valid and fixed.geom_type == "MultiPolygon"
    assert sorted(g.area for g in fixed.geoms) == [1_000_000.0, 1_000_000.0]


def test_repaired_bow_tie_keeps_its_area(broken_geojson):
    got = read_boundary_file(broken_geojson, code_col="code").areas.set_index("code")
    assert got.loc["B"].geometry.geom_type == "MultiPolygon"
    assert len(got.loc["B"].geometry.geoms) == 2
    # the two triangles are half the 0.02 x 0.02 degree square each way: equal areas
    a, b = (g.area for g in got.loc["B"].geometry.geoms)
    assert a == pytest.approx(b, rel=0.01)
    assert a + b == pytest.approx(got.loc["A"].geometry.area / 2, rel=0.02)


def test_file_with_no_usable_feature(tmp_path):
    path = tmp_path / "none.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": {"code": "X"}, "geometry": None}],
            }
        )
    )
    with pytest.raises(
        DataValidationError,
        match=r"none\.geojson: 1 problem\(s\): none\.geojson: feature 1 \(X\): no geometry",
    ):
        read_boundary_file(path, code_col="code")


def test_missing_code_column_lists_the_columns(broken_geojson):
    with pytest.raises(
        InputError, match=r"wards\.geojson: no column 'WD22CD'; found \['code', 'name'\]"
    ):
        read_boundary_file(broken_geojson, code_col="WD22CD")


def test_warming_the_hampshire_layers_names_a_missing_geopackage_and_its_fix(tmp_path):
    missing = tmp_path / "hampshire.gpkg"
    with pytest.raises(InputError, match=r"hampshire\.gpkg: shipped file is missing\. Restore"):
        warm_hampshire(DataFiles(hampshire=missing))
    warm_hampshire()  # the shipped one reads


def test_the_outline_of_real_lsoas_is_their_union():
    # Eastleigh's LSOAs tile the borough: the coverage union is the general union.
    lsoas = load_layer("lsoa_2011", GPKG).geometry.to_numpy()
    fast = outline_of_tiles(lsoas)
    assert fast.is_valid
    assert fast.symmetric_difference(shapely.union_all(lsoas)).area < 1.0
    # Two that overlap are not a tiling: the general union, not a doubled area.
    over = outline_of_tiles(np.array([lsoas[0], shapely.buffer(lsoas[0], 50.0)]))
    assert over.area == pytest.approx(shapely.buffer(lsoas[0], 50.0).area)
