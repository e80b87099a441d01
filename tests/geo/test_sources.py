"""Finding and decoding files: encodings, binary and empty files, folders, archives, records."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from geo.errors import InputError
from geo.paths import shipped_incident_paths
from geo.sources import SourceText, decode, iter_sources, plain_records, read_records
from tests.conftest import DATA_DIR, POLICE_HEADER, police_line

CAFE = "On or near Chandler\u2019s Ford caf\u00e9"


# --- decode ----------------------------------------------------------------------------------


def test_utf8_without_bom():
    src = decode(f"a,b\n1,{CAFE}\n".encode(), "x.csv")
    assert src.encoding == "utf-8"
    assert src.text.endswith(f"{CAFE}\n")


def test_utf8_with_bom_is_stripped():
    src = decode(b"\xef\xbb\xbf" + b"Crime ID,Month\n", "x.csv")
    assert src.encoding == "utf-8-sig"
    assert src.text.startswith("Crime ID")  # no U+FEFF glued to the first column name


def test_windows_1252_curly_apostrophe_and_e_acute():
    data = f"Location\n{CAFE}\n".encode("cp1252")
    assert b"\x92" in data and b"\xe9" in data  # cp1252 bytes, invalid as UTF-8
    src = decode(data, "x.csv")
    assert src.encoding == "cp1252"
    assert src.text.splitlines()[1] == CAFE


def test_shipped_cp1252_fixture_decodes():
    src = decode((DATA_DIR / "police_uk_cp1252.csv").read_bytes(), "police_uk_cp1252.csv")
    assert src.encoding == "cp1252"
    assert CAFE in src.text


@pytest.mark.parametrize("data", [b"", b"   \r\n\n\t", b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n"])
def test_empty_file_is_refused_with_the_fix(data):
    with pytest.raises(
        InputError, match=r"^empty\.csv: the file is empty\. Download the month again"
    ):
        decode(data, "empty.csv")


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"PK\x03\x04rest", r"a zip archive or an Excel workbook \(\.xlsx\)"),
        (b"%PDF-1.7\n", "a PDF document"),
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", r"an old Excel workbook \(\.xls\)"),
        (b"SQLite format 3\x00", "a SQLite database or GeoPackage"),
    ],
)
def test_known_binary_formats_are_named(data, what):
    with pytest.raises(
        InputError, match=rf"^f\.csv: this is {what}, not a CSV file\. Save or export it as CSV"
    ):
        decode(data, "f.csv")


def test_binary_with_nul_bytes_is_refused():
    with pytest.raises(
        InputError, match=r"^blob\.csv: binary file \(it contains NUL bytes\).*save it as CSV UTF-8"
    ):
        decode(bytes(range(256)) * 8, "blob.csv")


def test_utf16_export_is_refused_with_the_fix():
    with pytest.raises(InputError, match=r"If it is a UTF-16 export, save it as CSV UTF-8 instead"):
        decode("Crime ID,Month\n".encode("utf-16"), "u16.csv")


# --- read_records ----------------------------------------------------------------------------


def _records(text: str, engine: str = "auto"):
    return read_records(SourceText("t.csv", text, "utf-8"), engine=engine)


def _rows(recs) -> list[list[str]]:
    return recs.frame.to_numpy(dtype=object).tolist()


def test_records_keep_line_numbers_and_drop_blank_lines():
    recs = _records("a,b,c\n1,2,3\n\n4,5,6\r\n ,\n7,8,9")
    assert recs.header == ["a", "b", "c"]
    # line 3 is blank (dropped); line 5 has two fields, padded to three
    assert _rows(recs) == [["1", "2", "3"], ["4", "5", "6"], [" ", "", ""], ["7", "8", "9"]]
    assert recs.lines.tolist() == [2, 4, 5, 6]
    assert recs.widths.tolist() == [3, 3, 2, 3]


def test_records_line_numbers_after_a_quoted_newline():
    recs = _records('a,b\n1,"two\nlines"\n3,4\n')
    assert _rows(recs) == [["1", "two\nlines"], ["3", "4"]]
    assert recs.lines.tolist() == [2, 4]


def test_short_and_long_records_are_padded_and_keep_what_was_read():
    recs = _records('a,b,c\n1\n1,2,3\n1,2,3,"4,5"\n')
    assert _rows(recs) == [["1", "", ""], ["1", "2", "3"], ["1", "2", "3"]]
    assert recs.widths.tolist() == [1, 3, 4]
    assert recs.raw(np.array([0, 1, 2])) == ["1", "1,2,3", '1,2,3,"4,5"']


def test_header_is_stripped_and_columns_found_by_name():
    recs = _records(" a , b,a\n1,2,3\n")
    assert recs.header == ["a", "b", "a"]
    assert recs.column("a").tolist() == ["1"]  # the first of two columns called 'a'


TRICKY = [
    "a,b,c\n1,2,3\n4,5,6\n",  # plain
    "a,b,c\r\n1,2,3\r\n4,5,6",  # CRLF, no final line break
    'a,b,c\n"x, y",2,3\n"say ""hi""",, \n',  # quoted comma, doubled quotes, spaces
    'a,b,c\nab"c,2,3\n" q ",2,3\n',  # a quote inside an unquoted field
    "a,b,c\n,,\n \u00e9\u2019,2,3\n",  # empty fields, non-ASCII
    "a,b,c\r1,2,3\r4,5,6\r",  # old Mac line ends
    "a,b,c\n1,2,3\n\n4,5,6\n",  # a blank line
    "a,b,c\n1,2,3\n \n4,5,6\n",  # a line of one space
    "a,b,c\n1,2\n4,5,6,7\n",  # short and long records
    'a,b,c\n1,"2\n2",3\n4,5,6\n',  # a quoted line break
    '"a\nb",c,d\n1,2,3\n',  # a header over two lines
]


