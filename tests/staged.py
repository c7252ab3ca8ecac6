"""Hand-made shop accounts staged directly (`staged_records`, `staged_sensitive`), for tests
of the features and comparisons without ingesting an export."""

from __future__ import annotations

import duckdb

from sources.staging import STAGED_COLUMNS

TYPES = {"email_bounced": "BOOLEAN", "revenue": "DOUBLE", "consent_at": "TIMESTAMP", "first_seen_at": "TIMESTAMP",
         "last_seen_at": "TIMESTAMP", "record_updated_at": "TIMESTAMP", "line_number": "BIGINT"}


def stage_accounts(con: duckdb.DuckDBPyConnection, records: list[tuple[str, str | None, str | None, str | None]]) -> None:
    """(record_key, first_name, last_name, email) staged as shop accounts (the tables made if missing)."""
    columns = ", ".join(f"{c} {TYPES.get(c, 'VARCHAR')}" for c in STAGED_COLUMNS)
    con.execute(f"CREATE TABLE IF NOT EXISTS staged_records ({columns})")
    con.execute("CREATE TABLE IF NOT EXISTS staged_sensitive "
                "(record_key VARCHAR, birth_date DATE, interests VARCHAR, notes VARCHAR)")
    for key, first, last, email in records:
        con.execute("INSERT INTO staged_records (record_key, source, source_record_id, first_name, last_name, email) "
                    "VALUES (?, 'shop', ?, ?, ?, ?)", [key, key.split(":")[1], first, last, email])
