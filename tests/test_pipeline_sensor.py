"""The landing sensor's bookkeeping: which files are new by content, and what a run must cover."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.automation import landing_files, landing_sensor, run_request_for
from pipelines.definitions import build_definitions
from pipelines.ingest_assets import LANDING_FOLDERS, raw_asset_key
from pipelines.resources import KundenstammSettings
from tests.conftest import SAMPLES_DIR


def _drop(landing, relative: str, text: str) -> Path:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _resource(tmp_path: Path) -> KundenstammSettings:
    return KundenstammSettings(landing_dir=str(tmp_path / "landing"), warehouse_path=str(tmp_path / "warehouse.duckdb"),
                               published_path=str(tmp_path / "golden.duckdb"), reports_dir=str(tmp_path / "reports"))


class Sensor:
    """Ticks of the real sensor against one instance, carrying the cursor like the daemon."""

    def __init__(self, resource: KundenstammSettings, cursor: str | None = None):
        self.resource = resource
        self.defs = build_definitions(resource)
        self.instance = dg.DagsterInstance.ephemeral()
        self.cursor = cursor

    def tick(self):
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursor,
                                          resources={"kundenstamm": self.resource}, definitions=self.defs)
        result = landing_sensor(context)
        self.cursor = context.cursor
        return result


def test_only_files_in_watched_folders_are_seen(tmp_path):
    _drop(tmp_path, "shop/customers_2026-11-21T0600.jsonl", "{}\n")
    _drop(tmp_path, "pos/kunden_2026-11-21.csv", "x\n")
    _drop(tmp_path, "elsewhere/notes.txt", "x\n")
    _drop(tmp_path, "pos/.partial-upload", "x\n")

    assert sorted(landing_files(tmp_path)) == ["pos/kunden_2026-11-21.csv", "shop/customers_2026-11-21T0600.jsonl"]


def test_a_touch_starts_no_run_but_new_content_does(tmp_path):
    sensor = Sensor(_resource(tmp_path))
    path = _drop(tmp_path / "landing", "hotline/calls_2026-11-20.csv", "a\n")
    first = sensor.tick()
    assert isinstance(first, dg.RunRequest)
    # Asked for once: the next ticks wait for that run instead of asking again.
    assert isinstance(sensor.tick(), dg.SkipReason)

    os.utime(path, ns=(10**18, 10**18))
    assert isinstance(sensor.tick(), dg.SkipReason), "a touch (same bytes, new mtime) started a run"
    # The same bytes under another name are no news either.
    shutil.copyfile(path, path.with_name("calls_2026-11-20_retry.csv"))
    assert isinstance(sensor.tick(), dg.SkipReason)

    # Replaced with the same size and the old mtime: only the content tells, and it does.
    stat = path.stat()
    path.write_text("b\n", encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second = sensor.tick()
    assert isinstance(second, dg.RunRequest)
    assert second.run_key != first.run_key


def test_files_loaded_by_an_earlier_run_are_not_new_to_a_sensor_starting_afresh(tmp_path):
    resource = _resource(tmp_path)
    shutil.copytree(SAMPLES_DIR, tmp_path / "landing")
    defs = build_definitions(resource)
    ingest_only = [raw_asset_key(folder) for folder in LANDING_FOLDERS]
    # As the command line would have loaded them before `dagster dev` was ever started.
    assert defs.resolve_job_def("kundenstamm").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), asset_selection=ingest_only).success

    # Even while a run holds the warehouse read-write (no other process could open it).
    holder = duckdb.connect(resource.warehouse_path)
    try:
        sensor = Sensor(resource)
        skipped = sensor.tick()
        assert isinstance(skipped, dg.SkipReason), "files the CLI loaded were seen as new"
        _drop(tmp_path / "landing", "erasure/requests_2026-11-22.csv",
              "request_id,received_at,email,phone,golden_id\nDSR-0002,2026-11-22T08:00:00Z,x@example.org,,\n")
        request = sensor.tick()
    finally:
        holder.close()
    assert isinstance(request, dg.RunRequest)
    assert raw_asset_key("erasure") in request.asset_selection
    assert request.tags["kundenstamm/new_files"] == "1"


def test_run_request_covers_the_changed_folders_and_everything_downstream():
    downstream = [dg.AssetKey("staged_records"), dg.AssetKey("published_golden")]
    request = run_request_for({"pos/kunden_2026-11-22.csv": "aa11", "erasure/requests_2026-11-22.csv": "bb22"}, downstream)

    assert set(request.asset_selection) == {raw_asset_key("pos"), raw_asset_key("erasure"), *downstream}
    assert raw_asset_key("shop") not in request.asset_selection
    # The same new files always give the same run key, so a re-evaluation cannot start a second run.
    again = run_request_for({"erasure/requests_2026-11-22.csv": "bb22", "pos/kunden_2026-11-22.csv": "aa11"}, downstream)
    assert again.run_key == request.run_key
