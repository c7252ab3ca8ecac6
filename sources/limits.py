"""The bounds a delivery is held to; `Settings` carries them, with these defaults."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IngestLimits:
    # No name, street or e-mail is longer; a longer value is damage (a runaway field).
    max_value_length: int = 200
    # Hotline notes and interests are typed by people and may be long, but not unbounded.
    max_free_text_length: int = 10_000
    # A snapshot that would delete more than this share of the accounts in force is held
    # back: an export job that died early looks exactly like a mass deletion.
    snapshot_max_deleted_share: float = 0.05
    # A snapshot with more rejected rows than this share is held back too: its gaps would
    # read as deletions.
    snapshot_max_rejected_share: float = 0.05
