"""Printing from the app: the patrol plan and the tasking pack as A4 PDF and HTML, and Ctrl+P."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_views.printing import PRINT_CSS

APP = Path(__file__).resolve().parents[2] / "app.py"
PDFTOTEXT = shutil.which("pdftotext")


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_print_css_hides_the_sidebar_and_sets_a4():
    assert "@media print" in PRINT_CSS and "size: A4" in PRINT_CSS
    assert '[data-testid="stSidebar"]' in PRINT_CSS.split("@media print", 1)[1]


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's Chromium")
def test_the_patrol_plan_and_tasking_pack_download_as_pdf_and_html(tmp_path):
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.session_state["view"] = "Patrol plan"
    _run(at)
    assert PRINT_CSS.strip() in [m.value.strip() for m in at.markdown]
    at.button(key="prepare_plan").click()
    _run(at)
    labels = [b.label for b in at.get("download_button")]
    assert "Patrol plan (PDF)" in labels and "Patrol plan (HTML)" in labels
    at.session_state["view"] = "Tasking review"
    _run(at)
    at.button(key="prepare_tasking").click()
    _run(at)
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Tasking pack (PDF)", "Tasking pack (HTML)"]


@pytest.mark.skipif(
    not (Path("/usr/bin/chromium").exists() and PDFTOTEXT),
    reason="needs Debian's Chromium and pdftotext",
)
def test_the_printed_plan_has_title_period_method_and_ranks(tmp_path):
    from analysis.hotspots import detect_hotspots
    from analysis.rates import filter_incidents
    from app_views.printing import pack_files
    from packs.patrol import patrol_pack
    from tests.areas import EASTLEIGH, SHIPPED

    asb = filter_incidents(
        SHIPPED.incidents, types=["Anti-social behaviour"], month_from="2017-02", month_to="2017-05"
    )
    hs = detect_hotspots(asb, EASTLEIGH, method="dbscan")
    pack = patrol_pack(
        hs.hotspots,
        area=EASTLEIGH,
        period=("2017-02", "2017-05"),
        types_label="ASB",
        method_label="DBSCAN (150 m, at least 10 incidents)",
    )
    files = pack_files(pack)
    assert files["pdf"][:5] == b"%PDF-"
    (tmp_path / "plan.pdf").write_bytes(files["pdf"])
    text = subprocess.run(
        [PDFTOTEXT, "-layout", str(tmp_path / "plan.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    text = " ".join(text.split())  # the title may wrap
    assert "Patrol plan, Eastleigh: ASB, February 2017 to May 2017" in text
    assert "DBSCAN (150 m, at least 10 incidents)" in text
    first = hs.hotspots.iloc[0]
    assert first["name"].split()[0] in text
    html = files["html"].decode("utf-8")
    assert "<svg" in html and ">1<" in html  # the static map, with rank 1 written on it


def test_the_standalone_html_map_has_its_title_legend_and_labels():
    from app_views.patrol import html_map_bytes
    from render.model import MapLayers
    from tests.areas import EASTLEIGH

    layers = MapLayers(
        borough=EASTLEIGH.outline,
        outlines=EASTLEIGH.areas("ward"),
        labels=EASTLEIGH.gazetteer[["name", "kind", "geometry"]],
    )
    page = html_map_bytes(layers, "Eastleigh: ASB, 2017-02 to 2017-05 <script>x</script>")
    text = page.decode("utf-8")
    assert "Eastleigh: ASB, 2017-02 to 2017-05" in text
    # Escaped for HTML, then written as a JSON string (tojson escapes < > & again).
    assert "\\u0026lt;script\\u0026gt;x" in text and "<script>x</script>" not in text
    assert "eh-legend" in text and "Eastleigh town centre" in text
