"""One golden row per person: which record's value survives, column by column.

Rules (docs/ARCHITECTURE.md): names in their best spelling (the spelling most records
agree on, with umlauts and ß where any record has them, proper case; the last name
follows the most recent record so a marriage shows); the most recent e-mail that did not
bounce; the most recent valid phone; the most recent address, street spelled out; the
latest explicit consent decision; revenue summed over accounts and cards.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from linkage.names import display_name_case

# Spellings that differ only by umlaut writing or case share this key: Müller/Mueller/MULLER.
def _spelling_key(column: str) -> str:
    folded = (f"replace(replace(replace(replace(lower(trim({column})), 'ä', 'a'), 'ö', 'o'), 'ü', 'u'), 'ß', 's')")
    return f"nullif(replace(replace(replace(replace(strip_accents({folded}), 'ae', 'a'), 'oe', 'o'), 'ue', 'u'), 'ss', 's'), '')"


_HAS_UMLAUT = "regexp_matches({c}, '[äöüÄÖÜß]')"
_STREET_SPLIT = r"^(.*?)[\s,]*([0-9]+\s*[a-zA-Z]?(\s*[-/]\s*[0-9]+\s*[a-zA-Z]?)?)$"


def _best_name_sql(column: str, anchor: str) -> str:
    """Per golden id, the display spelling of `column`.

    anchor 'frequent': the spelling most records share (first names do not change);
    anchor 'recent': spellings close to the most recent record's (a married name wins).
    """
    key = _spelling_key(f"r.{column}")
    anchor_filter = (
        "TRUE" if anchor == "frequent"
        else f"jaro_winkler_similarity(v.spelling_key, a.anchor_key) >= 0.9"
    )
    return f"""
    WITH v AS (
        SELECT m.golden_id, r.{column} AS value, {key} AS spelling_key, r.record_updated_at, r.source, r.source_record_id
        FROM staged_records r JOIN golden_membership m USING (record_key)
        WHERE {key} IS NOT NULL
    ), a AS (
        SELECT golden_id, arg_max(spelling_key, record_updated_at) AS anchor_key FROM v GROUP BY golden_id
    ), keys AS (
        SELECT v.golden_id, v.spelling_key, count(*) AS n, max(v.record_updated_at) AS latest
        FROM v JOIN a USING (golden_id) WHERE {anchor_filter} GROUP BY ALL
    ), chosen AS (
        SELECT golden_id, spelling_key FROM keys
        QUALIFY row_number() OVER (PARTITION BY golden_id ORDER BY n DESC, latest DESC, spelling_key) = 1
    )
    SELECT v.golden_id, trim(v.value) AS value, v.source, v.source_record_id
    FROM v JOIN chosen USING (golden_id, spelling_key)
    QUALIFY row_number() OVER (
        PARTITION BY v.golden_id
        ORDER BY {_HAS_UMLAUT.format(c='v.value')} DESC,
                 (trim(v.value) <> upper(trim(v.value)) AND trim(v.value) <> lower(trim(v.value))) DESC,
                 v.record_updated_at DESC, v.source_record_id) = 1
    """


def street_display_sql(column: str) -> str:
    """`Hauptstr. 5` -> `Hauptstraße`; `leopoldstrasse 101 a` -> `Leopoldstraße`."""
    name = f"CASE WHEN regexp_matches(trim({column}), '{_STREET_SPLIT}') THEN regexp_extract(trim({column}), '{_STREET_SPLIT}', 1) ELSE trim({column}) END"
    spelled = f"regexp_replace({name}, '([Ss])tr(\\.|asse|aße)?(\\s|$)', '\\1traße\\3', 'g')"
    spelled = f"regexp_replace({spelled}, '([Pp])l\\.(\\s|$)', '\\1latz\\2', 'g')"
    spelled = f"trim(regexp_replace({spelled}, '\\s+', ' ', 'g'))"
    # `Goethe Str.` is Goethestraße (a noun is joined), `Berliner Str.` stays apart (an adjective).
    joined = (f"CASE WHEN regexp_matches({spelled}, '^[A-ZÄÖÜ][a-zäöüß]+ Straße$') "
              f"AND NOT regexp_matches({spelled}, '(er|sche|ische) Straße$') "
              f"THEN replace({spelled}, ' Straße', 'straße') ELSE {spelled} END")
    return f"nullif(upper(({joined})[1]) || ({joined})[2:], '')"


def house_number_sql(column: str) -> str:
    return (f"CASE WHEN regexp_matches(trim({column}), '{_STREET_SPLIT}') "
            f"THEN lower(replace(regexp_extract(trim({column}), '{_STREET_SPLIT}', 2), ' ', '')) END")


def build_survivors(con: duckdb.DuckDBPyConnection, doubt_threshold: float = 0.5, sure_threshold: float = 0.95) -> None:
    """(Re)build `_survivors`: contract columns (without updated_at) and their provenance.

    `doubt_threshold`: pairs at or above this probability that were not linked still
    pass on an opt-out (see the consent rule). `sure_threshold`: where the person's records
    also hold a no, the latest yes counts only from a record linked at least this surely
    (or from a person's only record): a yes that may be someone else's is no consent.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _doubtful_neighbours AS
        SELECT p.key_l AS own_key, p.key_r AS other_key FROM scored_pairs p
        JOIN golden_membership a ON a.record_key = p.key_l JOIN golden_membership b ON b.record_key = p.key_r
        WHERE p.match_probability >= {float(doubt_threshold)} AND a.golden_id <> b.golden_id
        UNION ALL
        SELECT p.key_r, p.key_l FROM scored_pairs p
        JOIN golden_membership a ON a.record_key = p.key_l JOIN golden_membership b ON b.record_key = p.key_r
        WHERE p.match_probability >= {float(doubt_threshold)} AND a.golden_id <> b.golden_id
        """
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _first AS {_best_name_sql('first_name', 'frequent')}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _last AS {_best_name_sql('last_name', 'recent')}")
    # Proper case for display runs once per distinct spelling.
    for table in ("_first", "_last"):
        values = con.execute(f"SELECT DISTINCT value FROM {table}").df()["value"]
        con.register("_cased", pd.DataFrame({"value": values, "display": values.map(display_name_case)}))
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT t.*, c.display FROM {table} t JOIN _cased c USING (value)")
        con.unregister("_cased")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _records AS
        SELECT m.golden_id, r.*, f.phone_e164, f.postal_code AS postal_code_std, c.match_probability AS link_probability,
               count(*) OVER (PARTITION BY m.golden_id) AS records_of_person,
               {street_display_sql('r.street')} AS street_display, {house_number_sql('r.street')} AS house_display,
               f.street_key
        FROM staged_records r JOIN golden_membership m USING (record_key)
        LEFT JOIN linkage_features f USING (record_key) LEFT JOIN clusters c USING (record_key)
        """
    )
    con.execute(
        """
        -- Every street of a postcode: how many records give it, and their most common spelling.
        CREATE OR REPLACE TEMP TABLE _streets AS
        SELECT postal_code_std, street_key, street_display,
               sum(count(*)) OVER (PARTITION BY postal_code_std, street_key) AS residents
        FROM _records
        WHERE street_display IS NOT NULL AND street_key IS NOT NULL
        GROUP BY postal_code_std, street_key, street_display
        QUALIFY row_number() OVER (PARTITION BY postal_code_std, street_key ORDER BY count(*) DESC, street_display) = 1;
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _survivors AS
        WITH mail AS (
            SELECT golden_id, lower(trim(email)) AS email, source, source_record_id FROM _records
            WHERE email IS NOT NULL AND NOT coalesce(email_bounced, false)
              AND regexp_matches(lower(trim(email)), '^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$')
            QUALIFY row_number() OVER (PARTITION BY golden_id ORDER BY record_updated_at DESC NULLS LAST, source_record_id) = 1
        ), phone AS (
            SELECT golden_id, phone_e164 AS phone, source, source_record_id FROM _records WHERE phone_e164 IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY golden_id ORDER BY record_updated_at DESC NULLS LAST, source_record_id) = 1
        ), anchor AS (
            SELECT golden_id, street_key, house_display AS house_number, postal_code, postal_code_std, city, country,
                   source, source_record_id
            FROM _records WHERE street_display IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY golden_id ORDER BY record_updated_at DESC NULLS LAST, source_record_id) = 1
        ), spelling AS (
            -- The most recent address decides where; how its street is spelled, the records
            -- at that address decide together (one typo or `Str.` does not win), and on a
            -- tie the spelling more of the neighbours (same postcode) share.
            SELECT r.golden_id, r.street_key, count(*) AS n, max(r.record_updated_at) AS latest
            FROM _records r JOIN anchor a USING (golden_id)
            WHERE r.street_display IS NOT NULL AND r.postal_code IS NOT DISTINCT FROM a.postal_code
              AND jaro_winkler_similarity(r.street_key, a.street_key) >= 0.9
            GROUP BY r.golden_id, r.street_key
        ), chosen_street AS (
            SELECT s.golden_id, s.street_key, a.postal_code_std
            FROM spelling s JOIN anchor a USING (golden_id)
            LEFT JOIN _streets k ON k.postal_code_std IS NOT DISTINCT FROM a.postal_code_std AND k.street_key = s.street_key
            QUALIFY row_number() OVER (PARTITION BY s.golden_id
                                       ORDER BY s.n DESC, k.residents DESC NULLS LAST, s.latest DESC, s.street_key) = 1
        ), address AS (
            -- One street, one spelling: the one its residents' records use most.
            SELECT a.golden_id, d.street_display AS street, a.house_number, a.postal_code, a.city, a.country,
                   a.source, a.source_record_id
            FROM anchor a JOIN chosen_street c USING (golden_id)
            JOIN _streets d ON d.postal_code_std IS NOT DISTINCT FROM c.postal_code_std AND d.street_key = c.street_key
        ), salutation AS (
            SELECT golden_id, salutation, source, source_record_id FROM _records WHERE salutation IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY golden_id ORDER BY record_updated_at DESC NULLS LAST, source_record_id) = 1
        ), decisions AS (
            SELECT golden_id, consent_decision, consent_at, source, source_record_id,
                   records_of_person = 1 OR coalesce(link_probability, 0) >= $sure_threshold AS sure
            FROM _records
            WHERE consent_decision IS NOT NULL AND consent_at IS NOT NULL
            UNION ALL
            -- In doubt, no: a later opt-out on a record that may well be the same person
            -- (a pair the model was not sure enough to link) also counts.
            SELECT m.golden_id, r.consent_decision, r.consent_at, r.source, r.source_record_id, true
            FROM _doubtful_neighbours n
            JOIN golden_membership m ON m.record_key = n.own_key
            JOIN staged_records r ON r.record_key = n.other_key
            WHERE r.consent_decision IN ('no', 'pending') AND r.consent_at IS NOT NULL
        ), consent AS (
            -- The latest explicit decision; on a tie a `no` wins: never consent in doubt.
            SELECT golden_id, consent_decision, consent_at, source, source_record_id,
                   -- A yes from a record that may be someone else's does not outweigh a no
                   -- given anywhere in this person's records.
                   sure OR NOT bool_or(consent_decision IN ('no', 'pending')) OVER (PARTITION BY golden_id) AS sure
            FROM decisions
            QUALIFY row_number() OVER (PARTITION BY golden_id
                ORDER BY consent_at DESC, (consent_decision = 'yes') ASC, source_record_id) = 1
        ), totals AS (
            SELECT golden_id,
                   CAST(coalesce(sum(revenue) FILTER (WHERE source IN ('shop', 'pos')), 0) AS DECIMAL(12,2)) AS total_revenue,
                   CAST(count(*) AS INTEGER) AS source_count,
                   min(least(first_seen_at, last_seen_at)) AS first_seen_at,
                   max(greatest(first_seen_at, last_seen_at)) AS last_seen_at
            FROM _records GROUP BY golden_id
        )
        SELECT t.golden_id,
               s.salutation, f.display AS first_name, l.display AS last_name,
               mail.email, phone.phone,
               a.street, a.house_number, a.postal_code, a.city, a.country,
               coalesce(c.consent_decision = 'yes' AND c.sure, false) AS marketing_consent,
               c.source AS consent_source, c.consent_at AS consent_updated_at,
               t.total_revenue, t.source_count, t.first_seen_at, t.last_seen_at,
               s.source AS salutation_src, s.source_record_id AS salutation_id,
               f.source AS first_name_src, f.source_record_id AS first_name_id,
               l.source AS last_name_src, l.source_record_id AS last_name_id,
               mail.source AS email_src, mail.source_record_id AS email_id,
               phone.source AS phone_src, phone.source_record_id AS phone_id,
               a.source AS address_src, a.source_record_id AS address_id,
               c.source AS consent_src, c.source_record_id AS consent_id
        FROM totals t
        LEFT JOIN salutation s USING (golden_id) LEFT JOIN _first f USING (golden_id) LEFT JOIN _last l USING (golden_id)
        LEFT JOIN mail USING (golden_id) LEFT JOIN phone USING (golden_id) LEFT JOIN address a USING (golden_id)
        LEFT JOIN consent c USING (golden_id)
        """,
        {"sure_threshold": float(sure_threshold)},
    )
    con.execute("DROP TABLE _first; DROP TABLE _last; DROP TABLE _records; DROP TABLE _doubtful_neighbours; "
                "DROP TABLE _streets")


PROVENANCE = {
    "salutation": "salutation", "first_name": "first_name", "last_name": "last_name", "email": "email",
    "phone": "phone", "street": "address", "house_number": "address", "postal_code": "address", "city": "address",
    "country": "address", "marketing_consent": "consent",
}
