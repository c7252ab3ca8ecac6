"""How much of the unsafe consent no linker that needs evidence could avoid.

    ./run bench && .venv/bin/python benchmarks/golden_accuracy.py --persons 100000
    .venv/bin/python benchmarks/consent_floor.py --persons 100000     # on that run's last day

A published yes is unsafe when its person's latest decision is not a yes. Linkage can only
withdraw it if the record carrying the yes is connected to a record carrying the person's
later no: directly or through the person's other records, by something two records share
(the identifiers `benchmarks/linkage_ceiling.py` counts: a close full name, an e-mail
address or mailbox, a phone number, postcode and house number, a quoted customer number,
a mailbox that spells the other's name). Where no such chain exists, the no is invisible to
any linker that does not guess; those unsafe yeses are the floor of the measure. A yes
that is another person's (a wrong merge brought it in) is counted apart: a better linker
would not have merged it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from linkage_ceiling import _SHARE_AN_IDENTIFIER, components  # noqa: E402


def unsafe_floor(warehouse: Path, published: Path, records: pd.DataFrame, expected: pd.DataFrame) -> dict[str, int]:
    """Unsafe yeses over all golden rows (each row judged by the person most of its records
    are), and how many of them no evidence chain could have withdrawn. `records`: the
    truth's (source, source_record_id, person_id); `expected`: (person_id, marketing_consent)."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{warehouse}' AS w (READ_ONLY)")
        con.execute(f"ATTACH '{published}' AS p (READ_ONLY)")
        con.register("_truth_records", records[["source", "source_record_id", "person_id"]])
        consent = expected["marketing_consent"].astype(str).str.strip().str.lower().isin({"true", "1", "yes", "t"})
        con.register("_expected", pd.DataFrame({"person_id": expected["person_id"], "marketing_consent": consent}))
        con.execute(
            """
            CREATE TEMP TABLE unsafe AS
            WITH members AS (
                SELECT s.golden_id, t.person_id FROM p.customer_sources s JOIN _truth_records t USING (source, source_record_id)
            ), per_row AS (SELECT golden_id, mode(person_id ORDER BY person_id) AS person_id FROM members GROUP BY golden_id)
            SELECT c.golden_id, r.person_id, g.source || ':' || g.source_record_id AS yes_key, g.decided_at AS yes_at,
                   y.person_id IS DISTINCT FROM r.person_id AS someone_elses
            FROM p.customers c JOIN per_row r USING (golden_id) JOIN _expected e USING (person_id)
            JOIN w.golden_consent g USING (golden_id)
            -- Whose the yes is: a wrong merge brings in another person's.
            LEFT JOIN _truth_records y ON y.source = g.source AND y.source_record_id = g.source_record_id
            WHERE c.marketing_consent AND NOT e.marketing_consent
            """
        )
        con.execute(
            """
            CREATE TEMP TABLE mine AS
            SELECT t.person_id, f.*, s.consent_decision, s.consent_at
            FROM w.linkage_features f JOIN w.staged_records s USING (record_key)
            JOIN _truth_records t ON t.source = f.source AND t.source_record_id = f.source_record_id
            WHERE t.person_id IN (SELECT person_id FROM unsafe)
            """
        )
        edges = con.execute(
            f"""SELECT a.record_key, b.record_key FROM mine a JOIN mine b
                ON a.person_id = b.person_id AND a.record_key < b.record_key
                WHERE coalesce({_SHARE_AN_IDENTIFIER}, false)"""
        ).fetchall()
        # The decisions that make the person's answer a no: a no or pending at or after the yes.
        later_no = con.execute(
            """SELECT u.golden_id, u.yes_key, list(m.record_key) FILTER (WHERE m.record_key IS NOT NULL)
               FROM unsafe u LEFT JOIN mine m ON m.person_id = u.person_id AND m.consent_decision IN ('no', 'pending')
                                             AND m.consent_at >= u.yes_at
               WHERE NOT u.someone_elses
               GROUP BY ALL"""
        ).fetchall()
        wrong_merges = con.execute("SELECT count(*) FROM unsafe WHERE someone_elses").fetchall()[0][0]
    finally:
        con.close()
    component = components(edges)
    reachable = sum(
        1 for _, yes, nos in later_no
        if any(component.get(no, no) == component.get(yes, yes) for no in (nos or []))
    )
    return {"unsafe": len(later_no) + wrong_merges, "another person's yes (a wrong merge)": wrong_merges,
            "the person's own yes, withdrawable by evidence": reachable, "no evidence chain": len(later_no) - reachable}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--day", type=int, default=2, help="the delivery day the warehouse holds (its last)")
    args = parser.parse_args(argv)

    from demo.golden_accuracy import load_truth
    from german_linkage import OUT
    from golden_accuracy import _settings, prepare

    settings = _settings(OUT / f"golden_{args.persons}")
    records, expected = load_truth(prepare(args.persons) / "truth", day=args.day)
    figures = unsafe_floor(settings.warehouse_path, settings.published_path, records, expected)
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM customers").fetchall()[0][0]
    print(f"{rows:,} golden rows; " + ", ".join(f"{k}: {v:,} ({v / rows:.3%})" for k, v in figures.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
