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


def forget_erased_phones(con: duckdb.DuckDBPyConnection, table: str, column: str, where: str = "TRUE") -> None:
    """A phone named in an erasure request may be a household's landline, so the row stays,
    but the number is not kept (the numbers are read once each, as linkage reads them).
    `where`: a condition on `table`'s rows that limits the check to them (rows checked
    before against the same erased numbers need not be checked again).

    Each distinct number is parsed to E.164 to be compared with the erased hashes, which in
    Python costs some 10 microseconds a number: once any phone had been erased, every later
    run parsed every staged number again (a second a run at 100,000 persons). The numbers
    the last features build parsed (`linkage_features`: phone_raw is the staged number, and
    an erased record's row is gone with it) are read from there; only the others are parsed."""
    if not erasures_known(con) or not con.execute(
            "SELECT count(*) FROM erased_identifiers WHERE kind = 'phone'").fetchall()[0][0]:
        return
    column = f'"{column}"'
    parsed_before = {c for (c,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'linkage_features' AND schema_name = 'main' "
        "AND database_name = current_database()").fetchall()} >= {"phone_raw", "phone_e164"}
    known = ("SELECT DISTINCT phone_raw AS phone, phone_e164 FROM linkage_features WHERE phone_raw IS NOT NULL"
             if parsed_before else "SELECT NULL::VARCHAR AS phone, NULL::VARCHAR AS phone_e164 LIMIT 0")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _known_phone_forms AS {known}")
    phones = con.execute(f"SELECT DISTINCT {column} AS phone FROM {table} WHERE {column} IS NOT NULL AND ({where}) "
                         f"AND {column} NOT IN (SELECT phone FROM _known_phone_forms)").df()["phone"]
    con.register("_phones", pd.DataFrame({"phone": phones.astype(object), "phone_e164": pd.Series(e164(phones), dtype=object)}))
    con.execute(f"""
        UPDATE {table} t SET {column} = NULL
        FROM (SELECT phone::VARCHAR AS phone, phone_e164::VARCHAR AS phone_e164 FROM _phones
              UNION ALL SELECT phone, phone_e164 FROM _known_phone_forms) p
        WHERE t.{column} = p.phone AND ({where}) AND p.phone_e164 IS NOT NULL
          AND sha256(p.phone_e164) IN (SELECT hash FROM erased_identifiers WHERE kind = 'phone')
    """).fetchall()
    con.unregister("_phones")
    con.execute("DROP TABLE _known_phone_forms")
