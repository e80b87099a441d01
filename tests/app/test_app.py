"""The Streamlit app driven by Streamlit's AppTest, on the shipped real data.

Every view renders without an exception; changing a filter changes what is shown (and
the numbers shown are checked against the analysis functions called directly); a
failed upload leaves the loaded data untouched; a successful one replaces it; data
strings reach the map escaped; venue edits are saved to the user's copy only.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analysis.emerging import emerging_hotspots
from analysis.hotspots import detect_hotspots
from analysis.periods import contiguous_runs, default_months, previous_period
from analysis.rates import area_rates, filter_incidents
from analysis.siting import hotspot_demand, venue_change_effect
from app_views.filters import VIEWS
from app_views.patrol import md_escape
from app_views.tasking import suggest_period
from app_views.uploads import safe_name
from geo.paths import VENUES_PATH, shipped_incident_paths
from geo.places import load_venues
from geo.schema import ASB, LOCAL_AREAS
from render.map import EMERGING_COLOURS
from tests.areas import EASTLEIGH
from tests.render.test_emerging_layer import legend_rows, legend_sections

APP = Path(__file__).resolve().parents[2] / "app.py"
ASB_MONTHS = ("2017-02", "2017-05")  # the app's default: the longest run of months


def run_app(**session: object) -> AppTest:
    """Run the app once with some session state set, and fail on any exception."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}; metrics: {[m.label for m in at.metric]}"
    return found[0]


def as_int(text: str) -> int:
    return int(text.replace(",", ""))


def map_scripts(at: AppTest) -> list[str]:
    """The Leaflet script of every st_folium map on the page."""
    return [json.loads(e.proto.json_args)["script"] for e in at.get("component_instance")]


def asb(result, months=ASB_MONTHS, types=(ASB,)):
    return filter_incidents(
        result.incidents, types=list(types), month_from=months[0], month_to=months[1]
    )


# ------------------------------------------------------------------ plain helpers


def test_month_helpers_on_the_shipped_months():
    months = ["2017-02", "2017-03", "2017-04", "2017-05", "2022-02"]
    assert contiguous_runs(months) == [months[:4], ["2022-02"]]
    assert default_months(months) == ("2017-02", "2017-05")
    assert previous_period("2017-04", "2017-05") == ("2017-02", "2017-03")
    assert previous_period("2022-02", "2022-02") == ("2022-01", "2022-01")
    assert previous_period("2017-01", "2017-03") == ("2016-10", "2016-12")
    assert suggest_period(months) == ("2017-04", "2017-05")
    assert suggest_period(["2022-02"]) is None


def test_markdown_cells_cannot_add_markup_and_upload_names_lose_folders():
    assert md_escape("a|b") == "a\\|b"
    assert md_escape("<img src=x>") == "\\<img src=x\\>"
    assert md_escape("[x](javascript:alert(1))") == "\\[x\\]\\(javascript:alert\\(1\\)\\)"
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\me\\2017-02-hampshire-street.csv") == (
        "2017-02-hampshire-street.csv"
    )
    assert safe_name("..") == "upload.csv"


# ------------------------------------------------------------------ every view


@pytest.mark.parametrize("view", VIEWS)
def test_every_view_renders_without_exception(view):
    at = run_app(view=view)
    assert [h.value for h in at.header] == [view]
    assert not at.error, [e.value for e in at.error]


def test_map_view_shows_the_counts_and_a_map_of_wards_and_hotspots(shipped_result):
    at = run_app()
    expected = len(asb(shipped_result))
    assert as_int(metric(at, "Incidents")) == expected
    assert as_int(metric(at, "Total in the table")) == expected
    (script,) = map_scripts(at)
    assert (
        "Eastleigh Central" in script and "Hamble \\u0026amp; Netley" in script
    )  # escaped, then JSON-encoded
    hs = detect_hotspots(
        asb(shipped_result), EASTLEIGH, method="kde", bandwidth_m="auto", coverage=0.01
    )
    assert as_int(metric(at, "Hotspots")) == len(hs.hotspots) > 0
    assert hs.hotspots["name"].iloc[0] in script
    # The default bandwidth is data-driven, and the app says what it chose.
    chosen = (
        f"KDE bandwidth {hs.params['bandwidth_m']:.4g} m, chosen by likelihood cross-validation"
    )
    assert any(chosen in c.value for c in at.caption)


def test_changing_the_crime_type_changes_counts_and_map(shipped_result):
    at = run_app()
    before = map_scripts(at)[0]
    at.multiselect(key="types").set_value(["Shoplifting"])
    rerun(at)
    expected = len(asb(shipped_result, types=("Shoplifting",)))
    assert expected != len(asb(shipped_result))
    assert as_int(metric(at, "Total in the table")) == expected
    after = map_scripts(at)[0]
    assert after != before and "Shoplifting" in after


