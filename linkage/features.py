"""Standardised comparison values for every staged record (`linkage_features`).

Folding, splitting and cleaning are SQL over the records built (all of them, or those a
delivery reaches: linkage/feature_scope.py); only what needs a library or an algorithm SQL
lacks (E.164 via phonenumbers, Kölner Phonetik) runs in Python, once per *distinct* value,
and is joined back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from linkage.feature_hash import FEATURE_HASH, hash_of_columns_sql, refresh_feature_hash
from linkage.feature_scope import (can_build_in_part, drop_scope_tables, find_changed_inputs, forget_build,
                                   names_of_everyone, remember_everything, remember_part, scope_of_names,
                                   staged_inputs_sql, stored)
from linkage.name_variants import VARIANTS_OF_SQL, learn_first_name_variants, learn_variant_pairs, stored_variants_exist
from linkage.names import fold_sql, koelner_phonetik
from sources.identifiers import e164, email_key_sql
from sources.differences import store, table_columns

_TITLE_RE = r"(^|\s)(dr|prof|dipl)\.?(-ing\.?)?(\s|$)"


def _name_sql(column: str) -> str:
    # Twice: `Prof. Dr.` is two titles sharing the space between them.
    cleaned = f"regexp_replace({fold_sql(column)}, '{_TITLE_RE}', ' ', 'g')"
    cleaned = f"regexp_replace({cleaned}, '{_TITLE_RE}', ' ', 'g')"
    cleaned = f"regexp_replace({cleaned}, '[^a-z\\- ]', '', 'g')"
    return f"nullif(trim(regexp_replace({cleaned}, '\\s+', ' ', 'g')), '')"


_STREET_SPLIT = r"^(.*?)[\s,]*([0-9]+\s*[a-z]?(\s*[-/]\s*[0-9]+\s*[a-z]?)?)$"
# Email local part: for Gmail dots and +tags do not change the mailbox.
_EMAIL_LOCAL = ("CASE WHEN split_part({0}, '@', 2) = 'gmail.com' "
                "THEN replace(split_part(split_part({0}, '@', 1), '+', 1), '.', '') ELSE split_part({0}, '@', 1) END")

FEATURES_SQL = f"""
CREATE OR REPLACE TEMP TABLE linkage_features AS
WITH base AS (
    SELECT s.*,
        {_name_sql('s.first_name')} AS first_name_std,
        {_name_sql('s.last_name')} AS last_name_std,
        nullif(trim(regexp_replace({fold_sql('s.street')}, '[.,]', ' ', 'g')), '') AS street_folded,
        {email_key_sql('s.email')} AS email_lower
    FROM (__STAGED_INPUTS__) s
), street AS (
    SELECT *,
        CASE WHEN regexp_matches(street_folded, '{_STREET_SPLIT}')
             THEN regexp_extract(street_folded, '{_STREET_SPLIT}', 1) ELSE street_folded END AS street_name,
        CASE WHEN regexp_matches(street_folded, '{_STREET_SPLIT}')
             THEN replace(regexp_extract(street_folded, '{_STREET_SPLIT}', 2), ' ', '') END AS house_number
    FROM base
), mail AS (
    SELECT *, CASE WHEN regexp_matches(email_lower, '^[^@\\s]+@[^@\\s]+\\.[a-z]{{2,}}$') THEN email_lower END AS email_valid
    FROM street
)
SELECT
    record_key, source, source_record_id,
    -- `Hans-Peter` and `Hans Peter` are one first name.
    replace(first_name_std, '-', ' ') AS first_name_std,
    last_name_std,
    CASE salutation WHEN 'Herr' THEN 'herr' WHEN 'Frau' THEN 'frau' WHEN 'Divers' THEN 'divers' END AS salutation_std,
    CASE salutation WHEN 'Herr' THEN 'm' WHEN 'Frau' THEN 'f' END AS gender,
    email_valid AS email_std,
    {_EMAIL_LOCAL.format('email_valid')} AS email_local,
    split_part(email_valid, '@', 2) AS email_domain,
    coalesce(email_bounced, false) AS email_bounced,
    phone AS phone_raw,
    nullif(trim(regexp_replace(
        regexp_replace(regexp_replace(street_name, '(str)(\\s|$)', 'strasse\\2', 'g'), '(pl)(\\s|$)', 'platz\\2', 'g'),
        '[\\s\\-]+', ' ', 'g')), '') AS street_std,
    house_number,
    nullif(regexp_replace(postal_code, '[^0-9]', '', 'g'), '') AS postal_code,
    nullif(trim(regexp_replace(regexp_replace(regexp_replace({fold_sql('city')}, '\\(.*?\\)', '', 'g'),
        '\\s+a\\.?\\s?m\\.?(\\s|$)', ' am main ', 'g'), '\\s+', ' ', 'g')), '') AS city_std,
    upper(country) AS country,
    birth_date,
    customer_number_ref,
    CASE WHEN source IN ('shop', 'pos') THEN upper(source_record_id) END AS own_customer_number,
    -- A mailbox like `aynur.friedegger77@` spells a name: its letters let a name-less
    -- subscriber meet the named records (`_names_from_mailbox`, the mailbox rules).
    nullif(regexp_replace({_EMAIL_LOCAL.format('email_valid')}, '[^a-z]', '', 'g'), '') AS email_letters,
    false AS names_from_mailbox,
    false AS first_from_mailbox,
    false AS last_from_mailbox
