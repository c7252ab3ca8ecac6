"""What an operator reads when there is nothing to do, or when two runs start at once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
from dagster._core.instance.ref import InstanceRef

from pipelines.definitions import build_definitions
from pipelines.resources import KundenstammSettings
from tests.conftest import PROJECT_ROOT, SAMPLES_DIR

KUNDENSTAMM = str(Path(sys.executable).parent / "kundenstamm")


def _environment(root: Path, home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "KUNDENSTAMM_LANDING_DIR": str(root / "landing"),
        "KUNDENSTAMM_WAREHOUSE": str(root / "warehouse.duckdb"),
        "KUNDENSTAMM_PUBLISHED": str(root / "golden.duckdb"),
        "KUNDENSTAMM_REPORTS_DIR": str(root / "reports"),
        "GX_ANALYTICS_ENABLED": "false",
    }


def test_an_empty_landing_folder_without_a_warehouse_says_so(tmp_path):
    (tmp_path / "landing" / "shop").mkdir(parents=True)
    completed = subprocess.run([KUNDENSTAMM, "run"], cwd=PROJECT_ROOT, env=_environment(tmp_path, tmp_path / "home"),
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert "nothing to do" in completed.stderr and str(tmp_path / "landing") in completed.stderr
    assert "Binder" not in completed.stdout + completed.stderr
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_a_dagster_run_on_an_empty_landing_folder_fails_with_a_clear_reason(tmp_path):
    resource = KundenstammSettings(landing_dir=str(tmp_path / "landing"), warehouse_path=str(tmp_path / "w.duckdb"),
                                   published_path=str(tmp_path / "golden.duckdb"), reports_dir=str(tmp_path / "r"))
    result = build_definitions(resource).resolve_job_def("kundenstamm").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert [e.step_key for e in failures] == ["staged_records"]
    message = failures[0].step_failure_data.user_failure_data.description
    assert "no customer records to work on" in message and str(tmp_path / "landing") in message
    assert not (tmp_path / "golden.duckdb").exists()


def test_two_first_runs_at_once_on_an_empty_dagster_home_both_succeed_one_after_the_other(tmp_path):
    shutil.copytree(SAMPLES_DIR, tmp_path / "landing")
    home = tmp_path / "home"  # does not exist: the runs create it, the instance and its storage
    env = _environment(tmp_path, home)
    runs = [subprocess.Popen([KUNDENSTAMM, "run"], cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=240)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], "\n=====\n".join(o[-3000:] for o in outputs)
    assert not any("already exists" in output for output in outputs)
    # The one that came second saw the first alive, said so, and waited for it to end.
    waited = [output for output in outputs if "warehouse busy: run " in output]
    assert len(waited) == 1 and "has ended; going on" in waited[0]

    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    assert [r.status for r in instance.get_runs()] == [dg.DagsterRunStatus.SUCCESS] * 2
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        # Every sample file loaded once, by the first run; the second found nothing new.
        assert con.execute("SELECT count(*), count(DISTINCT file_hash) FROM ingest_files").fetchone() == (5, 5)


_HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def test_a_step_that_finds_the_warehouse_held_by_another_process_waits_and_says_so(tmp_path):
    from pipelines.ingest_assets import LANDING_FOLDERS, raw_asset_key

    shutil.copytree(SAMPLES_DIR, tmp_path / "landing")
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    # Someone else (an analyst's read-write session, a script) holds the file for a few seconds.
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(warehouse), "4"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        resource = KundenstammSettings(landing_dir=str(tmp_path / "landing"), warehouse_path=str(warehouse),
                                       published_path=str(tmp_path / "golden.duckdb"), reports_dir=str(tmp_path / "r"))
        instance = dg.DagsterInstance.ephemeral()
        result = build_definitions(resource).resolve_job_def("kundenstamm").execute_in_process(
            instance=instance, asset_selection=[raw_asset_key(f) for f in LANDING_FOLDERS])
    finally:
        holder.kill()
        holder.wait()
    assert result.success
    messages = [e.user_message for e in instance.all_logs(result.run_id)]
    busy = [m for m in messages if "is busy" in m]
    assert busy and f"held by PID {holder.pid}" in busy[0] and "waiting" in busy[0]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM ingest_files").fetchone()[0] == 5
