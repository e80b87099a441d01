"""Validation of police.uk records in DuckDB SQL, for an ingest (:mod:`geo.store_ingest`).

The rules and reasons of the row-by-row reader (:func:`geo.police_uk.parse_police_uk` and
the "No location" rule of :func:`geo.io.finish_incidents`) are evaluated in SQL on
all-VARCHAR columns; the rare values the SQL does not decide (numbers not written as
plain decimals, points near the edges of Great Britain) are checked by
:func:`geo.validate.check_coordinates` itself. A batch's files (:class:`SourceFile`) come
as Arrow records split by pyarrow (:func:`geo.sources.plain_records`, as the reader's
own fast path), or as text that pyarrow could not split one record a line (a short or
long record, a blank line, a quoted line break): that text is split here by
:func:`geo.sources.read_records`, so line numbers and field counts are those of the
reader. DuckDB computes only what validation adds or changes (coordinates, reasons,
fields stripped of blanks); fields it leaves as read are taken from the Arrow records
untouched (:func:`validated_rows`). The check that a point lies within 1 km of the LSOA
its row names needs the LSOA polygons, so it is made when an area is taken out
(:func:`geo.store_query.store_incidents` with a study area).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo.crs import GB_BOUNDS_LONLAT
from geo.errors import InputError
from geo.police_uk import COLUMN_NAMES
from geo.sources import SourceText, csv_lines, read_records
from geo.store import UNPLACED
from geo.validate import check_coordinates, check_field_count

__all__ = ["READ_COLUMNS", "WHITESPACE", "SourceFile", "validated_rows"]

WHITESPACE = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
"""Every character ``str.strip`` removes: SQL ``trim`` is given the same set."""

_INNER_BOX = (-6.5, 50.1, 1.78, 60.86)
"""A box whose every point projects onto the National Grid (the reader's own box):
points in Great Britain outside it are checked by :func:`check_coordinates`."""

_PLAIN_NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"

READ_COLUMNS = {
    column: {"force": "falls_within", "lon_raw": "lon_s", "lat_raw": "lat_s"}.get(name, name)
    for column, name in COLUMN_NAMES.items()
}
"""The police.uk columns validation reads, by their name in the SQL (the reader's names,
"Falls within" and the coordinates' text named apart from the values made of them)."""


@dataclass
class SourceFile:
    """One CSV made ready for DuckDB: its records as an Arrow table, or its text to split.

    Attributes
    ----------
    fid
        The file's number in the ingest (its rows' ``fid``).
    name
        The file's name (``archive.zip!member`` for an archive's member).
    mtime
        Its modification time (an archive member's own timestamp).
    header
        Its header's fields.
    encoding
        The encoding the reader decodes it with.
    needs_strip
        Whether some field validation reads may have blanks at an end (then ``table``
        holds them stripped as ``t<k>`` beside ``c<k>``).
    table
        Its records split by pyarrow: fields ``c0`` ... ``c<n-1>``, ``fid`` and ``row``
        (the line number); None when the file is to be split from ``data``.
    data
        Its text in UTF-8, when ``table`` is None.
    """

    fid: int
    name: str
    mtime: float
    header: list[str]
    encoding: str
    needs_strip: bool = True
    table: pa.Table | None = None
    data: bytes | None = None

    def text(self) -> SourceText:
        """The file as the reader decodes it (from its UTF-8 bytes)."""
        return SourceText(self.name, (self.data or b"").decode("utf-8"), self.encoding)


# --------------------------------------------------------------------------- SQL


def _serialise(cols: list[str]) -> str:
    """SQL for the record as the csv module writes it (the reader's ``raw``)."""
    parts = [
        f"CASE WHEN regexp_matches(coalesce({c}, ''), '[,\"\\r\\n]') "
        f"THEN '\"' || replace({c}, '\"', '\"\"') || '\"' ELSE coalesce({c}, '') END"
        for c in cols
    ]
    return " || ',' || ".join(parts)


def _strip(expr: str) -> str:
    """SQL for ``expr.strip()``.

    The full trim runs only where an end character sorts before ``!`` or from U+0085 on:
    every whitespace character does, and UTF-8 keeps code point order, so the byte-wise
    comparison is exact.
    """
    return (
        f"CASE WHEN {expr}[1] < '!' OR {expr}[-1] < '!' OR {expr}[1] >= '\u0085' "
        f"OR {expr}[-1] >= '\u0085' THEN trim({expr}, $ws) ELSE {expr} END"
    )


_MONTH_RE = "[0-9]{4}-(0[1-9]|1[0-2])"

_REASON = f"""CASE WHEN width_reason <> '' THEN width_reason
  ELSE coalesce(nullif(concat_ws('; ', nullif(month_reason, ''), nullif(coord_reason, ''),
                                 nullif(type_reason, '')), ''),
       CASE WHEN lsoa_code = '' AND no_location THEN '{UNPLACED.replace("'", "''")}' END, '')
  END"""
"""A row's reason, combined as the reader does (field count alone, else every other
reason joined by "; "; then the "No location" rule of geo.io.finish_incidents)."""

_VALIDATED = """
WITH s AS (
  SELECT *, {width_reason} AS width_reason, {crime_id} AS crime_id, {month} AS month,
    {falls_within} AS f0, {reported_by} AS reported_by, {lsoa_code} AS lsoa_code,
    {crime_type} AS crime_type, {location} AS location, {lsoa_name} AS lsoa_name,
    {outcome} AS outcome, {context} AS context, {lon_s} AS lo, {lat_s} AS la
  FROM {source}
), p AS (
  SELECT *,
    lo = '' AS lo_e, la = '' AS la_e,
    regexp_matches(lo, $plain) AS lo_p, regexp_matches(la, $plain) AS la_p
  FROM s
), n AS (
  SELECT *,
    TRY_CAST(CASE WHEN lo_p THEN lo END AS DOUBLE) AS lon0,
    TRY_CAST(CASE WHEN la_p THEN la END AS DOUBLE) AS lat0
  FROM p
), c AS (
  SELECT *,
    (NOT lo_e AND NOT lo_p) OR (NOT la_e AND NOT la_p)
      OR (lo_p AND la_p AND (
           (lon0 BETWEEN $x0 AND $x1 AND lat0 BETWEEN $y0 AND $y1
            AND NOT (lon0 BETWEEN $a0 AND $a1 AND lat0 BETWEEN $b0 AND $b1))
           OR least(abs(lon0 - $x0), abs(lon0 - $x1), abs(lon0 - $y0), abs(lon0 - $y1),
                    abs(lat0 - $x0), abs(lat0 - $x1), abs(lat0 - $y0), abs(lat0 - $y1)) < 1e-6
      )) AS py_check
  FROM n
), cf AS (
  {fixed}
), r AS (
  SELECT *,
    CASE WHEN f0 = '' THEN reported_by ELSE f0 END AS force,
    {no_location} AS no_location,
    {lon_out} AS lon,
    {lat_out} AS lat,
    CASE WHEN regexp_full_match(month, '{month_re}') THEN ''
         ELSE 'Month: ''' || substring(month, 1, 20) || ''' is not a month in YYYY-MM form '
              || '(e.g. 2017-02); fix the value or drop the row' END AS month_reason,
    CASE
      WHEN py_check THEN {py_reason}
      WHEN lo_e AND NOT la_e THEN 'Longitude: missing while Latitude is present; give both or neither'
      WHEN la_e AND NOT lo_e THEN 'Latitude: missing while Longitude is present; give both or neither'
      WHEN lo_e AND la_e THEN ''
      WHEN lon0 BETWEEN $x0 AND $x1 AND lat0 BETWEEN $y0 AND $y1 THEN ''
      WHEN lat0 BETWEEN $x0 AND $x1 AND lon0 BETWEEN $y0 AND $y1 THEN
        'Longitude/Latitude: latitude and longitude look swapped (longitude is in the latitude '
        || 'range and vice versa); swap the two columns in the file'
      ELSE 'Longitude/Latitude: point lies outside Great Britain; check the coordinates are '
        || 'longitude/latitude in degrees (WGS84)'
    END AS coord_reason,
    CASE WHEN crime_type = '' THEN 'Crime type: empty; every row needs a type' ELSE '' END
      AS type_reason
  FROM cf
), q AS (
  SELECT *, {reason} AS reason FROM r
)
SELECT {select}
"""
"""One group of files validated: every record with its reason, as the reader decides it.

The last CTE, ``q``, holds every column; the caller's ``{select}`` picks those it needs
(DuckDB then reads and computes only what they use)."""

_FIX_JOIN = (
    "SELECT c.*, fx.lon_f, fx.lat_f, fx.nl, fx.cr FROM c "
    'LEFT JOIN pyfix fx ON c.fid = fx.fid AND c."row" = fx.rw'
)
"""Rows whose coordinates the SQL does not decide take the reader's own verdict."""


@dataclass
class _Group:
    """Files of one batch read alike: one header, one way of splitting, one strip rule.

    ``source`` names the Arrow table (``table``) registered with DuckDB; ``slow`` files
    were split by the reader's own splitter and are stripped in SQL (``strip``);
    ``trimmed`` plain files carry their fields stripped in ``t<k>`` beside ``c<k>``.
    """

    header: tuple[str, ...]
    source: str
    strip: bool
    slow: bool
    table: pa.Table
    trimmed: bool = False


_CANON_OUT = tuple(
    "force" if name == "falls_within" else name
    for name in READ_COLUMNS.values()
    if name not in ("lon_s", "lat_s")
)
"""Text columns of a validated row (``force`` is "Falls within", else "Reported by")."""


def _validated_sql(group: _Group, fixed: bool, select: str) -> str:
    """SQL validating one group's records (see :data:`_VALIDATED`), selecting ``select``.

    ``select`` is the query's tail after ``SELECT`` (columns, ``FROM q`` and any
    clause); ``RAW_TEXT`` in it stands for the record as the csv module writes it.
    ``fixed`` joins the verdicts of :func:`geo.validate.check_coordinates` (table
    ``pyfix``) for the rows the SQL does not decide.
    """
    header = list(group.header)
    cols = {}
    for old, new in READ_COLUMNS.items():
        if old not in header:
            cols[new] = "''"
            continue
        expr = f"{'t' if group.trimmed else 'c'}{header.index(old)}"
        if group.slow:
            expr = f"coalesce({expr}, '')"
        cols[new] = _strip(expr) if group.strip else expr
    raw = _serialise([f"c{k}" for k in range(len(header))])
    if group.slow:
        raw = f"coalesce(orig_raw, {raw})"
    sql = _VALIDATED.format(
        source=group.source,
        width_reason="width_reason_in" if group.slow else "''",
        **cols,
        fixed=_FIX_JOIN if fixed else "SELECT * FROM c",
        no_location="CASE WHEN py_check THEN nl ELSE lo_e AND la_e END"
        if fixed
        else "lo_e AND la_e",
        lon_out="CASE WHEN py_check THEN lon_f WHEN lo_e AND la_e THEN NULL ELSE lon0 END"
        if fixed
        else "CASE WHEN lo_e AND la_e OR py_check THEN NULL ELSE lon0 END",
        lat_out="CASE WHEN py_check THEN lat_f WHEN lo_e AND la_e THEN NULL ELSE lat0 END"
        if fixed
        else "CASE WHEN lo_e AND la_e OR py_check THEN NULL ELSE lat0 END",
        py_reason="cr" if fixed else "''",
        month_re=_MONTH_RE,
        reason=_REASON,
        select=select.replace("RAW_TEXT", raw),
    )
    constants = _constants()
    return _CONSTANT.sub(lambda m: constants[m.group(1)], sql)


def _constants() -> dict[str, str]:
    """The SQL literals of the validation's named constants (``$plain``, ``$x0``, ...)."""
    x0, y0, x1, y1 = GB_BOUNDS_LONLAT
    a0, b0, a1, b1 = _INNER_BOX
    numbers = {"x0": x0, "x1": x1, "y0": y0, "y1": y1, "a0": a0, "a1": a1, "b0": b0, "b1": b1}
    out = {k: repr(float(v)) for k, v in numbers.items()}
    out["plain"] = f"'{_sql_text(_PLAIN_NUMBER)}'"
    out["ws"] = f"'{_sql_text(WHITESPACE)}'"
    return out


_CONSTANT = re.compile(r"\$([a-z][a-z0-9]*)")


def _sql_text(text: str) -> str:
    """``text`` for a single-quoted SQL literal."""
    return text.replace("'", "''")


# --------------------------------------------------------------------------- validation


def validated_rows(
    con: duckdb.DuckDBPyConnection, files: list[SourceFile], problems: list[str]
) -> pa.Table | None:
    """Every record of a batch's files validated, as the reader decides it.

    Plain files of one header and one strip rule are validated together, and every other
    file on its own; each group's table is registered with ``con`` while it is validated.

    Parameters
    ----------
    con
        The DuckDB connection to validate in.
    files
        The batch's files.
    problems
        Where a file that cannot be split into records is reported (its line appended).

    Returns
    -------
    pyarrow.Table or None
        One row a record, group by group and in each group's order: ``fid``, ``row``,
        the text columns (``force`` is "Falls within", else "Reported by"), ``lon``,
        ``lat``, ``no_location``, ``reason`` (empty when the row is accepted), ``raw``
        (the record as the csv module writes it, for rejected rows only) and ``keyed``
        (the row's month is valid and its force not empty). None when no file holds a
        record.

    Raises
    ------
    duckdb.Error
        As DuckDB raises it (an ``IOException`` when it cannot write to its temporary
        folder).
    """
    groups = _stage(con, files, problems)
    try:
        checked = [_check_group(con, g) for g in groups]
    finally:
        for g in groups:
            con.unregister(g.source)
    return pa.concat_tables(checked) if checked else None


def _stage(
    con: duckdb.DuckDBPyConnection, files: list[SourceFile], problems: list[str]
) -> list[_Group]:
    """Give DuckDB every record of a batch, in groups of files read alike.

    Plain files (split by pyarrow: :attr:`SourceFile.table`) of one header and one strip
    rule are one Arrow table; every other file is split by the reader's own
    :func:`geo.sources.read_records` into a table of its own.
    """
    fast: dict[tuple[tuple[str, ...], bool], list[pa.Table]] = {}
    groups: list[_Group] = []
    for f in files:
        if f.table is not None:
            fast.setdefault((tuple(f.header), f.needs_strip), []).append(f.table)
    for g, ((header, strip), tables) in enumerate(fast.items()):
        table = pa.concat_tables(tables)
        con.register(f"fast{g}", table)
        groups.append(_Group(header, f"fast{g}", False, slow=False, table=table, trimmed=strip))
    for i, f in enumerate(x for x in files if x.table is None):
        got = _stage_slow(f, problems)
        if got is not None:
            header, table = got
            con.register(f"slow{i}", table)
            groups.append(_Group(tuple(header), f"slow{i}", strip=True, slow=True, table=table))
    return groups


def _stage_slow(f: SourceFile, problems: list[str]) -> tuple[list[str], pa.Table] | None:
    """Split a file with the reader's own record splitter: its header and records.

    None when it holds no record (or cannot be split: the problem is reported).
    """
    try:
        recs = read_records(f.text(), engine="csv")
    except InputError as exc:
        problems.append(str(exc))
        return None
    n = len(recs.frame)
    if not n:
        return None
    header = recs.header
    width_reason = check_field_count(recs.widths, header, index=recs.frame.index)
    table = {
        f"c{k}": pa.array(recs.frame[k].astype(object).tolist(), pa.string())
        for k in range(len(header))
    }
    table["fid"] = pa.array(np.full(n, f.fid, dtype=np.int32))
    table["row"] = pa.array(recs.lines.astype(np.int64))
    table["width_reason_in"] = pa.array(width_reason.tolist(), pa.string())
    origin = np.full(n, None, dtype=object)
    if recs.originals:
        idx = np.array(sorted(recs.originals), dtype=np.int64)
        origin[idx] = recs.raw(idx)
    table["orig_raw"] = pa.array(origin.tolist(), pa.string())
    return header, pa.table(table)


def _check_group(con: duckdb.DuckDBPyConnection, group: _Group) -> pa.Table:
    """Every record of one group validated, in the group's order, as an Arrow table.

    Columns ``fid``, ``row``, the text columns of :data:`_CANON_OUT`, ``lon``, ``lat``,
    ``no_location``, ``reason``, ``raw`` (the record as text, for rejected rows only)
    and ``keyed`` (the row's month is valid and its force not empty). DuckDB computes
    what validation changes; a column it leaves as read (a file needing no strip) is
    taken from the records as they are. The rare coordinates the SQL does not decide
    are checked by :func:`geo.validate.check_coordinates` first.
    """
    select = (
        "fid, \"row\", lon, lat, no_location, reason, month_reason = '' AND force <> '' AS keyed"
    )
    if group.strip:
        select += ", CASE WHEN reason <> '' THEN RAW_TEXT END AS raw, " + ", ".join(_CANON_OUT)
    else:
        # The record as text is made below, for the rejected rows only: naming every field
        # here would make DuckDB convert every field of every row from Arrow.
        select += ", CASE WHEN f0 = '' THEN reported_by END AS force"
    sql = _validated_sql(
        group,
        False,
        select + ", py_check, CASE WHEN py_check THEN lo END AS lo_odd, "
        "CASE WHEN py_check THEN la END AS la_odd FROM q",
    )
    out = con.execute(sql).to_arrow_table()
    src = group.table
    if not (
        out["fid"].equals(src["fid"].cast(out["fid"].type))
        and out["row"].equals(src["row"].cast(out["row"].type))
    ):  # pragma: no cover - DuckDB keeps the order of a scan without joins
        out = out.take(pc.sort_indices(out, [("fid", "ascending"), ("row", "ascending")]))
    if pc.any(out["py_check"]).as_py():
        out = _check_odd(con, group, out, select)
    cols = {"fid": src["fid"], "row": src["row"]}
    if group.strip:
        for c in _CANON_OUT:
            cols[c] = out[c]
    else:
        header = list(group.header)
        n = src.num_rows
        blank = pa.array([""], pa.string())
        for old, new in READ_COLUMNS.items():
            if new in ("lon_s", "lat_s"):
                continue
            name = "force" if new == "falls_within" else new
            if old in header:
                cols[name] = src[f"{'t' if group.trimmed else 'c'}{header.index(old)}"]
            else:
                cols[name] = blank.take(pa.array(np.zeros(n, dtype=np.int32)))
        cols["force"] = pc.coalesce(out["force"], cols["force"])
        cols["raw"] = _records_text(src, out["reason"], len(header))
    for c in ("lon", "lat", "no_location", "reason", "keyed"):
        cols[c] = out[c]
    if group.strip:
        cols["raw"] = out["raw"]
    order = ["fid", "row", *_CANON_OUT, "lon", "lat", "no_location", "reason", "raw", "keyed"]
    return pa.table({c: cols[c] for c in order})


def _check_odd(
    con: duckdb.DuckDBPyConnection, group: _Group, out: pa.Table, select: str
) -> pa.Table:
    """``out`` with the rows the SQL does not decide (``py_check``) decided by the reader.

    Their coordinates are checked by :func:`geo.validate.check_coordinates` and their
    columns made again with its verdicts (in the group's order, as ``out``'s rows are).
    """
    # Only the odd rows are validated again, from a table of their own.
    mask = out["py_check"].combine_chunks()
    records = group.table.filter(mask)
    con.register("odd_records", records)
    small = _Group(
        group.header, "odd_records", group.strip, group.slow, records, trimmed=group.trimmed
    )
    odd = out.filter(mask).select(["fid", "row", "lo_odd", "la_odd"]).to_pydict()
    lon, lat, no_loc, reason = check_coordinates(
        pd.Series(odd["lo_odd"], dtype=object), pd.Series(odd["la_odd"], dtype=object)
    )
    fix = pd.DataFrame(
        {
            "fid": np.asarray(odd["fid"], dtype=np.int32),
            "rw": np.asarray(odd["row"], dtype=np.int64),
            "lon_f": lon,
            "lat_f": lat,
            "nl": no_loc,
            "cr": reason.to_numpy(dtype=object).astype(str),
        }
    )
    con.register("pyfix_df", fix)
    con.execute("CREATE OR REPLACE TEMP TABLE pyfix AS SELECT * FROM pyfix_df")
    con.unregister("pyfix_df")
    try:
        sql = _validated_sql(small, True, select + ' FROM q ORDER BY fid, "row"')
        fixed = con.execute(sql).to_arrow_table()
    finally:
        con.execute("DROP TABLE IF EXISTS pyfix")
        con.unregister("odd_records")
    cols = {}
    for name in out.column_names:
        col = out[name]
        if name in ("lon", "lat", "no_location", "reason", "raw"):
            col = pc.replace_with_mask(col.combine_chunks(), mask, fixed[name].combine_chunks())
        cols[name] = col
    return pa.table(cols)


def _records_text(table: pa.Table, reasons: pa.ChunkedArray, width: int) -> pa.Array:
    """Each rejected record as the csv module writes it (the reader's ``raw``), else null.

    ``table`` holds the records' fields as ``c0`` ... ``c{width-1}``; a record is rejected
    where its reason is not empty.
    """
    keep = pc.not_equal(reasons, "")
    bad = np.flatnonzero(keep.to_numpy(zero_copy_only=False))
    out = np.full(table.num_rows, None, dtype=object)
    if len(bad):
        fields = table.select([f"c{k}" for k in range(width)]).filter(keep)
        out[bad] = csv_lines(zip(*(col.to_pylist() for col in fields.columns), strict=True))
    return pa.array(out, pa.string())
