"""The ``hotspots`` command line (also ``python -m cli``).

Each sub-command is a small function taking the parsed arguments; bad input ends
in a one-line message naming the file and the problem, and exit status 2.

The layers are imported inside the commands that use them: importing geo, analysis,
packs and render takes about 3.6 s (``python -X importtime``), which ``--help`` and a
mistyped argument need not wait for.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from geo.errors import InputError

__all__ = ["build_parser", "main"]

RATE_COLUMNS = [
    "code",
    "name",
    "count",
    "population",
    "rate_per_1000",
    "ci_low",
    "ci_high",
    "months",
    "share",
    "borough_rate",
    "vs_borough",
]

_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def _command(name: str) -> Callable:
    def register(fn: Callable[[argparse.Namespace], int]) -> Callable:
        _COMMANDS[name] = fn
        return fn

    return register


def _area(args: argparse.Namespace):
    from geo.study_area import load_study_area  # noqa: PLC0415 - keep --help fast

    code = getattr(args, "area", None) or "E07000086"
    if not getattr(args, "store", None):
        return load_study_area(code)
    try:
        return load_study_area(code)  # a Hampshire area keeps its wards
    except InputError:
        from geo.store_query import national_study_area  # noqa: PLC0415

        return national_study_area(code)


def _load_for(args: argparse.Namespace, area):
    """The incidents of ``area``: from the police.uk store with ``--store``, else the files."""
    return _load_with_held(args, area)[0]


def _load_with_held(args: argparse.Namespace, area) -> tuple:
    """The incidents of ``area``, the months rates are annualised over, and a caveat.

    From a store, the months held are those its file of the area's own police force
    covers, and the caveat (also printed as a warning) names the months it has none
    for; from files, None (the months chosen) and no caveat.
    """
    if getattr(args, "store", None):
        from geo.store_query import home_force_months, load_from_store  # noqa: PLC0415

        result = load_from_store(args.store, area)
        home = home_force_months(args.store, area.code, _months_of(result.incidents))
        if home.caveat:
            print(f"warning: {home.caveat}", file=sys.stderr)
        return result, home.held, home.caveat
    return _load(args.incidents, area), None, ""


def _months_of(incidents: pd.DataFrame) -> list[str]:
    """The months present in an incident frame, oldest first."""
    return sorted(m for m in incidents["month"].unique() if m)


def _incident_paths(items: list[str] | None) -> list:
    """Paths for ``--incidents``: files, folders and archives.

    The word ``shipped`` stands for the default shipped dataset and a dataset's name
    (``eastleigh-area``) for that dataset; nothing given means the default dataset.
    """
    from geo.paths import DATASETS, shipped_incident_paths  # noqa: PLC0415

    out: list = []
    for item in items or ["shipped"]:
        if item == "shipped":
            out += shipped_incident_paths()
        elif item in DATASETS and not Path(item).exists():
            out += shipped_incident_paths(item)
        else:
            out.append(item)
    return out


def _load(paths: list[str] | None, area):
    from geo.io import load_incidents  # noqa: PLC0415 - keep --help fast

    return load_incidents(_incident_paths(paths), area)


def _default_period(args: argparse.Namespace, incidents: pd.DataFrame) -> None:
    """Fill ``--from``/``--to`` left out with the latest twelve months loaded (and say so)."""
    from analysis.periods import DEFAULT_MONTHS, default_months  # noqa: PLC0415

    if args.month_from or args.month_to or incidents.empty:
        return
    args.month_from, args.month_to = default_months(_months_of(incidents))
    print(
        f"months {args.month_from} to {args.month_to}: the latest of the loaded months (up "
        f"to {DEFAULT_MONTHS} in a row; choose others with --from and --to)"
    )


def _print_table(df: pd.DataFrame, floats: int = 2) -> None:
    with pd.option_context(
        "display.max_rows", 500, "display.width", 160, "display.max_columns", 30
    ):
        print(df.to_string(index=False, float_format=lambda v: f"{v:,.{floats}f}"))


def _write_csv(df: pd.DataFrame, out: str) -> None:
    from geo.writers import safe_csv  # noqa: PLC0415

    safe_csv(df, Path(out))
    print(f"wrote {out}", file=sys.stderr)


@_command("rates")
def _rates(args: argparse.Namespace) -> int:
    from analysis.rates import area_rates  # noqa: PLC0415

    if args.store and args.level in ("csp", "district", "force") and not args.area:
        # Every CSP, district or force area of England and Wales, in one query.
        args.similar, args.n, args.json = getattr(args, "similar", None), 10, False
        return _national(args)
    area = _area(args)
    if args.level is None:
        args.level = "ward" if "ward" in area.levels else "lsoa"
    if args.level not in area.levels:
        msg = (
            f"--level {args.level!r}: {area.name} has the levels "
            f"{', '.join(area.levels)}; choose one of them."
        )
        raise InputError(msg)
    result, held, _ = _load_with_held(args, area)
    _default_period(args, result.incidents)
    table = area_rates(
        result.incidents,
        area.level(args.level),
        types=args.type,
        month_from=args.month_from,
        month_to=args.month_to,
        months_held=held,
    )
    table = table[RATE_COLUMNS]
    if args.out:
        _write_csv(table, args.out)
    _print_table(table)
    print(
        f"\n{table['count'].sum():,} incidents in {len(table)} areas "
        f"({args.level}); population {table['population'].sum():,}; "
        f"rows read {result.rows_in:,}: accepted {result.accepted:,}, rejected "
        f"{result.rejected:,}, outside the study area {result.outside_area:,}.",
    )
    months = int(table["months"].iloc[0]) if len(table) else 0
    print(
        f"Rates are per 1,000 residents per year (annualised from {months} month"
        f"{'s' * (months != 1)}); residents: {table.attrs.get('population_source', '')}; "
        f"boundaries: {table.attrs.get('boundaries', '')}."
    )
    return 0


@_command("validate")
def _validate(args: argparse.Namespace) -> int:
    from geo.io import load_incidents  # noqa: PLC0415

    if args.rejects:
        target = Path(args.rejects).resolve()
        for p in args.paths:
            folder = Path(p).resolve()
            if folder.is_dir() and folder in target.parents:
                msg = (
                    f"--rejects {args.rejects}: inside the input folder {p}, where the next "
                    "validate would read it as data; write it elsewhere."
                )
                raise InputError(msg)
    result = load_incidents(args.paths, _area(args))
    summary = result.summary()
    if args.rejects:
        _write_csv(result.rejects, args.rejects)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
        return 0
    files = result.files.copy()
    files["source_file"] = files["source_file"].map(
        lambda s: Path(s.split("!")[0]).name + ("!" + s.split("!")[1] if "!" in s else "")
    )
    _print_table(files)
    print(
        f"\nrows in {result.rows_in:,} = accepted {result.accepted:,} + rejected "
        f"{result.rejected:,} + outside the study area {result.outside_area:,}"
        f"  [{'reconciles' if result.reconciles() else 'DOES NOT RECONCILE'}]"
    )
    print(f"accepted without a location (counted by LSOA, not mapped): {result.without_location:,}")
    for d in result.duplicate_files:
        print(
            f"duplicate: {d['source_file']} repeats {d['force']} {d['month']} "
            f"({d['rows']:,} rows) already loaded from {d['kept_from']}; kept once"
        )
    for name, why in result.skipped:
        print(f"skipped: {name}: {why}")
    if result.rejected:
        print("\nrejected rows by reason:")
        for reason, n in summary["reject_reasons"].items():
            print(f"  {n:6,}  {reason}")
        first = result.rejects.head(10)
        for r in first.itertuples(index=False):
            print(f"  {Path(r.source_file).name} line {r.row}: {r.reason}")
        if not args.rejects:
            print("(write every rejected row with --rejects FILE.csv)")
    return 0


def _filtered(args: argparse.Namespace, area):
    from analysis.rates import filter_incidents  # noqa: PLC0415

    result = _load_for(args, area)
    _default_period(args, result.incidents)
    return result, filter_incidents(
        result.incidents, types=args.type, month_from=args.month_from, month_to=args.month_to
    )


@_command("detect")
def _detect(args: argparse.Namespace) -> int:
    from analysis.hotspots import detect_hotspots  # noqa: PLC0415

    area = _area(args)
    if args.method in ("patrol", "risk"):
        return _detect_risk(args, area)
    _, incidents = _filtered(args, area)
    bw = args.bandwidth_m
    bw = (
        bw
        if bw in ("auto", "scott", "silverman", "spatial_silverman")
        else _positive(bw, "--bandwidth-m")
    )
    res = detect_hotspots(
        incidents,
        area,
        method=args.method,
        coverage=args.coverage / 100,
        bandwidth_m=bw,
        eps_m=args.eps_m,
        min_samples=args.min_samples,
    )
    hot = res.hotspots
    out = hot.to_crs("EPSG:4326")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    out.to_file(args.out, driver="GeoJSON")
    for note in res.notes:
        print(note)
    if args.method == "kde":
        share = hot["area_m2"].sum() / area.area_m2
        print(f"hotspots cover {share:.2%} of the study area (asked {args.coverage}%).")
    _print_table(
        hot[["rank", "name", "count", "share", "area_m2", "top_streets", "peak_months"]].head(15),
        floats=3,
    )
    print(f"\n{len(hot)} hotspots from {len(incidents):,} incidents; wrote {args.out}")
    if res.reference is not None:
        for r in res.reference.itertuples():
            print(f"review's '{r.review_name}': {r.verdict}")
    return 0


def _detect_risk(args: argparse.Namespace, area) -> int:
    """``detect --method patrol`` (the default) or ``--method risk``: the risk surface."""
    from analysis.hotspots import detect_hotspots  # noqa: PLC0415
    from analysis.rates import filter_incidents  # noqa: PLC0415
    from analysis.risk import fit_risk, risk_cells  # noqa: PLC0415
    from packs.tables import month_range  # noqa: PLC0415

    result, typed = _filtered(args, area)
    window = filter_incidents(result.incidents, month_from=args.month_from, month_to=args.month_to)
    if args.method == "patrol":
        if not 3 <= args.areas <= 30:
            msg = f"--areas {args.areas}: give between 3 and 30 patrol areas."
            raise InputError(msg)
        res = detect_hotspots(
            typed,
            area,
            method="patrol",
            history=window,
            n_areas=args.areas,
            max_across_m=args.max_across_m,
        )
        found, notes = res.hotspots, res.notes
        shown = [
            "rank",
            "name",
            "count",
            "expected",
            "expected_low",
            "expected_high",
            "share",
            "top_streets",
        ]
        what = "patrol areas"
    else:
        types = tuple(args.type or sorted(set(window["crime_type"])))
        surface = fit_risk(
            window,
            types=types,
            study_area=area.geometry,
            months=tuple(month_range(args.month_from, args.month_to)),
        )
        found, notes = risk_cells(surface, args.coverage / 100), [surface.description]
        share = found["area_m2"].sum() / area.area_m2
        notes.append(
            f"the highest-risk cells cover {share:.2%} of the study area (asked {args.coverage}%)."
        )
        shown = ["rank", "expected", "share", "cells", "area_m2"]
        what = "groups of highest-risk cells"
    for note in notes:
        print(note)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    found.to_crs("EPSG:4326").to_file(args.out, driver="GeoJSON")
    _print_table(found[shown].head(30), floats=2)
    print(
        f"\n{len(found)} {what} from {len(typed):,} incidents ({args.month_from} to "
        f"{args.month_to}), predicting the month after; wrote {args.out}"
    )
    return 0


def _positive(value: str, flag: str) -> float:
    try:
        v = float(value)
    except ValueError:
        v = -1.0
    if not v > 0:
        msg = f"{flag} {value!r}: give metres (a positive number) or a rule (auto, scott, silverman, spatial_silverman)."
        raise InputError(msg)
    return v


@_command("evaluate")
def _evaluate(args: argparse.Namespace) -> int:
    from analysis.evaluate import DEFAULT_METHODS, evaluate_methods  # noqa: PLC0415
    from analysis.rates import filter_incidents  # noqa: PLC0415

    area = _area(args)
    result = _load_for(args, area)
    inc = result.incidents
    fixed = [args.train_from, args.train_to, args.test_from, args.test_to]
    if not any(fixed):
        return _evaluate_rolling(args, area, inc)
    if not all(fixed):
        msg = (
            "give all four of --train-from, --train-to, --test-from and --test-to for one "
            "fixed split, or none for rolling-origin validation over the loaded months."
        )
        raise InputError(msg)
    train = filter_incidents(
        inc, types=args.type, month_from=args.train_from, month_to=args.train_to
    )
    test = filter_incidents(inc, types=args.type, month_from=args.test_from, month_to=args.test_to)
    if train.empty or test.empty:
        msg = (
            f"no incidents in the {'training' if train.empty else 'test'} period; the data "
            f"holds months {sorted(inc['month'].unique())}."
        )
        raise InputError(msg)
    try:
        coverages = [float(c) / 100 for c in args.coverage.split(",")]
    except ValueError as exc:
        msg = f"--coverage {args.coverage!r}: give percentages separated by commas, e.g. 1,5,10."
        raise InputError(msg) from exc
    methods = args.method or list(DEFAULT_METHODS)
    table = evaluate_methods(
        train, test, coverages=coverages, methods=methods, study_area=area.geometry
    )
    show = table.assign(
        coverage=(table["coverage"] * 100).map(lambda v: f"{v:g}%"),
        area_share=table["area_share"].map(lambda v: f"{v:.2%}"),
        hit_rate=table["hit_rate"].map(lambda v: f"{v:.1%}"),
    )
    _print_table(show[["method", "detail", "coverage", "area_share", "hit_rate", "pai", "rri"]])
    print(
        f"\ntrained on {table['train_n'].iloc[0]:,} incidents ({args.train_from}..{args.train_to}), "
        f"tested on {table['test_n'].iloc[0]:,} ({args.test_from}..{args.test_to})."
    )
    if args.out:
        _write_csv(table, args.out)
    return 0


def _coverages(text: str) -> list[float]:
    try:
        return [float(c) / 100 for c in text.split(",")]
    except ValueError as exc:
        msg = f"--coverage {text!r}: give percentages separated by commas, e.g. 1,5,10."
        raise InputError(msg) from exc


def _evaluate_rolling(args: argparse.Namespace, area, inc: pd.DataFrame) -> int:
    """Rolling-origin validation of every method over the loaded months."""
    from analysis.rolling import ROLLING_METHODS, rolling_evaluation  # noqa: PLC0415

    types = tuple(args.type or sorted(set(inc["crime_type"])))
    methods = tuple(args.method or ROLLING_METHODS)
    res = rolling_evaluation(
        inc,
        types=types,
        study_area=area.geometry,
        coverages=tuple(_coverages(args.coverage)),
        methods=methods,
    )
    summary = res.summary.assign(coverage=(res.summary["coverage"] * 100).map(lambda v: f"{v:g}%"))
    cols = [
        c
        for c in (
            "method",
            "coverage",
            "area_share",
            "hit_rate",
            "hit_min",
            "hit_max",
            "pai",
            "pei",
            "rri",
        )
        if c in summary.columns
    ]
    print(
        f"{area.name}, {', '.join(types)}: rolling origin, {len(res.splits)} splits "
        f"(each fits on the months up to its origin and scores the months after it)"
    )
    _print_table(summary[cols], floats=3)
    print("\nper split:")
    per = res.per_split.assign(coverage=(res.per_split["coverage"] * 100).map(lambda v: f"{v:g}%"))
    _print_table(
        per[
            [
                c
                for c in (
                    "origin",
                    "test_months",
                    "method",
                    "coverage",
                    "hit_rate",
                    "pai",
                    "pei",
                    "rri",
                )
                if c in per.columns
            ]
        ],
        floats=3,
    )
    if args.out:
        _write_csv(res.per_split, args.out)
    return 0


@_command("report")
def _report(args: argparse.Namespace) -> int:
    from geo.paths import REVIEW_DIR  # noqa: PLC0415
    from geo.published import load_review_tables  # noqa: PLC0415
    from packs import parse_period, review_pack, tasking_pack  # noqa: PLC0415
    from render.report import write_report  # noqa: PLC0415 - render loads folium

    threshold = None
    if args.suppress_below is not None:
        try:
            threshold = int(args.suppress_below)
        except ValueError as exc:
            msg = f"--suppress-below {args.suppress_below!r}: give a whole number such as 5."
            raise InputError(msg) from exc
    bw = args.bandwidth_m
    bw = bw if bw == "auto" else _positive(bw, "--bandwidth-m")
    if args.period is not None:
        parse_period(args.period)
    area = _area(args)
    result, _, caveat = _load_with_held(args, area)
    inc = result.incidents
    caveats = [caveat] if caveat else []
    if args.kind == "review":
        pack = review_pack(
            args.period or "2021-04..2022-03",
            inc,
            threshold,
            area=area,
            review_tables=load_review_tables(REVIEW_DIR),
            method=args.method,
            bandwidth_m=bw,
            caveats=caveats,
        )
    else:
        period = args.period
        if period is None:
            months = sorted(set(inc["month"].astype(str)))
            comparable = [m for m in months if str(pd.Period(m, freq="M") - 1) in set(months)]
            period = comparable[-1] if comparable else months[-1]
            print(
                f"tasking month: {period} (the latest loaded month with the month before it; "
                "choose another with --period)",
                file=sys.stderr,
            )
        pack = tasking_pack(
            period,
            inc,
            threshold,
            area=area,
            method=args.method,
            bandwidth_m=bw,
            caveats=caveats,
        )
    try:
        files = write_report(
            pack, Path(args.out), maps=args.maps, pdf=False if args.no_pdf else None
        )
    except RuntimeError as exc:
        print(
            f"hotspots report: error: {exc} (the HTML and CSV files were written to {args.out})",
            file=sys.stderr,
        )
        return 1
    print(f"{pack.title}: {len(pack)} tables")
    for t in pack:
        print(f"  {t.title} [{t.source_note}]")
    print(
        f"wrote {files.html}, {len(files.csvs)} CSV file(s)"
        + (f", {files.pdf}" if files.pdf else "")
    )
    for note in files.notes:
        print(note)
    return 0


def _keep_streets(path: Path) -> Path:
    """Copy a street file to the user's data folder (given once, used by every later run).

    The file is read against the study area by the app (which says what is wrong with
    it); here it only has to exist and be within the size limit.
    """
    import shutil  # noqa: PLC0415

    from app_views.state import user_dir  # noqa: PLC0415 - Streamlit only for this command
    from geo.streets import MAX_STREETS_BYTES  # noqa: PLC0415

    try:
        size = path.stat().st_size
    except OSError as exc:
        msg = f"--streets {path}: cannot be opened ({exc.strerror or exc}). Check the path."
        raise InputError(msg) from exc
    if not path.is_file() or size == 0:
        msg = f"--streets {path}: not a street file (empty, or a folder)."
        raise InputError(msg)
    if size > MAX_STREETS_BYTES:
        msg = (
            f"--streets {path}: {size / 1e6:,.0f} MB is more than a street file may be "
            f"({MAX_STREETS_BYTES / 1e6:,.0f} MB); clip it to the study area."
        )
        raise InputError(msg)
    folder = user_dir() / "streets"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.resolve() != path.resolve():
        part = folder / f".{path.name}.part"
        shutil.copyfile(path, part)
        for old in folder.iterdir():
            if old.is_file() and not old.name.startswith("."):
                old.unlink()
        part.replace(target)
    return target


@_command("app")
def _app(args: argparse.Namespace) -> int:
    from app_views.serve import APP, serve  # noqa: PLC0415 - Streamlit only for this command

    if not APP.exists():
        msg = f"{APP}: the app script is missing; reinstall from the repository."
        raise InputError(msg)
    if args.store:
        from geo.store import open_store  # noqa: PLC0415

        open_store(args.store)  # a missing or damaged store ends here, in one line
        os.environ["HOTSPOTS_STORE"] = str(Path(args.store).resolve())
    if args.area:
        area = _area(args)  # a bad area ends here, in one line
        os.environ["HOTSPOTS_AREA"] = area.code  # the server (a child) opens on it
    if args.streets:
        os.environ["HOTSPOTS_STREETS"] = str(_keep_streets(Path(args.streets)))
    return serve(args.address, args.port, warm_up=not args.no_warm_up)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser for every sub-command."""
    p = _Parser(
        prog="hotspots",
        description="Crime and ASB hotspot mapping for the Eastleigh Community Safety Partnership.",
    )
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def area_option(sp: argparse.ArgumentParser, *, store: bool = True) -> None:
        sp.add_argument(
            "--area",
            metavar="CODE_OR_NAME",
            help="a district or CSP of the Hampshire force by ONS code or name "
            "(default: Eastleigh, E07000086); with --store, any district "
            "or CSP of England and Wales",
        )
        if not store:
            return
        sp.add_argument(
            "--store",
            metavar="DIR",
            help="take the incidents from a police.uk store (hotspots ingest) instead of files",
        )

    def filters(sp: argparse.ArgumentParser) -> None:
        area_option(sp)
        sp.add_argument(
            "--incidents",
            nargs="+",
            metavar="PATH",
            help="police.uk CSVs, folders or archives; 'shipped' for the shipped "
            "data (add files after it to extend it) or a dataset's name "
            "(hampshire, eastleigh-area); default: the shipped data",
        )
        sp.add_argument(
            "--type", action="append", metavar="TYPE", help="crime type, repeatable (default: all)"
        )
        sp.add_argument(
            "--from",
            dest="month_from",
            metavar="YYYY-MM",
            help="first month (default: the latest 12 months loaded)",
        )
        sp.add_argument("--to", dest="month_to", metavar="YYYY-MM", help="last month")

    r = sub.add_parser("rates", help="counts and rates per 1,000 residents by area")
    filters(r)
    r.add_argument(
        "--level",
        default=None,
        help="lsoa, ward, borough (the whole area); Eastleigh also ward2002 and "
        "local_area; other areas lsoa21, and district for a CSP (default ward, or lsoa "
        "where the area has no wards); with --store and no --area: csp, "
        "district or force for every one in England and Wales",
    )
    r.add_argument("--out", metavar="FILE.csv")

    v = sub.add_parser("validate", help="check files without changing anything")
    v.add_argument("paths", nargs="+", metavar="PATH")
    area_option(v, store=False)
    v.add_argument("--rejects", metavar="FILE.csv", help="write every rejected row with its reason")
    v.add_argument("--json", action="store_true", help="print the account as JSON")

    d = sub.add_parser("detect", help="find, name and rank hotspots; write GeoJSON")
    filters(d)
    d.add_argument(
        "--method",
        default="patrol",
        choices=["patrol", "risk", "kde", "dbscan", "gistar"],
        help="patrol (default): a few named patrol areas from the predictive risk "
        "surface (where next month); risk: the surface's highest cells; kde; "
        "dbscan (where incidents cluster); gistar (where counts are "
        "significantly high)",
    )
    d.add_argument(
        "--coverage",
        type=float,
        default=1.0,
        metavar="PCT",
        help="risk and KDE: percent of the study area covered (default 1)",
    )
    d.add_argument(
        "--areas",
        type=int,
        default=10,
        metavar="N",
        help="patrol: how many patrol areas, 3 to 30 (default 10)",
    )
    d.add_argument(
        "--max-across-m",
        type=float,
        default=400.0,
        metavar="M",
        help="patrol: largest extent of an area, metres (default 400)",
    )
    d.add_argument(
        "--bandwidth-m",
        default="auto",
        metavar="N|auto",
        help="KDE bandwidth in metres, or auto (cross-validated; default)",
    )
    d.add_argument("--eps-m", type=float, metavar="N", help="DBSCAN neighbourhood, metres")
    d.add_argument("--min-samples", type=int, metavar="N", help="DBSCAN core size")
    d.add_argument("--out", required=True, metavar="FILE.geojson")

    e = sub.add_parser("evaluate", help="prospective hit rate, PAI and RRI by method")
    e.add_argument("--incidents", nargs="+", metavar="PATH")
    area_option(e)
    e.add_argument("--type", action="append", metavar="TYPE")
    for flag in ("train-from", "train-to", "test-from", "test-to"):
        e.add_argument(
            f"--{flag}",
            metavar="YYYY-MM",
            help="one fixed split (all four); none: rolling origin over the loaded months",
        )
    e.add_argument(
        "--method",
        action="append",
        metavar="METHOD",
        help="fixed split: kde auto, kde N m, grid counts, dbscan, gistar, oracle (test); rolling: risk surface, patrol areas, kde auto, kde 50 m, kde 200 m, grid counts, prospective, dbscan, gistar, oracle; repeatable",
    )
    e.add_argument("--coverage", default="1,5,10", metavar="PCTS")
    e.add_argument("--out", metavar="FILE.csv")

    a = sub.add_parser("app", help="start the map app (Streamlit) on this machine")
    a.add_argument(
        "--address",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1: this machine only)",
    )
    a.add_argument("--port", type=int, default=8501)
    area_option(a)
    a.add_argument(
        "--streets",
        metavar="FILE",
        help="road links for street names on the map and walking distances "
        "(OS Open Roads, OS OpenMap Local or an OpenStreetMap extract); kept "
        "in the user's data folder, so give it once",
    )
    a.add_argument(
        "--no-warm-up",
        action="store_true",
        help="announce the app as soon as the server is up, before its first run",
    )

    rp = sub.add_parser(
        "report",
        help="write the strategic review or monthly tasking pack (HTML, a CSV per table, PDF)",
    )
    rp.add_argument("--kind", required=True, choices=["review", "tasking"])
    rp.add_argument(
        "--period",
        metavar="YYYY-MM[..YYYY-MM]",
        help="review: the period (default 2021-04..2022-03, the published review); "
        "tasking: this month, or a range ending in it (default: the latest "
        "loaded month with the month before it)",
    )
    area_option(rp)
    rp.add_argument(
        "--incidents",
        nargs="+",
        metavar="PATH",
        help="police.uk CSVs, folders or archives (default: the shipped data)",
    )
    rp.add_argument(
        "--suppress-below",
        metavar="N",
        help="withhold counts from 1 to N-1 (5: one to four), consistently",
    )
    rp.add_argument(
        "--method",
        default="kde",
        choices=["kde", "dbscan", "gistar"],
        help="hotspot method (default kde)",
    )
    rp.add_argument(
        "--bandwidth-m",
        default="auto",
        metavar="N|auto",
        help="KDE bandwidth in metres, or auto (cross-validated; default)",
    )
    rp.add_argument(
        "--maps",
        default="both",
        choices=["both", "static", "interactive", "none"],
        help="static SVG maps (printed), interactive maps (screen), both, or none",
    )
    rp.add_argument("--no-pdf", action="store_true", help="do not print the PDF")
    rp.add_argument("--out", required=True, metavar="DIR")

    for extra in _EXTRA_PARSERS:
        extra(sub, filters)
    return p


