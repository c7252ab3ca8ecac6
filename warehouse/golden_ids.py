"""Stable golden ids: carried from run to run through the records each id held.

A cluster keeps the id most of its records had; when a cluster holds several old ids the
oldest survives and the others are retired as `merged`; when an old id's records are
spread over several clusters, the one holding most of them keeps it and the others get
new ids (`split`). Ids are random, so they say nothing about the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

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
    # Fresh ids are random (uuid4), so they say nothing about the person.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _assigned AS
        SELECT cluster_key, golden_id FROM _kept
        UNION ALL
        SELECT cluster_key, 'G-' || left(replace(gen_random_uuid()::VARCHAR, '-', ''), 16)
        FROM (SELECT DISTINCT cluster_key FROM clusters WHERE cluster_key NOT IN (SELECT cluster_key FROM _kept))
        """
    )
    created = con.execute("SELECT (SELECT count(*) FROM _assigned) - (SELECT count(*) FROM _kept)").fetchall()[0][0]
    con.execute("INSERT INTO golden_ids SELECT golden_id, ?, NULL, NULL FROM _assigned WHERE golden_id NOT IN (SELECT golden_id FROM golden_ids)", [run_at])

    # Merges: claimed ids that did not survive in their cluster.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _merged AS
        SELECT c.golden_id AS retired_id, k.golden_id AS survivor
        FROM _claims c JOIN _kept k USING (cluster_key) WHERE c.golden_id <> k.golden_id
        """
    )
    # Splits: clusters with a new id that hold records of an old id claimed elsewhere.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _split AS
        SELECT DISTINCT a.golden_id AS new_id, o.golden_id AS old_id
        FROM _assigned a JOIN _old o USING (cluster_key)
        JOIN _claims c ON c.golden_id = o.golden_id AND c.cluster_key <> o.cluster_key
        WHERE a.golden_id NOT IN (SELECT golden_id FROM _claims)
        """
    )
    con.execute(
        "UPDATE golden_ids SET retired_at = $run_at, retired_reason = 'merged' WHERE golden_id IN (SELECT retired_id FROM _merged)",
        {"run_at": run_at},
    )
    # Older retirements that pointed at a retired id now point at its survivor.
    con.execute("UPDATE golden_id_history h SET golden_id = m.survivor FROM _merged m WHERE h.golden_id = m.retired_id")
    con.execute(
        "INSERT INTO golden_id_history SELECT retired_id, survivor, $run_at, 'merged' FROM _merged",
        {"run_at": run_at},
    )
    con.execute(
        "INSERT INTO customer_changes SELECT $run_at, survivor, 'merged', NULL, retired_id FROM _merged",
        {"run_at": run_at},
    )
    con.execute(
        "INSERT INTO customer_changes SELECT $run_at, new_id, 'split', NULL, old_id FROM _split",
        {"run_at": run_at},
    )
    merged = con.execute("SELECT count(*) FROM _merged").fetchall()[0][0]
    split = con.execute("SELECT count(*) FROM _split").fetchall()[0][0]

    # Ids whose records all disappeared from the sources (deleted accounts).
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _vanished AS
        SELECT g.golden_id FROM golden_ids g
        WHERE g.retired_at IS NULL AND g.golden_id NOT IN (SELECT golden_id FROM _assigned)
          AND g.golden_id IN (SELECT golden_id FROM golden_membership)
        """
    )
    con.execute(
        "UPDATE golden_ids SET retired_at = $run_at, retired_reason = 'deleted' WHERE golden_id IN (SELECT golden_id FROM _vanished)",
        {"run_at": run_at},
    )
    con.execute(
        "INSERT INTO customer_changes SELECT $run_at, golden_id, 'deleted', NULL, NULL FROM _vanished",
        {"run_at": run_at},
    )
    vanished = con.execute("SELECT count(*) FROM _vanished").fetchall()[0][0]

    kept = con.execute("SELECT count(*) FROM _kept").fetchall()[0][0]
    con.execute("DELETE FROM golden_membership")
    con.execute("INSERT INTO golden_membership SELECT c.record_key, a.golden_id FROM clusters c JOIN _assigned a USING (cluster_key)")
    clusters = con.execute("SELECT count(*) FROM _assigned").fetchall()[0][0]
    con.execute("DROP TABLE _old; DROP TABLE _claims; DROP TABLE _kept; DROP TABLE _assigned; "
                "DROP TABLE _merged; DROP TABLE _split; DROP TABLE _vanished")
    return IdReport(clusters, kept, created, merged, split, vanished)