@pytest.mark.parametrize("text", TRICKY)
def test_fast_and_csv_engines_read_the_same(text):
    fast, slow = _records(text, "auto"), _records(text, "csv")
    assert fast.header == slow.header
    assert _rows(fast) == _rows(slow)
    assert fast.lines.tolist() == slow.lines.tolist()
    assert fast.widths.tolist() == slow.widths.tolist()
    idx = np.arange(len(fast.frame))
    assert fast.raw(idx) == slow.raw(idx)


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ("a,b,c\r\n1,2,3\r\n4,5,6", [["1", "2", "3"], ["4", "5", "6"]]),
        ('a,b,c\n"x, y",,"say ""hi"""\n', [["x, y", "", 'say "hi"']]),
        ("a,b,c\n1,2,3\n\n4,5,6\n", None),  # a blank line: lines would be misnumbered
        ('a,b,c\n1,"2\n2",3\n', None),  # a quoted line break
        ("a,b,c\n1,2\n", None),  # a short record
        ("a\n1\n", None),  # one column: the csv module decides a line of spaces
    ],
)
def test_plain_records_only_for_one_record_a_line(text, rows):
    table = plain_records(text.encode("utf-8"), len(text.split("\n")[0].split(",")))
    if rows is None:
        assert table is None
    else:
        assert table.column_names == ["c0", "c1", "c2"]
        assert [list(r.values()) for r in table.to_pylist()] == rows


def test_fast_engine_reads_a_shipped_month_like_the_csv_module():
    path = shipped_incident_paths()[0]
    src = decode(path.read_bytes(), str(path))
    fast, slow = read_records(src), read_records(src, engine="csv")
    assert fast.frame.shape == slow.frame.shape == (6065, 12)
    assert fast.frame.equals(slow.frame.astype(fast.frame.dtypes.iloc[0]))
    assert fast.lines.tolist() == slow.lines.tolist()


# --- iter_sources ----------------------------------------------------------------------------


def _line_file(tmp_csv, name, month="2017-02"):
    return tmp_csv(name, [POLICE_HEADER, police_line(Month=month)])


def test_a_single_path_string_is_one_file(tmp_csv):
    path = _line_file(tmp_csv, "one.csv")
    found = list(iter_sources(str(path)))
    assert [s.name for s in found] == [str(path)]


def test_missing_path_is_named():
    with pytest.raises(InputError, match=r"nowhere\.csv: no such file or folder\. Check the path"):
        list(iter_sources(["nowhere.csv"]))


def test_folder_is_searched_and_skips_police_uk_outcomes(tmp_csv, tmp_path):
    _line_file(tmp_csv, "dl/2017-02/2017-02-hampshire-street.csv")
    _line_file(tmp_csv, "dl/2017-03/2017-03-hampshire-street.csv", "2017-03")
    tmp_csv("dl/2017-02/2017-02-hampshire-outcomes.csv", "Crime ID,Month\n")
    tmp_csv("dl/2017-02/2017-02-hampshire-stop-and-search.csv", "Type,Date\n")
    tmp_csv("dl/notes.txt", "not read")
    found = list(iter_sources([tmp_path / "dl"]))
    texts = [s.name for s in found if isinstance(s, SourceText)]
    skipped = [s for s in found if isinstance(s, tuple)]
    assert [t.rsplit("/", 1)[1] for t in texts] == [
        "2017-02-hampshire-street.csv",
        "2017-03-hampshire-street.csv",
    ]
    assert sorted(n.rsplit("/", 1)[1] for n, _ in skipped) == [
        "2017-02-hampshire-outcomes.csv",
        "2017-02-hampshire-stop-and-search.csv",
    ]
    assert {why for _, why in skipped} == {"not a police.uk street file (skipped)"}


def test_empty_folder_is_named(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"empty: the folder holds no \.csv or \.zip files"):
        list(iter_sources([tmp_path / "empty"]))


def test_archive_reads_street_members_in_memory_and_skips_the_rest(tmp_path):
    z = tmp_path / "download.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("2017-02/2017-02-hampshire-street.csv", f"{POLICE_HEADER}\n{police_line()}\n")
        zf.writestr("2017-02/2017-02-hampshire-outcomes.csv", "Crime ID,Month\n")
        zf.writestr("../../evil-street.csv", f"{POLICE_HEADER}\n{police_line()}\n")
    found = list(iter_sources([z]))
    texts = [s for s in found if isinstance(s, SourceText)]
    assert [s.name for s in texts] == [
        "download.zip!2017-02/2017-02-hampshire-street.csv",
        "download.zip!../../evil-street.csv",
    ]
    assert found[1] == (
        "download.zip!2017-02/2017-02-hampshire-outcomes.csv",
        "not a police.uk street file (skipped)",
    )
    # Nothing was extracted next to the archive or above it.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["download.zip"]
    assert not (tmp_path.parent.parent / "evil-street.csv").exists()


def test_damaged_archive_is_named(tmp_csv):
    path = tmp_csv("broken.zip", b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(InputError, match=r"broken\.zip"):
        list(iter_sources([path]))
