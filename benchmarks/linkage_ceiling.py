"""How much of the generated German data any linker could get right, next to what Kundenstamm gets.

    ./run bench && .venv/bin/python benchmarks/linkage_ceiling.py --persons 10000

On the same `linkage_features` as benchmarks/german_linkage.py, three clusterings, each
through Kundenstamm's own clustering at its threshold:
- Kundenstamm: the unsupervised model (EM, no labels), as the pipeline runs it;
- supervised on the same comparisons: a gradient-boosted classifier trained on the true
  labels of the candidate pairs (5-fold, out-of-fold probabilities, cut at 0.5): what a
  better model of the same comparison levels could reach;
- perfect on the candidates: every candidate pair labelled by the truth: what blocking
  leaves reachable at all;
- perfect on every pair of records that share an identifier, candidate or not: what any
  linker that needs some evidence could reach.
It also reports what each blocking rule contributes, and counts the records that share no
identifier with any other record of their person (no name close enough, no e-mail, phone or
address in common): no linker can place them.
Writes benchmarks/results/ceiling_<N>.md.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from german_linkage import _truth, prepare, save_result  # noqa: E402
from linkage.evaluation import score_clusters  # noqa: E402
from linkage.settings import MATCH_THRESHOLD  # noqa: E402


def _scores(con: duckdb.DuckDBPyConnection, truth: pd.Series, threshold: float) -> dict:
    from linkage.clustering import build_clusters

    build_clusters(con, threshold)
    clusters = con.execute("SELECT record_key, cluster_key FROM clusters").df()
    return _rounded(score_clusters(pd.Series(clusters["cluster_key"].values, index=clusters["record_key"].values), truth))


def _rounded(s) -> dict:
    return {"precision": round(s.precision, 4), "recall": round(s.recall, 4), "F1": round(s.f1, 4),
            "B-cubed F1": round(s.bcubed_f1, 4)}


def _replace_probabilities(con: duckdb.DuckDBPyConnection, pairs: pd.DataFrame) -> None:
    con.register("_pairs", pairs)
    con.execute("CREATE OR REPLACE TABLE scored_pairs AS SELECT * FROM _pairs")
    con.unregister("_pairs")


# Two records of one person that share an identifier: a close full name, an e-mail or
# mailbox, a phone, postcode and house number, a quoted customer number.
_SHARE_AN_IDENTIFIER = """
    (jaro_winkler_similarity(a.last_name_std, b.last_name_std) >= 0.85
     AND jaro_winkler_similarity(a.first_name_std, b.first_name_std) >= 0.85)
    OR a.email_std = b.email_std OR a.email_local = b.email_local OR a.phone_e164 = b.phone_e164
    OR (a.postal_code = b.postal_code AND a.house_number = b.house_number)
    OR a.customer_number_ref = b.own_customer_number OR b.customer_number_ref = a.own_customer_number
    OR list_contains(b.name_spellings, a.email_letters) OR list_contains(a.name_spellings, b.email_letters)
"""
_PERSONS_PAIRS = """
    WITH mine AS (
        SELECT t.person_id, f.* FROM _truth t JOIN linkage_features f USING (record_key)
        WHERE t.person_id IN (SELECT person_id FROM _truth GROUP BY 1 HAVING count(*) > 1)
    )
    SELECT a.record_key AS key_l, b.record_key AS key_r, coalesce({share}, false) AS shares
    FROM mine a JOIN mine b ON a.person_id = b.person_id AND a.record_key <> b.record_key
""".format(share=_SHARE_AN_IDENTIFIER)


def _unreachable_records(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(records of multi-record persons, of those sharing nothing with the person's others)."""
    return con.execute(
        f"""
        SELECT count(*), count(*) FILTER (WHERE NOT anything)
        FROM (SELECT key_l, bool_or(shares) AS anything FROM ({_PERSONS_PAIRS}) GROUP BY key_l)
        """
    ).fetchall()[0]


