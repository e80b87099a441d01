"""The command line's errors are one line, with exit status 2."""

import subprocess
import sys


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], capture_output=True, text=True, check=False
    )


def test_a_bad_choice_is_one_line_naming_the_argument():
    proc = run("rates", "--level", "wards")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "--level" in lines[0] and "'wards'" in lines[0] and "ward2002" in lines[0]


def test_rejects_file_inside_the_input_folder_is_refused(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "2017-02-hampshire-street.csv").write_text("x\n")
    proc = run("validate", str(folder), "--rejects", str(folder / "rejects.csv"))
    assert proc.returncode == 2
    assert "inside the input folder" in proc.stderr
    assert not (folder / "rejects.csv").exists()
