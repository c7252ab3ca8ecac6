"""What makes the pipeline run by itself: the job, the landing-folder sensor, the schedule."""


import hashlib
import json
from pathlib import Path

import dagster as dg

from pipelines.crash_recovery import recover_dead_runs
from pipelines.ingest_assets import LANDING_FOLDERS, raw_asset_key
from pipelines.resources import KundenstammSettings
from sources.ledger import file_hash
from warehouse.ledger_snapshot import read_known_hashes

ALL_ASSETS = dg.AssetSelection.all()

# One run at a time is what the `warehouse` pool guarantees; in-process execution keeps a
# run from paying great-expectations' and Dagster's import time once per step.
kundenstamm_job = dg.define_asset_job(
    name="kundenstamm",
    selection=ALL_ASSETS,
    description="Ingest every landing folder, link, build and publish the golden table.",
    executor_def=dg.in_process_executor,
)


def landing_files(landing_dir: Path, cache: dict[str, list] | None = None) -> dict[str, list]:
    """Every file in the watched folders -> [inode, size, mtime_ns, ctime_ns, content hash].

    The content hash is the ledger's (`sources.ledger.file_hash`), so "new" means what the
    ingest step means by it. A file is hashed again only when its stat changed since
    `cache`; the ctime is in it because no write or replace can keep it (utime cannot set
    it), and a `touch` costs one re-hash and changes nothing else.
    """
    cache = cache or {}
    seen: dict[str, list] = {}
    for folder in LANDING_FOLDERS:
        directory = landing_dir / folder
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                name = f"{folder}/{path.name}"
                stat = path.stat()
                key = [stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]
                cached = cache.get(name)
                seen[name] = cached if cached and cached[:4] == key else [*key, file_hash(path)]
    return seen


def new_files(current: dict[str, list], known_hashes: set[str]) -> dict[str, str]:
    """Name -> content hash of every file whose content is neither loaded nor already asked for."""
    return {name: entry[-1] for name, entry in current.items() if entry[-1] not in known_hashes}


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


def _read_cursor(cursor: str | None) -> tuple[dict[str, list], set[str]]:
    """(hash cache by file, hashes a run was already requested for and not yet loaded)."""
    state = json.loads(cursor) if cursor else {}
    if state.get("version") != 3:
        # A cursor of size+mtime fingerprints says nothing about content: start afresh.
        return {}, set()
    return state["files"], set(state["requested"])


@dg.sensor(
    job=kundenstamm_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a run when export files with new content land in any landing folder.",
)
def landing_sensor(context: dg.SensorEvaluationContext, kundenstamm: KundenstammSettings):
    cache, requested = _read_cursor(context.cursor)
    loaded = read_known_hashes(Path(kundenstamm.warehouse_path))
    if loaded is None:
        return dg.SkipReason("the warehouse is busy and has no ledger snapshot yet; looking again next tick")
    current = landing_files(Path(kundenstamm.landing_dir), cache)
    # Asked for and not yet loaded stays "not new", or every tick until the run ingests
    # would ask again; once loaded, the ledger remembers it and the cursor can forget it.
    requested -= loaded
    new = new_files(current, loaded | requested)
    context.update_cursor(json.dumps(
        {"version": 3, "files": current, "requested": sorted(requested | set(new.values()))}))
    if not new:
        return dg.SkipReason("no files with new content in the landing folders")
    return run_request_for(new, _downstream_of_ingest(context))


@dg.sensor(
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks runs whose process died (killed, out of memory, restart) as failed and "
    "frees their `warehouse` pool slots, so queued runs can start.",
)
def dead_run_recovery(context: dg.SensorEvaluationContext):
    # The daemon's run queue counts a dead STARTED run as running (max_concurrent_runs: 1),
    # so no new run would ever start to recover it: this tick does, every 30 s.
    recovered = recover_dead_runs(context.instance)
    for run in recovered:
        context.log.warning(run.describe())
    return dg.SkipReason("; ".join(run.describe() for run in recovered) or "no dead runs")


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
