"""One current row per live source record, in one schema for all sources."""

from __future__ import annotations

import duckdb

from sources.erased import erased_condition_sql, erasures_known, forget_erased_phones
from sources.ingest import CUSTOMER_SOURCES, SPECS, ensure_tables

STAGED_COLUMNS = (
    "record_key", "source", "source_record_id", "salutation", "first_name", "last_name", "company",
    "email", "email_bounced", "phone", "street", "postal_code", "city", "country", "customer_number_ref",
    "consent_decision", "consent_at", "revenue", "first_seen_at", "last_seen_at", "record_updated_at",
    "file_hash", "file_name", "line_number",
)
SENSITIVE_COLUMNS = ("birth_date", "interests", "notes")


def _erased_filter(con: duckdb.DuckDBPyConnection) -> str:
    """Records of erased persons stay out, even when later exports still carry them."""
    return f"WHERE NOT ({erased_condition_sql('record_key', 'email')})" if erasures_known(con) else ""


# A number that grows with every staging: whoever read the staged records can tell later
# whether they were staged again since (warehouse/rebuilt_log.py).
GENERATION_DDL = "CREATE TABLE IF NOT EXISTS staging_generation (generation BIGINT NOT NULL)"


def staging_generation(con: duckdb.DuckDBPyConnection) -> int | None:
    """The number of the last staging (None before the first)."""
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'staging_generation' "
                       "AND schema_name = 'main' AND database_name = current_database()").fetchall()[0][0]:
        return None
    row = con.execute("SELECT max(generation) FROM staging_generation").fetchall()
    return row[0][0]


def _count_generation(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(GENERATION_DDL)
    con.execute("INSERT INTO staging_generation SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM staging_generation)")
    con.execute("UPDATE staging_generation SET generation = generation + 1")


def build_staged_records(con: duckdb.DuckDBPyConnection) -> int:
    """(Re)build `staged_records` and `staged_sensitive` from the raw tables."""
    # Counted before the records change: killed in between, a reader sees a new number over
    # the old records, which only makes it look again.
    _count_generation(con)
    for spec in SPECS.values():
        ensure_tables(con, spec)
    union = "\nUNION ALL BY NAME\n".join(f"({module.STAGED_SQL})" for module in CUSTOMER_SOURCES.values())
    columns = ", ".join(c for c in STAGED_COLUMNS if c != "record_key")
    # Keys and the erased filter in one pass (a table of all rows, then one of the kept, was
    # a fifth of staging).
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _staged_kept AS
        SELECT * FROM (
            SELECT source || ':' || source_record_id AS record_key, {columns}, {', '.join(SENSITIVE_COLUMNS)}
            FROM ({union}))
        {_erased_filter(con)}
        """
    )
    con.execute(f"CREATE OR REPLACE TABLE staged_records AS SELECT {', '.join(STAGED_COLUMNS)} FROM _staged_kept")
    con.execute(
        f"CREATE OR REPLACE TABLE staged_sensitive AS SELECT record_key, {', '.join(SENSITIVE_COLUMNS)} "
        "FROM _staged_kept WHERE coalesce(birth_date::VARCHAR, interests, notes) IS NOT NULL"
    )
    con.execute("DROP TABLE _staged_kept")
    forget_erased_phones(con, "staged_records", "phone")
    return con.execute("SELECT count(*) FROM staged_records").fetchall()[0][0]
