"""Candidate pairs: records that share a blocking key under at least one rule.

What a rule costs is known before it runs: its keys are computed once, and the pairs a
block makes are n(n-1)/2 of its size. A block larger than the rule's `max_block_size`
(two thousand `thomas|mueller`) is not made into all its pairs, nor dropped: it is split
by the rule's refinements (`thomas|mueller|80` by postcode region, `thomas|mueller|1971`
by birth year, ...), and each part that is small enough makes its pairs. When all rules
together would still make more pairs than the settings' budget per record, the caps of
the refinable rules are halved until they fit, so the work grows with the records, not
with how skewed the names are.
"""

from __future__ import annotations

from dataclasses import dataclass

from linkage.blocking_keys import PREFIX as KEPT_PREFIX, commit_stale_records, keeps_keys, kept_keys, mark_stale_records
from linkage.engine import Connection, Engine, as_engine
from linkage.settings import BlockingRule, LinkageSettings


@dataclass(frozen=True)
class RuleCost:
    """What a rule will make: pairs (before removing those other rules also find), how
    many blocks were too big and refined, and the cap it ran with."""

    rule: str
    pairs: int
    refined_blocks: int
    max_block_size: int


def _keys_sql(db: Engine, table: str, expression: str, refinements: tuple[str, ...] = (),
              records: str | None = None, keys_in: str | None = None) -> str:
    """One row per (record, key) with the record's refinement values; a LIST-valued key
    gives one row per element. `records`: only the records of that table (record_key);
    `keys_in`: only the keys that table (key) holds."""
    key = "unnest(k)" if db.is_list(table, expression) else "k"
    refine = "".join(f", ({r})::VARCHAR AS refine_{i}" for i, r in enumerate(refinements))
    passed = "".join(f", refine_{i}" for i in range(len(refinements)))
    of_records = f" WHERE record_key IN (SELECT record_key FROM {records})" if records else ""
    of_keys = f" AND key IN (SELECT key FROM {keys_in})" if keys_in else ""
    return f"""
        SELECT DISTINCT record_key, key::VARCHAR AS key{passed} FROM (
            -- unnest alone in its select: Spark's explode may not sit inside a cast
            SELECT record_key, {key} AS key{passed}
            FROM (SELECT record_key, {expression} AS k{refine} FROM {table}{of_records})
            WHERE k IS NOT NULL
        ) WHERE key IS NOT NULL{of_keys}
    """


def _blocks_sql(rule: BlockingRule, keys: str, sizes: str, cap: int) -> str:
    """(record_key, block) for the blocks of 2..cap records: whole keys where small
    enough, else the key split by each refinement in turn (a block is the key, the
    refinement's number and its value); `sizes`: each key's records over all records."""
    parts = [f"SELECT record_key, key AS block FROM {keys} JOIN {sizes} USING (key) WHERE n <= {cap}"]
    for i in range(len(rule.refine_by)):
        parts.append(
            f"SELECT record_key, key || '|~{i}~|' || refine_{i} AS block FROM {keys} JOIN {sizes} USING (key) "
            f"WHERE n > {cap} AND refine_{i} IS NOT NULL"
        )
    # The parts once, then only the blocks within the cap (a CTE, not the union twice).
    return f"""
        WITH parts AS ({" UNION ALL ".join(parts)})
        SELECT record_key, block FROM parts
        WHERE block IN (SELECT block FROM parts GROUP BY block HAVING count(*) BETWEEN 2 AND {cap})
    """


