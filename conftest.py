"""Root of pytest collection: what ``--doctest-modules`` must not import.

``app.py`` is the Streamlit script (importing it draws the app), ``cli.py`` the command
line, and ``scripts/`` and ``benchmarks/`` are run by hand; none has examples to run.
"""

collect_ignore = ["app.py", "cli.py"]
collect_ignore_glob = ["scripts/*", "benchmarks/*"]
