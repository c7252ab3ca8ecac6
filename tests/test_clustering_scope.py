"""Which records a delta run's clustering resolves again (linkage.delta.clustering_scope):
the delta's and the analysts' records, those of a person that would start to remember a
pair, and all they reach over a pair that can link, however long the chain, and nothing
beyond. Hand-made pairs in a real DuckDB file."""

from __future__ import annotations

import duckdb
import pytest

from linkage.comparisons import gamma_column
from linkage.delta import SCOPE, clustering_scope
from linkage.settings import GERMAN_SETTINGS

THRESHOLD = 0.7
GAMMAS = ", ".join(f"{gamma_column(c)} INTEGER DEFAULT -1" for c in GERMAN_SETTINGS.comparisons)


@pytest.fixture
def con(tmp_path):
    con = duckdb.connect(str(tmp_path / "scope.duckdb"))
    con.execute(f"CREATE TABLE scored_pairs (key_l VARCHAR, key_r VARCHAR, match_probability DOUBLE, {GAMMAS})")
    con.execute("CREATE TABLE relinked_pairs AS FROM scored_pairs LIMIT 0")
    con.execute("CREATE TABLE clusters (record_key VARCHAR, cluster_key VARCHAR, match_probability DOUBLE)")
    con.execute("CREATE TABLE linked_pairs (key_l VARCHAR, key_r VARCHAR)")
    con.execute("CREATE TABLE review_decisions (key_l VARCHAR, key_r VARCHAR, decision VARCHAR)")
    con.execute("CREATE TABLE linkage_delta (record_key VARCHAR, change VARCHAR, content_hash VARCHAR)")
    yield con
    con.close()


def _scope(con) -> set[str]:
    clustering_scope(con, THRESHOLD, GERMAN_SETTINGS)
    return {key for (key,) in con.execute(f"SELECT record_key FROM {SCOPE}").fetchall()}


def test_the_scope_follows_every_kind_of_pair_that_can_link_to_the_end_of_the_chain(con):
    # a - b - c scored as links, c - d a pair of yesterday's person scored beyond the
    # candidates, d - e yesterday's link, e - f an analyst's `same`: one chain from the delta.
    con.execute("INSERT INTO scored_pairs (key_l, key_r, match_probability) VALUES ('a', 'b', 0.9), ('b', 'c', 0.75)")
    con.execute("INSERT INTO relinked_pairs (key_l, key_r, match_probability) VALUES ('c', 'd', 0.2)")
    con.execute("INSERT INTO linked_pairs VALUES ('d', 'e')")
    con.execute("INSERT INTO review_decisions VALUES ('e', 'f', 'same')")
    con.execute("INSERT INTO linkage_delta VALUES ('a', 'new', 'h')")
    # g and h are a person of their own, apart from the chain.
    con.execute("INSERT INTO scored_pairs (key_l, key_r, match_probability) VALUES ('g', 'h', 0.95)")
    con.execute("INSERT INTO linked_pairs VALUES ('g', 'h')")
    assert _scope(con) == {"a", "b", "c", "d", "e", "f"}


def test_a_candidate_below_the_threshold_does_not_widen_the_scope(con):
    con.execute("INSERT INTO scored_pairs (key_l, key_r, match_probability) VALUES ('a', 'b', 0.9), ('b', 'c', 0.3)")
    con.execute("INSERT INTO linkage_delta VALUES ('a', 'changed', 'h')")
    assert _scope(con) == {"a", "b"}


def test_a_gone_record_brings_its_old_person_and_a_decision_its_two_records(con):
    con.execute("INSERT INTO linked_pairs VALUES ('a', 'b'), ('b', 'c')")
    con.execute("INSERT INTO linkage_delta VALUES ('b', 'gone', NULL)")
    con.execute("INSERT INTO review_decisions VALUES ('x', 'y', 'different')")
    assert _scope(con) == {"a", "b", "c", "x", "y"}


def test_a_person_that_would_start_to_remember_a_pair_is_resolved_again(con):
    """p, q, r were one person over p-q and p-r; q-r (0.4) is no remembered link yet, but
    resolving the person keeps it (neither record changed), so the person is in the scope."""
    con.execute("INSERT INTO clusters VALUES ('p', 'p', 0.9), ('q', 'p', 0.9), ('r', 'p', 0.9), ('s', 's', 1.0)")
    con.execute("INSERT INTO linked_pairs VALUES ('p', 'q'), ('p', 'r')")
    con.execute("INSERT INTO scored_pairs (key_l, key_r, match_probability) VALUES ('p', 'q', 0.9), ('p', 'r', 0.9), "
                "('q', 'r', 0.4), ('r', 's', 0.4)")
    assert _scope(con) == {"p", "q", "r"}
    # Once the pair is remembered, nothing brings the person in.
    con.execute("INSERT INTO linked_pairs VALUES ('q', 'r')")
    assert _scope(con) == set()
