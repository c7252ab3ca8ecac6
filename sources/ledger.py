"""The file ledger: which files were seen, by content, and what became of each."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

LEDGER_DDL = """
CREATE TABLE IF NOT EXISTS ingest_files (
    file_hash VARCHAR,
    source VARCHAR,
    file_name VARCHAR,
    file_path VARCHAR,
    file_date TIMESTAMP,
    status VARCHAR,          -- loaded | held | duplicate | rejected | ignored (see FILE_STATUSES)
    reason VARCHAR,
    rows_read BIGINT,
    rows_loaded BIGINT,
    rows_rejected BIGINT,
    loaded_at TIMESTAMP,
    rows_of_erased_persons BIGINT  -- left out: their person asked to be erased
);
-- Added later; a warehouse made before gets them on its next run.
ALTER TABLE ingest_files ADD COLUMN IF NOT EXISTS lines_read BIGINT;
ALTER TABLE ingest_files ADD COLUMN IF NOT EXISTS encoding VARCHAR;
"""

FILE_STATUSES = {
    "loaded": "read; its rows are in force (a snapshot: unless a newer one is)",
    "held": "a snapshot read but held back: applying it would delete too much, or it is older than the one in force",
    "duplicate": "the same bytes as a file handled before: nothing to do",
    "rejected": "unreadable as a whole: nothing of it was used",
    "ignored": "not an export this pipeline reads (unknown folder or extension, no export date in the name)",
}

_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(\d{2}))?")


@dataclass(frozen=True)
class FileReport:
    file_name: str
    file_hash: str
    status: str
    reason: str | None
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rows_of_erased_persons: int = 0
    lines_read: int = 0
    encoding: str | None = None


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_date(name: str) -> datetime | None:
    """The export time in a file name (`customers_2026-11-21T0600.jsonl`, `kunden_2026-11-21.csv`)."""
    match = _DATE_IN_NAME.search(name)
    if not match:
        return None
    year, month, day, hour, minute = match.groups()
    try:
        return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0))
    except ValueError:
        return None


def known_hashes(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Content hash -> file name for every file that was read to the end (loaded or rejected)."""
    rows = con.execute(
        "SELECT file_hash, first(file_name ORDER BY loaded_at) FROM ingest_files "
        "WHERE status IN ('loaded', 'held', 'rejected') GROUP BY file_hash"
    ).fetchall()
    return dict(rows)


def record_file(
    con: duckdb.DuckDBPyConnection, source: str, path: Path, digest: str, report: FileReport, loaded_at: datetime
) -> None:
    con.execute(
        "INSERT INTO ingest_files (file_hash, source, file_name, file_path, file_date, status, reason, rows_read, "
        "rows_loaded, rows_rejected, loaded_at, rows_of_erased_persons, lines_read, encoding) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [digest, source, path.name, str(path), file_date(path.name), report.status, report.reason,
         report.rows_read, report.rows_loaded, report.rows_rejected, loaded_at, report.rows_of_erased_persons,
         report.lines_read, report.encoding],
    ).fetchall()


def newest_delivery(con: duckdb.DuckDBPyConnection, source: str) -> datetime | None:
    """When the newest export of a source was taken in (a retry of an old one does not count)."""
    rows = con.execute("SELECT max(loaded_at) FROM ingest_files WHERE source = ? AND status IN ('loaded', 'held')",
                       [source]).fetchall()
    return rows[0][0] if rows else None
