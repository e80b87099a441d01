"""Write a report pack as one self-contained HTML page, a CSV per table, and a PDF.

:func:`write_report` takes a :class:`packs.Pack` and writes:

* ``report.html``: one file that opens offline, rendered from the Jinja2 templates in
  ``render/templates/`` (``report.html.j2``, its macros and style sheet). Charts are SVG
  (:mod:`render.charts`); every map appears twice: as a static SVG drawn from the pack's
  :class:`packs.BaseMap` and the table's layers (:mod:`render.static_map`), which is what
  prints, and, on screen only, as the interactive Leaflet map of :mod:`render.map` in an
  ``<iframe srcdoc>`` (the map page attribute-escaped, sandboxed to scripts only).
  Leaflet maps do not always print, so the print stylesheet hides the iframes. No map is
  drawn when the pack has no base map. A Content-Security-Policy forbids every network
  request, and the page is checked with :func:`render.leaflet_offline.remote_assets`
  before it is written.
* ``NN_<table>.csv``: each table with data, formula-guarded
  (:func:`geo.writers.safe_csv`), all rows (the page may print only the first ones).
* ``report.pdf``: printed on A4 by headless Chromium (:mod:`render.pdf`) when it is
  installed; otherwise skipped, with a note saying so.

Escaping is done by construction: the templates are rendered with autoescaping on and
strict undefined names, so every value from data is escaped where it is written; only the
SVG charts and maps, which escape their own strings as they are drawn, arrive as
:class:`markupsafe.Markup`. Values are escaped with :func:`render.html.esc` (the
standard library's :func:`html.escape`, as the page always was), through the
environment's ``finalize`` hook, so the page's entities are unchanged (``&#x27;``, not
markupsafe's ``&#39;``). The renderer reads no data file: what the maps are drawn on
travels with the pack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from geo.writers import safe_csv
from packs import PUBLISHED, SECTION_TITLES, BaseMap, Pack, Table
from render.cells import (
    column_label,
    decimals_needed,
    format_cell,
    is_numeric_column,
    is_withheld,
)
from render.charts import table_chart_svg
from render.html import esc
from render.leaflet_offline import remote_assets
from render.map import build_map
from render.model import MapLayers
from render.pdf import find_chromium, print_pdf
from render.static_map import static_map_svg

__all__ = ["MAP_MODES", "ReportFiles", "render_html", "write_report"]

MAP_MODES = ("both", "static", "interactive", "none")
"""How maps are drawn: static SVG and interactive Leaflet (``both``), one, or none."""

_CSP = (
    "default-src 'none'; script-src 'unsafe-inline' data:; style-src 'unsafe-inline' data:; "
    "img-src data:; font-src data:; frame-src 'self' about: data:; connect-src 'none'"
)


def _escaped(value: object) -> Markup:
    """The templates' ``finalize``: escape every value that is not already Markup."""
    if isinstance(value, Markup):
        return value
    return Markup(esc(value))  # noqa: S704 - esc escapes & < > " '


