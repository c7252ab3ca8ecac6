"""Dagster resources: the pipeline's settings and its warehouse connection."""

from __future__ import annotations

import re
import time
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb

from pipelines.crash_recovery import hold_run_lock, holds_run_lock, liveness_tags, recover_dead_runs
from warehouse.connection import open_warehouse
from warehouse.publish import remove_abandoned_versions
from warehouse.settings import Settings

_DEFAULTS = Settings.from_env()

# DuckDB's message when another process holds the file read-write; it names that process.
_LOCKED = re.compile(r"Could not set lock on file|Conflicting lock is held", re.IGNORECASE)
_HOLDER = re.compile(r"\(PID (\d+)\)")


class KundenstammSettings(dg.ConfigurableResource):
    """Paths and thresholds; defaults come from KUNDENSTAMM_* environment variables."""

    landing_dir: str = str(_DEFAULTS.landing_dir)
    warehouse_path: str = str(_DEFAULTS.warehouse_path)
    published_path: str = str(_DEFAULTS.published_path)
    reports_dir: str = str(_DEFAULTS.reports_dir)
    match_threshold: float = _DEFAULTS.match_threshold
    review_lower: float = _DEFAULTS.review_lower
    review_upper: float = _DEFAULTS.review_upper
    consent_sure_probability: float = _DEFAULTS.consent_sure_probability
    memory_limit: str = _DEFAULTS.memory_limit
    max_value_length: int = _DEFAULTS.max_value_length
    max_free_text_length: int = _DEFAULTS.max_free_text_length
    snapshot_max_deleted_share: float = _DEFAULTS.snapshot_max_deleted_share
    snapshot_max_rejected_share: float = _DEFAULTS.snapshot_max_rejected_share
    max_export_age_hours: float = _DEFAULTS.max_export_age_hours
    # None: beside the published file (Settings.outbox_root, Settings.routing_path).
    outbox_dir: str | None = None if _DEFAULTS.outbox_dir is None else str(_DEFAULTS.outbox_dir)
    routing_file: str | None = None if _DEFAULTS.routing_file is None else str(_DEFAULTS.routing_file)
    refit_after_hours: float = _DEFAULTS.refit_after_hours
    refit_max_new_share: float = _DEFAULTS.refit_max_new_share
    refit: bool = _DEFAULTS.refit
    # None: KUNDENSTAMM_ENGINE / KUNDENSTAMM_SPARK_MASTER of the run, read when it starts
    # (`settings()`), not when this module is imported.
    engine: str | None = None
    spark_master: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "KundenstammSettings":
        values = {f.name: getattr(settings, f.name) for f in fields(Settings)}
        return cls(**{name: str(v) if isinstance(v, Path) else v for name, v in values.items()})

    def settings(self) -> Settings:
        values = {f.name: getattr(self, f.name) for f in fields(Settings)}
        if values["engine"] is None or values["spark_master"] is None:
            now = Settings.from_env()
            values["engine"] = values["engine"] or now.engine
            values["spark_master"] = values["spark_master"] or now.spark_master
        return Settings.from_env(environ={}, **values)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """At the start of a run launched by the daemon (or any run not started by our CLI):
        prove this run alive for its whole process, and clear up after runs that died."""
        instance, run_id = context.instance, (context.run.run_id if context.run else None)
        if instance is None or run_id is None or instance.is_ephemeral or holds_run_lock(run_id):
            # No shared instance, or the CLI already did all this before starting the run.
            return
        # Held until this process exits: released earlier, a later run could see this run
        # still STARTED with a free lock in the moment before its end is recorded.
        hold_run_lock(instance, run_id)
        instance.add_run_tags(run_id, liveness_tags())
        for recovered in recover_dead_runs(instance):
            context.log.warning(recovered.describe())
        for path in remove_abandoned_versions(Path(self.published_path)):
            context.log.warning(f"removed half-written publish file of a dead run: {path}")

    @contextmanager
    def warehouse(self, one_transaction: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """The warehouse file, opened read-write for one step and closed after it.

        Steps hold it only while they work, so the `warehouse` pool (dagster.yaml) is what
        keeps two runs from writing it at once. Someone else holding the file (an analyst's
        read-write session, a script) makes the step wait and say so, not fail.

        With `one_transaction` (the default) the step's writes are one transaction: a step
        killed halfway leaves the warehouse as the previous step left it. Steps that commit
        in smaller units themselves (ingest: one file at a time; erasure) pass False.
        """
        con = _open_waiting(Path(self.warehouse_path), self.memory_limit)
        try:
            if one_transaction:
                con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                if one_transaction:
                    con.execute("ROLLBACK")
                raise
            if one_transaction:
                con.execute("COMMIT")
        finally:
            # Also on failure: a failed step must release the file lock.
            con.close()


def _open_waiting(path: Path, memory_limit: str, poll_seconds: float = 2.0) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; while another process holds it, log once who, and keep trying."""
    said = False
    while True:
        try:
            return open_warehouse(path, memory_limit=memory_limit)
        except duckdb.IOException as error:
            if not _LOCKED.search(str(error)):
                raise
            if not said:
                holder = _HOLDER.search(str(error))
                dg.get_dagster_logger().warning(
                    f"warehouse {path} is busy (held by {'PID ' + holder.group(1) if holder else 'another process'}); "
                    "waiting for it to be free")
                said = True
            # DuckDB offers no wait on its lock; a short poll costs nothing against a step's runtime.
            time.sleep(poll_seconds)
