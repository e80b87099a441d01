"""The render stage: folium maps built from analysed layers, working fully offline.

``load -> validate -> project -> join -> analyse -> render``: this package is the only
one that projects frames from British National Grid to longitude/latitude, and the only
one that imports folium. It never imports streamlit.

* :mod:`render.leaflet_offline` - maps that load Leaflet from ``data:`` URIs and no CDN.
* :mod:`render.map` - :func:`render.map.build_map` and
  :func:`render.map.save_standalone_html`.
* :mod:`render.html` - escaping for every string that comes from data.
* :mod:`render.report` - the report pack as HTML (Jinja2 templates in
  ``render/templates/``), CSVs and PDF, drawn with :mod:`render.charts`,
  :mod:`render.static_map` and :mod:`render.pdf`; it reads no data file (the pack
  carries its base map).
* :mod:`render.colours` - the colours shared by maps, legends and the report.
"""

from render.html import esc
from render.leaflet_offline import assert_no_remote_assets, offline_map, remote_assets
from render.map import MapLayers, build_map, save_standalone_html

__all__ = [
    "MapLayers",
    "assert_no_remote_assets",
    "build_map",
    "esc",
    "offline_map",
    "remote_assets",
    "save_standalone_html",
]
