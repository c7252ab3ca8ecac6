"""A `kundenstamm run` killed with SIGKILL blocks nothing: the next run recovers and publishes.

Real processes on a real Dagster instance: the first run is killed at a point read from the
instance itself (the start of `scored_pairs` in its event log, or the half-written publish
file appearing), the second must finish, publish, and hold exactly what a clean run loads.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.events import DagsterEventType
from dagster._core.instance.ref import InstanceRef

from demo.generate import generate
from pipelines.steps import run_all_steps
from tests.conftest import PROJECT_ROOT
from warehouse.settings import Settings

PERSONS = 400
KUNDENSTAMM = str(Path(sys.executable).parent / "kundenstamm")
# A normal run of these exports takes about 30 s on 2 idle cores, 2-3 minutes when the
# machine is shared; a run blocked by a dead one would never end.
NORMAL_RUN_SECONDS = 300


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("exports")
    generate(out, persons=PERSONS, seed=5, days=1)
    return out / "landing"


def _paths(root: Path) -> dict[str, Path]:
    return {"landing": root / "landing", "warehouse": root / "warehouse.duckdb",
            "published": root / "golden.duckdb", "reports": root / "reports", "home": root / "dagster_home"}


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory, exports) -> dict:
    """What one uninterrupted run loads and publishes from the same exports (the same step
    functions the assets call, without Dagster and the expectation suites: they load nothing)."""
    paths = _paths(tmp_path_factory.mktemp("clean"))
    shutil.copytree(exports, paths["landing"])
    run_all_steps(Settings(landing_dir=paths["landing"], warehouse_path=paths["warehouse"],
                           published_path=paths["published"], reports_dir=paths["reports"]))
    return _contents(paths)


def _contents(paths: dict[str, Path]) -> dict:
    with duckdb.connect(str(paths["warehouse"]), read_only=True) as con:
        ledger = con.execute(
            "SELECT source, file_name, file_hash, status, rows_read, rows_loaded, rows_rejected "
            "FROM ingest_files ORDER BY ALL").fetchall()
        raw = {table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
               for table in ("raw_shop", "raw_newsletter", "raw_hotline", "raw_pos")}
        rejects = con.execute("SELECT count(*) FROM rejects").fetchone()[0]
    with duckdb.connect(str(paths["published"]), read_only=True) as con:
        records = con.execute("SELECT source, source_record_id FROM customer_sources ORDER BY ALL").fetchall()
    return {"ledger": ledger, "raw": raw, "rejects": rejects, "published_records": records}


def _environment(paths: dict[str, Path]) -> dict[str, str]:
    return {
        **os.environ,
        "DAGSTER_HOME": str(paths["home"]),
        "KUNDENSTAMM_LANDING_DIR": str(paths["landing"]),
        "KUNDENSTAMM_WAREHOUSE": str(paths["warehouse"]),
        "KUNDENSTAMM_PUBLISHED": str(paths["published"]),
        "KUNDENSTAMM_REPORTS_DIR": str(paths["reports"]),
        "GX_ANALYTICS_ENABLED": "false",
    }


def _prepare(tmp_path: Path, exports: Path) -> tuple[dict[str, Path], dg.DagsterInstance]:
    paths = _paths(tmp_path)
    if exports.exists():
        shutil.copytree(exports, paths["landing"])
    paths["home"].mkdir()
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", paths["home"] / "dagster.yaml")
    return paths, dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(paths["home"])))


def _start_run(paths: dict[str, Path], log: Path) -> subprocess.Popen:
    return subprocess.Popen([KUNDENSTAMM, "run"], cwd=PROJECT_ROOT, env=_environment(paths),
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


def _wait_for(condition, process: subprocess.Popen, what: str, timeout: float = NORMAL_RUN_SECONDS, poll: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        assert process.poll() is None, f"the run ended (rc {process.returncode}) before {what}"
        time.sleep(poll)
    raise AssertionError(f"timed out waiting for {what}")


def _the_run(instance: dg.DagsterInstance) -> dg.DagsterRun | None:
    runs = instance.get_runs()
    return runs[0] if runs else None


def _step_events(instance: dg.DagsterInstance, run_id: str, event_type: DagsterEventType) -> set[str]:
    return {e.step_key for e in instance.all_logs(run_id, of_type=event_type)}


def _claimed_by(instance: dg.DagsterInstance, run_id: str) -> int:
    info = instance.event_log_storage.get_concurrency_info("warehouse")
    return sum(slot.run_id == run_id for slot in info.claimed_slots)


def _second_run_recovers(paths, instance, dead_run_id: str, tmp_path: Path) -> str:
    started = time.monotonic()
    second = subprocess.run([KUNDENSTAMM, "run"], cwd=PROJECT_ROOT, env=_environment(paths),
                            capture_output=True, text=True, timeout=NORMAL_RUN_SECONDS)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert time.monotonic() - started < NORMAL_RUN_SECONDS
    assert f"recovered dead run {dead_run_id}" in second.stdout

    dead = instance.get_run_by_id(dead_run_id)
    assert dead.status == dg.DagsterRunStatus.FAILURE
    failure = instance.all_logs(dead_run_id, of_type=DagsterEventType.RUN_FAILURE)
    assert len(failure) == 1 and "process is gone" in failure[0].dagster_event.message
    assert _claimed_by(instance, dead_run_id) == 0
    runs = instance.get_runs()
    assert [r.status for r in runs] == [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE]
    return second.stdout


def _no_publish_leftovers(paths) -> list[str]:
    return sorted(p.name for p in paths["published"].parent.iterdir() if p.name.startswith(".golden.duckdb."))


def test_a_run_killed_mid_linkage_is_recovered_and_the_next_run_loads_nothing_twice(tmp_path, exports, clean_run):
    paths, instance = _prepare(tmp_path, exports)
    first = _start_run(paths, tmp_path / "first.log")
    try:
        run = _wait_for(lambda: _the_run(instance), first, "the run was recorded")
        _wait_for(lambda: "scored_pairs" in _step_events(instance, run.run_id, DagsterEventType.STEP_START),
                  first, "scored_pairs started")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    # Killed mid-step: the dead run still looks running and still holds the pool's one slot.
    assert "scored_pairs" not in _step_events(instance, run.run_id, DagsterEventType.STEP_SUCCESS)
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
    assert _claimed_by(instance, run.run_id) == 1

    _second_run_recovers(paths, instance, run.run_id, tmp_path)
    assert _contents(paths) == clean_run


def test_a_run_killed_while_publishing_leaves_no_half_written_file_behind(tmp_path, exports, clean_run):
    paths, instance = _prepare(tmp_path, exports)
    first = _start_run(paths, tmp_path / "first.log")
    try:
        # The moment the new version's file exists, the run is inside `publish`.
        _wait_for(lambda: _no_publish_leftovers(paths) if paths["published"].parent.is_dir() else None,
                  first, "the publish file appeared", poll=0.002)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    run = _the_run(instance)
    leftovers = _no_publish_leftovers(paths)
    assert leftovers and all(".publishing-" in name for name in leftovers)
    assert not paths["published"].exists()
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED

    output = _second_run_recovers(paths, instance, run.run_id, tmp_path)
    assert "removed half-written publish file" in output
    assert _no_publish_leftovers(paths) == []
    assert _contents(paths) == clean_run


_WAITING_RUN = """
import sys, time
from pathlib import Path
import dagster as dg
from pipelines.resources import KundenstammSettings

