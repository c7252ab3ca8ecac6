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
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from warehouse.golden import GOLDEN_DDL
from warehouse.publish_delta import PER_PERSON, apply_changes, delta_base, last_linkage_runs, same_columns
from warehouse.published_comments import comment_published_tables
from warehouse.rebuilt_log import last_batch, prune
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
    # `full` (every table built anew) or `delta` (the last version copied, the touched
    # persons' rows rewritten: warehouse/publish_delta.py); how many persons were rewritten.
    mode: str = "full"
    customers_rewritten: int = 0


def _write_all(con: duckdb.DuckDBPyConnection, alias: str) -> None:
    for table, (query, ddl) in PUBLISHED_TABLES.items():
        if ddl:
            con.execute(ddl.format(db=alias))
            con.execute(f"INSERT INTO {alias}.{table} {query}")
        else:
            con.execute(f"CREATE TABLE {alias}.{table} AS {query}")
    # What staff look customers up by (web/ reads these), built from the same tables.
    build_search_index(con, alias)


# Published tables that between two erasures only grow, by rows numbered after the last
# (golden_ids.number_changes); a delta publish has no erasure since its base
# (publish_delta.delta_base), so the copy takes the rows after its last number instead of
# the whole history again, which grows with every run.
APPENDED = {"customer_changes": "change_id"}


def _appendable(con: duckdb.DuckDBPyConnection, alias: str, table: str, query: str) -> bool:
    """Whether the copy's `table` has the columns of `query` and every row is numbered."""
    unnumbered = con.execute(f"SELECT count(*) FROM ({query}) WHERE {APPENDED[table]} IS NULL").fetchall()[0][0]
    return same_columns(con, query, alias, table) and not unnumbered


def _write_changes(con: duckdb.DuckDBPyConnection, alias: str) -> int | None:
    """The copy of the last version brought up to date: the touched persons' rows, the
    rows of the change feed after its last, and the other tables that are not per person
    (history, review queue: small) written anew."""
    queries = {table: query for table, (query, _) in PUBLISHED_TABLES.items()}
    rewritten = apply_changes(con, alias, queries)
    if rewritten is None:
        return None
    for table in PUBLISHED_TABLES:
        if table in PER_PERSON:
            continue
        if table in APPENDED and _appendable(con, alias, table, queries[table]):
            number = APPENDED[table]
            con.execute(f"INSERT INTO {alias}.{table} SELECT * FROM ({queries[table]}) "
                        f"WHERE {number} > (SELECT coalesce(max({number}), 0) FROM {alias}.{table})")
            continue
        con.execute(f"DROP TABLE {alias}.{table}")
        con.execute(f"CREATE TABLE {alias}.{table} AS {queries[table]}")
    con.execute(f"DROP VIEW {alias}.reminders; DROP TABLE {alias}.reminder_settings; DROP TABLE {alias}.publication")
    return rewritten


def publish(con: duckdb.DuckDBPyConnection, published_path: Path, run_at: datetime,
            incremental: bool = True) -> PublishReport:
    """A new version of the published file, swapped in atomically: built from the
    warehouse in full, or (`incremental`, when `publish_delta.delta_base` allows) the
    last version with the touched persons rewritten; the same rows either way."""
    published_path = Path(published_path).resolve()
    published_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = published_path.with_name(f".{published_path.name}.publishing-{os.getpid()}-{uuid.uuid4().hex}.tmp")
    alias = "next_version"
    attached = False
    mode, rewritten = "full", 0
    runs = last_linkage_runs(con)
    # The golden step's persons up to this batch are in the version (warehouse/rebuilt_log.py).
    batch = last_batch(con)
    try:
        if incremental and delta_base(con, published_path):
            shutil.copyfile(published_path, temporary)
            con.execute(f"ATTACH '{temporary}' AS {alias}")
            attached = True
            changed = _write_changes(con, alias)
            if changed is None:
                # Written by another version of this code: its tables are not ours to patch.
                con.execute(f"DETACH {alias}")
                attached = False
                temporary.unlink()
            else:
                mode, rewritten = "delta", changed
        if not attached:
            con.execute(f"ATTACH '{temporary}' AS {alias}")
            attached = True
            _write_all(con, alias)
            rewritten = con.execute(f"SELECT count(*) FROM {alias}.customers").fetchall()[0][0]
        # Which run and model this version shows: the next run may start from it (delta_base).
        con.execute(
            f"CREATE TABLE {alias}.publication AS SELECT ?::TIMESTAMP AS published_at, "
            f"(SELECT count(*) FROM {alias}.customers) AS customers, ?::TIMESTAMP AS linkage_run_at, "
            f"?::VARCHAR AS model_version, ?::BIGINT AS golden_batch",
            [run_at, runs[0][0] if runs else None, runs[0][2] if runs else None, batch],
        )
        build_reminders(con, alias)
        comment_published_tables(con, alias)
        counts = con.execute(
            f"SELECT (SELECT count(*) FROM {alias}.customers), (SELECT count(*) FROM {alias}.customer_sources)"
        ).fetchall()[0]
        con.execute(f"CHECKPOINT {alias}")
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
    # Only once the version is in place (killed before, the next publish looks at these persons again).
    prune(con, batch)
    return PublishReport(str(published_path), counts[0], counts[1], published_path.stat().st_size, mode, rewritten)


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
