"""Root of pytest collection: what ``--doctest-modules`` must not import, and the data.

``app.py`` is the Streamlit script (importing it draws the app), ``cli.py`` the command
line, and ``scripts/`` and ``benchmarks/`` are run by hand; none has examples to run.

The tests and examples written on the shipped ``eastleigh-area`` months (2017-02 to
2017-05 and 2022-02, whose figures were checked by hand) run on that dataset; tests of
the default ``hampshire`` dataset name it (``shipped_incident_paths("hampshire")``).
"""

import os

os.environ.setdefault("HOTSPOTS_DATASET", "eastleigh-area")

collect_ignore = ["app.py", "cli.py"]
collect_ignore_glob = ["scripts/*", "benchmarks/*"]
