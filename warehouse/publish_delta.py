"""Publishing a delivery day's changes into a copy of the last version instead of rebuilding it.

A quiet day changes a few hundred persons, but a full publish writes every customer, every
source record and every lookup row again (at a million persons most of a minute). When the
last published version is the previous run's, scored by the same model, `publish` copies it
to its temporary file and `apply_changes` rewrites there only the persons whose published
rows may differ (`find_touched`), and of their rows only those that differ
(`sources/differences.py`, `write_slice_difference`); the rest of `publish` (checkpoint, fsync, atomic rename) is
the same, so readers still see one version or the next, never half of one. The result is
the same rows, table by table, as a full publish from the same warehouse
(tests/test_incremental.py compares them).

Which persons (`_touched`), found by comparing the warehouse with the last version rather
than by trusting what a step says it changed; compared only among the persons the golden
step rebuilt since the version (warehouse/rebuilt_log.py: nobody else's rows were written),
or among everyone where that log cannot tell:
- every golden id whose row in `customers`, `customer_sources`, `golden_provenance` or
  `customer_consent` differs between the two (new, gone, changed, records moved);
- every golden id, now or in the last version, of a record whose staged values differ
  from `lookup_records` (only its file name differing, as for every account of a new
  snapshot, the row is patched in place: `PATCHED`);
- every golden id, now or then, of a record in this run's `linkage_delta`: its features
  (looked up by e-mail, phone, name, place) and its pairs (the link explanation of it and
  of its partners inside the person) are the ones that moved. Pairs move for nothing
  else while the model stays, which is why the last version must be the previous run's
  (`delta_base`): otherwise an earlier run's delta would be missed, and a full publish runs.
A run that erased someone publishes in full too: the rows a DELETE removes stay in the
file's blocks as bytes until those blocks are rewritten, and an erased person's data must
not travel on in a copy.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from sources.differences import table_columns, write_slice_difference
from warehouse.connection import table_exists
from warehouse.rebuilt_log import rebuilt_since
from warehouse.search_index import build_search_index

# Published tables with one or more rows per golden id: their touched rows are replaced.
PER_PERSON = ("customers", "customer_sources", "golden_provenance", "customer_consent")
# Lookup tables keyed by golden id (the name words' tables are merged by word).
LOOKUP_PER_PERSON = ("lookup_records", "lookup_emails", "lookup_phones", "lookup_numbers",
                     "lookup_number_variants", "lookup_places")
TOUCHED_INDEX = "touched_index"
# Staged columns of `lookup_records` that change for many records without changing anything
# else about their persons: each shop and newsletter snapshot is a new file, so every
# account's `file_name` moves daily. Such a record's row is patched in place instead of
# rewriting its person.
PATCHED = ("file_name",)


def last_linkage_runs(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """(run_at, mode, model_version) of the newest two `linkage_run` rows, newest first."""
    if not table_exists(con, "linkage_run"):
        return []
    return con.execute("SELECT run_at, mode, model_version FROM linkage_run ORDER BY run_at DESC, rowid DESC LIMIT 2"
                       ).fetchall()


def delta_base(con: duckdb.DuckDBPyConnection, published_path: Path) -> bool:
    """Whether the version at `published_path` can be brought up to date by `apply_changes`:
    this run linked a delta, and the version is the previous run's (or this run's), scored
    by the model in force."""
    runs = last_linkage_runs(con)
    if not published_path.exists() or not runs or runs[0][1] != "delta":
        return False
    try:
        with duckdb.connect(str(published_path), read_only=True) as published:
            row = published.execute("SELECT linkage_run_at, model_version FROM publication").fetchall()
    except duckdb.Error:
        # An older version without these columns, or no file DuckDB can read: build anew.
        return False
    if not row or row[0][1] != runs[0][2] or row[0][0] not in {r[0] for r in runs}:
        return False
    # A person erased since: a deleted row's bytes stay in the file's blocks until they are
    # rewritten, so a version that held an erased person is never the base of the next one.
    return not con.execute("SELECT count(*) FROM customer_changes WHERE change_type = 'erased' AND run_at > ?",
                           [row[0][0]]).fetchall()[0][0]


def _differing_persons(left: str, right: str, columns: str) -> str:
    """Golden ids whose rows differ between `left` and `right` (a row only on one side, or
    a person's rows not the same).

    Per person, not per row: each side is reduced to one sum of row hashes and a row count
    per golden id, and the two are joined. Comparing the rows themselves (EXCEPT both ways)
    held every row of one side in a hash table, which made the delta run's peak memory
    higher than a full run's; the per-person sums are a few bytes per person. Two different
    sets of rows of one person give the same sum with a chance of about 2**-64."""
    digest = f"SELECT golden_id, sum(hash({columns})) AS digest, count(*) AS n FROM {{}} GROUP BY golden_id"
    return (f"SELECT coalesce(a.golden_id, b.golden_id) AS golden_id "
            f"FROM ({digest.format(left)}) a FULL JOIN ({digest.format(right)}) b USING (golden_id) "
            f"WHERE a.digest IS DISTINCT FROM b.digest OR a.n IS DISTINCT FROM b.n")


def _version_batch(con: duckdb.DuckDBPyConnection, db: str) -> int | None:
    """The last golden batch the version `db` shows (warehouse/rebuilt_log.py), if it says."""
    if "golden_batch" not in table_columns(con, "publication", db):
        return None
    row = con.execute(f"SELECT golden_batch FROM {db}.publication").fetchall()
    return row[0][0] if row else None


def find_touched(con: duckdb.DuckDBPyConnection, db: str, queries: dict[str, str]) -> int:
    """`_touched(golden_id)`: the persons whose published rows may differ from the version
    `db` (module docstring); `queries`: each published table's warehouse query.

    The digests are compared only for the persons the golden step rebuilt since the version
    (warehouse/rebuilt_log.py): no other person's rows changed in the warehouse. Where the
    log cannot tell, for everyone."""
    candidates = rebuilt_since(con, _version_batch(con, db))
    among = f" WHERE golden_id IN (SELECT golden_id FROM {candidates})" if candidates else ""
    parts = []
    for table in PER_PERSON:
        columns = ", ".join(f'"{c}"' for c in table_columns(con, table, db))
        parts.append(_differing_persons(f"(SELECT * FROM ({queries[table]}){among})",
                                        f"(SELECT * FROM {db}.{table}{among})", columns))
    staged = ", ".join(f'"{c}"' for c in sorted(set(table_columns(con, "lookup_records", db))
                                                 & set(table_columns(con, "staged_records")) - set(PATCHED)))
    # A record's staged values (other than PATCHED) are part of what the golden step reads of
    # it (its fingerprint): changed, its persons then and now are rebuilt, hence candidates.
    parts.append(_differing_persons(
        f"(SELECT m.golden_id, s.* FROM staged_records s JOIN golden_membership m USING (record_key){among})",
        f"(SELECT * FROM {db}.lookup_records{among})", f"golden_id, {staged}"))
    parts.append("SELECT golden_id FROM golden_membership WHERE record_key IN (SELECT record_key FROM linkage_delta)")
    parts.append(f"SELECT golden_id FROM {db}.lookup_records WHERE record_key IN (SELECT record_key FROM linkage_delta)")
    con.execute("CREATE OR REPLACE TEMP TABLE _touched AS SELECT DISTINCT golden_id FROM ({}) WHERE golden_id IS NOT NULL"
                .format(" UNION ".join(parts)))
    if candidates:
        con.execute(f"DROP TABLE {candidates}")
    return con.execute("SELECT count(*) FROM _touched").fetchall()[0][0]


def _schema(con: duckdb.DuckDBPyConnection, db: str, tables: tuple[str, ...]) -> list[tuple]:
    return con.execute(
        f"SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE database_name = ? "
        f"AND table_name IN ({', '.join('?' * len(tables))}) ORDER BY table_name, column_index",
        [db, *tables]).fetchall()


def same_columns(con: duckdb.DuckDBPyConnection, query: str, db: str, table: str) -> bool:
    """Whether `db`'s `table` has the columns of the warehouse `query`, names and types in order."""
    now = [tuple(r[:2]) for r in con.execute(f"DESCRIBE {query}").fetchall()]
    return now == [tuple(r[1:]) for r in _schema(con, db, (table,))]


def _indexes(con: duckdb.DuckDBPyConnection, db: str) -> list[tuple]:
    return con.execute("SELECT table_name, index_name FROM duckdb_indexes() WHERE database_name = ? ORDER BY ALL",
                       [db]).fetchall()


def _merge_name_words(con: duckdb.DuckDBPyConnection, db: str) -> None:
    """`lookup_name_postings`: each word's ids without the touched persons, with them as
    they are now; a word nobody bears any more goes, with its variants and sound codes,
    and a new word brings its own (both built by `build_search_index` for the touched)."""
    new = f"{TOUCHED_INDEX}.lookup_name_postings"
    # `apply_changes` merges only into a version with this code's lookup tables: ids as one
    # space-separated string per word (search_index.py).
    ids, aggregate = "unnest(string_split({}, ' '))", "string_agg(golden_id, ' ' ORDER BY golden_id)"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _postings AS
        WITH affected AS (
            -- The words the touched persons bore (unnested once: a word's ids can be many) or bear now.
            SELECT token FROM (SELECT token, {ids.format('first_ids')} AS golden_id FROM {db}.lookup_name_postings
                               UNION ALL SELECT token, {ids.format('last_ids')} FROM {db}.lookup_name_postings)
            WHERE golden_id IN (SELECT golden_id FROM _touched)
            UNION SELECT token FROM {new}
        ), entries AS (
            SELECT p.token, {ids.format('p.first_ids')} AS golden_id, 'first' AS role FROM {db}.lookup_name_postings p
            WHERE p.token IN (SELECT token FROM affected)
            UNION ALL
            SELECT p.token, {ids.format('p.last_ids')}, 'last' FROM {db}.lookup_name_postings p
            WHERE p.token IN (SELECT token FROM affected)
        ), kept AS (
            SELECT * FROM entries WHERE golden_id NOT IN (SELECT golden_id FROM _touched)
            UNION ALL SELECT token, {ids.format('first_ids')}, 'first' FROM {new}
            UNION ALL SELECT token, {ids.format('last_ids')}, 'last' FROM {new}
        )
        -- The same ids a full build gives (search_index.py): one row per word, ids sorted.
        SELECT a.token, {aggregate} FILTER (WHERE role = 'first') AS first_ids,
               {aggregate} FILTER (WHERE role = 'last') AS last_ids
        FROM affected a LEFT JOIN kept k USING (token)
        GROUP BY a.token
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _words AS
        SELECT token, token IN (SELECT token FROM {db}.lookup_name_postings) AS existed,
               first_ids IS NOT NULL OR last_ids IS NOT NULL AS exists_now
        FROM _postings
        """
    )
    # The affected words' rows as their difference, as the persons' rows are (a word's ids
    # are often the same again: a touched person keeps the id).
    write_slice_difference(con, "lookup_name_postings", "SELECT token, first_ids, last_ids FROM _postings "
                           "WHERE first_ids IS NOT NULL OR last_ids IS NOT NULL",
                           "token IN (SELECT token FROM _postings)", database=db)
    for table in ("lookup_token_variants", "lookup_token_phonetics"):
        con.execute(f"DELETE FROM {db}.{table} WHERE token IN (SELECT token FROM _words WHERE existed AND NOT exists_now)")
        con.execute(f"INSERT INTO {db}.{table} SELECT * FROM {TOUCHED_INDEX}.{table} "
                    "WHERE token IN (SELECT token FROM _words WHERE exists_now AND NOT existed)")
    con.execute("DROP TABLE _postings; DROP TABLE _words")


def apply_changes(con: duckdb.DuckDBPyConnection, db: str, queries: dict[str, str]) -> int | None:
    """Bring the copy of the last version attached as `db` up to date with the warehouse;
    returns how many persons were rewritten, or None when the copy's tables are not the
    ones this code publishes (another version of it wrote them: publish in full)."""
    if not all(same_columns(con, queries[table], db, table) for table in PER_PERSON):
        return None
    con.execute(f"ATTACH ':memory:' AS {TOUCHED_INDEX}")
    try:
        touched = find_touched(con, db, queries)
        build_search_index(con, TOUCHED_INDEX, only="_touched")
        lookups = tuple(t for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? ORDER BY 1", [TOUCHED_INDEX]).fetchall())
        if (_schema(con, TOUCHED_INDEX, lookups) != _schema(con, db, lookups)
                or _indexes(con, TOUCHED_INDEX) != _indexes(con, db)
                or set(lookups) != set(LOOKUP_PER_PERSON) | {"lookup_name_postings", "lookup_token_variants",
                                                             "lookup_token_phonetics"}):
            return None
        # Only the rows that differ: most of a touched person's rows are as they were.
        touched_rows = "golden_id IN (SELECT golden_id FROM _touched)"
        for table in PER_PERSON:
            write_slice_difference(con, table, f"SELECT * FROM ({queries[table]}) WHERE {touched_rows}",
                                   touched_rows, database=db)
        for table in LOOKUP_PER_PERSON:
            write_slice_difference(con, table, f"SELECT * FROM {TOUCHED_INDEX}.{table}", touched_rows, database=db)
        _merge_name_words(con, db)
        assignments = ", ".join(f'"{c}" = s."{c}"' for c in PATCHED)
        differs = " OR ".join(f'l."{c}" IS DISTINCT FROM s."{c}"' for c in PATCHED)
        con.execute(f"UPDATE {db}.lookup_records l SET {assignments} FROM staged_records s "
                    f"WHERE s.record_key = l.record_key AND ({differs})")
        return touched
    finally:
        con.execute(f"DETACH {TOUCHED_INDEX}")
        con.execute("DROP TABLE IF EXISTS _touched")
