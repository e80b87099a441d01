"""Property-based tests (hypothesis) of every reader: police.uk files, CSP logs, boundary
files and police.uk archives, fed random bytes, CSV shapes, encodings, coordinates and
months.

Properties, for every input:

* the only exception is :class:`geo.errors.InputError` (a traceback fails the test);
* when a reader returns, ``rows_in == accepted + rejected + outside_area`` and
  ``rows_in`` is the number of non-blank records written (no row lost);
* every rejected row has a reason naming a column of the file or its field count;
* no accepted row has an invalid month or coordinates;
* for police.uk files, each row ends where an independent oracle says it should
  (accepted, rejected or outside the study area);
* archive member names (``../evil``, absolute paths) never write a file anywhere.

The runs are reproducible (``derandomize=True``, no example database). Set
``FUZZ_SCALE=10`` in the environment for ten times the examples. A table of inputs
tried and outcomes per reader is printed at the end of the module.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import math
import os
import re
import tempfile
import warnings
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from shapely.geometry import Point

from geo.boundaries import load_layer, read_boundary_file
from geo.crs import GB_BOUNDS_BNG, GB_BOUNDS_LONLAT
from geo.csp_log import ColumnMapping, read_csp_log
from geo.errors import InputError
from geo.io import MAX_LSOA_GAP_M, LoadResult, load_incidents
from geo.paths import GPKG
from geo.police_uk import REQUIRED
from geo.schema import POLICE_UK_COLUMNS
from geo.sources import SourceText, read_records
from geo.validate import check_coordinates
from tests.areas import EASTLEIGH

SCALE = max(1, int(os.environ.get("FUZZ_SCALE", "1")))


def fuzz(n: int) -> settings:
    """Reproducible settings with ``n`` examples (times ``FUZZ_SCALE``).

    ``FUZZ_NO_SHRINK=1`` skips shrinking (a quicker first look at a failure).
    """
    phases = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target]
    return settings(
        phases=phases if os.environ.get("FUZZ_NO_SHRINK") else [*phases, Phase.shrink],
        max_examples=n * SCALE,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )


# --- the tally printed at the end ------------------------------------------------------------

STATS: dict[str, Counter] = defaultdict(Counter)
"""Per reader: inputs, returned, refused (InputError), rows_read, tracebacks, rows_lost,
recon_failures."""


@pytest.fixture(scope="module", autouse=True)
def _print_table(request):
    yield
    if not STATS:
        return
    cols = [
        "inputs",
        "returned",
        "refused",
        "rows_read",
        "tracebacks",
        "rows_lost",
        "recon_failures",
    ]
    lines = ["", "fuzzing: inputs tried per reader and outcomes"]
    lines.append(f"{'reader':<15}" + "".join(f"{c:>16}" for c in cols))
    total = Counter()
    for reader, c in sorted(STATS.items()):
        total.update({k: c[k] for k in cols})
        lines.append(f"{reader:<15}" + "".join(f"{c[k]:>16,}" for k in cols))
    lines.append(f"{'total':<15}" + "".join(f"{total[k]:>16,}" for k in cols))
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print("\n".join(lines), flush=True)


def attempt(reader: str, fn):
    """Run one reader call, tallying it: its result, or None when it raised InputError.

    Any other exception is tallied as a traceback and re-raised, failing the test.
    """
    STATS[reader]["inputs"] += 1
    try:
        result = fn()
    except InputError as exc:
        STATS[reader]["refused"] += 1
        assert str(exc).strip(), "an InputError must say what is wrong"
        return None
    except Exception:
        STATS[reader]["tracebacks"] += 1
        raise
    STATS[reader]["returned"] += 1
    return result


def check_account(reader: str, result: LoadResult, expected_rows: int | None) -> None:
    """Reconciliation, rows lost, and the validity of every accepted row."""
    STATS[reader]["rows_read"] += result.rows_in
    if not result.reconciles():
        STATS[reader]["recon_failures"] += 1
    if expected_rows is not None and result.rows_in != expected_rows:
        STATS[reader]["rows_lost"] += abs(expected_rows - result.rows_in)
    assert result.reconciles(), result.summary()
    if expected_rows is not None:
        assert result.rows_in == expected_rows
    assert result.rejects["reason"].map(lambda r: isinstance(r, str) and r.strip() != "").all()
    inc = result.incidents
    if len(inc):
        assert inc["month"].map(lambda m: bool(MONTH.fullmatch(m))).all(), inc["month"].tolist()
        loc = inc["has_location"].to_numpy(bool)
        x, y = inc["x"].to_numpy(float), inc["y"].to_numpy(float)
        x0, y0, x1, y1 = GB_BOUNDS_BNG
        assert np.isfinite(x[loc]).all() and np.isfinite(y[loc]).all()
        assert ((x[loc] >= x0) & (x[loc] <= x1) & (y[loc] >= y0) & (y[loc] <= y1)).all()
        assert np.isnan(x[~loc]).all() and np.isnan(y[~loc]).all()
        assert inc.crs.to_epsg() == 27700


# --- independent rules (the oracle) ----------------------------------------------------------

MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
BREAK = re.compile(r"\r\n|\r|\n")
STUDY = sorted(load_layer("lsoa_2011", GPKG)["code"])
EASTLEIGH_LONLAT = (-1.40, 50.90, -1.28, 51.00)


def number_status(s: str) -> str:
    """``empty``, ``ok``, ``bad`` or ``maybe`` (Python and pandas may disagree) for a value."""
    s = s.strip()
    if s == "":
        return "empty"
    if NUMBER.fullmatch(s):
        return "ok" if math.isfinite(float(s)) else "bad"
    try:
        value = float(s)
    except ValueError:
        return "bad"
    return "bad" if not math.isfinite(value) else "maybe"


_TO_GRID = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def in_gb(lon: float, lat: float) -> bool:
    """Inside the GB longitude/latitude box and on the National Grid once projected."""
    x0, y0, x1, y1 = GB_BOUNDS_LONLAT
    if not (x0 <= lon <= x1 and y0 <= lat <= y1):
        return False
    x, y = _TO_GRID.transform(lon, lat)
    gx0, gy0, gx1, gy1 = GB_BOUNDS_BNG
    return gx0 <= x <= gx1 and gy0 <= y <= gy1


def expected_text(data: bytes) -> str:
    """What the readers should decode: UTF-8 (without a BOM) if valid, else Windows-1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def records_with_lines(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and each non-blank record with the line it starts on (header = 1)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader)]
    out, last = [], reader.line_num
    for rec in reader:
        if rec and not (len(rec) == 1 and not rec[0].strip()):
            out.append((last + 1, rec))
        last = reader.line_num
    return header, out