FROM mail
"""


def features_sql(scope: str | None = None) -> str:
    """`FEATURES_SQL` over the staged records in `scope` (a table of record keys), or all."""
    return FEATURES_SQL.replace("__STAGED_INPUTS__", staged_inputs_sql(scope))


def _number_shape(column: str) -> str:
    return f"regexp_replace({column}, '[0-9]', '9', 'g')"


def _phonetic_codes(con: duckdb.DuckDBPyConnection, column: str, table: str) -> None:
    """`table(v, code)`: the Kölner Phonetik code of each distinct value of `column`."""
    values = con.execute(f"SELECT DISTINCT {column} AS v FROM linkage_features WHERE {column} IS NOT NULL").df()["v"]
    con.register("_codes", pd.DataFrame({"v": values.astype(object), "code": values.map(koelner_phonetik).astype(object)}))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT v::VARCHAR AS v, code::VARCHAR AS code FROM _codes")
    con.unregister("_codes")


def _create_name_roles(con: duckdb.DuckDBPyConnection, table: str, spelling: str, min_length: int = 1,
                       names: str = "linkage_features") -> None:
    """`table(name, as_first, as_last)`: how often each name is given as a first name and
    as a surname across all records (of `names`), names spelled by `spelling` (a format string)."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT name, count(*) FILTER (WHERE role = 'first') AS as_first, count(*) FILTER (WHERE role = 'last') AS as_last
        FROM (SELECT {spelling.format('first_name_std')} AS name, 'first' AS role FROM {names}
              UNION ALL SELECT {spelling.format('last_name_std')}, 'last' FROM {names})
        WHERE length(name) >= {min_length} GROUP BY name
        """
    )


_LETTERS = "regexp_replace({}, '[^a-z]', '', 'g')"


def _mostly_surname(roles: str = "") -> str:
    """A name the data uses mostly as a surname (over the columns of `_create_name_roles`,
    qualified by `roles` where a query joins that table twice)."""
    prefix = f"{roles}." if roles else ""
    return f"{prefix}as_last >= 3 * ({prefix}as_first + 1)"


# A name the data uses mostly as a first name (unqualified: only one roles table in those queries).
_MOSTLY_FIRST_NAME = "as_first >= 3 * (as_last + 1)"


def _put_swapped_names_back(con: duckdb.DuckDBPyConnection, names: str = "linkage_features") -> None:
    """`Müller, Sabine` typed the wrong way round, and `Thorsten` alone typed as a surname:
    the names take the places the whole data gives them.

    Where the surname field holds a name that is, across all records, mostly a first name, and
    the first name is mostly a surname, the two change places. A rare surname (two or three
    records of one person) is not *mostly* anything by count, so for the first name it is
    enough that the other records know it only as a surname (`Wannwirth Andi` at the hotline,
    `Andi Wannwirth` in the newsletter). A lone name in the surname field that is mostly a
    first name becomes the first name (`Herr Günter`, `Thorsten` as an agent typed them).
    The data itself says which names are which, for any language; a name seen too rarely to
    tell is left as it is (the comparisons still notice a swap). `names`: the table of every
    record's names (its `first_name_std`, `last_name_std`) the rule reads and corrects.
    """
    _create_name_roles(con, "_name_roles", "{}", names=names)
    # The few records to swap first, then one UPDATE from them: a join condition with a
    # subquery per row made the UPDATE the slowest part of standardising.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _swapped AS
        WITH typed AS (
            SELECT f.record_key, f.first_name_std, f.last_name_std,
                   -- `Seifert-Meyer, Evelyn`: a double surname is known by its first part, unless
                   -- the data knows it whole as a surname. (The whole is always among the
                   -- names, as this record's first name, so being there says nothing.)
                   CASE WHEN {_mostly_surname()} OR NOT contains(f.first_name_std, ' ')
                        THEN f.first_name_std ELSE split_part(f.first_name_std, ' ', 1) END AS first_as_known
            FROM {names} f LEFT JOIN _name_roles w ON w.name = f.first_name_std
            WHERE f.first_name_std IS NOT NULL AND f.last_name_std IN (SELECT name FROM _name_roles WHERE {_MOSTLY_FIRST_NAME})
        )
        SELECT record_key, first_name_std, last_name_std, first_as_known = first_name_std AS whole_name_known
        FROM typed t JOIN _name_roles k ON k.name = t.first_as_known
        -- The record's own first name is among the first names counted when it is the whole.
        WHERE {_mostly_surname('k')}
           OR (k.as_last >= 1 AND k.as_first = CASE WHEN t.first_as_known = t.first_name_std THEN 1 ELSE 0 END)
        UNION ALL
        SELECT record_key, NULL, last_name_std, true FROM {names}
        WHERE first_name_std IS NULL AND last_name_std IN (SELECT name FROM _name_roles WHERE {_MOSTLY_FIRST_NAME})
        """
    )
    con.execute(
        f"""
        UPDATE {names} f SET first_name_std = replace(s.last_name_std, '-', ' '),
            -- A double surname's hyphen became a space in the first-name field.
            last_name_std = CASE WHEN s.whole_name_known THEN s.first_name_std ELSE replace(s.first_name_std, ' ', '-') END
        FROM _swapped s WHERE f.record_key = s.record_key
        """
    )
    con.execute("DROP TABLE _swapped")
    con.execute("DROP TABLE _name_roles")