def _materialise_keys(db: Engine, table: str, rule: BlockingRule, keep: bool) -> tuple[str, str]:
    """The rule's keys (record, key, refinements) and `_sizes_<rule>` (key, n), once per run:
    the plan's costs at every cap and the pairs read both. `keep`: the keys are the table
    kept in the warehouse (linkage/blocking_keys.py), else `_keys_<rule>` of this run."""
    sizes = f"_sizes_{rule.name}"
    if keep:
        keys = kept_keys(db, rule.name, lambda records: _keys_sql(db, table, rule.key, rule.refine_by, records=records))
    else:
        keys = f"_keys_{rule.name}"
        db.run(f"CREATE OR REPLACE TEMP TABLE {keys} AS {_keys_sql(db, table, rule.key, rule.refine_by)}")
    db.run(f"CREATE OR REPLACE TEMP TABLE {sizes} AS SELECT key, count(*) AS n FROM {keys} GROUP BY key")
    return keys, sizes


def _cost(db: Engine, rule: BlockingRule, keys: str, sizes: str, cap: int) -> RuleCost:
    """Pairs the rule makes with this cap, from block sizes alone (no pair is made).

    A key within the cap is its own block, so its pairs come from its size; only the
    records of the keys over it are split into their refined blocks to be counted."""
    db.run(f"CREATE OR REPLACE TEMP TABLE _over_cap AS SELECT * FROM {keys} "
           f"WHERE key IN (SELECT key FROM {sizes} WHERE n > {cap})")
    whole, refined = db.rows(
        f"SELECT coalesce(sum(n * (n - 1) // 2) FILTER (WHERE n <= {cap}), 0), count(*) FILTER (WHERE n > {cap}) "
        f"FROM {sizes}")[0]
    split = db.rows(
        f"""SELECT coalesce(sum(n * (n - 1) // 2), 0)
            FROM (SELECT block, count(*) AS n FROM ({_blocks_sql(rule, "_over_cap", sizes, cap)}) GROUP BY block)"""
    )[0][0]
    db.run("DROP TABLE _over_cap")
    return RuleCost(rule.name, int(whole) + int(split), int(refined) if rule.refine_by else 0, cap)


def _symmetric_pairs_sql(rule: BlockingRule, keys: str, sizes: str, cap: int, delta: str | None = None) -> str:
    """The rule's pairs; with `delta` (a table with record_key) only those with a record in
    it. Blocks, their sizes and the caps are always those of the whole table, so a delta
    record meets exactly the records it would meet in a run over everything."""
    if delta is None:
        return f"""
        WITH blocks AS ({_blocks_sql(rule, keys, sizes, cap)})
        SELECT DISTINCT a.record_key AS key_l, b.record_key AS key_r
        FROM blocks a JOIN blocks b ON a.block = b.block AND a.record_key < b.record_key
    """
    return f"""
        WITH blocks AS ({_blocks_sql(rule, keys, sizes, cap)}),
        d AS (SELECT * FROM blocks WHERE record_key IN (SELECT record_key FROM {delta}))
        SELECT DISTINCT least(a.record_key, b.record_key) AS key_l, greatest(a.record_key, b.record_key) AS key_r
        FROM d a JOIN blocks b ON a.block = b.block AND a.record_key <> b.record_key
    """


def _keys_in_delta(db: Engine, keys: str, delta: str) -> str:
    """`_keys_in_delta`: the rows of `keys` whose key a record of `delta` has.

    A block is made of one key's records (split by a refinement when the key is over the
    cap, its size still counted over all records), so the blocks a delta record is in are the
    same as over all keys, and the keys no delta record has are never split into blocks."""
    db.run(
        f"""
        CREATE OR REPLACE TEMP TABLE _keys_in_delta AS
        SELECT * FROM {keys}
        WHERE key IN (SELECT key FROM {keys} WHERE record_key IN (SELECT record_key FROM {delta}))
        """
    )
    return "_keys_in_delta"


