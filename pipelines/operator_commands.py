"""Commands an operator types after the pipeline held something back for them."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

from sources.ingest import SPECS
from sources.snapshots import accept_held
from warehouse.connection import open_warehouse
from warehouse.settings import Settings


def accept_snapshot(args: argparse.Namespace) -> int:
    """Apply a held-back snapshot as delivered: the operator has checked it."""
    settings = Settings.from_env()
    con = open_warehouse(settings.warehouse_path, memory_limit=settings.memory_limit)
    try:
        sources = [s for (s,) in con.execute(
            "SELECT DISTINCT source FROM ingest_files WHERE file_name = ? AND status = 'held'", [args.file]).fetchall()]
        if not sources:
            print(f"no held-back snapshot named {args.file} (see status 'held' in ingest_files or the report)")
            return 1
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        for source in sources:
            print(accept_held(con, SPECS[source], args.file, now))
    finally:
        con.close()
    print("the next run (`kundenstamm run`, the sensor or the nightly schedule) publishes it")
    return 0


def check_drift(args: argparse.Namespace) -> int:
    """How far the delta runs are from a full re-link with the same model (linkage/drift.py)."""
    from linkage.drift import DRIFT_BOUND, check_drift as measure

    settings = Settings.from_env()
    if not settings.warehouse_path.exists():
        print(f"no warehouse at {settings.warehouse_path.resolve()}: run the pipeline first")
        return 2
    report = measure(settings.warehouse_path, settings.match_threshold, memory_limit=settings.memory_limit)
    print(report.describe())
    print(f"(full re-link in a scratch copy: {report.seconds:.1f} s; the warehouse was only read)")
    return 1 if report.share > DRIFT_BOUND else 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    drift = sub.add_parser("check-drift", help="compare the persons of the delta runs with a full re-link "
                           "by the same model; exit code 1 when a re-fit is advised")
    drift.set_defaults(func=check_drift)
    accept = sub.add_parser("accept-snapshot", help="apply a snapshot that was held back (after checking it)")
    accept.add_argument("file", help="the file name, as in the report or ingest_files")
    accept.set_defaults(func=accept_snapshot)
