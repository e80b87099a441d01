"""Faults of the store, each ending in one line that names the file or partition and the
fix, with nothing already in the store lost: a disk that fills part-way (a file-size
limit in a child process), a damaged partition, a store written by a newer version, two
ingests at once, and an archive holding files that are not police.uk street files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

from cli import main
from geo.schema import POLICE_UK_COLUMNS
from geo.store import StoreLock, partitions
from geo.store_ingest import ingest
from geo.store_query import store_incidents

ROOT = Path(__file__).resolve().parents[2]
HEADER = ",".join(POLICE_UK_COLUMNS)
ROW = (
    ",{m},Hampshire Constabulary,Hampshire Constabulary,-1.372801,50.988212,On or near "
    "Petrol Station,E01022705,Eastleigh 001A,Anti-social behaviour,,"
)


def police_csv(path: Path, month: str, n: int, *, ids: bool = False) -> Path:
    rows = [ROW.format(m=month)] * n
    if ids:  # a distinct 64-hex-digit crime ID per row, as police.uk gives: hard to compress
        rng = np.random.default_rng(0)
        rows = [rng.bytes(32).hex() + r for r in rows]
    path.write_text(HEADER + "\r\n" + "\r\n".join(rows) + "\r\n")
    return path


def police_zip(path: Path, month: str, n: int) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            f"{month}/{month}-hampshire-street.csv",
            HEADER + "\r\n" + "\r\n".join([ROW.format(m=month)] * n) + "\r\n",
        )
    return path


def one_error_line(capsys) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    assert err[0].startswith("hotspots ")
    return err[0]


DISK_CHILD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
from cli import main
sys.exit(main(["ingest", *sys.argv[3:], "--store", sys.argv[2]]))
"""


def test_disk_fills_part_way(tmp_path: Path) -> None:
    store = tmp_path / "s"
    first = police_csv(tmp_path / "a.csv", "2021-01", 3)
    ingest([first], store)
    before = partitions(store)
    small = police_zip(tmp_path / "b.zip", "2021-02", 5)
    # About 1.1 MB of CSV, whose partition (over 200 KB) cannot be written.
    big = police_csv(tmp_path / "c.csv", "2021-03", 5000, ids=True)
    # Python ignores SIGXFSZ, so a write past the limit fails with EFBIG.
    run = subprocess.run(
        [sys.executable, "-c", DISK_CHILD, str(200_000), str(store), str(small), str(big)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert run.returncode == 2, (run.stdout, run.stderr)
    err = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(err) == 1 and "a partition could not be written" in err[0], err
    assert "Free space and run the same ingest again" in err[0]
    after = partitions(store)
    # The partition already there is untouched; the archive's month (a batch before the
    # big file) is complete; the big file's month is absent, not half-written.
    assert after["month"].tolist() == ["2021-01", "2021-02"]
    assert after.loc[0, "rows"] == before.loc[0, "rows"] == 3
    assert (after["damaged"] == "").all()
    again = ingest([small, big], store)
    assert again.added == 5000
    assert partitions(store)["rows"].tolist() == [3, 5, 5000]


def test_damaged_partition_one_line(tmp_path: Path, capsys) -> None:
    store = tmp_path / "s"
    ingest(
        [
            police_csv(tmp_path / "a.csv", "2021-01", 3),
            police_csv(tmp_path / "b.csv", "2021-02", 2),
        ],
        store,
    )
    part = next((store / "data" / "month=2021-02").rglob("part.parquet"))
    part.write_bytes(b"PAR1 not really parquet")
    assert main(["national", "--store", str(store), "--level", "district"]) == 2
    line = one_error_line(capsys)
    assert str(part) in line and "damaged partition" in line and "ingest 2021-02" in line
    # The other partition is intact and still read on its own.
    assert len(store_incidents(store, ["E01022705"], "2021-01", "2021-01")) == 3


def test_newer_store_one_line(tmp_path: Path, capsys) -> None:
    store = tmp_path / "s"
    f = police_csv(tmp_path / "a.csv", "2021-01", 1)
    ingest([f], store)
    (store / "STORE_FORMAT.json").write_text(json.dumps({"format": 99}))
    assert main(["ingest", str(f), "--store", str(store)]) == 2
    line = one_error_line(capsys)
    assert "written by a newer version of hotspots (store format 99" in line
    assert "upgrade hotspots" in line
    assert len(partitions(store)) == 1


def test_two_ingests_one_line(tmp_path: Path, capsys) -> None:
    store = tmp_path / "s"
    f = police_csv(tmp_path / "a.csv", "2021-01", 1)
    ingest([f], store)
    with StoreLock(store):
        assert main(["ingest", str(f), "--store", str(store)]) == 2
    line = one_error_line(capsys)
    assert f"{store}: another ingest is writing to this store (pid {os.getpid()}" in line
    assert "wait for it to finish" in line


def test_archive_of_other_files(tmp_path: Path, capsys) -> None:
    z = tmp_path / "mixed.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("notes.docx", b"PK\x03\x04 not a csv")
        zf.writestr("2021-01/2021-01-hampshire-stop-and-search.csv", "Type,Date\r\nx,y\r\n")
        zf.writestr("2021-01/2021-01-hampshire-street.csv", "Name,Value\r\na,1\r\n")
    store = tmp_path / "s"
    ingest([police_csv(tmp_path / "a.csv", "2021-02", 2)], store)
    assert main(["ingest", str(z), "--store", str(store)]) == 2
    cap = capsys.readouterr()
    err = [line for line in cap.err.splitlines() if line.strip()]
    assert len(err) == 1
    assert "mixed.zip!2021-01/2021-01-hampshire-street.csv: not a police.uk street file" in err[0]
    assert "Use the street-level CSV from a police.uk download" in err[0]
    assert "skipped mixed.zip!notes.docx: not a police.uk street file (skipped)" in cap.out
    assert partitions(store)["rows"].tolist() == [2]
