"""Reading street files: OS Open Roads, OS OpenMap Local, OpenStreetMap; and refusing bad ones."""

from __future__ import annotations

import json
from pathlib import Path

import fiona
import geopandas as gpd
import osmium
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from geo.errors import InputError
from geo.streets import (
    COVER_REACH_M,
    MAX_STREET_LINKS,
    MAX_STREETS_BYTES,
    ROAD_CLASSES,
    STREET_COLUMNS,
    check_streets_cover,
    read_streets,
    road_class,
)

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / ".." / "shared" / "data" / "streets" / "os_open_roads_sample_southampton.geojson"
needs_fixture = pytest.mark.skipif(not FIXTURE.exists(), reason="shared street fixture absent")

# Three links in British National Grid: A-B (300 m east), B-C (400 m north), B-D (100 m east).
X0, Y0 = 440_000.0, 113_000.0
TOY = [
    ("High Street", "A Road", "Not Classified", "A", "B", [(X0, Y0), (X0 + 300, Y0)]),
    ("Mill Lane", "Local Road", "Unclassified", "B", "C", [(X0 + 300, Y0), (X0 + 300, Y0 + 400)]),
    (None, "Local Access Road", "Not Classified", "B", "D", [(X0 + 300, Y0), (X0 + 400, Y0)]),
]


def _write_open_roads_gpkg(path: Path, rows=TOY, crs="EPSG:27700") -> Path:
    schema = {
        "geometry": "LineString",
        "properties": {
            "name_1": "str",
            "road_function": "str",
            "road_classification": "str",
            "start_node": "str",
            "end_node": "str",
        },
    }
    with fiona.open(path, "w", driver="GPKG", layer="road_link", schema=schema, crs=crs) as dst:
        for name, func, cls, a, b, coords in rows:
            dst.write(
                fiona.Feature.from_dict(
                    {
                        "type": "Feature",
                        "properties": {
                            "name_1": name,
                            "road_function": func,
                            "road_classification": cls,
                            "start_node": a,
                            "end_node": b,
                        },
                        "geometry": {"type": "LineString", "coordinates": coords},
                    }
                )
            )
    return path


def _write_osm(path: Path) -> Path:
    """A way A-B-C (residential, named) and a footway B-D: B is a junction."""
    path.write_text(
        """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
 <node id="1" version="1" lat="50.9300" lon="-1.4300"/>
 <node id="2" version="1" lat="50.9310" lon="-1.4300"/>
 <node id="3" version="1" lat="50.9320" lon="-1.4300"/>
 <node id="4" version="1" lat="50.9310" lon="-1.4310"/>
 <node id="5" version="1" lat="50.9315" lon="-1.4315"/>
 <way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
  <tag k="highway" v="residential"/><tag k="name" v="Test Road"/></way>
 <way id="11" version="1"><nd ref="2"/><nd ref="4"/><tag k="highway" v="footway"/></way>
 <way id="12" version="1"><nd ref="4"/><nd ref="5"/><tag k="highway" v="proposed"/></way>
 <way id="13" version="1"><nd ref="1"/><nd ref="4"/><nd ref="5"/><nd ref="1"/>
  <tag k="building" v="yes"/></way>
</osm>
""",
        encoding="utf-8",
    )
    return path


def _osm_to_pbf(src: Path, dst: Path) -> Path:
    with osmium.SimpleWriter(str(dst), overwrite=True) as writer:
        for obj in osmium.FileProcessor(str(src)):
            writer.add(obj)
    return dst


def _check_schema(streets: gpd.GeoDataFrame) -> None:
    assert tuple(streets.columns) == STREET_COLUMNS
    assert streets.crs.to_epsg() == 27700
    assert set(streets["road_class"]) <= set(ROAD_CLASSES)
    assert (streets.geom_type == "LineString").all()
    assert not shapely.has_z(streets.geometry.to_numpy()).any()
    assert (streets["length_m"] > 0).all()
    assert streets["start_node"].map(lambda v: isinstance(v, str) and v != "").all()


# ------------------------------------------------------------------ road classes


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("Motorway",), "motorway"),
        (("A Road", "Not Classified"), "a_road"),
        (("B Road",), "b_road"),
        (("Minor Road",), "minor"),
        (("Restricted Local Access Road",), "local"),
        ((None, "Classified Unnumbered"), "minor"),
        (("Pedestrianised Street",), "pedestrian"),
        (("Local Street",), "local"),
        (("Primary Road",), "a_road"),
        (("weird", None, None), "other"),
    ],
)
def test_road_class_from_os_fields(args, expected):
    assert road_class(*args) == expected


