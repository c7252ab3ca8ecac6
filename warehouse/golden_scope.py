"""Which persons a run rebuilds: everyone, or exactly those whose golden row may change.

A golden row is a function of (`warehouse/survivorship.py`, `warehouse/consent.py`):
- the person's records: their staged data, their linkage features, how surely each is
  linked (`clusters.match_probability`), the analysts' decisions on them, and which person
  each belongs to;
- the spelling counts (`warehouse/spelling_statistics.py`), fixed between counts;
- for consent, two things outside the person: an opt-out or pending decision on a record
  paired with one of theirs at `doubt_threshold` or more, and an opt-out of one of their
  e-mail addresses anywhere in the data.

So a run that links a delta (`linkage_run.mode = 'delta'`) and reads kept counts rebuilds:
- every person (before and after this run) of a record whose inputs above changed, came or
  went (one hash per record, kept in `golden_record_inputs`);
- every person paired at `doubt_threshold` or more with such a record;
- every person whose consent last read such a record from outside (`golden_consent_evidence`);
- every person with an e-mail address such a record opts out of.
Everyone else's row would come out as it is. Any other run rebuilds everyone.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from sources.identifiers import written_email_sql
from warehouse.connection import table_exists
from warehouse.spelling_statistics import why_count_anew

INPUTS_DDL = """
CREATE TABLE IF NOT EXISTS golden_record_inputs (record_key VARCHAR PRIMARY KEY, golden_id VARCHAR, input_hash UBIGINT);
CREATE TABLE IF NOT EXISTS golden_consent_evidence (golden_id VARCHAR, record_key VARCHAR);
"""
SCOPE_TABLE = "_golden_scope"
# Without these a run cannot tell what the last one built from: it rebuilds everyone.
GOLDEN_STATE = ("golden_customers", "golden_sources", "golden_provenance", "golden_consent", "golden_record_inputs",
                "golden_consent_evidence")


@dataclass(frozen=True)
class GoldenScope:
    """`persons`: the table of golden ids this run rebuilds, None for everyone; `count`:
    whether the spelling counts are counted anew (then everyone is rebuilt)."""
    persons: str | None
    count: bool
    reason: str
    model_version: str | None

    @property
    def mode(self) -> str:
        return "full" if self.persons is None else "delta"


def within(column: str, scope: GoldenScope | str | None) -> str:
    """A condition on `column` (a golden id): in the scope, or TRUE when everyone is."""
    persons = scope.persons if isinstance(scope, GoldenScope) else scope
    return f"{column} IN (SELECT golden_id FROM {persons})" if persons else "TRUE"


def _linkage_run(con: duckdb.DuckDBPyConnection) -> tuple[str | None, str | None]:
    if not table_exists(con, "linkage_run"):
        return None, None
    row = con.execute("SELECT mode, model_version FROM linkage_run ORDER BY run_at DESC LIMIT 1").fetchall()
    return (row[0][0], row[0][1]) if row else (None, None)


def record_inputs(con: duckdb.DuckDBPyConnection) -> None:
    """`_record_inputs(record_key, golden_id, input_hash)`: what a golden row reads of each
    record, as one hash (needs this run's `golden_membership` and fingerprints)."""
    features = ("h.content_hash", "LEFT JOIN linkage_feature_hashes h USING (record_key)") \
        if table_exists(con, "linkage_feature_hashes") else ("NULL", "")
    clusters = ("c.match_probability", "LEFT JOIN clusters c USING (record_key)") \
        if table_exists(con, "clusters") else ("NULL", "")
    decisions = ("d.decisions", """LEFT JOIN (
            SELECT record_key, string_agg(other || '=' || coalesce(decision, ''), ',' ORDER BY other) AS decisions
            FROM (SELECT key_l AS record_key, key_r AS other, decision FROM review_decisions
                  UNION ALL SELECT key_r, key_l, decision FROM review_decisions) GROUP BY record_key) d USING (record_key)""") \
        if table_exists(con, "review_decisions") else ("NULL", "")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _record_inputs AS
        SELECT m.record_key, m.golden_id, hash(g.fingerprint, {features[0]}, {clusters[0]}, {decisions[0]}) AS input_hash
        FROM golden_membership m LEFT JOIN golden_record_fingerprints g USING (record_key)
        {features[1]} {clusters[1]} {decisions[1]}
        """
    )


def plan_golden(con: duckdb.DuckDBPyConnection, doubt_threshold: float) -> GoldenScope:
    """Decide whom this run rebuilds (and write `_golden_scope` when not everyone)."""
    con.execute(INPUTS_DDL)
    mode, model_version = _linkage_run(con)
    anew = why_count_anew(con, model_version)
    if anew:
        return GoldenScope(None, True, f"spelling counted anew: {anew}", model_version)
    if mode != "delta":
        return GoldenScope(None, False, f"linkage re-linked every record ({mode})", model_version)
    if not all(table_exists(con, t) for t in GOLDEN_STATE) or \
            not con.execute("SELECT count(*) FROM golden_record_inputs").fetchall()[0][0]:
        return GoldenScope(None, False, "no golden rows of an earlier run to update", model_version)
    _touched_persons(con, doubt_threshold)
    return GoldenScope(SCOPE_TABLE, False, "the persons the delta touched", model_version)


def _touched_persons(con: duckdb.DuckDBPyConnection, doubt_threshold: float) -> None:
    written_email = written_email_sql("r.email")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _changed_records AS
        SELECT coalesce(n.record_key, o.record_key) AS record_key, n.golden_id AS golden_now, o.golden_id AS golden_before
        FROM _record_inputs n FULL JOIN golden_record_inputs o USING (record_key)
        WHERE n.golden_id IS DISTINCT FROM o.golden_id OR n.input_hash IS DISTINCT FROM o.input_hash
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {SCOPE_TABLE} AS
        WITH paired AS (
            -- Persons paired closely with a changed record: its opt-out may weigh on them.
            SELECT p.key_r AS record_key FROM scored_pairs p SEMI JOIN _changed_records x ON x.record_key = p.key_l
            WHERE p.match_probability >= {float(doubt_threshold)}
            UNION SELECT p.key_l FROM scored_pairs p SEMI JOIN _changed_records x ON x.record_key = p.key_r
            WHERE p.match_probability >= {float(doubt_threshold)}
        ), opt_out_addresses AS (
            -- The e-mail addresses a changed record now opts out of, as standardised and as written.
            SELECT f.email_std AS email FROM staged_records r SEMI JOIN _changed_records x USING (record_key)
            JOIN linkage_features f USING (record_key) WHERE r.consent_decision = 'no' AND f.email_std IS NOT NULL
            UNION SELECT {written_email} FROM staged_records r SEMI JOIN _changed_records x USING (record_key)
            WHERE r.consent_decision = 'no'
        ), suppressed AS (
            SELECT f.record_key FROM linkage_features f WHERE f.email_std IN (SELECT email FROM opt_out_addresses)
            UNION SELECT r.record_key FROM staged_records r
            WHERE {written_email} IN (SELECT email FROM opt_out_addresses)
        )
        SELECT golden_now AS golden_id FROM _changed_records WHERE golden_now IS NOT NULL
        UNION SELECT golden_before FROM _changed_records WHERE golden_before IS NOT NULL
        UNION SELECT m.golden_id FROM golden_membership m SEMI JOIN paired USING (record_key)
        UNION SELECT m.golden_id FROM golden_membership m SEMI JOIN suppressed USING (record_key)
        -- Persons whose consent read a changed record from outside (it may say otherwise now).
        UNION SELECT e.golden_id FROM golden_consent_evidence e SEMI JOIN _changed_records x USING (record_key)
        """
    )
    con.execute("DROP TABLE _changed_records")


def persons_rebuilt(con: duckdb.DuckDBPyConnection, scope: GoldenScope) -> int:
    table = scope.persons or "golden_membership"
    return con.execute(f"SELECT count(DISTINCT golden_id) FROM {table}").fetchall()[0][0]
