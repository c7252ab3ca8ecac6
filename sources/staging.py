"""One current row per live source record, in one schema for all sources."""

from __future__ import annotations

import duckdb

from sources.differences import table_columns
from sources.erased import erased_condition_sql, erasures_known, forget_erased_phones
from sources.ingest import CUSTOMER_SOURCES, SPECS, ensure_tables
from sources.staging_inputs import forget, remember, signature, staged_in, stored_signatures

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
    if not table_columns(con, "staging_generation"):
        return None
    return con.execute("SELECT max(generation) FROM staging_generation").fetchall()[0][0]


def last_staging(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    """The sources the last staging staged anew, and those whose rows it kept (their inputs
    had not changed: sources/staging_inputs.py)."""
    generation, staged = staging_generation(con), staged_in(con)
    return (sorted(s for s, g in staged.items() if g == generation),
            sorted(s for s, g in staged.items() if g != generation))


def _count_generation(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(GENERATION_DDL)
    con.execute("INSERT INTO staging_generation SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM staging_generation)")
    con.execute("UPDATE staging_generation SET generation = generation + 1")


_SENSITIVE_SQL = (f"SELECT record_key, {', '.join(SENSITIVE_COLUMNS)} FROM _staged_kept "
                  "WHERE coalesce(birth_date::VARCHAR, interests, notes) IS NOT NULL")


def _staged_sql(sources: list[str], erased_filter: str) -> str:
    """The staged rows (with the sensitive columns) of `sources`, with their keys, erased persons left out."""
    union = "\nUNION ALL BY NAME\n".join(f"({CUSTOMER_SOURCES[s].STAGED_SQL})" for s in sources)
    columns = ", ".join(c for c in STAGED_COLUMNS if c != "record_key")
    return f"""
        SELECT * FROM (
            SELECT source || ':' || source_record_id AS record_key, {columns}, {', '.join(SENSITIVE_COLUMNS)}
            FROM ({union}))
        {erased_filter}
    """


def _signatures(con: duckdb.DuckDBPyConnection, erased_filter: str) -> dict[str, str | None]:
    """Each source's staging inputs as one value (sources/staging_inputs.py); the SQL that
    makes its rows is part of it, so a changed rule stages anew."""
    return {source: signature(con, module.STAGED_SQL, _staged_sql([source], erased_filter) + _SENSITIVE_SQL)
            for source, module in CUSTOMER_SOURCES.items()}


def _kept_sources(con: duckdb.DuckDBPyConnection, signatures: dict[str, str | None]) -> list[str]:
    """The sources whose staged rows stand as they are: same signature as when they were staged."""
    if table_columns(con, "staged_records") != list(STAGED_COLUMNS) or not table_columns(con, "staged_sensitive"):
        return []
    stored = stored_signatures(con)
    return [s for s, v in signatures.items() if v is not None and stored.get(s) == v]


def build_staged_records(con: duckdb.DuckDBPyConnection) -> int:
    """(Re)build `staged_records` and `staged_sensitive` from the raw tables: anew for every
    source whose inputs changed since it was staged, the others' rows kept."""
    # Counted before the records change: killed in between, a reader sees a new number over
    # the old records, which only makes it look again.
    _count_generation(con)
    for spec in SPECS.values():
        ensure_tables(con, spec)
    erased_filter = _erased_filter(con)
    signatures = _signatures(con, erased_filter)
    kept = _kept_sources(con, signatures)
    anew = [s for s in CUSTOMER_SOURCES if s not in kept]
    forget(con, anew)
    if anew:
        # Keys and the erased filter in one pass (a table of all rows, then one of the kept, was
        # a fifth of staging).
        con.execute(f"CREATE OR REPLACE TEMP TABLE _staged_kept AS {_staged_sql(anew, erased_filter)}")
        if kept:
            # Only the sources staged anew are replaced (the kept ones' rows are not rewritten).
            con.execute("DELETE FROM staged_records WHERE source IN (SELECT unnest(?::VARCHAR[]))", [anew])
            con.execute(f"INSERT INTO staged_records SELECT {', '.join(STAGED_COLUMNS)} FROM _staged_kept")
            con.execute("DELETE FROM staged_sensitive WHERE split_part(record_key, ':', 1) IN (SELECT unnest(?::VARCHAR[]))",
                        [anew])
            con.execute(f"INSERT INTO staged_sensitive {_SENSITIVE_SQL}")
        else:
            con.execute(f"CREATE OR REPLACE TABLE staged_records AS SELECT {', '.join(STAGED_COLUMNS)} FROM _staged_kept")
            con.execute(f"CREATE OR REPLACE TABLE staged_sensitive AS {_SENSITIVE_SQL}")
        con.execute("DROP TABLE _staged_kept")
    # The kept sources' rows were checked when they were staged, against the same erased
    # numbers (a new erasure changes every source's signature).
    restaged = ", ".join(f"'{source}'" for source in anew) or "NULL"
    forget_erased_phones(con, "staged_records", "phone", f"source IN ({restaged})")
    remember(con, signatures, anew, staging_generation(con))
    return con.execute("SELECT count(*) FROM staged_records").fetchall()[0][0]
