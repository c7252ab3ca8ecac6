"""The whole pipeline on two delivery days (a re-fit, then a delta run with the stored
model) with KUNDENSTAMM_ENGINE=duckdb and =spark: the same persons, scored pairs and
golden customers?

    ./run bench && nice -n 5 .venv/bin/python benchmarks/spark_pipeline.py --persons 400
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.generate import generate  # noqa: E402
from pipelines.steps import run_all_steps  # noqa: E402
from tests.generated import deliver, delivery_days  # noqa: E402
from warehouse.settings import Settings  # noqa: E402

QUERIES = {
    "persons": "SELECT record_key, cluster_key FROM clusters ORDER BY 1",
    "scored pairs": "SELECT key_l, key_r, round(match_probability, 9) FROM scored_pairs ORDER BY 1, 2",
    "golden customers": "SELECT * EXCLUDE (golden_id) FROM golden_customers ORDER BY ALL",
    "linkage runs": "SELECT mode FROM linkage_run ORDER BY run_at",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=400)
    args = parser.parse_args(argv)
    root = ROOT / "benchmarks" / "out" / f"spark_pipeline_{args.persons}"
    shutil.rmtree(root, ignore_errors=True)
    generate(root / "demo", persons=args.persons, seed=15, days=2)
    results = {}
    for engine in ("duckdb", "spark"):
        base = root / engine
        settings = replace(Settings(landing_dir=base / "landing", warehouse_path=base / "warehouse.duckdb",
                                    published_path=base / "golden.duckdb", reports_dir=base / "reports"), engine=engine)
        for hours, day in enumerate(delivery_days(root / "demo" / "landing")):
            deliver(root / "demo" / "landing", settings.landing_dir, day)
            run_all_steps(settings, datetime(2026, 11, 20, 7) + timedelta(hours=2 * hours))
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            results[engine] = {name: con.execute(sql).fetchall() for name, sql in QUERIES.items()}
    for name in QUERIES:
        same = results["duckdb"][name] == results["spark"][name]
        print(f"{name}: {'the same' if same else 'DIFFERENT'} ({len(results['duckdb'][name])} rows)")
    print("runs:", [mode for (mode,) in results["spark"]["linkage runs"]])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
