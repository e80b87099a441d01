"""The `hotspots rates` and `hotspots validate` commands, in a real process and in-process."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from cli import main
from geo.paths import INCIDENTS_DIR
from tests.conftest import DATA_DIR, POLICE_HEADER, police_line

FEB = INCIDENTS_DIR / "eastleigh_area" / "2017-02-hampshire-street_eastleigh_area.csv"
BAD_ROWS = DATA_DIR / "police_uk_bad_rows.csv"
ASB_FEB_MAY = ["--type", "Anti-social behaviour", "--from", "2017-02", "--to", "2017-05"]
FIRST_COLUMNS = ["code", "name", "count", "population", "rate_per_1000", "ci_low", "ci_high"]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


# --- rates -----------------------------------------------------------------------------------


def test_rates_asb_feb_may_2017_in_a_process(tmp_path):
    proc = _run(["rates", *ASB_FEB_MAY, "--out", "asb.csv"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "1,008 incidents in 14 areas (ward); population 136,435" in proc.stdout
    assert "Eastleigh Central" in proc.stdout
    table = pd.read_csv(tmp_path / "asb.csv")
    assert list(table.columns[:7]) == FIRST_COLUMNS
    assert len(table) == 14
    assert table["count"].sum() == 1008  # the Eastleigh ASB rows of Feb-May 2017
    assert table["population"].sum() == 136_435
    assert sorted(p.name for p in tmp_path.iterdir()) == ["asb.csv"]


@pytest.mark.parametrize(
    ("level", "areas"), [("ward2002", 19), ("local_area", 5), ("lsoa", 77), ("borough", 1)]
)
def test_rates_other_levels_have_the_same_sums(tmp_path, capsys, level, areas):
    out = tmp_path / f"{level}.csv"
    assert main(["rates", *ASB_FEB_MAY, "--level", level, "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(table.columns[:7]) == FIRST_COLUMNS
    assert len(table) == areas
    assert table["count"].sum() == 1008
    assert table["population"].sum() == 136_435
    assert (
        f"1,008 incidents in {areas} areas ({level}); population 136,435" in capsys.readouterr().out
    )


def test_rates_local_areas_are_the_five(tmp_path):
    out = tmp_path / "la.csv"
    assert main(["rates", "--level", "local_area", "--out", str(out)]) == 0
    assert sorted(pd.read_csv(out)["name"]) == sorted(
        [
            "Eastleigh",
            "Chandler's Ford and Hiltingbury",
            "Bishopstoke, Fair Oak and Horton Heath",
            "Hedge End, West End and Botley",
            "Bursledon, Hamble-le-Rice and Hound",
        ]
    )


def test_rates_on_a_force_month_counts_only_eastleigh(capsys):
    # No whole-force file is shipped (see SOURCES.md); the real February 2017 file is the
    # force file cut to five districts: only its 845 Eastleigh rows count.
    assert main(["rates", "--incidents", str(FEB), "--level", "borough"]) == 0
    out = capsys.readouterr().out
    assert "845 incidents in 1 areas (borough)" in out
    assert "rows read 6,065: accepted 845, rejected 0, outside the study area 5,220." in out


# --- bad input: exit 2, one line naming the file and the problem, no traceback ---------------


def _outcomes_zip(tmp_path: Path) -> Path:
    z = tmp_path / "outcomes.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("2017-02/2017-02-hampshire-outcomes.csv", "Crime ID,Month\n")
    return z


BAD_INPUTS = {
    "empty": (lambda t: _write(t, "empty.csv", b""), r"empty\.csv: the file is empty"),
    "binary": (lambda t: _write(t, "blob.csv", bytes(range(256))), r"blob\.csv: binary file"),
    "xlsx": (
        lambda t: _write(t, "book.xlsx", b"PK\x03\x04" + b"\x00" * 64),
        r"book\.xlsx: this is a zip archive or an Excel workbook",
    ),
    "not_police": (
        lambda t: _write(t, "log.csv", b"Date,Type\n2017-02-01,ASB\n"),
        r"log\.csv: not a police\.uk street file: missing column",
    ),
    "missing": (lambda t: t / "nowhere.csv", r"nowhere\.csv: no such file or folder"),
    "outcomes_only": (_outcomes_zip, r"outcomes\.zip: no police\.uk street file found"),
}


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("command", ["rates", "validate"])
@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, command, case):
    make, message = BAD_INPUTS[case]
    path = make(tmp_path)
    args = ["rates", "--incidents", str(path)] if command == "rates" else ["validate", str(path)]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"hotspots {command}: error: ")
    assert str(path) in lines[0]
    assert re.search(message, lines[0])
    assert "Traceback" not in captured.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rates", "--from", "2017-13"], r"month '2017-13' is not in YYYY-MM form"),
        (["rates", "--from", "2017-05", "--to", "2017-02"], r"the range ends before it starts"),
        (
            ["rates", "--type", "Anti-social behavior"],
            r"type\(s\) \['Anti-social behavior'\] do not occur",
        ),
        (["rates", "--out", "/proc/rates.csv"], r"/proc/rates\.csv: cannot write here"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(capsys, args, message):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert re.search(message, err)


def test_bad_input_in_a_real_process_shows_no_traceback(tmp_path):
    path = _write(tmp_path, "blob.csv", b"\x00\x01garbage")
    for args in (["validate", str(path)], ["rates", "--incidents", str(path)]):
        proc = _run(args, tmp_path)
        assert proc.returncode == 2
        assert proc.stdout == ""
        assert proc.stderr.count("\n") == 1
        assert str(path) in proc.stderr and "binary file" in proc.stderr
        assert "Traceback" not in proc.stderr


# --- validate --------------------------------------------------------------------------------


def test_validate_json_in_a_process(tmp_path):
    proc = _run(["validate", str(BAD_ROWS), "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert {
        k: summary[k]
        for k in (
            "rows_in",
            "accepted",
            "rejected",
            "outside_area",
            "without_location",
            "duplicate_files",
        )
    } == {
        "rows_in": 13,
        "accepted": 5,
        "rejected": 7,
        "outside_area": 1,
        "without_location": 1,
        "duplicate_files": [],
    }
    assert summary["reconciles"] is True
    assert summary["files"][0]["rows"] == 13  # numbers, not strings
    assert list(tmp_path.iterdir()) == []  # no side effects


def test_validate_json_reports_duplicate_files(capsys):
    assert main(["validate", str(FEB), str(FEB), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["rows_in"], summary["accepted"], summary["outside_area"]) == (6065, 845, 5220)
    assert summary["duplicate_files"] == [
        {
            "source_file": str(FEB),
            "force": "Hampshire Constabulary",
            "month": "2017-02",
            "rows": 6065,
            "kept_from": str(FEB),
        }
    ]


def test_validate_text_report(capsys):
    assert main(["validate", str(BAD_ROWS), str(BAD_ROWS)]) == 0
    out = capsys.readouterr().out
    assert "rows in 13 = accepted 5 + rejected 7 + outside the study area 1  [reconciles]" in out
    assert "accepted without a location (counted by LSOA, not mapped): 1" in out
    assert "duplicate: " in out and "kept once" in out
    assert (
        "police_uk_bad_rows.csv line 4: Longitude/Latitude: latitude and longitude look swapped"
        in out
    )


def test_validate_rejects_file_holds_every_rejected_row(tmp_path, capsys):
    work = tmp_path / "in"
    work.mkdir()
    src = work / "month.csv"
    src.write_bytes(BAD_ROWS.read_bytes())
    other = work / "other.csv"
    bad_line = police_line(Crime_ID="=HYPERLINK(1)", Month="2017")
    other.write_text(f"{POLICE_HEADER}\n{bad_line}\n")
    before = _listing(work)
    out = tmp_path / "rejects.csv"
    assert main(["validate", str(work), "--rejects", str(out)]) == 0
    assert _listing(work) == before  # the inputs are untouched and nothing else written
    rejects = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(rejects.columns) == ["source_file", "row", "reason", "raw"]
    assert len(rejects) == 8
    assert rejects["row"].tolist() == ["3", "4", "5", "6", "7", "8", "9", "2"]
    assert (rejects["reason"] != "").all()
    assert (
        rejects["reason"].iloc[0].startswith("Longitude/Latitude: point lies outside Great Britain")
    )
    assert rejects["reason"].iloc[-1].startswith("Month: '2017' is not a month")
    # A rejected line a spreadsheet would run as a formula is written as text.
    assert rejects["raw"].iloc[-1] == "'" + bad_line
    assert "wrote" in capsys.readouterr().err
