"""One golden row per person: which record's value survives, column by column.

Rules (docs/ARCHITECTURE.md): names in their best spelling (the spelling most records
agree on, with umlauts and ß where any record has them, proper case; the last name
follows the most recent record so a marriage shows); the most recent e-mail that did not
bounce; the most recent valid phone; the most recent address, street spelled out; the
latest explicit consent decision; revenue summed over accounts and cards.
"""

from __future__ import annotations

import duckdb

from warehouse.consent import build_consent
from warehouse.golden_scope import within
from warehouse.settings import Settings
from sources.identifiers import e164
from warehouse.spelling import (build_names, build_street_spellings, house_number_sql, street_display_sql,
                                street_typed_sql)

def build_survivors(con: duckdb.DuckDBPyConnection, doubt_threshold: float = 0.5,
                    sure_threshold: float = Settings.consent_sure_probability,
                    persons: str | None = None, count: bool = True) -> None:
    """(Re)build `_survivors` for the golden ids in the table `persons` (None: everyone):
    contract columns (without updated_at), `consent_email`, and their provenance.

    Consent comes from `warehouse.consent.build_consent` (`doubt_threshold`,
    `sure_threshold`: see there), which also writes `golden_consent`; names, streets and
    place names are spelled by `warehouse.spelling`, with the whole data's spelling counts
    counted anew (`count`, only for everyone) or as kept (`warehouse.spelling_statistics`).
    """
    build_consent(con, doubt_threshold, sure_threshold, persons=persons)
    build_names(con, persons, count)
    build_member_records(con, persons)
    build_street_spellings(con, count)
    build_address(con)
    build_phones(con)
    build_latest_values(con)
    _join_survivors(con)
    con.execute("DROP TABLE _first; DROP TABLE _last; DROP TABLE _records; DROP TABLE _streets; DROP TABLE _places; "
                "DROP TABLE _address; DROP TABLE _phone; DROP TABLE _mail; DROP TABLE _salutation; DROP TABLE _totals")


def build_member_records(con: duckdb.DuckDBPyConnection, persons: str | None = None) -> None:
    """`_records`: every member record of the golden ids in `persons` (None: of every golden
    row) with the standardised values the rules below read (postcode, place key, E.164, the
    street as displayed, typed and keyed)."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _records AS
        SELECT m.golden_id, r.*, f.postal_code AS postal_code_std, f.city_std, f.phone_e164,
               {street_display_sql('r.street')} AS street_display, {house_number_sql('r.street')} AS house_display,
               f.street_key, {street_typed_sql('r.street')} AS street_typed
        FROM staged_records r JOIN golden_membership m USING (record_key)
        LEFT JOIN linkage_features f USING (record_key)
        WHERE {within('m.golden_id', persons)}
        """
    )


def build_address(con: duckdb.DuckDBPyConnection) -> None:
    """`_address`: per golden id the most recent address, its street and place spelled as
    `build_street_spellings` found them."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _address AS
        WITH anchor AS (
            SELECT golden_id, street_key, house_display AS house_number, postal_code, postal_code_std, city, city_std,
                   country, source, source_record_id
            FROM _records WHERE street_display IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY golden_id
                                       ORDER BY record_updated_at DESC NULLS LAST, source, source_record_id) = 1
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
        )
        -- One street, one spelling: the one its residents' records use most; one postcode's
        -- place, one name: the one most records with that postcode give.
        -- A street no count knows yet: as most of the person's own records there spell it.
        , own AS (
            SELECT r.golden_id, r.street_key, r.street_display FROM _records r JOIN chosen_street c USING (golden_id, street_key)
            WHERE r.street_display IS NOT NULL
            GROUP BY r.golden_id, r.street_key, r.street_display
            QUALIFY row_number() OVER (PARTITION BY r.golden_id
                                       ORDER BY count(*) DESC, regexp_matches(r.street_display, '[äöüß]') DESC, r.street_display) = 1
        )
        SELECT a.golden_id, coalesce(d.street_display, o.street_display) AS street, a.house_number, a.postal_code,
               coalesce(p.city, trim(a.city)) AS city, a.country, a.source, a.source_record_id
        FROM anchor a JOIN chosen_street c USING (golden_id)
        LEFT JOIN _streets d ON d.postal_code_std IS NOT DISTINCT FROM c.postal_code_std AND d.street_key = c.street_key
        LEFT JOIN own o USING (golden_id)
        LEFT JOIN _places p ON p.postal_code_std = a.postal_code_std AND p.country IS NOT DISTINCT FROM a.country
                            AND p.city_std = a.city_std
        """
    )