@dg.op(pool="warehouse")
def hold_the_warehouse(kundenstamm: KundenstammSettings):
    Path(sys.argv[1]).write_text("in the step")
    time.sleep(600)

job = dg.GraphDefinition(name="waiting", node_defs=[hold_the_warehouse]).to_job(
    resource_defs={"kundenstamm": KundenstammSettings()})
job.execute_in_process(instance=dg.DagsterInstance.get())
"""


def test_the_daemon_side_sensor_leaves_a_live_run_alone_and_recovers_it_once_killed(tmp_path):
    """A run not started by our CLI (as the daemon launches one) proves it is alive through
    the resource's setup; the `dead_run_recovery` sensor judges it by that alone."""
    from pipelines.automation import dead_run_recovery

    paths, instance = _prepare(tmp_path, tmp_path / "no-exports")
    marker = tmp_path / "marker"
    process = subprocess.Popen([sys.executable, "-c", _WAITING_RUN, str(marker)], cwd=PROJECT_ROOT,
                               env=_environment(paths), stdout=(tmp_path / "run.log").open("w"), stderr=subprocess.STDOUT)
    try:
        _wait_for(marker.exists, process, "the step started", timeout=90)
        run = _the_run(instance)
        assert _claimed_by(instance, run.run_id) == 1

        def tick() -> str:
            return dead_run_recovery(dg.build_sensor_context(instance=instance)).skip_message

        assert tick() == "no dead runs"
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert f"recovered dead run {run.run_id}" in tick()
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
    assert _claimed_by(instance, run.run_id) == 0
    assert tick() == "no dead runs"
