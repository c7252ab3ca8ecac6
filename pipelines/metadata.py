"""Turns the plain report objects of the packages into Dagster materialization metadata."""

from __future__ import annotations

import dataclasses
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator

import dagster as dg


def report_metadata(report: Any, prefix: str = "") -> dict[str, dg.MetadataValue]:
    """Every scalar field of a dataclass report (recursively for nested dataclasses and
    dicts of counts), so each materialization shows the figures its step produced."""
    if report is None:
        return {}
    items = dataclasses.asdict(report) if dataclasses.is_dataclass(report) else dict(report)
    metadata: dict[str, dg.MetadataValue] = {}
    for name, value in items.items():
        key = f"{prefix}{name}"
        if isinstance(value, bool):
            metadata[key] = dg.MetadataValue.bool(value)
        elif isinstance(value, int):
            metadata[key] = dg.MetadataValue.int(value)
        elif isinstance(value, float):
            metadata[key] = dg.MetadataValue.float(value)
        elif isinstance(value, str):
            metadata[key] = dg.MetadataValue.text(value)
        elif isinstance(value, dict) and all(isinstance(v, (int, float)) for v in value.values()):
            for sub, v in value.items():
                metadata[f"{key}.{sub}"] = (
                    dg.MetadataValue.int(v) if isinstance(v, int) else dg.MetadataValue.float(v)
                )
        elif isinstance(value, (list, tuple, dict)):
            metadata[key] = dg.MetadataValue.json(_jsonable(value))
    return metadata


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)


@contextmanager
def timed(metadata: dict[str, dg.MetadataValue]) -> Iterator[None]:
    start = time.perf_counter()
    yield
    metadata["runtime_seconds"] = dg.MetadataValue.float(round(time.perf_counter() - start, 3))


def table_metadata(con, table: str) -> dict[str, dg.MetadataValue]:
    """What the catalog shows for a table asset: its row count and its columns."""
    columns = con.execute(
        "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' "
        "ORDER BY column_index", [table]).fetchall()
    if not columns:
        return {}
    rows = con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]
    schema = dg.TableSchema(columns=[dg.TableColumn(name, str(kind), description=comment) for name, kind, comment in columns])
    return {"dagster/row_count": dg.MetadataValue.int(rows), "dagster/column_schema": dg.MetadataValue.table_schema(schema)}


def counts_table(counts: dict[str, int], key: str, value: str) -> dg.MetadataValue:
    """Counts per name as a small table (long names stay readable, unlike one key each)."""
    schema = dg.TableSchema(columns=[dg.TableColumn(key, "string"), dg.TableColumn(value, "int")])
    return dg.MetadataValue.table([dg.TableRecord({key: k, value: int(v)}) for k, v in counts.items()], schema=schema)


def run_started_at(context: dg.AssetExecutionContext) -> datetime:
    """One timestamp for the whole run, so every table it writes agrees on 'when'."""
    record = context.instance.get_run_record_by_id(context.run.run_id)
    started = record.start_time if record and record.start_time else None
    if started:
        return datetime.fromtimestamp(started, tz=timezone.utc).replace(tzinfo=None)
    return datetime.now(timezone.utc).replace(tzinfo=None)
