"""Building the golden tables of one run: ids, survivors, sources, provenance, changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from warehouse.golden_ids import IDS_DDL, IdReport, assign_golden_ids, number_changes
from warehouse.golden_scope import SCOPE_TABLE, GoldenScope, persons_rebuilt, plan_golden, record_inputs, within
from warehouse.rebuilt_log import log_rebuilt
from warehouse.spelling_statistics import record_count
from sources.differences import store, write_difference
from warehouse.review_queue import build_review_queue
from warehouse.settings import Settings
from warehouse.survivorship import PROVENANCE, build_survivors

CONTRACT_COLUMNS = (
    "golden_id", "salutation", "first_name", "last_name", "email", "phone", "street", "house_number",
    "postal_code", "city", "country", "marketing_consent", "consent_source", "consent_updated_at",
    "total_revenue", "source_count", "first_seen_at", "last_seen_at", "updated_at",
)
# Columns added beside the contract's (it grows by adding): the address the e-mail opt-in
# belongs to, so marketing never mails an address that did not opt in; in how many of the
# source systems the person is (source_count counts records: two cards are two).
ADDED_COLUMNS = ("consent_email", "source_systems")
GOLDEN_COLUMNS = CONTRACT_COLUMNS + ADDED_COLUMNS
COMPARED = [c for c in GOLDEN_COLUMNS if c not in ("golden_id", "updated_at")]

GOLDEN_DDL = """
CREATE TABLE IF NOT EXISTS golden_customers (
    golden_id VARCHAR PRIMARY KEY, salutation VARCHAR, first_name VARCHAR, last_name VARCHAR, email VARCHAR,
    phone VARCHAR, street VARCHAR, house_number VARCHAR, postal_code VARCHAR, city VARCHAR, country VARCHAR,
    marketing_consent BOOLEAN NOT NULL, consent_source VARCHAR, consent_updated_at TIMESTAMP,
    total_revenue DECIMAL(12,2), source_count INTEGER, first_seen_at TIMESTAMP, last_seen_at TIMESTAMP,
    updated_at TIMESTAMP, consent_email VARCHAR, source_systems INTEGER
)
"""
# A warehouse made before a column was added gets it (empty until this run fills it).
GOLDEN_UPGRADE = """
ALTER TABLE golden_customers ADD COLUMN IF NOT EXISTS consent_email VARCHAR;
ALTER TABLE golden_customers ADD COLUMN IF NOT EXISTS source_systems INTEGER;
"""


@dataclass
class GoldenReport:
    customers: int
    source_records: int
    created: int
    updated: int
    review_queue: int
    ids: IdReport
    # full: every person rebuilt; delta: only `persons_rebuilt`, the ones the run touched.
    mode: str = "full"
    persons_rebuilt: int = 0
    reason: str = ""

    @property
    def duplicate_rate(self) -> float:
        return 1 - self.customers / self.source_records if self.source_records else 0.0


def write_change_feed(con: duckdb.DuckDBPyConnection, run_at: datetime) -> None:
    """`customer_changes` of this run: a row per new person, and a row per changed column of
    a known person with its old and new value; a consent change is typed as such, so an
    opt-in is told from an opt-out. (Merges, splits, erasures and deletions are written
    where they happen.) The golden columns hold no sensitive value, so neither does this.

    Reads the rows this run wrote (`updated_at` = the run's time: new or changed) against
    `golden_customers_previous`, which holds the earlier version of exactly those (and of
    the rows that went); every other person is unchanged and has nothing to say."""
    written = "(SELECT * FROM golden_customers WHERE updated_at = $run_at)"
    per_column = " UNION ALL ".join(
        f"SELECT s.golden_id, '{c}' AS column_name, p.{c}::VARCHAR AS old_value, s.{c}::VARCHAR AS new_value "
        f"FROM {written} s JOIN golden_customers_previous p USING (golden_id) WHERE s.{c} IS DISTINCT FROM p.{c}"
        for c in COMPARED
    )
    con.execute(
        f"""
        INSERT INTO customer_changes (run_at, golden_id, change_type, changed_columns, related_golden_id,
                                      column_name, old_value, new_value)
        SELECT $run_at, golden_id, 'created', NULL, NULL, NULL, NULL, NULL FROM {written}
        WHERE golden_id NOT IN (SELECT golden_id FROM golden_customers_previous)
        UNION ALL
        SELECT $run_at, golden_id,
               CASE WHEN column_name <> 'marketing_consent' THEN 'updated'
                    WHEN new_value = 'true' THEN 'consent_given' ELSE 'consent_withdrawn' END,
               column_name, NULL, column_name, old_value, new_value
        FROM ({per_column})
        """,
        {"run_at": run_at},
    )


def build_golden(con: duckdb.DuckDBPyConnection, settings: Settings, run_at: datetime) -> GoldenReport:
    """Ids for this run's clusters, then the golden rows of the persons it touched
    (`warehouse/golden_scope.py`; everyone when it cannot tell), their sources, provenance
    and changes, and the review queue."""
    con.execute(IDS_DDL)
    con.execute(GOLDEN_DDL)
    con.execute(GOLDEN_UPGRADE)
    ids = assign_golden_ids(con, run_at)
    record_inputs(con)
    scope = plan_golden(con, settings.review_lower)
    # Before any person's rows are written: what the next delta publish compares.
    log_rebuilt(con, scope.persons)
    build_survivors(con, settings.review_lower, settings.consent_sure_probability, scope.persons, scope.count)
    if scope.count:
        record_count(con, scope.model_version, run_at, scope.reason)
    rebuilt = persons_rebuilt(con, scope)
    _write_golden_rows(con, scope, run_at)
    write_change_feed(con, run_at)
    # This run's changes are all in (erasure's too): numbered for the outboxes' cursors.
    number_changes(con)
    _write_sources_and_provenance(con, scope)
    write_difference(con, "golden_record_inputs", "_record_inputs", "record_key")
    con.execute(f"DROP TABLE _record_inputs; DROP TABLE IF EXISTS {SCOPE_TABLE}")
    review = build_review_queue(con, settings.review_lower, settings.review_upper)

    customers, records = con.execute("SELECT (SELECT count(*) FROM golden_customers), (SELECT count(*) FROM golden_sources)").fetchall()[0]
    created, updated = con.execute(
        "SELECT count(*) FILTER (WHERE change_type = 'created'), "
        "count(DISTINCT golden_id) FILTER (WHERE change_type IN ('updated', 'consent_given', 'consent_withdrawn')) "
        "FROM customer_changes WHERE run_at = ?", [run_at]
    ).fetchall()[0]
    return GoldenReport(customers, records, created, updated, review, ids, scope.mode, rebuilt, scope.reason)


def _write_golden_rows(con: duckdb.DuckDBPyConnection, scope: GoldenScope, run_at: datetime) -> None:
    """`golden_customers` for the rebuilt persons (`_survivors`), written as its difference;
    `golden_customers_previous`: the earlier version of the rows that change or go."""
    changed = " OR ".join(f"s.{c} IS DISTINCT FROM p.{c}" for c in COMPARED)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _golden_next AS
        SELECT {', '.join('s.' + c for c in CONTRACT_COLUMNS if c != 'updated_at')},
               CASE WHEN p.golden_id IS NULL OR {changed} THEN ?::TIMESTAMP ELSE p.updated_at END AS updated_at,
               {', '.join('s.' + c for c in ADDED_COLUMNS)}
        FROM _survivors s LEFT JOIN golden_customers p USING (golden_id)
        """,
        [run_at],
    )
    # What the change feed compares with.
    con.execute(
        f"""
        CREATE OR REPLACE TABLE golden_customers_previous AS
        SELECT * FROM golden_customers
        WHERE ({within('golden_id', scope)} AND golden_id NOT IN (SELECT golden_id FROM _golden_next))
           OR golden_id IN (SELECT golden_id FROM _golden_next WHERE updated_at = ?)
        """,
        [run_at],
    )
    # Only the rows that went, changed or came are written (a quiet day changes few).
    write_difference(con, "golden_customers", "_golden_next", "golden_id", within("t.golden_id", scope))
    con.execute("DROP TABLE _golden_next")


