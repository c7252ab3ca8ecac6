"""How stable golden ids are from one delivery day to the next, on generated exports.

    .venv/bin/python benchmarks/id_stability.py --persons 10000

Delivers day 1 of the generated exports (seed 2026, cached under benchmarks/out/exports_<N>,
shared with benchmarks/golden_accuracy.py) into a fresh landing folder, runs all steps
(`pipelines.steps.run_all_steps`, each run in its own process), then day 2, then day 2
once more with nothing new. Measures:
- of the records whose staged row (every data column, lineage aside) is the same on both
  days, the share that keep their golden id; a record whose day-1 id was merged into its
  day-2 id (a `merged` row in `golden_id_history`) counts as kept, because its old id
  resolves to its new one (goal: at least 99.95 %);
- of the day-1 ids that are not in day 2's `customers`, the share that `golden_id_history`
  names (goal: 100 %);
- for the unchanged records that moved without a merge, why (`_moved_by_cause`);
- the rows a rerun without new files adds to `customer_changes` and changes in
  `customers`/`customer_sources` (goal: none).
Writes benchmarks/results/id_stability_<N>.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, datetime, time as clock
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from german_linkage import OUT, save_result  # noqa: E402
from golden_accuracy import _fresh, _settings, prepare, run_day  # noqa: E402

KEEP_GOAL = 0.9995
LINEAGE = ("file_hash", "file_name", "line_number")


def _snapshot(settings, target: Path) -> None:
    """Day 1's staged rows and published tables, kept beside the run for the comparison."""
    target.unlink(missing_ok=True)
    with duckdb.connect(str(target)) as con:
        con.execute(f"ATTACH '{settings.warehouse_path}' AS w (READ_ONLY)")
        con.execute(f"ATTACH '{settings.published_path}' AS p (READ_ONLY)")
        con.execute("CREATE TABLE staged AS FROM w.staged_records")
        con.execute("CREATE TABLE sources AS FROM p.customer_sources")
        con.execute("CREATE TABLE customers AS FROM p.customers")
        con.execute("CREATE TABLE changes AS FROM p.customer_changes")
        # The links day 2 starts from, to look into the records that moved.
        con.execute("CREATE TABLE linked_pairs AS FROM w.linked_pairs")


