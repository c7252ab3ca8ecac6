"""Staging when only the hotline and the tills delivered: the unchanged sources' rows kept,
against every source staged anew, on one state.

    .venv/bin/python benchmarks/staging_reuse.py --persons 1000000

Needs the state `benchmarks/incremental.py --persons N` leaves after its later delta
(`benchmarks/out/incremental_<N>/later`). Its warehouse is staged once (every source anew:
no signature kept yet), then the next slice of day 2's hotline and POS rows is ingested (as
day-4 files) and staged, alternately: with the signatures (the shop and the newsletter kept,
sources/staging_inputs.py) and with them forgotten (every source anew, as before). Both must
give the same staged rows. Writes benchmarks/results/staging_reuse_<N>.md.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from german_linkage import OUT, save_result  # noqa: E402
from golden_accuracy import prepare  # noqa: E402
from incremental import _deliver_quiet_day2  # noqa: E402


def _staged_digest(con) -> tuple:
    return con.execute("SELECT (SELECT count(*) FROM staged_records), (SELECT sum(hash(t)) FROM staged_records t), "
                       "(SELECT count(*) FROM staged_sensitive), (SELECT sum(hash(t)) FROM staged_sensitive t)").fetchall()[0]


def main(argv: list[str] | None = None) -> int:
    import duckdb

    from sources.ingest import ingest_source
    from sources.staging import build_staged_records
    from sources.staging_inputs import staged_in

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    base = OUT / f"incremental_{args.persons}"
    if not (base / "later").exists():
        raise SystemExit(f"run benchmarks/incremental.py --persons {args.persons} first (no {base / 'later'})")
    work = base / "staging_reuse"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    shutil.copyfile(base / "later" / "warehouse.duckdb", work / "warehouse.duckdb")
    shutil.copytree(base / "later" / "landing", work / "landing")
    seconds: dict[str, list[float]] = {"kept": [], "anew": []}
    digests, kept_sources = {}, []
    with duckdb.connect(str(work / "warehouse.duckdb")) as con:
        build_staged_records(con)
        _deliver_quiet_day2(prepare(args.persons), work / "landing", 0.2, after=0.4, as_date="2026-11-23")
        for source in ("hotline", "pos"):
            ingest_source(con, source, work / "landing")
        for _ in range(args.repeat):
            # As a run after this delivery: the hotline's and the tills' signatures moved, the others' did not.
            con.execute("UPDATE staging_inputs SET signature = 'moved' WHERE source IN ('hotline', 'pos')")
            con.execute("CHECKPOINT")
            start = time.perf_counter()
            build_staged_records(con)
            seconds["kept"].append(time.perf_counter() - start)
            generations = staged_in(con)
            kept_sources = sorted(s for s, g in generations.items() if g < max(generations.values()))
            digests["kept"] = _staged_digest(con)
            con.execute("DELETE FROM staging_inputs")
            con.execute("CHECKPOINT")
            start = time.perf_counter()
            build_staged_records(con)
            seconds["anew"].append(time.perf_counter() - start)
            digests["anew"] = _staged_digest(con)
    same = digests["kept"] == digests["anew"]
    lines = [
        f"# Staging a hotline and till delivery, {args.persons:,} persons",
        "",
        f"`.venv/bin/python benchmarks/staging_reuse.py --persons {args.persons} --repeat {args.repeat}`",
        "",
        "| staging | seconds, each measurement |",
        "|:--|--:|",
        f"| unchanged sources kept ({', '.join(kept_sources)}) | {', '.join(f'{s:.2f}' for s in seconds['kept'])} |",
        f"| every source anew (as before) | {', '.join(f'{s:.2f}' for s in seconds['anew'])} |",
        "",
        f"The same staged rows either way: {'yes' if same else 'NO'} ({digests['kept'][0]:,} records).",
    ]
    path = save_result(f"staging_reuse_{args.persons}.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"written to {path}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