def police_oracle(header: list[str], rec: list[str]) -> set[str]:
    """Where a police.uk record must end: a set of allowed outcomes."""
    if len(rec) != len(header):
        return {"rejected"}

    def get(col: str) -> str:
        return rec[header.index(col)].strip() if col in header else ""

    bad = maybe = False
    if not MONTH.fullmatch(get("Month")):
        bad = True
    lon_s, lat_s = number_status(get("Longitude")), number_status(get("Latitude"))
    no_loc = lon_s == lat_s == "empty"
    if not no_loc:
        if "empty" in (lon_s, lat_s) or "bad" in (lon_s, lat_s):
            bad = True
        elif "maybe" in (lon_s, lat_s):
            maybe = True
        elif not in_gb(float(get("Longitude")), float(get("Latitude"))):
            bad = True
    if get("Crime type") == "":
        bad = True
    code = get("LSOA code")
    if no_loc and code == "":
        bad = True
    if bad:
        return {"rejected"}
    if code in STUDY and not no_loc and not maybe:
        gap = _gap_to_lsoa_m(code, float(get("Longitude")), float(get("Latitude")))
        if abs(gap - MAX_LSOA_GAP_M) < 1:
            return {"accepted", "rejected"}
        if gap > MAX_LSOA_GAP_M:
            return {"rejected"}  # the point contradicts the LSOA code
    place = {"accepted"} if code in STUDY else {"outside"} if code else {"accepted", "outside"}
    return place | ({"rejected"} if maybe else set())


@functools.lru_cache(maxsize=1)
def _lsoa_polygons() -> dict:
    lsoas = load_layer("lsoa_2011", GPKG)
    return dict(zip(lsoas["code"], lsoas.geometry, strict=True))


