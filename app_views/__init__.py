"""The views of the Streamlit app (``app.py``), one module per view.

``app.py`` stays thin: it reads the sidebar (:mod:`app_views.filters`), finds the
active dataset (:mod:`app_views.state`) and hands both to the chosen view. Every
module here reads widgets, calls ``geo``/``analysis``/``render`` and draws; nothing
here computes an analysis itself.
"""

__all__: list[str] = []
