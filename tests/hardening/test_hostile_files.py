"""Large and hostile files: size, line and row limits, archive limits, zip bombs and
member names.

The readers do not stream a CSV row by row: each file is read whole, so a file too
large for memory is **refused, with the limit in the message**, before it is parsed:

* a file over :data:`geo.sources.MAX_FILE_BYTES` (512 MiB) is refused from its size on
  disk, without reading a byte of it;
* files and archive members are read in 1 MiB chunks and refused as soon as they pass
  :data:`geo.sources.MAX_FILE_LINES` (1,000,000 lines) or ``MAX_FILE_BYTES``; a binary
  file after its first 64 KiB;
* one load stops once it has read :data:`geo.io.MAX_LOAD_ROWS` (4,000,000 rows);
* an archive whose street files declare more than :data:`geo.sources.MAX_ARCHIVE_BYTES`
  (2 GiB) uncompressed is refused from its directory, before anything is inflated; a
  member that inflates beyond its declared size is refused;
* archives are never extracted: members are read into memory, so a member's name
  (``../evil``, ``/tmp/evil``) cannot write anywhere.

Memory grows with rows more than bytes. Peak RSS growth (VmHWM) of ``load_incidents`` in a
fresh process after a one-row warm-up, on files built from the five shipped months
repeated with relabelled months (not committed):

=============================================  =========  ===========  =======
file                                           rows       peak growth  time
=============================================  =========  ===========  =======
100 MiB of real rows                             477,893      813 MiB    5.9 s
205 MiB of real rows (just under the line cap)   979,081    1,632 MiB   12.8 s
12 MiB of 12-field empty rows, all rejected      999,990    1,186 MiB    6.0 s
=============================================  =========  ===========  =======

So 512 MiB of real rows would need about 4 GB, and 512 MiB of short rows (40 million
of them) tens of GB. The line limit bounds one file at about 1.7 GB, at ten times any
police.uk force-month, and ``MAX_LOAD_ROWS`` one load at about 7 GB: sane on a 24 GB
machine for the command line. In the app, the 200 MB upload limit keeps one uploaded CSV
under about 1.6 GB; an uploaded archive is bounded by ``MAX_LOAD_ROWS``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import pytest

import geo.io
import geo.sources
from geo.csp_log import ColumnMapping, read_csp_log
from geo.errors import InputError
from geo.io import load_incidents
from tests.areas import EASTLEIGH
from tests.conftest import POLICE_HEADER, police_line

ROOT = Path(__file__).resolve().parents[2]


def _police(n: int, month: str = "2017-02") -> bytes:
    """A police.uk file of ``n`` real Eastleigh rows."""
    return ("\n".join([POLICE_HEADER] + [police_line(Month=month)] * n) + "\n").encode()


def _traced_peak(fn) -> tuple[object, float]:
    """Run ``fn``; return what it returned (or raised) and the peak traced memory in MiB."""
    tracemalloc.start()
    try:
        try:
            out = fn()
        except InputError as exc:
            out = exc
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    return out, peak


# --- single files ----------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_with_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(geo.sources, "MAX_FILE_BYTES", 4096)
    path = tmp_path / "2017-02-hampshire-street.csv"
    path.write_bytes(_police(60))
    assert path.stat().st_size > 4096
    with pytest.raises(InputError, match=r"street\.csv: .* is larger than the 4 KiB limit"):
        load_incidents([path], EASTLEIGH)
    with pytest.raises(InputError, match=r"is larger than the 4 KiB limit"):
        read_csp_log(path, ColumnMapping(date="Month", type="Crime type"), EASTLEIGH)


def test_a_file_under_the_lowered_limit_still_reads(tmp_path, monkeypatch):
    monkeypatch.setattr(geo.sources, "MAX_FILE_BYTES", 64 * 1024)
    path = tmp_path / "2017-02-hampshire-street.csv"
    path.write_bytes(_police(60))
    assert load_incidents([path], EASTLEIGH).accepted == 60


def test_a_file_too_large_for_memory_is_refused_without_being_read(tmp_path):
    """The real limit: a 512 MiB + 1 byte file (sparse: no disk used) is refused from its size."""
    path = tmp_path / "huge-street.csv"
    with path.open("wb") as fh:
        fh.truncate(geo.sources.MAX_FILE_BYTES + 1)
    out, peak = _traced_peak(lambda: load_incidents([path], EASTLEIGH))
    assert isinstance(out, InputError)
    assert re.search(r"huge-street\.csv: 512 MiB is larger than the 512 MiB limit", str(out))
    assert peak < 16, f"{peak:.1f} MiB traced: the file was read"


def test_a_file_over_the_line_limit_is_refused_with_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(geo.sources, "MAX_FILE_LINES", 100)
    path = tmp_path / "2017-02-hampshire-street.csv"
    path.write_bytes(_police(150))
    with pytest.raises(InputError, match=r"151 lines is more than the 100 a single file may have"):
        load_incidents([path], EASTLEIGH)
    path.write_bytes(_police(99))
    assert load_incidents([path], EASTLEIGH).rows_in == 99


def test_lines_are_counted_whatever_the_line_ends(monkeypatch):
    monkeypatch.setattr(geo.sources, "MAX_FILE_LINES", 10)
    for end in (b"\n", b"\r\n", b"\r"):
        with pytest.raises(InputError, match=r"more than the 10"):
            geo.sources.decode(b"a,b" + end * 12, "x.csv")


def test_one_load_stops_at_the_row_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(geo.io, "MAX_LOAD_ROWS", 50)
    for month in ("2017-02", "2017-03"):
        (tmp_path / f"{month}-hampshire-street.csv").write_bytes(_police(30, month))
    with pytest.raises(InputError, match=r"more than 50 rows, more than one load may hold"):
        load_incidents([tmp_path], EASTLEIGH)
    monkeypatch.setattr(geo.io, "MAX_LOAD_ROWS", 60)
    assert load_incidents([tmp_path], EASTLEIGH).rows_in == 60


def test_a_device_named_like_a_csv_or_zip_is_refused(tmp_path):
    """Reading /dev/zero never ends: before the fix it filled memory (the test would OOM)."""
    for name in ("zero-street.csv", "zero.zip"):
        link = tmp_path / name
        link.symlink_to("/dev/zero")
        with pytest.raises(InputError, match=r"a device, pipe or socket, not a file"):
            load_incidents([link], EASTLEIGH)
    fifo = tmp_path / "pipe-street.csv"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"pipe-street\.csv: this is a device, pipe or socket"):
        load_incidents([fifo], EASTLEIGH)


def test_a_missing_or_folder_path_for_a_log_is_an_input_error(tmp_path):
    mapping = ColumnMapping(date="Reported", type="Category")
    with pytest.raises(InputError, match=r"nope\.csv: cannot be read \(No such file"):
        read_csp_log(tmp_path / "nope.csv", mapping, EASTLEIGH)
    with pytest.raises(InputError, match=r"this is a folder, not a file"):
        read_csp_log(tmp_path, mapping, EASTLEIGH)


# --- archives --------------------------------------------------------------------------------


def _zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_an_archive_declaring_more_than_the_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(geo.sources, "MAX_ARCHIVE_BYTES", 8192)
    z = _zip(
        tmp_path / "download.zip",
        {
            "2017-02/2017-02-hampshire-street.csv": _police(40, "2017-02"),
            "2017-03/2017-03-hampshire-street.csv": _police(40, "2017-03"),
        },
    )
    with zipfile.ZipFile(z) as zf:
        declared = sum(i.file_size for i in zf.infolist())
    assert declared > 8192 > z.stat().st_size  # over the limit inflated, not compressed
    with pytest.raises(
        InputError,
        match=r"download\.zip: its street files would expand to .* "
        r"more than the 8 KiB limit for an archive",
    ):
        load_incidents([z], EASTLEIGH)


def test_an_archive_member_over_the_file_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(geo.sources, "MAX_FILE_BYTES", 4096)
    z = _zip(tmp_path / "download.zip", {"2017-02/2017-02-hampshire-street.csv": _police(60)})
    with pytest.raises(
        InputError,
        match=r"download\.zip!2017-02/2017-02-hampshire-street\.csv: "
        r".* is larger than the 4 KiB limit",
    ):
        load_incidents([z], EASTLEIGH)


def test_a_member_that_inflates_beyond_its_declared_size_is_refused(tmp_path):
    """A directory that lies (declares 100 bytes for a 6 KB member) cannot smuggle data in."""
    z = _zip(tmp_path / "liar.zip", {"2017-02/2017-02-hampshire-street.csv": _police(30)})
    raw = bytearray(z.read_bytes())
    local, central = raw.find(b"PK\x03\x04"), raw.find(b"PK\x01\x02")
    raw[local + 22 : local + 26] = (100).to_bytes(4, "little")  # uncompressed size
    raw[central + 24 : central + 28] = (100).to_bytes(4, "little")
    z.write_bytes(bytes(raw))
    with pytest.raises(
        InputError,
        match=r"liar\.zip!2017-02/2017-02-hampshire-street\.csv: "
        r"cannot be read from the archive \(Bad CRC-32",
    ):
        load_incidents([z], EASTLEIGH)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00" * (50 * 2**20), r"binary file \(it contains NUL bytes\)"),
        (POLICE_HEADER.encode() + b"\n" * (50 * 2**20), r"lines is more than the 1,000,000"),
    ],
    ids=["zeros", "line-breaks"],
)
def test_a_zip_bomb_is_refused_with_bounded_memory(tmp_path, content, message):
    """50 MB that compresses to about 50 KB is refused after at most ~1 MiB is inflated.

    Bound: peak traced Python memory under 8 MiB (before the chunked reading, the whole
    50 MB member was inflated first: over 50 MiB).
    """
    z = _zip(tmp_path / "bomb.zip", {"2017-02/2017-02-hampshire-street.csv": content})
    assert z.stat().st_size < 100_000
    del content
    out, peak = _traced_peak(lambda: load_incidents([z], EASTLEIGH))
    assert isinstance(out, InputError)
    assert re.search(message, str(out)), str(out)
    assert peak < 8, f"peak {peak:.1f} MiB"


def test_member_names_never_write_anything(tmp_path, monkeypatch):
    """Archives are read in memory, never extracted: names with '..' or absolute paths are labels."""
    token = f"evil{os.getpid()}"
    work = tmp_path / "work"
    work.mkdir()
    names = [
        f"../{token}-a-street.csv",
        f"../../{token}-b-street.csv",
        f"/tmp/{token}-c-street.csv",
        f"..\\..\\{token}-d-street.csv",
        f"C:/{token}-e-street.csv",
        f"2017-02/../../../{token}-f-street.csv",
    ]
    months = ["2017-02", "2017-03", "2017-04", "2017-05", "2017-06", "2017-07"]
    z = _zip(work / "download.zip", {n: _police(3, m) for n, m in zip(names, months, strict=True)})
    before_work = sorted(work.rglob("*"))
    before_parent = sorted(tmp_path.rglob("*"))
    monkeypatch.chdir(work)
    result = load_incidents([z], EASTLEIGH)
    # Every member was read (in memory), under its archive name ...
    assert result.accepted == 18
    assert sorted(set(result.incidents["source_file"])) == sorted(
        f"download.zip!{n}" for n in names
    )
    # ... and nothing was written anywhere.
    assert sorted(work.rglob("*")) == before_work
    assert sorted(tmp_path.rglob("*")) == before_parent
    assert not list(Path("/tmp").glob(f"{token}*"))
    assert not list(Path("/").glob(f"{token}*"))
    assert not list(tmp_path.parent.glob(f"{token}*"))


def test_no_code_extracts_archives():
    """The proof that names cannot write: nothing in the product calls extract/extractall.

    pandas' ``Series.str.extract`` (a regular expression on text) is not an archive call.
    """
    hits = []
    for folder in ("geo", "analysis", "packs", "render", "app_views"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            hits += [
                f"{path.name}: {m}" for m in re.findall(r"(?<!\.str)\.extract(?:all)?\(", text)
            ]
    app = ROOT / "app.py"
    if app.exists():
        hits += re.findall(r"\.extract(?:all)?\(", app.read_text(encoding="utf-8"))
    assert hits == []


# --- damaged boundary files --------------------------------------------------------------

_DAMAGED_GPKG = r"""
import random, sys
from pathlib import Path
import fiona
from geo.boundaries import read_boundary_file
from geo.errors import InputError
path = Path(sys.argv[1])
schema = {"geometry": "Polygon", "properties": {"code": "str"}}
with fiona.open(path, "w", driver="GPKG", schema=schema, crs="EPSG:27700") as dst:
    for i in range(30):
        x = 440000 + i * 100
        ring = [[x, 110000], [x + 50, 110000], [x + 50, 110050], [x, 110000]]
        dst.write(fiona.Feature.from_dict({"type": "Feature", "properties": {"code": f"A{i}"},
                                           "geometry": {"type": "Polygon", "coordinates": [ring]}}))
