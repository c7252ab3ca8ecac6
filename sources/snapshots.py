"""Full snapshots (shop, newsletter): which file is in force, and what it says.

A snapshot is the whole truth, so an account missing from it was deleted. That makes a
damaged snapshot dangerous: an export job that died early, or a row that could not be
read, would delete customers. So:
- an account whose row in the snapshot in force was rejected is not missing: it keeps its
  newest row from an older snapshot; and if a rejected row's id cannot be read at all, no
  account of the snapshot before is deleted (any of the missing ones could be that row);
- a snapshot that would still delete more than `snapshot_max_deleted_share` of the
  accounts in force, that rejects more than `snapshot_max_rejected_share` of its rows, or
  that is older than the one in force, is `held`: its rows are kept in the raw table, but
  the snapshot in force stays until an operator accepts it (`kundenstamm accept-snapshot FILE`).
What a snapshot says is derived when staging (`snapshot_rows_sql`), from the ledger and
the raw rows alone, so it is the same whatever order the files were read in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from sources.limits import IngestLimits
from sources.spec import SourceSpec


def in_force_sql(source: str) -> str:
    """The file hash of the snapshot in force: the newest one applied."""
    return (f"(SELECT file_hash FROM ingest_files WHERE source = '{source}' AND status = 'loaded' "
            "ORDER BY file_date DESC, file_name DESC LIMIT 1)")


def snapshot_rows_sql(spec: SourceSpec, force: str | None = None) -> str:
    """The raw rows of the accounts live in snapshot `force` (SQL for a file hash; default:
    the snapshot in force): its delivered rows, plus for every account whose row it rejected
    that account's newest older row, plus, if it rejected a row without a readable id, every
    account of the snapshot before it that it does not deliver."""
    raw, key, source = spec.raw_table, f'trim("{spec.id_column}")', spec.name
    force = force or in_force_sql(source)
    return f"""
    SELECT r.* FROM {raw} r WHERE r._file_hash = {force}
    UNION ALL
    (WITH files AS (
        SELECT file_hash, file_date, file_name FROM ingest_files
        WHERE source = '{source}' AND status IN ('loaded', 'held')
    ), this AS (
        SELECT * FROM files WHERE file_hash = {force}
    ), older AS (
        SELECT f.* FROM files f, this WHERE (f.file_date, f.file_name) < (this.file_date, this.file_name)
    ), previous AS (
        SELECT file_hash FROM older ORDER BY file_date DESC, file_name DESC LIMIT 1
    ), rejected AS (
        SELECT record_id FROM rejects WHERE file_hash = {force}
    ), delivered AS (
        SELECT DISTINCT {key} AS id FROM {raw} WHERE _file_hash = {force}
    )
    SELECT r.* FROM {raw} r JOIN older o ON o.file_hash = r._file_hash
    WHERE {key} NOT IN (SELECT id FROM delivered)
      AND ({key} IN (SELECT record_id FROM rejected WHERE record_id IS NOT NULL)
           OR (r._file_hash = (SELECT file_hash FROM previous)
               AND EXISTS (SELECT 1 FROM rejected WHERE record_id IS NULL)))
    QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY o.file_date DESC, o.file_name DESC, r._record_number DESC) = 1)
    """


@dataclass(frozen=True)
class Verdict:
    status: str  # loaded | held
    reason: str | None
    deleted: int = 0


def _in_force(con: duckdb.DuckDBPyConnection, source: str) -> tuple[str, str, datetime] | None:
    rows = con.execute(
        "SELECT file_hash, file_name, file_date FROM ingest_files WHERE source = ? AND status = 'loaded' "
        "ORDER BY file_date DESC, file_name DESC LIMIT 1", [source]).fetchall()
    return rows[0] if rows else None


def _deletions(con: duckdb.DuckDBPyConnection, spec: SourceSpec, new_hash: str, in_force: str,
               rejected_ids: list[str]) -> tuple[int, int]:
    """(accounts in force, how many of them the new snapshot would delete)."""
    key = f'trim("{spec.id_column}")'
    return con.execute(
        f"""
        WITH old AS (SELECT DISTINCT {key} AS id FROM ({snapshot_rows_sql(spec, "'" + in_force + "'")})),
             new AS (SELECT DISTINCT {key} AS id FROM {spec.raw_table} WHERE _file_hash = ?
                     UNION SELECT unnest(?::VARCHAR[]))
        SELECT (SELECT count(*) FROM old), (SELECT count(*) FROM old WHERE id NOT IN (SELECT id FROM new))
        """, [new_hash, rejected_ids]).fetchall()[0]


def settle(con: duckdb.DuckDBPyConnection, spec: SourceSpec, new_hash: str, file_name: str,
           file_date: datetime, rows_read: int, rows_rejected: int, rejected_ids: list[str],
           unattributed_rejects: int, limits: IngestLimits) -> Verdict:
    """Apply the new snapshot or hold it back. Runs inside the file's transaction, after
    its delivered rows are in the raw table and before its ledger row is."""
    current = _in_force(con, spec.name)
    if current is not None and (file_date, file_name) < (current[2], current[1]):
        return Verdict("held", f"older than the snapshot in force ({current[1]}): an older export never "
                               "replaces a newer one")
    if current is None:
        return Verdict("loaded", None)  # nothing in force that its gaps could delete
    if rows_read and rows_rejected / rows_read > limits.snapshot_max_rejected_share:
        return Verdict("held", f"{rows_rejected} of {rows_read} rows rejected (more than "
                               f"{limits.snapshot_max_rejected_share:.0%}): its gaps would read as deletions")
    in_force, deleted = _deletions(con, spec, new_hash, current[0], rejected_ids)
    if in_force and deleted / in_force > limits.snapshot_max_deleted_share:
        return Verdict("held", f"would delete {deleted} of {in_force} accounts in force ({deleted / in_force:.1%}, "
                               f"more than {limits.snapshot_max_deleted_share:.0%}): a truncated export?", deleted)
    if deleted and unattributed_rejects:
        return Verdict("loaded", f"{deleted} accounts missing but kept: {unattributed_rejects} rejected rows "
                                 "have no readable id, so no account is deleted by this snapshot")
    return Verdict("loaded", f"{deleted} accounts deleted" if deleted else None, deleted)


def accept_held(con: duckdb.DuckDBPyConnection, spec: SourceSpec, file_name: str, accepted_at: datetime) -> str:
    """An operator's decision: the held snapshot `file_name` is applied as delivered, its
    deletions included (accounts whose rows it rejected still keep their older rows).
    Returns what was done."""
    rows = con.execute(
        "SELECT file_hash, reason FROM ingest_files WHERE source = ? AND file_name = ? AND status = 'held'",
        [spec.name, file_name]).fetchall()
    if not rows:
        raise ValueError(f"no held {spec.name} snapshot named {file_name}")
    held_hash, reason = rows[0]
    con.execute(
        "UPDATE ingest_files SET status = 'loaded', reason = ? WHERE file_hash = ? AND source = ? AND status = 'held'",
        [f"accepted by an operator at {accepted_at:%Y-%m-%d %H:%M} UTC; was held: {reason}", held_hash, spec.name])
    newest = _in_force(con, spec.name)
    if newest is not None and newest[0] != held_hash:
        return f"{file_name} accepted, but {newest[1]} is newer and stays in force"
    return f"{file_name} accepted: it is the {spec.name} snapshot in force from the next run on"


def held_back(con: duckdb.DuckDBPyConnection, source: str) -> list[tuple[str, str]]:
    """(file name, reason) of every held snapshot newer than the one in force: the
    deliveries an operator has to look at."""
    return con.execute(
        f"""
        SELECT file_name, reason FROM ingest_files h
        WHERE source = ? AND status = 'held'
          AND (file_date, file_name) > coalesce(
                (SELECT (file_date, file_name) FROM ingest_files WHERE file_hash = {in_force_sql(source)}
                 AND source = ? LIMIT 1), (TIMESTAMP '0001-01-01', ''))
        ORDER BY file_date, file_name
        """, [source, source]).fetchall()
