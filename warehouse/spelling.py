"""How a golden value is spelled: by evidence, not by whichever record came last.

Recency decides *which* value a person has (the current address, the married name);
evidence decides *how it is spelled*:
- a name: the spelling most of the person's records give; on a tie the one the whole data
  uses most in that role (`Kathatina` once beside `Katharina` a thousand times is a typo);
  then the most recent. Umlauts and ß where any of the person's records with that
  spelling has them, and a spelling with upper and lower case before an all-caps one.
- a record's names typed the wrong way round (`Becker Gunda`) are put back first where
  linkage's standardisation swapped them or where the whole data uses each of the two
  mostly in the other role; the last name is never the first name's spelling (`Anna Anna`)
  when the person's records offer another.
- streets and cities are properties of a place, not of a person: a street spelled once
  beside a spelling one typo away that many records in the same postcode use is that
  street, and a postcode's place name is the spelling most records with that postcode give.
Every choice ends on a stable key (the spelling itself, then the record key), so the same
records give the same spelling on every run.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from linkage.names import display_name_case


def spelling_key(column: str) -> str:
    """Spellings that differ only by umlaut writing, accents or case share this key:
    Müller/Mueller/MULLER."""
    folded = (f"replace(replace(replace(replace(lower(trim({column})), 'ä', 'a'), 'ö', 'o'), 'ü', 'u'), 'ß', 's')")
    return f"nullif(replace(replace(replace(replace(strip_accents({folded}), 'ae', 'a'), 'oe', 'o'), 'ue', 'u'), 'ss', 's'), '')"


def _letters(expression: str) -> str:
    return f"nullif(regexp_replace({expression}, '[^a-z]', '', 'g'), '')"


HAS_UMLAUT = "regexp_matches({c}, '[äöüÄÖÜß]')"
MIXED_CASE = "({c} <> upper({c}) AND {c} <> lower({c}))"
# How far a spelling may be from the value's current spelling and still be that value
# spelled otherwise: one typo in a short name, two in a long one (`Ostermeier` and
# `Ostermeier-Falkenberg` are two values: the married name is not a typo).
TYPO_DISTANCE = "CASE WHEN least(length({a}), length({b})) >= 8 THEN 2 ELSE 1 END"


def build_name_records(con: duckdb.DuckDBPyConnection) -> None:
    """`_name_records`: every member record's first and last name, put back where swapped,
    and `_name_frequency(role, spelling_key, n)` over all staged records."""
    fk, lk = _letters(spelling_key("r.first_name")), _letters(spelling_key("r.last_name"))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _name_typed AS
        SELECT m.golden_id, r.record_key, r.source, r.source_record_id, r.record_updated_at,
               nullif(trim(r.first_name), '') AS first_typed, nullif(trim(r.last_name), '') AS last_typed,
               {fk} AS fk, {lk} AS lk,
               {_letters(spelling_key('f.first_name_std'))} AS std_fk, {_letters(spelling_key('f.last_name_std'))} AS std_lk
        FROM staged_records r JOIN golden_membership m USING (record_key) LEFT JOIN linkage_features f USING (record_key)
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _name_records AS
        WITH roles AS (
            -- How often the whole data types each name as a first name and as a surname.
            SELECT k, count(*) FILTER (WHERE role = 'first') AS as_first, count(*) FILTER (WHERE role = 'last') AS as_last
            FROM (SELECT fk AS k, 'first' AS role FROM _name_typed UNION ALL SELECT lk, 'last' FROM _name_typed)
            WHERE k IS NOT NULL GROUP BY k
        ), judged AS (
            SELECT t.*,
                   t.fk <> t.lk AND (
                       -- linkage's standardisation put them back (features.py) ...
                       (t.fk = t.std_lk AND t.lk = t.std_fk)
                       -- ... or each is clearly a name of the other role in the whole data.
                       OR (rf.as_last >= 2 * (rf.as_first + 1) AND rl.as_first >= 2 * (rl.as_last + 1))) AS swapped
            FROM _name_typed t LEFT JOIN roles rf ON rf.k = t.fk LEFT JOIN roles rl ON rl.k = t.lk
        )
        SELECT golden_id, record_key, source, source_record_id, record_updated_at, swapped,
               CASE WHEN swapped THEN last_typed ELSE first_typed END AS first_value,
               CASE WHEN swapped THEN first_typed ELSE last_typed END AS last_value
        FROM judged
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _name_frequency AS
        SELECT role, key, value, count(*) AS n, sum(count(*)) OVER (PARTITION BY role, key) AS key_n
        FROM (SELECT 'first' AS role, {spelling_key('first_value')} AS key, first_value AS value FROM _name_records
              UNION ALL SELECT 'last', {spelling_key('last_value')}, last_value FROM _name_records)
        WHERE key IS NOT NULL GROUP BY role, key, value
        """
    )
    con.execute("DROP TABLE _name_typed")


