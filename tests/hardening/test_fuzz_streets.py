"""Property-based tests (hypothesis) of the street reader, :func:`geo.streets.read_streets`.

Street files of every kind it reads (OS Open Roads GeoJSON and GeoPackage, OS OpenMap
Local Shapefile, OpenStreetMap XML and PBF) are fed as random bytes, with random bytes
changed, and cut short. Properties, for every input:

* the only exception is :class:`geo.errors.InputError`, whose message is one line naming
  the file (a traceback fails the test);
* when the reader returns, the frame has the normalised columns, EPSG:27700, 2-D
  LineStrings on the National Grid, positive lengths and a node id at each end.

The runs are reproducible (``derandomize=True``, no example database); ``FUZZ_SCALE=10``
runs ten times the examples. A table of inputs and outcomes is printed at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString

from geo.crs import GB_BOUNDS_BNG
from geo.errors import InputError
from geo.streets import ROAD_CLASSES, STREET_COLUMNS, read_streets

SCALE = max(1, int(os.environ.get("FUZZ_SCALE", "1")))
FIXTURE = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "data"
    / "streets"
    / "os_open_roads_sample_southampton.geojson"
)


def fuzz(n: int) -> settings:
    return settings(
        max_examples=n * SCALE,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


STATS: dict[str, Counter] = defaultdict(Counter)


@pytest.fixture(scope="module", autouse=True)
def _print_table(request):
    yield
    if not STATS:
        return
    cols = ["inputs", "returned", "refused", "links_read", "tracebacks"]
    lines = ["", "street fuzzing: inputs tried per kind of file and outcomes"]
    lines.append(f"{'kind':<16}" + "".join(f"{c:>12}" for c in cols))
    for kind, c in sorted(STATS.items()):
        lines.append(f"{kind:<16}" + "".join(f"{c[k]:>12,}" for k in cols))
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print("\n".join(lines), flush=True)


def attempt(kind: str, path: Path) -> gpd.GeoDataFrame | None:
    """Read one file, tallying it: the frame, or None after an InputError."""
    STATS[kind]["inputs"] += 1
    try:
        frame = read_streets(path)
    except InputError as exc:
        STATS[kind]["refused"] += 1
        text = str(exc)
        assert text.strip() and "\n" not in text, text
        assert text.startswith(path.name + ":"), text
        return None
    except Exception:
        STATS[kind]["tracebacks"] += 1
        raise
    STATS[kind]["returned"] += 1
    STATS[kind]["links_read"] += len(frame)
    check_frame(frame)
    return frame


def check_frame(frame: gpd.GeoDataFrame) -> None:
    assert tuple(frame.columns) == STREET_COLUMNS
    assert frame.crs.to_epsg() == 27700
    if frame.empty:
        return
    geoms = frame.geometry.to_numpy()
    assert (shapely.get_type_id(geoms) == 1).all()  # LineString
    assert not shapely.has_z(geoms).any()
    x0, y0, x1, y1 = GB_BOUNDS_BNG
    b = shapely.bounds(geoms)
    assert np.isfinite(b).all()
    assert (b[:, 0] >= x0).all() and (b[:, 2] <= x1).all()
    assert (b[:, 1] >= y0).all() and (b[:, 3] <= y1).all()
    assert (frame["length_m"] >= 0).all()
    assert set(frame["road_class"]) <= set(ROAD_CLASSES)
    assert frame["start_node"].map(lambda v: isinstance(v, str) and v != "").all()
    assert frame["end_node"].map(lambda v: isinstance(v, str) and v != "").all()


# --- sound files, built once ------------------------------------------------------------------

_OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
{nodes}
 <way id="100" version="1">{refs_a}<tag k="highway" v="residential"/><tag k="name" v="Mill Lane"/></way>
 <way id="101" version="1">{refs_b}<tag k="highway" v="footway"/></way>
 <way id="102" version="1">{refs_c}<tag k="highway" v="primary"/><tag k="ref" v="A35"/></way>
</osm>
"""

_GOOD: dict[str, dict[str, bytes]] = {}


