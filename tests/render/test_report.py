"""The review and tasking packs, and the report files written from them.

Figures are checked against the review's published numbers and against
:func:`analysis.rates.area_rates` on the shipped police.uk data; the pages are checked
for remote assets, escaping and formula-safe CSV; the PDF is printed by Debian's
Chromium when it is installed.
"""

from __future__ import annotations

import csv
import html
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from analysis.change import STATUSES
from analysis.emerging import EMERGING_CLASSES
from analysis.rates import area_rates, filter_incidents
from cli import main
from geo.crs import BNG
from geo.errors import InputError
from geo.schema import ASB
from packs import (
    NOT_IN_POLICE_UK,
    PUBLISHED,
    Chart,
    Pack,
    Table,
    computed_note,
    review_pack,
    tasking_pack,
)
from packs.maps import basemap_for
from render.colours import EMERGING_COLOURS
from render.leaflet_offline import remote_assets
from render.report import write_report
from tests.areas import EASTLEIGH, REVIEW_TABLES
from tests.packs.test_disclosure import integer_recoveries, linear_recoveries

CHROMIUM = Path("/usr/bin/chromium")
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(1)>"
LOCAL_AREAS_2021_22 = {
    "Eastleigh": 621,
    "Hedge End, West End and Botley": 453,
    "Bursledon, Hamble-le-Rice and Hound": 388,
    "Bishopstoke, Fair Oak and Horton Heath": 187,
    "Chandler's Ford and Hiltingbury": 167,
}
TOP_WARDS_2021_22 = {
    "Hamble": 36.36,
    "Eastleigh Central": 28.96,
    "Eastleigh South": 27.92,
    "Hedge End Wildern": 22.47,
}


@pytest.fixture(scope="module")
def incidents(shipped_result):
    return shipped_result.incidents


@pytest.fixture(scope="module")
def review(incidents):
    return review_pack(
        ("2021-04", "2022-03"), incidents, review_tables=REVIEW_TABLES, area=EASTLEIGH
    )


@pytest.fixture(scope="module")
def review_files(review, tmp_path_factory):
    return write_report(review, tmp_path_factory.mktemp("review"), pdf=False)


@pytest.fixture(scope="module")
def tasking(incidents):
    return tasking_pack("2017-05", incidents, area=EASTLEIGH)


@pytest.fixture(scope="module")
def tasking_files(tasking, tmp_path_factory):
    return write_report(tasking, tmp_path_factory.mktemp("tasking"), pdf=False)


@pytest.fixture(scope="module")
def suppressed(incidents):
    return tasking_pack(
        "2017-03..2017-05", incidents, suppress_below=5, bandwidth_m=100, area=EASTLEIGH
    )


def _pages(files) -> list[str]:
    page = files.html.read_text(encoding="utf-8")
    return [page, *(html.unescape(d) for d in re.findall(r'srcdoc="([^"]*)"', page))]


# --------------------------------------------------------------------------- review


def test_review_2021_22_carries_the_published_figures(review):
    tables = {t.key: t for t in review}
    for key in (
        "crime_by_type",
        "crime_by_month",
        "asb_by_quarter",
        "asb_by_local_area",
        "top_wards",
        "cctv_by_month",
        "hate_crime",
        "arson_by_quarter",
    ):
        assert tables[key].source_note.startswith(PUBLISHED), key
    crime = tables["crime_by_type"].frame
    assert crime.iloc[-1]["count"] == 8287 and len(crime) == 15
    assert tables["crime_by_month"].frame.iloc[-1]["count"] == 8287
    quarters = tables["asb_by_quarter"].frame.set_index("quarter")
    total = quarters.loc["Total (sum of quarters)"]
    assert (total["2021-22"], total["2020-21"]) == (1816, 2183)
    assert total["change_on_year_before_pct"] == -16.81
    key = tables["key_figures"].frame.set_index("measure")["value"]
    assert key["Recorded crimes"] == 8287 and key["ASB incidents, 2021/22"] == 1816
    assert key["ASB change on the year before (%)"] == -16.81
    areas = tables["asb_by_local_area"].frame.set_index("local_area")["count"]
    assert {k: areas[k] for k in LOCAL_AREAS_2021_22} == LOCAL_AREAS_2021_22
    assert areas["Borough"] == 1816
    wards = tables["top_wards"].frame.set_index("ward")["per_1000"].to_dict()
    assert wards == TOP_WARDS_2021_22
    # the hotspot map of 2021/22 is computed from the one month the data holds, and says so
    assert tables["hotspots"].source_note == "computed from police.uk data for February 2022"
    assert tables["hotspots"].layers["hotspots"].crs == BNG


