"""What ingest and staging leave out for persons who asked to be erased: exports keep
carrying their records, and only one-way hashes of their identifiers are kept
(`erased_identifiers`, written by warehouse.erasure) to recognise them."""

from __future__ import annotations

import duckdb
import pandas as pd

from sources.identifiers import e164, email_key_sql


def erasures_known(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether any erasure was applied (its hashes table exists): only then is there anything to leave out."""
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'erased_identifiers'").fetchall()[0][0])


def erased_condition_sql(record_key: str, email: str | None) -> str:
    """SQL true for a row whose record key or e-mail belongs to an erased person."""
    condition = f"sha256({record_key}) IN (SELECT hash FROM erased_identifiers WHERE kind = 'record_key')"
    if email:
        condition += (f" OR ({email} IS NOT NULL AND sha256({email_key_sql(email)}) "
                      "IN (SELECT hash FROM erased_identifiers WHERE kind = 'email'))")
    return condition


def forget_erased_phones(con: duckdb.DuckDBPyConnection, table: str, column: str) -> None:
    """A phone named in an erasure request may be a household's landline, so the row stays,
    but the number is not kept (the numbers are read once each, as linkage reads them)."""
    if not erasures_known(con) or not con.execute(
            "SELECT count(*) FROM erased_identifiers WHERE kind = 'phone'").fetchall()[0][0]:
        return
    column = f'"{column}"'
    phones = con.execute(f"SELECT DISTINCT {column} AS phone FROM {table} WHERE {column} IS NOT NULL").df()["phone"]
    con.register("_phones", pd.DataFrame({"phone": phones, "phone_e164": e164(phones)}))
    con.execute(f"""
        UPDATE {table} t SET {column} = NULL FROM _phones p
        WHERE t.{column} = p.phone AND p.phone_e164 IS NOT NULL
          AND sha256(p.phone_e164) IN (SELECT hash FROM erased_identifiers WHERE kind = 'phone')
    """).fetchall()
    con.unregister("_phones")
