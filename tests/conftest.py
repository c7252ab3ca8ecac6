"""Shared fixtures: where the hand-written sample exports live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# CI clones the project with the shared folder beside it.
SAMPLES_DIR = Path(os.environ.get("KUNDENSTAMM_SAMPLES", PROJECT_ROOT.parent / "shared" / "samples"))


@pytest.fixture(autouse=True)
def _quiet_great_expectations(monkeypatch):
    monkeypatch.setenv("GX_ANALYTICS_ENABLED", "false")


@pytest.fixture
def samples_dir() -> Path:
    assert SAMPLES_DIR.is_dir(), f"sample exports not found at {SAMPLES_DIR} (set KUNDENSTAMM_SAMPLES)"
    return SAMPLES_DIR
