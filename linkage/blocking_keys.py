"""Each blocking rule's keys, kept in the warehouse from run to run.

A delta run (linkage/delta.py) blocks a day's few thousand records against everyone, but
the blocks and their sizes are those of all records, so every run computed every record's
keys again: at 1,000,000 persons about 5 of a delta's 9 s of blocking, most of it the other
side of the quoted-number rules (each account's number with each digit left out, ten
million keys). Now each rule's keys are a table of the warehouse (`blocking_keys_<rule>`,
an asymmetric rule's two sides `_a` and `_b`), and a run replaces only the rows of the
records whose features changed, came or went since the keys were made: the feature hash of
each record the keys were computed from is kept beside them (`blocking_keys_hashes`). The
tables hold then exactly what computing all keys gives.

Everything is computed anew when a rule's key, refinements or features table changed
(`blocking_keys_made`), when the features carry no hash, and on Spark (its steps read
the warehouse's tables as files and write whole tables back). An erasure drops them all
(`forget_kept_keys`): the next run computes them from the records left.
"""

from __future__ import annotations

import hashlib
from typing import Callable

from linkage.engine import Engine
from linkage.feature_hash import FEATURE_HASH

PREFIX = "blocking_keys_"
HASHES = "blocking_keys_hashes"
MADE = "blocking_keys_made"
STALE = "_keys_stale"
# The records of `STALE` that are still there: whose keys are computed again.
LIVE = "_keys_live"




def keeps_keys(db: Engine, table: str) -> bool:
    """Whether this run keeps the keys in the warehouse (DuckDB, features with their hash)."""
    return db.name == "duckdb" and FEATURE_HASH in db.columns(table)


def mark_stale_records(db: Engine, table: str) -> None:
    """`_keys_stale(record_key, live)`: records whose features differ from those the kept
    keys were made from (new, changed: live; gone: not live). Once per run, before the rules."""
    db.run(f"CREATE TABLE IF NOT EXISTS {HASHES} (record_key VARCHAR, feature_hash VARCHAR)")
    db.run(f"CREATE TABLE IF NOT EXISTS {MADE} (name VARCHAR, signature VARCHAR)")
    db.run(
        f"""
        CREATE OR REPLACE TEMP TABLE {STALE} AS
        SELECT coalesce(f.record_key, h.record_key) AS record_key, f.record_key IS NOT NULL AS live
        FROM (SELECT record_key, "{FEATURE_HASH}" AS feature_hash FROM {table}) f
        FULL JOIN {HASHES} h USING (record_key)
        WHERE f.feature_hash IS DISTINCT FROM h.feature_hash
        """
    )
    db.run(f"CREATE OR REPLACE TEMP TABLE {LIVE} AS SELECT record_key FROM {STALE} WHERE live")


def kept_keys(db: Engine, name: str, keys_sql: Callable[[str | None], str]) -> str:
    """The table `blocking_keys_<name>` with every record's keys, brought up to date;
    `keys_sql(records)` is the SQL of the keys of the records of table `records` (None: all
    records; its text is what the kept table was made by). Needs `mark_stale_records`."""
    kept = f"{PREFIX}{name}"
    signature = hashlib.sha256(keys_sql(None).encode()).hexdigest()[:16]
    made = db.rows(f"SELECT signature FROM {MADE} WHERE name = ?", [name])
    if db.has_table(kept) and made and made[0][0] == signature:
        db.run(f"DELETE FROM {kept} WHERE record_key IN (SELECT record_key FROM {STALE})")
        db.run(f"INSERT INTO {kept} {keys_sql(LIVE)}")
    else:
        db.run(f"CREATE OR REPLACE TABLE {kept} AS {keys_sql(None)}")
        db.run(f"DELETE FROM {MADE} WHERE name = ?", [name])
        db.run(f"INSERT INTO {MADE} VALUES (?, ?)", [name, signature])
    return kept


def commit_stale_records(db: Engine, table: str) -> None:
    """After every rule's keys are up to date: the hashes they were made from."""
    db.run(f"DELETE FROM {HASHES} WHERE record_key IN (SELECT record_key FROM {STALE})")
    db.run(f"INSERT INTO {HASHES} SELECT l.record_key, f.\"{FEATURE_HASH}\" FROM {LIVE} l "
           f"JOIN {table} f USING (record_key)")
    db.run(f"DROP TABLE {STALE}; DROP TABLE {LIVE}")


def forget_kept_keys(con) -> None:
    """Drop every kept key table (an erasure: no erased record's keys stay behind)."""
    names = [n for (n,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND starts_with(table_name, ?)",
        [PREFIX]).fetchall()]
    for name in names:
        con.execute(f"DROP TABLE {name}")
