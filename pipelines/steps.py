"""All steps of one run as plain function calls, in asset order, without Dagster.

For benchmarks, scripts and tests that exercise the packages together; the Dagster assets
call the very same functions one by one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from linkage.delta import build_pairs, cluster_for_plan, plan_linkage, score_for_plan
from linkage.features import build_features
from linkage.settings import GERMAN_SETTINGS
from sources.ingest import SPECS, ingest_source, record_unknown_files
from sources.staging import build_staged_records
from warehouse.connection import open_warehouse
from warehouse.erasure import apply_erasure_requests
from warehouse.golden import build_golden
from warehouse.outbox import deliver_changes
from warehouse.publish import publish
from warehouse.routing import load_routing
from warehouse.settings import Settings


@dataclass
class RunSummary:
    reports: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)


def run_all_steps(settings: Settings, run_at: datetime | None = None, publish_result: bool = True,
                  deliver_outboxes: bool = True, until: str | None = None) -> RunSummary:
    """The run's steps in order; `until`: the name of the last step to run (a test's or a
    benchmark's look at the state between two steps)."""
    run_at = run_at or datetime.now(timezone.utc).replace(tzinfo=None)
    summary = RunSummary()
    # Read first: a routing file in error stops the run before it changes anything.
    routing = load_routing(settings) if publish_result and deliver_outboxes else None
    con = open_warehouse(settings.warehouse_path, memory_limit=settings.memory_limit)
    try:
        steps = [
            ("ingest", lambda: {s: ingest_source(con, s, settings.landing_dir, settings.ingest_limits()).summary()
                                for s in SPECS} | {"landing": record_unknown_files(con, settings.landing_dir).summary()}),
            # Before linkage, so this run links the same records as every later one.
            ("erasure", lambda: apply_erasure_requests(con, run_at, settings.match_threshold)),
            ("staging", lambda: build_staged_records(con)),
            ("features", lambda: build_features(con, everything=settings.refit)),
            ("blocking", lambda: build_pairs(
                con, GERMAN_SETTINGS, plan_linkage(con, GERMAN_SETTINGS, run_at, **settings.refit_policy()), run_at,
                settings.engine_choice())),
            ("scoring", lambda: score_for_plan(con, GERMAN_SETTINGS, settings.engine_choice())),
            ("clustering", lambda: cluster_for_plan(con, settings.match_threshold, GERMAN_SETTINGS,
                                                    settings.engine_choice())[0]),
            ("golden", lambda: build_golden(con, settings, run_at)),
        ]
        if publish_result:
            steps.append(("publish", lambda: publish(con, settings.published_path, run_at)))
            if deliver_outboxes:
                # Only published changes go out.
                steps.append(("outbox", lambda: deliver_changes(con, settings.outbox_root(), routing, run_at)))
        if until is not None and until not in [name for name, _ in steps]:
            raise ValueError(f"no step {until!r}: one of {', '.join(name for name, _ in steps)}")
        for name, step in steps:
            start = time.perf_counter()
            summary.reports[name] = step()
            summary.seconds[name] = time.perf_counter() - start
            if name == until:
                break
    finally:
        con.close()
    return summary