def build_latest_values(con: duckdb.DuckDBPyConnection) -> None:
    """`_mail` (the most recent well-formed address that did not bounce), `_salutation` (the
    most recent), `_totals` (revenue, record and system counts, first and last seen)."""
    # One window over the records at a time: run together in one statement, the three
    # windows and seven joins held most of the golden step's peak memory.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _mail AS
        SELECT golden_id, lower(trim(email)) AS email, source, source_record_id FROM _records
        WHERE email IS NOT NULL AND NOT coalesce(email_bounced, false)
          AND regexp_matches(lower(trim(email)), '^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$')
        QUALIFY row_number() OVER (PARTITION BY golden_id
                                   ORDER BY record_updated_at DESC NULLS LAST, source, source_record_id) = 1
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _salutation AS
        SELECT golden_id, salutation, source, source_record_id FROM _records WHERE salutation IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY golden_id
                                   ORDER BY record_updated_at DESC NULLS LAST, source, source_record_id) = 1
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _totals AS
        SELECT golden_id,
               CAST(coalesce(sum(revenue) FILTER (WHERE source IN ('shop', 'pos')), 0) AS DECIMAL(12,2)) AS total_revenue,
               CAST(count(*) AS INTEGER) AS source_count,
               CAST(count(DISTINCT source) AS INTEGER) AS source_systems,
               min(least(first_seen_at, last_seen_at)) AS first_seen_at,
               max(greatest(first_seen_at, last_seen_at)) AS last_seen_at
        FROM _records GROUP BY golden_id
        """
    )


def _join_survivors(con: duckdb.DuckDBPyConnection) -> None:
    """`_survivors`: the values above side by side, with the record each came from."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _survivors AS
        WITH consent AS (
            SELECT golden_id, marketing_consent, consent_email, decided_at AS consent_at, source, source_record_id
            FROM golden_consent
        )
        SELECT t.golden_id,
               s.salutation, f.display AS first_name, l.display AS last_name,
               mail.email, phone.phone,
               a.street, a.house_number, a.postal_code, a.city, a.country,
               coalesce(c.marketing_consent, false) AS marketing_consent,
               c.source AS consent_source, c.consent_at AS consent_updated_at,
               t.total_revenue, t.source_count, t.first_seen_at, t.last_seen_at, c.consent_email, t.source_systems,
               s.source AS salutation_src, s.source_record_id AS salutation_id,
               f.source AS first_name_src, f.source_record_id AS first_name_id,
               l.source AS last_name_src, l.source_record_id AS last_name_id,
               mail.source AS email_src, mail.source_record_id AS email_id,
               phone.source AS phone_src, phone.source_record_id AS phone_id,
               a.source AS address_src, a.source_record_id AS address_id,
               c.source AS consent_src, c.source_record_id AS consent_id
        FROM _totals t
        LEFT JOIN _salutation s USING (golden_id) LEFT JOIN _first f USING (golden_id) LEFT JOIN _last l USING (golden_id)
        LEFT JOIN _mail mail USING (golden_id) LEFT JOIN _phone phone USING (golden_id) LEFT JOIN _address a USING (golden_id)
        LEFT JOIN consent c USING (golden_id)
        """
    )



def build_phones(con: duckdb.DuckDBPyConnection) -> None:
    """`_phone`: per golden id the most recent valid number, read in the region of the
    record's own address, else of the person's address (a hotline ticket has none), else
    Germany: `0681 1417616` of a customer in Linz is +43 681 1417616, not a German number.
    German readings are linkage's (`phone_e164`); only other regions are parsed here."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _phone_region AS
        SELECT r.golden_id, r.record_key, r.phone, r.phone_e164, r.record_updated_at, r.source, r.source_record_id,
               upper(coalesce(CASE WHEN r.postal_code IS NOT NULL THEN r.country END, a.country, 'DE')) AS region
        FROM _records r LEFT JOIN _address a USING (golden_id) WHERE r.phone IS NOT NULL
        """
    )
    frame = con.execute("SELECT DISTINCT phone, region FROM _phone_region WHERE region <> 'DE'").df()
    frame["parsed"] = e164(frame["phone"], frame["region"])
    con.register("_parsed", frame)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _phone AS
        SELECT r.golden_id, CASE WHEN r.region = 'DE' THEN r.phone_e164 ELSE p.parsed END AS phone, r.source, r.source_record_id
        FROM _phone_region r LEFT JOIN _parsed p ON p.phone = r.phone AND p.region = r.region
        WHERE CASE WHEN r.region = 'DE' THEN r.phone_e164 ELSE p.parsed END IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY r.golden_id
                                   ORDER BY r.record_updated_at DESC NULLS LAST, r.source, r.source_record_id) = 1
        """
    )
    con.unregister("_parsed")
    con.execute("DROP TABLE _phone_region")


PROVENANCE = {
    "salutation": "salutation", "first_name": "first_name", "last_name": "last_name", "email": "email",
    "phone": "phone", "street": "address", "house_number": "address", "postal_code": "address", "city": "address",
    "country": "address", "marketing_consent": "consent",
}
