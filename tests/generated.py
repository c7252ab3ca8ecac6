"""Generated demo deliveries for tests: copy a day's files into a landing folder."""

from __future__ import annotations

import re
import shutil
from pathlib import Path


def delivery_days(landing: Path) -> list[str]:
    dates = {m.group(0) for p in landing.rglob("*") if p.is_file() for m in [re.search(r"\d{4}-\d{2}-\d{2}", p.name)] if m}
    return sorted(dates)


def deliver(source_landing: Path, target_landing: Path, day: str, sources: tuple[str, ...] | None = None) -> None:
    """The files of `day` (of the landing folders `sources` only, when given) into `target_landing`."""
    for path in source_landing.rglob(f"*{day}*"):
        if path.is_file() and (sources is None or path.relative_to(source_landing).parts[0] in sources):
            destination = target_landing / path.relative_to(source_landing)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
