"""Dagster resources: the pipeline's settings and its warehouse connection."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from warehouse.settings import Settings

_DEFAULTS = Settings.from_env()


class KundenstammSettings(dg.ConfigurableResource):
    """Paths and thresholds; defaults come from KUNDENSTAMM_* environment variables."""

    landing_dir: str = str(_DEFAULTS.landing_dir)
    warehouse_path: str = str(_DEFAULTS.warehouse_path)
    published_path: str = str(_DEFAULTS.published_path)
    reports_dir: str = str(_DEFAULTS.reports_dir)
    match_threshold: float = _DEFAULTS.match_threshold
    review_lower: float = _DEFAULTS.review_lower
    review_upper: float = _DEFAULTS.review_upper
    memory_limit: str = _DEFAULTS.memory_limit
    max_value_length: int = _DEFAULTS.max_value_length
    max_free_text_length: int = _DEFAULTS.max_free_text_length
    snapshot_max_deleted_share: float = _DEFAULTS.snapshot_max_deleted_share
    snapshot_max_rejected_share: float = _DEFAULTS.snapshot_max_rejected_share

    @classmethod
    def from_settings(cls, settings: Settings) -> "KundenstammSettings":
        values = {f.name: getattr(settings, f.name) for f in fields(Settings)}
        return cls(**{name: str(v) if isinstance(v, Path) else v for name, v in values.items()})

    def settings(self) -> Settings:
        return Settings.from_env(environ={}, **{f.name: getattr(self, f.name) for f in fields(Settings)})

    @contextmanager
    def warehouse(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The warehouse file, opened read-write for one step and closed after it.

        Steps hold it only while they work, so the `warehouse` pool (dagster.yaml) is what
        keeps two runs from writing it at once; dagster-duckdb's connection backs off and
        retries while someone else still holds the file lock.
        """
        Path(self.warehouse_path).parent.mkdir(parents=True, exist_ok=True)
        resource = DuckDBResource(database=self.warehouse_path, connection_config={"memory_limit": self.memory_limit})
        with resource.get_connection() as con:
            con.execute("SET enable_progress_bar = false")
            try:
                yield con
            finally:
                # dagster-duckdb closes only on success; a failed step must release the lock too.
                con.close()