def test_changing_the_boundary_set_changes_the_area_table():
    at = run_app()
    assert len(at.table[0].value) == 14
    at.selectbox(key="level").set_value("local_area")
    rerun(at)
    assert set(at.table[0].value.index) == set(LOCAL_AREAS)
    at.selectbox(key="level").set_value("lsoa")
    rerun(at)
    assert len(at.table[0].value) == 77


def test_rate_measure_and_method_change_the_map(shipped_result):
    at = run_app()
    kde_script = map_scripts(at)[0]
    at.radio(key="measure").set_value("rate")
    rerun(at)
    label = "ASB, per 1,000 residents a year, 2017-02 to 2017-05"
    assert label in map_scripts(at)[0] and label not in kde_script
    at.selectbox(key="method").set_value("dbscan")
    rerun(at)
    hs = detect_hotspots(asb(shipped_result), EASTLEIGH, method="dbscan")
    assert as_int(metric(at, "Hotspots")) == len(hs.hotspots)
    assert '"dbscan"' in map_scripts(at)[0]


def test_clicking_an_area_opens_its_profile(shipped_result):
    # Eastleigh town centre (the Friday Night Football venue's point) lies in Eastleigh Central.
    at = run_app(main_map={"last_clicked": {"lat": 50.966442, "lng": -1.3532}})
    assert at.selectbox(key="profile_area").value == "E05011191"
    assert "Eastleigh Central" in [s.value for s in at.subheader]
    rates = area_rates(
        shipped_result.incidents,
        EASTLEIGH.level("ward"),
        types=[ASB],
        month_from=ASB_MONTHS[0],
        month_to=ASB_MONTHS[1],
    ).set_index("code")
    row = rates.loc["E05011191"]
    assert metric(at, "Rate per 1,000 residents a year") == f"{row['rate_per_1000']:.2f}"
    assert as_int(metric(at, "ASB, 2017-02 to 2017-05")) == row["count"]
    # Choosing another area in the list opens that one instead.
    at.selectbox(key="profile_area").set_value("E05011188")
    rerun(at)
    assert "Botley" in [s.value for s in at.subheader]


# ------------------------------------------------------------------ other views


def test_patrol_plan_lists_the_hotspots_with_four_downloads(shipped_result):
    at = run_app(view="Patrol plan")
    plan = at.dataframe[0].value
    assert len(plan) == as_int(metric(at, "Hotspots")) > 0
    assert list(plan["Rank"]) == list(range(1, len(plan) + 1))
    assert plan["Incidents"].is_monotonic_decreasing
    assert "Peak days" not in plan.columns  # police.uk has months only
    labels = [b.label for b in at.get("download_button")]
    assert labels[:4] == ["CSV", "GeoJSON", "GeoPackage", "HTML map"]


def test_tasking_review_compares_this_period_with_the_previous_one(shipped_result):
    at = run_app(view="Tasking review", tasking_mode="sidebar")
    assert any("No data is loaded for the previous period" in w.value for w in at.warning)
    at.button(key="tasking_suggest").click()
    rerun(at)
    assert at.select_slider(key="months").value == ("2017-04", "2017-05")
    prev = len(asb(shipped_result, ("2017-02", "2017-03")))
    this = len(asb(shipped_result, ("2017-04", "2017-05")))
    assert as_int(metric(at, "Previous period (2017-02 to 2017-03)")) == prev
    assert as_int(metric(at, "This period (2017-04 to 2017-05)")) == this
    change = at.dataframe[0].value
    assert change["before"].sum() == prev and change["after"].sum() == this
    statuses = sum(
        as_int(metric(at, s)) for s in ("New", "Intensifying", "Persistent", "Diminishing", "Gone")
    )
    assert statuses > 0
    assert len(map_scripts(at)) == 1


def test_tasking_review_maps_the_emerging_hot_spots_of_the_sidebar_months(shipped_result):
    # The sidebar opens on 2017-02..2017-05, four consecutive months: the emerging hot
    # spots are classed over them and drawn (the latest month, 2022-02, has neither its
    # month before nor its year before loaded, so the comparison draws no map).
    at = run_app(view="Tasking review")
    (script,) = map_scripts(at)
    res = emerging_hotspots(
        asb(shipped_result),
        study_area=EASTLEIGH.geometry,
        months=["2017-02", "2017-03", "2017-04", "2017-05"],
    )
    drawn = res.summary[res.summary["class"] != "no pattern detected"]
    assert len(drawn) and "persistent hot spot" in set(drawn["class"])
    for klass in drawn["class"]:
        assert f'"colour": "{EMERGING_COLOURS[klass]}"' in script, klass
    rows = legend_rows(legend_sections(script)["emerging"])
    assert rows == [
        f"{c} ({n} bin{'s' * (n != 1)})" for c, n in zip(drawn["class"], drawn["bins"], strict=True)
    ]
    summary = at.dataframe[0].value
    assert list(summary["pattern"]) == list(res.summary["class"])


