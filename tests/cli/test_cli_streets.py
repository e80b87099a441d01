"""`hotspots app --streets FILE`: the file is kept in the user's data folder and handed to
the server in ``$HOTSPOTS_STREETS``; a missing file ends in one line, status 2."""

from __future__ import annotations

import os
from pathlib import Path

import app_views.serve
from cli import main


def test_streets_are_kept_in_the_user_folder_and_passed_to_the_server(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTSPOTS_USER_DIR", str(tmp_path / "user"))
    # The command sets $HOTSPOTS_STREETS for its server; recorded here first, so that it
    # is removed again after the test (it leaked the file into later app tests).
    monkeypatch.setenv("HOTSPOTS_STREETS", "")
    monkeypatch.delenv("HOTSPOTS_STREETS")
    seen = {}

    def fake_serve(address, port, warm_up=True):  # noqa: ARG001 - the real one starts a server
        seen["streets"] = os.environ.get("HOTSPOTS_STREETS")
        return 0

    monkeypatch.setattr(app_views.serve, "serve", fake_serve)
    roads = tmp_path / "roads.geojson"
    roads.write_text('{"type": "FeatureCollection", "features": []}')
    assert main(["app", "--streets", str(roads)]) == 0
    kept = tmp_path / "user" / "streets" / "roads.geojson"
    assert kept.read_text() == roads.read_text()
    assert seen["streets"] == str(kept)
    # Given once: a second file replaces the first.
    other = tmp_path / "other.gpkg"
    other.write_bytes(b"x" * 10)
    assert main(["app", "--streets", str(other)]) == 0
    assert sorted(p.name for p in (tmp_path / "user" / "streets").iterdir()) == ["other.gpkg"]


def test_a_missing_streets_file_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOTSPOTS_USER_DIR", str(tmp_path / "user"))
    assert main(["app", "--streets", str(tmp_path / "nope.gpkg")]) == 2
    err = capsys.readouterr().err.strip()
    assert "nope.gpkg" in err and "cannot be opened" in err and "\n" not in err
    assert not Path(tmp_path / "user" / "streets").exists()
