"""The report escapes by construction and the renderer reads no data file.

* Every value reaches ``report.html`` through the autoescaping templates: hostile text in
  a table cell, a note, a title and a map label appears only escaped; only the SVG charts
  and maps (escaped as they are drawn) are passed as Markup.
* ``render/`` loads nothing: the pack carries its base map, and the loaders are made to
  fail while the report is written.
"""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

import geopandas as gpd
import jinja2
import pandas as pd
import pytest
import shapely

import render
import render.report
from geo.crs import BNG
from packs import BaseMap, Chart, Pack, Table
from render.report import write_report

RENDER_DIR = Path(render.__file__).resolve().parent
SCRIPT = "<script>alert(1)</script>"
ATTR = '" onerror=alert(2) x="'
HOSTILE = (SCRIPT, ATTR)


def _hostile_basemap(basemap: BaseMap) -> BaseMap:
    labels = basemap.labels.head(3).copy()
    labels["name"] = [f"Label {SCRIPT}", f"Label {ATTR}", "Botley"]
    areas = basemap.areas.copy()
    areas.loc[areas.index[0], "name"] = f"Ward {SCRIPT}{ATTR}"
    return BaseMap(basemap.outline, areas, labels)


def _pack(basemap: BaseMap) -> Pack:
    square = shapely.box(445000, 118500, 445400, 118900)
    hot = gpd.GeoDataFrame(
        {
            "rank": [1],
            "name": [f"Hotspot {SCRIPT}{ATTR}"],
            "method": ["kde"],
            "count": [12],
            "share": [0.5],
            "area_m2": [square.area],
            "top_streets": [ATTR],
            "peak_months": ["2017-05 (12)"],
        },
        geometry=[square],
        crs=BNG,
    )
    frame = pd.DataFrame({"ward": [f"Cell {SCRIPT}", f"Cell {ATTR}", "Botley"], "count": [7, 9, 3]})
    table = Table(
        "wards",
        f"Title {SCRIPT}{ATTR}",
        frame,
        "computed from police.uk data for May 2017",
        [f"Note {SCRIPT}", f"Note {ATTR}"],
        "areas",
        chart=Chart("hbar", "ward", ("count",), f"Axis {SCRIPT}{ATTR}"),
        layers={"hotspots": hot},
    )
    return Pack(
        "tasking",
        f"Pack {SCRIPT}{ATTR}",
        ("2017-05", "2017-05"),
        [table],
        notes=[f"Pack note {SCRIPT}{ATTR}"],
        basemap=_hostile_basemap(basemap),
    )


@pytest.fixture(scope="module")
def page(shipped_basemap, tmp_path_factory) -> str:
    files = write_report(_pack(shipped_basemap), tmp_path_factory.mktemp("safe"), pdf=False)
    return files.html.read_text(encoding="utf-8")


def test_hostile_text_is_never_written_raw(page):
    for text in HOSTILE:
        assert text not in page
    assert re.search(r"<script>\s*alert|\"\s*onerror=", page) is None


@pytest.mark.parametrize(
    "where",
    ["Cell ", "Note ", "Title ", "Pack ", "Pack note ", "Label ", "Axis "],
)
def test_each_place_shows_the_text_escaped(page, where):
    shown = [html.escape(where + SCRIPT), html.escape(where + ATTR)]
    assert any(s in page for s in shown), where
    if where in ("Cell ", "Note ", "Label "):  # one entry each
        assert all(s in page for s in shown), where


def test_the_map_label_is_escaped_in_the_static_map_and_the_embedded_page(page):
    svg_labels = re.findall(r'font-style="italic"[^>]*>([^<]*)</text>', page)
    assert html.escape(f"Label {SCRIPT}") in svg_labels
    assert html.escape(f"Label {ATTR}") in svg_labels
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', page).group(1))
    assert SCRIPT not in srcdoc and ATTR not in srcdoc
    # in the map's script the escaped label is a JSON string (& written as \u0026)
    assert html.escape(f"Label {SCRIPT}").replace("&", "\\u0026") in srcdoc


def test_templates_autoescape_and_refuse_undefined_names():
    env = render.report._ENV
    assert isinstance(env.undefined, type) and issubclass(env.undefined, jinja2.StrictUndefined)
    for name in env.list_templates():
        assert env.get_template(name).environment.autoescape(name) is True, name
        source = env.loader.get_source(env, name)[0]
        assert re.search(r"\|\s*safe\b|autoescape\s+false", source) is None, name
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
    assert str(env.from_string("{{ x }}").render(x=SCRIPT)) == html.escape(SCRIPT)


def test_markup_is_made_only_where_svg_is_drawn():
    """``Markup(...)`` wraps text only in the SVG drawers and the templates' escaper."""
    allowed = {"charts.py", "static_map.py", "report.py"}
    for path in RENDER_DIR.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "Markup"
        ]
        assert not calls or path.name in allowed, path.name


# --------------------------------------------------------------------------- no file read


_ALLOWED_READS = {
    ("leaflet_offline.py", "read_text"),
    ("leaflet_offline.py", "read_bytes"),
    ("streets.py", "read_text"),
}
"""Leaflet's own script, style sheet and images, read from the installed xstatic package,
and the vendored Leaflet.VectorGrid script (``render/static/``): code, not data."""


def test_render_calls_no_loader():
    """No ``open``, ``load_*`` or ``read_*`` call and no loader import in ``render/``."""
    for path in RENDER_DIR.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.module not in ("geo.io", "geo.boundaries", "geo.places"), path.name
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if (path.name, name) in _ALLOWED_READS:
                continue
            assert name != "open", (path.name, node.lineno)
            assert not name.startswith(("load_", "read_")), (path.name, name, node.lineno)


def test_write_report_opens_no_data_file(shipped_basemap, tmp_path, monkeypatch):
    import pyogrio

    import geo.boundaries
    import geo.io
    import geo.places

    def refuse(*_args, **_kwargs):
        raise AssertionError("render read a data file")

    for module, name in (
        (gpd, "read_file"),
        (gpd, "read_parquet"),
        (pd, "read_csv"),
        (pyogrio, "read_dataframe"),
        (geo.boundaries, "load_layer"),
        (geo.places, "load_gazetteer"),
        (geo.io, "load_incidents"),
    ):
        monkeypatch.setattr(module, name, refuse)
    files = write_report(_pack(shipped_basemap), tmp_path, pdf=False)
    page = files.html.read_text(encoding="utf-8")
    assert page.count("<svg") >= 2 and "srcdoc=" in page  # the maps were drawn


def test_no_basemap_draws_no_map(shipped_basemap, tmp_path):
    pack = _pack(shipped_basemap)
    pack.basemap = None
    page = write_report(pack, tmp_path, pdf=False).html.read_text(encoding="utf-8")
    assert 'class="map"' not in page and "srcdoc=" not in page
    assert page.count("<svg") == 1  # the chart only