def _moved_by_cause(con: duckdb.DuckDBPyConnection, settings) -> dict:
    """The moved records of `fate` by what day 2's linkage saw between each and its day-1
    co-members (the other records of its day-1 id still in the sources): no pair scored at
    all, only pairs below the bar an earlier link must keep, or such a pair kept but the
    two ended in different persons; for the last, whether a pair between the two day-2
    persons is a veto, a contradiction or an analyst's `different` (what the split honours)."""
    from linkage.clustering import keep_link_probability
    from linkage.comparisons import any_level_sql
    from linkage.settings import GERMAN_SETTINGS as linkage

    keep = keep_link_probability(settings.match_threshold, linkage)
    apart = f"({any_level_sql(linkage, linkage.vetoes)}) OR ({any_level_sql(linkage, linkage.contradictions)})"
    con.execute(
        f"""
        CREATE TEMP TABLE moved AS
        SELECT k.record_key, f.id1, f.id2 FROM fate f JOIN d1.staged k USING (source, source_record_id)
        WHERE NOT f.same_id AND NOT f.merged;
        CREATE TEMP TABLE day1_members AS
        SELECT k.record_key, s.golden_id FROM d1.sources s JOIN d1.staged k USING (source, source_record_id)
        WHERE k.record_key IN (SELECT record_key FROM w.staged_records);
        -- Day 2's scored pairs both ways round, and whether the split keeps the two apart.
        CREATE TEMP TABLE pairs AS
        WITH scored AS (
            SELECT key_l, key_r, match_probability, {apart} AS apart FROM w.scored_pairs
            UNION ALL SELECT key_l, key_r, match_probability, {apart} FROM w.relinked_pairs
        ), reviewed AS (
            SELECT key_l, key_r, NULL::DOUBLE AS match_probability, true AS apart FROM w.review_decisions
            WHERE decision = 'different'
        )
        SELECT key_l AS a, key_r AS b, match_probability, apart FROM (FROM scored UNION ALL FROM reviewed)
        UNION ALL SELECT key_r, key_l, match_probability, apart FROM (FROM scored UNION ALL FROM reviewed);
        CREATE TEMP TABLE mate_pairs AS
        SELECT m.record_key, p.match_probability
        FROM moved m JOIN day1_members o ON o.golden_id = m.id1 AND o.record_key <> m.record_key
        JOIN pairs p ON p.a = m.record_key AND p.b = o.record_key
        WHERE p.match_probability IS NOT NULL;
        -- Moved records whose day-2 person and the day-2 person of a day-1 co-member hold a
        -- pair the split keeps apart.
        CREATE TEMP TABLE held_apart AS
        SELECT DISTINCT m.record_key
        FROM moved m JOIN day1_members o ON o.golden_id = m.id1 AND o.record_key <> m.record_key
        JOIN w.golden_membership b ON b.record_key = o.record_key AND b.golden_id <> m.id2
        JOIN w.golden_membership x ON x.golden_id = m.id2
        JOIN w.golden_membership y ON y.golden_id = b.golden_id
        JOIN pairs p ON p.a = x.record_key AND p.b = y.record_key AND p.apart
        """
    )
    rows = dict(con.execute(
        f"""
        SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM mate_pairs p WHERE p.record_key = m.record_key) THEN 'no pair scored'
                    WHEN NOT EXISTS (SELECT 1 FROM mate_pairs p WHERE p.record_key = m.record_key
                                     AND p.match_probability >= {keep!r}) THEN 'pairs below the keeping bar'
                    WHEN m.record_key IN (SELECT record_key FROM held_apart)
                    THEN 'kept pair, split by a veto, contradiction or review'
                    ELSE 'kept pair, other person' END AS cause, count(*)
        FROM moved m GROUP BY 1 ORDER BY 1
        """
    ).fetchall())
    return {f"moved: {cause}": rows.get(cause, 0) for cause in (
        "no pair scored", "pairs below the keeping bar", "kept pair, split by a veto, contradiction or review",
        "kept pair, other person")}


def measure(day1: Path, settings) -> dict:
    """The figures of the module docstring, day 1 from `day1`, day 2 from the live files."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{day1}' AS d1 (READ_ONLY)")
        con.execute(f"ATTACH '{settings.warehouse_path}' AS w (READ_ONLY)")
        con.execute(f"ATTACH '{settings.published_path}' AS d2 (READ_ONLY)")
        columns = [c for (c,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'd1' AND table_name = 'staged' "
            "ORDER BY ordinal_position").fetchall() if c not in LINEAGE]
        same = " AND ".join(f"a.{c} IS NOT DISTINCT FROM b.{c}" for c in columns)
        con.execute(
            f"""
            CREATE TEMP TABLE unchanged AS
            SELECT a.source, a.source_record_id FROM d1.staged a JOIN w.staged_records b USING (record_key) WHERE {same}
            """
        )
        con.execute(
            """
            CREATE TEMP TABLE fate AS
            SELECT u.source, u.source_record_id, s1.golden_id AS id1, s2.golden_id AS id2,
                   s1.golden_id = s2.golden_id AS same_id,
                   EXISTS (SELECT 1 FROM d2.golden_id_history h WHERE h.retired_id = s1.golden_id
                           AND h.reason = 'merged' AND h.golden_id = s2.golden_id) AS merged
            FROM unchanged u
            JOIN d1.sources s1 USING (source, source_record_id)
            JOIN d2.customer_sources s2 USING (source, source_record_id)
            """
        )
        records, same_id, merged = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE same_id), count(*) FILTER (WHERE NOT same_id AND merged) FROM fate"
        ).fetchall()[0]
        moved_persons = con.execute(
            "SELECT count(DISTINCT id1) FILTER (WHERE NOT same_id AND NOT merged), count(DISTINCT id1) FROM fate"
        ).fetchall()[0]
        vanished, in_history = con.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE golden_id IN (SELECT retired_id FROM d2.golden_id_history))
            FROM d1.customers WHERE golden_id NOT IN (SELECT golden_id FROM d2.customers)
            """
        ).fetchall()[0]
        reasons = dict(con.execute(
            """
            SELECT coalesce(h.reason, '(not in history)'), count(*) FROM d1.customers c
            LEFT JOIN d2.golden_id_history h ON h.retired_id = c.golden_id
            WHERE c.golden_id NOT IN (SELECT golden_id FROM d2.customers) GROUP BY 1 ORDER BY 1
            """
        ).fetchall())
        causes = _moved_by_cause(con, settings)
    return {
        "unchanged records on both days": records,
        "of them same golden id": same_id,
        "of them id merged into the day-2 id": merged,
        "kept share (merges resolve)": (same_id + merged) / records if records else 1.0,
        "kept share (same id only)": same_id / records if records else 1.0,
        "day-1 persons of unchanged records": moved_persons[1],
        "of them moved without a merge": moved_persons[0],
        **causes,
        "day-1 ids gone on day 2": vanished,
        "of them in golden_id_history": in_history,
        "vanished ids in history": in_history / vanished if vanished else 1.0,
        "vanished by reason": ", ".join(f"{k} {v}" for k, v in reasons.items()) or "-",
    }


