"""The app on a police.uk store (``hotspots app --store DIR``)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from analysis.rates import filter_incidents
from geo.boundaries import load_layer
from geo.io import load_incidents
from geo.paths import HAMPSHIRE_GPKG, NATIONAL_DIR, shipped_incident_paths
from geo.schema import POLICE_UK_COLUMNS
from geo.store_ingest import ingest
from geo.study_area import load_study_area

APP = Path(__file__).resolve().parents[2] / "app.py"
ARCHIVE = shipped_incident_paths("hampshire")[0]


def app_on_store(tmp_path: Path, monkeypatch, **session: object) -> AppTest:
    """The app run once on a store of the shipped Hampshire archive.

    ``session`` is set in the session state first; any exception fails the test.
    """
    ingest([ARCHIVE], tmp_path / "store")
    monkeypatch.setenv("HOTSPOTS_STORE", str(tmp_path / "store"))
    at = AppTest.from_file(str(APP), default_timeout=300)
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_the_app_reads_an_area_out_of_the_store(tmp_path, monkeypatch):
    at = app_on_store(tmp_path, monkeypatch, area="E06000045")
    assert not at.error, [e.value for e in at.error]
    ds = at.session_state["dataset"]
    assert ds.key.startswith("store:") and ds.area == "E06000045"
    assert ds.caveat == ""  # Hampshire's own file is there for every month
    # The same rows as the files give for Southampton, for the months on the slider.
    files = load_incidents([ARCHIVE], load_study_area("E06000045")).incidents
    first, last = at.sidebar.select_slider(key="months").value
    want = filter_incidents(files, types=["Anti-social behaviour"], month_from=first, month_to=last)
    got = next(m.value for m in at.metric if m.label == "Incidents")
    assert int(got.replace(",", "")) == len(want)
    if (NATIONAL_DIR / "boundaries" / "england_wales").exists():
        assert "Newcastle upon Tyne" in at.sidebar.selectbox(key="area").options


def test_the_national_view_rates_every_area_of_the_store(tmp_path, monkeypatch):
    if not (NATIONAL_DIR / "boundaries" / "england_wales").exists():
        return  # the national files live beside the repository (../shared/data)
    at = app_on_store(tmp_path, monkeypatch, view="National")
    table = at.dataframe[0].value
    counted = table[table["vs national"] != "no data"]
    # Only Hampshire's own force is in this store: its CSPs are the areas counted.
    csps = set(load_layer("districts", HAMPSHIRE_GPKG)["csp_code"])
    assert set(counted["code"]) == csps and "North Hampshire" in set(counted["name"])
    assert len(at.get("component_instance")) == 1  # the choropleth


def test_a_long_table_of_areas_scrolls_and_keeps_every_row(tmp_path, monkeypatch):
    if not (NATIONAL_DIR / "boundaries" / "england_wales").exists():
        return  # the national files live beside the repository (../shared/data)
    # Newcastle upon Tyne: 175 LSOAs (2011).
    at = app_on_store(tmp_path, monkeypatch, area="E08000021")
    # Over STATIC_TABLE_ROWS rows: a scrolling table, not a static one, with every area.
    assert not at.table
    (table,) = [d.value for d in at.dataframe if d.value.index.name == "Area"]
    assert len(table) == 175 and table.index.str.startswith("Newcastle upon Tyne ").all()


def test_months_without_the_areas_own_force_are_called_out(tmp_path, monkeypatch):
    if not (NATIONAL_DIR / "boundaries" / "england_wales").exists():
        return
    # Two British Transport Police rows at Newcastle station (LSOA E01008397), and no
    # Northumbria file: a month that looks quiet is a month the store does not have.
    csv = tmp_path / "2021-06-btp-street.csv"
    row = (
        ",2021-06,British Transport Police,British Transport Police,-1.616906,54.968327,"
        "On or near Newcastle (station),E01008397,Newcastle upon Tyne 030E,"
        "Anti-social behaviour,,"
    )
    csv.write_text(",".join(POLICE_UK_COLUMNS) + "\r\n" + (row + "\r\n") * 2)
    ingest([csv], tmp_path / "store")
    monkeypatch.setenv("HOTSPOTS_STORE", str(tmp_path / "store"))
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.session_state["area"] = "E08000021"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    said = " ".join(w.value for w in at.sidebar.warning)
    assert "no Northumbria police file for 2021-06" in said, said
    assert at.session_state["dataset"].caveat in said
    assert at.session_state["dataset"].months_held == ("2021-06",)
