"""Load police.uk street files into one incident frame for the study area.

``load_incidents(paths)`` reads files, folders and police.uk archives; validates every
row; keeps one copy of each force-month; keeps the study area's rows (by LSOA code,
else by the borough polygon); projects to British National Grid; and joins wards and
local areas. Nothing is lost silently: every row read is accepted, rejected (with its
reason, in :attr:`LoadResult.rejects`) or counted as outside the study area, and
:meth:`LoadResult.reconciles` checks ``rows_in == accepted + rejected + outside_area``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import BNG, WGS84, transformer
from geo.errors import DataValidationError, InputError
from geo.join import join_areas, lsoa_at
from geo.police_uk import ParsedFile, parse_police_uk
from geo.sources import expand_paths, iter_sources
from geo.study_area import StudyArea
from geo.validate import reason_kind

__all__ = [
    "MAX_LOAD_ROWS",
    "REJECT_COLUMNS",
    "LoadResult",
    "finish_incidents",
    "load_incidents",
    "lonlat_points",
    "project_lonlat",
]

MAX_LOAD_ROWS = 4_000_000
"""Most rows one load may read (over every file and archive member): about 7 GB at the
measured 1.7 KB of peak memory per real row. Each file is also limited by
:data:`geo.sources.MAX_FILE_BYTES` and :data:`geo.sources.MAX_FILE_LINES`."""

REJECT_COLUMNS = ["source_file", "row", "reason", "raw"]


_TEXT = ("crime_id", "location", "lsoa_name", "outcome", "context")

_KEEP = [
    "source_file",
    "row",
    "crime_id",
    "month",
    "datetime",
    "force",
    "location",
    "lsoa_code",
    "lsoa_name",
    "crime_type",
    "outcome",
    "context",
    "has_location",
    "x",
    "y",
]


def project_lonlat(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 degrees to British National Grid metres, NaN where there is no point.

    Parameters
    ----------
    lon, lat
        Degrees (NaN for rows without a location).

    Returns
    -------
    x, y : numpy.ndarray
        Metres; NaN wherever the input was NaN (pyproj itself returns infinity there).
    """
    x, y = transformer(WGS84, BNG).transform(np.asarray(lon, float), np.asarray(lat, float))
    x, y = np.asarray(x, float), np.asarray(y, float)
    bad = ~(np.isfinite(x) & np.isfinite(y))
    x[bad] = np.nan
    y[bad] = np.nan
    return x, y


