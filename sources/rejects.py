"""Rows that could not be used, kept with the file, the line and the reason."""

from __future__ import annotations

REJECTS_DDL = """
CREATE TABLE IF NOT EXISTS rejects (
    source VARCHAR,
    file_name VARCHAR,
    file_hash VARCHAR,
    line_number BIGINT,      -- physical line in the file, the header being line 1
    reason VARCHAR,
    raw_line VARCHAR,
    rejected_at TIMESTAMP
)
"""
