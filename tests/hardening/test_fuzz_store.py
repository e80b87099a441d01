"""Property-based tests (hypothesis) of the store's ingest against the row-by-row reader.

Random police.uk-like files (damaged months, coordinates, types, field counts, quoting,
blank lines, odd whitespace, three encodings, two line ends) are ingested into a fresh
store and parsed by :func:`geo.police_uk.parse_police_uk`. Properties, for every input:

* the only failures are problems reported per file (no traceback), and exactly when the
  reader refuses the file;
* ``rows_in == accepted + rejected`` and every record the reader sees is in the store;
* each line is rejected by the store exactly when the reader rejects it (or it is a
  "No location" row), with the same reason;
* accepted rows keep the reader's parsed longitude and latitude.

Reproducible (``derandomize=True``); ``FUZZ_SCALE=10`` runs ten times the examples.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.errors import InputError
from geo.police_uk import parse_police_uk
from geo.schema import POLICE_UK_COLUMNS
from geo.sources import decode
from geo.store import UNPLACED, connect, data_glob
from geo.store_ingest import ingest

SCALE = max(1, int(os.environ.get("FUZZ_SCALE", "1")))

MONTHS = ["2021-06", "2021-06", "2021-13", "", " 2021-07 ", "2021-6", "21-06", "2021-06\xa0"]
COORDS = [
    ("-1.372801", "50.988212"),
    ("-1.372801", "50.988212"),
    ("50.988212", "-1.372801"),
    ("-20.5", "50.98"),
    ("", ""),
    ("-1.37", ""),
    ("", "50.98"),
    ("abc", "50.98"),
    ("-1.37", "1e1"),
    ("-1.3728e0", "5.09882e1"),
    (" -1.372801 ", "\u200950.988212"),
    ("-8.0", "50.0"),
    ("-8.65", "49.85"),
    ("-6.2", "57.5"),
    ("+1.5", ".5e2"),
    ("inf", "50.9"),
    ("1.0.0", "50.9"),
]
LSOAS = ["E01022705", "E01022705", "", " E01022705 ", "W01000001"]
TYPES = ["Anti-social behaviour", "Burglary", "", "  ", "Drugs\xa0"]
FORCES = ["Hampshire Constabulary", "Hampshire Constabulary", "", " Surrey Police "]
TEXT = [
    "On or near Petrol Station",
    "On or near A, B",
    'On or near "The" Street',
    "On or near\nLine Break",
    "Café",
    "",
]


def _quote(v: str) -> str:
    if any(c in v for c in ',"\r\n'):
        return '"' + v.replace('"', '""') + '"'
    return v


@st.composite
def police_file(draw: st.DrawFn) -> tuple[bytes, int]:
    n = draw(st.integers(1, 12))
    lines = [",".join(POLICE_UK_COLUMNS)]
    for _ in range(n):
        lon, lat = draw(st.sampled_from(COORDS))
        force = draw(st.sampled_from(FORCES))
        fields = [
            draw(st.sampled_from(["", "abc123"])),
            draw(st.sampled_from(MONTHS)),
            draw(st.sampled_from(["Hampshire Constabulary", ""])),
            force,
            lon,
            lat,
            draw(st.sampled_from(TEXT)),
            draw(st.sampled_from(LSOAS)),
            "Eastleigh 001A",
            draw(st.sampled_from(TYPES)),
            draw(st.sampled_from(["", "Under investigation"])),
            "",
        ]
        cut = draw(st.sampled_from([12, 12, 12, 12, 11, 5, 13]))
        fields = (fields + ["extra"])[:cut]
        lines.append(",".join(_quote(v) for v in fields))
        if draw(st.integers(0, 9)) == 0:
            lines.append(draw(st.sampled_from(["", "   ", "\xa0"])))
    end = draw(st.sampled_from(["\r\n", "\n"]))
    text = end.join(lines) + draw(st.sampled_from([end, ""]))
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    try:
        data = text.encode(enc)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    return data, n


def _expected(data: bytes, name: str) -> pd.DataFrame | None:
    try:
        rows = parse_police_uk(decode(data, name)).rows
    except InputError:
        return None
    reason = rows["reason"].to_numpy(dtype=object).copy()
    unplaced = (
        (reason == "")
        & rows["no_location"].to_numpy()
        & (rows["lsoa_code"].to_numpy(dtype=object) == "")
    )
    reason[unplaced] = UNPLACED
    return pd.DataFrame(
        {
            "row": rows["row"].to_numpy(),
            "reason": reason,
            "lon": rows["lon"].to_numpy(float),
            "lat": rows["lat"].to_numpy(float),
        }
    )


@settings(
    max_examples=25 * SCALE,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(police_file())
def test_store_ingest_matches_reader(case: tuple[bytes, int]) -> None:
    data, _ = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "2021-06-hampshire-street.csv"
        path.write_bytes(data)
        expected = _expected(data, str(path))
        store = Path(tmp) / "store"
        result = ingest([path], store, progress=False)
        if expected is None:
            assert result.problems and result.rows_in == 0, result.summary()
            return
        assert not result.problems, result.problems
        assert result.reconciles()
        assert result.rows_in == len(expected)
        con = connect()
        try:
            got = con.execute(
                f"""SELECT "row", reason, lon, lat FROM read_parquet('{data_glob(store)}')
                    ORDER BY "row" """
            ).fetchdf()
        finally:
            con.close()
        exp = expected.sort_values("row", ignore_index=True)
        assert got["row"].tolist() == exp["row"].tolist()
        assert got["reason"].tolist() == exp["reason"].tolist()
        ok = (exp["reason"] == "").to_numpy()
        assert np.allclose(
            got["lon"].to_numpy(float)[ok],
            exp["lon"].to_numpy()[ok],
            rtol=0,
            atol=1e-12,
            equal_nan=True,
        )
        assert np.allclose(
            got["lat"].to_numpy(float)[ok],
            exp["lat"].to_numpy()[ok],
            rtol=0,
            atol=1e-12,
            equal_nan=True,
        )
        assert result.accepted == int(ok.sum())
