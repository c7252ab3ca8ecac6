"""Real Dagster runs of the real definitions on generated exports with known answers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from demo.generate import generate
from demo.golden_accuracy import compare_golden_to_truth
from pipelines.automation import landing_sensor
from pipelines.definitions import build_definitions
from pipelines.quality_checks import golden_expectations
from pipelines.golden_assets import published_golden
from pipelines.resources import KundenstammSettings

from tests.conftest import PROJECT_ROOT
from tests.generated import deliver, delivery_days
PERSONS = 400


@pytest.fixture(scope="module")
def demo_exports(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate(out, persons=PERSONS, seed=11, days=2)
    return out


def settings_for(tmp_path: Path) -> KundenstammSettings:
    return KundenstammSettings(
        landing_dir=str(tmp_path / "landing"),
        warehouse_path=str(tmp_path / "warehouse.duckdb"),
        published_path=str(tmp_path / "golden.duckdb"),
        reports_dir=str(tmp_path / "reports"),
    )


def test_sensor_picks_up_each_delivery_and_the_runs_end_with_the_expected_golden_table(tmp_path, demo_exports):
    resource = settings_for(tmp_path)
    (tmp_path / "landing").mkdir()
    instance = dg.DagsterInstance.ephemeral()
    defs = build_definitions(resource)
    job = defs.resolve_job_def("kundenstamm")

    context = dg.build_sensor_context(instance=instance, resources={"kundenstamm": resource}, definitions=defs)
    assert isinstance(landing_sensor(context), dg.SkipReason)

    cursor = None
    days = delivery_days(demo_exports / "landing")
    assert len(days) == 2
    for number, day in enumerate(days, start=1):
        deliver(demo_exports / "landing", tmp_path / "landing", day)
        context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"kundenstamm": resource}, definitions=defs)
        request = landing_sensor(context)
        cursor = context.cursor
        assert isinstance(request, dg.RunRequest), f"day {day}: the sensor did not ask for a run"
        result = job.execute_in_process(instance=instance, asset_selection=request.asset_selection, tags=request.tags)
        assert result.success

        accuracy = compare_golden_to_truth(tmp_path / "golden.duckdb", demo_exports / "truth", day=number)
        assert accuracy.consent_unsafe_errors_correctly_linked == 0
        assert accuracy.erased_records_published == 0
        assert accuracy.linkage.bcubed_f1 >= 0.9, accuracy.linkage
        assert accuracy.golden_rows == pytest.approx(accuracy.persons_expected, rel=0.12)
        for column, share in accuracy.field_accuracy.items():
            assert share >= 0.95, f"day {number}: {column} right for only {share:.1%} of persons"

    # A sensor tick with nothing new asks for nothing.
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"kundenstamm": resource}, definitions=defs)
    assert isinstance(landing_sensor(context), dg.SkipReason)


def test_failing_golden_check_blocks_publishing_and_keeps_the_last_good_version(tmp_path, demo_exports):
    resource = settings_for(tmp_path)
    deliver(demo_exports / "landing", tmp_path / "landing", delivery_days(demo_exports / "landing")[0])
    instance = dg.DagsterInstance.ephemeral()
    defs = build_definitions(resource)
    assert defs.resolve_job_def("kundenstamm").execute_in_process(instance=instance).success
    published = tmp_path / "golden.duckdb"
    before = published.read_bytes()

    # Inject a consent violation into the built, not yet published golden table.
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        changed = con.execute(
            "UPDATE golden_customers SET marketing_consent = true, consent_source = NULL, consent_updated_at = NULL "
            "WHERE golden_id IN (SELECT golden_id FROM golden_customers WHERE NOT marketing_consent LIMIT 3)"
        ).fetchone()[0]
    assert changed == 3

    publish_job = dg.define_asset_job(
        "validate_and_publish",
        selection=dg.AssetSelection.checks(golden_expectations) | dg.AssetSelection.assets(published_golden),
        executor_def=dg.in_process_executor,
    )
    job_defs = dg.Definitions(
        assets=list(defs.assets), asset_checks=list(defs.asset_checks), jobs=[publish_job],
        resources={"kundenstamm": resource},
    )
    result = job_defs.resolve_job_def("validate_and_publish").execute_in_process(instance=instance, raise_on_error=False)

    assert not result.success
    evaluations = [e.asset_check_evaluation_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    # One check per expectation: the one that failed is named, the others passed.
    failed = {e.check_name for e in evaluations if not e.passed}
    assert "customers__be_in_set__consent_without_decision" in failed
    assert failed <= {"customers__be_in_set__consent_without_decision",
                      "customers__be_in_set__consent_agrees_with_latest_decision"}
    assert len(evaluations) > 5 and all(e.asset_key.path == ["golden_customers"] for e in evaluations)
    assert not [e for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"]
    assert published.read_bytes() == before


def test_dagster_cli_runs_the_job_against_a_temporary_instance(tmp_path, demo_exports):
    landing = tmp_path / "landing"
    shutil.copytree(demo_exports / "landing", landing)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "KUNDENSTAMM_LANDING_DIR": str(landing),
        "KUNDENSTAMM_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "KUNDENSTAMM_PUBLISHED": str(tmp_path / "golden.duckdb"),
        "KUNDENSTAMM_REPORTS_DIR": str(tmp_path / "reports"),
        "GX_ANALYTICS_ENABLED": "false",
    }
    dagster = Path(sys.executable).parent / "dagster"
    completed = subprocess.run(
        [str(dagster), "job", "execute", "-m", "pipelines.definitions", "-j", "kundenstamm"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    with duckdb.connect(str(tmp_path / "golden.duckdb"), read_only=True) as con:
        sources = con.execute("SELECT count(*) FROM customer_sources").fetchone()[0]
        people = con.execute("SELECT count(*) FROM customers").fetchone()[0]
    assert sources > people > 0
    assert (tmp_path / "reports" / "index.html").exists()
    # The run is recorded in the instance, as a data engineer would find it in the UI.
    from dagster._core.instance.ref import InstanceRef

    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    runs = instance.get_runs()
    assert len(runs) == 1 and runs[0].status == dg.DagsterRunStatus.SUCCESS
