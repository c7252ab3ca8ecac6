"""Validation outcomes kept between the steps of a run, for the report."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from quality.validation import ExpectationResult, ValidationOutcome


def _directory(reports_dir: Path) -> Path:
    return Path(reports_dir) / "validations"


def save_outcome(reports_dir: Path, outcome: ValidationOutcome) -> Path:
    directory = _directory(reports_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{outcome.suite_name}.json"
    path.write_text(json.dumps(dataclasses.asdict(outcome), indent=1), encoding="utf-8")
    return path


def load_outcomes(reports_dir: Path) -> list[ValidationOutcome]:
    outcomes = []
    for path in sorted(_directory(reports_dir).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        data["results"] = [ExpectationResult(**r) for r in data["results"]]
        outcomes.append(ValidationOutcome(**data))
    return outcomes