def best_name_sql(role: str) -> str:
    """Per golden id, the spelling of the first (`role` 'first') or last name ('last').

    The last name follows the most recent record's value (a marriage shows); its
    candidates are that value's spellings within `TYPO_DISTANCE`, never the chosen first
    name's key (needs `_first` built first) unless nothing else is left.
    """
    column = f"{role}_value"
    key = spelling_key(f"n.{column}")
    if role == "first":
        candidates = "SELECT * FROM v"
    else:
        candidates = f"""
        SELECT v.* FROM v
        JOIN (SELECT v.golden_id, v.spelling_key AS anchor FROM v LEFT JOIN _first f USING (golden_id)
              QUALIFY row_number() OVER (PARTITION BY v.golden_id ORDER BY
                  (v.spelling_key = {spelling_key('f.value')}) IS TRUE ASC,
                  v.record_updated_at DESC NULLS LAST, v.record_key) = 1) a USING (golden_id)
        WHERE damerau_levenshtein(v.spelling_key, a.anchor) <= {TYPO_DISTANCE.format(a='v.spelling_key', b='a.anchor')}"""
    return f"""
    WITH v AS (
        SELECT n.golden_id, n.record_key, trim(n.{column}) AS value, {key} AS spelling_key, n.record_updated_at,
               n.source, n.source_record_id
        FROM _name_records n WHERE {key} IS NOT NULL
    ), candidates AS ({candidates}
    ), keys AS (
        SELECT c.golden_id, c.spelling_key, count(*) AS n, max(c.record_updated_at) AS latest
        FROM candidates c GROUP BY ALL
    ), chosen AS (
        SELECT k.golden_id, k.spelling_key FROM keys k
        LEFT JOIN (SELECT DISTINCT key, key_n FROM _name_frequency WHERE role = '{role}') g ON g.key = k.spelling_key
        QUALIFY row_number() OVER (PARTITION BY k.golden_id
                                   ORDER BY k.n DESC, g.key_n DESC NULLS LAST, k.latest DESC NULLS LAST, k.spelling_key) = 1
    )
    SELECT c.golden_id, c.value, c.source, c.source_record_id
    FROM candidates c JOIN chosen USING (golden_id, spelling_key)
    LEFT JOIN _name_frequency g ON g.role = '{role}' AND g.key = c.spelling_key AND g.value = c.value
    QUALIFY row_number() OVER (
        PARTITION BY c.golden_id
        ORDER BY {HAS_UMLAUT.format(c='c.value')} DESC, {MIXED_CASE.format(c='c.value')} DESC, g.n DESC NULLS LAST,
                 c.record_updated_at DESC NULLS LAST, c.value, c.record_key) = 1
    """


def build_names(con: duckdb.DuckDBPyConnection) -> None:
    """`_first` and `_last` (golden_id, value, source, source_record_id, display)."""
    build_name_records(con)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _first AS {best_name_sql('first')}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _last AS {best_name_sql('last')}")
    # Proper case for display runs once per distinct spelling.
    for table in ("_first", "_last"):
        values = con.execute(f"SELECT DISTINCT value FROM {table}").df()["value"]
        con.register("_cased", pd.DataFrame({"value": values, "display": values.map(display_name_case)}))
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT t.*, c.display FROM {table} t JOIN _cased c USING (value)")
        con.unregister("_cased")
    con.execute("DROP TABLE _name_records; DROP TABLE _name_frequency")


_STREET_SPLIT = r"^(.*?)[\s,]*([0-9]+\s*[a-zA-Z]?(\s*[-/]\s*[0-9]+\s*[a-zA-Z]?)?)$"


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


def street_typed_sql(column: str) -> str:
    """The street's name as typed, lower case, without the house number: `rosensgr.`
    is one typo from `rosenstr.`, though spelled out they look far apart."""
    return (f"nullif(lower(trim(CASE WHEN regexp_matches(trim({column}), '{_STREET_SPLIT}') "
            f"THEN regexp_extract(trim({column}), '{_STREET_SPLIT}', 1) ELSE trim({column}) END)), '')")


