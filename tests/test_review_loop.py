"""Analysts' decisions: a CSV in landing/reviews/ splits a wrongly merged person and merges
a missed pair; later runs, with new data, keep honouring both. Real Dagster runs."""

from __future__ import annotations

import csv

import dagster as dg
import duckdb
import pytest

from demo.generate import generate
from pipelines.definitions import build_definitions
from pipelines.resources import KundenstammSettings
from tests.generated import deliver, delivery_days


def golden_of(path, keys: list[str]) -> dict[str, str]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("SELECT source || ':' || source_record_id, golden_id FROM customer_sources").fetchall()
    mapping = dict(rows)
    return {k: mapping[k] for k in keys}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("reviews")
    generate(root / "demo", persons=400, seed=17, days=2)
    return root


def test_review_decisions_split_and_merge_and_survive_new_data(demo, tmp_path):
    resource = KundenstammSettings(landing_dir=str(tmp_path / "landing"), warehouse_path=str(tmp_path / "warehouse.duckdb"),
                                   published_path=str(tmp_path / "golden.duckdb"), reports_dir=str(tmp_path / "reports"))
    job = build_definitions(resource).resolve_job_def("kundenstamm")
    instance = dg.DagsterInstance.ephemeral()
    days = delivery_days(demo / "demo" / "landing")
    deliver(demo / "demo" / "landing", tmp_path / "landing", days[0])
    assert job.execute_in_process(instance=instance).success
    published = tmp_path / "golden.duckdb"

    with duckdb.connect(str(published), read_only=True) as con:
        # Records that the second day still delivers (not deleted from the shop, not erased).
        truth = demo / "demo" / "truth"
        con.execute(f"""CREATE TEMP TABLE lasting AS SELECT source || ':' || source_record_id AS k
                        FROM read_csv('{truth / "records.csv"}', all_varchar = true)
                        WHERE last_day = '2' AND person_id NOT IN (
                            SELECT person_id FROM read_csv('{truth / "erasure_requests.csv"}', all_varchar = true))""")
        # A person of exactly two records, to be split; two single-record persons, to be merged.
        pair = con.execute(
            """SELECT list(k ORDER BY k) FROM (SELECT golden_id, source || ':' || source_record_id AS k FROM customer_sources)
               GROUP BY golden_id HAVING count(*) = 2 AND bool_and(k IN (SELECT k FROM lasting))
               ORDER BY min(k) LIMIT 1""").fetchall()[0][0]
        singles = [r[0] for r in con.execute(
            """SELECT any_value(k) FROM (SELECT golden_id, source || ':' || source_record_id AS k FROM customer_sources)
               GROUP BY golden_id HAVING count(*) = 1 AND bool_and(k IN (SELECT k FROM lasting))
               ORDER BY min(k) LIMIT 2""").fetchall()]
    split_a, split_b = pair
    merge_a, merge_b = singles
    before = golden_of(published, [split_a, split_b, merge_a, merge_b])
    assert before[split_a] == before[split_b] and before[merge_a] != before[merge_b]

    reviews = tmp_path / "landing" / "reviews"
    reviews.mkdir(parents=True)
    with (reviews / "decisions_2026-11-20.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["key_l", "key_r", "decision", "reviewer", "decided_at"])
        writer.writerow([split_a, split_b, "different", "analyst@example.org", "2026-11-20T12:00:00Z"])
        writer.writerow([merge_a, merge_b, "same", "analyst@example.org", "2026-11-20T12:05:00Z"])
    assert job.execute_in_process(instance=instance).success
    after = golden_of(published, [split_a, split_b, merge_a, merge_b])
    assert after[split_a] != after[split_b]
    assert before[split_a] in (after[split_a], after[split_b]), "one part of a split keeps the id"
    assert after[merge_a] == after[merge_b]
    survivor, retired = after[merge_a], ({before[merge_a], before[merge_b]} - {after[merge_a]}).pop()
    with duckdb.connect(str(published), read_only=True) as con:
        history = con.execute("SELECT retired_id, golden_id, reason FROM golden_id_history").fetchall()
        changes = {r[0] for r in con.execute("SELECT change_type FROM customer_changes").fetchall()}
    assert (retired, survivor, "merged") in history
    assert {"created", "merged", "split"} <= changes

    deliver(demo / "demo" / "landing", tmp_path / "landing", days[1])
    assert job.execute_in_process(instance=instance).success
    later = golden_of(published, [split_a, split_b, merge_a, merge_b])
    assert later[split_a] != later[split_b] and later[merge_a] == later[merge_b]
    # New data may join the merged person with yet another record; then the survivor's id
    # either stays or is retired into the id that now stands for the person.
    with duckdb.connect(str(published), read_only=True) as con:
        successor = dict(con.execute("SELECT retired_id, golden_id FROM golden_id_history").fetchall())
    assert later[merge_a] in (survivor, successor.get(survivor))
