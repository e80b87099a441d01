"""Output safety: CSV exports cannot run as spreadsheet formulas, and nothing a user
supplies is unpickled or evaluated.

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read
by Excel and LibreOffice as a formula (``=HYPERLINK(...)`` leaks data when clicked,
``=cmd|...`` runs a program through DDE). Every CSV the service writes goes through
:func:`geo.writers.guard_formulas`, which prefixes such text with ``'``; numbers,
negative ones included, are left as numbers.
"""

from __future__ import annotations

import ast
import csv
import io
import math
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli import main
from geo.csp_log import ColumnMapping, read_csp_log
from geo.writers import csv_bytes, guard_formulas, safe_csv
from tests.areas import EASTLEIGH

ROOT = Path(__file__).resolve().parents[2]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
HYPERLINK = '=HYPERLINK("http://x","click")'
SUM = "@SUM(1+1)"


def _cells(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _is_number(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False


def assert_no_formula(path: Path) -> None:
    """No cell (header included) of a written CSV starts a formula, unless it is a number."""
    for i, row in enumerate(_cells(path)):
        for cell in row:
            assert not (cell.startswith(TRIGGERS) and not _is_number(cell)), (path.name, i, cell)


# --- guard_formulas and safe_csv -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [HYPERLINK, SUM, "+44 23 8068 8000", "-cmd", "=cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "-"],
)
def test_text_that_starts_a_formula_gets_a_leading_quote(tmp_path, text):
    df = pd.DataFrame({"location": [text, "On or near Leigh Road"]})
    path = safe_csv(df, tmp_path / "out.csv")
    assert _cells(path) == [["location"], [f"'{text}"], ["On or near Leigh Road"]]


@pytest.mark.parametrize("text", ["x\r=1+1", "x\n=1+1", "x\r\n@SUM(1+1)", "\r"])
def test_a_line_break_inside_a_value_cannot_start_a_row(tmp_path, text):
    """A bare carriage return once went out unquoted: a spreadsheet saw a row starting '=1+1'."""
    df = pd.DataFrame({"location": [text], "n": [1]})
    want = [["location", "n"], [f"'{text}" if text.startswith(TRIGGERS) else text, "1"]]
    path = safe_csv(df, tmp_path / "out.csv")
    assert _cells(path) == want
    rows = list(csv.reader(io.StringIO(csv_bytes(df).decode("utf-8"), newline="")))
    assert rows == want


def test_numbers_negative_ones_included_are_left_alone(tmp_path):
    df = pd.DataFrame(
        {
            "change_pct": [-16.81, 3.5],
            "count": np.array([-2, 7], dtype="int64"),
            "nullable": pd.array([-1, None], dtype="Int64"),
            "mixed": [-3, "=1"],  # an object column: the number stays, the text is guarded
        }
    )
    path = safe_csv(df, tmp_path / "out.csv")
    assert _cells(path) == [
        ["change_pct", "count", "nullable", "mixed"],
        ["-16.81", "-2", "-1", "-3"],
        ["3.5", "7", "", "'=1"],
    ]
    assert_no_formula(path)


def test_every_text_kind_of_column_is_guarded():
    df = pd.DataFrame(
        {
            "object": pd.Series([SUM, None], dtype=object),
            "string": pd.array([SUM, pd.NA], dtype="string"),
            "str": pd.Series([SUM, "ok"], dtype="str"),
            "category": pd.Categorical([SUM, "ok"]),
        }
    )
    out = guard_formulas(df)
    assert out.iloc[0].tolist() == [f"'{SUM}"] * 4
    assert out.iloc[1].tolist()[3] == "ok"
    assert df.iloc[0, 0] == SUM  # the input is not changed


def test_column_names_and_repeated_names_are_guarded(tmp_path):
    """A table pivoted by street takes its header from data; two columns may share a name."""
    df = pd.DataFrame([[1, HYPERLINK, SUM]], columns=[HYPERLINK, "street", "street"])
    path = safe_csv(df, tmp_path / "out.csv")
    assert _cells(path) == [
        [f"'{HYPERLINK}", "street", "street"],
        ["1", f"'{HYPERLINK}", f"'{SUM}"],
    ]


# --- through the command line ----------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, Path]:
    """The real May 2017 file with formula text in Eastleigh's rows, plain and in an archive.

    Every Eastleigh row's Location becomes ``=HYPERLINK(...)`` and LSOA name ``@SUM(1+1)``;
    three extra rows are rejected, two starting with formula text (Crime ID ``@SUM(1+1)``
    and ``-2+3``), one with a carriage return before ``=HYPERLINK`` in its Location; the
    archive is named ``=1+1.zip`` so ``source_file`` starts with ``=``.
    """
    folder = tmp_path_factory.mktemp("hostile")
    src = (
        ROOT
        / "data"
        / "police_uk"
        / "eastleigh_area"
        / "2017-05-hampshire-street_eastleigh_area.csv"
    )
    rows = list(csv.reader(io.StringIO(src.read_text(encoding="utf-8"))))
    header = rows[0]
    loc, name, cid = header.index("Location"), header.index("LSOA name"), header.index("Crime ID")
    eastleigh = 0
    for r in rows[1:]:
        if r[name].startswith("Eastleigh"):
            r[loc], r[name] = HYPERLINK, SUM
            eastleigh += 1
    assert eastleigh > 800
    bad1 = list(rows[1])
    bad1[cid], bad1[header.index("Month")] = SUM, "=2017-05"
    bad2 = list(rows[2])
    bad2[cid], bad2[header.index("Longitude")] = "-2+3", "=1+1"
    bad3 = list(rows[3])  # a carriage return then a formula, inside a rejected row's Location
    bad3[loc], bad3[header.index("Month")] = f"x\r{HYPERLINK}", "May"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([*rows, bad1, bad2, bad3])
    plain = folder / "2017-05-hampshire-street.csv"
    plain.write_text(buf.getvalue(), encoding="utf-8")
    archive = folder / "=1+1.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2017-05/2017-05-hampshire-street.csv", buf.getvalue())
    return {"plain": plain, "archive": archive, "out": folder}