@pytest.mark.parametrize(
    ("highway", "expected"),
    [
        ("motorway_link", "motorway"),
        ("trunk", "a_road"),
        ("secondary", "b_road"),
        ("tertiary", "minor"),
        ("residential", "local"),
        ("footway", "pedestrian"),
        ("steps", "pedestrian"),
        ("track", "other"),
    ],
)
def test_road_class_from_osm_highway(highway, expected):
    assert road_class(highway=highway) == expected


# ------------------------------------------------------------------ good files


@needs_fixture
def test_the_southampton_open_roads_sample_is_read_whole():
    streets = read_streets(FIXTURE)
    _check_schema(streets)
    assert len(streets) == 1466
    assert streets["length_m"].sum() == pytest.approx(128_292, rel=0.01)
    assert streets.attrs["nodes_from_file"] is True
    assert streets["road_class"].value_counts().to_dict() == {
        "local": 1146,
        "minor": 181,
        "a_road": 139,
    }
    assert "Warwick Road" in set(streets["name"])
    # OS lengths agree with the projected geometry to the metre (OS rounds them).
    raw = json.loads(FIXTURE.read_text())["features"]
    assert sum(f["properties"]["length"] for f in raw) == pytest.approx(
        streets["length_m"].sum(), rel=0.002
    )


def test_open_roads_geopackage_with_snake_case_fields(tmp_path):
    streets = read_streets(_write_open_roads_gpkg(tmp_path / "oproad.gpkg"))
    _check_schema(streets)
    assert streets["name"].tolist() == ["High Street", "Mill Lane", ""]
    assert streets["road_class"].tolist() == ["a_road", "local", "local"]
    assert streets["length_m"].tolist() == pytest.approx([300, 400, 100])
    assert streets["start_node"].tolist() == ["A", "B", "B"]
    assert streets["end_node"].tolist() == ["B", "C", "D"]


def test_the_road_link_layer_is_chosen_among_several(tmp_path):
    path = _write_open_roads_gpkg(tmp_path / "oproad.gpkg")
    nodes = gpd.GeoDataFrame({"id": ["A"]}, geometry=[Point(X0, Y0)], crs=27700)
    nodes.to_file(path, layer="road_node", driver="GPKG")
    assert len(read_streets(path)) == 3
    with pytest.raises(InputError, match="no layer 'roads'; its layers are"):
        read_streets(path, layer="roads")


def test_openmap_local_shapefile_nodes_found_by_snapping(tmp_path):
    roads = gpd.GeoDataFrame(
        {
            "DISTNAME": ["High Street", "Mill Lane", None],
            "CLASSIFICA": ["A Road", "Local Street", "Pedestrianised Street"],
        },
        geometry=[LineString(c) for *_, c in TOY],
        crs=27700,
    )
    # The third link starts 0.2 m from B: still the same node.
    roads.loc[2, "geometry"] = LineString([(X0 + 300.2, Y0), (X0 + 400, Y0)])
    path = tmp_path / "Road.shp"
    roads.to_file(path)
    streets = read_streets(path)
    _check_schema(streets)
    assert streets["road_class"].tolist() == ["a_road", "local", "pedestrian"]
    assert streets.attrs["nodes_from_file"] is False
    start, end = streets["start_node"].tolist(), streets["end_node"].tolist()
    assert end[0] == start[1] == start[2]
    assert len({start[0], end[0], end[1], end[2]}) == 4


def test_geojson_in_lon_lat_is_projected(tmp_path):
    roads = gpd.GeoDataFrame(
        {"name1": ["High Street"], "function": ["B Road"]},
        geometry=[LineString(TOY[0][-1])],
        crs=27700,
    ).to_crs(4326)
    path = tmp_path / "roads.geojson"
    roads.to_file(path, driver="GeoJSON")
    streets = read_streets(path)
    assert streets["road_class"].tolist() == ["b_road"]
    assert streets["length_m"].iloc[0] == pytest.approx(300, abs=0.01)


@pytest.mark.parametrize("fmt", ["osm", "pbf"])
def test_openstreetmap_ways_are_split_at_junctions(tmp_path, fmt):
    path = _write_osm(tmp_path / "extract.osm")
    if fmt == "pbf":
        path = _osm_to_pbf(path, tmp_path / "extract.osm.pbf")
    streets = read_streets(path)
    _check_schema(streets)
    # Way 10 splits at node 2 (shared with the footway); the proposed road and the
    # building are not streets.
    assert len(streets) == 3
    by_nodes = {
        (a, b): row
        for a, b, row in zip(
            streets.start_node, streets.end_node, streets.itertuples(), strict=True
        )
    }
    assert set(by_nodes) == {("osm1", "osm2"), ("osm2", "osm3"), ("osm2", "osm4")}
    assert by_nodes[("osm1", "osm2")].name == "Test Road"
    assert by_nodes[("osm2", "osm4")].road_class == "pedestrian"
    assert by_nodes[("osm2", "osm4")].name == ""
    # 0.001 degree of latitude is about 111 m.
    assert by_nodes[("osm1", "osm2")].length_m == pytest.approx(111.2, abs=1.0)


