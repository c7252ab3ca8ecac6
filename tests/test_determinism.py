"""The same landing folder gives the same published tables: rerun, rebuilt, read in another
order; ids that go away are in the history. Real runs of all steps on real DuckDB files,
over generated deliveries (day 2 brings erasure requests)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from demo.generate import generate
from pipelines.steps import run_all_steps
from sources.ingest import SPECS, ingest_source
from tests.generated import deliver, delivery_days
from warehouse.connection import open_warehouse
from warehouse.settings import Settings

PERSONS = 600
DAY_RUNS = (datetime(2026, 11, 20, 7), datetime(2026, 11, 21, 7))
# customer_changes is compared as a whole; the others are the contract tables plus the review queue.
TABLES = ("customers", "customer_sources", "golden_id_history", "review_queue", "golden_provenance")


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("exports")
    generate(out, persons=PERSONS, seed=21, days=2)
    return out


def settings_in(root: Path) -> Settings:
    return Settings(landing_dir=root / "landing", warehouse_path=root / "warehouse.duckdb",
                    published_path=root / "golden.duckdb", reports_dir=root / "reports")


def tables(path: Path) -> dict[str, pd.DataFrame]:
    """Every compared published table plus customer_changes, sorted on all columns."""
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").df() for t in (*TABLES, "customer_changes")}


def assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame], what: str) -> None:
    for table in a:
        assert len(a[table]) == len(b[table]), f"{what}: {table} has {len(a[table])} then {len(b[table])} rows"
        pd.testing.assert_frame_equal(a[table], b[table], check_exact=True, obj=f"{what}: {table}")


def day_by_day(exports: Path, root: Path, reruns: int = 0) -> list[dict[str, pd.DataFrame]]:
    """Delivers each day and runs; then reruns with nothing new. The published tables after each run."""
    settings = settings_in(root)
    snapshots = []
    for day, run_at in zip(delivery_days(exports / "landing"), DAY_RUNS):
        deliver(exports / "landing", settings.landing_dir, day)
        for rerun in range(reruns + 1):
            run_all_steps(settings, run_at.replace(hour=run_at.hour + rerun))
            snapshots.append(tables(settings.published_path))
    return snapshots


@pytest.fixture(scope="module")
def built_twice(exports, tmp_path_factory):
    """Warehouse A run day by day with two reruns after each day; warehouse B built afresh
    from the same folder, day by day, without reruns."""
    first, second = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    return first, day_by_day(exports, first, reruns=2), day_by_day(exports, second)


def test_a_rerun_with_nothing_new_changes_nothing_also_after_erasure(built_twice):
    root, runs, _ = built_twice
    with duckdb.connect(str(settings_in(root).warehouse_path), read_only=True) as con:
        erased = con.execute("SELECT count(*), sum(records_removed) FROM erasure_audit").fetchone()
    assert erased[0] >= 1 and erased[1] >= 1, "day 2 of the generated deliveries should erase someone"
    day1, day2 = runs[0], runs[3]
    assert len(day1["customers"]) > 0.5 * PERSONS
    assert not day1["customer_changes"]["change_type"].eq("erased").any()
    assert day2["customer_changes"]["change_type"].eq("erased").any()
    for day, (run, *reruns) in (("day 1", runs[:3]), ("day 2 with erasure", runs[3:])):
        for number, rerun in enumerate(reruns, start=1):
            # customer_changes included: a rerun adds no row to it.
            assert_same(run, rerun, f"{day}, rerun {number}")


def test_two_warehouses_built_from_the_same_folder_publish_the_same_persons_with_the_same_ids(built_twice):
    _, runs_a, runs_b = built_twice
    assert_same(runs_a[0], runs_b[0], "day 1, warehouse A vs B")
    assert_same(runs_a[-1], runs_b[-1], "day 2, warehouse A (after reruns) vs B")


def test_files_read_in_another_order_within_a_run_give_the_same_result(exports, tmp_path):
    """Both days land before one run; warehouse B's ingest reads them newest first."""
    landing = exports / "landing"
    in_order, reversed_order = tmp_path / "in_order", tmp_path / "reversed"
    settings = settings_in(in_order)
    shutil.copytree(landing, settings.landing_dir)
    run_all_steps(settings, DAY_RUNS[1])

    settings_b = settings_in(reversed_order)
    files = sorted((p for p in landing.rglob("*") if p.is_file()), key=lambda p: p.name, reverse=True)
    assert {p.parent.name for p in files} == set(SPECS) - {"reviews"}
    con = open_warehouse(settings_b.warehouse_path, memory_limit=settings_b.memory_limit)
    try:
        for path in files:
            # One file at a time into the landing folder, each loaded by the real ingest.
            target = settings_b.landing_dir / path.relative_to(landing)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            ingest_source(con, path.parent.name, settings_b.landing_dir)
        order = [r[0] for r in con.execute("SELECT file_name FROM ingest_files ORDER BY loaded_at, file_name").fetchall()]
    finally:
        con.close()
    assert order[0] == files[0].name
    run_all_steps(settings_b, DAY_RUNS[1])  # every file already loaded: the rest of the run
    assert_same(tables(settings.published_path), tables(settings_b.published_path), "files in date order vs reversed")


def test_a_person_whose_records_all_vanish_gets_a_deleted_history_row(exports, tmp_path):
    settings = settings_in(tmp_path)
    day = delivery_days(exports / "landing")[0]
    deliver(exports / "landing", settings.landing_dir, day)
    run_all_steps(settings, DAY_RUNS[0])
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        # Persons known only from the shop: gone when the next shop snapshot no longer has them.
        shop_only = con.execute(
            "SELECT golden_id, min(source_record_id) FROM customer_sources GROUP BY golden_id "
            "HAVING count(*) = 1 AND min(source) = 'shop' ORDER BY golden_id LIMIT 2"
        ).fetchall()
    assert len(shop_only) == 2
    gone = {golden_id for golden_id, _ in shop_only}
    snapshot = sorted((settings.landing_dir / "shop").glob("*.jsonl"))[-1]
    lines = [line for line in snapshot.read_text(encoding="utf-8").splitlines() if line.strip()]
    kept = [line for line in lines if _customer_id(line) not in {cid for _, cid in shop_only}]
    assert len(kept) == len(lines) - 2
    (settings.landing_dir / "shop" / f"customers_{day}T2359.jsonl").write_text("\n".join(kept) + "\n", encoding="utf-8")
    run_all_steps(settings, DAY_RUNS[0].replace(hour=19))

    after = tables(settings.published_path)
    assert not gone & set(after["customers"]["golden_id"])
    history = after["golden_id_history"]
    deleted = history[history["retired_id"].isin(gone)]
    assert set(deleted["retired_id"]) == gone
    assert deleted["reason"].eq("deleted").all() and deleted["golden_id"].isna().all()
    changes = after["customer_changes"]
    assert set(changes.loc[changes["change_type"] == "deleted", "golden_id"]) == gone
    # The deletion is recorded once: a rerun adds nothing.
    run_all_steps(settings, DAY_RUNS[0].replace(hour=20))
    assert_same(after, tables(settings.published_path), "rerun after a deletion")


def _customer_id(line: str) -> str | None:
    try:
        return str(json.loads(line).get("customer_id", "")).strip()
    except (json.JSONDecodeError, AttributeError):
        return None