_EXTRA_PARSERS: list[Callable] = []


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: ``hotspots CMD: error: ...``."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {_one_line(message)} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except InputError as exc:
        print(f"hotspots {args.command}: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"hotspots {args.command}: error: {exc.filename or ''}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2


# --- the national store (issue 14): ingest into a Parquet store, national rates ------------


@_command("ingest")
def _ingest(args: argparse.Namespace) -> int:
    from app_views.serve import keep_freed_memory  # noqa: PLC0415
    from geo.store import StoreError  # noqa: PLC0415 - DuckDB only for this command
    from geo.store_counts import refresh_counts  # noqa: PLC0415
    from geo.store_ingest import ingest  # noqa: PLC0415

    keep_freed_memory()  # partitions' arrays are reused, not faulted in again
    result = ingest(args.paths, args.store)
    # The count table national questions read, brought up to date now rather than by
    # the first question.
    try:
        refresh_counts(args.store)
    except StoreError as exc:
        result.problems.append(str(exc))
    acc = result.summary()
    if args.json:
        print(json.dumps(acc, indent=1, default=str))
    else:
        print(
            f"store {acc['store']}: read {acc['rows_read']:,} rows; taken {acc['rows_in']:,} = "
            f"accepted {acc['accepted']:,} + rejected {acc['rejected']:,}; added "
            f"{acc['added']:,} new rows in {acc['partitions_written']} partitions "
            f"({acc['rows_per_second'] or 0:,} rows/s)"
        )
        again = [d for d in acc["duplicate_force_months"] if d["source_file"] == d["kept_from"]]
        if again:
            print(
                f"{len(again)} force-months ({sum(d['rows'] for d in again):,} rows) are "
                "already in the store from the same files (not read again)"
            )
        for d in acc["duplicate_force_months"]:
            if d["source_file"] != d["kept_from"]:
                print(
                    f"duplicate force-month {d['month']} {d['force']}: {d['source_file']} "
                    f"({d['rows']:,} rows) not taken, kept {d['kept_from']} ({d['why']})"
                )
        for r in acc["replaced"]:
            print(
                f"replaced {r['month']} {r['force']}: {r['old_source']} by {r['new_source']} "
                "(a newer download)"
            )
        for kind, n in acc["reject_reasons"].items():
            print(f"rejected {n:,}: {kind}")
        for s in acc["skipped"]:
            print(f"skipped {s['name']}: {s['reason']}")
    for problem in result.problems:
        print(f"hotspots ingest: error: {_one_line(problem)}", file=sys.stderr)
    return 2 if result.problems else 0


@_command("national")
def _national(args: argparse.Namespace) -> int:
    from analysis.national import national_rates, similar_areas  # noqa: PLC0415

    if args.similar:
        table = similar_areas(
            args.store, args.level, args.similar, args.month_from, args.month_to, n=args.n
        )
    else:
        table = national_rates(
            args.store, args.level, args.month_from, args.month_to, types=args.type
        )
    if args.out:
        _write_csv(table, args.out)
    if args.json:
        print(table.to_json(orient="records"))
    else:
        _print_table(table)
        if not args.similar:
            months = table.attrs.get("months", [])
            span = f"{months[0]}..{months[-1]}" if months else "none"
            print(
                f"\n{len(table)} areas ({args.level}); months {span} ({len(months)}); "
                f"{int(table['count'].sum()):,} rows in areas, "
                f"{table.attrs.get('uncounted', 0):,} in areas in months their own force's "
                "file is not in the store (not counted), "
                f"{table.attrs.get('unplaced', 0):,} in no area of England and Wales; "
                f"national rate {table['national_rate'].iloc[0]:.2f} per 1,000 a year"
            )
    return 0


def _store_parsers(sub: argparse._SubParsersAction, filters: Callable) -> None:
    del filters
    i = sub.add_parser(
        "ingest",
        help="read police.uk files, folders or archives into a "
        "Parquet store (any forces and months)",
    )
    i.add_argument("paths", nargs="+", metavar="PATH")
    i.add_argument("--store", required=True, metavar="DIR")
    i.add_argument("--json", action="store_true", help="print the account as JSON")
    n = sub.add_parser(
        "national",
        help="rates per 1,000 a year of every district, CSP or "
        "force area in England and Wales, from a store",
    )
    n.add_argument("--store", required=True, metavar="DIR")
    n.add_argument("--level", default="csp", choices=["csp", "district", "force"])
    n.add_argument("--from", dest="month_from", metavar="YYYY-MM")
    n.add_argument("--to", dest="month_to", metavar="YYYY-MM")
    n.add_argument(
        "--type", action="append", metavar="TYPE", help="crime type, repeatable (default: all)"
    )
    n.add_argument(
        "--similar",
        metavar="CODE",
        help="rank the areas most like this one by population, density and crime mix",
    )
    n.add_argument("-n", type=int, default=10, help="with --similar: how many (default 10)")
    n.add_argument("--out", metavar="FILE.csv")
    n.add_argument("--json", action="store_true")


_EXTRA_PARSERS.append(_store_parsers)


if __name__ == "__main__":
    raise SystemExit(main())
