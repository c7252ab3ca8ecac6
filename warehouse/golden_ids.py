"""Stable golden ids: carried from run to run through the records each id held.

A cluster keeps the id most of its records had; when a cluster holds several old ids the
oldest survives and the others are retired as `merged`; when an old id's records are
spread over several clusters, the one holding most of them keeps it and the others get
new ids (`split`). Ids are random, so they say nothing about the person.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

IDS_DDL = """
CREATE TABLE IF NOT EXISTS golden_ids (golden_id VARCHAR PRIMARY KEY, created_at TIMESTAMP, retired_at TIMESTAMP,
                                       retired_reason VARCHAR);
CREATE TABLE IF NOT EXISTS golden_membership (record_key VARCHAR PRIMARY KEY, golden_id VARCHAR);
CREATE TABLE IF NOT EXISTS golden_id_history (retired_id VARCHAR, golden_id VARCHAR, retired_at TIMESTAMP, reason VARCHAR);
CREATE TABLE IF NOT EXISTS customer_changes (run_at TIMESTAMP, golden_id VARCHAR, change_type VARCHAR,
                                             changed_columns VARCHAR, related_golden_id VARCHAR);
"""


@dataclass
class IdReport:
    clusters: int
    kept: int
    created: int
    merged: int
    split: int
    vanished: int


def new_golden_id() -> str:
    return "G-" + secrets.token_hex(8)


def assign_golden_ids(con: duckdb.DuckDBPyConnection, run_at: datetime) -> IdReport:
    """Writes `golden_membership` for the current `clusters` and records id changes."""
    con.execute(IDS_DDL)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _old AS
        SELECT c.cluster_key, m.golden_id, count(*) AS records
        FROM clusters c JOIN golden_membership m USING (record_key)
        JOIN golden_ids g USING (golden_id) WHERE g.retired_at IS NULL
        GROUP BY ALL
        """
    )
    # Each old id goes to the cluster holding most of its records (ties: the smaller key).
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _claims AS
        SELECT o.golden_id, o.cluster_key, g.created_at
        FROM _old o JOIN golden_ids g USING (golden_id)
        QUALIFY row_number() OVER (PARTITION BY o.golden_id ORDER BY o.records DESC, o.cluster_key) = 1
        """
    )
    # A cluster keeps the oldest id it claims.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _kept AS
        SELECT cluster_key, golden_id FROM _claims
        QUALIFY row_number() OVER (PARTITION BY cluster_key ORDER BY created_at, golden_id) = 1
        """
    )
    new_clusters = [r[0] for r in con.execute(
        "SELECT DISTINCT cluster_key FROM clusters WHERE cluster_key NOT IN (SELECT cluster_key FROM _kept) ORDER BY 1"
    ).fetchall()]
    con.register("_fresh", pd.DataFrame({"cluster_key": new_clusters, "golden_id": [new_golden_id() for _ in new_clusters]}))
    con.execute("CREATE OR REPLACE TEMP TABLE _assigned AS SELECT * FROM _kept UNION ALL SELECT * FROM _fresh")
    con.unregister("_fresh")
    con.execute("INSERT INTO golden_ids SELECT golden_id, ?, NULL, NULL FROM _assigned WHERE golden_id NOT IN (SELECT golden_id FROM golden_ids)", [run_at])

    # Merges: claimed ids that did not survive in their cluster.
    merged = con.execute(
        """
        SELECT c.golden_id AS retired_id, k.golden_id AS survivor
        FROM _claims c JOIN _kept k USING (cluster_key) WHERE c.golden_id <> k.golden_id
        """
    ).fetchall()
    # Splits: clusters with a new id that hold records of an old id claimed elsewhere.
    split = con.execute(
        """
        SELECT DISTINCT a.golden_id AS new_id, o.golden_id AS old_id
        FROM _assigned a JOIN _old o USING (cluster_key)
        JOIN _claims c ON c.golden_id = o.golden_id AND c.cluster_key <> o.cluster_key
        WHERE a.golden_id NOT IN (SELECT golden_id FROM _claims)
        """
    ).fetchall()
    for retired, survivor in merged:
        con.execute("UPDATE golden_ids SET retired_at = ?, retired_reason = 'merged' WHERE golden_id = ?", [run_at, retired])
        # Older retirements that pointed at the retired id now point at the survivor.
        con.execute("UPDATE golden_id_history SET golden_id = ? WHERE golden_id = ?", [survivor, retired])
        con.execute("INSERT INTO golden_id_history VALUES (?, ?, ?, 'merged')", [retired, survivor, run_at])
        con.execute("INSERT INTO customer_changes VALUES (?, ?, 'merged', NULL, ?)", [run_at, survivor, retired])
    for new_id, old_id in split:
        con.execute("INSERT INTO customer_changes VALUES (?, ?, 'split', NULL, ?)", [run_at, new_id, old_id])

    # Ids whose records all disappeared from the sources (deleted accounts).
    vanished = con.execute(
        """
        SELECT g.golden_id FROM golden_ids g
        WHERE g.retired_at IS NULL AND g.golden_id NOT IN (SELECT golden_id FROM _assigned)
          AND g.golden_id IN (SELECT golden_id FROM golden_membership)
        """
    ).fetchall()
    for (golden_id,) in vanished:
        con.execute("UPDATE golden_ids SET retired_at = ?, retired_reason = 'deleted' WHERE golden_id = ?", [run_at, golden_id])
        con.execute("INSERT INTO customer_changes VALUES (?, ?, 'deleted', NULL, NULL)", [run_at, golden_id])

    kept = con.execute("SELECT count(*) FROM _kept").fetchall()[0][0]
    con.execute("DELETE FROM golden_membership")
    con.execute("INSERT INTO golden_membership SELECT c.record_key, a.golden_id FROM clusters c JOIN _assigned a USING (cluster_key)")
    clusters = con.execute("SELECT count(*) FROM _assigned").fetchall()[0][0]
    con.execute("DROP TABLE _old; DROP TABLE _claims; DROP TABLE _kept; DROP TABLE _assigned")
    return IdReport(clusters, kept, len(new_clusters), len(merged), len(split), len(vanished))
