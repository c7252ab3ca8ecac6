"""Blocking with known costs: a common key's block is split by its refinements instead of
dropped, the cost computed before the pairs are made is the pairs made, and the pair
budget lowers the caps of refinable rules. Real DuckDB, hand-made records."""

from __future__ import annotations

import duckdb
import pytest

from linkage.blocking import build_candidate_pairs, plan_blocking
from linkage.settings import BlockingRule, LinkageSettings, Comparison, Level

NO_COMPARISONS = (Comparison("nothing", "true", (Level("all", "TRUE"),)),)


@pytest.fixture
def con():
    con = duckdb.connect()
    # 120 `thomas|mueller` in 4 regions of 30, and 6 rare names in pairs.
    con.execute(
        """
        CREATE TABLE people AS
        SELECT 'r' || lpad(i::VARCHAR, 4, '0') AS record_key, 'thomas|mueller' AS name,
               (10 + i % 4)::VARCHAR AS region
        FROM range(120) t(i)
        UNION ALL
        SELECT 'x' || i::VARCHAR, 'rare' || (i // 2)::VARCHAR, '99' FROM range(6) t(i)
        """
    )
    yield con
    con.close()


def settings(rule: BlockingRule, budget: float = 1000.0) -> LinkageSettings:
    return LinkageSettings(blocking_rules=(rule,), comparisons=NO_COMPARISONS, table="people",
                           pairs_per_record_budget=budget)


def test_a_block_over_the_cap_is_split_by_its_refinement_not_dropped(con):
    rule = BlockingRule("name", "name", max_block_size=50, refine_by=("region",), min_block_size=10)
    per_rule = build_candidate_pairs(con, settings(rule))
    # 4 regions of 30 records (435 pairs each) and 3 rare pairs; no pair across regions.
    assert per_rule["name"] == 4 * 435 + 3
    across = con.execute(
        """SELECT count(*) FROM candidate_pairs p JOIN people a ON a.record_key = p.key_l
           JOIN people b ON b.record_key = p.key_r WHERE a.region <> b.region""").fetchall()[0][0]
    assert across == 0


def test_without_refinements_a_block_over_the_cap_makes_no_pairs(con):
    per_rule = build_candidate_pairs(con, settings(BlockingRule("name", "name", max_block_size=50)))
    assert per_rule["name"] == 3


def test_the_planned_cost_is_the_pairs_made(con):
    rule = BlockingRule("name", "name", max_block_size=200, refine_by=("region",))
    planned = plan_blocking(con, settings(rule))["name"]
    made = build_candidate_pairs(con, settings(rule))["name"]
    assert planned.pairs == made == 120 * 119 // 2 + 3
    assert planned.refined_blocks == 0


def test_the_pair_budget_lowers_the_cap_until_the_rules_fit(con):
    rule = BlockingRule("name", "name", max_block_size=200, refine_by=("region",), min_block_size=10)
    # 126 records at 5 pairs each allow 630 pairs: the whole block (7,140) does not fit,
    # the four regions (1,740) neither, so the cap falls below 30 and regions are too big.
    plan = plan_blocking(con, settings(rule, budget=5.0))["name"]
    assert plan.max_block_size < 30
    assert plan.pairs == 3
    # With room for the regions, the cap stops where they fit.
    roomy = plan_blocking(con, settings(rule, budget=15.0))["name"]
    assert 30 <= roomy.max_block_size < 120 and roomy.pairs == 4 * 435 + 3


def _pairs_touching_the_delta(con: duckdb.DuckDBPyConnection, rule: BlockingRule) -> tuple[list, list]:
    """The pairs with a record of the table `delta`: of the blocking over everything, and of the delta's own."""
    build_candidate_pairs(con, settings(rule))
    build_candidate_pairs(con, settings(rule), delta="delta", target="delta_pairs")
    touching = ("SELECT key_l, key_r FROM {} WHERE key_l IN (SELECT record_key FROM delta) "
                "OR key_r IN (SELECT record_key FROM delta) ORDER BY ALL")
    return (con.execute(touching.format("candidate_pairs")).fetchall(),
            con.execute(touching.format("delta_pairs")).fetchall())


@pytest.mark.parametrize("cap", [50, 200])
def test_a_delta_meets_exactly_the_records_it_meets_over_everything(con, cap):
    # One record of a refined region, one of the rare pairs, and a record whose key no one else has.
    con.execute("INSERT INTO people VALUES ('z0', 'alone', '10')")
    con.execute("CREATE TABLE delta AS SELECT * FROM (VALUES ('r0005'), ('x3'), ('z0')) t(record_key)")
    rule = BlockingRule("name", "name", max_block_size=cap, refine_by=("region",), min_block_size=10)
    expected, delta_pairs = _pairs_touching_the_delta(con, rule)
    assert delta_pairs == expected
    # r0005 meets its region's 29 (cap 50) or all 119 others (cap 200); x3 meets x2.
    assert len(expected) == (29 if cap == 50 else 119) + 1


@pytest.mark.parametrize("own_keys", ["own", "CASE WHEN own IS NOT NULL THEN [own, own || '9'] END"])
def test_a_delta_meets_exactly_the_records_it_meets_over_everything_on_a_rule_of_two_sides(own_keys):
    """A quoted number against the accounts' own: a delta record on either side, and a
    number that too many accounts share (over the block size, counted over all of them)."""
    con = duckdb.connect()
    con.execute(
        """
        CREATE TABLE people AS SELECT * FROM (VALUES
            ('a1', NULL, 'N1'), ('a2', NULL, 'N1'), ('a3', NULL, 'N1'), ('a4', NULL, 'N1'),
            ('b1', NULL, 'N2'), ('b2', NULL, 'N2'), ('b3', NULL, 'N3'), ('b4', NULL, 'N49'),
            ('c1', 'N2', NULL), ('c2', 'N1', NULL), ('c3', 'N2', NULL), ('c4', 'N3', NULL), ('c5', 'N49', 'N5'),
            ('c6', 'N5', NULL)
        ) t(record_key, quoted, own)
        """
    )
    # Callers on one side (c1, c2, c5), an account on the other (b3); c3, c4, c6 and the rest only over everything.
    con.execute("CREATE TABLE delta AS SELECT * FROM (VALUES ('c1'), ('c2'), ('b3'), ('c5')) t(record_key)")
    expected, delta_pairs = _pairs_touching_the_delta(con, BlockingRule("quoted", "quoted", other_key=own_keys, max_block_size=3))
    assert delta_pairs == expected
    # N1's four accounts are over the block size: c2 meets none of them.
    assert not [p for p in expected if "c2" in p]
    assert ("b1", "c1") in expected and ("b3", "c4") in expected and ("c5", "c6") in expected
    con.close()
