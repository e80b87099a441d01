"""Read the CSP's own logs (ASB case logs, CCTV control-room incidents).

A log is any CSV; the user says which column holds what with a
:class:`ColumnMapping`. Times are kept when the date column has them. Rows are
checked like police.uk rows and end in the same :class:`geo.io.LoadResult`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.io import LoadResult, finish_incidents, project_lonlat
from geo.sources import decode, read_limited, read_records
from geo.study_area import StudyArea
from geo.validate import (
    check_coordinates,
    check_easting_northing,
    check_field_count,
    first_reason,
)

__all__ = [
    "DATE_WORDS",
    "ColumnMapping",
    "date_order",
    "guess_date_column",
    "normalise_area_name",
    "parse_dates",
    "preview_rows",
    "read_csp_log",
    "sniff_columns",
]

DATE_WORDS = (
    "incident date",
    "date reported",
    "reported",
    "occurred",
    "date",
    "datetime",
    "when",
    "time",
    "created",
    "opened",
    "logged",
)
"""Words in a column name that suggest the date column, the best first."""


@dataclass(frozen=True)
class ColumnMapping:
    """Which column of a log holds what.

    Give ``date`` and ``type``, and either ``lat`` and ``lon`` (degrees) or
    ``easting`` and ``northing`` (metres); ``ward`` (name or code, either ward set)
    and ``lsoa`` (LSOA 2011 code) are optional and place rows without coordinates.
    """

    date: str
    type: str
    lat: str | None = None
    lon: str | None = None
    easting: str | None = None
    northing: str | None = None
    ward: str | None = None
    lsoa: str | None = None
    location: str | None = None
    source_name: str = "CSP log"

    def columns(self) -> list[str]:
        """Every column the mapping names."""
        return [
            c
            for c in (
                self.date,
                self.type,
                self.lat,
                self.lon,
                self.easting,
                self.northing,
                self.ward,
                self.lsoa,
                self.location,
            )
            if c
        ]


def normalise_area_name(name: str) -> str:
    """Loose key for matching area names: ``Hamble & Netley`` == ``hamble and netley``."""
    s = name.lower().replace("&", " and ").replace("'", "").replace("\u2019", "")
    s = re.sub(r"[^a-z0-9]+", " ", s)
    return " ".join(s.split())


def sniff_columns(path: str | Path) -> list[str]:
    """The header of a CSV, for building a mapping form."""
    path = Path(path)
    src = decode(read_limited(path), str(path))
    try:
        return [h.strip() for h in next(csv.reader(io.StringIO(src.text)))]
    except StopIteration as exc:
        msg = f"{path}: no header line."
        raise InputError(msg) from exc


def _ward_lookup(area: StudyArea) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for level, col in (("ward2002", "ward2002_code"), ("ward", "ward_code")):
        if level not in area.levels:
            continue
        for code, name in area.levels[level].areas[["code", "name"]].itertuples(index=False):
            out[normalise_area_name(name)] = (col, code)
            out[code.lower()] = (col, code)
    return out


_LOCAL = "Europe/London"


def _parse_one(value: str, *, dayfirst: bool) -> pd.Timestamp:
    try:
        t = pd.to_datetime(value, errors="coerce", dayfirst=dayfirst)
    except (ValueError, TypeError, OverflowError):
        return pd.NaT
    if t is not pd.NaT and t.tzinfo is not None:
        t = t.tz_convert(_LOCAL).tz_localize(None)
    return t


def _parse_part(raw: pd.Series, *, dayfirst: bool) -> pd.Series:
    """Parse dates; a time with a UTC offset becomes UK local time; out of range is NaT."""
    try:
        t = pd.to_datetime(raw, errors="coerce", format="mixed", dayfirst=dayfirst)
        if t.dt.tz is not None:  # every value had the same offset
            t = t.dt.tz_convert(_LOCAL).dt.tz_localize(None)
    except (ValueError, TypeError, OverflowError):
        # Values with different UTC offsets (or none): one at a time.
        t = pd.to_datetime(
            pd.Series(
                [_parse_one(v, dayfirst=dayfirst) for v in raw], index=raw.index, dtype=object
            ),
            errors="coerce",
        )
    # Years beyond what nanosecond timestamps hold (0001-01-01, 9999-12-31) are not dates.
    inside = (t >= pd.Timestamp.min) & (t <= pd.Timestamp.max)
    return t.where(inside).astype("datetime64[ns]")


def _parse_dates(raw: pd.Series) -> pd.Series:
    """ISO dates (2017-03-01) year first; everything else day first (UK: 01/03/2017)."""
    iso = raw.str.match(r"^\d{4}-\d{1,2}-\d{1,2}")
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    if iso.any():
        out[iso] = _parse_part(raw[iso], dayfirst=False)
    if (~iso).any():
        out[~iso] = _parse_part(raw[~iso], dayfirst=True)
    return out


def parse_dates(raw: pd.Series) -> pd.Series:
    """Dates (and times) as :func:`read_csp_log` reads them.

    ISO dates are read year first, every other form day first (the UK's order).

    >>> parse_dates(pd.Series(["01/03/2017 14:30", "2017-03-02", "13/25/2017"])).tolist()
    [Timestamp('2017-03-01 14:30:00'), Timestamp('2017-03-02 00:00:00'), NaT]
    """
    return _parse_dates(raw.astype("string").fillna("").str.strip())


def date_order(raw: pd.Series) -> str:
    """How the values of a date column are read, in words, for the user to check.

    >>> date_order(pd.Series(["01/03/2017", "02/03/2017"]))
    'day first (UK): 01/03/2017 is read as 1 March 2017'
    >>> date_order(pd.Series(["2017-03-01"]))
    'year first (ISO): 2017-03-01 is read as 1 March 2017'
    >>> date_order(pd.Series(["03/01/2017", "03/25/2017"]))[:53]
    'month first (US): 03/25/2017 is read as 25 March 2017'
    """
    values = raw.astype("string").dropna().str.strip()
    values = values[values != ""]
    if values.empty:
        return "no dates in the first rows"
    iso = values.str.match(r"^\d{4}-\d{1,2}-\d{1,2}")
    if iso.all():
        first = values.iloc[0]
        return (
            f"year first (ISO): {first} is read as {_spoken(parse_dates(values.head(1)).iloc[0])}"
        )
    other = values[~iso]
    parts = other.str.extract(r"^(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}").astype(float)
    first = other.iloc[0]
    if (parts[1] > 12).any() and not (parts[0] > 12).any():
        shown = other[parts[1] > 12].iloc[0]
        return (
            f"month first (US): {shown} is read as {_spoken(parse_dates(pd.Series([shown])).iloc[0])}, "
            "but a date such as 01/03/2017 would be read day first (1 March); save the log "
            "with day-first or ISO dates"
        )
    return f"day first (UK): {first} is read as {_spoken(parse_dates(other.head(1)).iloc[0])}"


def _spoken(t: pd.Timestamp) -> str:
    if pd.isna(t):
        return "no date"
    text = f"{t.day} {t.strftime('%B %Y')}"
    return text + (f" {t.strftime('%H:%M')}" if (t.hour, t.minute) != (0, 0) else "")


def guess_date_column(frame: pd.DataFrame) -> str | None:
    """The column most likely to hold the incident's date: by its name, then its contents.

    A column scores by the earliest of :data:`DATE_WORDS` its name holds, and by the share
    of its first values that read as dates; a column none of whose values reads as a date
    is never chosen.

    >>> log = pd.DataFrame({"Ref": ["A1", "A2"], "Reported": ["01/03/2017", "02/03/2017"],
    ...                     "Type": ["ASB", "ASB"]})
    >>> guess_date_column(log)
    'Reported'
    >>> guess_date_column(pd.DataFrame({"x": ["2017-03-01 10:00"], "y": ["High St"]}))
    'x'
    >>> guess_date_column(pd.DataFrame({"Date of birth team": ["n/a"]})) is None
    True
    """
    best, best_score = None, 0.0
    for col in frame.columns:
        values = frame[col].astype("string").dropna().str.strip().head(50)
        values = values[(values != "") & values.str.contains(r"\d")]
        share = float(parse_dates(values).notna().mean()) if len(values) else 0.0
        if share == 0.0:
            continue
        name = str(col).lower()
        words = [i for i, w in enumerate(DATE_WORDS) if w in name]
        by_name = 1.0 - min(words) / len(DATE_WORDS) if words else 0.0
        score = 2 * by_name + share
        if score > best_score:
            best, best_score = str(col), score
    return best


def preview_rows(path: str | Path, date_column: str, n: int = 5) -> pd.DataFrame:
    """The first ``n`` rows of a log as they will be read.

    A column ``date as read`` (date, and time where there is one) comes first, then the
    file's own columns as written.

    Raises
    ------
    InputError
        If the file cannot be read or has no such column.
    """
    path = Path(path)
    src = decode(read_limited(path), str(path))
    try:
        frame = pd.read_csv(io.StringIO(src.text), dtype=str, nrows=n, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        msg = f"{path.name}: the first rows cannot be read ({str(exc).splitlines()[0]})."
        raise InputError(msg) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    if date_column not in frame.columns:
        msg = f"{path.name}: no column {date_column!r}."
        raise InputError(msg)
    when = parse_dates(frame[date_column])
    has_time = bool((when.dropna().dt.strftime("%H:%M") != "00:00").any())
    read = when.dt.strftime("%a %d %b %Y %H:%M" if has_time else "%a %d %b %Y")
    out = frame.copy()
    out.insert(0, "date as read", read.fillna("not a date"))
    return out


def read_csp_log(path: str | Path, mapping: ColumnMapping, area: StudyArea) -> LoadResult:
    """Read a CSP log CSV with a column mapping.

    Parameters
    ----------
    path
        The CSV (UTF-8 with or without BOM, or Windows-1252).
    mapping
        Which column holds what.
    area
        The study area: rows are kept when they lie in it, and its ward names (both
        sets) place rows that give only a ward.

    Returns
    -------
    LoadResult
        Incidents with ``datetime`` set (NaT when a row had only a date), ``month``
        derived from it and ``force`` set to ``mapping.source_name``.

    Raises
    ------
    InputError
        If the file is unusable or the mapping names a column the file lacks.
    """
    path = Path(path)
    src = decode(read_limited(path), str(path))
    # An empty name means "not mapped" (what a form's blank choice gives).
    mapping = replace(
        mapping,
        **{
            f: None
            for f in ("lat", "lon", "easting", "northing", "ward", "lsoa", "location")
            if not getattr(mapping, f)
        },
    )
    if not mapping.date or not mapping.type:
        msg = f"{path.name}: map the date column and the type column; both are needed."
        raise InputError(msg)
    if (mapping.lat is None) != (mapping.lon is None) or (
        (mapping.easting is None) != (mapping.northing is None)
    ):
        msg = f"{path.name}: map both lat and lon, or both easting and northing."
        raise InputError(msg)
    recs = read_records(src)
    missing = [c for c in mapping.columns() if c not in recs.header]
    if missing:
        msg = (
            f"{path.name}: column(s) {missing} not found; the file has {recs.header}. "
            "Fix the mapping."
        )
        raise InputError(msg)
    n = len(recs.frame)
    if n == 0:
        msg = f"{path.name}: has a header but no data rows."
        raise InputError(msg)
    df = pd.DataFrame({col: recs.column(col).astype(str).str.strip() for col in mapping.columns()})
    field_reason = check_field_count(recs.widths, recs.header, index=df.index)
    raw_date = df[mapping.date].str.strip()
    when = _parse_dates(raw_date)
    date_reason = pd.Series(
        np.where(
            when.isna(),
            f"{mapping.date}: '" + raw_date.str.slice(0, 25) + "' is not a date "
            "(use e.g. 2017-02-14 or 14/02/2017 21:30)",
            "",
        ),
        index=df.index,
    )
    has_time = raw_date.str.contains(r"\d{1,2}:\d{2}", regex=True)
    if mapping.lat:
        lon, lat, no_loc, coord_reason = check_coordinates(
            df[mapping.lon], df[mapping.lat], lon_col=mapping.lon, lat_col=mapping.lat
        )
        coords = {"lon": lon, "lat": lat}
    elif mapping.easting:
        x, y, no_loc, coord_reason = check_easting_northing(
            df[mapping.easting], df[mapping.northing], e_col=mapping.easting, n_col=mapping.northing
        )
        coords = {"x": x, "y": y}
    else:
        no_loc = np.ones(n, dtype=bool)
        coord_reason = pd.Series("", index=df.index)
        coords = {"x": np.full(n, np.nan), "y": np.full(n, np.nan)}
    type_reason = pd.Series(
        np.where(
            df[mapping.type].str.strip() == "", f"{mapping.type}: empty; every row needs a type", ""
        ),
        index=df.index,
    )
    out = pd.DataFrame(
        {
            "source_file": str(path),
            "row": recs.lines,
            "crime_id": "",
            "month": when.dt.strftime("%Y-%m").fillna(""),
            "datetime": when.where(has_time),
            "force": mapping.source_name,
            "location": df[mapping.location].str.strip() if mapping.location else "",
            "lsoa_code": df[mapping.lsoa].str.strip().str.upper() if mapping.lsoa else "",
            "lsoa_name": "",
            "crime_type": df[mapping.type].str.strip(),
            "outcome": "",
            "context": "",
            "no_location": no_loc,
            **coords,
        }
    )
    if "lon" in coords:
        out["x"], out["y"] = project_lonlat(out["lon"].to_numpy(float), out["lat"].to_numpy(float))
    ward_reason = pd.Series("", index=df.index)
    if mapping.ward:
        lookup = _ward_lookup(area)
        keys = df[mapping.ward].map(normalise_area_name)
        hit = keys.map(lookup)
        unknown = (keys != "") & hit.isna()
        ward_reason[unknown] = (
            f"{mapping.ward}: '"
            + df.loc[unknown, mapping.ward].astype(str)
            + "' is not a ward of either set; check the spelling"
        )
        for col in ("ward_code", "ward2002_code"):
            out[col] = [h[1] if isinstance(h, tuple) and h[0] == col else "" for h in hit]
    other = first_reason(date_reason, coord_reason, type_reason, ward_reason)
    # Rows with the wrong number of fields have shifted values: only the count is reported.
    out["reason"] = np.where(field_reason != "", field_reason, other)
    # Keep the line for rejected rows, and for rows geo.io rejects as placed nowhere.
    unplaced = no_loc.copy()
    for col in (mapping.lsoa, mapping.ward):
        if col:
            unplaced &= df[col].to_numpy(dtype=object) == ""
    bad = np.flatnonzero((out["reason"].to_numpy() != "") | unplaced)
    raw = np.full(n, "", dtype=object)
    raw[bad] = recs.raw(bad)
    out["raw"] = raw
    out["_pos"] = np.arange(n)
    return finish_incidents(
        [out],
        area,
        encodings={str(path): src.encoding},
        duplicate_files=[],
        skipped=[],
        raw_of={str(path): recs.raw},
    )