def _names_from_mailbox(con: duckdb.DuckDBPyConnection, names: str = "linkage_features") -> None:
    """A record without a first or last name gets it from its mailbox when the mailbox is
    made of names the data knows in that role: `ljiljana.ackerbach@` next to the surname
    `Ackerbach` says `Ljiljana`; a name-less `andreaskoppbach17@` says `Andreas Koppbach`.

    Only names other records carry count (a first name must be used mostly as one, a
    surname likewise), so `familie.` or `info` never become a name. The names are for
    comparison only: the golden record shows what the person typed. `names`: the table of
    every record's names, mailbox letters and `*_from_mailbox` marks the rule reads and fills.
    """
    _create_name_roles(con, "_roles", _LETTERS, min_length=3, names=names)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _mailbox_names AS
        WITH open AS (
            -- The names it has, in letters only, as the mailbox would spell them.
            SELECT record_key, {_LETTERS.format('first_name_std')} AS f, {_LETTERS.format('last_name_std')} AS l,
                   email_letters AS e
            FROM {names}
            WHERE email_letters IS NOT NULL AND (first_name_std IS NULL OR last_name_std IS NULL)
        ), cuts AS (
            -- Every way to cut the mailbox's letters in two, both parts at least 3 letters.
            SELECT record_key, f, l, e, e[:i] AS head, e[i + 1:] AS tail
            FROM (SELECT *, unnest(range(3, length(e) - 2)) AS i FROM open)
        ), named AS (
            SELECT c.*,
                   hf.as_first > hf.as_last AS head_first, hf.as_last > hf.as_first AS head_last,
                   tf.as_first > tf.as_last AS tail_first, tf.as_last > tf.as_first AS tail_last,
                   -- A reading is as good as its rarer part: `amuel` + `ler` (each a typo a
                   -- few records carry) is no reading of `amueller@`.
                   least(greatest(coalesce(hf.as_first, 0), coalesce(hf.as_last, 0)),
                         greatest(coalesce(tf.as_first, 0), coalesce(tf.as_last, 0))) AS seen
            FROM cuts c LEFT JOIN _roles hf ON hf.name = c.head LEFT JOIN _roles tf ON tf.name = c.tail
        ), initial AS (
            -- The commonest German mailbox is an initial and a surname (`amueller@`,
            -- `muellera@`): where that reads better than any cut into two names, the
            -- mailbox gives the surname and no first name.
            SELECT o.record_key, r.name AS surname, r.as_last AS seen
            FROM (SELECT record_key, e[2:] AS rest FROM open WHERE f IS NULL AND l IS NULL
                  UNION ALL SELECT record_key, e[:-2] FROM open WHERE f IS NULL AND l IS NULL) o
            JOIN _roles r ON r.name = o.rest AND r.as_last > r.as_first
            QUALIFY row_number() OVER (PARTITION BY o.record_key ORDER BY r.as_last DESC, r.name) = 1
        ), whole AS (
            -- `heinzjoachim@` is a double first name, not Joachim Heinz.
            SELECT o.record_key, r.as_first > r.as_last AS is_first, r.as_last > r.as_first AS is_last
            FROM open o JOIN _roles r ON r.name = o.e
        ), found AS (
            SELECT record_key, f, l,
                   CASE WHEN f IS NULL AND tail = l AND head_first THEN head
                        WHEN f IS NULL AND head = l AND tail_first THEN tail
                        WHEN f IS NULL AND l IS NULL AND head_first AND tail_last THEN head
                        WHEN f IS NULL AND l IS NULL AND tail_first AND head_last THEN tail END AS first_found,
                   CASE WHEN l IS NULL AND head = f AND tail_last THEN tail
                        WHEN l IS NULL AND tail = f AND head_last THEN head
                        WHEN l IS NULL AND f IS NULL AND head_first AND tail_last THEN tail
                        WHEN l IS NULL AND f IS NULL AND tail_first AND head_last THEN head END AS last_found,
                   seen
            FROM named WHERE record_key NOT IN (SELECT record_key FROM whole)
        ), best AS (
            SELECT record_key, first_found, last_found, seen FROM found
            WHERE first_found IS NOT NULL OR last_found IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY record_key ORDER BY seen DESC, first_found, last_found) = 1
        )
        SELECT record_key, CASE WHEN NOT by_initial THEN first_found END AS first_found,
               CASE WHEN by_initial THEN surname ELSE last_found END AS last_found
        FROM (SELECT coalesce(b.record_key, i.record_key) AS record_key, b.first_found, b.last_found, i.surname,
                     i.record_key IS NOT NULL AND (b.record_key IS NULL OR i.seen >= b.seen) AS by_initial
              FROM best b FULL JOIN (SELECT * FROM initial WHERE record_key NOT IN (SELECT record_key FROM whole)) i
                USING (record_key))
        UNION ALL
        SELECT w.record_key, CASE WHEN w.is_first AND o.f IS NULL THEN o.e END, CASE WHEN w.is_last AND o.l IS NULL THEN o.e END
        FROM whole w JOIN open o USING (record_key)
        WHERE (w.is_first AND o.f IS NULL) OR (w.is_last AND o.l IS NULL)
        """
    )
    con.execute(
        f"""
        -- Which of the two names the mailbox gave (the other may be typed): two names read
        -- from two mailboxes compare otherwise than two typed ones (linkage/settings.py).
        UPDATE {names} f SET first_name_std = coalesce(f.first_name_std, m.first_found),
                                      last_name_std = coalesce(f.last_name_std, m.last_found),
                                      names_from_mailbox = true,
                                      first_from_mailbox = f.first_name_std IS NULL AND m.first_found IS NOT NULL,
                                      last_from_mailbox = f.last_name_std IS NULL AND m.last_found IS NOT NULL
        FROM _mailbox_names m WHERE f.record_key = m.record_key
        """
    )
    con.execute("DROP TABLE _roles; DROP TABLE _mailbox_names")


FIRST_NAME_FORMS = Path(__file__).parent / "data" / "first_name_forms.csv"


def _first_name_form_groups(con: duckdb.DuckDBPyConnection) -> None:
    """`_forms_of(form, names)`: the full names a first name is a usual short form of, and
    itself (`hans` -> [johann, johannes]); `Sepp` and `Josef` are one person's names."""
    groups = pd.read_csv(FIRST_NAME_FORMS, dtype=str)
    forms = pd.concat([
        pd.DataFrame({"form": groups["name"], "name": groups["name"]}),
        groups.assign(form=groups["short_forms"].str.split()).explode("form")[["form", "name"]],
    ])
    con.register("_forms", forms)
    con.execute("CREATE OR REPLACE TEMP TABLE _forms_of AS "
                "SELECT form::VARCHAR AS form, list(DISTINCT name::VARCHAR ORDER BY name::VARCHAR) AS names FROM _forms GROUP BY form")
    con.unregister("_forms")


