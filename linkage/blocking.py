"""Candidate pairs: records that share a blocking key under at least one rule."""

from __future__ import annotations

import duckdb

from linkage.settings import BlockingRule, LinkageSettings


def _keys_sql(con: duckdb.DuckDBPyConnection, table: str, expression: str) -> str:
    """One row per (record, key); a LIST-valued key gives one row per element."""
    key_type = con.execute(f"DESCRIBE SELECT {expression} AS k FROM {table}").fetchall()[0][1]
    key = "unnest(k)" if key_type.endswith("[]") else "k"
    return f"""
        SELECT DISTINCT record_key, key FROM (
            SELECT record_key, {key} AS key
            FROM (SELECT record_key, {expression} AS k FROM {table})
            WHERE k IS NOT NULL
        ) WHERE key IS NOT NULL
    """


def _rule_pairs_sql(con: duckdb.DuckDBPyConnection, table: str, rule: BlockingRule) -> str:
    if rule.other_key is None:
        return f"""
        WITH keys AS ({_keys_sql(con, table, rule.key)}),
        small AS (SELECT key FROM keys GROUP BY key HAVING count(*) BETWEEN 2 AND {rule.max_block_size})
        SELECT DISTINCT a.record_key AS key_l, b.record_key AS key_r
        FROM keys a JOIN keys b ON a.key = b.key AND a.record_key < b.record_key
        WHERE a.key IN (SELECT key FROM small)
        """
    return f"""
        WITH a AS ({_keys_sql(con, table, rule.key)}), b AS ({_keys_sql(con, table, rule.other_key)}),
        small AS (SELECT key FROM b GROUP BY key HAVING count(*) <= {rule.max_block_size})
        SELECT DISTINCT least(a.record_key, b.record_key) AS key_l, greatest(a.record_key, b.record_key) AS key_r
        FROM a JOIN b ON a.key = b.key AND a.record_key <> b.record_key
        WHERE b.key IN (SELECT key FROM small)
    """


def build_candidate_pairs(con: duckdb.DuckDBPyConnection, settings: LinkageSettings) -> dict[str, int]:
    """(Re)build `candidate_pairs(key_l, key_r, rules)`; returns the pairs each rule yields."""
    con.execute("CREATE OR REPLACE TEMP TABLE _rule_pairs (key_l VARCHAR, key_r VARCHAR, rule VARCHAR)")
    per_rule: dict[str, int] = {}
    for rule in settings.blocking_rules:
        con.execute(
            f"INSERT INTO _rule_pairs SELECT key_l, key_r, '{rule.name}' FROM ({_rule_pairs_sql(con, settings.table, rule)})"
        )
        per_rule[rule.name] = con.execute(
            "SELECT count(*) FROM _rule_pairs WHERE rule = ?", [rule.name]
        ).fetchall()[0][0]
    con.execute(
        """
        CREATE OR REPLACE TABLE candidate_pairs AS
        SELECT key_l, key_r, list(rule ORDER BY rule) AS rules
        FROM _rule_pairs GROUP BY key_l, key_r
        """
    )
    con.execute("DROP TABLE _rule_pairs")
    return per_rule