data = bytearray(path.read_bytes())
rng = random.Random(1)
for _ in range(rng.randint(1, 20)):  # a few damaged bytes, some in the SQLite schema
    i = rng.randrange(len(data))
    data[i] = rng.randrange(256)
path.write_bytes(bytes(data))
try:
    read_boundary_file(path)
    print("read")
except InputError as exc:
    print("InputError", exc)
"""


def test_a_damaged_geopackage_is_refused_without_crashing(tmp_path):
    """fiona 1.10 alone ends the process with a segmentation fault on this file (its GDAL
    error message is not UTF-8); run in a child so a crash fails the test, not the run."""
    done = subprocess.run(
        [sys.executable, "-c", _DAMAGED_GPKG, str(tmp_path / "areas.gpkg")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-500:]}"
    assert re.match(r"InputError \S*areas\.gpkg: not a boundary file GDAL can read", done.stdout)


# --- memory per row, measured in a fresh process ---------------------------------------------

# Peak RSS from /proc (VmHWM): ru_maxrss would carry the parent's peak (pytest's) across
# fork and exec, hiding the child's own growth.
_MEASURE = r"""
import re, sys
from pathlib import Path
from geo.io import load_incidents
from tests.areas import EASTLEIGH
def hwm():
    return int(re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text())[1]) * 1024
