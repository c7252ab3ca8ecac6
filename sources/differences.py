"""Writing a table as its difference from what it holds: a delivery day changes few rows.

Rebuilding a table (`DELETE` everything, `INSERT` everything) writes every row, and for a
keyed table a primary-key index entry per row, twice, however little changed: at 100,000
persons that was most of the golden step's time. (Here, the lowest layer, so that staging,
linkage and the golden tables can all use it.) `write_difference` leaves the rows that are the same alone and
writes only the rows that went, changed or came, so the table ends up with exactly the
rows of the new content either way (same input, same table; only the physical row order
may differ, and nothing reads it).
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


def write_difference(con: duckdb.DuckDBPyConnection, target: str, content: str, key: str) -> Difference:
    """Make `target` hold exactly the rows of `content` (a table or view with `target`'s
    columns, `key` unique in both): rows whose key is gone are deleted, rows that differ in
    any column are updated in place (the key never changes, so no index entry moves), rows
    with a new key are inserted."""
    columns = table_columns(con, target)
    values = [c for c in columns if c != key]
    deleted = con.execute(f"DELETE FROM {target} WHERE {key} NOT IN (SELECT {key} FROM {content})").fetchall()[0][0]
    updated = 0
    if values:
        differs = " OR ".join(f't."{c}" IS DISTINCT FROM n."{c}"' for c in values)
        assignments = ", ".join(f'"{c}" = n."{c}"' for c in values)
        updated = con.execute(
            f"UPDATE {target} t SET {assignments} "
            f"FROM {content} n WHERE n.{key} = t.{key} AND ({differs})").fetchall()[0][0]
    names = ", ".join(f'"{c}"' for c in columns)
    inserted = con.execute(
        f"INSERT INTO {target} ({names}) SELECT {names} FROM {content} "
        f"WHERE {key} NOT IN (SELECT {key} FROM {target})").fetchall()[0][0]
    return Difference(deleted, updated, inserted)
