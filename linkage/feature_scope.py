"""What a features build must build again: a delivery day changes few records.

Most of a record's features follow from its own staged values. Three rules look across
records (linkage/features.py): which names are mostly first names or surnames (a swap is
undone), which names a mailbox spells (the same counts, after the swaps), and which e-mail
addresses are a household's (`email_shared`, from the records giving the address). A build
in part therefore builds anew
- the records whose staged values changed, came or went (`find_changed_inputs`, by a hash of
  the values the features are made of, kept in `linkage_feature_inputs` with the names as
  typed),
- every record whose names the first two rules now place otherwise than its stored row (the
  rules run over every record's names alone, a narrow table: `names_of_everyone`,
  `scope_of_names`),
- and every record giving an address that one of those gives or gave (its household mark,
  linkage/features.py `_finish_in_part`).
Every other row is what a build of everything would give it, so the stored table ends up
the same, row for row (tests/test_feature_scope.py builds both ways and compares them).

It builds in part only when the stored features were made by this code with the learned
first-name variants in force (`build_version`) and their inputs are kept; otherwise (a
first run, an upgrade, a re-fit that learned other variants, an erasure, a `--refit`)
everything is built.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from linkage.name_variants import STORED_VARIANTS

INPUTS_TABLE = "linkage_feature_inputs"
BUILD_TABLE = "linkage_feature_build"

# The staged values a record's features are made of, and nothing else: a column the
# features read must be here (FEATURES_SQL reads only this projection, so one missing
# fails loudly), and no column that moves without the record changing (the file a row
# came in, its line, the day it was last seen), else every delivery rebuilds everyone.
FEATURE_INPUT_COLUMNS = ("source", "source_record_id", "salutation", "first_name", "last_name", "email",
                         "email_bounced", "phone", "street", "postal_code", "city", "country", "customer_number_ref")
# The code that makes features: a change to any of it builds everything once.
# (With the DuckDB version: its functions fold, split and compare the values.)
_CODE = [Path(__file__).with_name(name) for name in ("features.py", "feature_scope.py", "feature_hash.py", "names.py",
                                                      "name_variants.py")]
_CODE += [Path(__file__).parent / "data" / "first_name_forms.csv",
          Path(__file__).parent.parent / "sources" / "identifiers.py",
          Path(__file__).parent.parent / "sources" / "differences.py"]


def staged_inputs_sql(scope: str | None = None) -> str:
    """SQL: the feature inputs of the staged records in `scope` (a table of record keys), or of all."""
    where = f" WHERE s.record_key IN (SELECT record_key FROM {scope})" if scope else ""
    columns = ", ".join(f"s.{c}" for c in FEATURE_INPUT_COLUMNS)
    return (f"SELECT s.record_key, {columns}, x.birth_date "
            f"FROM staged_records s LEFT JOIN staged_sensitive x USING (record_key){where}")


def _input_hashes_sql() -> str:
    return f"SELECT record_key, hash({', '.join(FEATURE_INPUT_COLUMNS)}, birth_date) AS input_hash FROM ({staged_inputs_sql()})"


def _warehouse_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    # Not a temporary table of the same name (the build's own linkage_features is one).
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main' "
                            "AND database_name = current_database()", [name]).fetchall()[0][0])


def stored(table: str, con: duckdb.DuckDBPyConnection) -> str:
    """The warehouse's `table`, qualified: the build's temporary table of that name hides it."""
    return f'"{con.execute("SELECT current_database()").fetchall()[0][0]}".main.{table}'


def build_version(con: duckdb.DuckDBPyConnection, variants: str) -> str:
    """The code's hash and the content of the first-name variants table `variants` (the
    features carry each name's learned variants, and the household marks depend on them)."""
    code = hashlib.sha256(b"".join(path.read_bytes() for path in _CODE) + duckdb.__version__.encode()).hexdigest()[:16]
    pairs, total = con.execute(f"SELECT count(*), coalesce(sum(hash(name_a, name_b)), 0) FROM {variants}").fetchall()[0]
    return f"{code}:{pairs}:{total}"


