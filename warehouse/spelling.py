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
from warehouse.golden_scope import within
from warehouse.spelling_statistics import (MIXED_CASE, TYPO_DISTANCE, count_name_roles, count_name_values,
                                           count_places, count_streets, place_home_sql, typos_sql)


def spelling_key(column: str) -> str:
    """Spellings that differ only by umlaut writing, accents or case share this key:
    Müller/Mueller/MULLER."""
    folded = (f"replace(replace(replace(replace(lower(trim({column})), 'ä', 'a'), 'ö', 'o'), 'ü', 'u'), 'ß', 's')")
    return f"nullif(replace(replace(replace(replace(strip_accents({folded}), 'ae', 'a'), 'oe', 'o'), 'ue', 'u'), 'ss', 's'), '')"


def _letters(expression: str) -> str:
    return f"nullif(regexp_replace({expression}, '[^a-z]', '', 'g'), '')"


HAS_UMLAUT = "regexp_matches({c}, '[äöüÄÖÜß]')"


def build_name_records(con: duckdb.DuckDBPyConnection, persons: str | None, count: bool) -> None:
    """`_name_records`: the first and last name of every member record of the golden ids in
    `persons` (None: of everyone), put back where swapped. With `count`, first counts how
    the whole data uses each name (`spelling_statistics`: only when `persons` is None)."""
    fk, lk = _letters(spelling_key("r.first_name")), _letters(spelling_key("r.last_name"))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _name_typed AS
        SELECT m.golden_id, r.record_key, r.source, r.source_record_id, r.record_updated_at,
               nullif(trim(r.first_name), '') AS first_typed, nullif(trim(r.last_name), '') AS last_typed,
               {fk} AS fk, {lk} AS lk,
               {_letters(spelling_key('f.first_name_std'))} AS std_fk, {_letters(spelling_key('f.last_name_std'))} AS std_lk
        FROM staged_records r JOIN golden_membership m USING (record_key) LEFT JOIN linkage_features f USING (record_key)
        WHERE {within('m.golden_id', persons)}
        """
    )
    if count:
        count_name_roles(con, "_name_typed")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _name_records AS
        WITH judged AS (
            SELECT t.*,
                   t.fk <> t.lk AND (
                       -- linkage's standardisation put them back (features.py) ...
                       (t.fk = t.std_lk AND t.lk = t.std_fk)
                       -- ... or each is clearly a name of the other role in the whole data.
                       OR (rf.as_last >= 2 * (rf.as_first + 1) AND rl.as_first >= 2 * (rl.as_last + 1))) AS swapped
            FROM _name_typed t LEFT JOIN spelling_name_roles rf ON rf.k = t.fk LEFT JOIN spelling_name_roles rl ON rl.k = t.lk
        )
        SELECT golden_id, record_key, source, source_record_id, record_updated_at, swapped,
               CASE WHEN swapped THEN last_typed ELSE first_typed END AS first_value,
               CASE WHEN swapped THEN first_typed ELSE last_typed END AS last_value
        FROM judged
        """
    )
    if count:
        count_name_values(con, "_name_records", spelling_key)
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
        LEFT JOIN (SELECT DISTINCT key, key_n FROM spelling_name_values WHERE role = '{role}') g ON g.key = k.spelling_key
        QUALIFY row_number() OVER (PARTITION BY k.golden_id
                                   ORDER BY k.n DESC, g.key_n DESC NULLS LAST, k.latest DESC NULLS LAST, k.spelling_key) = 1
    )
    SELECT c.golden_id, c.value, c.source, c.source_record_id
    FROM candidates c JOIN chosen USING (golden_id, spelling_key)
    LEFT JOIN spelling_name_values g ON g.role = '{role}' AND g.key = c.spelling_key AND g.value = c.value
    QUALIFY row_number() OVER (
        PARTITION BY c.golden_id
        ORDER BY {HAS_UMLAUT.format(c='c.value')} DESC, {MIXED_CASE.format(c='c.value')} DESC, g.n DESC NULLS LAST,
                 c.record_updated_at DESC NULLS LAST, c.value, c.record_key) = 1
    """


def build_names(con: duckdb.DuckDBPyConnection, persons: str | None = None, count: bool = True) -> None:
    """`_first` and `_last` (golden_id, value, source, source_record_id, display) of the
    golden ids in `persons` (None: everyone's); `count`: see `build_name_records`."""
    build_name_records(con, persons, count)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _first AS {best_name_sql('first')}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _last AS {best_name_sql('last')}")
    # Proper case for display runs once per distinct spelling.
    for table in ("_first", "_last"):
        values = con.execute(f"SELECT DISTINCT value FROM {table}").df()["value"]
        con.register("_cased", pd.DataFrame({"value": values, "display": values.map(display_name_case)}))
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT t.*, c.display FROM {table} t JOIN _cased c USING (value)")
        con.unregister("_cased")
    con.execute("DROP TABLE _name_records")


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


def build_street_spellings(con: duckdb.DuckDBPyConnection, count: bool = True) -> None:
    """For the records in `_records`: their typo streets folded into the street they miss
    (`street_key` updated), `_streets` (postcode, street key, its residents' most common
    spelling, residents) and `_places` (postcode, country, place key, the place name most of
    its records give). With `count` (`_records` then holds everyone's records), the whole
    data's streets and places are counted first (`spelling_statistics`); a street or place
    no count knows is spelled by the person's own records (`build_address`)."""
    if count:
        count_streets(con, "_records")
        count_places(con, "_records")
    unknown = """(SELECT DISTINCT r.postal_code_std, r.street_key, r.street_typed, 0 AS residents FROM _records r
                  WHERE r.street_key IS NOT NULL AND r.street_typed IS NOT NULL AND r.postal_code_std IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM spelling_street_typed k
                                    WHERE k.postal_code_std = r.postal_code_std AND k.street_key = r.street_key))"""
    # Streets the counts know keep the typo they were counted with; one they do not know
    # (first seen since) has no residents yet, and is a typo of a counted street it misses.
    con.execute(f"CREATE OR REPLACE TEMP TABLE _street_typos AS SELECT * FROM spelling_street_typos "
                f"UNION ALL {typos_sql(unknown)}")
    con.execute(
        """
        UPDATE _records r SET street_key = t.street_key FROM _street_typos t
        WHERE t.postal_code_std = r.postal_code_std AND t.typo_key = r.street_key;
        DROP TABLE _street_typos;
        CREATE OR REPLACE TEMP TABLE _streets AS
        SELECT s.* FROM spelling_streets s SEMI JOIN _records r
          ON r.postal_code_std IS NOT DISTINCT FROM s.postal_code_std AND r.street_key = s.street_key;
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _places AS
        WITH keys AS (
            SELECT DISTINCT r.postal_code_std, r.country, r.city_std, coalesce(k.place_n, 0) AS place_n
            FROM _records r LEFT JOIN spelling_place_keys k ON k.postal_code_std = r.postal_code_std
             AND k.country IS NOT DISTINCT FROM r.country AND k.city_std = r.city_std
            WHERE r.postal_code_std IS NOT NULL AND r.city_std IS NOT NULL AND nullif(trim(r.city), '') IS NOT NULL
        ), home AS ({place_home_sql("(SELECT * FROM keys WHERE place_n = 0)")})
        -- A counted place key is the place it was counted as; one no count knows, the place
        -- it is a typo of (or none: the record's own spelling stands).
        SELECT k.postal_code_std, k.country, k.city_std, coalesce(direct.city, homed.city) AS city
        FROM keys k
        LEFT JOIN spelling_places direct ON direct.postal_code_std = k.postal_code_std
         AND direct.country IS NOT DISTINCT FROM k.country AND direct.city_std = k.city_std
        LEFT JOIN home h ON h.postal_code_std = k.postal_code_std AND h.country IS NOT DISTINCT FROM k.country
         AND h.city_std = k.city_std
        LEFT JOIN spelling_places homed ON homed.postal_code_std = h.postal_code_std
         AND homed.country IS NOT DISTINCT FROM h.country AND homed.city_std = h.home_std
        WHERE coalesce(direct.city, homed.city) IS NOT NULL
        """
    )
