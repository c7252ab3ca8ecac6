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
    rejected_at TIMESTAMP,
    last_line BIGINT,        -- a damaged span ends here (= line_number for one line)
    record_id VARCHAR        -- the record's id, where it could still be read
);
ALTER TABLE rejects ADD COLUMN IF NOT EXISTS last_line BIGINT;
ALTER TABLE rejects ADD COLUMN IF NOT EXISTS record_id VARCHAR;
"""
