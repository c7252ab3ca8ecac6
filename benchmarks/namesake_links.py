"""Records held in their person by the name alone, and whether a namesake elsewhere says "cut it".

    .venv/bin/python benchmarks/namesake_links.py --persons 1000000

Reads the warehouse `benchmarks/incremental.py --persons N` leaves (`incremental_<N>/later`,
else `delta`) and the generator's truth. A record is *held by the name alone* when every
link it has inside its person (a scored pair at or above the threshold) agrees on the names
and has nothing else to compare (no birth date, e-mail, mailbox, phone, household, address
or quoted number on one side). For those, grouped by how many *other* persons bear the same
full name (first and last name key), it counts the record's pairs inside its person and how
many of them are one person in truth: the precision of the links a rule "cut a record held by
the name alone when a namesake exists elsewhere" would remove. Cutting pays for pairwise F1
only where that precision is below about F1 / 2. Writes benchmarks/results/namesake_links_<N>.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from german_linkage import OUT, save_result  # noqa: E402
from golden_accuracy import _settings, prepare  # noqa: E402

# Comparisons other than the names and the salutation's gender.
OTHER_EVIDENCE = ("birth_date", "email", "mailbox_spells_name", "phone", "household", "address", "quoted_customer_number")


def main(argv: list[str] | None = None) -> int:
    import duckdb

    from linkage.comparisons import NULL_LEVEL
    from warehouse.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=100_000)
    args = parser.parse_args(argv)
    exports = prepare(args.persons)
    base = OUT / f"incremental_{args.persons}"
    folder = next((base / n for n in ("later", "delta") if (base / n).exists()), None)
    if folder is None:
        raise SystemExit(f"run benchmarks/incremental.py --persons {args.persons} first")
    threshold = Settings().match_threshold
    nothing_else = " AND ".join(f"s.gamma_{c} = {NULL_LEVEL}" for c in OTHER_EVIDENCE)
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{_settings(folder).warehouse_path}' AS w (READ_ONLY)")
        con.execute(f"""CREATE TEMP TABLE truth AS SELECT source || ':' || source_record_id AS record_key, person_id
                        FROM read_csv('{exports / 'truth' / 'records.csv'}')""")
        con.execute(f"""
            CREATE TEMP TABLE held AS  -- records whose every link inside their person is names only
            WITH inside AS (
                SELECT s.key_l, s.key_r, ({nothing_else}) AS names_only
                FROM w.scored_pairs s JOIN w.clusters a ON a.record_key = s.key_l JOIN w.clusters b ON b.record_key = s.key_r
                WHERE a.cluster_key = b.cluster_key AND s.match_probability >= {threshold}
            )
            SELECT record_key FROM (SELECT key_l AS record_key, names_only FROM inside
                                    UNION ALL SELECT key_r, names_only FROM inside)
            GROUP BY record_key HAVING bool_and(names_only)
        """)
        con.execute("""
            CREATE TEMP TABLE members AS
            SELECT c.record_key, c.cluster_key, t.person_id, f.first_name_key, f.last_name_key
            FROM w.clusters c JOIN truth t USING (record_key) JOIN w.linkage_features f USING (record_key)
        """)
        rows = con.execute("""
            WITH bearers AS (
                SELECT first_name_key, last_name_key, count(DISTINCT cluster_key) AS persons FROM members
                WHERE first_name_key IS NOT NULL AND last_name_key IS NOT NULL GROUP BY ALL
            ), pairs AS (
                SELECT h.record_key, least(b.persons - 1, 3) AS elsewhere, count(*) AS pairs,
                       count(*) FILTER (WHERE o.person_id = m.person_id) AS true_pairs
                FROM held h JOIN members m USING (record_key)
                JOIN members o ON o.cluster_key = m.cluster_key AND o.record_key <> m.record_key
                JOIN bearers b ON b.first_name_key = m.first_name_key AND b.last_name_key = m.last_name_key
                GROUP BY ALL
            )
            SELECT elsewhere, count(*), sum(pairs), sum(true_pairs) FROM pairs GROUP BY 1 ORDER BY 1
        """).fetchall()
    lines = [
        f"# Records held in their person by the name alone, {args.persons:,} persons (`{folder.name}` warehouse)",
        "",
        f"`.venv/bin/python benchmarks/namesake_links.py --persons {args.persons}`",
        "",
        "| other persons with the same full name | records | their pairs inside the person | one person in truth | precision |",
        "|--:|--:|--:|--:|--:|",
        *[f"| {'3 or more' if k == 3 else k} | {n:,} | {p:,} | {t:,} | {t / p:.3f} |" for k, n, p, t in rows],
    ]
    path = save_result(f"namesake_links_{args.persons}.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
