"""Deciding uncertain pairs in the browser: the queue, and the decision as a review CSV.

A decision is written exactly where and how the pipeline reads decisions
(`landing/reviews/*.csv`, header `key_l,key_r,decision,reviewer,decided_at`, see
sources/reviews.py), so the next run honours it like any other. The file is written under
a dot name, which the pipeline does not look at, and renamed when complete: a run never
reads half a decision.
"""

from __future__ import annotations

import csv
import io
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from web.customers import SOURCE_COLUMNS

DECISIONS = ("same", "different")
QUEUE_COLUMNS = ("key_l", "key_r", "golden_id_l", "golden_id_r", "match_probability", "explanation")


def queue(cur: duckdb.DuckDBPyConnection, already_sent: set[tuple[str, str]], limit: int = 20) -> list[dict]:
    """The pairs still to decide, most uncertain first, each with both records' values."""
    pairs = [dict(zip(QUEUE_COLUMNS, r)) for r in cur.execute(
        f"SELECT {', '.join(QUEUE_COLUMNS)} FROM review_queue ORDER BY abs(match_probability - 0.5), key_l, key_r"
    ).fetchall() if (r[0], r[1]) not in already_sent][:limit]
    keys = sorted({p["key_l"] for p in pairs} | {p["key_r"] for p in pairs})
    records = {}
    if keys:
        for row in cur.execute(f"SELECT record_key, {', '.join(SOURCE_COLUMNS)} FROM lookup_records "
                               "WHERE record_key IN (SELECT unnest(?))", [keys]).fetchall():
            records[row[0]] = dict(zip(SOURCE_COLUMNS, row[1:]))
    for p in pairs:
        p["left"], p["right"] = records.get(p["key_l"]), records.get(p["key_r"])
    return pairs


def in_queue(cur: duckdb.DuckDBPyConnection, key_l: str, key_r: str) -> bool:
    return bool(cur.execute("SELECT 1 FROM review_queue WHERE key_l = ? AND key_r = ?", [key_l, key_r]).fetchall())


def write_decision(landing_dir: Path, key_l: str, key_r: str, decision: str, reviewer: str,
                   decided_at: datetime | None = None) -> Path:
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}")
    decided_at = (decided_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    folder = Path(landing_dir) / "reviews"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = decided_at.strftime("%Y-%m-%dT%H%M%S")
    target = folder / f"web_{stamp}_{uuid.uuid4().hex[:8]}.csv"
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["key_l", "key_r", "decision", "reviewer", "decided_at"])
    writer.writerow([key_l, key_r, decision, reviewer, decided_at.strftime("%Y-%m-%dT%H:%M:%SZ")])
    temporary = folder / f".{target.name}.tmp"
    with open(temporary, "w", encoding="utf-8", newline="") as handle:
        handle.write(text.getvalue())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)
    return target
