"""A second truth that cannot flatter us: the golden values the contract's rules give from
the records themselves, person by person (the generator's true persons), not the
generator's hidden true values.

For each true person, from that person's staged records in the warehouse:
- first / last name: the spelling key most of the person's records give (the last name
  among the spellings of the most recent record's value, so a marriage shows); every
  tied key is right; the published spelling must be one some record gives (case aside),
  with umlauts or ß where a record with that key has them;
- e-mail: the most recent well-formed, not bounced address, lower case;
- phone: E.164 of the most recent valid number, read in the region of the address;
- address: the most recent record with a street: its house number, postcode and country;
  the street as some record of the person at that postcode spells it (spelled out); the
  city as some record of the person with that postcode, or most records of the data with
  that postcode, spell it;
- consent: the latest explicit decision of the person's records is a yes;
- revenue: the sum over shop accounts and POS cards.
Scored on correctly linked persons and on all golden rows (each row judged by the person
most of its records belong to). Unsafe consent: a published yes whose person's latest
decision is not a yes.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from sources.identifiers import e164
from warehouse.spelling import HAS_UMLAUT, house_number_sql, spelling_key, street_display_sql

COLUMNS = ("first_name", "last_name", "email", "phone", "street", "house_number", "postal_code", "city", "country",
           "marketing_consent", "total_revenue")


def _load(con: duckdb.DuckDBPyConnection, warehouse: Path, published: Path, records: pd.DataFrame) -> None:
    con.execute(f"ATTACH '{warehouse}' AS w (READ_ONLY)")
    con.execute(f"ATTACH '{published}' AS p (READ_ONLY)")
    con.register("_truth_records", records[["source", "source_record_id", "person_id"]])
    # The contract puts names typed the wrong way round back: here, where the whole data
    # types the first mostly as a surname and the last mostly as a first name.
    con.execute(
        f"""
        CREATE TEMP TABLE roles AS
        SELECT k, count(*) FILTER (WHERE role = 'first') AS as_first, count(*) FILTER (WHERE role = 'last') AS as_last
        FROM (SELECT {spelling_key('first_name')} AS k, 'first' AS role FROM w.staged_records
              UNION ALL SELECT {spelling_key('last_name')}, 'last' FROM w.staged_records)
        WHERE k IS NOT NULL GROUP BY k
        """
    )
    con.execute(
        f"""
        CREATE TEMP TABLE rec AS
        WITH typed AS (
            SELECT t.person_id, r.* EXCLUDE (first_name, last_name),
                   coalesce(a.as_last > a.as_first AND b.as_first > b.as_last, false) AS swapped,
                   r.first_name AS typed_first, r.last_name AS typed_last
            FROM w.staged_records r JOIN _truth_records t USING (source, source_record_id)
            LEFT JOIN roles a ON a.k = {spelling_key('r.first_name')} LEFT JOIN roles b ON b.k = {spelling_key('r.last_name')}
        ), oriented AS (
            SELECT * EXCLUDE (typed_first, typed_last),
                   CASE WHEN swapped THEN typed_last ELSE typed_first END AS first_name,
                   CASE WHEN swapped THEN typed_first ELSE typed_last END AS last_name
            FROM typed
        )
        SELECT *, {spelling_key('first_name')} AS fk, {spelling_key('last_name')} AS lk,
               {street_display_sql('street')} AS street_display, {house_number_sql('street')} AS house
        FROM oriented
        """
    )


def _expected(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per person: the values the contract's rules give from their records."""
    con.execute(
        """
        CREATE TEMP TABLE first_keys AS
        WITH k AS (SELECT person_id, fk AS key, count(*) AS n FROM rec WHERE fk IS NOT NULL GROUP BY ALL)
        SELECT person_id, key FROM k QUALIFY n = max(n) OVER (PARTITION BY person_id);
        CREATE TEMP TABLE last_keys AS
        WITH anchor AS (SELECT person_id, arg_max(lk, (record_updated_at, record_key)) AS a FROM rec WHERE lk IS NOT NULL GROUP BY ALL),
        k AS (SELECT r.person_id, r.lk AS key, count(*) AS n FROM rec r JOIN anchor USING (person_id)
              WHERE damerau_levenshtein(r.lk, anchor.a) <= CASE WHEN least(length(r.lk), length(anchor.a)) >= 8 THEN 2 ELSE 1 END
              GROUP BY ALL)
        SELECT person_id, key FROM k QUALIFY n = max(n) OVER (PARTITION BY person_id);
        """
    )
    addresses = con.execute(
        """
        WITH latest AS (
            SELECT * FROM rec WHERE street_display IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY person_id ORDER BY record_updated_at DESC NULLS LAST, record_key) = 1
        )
        SELECT person_id, house AS house_number, postal_code, country FROM latest
        """
    ).df()
    phones = con.execute(
        """
        SELECT r.person_id, r.record_key, r.phone, r.record_updated_at,
               coalesce(CASE WHEN r.postal_code IS NOT NULL THEN r.country END, a.country, 'DE') AS region
        FROM rec r LEFT JOIN (SELECT person_id, arg_max(country, (record_updated_at, record_key)) AS country
                              FROM rec WHERE street_display IS NOT NULL GROUP BY ALL) a USING (person_id)
        WHERE r.phone IS NOT NULL
        """
    ).df()
    phones["e164"] = e164(phones["phone"], phones["region"])
    phones = phones.dropna(subset=["e164"]).sort_values(["record_updated_at", "record_key"]).groupby("person_id").last()
    other = con.execute(
        """
        SELECT person_id,
               arg_max(lower(trim(email)), (record_updated_at, record_key)) FILTER (
                   WHERE NOT coalesce(email_bounced, false)
                     AND regexp_matches(lower(trim(email)), '^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$')) AS email,
               coalesce(arg_max(consent_decision, (consent_at, consent_decision <> 'yes'))
                            FILTER (WHERE consent_decision IS NOT NULL AND consent_at IS NOT NULL) = 'yes', false)
                   AS marketing_consent,
               CAST(coalesce(sum(revenue) FILTER (WHERE source IN ('shop', 'pos')), 0) AS DECIMAL(12,2)) AS total_revenue
        FROM rec GROUP BY person_id
        """
    ).df()
    out = other.merge(addresses, on="person_id", how="left").merge(
        phones[["e164"]].rename(columns={"e164": "phone"}), left_on="person_id", right_index=True, how="left")
    return out