def _gap_to_lsoa_m(code: str, lon: float, lat: float) -> float:
    x, y = Transformer.from_crs(4326, 27700, always_xy=True).transform(lon, lat)
    if not (np.isfinite(x) and np.isfinite(y)):
        return 0.0
    return float(_lsoa_polygons()[code].distance(Point(x, y)))


def outcome_by_line(result: LoadResult, name: str) -> dict[int, str]:
    out = {}
    for row in result.incidents.loc[result.incidents["source_file"] == name, "row"]:
        out[int(row)] = "accepted"
    for row in result.rejects.loc[result.rejects["source_file"] == name, "row"]:
        assert int(row) not in out, f"line {row} both accepted and rejected"
        out[int(row)] = "rejected"
    return out


# --- strategies: values ----------------------------------------------------------------------

TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(",\"\n\r\t =+-@'; \u2019\u00e9\u00a3<>&")),
        st.characters(blacklist_categories=("Cs", "Cc")),
    ),
    max_size=12,
)
MONTHS = st.one_of(
    st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(2010, 2026), st.integers(1, 12)),
    st.sampled_from(
        [
            "2017-13",
            "17-02",
            "",
            " ",
            "2017-2",
            "2017-00",
            "2017/02",
            "Feb 2017",
            "2017-02-01",
            " 2017-02 ",
            "\u0662\u0660\u0661\u0667-\u0660\u0662",
            "\uff12\uff10\uff11\uff17-02",
            "2017-0\u0662",
            "20170",
            "=2017-02",
            "2017-02\n",
        ]
    ),
    TEXT,
)
NUMBER_TEXT = st.sampled_from(
    [
        "",
        " ",
        "NaN",
        "nan",
        "inf",
        "-inf",
        "1e309",
        "-1e309",
        "abc",
        "1,5",
        "\uff11.\uff15",
        "1_0",
        "0x10",
        "--1",
        "1e",
        ".",
        "+",
        "50.97.1",
        "None",
        "null",
        "-",
        "1e-400",
    ]
)


def _fmt(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


COORDS = st.one_of(
    # In Eastleigh (accepted when the LSOA code allows).
    st.tuples(st.floats(-1.40, -1.28), st.floats(50.90, 51.00), st.integers(0, 8)).map(
        lambda t: (_fmt(t[0], t[2]), _fmt(t[1], t[2]))
    ),
    # Elsewhere in Great Britain, outside it, swapped, or any finite pair.
    st.sampled_from(
        [
            ("-3.0", "53.0"),
            ("10.5", "40.1"),
            ("50.97", "-1.35"),
            ("-1.35", "91"),
            ("0", "0"),
            ("-8.65", "49.85"),
            ("1.78", "60.86"),
            ("-1.3e0", "5.09e1"),
            ("", ""),
            ("", "50.97"),
            ("-1.35", ""),
            (" -1.35 ", " 50.97 "),
            ("+1.0", "51.5"),
        ]
    ),
    st.tuples(
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
    ),
    st.tuples(NUMBER_TEXT, NUMBER_TEXT),
    st.tuples(NUMBER_TEXT, st.floats(50.90, 51.00).map(str)),
    st.tuples(TEXT, TEXT),
)
LSOA_CODES = st.one_of(
    st.sampled_from(STUDY[:5] + ["E01022510", "E01023000", "W01000001", "", " E01022705 "]),
    TEXT,
)
CRIME_TYPES = st.sampled_from(["Anti-social behaviour", "Burglary", "", " ", "=cmd|' /C calc'!A0"])


@st.composite
def police_record(draw, header: list[str]) -> list[str]:
    lon, lat = draw(COORDS)
    value = {
        "Month": draw(MONTHS),
        "Longitude": lon,
        "Latitude": lat,
        "LSOA code": draw(LSOA_CODES),
        "Crime type": draw(CRIME_TYPES),
        "Falls within": draw(st.sampled_from(["Hampshire Constabulary", "", "Thames Valley"])),
    }
    rec = [value[h] if h in value else draw(TEXT) for h in header]
    shape = draw(st.sampled_from(["ok"] * 6 + ["short", "long", "one"]))
    if shape == "short" and len(rec) > 1:
        rec = rec[: draw(st.integers(1, len(rec) - 1))]
    elif shape == "long":
        rec = rec + draw(st.lists(TEXT, min_size=1, max_size=3))
    elif shape == "one":
        rec = [draw(TEXT)]
    return rec


@st.composite
def police_header(draw) -> list[str]:
    mode = draw(st.sampled_from(["full"] * 6 + ["shuffled", "odd"]))
    if mode == "full":
        return list(POLICE_UK_COLUMNS)
    cols = draw(st.permutations(POLICE_UK_COLUMNS))
    cols = cols[: draw(st.integers(len(REQUIRED), len(cols)))]
    if mode == "odd":
        # Case changes, padding, duplicates and strange extra columns.
        cols = [draw(st.sampled_from([c, c.lower(), c.upper(), f" {c} ", c])) for c in cols] + draw(
            st.lists(st.sampled_from(["Month", "Extra", "", "a,b", 'q"q', "x\ny"]), max_size=3)
        )
    return list(cols)


@st.composite
def police_csv(draw) -> tuple[bytes, str]:
    header = draw(police_header())
    recs = draw(st.lists(police_record(header), min_size=0, max_size=12))
    buf = io.StringIO()
    writer = csv.writer(
        buf,
        lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])),
        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
    )
    writer.writerow(header)
    for rec in recs:
        if draw(st.integers(0, 9)) == 0:
            buf.write(draw(st.sampled_from(["\n", " \n", "\r\n"])))  # blank lines
        writer.writerow(rec)
    text = buf.getvalue()
    if draw(st.booleans()):
        text = text.rstrip("\r\n")  # no final line break
    encoding = draw(st.sampled_from(["utf-8"] * 3 + ["utf-8-sig", "cp1252", "utf-16"]))
    if encoding == "cp1252":
        data = text.encode("cp1252", errors="replace")
    else:
        data = text.encode(encoding)
    return data, encoding


