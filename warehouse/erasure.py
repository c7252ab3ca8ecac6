"""Erasure on request (GDPR Art. 17): the person leaves every table, only hashes stay.

A request names an e-mail, a phone or a golden id. Everything linked to that person now
is removed from the warehouse (raw rows, staged rows, features, pairs, clusters, ids,
golden rows, rejected lines that carry their identifiers). What is kept: the request id
and counts in `erasure_audit`, and sha256 hashes of the person's identifiers in
`erased_identifiers`, which staging uses to keep later exports from re-creating them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from sources.identifiers import e164, normalise_email
from sources.ingest import SPECS, ensure_tables
from warehouse.connection import table_exists
from warehouse.golden_ids import IDS_DDL

AUDIT_DDL = """
CREATE TABLE IF NOT EXISTS erasure_audit (request_id VARCHAR, received_at TIMESTAMP, processed_at TIMESTAMP,
                                          records_removed INTEGER, golden_ids_removed INTEGER);
CREATE TABLE IF NOT EXISTS erased_identifiers (kind VARCHAR, hash VARCHAR);
"""

# Where each source keeps its record id in the raw table.
RAW_ID_COLUMNS = {"shop": "customer_id", "newsletter": "subscriber_id", "hotline": "ticket_id", "pos": "Kartennummer"}
RECORD_TABLES = ("staged_records", "staged_sensitive", "linkage_features", "clusters", "golden_membership")
PAIR_TABLES = ("candidate_pairs", "scored_pairs", "review_queue", "review_decisions")
GOLDEN_TABLES = ("golden_customers", "golden_customers_previous", "golden_sources", "golden_provenance")


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


def _records_of(con: duckdb.DuckDBPyConnection, email: str | None, phone: str | None, golden_id: str | None) -> list[str]:
    """Every record now linked to the person the request names."""
    seeds = con.execute(
        """
        SELECT record_key FROM linkage_features WHERE (? IS NOT NULL AND email_std = ?) OR (? IS NOT NULL AND phone_e164 = ?)
        UNION SELECT record_key FROM golden_membership WHERE ? IS NOT NULL AND golden_id = ?
        """,
        [email, email, phone, phone, golden_id, golden_id],
    ).fetchall()
    if not seeds:
        return []
    con.register("_seeds", pd.DataFrame({"record_key": [s[0] for s in seeds]}))
    records = con.execute(
        """
        SELECT record_key FROM clusters WHERE cluster_key IN (
            SELECT cluster_key FROM clusters WHERE record_key IN (SELECT record_key FROM _seeds))
        UNION SELECT record_key FROM _seeds
        """
    ).fetchall()
    con.unregister("_seeds")
    return sorted({r[0] for r in records})


def _delete_records(con: duckdb.DuckDBPyConnection, keys: pd.DataFrame, golden_ids: list[str]) -> None:
    con.register("_erase", keys)
    con.register("_erase_ids", pd.DataFrame({"golden_id": golden_ids or [None]}))
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
            _run(con, f"DELETE FROM {table} WHERE golden_id IN (SELECT golden_id FROM _erase_ids)")
    con.unregister("_erase")
    con.unregister("_erase_ids")


def apply_erasure_requests(con: duckdb.DuckDBPyConnection, run_at: datetime) -> ErasureReport:
    for spec in SPECS.values():
        ensure_tables(con, spec)
    con.execute(AUDIT_DDL)
    con.execute(IDS_DDL)
    requests = _requests(con)
    total_records = total_ids = 0
    for request in requests.itertuples(index=False):
        email = normalise_email(request.email) if isinstance(request.email, str) and request.email.strip() else None
        phone = e164(pd.Series([request.phone])).iloc[0] if isinstance(request.phone, str) and request.phone.strip() else None
        golden_id = request.golden_id if isinstance(request.golden_id, str) else None
        keys = _records_of(con, email, phone, golden_id)
        frame = pd.DataFrame({"record_key": keys}, dtype=object)
        con.register("_erase", frame)
        identifiers = con.execute(
            """
            SELECT 'record_key' AS kind, record_key AS value FROM _erase
            UNION SELECT 'email', email_std FROM linkage_features WHERE record_key IN (SELECT record_key FROM _erase) AND email_std IS NOT NULL
            UNION SELECT 'phone', phone_e164 FROM linkage_features WHERE record_key IN (SELECT record_key FROM _erase) AND phone_e164 IS NOT NULL
            """
        ).df()
        golden_ids = sorted({r[0] for r in con.execute(
            "SELECT DISTINCT golden_id FROM golden_membership WHERE record_key IN (SELECT record_key FROM _erase)"
        ).fetchall()} | ({golden_id} if golden_id else set()))
        con.unregister("_erase")
        extra = [("email", email), ("phone", phone)]
        identifiers = pd.concat([identifiers, pd.DataFrame([{"kind": k, "value": v} for k, v in extra if v])], ignore_index=True)
        con.execute("BEGIN TRANSACTION")
        try:
            # Rejected lines are raw text: any that carries one of the identifiers goes too.
            for value in identifiers.loc[identifiers["kind"] != "record_key", "value"].dropna().unique():
                _run(con, "DELETE FROM rejects WHERE contains(lower(raw_line), lower(?))", [value])
            for key in keys:
                _run(con, "DELETE FROM rejects WHERE contains(raw_line, ?)", [key.split(":", 1)[1]])
            _delete_records(con, frame, golden_ids)
            con.register("_identifiers", identifiers.drop_duplicates())
            _run(con, "INSERT INTO erased_identifiers SELECT kind, sha256(value) FROM _identifiers")
            con.unregister("_identifiers")
            for gid in golden_ids:
                _run(con, "UPDATE golden_ids SET retired_at = ?, retired_reason = 'erased' WHERE golden_id = ?", [run_at, gid])
                _run(con, "UPDATE golden_id_history SET golden_id = NULL WHERE golden_id = ?", [gid])
                _run(con, "INSERT INTO golden_id_history VALUES (?, NULL, ?, 'erased')", [gid, run_at])
                _run(con, "INSERT INTO customer_changes VALUES (?, ?, 'erased', NULL, NULL)", [run_at, gid])
            # The request itself keeps its id and date, not the identifiers it named.
            _run(con, "UPDATE raw_erasure SET email = NULL, phone = NULL WHERE request_id = ?", [request.request_id])
            _run(con, "INSERT INTO erasure_audit VALUES (?, ?, ?, ?, ?)",
                        [request.request_id, request.received_at, run_at, len(keys), len(golden_ids)])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        total_records += len(keys)
        total_ids += len(golden_ids)
    if len(requests) and table_exists(con, "term_frequencies"):
        # Name frequencies are derived from names: keep only values still present.
        con.execute(
            """DELETE FROM term_frequencies t WHERE NOT EXISTS (
                 SELECT 1 FROM linkage_features f WHERE
                   (t.column_name = 'first_name_std' AND f.first_name_std = t.value) OR
                   (t.column_name = 'last_name_std' AND f.last_name_std = t.value))"""
        )
    return ErasureReport(len(requests), total_records, total_ids)
