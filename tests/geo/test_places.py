"""Gazetteer, points of interest and venue file: hand-checkable cases on real and made-up data."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon, box

from analysis.naming import name_for, names_for
from geo.errors import DataValidationError, InputError
from geo.paths import GAZETTEER_PATH, SCHOOLS_PATH, STATIONS_PATH, VENUES_PATH
from geo.places import (
    KIND_PRIORITY,
    VENUE_COLUMNS,
    derive_gazetteer,
    load_gazetteer,
    load_points_of_interest,
    load_schools,
    load_stations,
    load_venues,
    points_near,
    save_venues,
)
from tests.areas import EASTLEIGH, SHIPPED

ROOT = Path(__file__).resolve().parents[2]
POLICE_FILES = sorted(
    (ROOT / "data" / "police_uk" / "eastleigh_area").glob("*-hampshire-street_eastleigh_area.csv")
)

REQUIRED = [
    "Eastleigh town centre",
    "Hedge End town centre",
    "Hamble foreshore",
    "Chandler's Ford (Fryern)",
    "Fair Oak",
    "Bishopstoke",
    "Botley",
    "West End",
    "Bursledon",
    "Netley",
    "Southampton Airport",
    "Hamble-le-Rice village",
    "Hiltingbury",
]


@pytest.fixture(scope="module")
def gaz() -> gpd.GeoDataFrame:
    return load_gazetteer(GAZETTEER_PATH)


@pytest.fixture(scope="module")
def at(gaz):
    by_name = gaz.set_index("name")
    return lambda name: by_name.loc[name, "geometry"]


# ------------------------------------------------------------------ gazetteer file


def test_gazetteer_has_the_places_and_is_in_bng(gaz):
    assert gaz.crs.equals("EPSG:27700")
    assert set(REQUIRED) <= set(gaz["name"])
    assert gaz["name"].is_unique
    assert set(gaz["kind"]) <= set(KIND_PRIORITY)
    assert (gaz["radius_m"] > 0).all()
    assert gaz["source"].str.len().min() > 40
    # Whole metres; lon/lat are the projection of exactly those metres.
    assert (gaz["easting"] == gaz.geometry.x).all()
    back = gaz.to_crs(4326)
    assert np.allclose(back.geometry.x, gaz["lon"], atol=2e-6)
    assert np.allclose(back.geometry.y, gaz["lat"], atol=2e-6)
    # Everything lies in or beside the borough (Botley station is ~350 m outside).
    assert gaz.total_bounds[0] > 440_000 and gaz.total_bounds[2] < 455_000
    assert gaz.total_bounds[1] > 105_000 and gaz.total_bounds[3] < 125_000


def test_shipped_gazetteer_is_what_the_data_gives():
    derived = derive_gazetteer(
        incidents=SHIPPED.incidents,
        schools=load_schools(SCHOOLS_PATH),
        stations=load_stations(STATIONS_PATH),
        wards=EASTLEIGH.areas("ward"),
    )
    shipped = pd.read_csv(GAZETTEER_PATH, keep_default_na=False)
    pd.testing.assert_frame_equal(
        derived[["name", "kind", "easting", "northing", "radius_m", "source"]],
        shipped[["name", "kind", "easting", "northing", "radius_m", "source"]],
        check_dtype=False,
    )


def test_eastleigh_town_centre_is_the_mean_of_three_police_points(gaz):
    """Recomputed by hand from the raw police.uk files, as COMMON.md suggests."""
    assert len(POLICE_FILES) == 5
    df = pd.concat(pd.read_csv(p, dtype=str, keep_default_na=False) for p in POLICE_FILES)
    df = df[df["LSOA name"].isin(["Eastleigh 007A", "Eastleigh 007B", "Eastleigh 007C"])]
    streets = ["On or near Market Street", "On or near High Street", "On or near Wells Place"]
    df = df[df["Location"].isin(streets)].drop_duplicates(["Location", "Longitude", "Latitude"])
    assert sorted(df["Location"]) == sorted(streets)
    pts = gpd.GeoSeries(
        gpd.points_from_xy(df.Longitude.astype(float), df.Latitude.astype(float)), crs=4326
    ).to_crs(27700)
    row = gaz.set_index("name").loc["Eastleigh town centre"]
    assert abs(pts.x.mean() - row["easting"]) <= 0.5
    assert abs(pts.y.mean() - row["northing"]) <= 0.5


def test_foreshore_is_on_the_water_side_of_the_village(at):
    foreshore, village = at("Hamble foreshore"), at("Hamble-le-Rice village")
    assert 100 < foreshore.distance(village) < 300
    assert foreshore.x > village.x  # the River Hamble lies east of the village


def test_rail_stations_are_the_files_points_except_eastleigh(gaz):
    stations = load_stations(STATIONS_PATH).set_index("name")
    rows = gaz[gaz["kind"] == "station"].set_index("name")
    for name, file_name in [
        ("Hedge End station", "Hedge End"),
        ("Netley station", "Netley"),
        ("Southampton Airport Parkway station", "Southampton Airport (Parkway)"),
    ]:
        assert rows.loc[name, "geometry"].distance(stations.loc[file_name, "geometry"]) < 1
    # Eastleigh: the file's point is ~600 m off, so police.uk's Station Hill is used.
    assert rows.loc["Eastleigh station", "geometry"].distance(
        stations.loc["Eastleigh", "geometry"]
    ) == pytest.approx(622, abs=5)
    assert "Station Hill" in rows.loc["Eastleigh station", "source"]


# ------------------------------------------------------------------ name_for, real places


def test_polygon_around_eastleigh_town_centre_is_named_so(gaz, at):
    assert name_for(at("Eastleigh town centre").buffer(150), gaz) == "Eastleigh town centre"


def test_town_centre_beats_a_station_the_area_leans_towards(gaz, at):
    centre, station = at("Eastleigh town centre"), at("Eastleigh station")
    # A box from just south-west of the town centre to 200 m beyond the station: it
    # contains both points and its representative point is nearer the station.
    poly = box(centre.x - 30, centre.y - 30, station.x + 200, station.y + 200)
    rep = poly.representative_point()
    assert rep.distance(station) < rep.distance(centre)
    assert name_for(poly, gaz) == "Eastleigh town centre"
    # Touching the town-centre point counts as containing it.
    touching = box(centre.x, centre.y, station.x + 200, station.y + 200)
    assert name_for(touching, gaz) == "Eastleigh town centre"


def test_points_take_the_nearest_place_within_reach(gaz, at):
    station = at("Hedge End station")
    assert name_for(Point(station.x + 50, station.y), gaz) == "Hedge End station"
    foreshore = at("Hamble foreshore")
    assert name_for(Point(foreshore.x + 40, foreshore.y - 40), gaz) == "Hamble foreshore"


def test_beyond_every_radius_says_near(gaz, at):
    botley_station = at("Botley station")
    far = Point(botley_station.x + 2000, botley_station.y)
    assert name_for(far, gaz) == "near Botley station"


def test_names_for_keeps_the_index(gaz, at):
    s = gpd.GeoSeries(
        [at("Eastleigh town centre").buffer(100), at("Fair Oak")], index=[7, 9], crs=27700
    )
    assert names_for(s, gaz).to_dict() == {7: "Eastleigh town centre", 9: "Fair Oak"}


# ------------------------------------------------------------------ name_for, made-up places


X0, Y0 = 440_000, 110_000  # a made-up town inside the National Grid


def _p(x: float, y: float) -> Point:
    return Point(X0 + x, Y0 + y)


def _box(x1: float, y1: float, x2: float, y2: float) -> Polygon:
    return box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2)


@pytest.fixture
def toy() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "name": ["Town", "Town station", "Village"],
            "kind": ["town_centre", "station", "village"],
            "radius_m": [400.0, 250.0, 800.0],
        },
        geometry=[_p(0, 0), _p(300, 0), _p(2000, 0)],
        crs=27700,
    )


@pytest.mark.parametrize(
    ("geometry", "expected"),
    [
        (_box(-10, -10, 600, 10), "Town"),  # holds town and station; town centre wins
        (_box(250, -10, 600, 10), "Town station"),  # holds the station only
        (_p(280, 0), "Town station"),  # 20 m from the station, 280 m from town
        (_p(120, 0), "Town"),
        (_p(1300, 0), "Village"),  # 700 m: inside the village's 800 m
        # 1050 m from Town (r 400), 750 m from the station (r 250), 950 m from Village (r 800)
        (_p(1050, 0), "near Town station"),
        (_p(5000, 0), "near Village"),
        (Polygon([(X0 + 2900, Y0), (X0 + 3100, Y0), (X0 + 3000, Y0 + 100)]), "near Village"),
    ],
)
def test_name_for_rules_on_a_toy_gazetteer(toy, geometry, expected):
    assert name_for(geometry, toy) == expected


def test_name_for_refuses_bad_input(toy):
    with pytest.raises(InputError, match="empty"):
        name_for(Polygon(), toy)
    with pytest.raises(InputError, match="British National Grid"):
        name_for(Point(445_000, 118_000), toy.set_crs(4326, allow_override=True))
    with pytest.raises(InputError, match="looks like lon/lat"):
        name_for(Point(-1.35, 50.97), toy)


def test_bad_gazetteer_rows_are_all_named(tmp_path):
    text = GAZETTEER_PATH.read_text(encoding="utf-8").splitlines()
    header, first, second = text[0], text[1], text[2]
    bad_first = first.replace(",town_centre,", ",downtown,", 1)
    bad_second = second.replace(",449027,", ",,", 1)
    path = tmp_path / "g.csv"
    path.write_text("\n".join([header, bad_first, bad_second]) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        load_gazetteer(path)
    message = str(err.value)
    assert "line 2 (Eastleigh town centre), column 'kind': 'downtown'" in message
    assert "line 3 (Hedge End town centre), column 'easting': empty" in message


# ------------------------------------------------------------------ points of interest


def test_schools_and_stations_load_as_bng_points():
    schools = load_schools(SCHOOLS_PATH)
    stations = load_stations(STATIONS_PATH)
    assert len(schools) == 136 and len(stations) == 15
    assert schools.crs.equals("EPSG:27700") and stations.crs.equals("EPSG:27700")
    assert schools["kind"].value_counts()["primary_school"] == 92
    poi = load_points_of_interest(SCHOOLS_PATH, STATIONS_PATH)
    assert list(poi.columns) == ["name", "kind", "source", "geometry"]
    assert len(poi) == 151
    hamble = stations.set_index("name").loc["Hamble", "geometry"]
    # Hand check: 50.8705133184, -1.32847801 is about 447,349 E 108,105 N.
    assert hamble.x == pytest.approx(447_349, abs=2) and hamble.y == pytest.approx(108_105, abs=2)


def test_copied_files_are_unchanged_copies():
    shared = Path(__file__).resolve().parents[3] / "shared" / "data" / "places"
    if not shared.exists():
        pytest.skip("shared data folder not available")
    for path in (SCHOOLS_PATH, STATIONS_PATH):
        assert path.read_bytes() == (shared / path.name).read_bytes()


# ------------------------------------------------------------------ venues


def test_shipped_venues(gaz):
    v = load_venues(VENUES_PATH)
    assert list(v.columns[:-1]) == list(VENUE_COLUMNS)
    assert v.crs.equals("EPSG:27700")
    by_place = v.set_index("place")
    assert by_place.loc["Eastleigh", ["hours_per_session", "average_attendance"]].tolist() == [
        2,
        50,
    ]
    assert by_place.loc["Botley", "hours_per_session"] == 3
    assert by_place.loc["Hamble", "average_attendance"] == 20
    hedge = by_place.loc["Hedge End"]
    assert hedge["status"] == "planned"
    assert np.isnan(hedge["hours_per_session"]) and np.isnan(hedge["average_attendance"])
    places = gaz.set_index("name")
    for _, row in v.iterrows():
        assert row["location_precision"].startswith("approximate: placed at ")
        placed_at = row["location_precision"].removeprefix("approximate: placed at ")
        assert row.geometry.distance(places.loc[placed_at, "geometry"]) == 0


def test_venues_round_trip(tmp_path):
    original = load_venues(VENUES_PATH)
    path = save_venues(original, tmp_path / "venues.csv")
    again = load_venues(path)
    pd.testing.assert_frame_equal(
        pd.DataFrame(original.drop(columns="geometry")),
        pd.DataFrame(again.drop(columns="geometry")),
    )
    assert original.geometry.geom_equals(again.geometry).all()


def test_a_moved_venue_is_saved_where_it_was_moved(tmp_path):
    v = load_venues(VENUES_PATH)
    v.loc[0, "geometry"] = Point(445_000.4, 118_000.6)
    again = load_venues(save_venues(v, tmp_path / "v.csv"))
    assert (again.loc[0, "easting"], again.loc[0, "northing"]) == (445_000, 118_001)


def _write(tmp_path: Path, edit) -> Path:
    df = pd.read_csv(VENUES_PATH, dtype=str, keep_default_na=False)
    edit(df)
    path = tmp_path / "venues.csv"
    df.to_csv(path, index=False)
    return path


def test_missing_coordinates_name_the_row_and_columns(tmp_path):
    def edit(df):
        df.loc[1, ["easting", "northing", "lon", "lat"]] = ""

    with pytest.raises(DataValidationError, match="venues.csv") as err:
        load_venues(_write(tmp_path, edit))
    assert (
        "line 3 (Friday Night Football Botley), column(s) ['easting', 'northing', 'lon', 'lat']"
        ": missing coordinates" in str(err.value)
    )


def test_unknown_status_and_bad_number_are_both_reported(tmp_path):
    def edit(df):
        df.loc[0, "status"] = "runing"
        df.loc[2, "hours_per_session"] = "two"

    with pytest.raises(DataValidationError) as err:
        load_venues(_write(tmp_path, edit))
    assert err.value.problems == [
        "line 2 (Friday Night Football Eastleigh), column 'status': 'runing' is not one of "
        "['running', 'planned']",
        "line 4 (Friday Night Football Hamble), column 'hours_per_session': 'two' is not a number",
    ]


def test_disagreeing_coordinate_pairs_are_refused(tmp_path):
    def edit(df):
        df.loc[0, "easting"] = str(int(df.loc[0, "easting"]) + 500)

    with pytest.raises(DataValidationError, match=r"line 2 .* 500 m apart; edit both pairs"):
        load_venues(_write(tmp_path, edit))


def test_lon_lat_alone_are_enough(tmp_path):
    def edit(df):
        df.loc[3, ["easting", "northing"]] = ""

    v = load_venues(_write(tmp_path, edit))
    assert v.loc[3, "easting"] == pytest.approx(449_027, abs=1)
    assert v.loc[3, "northing"] == pytest.approx(112_841, abs=1)


class _Unprintable:
    """A cell whose text cannot be produced: serialising it raises."""

    def __str__(self) -> str:
        raise RuntimeError("disk full (simulated by an unprintable cell)")


def test_failed_save_leaves_the_old_file_intact(tmp_path):
    path = save_venues(load_venues(VENUES_PATH), tmp_path / "venues.csv")
    before = path.read_bytes()
    broken = load_venues(path)
    broken["note"] = broken["note"].astype(object)
    broken.loc[2, "note"] = _Unprintable()  # rows 0-1 are written before this one fails
    with pytest.raises(RuntimeError, match="disk full"):
        save_venues(broken, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["venues.csv"]  # no temp file left


def test_save_refuses_what_would_not_load(tmp_path):
    v = load_venues(VENUES_PATH)
    with pytest.raises(InputError, match="British National Grid"):
        save_venues(v.to_crs(4326), tmp_path / "v.csv")
    bad = v.copy()
    bad.loc[1, "status"] = "closed"
    with pytest.raises(DataValidationError, match="'closed' is not one of"):
        save_venues(bad, tmp_path / "v.csv")
    assert not (tmp_path / "v.csv").exists()


def test_points_near_keep_those_inside_or_within_the_distance_by_hand():
    # A 100 m square; points inside, 49 m and 51 m beyond an edge, and 50 m beyond a
    # corner diagonally (70.7 m away).
    pts = gpd.GeoDataFrame(
        {"name": ["in", "49 m", "51 m", "corner"]},
        geometry=gpd.points_from_xy([50, 149, 151, 150], [50, 50, 50, 150]),
        crs="EPSG:27700",
    )
    near = points_near(pts, box(0, 0, 100, 100), 50.0)
    assert near["name"].tolist() == ["in", "49 m"]
    assert near.index.tolist() == [0, 1]
    assert points_near(pts, box(0, 0, 100, 100), 71.0)["name"].tolist() == [
        "in",
        "49 m",
        "51 m",
        "corner",
    ]
