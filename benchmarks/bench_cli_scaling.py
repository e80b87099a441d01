"""How the command line's time grows with rows: 1 month vs 24 times as many rows.

Builds two folders of police.uk files from the shipped 2017-02 file (6,065 real rows,
the force file cut to five districts): ``small`` holds it once; ``large`` holds it 24
times, relabelled as 24 consecutive months (rows otherwise verbatim), so nothing is a
duplicate force-month. Times ``hotspots rates`` and ``hotspots detect`` (KDE with the
data-driven bandwidth, and DBSCAN) end to end as a user runs them, in a fresh process
(interpreter start and imports included), best of 3.

    .venv/bin/python benchmarks/bench_cli_scaling.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "data" / "police_uk" / "eastleigh_area" / "2017-02-hampshire-street_eastleigh_area.csv"
FACTOR = 24


def _write(folder: Path, copies: int) -> int:
    folder.mkdir(parents=True)
    header, *rows = SRC.read_text(encoding="utf-8").splitlines()
    for k in range(copies):
        y, m = divmod(k, 12)
        month = f"{2015 + y}-{m + 1:02d}"
        body = [r.replace(",2017-02,", f",{month},", 1) for r in rows]
        (folder / f"{month}-hampshire-street.csv").write_text(
            "\n".join([header, *body]) + "\n", encoding="utf-8"
        )
    return len(rows) * copies


def _time(args: list[str]) -> float:
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "cli", *args], check=True, capture_output=True, cwd=ROOT
        )
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp) / "small", Path(tmp) / "large"
        n_small, n_large = _write(small, 1), _write(large, FACTOR)
        out = Path(tmp) / "out.geojson"
        cases = {
            "rates (ward)": ["rates", "--type", "Anti-social behaviour"],
            "detect kde (auto bandwidth)": [
                "detect",
                "--type",
                "Anti-social behaviour",
                "--method",
                "kde",
                "--out",
                str(out),
            ],
            "detect dbscan": [
                "detect",
                "--type",
                "Anti-social behaviour",
                "--method",
                "dbscan",
                "--out",
                str(out),
            ],
        }
        print(
            f"rows: {n_small:,} (1 month) vs {n_large:,} ({FACTOR} months): x{n_large / n_small:.0f}"
        )
        print(f"{'command':30s} {'1 month s':>10s} {'24x rows s':>11s} {'ratio':>6s}")
        for label, args in cases.items():
            a = _time([*args, "--incidents", str(small)])
            b = _time([*args, "--incidents", str(large)])
            print(f"{label:30s} {a:10.2f} {b:11.2f} {b / a:6.1f}")


if __name__ == "__main__":
    main()
