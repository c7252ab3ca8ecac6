"""Writing a table as its difference from what it holds: a delivery day changes few rows.

Rebuilding a table (`DELETE` everything, `INSERT` everything) writes every row, and for a
keyed table a primary-key index entry per row, twice, however little changed: at 100,000
persons that was most of the golden step's time. (Here, the lowest layer, so that staging,
linkage and the golden tables can all use it.) `write_difference` leaves the rows that are the same alone and
writes only the rows that went, changed or came, so the table ends up with exactly the
rows of the new content either way (same input, same table; only the physical row order
may differ, and nothing reads it). `write_slice_difference` does the same for the rows of
one slice of a table without a key (a delta publish's touched persons).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass
class Difference:
    deleted: int
    updated: int
    inserted: int

    @property
    def rows_written(self) -> int:
        return self.deleted + self.updated + self.inserted


def table_columns(con: duckdb.DuckDBPyConnection, table: str, database: str | None = None) -> list[str]:
    """`table`'s columns in order, in the warehouse or in the attached `database`."""
    return [c for (c,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' "
        "AND database_name = coalesce(?, current_database()) ORDER BY column_index", [table, database]).fetchall()]


def write_difference(con: duckdb.DuckDBPyConnection, target: str, content: str, key: str | tuple[str, ...],
                     within: str = "TRUE", compare: str | None = None) -> Difference:
    """Make `target` hold exactly the rows of `content` (a table or view with `target`'s
    columns, `key` (a column or several) unique in both): rows whose key is gone are
    deleted, rows that differ in any other column are replaced, rows with a new key are
    inserted.

    A few changed rows (at most one in twenty) are deleted and inserted again, not UPDATEd
    in place: DuckDB's UPDATE of a few thousand rows by a join cost four to six times as
    much (0.2 against 0.05 s for the golden rows of a quiet day at 100,000 persons), and
    inside one step's transaction the two are one change; many are updated. (Measured
    again at a million persons, 2026-12-07: alone, outside a transaction, the UPDATE was
    the faster, up to ten times in a table with a primary key; inside the golden step's
    transaction it was the slower: 5.0 s for the changed golden rows against 2.5 s.)

    `within`, a condition on `target`'s rows (alias `t`): `content` is the new content of
    only those rows, and every other row stays as it is (a run that rebuilt some persons).
    `compare`: a column that changes whenever any other does (a hash of the row): two rows
    differ when it does, and the other columns are not compared."""
    keys = (key,) if isinstance(key, str) else tuple(key)
    columns = table_columns(con, target)
    values = [c for c in columns if c not in keys]
    same_key = " AND ".join(f'n."{k}" = t."{k}"' for k in keys)
    names = ", ".join(f'"{c}"' for c in columns)
    deleted = con.execute(
        f"DELETE FROM {target} t WHERE ({within}) AND NOT EXISTS (SELECT 1 FROM {content} n WHERE {same_key})").fetchall()[0][0]
    # The content's rows that replace a row of `target`, taken before the delete.
    differs = " OR ".join(f't."{c}" IS DISTINCT FROM n."{c}"' for c in ((compare,) if compare else values)) or "false"
    replacing = ", ".join(f'n."{c}"' for c in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _changed_rows AS SELECT {replacing} "
                f"FROM {content} n JOIN {target} t ON {same_key} WHERE {differs}")
    updated = con.execute("SELECT count(*) FROM _changed_rows").fetchall()[0][0]
    reinserted = 0
    if updated and updated * 20 <= con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]:
        con.execute(f"DELETE FROM {target} t WHERE EXISTS (SELECT 1 FROM _changed_rows n WHERE {same_key})")
        reinserted = updated
    elif updated:
        # Many: there the UPDATE is the cheaper (a third of a million golden rows, 3.0 against 6.7 s).
        assignments = ", ".join(f'"{c}" = n."{c}"' for c in values)
        con.execute(f"UPDATE {target} t SET {assignments} FROM _changed_rows n WHERE {same_key}")
    inserted = con.execute(
        f"INSERT INTO {target} ({names}) SELECT {names} FROM {content} n "
        f"WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE {same_key})").fetchall()[0][0] - reinserted
    con.execute("DROP TABLE _changed_rows")
    return Difference(deleted, updated, inserted)


def write_slice_difference(con: duckdb.DuckDBPyConnection, table: str, content: str, within: str,
                           database: str | None = None) -> Difference:
    """Make the rows of `table` (in the attached `database`, else the warehouse) that meet
    `within` (a condition on its columns, unaliased) exactly the rows of `content` (a query
    or table with `table`'s columns), writing only the rows that differ.

    For tables without a key (the published lookup tables hold a word and a golden id
    per row): rows are compared whole, NULL equal to NULL, and a row given twice counts
    twice (`copy` numbers the identical rows on each side). Deleting a row of a table with
    an index costs an index lookup at commit, so replacing every row of a slice, as a
    DELETE and INSERT of all of it, cost seconds for rows that mostly stay the same (the
    published lookup tables at a million persons, `benchmarks/RESULTS.md`)."""
    qualified = f"{database}.{table}" if database else table
    columns = table_columns(con, table, database)
    names = ", ".join(f'"{c}"' for c in columns)
    new_rows = ", ".join(f'n."{c}"' for c in columns)
    same = " AND ".join([f'o."{c}" IS NOT DISTINCT FROM n."{c}"' for c in columns] + ["o.copy = n.copy"])
    copy = f"row_number() OVER (PARTITION BY {names})"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _slice_old AS SELECT rowid AS row_id, {names}, {copy} AS copy "
                f"FROM {qualified} WHERE {within}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _slice_new AS SELECT {names}, {copy} AS copy FROM ({content})")
    deleted = con.execute(
        f"DELETE FROM {qualified} WHERE rowid IN (SELECT o.row_id FROM _slice_old o ANTI JOIN _slice_new n ON {same})"
    ).fetchall()[0][0]
    inserted = con.execute(
        f"INSERT INTO {qualified} ({names}) SELECT {new_rows} "
        f"FROM _slice_new n ANTI JOIN _slice_old o ON {same}").fetchall()[0][0]
    con.execute("DROP TABLE _slice_old; DROP TABLE _slice_new")
    return Difference(deleted, 0, inserted)


def _shape(con: duckdb.DuckDBPyConnection, database: str, table: str) -> list[tuple]:
    return con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? AND schema_name = 'main' "
        "AND table_name = ? ORDER BY column_index", [database, table]).fetchall()


def store(con: duckdb.DuckDBPyConnection, target: str, built: str, key: str | tuple[str, ...],
          within: str = "TRUE", compare: str | None = None) -> Difference | None:
    """Put the temporary table `built` into the warehouse as `target` and drop it: as the
    difference from what `target` holds when its columns are the same, else (first run,
    or a column was added) as a new table (None). `within`: see `write_difference`; a
    partial content cannot replace a table of another shape, so that is an error.
    `compare`: see `write_difference`."""
    warehouse = con.execute("SELECT current_database()").fetchall()[0][0]
    if _shape(con, "temp", built) == _shape(con, warehouse, target):
        difference = write_difference(con, target, f"temp.main.{built}", key, within, compare)
    elif within != "TRUE":
        raise RuntimeError(f"{target}: the rows built for some persons do not have the table's columns; "
                           "a run that rebuilds everyone must write it first")
    else:
        con.execute(f'CREATE OR REPLACE TABLE "{warehouse}".main.{target} AS SELECT * FROM temp.main.{built}')
        difference = None
    con.execute(f"DROP TABLE temp.main.{built}")
    return difference
