"""Runs that died must not block later runs: who is alive, who is dead, what is cleaned up.

A run killed with SIGKILL (an OOM kill, a reboot) never writes its end: its record stays
STARTED and its slot in the `warehouse` pool stays taken, so the next run waits forever.
Dagster's run monitoring cannot tell, because its default run launcher has no health check
and it does not watch `execute_in_process` runs at all; the daemon frees slots only of runs
that already finished. So every run proves it is alive itself: for as long as its process
lives it holds an exclusive `flock` on `<DAGSTER_HOME>/kundenstamm/run-locks/<run_id>.lock`.
The kernel releases that lock the moment the process dies, however it dies, so "can I take
the lock?" is an exact liveness test with no timeout to guess and no pid that could be
reused. The run's tags record pid, host and process start time for the operator.

Before a run (the CLI before it starts one, waiting while another is alive, a daemon-launched run when its resources are set
up, the `dead_run_recovery` sensor every 30 s for the daemon's queue) every run that is not
finished is judged; a dead one is marked failed with the reason and its slots are freed.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import dagster as dg
from dagster._core.storage.dagster_run import FINISHED_STATUSES, RunsFilter

TAG_PID = "kundenstamm/pid"
TAG_HOST = "kundenstamm/host"
TAG_PROCESS_STARTED = "kundenstamm/process_started"

# A run that has started and not ended; only these can hold a slot or the warehouse.
_UNFINISHED = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]

# run_id -> open file descriptor of its lock, for the runs of this process.
_held_locks: dict[str, int] = {}


@dataclass(frozen=True)
class RecoveredRun:
    run_id: str
    job_name: str
    reason: str
    slots_freed: int

    def describe(self) -> str:
        return (f"recovered dead run {self.run_id} ({self.job_name}): marked failed, "
                f"{self.slots_freed} pool slot(s) freed; {self.reason}")


def lock_dir(instance: dg.DagsterInstance) -> Path:
    return Path(instance.root_directory) / "kundenstamm" / "run-locks"


def _lock_path(instance: dg.DagsterInstance, run_id: str) -> Path:
    return lock_dir(instance) / f"{run_id}.lock"


def process_started(pid: int) -> str | None:
    """The kernel's start time of a process (clock ticks since boot), None if it is gone.

    With the pid it names one process for good: a pid reused later has another start time.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22; the command name (field 2) may hold spaces, so count from its closing ')'.
    return stat.rsplit(")", 1)[1].split()[19]


def liveness_tags() -> dict[str, str]:
    """Tags a run carries so an operator (and a later run) can see which process ran it."""
    pid = os.getpid()
    return {TAG_PID: str(pid), TAG_HOST: socket.gethostname(), TAG_PROCESS_STARTED: process_started(pid) or ""}


