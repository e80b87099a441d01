"""The hotspot engine on the shipped real ASB (February-May 2017), through the CLI too."""

import json
import subprocess
import sys

import pytest

from analysis.coverage import hotspot_areas
from analysis.evaluate import evaluate_methods
from analysis.hotspots import detect_hotspots
from analysis.kde import kde_surface
from analysis.rates import filter_incidents
from cli import main
from tests.areas import EASTLEIGH

ASB = ["Anti-social behaviour"]


@pytest.fixture(scope="module")
def asb(shipped_result):
    return filter_incidents(
        shipped_result.incidents, types=ASB, month_from="2017-02", month_to="2017-05"
    )


@pytest.mark.parametrize("method", ["kde", "dbscan"])
def test_both_town_centres_are_among_the_top_five_named_so(asb, method):
    result = detect_hotspots(asb, EASTLEIGH, method=method)
    top5 = result.hotspots.head(5)["name"].tolist()
    assert "Eastleigh town centre" in top5
    assert "Hedge End town centre" in top5
    assert result.hotspots["rank"].tolist() == list(range(1, len(result.hotspots) + 1))
    assert result.hotspots["count"].is_monotonic_decreasing


def test_kde_reports_the_bandwidth_it_chose(asb):
    result = detect_hotspots(asb, EASTLEIGH, method="kde")
    assert result.params["bandwidth_rule"] == "cv"
    assert result.params["bandwidth_m"] > 0
    assert f"{result.params['bandwidth_m']:.4g} m" in result.notes[0]
    assert "cross-validation" in result.notes[0]


def test_a_wide_bandwidth_maps_on_coarser_cells_with_the_same_hotspots(asb):
    # 4,000 m spans 80 cells of 50 m: twice the 40 needed, so 100 m cells.
    wide = detect_hotspots(asb, EASTLEIGH, method="kde", bandwidth_m=4000.0)
    assert wide.params["cell_m"] == 100.0
    assert wide.surface.grid.cell_m == 100.0
    assert "Density on 100 m cells" in " ".join(wide.notes)
    located = asb[asb["has_location"].to_numpy(bool)]
    fine = kde_surface(located, bandwidth_m=4000.0, cell_m=50.0, study_area=EASTLEIGH.geometry)
    fine_area = hotspot_areas(fine, coverage=0.01, study_area=EASTLEIGH.geometry).union_all()
    coarse_area = wide.hotspots.union_all()
    overlap = fine_area.intersection(coarse_area).area / fine_area.union(coarse_area).area
    assert overlap > 0.85
    # 1,000 m spans 20 cells: the 50 m cells stay, and nothing is said.
    narrow = detect_hotspots(asb, EASTLEIGH, method="kde", bandwidth_m=1000.0)
    assert narrow.params["cell_m"] == 50.0
    assert not any("Density on" in n for n in narrow.notes)


def test_review_reference_layer_says_what_the_data_shows_at_hamble(asb):
    ref = detect_hotspots(asb, EASTLEIGH, method="dbscan").reference.set_index("place")
    assert set(ref.index) == {"Hamble foreshore", "Eastleigh town centre", "Hedge End town centre"}
    assert bool(ref.loc["Eastleigh town centre", "agrees"])
    # Few ASB reports near Hamble's foreshore in 2017: the engine says so, it invents nothing.
    assert ref.loc["Hamble foreshore", "incidents_within"] < 10
    assert not bool(ref.loc["Hamble foreshore", "agrees"])


def test_prospective_top_one_percent_holds_45_percent_with_defaults(shipped_result):
    inc = shipped_result.incidents
    train = filter_incidents(inc, types=ASB, month_from="2017-02", month_to="2017-03")
    test = filter_incidents(inc, types=ASB, month_from="2017-04", month_to="2017-05")
    table = evaluate_methods(
        train,
        test,
        coverages=[0.01],
        methods=["kde auto", "oracle (test)"],
        study_area=EASTLEIGH.geometry,
    )
    row = table.set_index("method").loc["kde auto"]
    assert row["area_share"] == pytest.approx(0.01, abs=0.001)
    assert row["hit_rate"] >= 0.45
    assert table.set_index("method").loc["oracle (test)", "hit_rate"] == pytest.approx(1.0)


def test_detect_command_writes_geojson_covering_one_percent(tmp_path, capsys):
    out = tmp_path / "kde.geojson"
    code = main(
        [
            "detect",
            "--type",
            ASB[0],
            "--from",
            "2017-02",
            "--to",
            "2017-05",
            "--method",
            "kde",
            "--coverage",
            "1",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    fc = json.loads(out.read_text())
    assert fc["type"] == "FeatureCollection"
    props = fc["features"][0]["properties"]
    assert {"rank", "name", "count", "share", "area_m2"} <= set(props)
    lon, lat = (
        fc["features"][0]["geometry"]["coordinates"][0][0][0][:2]
        if (fc["features"][0]["geometry"]["type"] == "MultiPolygon")
        else (fc["features"][0]["geometry"]["coordinates"][0][0][:2])
    )
    assert -1.6 < lon < -1.1 and 50.8 < lat < 51.1  # EPSG:4326 degrees
    covered = sum(f["properties"]["area_m2"] for f in fc["features"]) / EASTLEIGH.geometry.area
    assert covered == pytest.approx(0.01, abs=0.001)  # within a tenth of 1%
    assert "cover 1.0" in capsys.readouterr().out


def test_detect_rejects_a_nonsense_bandwidth_in_one_line(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli",
            "detect",
            "--method",
            "kde",
            "--bandwidth-m",
            "-5",
            "--out",
            str(tmp_path / "x.geojson"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "--bandwidth-m" in proc.stderr and "metres" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_hdbscan_is_an_option_of_the_engine(asb):
    result = detect_hotspots(asb, EASTLEIGH, method="hdbscan", min_samples=10)
    assert len(result.hotspots) > 0
    assert result.hotspots["count"].min() >= 10
    assert result.params == {"min_cluster_size": 10}
