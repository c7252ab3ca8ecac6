"""Publishing under a reader that never lets go, a failed publish, and stable ids through
merges and splits."""

from __future__ import annotations

import multiprocessing
import time
from datetime import datetime

import duckdb
import pandas as pd
import pytest

from demo.generate import generate
from pipelines.steps import run_all_steps
from warehouse.golden_ids import assign_golden_ids
from warehouse.publish import publish
from warehouse.settings import Settings


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("publish")
    generate(root / "demo", persons=300, seed=9, days=1)
    settings = Settings(landing_dir=root / "demo" / "landing", warehouse_path=root / "warehouse.duckdb",
                        published_path=root / "golden.duckdb")
    run_all_steps(settings, datetime(2026, 11, 20, 7))
    return settings


def _read_loop(path: str, seconds: float, results) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with duckdb.connect(path, read_only=True) as con:
                customers = con.execute("SELECT count(*) FROM customers").fetchall()[0][0]
                announced = con.execute("SELECT customers FROM publication").fetchall()[0][0]
                sources = con.execute("SELECT count(*) FROM customer_sources").fetchall()[0][0]
                results.put(("ok", customers == announced and sources >= customers))
        except Exception as error:  # noqa: BLE001 - the test reports any failure
            results.put(("error", repr(error)))


def test_readers_always_see_a_complete_version_while_the_pipeline_publishes(built):
    results = multiprocessing.get_context("spawn").Queue()
    reader = multiprocessing.get_context("spawn").Process(target=_read_loop, args=(str(built.published_path), 6.0, results))
    reader.start()
    time.sleep(1.5)
    with duckdb.connect(str(built.warehouse_path)) as con:
        for run in range(5):
            publish(con, built.published_path, datetime(2026, 11, 20, 8, run))
    reader.join(timeout=30)
    outcomes = []
    while not results.empty():
        outcomes.append(results.get())
    assert len(outcomes) > 10
    assert all(kind == "ok" and consistent for kind, consistent in outcomes), [o for o in outcomes if o != ("ok", True)][:3]
    with duckdb.connect(str(built.published_path), read_only=True) as con:
        assert con.execute("SELECT published_at FROM publication").fetchall()[0][0] == datetime(2026, 11, 20, 8, 4)


def test_a_failed_publish_leaves_the_last_good_version(built):
    before = built.published_path.read_bytes()
    with duckdb.connect(str(built.warehouse_path)) as con:
        con.execute("ALTER TABLE golden_sources RENAME TO golden_sources_away")
        try:
            with pytest.raises(duckdb.Error):
                publish(con, built.published_path, datetime(2026, 11, 20, 9))
        finally:
            con.execute("ALTER TABLE golden_sources_away RENAME TO golden_sources")
    assert built.published_path.read_bytes() == before
    assert not [p for p in built.published_path.parent.iterdir() if p.name.endswith(".tmp")]


def _cluster(con, groups: dict[str, list[str]]) -> None:
    rows = [(key, cluster) for cluster, keys in groups.items() for key in keys]
    con.register("_c", pd.DataFrame(rows, columns=["record_key", "cluster_key"]))
    con.execute("CREATE OR REPLACE TABLE clusters AS SELECT record_key, cluster_key, 1.0 AS match_probability FROM _c")
    con.unregister("_c")


def _ids(con) -> dict[str, str]:
    return dict(con.execute("SELECT record_key, golden_id FROM golden_membership").fetchall())


def test_merge_keeps_the_older_id_and_split_keeps_the_larger_part(tmp_path):
    con = duckdb.connect(str(tmp_path / "ids.duckdb"))
    _cluster(con, {"x": ["a", "b"]})
    assign_golden_ids(con, datetime(2026, 1, 1))
    older = _ids(con)["a"]
    _cluster(con, {"x": ["a", "b"], "y": ["c"]})
    assign_golden_ids(con, datetime(2026, 1, 2))
    younger = _ids(con)["c"]
    assert older != younger and older.startswith("G-")

    _cluster(con, {"z": ["a", "b", "c"]})
    report = assign_golden_ids(con, datetime(2026, 1, 3))
    assert set(_ids(con).values()) == {older} and report.merged == 1
    assert con.execute("SELECT retired_id, golden_id, reason FROM golden_id_history").fetchall() == [(younger, older, "merged")]

    _cluster(con, {"p": ["a"], "q": ["b", "c"]})
    report = assign_golden_ids(con, datetime(2026, 1, 4))
    ids = _ids(con)
    assert ids["b"] == ids["c"] == older and ids["a"] not in (older, younger) and report.split == 1
    assert con.execute("SELECT change_type, golden_id, related_golden_id FROM customer_changes WHERE change_type = 'split'").fetchall() == [
        ("split", ids["a"], older)]
    # The same clusters again: nothing changes.
    assign_golden_ids(con, datetime(2026, 1, 5))
    assert _ids(con) == ids


def test_every_published_table_and_column_says_what_it_means(tmp_path):
    from demo.generate import generate
    from pipelines.steps import run_all_steps
    from warehouse.published_comments import undocumented
    from warehouse.settings import Settings

    generate(tmp_path / "demo", persons=200, seed=8, days=1)
    settings = Settings(landing_dir=tmp_path / "demo" / "landing", warehouse_path=tmp_path / "w.duckdb",
                        published_path=tmp_path / "golden.duckdb", reports_dir=tmp_path / "reports")
    run_all_steps(settings)
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        assert undocumented(con) == []
        comment = con.execute("SELECT comment FROM duckdb_columns() WHERE table_name = 'customers' "
                              "AND column_name = 'first_seen_at'").fetchall()[0][0]
    assert "UTC" in comment