def hold_run_lock(instance: dg.DagsterInstance, run_id: str) -> None:
    """Take this run's liveness lock for as long as this process lives (or until released)."""
    if run_id in _held_locks:
        return
    path = _lock_path(instance, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Locked under a private name, then renamed into place: no other process ever finds the
    # file unlocked (it would take it for a dead run's and delete it).
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(partial, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, json.dumps(liveness_tags()).encode())
        os.replace(partial, path)
    except BaseException:
        os.close(fd)
        partial.unlink(missing_ok=True)
        raise
    _held_locks[run_id] = fd


def holds_run_lock(run_id: str) -> bool:
    return run_id in _held_locks


def release_run_lock(instance: dg.DagsterInstance, run_id: str) -> None:
    """After the run's end is recorded: the lock file goes first, then the lock."""
    fd = _held_locks.pop(run_id, None)
    if fd is None:
        return
    _lock_path(instance, run_id).unlink(missing_ok=True)
    os.close(fd)


def _try_lock(path: Path) -> int | None:
    """An fd holding the lock if nobody holds it (its owner is dead), None if someone does."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _claimed_slots(instance: dg.DagsterInstance, run_id: str) -> int:
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return 0
    claimed = 0
    for key in storage.get_concurrency_keys():
        claimed += sum(slot.run_id == run_id for slot in storage.get_concurrency_info(key).claimed_slots)
    return claimed


def _free_slots(instance: dg.DagsterInstance, run_id: str) -> int:
    if not instance.event_log_storage.supports_global_concurrency_limits:
        return 0
    claimed = _claimed_slots(instance, run_id)
    # Also drops the run's pending claims, so it is not handed a slot it can never use.
    instance.event_log_storage.free_concurrency_slots_for_run(run_id)
    return claimed


def _gone_by_tags(run: dg.DagsterRun) -> str | None:
    """Why the run's own tags prove its process is gone, None if they do not (or are absent)."""
    pid, host, started = run.tags.get(TAG_PID), run.tags.get(TAG_HOST), run.tags.get(TAG_PROCESS_STARTED)
    if not pid or host != socket.gethostname():
        return None
    now_started = process_started(int(pid))
    if now_started is None:
        return f"its process (pid {pid} on {host}) no longer exists"
    if started and now_started != started:
        return f"its process (pid {pid} on {host}) no longer exists (the pid now belongs to another process)"
    return None


def _describe_owner(run: dg.DagsterRun) -> str:
    pid, host = run.tags.get(TAG_PID), run.tags.get(TAG_HOST)
    return f"pid {pid} on {host}" if pid else "a process that did not record its pid"


def recover_dead_runs(instance: dg.DagsterInstance) -> list[RecoveredRun]:
    """Mark every unfinished run whose process is gone as failed and free its slots.

    A run is judged dead only on proof: its liveness lock is free (the owner died), or its
    tags name a process on this host that no longer exists. A run with neither lock file nor
    tags (a daemon-launched run in its first seconds, before its resources are set up) is left
    to Dagster's run monitoring (`start_timeout_seconds` in dagster.yaml): in doubt, alive.
    """
    if instance.is_ephemeral:
        return []
    recovered: list[RecoveredRun] = []
    for record in instance.get_run_records(RunsFilter(statuses=_UNFINISHED)):
        run = record.dagster_run
        if run.run_id in _held_locks:
            continue
        path = _lock_path(instance, run.run_id)
        fd = _try_lock(path)
        reason = None
        if fd is not None:
            reason = f"its process ({_describe_owner(run)}) ended without recording an end: killed, out of memory or a restart"
        elif not path.exists():
            reason = _gone_by_tags(run)
        if reason is None:
            continue
        try:
            # Another process may have recovered it meanwhile, or it ended just now.
            current = instance.get_run_by_id(run.run_id)
            if current is None or current.status not in _UNFINISHED:
                continue
            when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
            message = (f"Run's process is gone: {reason}. Marked failed at {when} by pid {os.getpid()} "
                       f"on {socket.gethostname()} so later runs can go on.")
            instance.report_run_failed(current, message=message)
            recovered.append(RecoveredRun(run.run_id, run.job_name, reason, _free_slots(instance, run.run_id)))
        finally:
            if fd is not None:
                path.unlink(missing_ok=True)
                os.close(fd)
    recovered.extend(_free_slots_of_finished_runs(instance))
    _remove_stale_lock_files(instance)
    return recovered


def _free_slots_of_finished_runs(instance: dg.DagsterInstance) -> list[RecoveredRun]:
    """Slots still held by runs that ended (or were deleted): without a daemon nobody frees them."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    freed = []
    for run_id in sorted(storage.get_concurrency_run_ids()):
        run = instance.get_run_by_id(run_id)
        if run is not None and run.status not in FINISHED_STATUSES:
            continue
        slots = _free_slots(instance, run_id)
        if slots:
            status = run.status.value if run else "deleted"
            freed.append(RecoveredRun(run_id, run.job_name if run else "?", f"the run had ended ({status})", slots))
    return freed


def _remove_stale_lock_files(instance: dg.DagsterInstance) -> None:
    """Lock files of runs that ended (a daemon-launched run leaves its file to process exit)."""
    directory = lock_dir(instance)
    if not directory.is_dir():
        return
    for path in sorted(directory.glob("*.lock")):
        run_id = path.stem
        if run_id in _held_locks:
            continue
        fd = _try_lock(path)
        if fd is None:
            continue
        try:
            run = instance.get_run_by_id(run_id)
            if run is None or run.status in FINISHED_STATUSES:
                path.unlink(missing_ok=True)
        finally:
            os.close(fd)


def _live_lock_holders(instance: dg.DagsterInstance, own_run_id: str) -> list[tuple[str, str]]:
    """(run id, who) of every other run whose lock is held: its process is alive.

    Read from the lock files, not the run records: a run started by the CLI holds its lock
    from before its record exists, so a run about to start is seen too.
    """
    directory = lock_dir(instance)
    holders = []
    for path in sorted(directory.glob("*.lock")) if directory.is_dir() else []:
        run_id = path.stem
        if run_id == own_run_id or run_id in _held_locks:
            continue
        fd = _try_lock(path)
        if fd is not None:
            os.close(fd)
            continue
        if not path.exists():
            continue
        try:
            owner = json.loads(path.read_text() or "{}")
        except (OSError, ValueError):
            owner = {}
        run = instance.get_run_by_id(run_id)
        if run is not None and run.status in FINISHED_STATUSES:
            # Ended, its process lingers (a daemon's run worker shutting down, a notebook
            # that ran it in-process): it holds nothing any more.
            continue
        who = f"pid {owner.get(TAG_PID)} on {owner.get(TAG_HOST)}" if owner.get(TAG_PID) else "another process"
        holders.append((run_id, f"{run.job_name if run else 'starting'}, {who}"))
    return holders


def claim_start(instance: dg.DagsterInstance, run_id: str, say: Callable[[str], None]) -> list[RecoveredRun]:
    """Recover dead runs, wait while another run is alive, then take this run's lock.

    Looking for live runs and taking our own lock happen under one instance-wide lock, so
    of two runs started at once exactly one goes first and the other waits for it and says
    so. The wait is a blocking `flock` on the other run's lock: it returns the moment that
    process ends (normally or killed), and SIGTERM or Ctrl-C still stop the waiting process.
    """
    recovered = []
    start_lock = lock_dir(instance).parent / "start.lock"
    start_lock.parent.mkdir(parents=True, exist_ok=True)
    while True:
        with open(start_lock, "w") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            recovered.extend(recover_dead_runs(instance))
            others = _live_lock_holders(instance, run_id)
            if not others:
                hold_run_lock(instance, run_id)
                return recovered
        other_id, who = others[0]
        say(f"warehouse busy: run {other_id} ({who}) is still running; waiting for it to finish")
        try:
            fd = os.open(lock_dir(instance) / f"{other_id}.lock", os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        finally:
            os.close(fd)
        say(f"run {other_id} has ended; going on")
