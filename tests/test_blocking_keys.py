"""Kept blocking keys (linkage/blocking_keys.py): after records change, come and go, the
kept tables and the candidate pairs are exactly those a build from nothing gives; an
erasure's `forget_kept_keys` leaves none. Real DuckDB files, hand-made records."""

from __future__ import annotations

import duckdb

from linkage.blocking import build_candidate_pairs
from linkage.blocking_keys import HASHES, PREFIX, forget_kept_keys
from linkage.settings import BlockingRule, Comparison, Level, LinkageSettings

SETTINGS = LinkageSettings(
    blocking_rules=(BlockingRule("name", "name", max_block_size=50, refine_by=("region",), min_block_size=10),
                    BlockingRule("number", "number", other_key="quoted")),
    comparisons=(Comparison("nothing", "true", (Level("all", "TRUE"),)),), table="people")


def _people(con, rows):
    con.execute("CREATE OR REPLACE TABLE people (record_key VARCHAR, name VARCHAR, region VARCHAR, number VARCHAR, "
                "quoted VARCHAR[], feature_hash VARCHAR)")
    con.executemany("INSERT INTO people VALUES (?, ?, ?, ?, ?, NULL)", rows)
    con.execute("UPDATE people SET feature_hash = CAST(hash(name, region, number, quoted) AS VARCHAR)")


def _tables(con) -> dict[str, list]:
    names = [n for (n,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, ?) "
                                       "AND table_name NOT IN (?, 'blocking_keys_made') ORDER BY 1",
                                       [PREFIX, HASHES]).fetchall()]
    return {n: con.execute(f"SELECT * FROM {n} ORDER BY ALL").fetchall() for n in names}


DAY1 = [(f"r{i:03d}", "thomas|mueller" if i < 60 else f"rare{i // 2}", str(10 + i % 4), f"N{i}",
         [f"N{i + 1}"] if i % 5 == 0 else []) for i in range(80)]


def test_kept_keys_after_a_delivery_equal_keys_built_from_nothing(tmp_path):
    kept = duckdb.connect(str(tmp_path / "kept.duckdb"))
    _people(kept, DAY1)
    build_candidate_pairs(kept, SETTINGS)
    assert _tables(kept)["blocking_keys_name"]
    # A changed name, a changed quoted number, a record gone, two new ones.
    day2 = [r for r in DAY1 if r[0] != "r005"]
    day2 = [(k, "rare99" if k == "r010" else n, g, num, ["N70"] if k == "r020" else q) for k, n, g, num, q in day2]
    day2 += [("r900", "thomas|mueller", "12", "N900", ["N3"]), ("r901", "rare99", "11", "N901", [])]
    _people(kept, day2)
    build_candidate_pairs(kept, SETTINGS)
    fresh = duckdb.connect(str(tmp_path / "fresh.duckdb"))
    _people(fresh, day2)
    build_candidate_pairs(fresh, SETTINGS)
    assert _tables(kept) == _tables(fresh)
    pairs = "SELECT * FROM candidate_pairs ORDER BY ALL"
    assert kept.execute(pairs).fetchall() == fresh.execute(pairs).fetchall()
    # The changed records' new keys are in: r010 now meets the new rare99, r020 quotes r070's number.
    assert ("r010", "r901") in {p[:2] for p in kept.execute(pairs).fetchall()}
    assert ("r020", "r070") in {p[:2] for p in kept.execute(pairs).fetchall()}
    forget_kept_keys(kept)
    assert not kept.execute("SELECT count(*) FROM duckdb_tables() WHERE starts_with(table_name, ?)",
                            [PREFIX]).fetchall()[0][0]