_ENV = Environment(
    loader=PackageLoader("render", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
    undefined=StrictUndefined,
    finalize=_escaped,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass
class ReportFiles:
    """What :func:`write_report` wrote.

    Attributes
    ----------
    html
        The self-contained HTML page.
    csvs
        One CSV per table with data, in pack order.
    pdf
        The PDF, or None when it was not printed (see ``notes``).
    notes
        What was skipped and why.
    """

    html: Path
    csvs: list[Path] = field(default_factory=list)
    pdf: Path | None = None
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- tables


def _table_view(t: Table) -> dict[str, object]:
    """The printed rows of a table, cell by cell, as plain text for the template."""
    frame = t.frame
    rows = frame if t.show_rows is None else frame.head(t.show_rows)
    if t.total_row and t.show_rows is not None and len(frame) > t.show_rows:
        rows = pd.concat([rows, frame.tail(1)])
    numeric = {c: is_numeric_column(frame[c]) for c in frame.columns}
    places = {c: decimals_needed(frame[c]) for c in frame.columns}
    n = len(rows)
    body = []
    for i, (_, row) in enumerate(rows.iterrows()):
        cells = []
        for c in frame.columns:
            v = row[c]
            classes = (["num"] if numeric[c] else []) + (["withheld"] if is_withheld(v) else [])
            cells.append({"classes": " ".join(classes), "text": format_cell(v, places[c])})
        body.append({"total": t.total_row and i == n - 1, "cells": cells})
    total = len(frame) - int(t.total_row)
    return {
        "columns": [{"label": column_label(c), "numeric": numeric[c]} for c in frame.columns],
        "rows": body,
        "shown": t.show_rows,
        "total": total,
        "hidden_rows": t.show_rows is not None and total > t.show_rows,
    }


# --------------------------------------------------------------------------- maps


def _interactive_page(layers: dict[str, gpd.GeoDataFrame], basemap: BaseMap) -> str:
    """The interactive map of a table's layers as a complete HTML page."""
    ml = MapLayers(
        borough=basemap.outline,
        outlines=basemap.areas[["code", "name", "geometry"]],
        hotspots=layers.get("hotspots"),
        change=layers.get("change"),
        emerging=layers.get("emerging"),
        venues=layers.get("venues"),
        labels=basemap.labels[["name", "geometry"]].copy(),
    )
    if ml.venues is not None:
        ml.venue_rings_m = (800.0,)
    page = build_map(ml, height="100%").get_root().render()
    found = remote_assets(page)
    if found:
        msg = f"the interactive map would load remote assets: {found[:5]}"
        raise RuntimeError(msg)
    return page


# --------------------------------------------------------------------------- page


def _source_class(note: str) -> str:
    if note.startswith("published"):
        return "published"
    if note.startswith("not in police.uk"):
        return "unavailable"
    return "computed"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def _article(t: Table, maps: str, basemap: BaseMap | None) -> dict[str, object]:
    """What the template needs to print one table (strings unescaped; SVG as Markup)."""
    drawn = bool(t.layers) and maps != "none" and basemap is not None and t.available
    static = interactive = None
    if drawn and maps in ("both", "static"):
        static = static_map_svg(t.layers, basemap=basemap, title=t.title)
    if drawn and maps in ("both", "interactive"):
        interactive = _interactive_page(t.layers, basemap)
    return {
        "key": t.key,
        "title": t.title,
        "long": len(t.frame) > 28 or bool(t.layers),
        "source_class": _source_class(t.source_note),
        "source_note": t.source_note[:1].upper() + t.source_note[1:],
        "available": t.available,
        "notes": list(t.notes),
        "chart": table_chart_svg(t) if t.available else None,
        "table": _table_view(t) if t.available and len(t.frame) else None,
        "static_map": static,
        "areas_label": basemap.areas_label if basemap is not None else "",
        "interactive_map": interactive,
        "map_open": maps == "interactive",
    }


def render_html(pack: Pack, *, maps: str = "both") -> str:
    """Build the report page from the templates.

    Parameters
    ----------
    pack
        The pack (:func:`packs.review_pack` or :func:`packs.tasking_pack`); its maps are
        drawn on ``pack.basemap``, and none are drawn when it is None.
    maps
        One of :data:`MAP_MODES`.

    Returns
    -------
    str
        A complete HTML document that loads nothing from the network.

    Raises
    ------
    ValueError
        For an unknown ``maps`` mode.
    RuntimeError
        If the page would load any remote asset (a defect; never written).
    """
    if maps not in MAP_MODES:
        msg = f"maps must be one of {MAP_MODES}, got {maps!r}."
        raise ValueError(msg)
    sections = []
    for sec in pack.sections:
        name = SECTION_TITLES.get(sec, sec.title() if sec else "Tables")
        articles = [_article(t, maps, pack.basemap) for t in pack if t.section == sec]
        sections.append({"id": f"sec-{_slug(name)}", "name": name, "articles": articles})
    first, last = pack.period
    page = _ENV.get_template("report.html.j2").render(
        csp=_CSP,
        title=pack.title,
        period=first if first == last else f"{first} to {last}",
        produced=datetime.now(UTC).strftime("%d %B %Y %H:%M UTC"),
        notes=list(pack.notes),
        sections=sections,
        area_name=pack.area_name,
        has_published=any(PUBLISHED in t.source_note for t in pack),
    )
    found = remote_assets(page)
    if found:
        msg = f"the report page would load remote assets: {found[:5]}"
        raise RuntimeError(msg)
    return page


# --------------------------------------------------------------------------- files


def write_report(
    pack: Pack,
    out_dir: str | Path,
    *,
    maps: str = "both",
    pdf: bool | None = None,
    chromium: str | None = None,
) -> ReportFiles:
    """Write a pack as ``report.html``, one CSV per table, and ``report.pdf``.

    Parameters
    ----------
    pack
        The pack to write.
    out_dir
        Folder to write into (created if missing).
    maps
        One of :data:`MAP_MODES`: ``both`` (default) puts a static SVG map (printed)
        and an interactive Leaflet map (screen only) with every table that has a map.
    pdf
        True: print the PDF (error if Chromium is missing); False: do not; None
        (default): print it when Chromium is installed, else skip with a note.
    chromium
        Browser executable for the PDF; :func:`find_chromium` by default.

    Returns
    -------
    ReportFiles

    Raises
    ------
    RuntimeError
        If ``pdf=True`` and the PDF cannot be printed.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(html=out / "report.html")
    for i, t in enumerate(pack, start=1):
        if not t.available or t.frame.empty:
            continue
        path = safe_csv(t.frame, out / f"{i:02d}_{t.key}.csv")
        path.chmod(0o644)
        files.csvs.append(path)
    page = render_html(pack, maps=maps)
    tmp = out / ".report.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(files.html)
    exe = chromium or find_chromium()
    if pdf is False:
        files.notes.append("PDF not asked for.")
    elif exe is None:
        if pdf:
            msg = "Chromium is not installed (/usr/bin/chromium); cannot print the PDF."
            raise RuntimeError(msg)
        files.notes.append("PDF skipped: Chromium is not installed (/usr/bin/chromium).")
    else:
        files.pdf = print_pdf(files.html, out / "report.pdf", chromium=exe)
    return files
