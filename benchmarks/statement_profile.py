"""Where a later delta run spends its time: every SQL statement of every step, timed.

    .venv/bin/python benchmarks/statement_profile.py --persons 1000000

Needs the state `benchmarks/incremental.py --persons N` leaves after its delta run
(`benchmarks/out/incremental_<N>/delta<tag>`). From a copy of it, the later delta's delivery
(the next fifth of day 2's hotline and POS rows, as in incremental.py) is run through every
step with the warehouse connection's `execute` timed statement by statement. Prints and
writes (benchmarks/results/statement_profile_<N>.md) each step's seconds and its slowest
statements, so the next cut is chosen from measurements, not guesses. The timing wrapper
adds a few microseconds a statement; Python work between statements shows as the step's
remainder.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from german_linkage import OUT, in_own_process, peak_rss_mib, save_result  # noqa: E402
from golden_accuracy import _settings, prepare  # noqa: E402
from incremental import LATER_AT, deliver_later  # noqa: E402


class _Timed:
    """The warehouse connection, each `execute` timed: (start, seconds, statement's first words)."""

    def __init__(self, con, log: list) -> None:
        self._con, self._log = con, log
        self.opened_at = time.perf_counter()

    def execute(self, sql, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self._con.execute(sql, *args, **kwargs)
        finally:
            self._log.append((start, time.perf_counter() - start, re.sub(r"\s+", " ", str(sql)).strip()[:110]))

    def __getattr__(self, name):
        return getattr(self._con, name)


def _profile(folder: str, run_at, settings: list[str], queue) -> None:
    import pipelines.steps as steps
    from warehouse.connection import open_warehouse

    log: list = []
    opened: list[_Timed] = []

    def timed_warehouse(*args, **kwargs):
        opened.append(_Timed(open_warehouse(*args, **kwargs), log))
        for setting in settings:
            opened[-1].execute(f"SET {setting}")
        return opened[-1]

    steps.open_warehouse = timed_warehouse
    summary = steps.run_all_steps(_settings(Path(folder)), run_at=run_at)
    # run_all_steps closes the connection after the last step: its checkpoint is the run's too.
    summary.seconds["closing"] = time.perf_counter() - opened[0].opened_at - sum(summary.seconds.values())
    # The steps run one after the other from the moment the connection opened: each statement
    # belongs to the step whose span holds its start.
    ends, at = [], opened[0].opened_at
    for name, seconds in summary.seconds.items():
        at += seconds
        ends.append((at, name))
    statements: dict = defaultdict(lambda: defaultdict(list))
    for start, seconds, label in log:
        step = next((name for end, name in ends if start < end), ends[-1][1])
        statements[step][label].append(seconds)
    queue.put({"seconds": summary.seconds, "peak_mib": peak_rss_mib(),
               "statements": {s: dict(t) for s, t in statements.items()}})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--tag", default="", help="which delta state of incremental.py to start from (its --tag)")
    parser.add_argument("--top", type=int, default=8, help="statements shown per step")
    parser.add_argument("--tag-result", default="", help="suffix of the result file")
    parser.add_argument("--set", action="append", default=[], metavar="SETTING",
                        help="a DuckDB setting for the run's connection (e.g. \"checkpoint_threshold = '1GB'\"): an experiment")
    args = parser.parse_args(argv)
    exports, base = prepare(args.persons), OUT / f"incremental_{args.persons}"
    start = base / f"delta{args.tag}"
    if not start.exists():
        raise SystemExit(f"run benchmarks/incremental.py --persons {args.persons} first (no {start})")
    folder = base / "profile_later"
    deliver_later(exports, start, folder)
    result = in_own_process(_profile, str(folder), LATER_AT, args.set)
    total = sum(result["seconds"].values())
    lines = [f"# Statements of a later delta run, {args.persons:,} persons", "",
             f"`.venv/bin/python benchmarks/statement_profile.py --persons {args.persons}"
             + "".join(f' --set "{s}"' for s in args.set) + "`", "",
             f"Whole run {total:.1f} s, peak {result['peak_mib']:.0f} MiB.", ""]
    for step, seconds in result["seconds"].items():
        statements = result["statements"].get(step, {})
        in_sql = sum(sum(v) for v in statements.values())
        lines += [f"## {step}: {seconds:.1f} s ({in_sql:.1f} s in {sum(len(v) for v in statements.values())} statements)",
                  "", "| s | calls | statement |", "|--:|--:|:--|"]
        slowest = sorted(statements.items(), key=lambda kv: -sum(kv[1]))[: args.top]
        lines += [f"| {sum(v):.2f} | {len(v)} | `{k.replace('|', '/')}` |" for k, v in slowest]
        lines.append("")
    name = f"statement_profile_{args.persons}{'_' + args.tag_result if args.tag_result else ''}.md"
    path = save_result(name, "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