# --- police.uk reader ------------------------------------------------------------------------


def _load_one(data: bytes, name: str = "2017-02-fuzz-street.csv"):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        path.write_bytes(data)
        result = attempt("police.uk csv", lambda: load_incidents([path], EASTLEIGH))
        return result, str(path)


@fuzz(300)
@given(police_csv())
def test_police_uk_random_csv_shapes_encodings_coordinates_and_months(case):
    data, encoding = case
    result, name = _load_one(data)
    if encoding == "utf-16":
        assert result is None, "a UTF-16 file must be refused"
        return
    text = expected_text(data)
    header, recs = records_with_lines(text)
    well_formed = all(c in header for c in REQUIRED) and recs and "\x00" not in text
    if result is None:
        assert not well_formed, "a police.uk file with every column and a record was refused"
        return
    check_account("police.uk csv", result, len(recs))
    got = outcome_by_line(result, name)
    for line, rec in recs:
        allowed = police_oracle(header, rec)
        outcome = got.get(line, "outside")
        assert outcome in allowed, (line, rec, outcome, allowed)
    names = [h for h in header if h] + ["fields"]
    for reason, raw, line in result.rejects[["reason", "raw", "row"]].itertuples(index=False):
        assert any(n in reason for n in names), reason
        kept = next(csv.reader(io.StringIO(raw, newline="")))
        assert kept == dict(recs)[line], "the rejects file keeps the line as read"
    if "Location" in header:
        where = header.index("Location")
        lines = dict(recs)
        for line, loc in result.incidents[["row", "location"]].itertuples(index=False):
            assert loc == lines[line][where].strip(), "text survives decoding"


@fuzz(120)
@given(
    st.one_of(
        st.binary(max_size=600),
        st.binary(max_size=400).map(lambda b: ",".join(POLICE_UK_COLUMNS).encode() + b"\n" + b),
        st.binary(max_size=200).map(lambda b: b"\xef\xbb\xbf" + b),
    )
)
def test_police_uk_random_bytes(data):
    result, _ = _load_one(data)
    if result is not None:
        check_account("police.uk csv", result, None)


@fuzz(60)
@given(
    st.lists(st.tuples(st.floats(-8.65, 1.78), st.floats(49.85, 60.86)), min_size=1, max_size=50)
)
def test_a_point_in_the_gb_box_is_kept_only_if_it_is_on_the_national_grid(points):
    lon = pd.Series([repr(p[0]) for p in points])
    lat = pd.Series([repr(p[1]) for p in points])
    STATS["coordinates"]["inputs"] += 1
    _, _, _, reason = check_coordinates(lon, lat)
    STATS["coordinates"]["returned"] += 1
    for (x, y), why in zip(points, reason, strict=True):
        assert (why == "") == in_gb(x, y), (x, y, why)
        if why:
            assert "National Grid" in why


