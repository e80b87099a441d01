"""The shipped Hampshire months by default, any district or CSP of the force, and adding months.

Expected figures are computed here independently from the shipped archive and the
Census 2021 table (plain pandas on the police.uk rows' LSOA codes), not by the product.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from geo.boundaries import load_layer
from geo.paths import HAMPSHIRE_GPKG, shipped_incident_paths

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
ARCHIVE = shipped_incident_paths("hampshire")[0]
ASB = "Anti-social behaviour"


def hotspots(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HOTSPOTS_DATASET"}  # the default data
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
        check=False,
    )


def rows_of(lsoas: set[str], first: str, last: str, crime_type: str | None = None) -> int:
    """police.uk rows of the archive in these LSOAs and months, counted with pandas."""
    n = 0
    with zipfile.ZipFile(ARCHIVE) as z:
        for name in z.namelist():
            month = name.split("/")[0]
            if not name.endswith(".csv") or not first <= month <= last:
                continue
            df = pd.read_csv(z.open(name), dtype=str, keep_default_na=False)
            keep = df["LSOA code"].isin(lsoas)
            if crime_type:
                keep &= df["Crime type"] == crime_type
            n += int(keep.sum())
    return n


def table(out: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(out))


def test_rates_open_on_the_shipped_hampshire_months_for_eastleigh(tmp_path):
    out = tmp_path / "wards.csv"
    run = hotspots(
        "rates", "--type", ASB, "--from", "2021-04", "--to", "2022-03", "--out", str(out)
    )
    assert run.returncode == 0, run.stderr
    wards = table(out.read_text())
    assert len(wards) == 14
    assert wards["count"].sum() == 1923  # SOURCES.md: 1,923 Eastleigh ASB rows in the year
    assert wards["population"].sum() == 136_435
    lsoas = set(load_layer("lsoa_2011", ROOT / "boundaries" / "eastleigh.gpkg")["code"])
    assert rows_of(lsoas, "2021-04", "2022-03", ASB) == 1923


def test_without_months_the_commands_take_the_latest_twelve(tmp_path):
    run = hotspots("rates", "--level", "borough", "--out", str(tmp_path / "b.csv"))
    assert run.returncode == 0, run.stderr
    assert "months 2021-06 to 2022-05: the latest of the loaded months" in run.stdout
    lsoas = set(load_layer("lsoa_2011", ROOT / "boundaries" / "eastleigh.gpkg")["code"])
    assert table((tmp_path / "b.csv").read_text())["count"].sum() == rows_of(
        lsoas, "2021-06", "2022-05"
    )


@pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data (Census 2021 table)")
@pytest.mark.parametrize(
    ("area", "districts"),
    [
        ("E06000045", ["E06000045"]),
        ("North Hampshire", ["E07000084", "E07000089", "E07000092"]),
    ],
)
def test_any_area_counts_its_lsoas_rows_and_its_census_population(tmp_path, area, districts):
    lsoa11 = load_layer("lsoa_2011", HAMPSHIRE_GPKG)
    lsoas = set(lsoa11.loc[lsoa11["district"].isin(districts), "code"])
    census = pd.read_csv(
        SHARED / "population" / "england_wales" / "census2021_lsoa21_population.csv"
    )
    lsoa21 = load_layer("lsoa_2021", HAMPSHIRE_GPKG)
    codes21 = set(lsoa21.loc[lsoa21["district"].isin(districts), "code"])
    population = int(census.loc[census["lsoa21_code"].isin(codes21), "total_usual_residents"].sum())
    for level in ("lsoa", "ward", "borough"):
        out = tmp_path / f"{level}.csv"
        run = hotspots(
            "rates",
            "--area",
            area,
            "--from",
            "2021-04",
            "--to",
            "2022-03",
            "--level",
            level,
            "--out",
            str(out),
        )
        assert run.returncode == 0, run.stderr
        got = table(out.read_text())
        assert got["count"].sum() == rows_of(lsoas, "2021-04", "2022-03"), level
        assert got["population"].sum() == population, level


def test_an_unknown_area_is_one_line_naming_the_choices():
    run = hotspots("rates", "--area", "Atlantis")
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1
    assert "not a district or CSP of the Hampshire force" in run.stderr
    assert "Southampton (E06000045)" in run.stderr and "North Hampshire" in run.stderr


def test_shipped_plus_a_new_month_extends_the_data(tmp_path):
    # A whole-force month the product does not ship: the real May 2022 file relabelled
    # June 2022 (no later real month is held here).
    with zipfile.ZipFile(ARCHIVE) as z:
        text = z.read("2022-05/2022-05-hampshire-street.csv").decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    for r in rows[1:]:
        r[1] = "2022-06"
    june = tmp_path / "2022-06-hampshire-street.csv"
    with june.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    out = tmp_path / "b.csv"
    run = hotspots(
        "rates", "--incidents", "shipped", str(june), "--level", "borough", "--out", str(out)
    )
    assert run.returncode == 0, run.stderr
    assert "months 2021-07 to 2022-06" in run.stdout
    lsoas = set(load_layer("lsoa_2011", ROOT / "boundaries" / "eastleigh.gpkg")["code"])
    may = rows_of(lsoas, "2022-05", "2022-05")
    expected = rows_of(lsoas, "2021-07", "2022-05") + may  # June = May's rows, relabelled
    assert table(out.read_text())["count"].sum() == expected
    assert f"{len(rows) - 1 + 247_540:,}" in run.stdout  # rows read: the archive + June
