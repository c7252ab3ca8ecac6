"""A delta publish with and without the golden step's log of rebuilt persons, on one state.

    .venv/bin/python benchmarks/publish_delta.py --persons 1000000

Needs the state `benchmarks/incremental.py --persons N` leaves after its delta run
(`benchmarks/out/incremental_<N>/delta`). From a copy of it, the next delivery (the later
delta's: the next fifth of day 2's hotline and POS rows) is run up to the golden step; that
state is copied for each measurement, and only `publish` is timed on it, alternately:
- `log`: as the pipeline publishes (the digests compared among the persons rebuilt since the
  version, warehouse/rebuilt_log.py);
- `everyone`: the log dropped first, so the digests are compared for every person, as before.
Both must write the same file (checked table by table). Writes
benchmarks/results/publish_delta_<N>.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from german_linkage import OUT, in_own_process, save_result  # noqa: E402
from golden_accuracy import _settings, prepare  # noqa: E402
from incremental import LATER_AT, deliver_later, fresh_copy  # noqa: E402


def _until_golden(folder: str, run_at, queue) -> None:
    from pipelines.steps import run_all_steps

    run_all_steps(_settings(Path(folder)), run_at=run_at, until="golden")
    queue.put(None)


def _publish(folder: str, run_at, drop_log: bool, queue) -> None:
    import warehouse.publish_delta as publish_delta
    from warehouse.connection import open_warehouse
    from warehouse.publish import publish

    # The part the log narrows, timed on its own (the whole publish moves by seconds between runs).
    finding, timed = publish_delta.find_touched, []

    def find_touched(*args):
        start = time.perf_counter()
        try:
            return finding(*args)
        finally:
            timed.append(time.perf_counter() - start)

    publish_delta.find_touched = find_touched
    settings = _settings(Path(folder))
    with open_warehouse(settings.warehouse_path, memory_limit=settings.memory_limit) as con:
        if drop_log:
            con.execute("DROP TABLE golden_rebuilt")
        start = time.perf_counter()
        report = publish(con, settings.published_path, run_at)
        seconds = time.perf_counter() - start
    queue.put({"seconds": seconds, "finding": sum(timed), "mode": report.mode, "rewritten": report.customers_rewritten})


def _tables(path: Path) -> dict:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        names = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        return {t: con.execute(f"SELECT count(*), sum(hash(x)) FROM {t} x").fetchall() for t in names if t != "publication"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2, help="measurements of each kind, alternating")
    parser.add_argument("--reuse-before", action="store_true", help="start from the state an earlier invocation ran up to golden")
    args = parser.parse_args(argv)
    exports, base = prepare(args.persons), OUT / f"incremental_{args.persons}"
    if not (base / "delta").exists():
        raise SystemExit(f"run benchmarks/incremental.py --persons {args.persons} first (no {base / 'delta'})")
    run_at = LATER_AT
    before = base / "publish_before"
    if not (args.reuse_before and before.exists()):
        deliver_later(exports, base / "delta", before)
        in_own_process(_until_golden, str(before), run_at)
    results: dict[str, list[dict]] = {"log": [], "everyone": []}
    files = {}
    for _ in range(args.repeat):
        for kind in results:
            folder = fresh_copy(before, base / f"publish_{kind}")
            results[kind].append(in_own_process(_publish, str(folder), run_at, kind == "everyone"))
            files[kind] = _tables(_settings(folder).published_path)
            print(kind, results[kind][-1], flush=True)
    same = files["log"] == files["everyone"]
    lines = [
        f"# Delta publish with and without the log of rebuilt persons, {args.persons:,} persons",
        "",
        f"`.venv/bin/python benchmarks/publish_delta.py --persons {args.persons} --repeat {args.repeat}`",
        "",
        "| digests compared among | publish (s), each measurement | of it: finding the touched persons (s) | mode | persons rewritten |",
        "|:--|--:|--:|:--|--:|",
        *[f"| {'the persons rebuilt since the version' if kind == 'log' else 'everyone'} | "
          f"{', '.join(format(r['seconds'], '.1f') for r in runs)} | {', '.join(format(r['finding'], '.1f') for r in runs)} | "
          f"{runs[0]['mode']} | {runs[0]['rewritten']:,} |"
          for kind, runs in results.items()],
        "",
        f"The two published files hold the same rows: {'yes' if same else 'NO'}.",
    ]
    path = save_result(f"publish_delta_{args.persons}.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"written to {path}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
