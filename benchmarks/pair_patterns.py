"""Where the pairwise errors sit: scored pairs grouped by their comparison pattern.

    ./run bench && .venv/bin/python benchmarks/pipeline_scale.py --persons 1000000
    .venv/bin/python benchmarks/pair_patterns.py --persons 1000000

Reads the warehouse `pipeline_scale.py` left (benchmarks/out/pipeline_<N>) and the
generator's truth. Each scored pair's pattern is its level per comparison (0 the best
agreement, `-1` saying nothing, e.g. a value missing on one side); per pattern: pairs, the
true ones among them, false direct links (probability at or above the threshold, two
persons) and missed true pairs (below it), with the mean match weight. Prints the patterns
with the most errors, and the totals.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from german_linkage import OUT  # noqa: E402
from linkage.settings import MATCH_THRESHOLD  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--top", type=int, default=15)
    # Another run's warehouse and truth (foreign_linkage.py: benchmarks/out/foreign_run_<N>,
    # benchmarks/out/foreign_<N>/truth/records.csv).
    parser.add_argument("--warehouse", type=Path)
    parser.add_argument("--truth", type=Path)
    args = parser.parse_args(argv)

    con = duckdb.connect()
    warehouse = args.warehouse or OUT / f"pipeline_{args.persons}" / "warehouse.duckdb"
    con.execute(f"ATTACH '{warehouse}' AS w (READ_ONLY)")
    truth = args.truth or OUT / f"exports_{args.persons}" / "truth" / "records.csv"
    con.execute(f"CREATE TABLE truth AS SELECT source || ':' || source_record_id AS record_key, person_id "
                f"FROM read_csv('{truth}', all_varchar = true)")
    con.execute(
        """
        CREATE TABLE pairs AS
        SELECT p.*, a.person_id = b.person_id AS same
        FROM w.scored_pairs p JOIN truth a ON a.record_key = p.key_l JOIN truth b ON b.record_key = p.key_r
        """
    )
    gammas = [c for (c,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'pairs' AND column_name LIKE 'gamma_%' "
        "ORDER BY column_index").fetchall()]
    pattern = " || ',' || ".join(f"coalesce({c}::VARCHAR, '.')" for c in gammas)
    linked = f"match_probability >= {MATCH_THRESHOLD}"
    frame = con.execute(
        f"""
        SELECT {pattern} AS pattern, count(*) AS pairs, count(*) FILTER (WHERE same) AS true_pairs,
               count(*) FILTER (WHERE {linked} AND NOT same) AS false_links,
               count(*) FILTER (WHERE NOT ({linked}) AND same) AS missed,
               round(avg(match_weight), 1) AS mean_weight
        FROM pairs GROUP BY 1
        ORDER BY greatest(false_links, missed) DESC, pattern LIMIT {int(args.top)}
        """
    ).df()
    totals = con.execute(
        f"SELECT count(*) FILTER (WHERE same), count(*) FILTER (WHERE {linked} AND NOT same), "
        f"count(*) FILTER (WHERE NOT ({linked}) AND same) FROM pairs").fetchall()[0]
    print("pattern: " + ",".join(c.removeprefix("gamma_") for c in gammas))
    print(frame.to_string(index=False))
    print(f"true candidate pairs {totals[0]:,}; false direct links {totals[1]:,}; true pairs below the threshold {totals[2]:,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
