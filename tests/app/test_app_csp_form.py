"""The CSP log form guesses the date column and shows the first rows as they will be read.

Answers by hand: in a log whose columns are Ref, Occurred, Category and Easting/Northing,
the date column is Occurred (its name, and its values are dates; Ref's are not); the row
``05/03/2017 21:15`` is read as Sunday 5 March 2017 21:15 (day first, as the reader reads
it); a log written month first (``03/25/2017``) is said to be month first.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from geo.csp_log import date_order, guess_date_column

APP = Path(__file__).resolve().parents[2] / "app.py"


def _log(dates: list[str]) -> bytes:
    lines = ["Ref,Occurred,Category,Easting,Northing"]
    lines += [f"R{i},{d},ASB youths,445500,118800" for i, d in enumerate(dates)]
    return ("\n".join(lines) + "\n").encode()


def _form(content: bytes) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["view"] = "Data"
    at.run()
    at.file_uploader(key="csp_file").set_value(("log.csv", content, "text/csv"))
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_the_date_column_is_guessed_and_the_first_rows_shown_as_read():
    at = _form(_log(["05/03/2017 21:15", "06/03/2017 20:00", "07/03/2017 19:45"]))
    assert at.selectbox(key="map_date").value == "Occurred"
    said = " ".join(m.value for m in at.markdown)
    assert "day first (UK): 05/03/2017 21:15 is read as 5 March 2017 21:15" in said
    rows = at.table[0].value
    assert list(rows.index[:2]) == ["Sun 05 Mar 2017 21:15", "Mon 06 Mar 2017 20:00"]


def test_a_month_first_log_is_said_to_be_month_first():
    at = _form(_log(["03/05/2017", "03/25/2017"]))
    said = " ".join(m.value for m in at.markdown)
    assert "month first (US): 03/25/2017 is read as 25 March 2017" in said


def test_the_guess_by_name_and_by_content():
    frame = pd.DataFrame(
        {"Incident date": ["1/2/2020"], "Reported": ["2/2/2020"], "Notes": ["see 1/2"]}
    )
    assert guess_date_column(frame) == "Incident date"
    assert guess_date_column(pd.DataFrame({"Ref": ["12"], "When": ["2020-02-01"]})) == "When"
    assert date_order(pd.Series(["2020-02-01T10:00"])).startswith("year first (ISO)")
