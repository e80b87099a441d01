"""Parse and check one police.uk street-level CSV.

A police.uk file holds one force's month (``YYYY-MM-<force>-street.csv``). This
module turns its text into a frame of raw values with a ``reason`` for every row
that cannot be used; :mod:`geo.io` then keeps the study area's rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.schema import POLICE_UK_COLUMNS
from geo.sources import SourceText, read_records
from geo.validate import check_coordinates, check_field_count, check_month, first_reason

__all__ = ["COLUMN_NAMES", "REQUIRED", "ParsedFile", "header_problem", "parse_police_uk"]

REQUIRED = ("Month", "Longitude", "Latitude", "LSOA code", "Crime type")
"""Columns without which a file is not a police.uk street file."""

COLUMN_NAMES = {
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
"""The reader's name for each police.uk column (raw text columns end in ``_raw``)."""


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
    raw_of: Callable[[np.ndarray], list[str]] | None = None


def header_problem(name: str, header: list[str]) -> str | None:
    """Why a header is not a police.uk street file's (one line naming the file), or None."""
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
    recs = read_records(src)
    problem = header_problem(src.name, recs.header)
    if problem:
        raise InputError(problem)
    if not len(recs.frame):
        msg = f"{src.name}: has a header but no data rows. Download the month again."
        raise InputError(msg)
    header = recs.header
    df = pd.DataFrame(
        {new: recs.column(old) for old, new in COLUMN_NAMES.items() if old in header},
        index=recs.frame.index,
    )
    for col in COLUMN_NAMES.values():
        if col not in df.columns:
            df[col] = ""
    # Only the columns every row is checked or keyed on are converted here; the other
    # text columns are converted and stripped for the kept rows (geo.io.finish_incidents).
    for col in ("month", "force", "reported_by", "lsoa_code", "crime_type"):
        df[col] = df[col].astype(str).str.strip()
    df["force"] = df["force"].where(df["force"] != "", df["reported_by"])
    df["row"] = recs.lines
    field_reason = check_field_count(recs.widths, header, index=df.index)
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
    # The raw line is kept for rejected rows only: it goes to the rejects file. Rows with
    # neither coordinates nor an LSOA code are rejected in geo.io: keep theirs too.
    unplaced = no_loc & (df["lsoa_code"].to_numpy(dtype=object) == "")
    bad = np.flatnonzero((df["reason"].to_numpy() != "") | unplaced)
    raw = np.full(len(df), "", dtype=object)
    raw[bad] = recs.raw(bad)
    df["raw"] = raw
    df["source_file"] = src.name
    df["_pos"] = np.arange(len(df))
    return ParsedFile(name=src.name, encoding=src.encoding, rows=df, raw_of=recs.raw)


assert set(REQUIRED) <= set(POLICE_UK_COLUMNS)
