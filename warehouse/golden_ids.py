"""Stable golden ids: carried from run to run through the records each id held.

A cluster keeps the id most of its records had (first counting the records whose data did
not change since the id was given); when a cluster holds several old ids the
oldest survives and the others are retired as `merged`; when an old id's records are
spread over several clusters, the one holding most of them keeps it and the others get
new ids (`split`). A new id is a hash of the key of the record that founds it, so the
same folder gives the same ids in every warehouse built from it, and the id says nothing
readable about the person. Every id that goes away is in `golden_id_history`: `merged`
(pointing at its survivor), `erased`, or `deleted` (all its records left the sources).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from sources.staging import STAGED_COLUMNS
from warehouse.connection import table_exists
from sources.differences import write_difference

IDS_DDL = """
CREATE TABLE IF NOT EXISTS golden_ids (golden_id VARCHAR PRIMARY KEY, created_at TIMESTAMP, retired_at TIMESTAMP,
                                       retired_reason VARCHAR);
CREATE TABLE IF NOT EXISTS golden_membership (record_key VARCHAR PRIMARY KEY, golden_id VARCHAR);
CREATE TABLE IF NOT EXISTS golden_record_fingerprints (record_key VARCHAR PRIMARY KEY, fingerprint VARCHAR);
CREATE TABLE IF NOT EXISTS golden_id_history (retired_id VARCHAR, golden_id VARCHAR, retired_at TIMESTAMP, reason VARCHAR);
CREATE TABLE IF NOT EXISTS customer_changes (run_at TIMESTAMP, golden_id VARCHAR, change_type VARCHAR,
                                             changed_columns VARCHAR, related_golden_id VARCHAR);
