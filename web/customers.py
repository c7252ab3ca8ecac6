"""One customer as staff see it: the golden record, its source records, its changes.

Only what the published file holds is shown; birth dates, interests and hotline notes are
never published, and the columns read here are named one by one, so a column added to the
published file later does not appear on screen by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

CUSTOMER_COLUMNS = (
    "golden_id", "salutation", "first_name", "last_name", "email", "phone", "street", "house_number",
    "postal_code", "city", "country", "marketing_consent", "consent_source", "consent_updated_at",
    "total_revenue", "source_count", "first_seen_at", "last_seen_at", "updated_at",
)
SOURCE_COLUMNS = (
    "source", "source_record_id", "match_probability", "salutation", "first_name", "last_name", "company",
    "email", "email_bounced", "phone", "street", "postal_code", "city", "country", "consent_decision",
    "consent_at", "revenue", "first_seen_at", "last_seen_at", "record_updated_at", "file_name",
    "linked_to", "link_explanation",
)
CHANGE_COLUMNS = ("run_at", "golden_id", "change_type", "changed_columns", "related_golden_id")


@dataclass
class Lookup:
    """What an id stands for: a customer, another (current) id, an erased person, or nothing."""
    status: str  # "found" | "moved" | "erased" | "unknown"
    golden_id: str
    current_id: str | None = None
    customer: dict | None = None
    sources: list[dict] = field(default_factory=list)
    changes: list[dict] = field(default_factory=list)


def _rows(cur: duckdb.DuckDBPyConnection, sql: str, params: list, columns: tuple[str, ...]) -> list[dict]:
    return [dict(zip(columns, r)) for r in cur.execute(sql, params).fetchall()]


def resolve(cur: duckdb.DuckDBPyConnection, golden_id: str) -> tuple[str, str | None]:
    """("found"|"moved"|"erased"|"unknown", the id that stands for the person now)."""
    if cur.execute("SELECT 1 FROM customers WHERE golden_id = ?", [golden_id]).fetchall():
        return "found", golden_id
    seen = {golden_id}
    current = golden_id
    # History is kept pointing at the survivor; following it a few steps is only a safeguard.
    for _ in range(10):
        rows = cur.execute("SELECT golden_id, reason FROM golden_id_history WHERE retired_id = ? "
                           "ORDER BY retired_at DESC LIMIT 1", [current]).fetchall()
        if not rows:
            return ("unknown", None) if current == golden_id else ("moved", current)
        target, reason = rows[0]
        if target is None or reason == "erased":
            return "erased", None
        if cur.execute("SELECT 1 FROM customers WHERE golden_id = ?", [target]).fetchall():
            return "moved", target
        if target in seen:
            break
        seen.add(target)
        current = target
    return "unknown", None


def look_up(cur: duckdb.DuckDBPyConnection, golden_id: str) -> Lookup:
    status, current = resolve(cur, golden_id)
    if status != "found":
        return Lookup(status, golden_id, current)
    customer = _rows(cur, f"SELECT {', '.join(CUSTOMER_COLUMNS)} FROM customers WHERE golden_id = ?",
                     [golden_id], CUSTOMER_COLUMNS)[0]
    sources = _rows(cur, f"SELECT {', '.join(SOURCE_COLUMNS)} FROM lookup_records WHERE golden_id = ? "
                         "ORDER BY source, source_record_id", [golden_id], SOURCE_COLUMNS)
    changes = _rows(cur, f"SELECT {', '.join(CHANGE_COLUMNS)} FROM customer_changes "
                         "WHERE golden_id = $id OR related_golden_id = $id ORDER BY run_at DESC, change_type",
                    {"id": golden_id}, CHANGE_COLUMNS)
    return Lookup("found", golden_id, golden_id, customer, sources, changes)


def revenue_by_account(lookup: Lookup) -> list[tuple[str, str, object]]:
    """(source, account or card, revenue) for the shop accounts and POS cards."""
    return [(s["source"], s["source_record_id"], s["revenue"]) for s in lookup.sources if s["source"] in ("shop", "pos")]


def erased_ids(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """Every id that stood for an erased person (the erased id and the ids merged into it)."""
    return [r[0] for r in cur.execute("SELECT DISTINCT retired_id FROM golden_id_history WHERE golden_id IS NULL").fetchall()]
