"""The active dataset and the cached loaders the views share.

The dataset in use lives in ``st.session_state`` (one per browser session) and is
replaced only when an upload succeeds, so a failed upload never loses what was loaded.
Every loader is cached with Streamlit keyed on its inputs: files by path and
modification time, results by the dataset's key and the filter values. Frames are
passed to cached functions as ``_``-prefixed arguments (not hashed) next to the
dataset key that identifies them. Streamlit leaves ``_``-prefixed arguments out of the
cache key, so a file's stamp is always passed under a plain name.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from analysis.hotspots import HotspotResult, detect_hotspots
from analysis.kde import DensitySurface, kde_surface
from analysis.rates import area_rates, filter_incidents
from analysis.rolling import rolling_evaluation
from geo.boundaries import load_layer
from geo.errors import InputError
from geo.io import LoadResult, load_incidents
from geo.paths import (
    DATA_DIR,
    GAZETTEER_PATH,
    GPKG,
    HAMPSHIRE_GPKG,
    NATIONAL_DIR,
    REVIEW_DIR,
    SCHOOLS_PATH,
    STATIONS_PATH,
    VENUES_PATH,
    dataset_manifest,
    shipped_incident_paths,
)
from geo.places import load_gazetteer, load_schools, load_stations, load_venues, points_near
from geo.published import load_review_tables
from geo.store_query import (
    area_lookup,
    home_force_months,
    load_from_store,
    national_study_area,
    warm_national,
)
from geo.study_area import EASTLEIGH, DataFiles, StudyArea, load_study_area, warm_hampshire

__all__ = [
    "DATASET_KEY",
    "AREA_KEY",
    "area_choices",
    "area_code",
    "level_labels",
    "RESULTS_TTL",
    "Dataset",
    "active_dataset",
    "DISPLAY_BANDWIDTH_M",
    "borough",
    "core_area",
    "dataset_from_result",
    "display_density",
    "fault_message",
    "file_stamp",
    "filtered",
    "gazetteer",
    "hotspots",
    "level_areas",
    "method_accuracy",
    "rates",
    "results_key",
    "review_tables",
    "schools",
    "schools_near",
    "set_dataset",
    "with_sources",
    "POLICE_UK_SOURCE",
    "shipped_dataset",
    "shipped_month_problems",
    "show_input_error",
    "stations",
    "stations_near",
    "store_dir",
    "study_area",
    "user_dir",
    "venues",
    "venues_path",
]

RESULTS_TTL = "1h"
"""How long a cached result (filtered frame, rates, hotspots, tables, downloads) is kept
after it was computed: results of uploads no longer in use are freed. Every cache also
has ``max_entries``; ``benchmarks/README.md`` states the worst-case memory."""

DATASET_KEY = "dataset"
"""``st.session_state`` key of the active :class:`Dataset`."""

_LEVEL_ORDER = ("ward", "ward2002", "local_area", "district", "lsoa", "lsoa21")


def level_labels() -> dict[str, str]:
    """Boundary sets the user can choose in the study area, by level, in menu order."""
    levels = core_area().levels
    return {k: levels[k].label for k in _LEVEL_ORDER if k in levels}


POLICE_UK_SOURCE = "police.uk"
"""The source of police.uk rows, beside a CSP log's own name."""

AREA_KEY = "area"
"""``st.session_state`` key of the chosen study area's code."""


def area_code() -> str:
    """The study area in use: chosen in the sidebar, else ``$HOTSPOTS_AREA``, else Eastleigh."""
    return st.session_state.get(AREA_KEY) or os.environ.get("HOTSPOTS_AREA") or EASTLEIGH


@st.cache_resource(max_entries=1)
def _area_choices(stamp: tuple[str, float]) -> dict[str, str]:
    districts = load_layer("districts", Path(stamp[0]))
    out = {r.code: r.name for r in districts.sort_values("name").itertuples(index=False)}
    for (code, name), group in districts.groupby(["csp_code", "csp_name"]):
        if len(group) > 1:
            out[code] = f"{name} CSP ({', '.join(sorted(group['name']))})"
    return out


