"""The Data view: what is loaded, loading the user's own files, and where every layer comes from.

A failed upload shows its one-line error and leaves the loaded data as it was: the
active dataset is replaced only when the new one loaded without error
(:func:`app_views.uploads.replace_dataset`).
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from app_views import state
from app_views import streets as street_files
from app_views.filters import Filters
from app_views.state import Dataset
from app_views.uploads import csp_columns, csp_dataset, first_line, police_dataset, replace_dataset
from geo.csp_log import ColumnMapping, date_order, guess_date_column, preview_rows
from geo.errors import InputError
from geo.paths import shipped_incident_paths
from geo.writers import csv_bytes

__all__ = ["SOURCES", "account_table", "render"]

SOURCES = pd.DataFrame(
    [
        (
            "Incidents (shipped)",
            "data/police_uk/",
            "police.uk street-level crime and ASB, Hampshire Constabulary, 2017-02 to 2017-05 "
            "and 2022-02",
            "Contains public sector information (police.uk) licensed under the "
            "Open Government Licence v3.0",
        ),
        (
            "Wards 2018 and 2002, LSOA 2011, borough outline",
            "boundaries/eastleigh.gpkg",
            "ONS boundaries; GeoJSON conversions by Martin Chorley (UK-GeoJSON) and Open "
            "Innovations (geography-bits)",
            "Source: Office for National Statistics licensed "
            "under the OGL v3.0. Contains OS data \u00a9 Crown copyright and database right "
            "(2014\u20132024). Conversions CC BY 4.0 / OGL v3",
        ),
        (
            "Local areas",
            "boundaries/ward_local_area.csv",
            "The council's five local areas as groups of wards (DOMAIN.md)",
            "OGL v3.0",
        ),
        (
            "Residents (rates per 1,000)",
            "data/population/",
            "Census 2021 residents; ward and local-area populations by output-area apportionment",
            "Source: Office for National Statistics, OGL v3.0",
        ),
        (
            "Schools",
            "data/places/schools_eastleigh_area.csv",
            "DfE Get Information about Schools",
            "OGL v3.0",
        ),
        (
            "Rail stations",
            "data/places/rail_stations_eastleigh_area.csv",
            "ORR / National Rail station list",
            "OGL v3.0",
        ),
        (
            "Place names (gazetteer)",
            "data/places/gazetteer.csv",
            "Derived in this service from police.uk points, schools, stations and ward "
            "centroids; each row says how",
            "As its sources",
        ),
        (
            "Friday Night Football venues",
            "data/venues/friday_night_football.csv",
            "The CSP's strategic review 2021/22 (locations approximate)",
            "Eastleigh CSP",
        ),
        (
            "Review tables 2021/22",
            "data/review_2021_22/",
            "Eastleigh CSP strategic review 2021/22, as printed",
            "Eastleigh CSP",
        ),
        (
            "Map",
            "xstatic-leaflet (pip package)",
            "Leaflet, served from the machine; no map tiles unless chosen in the sidebar",
            "Leaflet: BSD-2-Clause. Tiles, when chosen: \u00a9 OpenStreetMap contributors (ODbL)",
        ),
    ],
    columns=["layer", "file", "source", "licence and attribution"],
)
"""Where every layer comes from, with its attribution."""


def account_table(ds: Dataset) -> pd.DataFrame:
    """Rows in = accepted + rejected + outside the study area, as a small table."""
    r = ds.result
    return pd.DataFrame(
        [
            ("Rows read", r.rows_in),
            ("Accepted (in the borough)", r.accepted),
            ("  of which without a map point (counted by area, not mapped)", r.without_location),
            ("Rejected (each with a reason)", r.rejected),
            ("Outside the study area", r.outside_area),
            (
                "Duplicate force-month rows not read twice",
                int(sum(d["rows"] for d in r.duplicate_files)),
            ),
        ],
        columns=["", "rows"],
    )


def _account(ds: Dataset) -> None:
    r = ds.result
    st.subheader("What is loaded")
    st.markdown(f"**{ds.label}**: {r.accepted:,} incidents, months {', '.join(ds.months)}.")
    ok = r.reconciles()
    (st.success if ok else st.error)(
        f"Rows in {r.rows_in:,} = accepted {r.accepted:,} + rejected {r.rejected:,} + outside "
        f"the study area {r.outside_area:,}" + ("" if ok else ": DOES NOT ADD UP")
    )
    st.dataframe(account_table(ds), hide_index=True)
    if len(r.files):
        st.markdown("**Files**")
        files = r.files.assign(source_file=r.files["source_file"].map(lambda p: Path(p).name))
        st.dataframe(files, hide_index=True, width="stretch")
    for dup in r.duplicate_files:
        st.info(
            f"{dup['force']} {dup['month']} is kept from {Path(dup['kept_from']).name} (the "
            f"copy loaded first: an upload comes before the shipped data, as the newer "
            f"download); the copy in {Path(dup['source_file']).name} ({dup['rows']:,} rows) was "
            "not read twice. Two downloads of a month can differ in row order and in outcomes, "
            "which police.uk updates after publication."
        )
    for name, reason in r.skipped:
        st.caption(f"Skipped {name}: {reason}")
    if len(r.rejects):
        st.markdown(f"**Rejected rows** ({len(r.rejects):,})")
        reasons = r.rejects["reason"].str.split(":").str[0].value_counts()
        st.dataframe(reasons.rename_axis("reason").reset_index(name="rows"), hide_index=True)
        st.dataframe(r.rejects.head(200), hide_index=True, width="stretch")
        st.download_button(
            "Download the rejected rows (CSV)",
            csv_bytes(r.rejects),
            "rejected_rows.csv",
            "text/csv",
            key="dl_rejects",
        )
    else:
        st.caption("No row was rejected.")


def _report(ds: Dataset | None, error: str | None) -> None:
    if error is not None:
        st.error(f"Not loaded: {error} The data in use is unchanged.")
    elif ds is not None:
        st.session_state[_LOADED] = f"Loaded {ds.label}: {ds.result.accepted:,} incidents."
        st.rerun()


def _police_upload(limit_mb: int) -> None:
    st.markdown(
        "**police.uk street files**: one or more `YYYY-MM-<force>-street.csv` files "
        "or a police.uk archive (.zip). They are added to the shipped data; a force's "
        "month that is already there is replaced by the upload (the newer download), and "
        "the table below says so."
    )
    files = st.file_uploader(
        f"police.uk CSVs or archive (up to {limit_mb} MB each)",
        type=["csv", "zip"],
        accept_multiple_files=True,
        key="police_files",
    )
    if st.button("Load these police.uk files", key="load_police", disabled=not files):
        with st.spinner("Reading and checking every row\u2026"):
            ds, error = replace_dataset(
                lambda: police_dataset(
                    [(f.name, f.getvalue()) for f in files or []], base=shipped_incident_paths()
                )
            )
        _report(ds, error)


_NONE = "(not in the file)"
_LOADED = "_upload_loaded_message"


def _first_rows(content: bytes, n: int = 50) -> pd.DataFrame | None:
    """The first rows of an uploaded log as text, to guess the date column; None if unreadable."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            frame = pd.read_csv(
                io.BytesIO(content), dtype=str, nrows=n, keep_default_na=False, encoding=encoding
            )
        except UnicodeDecodeError:
            continue
        except (ValueError, pd.errors.ParserError):
            return None
        frame.columns = [str(c).strip() for c in frame.columns]
        return frame
    return None