def test_area_keeps_links_near_it_and_reports_cover(tmp_path):
    path = _write_open_roads_gpkg(tmp_path / "oproad.gpkg")
    inner = box(X0 + 250, Y0, X0 + 350, Y0 + 50)  # inside the links' triangle A-C-D
    assert len(read_streets(path, area_geometry=inner)) == 3
    assert check_streets_cover(read_streets(path), inner) == pytest.approx(1.0)
    # The hull is the triangle A-C-D, grown by COVER_REACH_M; a 2 km square holds it.
    square = box(X0 - 800, Y0 - 800, X0 + 1_200, Y0 + 1_200)
    grown = shapely.Polygon([(X0, Y0), (X0 + 300, Y0 + 400), (X0 + 400, Y0)]).buffer(COVER_REACH_M)
    assert check_streets_cover(read_streets(path), square, min_share=0.1) == pytest.approx(
        grown.area / square.area
    )
    # With a 0 m margin, only the links meeting the area's box are read.
    corner = box(X0 + 290, Y0 - 10, X0 + 310, Y0 + 10)
    kept = read_streets(path, area_geometry=corner, margin_m=0)
    assert len(kept) == 3  # all three meet at B, inside the corner box
    north = box(X0 + 250, Y0 + 150, X0 + 350, Y0 + 200)
    assert read_streets(path, area_geometry=north, margin_m=0)["name"].tolist() == ["Mill Lane"]


# ------------------------------------------------------------------ bad files


def test_a_file_of_polygons_holds_no_lines(tmp_path):
    path = tmp_path / "areas.gpkg"
    gpd.GeoDataFrame({"a": [1, 2]}, geometry=[box(0, 0, 1, 1), box(2, 2, 3, 3)], crs=27700).to_file(
        path
    )
    with pytest.raises(InputError) as err:
        read_streets(path)
    text = str(err.value)
    assert text.startswith("areas.gpkg: holds no lines (2 Polygon)")
    assert "road links" in text and "\n" not in text


def test_a_shapefile_without_prj_has_no_crs(tmp_path):
    path = tmp_path / "Road.shp"
    gpd.GeoDataFrame({"DISTNAME": ["a"]}, geometry=[LineString(TOY[0][-1])], crs=27700).to_file(
        path
    )
    path.with_suffix(".prj").unlink()
    with pytest.raises(InputError, match=r"^Road\.shp: no coordinate reference system.*\.prj"):
        read_streets(path)


def test_grid_metres_labelled_as_lon_lat_are_refused(tmp_path):
    path = tmp_path / "roads.geojson"
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name1": "High Street"},
                "geometry": {"type": "LineString", "coordinates": TOY[0][-1]},
            }
        ],
    }
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"roads\.geojson: its coordinates .*EPSG:27700"):
        read_streets(path)


def test_streets_off_great_britain_are_refused(tmp_path):
    rows = [(n, f, c, a, b, [(x - 900_000, y) for x, y in xy]) for n, f, c, a, b, xy in TOY]
    path = _write_open_roads_gpkg(tmp_path / "far.gpkg", rows=rows)
    with pytest.raises(InputError, match=r"far\.gpkg: 3 of its 3 road links lie off Great Britain"):
        read_streets(path)


def test_streets_outside_the_study_area_are_refused(tmp_path):
    path = _write_open_roads_gpkg(tmp_path / "oproad.gpkg")
    far_area = box(X0 + 10_000, Y0, X0 + 12_000, Y0 + 2_000)
    with pytest.raises(
        InputError, match=r"oproad\.gpkg: none of its road links lies in the study area"
    ):
        read_streets(path, area_geometry=far_area)
    # Meeting only a corner of a large area is not enough either.
    big_area = box(X0 + 200, Y0 - 5_000, X0 + 10_000, Y0 + 5_000)
    with pytest.raises(InputError, match=r"cover only [0-9]% of the study area \(at least 50%"):
        read_streets(path, area_geometry=big_area)


