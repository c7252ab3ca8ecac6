"""Full snapshots (shop, newsletter): which file is in force, and when a new one may be.

A snapshot is the whole truth, so an account missing from it was deleted. That makes a
damaged snapshot dangerous: an export job that died early, or a row that could not be
read, would delete customers. So:
- an account whose row in the new snapshot was rejected is not missing: its row from
  the snapshot in force is carried into the new one (and if a rejected row cannot be
  told apart, because its id is unreadable, no account is deleted by that snapshot);
- a snapshot that would still delete more than `snapshot_max_deleted_share` of the
  accounts in force, that rejects more than `snapshot_max_rejected_share` of its rows,
  or that is older than the one in force, is `held`: its rows are kept in the raw
  table, but the previous snapshot stays in force until an operator accepts it
  (`kundenstamm accept-snapshot FILE`).
Every raw row carries `_snapshot_hash`, the snapshot it belongs to; staging reads the
rows of the snapshot in force and nothing else.
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


def _carry_rows(con: duckdb.DuckDBPyConnection, spec: SourceSpec, new_hash: str, old_hash: str,
                rejected_ids: list[str], *, withhold_deletions: bool) -> None:
    """Rows of the snapshot in force for accounts the new one could not be read for."""
    raw, key = spec.raw_table, f'trim("{spec.id_column}")'
    con.execute("CREATE OR REPLACE TEMP TABLE _rejected_ids (id VARCHAR)")
    if rejected_ids:
        con.executemany("INSERT INTO _rejected_ids VALUES (?)", [[i] for i in rejected_ids])
    carry = "TRUE" if withhold_deletions else f"{key} IN (SELECT id FROM _rejected_ids)"
    con.execute(
        f"""
        INSERT INTO {raw}
        SELECT * REPLACE (? AS _snapshot_hash) FROM {raw} old
        WHERE old._snapshot_hash = ? AND {carry}
          AND {key} NOT IN (SELECT {key} FROM {raw} WHERE _snapshot_hash = ?)
        """, [new_hash, old_hash, new_hash])
    con.execute("DROP TABLE _rejected_ids")


def _deletions(con: duckdb.DuckDBPyConnection, spec: SourceSpec, new_hash: str, old_hash: str) -> tuple[int, int]:
    """(accounts in force, how many of them the new snapshot would delete)."""
    raw, key = spec.raw_table, f'trim("{spec.id_column}")'
    return con.execute(
        f"""
        WITH old AS (SELECT DISTINCT {key} AS id FROM {raw} WHERE _snapshot_hash = ?),
             new AS (SELECT DISTINCT {key} AS id FROM {raw} WHERE _snapshot_hash = ?)
        SELECT (SELECT count(*) FROM old), (SELECT count(*) FROM old WHERE id NOT IN (SELECT id FROM new))
        """, [old_hash, new_hash]).fetchall()[0]


def settle(con: duckdb.DuckDBPyConnection, spec: SourceSpec, new_hash: str, file_name: str,
           file_date: datetime, rows_read: int, rows_rejected: int, rejected_ids: list[str],
           unattributed_rejects: int, limits: IngestLimits) -> Verdict:
    """Carry what the new snapshot could not say, then apply it or hold it back.

    Runs inside the file's transaction, after its delivered rows are in the raw table."""
    current = _in_force(con, spec.name)
    if current is not None and (file_date, file_name) < (current[2], current[1]):
        return Verdict("held", f"older than the snapshot in force ({current[1]}): an older export never "
                               "replaces a newer one")
    if current is None:
        return Verdict("loaded", None)  # nothing in force that its gaps could delete
    if rows_read and rows_rejected / rows_read > limits.snapshot_max_rejected_share:
        return Verdict("held", f"{rows_rejected} of {rows_read} rows rejected (more than "
                               f"{limits.snapshot_max_rejected_share:.0%}): its gaps would read as deletions")
    _carry_rows(con, spec, new_hash, current[0], rejected_ids, withhold_deletions=False)
    in_force, deleted = _deletions(con, spec, new_hash, current[0])
    if in_force and deleted / in_force > limits.snapshot_max_deleted_share:
        return Verdict("held", f"would delete {deleted} of {in_force} accounts in force ({deleted / in_force:.1%}, "
                               f"more than {limits.snapshot_max_deleted_share:.0%}): a truncated export?", deleted)
    if deleted and unattributed_rejects:
        # A rejected row whose id is unreadable may be any of the missing accounts.
        _carry_rows(con, spec, new_hash, current[0], [], withhold_deletions=True)
        return Verdict("loaded", f"{deleted} accounts missing but kept: {unattributed_rejects} rejected rows "
                                 "have no readable id, so no account is deleted by this snapshot")
    return Verdict("loaded", f"{deleted} accounts deleted" if deleted else None, deleted)


def accept_held(con: duckdb.DuckDBPyConnection, spec: SourceSpec, file_name: str, accepted_at: datetime) -> str:
    """An operator's decision: the held snapshot `file_name` is applied as delivered, its
    deletions included; accounts whose rows it rejected keep their rows from the snapshot
    in force now. Returns what was done."""
    rows = con.execute(
        "SELECT file_hash, reason FROM ingest_files WHERE source = ? AND file_name = ? AND status = 'held'",
        [spec.name, file_name]).fetchall()
    if not rows:
        raise ValueError(f"no held {spec.name} snapshot named {file_name}")
    held_hash, reason = rows[0]
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM {spec.raw_table} WHERE _snapshot_hash = ? AND _file_hash <> ?", [held_hash, held_hash])
        current = _in_force(con, spec.name)
        rejected = [r[0] for r in con.execute(
            "SELECT DISTINCT record_id FROM rejects WHERE file_hash = ? AND record_id IS NOT NULL", [held_hash]).fetchall()]
        if current is not None:
            _carry_rows(con, spec, held_hash, current[0], rejected, withhold_deletions=False)
        con.execute(
            "UPDATE ingest_files SET status = 'loaded', reason = ? WHERE file_hash = ? AND source = ? AND status = 'held'",
            [f"accepted by an operator at {accepted_at:%Y-%m-%d %H:%M} UTC; was held: {reason}", held_hash, spec.name])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
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