def _name_right(con: duckdb.DuckDBPyConnection, role: str) -> pd.DataFrame:
    """(golden_id, right) for the first or last name of every judged golden row."""
    key, typed = ("fk", "first_name") if role == "first" else ("lk", "last_name")
    return con.execute(
        f"""
        WITH spellings AS (
            -- What the person's records type for a key; whether any of them has umlauts.
            SELECT person_id, {key} AS key, lower(trim({typed})) AS spelled,
                   bool_or({HAS_UMLAUT.format(c=typed)}) OVER (PARTITION BY person_id, {key}) AS umlauts
            FROM rec WHERE {key} IS NOT NULL
        )
        SELECT j.golden_id, coalesce(bool_or(
                   {spelling_key(f'c.{typed}')} = k.key AND lower(c.{typed}) = s.spelled
                   AND (NOT s.umlauts OR {HAS_UMLAUT.format(c=f'c.{typed}')})), false)
                   OR (c.{typed} IS NULL AND NOT EXISTS (SELECT 1 FROM {role}_keys x WHERE x.person_id = j.person_id)) AS right
        FROM judged j JOIN p.customers c USING (golden_id)
        LEFT JOIN {role}_keys k ON k.person_id = j.person_id
        LEFT JOIN spellings s ON s.person_id = j.person_id AND s.key = k.key
        GROUP BY j.golden_id, j.person_id, c.{typed}
        """
    ).df()