def test_review_page_and_csvs_carry_the_figures(review_files):
    page = review_files.html.read_text(encoding="utf-8")
    for text in ("8,287", "1,816", "2,183", "\u221216.81", "Published table from the 2021/22"):
        assert text in page
    for name, n in LOCAL_AREAS_2021_22.items():
        assert html.escape(name) in page and f"{n:,}" in page
    for name, rate in TOP_WARDS_2021_22.items():
        assert html.escape(name) in page and f"{rate:.2f}" in page
    by_name = {p.name: p for p in review_files.csvs}
    quarters = pd.read_csv(by_name["08_asb_by_quarter.csv"])
    assert quarters["2021-22"].iloc[-1] == 1816
    assert quarters["change_on_year_before_pct"].iloc[-1] == -16.81


def test_review_for_a_period_the_data_covers_is_computed_from_it(incidents):
    pack = review_pack(
        "2017-02..2017-05", incidents, bandwidth_m=100, review_tables=REVIEW_TABLES, area=EASTLEIGH
    )
    note = "computed from police.uk data for February 2017 to May 2017"
    tables = {t.key: t for t in pack}
    for key in ("CCTV", "hate", "arson", "domestic"):
        match = [t for t in pack if key.lower() in t.key]
        assert match and all(t.source_note == NOT_IN_POLICE_UK and t.frame.empty for t in match)
    for key in ("crime_by_type", "crime_by_month", "asb_by_quarter", "asb_by_local_area"):
        assert tables[key].source_note == note, key
    sub = filter_incidents(incidents, month_from="2017-02", month_to="2017-05")
    assert tables["crime_by_type"].frame.iloc[-1]["count"] == int((sub["crime_type"] != ASB).sum())
    rates = area_rates(
        incidents,
        EASTLEIGH.level("local_area"),
        types=[ASB],
        month_from="2017-02",
        month_to="2017-05",
    )
    la = tables["asb_by_local_area"].frame.set_index("local_area")
    for r in rates.itertuples():
        assert la.loc[r.code, "count"] == r.count
        assert la.loc[r.code, "per_1000"] == round(r.rate_per_1000, 2)
    wards = area_rates(
        incidents, EASTLEIGH.level("ward"), types=[ASB], month_from="2017-02", month_to="2017-05"
    )
    top = tables["top_wards"].frame
    assert top["name"].tolist() == wards["name"].head(4).tolist()
    assert top["ci_low"].tolist() == wards["ci_low"].head(4).round(2).tolist()
    assert "the loaded data does not" in " ".join(tables["asb_by_quarter"].notes)


def test_review_refuses_a_period_the_data_does_not_cover(incidents):
    with pytest.raises(InputError, match=r"holds 4 of its 5 months \(missing 2017-01\)"):
        review_pack("2017-01..2017-05", incidents, review_tables=REVIEW_TABLES, area=EASTLEIGH)


# --------------------------------------------------------------------------- tasking


def test_tasking_may_2017_reconciles_with_area_rates(tasking, incidents):
    t = {x.key: x for x in tasking}
    for level, key, col in (("ward", "wards", "name"), ("local_area", "local_areas", "local_area")):
        frame = t[key].frame.set_index(col)
        for month, label in (("2017-05", "this_month"), ("2017-04", "last_month")):
            rates = area_rates(
                incidents, EASTLEIGH.level(level), types=[ASB], month_from=month, month_to=month
            )
            for r in rates.itertuples():
                assert frame.loc[r.name if level == "ward" else r.code, label] == r.count
    by_type = t["by_type"].frame.set_index("crime_type")
    assert by_type.loc["All types", "this_month"] == int((incidents["month"] == "2017-05").sum())
    assert by_type.loc["All types", "last_month"] == int((incidents["month"] == "2017-04").sum())
    may = area_rates(
        incidents, EASTLEIGH.level("ward"), types=[ASB], month_from="2017-05", month_to="2017-05"
    )
    higher = may[may["vs_borough"] == "higher"]["name"].tolist()
    assert t["wards_above"].frame["name"].tolist() == higher
    assert "May 2016" in " ".join(tasking.notes) and "not in the loaded data" in tasking.notes[0]
    assert set(t["hotspot_change"].frame["status"]) <= set(STATUSES)
    patrol = t["patrol"].frame
    assert patrol["count"].iloc[0] >= patrol["count"].iloc[-1] > 0
    assert patrol["top_streets"].str.len().gt(0).all()


