"""Erasure on request (GDPR Art. 17): the person leaves every table, only hashes stay.

A request names an e-mail, a phone or a golden id. Everything linked to that person now
is removed from the warehouse (raw rows, staged rows, features, pairs, clusters, ids,
golden rows, rejected lines that carry their identifiers). What is kept: the request id
and counts in `erasure_audit`, and sha256 hashes of the person's identifiers in
`erased_identifiers`, which staging uses to keep later exports from re-creating them.

Erasure runs before linkage: the run's linkage then sees exactly the records every later
run sees, so the run that erases and the next one publish the same persons and scores
(erasing after linkage left the model fitted on the erased records for one run). To know
who "that person now" is, a run with pending requests links the current records once
before erasing, with the very functions the run uses; runs without requests skip it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from linkage.blocking import build_candidate_pairs
from linkage.blocking_keys import forget_kept_keys
from linkage.clustering import build_clusters
from linkage.delta import relink_with_stored_model
from linkage.feature_scope import INPUTS_TABLE, forget_build
from linkage.features import build_features
from linkage.model import score_pairs
from linkage.model_store import usable_model
from linkage.settings import GERMAN_SETTINGS
from sources.identifiers import e164, normalise_email
from sources.ingest import SPECS, ensure_tables
from sources.staging import build_staged_records
from warehouse.connection import table_exists
from warehouse.golden_ids import CHANGE_INSERT, IDS_DDL
from warehouse.spelling_statistics import drop_counts

AUDIT_DDL = """
CREATE TABLE IF NOT EXISTS erasure_audit (request_id VARCHAR, received_at TIMESTAMP, processed_at TIMESTAMP,
                                          records_removed INTEGER, golden_ids_removed INTEGER);
