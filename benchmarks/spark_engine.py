"""The linkage stage on DuckDB and on Spark (local mode) on the same standardised records:
wall time, peak memory of each run's process tree (for Spark: the Python driver, the JVM
that is driver and executor in local mode, and the Python UDF workers), and whether both
give the same candidate pairs, match probabilities and persons.

    ./run bench && nice -n 5 .venv/bin/python benchmarks/spark_engine.py --persons 100000

The records are those of benchmarks/german_linkage.py (generated exports, seed 2026, two
days, ingested and standardised by the current code; cached under benchmarks/out/).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from german_linkage import in_own_process, prepare, save_result  # noqa: E402


def _tree_rss_mib(root: int) -> tuple[float, float]:
    """Resident memory of `root` and all its descendants, and of the largest Java process
    among them (MiB)."""
    children: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        pid = int(entry)
        name_end = stat.rindex(")")
        names[pid] = stat[stat.index("(") + 1:name_end]
        ppid = int(stat[name_end + 2:].split()[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    total, java, stack = 0, 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        if names.get(pid) == "java":
            java = max(java, rss.get(pid, 0))
        stack.extend(children.get(pid, []))
    return total / 1024, java / 1024


def _link(engine: str, base: str, work: str, queue) -> None:
    from linkage.engine import EngineChoice
    from linkage.pipeline import link_records
    from warehouse.connection import open_warehouse
    from warehouse.settings import Settings

    shutil.copyfile(Path(base) / "features.duckdb", work)
    con = open_warehouse(Path(work), memory_limit=Settings().memory_limit)
    choice = None
    if engine == "spark":
        from linkage.engine.spark import spark_session

        # Local mode on this machine's two cores; the JVM gets what DuckDB may use.
        spark_session("local[2]", shuffle_partitions=8, driver_memory="6g")
        choice = EngineChoice("spark", "local[2]", Path(work).parent / "spark-work", 8)
    start = time.perf_counter()
    report = link_records(con, engine=choice)
    seconds = time.perf_counter() - start
    con.close()
    queue.put({"seconds": seconds, "parts": report.seconds, "pairs": report.candidate_pairs,
               "clusters": report.clustering.clusters})


def run(engine: str, base: Path) -> dict:
    """One engine's run in a fresh process, its process tree's memory sampled twice a second."""
    work = base / f"engine_{engine}.duckdb"
    peak = {"total": 0.0, "java": 0.0}
    done = threading.Event()

    def sample(process):
        while not done.is_set():
            total, java = _tree_rss_mib(process.pid)
            peak["total"], peak["java"] = max(peak["total"], total), max(peak["java"], java)
            time.sleep(0.5)

    try:
        result = in_own_process(_link, engine, str(base), str(work), started=lambda process: threading.Thread(
            target=sample, args=(process,), daemon=True).start())
    finally:
        done.set()
    return result | {"peak_mib": peak["total"], "java_mib": peak["java"], "file": work}


def compare(duckdb_file: Path, spark_file: Path) -> dict:
    """Same pairs, probabilities and persons? Compared inside DuckDB, both files attached."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{duckdb_file}' AS d (READ_ONLY)")
    con.execute(f"ATTACH '{spark_file}' AS s (READ_ONLY)")
    pairs_differing = con.execute(
        "SELECT count(*) FROM ((SELECT key_l, key_r, rules FROM d.candidate_pairs EXCEPT ALL "
        "SELECT key_l, key_r, rules FROM s.candidate_pairs) UNION ALL (SELECT key_l, key_r, rules FROM s.candidate_pairs "
        "EXCEPT ALL SELECT key_l, key_r, rules FROM d.candidate_pairs))").fetchall()[0][0]
    worst, unmatched = con.execute(
        "SELECT max(abs(a.match_probability - b.match_probability)), count(*) FILTER (WHERE b.key_l IS NULL) "
        "FROM d.scored_pairs a LEFT JOIN s.scored_pairs b USING (key_l, key_r)").fetchall()[0]
    records_differing = con.execute(
        "SELECT count(*) FROM d.clusters a FULL JOIN s.clusters b USING (record_key) "
        "WHERE a.cluster_key IS DISTINCT FROM b.cluster_key").fetchall()[0][0]
    con.close()
    return {"pairs_differing": pairs_differing, "max_probability_difference": worst,
            "scored_pairs_missing": unmatched, "records_in_other_clusters": records_differing}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, nargs="+", default=[100_000])
    parser.add_argument("--output", default="spark_engine.md")
    args = parser.parse_args(argv)
    lines = ["| persons | records | candidate pairs | engine | wall s | blocking / scoring / clustering s | "
             "peak MiB (process tree) | of it JVM MiB |", "|---|---|---|---|---|---|---|---|"]
    checks = []
    for persons in args.persons:
        base = prepare(persons)
        with duckdb.connect(str(base / "features.duckdb"), read_only=True) as con:
            records = con.execute("SELECT count(*) FROM linkage_features").fetchall()[0][0]
        results = {engine: run(engine, base) for engine in ("duckdb", "spark")}
        for engine, r in results.items():
            parts = " / ".join(f"{r['parts'][k]:.0f}" for k in ("blocking", "scoring", "clustering"))
            lines.append(f"| {persons:,} | {records:,} | {r['pairs']:,} | {engine} | {r['seconds']:.0f} | {parts} | "
                         f"{r['peak_mib']:.0f} | {r['java_mib']:.0f} |")
            print(lines[-1], flush=True)
        same = compare(results["duckdb"]["file"], results["spark"]["file"])
        checks.append(f"- {persons:,} persons: {same['pairs_differing']} candidate pairs differ, "
                      f"{same['scored_pairs_missing']} scored pairs missing on Spark, largest difference of a match "
                      f"probability {same['max_probability_difference']:.2e}, {same['records_in_other_clusters']} "
                      f"records in another person")
        print(checks[-1], flush=True)
        for r in results.values():
            r["file"].unlink(missing_ok=True)
    load = os.getloadavg()
    text = "\n".join(lines + [""] + checks + ["", f"Load average at the end (1/5/15 min): "
                                                  f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"]) + "\n"
    print(f"written to {save_result(args.output, text)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