def test_tasking_says_when_last_month_is_missing(incidents):
    pack = tasking_pack("2022-02", incidents, method="dbscan", area=EASTLEIGH)
    assert "Last month (January 2022) is not in the loaded data" in pack.notes[0]
    change = pack["hotspot_change"]
    assert change.frame.empty and "cannot be classed" in change.notes[0]
    with pytest.raises(InputError, match="not in the incident data"):
        tasking_pack("2018-05", incidents, area=EASTLEIGH)
    # one month, not four consecutive ones: no emerging hot spots, and the notes say why
    assert "emerging" not in [t.key for t in pack]
    assert (
        "No emerging hot spots: they need at least 4 consecutive months ending February 2022, "
        "and the data holds 1 (February 2022)." in pack.notes
    )


def _located_asb(incidents, months):
    asb = filter_incidents(incidents, types=[ASB])
    return asb[asb["has_location"].to_numpy(bool) & asb["month"].isin(months)]


def test_tasking_may_2017_classes_emerging_hot_spots_over_february_to_may(tasking, incidents):
    t = tasking["emerging"]
    months = ["2017-02", "2017-03", "2017-04", "2017-05"]
    assert t.title == "Emerging hot spots, February 2017 to May 2017"
    assert t.section == "hotspots" and t.source_note == computed_note(months)
    assert t.notes[0].startswith("Months used: February 2017 to May 2017 (4 consecutive months")
    layer = t.layers["emerging"]
    assert len(layer) and "no pattern detected" not in set(layer["class"])
    # Each drawn bin's count is the located ASB incidents inside its 200 m square in
    # those four months, counted here from the points.
    asb = _located_asb(incidents, months)
    x, y = asb["x"].to_numpy(), asb["y"].to_numpy()
    for geom, count in zip(layer.geometry, layer["count"], strict=True):
        x0, y0, x1, y1 = geom.bounds
        assert (x1 - x0, y1 - y0) == (200, 200)
        assert count == int(((x >= x0) & (x < x1) & (y >= y0) & (y < y1)).sum())
    # The table: one row per hot spot bin of the map, by incidents (most first), then class.
    frame = t.frame
    hot = layer[layer["class"].str.endswith(" hot spot")]
    assert list(frame.columns) == ["class", "place", "incidents", "hot_months", "trend_z"]
    assert len(frame) == len(hot) > 0
    assert sorted(frame["incidents"]) == sorted(hot["count"])
    assert frame["incidents"].is_monotonic_decreasing
    for _, rows in frame.groupby("incidents"):
        assert rows["class"].map(EMERGING_CLASSES.index).is_monotonic_increasing
    # ArcGIS's definitions over four months: new = hot in May only; persistent = hot in
    # at least 90% of months, so all four; consecutive = a run of two or three up to May.
    by_class = frame.groupby("class")["hot_months"]
    assert set(by_class.get_group("new hot spot")) == {1}
    assert set(by_class.get_group("persistent hot spot")) == {4}
    assert set(by_class.get_group("consecutive hot spot")) <= {2, 3}
    # Every bin is named after the gazetteer, as the hotspots are.
    names = set(EASTLEIGH.gazetteer["name"])
    assert all(p.removeprefix("near ") in names for p in frame["place"])
    # The notes say what each class present means, with its bins.
    counts = layer["class"].value_counts()
    for klass, n in counts.items():
        line = next(x for x in t.notes if x.startswith(klass.capitalize() + " ("))
        assert line.startswith(f"{klass.capitalize()} ({n} bin")
    assert any(x.startswith("Persistent hot spot") and "no clear trend" in x for x in t.notes)


