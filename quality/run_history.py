"""The report's memory: a few figures of every run, one JSON line each, for the trends."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

KEPT_RUNS = 60


@dataclass(frozen=True)
class RunFigures:
    run_at: str  # ISO 8601, UTC
    customers: int
    records: int
    with_consent: int
    review_backlog: int
    rows_rejected_this_run: int


def _path(reports_dir: Path) -> Path:
    return Path(reports_dir) / "history.jsonl"


def load_history(reports_dir: Path) -> list[RunFigures]:
    """The kept runs' figures, oldest first."""
    runs: list[RunFigures] = []
    path = _path(reports_dir)
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                runs.append(RunFigures(**json.loads(line)))
            except (ValueError, TypeError):
                continue  # a line of an older format: the trend starts again without it
    return runs


def record_run(reports_dir: Path, figures: RunFigures) -> list[RunFigures]:
    """Adds (or, for the same run, replaces) this run's figures; all kept runs, oldest first."""
    path = _path(reports_dir)
    runs = {entry.run_at: entry for entry in load_history(reports_dir)}
    runs[figures.run_at] = figures
    kept = sorted(runs.values(), key=lambda r: r.run_at)[-KEPT_RUNS:]
    temporary = path.with_suffix(".jsonl.tmp")
    temporary.write_text("".join(json.dumps(dataclasses.asdict(r)) + "\n" for r in kept), encoding="utf-8")
    os.replace(temporary, path)
    return kept