def _asymmetric_pairs_sql(db: Engine, table: str, rule: BlockingRule, delta: str | None = None,
                          keep: bool = False) -> str:
    """A quoted number against the account's own: keys of one side meet the other's; with
    `delta`, a delta record on either side (two joins, each with one side restricted).

    Each side's keys are computed once into `_asym_a` and `_asym_b` (the caller drops them
    with `ASYMMETRIC_TABLES`): as CTEs they were computed for each of the up to four places
    that read them, and every account's number with each digit left out is ten million
    keys. A delta keeps of them only the keys its own records have (`_asym_wanted`): a
    delta record's key meets only those, and a block's size is counted over every record
    with its key, so the pairs and the size limit are those of all keys (a quiet day at a
    million persons: 1.4 of the 10.4 million keys of the quoted numbers).

    `keep`: each side's keys of every record are the tables kept in the warehouse
    (linkage/blocking_keys.py), read instead of computed."""
    side_a = side_b = None
    if keep:
        side_a = kept_keys(db, f"{rule.name}_a", lambda records: _keys_sql(db, table, rule.key, records=records))
        side_b = kept_keys(db, f"{rule.name}_b", lambda records: _keys_sql(db, table, rule.other_key, records=records))
    if delta is None:
        if not keep:
            side_a, side_b = "_asym_a", "_asym_b"
            db.run(f"CREATE OR REPLACE TEMP TABLE _asym_a AS {_keys_sql(db, table, rule.key)}")
            db.run(f"CREATE OR REPLACE TEMP TABLE _asym_b AS {_keys_sql(db, table, rule.other_key)}")
        return f"""
        WITH small AS (SELECT key FROM {side_b} GROUP BY key HAVING count(*) <= {rule.max_block_size})
        SELECT DISTINCT least(a.record_key, b.record_key) AS key_l, greatest(a.record_key, b.record_key) AS key_r
        FROM {side_a} a JOIN {side_b} b ON a.key = b.key AND a.record_key <> b.record_key
        WHERE b.key IN (SELECT key FROM small)
    """
    db.run(f"CREATE OR REPLACE TEMP TABLE _asym_da AS {_keys_sql(db, table, rule.key, records=delta)}")
    db.run(f"CREATE OR REPLACE TEMP TABLE _asym_db AS {_keys_sql(db, table, rule.other_key, records=delta)}")
    db.run("CREATE OR REPLACE TEMP TABLE _asym_wanted AS SELECT key FROM _asym_da UNION SELECT key FROM _asym_db")
    # Every record's side-b keys that a delta record has on either side (the first join meets
    # them, and the sizes of the second join's blocks are counted over them); side a's only
    # where a delta record's side b has them (the second join).
    if keep:
        db.run(f"CREATE OR REPLACE TEMP TABLE _asym_b AS SELECT * FROM {side_b} WHERE key IN (SELECT key FROM _asym_wanted)")
        db.run(f"CREATE OR REPLACE TEMP TABLE _asym_a AS SELECT * FROM {side_a} WHERE key IN (SELECT key FROM _asym_db)")
    else:
        db.run(f"CREATE OR REPLACE TEMP TABLE _asym_b AS {_keys_sql(db, table, rule.other_key, keys_in='_asym_wanted')}")
        db.run(f"CREATE OR REPLACE TEMP TABLE _asym_a AS {_keys_sql(db, table, rule.key, keys_in='_asym_db')}")
    return f"""
        WITH small AS (SELECT key FROM _asym_b GROUP BY key HAVING count(*) <= {rule.max_block_size})
        SELECT DISTINCT least(x, y) AS key_l, greatest(x, y) AS key_r FROM (
            SELECT a.record_key AS x, b.record_key AS y FROM _asym_da a JOIN _asym_b b ON a.key = b.key AND a.record_key <> b.record_key
            WHERE b.key IN (SELECT key FROM small)
            UNION ALL
            SELECT a.record_key, b.record_key FROM _asym_a a JOIN _asym_db b ON a.key = b.key AND a.record_key <> b.record_key
            WHERE b.key IN (SELECT key FROM small))
    """


# What `_asymmetric_pairs_sql` leaves.
ASYMMETRIC_TABLES = ("_asym_a", "_asym_b", "_asym_da", "_asym_db", "_asym_wanted")