# --- the record splitter behind every CSV reader ---------------------------------------------


@fuzz(200)
@given(st.text(alphabet=st.sampled_from(list('ab,"\n\r \u00e9')), min_size=1, max_size=60))
def test_record_splitter_engines_agree(text):
    """pyarrow (plain files) and the csv module give the same records, or both refuse."""
    src = SourceText("x.csv", text, "utf-8")
    fast = attempt("csv records", lambda: read_records(src))
    slow = read_records(src, engine="csv") if fast is not None else None
    if fast is None:
        with pytest.raises(InputError):
            read_records(src, engine="csv")
        return
    assert fast.header == slow.header
    assert fast.frame.astype(object).values.tolist() == slow.frame.astype(object).values.tolist()
    assert fast.lines.tolist() == slow.lines.tolist()
    assert fast.widths.tolist() == slow.widths.tolist()
    _, recs = records_with_lines(text)
    assert len(fast.frame) == len(recs)
    assert fast.lines.tolist() == [line for line, _ in recs]


# --- CSP log reader --------------------------------------------------------------------------

LOG_COLUMNS = [
    "Ref",
    "Reported",
    "Category",
    "Lat",
    "Long",
    "Easting",
    "Northing",
    "Ward",
    "LSOA",
    "Street",
    "",
    "Notes",
]
DATES = st.one_of(
    st.sampled_from(
        [
            "2017-02-14 21:30",
            "14/02/2017",
            "01/03/2017 09:05",
            "2017-02-30",
            "31/02/2017",
            "",
            "yesterday",
            "0001-01-01",
            "9999-12-31",
            "10000-01-01",
            "1/1/1",
            "2017-01-01T00:00+01:00",
            "2017-01-01T00:00:00Z",
            "2017-06-01T00:00-05:00",
            "2017-02-14 25:00",
            "\u0662\u0660\u0661\u0667-02-01",
            "14.02.2017",
            "2017-W07",
            "1e10",
            "Feb 14 2017",
            "=NOW()",
            "1677-09-21",
            "2262-04-12",
        ]
    ),
    st.datetimes().map(lambda d: d.isoformat(sep=" ")),
    TEXT,
)
WARDS = st.sampled_from(
    [
        "Hamble & Netley",
        "hamble and netley",
        "Hedge End Wildern",
        "Botley",
        "E05010898",
        "",
        "Nowhere",
        "=1+1",
        "\u00e9",
    ]
)
EN = st.one_of(
    st.tuples(st.integers(440_000, 452_000), st.integers(110_000, 122_000)).map(
        lambda t: (str(t[0]), str(t[1]))
    ),
    st.sampled_from(
        [
            ("", ""),
            ("445600", ""),
            ("-5", "118400"),
            ("800000", "118400"),
            ("445600.5", "118400.25"),
            ("50.97", "-1.35"),
        ]
    ),
    st.tuples(NUMBER_TEXT, NUMBER_TEXT),
)