# An e-mail address that records with clearly different first names give is a
# household's (`familie.weber@`): like a shared landline, it says who lives together, not
# who is who. The addresses, from the features table `{table}`:
_SHARED_MAILBOXES_SQL = """
    SELECT a.email_std FROM {table} a JOIN {table} b
      ON a.email_std = b.email_std AND a.record_key < b.record_key
    WHERE NOT a.names_from_mailbox AND NOT b.names_from_mailbox
      AND jaro_winkler_similarity(a.first_name_std, b.first_name_std) < 0.8
      AND NOT starts_with(a.first_name_std, b.first_name_std) AND NOT starts_with(b.first_name_std, a.first_name_std)
      -- Names typed the wrong way round on one side (`Meyerhoff, Evelyn`), either side.
      AND a.first_name_std IS DISTINCT FROM b.last_name_std AND b.first_name_std IS DISTINCT FROM a.last_name_std
      -- One person's names in two forms (`Tina`, `Martina`; `HP`, `Hans Peter`) are not two people.
      AND NOT coalesce(list_contains(a.first_name_variants, b.first_name_key), false)
      AND NOT coalesce(list_has_any(a.first_name_forms, b.first_name_forms), false)
      -- `Andfea` and `Amdrea` are one name typed badly twice.
      AND damerau_levenshtein(a.first_name_key, b.first_name_key) > 2
      AND a.first_name_key IS DISTINCT FROM b.first_name_initials
      AND b.first_name_key IS DISTINCT FROM a.first_name_initials
"""


