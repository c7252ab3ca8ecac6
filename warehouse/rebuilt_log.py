"""Which persons the golden step rebuilt since a published version: where a delta publish looks.

A delta publish (warehouse/publish_delta.py) finds the persons whose published rows differ
from the last version by comparing per-person digests of both sides. Over everyone that is a
pass over every customer, source record, provenance row and staged record on both sides (at
a million persons 12 million provenance rows: the largest single part of a quiet day's
publish). But the warehouse's per-person tables (`golden_customers`, `golden_sources`,
`golden_provenance`, `golden_consent`) are written only by the golden step, and only for the
persons it rebuilds (warehouse/golden_scope.py); an erasure, the one other writer, makes the
next publish a full one. And a record whose staged values changed is an input of the golden
step: its persons are rebuilt. So a person the golden step did not rebuild since the version
was written has the rows the version holds, provided the golden step ran after the last
staging; the digests need only be compared for the persons rebuilt since: still compared,
not trusted, but over a few instead of everyone.

Each golden step logs its persons as one numbered batch (`golden_rebuilt`, and a row in
`golden_rebuilt_batches` that says whether it rebuilt everyone and which staging it read);
a published version names the last batch it shows (`publication.golden_batch`); a publish
prunes the persons of the batches its version shows. Everyone is compared when the log
cannot tell: a version without a batch (written by an earlier version of this code) or older
than the pruning (another published file's publish pruned past it) or newer than the log
(a warehouse restored from a backup), a batch of everyone since, or records staged after
the last golden step (an asset materialized on its own).

Every step of the log is one statement, and each prefix of a step leaves a log that says
at least as much as the truth: numbers only grow, the pruning mark is raised before the
persons it covers go.
"""

from __future__ import annotations

import duckdb

from sources.staging import staging_generation
from warehouse.connection import table_exists

LOG_DDL = """
CREATE TABLE IF NOT EXISTS golden_rebuilt (batch BIGINT NOT NULL, golden_id VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS golden_rebuilt_batches (batch BIGINT NOT NULL, everyone BOOLEAN NOT NULL,
                                                   staging_generation BIGINT);
CREATE TABLE IF NOT EXISTS golden_rebuilt_pruned (up_to BIGINT NOT NULL);
"""
LOG_TABLES = ("golden_rebuilt", "golden_rebuilt_batches", "golden_rebuilt_pruned")
CANDIDATES = "_rebuilt_since"
_NEWEST = """greatest((SELECT max(batch) FROM golden_rebuilt), (SELECT max(batch) FROM golden_rebuilt_batches),
                      (SELECT max(up_to) FROM golden_rebuilt_pruned))"""


def _has_log(con: duckdb.DuckDBPyConnection) -> bool:
    return all(table_exists(con, t) for t in LOG_TABLES)


def log_rebuilt(con: duckdb.DuckDBPyConnection, persons: str | None) -> int:
    """Log the golden ids of the table `persons` (None: everyone) as the next batch; its number.

    Called before the golden step writes any person's rows: a step killed after writing some
    has logged them (killed before its batch's row, its persons stay in the log as a few more
    to compare), and the next one logs what it rebuilds again."""
    con.execute(LOG_DDL)
    batch = con.execute(f"SELECT coalesce({_NEWEST}, 0) + 1").fetchall()[0][0]
    if persons is not None:
        con.execute(f"INSERT INTO golden_rebuilt SELECT DISTINCT ?, golden_id FROM {persons} WHERE golden_id IS NOT NULL",
                    [batch])
    # Last: the batch is complete once its row is in.
    con.execute("INSERT INTO golden_rebuilt_batches VALUES (?, ?, ?)", [batch, persons is None, staging_generation(con)])
    return batch


def last_batch(con: duckdb.DuckDBPyConnection) -> int | None:
    """The newest complete batch: what a version published now shows (None: no log yet)."""
    if not _has_log(con):
        return None
    return con.execute("SELECT max(batch) FROM golden_rebuilt_batches").fetchall()[0][0]


def rebuilt_since(con: duckdb.DuckDBPyConnection, shown: int | None) -> str | None:
    """`_rebuilt_since(golden_id)`, the persons rebuilt after batch `shown` (what a version
    shows), and its name; None when the log cannot tell (then every person is compared)."""
    if shown is None or not _has_log(con):
        return None
    pruned, newest, everyone, staged_then = con.execute(
        """
        SELECT (SELECT coalesce(max(up_to), 0) FROM golden_rebuilt_pruned),
               (SELECT max(batch) FROM golden_rebuilt_batches),
               (SELECT count(*) FROM golden_rebuilt_batches WHERE batch > $shown AND everyone),
               (SELECT arg_max(staging_generation, batch) FROM golden_rebuilt_batches)
        """, {"shown": shown}).fetchall()[0]
    if pruned > shown or newest is None or shown > newest or everyone or staged_then != staging_generation(con):
        return None
    con.execute(f"CREATE OR REPLACE TEMP TABLE {CANDIDATES} AS "
                "SELECT DISTINCT golden_id FROM golden_rebuilt WHERE batch > ?", [shown])
    return CANDIDATES


def prune(con: duckdb.DuckDBPyConnection, shown: int | None) -> None:
    """After a version showing batch `shown` is in place: its batches' persons are no longer
    needed. The mark first, then the persons: killed in between, the log keeps a few more."""
    if shown is None or not _has_log(con):
        return
    con.execute("INSERT INTO golden_rebuilt_pruned VALUES (?)", [shown])
    con.execute("DELETE FROM golden_rebuilt_pruned WHERE up_to < (SELECT max(up_to) FROM golden_rebuilt_pruned)")
    con.execute("DELETE FROM golden_rebuilt WHERE batch <= ?", [shown])
    # The newest batch's row stays: it says which staging the golden step read.
    con.execute("DELETE FROM golden_rebuilt_batches WHERE batch < ?", [shown])
