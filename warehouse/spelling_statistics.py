"""How the whole data spells names, streets and places: counted once, kept, read as they are.

The spelling rules (`warehouse/spelling.py`) break ties by what the whole data does: which
spelling of a name most records give, whether a word is mostly a first name or a surname,
which spelling of a street its residents use, which place name a postcode's records give.
Counted anew on every run, those figures move a little with every delivery, and with them
the golden rows of persons whose records did not change at all.

So they are kept like the linkage model's term frequencies: counted over every record when
the model is fitted (or when none are kept, or after an erasure removed records they
counted), stored in the `spelling_*` tables with the model's version, and read as they are
by every run until the next count. A golden row is then a function of the person's records
and these tables alone, which is what lets a run rebuild only the persons it touched
(`warehouse/golden_scope.py`) and still write what a rebuild of everyone would write.

A value no count knows (a street first seen after the count) is spelled by the person's own
records: unknown is zero, never a guess from other persons' records of the day.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from warehouse.connection import table_exists

MIXED_CASE = "({c} <> upper({c}) AND {c} <> lower({c}))"
# How far a spelling may be from the value's current spelling and still be that value
# spelled otherwise: one typo in a short name, two in a long one (`Ostermeier` and
# `Ostermeier-Falkenberg` are two values: the married name is not a typo).
TYPO_DISTANCE = "CASE WHEN least(length({a}), length({b})) >= 8 THEN 2 ELSE 1 END"

STATISTICS_DDL = """
CREATE TABLE IF NOT EXISTS spelling_statistics (model_version VARCHAR, counted_at TIMESTAMP, records BIGINT,
                                                reason VARCHAR)
"""
# Every table a count writes; erasure drops them all (they count the erased person's values).
TABLES = ("spelling_statistics", "spelling_name_roles", "spelling_name_values", "spelling_street_typed",
          "spelling_street_typos", "spelling_streets", "spelling_place_keys", "spelling_places")


def why_count_anew(con: duckdb.DuckDBPyConnection, model_version: str | None) -> str | None:
    """Why the counts must be counted anew, or None when a run may read the kept ones: they
    exist and were counted for the model in force (a warehouse built without linkage has no
    model version and always counts anew)."""
    if model_version is None:
        return "no stored model"
    if not all(table_exists(con, t) for t in TABLES):
        return "no counts kept (first run, or an erasure removed what they counted)"
    rows = con.execute("SELECT model_version FROM spelling_statistics").fetchall()
    return None if rows == [(model_version,)] else "the model was fitted anew"


def record_count(con: duckdb.DuckDBPyConnection, model_version: str | None, counted_at: datetime, reason: str) -> None:
    """Which model the counts just counted belong to, when and why they were counted."""
    con.execute(STATISTICS_DDL)
    records = con.execute("SELECT count(*) FROM golden_membership").fetchall()[0][0]
    con.execute("DELETE FROM spelling_statistics")
    con.execute("INSERT INTO spelling_statistics VALUES (?, ?, ?, ?)", [model_version, counted_at, records, reason])


def drop_counts(con: duckdb.DuckDBPyConnection) -> None:
    """Forget the counts (erasure: they hold the erased person's names and streets)."""
    for table in TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}")


def count_name_roles(con: duckdb.DuckDBPyConnection, typed: str) -> None:
    """`spelling_name_roles(k, as_first, as_last)`: how often the records of `typed`
    (fk, lk: the typed names' letter keys) give each name as a first name and as a surname."""
    con.execute(
        f"""
        CREATE OR REPLACE TABLE spelling_name_roles AS
        SELECT k, count(*) FILTER (WHERE role = 'first') AS as_first, count(*) FILTER (WHERE role = 'last') AS as_last
        FROM (SELECT fk AS k, 'first' AS role FROM {typed} UNION ALL SELECT lk, 'last' FROM {typed})
        WHERE k IS NOT NULL GROUP BY k
        """
    )


def count_name_values(con: duckdb.DuckDBPyConnection, names: str, spelling_key) -> None:
    """`spelling_name_values(role, key, value, n, key_n)`: how many records of `names` give
    each spelling (`value`) of a name, and its key (`spelling_key`) in all its spellings."""
    con.execute(
        f"""
        CREATE OR REPLACE TABLE spelling_name_values AS
        SELECT role, key, value, count(*) AS n, sum(count(*)) OVER (PARTITION BY role, key) AS key_n
        FROM (SELECT 'first' AS role, {spelling_key('first_value')} AS key, first_value AS value FROM {names}
              UNION ALL SELECT 'last', {spelling_key('last_value')}, last_value FROM {names})
        WHERE key IS NOT NULL GROUP BY role, key, value
        """
    )


