"""What makes the pipeline run by itself: the job, the landing-folder sensor, the schedule."""


import hashlib
import json
from pathlib import Path

import dagster as dg

from pipelines.ingest_assets import LANDING_FOLDERS, raw_asset_key
from pipelines.resources import KundenstammSettings

ALL_ASSETS = dg.AssetSelection.all()

# One run at a time is what the `warehouse` pool guarantees; in-process execution keeps a
# run from paying great-expectations' and Dagster's import time once per step.
kundenstamm_job = dg.define_asset_job(
    name="kundenstamm",
    selection=ALL_ASSETS,
    description="Ingest every landing folder, link, build and publish the golden table.",
    executor_def=dg.in_process_executor,
)


def landing_files(landing_dir: Path) -> dict[str, str]:
    """Every file in the watched folders with a fingerprint that changes if it is replaced."""
    seen: dict[str, str] = {}
    for folder in LANDING_FOLDERS:
        directory = landing_dir / folder
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                stat = path.stat()
                seen[f"{folder}/{path.name}"] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return seen


def new_files(previous: dict[str, str], current: dict[str, str]) -> dict[str, str]:
    return {name: print_ for name, print_ in current.items() if previous.get(name) != print_}


def run_request_for(new: dict[str, str], downstream: list[dg.AssetKey]) -> dg.RunRequest:
    """A run of exactly what the new files affect: their folders' raw assets and everything
    downstream of them (the other raw assets have nothing new to load)."""
    folders = sorted({name.split("/", 1)[0] for name in new})
    run_key = hashlib.sha256(json.dumps(sorted(new.items())).encode()).hexdigest()[:24]
    return dg.RunRequest(
        run_key=run_key,
        asset_selection=[raw_asset_key(folder) for folder in folders] + downstream,
        tags={"kundenstamm/new_files": str(len(new)), "kundenstamm/folders": ",".join(folders)},
    )


def _downstream_of_ingest(context: dg.SensorEvaluationContext) -> list[dg.AssetKey]:
    raw_keys = {raw_asset_key(folder) for folder in LANDING_FOLDERS}
    graph = context.repository_def.asset_graph
    return sorted(
        (key for key in graph.get_all_asset_keys() if key not in raw_keys),
        key=lambda key: key.to_user_string(),
    )


@dg.sensor(
    job=kundenstamm_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a run when new export files land in any landing folder.",
)
def landing_sensor(context: dg.SensorEvaluationContext, kundenstamm: KundenstammSettings):
    previous = json.loads(context.cursor) if context.cursor else {}
    current = landing_files(Path(kundenstamm.landing_dir))
    new = new_files(previous, current)
    if not new:
        return dg.SkipReason("no new files in the landing folders")
    context.update_cursor(json.dumps(current))
    return run_request_for(new, _downstream_of_ingest(context))


# A backstop if the sensor was switched off or missed something: re-reading a landing
# folder is cheap because already-loaded files are recognised by their content hash.
nightly_schedule = dg.ScheduleDefinition(
    name="nightly_backstop",
    job=kundenstamm_job,
    cron_schedule="30 2 * * *",
    execution_timezone="Europe/Berlin",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Runs the whole pipeline every night at 02:30 Berlin time.",
)