def test_tasking_emerging_hot_spots_need_four_months_and_use_at_most_twelve(incidents):
    april = tasking_pack("2017-04", incidents, bandwidth_m=100, area=EASTLEIGH)
    assert "emerging" not in [t.key for t in april]
    assert (
        "No emerging hot spots: they need at least 4 consecutive months ending April 2017, "
        "and the data holds 3 (February 2017 to April 2017)." in april.notes
    )
    # Sixteen consecutive months (the four of 2017 shifted back by 4, 8 and 12 months):
    # the last twelve are used.
    spring = incidents[incidents["month"].between("2017-02", "2017-05")]
    copies = [
        spring.assign(month=spring["month"].map(lambda m, k=k: str(pd.Period(m, freq="M") - 4 * k)))
        for k in range(4)
    ]
    long = pd.concat(copies, ignore_index=True)
    assert len(set(long["month"])) == 16
    pack = tasking_pack("2017-05", long, bandwidth_m=100, area=EASTLEIGH)
    t = pack["emerging"]
    assert t.title == "Emerging hot spots, June 2016 to May 2017"
    assert t.notes[0].startswith("Months used: June 2016 to May 2017 (12 consecutive months")
    assert int(t.frame["hot_months"].max()) <= 12


def test_suppressed_tasking_pack_withholds_small_counts_everywhere(suppressed):
    counts = {
        "last_month",
        "this_month",
        "year_before",
        "count",
        "incidents",
        "2017-03",
        "2017-04",
        "2017-05",
    }
    for t in suppressed:
        for col in counts & set(t.frame.columns):
            shown = [v for v in t.frame[col] if not isinstance(v, str)]
            assert not any(1 <= v <= 4 for v in shown), (t.key, col)
    # the emerging hot spots: the table and the map's bins alike
    emerging = suppressed["emerging"]
    for counted in (emerging.frame["incidents"], emerging.layers["emerging"]["count"]):
        assert (counted == "<5").any()
        assert not any(1 <= v <= 4 for v in counted if not isinstance(v, str))
    wards = suppressed["wards"].frame
    withheld = wards["this_month"].map(lambda v: isinstance(v, str))
    assert withheld.any()
    # a ward withheld this month is withheld last month, with its change
    assert wards.loc[withheld, "last_month"].map(lambda v: isinstance(v, str)).all()
    assert (wards.loc[withheld, "change"] == "[c]").all()


def test_suppressed_wards_cannot_be_recovered_from_the_local_area_table(suppressed, incidents):
    """The differencing attack on the tables as published: wards, local areas, borough."""
    wards = suppressed["wards"].frame
    las = suppressed["local_areas"].frame.set_index("local_area")
    for month, label in (("2017-04", "last_month"), ("2017-05", "this_month")):
        cells = {f"w:{r.name}": getattr(r, label) for r in wards.itertuples()}
        eqs = []
        for la, row in las.iterrows():
            if la == "Borough":
                continue
            cells[f"l:{la}"] = row[label]
            eqs.append(
                ([f"w:{n}" for n in wards.loc[wards["local_area"] == la, "name"]], f"l:{la}")
            )
        cells["total"] = las.loc["Borough", label]
        eqs.append(([k for k in cells if k.startswith("l:")], "total"))
        w = area_rates(
            incidents, EASTLEIGH.level("ward"), types=[ASB], month_from=month, month_to=month
        )
        la_r = area_rates(
            incidents, EASTLEIGH.level("local_area"), types=[ASB], month_from=month, month_to=month
        )
        truth = {f"w:{r.name}": r.count for r in w.itertuples()}
        truth |= {f"l:{r.code}": r.count for r in la_r.itertuples()}
        truth["total"] = int(w["count"].sum())
        assert any(isinstance(v, str) for v in cells.values())
        assert linear_recoveries(cells, eqs) == []
        assert integer_recoveries(cells, eqs, truth) == []


# --------------------------------------------------------------------------- pages


_REMOTE = (
    re.compile(r"\b(?:src|href|action|poster|data)\s*=\s*\\?[\"']?\s*(?:https?:)?//", re.I),
    re.compile(r"url\(\s*\\?[\"']?\s*(?:https?:)?//", re.I),
    re.compile(r"@import", re.I),
    re.compile(r"https?://", re.I),
)


