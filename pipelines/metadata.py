"""Turns the plain report objects of the packages into Dagster materialization metadata."""

from __future__ import annotations

import dataclasses
import time
from contextlib import contextmanager
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