@st.composite
def csp_case(draw) -> tuple[bytes, ColumnMapping, list[str]]:
    header = draw(st.lists(st.sampled_from(LOG_COLUMNS), min_size=1, max_size=10, unique=True))
    header += draw(st.lists(st.sampled_from(LOG_COLUMNS), max_size=2))  # repeated names

    def pick(required: bool = False) -> str | None:
        # Mostly a column the file has; now and then one it lacks.
        if not required and draw(st.booleans()):
            return None
        return draw(st.sampled_from(header * 20 + ["Missing"]))

    mode = draw(st.sampled_from(["latlon"] * 3 + ["en"] * 2 + ["none", "half"]))
    mapping = ColumnMapping(
        date=pick(True),
        type=pick(True),
        lat=pick(True) if mode in ("latlon", "half") else None,
        lon=pick(True) if mode == "latlon" else None,
        easting=pick(True) if mode == "en" else None,
        northing=pick(True) if mode == "en" else None,
        ward=pick(),
        lsoa=pick(),
        location=pick(),
    )
    rows = []
    for _ in range(draw(st.integers(0, 10))):
        lon, lat = draw(COORDS)
        e, n = draw(EN)
        value = {
            "Reported": draw(DATES),
            "Category": draw(st.sampled_from(["Youth ASB", "", "Noise"])),
            "Lat": lat,
            "Long": lon,
            "Easting": e,
            "Northing": n,
            "Ward": draw(WARDS),
            "LSOA": draw(LSOA_CODES),
        }
        rec = [value[h] if h in value else draw(TEXT) for h in header]
        if draw(st.integers(0, 9)) == 0:
            rec = rec[:-1] if len(rec) > 1 else rec + ["extra"]
        rows.append(rec)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(header)
    writer.writerows(rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    return buf.getvalue().encode(encoding, errors="replace"), mapping, header


@fuzz(250)
@given(csp_case())
def test_csp_log_random_mappings_and_content(case):
    data, mapping, _ = case
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "log.csv"
        path.write_bytes(data)
        result = attempt("CSP log", lambda: read_csp_log(path, mapping, EASTLEIGH))
    text = expected_text(data)
    header, recs = records_with_lines(text)
    usable = (
        mapping.date
        and mapping.type
        and all(c in header for c in mapping.columns())
        and (not mapping.lat) == (not mapping.lon)
        and (not mapping.easting) == (not mapping.northing)
        and recs
    )
    if result is None:
        assert not usable, "a log whose mapping fits its header was refused"
        return
    assert usable, "a log whose mapping does not fit its header was read"
    check_account("CSP log", result, len(recs))
    mapped = [c for c in mapping.columns() if c] + ["fields", "Longitude/Latitude/LSOA code"]
    for reason in result.rejects["reason"]:
        assert any(c in reason for c in mapped), reason
    inc = result.incidents
    timed = inc["datetime"].notna().to_numpy()
    if timed.any():
        assert (inc.loc[timed, "datetime"].dt.strftime("%Y-%m") == inc.loc[timed, "month"]).all()


@fuzz(60)
@given(st.binary(max_size=400), st.sampled_from(["a", "b", ""]))
def test_csp_log_random_bytes(data, col):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "log.csv"
        path.write_bytes(data)
        result = attempt(
            "CSP log",
            lambda: read_csp_log(path, ColumnMapping(date="a", type=col or "b"), EASTLEIGH),
        )
    if result is not None:
        check_account("CSP log", result, None)


# --- boundary files --------------------------------------------------------------------------


# fiona cannot decode GDAL's message about some garbage bytes and prints (does not raise)
# the UnicodeDecodeError; the file is still refused with an InputError.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@fuzz(40)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.binary(max_size=200).map(lambda b: b"SQLite format 3\x00" + b),
        st.binary(max_size=200).map(lambda b: b'{"type": "FeatureCollection", "features": [' + b),
        st.binary(max_size=200).map(lambda b: b"\x00\x00'\n" + b),  # a Shapefile's magic number
    ),
    st.sampled_from([".geojson", ".gpkg", ".shp"]),
)
def test_boundary_garbage_bytes_are_refused(data, suffix):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"areas{suffix}"
        path.write_bytes(data)
        result = attempt("boundary file", lambda: read_boundary_file(path))
    if result is not None:  # GDAL may find an (empty-looking) dataset in some bytes
        assert len(result.areas) > 0
        assert result.areas.crs.to_epsg() == 27700


def _square(x: float, y: float, size: float) -> list:
    return [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]


BROKEN = {
    "bowtie": lambda x, y, s: {
        "type": "Polygon",
        "coordinates": [[[x, y], [x + s, y + s], [x + s, y], [x, y + s], [x, y]]],
    },
    "empty": lambda x, y, s: {"type": "Polygon", "coordinates": []},
    "null": lambda x, y, s: None,
    "spike": lambda x, y, s: {"type": "Polygon", "coordinates": [[[x, y], [x + s, y], [x, y]]]},
}


