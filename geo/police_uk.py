"""Parse and check one police.uk street-level CSV.

A police.uk file holds one force's month (``YYYY-MM-<force>-street.csv``). This
module turns its text into a frame of raw values with a ``reason`` for every row
that cannot be used; :mod:`geo.io` then keeps the study area's rows.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.schema import POLICE_UK_COLUMNS
from geo.sources import SourceText
from geo.validate import check_coordinates, check_month, first_reason

__all__ = ["REQUIRED", "ParsedFile", "parse_police_uk"]

REQUIRED = ("Month", "Longitude", "Latitude", "LSOA code", "Crime type")
"""Columns without which a file is not a police.uk street file."""

_RENAME = {
    "Crime ID": "crime_id",
    "Month": "month",
    "Reported by": "reported_by",
    "Falls within": "force",
    "Longitude": "lon_raw",
    "Latitude": "lat_raw",
    "Location": "location",
    "LSOA code": "lsoa_code",
    "LSOA name": "lsoa_name",
    "Crime type": "crime_type",
    "Last outcome category": "outcome",
    "Context": "context",
}


@dataclass
class ParsedFile:
    """One police.uk file, parsed and checked.

    Attributes
    ----------
    name
        The file's display name.
    encoding
        How its bytes were decoded.
    rows
        One row per data line: the raw values (renamed to the incident schema),
        ``row`` (line number, header = 1), ``raw`` (the line as read), parsed
        ``lon``/``lat``, ``no_location`` and ``reason`` (``""`` when usable).
    """

    name: str
    encoding: str
    rows: pd.DataFrame


def _header_problem(name: str, header: list[str]) -> str | None:
    found = [h.strip() for h in header]
    missing = [c for c in REQUIRED if c not in found]
    if not missing:
        return None
    lower = {h.lower(): h for h in found}
    near = [f"'{lower[c.lower()]}' for '{c}'" for c in missing if c.lower() in lower]
    hint = f" (found {', '.join(near)}: column names are case-sensitive)" if near else ""
    return (
        f"{name}: not a police.uk street file: missing column(s) {missing}{hint}; the first "
        f"line has {found[:12]}. Use the street-level CSV from a police.uk download, or load "
        "your own log with the CSP log reader and a column mapping."
    )


def parse_police_uk(src: SourceText) -> ParsedFile:
    """Parse a police.uk street CSV and check every row.

    Parameters
    ----------
    src
        The decoded file.

    Returns
    -------
    ParsedFile

    Raises
    ------
    InputError
        If the file is not a police.uk street file (its header lacks the columns) or
        has a header but no data rows.
    """
    reader = csv.reader(io.StringIO(src.text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        msg = f"{src.name}: cannot read a header line ({exc}). Is it a CSV file?"
        raise InputError(msg) from exc
    problem = _header_problem(src.name, header)
    if problem:
        raise InputError(problem)
    header = [h.strip() for h in header]
    width = len(header)
    records: list[list[str]] = []
    lines: list[int] = []
    widths: list[int] = []
    try:
        for rec in reader:
            if not rec or (len(rec) == 1 and not rec[0].strip()):
                continue
            lines.append(reader.line_num)
            widths.append(len(rec))
            if len(rec) != width:
                rec = (rec + [""] * width)[:width]
            records.append(rec)
    except csv.Error as exc:
        msg = f"{src.name}: line {reader.line_num}: {exc}. The file is damaged; download it again."
        raise InputError(msg) from exc
    if not records:
        msg = f"{src.name}: has a header but no data rows. Download the month again."
        raise InputError(msg)
    df = pd.DataFrame(records, columns=header, dtype=object)
    keep = [c for c in header if c in _RENAME]
    df = df[keep].rename(columns=_RENAME)
    for col in _RENAME.values():
        if col not in df.columns:
            df[col] = ""
    for col in ("crime_id", "month", "force", "reported_by", "location", "lsoa_code",
                "lsoa_name", "crime_type", "outcome", "context"):
        df[col] = df[col].astype(str).str.strip()
    df["force"] = df["force"].where(df["force"] != "", df["reported_by"])
    df["row"] = np.asarray(lines, dtype=np.int64)
    nfields = np.asarray(widths)
    field_reason = pd.Series(
        np.where(
            nfields < width,
            "row has " + nfields.astype(str) + f" fields, the header has {width} (too few fields); "
            "the line is cut short: download the file again",
            np.where(
                nfields > width,
                "row has " + nfields.astype(str) + f" fields, the header has {width} (too many "
                "fields); a value with a comma must be in quotes",
                "",
            ),
        ),
        index=df.index,
    )
    month_reason = check_month(df["month"])
    lon, lat, no_loc, coord_reason = check_coordinates(df["lon_raw"], df["lat_raw"])
    type_reason = pd.Series(
        np.where(df["crime_type"] == "", "Crime type: empty; every row needs a type", ""),
        index=df.index,
    )
    df["lon"] = lon
    df["lat"] = lat
    df["no_location"] = no_loc
    # Rows cut short have shifted values: only the field count is reported for them.
    other = first_reason(month_reason, coord_reason, type_reason)
    df["reason"] = np.where(field_reason != "", field_reason, other)
    # The raw line is kept for rejected rows only: it goes to the rejects file.
    bad = np.flatnonzero(df["reason"].to_numpy() != "")
    raw = np.full(len(df), "", dtype=object)
    raw[bad] = [",".join(records[i]) for i in bad]
    df["raw"] = raw
    df["source_file"] = src.name
    return ParsedFile(name=src.name, encoding=src.encoding, rows=df)


assert set(REQUIRED) <= set(POLICE_UK_COLUMNS)