def store_dir() -> Path | None:
    """The police.uk store the app reads (``hotspots app --store DIR``), or None."""
    env = os.environ.get("HOTSPOTS_STORE")
    return Path(env) if env else None


@st.cache_resource(max_entries=1)
def _national_choices(stamp: tuple[str, float]) -> dict[str, str]:  # noqa: ARG001 - keys the cache
    out = {}
    for level, suffix in (("district", ""), ("csp", " CSP")):
        lk = area_lookup(level).drop_duplicates("code").sort_values("name")
        out.update(
            {
                c: f"{n}{suffix}"
                for c, n in zip(lk["code"], lk["name"], strict=True)
                if c and n and c not in out
            }
        )
    return out


def _warm_quietly(national: bool) -> None:
    # A failure here is reported where the tables are used, with its fix.
    with contextlib.suppress(Exception):
        warm_hampshire()
    if national:
        with contextlib.suppress(Exception):
            warm_national()


@st.cache_resource(max_entries=2)
def _warm(national: bool, stamp: tuple[str, float]) -> threading.Thread:  # noqa: ARG001 - keys the cache
    """Read the Hampshire layers (and national tables) in the background, once per process.

    The first view of another area then does not wait for them.
    """
    thread = threading.Thread(
        target=_warm_quietly, args=(national,), name="warm-areas", daemon=True
    )
    thread.start()
    return thread


def area_choices() -> dict[str, str]:
    """The areas to pick, code -> label.

    Every district and multi-district CSP of the Hampshire force; with a store, every
    district and CSP of England and Wales too.
    """
    hampshire = _area_choices(file_stamp(HAMPSHIRE_GPKG))
    _warm(store_dir() is not None, file_stamp(NATIONAL_DIR))
    if store_dir() is None:
        return hampshire
    try:
        national = _national_choices(file_stamp(NATIONAL_DIR))
    except (InputError, OSError) as exc:  # no national files: the Hampshire areas only
        st.sidebar.caption(f"Only the Hampshire areas: {str(exc).splitlines()[0]}")
        return hampshire
    return {**hampshire, **{c: n for c, n in national.items() if c not in hampshire}}


@dataclass(frozen=True)
class Dataset:
    """Incidents in use, with the key that caches everything computed from them.

    Attributes
    ----------
    key
        ``shipped:<hash of paths and mtimes>`` or ``upload:<hash of the bytes>``.
    label
        What the user loaded, in words.
    result
        The loader's result (incidents, rejects and the account of every row).
    area
        The code of the study area the incidents were cut to.
    caveat
        What the user must know before reading counts (e.g. months a store holds no
        file of the area's own police force for); empty when nothing.
    months_held
        The months rates are annualised over (a store's months of the area's own
        force); None: the months chosen.
    """

    key: str
    label: str
    result: LoadResult
    area: str = EASTLEIGH
    caveat: str = ""
    months_held: tuple[str, ...] | None = None

    @property
    def incidents(self) -> gpd.GeoDataFrame:
        """The accepted incidents (EPSG:27700)."""
        return self.result.incidents

    @property
    def months(self) -> list[str]:
        """Months present, oldest first."""
        return sorted(m for m in self.result.incidents["month"].unique() if m)

    @property
    def sources(self) -> list[str]:
        """Where the rows come from (police.uk, a CSP log...), most rows first."""
        inc = self.result.incidents
        if "source" not in inc.columns:
            return [POLICE_UK_SOURCE]
        return inc["source"].fillna(POLICE_UK_SOURCE).value_counts().index.tolist()

    @property
    def types(self) -> list[str]:
        """Crime types present, most common first."""
        return self.result.incidents["crime_type"].value_counts().index.tolist()


def file_stamp(path: Path) -> tuple[str, float]:
    """``(path, mtime)`` of a file: the cache key of anything read from it."""
    path = Path(path)
    return str(path), path.stat().st_mtime if path.exists() else -1.0


