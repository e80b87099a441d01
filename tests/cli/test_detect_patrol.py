"""``hotspots detect`` on the shipped Hampshire months: patrol areas by default, coverage honoured.

Runs on the default dataset (the 15 Hampshire months), Eastleigh, the 12 months to May
2022, ASB.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ASB = "Anti-social behaviour"


def hotspots(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HOTSPOTS_DATASET"}  # the default data
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
        check=False,
    )


def test_detect_writes_the_default_patrol_areas(tmp_path):
    out = tmp_path / "patrol.geojson"
    run = hotspots("detect", "--type", ASB, "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert "months 2021-06 to 2022-05" in run.stdout
    assert "Chosen by rolling origin on the loaded months" in run.stdout
    fc = json.loads(out.read_text())
    feats = fc["features"]
    assert 1 <= len(feats) <= 10
    props = [f["properties"] for f in feats]
    assert {"rank", "name", "count", "expected", "share"} <= set(props[0])
    assert [p["rank"] for p in props] == list(range(1, len(props) + 1))
    assert all(p["count"] >= 5 for p in props)  # each holds five or more training incidents
    names = [p["name"] for p in props]
    assert len(set(names)) == len(names)  # no name repeated
    assert {"Eastleigh town centre", "Hedge End town centre"} <= set(names)
    assert [p["expected"] for p in props] == sorted((p["expected"] for p in props), reverse=True)
    lon, lat = feats[0]["geometry"]["coordinates"][0][0][:2]
    assert -1.5 < lon < -1.2 and 50.8 < lat < 51.1  # EPSG:4326, in the borough


@pytest.mark.parametrize(("method", "pct"), [("risk", 5), ("risk", 10), ("kde", 5)])
def test_coverage_is_honoured(tmp_path, method, pct):
    out = tmp_path / f"{method}{pct}.geojson"
    run = hotspots(
        "detect", "--type", ASB, "--method", method, "--coverage", str(pct), "--out", str(out)
    )
    assert run.returncode == 0, run.stderr
    covered = float(re.search(r"cover(?:s)? ([\d.]+)% of the study area", run.stdout)[1])
    assert pct * 0.9 <= covered <= pct * 1.1, run.stdout[-500:]