def _keys_table(rule: BlockingRule, keep: bool) -> str:
    """Where `plan_blocking` left the symmetric rule's keys."""
    return f"{KEPT_PREFIX}{rule.name}" if keep else f"_keys_{rule.name}"


def plan_blocking(con: Connection, settings: LinkageSettings) -> dict[str, RuleCost]:
    """The cap each symmetric rule runs with and what it will cost, within the pair budget.

    Leaves each rule's keys (`_keys_table`) and `_sizes_<rule>` for `build_candidate_pairs`."""
    db = as_engine(con)
    records = db.rows(f"SELECT count(*) FROM {settings.table}")[0][0]
    budget = settings.pairs_per_record_budget * max(records, 1)
    symmetric = [r for r in settings.blocking_rules if r.other_key is None]
    keep = keeps_keys(db, settings.table)
    if keep:
        mark_stale_records(db, settings.table)
    tables = {r.name: _materialise_keys(db, settings.table, r, keep) for r in symmetric}
    costs = {r.name: _cost(db, r, *tables[r.name], r.max_block_size) for r in symmetric}
    for _ in range(6):
        if sum(c.pairs for c in costs.values()) <= budget:
            break
        for r in symmetric:
            if r.refine_by and costs[r.name].max_block_size > r.min_block_size:
                cap = max(costs[r.name].max_block_size // 2, r.min_block_size)
                costs[r.name] = _cost(db, r, *tables[r.name], cap)
    return costs


def build_candidate_pairs(con: Connection, settings: LinkageSettings, delta: str | None = None,
                          target: str = "candidate_pairs") -> dict[str, int]:
    """(Re)build `candidate_pairs(key_l, key_r, rules)`; returns the pairs each rule yields.

    With `delta` (a table with record_key; linkage/delta.py), only the pairs with a record
    in it, into `target`; the plan (caps within the budget) is that of all records."""
    db = as_engine(con)
    costs = plan_blocking(db, settings)
    keep = keeps_keys(db, settings.table)
    db.run("CREATE OR REPLACE TEMP TABLE _rule_pairs (key_l VARCHAR, key_r VARCHAR, rule VARCHAR)")
    per_rule: dict[str, int] = {}
    for rule in settings.blocking_rules:
        if rule.other_key is None:
            keys, sizes = _keys_table(rule, keep), f"_sizes_{rule.name}"
            if delta is not None:
                keys = _keys_in_delta(db, keys, delta)
            pairs = _symmetric_pairs_sql(rule, keys, sizes, costs[rule.name].max_block_size, delta)
        else:
            pairs = _asymmetric_pairs_sql(db, settings.table, rule, delta, keep)
        db.run(f"INSERT INTO _rule_pairs SELECT key_l, key_r, '{rule.name}' FROM ({pairs})")
        per_rule[rule.name] = db.rows("SELECT count(*) FROM _rule_pairs WHERE rule = ?", [rule.name])[0][0]
        if rule.other_key is None:
            own = "" if keep else f"DROP TABLE _keys_{rule.name}; "
            db.run(f"{own}DROP TABLE _sizes_{rule.name}; DROP TABLE IF EXISTS _keys_in_delta")
        else:
            db.run("; ".join(f"DROP TABLE IF EXISTS {t}" for t in ASYMMETRIC_TABLES))
    if keep:
        commit_stale_records(db, settings.table)
    # list_sort(list(...)), not list(... ORDER BY ...): the same in DuckDB, and Spark's
    # collect_list has no ORDER BY.
    db.run(
        f"""
        CREATE OR REPLACE TABLE {target} AS
        SELECT key_l, key_r, list_sort(list(rule)) AS rules
        FROM _rule_pairs GROUP BY key_l, key_r
        """
    )
    db.run("DROP TABLE _rule_pairs")
    return per_rule
