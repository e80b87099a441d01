"""Eastleigh CSP hotspot mapping: the Streamlit app.

Run it with ``hotspots app`` (or ``streamlit run app.py``). It opens on the shipped
real police.uk months, binds to 127.0.0.1 (``.streamlit/config.toml``) and loads
nothing from outside the machine: Leaflet comes from the ``xstatic-leaflet`` package
and map tiles are an opt-in setting.

This script stays thin: it reads the sidebar, finds the active dataset and hands both
to the chosen view in :mod:`app_views`. A shipped file that is missing or damaged is
named at the top of the page with its fix, never as a traceback.
"""

from __future__ import annotations

import streamlit as st

from app_views import data_view, map_view, national, patrol, siting, tasking
from app_views.filters import sidebar
from app_views.printing import print_stylesheet
from app_views.state import active_dataset, fault_message, shipped_month_problems, with_sources
from app_views.uploads import first_line
from geo.errors import InputError

st.set_page_config(
    page_title="Eastleigh hotspots",
    layout="wide",
    menu_items={
        "Get help": None,
        "Report a bug": None,
        "About": "Crime and ASB hotspot mapping for the Eastleigh Community Safety Partnership.",
    },
)

_VIEWS = {
    "Map": map_view.render,
    "Patrol plan": patrol.render,
    "Tasking review": tasking.render,
    "Venue siting": siting.render,
    "Data": data_view.render,
    "National": national.render,
}

print_stylesheet()
top = st.container()
try:
    dataset = active_dataset()
    for problem in shipped_month_problems(dataset):
        top.error(problem)
    filters = sidebar(dataset)
    _VIEWS[filters.view](with_sources(dataset, filters.sources), filters)
except InputError as exc:  # a shipped file missing or damaged: say which, and the fix
    top.error(fault_message(exc) or f"The app cannot go on: {first_line(exc)}")