def _place_right(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """(golden_id, street_right, city_right): spelled as some record there spells them."""
    return con.execute(
        """
        WITH majority AS (
            SELECT postal_code, arg_max(trim(city), n) AS city FROM (
                SELECT postal_code, trim(city) AS city, count(*) AS n FROM rec WHERE city IS NOT NULL GROUP BY ALL)
            GROUP BY postal_code
        )
        SELECT j.golden_id,
               coalesce(bool_or(r.street_display = c.street), c.street IS NULL) AS street_right,
               coalesce(bool_or(trim(r.city) = c.city) OR any_value(m.city) = c.city, c.city IS NULL) AS city_right
        FROM judged j JOIN p.customers c USING (golden_id)
        LEFT JOIN rec r ON r.person_id = j.person_id AND r.postal_code IS NOT DISTINCT FROM c.postal_code
        LEFT JOIN majority m ON m.postal_code = c.postal_code
        GROUP BY j.golden_id, c.street, c.city
        """
    ).df()


def score_against_records(warehouse: Path, published: Path, records: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Share right per column on correctly linked persons and on all golden rows, and
    the unsafe consent count over all golden rows."""
    con = duckdb.connect()
    try:
        _load(con, warehouse, published, records)
        expected = _expected(con)
        con.register("_expected", expected)
        con.execute(
            """
            CREATE TEMP TABLE judged AS
            WITH members AS (
                SELECT s.golden_id, t.person_id FROM p.customer_sources s JOIN _truth_records t USING (source, source_record_id)
                WHERE t.person_id IN (SELECT person_id FROM rec)
            ), per_row AS (
                SELECT golden_id, mode(person_id ORDER BY person_id) AS person_id, count(DISTINCT person_id) AS persons
                FROM members GROUP BY golden_id
            ), rows_of AS (SELECT person_id, count(DISTINCT golden_id) AS rows FROM members GROUP BY person_id)
            SELECT golden_id, person_id, persons = 1 AND rows = 1 AS exact FROM per_row JOIN rows_of USING (person_id)
            """
        )
        frame = con.execute(
            """
            SELECT j.golden_id, j.exact, c.*, e.email AS e_email, e.phone AS e_phone, e.house_number AS e_house_number,
                   e.postal_code AS e_postal_code, e.country AS e_country, e.marketing_consent AS e_marketing_consent,
                   e.total_revenue AS e_total_revenue
            FROM judged j JOIN p.customers c USING (golden_id) JOIN _expected e USING (person_id)
            """
        ).df()
        for role in ("first", "last"):
            frame = frame.merge(_name_right(con, role).rename(columns={"right": f"{role}_name_right"}), on="golden_id")
        frame = frame.merge(_place_right(con), on="golden_id")
    finally:
        con.close()
    same = lambda a, b: (a == b) | (a.isna() & b.isna())  # noqa: E731
    right = {
        "first_name": frame["first_name_right"], "last_name": frame["last_name_right"],
        "email": same(frame["email"], frame["e_email"]), "phone": same(frame["phone"], frame["e_phone"]),
        "street": frame["street_right"], "house_number": same(frame["house_number"], frame["e_house_number"]),
        "postal_code": same(frame["postal_code"], frame["e_postal_code"]), "city": frame["city_right"],
        "country": same(frame["country"], frame["e_country"]),
        "marketing_consent": frame["marketing_consent"].astype(bool) == frame["e_marketing_consent"].astype(bool),
        "total_revenue": (frame["total_revenue"].astype(float) - frame["e_total_revenue"].astype(float)).abs() < 0.005,
    }
    exact = frame["exact"].astype(bool)
    result = {
        "correctly linked": {c: float(right[c][exact].mean()) for c in COLUMNS},
        "all golden rows": {c: float(right[c].mean()) for c in COLUMNS},
    }
    unsafe = frame["marketing_consent"].astype(bool) & ~frame["e_marketing_consent"].astype(bool)
    result["counts"] = {"golden rows judged": len(frame), "correctly linked": int(exact.sum()),
                        "unsafe consent (all golden rows)": int(unsafe.sum()),
                        "unsafe consent (correctly linked)": int((unsafe & exact).sum())}
    return result