def components(edges: list[tuple[str, str]]) -> dict[str, str]:
    """Each key of `edges` mapped to one representative of the keys connected to it."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        parent[find(a)] = find(b)
    return {key: find(key) for key in parent}


def _linked_by_any_identifier(con: duckdb.DuckDBPyConnection, truth: pd.Series) -> dict:
    """Scores of a clustering that joins exactly the records of one person that are
    connected, directly or through others, by shared identifiers: the most any linker
    that needs some evidence could reach."""
    component = components(con.execute(f"SELECT key_l, key_r FROM ({_PERSONS_PAIRS}) WHERE shares AND key_l < key_r").fetchall())
    return _rounded(score_clusters(pd.Series({key: component.get(key, key) for key in truth.index}), truth))


def _blocking_table(con: duckdb.DuckDBPyConnection, truth: pd.Series) -> pd.DataFrame:
    """Per blocking rule: the pairs it proposes, how many are true, how many true pairs
    no other rule finds; and the share of all true pairs that blocking keeps."""
    con.register("_truth_frame", pd.DataFrame({"record_key": truth.index, "person_id": truth.values}))
    rules = con.execute(
        """
        WITH labelled AS (
            SELECT c.rules, a.person_id = b.person_id AS same FROM candidate_pairs c
            JOIN _truth_frame a ON a.record_key = c.key_l JOIN _truth_frame b ON b.record_key = c.key_r
        )
        SELECT rule AS "blocking rule", count(*) AS pairs, count(*) FILTER (WHERE same) AS "true pairs",
               count(*) FILTER (WHERE same AND len(rules) = 1) AS "true pairs only this rule finds"
        FROM (SELECT unnest(rules) AS rule, rules, same FROM labelled)
        GROUP BY rule ORDER BY pairs DESC
        """
    ).df()
    found, true_pairs = con.execute(
        """
        SELECT (SELECT count(*) FROM candidate_pairs c JOIN _truth_frame a ON a.record_key = c.key_l
                JOIN _truth_frame b ON b.record_key = c.key_r WHERE a.person_id = b.person_id),
               (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM _truth_frame GROUP BY person_id))
        """
    ).fetchall()[0]
    con.unregister("_truth_frame")
    total = pd.DataFrame([{"blocking rule": f"all rules (keep {found / true_pairs:.1%} of the {int(true_pairs):,} true pairs)",
                           "pairs": int(con.execute("SELECT count(*) FROM candidate_pairs").fetchall()[0][0]),
                           "true pairs": int(found), "true pairs only this rule finds": None}])
    return pd.concat([rules, total], ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--threshold", type=float, default=MATCH_THRESHOLD)
    args = parser.parse_args(argv)

    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import cross_val_predict

    from linkage.pipeline import link_records

    base = prepare(args.persons)
    truth = _truth(base)
    work = base / "ceiling.duckdb"
    shutil.copyfile(base / "features.duckdb", work)
    con = duckdb.connect(str(work))
    link_records(con, threshold=args.threshold)
    rows = [{"clustering": "Kundenstamm (unsupervised)", **_scores(con, truth, args.threshold)}]

    blocking = _blocking_table(con, truth)
    pairs = con.execute("SELECT * FROM scored_pairs").df()
    same = (pairs["key_l"].map(truth) == pairs["key_r"].map(truth)).to_numpy()
    features = pairs[[c for c in pairs.columns if c.startswith("gamma_")] + ["match_weight"]].to_numpy()
    supervised = pairs.copy()
    supervised["match_probability"] = cross_val_predict(
        HistGradientBoostingClassifier(max_iter=300, random_state=0), features, same, cv=5, method="predict_proba")[:, 1]
    _replace_probabilities(con, supervised)
    # Its probabilities are calibrated on the truth, so 0.5 is its best cut.
    rows.append({"clustering": "supervised on the same comparisons (cut at 0.5)", **_scores(con, truth, 0.5)})

    perfect = pairs.copy()
    perfect["match_probability"] = same.astype(float)
    _replace_probabilities(con, perfect)
    rows.append({"clustering": "perfect on the candidate pairs", **_scores(con, truth, args.threshold)})

    con.register("_truth_frame", pd.DataFrame({"record_key": truth.index, "person_id": truth.values}))
    con.execute("CREATE TEMP TABLE _truth AS SELECT * FROM _truth_frame")
    records, alone = _unreachable_records(con)
    rows.append({"clustering": "perfect on every pair of records that share an identifier",
                 **_linked_by_any_identifier(con, truth)})
    con.close()
    work.unlink()

    table = pd.DataFrame(rows)
    summary = (f"{args.persons:,} persons, {len(truth):,} records, {len(pairs):,} candidate pairs "
               f"({int(same.sum()):,} of them true). Of the {records:,} records of persons with more than "
               f"one record, {alone:,} ({alone / records:.1%}) share no identifier with any other record of "
               f"their person (no close full name, e-mail, mailbox, phone, postcode and house number, "
               f"quoted customer number): no linker can place them.")
    print(table.to_string(index=False))
    print(summary)
    print(blocking.to_string(index=False))
    save_result(f"ceiling_{args.persons}.md", table.to_markdown(index=False) + "\n\n" + summary + "\n\n"
                + blocking.to_markdown(index=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
