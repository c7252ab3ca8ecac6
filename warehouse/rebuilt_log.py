"""Which persons the golden step rebuilt since a published version: where a delta publish looks.

A delta publish (warehouse/publish_delta.py) finds the persons whose published rows differ
from the last version by comparing per-person digests of both sides. Over everyone that is a
pass over every customer, source record and provenance row on both sides (at a million
persons 12 million provenance rows, the largest single part of a quiet day's publish). But
the warehouse's per-person tables (`golden_customers`, `golden_sources`,
`golden_provenance`, `golden_consent`) are written only by the golden step, and only for the
persons it rebuilds (warehouse/golden_scope.py); an erasure, the one other writer, makes the
next publish a full one. So a person the golden step did not rebuild since the version was
written has the rows the version holds, and the digests need only be compared for the
persons rebuilt since: still compared, not trusted, but over a few instead of everyone.

Each golden step appends its persons as one numbered batch (`golden_rebuilt`; a batch that
rebuilt everyone is one row `*`); a published version names the last batch it shows
(`publication.golden_batch`). A publish prunes the batches its version shows; a version of
another published file that is older than the pruning finds the log incomplete
(`golden_rebuilt_pruned`) and compares everyone, as does a version without a batch (written
by an earlier version of this code) or a range holding a batch of everyone.
"""

from __future__ import annotations

import duckdb

from warehouse.connection import table_exists

LOG_DDL = """
CREATE TABLE IF NOT EXISTS golden_rebuilt (batch BIGINT NOT NULL, golden_id VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS golden_rebuilt_pruned (up_to BIGINT NOT NULL);
"""
EVERYONE = "*"
CANDIDATES = "_rebuilt_since"


def log_rebuilt(con: duckdb.DuckDBPyConnection, persons: str | None) -> int:
    """Append the golden ids of the table `persons` (None: everyone) as the next batch; its number.

    Called before the golden step writes any person's rows: a step killed after writing some
    has logged them, and the next one logs what it rebuilds again."""
    con.execute(LOG_DDL)
    batch = con.execute(
        "SELECT greatest((SELECT coalesce(max(batch), 0) FROM golden_rebuilt), "
        "(SELECT coalesce(max(up_to), 0) FROM golden_rebuilt_pruned)) + 1").fetchall()[0][0]
    if persons is None:
        con.execute("INSERT INTO golden_rebuilt VALUES (?, ?)", [batch, EVERYONE])
    else:
        con.execute(f"INSERT INTO golden_rebuilt SELECT DISTINCT ?, golden_id FROM {persons} WHERE golden_id IS NOT NULL",
                    [batch])
    return batch


def last_batch(con: duckdb.DuckDBPyConnection) -> int | None:
    """The newest batch: what a version published now shows (None: no log yet)."""
    if not table_exists(con, "golden_rebuilt"):
        return None
    return con.execute("SELECT greatest((SELECT max(batch) FROM golden_rebuilt), "
                       "(SELECT max(up_to) FROM golden_rebuilt_pruned))").fetchall()[0][0]


def rebuilt_since(con: duckdb.DuckDBPyConnection, shown: int | None) -> str | None:
    """`_rebuilt_since(golden_id)`, the persons rebuilt after batch `shown` (what a version
    shows), and its name; None when the log cannot tell (then every person is compared)."""
    if shown is None or not table_exists(con, "golden_rebuilt"):
        return None
    pruned, everyone = con.execute(
        "SELECT (SELECT coalesce(max(up_to), 0) FROM golden_rebuilt_pruned), "
        "(SELECT count(*) FROM golden_rebuilt WHERE batch > $shown AND golden_id = $everyone)",
        {"shown": shown, "everyone": EVERYONE}).fetchall()[0]
    if pruned > shown or everyone:
        return None
    con.execute(f"CREATE OR REPLACE TEMP TABLE {CANDIDATES} AS "
                "SELECT DISTINCT golden_id FROM golden_rebuilt WHERE batch > ?", [shown])
    return CANDIDATES


def prune(con: duckdb.DuckDBPyConnection, shown: int | None) -> None:
    """After a version showing batch `shown` is in place: its batches are no longer needed."""
    if shown is None or not table_exists(con, "golden_rebuilt"):
        return
    con.execute("DELETE FROM golden_rebuilt WHERE batch <= ?", [shown])
    up_to = con.execute("SELECT greatest(max(up_to), ?) FROM golden_rebuilt_pruned", [shown]).fetchall()[0][0]
    con.execute("DELETE FROM golden_rebuilt_pruned")
    con.execute("INSERT INTO golden_rebuilt_pruned VALUES (?)", [up_to])