def _stamp_key(stamps: tuple[tuple[str, float], ...]) -> str:
    return hashlib.sha256(repr(stamps).encode()).hexdigest()[:16]


_CORE_FILES = ("gpkg", "hampshire", "population", "lsoa_wards")


@st.cache_resource(max_entries=4)
def _core_area(code: str, stamps: tuple[tuple[str, float], ...], store: str) -> StudyArea:
    paths = dict(zip(_CORE_FILES, (Path(p) for p, _ in stamps), strict=True))
    try:
        return load_study_area(code, files=DataFiles(**paths), with_places=False)
    except InputError:
        if not store:
            raise
        return national_study_area(code)  # outside Hampshire: from the national files


def core_area() -> StudyArea:
    """The study area without its places (cached on its boundary and population files).

    Areas, populations and the outline: what counts, rates and uploads need. The
    places are loaded one by one (:func:`gazetteer`, :func:`schools`, ...), so that a
    damaged one is named where it is used while the rest of the app carries on.
    """
    files = DataFiles()
    return _core_area(
        area_code(),
        tuple(file_stamp(getattr(files, f)) for f in _CORE_FILES),
        str(store_dir() or ""),
    )


@st.cache_resource(max_entries=2)
def _with_gazetteer(core_key: str, stamp: tuple[str, float]) -> StudyArea:  # noqa: ARG001 - keys the cache
    return dataclasses.replace(core_area(), gazetteer=load_gazetteer(Path(stamp[0])))


def study_area() -> StudyArea:
    """The study area with its gazetteer, for naming hotspots (cached on every file).

    Only Eastleigh has a gazetteer; elsewhere hotspots are named after their streets.
    """
    core = core_area()
    if core.code != EASTLEIGH:
        return core
    return _with_gazetteer(core.key, file_stamp(GAZETTEER_PATH))


@st.cache_resource(max_entries=4, show_spinner="Loading the shipped police.uk months\u2026")
def _load_shipped(stamps: tuple[tuple[str, float], ...], area_key: str) -> LoadResult:  # noqa: ARG001 - keys the cache
    store = store_dir()
    if store is not None:
        return load_from_store(store, core_area())
    return load_incidents([p for p, _ in stamps], core_area())


def shipped_dataset() -> Dataset:
    """The shipped real police.uk months (cached on their paths and mtimes)."""
    store = store_dir()
    stamps = (
        tuple(file_stamp(p) for p in sorted(store.glob("data/month=*")))
        if store is not None
        else tuple(file_stamp(p) for p in shipped_incident_paths())
    )
    area = core_area()
    result = _load_shipped(stamps, area.key)
    months = sorted(m for m in result.incidents["month"].unique() if m)
    span = f"{months[0]} to {months[-1]}" if months else "no months"
    home = home_force_months(store, area.code, months) if store is not None else None
    return Dataset(
        key=f"{'store' if store is not None else 'shipped'}:{_stamp_key(stamps)}:{area.code}",
        label=(
            f"police.uk store {store.name}, {area.name}, {span}"
            if store is not None
            else f"Shipped police.uk data, {area.name}, {span}"
        ),
        result=result,
        area=area.code,
        caveat=home.caveat if home else "",
        months_held=tuple(home.held) if home else None,
    )


def dataset_from_result(result: LoadResult, *, label: str, content: bytes) -> Dataset:
    """Wrap a loader result as a dataset keyed on the bytes it was read from."""
    digest = hashlib.sha256(content).hexdigest()[:16]
    code = area_code()
    return Dataset(key=f"upload:{digest}:{code}", label=label, result=result, area=code)


def active_dataset() -> Dataset:
    """The dataset in use in this session (the shipped data until an upload succeeds)."""
    ds = st.session_state.get(DATASET_KEY)
    if ds is None or ds.area != area_code():
        # A new area starts on the shipped data, cut to it.
        ds = shipped_dataset()
        st.session_state[DATASET_KEY] = ds
    return ds