def _mark_shared_mailboxes(con: duckdb.DuckDBPyConnection) -> None:
    """`email_shared` of the stored features anew (a re-fit learned other first-name variants)."""
    con.execute(f"UPDATE linkage_features SET email_shared = coalesce(email_std IN "
                f"({_SHARED_MAILBOXES_SQL.format(table='linkage_features')}), false)")


# The rows just built (the temporary `linkage_features`), each with its learned first-name variants.
_WITH_VARIANTS = """SELECT l.*, v.names AS first_name_variants FROM temp.main.linkage_features l
                    LEFT JOIN _variants_of v ON v.name = l.first_name_key"""


def _finish(con: duckdb.DuckDBPyConnection) -> None:
    """`_built_features`: the built features with each row's learned first-name variants,
    its shared-mailbox mark and, last, its `feature_hash`, in one pass (an UPDATE of every
    row for each of the first two, then a copy to add the hash, took twice as long)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _variants_of AS {VARIANTS_OF_SQL}")
    # Only an address two records give can be shared.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _shared_mailboxes AS
        WITH given AS ({_WITH_VARIANTS} WHERE l.email_std IN (
            SELECT email_std FROM temp.main.linkage_features GROUP BY email_std HAVING count(*) > 1))
        {_SHARED_MAILBOXES_SQL.format(table="given")}
        """
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _built_features AS {_marked_and_hashed(con, _WITH_VARIANTS)}")
    con.execute("DROP TABLE temp.main.linkage_features; DROP TABLE _shared_mailboxes; DROP TABLE _variants_of")


def _marked_and_hashed(con: duckdb.DuckDBPyConnection, rows: str) -> str:
    """SQL: `rows` (the built columns and the variants) with the mark of `_shared_mailboxes` and the row's hash."""
    columns = [*table_columns(con, "linkage_features", "temp"), "first_name_variants", "email_shared"]
    return f"""SELECT *, {hash_of_columns_sql(columns)} AS {FEATURE_HASH} FROM (
                   SELECT *, coalesce(email_std IN (SELECT email_std FROM _shared_mailboxes), false) AS email_shared
                   FROM ({rows}))"""


# The columns the household rule (`_SHARED_MAILBOXES_SQL`) reads.
_MAILBOX_RULE_COLUMNS = ("record_key, email_std, names_from_mailbox, first_name_std, last_name_std, first_name_variants, "
                         "first_name_key, first_name_forms, first_name_initials")


# A stored row the build in part neither rebuilds nor removes.
_UNTOUCHED = "record_key NOT IN (SELECT record_key FROM _scope) AND record_key NOT IN (SELECT record_key FROM _gone)"


