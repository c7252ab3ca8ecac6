"""Shared fixtures: where the hand-written sample exports live (inside the repository)."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Small hand-made exports in the formats of docs/source-exports.md, one landing folder.
SAMPLES_DIR = PROJECT_ROOT / "tests" / "fixtures" / "landing"


@pytest.fixture(autouse=True)
def _quiet_great_expectations(monkeypatch):
    monkeypatch.setenv("GX_ANALYTICS_ENABLED", "false")


@pytest.fixture
def samples_dir() -> Path:
    return SAMPLES_DIR
