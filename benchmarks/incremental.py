"""Incremental linking: a second delivery with 1-2 % new and changed records, linked as a
delta with the stored model, against a full run on the same data.

    .venv/bin/python benchmarks/incremental.py --persons 100000

Day 1 of the generated exports (seed 2026, cached under benchmarks/out/exports_<N>, shared
with the other benchmarks; its erasure requests are left out) is delivered into a fresh
landing folder and run through all steps (`pipelines.steps.run_all_steps`): the full first
run, which fits and stores the model. The second delivery is day 2's hotline calls and POS
cards, each file cut to a fixed share of its rows (`--keep`, by a hash of the row's id, so
the same rows every time), and no new shop or newsletter snapshot: a quiet day of about
1-2 % new and changed records. It is then run twice from copies of the day-1 state, each in
its own process (its own peak memory):
- delta: as the pipeline runs by default (the model is an hour old);
- full: the same with `refit=True` (`kundenstamm run --refit`), i.e. what every run cost
  before this change: all pairs built, the model fitted anew, everything re-clustered.
- later (in `--runs` by default): from the delta run's state, the next delivery an hour
  later (the next slice of day 2's rows, written as day-3 files), linked as a delta too,
  which is what the sensor does several times a day. (Until 2026-12-04 the first delta
  after a full run resolved everyone in its clustering: every person started to remember
  its kept pairs; a full run now remembers them itself.)
The delta run's persons are then compared with a full re-link by the same stored model
(`linkage.drift.check_drift`, what `kundenstamm check-drift` prints), and, for information,
with the full run's (which fitted another model). Writes benchmarks/results/incremental_<N>.md.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import shutil
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from german_linkage import OUT, in_own_process, peak_rss_mib, save_result  # noqa: E402
from golden_accuracy import _settings, prepare  # noqa: E402

DAY1 = datetime(2026, 11, 20, 7)
DAY2 = DAY1 + timedelta(hours=1)
LINKAGE_STEPS = ("features", "blocking", "scoring", "clustering")
# The second delivery: day 2's increments, read in the encoding the source system writes.
INCREMENTS = {"hotline": ("calls_*", "utf-8"), "pos": ("kunden_*", "cp1252")}


def _deliver_day1(exports: Path, landing: Path) -> None:
    for path in (exports / "landing").rglob("*2026-11-20*"):
        if path.is_file() and path.parent.name != "erasure":
            target = landing / path.relative_to(exports / "landing")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)


def _kept(row_id: str, keep: float, after: float = 0.0) -> bool:
    share = int(hashlib.sha256(row_id.encode()).hexdigest()[:8], 16) / 0x100000000
    return after <= share < after + keep


def _deliver_quiet_day2(exports: Path, landing: Path, keep: float, after: float = 0.0,
                        as_date: str | None = None) -> dict[str, int]:
    """Day 2's hotline and POS files, each with only `keep` of its rows (header kept; the
    rows whose id hashes into [after, after + keep)), named for `as_date` when given."""
    rows = {}
    for source, (pattern, encoding) in INCREMENTS.items():
        for path in sorted((exports / "landing" / source).glob(f"{pattern}2026-11-21*")):
            text = path.read_text(encoding=encoding, errors="replace")
            dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;")
            records = list(csv.reader(text.splitlines(keepends=True), dialect))
            chosen = [r for r in records[1:] if r and _kept(r[0], keep, after)]
            target = landing / source / (path.name.replace("2026-11-21", as_date) if as_date else path.name)
            with target.open("w", encoding=encoding, newline="") as out:
                writer = csv.writer(out, delimiter=dialect.delimiter, lineterminator="\n")
                writer.writerow(records[0])
                writer.writerows(chosen)
            rows[target.name] = len(chosen)
    return rows


# The later delivery: the next slice of day 2's rows, as files of day 3, an hour after day 2.
LATER_AT = DAY2 + timedelta(hours=1)


def fresh_copy(state: Path, folder: Path) -> Path:
    """`folder` as a copy of the run state `state` (whatever it held before removed)."""
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(state, folder)
    return folder


def deliver_later(exports: Path, delta_state: Path, folder: Path, keep: float = 0.2) -> dict[str, int]:
    """`folder`: a copy of the day-2 delta's state with the later delivery landed in it (the
    slice of day 2's hotline and POS rows after the day-2 delta's, as files of day 3)."""
    fresh_copy(delta_state, folder)
    return _deliver_quiet_day2(exports, _settings(folder).landing_dir, keep, after=keep, as_date="2026-11-22")


def _run(base: str, run_at: datetime, refit: bool, queue) -> None:
    from pipelines.steps import run_all_steps

    settings = replace(_settings(Path(base)), refit=refit)
    summary = run_all_steps(settings, run_at=run_at)
    import duckdb

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        cursor = con.execute("SELECT * FROM linkage_run ORDER BY run_at DESC LIMIT 1")
        plan = dict(zip([d[0] for d in cursor.description], cursor.fetchall()[0]))
    plan.pop("run_at")
    published = summary.reports.get("publish")
    queue.put({"seconds": summary.seconds, "peak_mib": peak_rss_mib(), "plan": plan,
               "publish": {"mode": published.mode, "customers_rewritten": published.customers_rewritten}})


def _drift(base: str, queue) -> None:
    from linkage.drift import check_drift

    settings = _settings(Path(base))
    report = check_drift(settings.warehouse_path, settings.match_threshold, memory_limit=settings.memory_limit)
    queue.put({"report": report, "text": report.describe(), "peak_mib": peak_rss_mib()})


def _against_full(delta: Path, full: Path) -> tuple[int, int]:
    import duckdb

    from linkage.delta import compare_clusters

    with duckdb.connect() as con:
        con.execute(f"ATTACH '{delta}' AS d (READ_ONLY)")
        con.execute(f"ATTACH '{full}' AS f (READ_ONLY)")
        con.execute("CREATE TABLE delta_clusters AS SELECT record_key, cluster_key FROM d.clusters")
        con.execute("CREATE TABLE full_clusters AS SELECT record_key, cluster_key FROM f.clusters")
        diff = compare_clusters(con, "delta_clusters", "full_clusters")
    return diff.records_compared, diff.records_in_other_clusters


def _later_lines(later: dict, rows: dict[str, int], full: dict, delta: dict, steps: list[str]) -> list[str]:
    """The next delivery after the delta, linked as a delta too: its seconds beside the full run's."""
    plan, total = later["plan"], sum(later["seconds"].values())
    linkage = sum(later["seconds"][s] for s in LINKAGE_STEPS)
    full_total, full_linkage = sum(full["seconds"].values()), sum(full["seconds"][s] for s in LINKAGE_STEPS)
    return [
        f"A later delivery, linked as a delta after the one above (the next slice of day 2's rows, "
        f"{', '.join(f'{k} ({v:,} rows)' for k, v in rows.items())}): {plan['new_records']:,} new and "
        f"{plan['changed_records']:,} changed records, {plan['records_resolved']:,} records resolved by the clustering "
        f"(the delta above: {delta['plan'].get('records_resolved') or 0:,} of {delta['plan']['records']:,}).",
        "",
        "| step | later delta (s) |",
        "|:--|--:|",
        *[f"| {s} | {later['seconds'][s]:.1f} |" for s in steps],
        f"| **linkage** | **{linkage:.1f}** ({linkage / full_linkage:.1%} of the full run's) |",
        f"| **whole run** | **{total:.1f}** ({total / full_total:.1%} of the full run's) |",
        f"| peak memory (MiB) | {later['peak_mib']:.0f} |",
        "",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--keep", type=float, default=0.2, help="share of day 2's hotline and POS rows delivered")
    parser.add_argument("--day1-only", action="store_true", help="run day 1 and stop (its state is kept for --reuse-day1)")
    parser.add_argument("--reuse-day1", action="store_true",
                        help="start from the day-1 state a --day1-only run left (same code: its seconds are in day1.json)")
    parser.add_argument("--runs", default="delta,full,later",
                        help="day-2 runs to make; one left out is read from its <run>.json of an earlier invocation")
    parser.add_argument("--tag", default="", help="suffix of the day-2 runs' folders and files (a second measurement beside one)")
    args = parser.parse_args(argv)

    exports = prepare(args.persons)
    base = OUT / f"incremental_{args.persons}"
    day1 = base / "day1"
    if args.reuse_day1 and (base / "day1.json").exists():
        first = json.loads((base / "day1.json").read_text())
    else:
        if base.exists():
            shutil.rmtree(base)
        _deliver_day1(exports, _settings(day1).landing_dir)
        first = in_own_process(_run, str(day1), DAY1, False)
        (base / "day1.json").write_text(json.dumps(first, default=str))
    print(f"day 1 (full first run): {sum(first['seconds'].values()):.0f} s, {first['plan']['mode']}", flush=True)
    if args.day1_only:
        return 0
    runs, folders = {}, {}
    for name, refit in (("delta", False), ("full", True)):
        folder = folders[name] = base / f"{name}{args.tag}"
        if name not in args.runs.split(","):
            folders[name] = base / name
            continue
        fresh_copy(day1, folder)
        delivered = _deliver_quiet_day2(exports, _settings(folder).landing_dir, args.keep)
        runs[name] = in_own_process(_run, str(folder), DAY2, refit)
        (base / f"{name}{args.tag}.json").write_text(json.dumps(runs[name], default=str))
        print(f"day 2 {name}: {sum(runs[name]['seconds'].values()):.0f} s, {runs[name]['plan']}", flush=True)
    later = None
    if "later" in args.runs.split(",") and "delta" in runs:
        # The next delivery after the delta: the next slice of day 2's rows, as files of day 3.
        folder = base / f"later{args.tag}"
        later_rows = deliver_later(exports, folders["delta"], folder, args.keep)
        later = in_own_process(_run, str(folder), LATER_AT, False)
        print(f"later delta: {sum(later['seconds'].values()):.0f} s, {later['plan']}", flush=True)
    drift = in_own_process(_drift, str(folders["delta"]))
    print(drift["text"], flush=True)
    for name in {"delta", "full"} - set(runs):
        # Measured by an earlier invocation (its folder and <run>.json), read only now: it may still be running.
        while not (base / f"{name}.json").exists():
            time.sleep(30)
        runs[name] = json.loads((base / f"{name}.json").read_text())
    compared, other = _against_full(_settings(folders["delta"]).warehouse_path, _settings(folders["full"]).warehouse_path)

    delta, full = runs["delta"], runs["full"]
    plan = delta["plan"]
    share_delta = (plan["new_records"] + plan["changed_records"]) / plan["records"]
    total = {n: sum(r["seconds"].values()) for n, r in runs.items()}
    linkage = {n: sum(r["seconds"][s] for s in LINKAGE_STEPS) for n, r in runs.items()}
    steps = list(first["seconds"])
    lines = [
        f"# Incremental linking, {args.persons:,} persons",
        "",
        f"`.venv/bin/python benchmarks/incremental.py --persons {args.persons} --keep {args.keep}`",
        "",
        f"Second delivery: {', '.join(f'{k} ({v:,} rows)' for k, v in delivered.items())}; "
        f"delta: {plan['new_records']:,} new, {plan['changed_records']:,} changed, {plan['gone_records']:,} gone "
        f"of {plan['records']:,} records ({share_delta:.2%} new or changed); {plan['pairs_scored']:,} pairs scored, "
        f"{plan['clusters_touched']:,} persons touched.",
        "",
        "| step | day 1 full first run (s) | day 2 full, `--refit` (s) | day 2 delta (s) |",
        "|:--|--:|--:|--:|",
        *[f"| {s} | {first['seconds'][s]:.1f} | {full['seconds'][s]:.1f} | {delta['seconds'][s]:.1f} |" for s in steps],
        f"| **linkage** ({' + '.join(LINKAGE_STEPS)}) | {sum(first['seconds'][s] for s in LINKAGE_STEPS):.1f} | "
        f"{linkage['full']:.1f} | **{linkage['delta']:.1f}** ({linkage['delta'] / linkage['full']:.1%} of full) |",
        f"| **whole run** | {sum(first['seconds'].values()):.1f} | {total['full']:.1f} | "
        f"**{total['delta']:.1f}** ({total['delta'] / total['full']:.1%} of full) |",
        f"| peak memory (MiB) | {first['peak_mib']:.0f} | {full['peak_mib']:.0f} | {delta['peak_mib']:.0f} |",
        "",
        *(_later_lines(later, later_rows, full, delta, steps) if later else []),
        f"Delta persons against a full re-link with the same stored model (`check-drift`): {drift['text']}; "
        f"its peak memory {drift['peak_mib']:.0f} MiB, {drift['report'].seconds:.0f} s.",
        "",
        f"Against the `--refit` run (another model, fitted on day 2's data): {other:,} of {compared:,} records "
        f"({other / compared:.3%}) in another person.",
        "",
        f"Plans: delta `{delta['plan']['reason']}`; full `{full['plan']['reason']}`.",
        "",
        f"Publish: delta run `{delta['publish']['mode']}` ({delta['publish']['customers_rewritten']:,} persons rewritten), "
        f"full run `{full['publish']['mode']}`.",
    ]
    path = save_result(f"incremental_{args.persons}{args.tag}.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
