"""The Parquet store: ingest account, duplicates, atomic partitions, one area out.

Every answer here can be checked by hand: the made-up files have a few rows each.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo.io import load_incidents
from geo.police_uk import parse_police_uk
from geo.schema import POLICE_UK_COLUMNS
from geo.sources import decode, read_limited
from geo.store import (
    STORE_FORMAT,
    StoreError,
    StoreLock,
    force_key,
    open_store,
    partitions,
)
from geo.store_ingest import PAUSE_ENV, ingest
from geo.store_query import load_from_store, store_incidents, store_rejects
from tests.areas import EASTLEIGH

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
HAMPSHIRE_ZIP = Path(
    "/work/shared/data/police_uk/hampshire/hampshire-street-2021-03-to-2022-05.zip"
)
HEADER = ",".join(POLICE_UK_COLUMNS)
FORCE = "Hampshire Constabulary"
EASTLEIGH_CSP = "E22000111"


def row(
    month: str = "2021-06",
    lon: str = "-1.372801",
    lat: str = "50.988212",
    lsoa: str = "E01022705",
    ctype: str = "Anti-social behaviour",
    force: str = FORCE,
) -> str:
    return (
        f",{month},{force},{force},{lon},{lat},On or near Petrol Station,{lsoa},"
        f"Eastleigh 001A,{ctype},,"
    )


def write(path: Path, rows: list[str], mtime: float | None = None) -> Path:
    path.write_text(HEADER + "\r\n" + "\r\n".join(rows) + "\r\n", encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def three(tmp_path: Path) -> Path:
    """Three rows, the second with an impossible month."""
    return write(
        tmp_path / "2021-06-hampshire-street.csv",
        [row(), row(month="2021-13"), row(ctype="Burglary")],
        mtime=1_600_000_000,
    )


def test_three_rows_one_rejected(tmp_path: Path, three: Path) -> None:
    store = tmp_path / "store"
    r = ingest([three], store)
    assert (r.rows_read, r.rows_in, r.accepted, r.rejected, r.added) == (3, 3, 2, 1, 2)
    assert r.reconciles() and r.partitions_written == 1 and not r.duplicate_force_months
    rej = store_rejects(store)
    assert len(rej) == 1
    got = rej.iloc[0]
    assert got["source_file"] == str(three) and got["row"] == 3
    assert got["reason"] == (
        "Month: '2021-13' is not a month in YYYY-MM form (e.g. 2017-02); "
        "fix the value or drop the row"
    )
    assert got["raw"] == row(month="2021-13")
    # The rejected row stays with its file's force-month.
    assert got["month"] == "2021-06" and got["force_key"] == "hampshire-constabulary"
    p = partitions(store)
    assert p[["month", "force_key", "rows", "accepted", "rejected"]].values.tolist() == [
        ["2021-06", "hampshire-constabulary", 3, 2, 1]
    ]
    assert (store / "STORE_FORMAT.json").exists()


def test_second_identical_run_adds_nothing(tmp_path: Path, three: Path) -> None:
    store = tmp_path / "store"
    ingest([three], store)
    before = (
        store / "data" / "month=2021-06" / "force_key=hampshire-constabulary" / "part.parquet"
    ).read_bytes()
    r = ingest([three], store)
    assert (r.added, r.rows_in, r.partitions_written) == (0, 0, 0)
    assert r.rows_read == 3 and r.duplicate_rows == 3 and r.reconciles()
    assert len(r.duplicate_force_months) == 1
    after = (
        store / "data" / "month=2021-06" / "force_key=hampshire-constabulary" / "part.parquet"
    ).read_bytes()
    assert before == after


def test_duplicate_force_month_newer_download_wins(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    old = write(
        tmp_path / "a" / "2021-06-hampshire-street.csv", [row(), row()], mtime=1_600_000_000
    )
    new = write(tmp_path / "b.csv", [row(), row(), row(ctype="Drugs")], mtime=1_700_000_000)
    store = tmp_path / "store"
    # Both in one run: the newer is taken whatever the order given.
    r = ingest([new, old], store)
    assert r.accepted == 3 and r.added == 3
    [d] = r.duplicate_force_months
    assert d["source_file"] == str(old) and d["kept_from"] == str(new) and d["rows"] == 2
    assert d["why"] == "an older download"
    # The older given again later is not taken; a newer one later replaces.
    store2 = tmp_path / "store2"
    ingest([old], store2)
    r2 = ingest([new], store2)
    assert r2.added == 0 and r2.replaced[0]["old_source"] == str(old)
    assert partitions(store2)["rows"].tolist() == [3]
    r3 = ingest([old], store2)
    assert r3.duplicate_force_months[0]["why"] == "older than the copy in the store"
    assert partitions(store2)["source_file"].tolist() == [str(new)]


def test_batch_with_a_force_month_kept_from_the_store(tmp_path: Path) -> None:
    """One batch: a force-month the store keeps (its copy is newer) beside one it takes."""
    store = tmp_path / "store"
    ingest([write(tmp_path / "new.csv", [row()] * 3, mtime=1_700_000_000)], store)
    old = write(tmp_path / "old.csv", [row()] * 2, mtime=1_600_000_000)
    july = write(tmp_path / "july.csv", [row(month="2021-07")] * 4, mtime=1_600_000_000)
    r = ingest([old, july], store)
    assert (r.rows_read, r.rows_in, r.accepted, r.added) == (6, 4, 4, 4)
    [d] = r.duplicate_force_months
    assert d["source_file"] == str(old) and d["why"] == "older than the copy in the store"
    parts = partitions(store)
    assert parts["month"].tolist() == ["2021-06", "2021-07"]
    assert parts["rows"].tolist() == [3, 4]


def test_tie_keeps_the_copy_given_first(tmp_path: Path) -> None:
    a = write(tmp_path / "a.csv", [row()], mtime=1_600_000_000)
    b = write(tmp_path / "b.csv", [row(), row()], mtime=1_600_000_000)
    r = ingest([a, b], tmp_path / "s")
    assert r.accepted == 1 and r.duplicate_force_months[0]["source_file"] == str(b)


def test_identical_rows_are_kept(tmp_path: Path) -> None:
    f = write(tmp_path / "x.csv", [row()] * 4)
    r = ingest([f], tmp_path / "s")
    assert r.accepted == 4


def test_reader_equivalence_on_damaged_file(tmp_path: Path) -> None:
    """The store and the row-by-row reader give the same reasons on the same lines."""
    for name in ("police_uk_bad_rows.csv", "police_uk_cp1252.csv"):
        src = DATA / name
        store = tmp_path / name
        r = ingest([src], store)
        parsed = parse_police_uk(decode(read_limited(src), str(src))).rows
        reason = parsed["reason"].to_numpy(dtype=object).copy()
        unplaced = (
            (reason == "")
            & parsed["no_location"].to_numpy()
            & (parsed["lsoa_code"].to_numpy(dtype=object) == "")
        )
        reason[unplaced] = (
            "Longitude/Latitude/LSOA code: all empty, so the row cannot be "
            "placed in any area (police.uk 'No location' row)"
        )
        expected = dict(zip(parsed["row"].tolist(), reason.tolist(), strict=True))
        got_rej = store_rejects(store)
        got = dict.fromkeys(expected, "")
        got.update(dict(zip(got_rej["row"].tolist(), got_rej["reason"].tolist(), strict=True)))
        assert got == expected, name
        assert r.rows_in == len(parsed) and r.rejected == int((reason != "").sum())
        # And against load_incidents: its rejected rows are the store's (no row here is
        # far from its LSOA), its accepted and outside rows are the store's accepted.
        li = load_incidents([src], EASTLEIGH)
        assert li.rows_in == r.rows_in
        assert sorted(li.rejects["row"].tolist()) == sorted(got_rej["row"].tolist())
        assert li.accepted + li.outside_area == r.accepted
        assert set(li.rejects["raw"]) == set(got_rej["raw"])


def _two_month_zip(tmp_path: Path) -> Path:
    """Two Hampshire months from the shared archive (or skip)."""
    if not HAMPSHIRE_ZIP.exists():
        pytest.skip("shared Hampshire archive not present")
    out = tmp_path / "two.zip"
    with (
        zipfile.ZipFile(HAMPSHIRE_ZIP) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for info in zin.infolist():
            if info.filename.startswith(("2021-04/", "2022-02/")):
                zout.writestr(info, zin.read(info))
    return out


def test_area_out_matches_reader(tmp_path: Path) -> None:
    z = _two_month_zip(tmp_path)
    store = tmp_path / "store"
    ingest([z], store)
    got = store_incidents(store, EASTLEIGH.lsoa_codes, lsoas=EASTLEIGH.lsoas)
    ref = load_incidents([z], EASTLEIGH)
    c1 = got.groupby(["month", "crime_type"]).size()
    c2 = ref.incidents.groupby(["month", "crime_type"]).size()
    pd.testing.assert_series_equal(c1, c2)
    assert c1.sum() == 877 + 831  # the Eastleigh rows of 2021-04 and 2022-02
    assert got.crs == ref.incidents.crs
    for col in got.columns:
        if col != "geometry":
            assert str(got[col].dtype) == str(ref.incidents[col].dtype), col
    m = ref.incidents.merge(got, on=["source_file", "row"], suffixes=("", "_s"))
    assert len(m) == len(got)
    assert np.allclose(m["x"], m["x_s"], equal_nan=True)
    # Through finish_incidents: wards joined, the same account as the reader's.
    lr = load_from_store(store, EASTLEIGH, month_from="2022-02", types=["Anti-social behaviour"])
    ref_asb = ref.incidents[
        (ref.incidents["month"] == "2022-02")
        & (ref.incidents["crime_type"] == "Anti-social behaviour")
    ]
    assert lr.accepted == len(ref_asb) == 109
    assert lr.incidents["ward_code"].tolist() == ref_asb["ward_code"].tolist()


def test_archive_with_other_files(tmp_path: Path) -> None:
    z = tmp_path / "download.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("2021-06/2021-06-hampshire-street.csv", HEADER + "\r\n" + row() + "\r\n")
        zf.writestr("2021-06/2021-06-hampshire-outcomes.csv", "Crime ID,Month\r\nx,2021-06\r\n")
        zf.writestr("README.txt", "hello")
        zf.writestr("2021-06/2021-06-surrey-street.csv", b"\x89PNG\r\n\x1a\n\x00\x00")
        zf.writestr("2021-06/2021-06-kent-street.csv", "Name,Value\r\na,1\r\n")
    store = tmp_path / "s"
    r = ingest([z], store)
    assert r.accepted == 1
    assert {n.split("!")[1] for n, _ in r.skipped} == {
        "2021-06/2021-06-hampshire-outcomes.csv",
        "README.txt",
    }
    assert len(r.problems) == 2
    assert "download.zip!2021-06/2021-06-surrey-street.csv: this is a PNG image" in r.problems[0]
    assert (
        "download.zip!2021-06/2021-06-kent-street.csv: not a police.uk street file"
        in (r.problems[1])
    )


def test_force_key() -> None:
    assert force_key("Hampshire Constabulary") == "hampshire-constabulary"
    assert force_key("  ") == "unknown"


def test_newer_format_refused(tmp_path: Path, three: Path) -> None:
    store = tmp_path / "s"
    ingest([three], store)
    (store / "STORE_FORMAT.json").write_text(json.dumps({"format": STORE_FORMAT + 1}))
    with pytest.raises(StoreError, match="written by a newer version of hotspots"):
        ingest([three], store)
    with pytest.raises(StoreError, match="newer version"):
        store_incidents(store, ["E01022705"])
    assert len(partitions(store)) == 1


def test_not_a_store_refused(tmp_path: Path, three: Path) -> None:
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "notes.txt").write_text("x")
    with pytest.raises(StoreError, match="not a hotspots store"):
        ingest([three], tmp_path / "s")
    with pytest.raises(StoreError, match="no store here"):
        open_store(tmp_path / "none")


def test_lock_refuses_second_ingest(tmp_path: Path, three: Path) -> None:
    store = open_store(tmp_path / "s", create=True)
    with StoreLock(store), pytest.raises(StoreError, match="another ingest is writing"):
        ingest([three], store)
    assert ingest([three], store).accepted == 2  # free again


def test_damaged_partition_named_and_repaired(tmp_path: Path, three: Path) -> None:
    store = tmp_path / "s"
    ingest([three], store)
    other = write(tmp_path / "o.csv", [row(month="2021-07")])
    ingest([other], store)
    part = store / "data" / "month=2021-06" / "force_key=hampshire-constabulary" / "part.parquet"
    part.write_bytes(part.read_bytes()[:100])
    with pytest.raises(StoreError, match=r"part\.parquet: damaged partition .* ingest 2021-06"):
        store_incidents(store, ["E01022705"])
    p = partitions(store)
    assert p.loc[p["month"] == "2021-06", "damaged"].iloc[0] != ""
    assert p.loc[p["month"] == "2021-07", "accepted"].iloc[0] == 1
    # Ingesting the source again rewrites the damaged partition; nothing else changes.
    r = ingest([three], store)
    assert r.partitions_written == 1
    assert len(store_incidents(store, ["E01022705"])) == 3


KILL_CHILD = """
import sys
from geo.store_ingest import ingest
ingest(sys.argv[2:], sys.argv[1], progress=False)
"""


def test_kill_mid_partition_then_rerun(tmp_path: Path) -> None:
    files = [write(tmp_path / f"f{m}.csv", [row(month=f"2021-0{m}")] * m) for m in (1, 2, 3)]
    store = tmp_path / "s"
    marker = tmp_path / "paused"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        PAUSE_ENV: "2:60",
        f"{PAUSE_ENV}_MARKER": str(marker),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", KILL_CHILD, str(store), *map(str, files)], env=env, cwd=ROOT
    )
    deadline = time.time() + 60
    while not marker.exists() and time.time() < deadline and child.poll() is None:
        time.sleep(0.05)
    assert marker.exists(), "the child did not reach the pause"
    # Paused before moving its second partition into place: kill it there.
    child.send_signal(signal.SIGKILL)
    child.wait()
    p = partitions(store)
    assert p["month"].tolist() == ["2021-01"] and (p["damaged"] == "").all()
    assert not list((store / "data").rglob("*.tmp"))
    r = ingest(files, store)
    assert r.added == 5 and r.partitions_written == 2
    assert partitions(store)["rows"].tolist() == [1, 2, 3]


def test_cli_ingest_json_and_lock_line(tmp_path: Path, three: Path, capsys) -> None:
    from cli import main

    store = tmp_path / "s"
    assert main(["ingest", str(three), "--store", str(store), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("rows_in", "accepted", "rejected", "duplicate_force_months", "added"):
        assert key in out
    assert (out["rows_in"], out["accepted"], out["rejected"], out["added"]) == (3, 2, 1, 2)
    with StoreLock(store):
        assert main(["ingest", str(three), "--store", str(store)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "another ingest is writing to this store" in err[0]


def test_national_rates_by_hand(tmp_path: Path) -> None:
    from analysis.national import national_rates

    # The third row has no LSOA code: it is placed by its point (in Eastleigh 001A).
    f = write(tmp_path / "h.csv", [row(), row(), row(ctype="Drugs", lsoa="")])
    # British Transport Police: one row in Eastleigh, one in the City of London, whose own
    # force's file is not in the store (that row is counted nowhere, and said so).
    btp = write(
        tmp_path / "btp.csv",
        [
            row(force="British Transport Police"),
            row(force="British Transport Police", lon="-0.0931", lat="51.5154", lsoa="E01000001"),
        ],
    )
    store = tmp_path / "s"
    r = ingest([f, btp], store)
    assert r.accepted == 5
    t = national_rates(store, "district")
    assert (t.attrs["uncounted"], t.attrs["unplaced"]) == (1, 0)
    assert t["count"].sum() + t.attrs["uncounted"] + t.attrs["unplaced"] == r.accepted
    t = t.set_index("code")
    e = t.loc["E07000086"]
    assert e["count"] == 4 and e["months"] == 1 and e["population"] == 136_435
    assert e["rate_per_1000_year"] == pytest.approx(4 / 136_435 * 1000 * 12)
    assert e["ci_low"] < e["rate_per_1000_year"] < e["ci_high"]
    # Only Hampshire's file is in the store: its 14 districts have a month that counts
    # (1,998,091 residents); the rest have no data, not a rate of zero.
    counted = t[t["vs_national"] != "no data"]
    assert len(counted) == 14 and counted["population"].sum() == 1_998_091
    assert e["national_rate"] == pytest.approx(4 / 1_998_091 * 1000 * 12)
    assert e["vs_national"] == "above"
    assert len(t) == 318
    csp = national_rates(store, "csp").set_index("code")
    assert csp.loc[EASTLEIGH_CSP, "count"] == 4
    assert csp.loc[EASTLEIGH_CSP, "population"] == 136_435


def test_blanks_at_field_edges_are_stripped_as_the_reader_does(tmp_path: Path) -> None:
    # A tab after the LSOA code, a space before the type, a form feed as the whole last
    # field: each file is checked for such blanks, and fields are stripped where any is.
    blank = write(
        tmp_path / "blank.csv",
        [row(lsoa="E01022705\t"), row(ctype=" Burglary"), row() + "\x0c"],
    )
    plain = write(tmp_path / "plain.csv", [row(month="2021-07")])
    store = tmp_path / "s"
    r = ingest([blank, plain], store)
    assert (r.rows_in, r.accepted) == (4, 4)
    got = store_incidents(store, ["E01022705"])
    assert sorted(got["crime_type"]) == ["Anti-social behaviour"] * 3 + ["Burglary"]
    assert set(got["lsoa_code"]) == {"E01022705"} and set(got["context"]) == {""}
    li = load_incidents([blank], EASTLEIGH)
    assert sorted(li.incidents["crime_type"]) == sorted(
        got.loc[got["month"] == "2021-06", "crime_type"]
    )