def _finish_in_part(con: duckdb.DuckDBPyConnection) -> None:
    """`_finish` for a build in part: `_built_features` holds the rows of `_scope` and, beside
    them, the stored rows of other records whose household mark moved (an address a
    rebuilt or gone record gives or gave), with their hash anew."""
    features = stored("linkage_features", con)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _variants_of AS {VARIANTS_OF_SQL}")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _addresses AS
        SELECT email_std FROM temp.main.linkage_features WHERE email_std IS NOT NULL
        UNION SELECT email_std FROM {features} WHERE email_std IS NOT NULL
            AND (record_key IN (SELECT record_key FROM _scope) OR record_key IN (SELECT record_key FROM _gone))
        """
    )
    # Everyone who gives one of those addresses now: the rows built and the stored rows of the others.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _mail_group AS
        SELECT {_MAILBOX_RULE_COLUMNS} FROM ({_WITH_VARIANTS}) WHERE email_std IN (SELECT email_std FROM _addresses)
        UNION ALL
        SELECT {_MAILBOX_RULE_COLUMNS} FROM {features} WHERE email_std IN (SELECT email_std FROM _addresses)
            AND {_UNTOUCHED}
        """
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _shared_mailboxes AS {_SHARED_MAILBOXES_SQL.format(table='_mail_group')}")
    columns = table_columns(con, "linkage_features")
    kept = ", ".join(f'"{c}"' for c in columns if c not in ("email_shared", FEATURE_HASH))
    remarked = f"""
        SELECT {kept}, now_shared AS email_shared FROM (
            SELECT *, coalesce(email_std IN (SELECT email_std FROM _shared_mailboxes), false) AS now_shared FROM {features}
            WHERE email_std IN (SELECT email_std FROM _addresses)
              AND {_UNTOUCHED})
        WHERE now_shared <> email_shared"""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _built_features AS
        {_marked_and_hashed(con, _WITH_VARIANTS)}
        UNION ALL BY NAME
        SELECT *, {hash_of_columns_sql(columns)} AS {FEATURE_HASH} FROM ({remarked})
        """
    )
    con.execute("DROP TABLE temp.main.linkage_features; DROP TABLE _shared_mailboxes; DROP TABLE _variants_of; "
                "DROP TABLE _addresses; DROP TABLE _mail_group")


def relearn_first_name_variants(con: duckdb.DuckDBPyConnection) -> bool:
    """On a re-fit, when the features were built with the variants stored with the last
    model: the variants learned anew from today's records, and the mailboxes they make a
    household's (`email_shared` depends on them); the stored `linkage_features` updated.
    Returns whether anything was learned anew."""
    if not stored_variants_exist(con):
        return False
    # The rows now carry variants the stored model does not (until the re-fit stores its
    # own): a run that stops before then leaves no build to continue in part from.
    forget_build(con)
    con.execute("UPDATE linkage_features SET first_name_variants = NULL")
    learn_first_name_variants(con, use_stored=False)
    _mark_shared_mailboxes(con)
    refresh_feature_hash(con, "linkage_features")
    return True


def _remember_parsed_phones(con: duckdb.DuckDBPyConnection) -> None:
    """`_known_phones(phone_raw, e164)`: the numbers the last build parsed, from its
    `linkage_features` (parsing each distinct number is a third of standardising, and a
    delivery day brings few new ones). Kept in the features, so an erased record's number
    goes with its row."""
    columns = {c for (c,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'linkage_features' AND schema_name = 'main'").fetchall()}
    source = ("SELECT DISTINCT phone_raw, phone_e164 AS e164 FROM linkage_features WHERE phone_raw IS NOT NULL"
              if {"phone_raw", "phone_e164"} <= columns else "SELECT NULL::VARCHAR AS phone_raw, NULL::VARCHAR AS e164 LIMIT 0")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _known_phones AS {source}")


@dataclass
class FeatureBuild:
    records: int
    # The rows written anew: every record's, or a build in part's scope (linkage/feature_scope.py)
    # and the other rows whose household mark it moved.
    rebuilt: int
    in_part: bool


def build_features(con: duckdb.DuckDBPyConnection, everything: bool = False) -> FeatureBuild:
    """(Re)build `linkage_features` from `staged_records` and `staged_sensitive`: only the
    records a delivery changed and those the change reaches when the stored features allow
    it (linkage/feature_scope.py), else, or with `everything`, every record."""
    _remember_parsed_phones(con)
    in_part = not everything and can_build_in_part(con)
    rebuilt = _build_in_part(con) if in_part else _build_everything(con)
    records = con.execute("SELECT count(*) FROM linkage_features").fetchall()[0][0]
    return FeatureBuild(records, rebuilt, in_part)


# The names as typed of the rows just built (the temporary `linkage_features`), before the
# rules across records move them: what `linkage_feature_inputs` keeps.
_TYPED_SQL = "CREATE OR REPLACE TEMP TABLE _typed AS SELECT record_key, first_name_std, last_name_std FROM linkage_features"


def _build_everything(con: duckdb.DuckDBPyConnection) -> int:
    con.execute(features_sql())
    # The names as typed, before the rules across records move them: a later build in part
    # runs those rules again over everyone's (linkage/feature_scope.py).
    con.execute(_TYPED_SQL)
    # The two steps that look across all records change names; what is derived from the
    # names comes after them, in one pass.
    _put_swapped_names_back(con)
    _names_from_mailbox(con)
    _derive_keys(con)
    learn_variant_pairs(con)
    _finish(con)
    rebuilt = con.execute("SELECT count(*) FROM _built_features").fetchall()[0][0]
    # The bookkeeping goes first and comes back last: a build that stops half-way leaves
    # none, and the next one builds everything.
    forget_build(con)
    _store(con)
    remember_everything(con, "_typed")
    con.execute("DROP TABLE _typed")
    return rebuilt


def _build_in_part(con: duckdb.DuckDBPyConnection) -> int:
    """The build of linkage/feature_scope.py: the same rows as `_build_everything`'s, built
    for the records whose inputs or names moved. Returns how many were built."""
    find_changed_inputs(con)
    con.execute(features_sql("_typed_scope"))
    con.execute(_TYPED_SQL)
    # The rules across records over everyone's names alone, then the rows whose names moved built too.
    names_of_everyone(con, "temp.main.linkage_features")
    _put_swapped_names_back(con, "_names")
    _names_from_mailbox(con, "_names")
    scope_of_names(con)
    con.execute(features_sql("_scope"))
    con.execute(
        """
        UPDATE linkage_features f SET first_name_std = n.first_name_std, last_name_std = n.last_name_std,
            names_from_mailbox = n.names_from_mailbox, first_from_mailbox = n.first_from_mailbox,
            last_from_mailbox = n.last_from_mailbox
        FROM _names n WHERE f.record_key = n.record_key
        """
    )
    _derive_keys(con)
    learn_variant_pairs(con)
    _finish_in_part(con)
    rebuilt = con.execute("SELECT count(*) FROM _built_features").fetchall()[0][0]
    forget_build(con)
    store(con, "linkage_features", "_built_features", "record_key", compare=FEATURE_HASH,
          within="t.record_key IN (SELECT record_key FROM temp.main._built_features) "
                 "OR t.record_key IN (SELECT record_key FROM _gone)")
    remember_part(con, "_typed")
    con.execute("DROP TABLE _typed")
    drop_scope_tables(con)
    return rebuilt


def _parsed_phones(con: duckdb.DuckDBPyConnection) -> None:
    """`_phones(phone_raw, e164)` for every number, parsing only those the last build did
    not (`_known_phones`)."""
    phones = con.execute(
        "SELECT DISTINCT phone_raw FROM linkage_features WHERE phone_raw IS NOT NULL "
        "AND phone_raw NOT IN (SELECT phone_raw FROM _known_phones)").df()["phone_raw"]
    con.register("_parsed", pd.DataFrame({"phone_raw": phones.astype(object), "e164": pd.Series(e164(phones), dtype=object)}))
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _phones AS
        SELECT phone_raw, min(e164) AS e164 FROM (
            SELECT phone_raw::VARCHAR AS phone_raw, e164::VARCHAR AS e164 FROM _parsed
            UNION ALL SELECT phone_raw, e164 FROM _known_phones)
        GROUP BY phone_raw
        """
    )
    con.unregister("_parsed")
    con.execute("DROP TABLE _known_phones")


