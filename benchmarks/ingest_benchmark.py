"""Ingestion speed: the generated exports of N persons (two delivery days) loaded with the
project's readers into a fresh warehouse, then staged.

    .venv/bin/python benchmarks/ingest_benchmark.py --persons 1000000

Prints rows per second per source and the peak memory of the loading process.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from german_linkage import OUT, exports_dir, peak_rss_mib, save_result  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--exports", type=Path, default=None, help="an existing generated folder (with landing/)")
    args = parser.parse_args(argv)

    from demo.generate import generate
    from sources.ingest import SPECS, ingest_source
    from sources.staging import build_staged_records

    exports = args.exports or exports_dir(args.persons)
    if not (exports / "landing").exists():
        start = time.perf_counter()
        generate(exports, persons=args.persons, seed=2026, days=2)
        print(f"generated {args.persons:,} persons in {time.perf_counter() - start:.0f} s")
    warehouse = OUT / f"ingest_{args.persons}.duckdb"
    warehouse.unlink(missing_ok=True)
    con = duckdb.connect(str(warehouse))
    rows, total_start = [], time.perf_counter()
    for source in SPECS:
        start = time.perf_counter()
        report = ingest_source(con, source, exports / "landing")
        seconds = time.perf_counter() - start
        rows.append({"source": source, "files": len(report.files), "rows loaded": report.rows_loaded,
                     "rows rejected": report.rows_rejected, "seconds": round(seconds, 1),
                     "rows/s": round(report.rows_loaded / seconds) if seconds else 0})
        print(rows[-1], flush=True)
    start = time.perf_counter()
    staged = build_staged_records(con)
    rows.append({"source": "staging (all)", "files": 0, "rows loaded": staged, "rows rejected": 0,
                 "seconds": round(time.perf_counter() - start, 1), "rows/s": 0})
    total = time.perf_counter() - total_start
    con.close()
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    summary = (f"{args.persons:,} persons: ingestion and staging {total:.0f} s in total, "
               f"{table['rows loaded'][:-1].sum():,} rows, peak memory {peak_rss_mib():,.0f} MiB")
    print(summary)
    save_result(f"ingest_{args.persons}.md", table.to_markdown(index=False) + "\n\n" + summary + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