load_incidents([sys.argv[2]], EASTLEIGH)  # one row: imports, boundary layers and caches loaded first
base = hwm()
r = load_incidents([sys.argv[1]], EASTLEIGH)
print(r.rows_in, hwm() - base)
"""


def test_memory_of_a_real_file_stays_under_12_times_its_size(tmp_path):
    """14 MB of real rows (the five shipped months twice, relabelled).

    Bound: peak RSS growth under 12 times the file's size plus 64 MiB (measured: 11.5
    times at 14 MB, 8.1 at 100 MiB, 8.0 at 205 MiB; fixed costs weigh more on small files).
    """
    shipped = sorted((ROOT / "data" / "police_uk" / "eastleigh_area").glob("*.csv"))
    header = shipped[0].read_text(encoding="utf-8").splitlines()[0]
    rows = [r for p in shipped for r in p.read_text(encoding="utf-8").splitlines()[1:]]
    month = re.compile(r"^([^,]*),(\d{4}-\d{2}),")
    lines = [header]
    for k in range(2):  # the five months twice, as ten relabelled months
        for i, r in enumerate(rows):
            lines.append(month.sub(rf"\1,20{10 + k}-{1 + i * 5 // len(rows):02d},", r, count=1))
    path = tmp_path / "big-street.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    one = tmp_path / "one-street.csv"
    one.write_bytes(_police(1))
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), str(one)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.split()
    n_rows, growth = int(out[0]), int(out[1])
    size = path.stat().st_size
    assert n_rows == len(lines) - 1
    assert growth < 12 * size + 64 * 2**20, f"{growth / 2**20:.0f} MiB for {size / 2**20:.0f} MiB"