def test_validate_rejects_file_is_guarded(hostile, capsys):
    out = hostile["out"] / "rejects.csv"
    assert main(["validate", str(hostile["archive"]), "--rejects", str(out)]) == 0
    cells = _cells(out)
    assert cells[0] == ["source_file", "row", "reason", "raw"]
    firsts = {r[0] for r in cells[1:]}
    raws = [r[3] for r in cells[1:]]
    assert firsts == {"'=1+1.zip!2017-05/2017-05-hampshire-street.csv"}
    assert any(raw.startswith(f"'{SUM},") for raw in raws)
    assert any(raw.startswith("'-2+3,") for raw in raws)
    assert any('"x\r=HYPERLINK(' in raw for raw in raws)  # kept whole, in one quoted cell
    assert len(cells) == 1 + 3
    assert_no_formula(out)
    capsys.readouterr()


def test_rates_output_is_guarded(hostile, capsys):
    out = hostile["out"] / "rates.csv"
    assert (
        main(["rates", "--incidents", str(hostile["plain"]), "--level", "lsoa", "--out", str(out)])
        == 0
    )
    cells = _cells(out)
    assert len(cells) == 78  # the header and the 77 LSOAs
    assert_no_formula(out)
    capsys.readouterr()


def test_report_tables_are_guarded_and_the_page_escaped(hostile, capsys):
    """The tasking pack's patrol list carries top streets (police.uk Location) into its CSV."""
    out = hostile["out"] / "report"
    assert (
        main(
            [
                "report",
                "--kind",
                "tasking",
                "--period",
                "2017-05",
                "--incidents",
                str(hostile["plain"]),
                "--maps",
                "none",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    written = sorted(out.glob("*.csv"))
    assert written
    for path in written:
        assert_no_formula(path)
    patrol = next(p for p in written if "patrol" in p.name)
    assert f"'{HYPERLINK}" in {c.split(" (")[0] for r in _cells(patrol) for c in r}
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "=HYPERLINK(&quot;http://x&quot;,&quot;click&quot;)" in page
    assert HYPERLINK not in page
    capsys.readouterr()


def test_a_csp_log_with_formula_column_names_exports_guarded(tmp_path):
    """A log's own column names start each reason: '=Date: ... is not a date'."""
    log = tmp_path / "log.csv"
    log.write_text(
        "=Date,@Type,Lat,Long\n=NOW(),+ASB,50.9701,-1.3502\n2017-02-14,-x,,\n", encoding="utf-8"
    )
    result = read_csp_log(
        log, ColumnMapping(date="=Date", type="@Type", lat="Lat", lon="Long"), EASTLEIGH
    )
    assert result.rejects["reason"].str.startswith("=Date").any()
    path = safe_csv(result.rejects, tmp_path / "rejects.csv")
    assert_no_formula(path)
    assert any(r[2].startswith("'=Date:") for r in _cells(path)[1:])


# --- nothing a user supplies is unpickled or evaluated ---------------------------------------

FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_ATTRS = {"read_pickle", "eval", "to_pickle"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "cloudpickle", "marshal", "shelve", "joblib"}
ALLOWED: dict[str, str] = {}
"""``"path:line" -> reason`` for a legitimate use; none is needed today."""


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    found = []
    for node in ast.walk(tree):
        what = None
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names]
            mod = node.module if isinstance(node, ast.ImportFrom) else None
            for n in [mod, *names]:
                if n and n.split(".")[0] in FORBIDDEN_MODULES:
                    what = f"import {n}"
        elif isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in FORBIDDEN_CALLS:
                what = f"{f.id}()"
            elif isinstance(f, ast.Attribute) and f.attr in FORBIDDEN_ATTRS:
                what = f".{f.attr}()"
            elif (
                isinstance(f, ast.Attribute)
                and f.attr == "load"
                and any(k.arg == "allow_pickle" for k in node.keywords)
            ):
                what = "load(allow_pickle=...)"
            elif (
                isinstance(f, ast.Attribute)
                and f.attr == "load"
                and isinstance(f.value, ast.Name)
                and f.value.id == "yaml"
            ):
                what = "yaml.load()"
        if what and f"{where}:{node.lineno}" not in ALLOWED:
            found.append((node.lineno, f"{where}:{node.lineno}: {what}"))
    return [text for _, text in sorted(found)]


def _product_files() -> list[Path]:
    files = [
        p
        for d in ("geo", "analysis", "packs", "render", "app_views")
        for p in (ROOT / d).rglob("*.py")
    ]
    return files + [p for p in (ROOT / "app.py",) if p.exists()]


def test_nothing_unpickles_or_evaluates():
    files = _product_files()
    assert len(files) > 30  # the scan looks where the code is
    assert [o for p in files for o in _offences(p)] == []


def test_the_scan_finds_what_it_forbids(tmp_path):
    """The scan itself can fail: each forbidden form in a sample file is reported."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import pickle\nfrom joblib import load\nimport numpy as np\nimport pandas as pd\n"
        "eval('1')\nexec('x=1')\npd.read_pickle('f')\nnp.load('f', allow_pickle=True)\n"
        "pd.eval('1+1')\n",
        encoding="utf-8",
    )
    found = _offences(sample)
    assert [f.split(": ", 1)[1] for f in found] == [
        "import pickle",
        "import joblib",
        "eval()",
        "exec()",
        ".read_pickle()",
        "load(allow_pickle=...)",
        ".eval()",
    ]
