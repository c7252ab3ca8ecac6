"""A features row's content as one hash, computed once per build and kept in the row.

Three steps ask whether a record's features changed: the delta (linkage/delta.py: which
records are new or changed since the last run), the features' own store (only the rows
that differ are rewritten) and clustering's kept links (linkage/clustering.py: was this
record linked on what it holds now?). Each used to hash or compare every row itself; at
1,000,000 persons that was three passes over 1.7 million rows of some sixty columns per
run. Now `linkage.features` writes `feature_hash` into each row and all three compare it.

A features table made elsewhere (a benchmark's, a test's) may lack the column: then the
row is hashed where it is read, as before.

The hash is DuckDB's `hash()` of the columns (as text, the column's type), not an md5 of the
row printed as text: printing sixty columns of 1.7 million rows was 2.5 of the 4 s the
hashing took at 1,000,000 persons, `hash()` takes 0.7 s. `hash()` is not promised to stay
the same across DuckDB versions; where it changes (an upgrade, or the md5 hashes of a
warehouse built before), every record counts as changed once: that run's plan re-fits and
links everyone (linkage/delta.py, the share of new or changed records), which is what a run
without any hash would do (the golden step's input hashes then rebuild everyone too, as a
re-fit does anyway). Golden ids keep their own md5 fingerprints (warehouse/golden_ids.py):
those must not move with a DuckDB version.
"""

from __future__ import annotations

import duckdb

from sources.differences import table_columns

FEATURE_HASH = "feature_hash"


def feature_hash_sql(con: duckdb.DuckDBPyConnection, table: str, database: str | None = None) -> str:
    """SQL: the hash of a row of `table` (unqualified columns; in the attached `database`,
    e.g. "temp"): every column but the key and the hash itself, in the table's order."""
    return hash_of_columns_sql(table_columns(con, table, database))


def hash_of_columns_sql(columns: list[str]) -> str:
    """SQL: the hash of a row with these `columns` (the key and the hash itself left out)."""
    kept = [c for c in columns if c not in ("record_key", FEATURE_HASH)]
    return "CAST(hash({}) AS VARCHAR)".format(", ".join(f'"{c}"' for c in kept))


def has_feature_hash(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return FEATURE_HASH in table_columns(con, table)


def stored_or_computed_hash_sql(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """SQL for a row's hash as `feature_hash_sql` gives it: read from the row when it holds one."""
    return f'"{FEATURE_HASH}"' if has_feature_hash(con, table) else feature_hash_sql(con, table)


def linked_before_hashes(db) -> bool:
    """Whether the last run's `linked_records` (linkage/clustering.py) are fingerprints of
    whole rows, written before the features carried their hash (`db`: a linkage engine)."""
    return db.has_table("linked_records") and "fingerprint" in db.columns("linked_records")


def row_hash_sql(db, table: str, alias: str) -> str:
    """SQL: the hash of `alias`, a row of the features table `table`, as this run keeps it:
    the row's own, else the row hashed (`db`: a linkage engine)."""
    columns = db.columns(table)
    return f"{alias}.{FEATURE_HASH}" if FEATURE_HASH in columns else db.row_fingerprint(alias, columns)


def refresh_feature_hash(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """After an UPDATE of some features (a re-fit's first-name variants): the hashes again."""
    if has_feature_hash(con, table):
        con.execute(f'UPDATE {table} SET "{FEATURE_HASH}" = {feature_hash_sql(con, table)}')
