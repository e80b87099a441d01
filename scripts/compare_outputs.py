"""Record the command line's outputs on fixed inputs, and compare two recordings.

A refactoring must not change what the product says. Record before and after, then
compare::

    python scripts/compare_outputs.py record before/
    # ... move code ...
    python scripts/compare_outputs.py record after/
    python scripts/compare_outputs.py compare before/ after/

``record`` runs ``hotspots rates`` at every level, ``detect`` with kde, dbscan and
gistar, ``evaluate`` and both ``report`` kinds on the same police.uk files (by default
the 2017 Eastleigh-area months and February 2022 under ``data/``, or ``--incidents``),
keeping every file they write and what they print. ``compare`` reports every file that
differs. Files are compared byte for byte, except:

* PDFs, compared by their text (``pdftotext -layout``): the bytes carry a creation date;
* HTML and text, with the parts that differ on every run replaced: element ids that
  folium draws at random, the printed time, and the output folder's own path; in HTML,
  white space between tags and runs of white space count as one space (a template
  lays out its markup differently from the code it replaced, and a browser draws both
  alike).
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DEFAULT_INCIDENTS = sorted(
    str(p.relative_to(ROOT))
    for p in (ROOT / "data" / "police_uk" / "eastleigh_area").glob("20*-hampshire-street_*.csv")
)

ASB = "Anti-social behaviour"


def commands(incidents: list[str], out: Path) -> dict[str, list[str]]:
    """The commands to record, by name; ``out`` is where each writes its files."""
    inc = ["--incidents", *incidents]
    asb = ["--type", ASB]
    cmds: dict[str, list[str]] = {}
    for level in ("lsoa", "ward", "ward2002", "local_area", "borough"):
        cmds[f"rates_{level}"] = [
            "rates",
            *inc,
            *asb,
            "--from",
            "2017-02",
            "--to",
            "2017-05",
            "--level",
            level,
            "--out",
            str(out / f"rates_{level}.csv"),
        ]
    cmds["rates_all_types"] = [
        "rates",
        *inc,
        "--level",
        "ward",
        "--out",
        str(out / "rates_all_types.csv"),
    ]
    for method in ("kde", "dbscan", "gistar"):
        cmds[f"detect_{method}"] = [
            "detect",
            *inc,
            *asb,
            "--from",
            "2017-02",
            "--to",
            "2017-05",
            "--method",
            method,
            "--out",
            str(out / f"detect_{method}.geojson"),
        ]
    cmds["detect_kde_200m_5pct"] = [
        "detect",
        *inc,
        *asb,
        "--method",
        "kde",
        "--bandwidth-m",
        "200",
        "--coverage",
        "5",
        "--out",
        str(out / "detect_kde_200m_5pct.geojson"),
    ]
    cmds["evaluate"] = [
        "evaluate",
        *inc,
        *asb,
        "--train-from",
        "2017-02",
        "--train-to",
        "2017-03",
        "--test-from",
        "2017-04",
        "--test-to",
        "2017-05",
        "--out",
        str(out / "evaluate.csv"),
    ]
    cmds["report_review"] = [
        "report",
        *inc,
        "--kind",
        "review",
        "--period",
        "2021-04..2022-03",
        "--out",
        str(out / "review"),
    ]
    cmds["report_tasking"] = [
        "report",
        *inc,
        "--kind",
        "tasking",
        "--period",
        "2017-05",
        "--suppress-below",
        "5",
        "--out",
        str(out / "tasking"),
    ]
    return cmds


def record(out: Path, incidents: list[str], hotspots: list[str]) -> None:
    """Run every command, keeping what it writes and prints under ``out``."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name, args in commands(incidents, out).items():
        proc = subprocess.run(
            [*hotspots, *args], cwd=ROOT, capture_output=True, text=True, check=False
        )
        (out / f"{name}.stdout.txt").write_text(proc.stdout)
        (out / f"{name}.status.txt").write_text(f"{proc.returncode}\n")
        print(f"{name}: exit {proc.returncode}", file=sys.stderr)


_RANDOM_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
_SPACES = re.compile(r"\s+")
_BETWEEN_TAGS = re.compile(r">\s+<")
_PRINTED_AT = re.compile(
    r"(\d{4}-\d{2}-\d{2}[ T]|\d{2} [A-Z][a-z]+ \d{4} )\d{2}:\d{2}(:\d{2})?( UTC)?"
)


def _normalised(path: Path, folder: Path) -> str | bytes:
    if path.suffix == ".pdf":
        proc = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
        )
        return _PRINTED_AT.sub("<time>", proc.stdout)
    if path.suffix in (".html", ".txt", ".json"):
        text = path.read_text(errors="replace").replace(str(folder), "<out>")
        text = _RANDOM_ID.sub("<id>", text)
        if path.suffix == ".html":
            text = _BETWEEN_TAGS.sub("><", _SPACES.sub(" ", text)).replace("><", ">\n<")
        return _PRINTED_AT.sub("<time>", text)
    return path.read_bytes()


def compare(before: Path, after: Path) -> int:
    """Print every difference between two recordings; return how many files differ."""
    names = sorted(
        {p.relative_to(before) for p in before.rglob("*") if p.is_file()}
        | {p.relative_to(after) for p in after.rglob("*") if p.is_file()}
    )
    differ = 0
    for name in names:
        a, b = before / name, after / name
        if not a.exists() or not b.exists():
            print(f"only in {'after' if not a.exists() else 'before'}: {name}")
            differ += 1
            continue
        left, right = _normalised(a, before), _normalised(b, after)
        if left == right:
            continue
        differ += 1
        print(f"differs: {name}")
        if isinstance(left, str) and isinstance(right, str):
            diff = difflib.unified_diff(left.splitlines(), right.splitlines(), lineterm="", n=1)
            for line in list(diff)[:40]:
                print(f"    {line[:200]}")
    print(f"{len(names)} files compared, {differ} differ")
    return differ


def main(argv: list[str] | None = None) -> int:
    """Run ``record`` or ``compare``."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    r = sub.add_parser("record")
    r.add_argument("out", type=Path)
    r.add_argument("--incidents", nargs="+", default=DEFAULT_INCIDENTS)
    r.add_argument(
        "--hotspots",
        default=str(Path(sys.executable).with_name("hotspots")),
        help="the hotspots command to run (default: the one beside this Python)",
    )
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = p.parse_args(argv)
    if args.what == "record":
        os.environ.setdefault("PYTHONHASHSEED", "0")
        record(args.out.resolve(), args.incidents, [args.hotspots])
        return 0
    return 1 if compare(args.before, args.after) else 0


if __name__ == "__main__":
    raise SystemExit(main())