def with_sources(ds: Dataset, sources: tuple[str, ...]) -> Dataset:
    """The dataset cut to some of its sources (all when ``sources`` is empty or all)."""
    if not sources or set(sources) >= set(ds.sources):
        return ds
    return _with_sources(ds, ds.key, tuple(sorted(sources)))


@st.cache_resource(max_entries=8, ttl=RESULTS_TTL)
def _with_sources(_ds: Dataset, key: str, sources: tuple[str, ...]) -> Dataset:
    inc = _ds.result.incidents
    keep = inc["source"].fillna(POLICE_UK_SOURCE).isin(sources).to_numpy()
    result = dataclasses.replace(_ds.result, incidents=inc[keep].reset_index(drop=True))
    return Dataset(
        key=f"{key}|{'+'.join(sources)}",
        label=f"{_ds.label} ({', '.join(sources)})",
        result=result,
        area=_ds.area,
    )


def set_dataset(ds: Dataset) -> None:
    """Make ``ds`` the active dataset (call only after it loaded without error)."""
    st.session_state[DATASET_KEY] = ds


# ------------------------------------------------------------------ faults in shipped files

# Advice a loader gives for a user's own file; for a shipped file the fix is to restore it.
_ADVICE = re.compile(
    r"(\. Restore it|\. Rebuild it|; re-save it|; check the path|\. Use GeoPackage).*$"
)


def _restore(rel: str) -> str:
    fix = f"restore it with git checkout -- {rel}"
    if rel.startswith("boundaries/"):
        fix += " (or rebuild it with scripts/build_boundaries.py)"
    elif rel.startswith("data/population/"):
        fix += " (or rebuild it with scripts/build_populations.py)"
    return fix


def fault_message(exc: BaseException) -> str | None:
    """One line for an error about a shipped file: the file, what is wrong and the fix.

    Parameters
    ----------
    exc
        An error from a loader; its message names the file it could not use.

    Returns
    -------
    str or None
        ``"Shipped file <file> is missing. Fix: restore it with git checkout -- <file>."``
        (or ``"... is damaged (<what>). Fix: ..."``) when the message names the shipped
        GeoPackage or a file under the shipped data folder, else None (the error is
        about something else).
    """
    text = " ".join(str(exc).split()) or type(exc).__name__
    if str(GPKG) in text:
        path, rel = str(GPKG), "boundaries/eastleigh.gpkg"
    else:
        found = re.search(re.escape(str(DATA_DIR)) + r"[/\\]([^\s:;,()'\"]+)", text)
        if found is None:
            return None
        path, rel = found.group(0), "data/" + found.group(1).replace("\\", "/")
    if not Path(path).exists():
        return f"Shipped file {rel} is missing. Fix: {_restore(rel)}."
    what = _ADVICE.sub("", text.replace(f"{path}: ", "").replace(path, rel)).rstrip(". ")
    if len(what) > 240:
        what = what[:240] + "\u2026"
    return f"Shipped file {rel} is damaged ({what}). Fix: {_restore(rel)}."


def show_input_error(what: str, exc: BaseException, *, quiet: bool = False) -> None:
    """Say on the page why ``what`` cannot be shown.

    A damaged or missing shipped file is an error naming the file and its fix
    (:func:`fault_message`); any other input problem is a warning (a caption when
    ``quiet``, for optional layers) with the error's message.

    Parameters
    ----------
    what
        What could not be shown, e.g. ``"No hotspots"``.
    exc
        The error.
    quiet
        Show a non-shipped-file problem as a caption (its first line) instead of a warning.
    """
    fault = fault_message(exc)
    if fault:
        st.error(f"{what}. {fault}")
    elif quiet:
        st.caption(f"{what}: {str(exc).splitlines()[0]}")
    else:
        st.warning(f"{what}: {exc}")


def _rel(path: Path) -> str:
    """A shipped path as the repository names it (``data/...``)."""
    try:
        return "data/" + Path(path).relative_to(DATA_DIR).as_posix()
    except ValueError:
        return str(path)