def _csp_upload(limit_mb: int) -> None:
    st.markdown(
        "**A CSP log** (ASB case log, CCTV incidents): any CSV with a date, a type and "
        "a location (lat/lon, easting/northing, ward or LSOA code)."
    )
    up = st.file_uploader(f"CSP log CSV (up to {limit_mb} MB)", type=["csv"], key="csp_file")
    if up is None:
        return
    try:
        columns = csp_columns(up.name, up.getvalue())
    except InputError as exc:
        st.error(f"Not loaded: {first_line(exc)} The data in use is unchanged.")
        return
    options = [_NONE, *columns]

    def guess(*words: str) -> int:
        for i, c in enumerate(columns):
            if any(w in c.lower() for w in words):
                return i + 1
        return 0

    head = _first_rows(up.getvalue())
    guessed = guess_date_column(head) if head is not None else None
    # The date column is chosen outside the form, so the rows below follow the choice.
    date = st.selectbox(
        "Date (and time) column",
        options,
        options.index(guessed) if guessed in options else guess("date", "time", "when"),
        key="map_date",
        help="Guessed from the column names (Reported, Date, Occurred, Incident date...) "
        "and from which columns hold dates.",
    )
    if head is not None and date != _NONE and date in head.columns:
        st.markdown(f"**How the dates will be read:** {date_order(head[date].head(20))}.")
        try:
            with tempfile.TemporaryDirectory(prefix="hotspots_preview_") as tmp:
                path = Path(tmp) / "log.csv"
                path.write_bytes(up.getvalue())
                rows = preview_rows(path, date, n=5)
        except InputError as exc:
            st.warning(f"No preview: {first_line(exc)}")
        else:
            st.caption("The first rows as they will be read (date as read first):")
            st.table(rows.set_index("date as read"))

    with st.form("csp_mapping"):
        st.markdown("Which column holds what?")
        c1, c2, c3 = st.columns(3)
        kind = c2.selectbox("Type", options, guess("type", "category"), key="map_type")
        location = c3.selectbox(
            "Location text", options, guess("location", "street", "address"), key="map_location"
        )
        lat = c1.selectbox("Latitude", options, guess("lat"), key="map_lat")
        lon = c2.selectbox("Longitude", options, guess("lon", "lng"), key="map_lon")
        ward = c3.selectbox("Ward (name or code)", options, guess("ward"), key="map_ward")
        east = c1.selectbox("Easting", options, guess("easting"), key="map_easting")
        north = c2.selectbox("Northing", options, guess("northing"), key="map_northing")
        lsoa = c3.selectbox("LSOA 2011 code", options, guess("lsoa"), key="map_lsoa")
        submitted = st.form_submit_button("Load this log")
    if not submitted:
        return

    def col(v: str) -> str | None:
        return None if v == _NONE else v

    def load() -> Dataset:
        if col(date) is None or col(kind) is None:
            msg = f"{up.name}: choose the date and the type columns."
            raise InputError(msg)
        mapping = ColumnMapping(
            date=date,
            type=kind,
            lat=col(lat),
            lon=col(lon),
            easting=col(east),
            northing=col(north),
            ward=col(ward),
            lsoa=col(lsoa),
            location=col(location),
        )
        return csp_dataset(up.name, up.getvalue(), mapping, base=state.active_dataset())

    with st.spinner("Reading and checking every row\u2026"):
        ds, error = replace_dataset(load)
    _report(ds, error)


