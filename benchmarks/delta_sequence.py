"""A day of deliveries linked one after another as deltas: does the answer stay a full run's?

    .venv/bin/python benchmarks/delta_sequence.py --persons 100000

Issue 15 asks that after *any sequence* of delta runs the persons equal those of a full
run with the same model on at least 99.9 % of the records. `incremental.py` measures two
deltas; this one measures eight in a row, each kind of delivery the sources make, as the
sensor would run them an hour apart (all within the day, so the stored model stays in
force, unless a run's share of new records asks for a re-fit: then the table says so):

1. a fifth of day 2's hotline calls and POS cards (new and changed records);
2. the shop's day-2 snapshot (changed accounts, accounts that are gone);
3. the next fifth of the calls and cards;
4. the newsletter's day-2 snapshot (subscriptions, opt-outs, unsubscribed addresses gone);
5. the next fifth;
6. the day's erasure requests (persons removed);
7. and 8. the last two fifths.

Day 1 of the generated exports (seed 2026, cached under benchmarks/out/exports_<N>) is the
full first run. After each delta, `linkage.drift.check_drift` (what `kundenstamm
check-drift` prints) re-links every record with the stored model and counts the records
whose person differs from the delta's. Each run and each check in its own process. Writes
benchmarks/results/delta_sequence_<N>.md.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from german_linkage import OUT, in_own_process, save_result  # noqa: E402
from golden_accuracy import _settings, prepare  # noqa: E402
from incremental import DAY1, _deliver_day1, _deliver_quiet_day2, _drift, _run  # noqa: E402

SLICE = 0.2
# What lands before each delta run: a slice of day 2's calls and cards (its index, the
# date its files are named for) or one of day 2's snapshot files (source, file pattern).
SEQUENCE = (
    ("slice", 0, "2026-11-21"),
    ("file", "shop", "customers_2026-11-21*"),
    ("slice", 1, "2026-11-22"),
    ("file", "newsletter", "subscribers_2026-11-21*"),
    ("slice", 2, "2026-11-23"),
    ("file", "erasure", "requests_2026-11-21*"),
    ("slice", 3, "2026-11-24"),
    ("slice", 4, "2026-11-25"),
)


def _land(exports: Path, landing: Path, step: tuple) -> str:
    """Put the step's files into the landing folder; what landed, for the table."""
    kind, first, second = step
    if kind == "slice":
        rows = _deliver_quiet_day2(exports, landing, SLICE, after=first * SLICE, as_date=second)
        return ", ".join(f"{name} ({n:,} rows)" for name, n in rows.items())
    names = []
    for path in sorted((exports / "landing" / first).glob(second)):
        target = landing / first / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        names.append(path.name)
    return ", ".join(names)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=100_000)
    args = parser.parse_args(argv)

    exports = prepare(args.persons)
    state = OUT / f"delta_sequence_{args.persons}"
    if state.exists():
        shutil.rmtree(state)
    _deliver_day1(exports, _settings(state).landing_dir)
    first = in_own_process(_run, str(state), DAY1, False)
    day1_seconds = sum(first["seconds"].values())
    print(f"day 1 (full first run): {day1_seconds:.0f} s", flush=True)

    rows, seconds_per_step = [], []
    for number, step in enumerate(SEQUENCE, start=1):
        landed = _land(exports, _settings(state).landing_dir, step)
        run = in_own_process(_run, str(state), DAY1 + timedelta(hours=number), False)
        drift = in_own_process(_drift, str(state))
        plan, report = run["plan"], drift["report"]
        memoryless = report.without_memory
        seconds = sum(run["seconds"].values())
        seconds_per_step.append(run["seconds"])
        mode = plan["mode"] if plan["mode"] == "delta" else f"{plan['mode']} ({plan['reason']})"
        rows.append(f"| {number} | {landed} | {mode} | {plan['new_records']:,} / {plan['changed_records']:,} / "
                    f"{plan['gone_records']:,} | {plan.get('records_resolved') or 0:,} | {seconds:.1f} "
                    f"({seconds / day1_seconds:.0%}) | {report.records_in_other_clusters:,} of {report.records_compared:,} "
                    f"({report.share:.3%}) | {memoryless.records_in_other_clusters:,} ({memoryless.share:.3%}) |")
        print(rows[-1], flush=True)

    lines = [
        f"# Eight deliveries linked as deltas one after another, {args.persons:,} persons",
        "",
        f"`.venv/bin/python benchmarks/delta_sequence.py --persons {args.persons}`",
        "",
        f"Day 1, the full first run: {day1_seconds:.1f} s, {first['plan']['records']:,} records. Then each delivery "
        "below, an hour after the one before, and after each run `check-drift`: the records whose person differs "
        "from a full re-link of every record with the same stored model, clustered as a full run in place of the "
        "delta would cluster them (bound 0.1 %), and, for information, from the same pairs clustered remembering no "
        "earlier run (the persons that only the links of earlier runs hold together; a re-fit keeps those too).",
        "",
        "| run | landed | mode | new / changed / gone records | records resolved | seconds (of day 1) | "
        "records in another person than a full re-link | ... than one remembering no earlier run |",
        "|--:|:--|:--|--:|--:|--:|--:|--:|",
        *rows,
        "",
        "Seconds per step (day 1, then each run):",
        "",
        "| step | day 1 | " + " | ".join(str(n) for n in range(1, len(SEQUENCE) + 1)) + " |",
        "|:--|" + "--:|" * (len(SEQUENCE) + 1),
        *[f"| {step} | {first['seconds'][step]:.1f} | " + " | ".join(f"{s[step]:.1f}" for s in seconds_per_step) + " |"
          for step in first["seconds"]],
    ]
    path = save_result(f"delta_sequence_{args.persons}.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
