"""The golden step's log of rebuilt persons, which a delta publish narrows its comparison to."""

from __future__ import annotations

import duckdb
import pytest

from sources.staging import _count_generation
from warehouse.rebuilt_log import last_batch, log_rebuilt, prune, rebuilt_since


@pytest.fixture
def con():
    with duckdb.connect() as con:
        con.execute("CREATE TABLE scope_a AS SELECT * FROM (VALUES ('G-1'), ('G-2'), ('G-2')) t(golden_id)")
        con.execute("CREATE TABLE scope_b AS SELECT * FROM (VALUES ('G-3'), (NULL)) t(golden_id)")
        con.execute("CREATE TABLE nobody (golden_id VARCHAR)")
        _count_generation(con)
        yield con


def since(con, shown) -> list[str] | None:
    table = rebuilt_since(con, shown)
    return None if table is None else sorted(g for (g,) in con.execute(f"SELECT golden_id FROM {table}").fetchall())


def test_the_persons_rebuilt_after_a_batch_are_those_of_the_later_batches(con):
    assert last_batch(con) is None and rebuilt_since(con, 0) is None
    first, second = log_rebuilt(con, "scope_a"), log_rebuilt(con, "scope_b")
    assert (first, second) == (1, 2) and last_batch(con) == 2
    assert since(con, 0) == ["G-1", "G-2", "G-3"]
    assert since(con, first) == ["G-3"]
    assert since(con, second) == []


def test_a_golden_step_that_rebuilt_nobody_is_a_batch_too(con):
    log_rebuilt(con, "scope_a")
    assert log_rebuilt(con, "nobody") == 2 and last_batch(con) == 2 and since(con, 2) == []


def test_a_batch_of_everyone_makes_the_log_say_nothing(con):
    log_rebuilt(con, "scope_a")
    log_rebuilt(con, None)
    log_rebuilt(con, "scope_b")
    assert since(con, 0) is None and since(con, 1) is None
    assert since(con, 2) == ["G-3"]


def test_records_staged_again_after_the_last_golden_step_make_the_log_say_nothing(con):
    log_rebuilt(con, "scope_a")
    assert since(con, 0) == ["G-1", "G-2"]
    _count_generation(con)  # staging ran, the golden step did not: a staged change may be in no batch
    assert since(con, 0) is None
    log_rebuilt(con, "scope_b")
    assert since(con, 0) == ["G-1", "G-2", "G-3"]


def test_a_version_older_than_the_pruning_or_newer_than_the_log_finds_it_incomplete(con):
    log_rebuilt(con, "scope_a")
    log_rebuilt(con, "scope_b")
    assert since(con, 3) is None, "a version showing a batch the log never had (a restored warehouse)"
    prune(con, 1)
    assert since(con, 0) is None, "batch 1 is gone: a version showing batch 0 cannot be narrowed"
    assert since(con, 1) == ["G-3"]
    prune(con, 2)
    assert since(con, 1) is None and since(con, 2) == []
    # Numbers go on after the pruning emptied the log: a new batch is never taken for a shown one.
    assert last_batch(con) == 2 and log_rebuilt(con, "scope_a") == 3 and since(con, 2) == ["G-1", "G-2"]


def test_a_golden_step_killed_before_its_batch_was_complete_leaves_its_persons_to_compare(con):
    log_rebuilt(con, "scope_a")
    # What a step killed between its persons and its batch's row leaves.
    con.execute("INSERT INTO golden_rebuilt VALUES (2, 'G-9')")
    assert last_batch(con) == 1
    assert log_rebuilt(con, "scope_b") == 3 and since(con, 1) == ["G-3", "G-9"]


def test_a_pruning_killed_after_its_mark_keeps_the_persons_and_the_numbers(con):
    log_rebuilt(con, "scope_a")
    log_rebuilt(con, "scope_b")
    con.execute("INSERT INTO golden_rebuilt_pruned VALUES (2)")  # the first statement of prune(2)
    assert since(con, 2) == [] and log_rebuilt(con, "scope_a") == 3 and since(con, 2) == ["G-1", "G-2"]


def test_without_a_batch_in_the_version_everyone_is_compared(con):
    log_rebuilt(con, "scope_a")
    assert rebuilt_since(con, None) is None
