"""The features row's hash: an md5 of the row printed as text against DuckDB's `hash()` of
its columns, on the same 1.7 million rows.

    .venv/bin/python benchmarks/row_hash.py --persons 1000000

Reads the `linkage_features` of the day-1 warehouse `benchmarks/incremental.py --persons N`
leaves (`benchmarks/out/incremental_<N>/day1`), copies it into memory once, and times each
way of hashing every row into a temporary table, alternately (linkage/feature_hash.py says
why the second is the one kept). Writes benchmarks/results/row_hash_<N>.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from german_linkage import OUT, save_result  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    import duckdb

    from linkage.feature_hash import FEATURE_HASH, hash_of_columns_sql

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    warehouse = OUT / f"incremental_{args.persons}" / "day1" / "warehouse.duckdb"
    if not warehouse.exists():
        raise SystemExit(f"run benchmarks/incremental.py --persons {args.persons} --day1-only first (no {warehouse})")
    con = duckdb.connect()
    con.execute(f"ATTACH '{warehouse}' AS w (READ_ONLY)")
    con.execute("CREATE TEMP TABLE f AS SELECT * FROM w.linkage_features")
    columns = [c for (c,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'f' ORDER BY column_index").fetchall()
        if c != FEATURE_HASH]
    quoted = ", ".join(f'"{c}"' for c in columns if c != "record_key")
    ways = {"md5 of the row as text (before)": f"md5(CAST(row({quoted}) AS VARCHAR))",
            "`hash()` of the columns (linkage/feature_hash.py)": hash_of_columns_sql(columns)}
    seconds: dict[str, list[float]] = {way: [] for way in ways}
    for _ in range(args.repeat):
        for way, sql in ways.items():
            start = time.perf_counter()
            con.execute(f"CREATE OR REPLACE TEMP TABLE h AS SELECT record_key, {sql} AS x FROM f")
            seconds[way].append(time.perf_counter() - start)
    rows = con.execute("SELECT count(*) FROM f").fetchall()[0][0]
    lines = [f"# Hashing every features row, {rows:,} rows of {len(columns) - 1} columns", "",
             f"`.venv/bin/python benchmarks/row_hash.py --persons {args.persons} --repeat {args.repeat}`", "",
             "| hash | seconds, each measurement (alternating) |", "|:--|--:|",
             *[f"| {way} | {', '.join(f'{s:.2f}' for s in runs)} |" for way, runs in seconds.items()]]
    path = save_result(f"row_hash_{args.persons}.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