def can_build_in_part(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the stored features and their inputs are of this code and the variants in force."""
    if not all(_warehouse_table(con, t) for t in (BUILD_TABLE, INPUTS_TABLE, "linkage_features", STORED_VARIANTS)):
        return False
    built = con.execute(f"SELECT version FROM {BUILD_TABLE}").fetchall()
    if [row[0] for row in built] != [build_version(con, STORED_VARIANTS)]:
        return False
    # A row removed from one and not the other (by hand, or code before this) is no state to
    # build on: the same keys in both (their count and the sum of their hashes, one column read).
    keys = "SELECT count(*), coalesce(sum(hash(record_key)), 0) FROM {}"
    inputs, features = (con.execute(keys.format(t)).fetchall()[0] for t in (INPUTS_TABLE, stored("linkage_features", con)))
    return inputs == features


def forget_build(con: duckdb.DuckDBPyConnection) -> None:
    """The next build builds everything (an erasure removed records beside the build's
    bookkeeping; a build writes it last, so one that fails half-way leaves none)."""
    con.execute(f"DROP TABLE IF EXISTS {BUILD_TABLE}")


def find_changed_inputs(con: duckdb.DuckDBPyConnection) -> None:
    """`_inputs_now(record_key, input_hash)` of every staged record; `_typed_scope(record_key)`:
    those new or changed since the stored build; `_gone(record_key)`: those no longer staged."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _inputs_now AS {_input_hashes_sql()}")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _typed_scope AS SELECT n.record_key FROM _inputs_now n
                    LEFT JOIN {INPUTS_TABLE} i USING (record_key) WHERE i.input_hash IS DISTINCT FROM n.input_hash""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _gone AS SELECT record_key FROM {INPUTS_TABLE}
                    WHERE record_key NOT IN (SELECT record_key FROM _inputs_now)""")


def names_of_everyone(con: duckdb.DuckDBPyConnection, built: str) -> None:
    """`_names`: every staged record's names as typed and its mailbox's letters, the columns the
    rules across records read and write: from `built` (the features just built, as typed, of
    `_typed_scope`) and, for every other record, from the stored inputs and features."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _names AS
        SELECT record_key, first_name_std, last_name_std, email_letters,
               false AS names_from_mailbox, false AS first_from_mailbox, false AS last_from_mailbox
        FROM {built}
        UNION ALL
        SELECT i.record_key, i.first_typed, i.last_typed, f.email_letters, false, false, false
        FROM {INPUTS_TABLE} i JOIN {stored('linkage_features', con)} f USING (record_key)
        WHERE i.record_key NOT IN (SELECT record_key FROM _typed_scope) AND i.record_key NOT IN (SELECT record_key FROM _gone)
        """
    )


def scope_of_names(con: duckdb.DuckDBPyConnection) -> None:
    """`_scope(record_key)`: `_typed_scope` and every record whose names in `_names` (after
    the rules across records) differ from its stored row's."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _scope AS
        SELECT record_key FROM _typed_scope
        UNION
        SELECT n.record_key FROM _names n JOIN {stored('linkage_features', con)} f USING (record_key)
        WHERE n.first_name_std IS DISTINCT FROM f.first_name_std OR n.last_name_std IS DISTINCT FROM f.last_name_std
           OR n.names_from_mailbox IS DISTINCT FROM f.names_from_mailbox
           OR n.first_from_mailbox IS DISTINCT FROM f.first_from_mailbox
           OR n.last_from_mailbox IS DISTINCT FROM f.last_from_mailbox
        """
    )


def remember_everything(con: duckdb.DuckDBPyConnection, typed: str) -> None:
    """After a build of everything: every record's input hash and names as typed (`typed`:
    record_key, first_name_std, last_name_std), and the build's version."""
    con.execute(f"""CREATE OR REPLACE TABLE {INPUTS_TABLE} AS
                    SELECT n.record_key, n.input_hash, t.first_name_std AS first_typed, t.last_name_std AS last_typed
                    FROM ({_input_hashes_sql()}) n JOIN {typed} t USING (record_key)""")
    _write_version(con)


def remember_part(con: duckdb.DuckDBPyConnection, typed: str) -> None:
    """After a build in part: the inputs of `_typed_scope` (names as typed in `typed`) replaced, `_gone`'s removed."""
    con.execute(f"DELETE FROM {INPUTS_TABLE} WHERE record_key IN (SELECT record_key FROM _typed_scope) "
                f"OR record_key IN (SELECT record_key FROM _gone)")
    con.execute(f"""INSERT INTO {INPUTS_TABLE}
                    SELECT n.record_key, n.input_hash, t.first_name_std, t.last_name_std
                    FROM _inputs_now n JOIN {typed} t USING (record_key)""")
    _write_version(con)


def _write_version(con: duckdb.DuckDBPyConnection) -> None:
    # The variants the build used: the stored ones when a model is in force, else those learned now.
    con.execute(f"CREATE OR REPLACE TABLE {BUILD_TABLE} AS SELECT ?::VARCHAR AS version",
                [build_version(con, "first_name_variants")])


def drop_scope_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP TABLE IF EXISTS _inputs_now; DROP TABLE IF EXISTS _typed_scope; DROP TABLE IF EXISTS _gone; "
                "DROP TABLE IF EXISTS _names; DROP TABLE IF EXISTS _scope")