@pytest.mark.parametrize("which", ["review_files", "tasking_files"])
def test_no_remote_asset_in_any_page(which, request):
    files = request.getfixturevalue(which)
    pages = _pages(files)
    assert len(pages) >= 3  # the report and at least two embedded interactive maps
    for page in pages:
        assert remote_assets(page) == []
        for pattern in _REMOTE:
            assert pattern.search(page) is None, pattern.pattern
    assert "default-src 'none'" in html.unescape(pages[0].split("</head>")[0])
    assert pages[0].count("<svg") >= 3  # charts and static maps are drawn inline


def test_the_tasking_report_maps_and_lists_the_emerging_hot_spots(tasking, tasking_files):
    t = tasking["emerging"]
    classes = set(t.layers["emerging"]["class"])
    page = tasking_files.html.read_text(encoding="utf-8")
    article = page.split('id="t-emerging"', 1)[1].split("</article>", 1)[0]
    svg = article.split("<svg", 2)[-1]  # the static map (the last SVG of the article)
    for klass in classes:
        assert f'fill="{EMERGING_COLOURS[klass]}" fill-opacity="0.6" stroke="none"' in svg, klass
    for klass in set(EMERGING_COLOURS) - classes:
        assert EMERGING_COLOURS[klass] not in svg, klass
    (srcdoc,) = re.findall(r'srcdoc="([^"]*)"', article)
    interactive = html.unescape(srcdoc)
    assert "eh-legend-emerging" in interactive and "Emerging hot spots" in interactive
    # every hot spot bin in the CSV, the first 30 printed
    (csv_path,) = [c for c in tasking_files.csvs if c.name.endswith("_emerging.csv")]
    with csv_path.open(encoding="utf-8", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == len(t.frame) > 30
    assert t.show_rows == 30
    assert article.count("<tr") == 31  # the header and 30 rows


class _Tags(HTMLParser):
    """Every start tag with its attributes, the text of every script, and embedded pages."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.srcdocs: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        d = dict(attrs)
        self.tags.append((tag, d))
        self._in_script = tag == "script"
        if tag == "script":
            self.scripts.append("")
        if d.get("srcdoc"):
            self.srcdocs.append(d["srcdoc"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def _assert_escaped(page: str) -> None:
    """No element, attribute or script that the hostile strings could have made."""
    docs, seen = [page], 0
    while docs:
        doc = docs.pop()
        seen += 1
        p = _Tags()
        p.feed(doc)
        for tag, attrs in p.tags:
            assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
            assert not (tag == "img" and attrs.get("src") == "x")
        for code in p.scripts:
            # in map data the string may only appear entity-escaped (JSON writes & as \u0026)
            rest = code.replace("\\u0026", "&").replace(html.escape(HOSTILE), "")
            assert "alert(1)" not in rest
            assert "\\u003cscript" not in code.lower() and "\\u003cimg" not in code.lower()
        docs += p.srcdocs
    assert seen >= 2  # the report and its embedded map pages were all inspected
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_hostile_location_from_the_data_is_escaped_everywhere(incidents, tmp_path):
    inc = incidents.copy()
    hit = (inc["month"] == "2017-05") & (inc["ward_name"] == "Eastleigh Central")
    inc.loc[hit, "location"] = "On or near " + HOSTILE
    pack = tasking_pack("2017-05", inc, bandwidth_m=100, area=EASTLEIGH)
    streets = " ".join(pack["patrol"].frame["top_streets"])
    assert HOSTILE in streets  # the string reaches the pack...
    files = write_report(pack, tmp_path, pdf=False)
    _assert_escaped(files.html.read_text(encoding="utf-8"))  # ...and the page only escaped


def _hostile_pack() -> Pack:
    square = shapely.box(445000, 118500, 445400, 118900)
    hot = gpd.GeoDataFrame(
        {
            "rank": [1],
            "name": [HOSTILE],
            "method": ["kde"],
            "count": [12],
            "share": [0.5],
            "area_m2": [square.area],
            "top_streets": [HOSTILE + " (12)"],
            "peak_months": ["2017-05 (12)"],
        },
        geometry=[square],
        crs=BNG,
    )
    change = hot.assign(status="new", count_before=0, count_after=12, change_pct=None, p_value=1.0)
    venues = gpd.GeoDataFrame(
        {"name": [HOSTILE], "status": ["running"]},
        geometry=[shapely.Point(445516, 118757)],
        crs=BNG,
    )
    ref = gpd.GeoDataFrame(
        {"review_name": [HOSTILE], "place": [HOSTILE]},
        geometry=[shapely.Point(445516, 118757).buffer(400)],
        crs=BNG,
    )
    emerging = gpd.GeoDataFrame(
        {"class": ["new hot spot"], "count": [HOSTILE], "hot_months": [1]},
        geometry=[shapely.box(445400, 118500, 445600, 118700)],
        crs=BNG,
    )
    frame = pd.DataFrame({"ward": [HOSTILE, "Eastleigh Central"], "count": [7, 9]})
    return Pack(
        "tasking",
        "Pack " + HOSTILE,
        ("2017-05", "2017-05"),
        [
            Table(
                "wards",
                "Wards " + HOSTILE,
                frame,
                "computed from police.uk data for May 2017",
                [HOSTILE],
                "areas",
                chart=Chart("hbar", "ward", ("count",), HOSTILE),
                layers={
                    "hotspots": hot,
                    "change": change,
                    "emerging": emerging,
                    "venues": venues,
                    "reference": ref,
                },
            )
        ],
        notes=[HOSTILE],
        basemap=basemap_for(EASTLEIGH),
    )


def test_hostile_ward_and_place_names_are_escaped_in_tables_charts_and_maps(tmp_path):
    pack = _hostile_pack()
    files = write_report(pack, tmp_path, pdf=False)
    assert len(_pages(files)) == 2
    _assert_escaped(files.html.read_text(encoding="utf-8"))


def test_csv_cells_cannot_run_as_formulas(tmp_path):
    frame = pd.DataFrame(
        {
            "ward": ['=HYPERLINK("x","y")', "+SUM(A1)", "-1+2", "@cmd", "Botley"],
            "change": [-5, 3, 0, 1, 2],
        }
    )
    pack = Pack("review", "t", ("2017-05", "2017-05"), [Table("w", "w", frame, "x", [], "areas")])
    files = write_report(pack, tmp_path, pdf=False, maps="none")
    with files.csvs[0].open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["ward"] for r in rows] == [
        '\'=HYPERLINK("x","y")',
        "'+SUM(A1)",
        "'-1+2",
        "'@cmd",
        "Botley",
    ]
    assert rows[0]["change"] == "-5"  # numbers stay numbers


# --------------------------------------------------------------------------- pdf


@pytest.mark.browser
def test_pdf_is_printed_on_a4_by_chromium(review, tmp_path):
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing; CI must print the PDF")
        pytest.skip("/usr/bin/chromium is not installed")
    files = write_report(review, tmp_path, pdf=True)
    assert files.pdf is not None and files.pdf.read_bytes()[:5] == b"%PDF-"
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(files.pdf)], capture_output=True, text=True).stdout
        assert re.search(r"Page size:\s+59[45]\.\d+ x 84[12]\.\d+ pts \(A4\)", info)
        assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) >= 5
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", str(files.pdf), "-"], capture_output=True, text=True
        ).stdout
        for figure in ("8,287", "1,816", "36.36", "Hedge End Wildern", "Map: ASB hotspots"):
            assert figure in text


# --------------------------------------------------------------------------- cli


def test_cli_writes_the_review_pack(tmp_path, capsys):
    out = tmp_path / "review"
    code = main(
        [
            "report",
            "--kind",
            "review",
            "--period",
            "2021-04..2022-03",
            "--method",
            "dbscan",
            "--maps",
            "static",
            "--no-pdf",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert (out / "report.html").exists() and len(list(out.glob("*.csv"))) >= 10
    assert "published table from the 2021/22 review" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "review", "--period", "2017-13"], "is not a month in YYYY-MM form"),
        (["--kind", "tasking", "--period", "2018-05"], "not in the incident data"),
        (["--kind", "review", "--suppress-below", "five"], "give a whole number"),
        (["--kind", "review", "--period", "2017-01..2017-05"], "holds 4 of its 5 months"),
    ],
)
def test_cli_bad_input_is_one_line(args, message, tmp_path, capsys):
    code = main(["report", *args, "--no-pdf", "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0]
    assert "Traceback" not in err[0]
