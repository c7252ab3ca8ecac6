"""Lookup tables in the published file, so staff can find a customer by whatever they say.

Built at publish time, set-based, from the golden tables and the standardised values that
linkage already computed (`linkage_features`): the same e-mail normalisation
(lower case, googlemail = gmail), the same E.164 phone numbers, the same folded names
(umlauts spelled out, ß = ss) and Kölner Phonetik codes. A search then normalises what
was typed with the very same functions (web/search.py) and looks it up by equality.

Only records that stand behind a golden customer now are indexed: an erased person's
records are gone from `golden_sources`, so nothing of them reaches these tables.
Birth dates, interests and notes (`staged_sensitive`) are never read here.

Tables (all prefixed `lookup_`):
- `lookup_records`: each source record behind a customer, with its values, dates, file
  and the explanation of its link (the customer page shows these).
- `lookup_emails(email, golden_id)`, `lookup_phones(phone, golden_id)`.
- `lookup_numbers(number, golden_id, source_record_id)`: shop customer and POS card
  numbers, digits only, so `S-100234`, `s100234` and `100234` are one number;
  `lookup_number_variants(variant, number, golden_id)`: each number with one digit left out (and
  itself): a number typed with one wrong, missing, extra or swapped digit shares a
  variant with the right one (symmetric deletion).
- `lookup_name_postings(token, first_ids, last_ids)`: every word of a first or last name
  with the customers who bear it in that role (their golden ids, sorted, space-separated);
  `lookup_token_variants(variant, token)` the same one-deletion variants over the distinct
  words; `lookup_token_phonetics(code, token)` their Kölner Phonetik codes.
- `lookup_places(golden_id, postal_code, city)` for narrowing by postcode or city.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from linkage.names import fold_sql, koelner_phonetik
from warehouse.review_queue import explanation_sql

INDEXED = (
    ("lookup_records", "golden_id"), ("lookup_records", "record_key"), ("lookup_emails", "email"),
    ("lookup_phones", "phone"), ("lookup_numbers", "number"), ("lookup_number_variants", "variant"),
    ("lookup_name_postings", "token"), ("lookup_token_variants", "variant"), ("lookup_token_phonetics", "code"),
)

# Each record behind a customer: golden_sources says who stands for it now.
_MEMBERS = """
    SELECT g.golden_id, g.source, g.source_record_id, g.source || ':' || g.source_record_id AS record_key,
           g.match_probability
    FROM golden_sources g
"""


def _one_deletion_variants(source: str, column: str) -> str:
    """The value itself and each value with one character left out, over `source`'s `column`."""
    return f"""
        SELECT {column} AS variant, {column} AS token FROM {source}
        UNION
        SELECT {column}[1:i - 1] || {column}[i + 1:], {column}
        FROM {source}, range(1, 33) AS r(i)  -- longer words keep their first 32 variants
        WHERE i <= length({column})
    """