def _write_sources_and_provenance(con: duckdb.DuckDBPyConnection, scope: GoldenScope) -> None:
    """`golden_sources` (every staged record once; the founding record, earliest seen, is
    1.0) and `golden_provenance` (which record each column came from) of the rebuilt persons."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _golden_sources AS
        SELECT m.golden_id, r.source, r.source_record_id,
               CASE WHEN row_number() OVER (PARTITION BY m.golden_id ORDER BY r.first_seen_at NULLS LAST, r.record_key) = 1
                    THEN 1.0 ELSE coalesce(c.match_probability, 1.0) END AS match_probability
        FROM staged_records r JOIN golden_membership m USING (record_key)
        LEFT JOIN clusters c USING (record_key)
        WHERE {within('m.golden_id', scope)}
        """
    )
    # Both written as their difference from the last run's (a quiet day changes few rows).
    store(con, "golden_sources", "_golden_sources", ("source", "source_record_id"), within("t.golden_id", scope))
    provenance = " UNION ALL ".join(
        f"SELECT golden_id, '{column}' AS column_name, {group}_src AS source, {group}_id AS source_record_id "
        f"FROM _survivors WHERE {group}_src IS NOT NULL"
        for column, group in PROVENANCE.items()
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _golden_provenance AS {provenance}")
    store(con, "golden_provenance", "_golden_provenance", ("golden_id", "column_name"), within("t.golden_id", scope))
    con.execute("DROP TABLE _survivors")