@fuzz(50)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["ok"] * 4 + list(BROKEN)),
            st.floats(440_000, 452_000),
            st.floats(110_000, 122_000),
            st.floats(10, 2_000),
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from(["geojson", "gpkg"]),
)
def test_boundary_files_with_a_few_broken_features(features, fmt):
    """Good polygons are read; each broken feature is named (skipped or repaired)."""
    feats = []
    for i, (kind, x, y, size) in enumerate(features):
        geom = (
            {"type": "Polygon", "coordinates": _square(x, y, size)}
            if kind == "ok"
            else (BROKEN[kind](x, y, size))
        )
        feats.append({"type": "Feature", "properties": {"code": f"A{i + 1}"}, "geometry": geom})
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"areas.{fmt}"
        if fmt == "geojson":
            doc = {
                "type": "FeatureCollection",
                "features": feats,
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}},
            }
            path.write_text(json.dumps(doc))
        else:
            import fiona  # noqa: PLC0415

            schema = {"geometry": "Polygon", "properties": {"code": "str"}}
            with fiona.open(path, "w", driver="GPKG", schema=schema, crs="EPSG:27700") as dst:
                for f in feats:
                    dst.write(fiona.Feature.from_dict(f))
        result = attempt("boundary file", lambda: read_boundary_file(path, code_col="code"))
    kinds = [k for k, *_ in features]
    if result is None:
        assert all(k in ("empty", "null", "spike") for k in kinds), "a file with a good polygon"
        return
    named = {int(m) for p in result.problems for m in re.findall(r"feature (\d+) ", p)}
    for i, kind in enumerate(kinds, start=1):
        if kind == "ok":
            assert i not in named and f"A{i}" in set(result.areas["code"])
        else:
            assert i in named, (kind, result.problems)
            if kind in ("empty", "null", "spike"):
                assert f"A{i}" not in set(result.areas["code"])
    assert result.areas.crs.to_epsg() == 27700
    assert result.areas.geometry.is_valid.all() and not result.areas.geometry.is_empty.any()


_GOOD_FILES: dict[str, dict[str, bytes]] = {}


def _good_boundary_files(fmt: str) -> dict[str, bytes]:
    """The bytes of a sound 30-square boundary file (a Shapefile's four parts), built once."""
    if fmt not in _GOOD_FILES:
        import fiona  # noqa: PLC0415

        driver = {"gpkg": "GPKG", "shp": "ESRI Shapefile", "geojson": "GeoJSON"}[fmt]
        schema = {"geometry": "Polygon", "properties": {"code": "str"}}
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / f"areas.{fmt}"
            with fiona.open(path, "w", driver=driver, schema=schema, crs="EPSG:27700") as dst:
                for i in range(30):
                    x = 440_000 + 100 * i
                    dst.write(
                        fiona.Feature.from_dict(
                            {
                                "type": "Feature",
                                "properties": {"code": f"A{i + 1}"},
                                "geometry": {
                                    "type": "Polygon",
                                    "coordinates": _square(x, 110_000, 50),
                                },
                            }
                        )
                    )
            _GOOD_FILES[fmt] = {p.suffix: p.read_bytes() for p in Path(d).iterdir()}
    return _GOOD_FILES[fmt]


@fuzz(60)
@given(
    st.sampled_from(["gpkg", "shp", "geojson"]),
    st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=20),
    st.sampled_from([".gpkg", ".shp", ".dbf", ".shx", ".prj", ".geojson"]),
)
def test_boundary_files_with_damaged_bytes(fmt, flips, part):
    """A sound file with some bytes changed: an InputError or the areas, never a crash.

    fiona alone crashed the process (segmentation fault) on some damaged GeoPackages.
    """
    parts = _good_boundary_files(fmt)
    with tempfile.TemporaryDirectory() as d:
        for suffix, data in parts.items():
            data = bytearray(data)
            if suffix == part:
                for where, value in flips:
                    data[int(where * len(data))] = value
            (Path(d) / f"areas{suffix}").write_bytes(bytes(data))
        result = attempt("boundary file", lambda: read_boundary_file(Path(d) / f"areas.{fmt}"))
    if result is not None:
        assert len(result.areas) > 0
        assert result.areas.crs.to_epsg() == 27700


# --- archives --------------------------------------------------------------------------------

_REAL = Path(__file__).resolve().parents[2] / "data" / "police_uk" / "eastleigh_area"
_REAL_LINES = (_REAL / "2017-02-hampshire-street_eastleigh_area.csv").read_text().splitlines()
HEADER_LINE, REAL_ROWS = _REAL_LINES[0], _REAL_LINES[1:41]


