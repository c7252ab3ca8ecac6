"""Every file under the landing folder is accounted for: read, or ignored with the reason."""

from __future__ import annotations

from datetime import datetime
from fnmatch import fnmatch
from pathlib import Path

from sources.ledger import file_date
from sources.spec import SourceSpec


def _visible(path: Path, top: Path) -> bool:
    # Dot files are uploads in progress and editors' droppings, by every tool's convention.
    return path.is_file() and not any(part.startswith(".") for part in path.relative_to(top).parts)


def classify(directory: Path, spec: SourceSpec) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(files to read, oldest export first; files ignored, each with its reason)."""
    if not directory.is_dir():
        return [], []
    readable: list[Path] = []
    ignored: list[tuple[Path, str]] = []
    for path in sorted(p for p in directory.rglob("*") if _visible(p, directory)):
        if path.parent != directory:
            ignored.append((path, f"in a subfolder: only files directly in {directory.name}/ are read"))
        elif not fnmatch(path.name.lower(), spec.pattern.lower()):
            ignored.append((path, f"not a {spec.pattern} file: {directory.name}/ holds {spec.format} exports"))
        elif spec.dated and file_date(path.name) is None:
            ignored.append((path, "no export date in the name (like _2026-11-21 or _2026-11-21T0600): "
                                  "the order of exports cannot be told"))
        else:
            readable.append(path)
    readable.sort(key=lambda p: (file_date(p.name) or datetime.min, p.name))
    return readable, ignored


def unknown_files(landing_dir: Path, folders: tuple[str, ...]) -> list[tuple[Path, str]]:
    """Files in the landing folder that no reader looks at: outside the known folders."""
    if not landing_dir.is_dir():
        return []
    found = []
    for path in sorted(p for p in landing_dir.rglob("*") if _visible(p, landing_dir)):
        top = path.relative_to(landing_dir).parts[0]
        if path.parent == landing_dir:
            found.append((path, f"directly in the landing folder: exports go into {', '.join(folders)}/"))
        elif top not in folders:
            found.append((path, f"unknown folder {top}/: exports go into {', '.join(folders)}/"))
    return found