def _month_manifest() -> dict[str, int] | None:
    """File name -> rows of the shipped police.uk months, from their README's table."""
    readme = dataset_manifest()
    try:
        text = readme.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    rows = re.findall(r"^\|\s*([^|\s]+\.csv)\s*\|\s*([\d,]+)\s*\|", text, flags=re.MULTILINE)
    return {name: int(n.replace(",", "")) for name, n in rows} or None


def shipped_month_problems(ds: Dataset) -> list[str]:
    """One line per shipped police.uk month that is missing or damaged (none for uploads).

    The shipped months are checked against the table of files and rows in the dataset's
    README (``data/police_uk/README.md``): a listed file that is missing, a file read with a
    different number of rows (cut short, or lines joined by damage), or any rejected
    row (the shipped files have none) is reported with the fix.
    """
    if not ds.key.startswith("shipped:"):
        return []
    manifest = _month_manifest()
    files = ds.result.files
    read = (
        {}
        if files.empty
        else {
            Path(f).name: r
            for f, r in zip(files["source_file"], files.itertuples(index=False), strict=True)
        }
    )
    out = []
    readme = _rel(dataset_manifest())
    if manifest is None:
        out.append(
            f"Shipped file {readme} is missing or damaged, so the shipped "
            f"months cannot be checked. Fix: restore it with git checkout -- {readme}."
        )
        manifest = {}
    shipped = shipped_incident_paths()
    archive = next((p for p in shipped if p.suffix == ".zip"), None)
    for name, rows in manifest.items():
        # A month inside the shipped archive is restored with the archive.
        rel = _rel(archive) if archive else _rel(dataset_manifest().parent / name)
        got = read.get(name)
        if got is None:
            out.append(
                f"Shipped file {rel} is missing: the app shows the {len(read)} other "
                f"month file(s). Fix: {_restore(rel)}."
            )
        elif got.rows != rows or got.rejected:
            reasons = ds.result.rejects.loc[
                ds.result.rejects["source_file"].map(lambda f: Path(str(f)).name) == name,
                "reason",
            ]
            first = f"; first: {reasons.iloc[0].split(':')[0]}" if len(reasons) else ""
            out.append(
                f"Shipped file {rel} is damaged ({got.rows:,} rows read where it has "
                f"{rows:,}; {got.rejected:,} rejected{first}): rejected rows are left out. "
                f"Fix: {_restore(rel)}."
            )
    return out


# ------------------------------------------------------------------ boundaries, places


def level_areas(level: str) -> gpd.GeoDataFrame:
    """Polygons of an area level with population (from the cached study area)."""
    return core_area().areas(level)


def borough() -> gpd.GeoDataFrame:
    """The study area's outline (EPSG:27700)."""
    return core_area().outline


def gazetteer() -> gpd.GeoDataFrame:
    """Named places (EPSG:27700)."""
    return study_area().gazetteer


@st.cache_resource(max_entries=4)
def _points(what: str, path: str, mtime: float) -> gpd.GeoDataFrame:  # noqa: ARG001 - keys the cache
    return (load_schools if what == "schools" else load_stations)(Path(path))


def schools() -> gpd.GeoDataFrame:
    """Schools (EPSG:27700), cached on the file's path and mtime."""
    return _points("schools", *file_stamp(SCHOOLS_PATH))


def stations() -> gpd.GeoDataFrame:
    """Rail stations (EPSG:27700), cached on the file's path and mtime."""
    return _points("stations", *file_stamp(STATIONS_PATH))


@st.cache_resource(max_entries=4)
def _near(what: str, keys: tuple, buffer_m: float) -> gpd.GeoDataFrame:  # noqa: ARG001 - keys the cache
    frame = schools() if what == "schools" else stations()
    return points_near(frame, core_area().geometry, buffer_m)


def schools_near(buffer_m: float = 1000.0) -> gpd.GeoDataFrame:
    """Schools in the study area or within ``buffer_m`` of it."""
    return _near("schools", (core_area().key, file_stamp(SCHOOLS_PATH)), buffer_m)


