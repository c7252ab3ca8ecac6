"""Outboxes: each routed change delivered to its recipient exactly once, as JSON Lines.

Per recipient of the routing (warehouse/routing.py) a folder `<outbox>/<recipient>/` of
files `changes-<first>-<last>.jsonl`, one per delivery, holding the recipient's changes
with `change_id` in [first, last] (`customer_changes.change_id`, numbered when the
changes are made). Ranges follow each other without gap or overlap; the zero-padded names
sort in delivery order. The warehouse table `outbox_cursor(recipient, last_change_id)`
says how far each recipient has been served.

Exactly once, also after a crash: a delivery first writes its file (to a temporary name,
fsynced, renamed: a file is there complete or not at all), then moves the cursor. Where
the next delivery starts is the later of the cursor and the end of the newest complete file
in the folder, so a process killed between the two steps serves the same changes neither
twice nor never: the file it left counts as delivered and the cursor catches up. A delivery
with no change past that point writes nothing.

Erased persons: a file written before an erasure stays as it is (the recipient has it, and
the erasure is routed to it to delete there). A file written after it carries of an
erased person only the `erased` change itself (the id, no value): `customer_changes`
keeps the old and new values of changes made before the erasure, and a change not yet
delivered when the person was erased is dropped, not sent.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from warehouse.routing import Routing

OUTBOX_DDL = """
CREATE TABLE IF NOT EXISTS outbox_cursor (recipient VARCHAR PRIMARY KEY, last_change_id BIGINT NOT NULL,
                                          delivered_at TIMESTAMP);
"""
_FILE = re.compile(r"^changes-(\d{12})-(\d{12})\.jsonl$")
_TEMPORARY = re.compile(r"^\.changes-\d{12}-\d{12}\.jsonl\.\d+\.tmp$")

# The changes of one recipient in (start, end], by number. A change is routed by its type,
# and an update also by `updated.<column>`; DISTINCT because both may route the same row.
# An erased person's changes other than the erasure are not sent (module docstring).
_ROUTED_SQL = """
    WITH routes AS (SELECT unnest($keys) AS route, unnest($recipients) AS recipient)
    SELECT DISTINCT c.change_id, strftime(c.run_at, '%Y-%m-%dT%H:%M:%SZ') AS run_at, c.change_type, c.golden_id,
           c.related_golden_id, c.column_name, c.old_value, c.new_value
    FROM customer_changes c
    JOIN routes r ON r.recipient = $recipient
                 AND (r.route = c.change_type OR (c.change_type = 'updated' AND r.route = 'updated.' || c.column_name))
    WHERE c.change_id > $start AND c.change_id <= $end
      AND (c.change_type = 'erased' OR NOT EXISTS (
          SELECT 1 FROM golden_ids g WHERE g.golden_id = c.golden_id AND g.retired_reason = 'erased'))
    ORDER BY c.change_id
"""


@dataclass
class Delivery:
    recipient: str
    first_change_id: int
    last_change_id: int
    changes: int
    path: Path | None  # None: nothing of the range was routed to this recipient, no file


@dataclass
class OutboxReport:
    routing: str
    deliveries: list[Delivery] = field(default_factory=list)
    # recipient -> last change id served, after this delivery
    cursors: dict[str, int] = field(default_factory=dict)

    def changes(self, recipient: str) -> int:
        return sum(d.changes for d in self.deliveries if d.recipient == recipient)


def outbox_files(folder: Path) -> list[tuple[int, int, Path]]:
    """The complete delivery files of one recipient's folder, (first, last, path), in order."""
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), int(m.group(2)), p) for p in folder.iterdir() for m in [_FILE.match(p.name)] if m]
    return sorted(found)


def delivered_up_to(con: duckdb.DuckDBPyConnection, outbox_root: Path, recipient: str) -> int:
    """The last change id the recipient has been served: the cursor, or a newer complete file
    that a delivery killed before moving the cursor left."""
    con.execute(OUTBOX_DDL)
    row = con.execute("SELECT last_change_id FROM outbox_cursor WHERE recipient = ?", [recipient]).fetchall()
    files = outbox_files(outbox_root / recipient)
    return max([row[0][0] if row else 0] + [last for _, last, _ in files])


def write_outbox_files(con: duckdb.DuckDBPyConnection, outbox_root: Path, routing: Routing) -> list[Delivery]:
    """The delivery's first half: each recipient's file of the changes since it was last
    served. Moves no cursor (advance_cursors does), so it can be killed anywhere."""
    con.execute(OUTBOX_DDL)
    outbox_root = Path(outbox_root)
    end = con.execute("SELECT coalesce(max(change_id), 0) FROM customer_changes").fetchall()[0][0]
    keys, recipients = [list(column) for column in zip(*routing.pairs)] if routing.pairs else ([], [])
    deliveries = []
    for recipient in routing.recipients:
        folder = outbox_root / recipient
        folder.mkdir(parents=True, exist_ok=True)
        # Only the pipeline writes here, and only while it holds the warehouse (DuckDB lets
        # one process open it read-write): a temporary file now is one a killed delivery left.
        for leftover in folder.iterdir():
            if _TEMPORARY.match(leftover.name):
                leftover.unlink()
        start = delivered_up_to(con, outbox_root, recipient)
        if end <= start:
            continue
        name = f"changes-{start + 1:012d}-{end:012d}.jsonl"
        temporary = folder / f".{name}.{os.getpid()}.tmp"
        params = {"keys": keys, "recipients": recipients, "recipient": recipient, "start": start, "end": end}
        quoted = str(temporary).replace("'", "''")
        count = con.execute(f"COPY ({_ROUTED_SQL}) TO '{quoted}' (FORMAT json)", params).fetchall()[0][0]
        path = None
        if count:
            with open(temporary, "rb") as handle:
                os.fsync(handle.fileno())
            path = folder / name
            os.replace(temporary, path)
            _fsync_folder(folder)
        else:
            temporary.unlink()
        deliveries.append(Delivery(recipient, start + 1, end, count, path))
    return deliveries


def advance_cursors(con: duckdb.DuckDBPyConnection, outbox_root: Path, routing: Routing,
                    deliveries: list[Delivery], delivered_at: datetime) -> dict[str, int]:
    """The delivery's second half: each recipient's cursor to the end of what it was served,
    by these deliveries or by a file a killed delivery left; recipient -> last change id.
    A cursor only moves forward, and only when it moves is its row written."""
    served = {recipient: delivered_up_to(con, Path(outbox_root), recipient) for recipient in routing.recipients}
    for delivery in deliveries:
        served[delivery.recipient] = max(served[delivery.recipient], delivery.last_change_id)
    for recipient, last in served.items():
        if last:
            con.execute(
                """
                INSERT INTO outbox_cursor VALUES ($recipient, $last, $at)
                ON CONFLICT (recipient) DO UPDATE SET last_change_id = $last, delivered_at = $at
                WHERE outbox_cursor.last_change_id < $last
                """,
                {"recipient": recipient, "last": last, "at": delivered_at},
            )
    return served


def deliver_changes(con: duckdb.DuckDBPyConnection, outbox_root: Path, routing: Routing,
                    delivered_at: datetime) -> OutboxReport:
    """Serve every recipient of `routing` the changes it has not had yet."""
    report = OutboxReport(routing.source)
    report.deliveries = write_outbox_files(con, outbox_root, routing)
    report.cursors = advance_cursors(con, outbox_root, routing, report.deliveries, delivered_at)
    return report


def _fsync_folder(folder: Path) -> None:
    """The rename itself survives a power cut only once the folder is synced."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