def test_too_many_links_or_bytes_are_refused(tmp_path):
    assert MAX_STREET_LINKS >= 100_000 and MAX_STREETS_BYTES >= 2**29
    path = _write_open_roads_gpkg(tmp_path / "oproad.gpkg")
    with pytest.raises(InputError, match=r"oproad\.gpkg: 3 road links is more than the 2 one"):
        read_streets(path, max_links=2)
    with pytest.raises(InputError, match=r"oproad\.gpkg: .* is more than the 1 KiB a street file"):
        read_streets(path, max_bytes=1024)
    osm = _write_osm(tmp_path / "extract.osm")
    with pytest.raises(InputError, match=r"extract\.osm: 3 road links is more than the 2"):
        read_streets(osm, max_links=2)


def test_a_damaged_pbf_is_refused(tmp_path):
    good = _osm_to_pbf(_write_osm(tmp_path / "extract.osm"), tmp_path / "good.osm.pbf")
    data = bytearray(good.read_bytes())
    for i in range(40, len(data), 7):
        data[i] ^= 0x55
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(bytes(data))
    with pytest.raises(
        InputError, match=r"^bad\.osm\.pbf: damaged or not an OpenStreetMap file .*Download"
    ):
        read_streets(bad)
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(good.read_bytes()[:100])
    with pytest.raises(InputError, match=r"^cut\.osm\.pbf: damaged .*unexpected EOF"):
        read_streets(cut)


@pytest.mark.parametrize(
    ("name", "data", "match"),
    [
        ("empty.gpkg", b"", r"empty\.gpkg: the file is empty"),
        (
            "junk.gpkg",
            b"not a geopackage at all" * 10,
            r"junk\.gpkg: cannot be read: it is damaged or not a street file",
        ),
        (
            "junk.geojson",
            b'{"type": "FeatureCollection", "features": [',
            r"junk\.geojson: cannot be read: it is damaged or not a street file",
        ),
    ],
)
def test_garbage_is_refused_in_one_line(tmp_path, name, data, match):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputError, match=match) as err:
        read_streets(path)
    assert "\n" not in str(err.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(InputError, match=r"nowhere\.gpkg: cannot be opened"):
        read_streets(tmp_path / "nowhere.gpkg")


def test_a_file_in_the_normalised_schema_reads_back_the_same(tmp_path):
    streets = read_streets(_write_open_roads_gpkg(tmp_path / "oproad.gpkg"))
    streets.loc[2, "road_class"] = "pedestrian"
    path = tmp_path / "saved.gpkg"
    streets.to_file(path, layer="streets", driver="GPKG")
    again = read_streets(path)
    assert again.drop(columns="geometry").equals(streets.drop(columns="geometry"))
    assert again.geometry.equals(streets.geometry)


def test_openmap_local_geopackage_road_layer_among_others(tmp_path):
    path = tmp_path / "opmplc.gpkg"
    gpd.GeoDataFrame(
        {"feature_code": [15014]}, geometry=[box(0, 0, 1, 1).buffer(0)], crs=27700
    ).to_file(path, layer="Building", driver="GPKG")
    gpd.GeoDataFrame(
        {"distinctive_name": ["High Street", None], "feature_code": [25723, 25780]},
        geometry=[LineString(TOY[0][-1]), LineString(TOY[1][-1])],
        crs=27700,
    ).to_file(path, layer="Road", driver="GPKG")
    streets = read_streets(path)
    assert streets["name"].tolist() == ["High Street", ""]
    assert streets["road_class"].tolist() == ["a_road", "pedestrian"]
    assert streets["start_node"].iloc[1] == streets["end_node"].iloc[0]  # snapped at B


@pytest.mark.parametrize("fmt", ["osm", "pbf"])
def test_only_the_ways_near_the_study_area_are_read_from_an_extract(tmp_path, fmt):
    path = _write_osm(tmp_path / "extract.osm")
    if fmt == "pbf":
        path = _osm_to_pbf(path, tmp_path / "extract.osm.pbf")
    whole = read_streets(path)
    # A small area round node 3 (the north end of Test Road): way 10 is read; the
    # footway (nodes 2 and 4, 111 m away) is not, so node 2 is no junction and way 10
    # stays whole.
    north = whole[whole["end_node"] == "osm3"].geometry.iloc[0].coords[-1]
    area = box(north[0] - 20, north[1] - 20, north[0] + 20, north[1] + 20)
    near = read_streets(path, area_geometry=area, margin_m=0)
    assert list(zip(near.start_node, near.end_node, strict=True)) == [("osm1", "osm3")]
    assert near["length_m"].iloc[0] == pytest.approx(whole["length_m"].iloc[:2].sum())
    far = box(north[0] + 50_000, north[1], north[0] + 52_000, north[1] + 2_000)
    with pytest.raises(InputError, match="none of its road links lies in the study area"):
        read_streets(path, area_geometry=far)