def good_files(kind: str) -> dict[str, bytes]:
    """The bytes of a sound street file of each kind (a Shapefile's parts), by suffix."""
    if kind in _GOOD:
        return _GOOD[kind]
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        lines = [
            LineString([(440_000 + 50 * i, 113_000), (440_000 + 50 * i + 40, 113_030)])
            for i in range(20)
        ]
        frame = gpd.GeoDataFrame(
            {
                "name_1": [f"Road {i}" for i in range(20)],
                "road_function": ["Local Road"] * 19 + ["A Road"],
                "start_node": [f"N{i}" for i in range(20)],
                "end_node": [f"N{i + 1}" for i in range(20)],
            },
            geometry=lines,
            crs=27700,
        )
        if kind == "open roads gpkg":
            frame.to_file(folder / "oproad.gpkg", layer="road_link", driver="GPKG")
        elif kind == "openmap shp":
            frame.rename(columns={"name_1": "DISTNAME", "road_function": "CLASSIFICA"}).drop(
                columns=["start_node", "end_node"]
            ).to_file(folder / "Road.shp")
        elif kind == "open roads json":
            if FIXTURE.exists():
                doc = json.loads(FIXTURE.read_text(encoding="utf-8"))
                doc["features"] = doc["features"][:40]
                (folder / "roads.geojson").write_text(json.dumps(doc), encoding="utf-8")
            else:
                frame.to_crs(4326).to_file(folder / "roads.geojson", driver="GeoJSON")
        else:
            nodes = "\n".join(
                f' <node id="{i}" version="1" lat="{50.93 + 0.0005 * (i % 10):.4f}" '
                f'lon="{-1.43 + 0.0005 * (i // 10):.4f}"/>'
                for i in range(1, 31)
            )
            xml = _OSM_XML.format(
                nodes=nodes,
                refs_a="".join(f'<nd ref="{i}"/>' for i in range(1, 11)),
                refs_b="".join(f'<nd ref="{i}"/>' for i in (5, 15, 25)),
                refs_c="".join(f'<nd ref="{i}"/>' for i in range(21, 31)),
            )
            (folder / "extract.osm").write_text(xml, encoding="utf-8")
            if kind == "osm pbf":
                with osmium.SimpleWriter(str(folder / "extract.osm.pbf")) as writer:
                    for obj in osmium.FileProcessor(str(folder / "extract.osm")):
                        writer.add(obj)
                (folder / "extract.osm").unlink()
        _GOOD[kind] = {p.name: p.read_bytes() for p in folder.iterdir()}
    return _GOOD[kind]


KINDS = ["open roads gpkg", "openmap shp", "open roads json", "osm xml", "osm pbf"]
MAIN = {".gpkg", ".shp", ".geojson", ".osm", ".pbf"}


def _main_file(folder: Path) -> Path:
    return next(p for p in sorted(folder.iterdir()) if p.suffix in MAIN)


def test_the_sound_files_are_read():
    for kind in KINDS:
        with tempfile.TemporaryDirectory() as d:
            for name, data in good_files(kind).items():
                (Path(d) / name).write_bytes(data)
            frame = attempt(kind, _main_file(Path(d)))
        assert frame is not None and len(frame) >= 3, kind


# pyogrio cannot decode GDAL's message about some damaged bytes and reports (does not
# raise) the UnicodeDecodeError; the file is still refused with an InputError.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@fuzz(40)
@given(
    st.one_of(
        st.binary(max_size=400),
        st.binary(max_size=300).map(lambda b: b"SQLite format 3\x00" + b),
        st.binary(max_size=300).map(lambda b: b'{"type": "FeatureCollection", "features": [' + b),
        st.binary(max_size=300).map(lambda b: b"\x00\x00\x00\r\n\tOSMHeader" + b),
        st.binary(max_size=300).map(lambda b: b"<?xml version='1.0'?><osm version='0.6'>" + b),
    ),
    st.sampled_from([".gpkg", ".geojson", ".shp", ".osm", ".osm.pbf"]),
)
def test_garbage_bytes_are_refused_or_read(data, suffix):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"streets{suffix}"
        path.write_bytes(data)
        attempt("garbage", path)


# pyogrio cannot decode GDAL's message about some damaged bytes and reports (does not
# raise) the UnicodeDecodeError; the file is still refused with an InputError.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@fuzz(60)
@given(
    st.sampled_from(KINDS),
    st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=20),
    st.integers(0, 3),
)
def test_damaged_bytes_are_refused_or_read(kind, flips, which):
    """A sound file with some bytes changed: an InputError or a frame, never a traceback."""
    parts = good_files(kind)
    names = sorted(parts)
    target = names[which % len(names)]
    with tempfile.TemporaryDirectory() as d:
        for name, data in parts.items():
            data = bytearray(data)
            if name == target:
                for where, value in flips:
                    data[int(where * len(data))] = value
            (Path(d) / name).write_bytes(bytes(data))
        attempt(kind, _main_file(Path(d)))


# pyogrio cannot decode GDAL's message about some damaged bytes and reports (does not
# raise) the UnicodeDecodeError; the file is still refused with an InputError.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@fuzz(40)
@given(st.sampled_from(KINDS), st.floats(0, 1, exclude_max=True))
def test_files_cut_short_are_refused_or_read(kind, keep):
    parts = good_files(kind)
    with tempfile.TemporaryDirectory() as d:
        for name, data in parts.items():
            (Path(d) / name).write_bytes(data)
        main = _main_file(Path(d))
        data = main.read_bytes()
        main.write_bytes(data[: int(keep * len(data))])
        attempt(kind, main)


def test_the_tally_has_no_traceback():
    """Runs last in this module: the reader raised nothing but InputError."""
    assert sum(c["tracebacks"] for c in STATS.values()) == 0
    assert sum(c["inputs"] for c in STATS.values()) >= 140