def build_street_spellings(con: duckdb.DuckDBPyConnection) -> None:
    """From `_records`: `_streets` (postcode, street key, its residents' most common
    spelling, residents) with typos folded into the street they miss, and `_places`
    (postcode, country, place key, the place name most of its records give)."""
    con.execute(
        """
        -- A street a record or two give beside a spelling one typo away that ten times as
        -- many records in the same postcode use (at least five): a typo of that street.
        CREATE OR REPLACE TEMP TABLE _street_typos AS
        WITH typed AS (
            SELECT postal_code_std, street_key, street_typed, count(*) AS n,
                   sum(count(*)) OVER (PARTITION BY postal_code_std, street_key) AS residents
            FROM _records WHERE street_key IS NOT NULL AND street_typed IS NOT NULL AND postal_code_std IS NOT NULL
            GROUP BY postal_code_std, street_key, street_typed
        )
        SELECT rare.postal_code_std, rare.street_key AS typo_key, common.street_key
        FROM typed rare JOIN typed common
          ON common.postal_code_std = rare.postal_code_std AND common.street_key <> rare.street_key
         AND common.residents >= greatest(5, 10 * rare.residents)
         AND (damerau_levenshtein(rare.street_typed, common.street_typed) <= 1
              OR damerau_levenshtein(rare.street_key, common.street_key) <= 1)
        WHERE rare.residents <= 2
        QUALIFY row_number() OVER (PARTITION BY rare.postal_code_std, rare.street_key
                                   ORDER BY common.residents DESC, common.street_key) = 1
        """
    )
    con.execute(
        """
        UPDATE _records r SET street_key = t.street_key FROM _street_typos t
        WHERE t.postal_code_std = r.postal_code_std AND t.typo_key = r.street_key;
        DROP TABLE _street_typos;
        -- Every street of a postcode: how many records give it, and their most common spelling.
        CREATE OR REPLACE TEMP TABLE _streets AS
        SELECT postal_code_std, street_key, street_display,
               sum(count(*)) OVER (PARTITION BY postal_code_std, street_key) AS residents
        FROM _records
        WHERE street_display IS NOT NULL AND street_key IS NOT NULL
        GROUP BY postal_code_std, street_key, street_display
        QUALIFY row_number() OVER (PARTITION BY postal_code_std, street_key
                                   ORDER BY count(*) DESC, regexp_matches(street_display, '[äöüß]') DESC, street_display) = 1;
        """
    )
    con.execute(
        f"""
        -- A postcode's place, as most of its records spell it (`Muenchen`, `Frankfurt a.M.`
        -- and `Wein` beside `München`, `Frankfurt am Main` and `Wien`): each spelling a
        -- record gives joins the place one typo away that most records of the postcode give.
        CREATE OR REPLACE TEMP TABLE _places AS
        WITH spelled AS (
            SELECT postal_code_std, country, city_std, trim(city) AS city, count(*) AS n,
                   sum(count(*)) OVER (PARTITION BY postal_code_std, country, city_std) AS place_n
            FROM _records WHERE postal_code_std IS NOT NULL AND city_std IS NOT NULL AND nullif(trim(city), '') IS NOT NULL
            GROUP BY postal_code_std, country, city_std, trim(city)
        ), place AS (
            SELECT DISTINCT postal_code_std, country, city_std, place_n FROM spelled
        ), home AS (
            -- Which place each place key of a postcode is: the most common one within a typo.
            SELECT a.postal_code_std, a.country, a.city_std, b.city_std AS home_std
            FROM place a JOIN place b ON b.postal_code_std = a.postal_code_std AND b.country IS NOT DISTINCT FROM a.country
             AND (b.city_std = a.city_std
                  OR (b.place_n > a.place_n AND damerau_levenshtein(a.city_std, b.city_std)
                      <= {TYPO_DISTANCE.format(a='a.city_std', b='b.city_std')}))
            QUALIFY row_number() OVER (PARTITION BY a.postal_code_std, a.country, a.city_std
                                       ORDER BY b.place_n DESC, b.city_std) = 1
        )
        SELECT h.postal_code_std, h.country, h.city_std, s.city
        FROM home h JOIN spelled s ON s.postal_code_std = h.postal_code_std AND s.country IS NOT DISTINCT FROM h.country
                                  AND s.city_std = h.home_std
        QUALIFY row_number() OVER (PARTITION BY h.postal_code_std, h.country, h.city_std
                                   ORDER BY s.n DESC, regexp_matches(s.city, '[äöüß]') DESC,
                                            {MIXED_CASE.format(c='s.city')} DESC, s.city) = 1
        """
    )