def test_venue_siting_states_the_share_before_and_after_hedge_end(shipped_result):
    at = run_app(view="Venue siting")
    hs = detect_hotspots(
        asb(shipped_result), EASTLEIGH, method="kde", bandwidth_m="auto", coverage=0.01
    )
    demand = hotspot_demand(asb(shipped_result), hs.hotspots)
    effect = venue_change_effect(
        load_venues(VENUES_PATH), demand, radius_m=800.0, add=["Friday Night Football Hedge End"]
    )
    assert metric(at, "Running venues") == f"{effect['share_before'] * 100:.1f}%"
    after = metric(at, "After adding Friday Night Football Hedge End")
    assert after == f"{effect['share_after'] * 100:.1f}%"
    assert effect["share_after"] > effect["share_before"]
    # A larger reach reaches at least as much.
    at.slider(key="reach_m").set_value(1500)
    rerun(at)
    wider = float(metric(at, "Running venues").rstrip("%"))
    assert wider >= effect["share_before"] * 100


def test_saving_venues_writes_the_user_copy_only(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTSPOTS_USER_DIR", str(tmp_path))
    shipped = hashlib.sha256(VENUES_PATH.read_bytes()).hexdigest()
    at = run_app(view="Venue siting")
    at.button(key="save_venues").click()
    rerun(at)
    saved = tmp_path / VENUES_PATH.name
    assert saved.exists(), [s.value for s in at.success] + [e.value for e in at.error]
    assert list(load_venues(saved)["name"]) == list(load_venues(VENUES_PATH)["name"])
    assert hashlib.sha256(VENUES_PATH.read_bytes()).hexdigest() == shipped


# ------------------------------------------------------------------ uploads


def _upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.file_uploader(key="police_files").set_value((name, content, "text/csv"))
    rerun(at)
    at.button(key="load_police").click()
    return rerun(at)


def test_data_view_accounts_for_every_row_and_states_the_upload_limit(shipped_result):
    at = run_app(view="Data")
    assert any("200 MB" in c.value for c in at.caption)
    account = at.dataframe[0].value.set_index("")["rows"]
    assert account["Rows read"] == shipped_result.rows_in
    assert account["Accepted (in the borough)"] == shipped_result.accepted
    assert (
        account["Accepted (in the borough)"]
        + account["Rejected (each with a reason)"]
        + account["Outside the study area"]
    ) == account["Rows read"]


def test_a_failed_upload_shows_one_line_and_leaves_the_data_untouched():
    at = run_app(view="Data")
    key = at.session_state["dataset"].key
    at = _upload(at, "2017-02-hampshire-street.csv", b"this is,not a police.uk file\n1,2\n")
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("Not loaded: ")
    assert "\n" not in errors[0]
    assert at.session_state["dataset"].key == key
    at.radio(key="view").set_value("Map")
    rerun(at)
    assert as_int(metric(at, "Incidents")) > 1000  # still the shipped months


def test_an_upload_adds_to_the_shipped_data_and_replaces_its_month(shipped_result):
    # Uploading a month that is shipped too: the upload (the newer download) is kept and
    # the shipped copy is reported as the duplicate; every other month stays.
    path = next(p for p in shipped_incident_paths() if p.name.startswith("2022-02"))
    at = run_app(view="Data")
    at = _upload(at, path.name, path.read_bytes())
    assert any(s.value.startswith("Loaded Shipped data with 2022-02") for s in at.success)
    ds = at.session_state["dataset"]
    assert ds.months == ["2017-02", "2017-03", "2017-04", "2017-05", "2022-02"]
    (dup,) = ds.result.duplicate_files
    assert dup["month"] == "2022-02" and dup["source_file"] == str(path)
    assert dup["kept_from"].endswith(path.name) and dup["kept_from"] != str(path)
    assert ds.result.accepted == shipped_result.accepted


def test_data_strings_reach_the_map_and_plan_escaped():
    path = next(p for p in shipped_incident_paths() if p.name.startswith("2017-03"))
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    evil = "On or near <img src=x onerror=alert(1)>"
    raw.loc[raw["LSOA name"].str.startswith("Eastleigh"), "Location"] = evil
    at = run_app(view="Data")
    at = _upload(at, path.name, raw.to_csv(index=False).encode())
    at.radio(key="view").set_value("Patrol plan")
    rerun(at)
    streets = at.dataframe[0].value["Streets"]
    streets = streets[streets != ""]  # a KDE hotspot can hold no incident point itself
    # The upload replaces the shipped March and adds to the other months, whose rows keep
    # their own streets: the string reaches the plan (and only escaped, below).
    assert streets.str.contains("<img src=x", regex=False).sum() > len(streets) / 2
    for script in map_scripts(at):
        assert "<img src=x" not in script and "\\u003cimg src=x" not in script
        assert "\\u0026lt;img src=x" in script or "&lt;img src=x" in script
    printable = [m.value for m in at.markdown if "\\<img" in m.value]
    assert printable and not any(re.search(r"(?<!\\)<img", m.value) for m in at.markdown)


def test_a_csp_log_with_times_loads_through_the_mapping_form_and_shows_peak_hours():
    # 40 ASB reports on four evenings around Eastleigh town centre (lat/lon near the venue).
    lines = ["Date reported,Category,Latitude,Longitude,Place"]
    for i in range(40):
        day = 3 + (i % 4) * 7  # Fridays in March 2017: 3, 10, 17, 24
        lat, lon = 50.9664 + (i % 5) * 0.0003, -1.3532 + (i % 3) * 0.0003
        lines.append(f"{day:02d}/03/2017 2{i % 3}:15,ASB youths,{lat:.5f},{lon:.5f},Market St")
    content = ("\n".join(lines) + "\n").encode()
    at = run_app(view="Data")
    at.file_uploader(key="csp_file").set_value(("asb_log.csv", content, "text/csv"))
    rerun(at)
    assert at.selectbox(key="map_date").value == "Date reported"
    assert at.selectbox(key="map_lat").value == "Latitude"
    at.selectbox(key="map_type").set_value("Category")
    submit = [b for b in at.button if b.label == "Load this log"]
    assert submit
    submit[0].click()
    rerun(at)
    assert any("with CSP log asb_log.csv" in s.value for s in at.success), [
        e.value for e in at.error
    ]
    # The log is a source beside the police.uk rows, not instead of them.
    ds = at.session_state["dataset"]
    assert "ASB youths" in ds.types and "Anti-social behaviour" in ds.types
    assert ds.sources[0] == "police.uk" and len(ds.sources) == 2
    assert (ds.incidents["crime_type"] == "ASB youths").sum() == 40
    at.multiselect(key="sources").set_value([ds.sources[1]])  # the log alone
    at.multiselect(key="types").set_value(["ASB youths"])
    at.radio(key="view").set_value("Patrol plan")
    at.selectbox(key="method").set_value("dbscan")
    rerun(at)
    at.number_input(key="eps_m").set_value(100)
    at.number_input(key="min_samples").set_value(5)
    rerun(at)
    plan = at.dataframe[0].value
    assert {"Peak days", "Peak hours"} <= set(plan.columns)
    assert plan["Peak days"].iloc[0].startswith("Fri")
    assert "20:00-21:00" in plan["Peak hours"].iloc[0]


def test_kde_accuracy_is_measured_on_request_with_hit_rate_pai_and_pei(monkeypatch):
    # The 15 Hampshire months: enough for rolling-origin splits.
    monkeypatch.setenv("HOTSPOTS_DATASET", "hampshire")
    at = run_app(method="kde")
    assert not any("How far to trust it" in c.value for c in at.caption)
    at.toggle(key="measure_method").set_value(True)
    rerun(at)
    found = [c.value for c in at.caption if "How far to trust it" in c.value]
    assert len(found) == 1, [c.value for c in at.caption]
    assert found[0].count("PEI") == 3 and "splits" in found[0]


def test_too_few_months_say_why_the_accuracy_is_not_measured():
    # The test data's longest run is four months: too few for a split.
    at = run_app(method="kde", measure_method=True)
    assert not any("How far to trust it" in c.value for c in at.caption)
    assert any("Accuracy not measured" in e.value for e in [*at.error, *at.warning])


def test_a_choice_the_next_area_lacks_comes_back_where_it_exists():
    at = run_app()
    at.selectbox(key="level").set_value("local_area")
    rerun(at)
    # Winchester has no local areas: its first boundary set is used, and shown.
    at.sidebar.selectbox(key="area").set_value("E07000094")
    rerun(at)
    assert at.selectbox(key="level").value == "ward"
    assert at.selectbox(key="level").options[0] == "Wards (2025)"
    # Back in Eastleigh, the local areas chosen there come back.
    at.sidebar.selectbox(key="area").set_value("E07000086")
    rerun(at)
    assert at.selectbox(key="level").value == "local_area"
    # A choice made meanwhile stands: LSOAs chosen in Winchester stay LSOAs.
    at.sidebar.selectbox(key="area").set_value("E07000094")
    rerun(at)
    at.selectbox(key="level").set_value("lsoa")
    rerun(at)
    at.sidebar.selectbox(key="area").set_value("E07000086")
    rerun(at)
    assert at.selectbox(key="level").value == "lsoa"
