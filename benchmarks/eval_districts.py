"""Rolling-origin evaluation of ASB hotspot methods over the 14 Hampshire districts.

Not a test: prints markdown tables. For each district (incidents = rows whose LSOA
2011 code is one of the district's; outline = the district polygon in EPSG:27700),
:func:`analysis.rolling.rolling_evaluation` scores the methods on 4 expanding-window
splits of the 15 months 2021-03..2022-05 (train up to the origin, test the next
3 months), at 1%, 5% and 10% of the district. Then it times fitting and validating
the default risk surface on 12 months of Eastleigh.

Run::

    PYTHONPATH=$PWD python benchmarks/eval_districts.py [--methods a,b] [--districts X,Y]
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from analysis.risk import fit_risk
from analysis.rolling import rolling_evaluation
from benchmarks.hampshire_data import load_districts

ASB = ("Anti-social behaviour",)
METHODS = (
    "risk surface",
    "patrol areas",
    "grid counts",
    "kde 50 m",
    "kde 200 m",
    "prospective",
    "oracle (test)",
)
COVERAGES = (0.01, 0.05, 0.10)


def markdown(df: pd.DataFrame, *, index: bool = True, digits: int = 3) -> str:
    """A pipe table of ``df`` (no dependency on tabulate)."""
    df = df.reset_index() if index else df

    def cell(v: object) -> str:
        return f"{v:.{digits}f}" if isinstance(v, float) else str(v)

    lines = [
        "| " + " | ".join(str(c) for c in df.columns) + " |",
        "|" + "|".join("---" for _ in df.columns) + "|",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--districts", default="")
    ap.add_argument("--per-split", action="store_true", help="print every split's figures")
    args = ap.parse_args()
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    t0 = time.perf_counter()
    districts = load_districts()
    print(f"Loaded 14 districts in {time.perf_counter() - t0:.1f} s\n")
    wanted = {d.strip() for d in args.districts.split(",") if d.strip()}
    rows = []
    split_rows = []
    for d in districts:
        if wanted and d.name not in wanted:
            continue
        t0 = time.perf_counter()
        res = rolling_evaluation(
            d.incidents, types=ASB, study_area=d.outline, methods=methods, coverages=COVERAGES
        )
        ps = res.per_split[res.per_split["method"].isin(["risk surface", "grid counts"])]
        wide = ps.pivot_table(
            index=["origin", "test_months"],
            columns=["method", "coverage"],
            values="hit_rate",
            sort=False,
        )
        wide.columns = [
            f"{'risk' if m == 'risk surface' else 'counts'} {round(c * 100)}%"
            for m, c in wide.columns
        ]
        wide = wide.reset_index()
        wide.insert(0, "district", d.name)
        split_rows.append(wide)
        s = res.summary.copy()
        s.insert(0, "district", d.name)
        rows.append(s)
        chosen = res.per_split[res.per_split["method"] == "risk surface"]["detail"]
        print(
            f"{d.name}: {time.perf_counter() - t0:.0f} s; risk surface per split: "
            f"{'; '.join(chosen.unique())}",
            flush=True,
        )
        if args.per_split:
            print(markdown(res.per_split, index=False), "\n", flush=True)
    table = pd.concat(rows, ignore_index=True)
    hit = table.pivot_table(
        index="district", columns=["method", "coverage"], values="hit_rate", sort=False
    )
    print("\n## Mean hit rate over 4 splits (ASB, 2021-03..2022-05)\n")
    cols = [(m, c) for m in methods for c in COVERAGES if (m, c) in hit.columns]
    out = hit[cols].copy()
    out.loc["Mean"] = out.mean()
    out.columns = [f"{m} {round(c * 100)}%" for m, c in cols]
    print(markdown(out))
    if "risk surface" in methods and "grid counts" in methods:
        print("\n## Risk surface minus grid counts (hit rate)\n")
        diff = pd.DataFrame(
            {
                f"{round(c * 100)}%": hit[("risk surface", c)] - hit[("grid counts", c)]
                for c in COVERAGES
            }
        )
        diff.loc["Mean"] = diff.mean()
        print(markdown(diff))
    if split_rows:
        print("\n## Per split: hit rate of the risk surface and grid counts\n")
        print(markdown(pd.concat(split_rows, ignore_index=True), index=False))
    print("\n## Mean over districts of PAI, PEI, RRI and achieved area share\n")
    agg = table.groupby(["method", "coverage"], sort=False)[
        ["area_share", "hit_rate", "pai", "pei", "rri", "hit_sd"]
    ].mean()
    print(markdown(agg))
    east = next(d for d in districts if d.name == "Eastleigh")
    months = sorted(set(east.incidents["month"]))[-12:]
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        fit_risk(east.incidents, types=ASB, study_area=east.outline, months=months)
        times.append(time.perf_counter() - t0)
    print(
        f"\nFit + validate the default risk surface, Eastleigh, 12 months "
        f"({months[0]}..{months[-1]}): best of 3 = {min(times):.2f} s "
        f"(all: {', '.join(f'{t:.2f}' for t in times)})"
    )


if __name__ == "__main__":
    main()
