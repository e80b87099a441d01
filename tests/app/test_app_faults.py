"""Faults: the app on a damaged copy of the shipped data, failed uploads, and a crash while
venues are being saved.

* **Shipped files.** ``$HOTSPOTS_DATA_DIR`` and ``$HOTSPOTS_BOUNDARIES`` (read once, when
  ``geo.paths`` is imported) point the service at a copy of
  ``data/`` and of the GeoPackage. Each case copies them, deletes, cuts short or garbles
  one file, and runs the app once with Streamlit's AppTest in a child process (this file
  run as a script imports the heavy libraries once, then forks a child per case, which
  sets the environment before the project's modules are imported), so the paths are read
  as a user's server reads them. The app must show an error naming the file, whether it
  is missing or damaged, and the fix (``git checkout -- <file>``, or the build script),
  on one line, and no exception. The same run on an undamaged copy shows no error.
* **Uploads.** A corrupt archive, a truncated real archive and a file that is not a
  police.uk file each show one line and leave the loaded data (the shipped months) in use.
* **Venue edits.** A save from the app, then a second save that fails part-way: once
  because a value cannot be written (the frame's serialisation raises after the header
  and some rows went out), once because the process is killed by the kernel in the middle
  of writing (a file-size limit, ``SIGXFSZ``). Both times the file on disk is the first
  save, byte for byte, and the app opens it.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
MONTH = "2017-03-hampshire-street_eastleigh_area.csv"
VENUES = "data/venues/friday_night_football.csv"
GPKG = "boundaries/eastleigh.gpkg"


# ------------------------------------------------------------------ damaging a copy


def _missing(path: Path) -> None:
    path.unlink()


def _cut_mid_line(path: Path) -> None:
    """Keep the first half of the bytes (the last line is cut part-way)."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _cut_at_line(path: Path) -> None:
    """Keep the first 60% of the lines (every line whole: only the row count shows it)."""
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[: len(lines) * 6 // 10]))


def _garble(path: Path) -> None:
    """Overwrite 200 bytes a third of the way in with fixed pseudo-random bytes."""
    data = bytearray(path.read_bytes())
    rng = random.Random(6)
    start = len(data) // 3
    data[start : start + 200] = bytes(rng.randrange(256) for _ in range(200))
    path.write_bytes(bytes(data))


def _garble_geometry(path: Path) -> None:
    """Overwrite 64 bytes inside an LSOA polygon's stored coordinates.

    The GeoPackage still opens and every layer still reads; only the polygon's
    coordinates are wrong (far outside Britain), as after a few flipped bytes on disk.
    """
    with sqlite3.connect(path) as con:
        blob = con.execute("SELECT geom FROM lsoa_2011 LIMIT 1").fetchone()[0]
    data = bytearray(path.read_bytes())
    at = data.find(blob[100:164])
    assert at > 0 and data.count(blob[100:164]) == 1
    data[at : at + 64] = b"\x7f" * 64
    path.write_bytes(bytes(data))


def _error_says(text: str) -> Callable[[dict], None]:
    def check(out: dict) -> None:
        assert any(text in m for m in out["error"]), (text, out["error"])

    return check


def _other_months_shown(out: dict) -> None:
    assert out["months"] == ["2017-02", "2017-04", "2017-05", "2022-02"], out["months"]


def _all_months_and_the_map(out: dict) -> None:
    # The damaged file's good rows are still used; the other months are untouched.
    assert out["months"] == ["2017-02", "2017-03", "2017-04", "2017-05", "2022-02"]
    assert out["components"] == 1, "the map is still drawn"


POPULATION = "data/population/population_by_area.csv"
POLICE = f"data/police_uk/eastleigh_area/{MONTH}"
GAZETTEER = "data/places/gazetteer.csv"

# name: (file, damage, view, further check of what the app showed)
CASES: dict[str, tuple[str, Callable[[Path], None], str, Callable[[dict], None] | None]] = {
    "geopackage missing": (GPKG, _missing, "Map", None),
    "geopackage cut short": (GPKG, _cut_mid_line, "Map", None),
    "geopackage geometry garbled": (
        GPKG,
        _garble_geometry,
        "Map",
        _error_says("has 1 damaged geometry"),
    ),
    "police.uk month missing": (POLICE, _missing, "Data", _other_months_shown),
    "police.uk month cut at a line": (
        POLICE,
        _cut_at_line,
        "Data",
        _error_says("rows read where it has 6,853"),
    ),
    "police.uk month garbled": (POLICE, _garble, "Map", _all_months_and_the_map),
    "population missing": (POPULATION, _missing, "Map", None),
    "population cut at a line": (POPULATION, _cut_at_line, "Map", _error_says("no population for")),
    "population garbled": (POPULATION, _garble, "Map", _error_says("scripts/build_populations.py")),
    "ward lookup cut at a line": ("data/population/lsoa11_to_wards.csv", _cut_at_line, "Map", None),
    "venues missing": (VENUES, _missing, "Venue siting", None),
    "venues garbled": (VENUES, _garble, "Map", _error_says("Venues not shown.")),
    "gazetteer missing": (GAZETTEER, _missing, "Map", _error_says("No hotspots.")),
    "gazetteer garbled": (GAZETTEER, _garble, "Venue siting", _error_says("No demand to measure.")),
}


# ------------------------------------------------------------------ the runs, in child processes

# Imported once by the runner before it forks one child per case: the slow part of
# starting an app run. The project's own modules are imported only in each child, after
# its environment is set, so they read $HOTSPOTS_DATA_DIR and $HOTSPOTS_BOUNDARIES there.
_HEAVY = (
    "streamlit.testing.v1",
    "geopandas",
    "pyogrio",
    "fiona",
    "folium",
    "streamlit_folium",
    "mapclassify",
    "scipy.stats",
    "sklearn.cluster",
    "esda",
    "libpysal",
)


def _app_run(view: str) -> dict:
    """Run the app once (environment already set); what it showed."""
    from streamlit.testing.v1 import AppTest  # noqa: PLC0415 - only in a child

    at = AppTest.from_file(str(APP), default_timeout=180)
    at.session_state["view"] = view
    # DBSCAN, not the default KDE with its cross-validated bandwidth (3-4 s a run): the
    # faults are the same, and hotspots are still named from the gazetteer.
    at.session_state["method"] = "dbscan"
    at.run()
    try:
        months = at.session_state["dataset"].months
    except KeyError:
        months = None
    return {
        "exception": [e.message for e in at.exception],
        "error": [e.value for e in at.error],
        "warning": [w.value for w in at.warning],
        "headers": [h.value for h in at.header],
        "months": months,
        "components": len(at.get("component_instance")),
        "text": [m.value for m in at.markdown] + [c.value for c in at.caption],
    }


def _runner(jobs_file: str) -> None:
    """Run every job (folder, view) in a forked child, two at a time; results as JSON files."""
    import importlib  # noqa: PLC0415
    import traceback  # noqa: PLC0415

    for name in _HEAVY:
        importlib.import_module(name)
    jobs = json.loads(Path(jobs_file).read_text())
    running: dict[int, Path] = {}

    def reap() -> None:
        pid, status = os.wait()
        folder = running.pop(pid)
        if not (folder / "result.json").exists():
            (folder / "crash.txt").write_text(f"child exit status {status}")

    for job in jobs:
        while len(running) >= 2:
            reap()
        folder = Path(job["folder"])
        pid = os.fork()
        if pid == 0:  # the child
            code = 1
            try:
                os.environ.update(
                    HOTSPOTS_DATASET="eastleigh-area",
                    HOTSPOTS_DATA_DIR=str(folder / "data"),
                    HOTSPOTS_BOUNDARIES=str(folder / GPKG),
                    HOTSPOTS_USER_DIR=str(folder / "user"),
                )
                out = _app_run(job["view"])
                (folder / "result.json").write_text(json.dumps(out))
                code = 0
            except BaseException:  # noqa: BLE001 - reported to the test
                (folder / "crash.txt").write_text(traceback.format_exc())
            finally:
                os._exit(code)
        running[pid] = folder
    while running:
        reap()


def _run_cases(
    base: Path, cases: dict[str, tuple[str, Callable[[Path], None], str]]
) -> dict[str, dict]:
    """Copy the shipped data once per case, damage one file, run the app on each copy."""
    jobs = []
    for name, (rel, damage, view) in cases.items():
        folder = base / name.replace(" ", "_").replace(".", "")
        shutil.copytree(ROOT / "data", folder / "data")
        (folder / "boundaries").mkdir()
        shutil.copy2(ROOT / GPKG, folder / GPKG)
        damage(folder / rel)
        jobs.append({"folder": str(folder), "view": view})
    jobs_file = base / "jobs.json"
    jobs_file.write_text(json.dumps(jobs))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTSPOTS_")}
    proc = subprocess.run(
        [sys.executable, __file__, str(jobs_file)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    results = {}
    for name, job in zip(cases, jobs, strict=True):
        folder = Path(job["folder"])
        if (folder / "result.json").exists():
            results[name] = json.loads((folder / "result.json").read_text())
        else:
            crash = folder / "crash.txt"
            why = crash.read_text() if crash.exists() else proc.stderr[-3000:]
            results[name] = {"crashed": why}
    return results


@pytest.fixture(scope="module")
def fault_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Every case run once, two at a time (the machine has two cores)."""
    base = tmp_path_factory.mktemp("faults")
    cases = {name: (rel, damage, view) for name, (rel, damage, view, _) in CASES.items()}
    cases["undamaged copy"] = (GPKG, lambda path: None, "Map")
    return _run_cases(base, cases)


@pytest.mark.parametrize("name", list(CASES))
def test_a_damaged_shipped_file_is_named_with_its_fix_and_no_traceback(fault_runs, name):
    rel, damage, view, check = CASES[name]
    out = fault_runs[name]
    assert "crashed" not in out, out.get("crashed")
    assert out["exception"] == [], out["exception"]
    errors = out["error"]
    assert errors, f"no error shown for {name}; warnings: {out['warning']}"
    for message in errors:
        assert f"Shipped file {rel} is " in message, message
        assert f"Fix: restore it with git checkout -- {rel}" in message, message
        assert "\n" not in message and "Traceback" not in message
    said = "is missing" if damage is _missing else "is damaged"
    assert any(f"Shipped file {rel} {said}" in m for m in errors), (said, errors)
    if rel == GPKG:
        assert all("scripts/build_boundaries.py" in m for m in errors)
    shown = " ".join(out["text"] + out["warning"])
    assert "Traceback" not in shown
    if check is not None:
        check(out)


def test_the_same_run_on_an_undamaged_copy_shows_no_error(fault_runs):
    # The errors above come from the damage, not from running on a copy.
    out = fault_runs["undamaged copy"]
    assert "crashed" not in out, out.get("crashed")
    assert out["exception"] == [] and out["error"] == [], out
    assert out["months"] == ["2017-02", "2017-03", "2017-04", "2017-05", "2022-02"]
    assert out["components"] == 1


def test_the_paths_follow_the_environment_and_default_to_the_repository(tmp_path):
    code = (
        "import json, geo.paths as p;"
        "print(json.dumps([str(p.DATA_DIR), str(p.GPKG), str(p.INCIDENTS_DIR),"
        " str(p.GAZETTEER_PATH), str(p.VENUES_PATH)]))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTSPOTS_")}
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(run.stdout) == [
        str(ROOT / "data"),
        str(ROOT / GPKG),
        str(ROOT / "data" / "police_uk"),
        str(ROOT / "data" / "places" / "gazetteer.csv"),
        str(ROOT / VENUES),
    ]
    env.update(HOTSPOTS_DATA_DIR=str(tmp_path / "d"), HOTSPOTS_BOUNDARIES=str(tmp_path / "b.gpkg"))
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(run.stdout) == [
        str(tmp_path / "d"),
        str(tmp_path / "b.gpkg"),
        str(tmp_path / "d" / "police_uk"),
        str(tmp_path / "d" / "places" / "gazetteer.csv"),
        str(tmp_path / "d" / "venues" / "friday_night_football.csv"),
    ]


def test_only_errors_about_shipped_files_are_reported_as_such():
    from app_views.state import fault_message  # noqa: PLC0415
    from geo.errors import InputError  # noqa: PLC0415
    from geo.paths import DATA_DIR  # noqa: PLC0415

    # A user's own file is not a shipped file: the views report those themselves.
    assert fault_message(InputError("/tmp/upload/2017-03.csv: not a police.uk file")) is None
    gone = DATA_DIR / "places" / "no_such_file.csv"
    assert fault_message(InputError(f"{gone}: file not found; check the path")) == (
        "Shipped file data/places/no_such_file.csv is missing. "
        "Fix: restore it with git checkout -- data/places/no_such_file.csv."
    )
    there = DATA_DIR / "places" / "gazetteer.csv"
    msg = fault_message(InputError(f"{there}: not a readable UTF-8 CSV (bad byte); re-save it"))
    assert msg == (
        "Shipped file data/places/gazetteer.csv is damaged (not a readable UTF-8 CSV "
        "(bad byte)). Fix: restore it with git checkout -- data/places/gazetteer.csv."
    )


# ------------------------------------------------------------------ the loaders' checks


def test_a_geopackage_with_a_damaged_geometry_is_refused(tmp_path):
    from geo.boundaries import load_layer  # noqa: PLC0415
    from geo.errors import InputError  # noqa: PLC0415

    copy = tmp_path / "eastleigh.gpkg"
    shutil.copy2(ROOT / GPKG, copy)
    assert len(load_layer("lsoa_2011", path=copy)) == 77
    other = tmp_path / "damaged.gpkg"
    shutil.copy2(ROOT / GPKG, other)
    _garble_geometry(other)
    with pytest.raises(InputError, match=r"damaged\.gpkg: layer 'lsoa_2011' has 1 damaged"):
        load_layer("lsoa_2011", path=other)
    assert len(load_layer("wards_2018", path=other)) == 14  # the other layers are intact


def test_a_population_file_with_a_bad_count_is_refused(tmp_path):
    from geo.boundaries import load_layer, load_populations, lsoa_ward_lookup  # noqa: PLC0415
    from geo.errors import InputError  # noqa: PLC0415

    src = ROOT / "data" / "population" / "population_by_area.csv"
    lines = src.read_text(encoding="utf-8").splitlines()
    assert len(load_populations(path=src)) == len(lines) - 1
    bad = tmp_path / "population_by_area.csv"
    fields = lines[5].split(",")
    fields[3] = "12a4"
    bad.write_text("\n".join([*lines[:5], ",".join(fields), *lines[6:]]) + "\n", "utf-8")
    with pytest.raises(InputError, match=r"line 6, column 'population' is not a count"):
        load_populations(path=bad)
    lookup = ROOT / "data" / "population" / "lsoa11_to_wards.csv"
    lsoas = set(load_layer("lsoa_2011", ROOT / GPKG)["code"])
    assert len(lsoa_ward_lookup(lookup, lsoas)) == 77
    cut = tmp_path / "lsoa11_to_wards.csv"
    shutil.copy2(lookup, cut)
    _cut_at_line(cut)
    with pytest.raises(InputError, match="do not cover the borough's 77 LSOAs"):
        lsoa_ward_lookup(cut, lsoas)


# ------------------------------------------------------------------ uploads


def _zip_of(path: Path) -> bytes:
    from io import BytesIO  # noqa: PLC0415

    buf = BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(path, f"2017-03/{path.name}")
    return buf.getvalue()


def test_failed_uploads_leave_the_loaded_data_untouched():
    from streamlit.testing.v1 import AppTest  # noqa: PLC0415

    from geo.paths import shipped_incident_paths  # noqa: PLC0415

    month = next(p for p in shipped_incident_paths() if p.name == MONTH)
    real_zip = _zip_of(month)
    bad = {
        "corrupt archive": ("police-download.zip", b"PK\x03\x04" + bytes(range(256)) * 8),
        "archive cut short": ("police-download.zip", real_zip[: len(real_zip) // 2]),
        "not a police.uk file": ("2017-03-street.csv", b"this is,not a police.uk file\n1,2\n"),
        "binary": (
            "2017-03-street.csv",
            bytes(random.Random(1).randrange(256) for _ in range(4096)),
        ),
    }
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["view"] = "Map"
    at.session_state["method"] = "dbscan"  # quicker than KDE's cross-validation
    at.run()
    assert not at.exception
    incidents = next(m.value for m in at.metric if m.label == "Incidents")
    at.radio(key="view").set_value("Data")
    at.run()
    key = at.session_state["dataset"].key
    assert key.startswith("shipped:")
    for case, (name, content) in bad.items():
        at.file_uploader(key="police_files").set_value((name, content, "text/csv"))
        at.run()
        at.button(key="load_police").click()
        at.run()
        assert not at.exception, (case, [e.message for e in at.exception])
        errors = [e.value for e in at.error]
        assert len(errors) == 1, (case, errors)
        assert errors[0].startswith("Not loaded: ") and "\n" not in errors[0], (case, errors)
        assert errors[0].endswith("The data in use is unchanged."), (case, errors)
        assert at.session_state["dataset"].key == key, case
    at.radio(key="view").set_value("Map")
    at.run()
    assert not at.exception
    assert next(m.value for m in at.metric if m.label == "Incidents") == incidents


# ------------------------------------------------------------------ venue edits


class _Unwritable:
    """A venue note that cannot be turned into text: writing it raises part-way."""

    def __str__(self) -> str:
        msg = "simulated failure while the venue file is written"
        raise RuntimeError(msg)


_KILLED_MID_WRITE = textwrap.dedent(
    """
    import resource, signal, sys
    from pathlib import Path
    import pandas as pd
    import geopandas as gpd
    from geo.places import load_venues, save_venues

    path, limit = Path(sys.argv[1]), int(sys.argv[2])
    first = load_venues(path)
    more = []
    for i in range(60):
        v = first.copy()
        v["name"] = v["name"] + f" copy {i}"
        v["note"] = "moved in the app; " * 8
        more.append(v)
    venues = gpd.GeoDataFrame(pd.concat(more, ignore_index=True), crs=first.crs)
    # The kernel kills the process when a write passes `limit` bytes (the default
    # action of SIGXFSZ; Python ignores it unless told otherwise).
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    save_venues(venues, path)
    print("not killed")
    """
)


def test_a_save_that_fails_part_way_leaves_the_first_save_intact(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest  # noqa: PLC0415

    from geo.paths import VENUES_PATH  # noqa: PLC0415
    from geo.places import load_venues, save_venues  # noqa: PLC0415

    monkeypatch.setenv("HOTSPOTS_USER_DIR", str(tmp_path))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["view"] = "Venue siting"
    at.session_state["method"] = "dbscan"  # quicker than KDE's cross-validation
    at.run()
    at.button(key="save_venues").click()
    at.run()
    assert not at.exception
    saved = tmp_path / VENUES_PATH.name
    assert any(s.value == f"Saved to {saved}" for s in at.success), [e.value for e in at.error]
    first = saved.read_bytes()
    names = list(load_venues(saved)["name"])
    assert names == list(load_venues(VENUES_PATH)["name"])

    # 1. The frame's serialisation raises after the header and three rows.
    venues = load_venues(saved)
    venues["note"] = venues["note"].astype(object)
    venues.loc[venues.index[-1], "note"] = _Unwritable()
    venues.loc[venues.index[0], "name"] = "Renamed before the failure"
    with pytest.raises(RuntimeError, match="simulated failure"):
        save_venues(venues, saved)
    assert saved.read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == [VENUES_PATH.name]  # temp removed

    # 2. The process is killed by the kernel in the middle of writing a larger file.
    limit = 4096
    run = subprocess.run(
        [sys.executable, "-c", _KILLED_MID_WRITE, str(saved), str(limit)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == -signal.SIGXFSZ, (run.returncode, run.stdout, run.stderr[-2000:])
    assert saved.read_bytes() == first
    left = [p for p in tmp_path.iterdir() if p.name != VENUES_PATH.name]
    # The half-written temporary file is still there (nothing ran after the kill): it
    # holds the new file's first `limit` bytes, so the kill came part-way through.
    assert len(left) == 1 and left[0].name.startswith(f".{VENUES_PATH.name}.")
    assert left[0].stat().st_size == limit
    assert left[0].read_bytes().startswith(b"name,") and b" copy 0" in left[0].read_bytes()
    assert list(load_venues(saved)["name"]) == names

    # A new session of the app opens the first save.
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["view"] = "Venue siting"
    at.session_state["method"] = "dbscan"  # quicker than KDE's cross-validation
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert list(at.session_state["venues_base"]["name"]) == names


if __name__ == "__main__":
    _runner(sys.argv[1])