def lonlat_points(
    lon: np.ndarray, lat: np.ndarray, *, threads: int = 2
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Project WGS84 degrees to British National Grid points, in parallel for many.

    Many rows on few points (police.uk's snap points) are projected once per distinct
    point, the rows sharing its (immutable) shapely point. Otherwise pyproj and shapely
    let go of Python's lock while they work, so the rows are cut in ``threads`` pieces
    done at once.

    Parameters
    ----------
    lon, lat
        Degrees (NaN for rows without a location).
    threads
        Pieces worked on at once (inputs under 50,000 rows are done in one).

    Returns
    -------
    x, y : numpy.ndarray
        Metres, NaN where there is no point (as :func:`project_lonlat`).
    geometry : numpy.ndarray
        Shapely points, None where there is no point.

    Examples
    --------
    >>> x, y, g = lonlat_points(np.array([-1.3, np.nan]), np.array([50.97, np.nan]))
    >>> round(float(x[0])), g[1] is None
    (449248, True)
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    n = len(lon)
    if n >= 10_000:
        # police.uk snaps rows to a few thousand anonymised points: project and make each
        # distinct point once (one district's 266,430 rows are on about 5,000 points).
        where, back = np.unique(lon + 1j * lat, return_inverse=True)
        if len(where) <= n // 4:
            x, y, geom = lonlat_points(where.real, where.imag, threads=1)
            return x[back], y[back], geom[back]

    def piece(a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, y = project_lonlat(lon[a:b], lat[a:b])
        geom = shapely.points(x, y)
        geom[~(np.isfinite(x) & np.isfinite(y))] = None
        return x, y, geom

    if threads < 2 or n < 50_000:
        return piece(0, n)
    cuts = np.linspace(0, n, threads + 1).astype(int)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        parts = list(pool.map(piece, cuts[:-1], cuts[1:]))
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))


@dataclass
class LoadResult:
    """What loading produced, and the account of every row read.

    Attributes
    ----------
    incidents
        Accepted rows in the study area (EPSG:27700), joined to areas.
    rejects
        Rejected rows: ``source_file``, ``row``, ``reason``, ``raw``.
    rows_in
        Data rows read from the files kept (duplicate force-months excluded).
    outside_area
        Valid rows outside the study area.
    duplicate_files
        One dict per force-month dropped because it was already loaded:
        ``source_file``, ``force``, ``month``, ``rows``, ``kept_from``.
    files
        One row per file: name, encoding, months, rows, accepted, rejected, outside.
    skipped
        ``(name, reason)`` for archive members and files not read.
    """

    incidents: gpd.GeoDataFrame
    rejects: pd.DataFrame
    rows_in: int
    outside_area: int
    duplicate_files: list[dict] = field(default_factory=list)
    files: pd.DataFrame = field(default_factory=pd.DataFrame)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        """Rows kept for analysis."""
        return len(self.incidents)

    @property
    def rejected(self) -> int:
        """Rows rejected, each with a reason."""
        return len(self.rejects)

    @property
    def without_location(self) -> int:
        """Accepted rows with no coordinates: counted by LSOA, not mapped."""
        return int((~self.incidents["has_location"]).sum()) if len(self.incidents) else 0

    def reconciles(self) -> bool:
        """Whether ``rows_in == accepted + rejected + outside_area``."""
        return self.rows_in == self.accepted + self.rejected + self.outside_area

    def problems(self) -> list[str]:
        """One message per rejected row: ``file: line N: column: reason; what to do``."""
        return [
            f"{name}: line {row}: {reason}"
            for name, row, reason in self.rejects[["source_file", "row", "reason"]].itertuples(
                index=False
            )
        ]

    def raise_if_rejected(self) -> None:
        """Raise if any row was rejected, listing every rejected row at once.

        Raises
        ------
        DataValidationError
            Naming each rejected row's file, line, column and the fix.
        """
        if self.rejected:
            files = sorted(set(self.rejects["source_file"]))
            raise DataValidationError(", ".join(files), self.problems())

    def summary(self) -> dict:
        """The counts as a JSON-ready dict."""
        return {
            "rows_in": self.rows_in,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "outside_area": self.outside_area,
            "without_location": self.without_location,
            "duplicate_files": self.duplicate_files,
            "duplicate_rows": int(sum(d["rows"] for d in self.duplicate_files)),
            "reconciles": self.reconciles(),
            "files": self.files.to_dict(orient="records"),
            "skipped": [{"name": n, "reason": r} for n, r in self.skipped],
            "reject_reasons": (
                reason_kind(self.rejects["reason"]).value_counts().to_dict()
                if len(self.rejects)
                else {}
            ),
        }


def _parse_all(paths: list[str | Path]) -> tuple[list[ParsedFile], list[tuple[str, str]]]:
    parsed: list[ParsedFile] = []
    skipped: list[tuple[str, str]] = []
    problems: list[str] = []
    rows = 0
    for item in iter_sources_safe(paths, problems):
        if isinstance(item, tuple):
            skipped.append(item)
            continue
        try:
            parsed.append(parse_police_uk(item))
        except InputError as exc:
            problems.append(str(exc))
            continue
        rows += len(parsed[-1].rows)
        if rows > MAX_LOAD_ROWS:
            msg = (
                f"{item.name}: the files given hold more than {MAX_LOAD_ROWS:,} rows, more than "
                "one load may hold in memory. Load fewer months or forces at a time."
            )
            raise InputError(msg)
    if problems:
        if len(problems) == 1:
            raise InputError(problems[0])
        source = f"{len(problems)} unusable files"
        raise DataValidationError(source, problems)
    return parsed, skipped


def iter_sources_safe(paths: list[str | Path], problems: list[str]):
    """Yield sources, collecting per-file problems instead of stopping at the first."""
    for p in paths:
        try:
            items = list(expand_paths([p]))
        except InputError as exc:
            problems.append(str(exc))
            continue
        for item in items:
            if isinstance(item, tuple):
                yield item
                continue
            try:
                yield from iter_sources([item])
            except InputError as exc:
                problems.append(str(exc))


def _drop_duplicate_months(parsed: list[ParsedFile]) -> tuple[list[pd.DataFrame], list[dict]]:
    seen: dict[tuple[str, str], str] = {}
    frames, dups = [], []
    for pf in parsed:
        df = pf.rows
        f_codes, forces = pd.factorize(df["force"])
        m_codes, months = pd.factorize(df["month"])
        pair = f_codes.astype(np.int64) * len(months) + m_codes
        drop = np.zeros(len(df), dtype=bool)
        fresh = {}
        for k in np.unique(pair):
            force, month = forces[k // len(months)], months[k % len(months)]
            if (force, month) in seen and force and month:
                idx = pair == k
                drop |= idx
                dups.append(
                    {
                        "source_file": pf.name,
                        "force": force,
                        "month": month,
                        "rows": int(idx.sum()),
                        "kept_from": seen[(force, month)],
                    }
                )
            else:
                fresh[(force, month)] = pf.name
        seen.update(fresh)
        frames.append(df[~drop])
    return frames, dups


def load_incidents(
    paths: list[str | Path] | str | Path,
    area: StudyArea,
    *,
    study_lsoas: set[str] | None = None,
) -> LoadResult:
    """Read, validate, project and join police.uk street files.

    Parameters
    ----------
    paths
        Files, folders or police.uk archives (``.zip`` of ``YYYY-MM/`` folders), of
        any force; a single path is taken as a list of one (the shipped months are
        :func:`geo.paths.shipped_incident_paths`).
    area
        The study area: rows of its LSOAs are kept and joined to its areas.
    study_lsoas
        LSOA 2011 codes to keep, when only part of the area is wanted; all of the
        area's by default.

    Returns
    -------
    LoadResult

    Raises
    ------
    InputError
        If any file is unusable (empty, binary, not a police.uk file...). Every
        unusable file is named in one error.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    paths = list(paths)
    if not paths:
        msg = "no police.uk files given; give the street-level CSVs, folders or archives."
        raise InputError(msg)
    parsed, skipped = _parse_all(paths)
    if not parsed:
        why = "; ".join(f"{n}: {r}" for n, r in skipped) or "nothing to read"
        msg = (
            f"{', '.join(str(p) for p in paths)}: no police.uk street file found ({why}). "
            "Give the street-level CSVs (YYYY-MM-<force>-street.csv) or the download archive."
        )
        raise InputError(msg)
    frames, dups = _drop_duplicate_months(parsed)
    return finish_incidents(
        frames,
        area,
        encodings={pf.name: pf.encoding for pf in parsed},
        duplicate_files=dups,
        skipped=skipped,
        study_lsoas=study_lsoas,
        raw_of={pf.name: pf.raw_of for pf in parsed if pf.raw_of is not None},
    )


MAX_LSOA_GAP_M = 1000.0
"""A point farther than this from the LSOA its row names is rejected: police.uk moves
points to nearby map points (at most 17 m outside their own LSOA in the shipped
data), so a kilometre means the coordinates or the code are wrong."""


def _far_from_lsoa(
    points: np.ndarray, code: np.ndarray, ok: np.ndarray, lsoas: gpd.GeoDataFrame
) -> np.ndarray:
    polys = lsoas.set_index("code").geometry
    check = ok & pd.notna(points) & pd.Series(code).isin(polys.index).to_numpy()
    far = np.zeros(len(points), dtype=bool)
    if check.any():
        idx = np.flatnonzero(check)
        geoms = polys.reindex(code[idx]).to_numpy()
        d = shapely.distance(geoms, points[idx])
        far[idx[d > MAX_LSOA_GAP_M]] = True
    return far


def _far_reasons(
    points: np.ndarray, far: np.ndarray, code: np.ndarray, lsoas: gpd.GeoDataFrame
) -> np.ndarray:
    polys = lsoas.set_index("code").geometry
    idx = np.flatnonzero(far)
    d = shapely.distance(polys.reindex(code[idx]).to_numpy(), points[idx])
    return np.array(
        [
            f"Longitude/Latitude vs LSOA code: the point lies {m / 1000:.1f} km outside {c}, the LSOA "
            "the row names; one of them is wrong: check the coordinates and the code"
            for m, c in zip(d, code[idx], strict=True)
        ],
        dtype=object,
    )


def finish_incidents(
    frames: list[pd.DataFrame],
    area: StudyArea,
    *,
    encodings: dict[str, str],
    duplicate_files: list[dict],
    skipped: list[tuple[str, str]],
    study_lsoas: set[str] | None = None,
    raw_of: dict[str, Callable[[np.ndarray], list[str]]] | None = None,
) -> LoadResult:
    """Turn checked rows into a :class:`LoadResult` (shared by every reader).

    Parameters
    ----------
    frames
        Frames of rows in the reader's raw form: the incident columns plus ``lon``,
        ``lat`` (degrees) or ``x``, ``y`` (metres), ``no_location``, ``reason`` and
        ``raw``.
    area
        The study area whose rows are kept and joined to its areas.
    encodings
        Encoding by file name, for the per-file table.
    duplicate_files, skipped
        Passed through to the result.
    study_lsoas
        LSOA 2011 codes to keep; all of the area's by default.
    raw_of
        For each file, a function giving the lines as read at record positions
        (column ``_pos``), so rows rejected here keep their line in the rejects file.

    Returns
    -------
    LoadResult
    """
    lsoas = area.lsoas
    study = set(lsoas["code"]) if study_lsoas is None else set(study_lsoas)
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=_KEEP)
    rows_in = len(df)
    if "datetime" not in df.columns:
        df["datetime"] = pd.NaT
    reason = df["reason"].to_numpy(dtype=object).copy()
    ok = reason == ""
    code = df["lsoa_code"].to_numpy(dtype=object)
    has_code = code != ""
    projected = None  # the points of the rows projected here
    if "x" not in df.columns:
        # Project only the rows that may be kept: a whole force file is mostly outside.
        may_keep = ok & ~(has_code & ~pd.Series(code).isin(study).to_numpy())
        x = np.full(len(df), np.nan)
        y = np.full(len(df), np.nan)
        projected = np.full(len(df), None, dtype=object)
        x[may_keep], y[may_keep], projected[may_keep] = lonlat_points(
            df["lon"].to_numpy(float)[may_keep], df["lat"].to_numpy(float)[may_keep]
        )
        df["x"], df["y"] = x, y
    # Rows with no LSOA code but a point: place them by the LSOA polygon.
    need = ok & ~has_code & ~df["no_location"].to_numpy(bool)
    if need.any():
        found = lsoa_at(df["x"].to_numpy()[need], df["y"].to_numpy()[need], lsoas)
        code = code.copy()
        code[need] = found
        df["lsoa_code"] = code
        names = lsoas.set_index("code")["name"]
        df.loc[need, "lsoa_name"] = pd.Series(found).map(names).fillna("").to_numpy()
    preset = np.zeros(len(df), dtype=bool)
    for col in ("ward_code", "ward2002_code"):
        if col in df.columns:
            preset |= df[col].fillna("").to_numpy(dtype=object) != ""
    unplaced = ok & (code == "") & df["no_location"].to_numpy(bool) & ~preset
    reason[unplaced] = (
        "Longitude/Latitude/LSOA code: all empty, so the row cannot be placed in any area "
        "(police.uk 'No location' row)"
    )
    ok &= ~unplaced
    # Each kept row's point is made once: checked against its LSOA, then the geometry.
    x, y = df["x"].to_numpy(float), df["y"].to_numpy(float)
    located = ok & np.isfinite(x) & np.isfinite(y)
    points = np.full(len(df), None, dtype=object)
    if projected is not None:
        points[located] = projected[located]
    else:  # a reader that gave metres (a CSP log)
        points[located] = shapely.points(x[located], y[located])
    far = _far_from_lsoa(points, code, ok, lsoas)
    if far.any():
        reason[far] = _far_reasons(points, far, code, lsoas)
        ok &= ~far
    inside = ok & (pd.Series(code).isin(study).to_numpy() | ((code == "") & preset))
    outside = ok & ~inside
    rej = df.loc[~ok, ["source_file", "row"]].copy()
    rej["reason"] = reason[~ok]
    rej["raw"] = df.loc[~ok, "raw"].to_numpy()
    if raw_of and "_pos" in df.columns:
        # Rows rejected here (not by their reader) get the line as read too.
        missing = (rej["raw"] == "").to_numpy()
        for name, part in rej[missing].groupby("source_file"):
            if name in raw_of:
                rej.loc[part.index, "raw"] = raw_of[name](df.loc[part.index, "_pos"].to_numpy())
    acc = df.loc[inside].copy()
    for col in _TEXT:
        # Readers may leave text columns raw: only the kept rows are converted and stripped.
        if col in acc.columns:
            acc[col] = acc[col].astype(str).str.strip()
    acc["has_location"] = np.isfinite(acc["x"].to_numpy(float))
    geom = points[inside]
    for col in _KEEP:
        if col not in acc.columns:
            acc[col] = ""
    keep = _KEEP + [c for c in ("ward_code", "ward2002_code") if c in acc.columns]
    gdf = gpd.GeoDataFrame(acc[keep].reset_index(drop=True), geometry=geom, crs=BNG)
    gdf["row"] = gdf["row"].astype("int64")
    gdf = join_areas(gdf, area)

    per_file = pd.DataFrame(
        {
            "source_file": df["source_file"],
            "accepted": inside,
            "rejected": ~ok,
            "outside_area": outside,
        }
    )
    files = (
        per_file.groupby("source_file", sort=False)
        .agg(
            rows=("accepted", "size"),
            accepted=("accepted", "sum"),
            rejected=("rejected", "sum"),
            outside_area=("outside_area", "sum"),
        )
        .reset_index()
    )
    months = (
        df.loc[ok, ["source_file", "month"]]
        .drop_duplicates()
        .sort_values("month")
        .groupby("source_file", sort=False)["month"]
        .agg(",".join)
    )
    files["months"] = [months.get(f, "") for f in files["source_file"]]
    files.insert(1, "encoding", files["source_file"].map(encodings))
    return LoadResult(
        incidents=gdf,
        rejects=rej[REJECT_COLUMNS].reset_index(drop=True),
        rows_in=rows_in,
        outside_area=int(outside.sum()),
        duplicate_files=duplicate_files,
        files=files,
        skipped=skipped,
    )