CREATE TABLE IF NOT EXISTS erased_identifiers (kind VARCHAR, hash VARCHAR);
"""

# Where each source keeps its record id in the raw table.
RAW_ID_COLUMNS = {"shop": "customer_id", "newsletter": "subscriber_id", "hotline": "ticket_id", "pos": "Kartennummer"}
RECORD_TABLES = ("staged_records", "staged_sensitive", "linkage_features", "clusters", "golden_membership",
                 "golden_record_fingerprints", "linked_records", "linkage_feature_hashes", "linkage_delta",
                 "golden_record_inputs", "golden_consent_evidence", INPUTS_TABLE)
PAIR_TABLES = ("candidate_pairs", "scored_pairs", "review_queue", "review_decisions", "linked_pairs", "relinked_pairs",
               "delta_candidate_pairs", "linkage_links_before_run")
GOLDEN_TABLES = ("golden_customers", "golden_customers_previous", "golden_sources", "golden_provenance",
                 "golden_consent", "golden_consent_evidence")


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> None:
    # DuckDB keeps a statement's result open until fetched, which blocks (un)registering frames.
    con.execute(sql, params or []).fetchall()


@dataclass
class ErasureReport:
    requests: int
    records_removed: int
    golden_ids_removed: int


def _requests(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        """
        SELECT request_id, CAST(try_cast(received_at AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP) AS received_at,
               email, phone, nullif(trim(golden_id), '') AS golden_id
        FROM raw_erasure WHERE request_id NOT IN (SELECT request_id FROM erasure_audit)
        ORDER BY received_at, request_id
        """
    ).df()


def _pending_requests(con: duckdb.DuckDBPyConnection) -> int:
    """`_requests`: each unprocessed request with its identifiers normalised."""
    requests = _requests(con)
    emails = requests["email"].where(requests["email"].notna(), None)
    requests["email"] = [normalise_email(e) if isinstance(e, str) and e.strip() else None for e in emails]
    phones = requests["phone"].where(requests["phone"].fillna("").str.strip() != "", None)
    requests["phone"] = [p if isinstance(p, str) else None for p in e164(phones)]
    requests["golden_id"] = [g if isinstance(g, str) else None for g in requests["golden_id"]]
    con.register("_requests_frame", requests.astype(object))
    _run(con, """CREATE OR REPLACE TEMP TABLE _requests AS
                 SELECT request_id::VARCHAR AS request_id, received_at::TIMESTAMP AS received_at, email::VARCHAR AS email,
                        phone::VARCHAR AS phone, golden_id::VARCHAR AS golden_id FROM _requests_frame""")
    con.unregister("_requests_frame")
    return len(requests)


def _link_current_records(con: duckdb.DuckDBPyConnection, match_threshold: float) -> None:
    """`clusters` over the records as delivered now, so a request reaches every record
    linked to the person, also those that arrived in this run."""
    build_staged_records(con)
    build_features(con)
    if usable_model(con, GERMAN_SETTINGS):
        # Scored by the stored model (linkage/model_store.py), as the run's linkage scores:
        # the pairs stay those a delta run updates.
        relink_with_stored_model(con, match_threshold, GERMAN_SETTINGS)
        return
    build_candidate_pairs(con, GERMAN_SETTINGS)
    score_pairs(con, GERMAN_SETTINGS)
    build_clusters(con, match_threshold, GERMAN_SETTINGS)
    if table_exists(con, "linkage_feature_hashes"):
        # Scored by a model of the look-ahead's own: the run's linkage must not update them as a delta.
        con.execute("DELETE FROM linkage_feature_hashes")


def _mark_records_of_requests(con: duckdb.DuckDBPyConnection) -> None:
    """`_erase_map(request_id, record_key)`: every record now linked to a person a request
    names: the records carrying its identifiers, and all of their clusters."""
    _run(con, """
        CREATE OR REPLACE TEMP TABLE _seeds AS
        SELECT q.request_id, f.record_key FROM _requests q JOIN linkage_features f ON f.email_std = q.email
        UNION SELECT q.request_id, f.record_key FROM _requests q JOIN linkage_features f ON f.phone_e164 = q.phone
        UNION SELECT q.request_id, m.record_key FROM _requests q JOIN golden_membership m ON m.golden_id = q.golden_id
    """)
    _run(con, """
        CREATE OR REPLACE TEMP TABLE _erase_map AS
        SELECT s.request_id, c2.record_key FROM _seeds s
        JOIN clusters c1 ON c1.record_key = s.record_key JOIN clusters c2 ON c2.cluster_key = c1.cluster_key
        UNION SELECT request_id, record_key FROM _seeds
    """)
    _run(con, "DROP TABLE _seeds")


def _delete_records(con: duckdb.DuckDBPyConnection) -> None:
    """Removes the records in `_erase` and the golden rows in `_erase_golden` everywhere."""
    for table in RECORD_TABLES:
        if table_exists(con, table):
            _run(con, f"DELETE FROM {table} WHERE record_key IN (SELECT record_key FROM _erase)")
    for table in PAIR_TABLES:
        if table_exists(con, table):
            _run(con, f"DELETE FROM {table} WHERE key_l IN (SELECT record_key FROM _erase) OR key_r IN (SELECT record_key FROM _erase)")
    for source, column in RAW_ID_COLUMNS.items():
        _run(con, f"""DELETE FROM raw_{source} WHERE '{source}:' || trim("{column}") IN (SELECT record_key FROM _erase)""")
    if table_exists(con, "raw_reviews"):
        _run(con, "DELETE FROM raw_reviews WHERE trim(key_l) IN (SELECT record_key FROM _erase) OR trim(key_r) IN (SELECT record_key FROM _erase)")
    for table in GOLDEN_TABLES:
        if table_exists(con, table):
            _run(con, f"DELETE FROM {table} WHERE golden_id IN (SELECT golden_id FROM _erase_golden)")
    # The kept blocking keys hold e-mail addresses, phone numbers and names: dropped, made
    # anew from the records left by the next run's blocking.
    forget_kept_keys(con)


def apply_erasure_requests(con: duckdb.DuckDBPyConnection, run_at: datetime, match_threshold: float) -> ErasureReport:
    """All pending requests at once, set-based, in one transaction, before the run's
    staging and linkage (which then leave the erased persons out)."""
    for spec in SPECS.values():
        ensure_tables(con, spec)
    con.execute(AUDIT_DDL)
    con.execute(IDS_DDL)
    count = _pending_requests(con)
    if not count:
        return ErasureReport(0, 0, 0)
    _link_current_records(con, match_threshold)
    _mark_records_of_requests(con)
    _run(con, "CREATE OR REPLACE TEMP TABLE _erase AS SELECT DISTINCT record_key FROM _erase_map")
    _run(con, """
        CREATE OR REPLACE TEMP TABLE _erase_golden AS
        SELECT DISTINCT e.request_id, m.golden_id FROM _erase_map e JOIN golden_membership m USING (record_key)
        UNION SELECT request_id, golden_id FROM _requests WHERE golden_id IS NOT NULL
    """)
    _run(con, """
        CREATE OR REPLACE TEMP TABLE _identifiers AS
        SELECT 'record_key' AS kind, record_key AS value FROM _erase
        UNION SELECT 'email', email_std FROM linkage_features WHERE record_key IN (SELECT record_key FROM _erase) AND email_std IS NOT NULL
        UNION SELECT 'phone', phone_e164 FROM linkage_features WHERE record_key IN (SELECT record_key FROM _erase) AND phone_e164 IS NOT NULL
        UNION SELECT 'email', email FROM _requests WHERE email IS NOT NULL
        UNION SELECT 'phone', phone FROM _requests WHERE phone IS NOT NULL
    """)
    records, golden_ids = con.execute(
        "SELECT (SELECT count(*) FROM _erase), (SELECT count(DISTINCT golden_id) FROM _erase_golden)").fetchall()[0]
    con.execute("BEGIN TRANSACTION")
    try:
        # Rejected lines are raw text: any that carries one of the identifiers goes too.
        _run(con, """
            DELETE FROM rejects r WHERE EXISTS (
                SELECT 1 FROM _identifiers i WHERE
                    (i.kind <> 'record_key' AND contains(lower(r.raw_line), lower(i.value)))
                    OR (i.kind = 'record_key' AND contains(r.raw_line, split_part(i.value, ':', 2))))
        """)
        _delete_records(con)
        # Their addresses no longer mark the others' as a household's: the next features build builds everyone.
        forget_build(con)
        _run(con, "INSERT INTO erased_identifiers SELECT DISTINCT kind, sha256(value) FROM _identifiers")
        _run(con, "UPDATE golden_ids SET retired_at = ?, retired_reason = 'erased' WHERE golden_id IN (SELECT golden_id FROM _erase_golden)",
             [run_at])
        _run(con, "UPDATE golden_id_history SET golden_id = NULL WHERE golden_id IN (SELECT golden_id FROM _erase_golden)")
        _run(con, "INSERT INTO golden_id_history SELECT DISTINCT golden_id, NULL, ?, 'erased' FROM _erase_golden", [run_at])
        _run(con, f"{CHANGE_INSERT} SELECT DISTINCT ?, golden_id, 'erased', NULL, NULL FROM _erase_golden", [run_at])
        # The feed keeps that the person changed and was erased, not what their values were.
        _run(con, "UPDATE customer_changes SET old_value = NULL, new_value = NULL "
                  "WHERE golden_id IN (SELECT golden_id FROM _erase_golden)")
        # The request itself keeps its id and date, not the identifiers it named.
        _run(con, "UPDATE raw_erasure SET email = NULL, phone = NULL WHERE request_id IN (SELECT request_id FROM _requests)")
        _run(con, """
            INSERT INTO erasure_audit
            SELECT q.request_id, q.received_at, ?,
                   (SELECT count(DISTINCT record_key) FROM _erase_map e WHERE e.request_id = q.request_id),
                   (SELECT count(DISTINCT golden_id) FROM _erase_golden g WHERE g.request_id = q.request_id)
            FROM _requests q
        """, [run_at])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        _run(con, "DROP TABLE IF EXISTS _erase_map; DROP TABLE IF EXISTS _erase; DROP TABLE IF EXISTS _erase_golden; "
                  "DROP TABLE IF EXISTS _identifiers; DROP TABLE IF EXISTS _requests")
    # The spelling counts counted the erased persons' names and streets: the next golden
    # step counts anew without them (and rebuilds everyone by the new counts).
    drop_counts(con)
    for table in ("term_frequencies", "linkage_model_term_frequencies"):
        if not table_exists(con, table):
            continue
        # Name frequencies are derived from names (also those of the stored model): keep only values still present.
        for column in ("first_name_std", "last_name_std"):
            _run(con, f"""DELETE FROM {table} t WHERE t.column_name = '{column}'
                          AND t.value NOT IN (SELECT {column} FROM linkage_features WHERE {column} IS NOT NULL)""")
    return ErasureReport(count, records, golden_ids)
