"""Publishing: a complete new version of the golden file, swapped in atomically.

DuckDB locks a file for its writer, so the pipeline never writes the published file in
place: it writes a new file beside it and `os.replace`s it over the old one. A reader that
has the old file open keeps reading the old version; the next reader opens the new one.

The new version is written as `.golden.duckdb.publishing-<pid>-<uuid>.tmp`: a process killed
while publishing leaves it (and its `.wal`) behind, and the writer's pid in the name lets a
later run remove exactly those of dead writers and nothing else.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from warehouse.golden import GOLDEN_DDL
from warehouse.published_comments import comment_published_tables
from warehouse.reminders import build_reminders
from warehouse.search_index import build_search_index

# published table -> (warehouse query, DDL of the published table)
PUBLISHED_TABLES = {
    "customers": ("SELECT * FROM golden_customers", GOLDEN_DDL.replace("CREATE TABLE IF NOT EXISTS golden_customers", "CREATE TABLE {db}.customers")),
    "customer_sources": ("SELECT golden_id, source, source_record_id, match_probability::DOUBLE AS match_probability FROM golden_sources", None),
    "golden_id_history": ("SELECT retired_id, golden_id, retired_at, reason FROM golden_id_history", None),
    "customer_changes": ("SELECT * FROM customer_changes", None),
    "review_queue": ("SELECT * FROM review_queue", None),
    "golden_provenance": ("SELECT * FROM golden_provenance", None),
    # Which decision each person's consent comes from, and why a yes was not published.
    "customer_consent": ("SELECT * FROM golden_consent", None),
}


@dataclass
class PublishReport:
    path: str
    customers: int
    customer_sources: int
    bytes: int


def publish(con: duckdb.DuckDBPyConnection, published_path: Path, run_at: datetime) -> PublishReport:
    published_path = Path(published_path).resolve()
    published_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = published_path.with_name(f".{published_path.name}.publishing-{os.getpid()}-{uuid.uuid4().hex}.tmp")
    alias = "next_version"
    attached = False
    try:
        con.execute(f"ATTACH '{temporary}' AS {alias}")
        attached = True
        for table, (query, ddl) in PUBLISHED_TABLES.items():
            if ddl:
                con.execute(ddl.format(db=alias))
                con.execute(f"INSERT INTO {alias}.{table} {query}")
            else:
                con.execute(f"CREATE TABLE {alias}.{table} AS {query}")
        # What staff look customers up by (web/ reads these), built from the same tables.
        build_search_index(con, alias)
        con.execute(
            f"CREATE TABLE {alias}.publication AS SELECT ?::TIMESTAMP AS published_at, "
            f"(SELECT count(*) FROM {alias}.customers) AS customers",
            [run_at],
        )
        build_reminders(con, alias)
        comment_published_tables(con, alias)
        counts = con.execute(
            f"SELECT (SELECT count(*) FROM {alias}.customers), (SELECT count(*) FROM {alias}.customer_sources)"
        ).fetchall()[0]
        con.execute(f"DETACH {alias}")
        attached = False
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, published_path)
    except BaseException:
        if attached:
            con.execute(f"DETACH {alias}")
        for leftover in (temporary, temporary.with_name(temporary.name + ".wal")):
            if leftover.exists():
                leftover.unlink()
        raise
    return PublishReport(str(published_path), counts[0], counts[1], published_path.stat().st_size)


def _writer_is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_abandoned_versions(published_path: Path) -> list[Path]:
    """Delete half-written versions (and their WAL) whose writing process is gone.

    Only names `publish` makes are touched, and only of dead writers: a version another
    process is writing right now stays. (A pid reused by an unrelated process keeps its
    file until a later run; in doubt, keep.)
    """
    published_path = Path(published_path).resolve()
    pattern = re.compile(rf"^\.{re.escape(published_path.name)}\.publishing-(\d+)-[0-9a-f]{{32}}\.tmp(\.wal)?$")
    removed = []
    if not published_path.parent.is_dir():
        return removed
    for path in sorted(published_path.parent.iterdir()):
        match = pattern.match(path.name)
        if match and not _writer_is_alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
