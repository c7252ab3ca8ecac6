"""How far the delta runs have drifted from a run over everything (`kundenstamm check-drift`).

A full re-link of the warehouse's current records with the stored model (no estimation),
in a scratch database of its own, clustered as a full run of the pipeline in place of the
last run would cluster them: from the links that run started from (`linkage_links_before_run`),
knowing which of their records it found unchanged (`linkage_delta`: a pair of two unchanged
records stays linked whatever its score, linkage/clustering.py). Its persons are compared
with the warehouse's `clusters`. The share of records in another cluster is what the delta
runs cost in accuracy; above about 0.1 % an operator re-fits (`kundenstamm run --refit`),
which rebuilds everything.

Until 2026-12-07 the re-link knew the links but not the unchanged records, so it counted
every person held together by a pair kept only because neither record had changed as drift;
a full run keeps that pair too. Beside the comparison, the same pairs are clustered once
more remembering nothing (`without_memory`): how many records are in a person that only
the history of earlier runs, not today's scores, makes (for information: no re-fit changes
that, since a re-fit keeps those links as well).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from linkage.clustering import build_clusters
from linkage.delta import LINKS_BEFORE, ClusterDiff, compare_clusters, relink_with_stored_model
from linkage.engine import as_engine
from linkage.feature_hash import row_hash_sql
from linkage.settings import GERMAN_SETTINGS, LinkageSettings

# Above this share of records in another cluster than a full re-link gives, re-fit.
DRIFT_BOUND = 0.001


@dataclass
class DriftReport(ClusterDiff):
    """The warehouse's persons against a full re-link's (`ClusterDiff`), with the model used."""

    model_version: str = ""
    seconds: float = 0.0
    # The same pairs clustered remembering no earlier run (None when not measured).
    without_memory: ClusterDiff | None = None

    def describe(self) -> str:
        verdict = "re-fit advised (kundenstamm run --refit)" if self.share > DRIFT_BOUND else "no re-fit needed"
        text = (f"{self.records_in_other_clusters:,} of {self.records_compared:,} records ({self.share:.3%}) are in "
                f"another person than a full re-link with model {self.model_version} gives "
                f"({self.clusters_touched:,} persons differ); bound {DRIFT_BOUND:.1%}: {verdict}")
        if self.without_memory is not None:
            text += (f". Remembering no earlier run, {self.without_memory.records_in_other_clusters:,} records "
                     f"({self.without_memory.share:.3%}) would be in another person")
        return text


def _unchanged_linked_records(con: duckdb.DuckDBPyConnection, settings: LinkageSettings) -> None:
    """`linked_records` as the last run found it: the records of the links it started from
    that its delta did not change, with their features' hash (a changed record is left
    out, which is what a hash that no longer matches says)."""
    con.execute(
        f"""
        CREATE TABLE linked_records AS
        SELECT f.record_key, {row_hash_sql(as_engine(con), settings.table, 'f')} AS content_hash
        FROM {settings.table} f
        WHERE f.record_key IN (SELECT key_l FROM linked_pairs UNION SELECT key_r FROM linked_pairs)
          AND f.record_key NOT IN (SELECT record_key FROM last_delta)
        """
    )


def _cluster_without_memory(con: duckdb.DuckDBPyConnection, threshold: float, settings: LinkageSettings) -> ClusterDiff:
    """The re-link's pairs clustered again with no earlier links, against the warehouse's persons."""
    con.execute("DROP TABLE IF EXISTS linked_pairs; DROP TABLE IF EXISTS linked_records; "
                "DROP TABLE IF EXISTS relinked_pairs")
    build_clusters(con, threshold, settings)
    return compare_clusters(con, "warehouse_clusters", "clusters")


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
                if "linkage_delta" in tables:
                    con.execute("CREATE TABLE last_delta AS SELECT record_key FROM w.linkage_delta")
                    _unchanged_linked_records(con, settings)
            con.execute("CREATE TABLE warehouse_clusters AS SELECT record_key, cluster_key FROM w.clusters")
            con.execute("DETACH w")
            version = relink_with_stored_model(con, threshold, settings)
            diff = compare_clusters(con, "warehouse_clusters", "clusters")
            without_memory = _cluster_without_memory(con, threshold, settings)
        finally:
            con.close()
    return DriftReport(**vars(diff), model_version=version, seconds=time.perf_counter() - start,
                       without_memory=without_memory)