def stations_near(buffer_m: float = 1000.0) -> gpd.GeoDataFrame:
    """Rail stations in the study area or within ``buffer_m`` of it."""
    return _near("stations", (core_area().key, file_stamp(STATIONS_PATH)), buffer_m)


def user_dir() -> Path:
    """Folder for the user's own copies (venues): ``$HOTSPOTS_USER_DIR`` or ~/.local/share."""
    env = os.environ.get("HOTSPOTS_USER_DIR")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".local" / "share" / "eastleigh-hotspots"


def venues_path() -> Path:
    """The venue file in use: the user's saved copy if there is one, else the shipped file."""
    own = user_dir() / VENUES_PATH.name
    return own if own.exists() else VENUES_PATH


@st.cache_data(max_entries=8)
def _venues(path: str, mtime: float) -> gpd.GeoDataFrame:  # noqa: ARG001 - keys the cache
    return load_venues(Path(path))


def venues() -> gpd.GeoDataFrame:
    """The Friday Night Football venues in use (cached on path and mtime)."""
    path, mtime = file_stamp(venues_path())
    return _venues(path, mtime)


@st.cache_data(max_entries=2)
def _review_tables(stamp: str) -> dict[str, pd.DataFrame]:  # noqa: ARG001 - keys the cache
    return load_review_tables(REVIEW_DIR)


def review_tables() -> dict[str, pd.DataFrame]:
    """The review's published 2021/22 tables (cached on the folder's file mtimes)."""
    stamp = repr(sorted(file_stamp(p) for p in Path(REVIEW_DIR).glob("*.csv")))
    return _review_tables(stamp)


# ------------------------------------------------------------------ results


@st.cache_resource(max_entries=8, ttl=RESULTS_TTL)
def _filtered(
    _ds: Dataset,
    cache_key: str,  # noqa: ARG001 - keys the cache for the unhashed frames
    types: tuple[str, ...],
    month_from: str,
    month_to: str,
) -> gpd.GeoDataFrame:
    return filter_incidents(
        _ds.incidents, types=list(types), month_from=month_from, month_to=month_to
    )


def results_key(ds: Dataset) -> str:
    """The cache key of results computed from ``ds`` in the study area.

    It changes with the data and with any file the study area is built from (the
    gazetteer names hotspots), so no result outlives a file it was computed from.
    """
    return f"{ds.key}:{core_area().key}"


def filtered(
    ds: Dataset, types: tuple[str, ...], month_from: str, month_to: str
) -> gpd.GeoDataFrame:
    """Incidents of the chosen types and months (cached; do not modify the result)."""
    return _filtered(ds, ds.key, tuple(types), month_from, month_to)


@st.cache_data(max_entries=64, ttl=RESULTS_TTL)
def _rates(
    _ds: Dataset,
    cache_key: str,  # noqa: ARG001 - keys the cache for the unhashed frames
    level: str,
    types: tuple[str, ...],
    month_from: str,
    month_to: str,
) -> pd.DataFrame:
    return area_rates(
        _ds.incidents,
        core_area().level(level),
        types=list(types),
        month_from=month_from,
        month_to=month_to,
        months_held=_ds.months_held,
    )


def rates(
    ds: Dataset, level: str, types: tuple[str, ...], month_from: str, month_to: str
) -> pd.DataFrame:
    """Counts and rates per 1,000 with exact Poisson intervals (cached)."""
    return _rates(ds, ds.key, level, tuple(types), month_from, month_to)


@st.cache_data(max_entries=32, ttl=RESULTS_TTL, show_spinner="Finding hotspots\u2026")
def _hotspots(
    _ds: Dataset,
    cache_key: str,  # noqa: ARG001 - keys the cache for the unhashed frames
    types: tuple[str, ...],
    month_from: str,
    month_to: str,
    params: tuple[tuple[str, object], ...],
) -> HotspotResult:
    kwargs = dict(params)
    if kwargs.get("method") == "patrol":
        # The other crime types of the same months are inputs of the risk surface.
        kwargs["history"] = filtered(_ds, (), month_from, month_to)
    return detect_hotspots(filtered(_ds, types, month_from, month_to), study_area(), **kwargs)


