"""One current row per live source record, in one schema for all sources."""

from __future__ import annotations

import duckdb
import pandas as pd

from sources.identifiers import e164
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
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'erased_identifiers'"
    ).fetchall()[0][0]
    if not exists:
        return ""
    return """
    WHERE sha256(record_key) NOT IN (SELECT hash FROM erased_identifiers WHERE kind = 'record_key')
      AND (email IS NULL OR sha256(
              regexp_replace(lower(trim(email)), '@googlemail\\.com$', '@gmail.com'))
           NOT IN (SELECT hash FROM erased_identifiers WHERE kind = 'email'))
    """


def build_staged_records(con: duckdb.DuckDBPyConnection) -> int:
    """(Re)build `staged_records` and `staged_sensitive` from the raw tables."""
    for spec in SPECS.values():
        ensure_tables(con, spec)
    union = "\nUNION ALL BY NAME\n".join(f"({module.STAGED_SQL})" for module in CUSTOMER_SOURCES.values())
    columns = ", ".join(c for c in STAGED_COLUMNS if c != "record_key")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _staged_all AS
        SELECT source || ':' || source_record_id AS record_key, {columns}, {', '.join(SENSITIVE_COLUMNS)}
        FROM ({union})
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _staged_kept AS SELECT * FROM _staged_all {_erased_filter(con)}
        """
    )
    con.execute(f"CREATE OR REPLACE TABLE staged_records AS SELECT {', '.join(STAGED_COLUMNS)} FROM _staged_kept")
    con.execute(
        f"CREATE OR REPLACE TABLE staged_sensitive AS SELECT record_key, {', '.join(SENSITIVE_COLUMNS)} "
        "FROM _staged_kept WHERE coalesce(birth_date::VARCHAR, interests, notes) IS NOT NULL"
    )
    con.execute("DROP TABLE _staged_all; DROP TABLE _staged_kept")
    _drop_erased_phones(con)
    return con.execute("SELECT count(*) FROM staged_records").fetchall()[0][0]


def _drop_erased_phones(con: duckdb.DuckDBPyConnection) -> None:
    """A phone named in an erasure request is removed from records that still carry it
    (it may be a household's landline, so the record itself stays)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'erased_identifiers'"
    ).fetchall()[0][0]
    if not exists or not con.execute("SELECT count(*) FROM erased_identifiers WHERE kind = 'phone'").fetchall()[0][0]:
        return
    phones = con.execute("SELECT DISTINCT phone FROM staged_records WHERE phone IS NOT NULL").df()["phone"]
    frame = pd.DataFrame({"phone": phones, "phone_e164": e164(phones)})
    con.register("_phones", frame)
    con.execute(
        """
        UPDATE staged_records s SET phone = NULL
        FROM _phones p
        WHERE s.phone = p.phone AND p.phone_e164 IS NOT NULL
          AND sha256(p.phone_e164) IN (SELECT hash FROM erased_identifiers WHERE kind = 'phone')
        """
    )
    con.unregister("_phones")
