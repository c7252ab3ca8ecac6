"""Where the pipeline's private working tables live: one DuckDB file."""

from __future__ import annotations

from pathlib import Path

import duckdb


def open_warehouse(path: Path | str, threads: int | None = None, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse file read-write.

    Only one process may hold it read-write at a time (DuckDB file locking); Dagster's
    `warehouse` pool keeps runs from colliding on it.
    """
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), config={"memory_limit": memory_limit} if memory_limit else {})
    # A pipeline's log is read by people: no progress bars from long queries.
    con.execute("SET enable_progress_bar = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ?",
            [name],
        ).fetchall()[0][0]
    )
