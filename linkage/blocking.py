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


def _rule_pairs_sql(con: duckdb.DuckDBPyConnection, table: str, rule: BlockingRule, delta: str | None = None) -> str:
    """The rule's pairs; with `delta` (a table with record_key) only those with a record in
    it. The blocks and their sizes are always those of the whole table, so a delta record
    meets exactly the records it would meet in a run over everything."""
    if rule.other_key is None:
        if delta is None:
            return f"""
            WITH keys AS ({_keys_sql(con, table, rule.key)}),
            small AS (SELECT key FROM keys GROUP BY key HAVING count(*) BETWEEN 2 AND {rule.max_block_size})
            SELECT DISTINCT a.record_key AS key_l, b.record_key AS key_r
            FROM keys a JOIN keys b ON a.key = b.key AND a.record_key < b.record_key
            WHERE a.key IN (SELECT key FROM small)
            """
        return f"""
        WITH keys AS ({_keys_sql(con, table, rule.key)}),
        small AS (SELECT key FROM keys GROUP BY key HAVING count(*) BETWEEN 2 AND {rule.max_block_size}),
        d AS (SELECT * FROM keys WHERE record_key IN (SELECT record_key FROM {delta}))
        SELECT DISTINCT least(a.record_key, b.record_key) AS key_l, greatest(a.record_key, b.record_key) AS key_r
        FROM d a JOIN keys b ON a.key = b.key AND a.record_key <> b.record_key
        WHERE a.key IN (SELECT key FROM small)
        """
    if delta is None:
        return f"""
        WITH a AS ({_keys_sql(con, table, rule.key)}), b AS ({_keys_sql(con, table, rule.other_key)}),
        small AS (SELECT key FROM b GROUP BY key HAVING count(*) <= {rule.max_block_size})
        SELECT DISTINCT least(a.record_key, b.record_key) AS key_l, greatest(a.record_key, b.record_key) AS key_r
        FROM a JOIN b ON a.key = b.key AND a.record_key <> b.record_key
        WHERE b.key IN (SELECT key FROM small)
    """
    # Asymmetric: a delta record may be on either side, so two joins, each with one side restricted.
    return f"""
        WITH a AS ({_keys_sql(con, table, rule.key)}), b AS ({_keys_sql(con, table, rule.other_key)}),
        small AS (SELECT key FROM b GROUP BY key HAVING count(*) <= {rule.max_block_size}),
        da AS (SELECT * FROM a WHERE record_key IN (SELECT record_key FROM {delta})),
        db AS (SELECT * FROM b WHERE record_key IN (SELECT record_key FROM {delta}))
        SELECT DISTINCT least(x, y) AS key_l, greatest(x, y) AS key_r FROM (
            SELECT a.record_key AS x, b.record_key AS y FROM da a JOIN b ON a.key = b.key AND a.record_key <> b.record_key
            WHERE b.key IN (SELECT key FROM small)
            UNION ALL
            SELECT a.record_key, b.record_key FROM a JOIN db b ON a.key = b.key AND a.record_key <> b.record_key
            WHERE b.key IN (SELECT key FROM small))
    """


def build_candidate_pairs(con: duckdb.DuckDBPyConnection, settings: LinkageSettings, delta: str | None = None,
                          target: str = "candidate_pairs") -> dict[str, int]:
    """(Re)build `candidate_pairs(key_l, key_r, rules)`; returns the pairs each rule yields.

    With `delta` (a table with record_key; linkage/delta.py), only the pairs with a record
    in it, into `target`."""
    con.execute("CREATE OR REPLACE TEMP TABLE _rule_pairs (key_l VARCHAR, key_r VARCHAR, rule VARCHAR)")
    per_rule: dict[str, int] = {}
    for rule in settings.blocking_rules:
        con.execute(
            f"INSERT INTO _rule_pairs SELECT key_l, key_r, '{rule.name}' "
            f"FROM ({_rule_pairs_sql(con, settings.table, rule, delta)})"
        )
        per_rule[rule.name] = con.execute(
            "SELECT count(*) FROM _rule_pairs WHERE rule = ?", [rule.name]
        ).fetchall()[0][0]
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {target} AS
        SELECT key_l, key_r, list(rule ORDER BY rule) AS rules
        FROM _rule_pairs GROUP BY key_l, key_r
        """
    )
    con.execute("DROP TABLE _rule_pairs")
    return per_rule