@st.cache_data(
    max_entries=16, ttl=RESULTS_TTL, show_spinner="Scoring the method on the loaded months\u2026"
)
def _method_accuracy(
    _ds: Dataset,
    cache_key: str,  # noqa: ARG001 - keys the cache for the unhashed frames
    types: tuple[str, ...],
    month_from: str,
    month_to: str,
    method: str,
) -> pd.DataFrame:
    return rolling_evaluation(
        filtered(_ds, (), month_from, month_to),
        types=types,
        study_area=study_area().geometry,
        methods=(method,),
    ).summary


def method_accuracy(
    ds: Dataset, types: tuple[str, ...], month_from: str, month_to: str, method: str
) -> pd.DataFrame:
    """Rolling-origin accuracy of one method on the chosen months (cached).

    Parameters
    ----------
    ds
        The loaded data.
    types
        The chosen crime types.
    month_from, month_to
        The months whose splits are scored (each fitted on the months before its origin
        and scored on the three after).
    method
        A method of :data:`analysis.rolling.ROLLING_METHODS` (or ``kde N m``).

    Returns
    -------
    pandas.DataFrame
        :attr:`analysis.rolling.RollingResult.summary`: one row per coverage.
    """
    return _method_accuracy(ds, results_key(ds), tuple(types), month_from, month_to, method)


DISPLAY_BANDWIDTH_M = 150.0
"""Bandwidth of the density layer when the hotspots' own is narrower than a 50 m cell's
worth of smoothing: a 6.25 m surface is the count per 50 m cell, a speckle of two-pixel
squares at the borough's zoom, so the layer a user looks at is smoothed for reading
while the hotspots keep the bandwidth that predicts best."""


@st.cache_resource(max_entries=8, ttl=RESULTS_TTL, show_spinner="Smoothing the density layer\u2026")
def _display_density(
    _ds: Dataset,
    cache_key: str,  # noqa: ARG001 - keys the cache
    types: tuple[str, ...],
    month_from: str,
    month_to: str,
) -> DensitySurface:
    sub = filtered(_ds, types, month_from, month_to)
    located = sub[sub["has_location"].to_numpy(bool)]
    return kde_surface(
        located, bandwidth_m=DISPLAY_BANDWIDTH_M, cell_m=50.0, study_area=core_area().geometry
    )


def display_density(
    ds: Dataset, types: tuple[str, ...], month_from: str, month_to: str, hs: HotspotResult
) -> tuple[DensitySurface | None, str]:
    """The density layer for the map, and what its legend says of its bandwidth.

    The hotspots' own surface when its bandwidth is at least 50 m; otherwise a surface
    at :data:`DISPLAY_BANDWIDTH_M` (cached), labelled as smoothed for display.

    Returns
    -------
    tuple of (analysis.kde.DensitySurface or None, str)
    """
    surface = hs.surface
    if surface is None:
        return None, ""
    if surface.bandwidth_m >= 50.0:
        return surface, f"{surface.bandwidth_m:.4g} m"
    shown = _display_density(ds, results_key(ds), tuple(types), month_from, month_to)
    return shown, (
        f"{DISPLAY_BANDWIDTH_M:.0f} m for reading; hotspots use {surface.bandwidth_m:.4g} m"
    )


def hotspots(
    ds: Dataset, types: tuple[str, ...], month_from: str, month_to: str, params: dict
) -> HotspotResult:
    """Hotspots of the chosen incidents by the chosen method (cached on every input).

    Returns
    -------
    analysis.hotspots.HotspotResult
    """
    return _hotspots(
        ds, results_key(ds), tuple(types), month_from, month_to, tuple(sorted(params.items()))
    )
