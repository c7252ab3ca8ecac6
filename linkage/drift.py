"""How far the delta runs have drifted from a run over everything (`kundenstamm check-drift`).

A full re-link of the warehouse's current records with the stored model (no estimation),
in a scratch database of its own, clustered from the sticky links the last run started
from; its persons are compared with the warehouse's `clusters`. The share of records in
another cluster is what the delta runs cost in accuracy; above about 0.1 % an operator
re-fits (`kundenstamm run --refit`), which rebuilds everything.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from linkage.delta import LINKS_BEFORE, ClusterDiff, compare_clusters, relink_with_stored_model
from linkage.settings import GERMAN_SETTINGS, LinkageSettings

# Above this share of records in another cluster than a full re-link gives, re-fit.
DRIFT_BOUND = 0.001


@dataclass
class DriftReport(ClusterDiff):
    """The warehouse's persons against a full re-link's (`ClusterDiff`), with the model used."""

    model_version: str = ""
    seconds: float = 0.0

    def describe(self) -> str:
        verdict = "re-fit advised (kundenstamm run --refit)" if self.share > DRIFT_BOUND else "no re-fit needed"
        return (f"{self.records_in_other_clusters:,} of {self.records_compared:,} records ({self.share:.3%}) are in "
                f"another person than a full re-link with model {self.model_version} gives "
                f"({self.clusters_touched:,} persons differ); bound {DRIFT_BOUND:.1%}: {verdict}")


def check_drift(warehouse_path: Path, threshold: float, settings: LinkageSettings = GERMAN_SETTINGS,
                memory_limit: str | None = None) -> DriftReport:
    """The warehouse (read only) against a full re-link with its stored model."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kundenstamm-drift-") as scratch:
        con = duckdb.connect(str(Path(scratch) / "relink.duckdb"),
                             config={"memory_limit": memory_limit} if memory_limit else {})
        try:
            con.execute("SET enable_progress_bar = false")
            con.execute(f"ATTACH '{Path(warehouse_path)}' AS w (READ_ONLY)")
            tables = {t for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'w'").fetchall()}
            for table in (settings.table, "linkage_model", "linkage_model_parameters", "linkage_model_term_frequencies",
                          "raw_reviews"):
                if table in tables:
                    con.execute(f"CREATE TABLE {table} AS FROM w.{table}")
            links = LINKS_BEFORE if LINKS_BEFORE in tables else "linked_pairs"
            if links in tables:
                con.execute(f"CREATE TABLE linked_pairs AS FROM w.{links}")
            con.execute("CREATE TABLE warehouse_clusters AS SELECT record_key, cluster_key FROM w.clusters")
            con.execute("DETACH w")
            version = relink_with_stored_model(con, threshold, settings)
            diff = compare_clusters(con, "warehouse_clusters", "clusters")
        finally:
            con.close()
    return DriftReport(**vars(diff), model_version=version, seconds=time.perf_counter() - start)
