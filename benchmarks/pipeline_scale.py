"""The whole pipeline at scale: one delivery day of N generated persons, from the landing
folder to the published golden table (`pipelines.steps.run_all_steps`: ingest, erasure,
staging, standardisation, blocking, scoring, clustering, golden rows, publish), in a fresh
process; time per step, peak memory, the pairs blocking made and what each rule cost, and
the pairwise accuracy of the clusters against the generator's truth.

    ./run bench && .venv/bin/python benchmarks/pipeline_scale.py --persons 100000 1000000

Exports are generated once per size under benchmarks/out/exports_<N> (seed 2026, two days;
only the first day is delivered here). Writes benchmarks/results/pipeline_<N>.md.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from german_linkage import OUT, in_own_process, peak_rss_mib, save_result  # noqa: E402
from golden_accuracy import prepare  # noqa: E402


def _settings(base: Path):
    from warehouse.settings import Settings

    return Settings(landing_dir=base / "landing", warehouse_path=base / "warehouse.duckdb",
                    published_path=base / "golden.duckdb", reports_dir=base / "reports")


def _run(base: str, queue) -> None:
    import duckdb

    from linkage.blocking import plan_blocking
    from linkage.settings import GERMAN_SETTINGS
    from pipelines.steps import run_all_steps

    settings = _settings(Path(base))
    summary = run_all_steps(settings, run_at=datetime(2026, 11, 20, 7))
    peak = peak_rss_mib()
    con = duckdb.connect(str(settings.warehouse_path))
    clusters = con.execute("SELECT record_key, cluster_key FROM clusters").df()
    candidates = con.execute("SELECT count(*) FROM candidate_pairs").fetchall()[0][0]
    records = con.execute("SELECT count(*) FROM linkage_features").fetchall()[0][0]
    costs = plan_blocking(con, GERMAN_SETTINGS)
    con.close()
    queue.put({"seconds": summary.seconds, "peak_mib": peak, "clusters": clusters, "candidates": candidates,
               "records": records, "pairs_by_rule": summary.reports["blocking"],
               "caps": {name: (c.max_block_size, c.refined_blocks) for name, c in costs.items()}})


def _truth(exports: Path) -> pd.Series:
    records = pd.read_csv(exports / "truth" / "records.csv", dtype=str)
    records = records[records["first_day"] == "1"]
    return pd.Series(records["person_id"].values, index=(records["source"] + ":" + records["source_record_id"]).values)


def measure(persons: int) -> dict:
    from linkage.evaluation import score_clusters
    from tests.generated import deliver, delivery_days

    exports = prepare(persons)
    base = OUT / f"pipeline_{persons}"
    shutil.rmtree(base, ignore_errors=True)
    (base / "landing").mkdir(parents=True)
    deliver(exports / "landing", base / "landing", delivery_days(exports / "landing")[0])
    result = in_own_process(_run, str(base))
    clusters = result["clusters"]
    scores = score_clusters(pd.Series(clusters["cluster_key"].values, index=clusters["record_key"].values), _truth(exports))
    return result | {"scores": scores}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, nargs="+", default=[100_000])
    args = parser.parse_args(argv)
    for persons in args.persons:
        r = measure(persons)
        s = r["scores"]
        steps = pd.DataFrame([{"step": k, "seconds": round(v, 1)} for k, v in r["seconds"].items()])
        linkage = sum(r["seconds"][k] for k in ("blocking", "scoring", "clustering"))
        rules = pd.DataFrame([{"rule": k, "pairs": v, "cap": r["caps"].get(k, ("-", "-"))[0],
                               "blocks refined": r["caps"].get(k, ("-", "-"))[1]} for k, v in r["pairs_by_rule"].items()])
        text = (
            f"{persons:,} persons, one delivery day: {r['records']:,} records, {r['candidates']:,} candidate pairs "
            f"({r['candidates'] / max(r['records'], 1):.1f} per record)\n\n"
            f"- whole run: {sum(r['seconds'].values()):.0f} s, peak {r['peak_mib']:,.0f} MiB; linkage stage "
            f"(blocking, scoring, clustering): {linkage:.0f} s\n"
            f"- pairwise precision {s.precision:.4f}, recall {s.recall:.4f}, F1 {s.f1:.4f}; B-cubed F1 {s.bcubed_f1:.4f}\n\n"
            f"{steps.to_markdown(index=False)}\n\n{rules.to_markdown(index=False)}\n"
        )
        save_result(f"pipeline_{persons}.md", text)
        print(text, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