# `linkage_features` in the order of its columns (the feature hashes of linkage/delta.py
# and the fingerprints of clustering.py read whole rows, so the order is part of them):
# the names and streets as the comparisons read them (no spaces, letters only, initials,
# sounds), the phone as E.164, the ways the names are written into a mailbox, the usual
# full forms of a first name. A projection, not a dozen column-wise UPDATEs, which on a
# table just built cost four times as much.
_DERIVED_SQL = """
CREATE OR REPLACE TEMP TABLE linkage_features AS
WITH named AS (
    SELECT *, replace(first_name_std, ' ', '') AS first_key,
           regexp_replace(first_name_std, '[^a-z]', '', 'g') AS first_letters,
           regexp_replace(last_name_std, '[^a-z]', '', 'g') AS last_letters
    FROM linkage_features
)
SELECT
    f.record_key, f.source, f.source_record_id, f.first_name_std, f.last_name_std,
    -- `Schmidt-Weiß` meets `Schmidt` and `Weiß`.
    CASE WHEN contains(f.last_name_std, '-') THEN split_part(f.last_name_std, '-', 1) ELSE f.last_name_std END AS last_name_part1,
    CASE WHEN contains(f.last_name_std, '-') THEN nullif(split_part(f.last_name_std, '-', -1), '') END AS last_name_part2,
    pf.code AS first_name_phon, pl.code AS last_name_phon,
    f.salutation_std, f.gender, f.email_std, f.email_local, f.email_domain, f.email_bounced, f.phone_raw,
    p.e164 AS phone_e164,
    -- German, Austrian and Swiss mobile ranges: a mobile is one person's, a landline a household's.
    regexp_matches(p.e164, '^\\+(491[567]|436|417[5-9])') AS phone_is_mobile,
    -- `Karl-Marx-Str.` and `Karlmarxstraße`, `Haupt Str.` and `Hauptstraße` are one street.
    f.street_std, f.house_number, replace(f.street_std, ' ', '') AS street_key, ps.code AS street_phon,
    f.postal_code, f.city_std, f.country, f.birth_date, f.customer_number_ref, f.own_customer_number,
    f.email_letters,
    CASE WHEN f.first_letters <> '' AND f.last_letters <> '' AND NOT f.names_from_mailbox
         THEN [f.first_letters || f.last_letters, f.last_letters || f.first_letters, f.first_letters[1] || f.last_letters]
    END AS name_spellings,
    f.names_from_mailbox, f.first_from_mailbox, f.last_from_mailbox,
    -- `Hans Werner` and the mailbox's `hanswerner` are one first name.
    f.first_key AS first_name_key,
    -- `HP` for `Hans Peter`.
    CASE WHEN contains(f.first_name_std, ' ') THEN list_aggregate(
        list_transform(string_split(f.first_name_std, ' '), lambda x: x[1]), 'string_agg', '') END AS first_name_initials,
    -- The surname's letters, as a mailbox spells it (`seifertmeyer`).
    nullif(f.last_letters, '') AS last_name_key,
    -- A number's shape (`S-999999`, `K-9999999`) tells which system it belongs to.
    {ref_shape} AS customer_number_ref_shape,
    {own_shape} AS own_customer_number_shape,
    g.names AS first_name_forms
FROM named f
LEFT JOIN _first_codes pf ON pf.v = f.first_name_std
LEFT JOIN _last_codes pl ON pl.v = f.last_name_std
LEFT JOIN _street_codes ps ON ps.v = f.street_std
LEFT JOIN _phones p ON p.phone_raw = f.phone_raw
LEFT JOIN _forms_of g ON g.form = f.first_key
"""


def _derive_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Everything a record's comparisons read that follows from its own final values (see `_DERIVED_SQL`)."""
    _parsed_phones(con)
    _phonetic_codes(con, "first_name_std", "_first_codes")
    _phonetic_codes(con, "last_name_std", "_last_codes")
    _phonetic_codes(con, "street_std", "_street_codes")
    _first_name_form_groups(con)
    con.execute(_DERIVED_SQL.format(ref_shape=_number_shape("f.customer_number_ref"),
                                    own_shape=_number_shape("f.own_customer_number")))
    con.execute("DROP TABLE _phones; DROP TABLE _first_codes; DROP TABLE _last_codes; DROP TABLE _street_codes; "
                "DROP TABLE _forms_of")


def _store(con: duckdb.DuckDBPyConnection) -> None:
    """The features, built as a temporary table (in memory, spilling to disk only beyond the
    memory limit: the dozen column-wise UPDATEs and ALTERs of `build_features` on the
    warehouse's table were most of its time, each one logged and checkpointed), into the
    warehouse as the rows whose hash differs from the last build's (a delivery day changes
    few; linkage/feature_hash.py: the delta and the kept links compare the same hash)."""
    store(con, "linkage_features", "_built_features", "record_key", compare=FEATURE_HASH)