def _month_file(month: str, force: str, n: int) -> bytes:
    rows = [
        r.replace("2017-02", month, 1).replace("Hampshire Constabulary", force)
        for r in REAL_ROWS[:n]
    ]
    return ("\n".join([HEADER_LINE, *rows]) + "\n").encode()


MEMBER = st.one_of(
    st.tuples(
        st.sampled_from(
            [
                "{m}/{m}-{f}-street.csv",
                "../evil-{t}-{m}-street.csv",
                "/tmp/evil-{t}-{m}-street.csv",
                "a/b/c/{m}-{f}-street.csv",
                "..\\..\\evil-{t}-street.csv",
                "C:/evil-{t}-{m}-street.csv",
                "{m}/{m}-{f}-outcomes.csv",
                "{m}/{m}-{f}-stop-and-search.csv",
                "README-{t}.txt",
                "{m}/",
                "../{t}/",
                "{m}/nested.zip",
            ]
        ),
        st.sampled_from(["2017-02", "2017-03", "2017-04"]),
        st.sampled_from(["hampshire", "thames-valley"]),
        st.integers(1, 40),
        st.one_of(
            st.just("real"),
            st.just("real"),
            st.just("real"),
            st.sampled_from(["garbage", "empty", "header only"]),
        ),
    ),
)


@fuzz(120)
@given(
    st.lists(MEMBER, max_size=6),
    st.booleans(),
    st.one_of(st.just(0), st.just(0), st.integers(1, 10**6)),  # a damaged byte, a third of the time
)
def test_archives_never_write_and_account_for_every_row(members, deflate, flip):
    token = f"fz{os.getpid()}x{abs(hash((tuple(members), flip))) % 10**8}"
    expected = 0
    seen: set[tuple[str, str]] = set()
    exact = True
    with tempfile.TemporaryDirectory() as d:
        work = Path(d) / "work"
        work.mkdir()
        z = work / "download.zip"
        method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
        with zipfile.ZipFile(z, "w", compression=method) as zf:
            for pattern, month, force, n, content in members:
                name = pattern.format(m=month, f=force, t=token)
                if name.endswith("/"):
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # a duplicate folder entry
                        zf.writestr(zipfile.ZipInfo(name), b"")
                    continue
                force_name = "Hampshire Constabulary" if force == "hampshire" else "Thames Valley"
                data = {
                    "real": lambda: _month_file(month, force_name, n),  # noqa: B023
                    "garbage": lambda: bytes(range(256)) * n,  # noqa: B023
                    "empty": lambda: b"",
                    "header only": lambda: HEADER_LINE.encode() + b"\n",
                }[content]()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # a duplicate name, on purpose
                    zf.writestr(name, data)
                if name.lower().endswith("-street.csv"):
                    if content != "real":
                        exact = False  # the whole load is refused
                    elif (force_name, month) not in seen:
                        seen.add((force_name, month))
                        expected += n
        if flip and z.stat().st_size > 30:
            raw = bytearray(z.read_bytes())
            raw[flip % len(raw)] ^= 0xFF  # damage one byte
            z.write_bytes(bytes(raw))
            exact = False
        before_work = sorted(p.name for p in work.rglob("*"))
        before_parent = sorted(p.name for p in Path(d).iterdir())
        with contextlib.chdir(work):
            result = attempt("archive", lambda: load_incidents([z], EASTLEIGH))
        assert sorted(p.name for p in work.rglob("*")) == before_work
        assert sorted(p.name for p in Path(d).iterdir()) == before_parent
    assert not list(Path(tempfile.gettempdir()).glob(f"*{token}*"))
    assert not list(Path("/").glob(f"*{token}*"))
    assert not list(Path.cwd().glob(f"*{token}*"))
    if result is None:
        assert not (exact and expected), "a sound archive with street files was refused"
        return
    check_account("archive", result, expected if exact else None)
    dropped = sum(dup["rows"] for dup in result.duplicate_files)
    if exact:
        assert result.rows_in + dropped == sum(
            n for p, _, _, n, c in members if c == "real" and p.endswith("street.csv")
        )


def test_the_tally_has_no_traceback():
    """Runs last in this module: no reader raised anything but InputError."""
    assert sum(c["tracebacks"] for c in STATS.values()) == 0
    assert sum(c["recon_failures"] for c in STATS.values()) == 0
    assert sum(c["rows_lost"] for c in STATS.values()) == 0