-- One row per changed column, with its values (added later: a warehouse made before gets them).
ALTER TABLE customer_changes ADD COLUMN IF NOT EXISTS column_name VARCHAR;
ALTER TABLE customer_changes ADD COLUMN IF NOT EXISTS old_value VARCHAR;
ALTER TABLE customer_changes ADD COLUMN IF NOT EXISTS new_value VARCHAR;
-- A number per change, in the order the changes were made (number_changes): what an outbox's cursor counts.
ALTER TABLE customer_changes ADD COLUMN IF NOT EXISTS change_id BIGINT;
"""
# The columns every kind of change fills; an update fills column_name, old_value, new_value too.
CHANGE_INSERT = "INSERT INTO customer_changes (run_at, golden_id, change_type, changed_columns, related_golden_id)"
# Every change_type customer_changes holds (the change feed's vocabulary; routing is checked against it).
CHANGE_TYPES = ("created", "updated", "consent_given", "consent_withdrawn", "merged", "split", "erased", "deleted")


def number_changes(con: duckdb.DuckDBPyConnection) -> int:
    """Give each change without a `change_id` the next number; returns how many were numbered.

    The changes of a run are written by several steps (erasure, ids, the feed), so they are
    numbered once all are in, after the numbers already given, in an order that depends on
    their content alone: two warehouses built from the same deliveries number alike, and a
    number once given never changes (an outbox's cursor relies on that).
    """
    return con.execute(
        """
        UPDATE customer_changes SET change_id = numbered.change_id
        FROM (
            SELECT rowid AS row_id,
                   (SELECT coalesce(max(change_id), 0) FROM customer_changes)
                   + row_number() OVER (ORDER BY run_at, golden_id NULLS FIRST, change_type, column_name NULLS FIRST,
                                                 related_golden_id NULLS FIRST, old_value NULLS FIRST, new_value NULLS FIRST)
                       AS change_id
            FROM customer_changes WHERE change_id IS NULL
        ) numbered
        WHERE customer_changes.rowid = numbered.row_id
        """
    ).fetchall()[0][0]


# A record's data as staged, without where it was read from: equal when the source row did not change.
FINGERPRINT_SQL = "md5(CAST(row({}) AS VARCHAR))".format(
    ", ".join(f"r.{c}" for c in STAGED_COLUMNS if c not in ("file_hash", "file_name", "line_number")))

# The namespace keeps an id from being the plain sha256 of a record key, which is what
# `erased_identifiers` stores: a published id and an erasure hash never coincide.
ID_NAMESPACE = "kundenstamm-golden-id"
MAX_MINT_ATTEMPTS = 100


def _mint_new_ids(con: duckdb.DuckDBPyConnection) -> None:
    """`_minted(cluster_key, golden_id)`: an id for each cluster that keeps none.

    The id is the hash of the cluster's key (its smallest record key, so the same records
    give the same id in any run and any warehouse). An id is never used twice: when the
    hash is taken (a retired id founded by the same record, or two hashes alike in their
    first 64 bits), the cluster tries the next attempt number, the smaller key first.
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _minting AS
        SELECT DISTINCT cluster_key, 0 AS attempt FROM clusters WHERE cluster_key NOT IN (SELECT cluster_key FROM _kept)
        """
    )
    for _ in range(MAX_MINT_ATTEMPTS):
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _minted AS
            SELECT cluster_key, attempt,
                   'G-' || left(sha256('{ID_NAMESPACE}:' || cluster_key || CASE WHEN attempt = 0 THEN '' ELSE ':' || attempt END), 16)
                       AS golden_id
            FROM _minting
            """
        )
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _taken AS
            SELECT cluster_key FROM _minted
            WHERE golden_id IN (SELECT golden_id FROM golden_ids) OR golden_id IN (SELECT golden_id FROM _kept)
            UNION
            SELECT cluster_key FROM (
                SELECT cluster_key, row_number() OVER (PARTITION BY golden_id ORDER BY cluster_key) AS rank FROM _minted
            ) WHERE rank > 1
            """
        )
        if not con.execute("SELECT count(*) FROM _taken").fetchall()[0][0]:
            break
        con.execute("UPDATE _minting SET attempt = attempt + 1 WHERE cluster_key IN (SELECT cluster_key FROM _taken)")
    else:
        raise RuntimeError(f"no free golden id after {MAX_MINT_ATTEMPTS} attempts")
    con.execute("DROP TABLE _minting; DROP TABLE _taken")


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
    _fingerprint_records(con)
    _claim_old_ids(con)
    _mint_new_ids(con)
    created = _assign_ids(con, run_at)
    merged, split = _record_merges_and_splits(con, run_at)
    vanished = _retire_vanished_ids(con, run_at)
    kept = con.execute("SELECT count(*) FROM _kept").fetchall()[0][0]
    clusters = _write_membership(con)
    con.execute("DROP TABLE _old; DROP TABLE _claims; DROP TABLE _kept; DROP TABLE _assigned; "
                "DROP TABLE _merged; DROP TABLE _split; DROP TABLE _vanished; DROP TABLE _minted; DROP TABLE _fingerprints; "
                "DROP TABLE _membership; DROP TABLE _fingerprints_now")
    return IdReport(clusters, kept, created, merged, split, vanished)


def _fingerprint_records(con: duckdb.DuckDBPyConnection) -> None:
    """`_fingerprints(record_key, fingerprint)`: each staged record's data as one hash."""
    # The records' data now (none known when clusters come without staged records).
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _fingerprints AS SELECT r.record_key, {FINGERPRINT_SQL} AS fingerprint "
        "FROM staged_records r" if table_exists(con, "staged_records") else
        "CREATE OR REPLACE TEMP TABLE _fingerprints (record_key VARCHAR, fingerprint VARCHAR)"
    )