def build_search_index(con: duckdb.DuckDBPyConnection, db: str, only: str | None = None) -> dict[str, int]:
    """Create the `lookup_*` tables in the attached database `db` (the version being published).

    `only`: a table of golden ids; the tables are then those of these customers alone (what
    `warehouse.publish_delta` merges into the last version: every table here is built per
    customer, the name words' posting lists aside, which it merges)."""
    members, golden_customers = _MEMBERS, "golden_customers"
    if only:
        members += f" WHERE g.golden_id IN (SELECT golden_id FROM {only})"
        golden_customers = f"(SELECT * FROM golden_customers WHERE golden_id IN (SELECT golden_id FROM {only}))"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _members AS {members}")
    _records(con, db)
    _values(con, db, golden_customers)
    _numbers(con, db)
    _name_words(con, db, golden_customers)
    _places(con, db, golden_customers)
    # A search is a handful of point lookups; without an index each one scans its whole
    # table (tens of milliseconds at 100,000 persons), with one it takes well under one.
    for table, column in INDEXED:
        con.execute(f"CREATE INDEX {table}_{column} ON {db}.{table} ({column})")
    for table in ("_members", "_links", "_link_pairs", "_link_reasons", "_names", "_name_tokens", "_tokens"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    counts = {}
    for table in ("lookup_records", "lookup_emails", "lookup_phones", "lookup_numbers", "lookup_name_postings"):
        counts[table] = con.execute(f"SELECT count(*) FROM {db}.{table}").fetchall()[0][0]
    return counts


def _records(con: duckdb.DuckDBPyConnection, db: str) -> None:
    """`lookup_records` from `_members`: each record's values and the explanation of its best link."""
    # The link that explains each record best: its strongest scored pair with another record
    # of the same customer (a founder of a cluster has no link of its own: NULL).
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _links AS
        WITH ends AS (  -- both ends of every pair, as two equi-joins rather than one OR join
            SELECT key_l AS record_key, key_r AS partner, key_l, key_r, match_probability FROM scored_pairs
            UNION ALL
            SELECT key_r, key_l, key_l, key_r, match_probability FROM scored_pairs
        )
        SELECT e.record_key, e.partner, e.key_l, e.key_r
        FROM ends e
        JOIN _members m ON m.record_key = e.record_key
        JOIN _members o ON o.record_key = e.partner AND o.golden_id = m.golden_id
        QUALIFY row_number() OVER (PARTITION BY e.record_key ORDER BY e.match_probability DESC, e.key_l, e.key_r) = 1
        """
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _link_pairs AS SELECT DISTINCT key_l, key_r FROM _links")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _link_reasons AS {explanation_sql('_link_pairs')}")
    con.execute(
        f"""
        CREATE TABLE {db}.lookup_records AS
        SELECT m.golden_id, m.record_key, m.source, m.source_record_id, m.match_probability,
               s.salutation, s.first_name, s.last_name, s.company, s.email, s.email_bounced, s.phone,
               s.street, s.postal_code, s.city, s.country, s.consent_decision, s.consent_at, s.revenue,
               s.first_seen_at, s.last_seen_at, s.record_updated_at, s.file_name,
               l.partner AS linked_to, r.explanation AS link_explanation
        FROM _members m
        JOIN staged_records s USING (record_key)
        LEFT JOIN _links l USING (record_key)
        LEFT JOIN _link_reasons r ON r.key_l = l.key_l AND r.key_r = l.key_r
        ORDER BY m.golden_id, m.source, m.source_record_id
        """
    )


def _values(con: duckdb.DuckDBPyConnection, db: str, golden_customers: str) -> None:
    """`lookup_emails` and `lookup_phones` from `_members` and the golden rows."""
    # A value is looked up as linkage standardised it in any of the person's records and as
    # the golden row has it; sorted by it, so a point lookup reads few row groups.
    for table, column, feature in (("lookup_emails", "email", "email_std"), ("lookup_phones", "phone", "phone_e164")):
        con.execute(
            f"""
            CREATE TABLE {db}.{table} AS
            SELECT DISTINCT {column}, golden_id FROM (
                SELECT f.{feature} AS {column}, m.golden_id FROM _members m JOIN linkage_features f USING (record_key)
                UNION ALL SELECT {column}, golden_id FROM {golden_customers}
            ) WHERE {column} IS NOT NULL ORDER BY {column}
            """
        )


def _numbers(con: duckdb.DuckDBPyConnection, db: str) -> None:
    """`lookup_numbers` and `lookup_number_variants` from `_members`."""
    con.execute(
        f"""
        CREATE TABLE {db}.lookup_numbers AS
        SELECT DISTINCT regexp_replace(source_record_id, '[^0-9]', '', 'g') AS number, golden_id, source, source_record_id
        FROM _members WHERE source IN ('shop', 'pos') AND regexp_matches(source_record_id, '[0-9]{{4,}}')
        ORDER BY number
        """
    )
    # With the customer beside each variant, a typed number is found in one round of lookups.
    con.execute(
        f"CREATE TABLE {db}.lookup_number_variants AS SELECT DISTINCT v.variant, v.token AS number, n.golden_id FROM "
        f"({_one_deletion_variants(f'(SELECT DISTINCT number FROM {db}.lookup_numbers)', 'number')}) v "
        f"JOIN {db}.lookup_numbers n ON n.number = v.token ORDER BY v.variant"
    )


def _name_words(con: duckdb.DuckDBPyConnection, db: str, golden_customers: str) -> None:
    """`lookup_name_postings`, `lookup_token_variants` and `lookup_token_phonetics`."""
    # Name words: the standardised names linkage compares (titles dropped, swapped names put
    # back) and the published golden names, folded the same way.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _names AS
        SELECT m.golden_id, f.first_name_std AS first_name, f.last_name_std AS last_name
        FROM _members m JOIN linkage_features f USING (record_key)
        UNION ALL
        SELECT golden_id, {fold_sql('first_name')}, {fold_sql('last_name')} FROM {golden_customers}
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _name_tokens AS
        SELECT DISTINCT token, role, golden_id FROM (
            SELECT unnest(regexp_split_to_array(regexp_replace(first_name, '[^a-z]+', ' ', 'g'), ' ')) AS token,
                   'first' AS role, golden_id FROM _names
            UNION ALL
            SELECT unnest(regexp_split_to_array(regexp_replace(last_name, '[^a-z]+', ' ', 'g'), ' ')), 'last', golden_id
            FROM _names
        ) WHERE length(token) >= 2
        """
    )
    # One row per word with the customers who bear it as a first and as a last name: a
    # search fetches the few rows of the words it matched through the index on `token`. The
    # ids are one space-separated string (golden ids hold no space), not a LIST: DuckDB reads
    # a LIST value from storage element by element, a string in one piece (the 115-195 words
    # a common full name matches, 28,000-36,000 ids at 1,000,000 customers: 56-107 ms as
    # LISTs, 9-19 ms as strings).
    con.execute(
        f"""
        CREATE TABLE {db}.lookup_name_postings AS
        SELECT token, string_agg(golden_id, ' ' ORDER BY golden_id) FILTER (WHERE role = 'first') AS first_ids,
               string_agg(golden_id, ' ' ORDER BY golden_id) FILTER (WHERE role = 'last') AS last_ids
        FROM _name_tokens GROUP BY token ORDER BY token
        """
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _tokens AS SELECT token FROM {db}.lookup_name_postings")
    con.execute(
        f"CREATE TABLE {db}.lookup_token_variants AS SELECT variant, token FROM "
        f"({_one_deletion_variants('_tokens', 'token')}) WHERE length(variant) >= 2 ORDER BY variant"
    )
    # Kölner Phonetik needs Python: once per distinct word, joined back.
    tokens = con.execute("SELECT token FROM _tokens").df()["token"]
    codes = pd.DataFrame({"token": tokens, "code": tokens.map(koelner_phonetik)})
    con.register("_token_codes", codes)
    # Typed: a frame without rows (a delta publish that touches nobody) has no types to give.
    con.execute(f"CREATE TABLE {db}.lookup_token_phonetics AS SELECT code::VARCHAR AS code, token::VARCHAR AS token "
                "FROM _token_codes WHERE code IS NOT NULL ORDER BY code")
    con.unregister("_token_codes")


def _places(con: duckdb.DuckDBPyConnection, db: str, golden_customers: str) -> None:
    """`lookup_places` from `_members` and the golden rows."""
    con.execute(
        f"""
        CREATE TABLE {db}.lookup_places AS
        SELECT DISTINCT golden_id, postal_code, city FROM (
            SELECT m.golden_id, f.postal_code, f.city_std AS city FROM _members m JOIN linkage_features f USING (record_key)
            UNION ALL
            SELECT golden_id, regexp_replace(postal_code, '[^0-9]', '', 'g'), {fold_sql('city')} FROM {golden_customers}
        ) WHERE postal_code IS NOT NULL OR city IS NOT NULL ORDER BY golden_id
        """
    )
