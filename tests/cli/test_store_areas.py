"""Commands on a police.uk store: the same answers as the files, and any district of England and Wales."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geo.paths import NATIONAL_DIR, shipped_incident_paths

ROOT = Path(__file__).resolve().parents[2]
NATIONAL = NATIONAL_DIR / "police_uk" / "national"


def hotspots(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HOTSPOTS_DATASET"}  # the default data
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=900,
        check=False,
    )


@pytest.fixture(scope="module")
def hampshire_store(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("store")
    run = hotspots("ingest", str(shipped_incident_paths("hampshire")[0]), "--store", str(store))
    assert run.returncode == 0, run.stderr
    return store


def test_rates_through_the_store_equal_the_files(hampshire_store, tmp_path):
    for how, extra in (("files", ()), ("store", ("--store", str(hampshire_store)))):
        run = hotspots(
            "rates",
            "--area",
            "E06000045",
            "--from",
            "2021-04",
            "--to",
            "2022-03",
            *extra,
            "--out",
            str(tmp_path / f"{how}.csv"),
        )
        assert run.returncode == 0, run.stderr
    assert (tmp_path / "store.csv").read_bytes() == (tmp_path / "files.csv").read_bytes()


def test_detect_through_the_store_equals_the_files(hampshire_store, tmp_path):
    outs = {}
    for how, extra in (("files", ()), ("store", ("--store", str(hampshire_store)))):
        out = tmp_path / f"{how}.geojson"
        run = hotspots(
            "detect",
            "--area",
            "Southampton",
            "--type",
            "Anti-social behaviour",
            "--method",
            "dbscan",
            *extra,
            "--out",
            str(out),
        )
        assert run.returncode == 0, run.stderr
        outs[how] = [
            (f["properties"]["name"], f["properties"]["count"])
            for f in json.loads(out.read_text())["features"]
        ]
    assert outs["store"] == outs["files"] and len(outs["files"]) > 5


@pytest.mark.skipif(
    not (NATIONAL / "police-uk-street-2022-03.zip").exists()
    or not (NATIONAL_DIR / "boundaries" / "england_wales").exists(),
    reason="needs the national police.uk month and boundaries (../shared/data)",
)
def test_a_district_outside_hampshire_gets_named_hotspots(tmp_path):
    store = tmp_path / "store"
    run = hotspots("ingest", str(NATIONAL / "police-uk-street-2022-03.zip"), "--store", str(store))
    assert run.returncode == 0, run.stderr
    out = tmp_path / "ncl.geojson"
    run = hotspots(
        "detect",
        "--store",
        str(store),
        "--area",
        "E08000021",
        "--type",
        "Anti-social behaviour",
        "--method",
        "dbscan",
        "--out",
        str(out),
    )
    assert run.returncode == 0, run.stderr
    names = [f["properties"]["name"] for f in json.loads(out.read_text())["features"]]
    assert names and all(n.endswith(", Newcastle upon Tyne") for n in names), names
    assert not any(n.startswith("E0") for n in names)  # named, never a code
    run = hotspots(
        "rates",
        "--store",
        str(store),
        "--area",
        "Newcastle upon Tyne",
        "--out",
        str(tmp_path / "lsoa.csv"),
    )  # no wards: LSOAs by default
    assert run.returncode == 0, run.stderr
    assert "no ward file covers this area" in run.stdout
    assert "warning:" not in run.stderr  # Northumbria's own file is in the store
    # West Midlands Police's file is not among this month's national files: its
    # districts hold only British Transport Police rows, and the command says so.
    run = hotspots("rates", "--store", str(store), "--area", "Birmingham", "--level", "borough")
    assert run.returncode == 0, run.stderr
    assert "warning: The store holds no West Midlands police file for 2022-03" in run.stderr
    # The tasking pack of an area outside Hampshire: LSOAs (no ward file), and the
    # caveat is the pack's first note, where a reader of the page sees it.
    out = tmp_path / "pack"
    run = hotspots(
        "report", "--kind", "tasking", "--store", str(store), "--area", "Birmingham",
        "--maps", "none", "--no-pdf", "--out", str(out),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    first_note = page.split('<ul class="pack-notes"><li>', 1)[1].split("</li>", 1)[0]
    assert first_note.startswith("The store holds no West Midlands police file for 2022-03")
    assert sorted(p.name for p in out.glob("*.csv"))[1].endswith("_lsoas.csv")
