"""The app's cached loaders reload a file when it changes.

Streamlit leaves arguments whose names start with ``_`` out of a cache key; a loader
that took its file's stamp as ``_stamp`` or ``_mtime`` kept serving the first copy it
read. Saving venues twice, and touching a shipped file, must both show the new values.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from geo.paths import VENUES_PATH
from geo.places import load_venues

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
EDIT_COLUMNS = ["name", "place", "status", "easting", "northing", "location_precision"]


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _scripts(at: AppTest) -> str:
    return "\n".join(json.loads(e.proto.json_args)["script"] for e in at.get("component_instance"))


def _save_renamed(at: AppTest, name: str) -> Path:
    """Rename the Eastleigh venue in the siting table and press Save."""
    at.session_state["view"] = "Venue siting"
    _run(at)
    base = pd.DataFrame(load_venues(VENUES_PATH)[EDIT_COLUMNS]).reset_index(drop=True)
    base.loc[base["name"].str.contains("Eastleigh"), "name"] = name
    at.session_state["venues_base"] = base
    _run(at)
    at.button(key="save_venues").click()
    _run(at)
    return Path(os.environ["HOTSPOTS_USER_DIR"]) / VENUES_PATH.name


def test_saving_venues_twice_shows_the_second_values_in_map_and_patrol(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTSPOTS_USER_DIR", str(tmp_path))
    at = AppTest.from_file(str(APP), default_timeout=90)
    _run(at)
    for name in ("Pitch Alpha", "Pitch Beta"):
        saved = _save_renamed(at, name)
        assert name in list(load_venues(saved)["name"]), [e.value for e in at.error]
        del at.session_state["venues_base"]
        for view in ("Map", "Patrol plan"):
            at.session_state["view"] = view
            _run(at)
            drawn = _scripts(at)
            assert name in drawn, (view, name)
            if name == "Pitch Beta":
                assert "Pitch Alpha" not in drawn, (view, "the first save is still shown")


_RELOAD = r"""
import json, sys, time
from pathlib import Path
from streamlit.testing.v1 import AppTest

def labels(at):
    return "\n".join(json.loads(e.proto.json_args)["script"] for e in at.get("component_instance"))

at = AppTest.from_file(sys.argv[1], default_timeout=90)
at.session_state["view"] = "Map"
at.run()
before = "(Fryern)" in labels(at)
gaz = Path(sys.argv[2])
gaz.write_text(gaz.read_text(encoding="utf-8").replace("Chandler's Ford (Fryern)", "Old Market Quarter"),
               encoding="utf-8")
stamp = time.time() + 5
import os; os.utime(gaz, (stamp, stamp))
at.run()
after = labels(at)
print(json.dumps({"before": before, "renamed": "Old Market Quarter" in after,
                  "old": "(Fryern)" in after,
                  "exceptions": [e.message for e in at.exception]}))
"""


def test_a_changed_shipped_file_is_read_again(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    env = {**os.environ, "HOTSPOTS_DATA_DIR": str(data), "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(_RELOAD),
            str(APP),
            str(data / "places" / "gazetteer.csv"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
        check=True,
    )
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["exceptions"] == []
    assert out["before"], "the map labels Chandler's Ford (Fryern) from the shipped gazetteer"
    assert out["renamed"] and not out["old"], "the edited gazetteer was not read again"
