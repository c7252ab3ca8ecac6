"""Reminders, so no customer is forgotten: valuable customers nobody has heard from in a while.

A view in the published file, `reminders`: customers whose total revenue is above
`reminder_settings.min_revenue` and whose last contact in any source (`last_seen_at`, the
latest activity over all their records) lies more than `reminder_settings.days` before
the publication, oldest contact first. Measured against the publication time, not the
clock, so the same version always lists the same customers. The web app's reminders page
reads the same view and lets staff change both bounds for their own look.
"""

from __future__ import annotations

import duckdb

# Defaults written into the published file's `reminder_settings`.
MIN_REVENUE = 500.0
DAYS_WITHOUT_CONTACT = 365

REMINDERS_SQL = """
SELECT c.golden_id, c.first_name, c.last_name, c.postal_code, c.city, c.phone, c.email, c.total_revenue,
       c.last_seen_at, date_diff('day', c.last_seen_at, p.published_at) AS days_without_contact
FROM {db}.customers c, {settings} s, {db}.publication p
WHERE c.total_revenue > s.min_revenue
  AND c.last_seen_at < p.published_at - to_days(s.days)
ORDER BY c.last_seen_at, c.golden_id
"""


def build_reminders(con: duckdb.DuckDBPyConnection, db: str, min_revenue: float = MIN_REVENUE,
                    days: int = DAYS_WITHOUT_CONTACT) -> None:
    """`reminder_settings` and the `reminders` view in the attached database `db` (needs `publication`)."""
    con.execute(f"CREATE TABLE {db}.reminder_settings AS SELECT ?::DECIMAL(12,2) AS min_revenue, ?::INTEGER AS days",
                [min_revenue, days])
    con.execute(f"CREATE VIEW {db}.reminders AS {reminders_sql(db, f'{db}.reminder_settings')}")


def reminders_sql(db: str, settings: str) -> str:
    """The reminders over `db`'s tables with the bounds of `settings` (min_revenue, days)."""
    return REMINDERS_SQL.format(db=db, settings=settings)
