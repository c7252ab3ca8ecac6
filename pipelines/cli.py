"""`kundenstamm` command: run the pipeline on a local Dagster instance, make demo data."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from pipelines.operator_commands import add_commands as add_operator_commands
from warehouse.settings import Settings
from web.cli import add_commands as add_web_commands

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def ensure_dagster_home() -> Path:
    """A persistent local instance (runs, event logs, sensor cursors) with our dagster.yaml."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / ".dagster_home"))).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        # Copied whole and renamed into place: a process starting beside us reads all or nothing.
        partial = home / f".dagster.yaml.{os.getpid()}.tmp"
        shutil.copyfile(PROJECT_ROOT / "dagster.yaml", partial)
        os.replace(partial, config)
    return home


def open_instance():
    """The local Dagster instance, its storage created by one process at a time.

    Dagster's SQLite storages create their tables on first use without a lock of their own:
    two first runs at once on an empty DAGSTER_HOME crash (`table secondary_indexes already
    exists`). Under an flock the first process creates them, the second finds them made.
    """
    import fcntl

    import dagster as dg

    home = ensure_dagster_home()
    with open(home / ".kundenstamm-init.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        instance = dg.DagsterInstance.get()
        # Touch every storage so each creates (or migrates to) its schema now, under the lock.
        instance.get_runs(limit=1)
        instance.event_log_storage.get_concurrency_keys()
        instance.all_instigator_state()
    return instance


def landing_is_empty(landing_dir: Path) -> bool:
    return not landing_dir.exists() or not any(p.is_file() for p in landing_dir.rglob("*"))


def nothing_to_run_on(settings: Settings) -> str | None:
    """Why a run would have nothing to work on: no export files and no earlier state."""
    if landing_is_empty(settings.landing_dir) and not settings.warehouse_path.exists():
        from sources.ingest import SOURCE_NAMES

        folders = ", ".join(f"{name}/" for name in (*SOURCE_NAMES, "erasure"))
        return (f"nothing to do: the landing folder {settings.landing_dir.resolve()} holds no export files "
                f"and there is no warehouse yet ({settings.warehouse_path.resolve()}).\n"
                f"Drop exports into its subfolders ({folders}; formats in docs/source-exports.md), "
                "or run `kundenstamm demo` to generate demo exports.")
    return None


def run_pipeline(settings: Settings) -> bool:
    """Materialize every asset once, in-process, recorded in the local Dagster instance.

    Before it starts, runs that died are recovered (marked failed, their pool slots freed,
    their half-written publish files removed) and a run still alive is waited for.
    """
    from dagster._core.utils import make_new_run_id

    from pipelines.crash_recovery import claim_start, liveness_tags, release_run_lock
    from pipelines.definitions import build_definitions
    from pipelines.resources import KundenstammSettings
    from warehouse.publish import remove_abandoned_versions

    instance = open_instance()
    run_id = make_new_run_id()
    # The run's lock is held from before its record exists until after its end is recorded.
    for recovered in claim_start(instance, run_id, say=lambda text: print(text, flush=True)):
        print(recovered.describe(), flush=True)
    try:
        for path in remove_abandoned_versions(settings.published_path):
            print(f"removed half-written publish file of a dead run: {path}", flush=True)
        resource = KundenstammSettings.from_settings(settings)
        job = build_definitions(resource).resolve_job_def("kundenstamm")
        # Steps, checks and failures on the console; every engine event stays in the instance's log.
        quiet = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
        result = job.execute_in_process(
            instance=instance, raise_on_error=False, run_config=quiet, run_id=run_id, tags=liveness_tags())
    finally:
        release_run_lock(instance, run_id)
    failed_checks = [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.asset_check_evaluation_data.passed
    ]
    for check in failed_checks:
        print(f"check failed: {check.asset_key.to_user_string()} / {check.check_name}", file=sys.stderr)
    return result.success


def _cmd_demo(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if landing_is_empty(settings.landing_dir):
        from demo.generate import generate

        out = settings.landing_dir.parent / "demo"
        print(f"landing folder {settings.landing_dir} is empty: generating demo exports for {args.persons} persons")
        generate(out, persons=args.persons, seed=args.seed, days=args.days, landing_dir=settings.landing_dir)
        print(f"ground truth for the demo data: {out / 'truth'}")
    ok = run_pipeline(settings)
    _print_where(settings, ok)
    return 0 if ok else 1


def _cmd_run(args: argparse.Namespace) -> int:
    # --refit: this run fits the linkage model anew instead of linking only the delta.
    settings = Settings.from_env(refit=True if args.refit else None)
    reason = nothing_to_run_on(settings)
    if reason:
        print(reason, file=sys.stderr)
        return 2
    ok = run_pipeline(settings)
    _print_where(settings, ok)
    return 0 if ok else 1


def _cmd_generate(args: argparse.Namespace) -> int:
    from demo.generate import generate

    landing = Path(args.landing) if args.landing else None
    summary = generate(Path(args.out), persons=args.persons, seed=args.seed, days=args.days, landing_dir=landing)
    print(summary)
    return 0


def _print_where(settings: Settings, ok: bool) -> None:
    print()
    print("run succeeded" if ok else "run FAILED: the previously published version (if any) stays in place")
    if settings.published_path.exists():
        import duckdb

        with duckdb.connect(str(settings.published_path), read_only=True) as con:
            persons, records, review = con.execute(
                "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM customer_sources), "
                "(SELECT count(*) FROM review_queue)").fetchall()[0]
        print(f"published:       {persons:,} customers from {records:,} source records, {review:,} pairs await review")
    print(f"golden table:    {settings.published_path.resolve()}")
    print(f"  query it:      .venv/bin/python -c \"import duckdb; print(duckdb.connect('{settings.published_path}', "
          f"read_only=True).sql('FROM customers LIMIT 5'))\"")
    print(f"quality report:  {(settings.reports_dir / 'index.html').resolve()}")
    print(f"warehouse:       {settings.warehouse_path.resolve()}  (pipeline's private working state)")
    print(f"Dagster UI:      DAGSTER_HOME={os.environ.get('DAGSTER_HOME')} .venv/bin/dagster dev")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kundenstamm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="generate demo exports if the landing folder is empty, then run")
    demo.add_argument("--persons", type=int, default=5000)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--days", type=int, default=2)
    demo.set_defaults(func=_cmd_demo)

    run = sub.add_parser("run", help="run the whole pipeline once on what is in the landing folder")
    run.add_argument("--refit", action="store_true",
                     help="fit the linkage model anew and re-link every record (default: only when due)")
    run.set_defaults(func=_cmd_run)

    gen = sub.add_parser("generate", help="write demo exports with ground truth")
    gen.add_argument("--persons", type=int, default=10000)
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--days", type=int, default=2)
    gen.add_argument("--out", default="data/demo")
    gen.add_argument("--landing", default=None, help="write the exports straight into this landing folder")
    gen.set_defaults(func=_cmd_generate)

    add_operator_commands(sub)
    add_web_commands(sub)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