def rerun_changes(before: Path, settings) -> dict:
    """What a run with no new files changed, against the published file `before`."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{before}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{settings.published_path}' AS b (READ_ONLY)")
        out = {}
        for table in ("customers", "customer_sources", "golden_id_history", "customer_changes", "review_queue"):
            out[f"rerun: {table} rows differing"] = con.execute(
                f"SELECT (SELECT count(*) FROM (FROM a.{table} EXCEPT ALL FROM b.{table})) + "
                f"(SELECT count(*) FROM (FROM b.{table} EXCEPT ALL FROM a.{table}))"
            ).fetchall()[0][0]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=10_000)
    args = parser.parse_args(argv)

    from tests.generated import deliver, delivery_days

    start = time.perf_counter()
    demo = prepare(args.persons)
    base = OUT / f"id_stability_{args.persons}"
    _fresh(base)
    settings = _settings(base)
    days = delivery_days(demo / "landing")
    assert len(days) == 2, days
    day1 = base / "day1.duckdb"
    for number, day in enumerate(days, start=1):
        deliver(demo / "landing", settings.landing_dir, day)
        run_day(base, datetime.combine(date.fromisoformat(day), clock(8, 0)))
        if number == 1:
            _snapshot(settings, day1)
    figures = measure(day1, settings)
    day2 = base / "day2.duckdb"
    day2.write_bytes(settings.published_path.read_bytes())
    run_day(base, datetime.combine(date.fromisoformat(days[-1]), clock(9, 0)))
    figures.update(rerun_changes(day2, settings))
    total = time.perf_counter() - start

    shown = {k: (f"{v:.4%}" if isinstance(v, float) else v) for k, v in figures.items()}
    table = pd.DataFrame({"measure": list(shown), "value": list(shown.values())})
    verdict = "met" if figures["kept share (merges resolve)"] >= KEEP_GOAL and figures["vanished ids in history"] == 1.0 else "NOT met"
    summary = (f"{args.persons:,} persons (seed 2026), day 1 then day 2 then day 2 again, {total:.0f} s in total "
               f"including generation if not cached. Goals (>= {KEEP_GOAL:.2%} kept, 100 % of vanished ids in the "
               f"history): {verdict}.")
    text = "\n\n".join([f"# Golden id stability, {args.persons:,} persons", table.to_markdown(index=False), summary]) + "\n"
    save_result(f"id_stability_{args.persons}.md", text)
    print(table.to_string(index=False))
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
