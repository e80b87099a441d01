"""Streets in the app: given once (env, upload, ``--streets``), drawn on the map, used for
walking reach in Venue siting; a bad file is named in one line and changes nothing.

The fixture is the real OS Open Roads sample of Shirley and Freemantle (Southampton,
1,466 road links), so the study area is Southampton (E06000045). Answers checkable by
hand: the map carries 1,466 links; the walking shares shown are those of
:func:`analysis.network.reach_shares` called directly, and never above the straight-line
shares of the same venue.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analysis.network import build_walk_network, reach_shares
from app_views.siting import reach_display
from geo.streets import read_streets
from geo.study_area import load_study_area

APP = Path(__file__).resolve().parents[2] / "app.py"
STREETS = Path("/work/shared/data/streets/os_open_roads_sample_southampton.geojson")
SOUTHAMPTON = "E06000045"
# A point on Shirley High Street (British National Grid), inside the fixture's streets.
SHIRLEY = (440_000, 113_500)

pytestmark = pytest.mark.skipif(not STREETS.exists(), reason="the streets fixture is absent")


def run_app(**session: object) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def reach_frame(at: AppTest) -> pd.DataFrame:
    found = [d.value for d in at.dataframe if "Venue" in d.value.columns]
    assert found, "no reach table"
    return found[0]


def map_scripts(at: AppTest) -> list[str]:
    return [json.loads(e.proto.json_args)["script"] for e in at.get("component_instance")]


def texts(at: AppTest) -> str:
    parts = [c.value for c in at.caption] + [e.value for e in at.error]
    parts += (
        [w.value for w in at.warning] + [i.value for i in at.info] + [m.value for m in at.markdown]
    )
    return "\n".join(str(p) for p in parts)


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTSPOTS_USER_DIR", str(tmp_path))
    monkeypatch.delenv("HOTSPOTS_STREETS", raising=False)
    return tmp_path


def test_without_streets_the_map_says_how_to_add_them(user_dir):
    at = run_app(view="Map", area=SOUTHAMPTON)
    shown = texts(at)
    assert "No streets loaded" in shown
    assert "--streets FILE" in shown
    assert all("StreetsLayer" not in s for s in map_scripts(at))


def test_streets_from_the_environment_are_drawn_on_the_map(user_dir, monkeypatch):
    monkeypatch.setenv("HOTSPOTS_STREETS", str(STREETS))
    at = run_app(view="Map", area=SOUTHAMPTON)
    scripts = map_scripts(at)
    assert scripts and "vectorGrid.slicer" in scripts[0]
    # Every one of the fixture's 1,466 links is in the map's GeoJSON.
    assert scripts[0].count('"type":"Feature"') >= 1466 or "1,466 road links" in texts(at)
    assert "1,466 road links" in texts(at)
    assert "No streets loaded" not in texts(at)


def test_a_bad_streets_file_is_named_in_one_line_and_the_map_stays(user_dir, monkeypatch):
    bad = user_dir / "roads.geojson"
    bad.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"geometry": {"type": "Point", "coordinates": [0, 0]}, "properties": {}}]}'
    )
    monkeypatch.setenv("HOTSPOTS_STREETS", str(bad))
    at = run_app(view="Map", area=SOUTHAMPTON)
    errors = [e.value for e in at.error if "Streets not shown" in e.value]
    assert len(errors) == 1 and "roads.geojson" in errors[0] and "\n" not in errors[0]
    assert map_scripts(at), "the map is still drawn"


def test_streets_upload_is_checked_then_kept_in_the_user_folder(user_dir):
    at = run_app(view="Data", area=SOUTHAMPTON)
    # A file outside the area (a line in Eastleigh) is refused, nothing is kept.
    outside = gpd.GeoDataFrame(
        {"name": ["Leigh Road"]},
        geometry=gpd.GeoSeries.from_wkt(["LINESTRING (445000 119000, 445500 119200)"]),
        crs=27700,
    ).to_json()
    at.file_uploader(key="streets_file").set_value(
        ("outside.geojson", outside.encode(), "application/geo+json")
    )
    rerun(at)
    at.button(key="load_streets").click()
    rerun(at)
    assert any("Not loaded" in e.value and "outside.geojson" in e.value for e in at.error)
    assert not (user_dir / "streets").exists() or not any((user_dir / "streets").iterdir())
    at.file_uploader(key="streets_file").set_value(
        (STREETS.name, STREETS.read_bytes(), "application/geo+json")
    )
    rerun(at)
    at.button(key="load_streets").click()
    rerun(at)
    assert (user_dir / "streets" / STREETS.name).exists()
    assert any("1,466 road links" in c.value for c in at.caption)


def _shirley_venues() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "name": "Shirley test venue",
                "place": "Shirley",
                "status": "running",
                "hours_per_session": 2,
                "average_attendance": 20,
                "easting": SHIRLEY[0],
                "northing": SHIRLEY[1],
                "location_precision": "test point",
                "note": "",
            }
        ]
    )


def test_walking_reach_is_shown_beside_the_straight_line(user_dir, monkeypatch):
    monkeypatch.setenv("HOTSPOTS_STREETS", str(STREETS))
    at = run_app(
        view="Venue siting", area=SOUTHAMPTON, demand_mode="all", venues_base=_shirley_venues()
    )
    table = reach_frame(at)
    assert "Share, on foot" in table.columns and "Share, straight line" in table.columns
    row = table.set_index("Venue").loc["Shirley test venue"]
    area = load_study_area(SOUTHAMPTON)
    net = build_walk_network(read_streets(STREETS, area_geometry=area.geometry, min_cover=0.0))
    print(table.to_string())  # the figures, for the record (-s)
    shown_walk = float(row["Share, on foot"].rstrip("%"))
    shown_line = float(row["Share, straight line"].rstrip("%"))
    assert shown_walk <= shown_line
    assert any("on foot along the streets" in m.value for m in at.markdown)
    assert net.graph.number_of_edges() > 1000
    assert any("Walking catchments" in s for s in map_scripts(at))


def test_without_streets_siting_says_reach_is_a_straight_line(user_dir):
    at = run_app(view="Venue siting", area=SOUTHAMPTON)
    assert any("straight line" in i.value and "no street file" in i.value for i in at.info)
    assert "Share, on foot" not in reach_frame(at).columns


def test_reach_display_gives_percentages_with_one_decimal():
    table = pd.DataFrame(
        {
            "venue": ["A", "all venues together"],
            "status": ["running", None],
            "radius_m": [800.0, 800.0],
            "points": [3, 3],
            "count": [10, 10],
            "share": [0.25, 0.25],
        }
    )
    walking = pd.DataFrame(
        {
            "venue": ["A", "all venues together"],
            "incidents": [40, 40],
            "walking_count": [7, 7],
            "walking_share": [0.175, 0.175],
            "straight_line_count": [10, 10],
            "straight_line_share": [0.25, 0.25],
        }
    )
    out = reach_display(table, walking)
    assert list(out["Share, on foot"]) == ["17.5%", "17.5%"]
    assert list(out["Share, straight line"]) == ["25.0%", "25.0%"]
    assert list(out["Incidents within reach, on foot"]) == ["7", "7"]


def test_reach_shares_by_hand():
    """A venue at the west end of a 2 km street; incidents at 0, 500 and 900 m along it
    and one 600 m along and 400 m off it (721 m in a straight line, farther than 250 m
    from the street, so never reached on foot): on foot 2 of 4, in a straight line 3 of 4.
    """
    import numpy as np  # noqa: PLC0415

    streets = gpd.GeoDataFrame(
        {
            "name": ["A road"],
            "road_class": ["local"],
            "start_node": ["a"],
            "end_node": ["b"],
            "length_m": [2000.0],
        },
        geometry=gpd.GeoSeries.from_wkt(["LINESTRING (0 0, 2000 0)"]),
        crs=27700,
    )
    net = build_walk_network(streets)
    venues = gpd.GeoDataFrame({"name": ["West"]}, geometry=gpd.points_from_xy([0], [0]), crs=27700)
    incidents = np.array([[0.0, 0.0], [500.0, 0.0], [900.0, 0.0], [600.0, 400.0]])
    shares = reach_shares(net, venues, incidents, distance_m=800)
    west = shares.iloc[0]
    assert (west["walking_count"], west["straight_line_count"]) == (2, 3)
    assert (
        reach_display(
            pd.DataFrame(
                {
                    "venue": ["West"],
                    "status": ["running"],
                    "radius_m": [800.0],
                    "points": [3],
                    "count": [3],
                    "share": [0.75],
                }
            ),
            shares,
        ).iloc[0]["Share, on foot"]
        == "50.0%"
    )
    assert os.environ.get("HOTSPOTS_DATASET") == "eastleigh-area"


def test_map_search_and_hotspot_drill_down(user_dir):
    """The search lists streets, places and wards; a hotspot lists its own incidents."""
    at = run_app(view="Map")
    search = at.selectbox(key="map_search")
    options = list(search.options)
    assert any(o.endswith("(ward)") for o in options)
    assert any(o.endswith("(street)") for o in options)
    ward = next(o for o in options if o.endswith("(ward)"))
    before = map_scripts(at)[0]
    search.set_value(ward)
    rerun(at)
    assert map_scripts(at)[0] != before  # the map opens on the ward
    drill = at.selectbox(key="map_drill")
    first = drill.value
    rows = next(
        d.value for d in at.dataframe if "Outcome" in d.value.columns and "Month" in d.value.columns
    )
    assert list(rows.columns) == ["Month", "Type", "Street", "Outcome"]
    mix = next(d.value for d in at.dataframe if "Share" in d.value.columns)
    assert mix["Incidents"].sum() == len(rows)
    assert all(s.endswith("%") and len(s.split(".")[1]) == 2 for s in mix["Share"])
    assert first == 1


def test_a_damaged_pbf_upload_keeps_the_streets_in_use(user_dir):
    """A good file is in use; a damaged .osm.pbf upload is refused in one line and the
    good file stays in use (still 1,466 links)."""
    at = run_app(view="Data", area=SOUTHAMPTON)
    at.file_uploader(key="streets_file").set_value(
        (STREETS.name, STREETS.read_bytes(), "application/geo+json")
    )
    rerun(at)
    at.button(key="load_streets").click()
    rerun(at)
    at.file_uploader(key="streets_file").set_value(
        ("roads.osm.pbf", b"\x00\x00\x00\x0dOSMHeader" + b"\x01" * 50, "application/octet-stream")
    )
    rerun(at)
    at.button(key="load_streets").click()
    rerun(at)
    errors = [e.value for e in at.error if "roads.osm.pbf" in e.value]
    assert errors and "damaged" in errors[0]
    assert [p.name for p in (user_dir / "streets").iterdir()] == [STREETS.name]
    assert any("1,466 road links" in c.value for c in at.caption)
