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
        shutil.copyfile(PROJECT_ROOT / "dagster.yaml", config)
    return home


def landing_is_empty(landing_dir: Path) -> bool:
    return not landing_dir.exists() or not any(p.is_file() for p in landing_dir.rglob("*"))


def run_pipeline(settings: Settings) -> bool:
    """Materialize every asset once, in-process, recorded in the local Dagster instance."""
    import dagster as dg

    from pipelines.definitions import build_definitions
    from pipelines.resources import KundenstammSettings

    ensure_dagster_home()
    # Initialise the instance's storage once, alone, before anything could run beside it.
    instance = dg.DagsterInstance.get()
    resource = KundenstammSettings.from_settings(settings)
    job = build_definitions(resource).resolve_job_def("kundenstamm")
    # Steps, checks and failures on the console; every engine event stays in the instance's log.
    quiet = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=quiet)
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
    settings = Settings.from_env()
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
