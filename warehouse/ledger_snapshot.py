"""The file ledger's content hashes in a small file beside the warehouse.

Which files were already loaded is known by content (`ingest_files.file_hash`). The sensor
needs that answer while a run holds the warehouse read-write, when DuckDB lets no other
process open it, so every ingest step also writes the set of known hashes here, atomically.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb

from warehouse.connection import table_exists


def snapshot_path(warehouse_path: Path) -> Path:
    warehouse_path = Path(warehouse_path)
    return warehouse_path.with_name(f"{warehouse_path.name}.ledger.json")


def known_file_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every content the ledger has seen: loaded, rejected or recognised as a duplicate."""
    if not table_exists(con, "ingest_files"):
        return set()
    return {row[0] for row in con.execute("SELECT DISTINCT file_hash FROM ingest_files").fetchall()}


def write_ledger_snapshot(con: duckdb.DuckDBPyConnection, warehouse_path: Path) -> Path:
    """Write the hashes to a temporary file and rename it: a reader sees the old set or the new."""
    target = snapshot_path(warehouse_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps({"file_hashes": sorted(known_file_hashes(con))}), encoding="utf-8")
    os.replace(partial, target)
    return target


def read_known_hashes(warehouse_path: Path) -> set[str] | None:
    """The hashes the ledger knows; None if that cannot be known right now.

    From the snapshot when there is one; a warehouse made before snapshots existed is read
    directly (read-only), which fails while a run holds it: then None, ask again later.
    """
    warehouse_path = Path(warehouse_path)
    snapshot = snapshot_path(warehouse_path)
    if snapshot.exists():
        return set(json.loads(snapshot.read_text(encoding="utf-8"))["file_hashes"])
    if not warehouse_path.exists():
        return set()
    try:
        with duckdb.connect(str(warehouse_path), read_only=True) as con:
            return known_file_hashes(con)
    except duckdb.IOException:
        return None