def _claim_old_ids(con: duckdb.DuckDBPyConnection) -> None:
    """`_old` (each live id's records per cluster now), `_claims` (the cluster each id
    goes to) and `_kept` (the id each claimed cluster keeps)."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _old AS
        SELECT c.cluster_key, m.golden_id, count(*) AS records,
               count(*) FILTER (WHERE f.fingerprint = now.fingerprint) AS unchanged
        FROM clusters c JOIN golden_membership m USING (record_key)
        JOIN golden_ids g USING (golden_id)
        LEFT JOIN _fingerprints now USING (record_key) LEFT JOIN golden_record_fingerprints f USING (record_key)
        WHERE g.retired_at IS NULL
        GROUP BY ALL
        """
    )
    # Each old id goes to the cluster holding most of its records whose data did not
    # change (the evidence the id was given on), then most of its records, then the smaller key.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _claims AS
        SELECT o.golden_id, o.cluster_key, g.created_at
        FROM _old o JOIN golden_ids g USING (golden_id)
        QUALIFY row_number() OVER (PARTITION BY o.golden_id ORDER BY o.unchanged DESC, o.records DESC, o.cluster_key) = 1
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


def _assign_ids(con: duckdb.DuckDBPyConnection, run_at: datetime) -> int:
    """`_assigned(cluster_key, golden_id)`: kept and minted ids; the minted ones are
    registered in `golden_ids`. Returns how many were minted."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _assigned AS
        SELECT cluster_key, golden_id FROM _kept UNION ALL SELECT cluster_key, golden_id FROM _minted
        """
    )
    created = con.execute("SELECT (SELECT count(*) FROM _assigned) - (SELECT count(*) FROM _kept)").fetchall()[0][0]
    # Only a minted id can be new (a kept one is a live id of golden_ids): the few minted
    # rows, not every person's, are looked up among all ids.
    con.execute("INSERT INTO golden_ids SELECT golden_id, ?, NULL, NULL FROM _minted WHERE golden_id NOT IN (SELECT golden_id FROM golden_ids)", [run_at])
    return created


def _record_merges_and_splits(con: duckdb.DuckDBPyConnection, run_at: datetime) -> tuple[int, int]:
    """Retires merged ids into their survivors (history and change feed) and records
    splits in the change feed; returns (merged, split)."""
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
        f"{CHANGE_INSERT} SELECT $run_at, survivor, 'merged', NULL, retired_id FROM _merged",
        {"run_at": run_at},
    )
    con.execute(
        f"{CHANGE_INSERT} SELECT $run_at, new_id, 'split', NULL, old_id FROM _split",
        {"run_at": run_at},
    )
    merged = con.execute("SELECT count(*) FROM _merged").fetchall()[0][0]
    split = con.execute("SELECT count(*) FROM _split").fetchall()[0][0]
    return merged, split


def _retire_vanished_ids(con: duckdb.DuckDBPyConnection, run_at: datetime) -> int:
    """Retires the ids whose records all disappeared from the sources (deleted accounts)."""
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
    # The published history says where every id went: a deleted one went nowhere.
    con.execute("INSERT INTO golden_id_history SELECT golden_id, NULL, $run_at, 'deleted' FROM _vanished", {"run_at": run_at})
    con.execute(
        f"{CHANGE_INSERT} SELECT $run_at, golden_id, 'deleted', NULL, NULL FROM _vanished",
        {"run_at": run_at},
    )
    return con.execute("SELECT count(*) FROM _vanished").fetchall()[0][0]


def _write_membership(con: duckdb.DuckDBPyConnection) -> int:
    """`golden_membership` and `golden_record_fingerprints` for this run, written as their
    difference; returns the number of golden ids."""
    con.execute("CREATE OR REPLACE TEMP TABLE _membership AS "
                "SELECT c.record_key, a.golden_id FROM clusters c JOIN _assigned a USING (cluster_key)")
    write_difference(con, "golden_membership", "_membership", "record_key")
    con.execute("CREATE OR REPLACE TEMP TABLE _fingerprints_now AS "
                "SELECT record_key, f.fingerprint FROM clusters JOIN _fingerprints f USING (record_key)")
    write_difference(con, "golden_record_fingerprints", "_fingerprints_now", "record_key")
    return con.execute("SELECT count(*) FROM _assigned").fetchall()[0][0]