def count_streets(con: duckdb.DuckDBPyConnection, records: str) -> None:
    """From `records` (postal_code_std, street_key, street_typed, street_display):
    `spelling_street_typed` (each typed street name of a postcode's street with the street's
    residents), `spelling_street_typos` (a street a record or two give beside a spelling one
    typo away that ten times as many records in the same postcode use, at least five: a typo
    of that street) and `spelling_streets` (every street of a postcode with typos folded in:
    its residents' most common spelling and how many they are)."""
    con.execute(
        f"""
        CREATE OR REPLACE TABLE spelling_street_typed AS
        SELECT postal_code_std, street_key, street_typed, count(*) AS n,
               sum(count(*)) OVER (PARTITION BY postal_code_std, street_key) AS residents
        FROM {records} WHERE street_key IS NOT NULL AND street_typed IS NOT NULL AND postal_code_std IS NOT NULL
        GROUP BY postal_code_std, street_key, street_typed
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE spelling_street_typos AS
        {typos_sql("(SELECT * FROM spelling_street_typed WHERE residents <= 2)")}
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE spelling_streets AS
        WITH folded AS (
            SELECT r.postal_code_std, coalesce(t.street_key, r.street_key) AS street_key, r.street_display
            FROM {records} r LEFT JOIN spelling_street_typos t
              ON t.postal_code_std = r.postal_code_std AND t.typo_key = r.street_key
            WHERE r.street_display IS NOT NULL AND r.street_key IS NOT NULL
        )
        SELECT postal_code_std, street_key, street_display,
               sum(count(*)) OVER (PARTITION BY postal_code_std, street_key) AS residents
        FROM folded
        GROUP BY postal_code_std, street_key, street_display
        QUALIFY row_number() OVER (PARTITION BY postal_code_std, street_key
                                   ORDER BY count(*) DESC, regexp_matches(street_display, '[äöüß]') DESC, street_display) = 1
        """
    )


def typos_sql(rare: str) -> str:
    """(postal_code_std, typo_key, street_key): each rare street of `rare` (postal_code_std,
    street_key, street_typed, residents) that is one typo from a street of
    `spelling_street_typed` with at least five and ten times as many residents."""
    return f"""
        SELECT rare.postal_code_std, rare.street_key AS typo_key, common.street_key
        FROM {rare} rare JOIN spelling_street_typed common
          ON common.postal_code_std = rare.postal_code_std AND common.street_key <> rare.street_key
         AND common.residents >= greatest(5, 10 * rare.residents)
         AND (damerau_levenshtein(rare.street_typed, common.street_typed) <= 1
              OR damerau_levenshtein(rare.street_key, common.street_key) <= 1)
        QUALIFY row_number() OVER (PARTITION BY rare.postal_code_std, rare.street_key
                                   ORDER BY common.residents DESC, common.street_key) = 1
    """


def count_places(con: duckdb.DuckDBPyConnection, records: str) -> None:
    """From `records` (postal_code_std, country, city_std, city): `spelling_place_keys`
    (each place key of a postcode and how many records give it) and `spelling_places` (the
    place each key is, as most records of the postcode spell it: `Muenchen`, `Frankfurt
    a.M.` and `Wein` beside `München`, `Frankfurt am Main` and `Wien`; each spelling joins
    the place one typo away that most records of the postcode give)."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _spelled AS
        SELECT postal_code_std, country, city_std, trim(city) AS city, count(*) AS n
        FROM {records} WHERE postal_code_std IS NOT NULL AND city_std IS NOT NULL AND nullif(trim(city), '') IS NOT NULL
        GROUP BY postal_code_std, country, city_std, trim(city)
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TABLE spelling_place_keys AS
        SELECT postal_code_std, country, city_std, sum(n) AS place_n FROM _spelled GROUP BY ALL
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE spelling_places AS
        WITH home AS ({place_home_sql("spelling_place_keys")})
        SELECT h.postal_code_std, h.country, h.city_std, s.city
        FROM home h JOIN _spelled s ON s.postal_code_std = h.postal_code_std AND s.country IS NOT DISTINCT FROM h.country
                                   AND s.city_std = h.home_std
        QUALIFY row_number() OVER (PARTITION BY h.postal_code_std, h.country, h.city_std
                                   ORDER BY s.n DESC, regexp_matches(s.city, '[äöüß]') DESC,
                                            {MIXED_CASE.format(c='s.city')} DESC, s.city) = 1
        """
    )
    con.execute("DROP TABLE _spelled")


def place_home_sql(places: str) -> str:
    """(postal_code_std, country, city_std, home_std): which counted place each place key of
    `places` (postal_code_std, country, city_std, place_n) is: itself, or the most common one
    of its postcode within a typo. A key no count knows has place_n 0."""
    return f"""
        SELECT a.postal_code_std, a.country, a.city_std, b.city_std AS home_std
        FROM {places} a JOIN spelling_place_keys b ON b.postal_code_std = a.postal_code_std
         AND b.country IS NOT DISTINCT FROM a.country
         AND (b.city_std = a.city_std
              OR (b.place_n > a.place_n AND damerau_levenshtein(a.city_std, b.city_std)
                  <= {TYPO_DISTANCE.format(a='a.city_std', b='b.city_std')}))
        QUALIFY row_number() OVER (PARTITION BY a.postal_code_std, a.country, a.city_std
                                   ORDER BY b.place_n DESC, b.city_std) = 1
    """
