"""Row checks shared by every incident reader.

Each check is vectorised: it takes whole columns of raw strings and returns, for each
row, the reason it is rejected (``""`` when it passes). Readers collect every reason
at once, so a file's problems are all listed in one pass, and keep the rejected rows
with their reasons.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.crs import BNG, GB_BOUNDS_BNG, GB_BOUNDS_LONLAT, WGS84, transformer

__all__ = [
    "check_coordinates",
    "check_easting_northing",
    "check_field_count",
    "check_month",
    "first_reason",
    "reason_kind",
]

_MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"  # not \d, which matches any Unicode digit

_ON_GRID_LONLAT = (-6.5, 50.1, 1.78, 60.86)
"""A box inside GB_BOUNDS_LONLAT whose every point projects onto the National Grid
(checked on a 3000 x 3000 lattice); only points outside it are projected to check."""


def check_field_count(widths: np.ndarray, header: list[str], *, index: pd.Index) -> pd.Series:
    """Reason for each record whose number of fields differs from the header's.

    Parameters
    ----------
    widths
        Fields each record had as read.
    header
        The file's column names.
    index
        Index of the returned Series.

    Returns
    -------
    pandas.Series
        ``""`` for good rows, else the reason, naming the first column left empty
        (too few fields) or the last column that fits (too many).
    """
    width = len(header)
    widths = np.asarray(widths)
    reason = np.full(len(widths), "", dtype=object)
    for i in np.flatnonzero(widths != width):
        n = int(widths[i])
        if n < width:
            reason[i] = (
                f"row has {n} fields, the header has {width} (too few fields): column "
                f"'{header[n]}' and those after it are missing; the line is cut short: fix or "
                "delete it, or download the file again"
            )
        else:
            reason[i] = (
                f"row has {n} fields, the header has {width} (too many fields): values after "
                f"column '{header[-1]}' do not fit; a value containing a comma must be in "
                "double quotes"
            )
    return pd.Series(reason, index=index)


def check_month(month: pd.Series, column: str = "Month") -> pd.Series:
    """Reason for each month that is not ``YYYY-MM``.

    Parameters
    ----------
    month
        Raw strings.
    column
        Column name for the message.

    Returns
    -------
    pandas.Series
        ``""`` for good rows, else the reason.
    """
    bad = ~month.str.fullmatch(_MONTH).fillna(False).astype(bool)
    return pd.Series(
        np.where(
            bad,
            f"{column}: '" + month.astype(str).str.slice(0, 20) + "' is not a month in "
            "YYYY-MM form (e.g. 2017-02); fix the value or drop the row",
            "",
        ),
        index=month.index,
    )


def _numbers(raw: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = raw.astype(str).str.strip()
    empty = (s == "").to_numpy()
    num = pd.to_numeric(s.where(~empty, None), errors="coerce").to_numpy(dtype=float)
    bad = ~empty & ~np.isfinite(num)
    return num, empty, bad


def check_coordinates(
    lon_raw: pd.Series,
    lat_raw: pd.Series,
    *,
    lon_col: str = "Longitude",
    lat_col: str = "Latitude",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.Series]:
    """Parse longitude and latitude and give a reason for each bad pair.

    Both empty is not an error (the row has no location and is counted by its area
    code). One empty, non-numeric values, values outside Great Britain, and latitude
    and longitude swapped are rejected, each with its own reason; swapped values are
    never silently repaired.

    Parameters
    ----------
    lon_raw, lat_raw
        Raw strings.
    lon_col, lat_col
        Column names for the messages.

    Returns
    -------
    lon, lat : numpy.ndarray
        Parsed values (NaN where empty or bad).
    no_location : numpy.ndarray
        True where both values are empty.
    reason : pandas.Series
        ``""`` for good rows, else the reason.
    """
    lon, lon_empty, lon_bad = _numbers(lon_raw)
    lat, lat_empty, lat_bad = _numbers(lat_raw)
    no_location = lon_empty & lat_empty
    x0, y0, x1, y1 = GB_BOUNDS_LONLAT
    in_gb = (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
    swapped = (lat >= x0) & (lat <= x1) & (lon >= y0) & (lon <= y1)
    reason = np.full(len(lon), "", dtype=object)
    both_num = ~lon_bad & ~lat_bad & ~lon_empty & ~lat_empty
    reason[both_num & ~in_gb] = (
        f"{lon_col}/{lat_col}: point lies outside Great Britain; check the coordinates "
        "are longitude/latitude in degrees (WGS84)"
    )
    reason[both_num & ~in_gb & swapped] = (
        f"{lon_col}/{lat_col}: latitude and longitude look swapped (longitude is in the "
        "latitude range and vice versa); swap the two columns in the file"
    )
    reason[_off_grid(lon, lat, both_num & in_gb)] = (
        f"{lon_col}/{lat_col}: point lies at sea off Great Britain, outside the National Grid "
        "(EPSG:27700); check the coordinates"
    )
    one_missing = lon_empty ^ lat_empty
    reason[one_missing & lat_empty] = (
        f"{lat_col}: missing while {lon_col} is present; give both or neither"
    )
    reason[one_missing & lon_empty] = (
        f"{lon_col}: missing while {lat_col} is present; give both or neither"
    )
    reason[lat_bad] = f"{lat_col}: not a number; use decimal degrees such as 50.9701"
    reason[lon_bad] = f"{lon_col}: not a number; use decimal degrees such as -1.3502"
    ok = reason == ""
    lon = np.where(ok & ~no_location, lon, np.nan)
    lat = np.where(ok & ~no_location, lat, np.nan)
    return lon, lat, no_location, pd.Series(reason, index=lon_raw.index)


def _off_grid(lon: np.ndarray, lat: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Which candidate points (inside the GB box) project off the National Grid.

    The box is generous: (-8.65, 49.85) projects to x = -77,803 m.
    """
    a0, b0, a1, b1 = _ON_GRID_LONLAT
    edge = candidates & ~((lon >= a0) & (lon <= a1) & (lat >= b0) & (lat <= b1))
    out = np.zeros(len(lon), dtype=bool)
    if edge.any():
        x, y = transformer(WGS84, BNG).transform(lon[edge], lat[edge])
        x, y = np.asarray(x, float), np.asarray(y, float)
        x0, y0, x1, y1 = GB_BOUNDS_BNG
        out[edge] = ~((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
    return out


def check_easting_northing(
    e_raw: pd.Series, n_raw: pd.Series, *, e_col: str, n_col: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.Series]:
    """Parse British National Grid eastings and northings, with reasons as above.

    Returns
    -------
    x, y, no_location, reason
        As :func:`check_coordinates`, in metres.
    """
    x, x_empty, x_bad = _numbers(e_raw)
    y, y_empty, y_bad = _numbers(n_raw)
    no_location = x_empty & y_empty
    x0, y0, x1, y1 = GB_BOUNDS_BNG
    inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    reason = np.full(len(x), "", dtype=object)
    both = ~x_bad & ~y_bad & ~x_empty & ~y_empty
    reason[both & ~inside] = (
        f"{e_col}/{n_col}: point lies outside the National Grid; check these are "
        "eastings/northings in metres (EPSG:27700), not degrees"
    )
    reason[x_empty ^ y_empty] = f"{e_col}/{n_col}: one of the pair is missing; give both or neither"
    reason[y_bad] = f"{n_col}: not a number; use metres such as 118400"
    reason[x_bad] = f"{e_col}: not a number; use metres such as 445600"
    ok = reason == ""
    return (
        np.where(ok & ~no_location, x, np.nan),
        np.where(ok & ~no_location, y, np.nan),
        no_location,
        pd.Series(reason, index=e_raw.index),
    )


def first_reason(*reasons: pd.Series) -> pd.Series:
    """Combine reason columns: every non-empty reason of a row, joined by ``"; "``.

    Parameters
    ----------
    *reasons
        Series of reasons on the same index (``""`` for no problem).

    Returns
    -------
    pandas.Series
        One string per row, ``""`` where every check passed.
    """
    out = np.full(len(reasons[0]), "", dtype=object)
    for r in reasons:
        r = r.fillna("").to_numpy(dtype=object)
        sep = np.where((out != "") & (r != ""), "; ", "")
        out = out + sep + r
    return pd.Series(out, index=reasons[0].index)


def reason_kind(reasons: pd.Series) -> pd.Series:
    """Reasons without their row-specific values, for counting rows by kind of problem.

    Parameters
    ----------
    reasons
        Rejected rows' reasons (several joined by ``"; "``).

    Returns
    -------
    pandas.Series
        Each reason's first part, its quoted values and field counts made general.

    Examples
    --------
    >>> reason_kind(pd.Series(["Month: '2022-13' is not a month; Crime type: empty"])).tolist()
    ["Month: '...' is not a month"]
    """
    first = reasons.astype(str).str.split("; ").str[0]
    return first.str.replace(r"'[^']*'", "'...'", regex=True).str.replace(
        r"\d+ fields", "N fields", regex=True
    )
