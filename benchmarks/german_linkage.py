"""Accuracy and speed on generated German customer data: Kundenstamm, plain recordlinkage
and Splink on the same standardised records (`linkage_features`), each in its own process.

    ./run bench && .venv/bin/python benchmarks/german_linkage.py --persons 10000 100000
    .venv/bin/python benchmarks/german_linkage.py --persons 1000000 --systems kundenstamm splink

Exports are generated once per size under benchmarks/out/ and ingested with the project's
own readers; the linkers all start from the same `linkage_features` table.
"""

from __future__ import annotations

import argparse
import multiprocessing
from queue import Empty
import resource
import shutil
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
OUT = ROOT / "benchmarks" / "out"


def save_result(name: str, text: str) -> Path:
    """A benchmark's table, as markdown, in benchmarks/results/ (RESULTS.md quotes them)."""
    path = ROOT / "benchmarks" / "results" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def exports_dir(persons: int) -> Path:
    """Generated exports (seed 2026, two days), shared by the benchmarks of one size."""
    return OUT / f"exports_{persons}"


def prepare(persons: int) -> Path:
    """Generated exports, ingested (cached) and standardised by the current code, in a
    warehouse file every linker starts from."""
    from demo.generate import generate
    from linkage.features import build_features
    from sources.ingest import SPECS, ingest_source
    from sources.staging import build_staged_records

    base = OUT / f"german_{persons}"
    warehouse = base / "features.duckdb"
    if not warehouse.exists():
        if base.exists():
            shutil.rmtree(base)
        base.mkdir(parents=True)
        exports = exports_dir(persons)
        if not (exports / "truth").exists():
            generate(exports, persons=persons, seed=2026, days=2)
        con = duckdb.connect(str(warehouse))
        for source in SPECS:
            ingest_source(con, source, exports / "landing")
        build_staged_records(con)
        con.close()
    con = duckdb.connect(str(warehouse))
    start = time.perf_counter()
    build_features(con)
    (base / "standardise_seconds.txt").write_text(f"{time.perf_counter() - start:.1f}")
    con.close()
    return base


def _truth(base: Path) -> pd.Series:
    persons = int(base.name.split("_")[-1])
    records = pd.read_csv(exports_dir(persons) / "truth" / "records.csv", dtype=str)
    records = records[records["last_day"] == records["last_day"].max()]
    return pd.Series(records["person_id"].values, index=(records["source"] + ":" + records["source_record_id"]).values)


def _kundenstamm(base: Path) -> tuple[pd.Series, float]:
    from linkage.pipeline import link_records
    from warehouse.connection import open_warehouse
    from warehouse.settings import Settings

    work = base / "kundenstamm.duckdb"
    shutil.copyfile(base / "features.duckdb", work)
    con = open_warehouse(work, memory_limit=Settings().memory_limit)
    start = time.perf_counter()
    link_records(con)
    seconds = time.perf_counter() - start
    clusters = con.execute("SELECT record_key, cluster_key FROM clusters").df()
    con.close()
    work.unlink()
    return pd.Series(clusters["cluster_key"].values, index=clusters["record_key"].values), seconds


def _features_frame(base: Path) -> pd.DataFrame:
    with duckdb.connect(str(base / "features.duckdb"), read_only=True) as con:
        frame = con.execute("SELECT * EXCLUDE (record_key), record_key AS unique_id FROM linkage_features").df()
    return frame.astype(object).where(frame.notna(), None)


def _splink(base: Path) -> tuple[pd.Series, float]:
    import splink.comparison_library as cl
    from splink import block_on

    from baselines import run_splink

    frame = _features_frame(base)
    frame = frame.drop(columns=[c for c in ("name_spellings",) if c in frame])
    frame["birth_date"] = pd.to_datetime(frame["birth_date"])
    result = run_splink(
        frame,
        comparisons=[
            cl.NameComparison("first_name_std").configure(term_frequency_adjustments=True),
            cl.NameComparison("last_name_std").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("birth_date", input_is_string=False),
            cl.EmailComparison("email_std"),
            cl.ExactMatch("phone_e164"),
            cl.JaroWinklerAtThresholds("street_std", [0.9]),
            cl.ExactMatch("house_number"),
            cl.ExactMatch("postal_code"),
            cl.ExactMatch("city_std"),
        ],
        blocking_rules=[
            block_on("email_std"), block_on("phone_e164"), block_on("last_name_phon", "postal_code"),
            block_on("first_name_std", "birth_date"), block_on("street_phon", "house_number", "postal_code"),
            block_on("first_name_std", "last_name_std"), block_on("email_local", "last_name_phon"),
            # Two rules, not one OR: an OR is no equi-join, and its nested loop over every
            # pair of records never finished at 1,000,000 persons. The same pairs either way.
            "l.customer_number_ref = r.own_customer_number", "r.customer_number_ref = l.own_customer_number",
        ],
        deterministic_rules=[block_on("email_std", "last_name_std"), block_on("first_name_std", "last_name_std", "birth_date")],
        em_rules=[block_on("first_name_std", "last_name_std"), block_on("birth_date"), block_on("email_std")],
        recall=0.7, max_pairs=5e6,
    )
    return result.clusters, result.seconds


def _recordlinkage(base: Path) -> tuple[pd.Series, float]:
    from baselines import run_recordlinkage

    frame = _features_frame(base)
    result = run_recordlinkage(
        frame, block_on=["email_std", "phone_e164", "last_name_phon", "birth_date"],
        string_columns=["first_name_std", "last_name_std", "street_std", "city_std"],
        exact_columns=["email_std", "phone_e164", "postal_code", "house_number", "birth_date"],
    )
    return result.clusters, result.seconds


SYSTEMS = {"kundenstamm": ("Kundenstamm", _kundenstamm), "recordlinkage": ("recordlinkage (ECM)", _recordlinkage),
           "splink": ("Splink 5 (DuckDB)", _splink)}


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM), DuckDB's native memory included."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(system: str, base: str, queue) -> None:
    from linkage.evaluation import score_clusters

    clusters, seconds = SYSTEMS[system][1](Path(base))
    peak_mib = peak_rss_mib()
    scores = score_clusters(clusters, _truth(Path(base)))
    queue.put({"seconds": seconds, "peak_mib": peak_mib, "scores": scores})


def in_own_process(target, *args, started=None) -> dict:
    """`target(*args, queue)` in a fresh process (its own peak memory); what it put on the
    queue, or an error if it died without a word. `started(process)` is called once it runs."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    if started is not None:
        started(process)
    while True:
        try:
            result = queue.get(timeout=5)
            break
        except Empty:
            if not process.is_alive():
                raise RuntimeError(f"{target.__name__}{args} stopped (exit code {process.exitcode})") from None
    process.join()
    return result


def measure(system: str, base: Path) -> dict:
    return in_own_process(_measure, system, str(base))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=list(SYSTEMS))
    parser.add_argument("--output", default="german.md")
    args = parser.parse_args(argv)
    rows = []
    for persons in args.persons:
        base = prepare(persons)
        records = _truth(base).size
        for system in args.systems:
            result = measure(system, base)
            s = result["scores"]
            rows.append({"persons": persons, "records": records, "system": SYSTEMS[system][0],
                         "precision": round(s.precision, 4), "recall": round(s.recall, 4), "F1": round(s.f1, 4),
                         "B-cubed F1": round(s.bcubed_f1, 4), "link seconds": round(result["seconds"], 1),
                         "peak MiB": round(result["peak_mib"])})
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    save_result(args.output, table.to_markdown(index=False) + "\n")
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