def _streets_upload(limit_mb: int) -> None:
    st.markdown(
        "**Streets**: road links for street names on the map and walking distances to "
        "venues: OS Open Roads (GeoPackage or GeoJSON), OS OpenMap Local roads, or an "
        "OpenStreetMap extract (.osm, .osm.pbf). Kept in your data folder, so you give it once."
    )
    problem = street_files.streets_problem()
    path = street_files.streets_path()
    if path is not None and problem is None:
        found = street_files.streets()
        share = found.attrs.get("cover_share")
        st.caption(
            f"In use: {path.name}, {len(found):,} road links"
            + (f", covering {share * 100:.1f}% of the study area" if share is not None else "")
            + "."
        )
    elif problem is not None:
        st.error(f"Streets not in use: {problem}")
    up = st.file_uploader(
        f"Street file (up to {limit_mb} MB)",
        type=list(street_files.STREET_SUFFIXES),
        key="streets_file",
    )
    if st.button("Use this street file", key="load_streets", disabled=up is None):
        try:
            saved = street_files.save_streets_file(up.name, up.getvalue())
        except (InputError, OSError) as exc:
            st.error(f"Not loaded: {first_line(exc)} The streets in use are unchanged.")
        else:
            st.session_state[_LOADED] = f"Streets loaded from {up.name} (kept as {saved})."
            st.rerun()


def _back_to_shipped() -> None:
    state.set_dataset(state.shipped_dataset())


def render(ds: Dataset, f: Filters) -> None:  # noqa: ARG001 - same signature as every view
    """Draw the Data view."""
    st.header("Data")
    loaded = st.session_state.pop(_LOADED, None)
    if loaded:
        st.success(loaded)
    limit_mb = int(st.get_option("server.maxUploadSize"))
    st.subheader("Load your own files")
    st.caption(
        f"Uploads are limited to {limit_mb} MB a file (server.maxUploadSize in "
        ".streamlit/config.toml). Files stay on this machine; a file that cannot be used is "
        "reported in one line and the data in use stays as it was."
    )
    tab1, tab2, tab3 = st.tabs(["police.uk files", "CSP log", "Streets"])
    with tab1:
        _police_upload(limit_mb)
    with tab2:
        _csp_upload(limit_mb)
    with tab3:
        _streets_upload(limit_mb)
    current = state.active_dataset()
    if not current.key.startswith(("shipped:", "store:")):
        st.button("Go back to the shipped data", key="back_to_shipped", on_click=_back_to_shipped)
    _account(current)
    st.subheader("Where every layer comes from")
    st.table(SOURCES.set_index("layer"))
