"""Finding personal details that must never be published: birthdays, interests, notes."""

from __future__ import annotations

import re

import duckdb
import pandas as pd

from warehouse.connection import table_exists

# The warehouse tables that become the published file.
TO_PUBLISH = ("golden_customers", "golden_sources", "golden_id_history", "customer_changes", "review_queue", "golden_provenance")
FORBIDDEN_COLUMN = re.compile(r"birth|geburt|interest|hobby|note|notiz|age$|alter$", re.IGNORECASE)


def privacy_findings(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...] = TO_PUBLISH) -> pd.DataFrame:
    """One row per table column that is, or holds, a sensitive detail."""
    findings: list[dict] = []
    has_sensitive = table_exists(con, "staged_sensitive")
    for table in tables:
        if not table_exists(con, table):
            continue
        for name, column_type, *_ in con.execute(f"DESCRIBE {table}").fetchall():
            if FORBIDDEN_COLUMN.search(name):
                findings.append({"table": table, "column": name, "kind": "sensitive column name"})
                continue
            if not has_sensitive:
                continue
            if column_type == "DATE":
                hits = con.execute(
                    f'SELECT count(*) FROM {table} t JOIN staged_sensitive s ON t."{name}" = s.birth_date'
                ).fetchall()[0][0]
            elif column_type == "VARCHAR":
                hits = con.execute(
                    f"""SELECT count(*) FROM {table} t WHERE t."{name}" IN (
                        SELECT interests FROM staged_sensitive WHERE interests IS NOT NULL
                        UNION SELECT notes FROM staged_sensitive WHERE notes IS NOT NULL
                        UNION SELECT strftime(birth_date, '%d.%m.%Y') FROM staged_sensitive WHERE birth_date IS NOT NULL
                        UNION SELECT CAST(birth_date AS VARCHAR) FROM staged_sensitive WHERE birth_date IS NOT NULL)"""
                ).fetchall()[0][0]
            else:
                continue
            if hits:
                findings.append({"table": table, "column": name, "kind": f"{hits} sensitive values"})
    return pd.DataFrame(findings, columns=["table", "column", "kind"])
