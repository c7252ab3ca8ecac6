"""Pairs the model is unsure of, laid out so an analyst can decide them without opening
the warehouse: both records' values side by side, whether they are linked now, and an
explanation whose terms add up to the match weight.

A pair leaves the queue once decided, and so does every pair a decision settles: after
`same`, any pair inside the joined person; after `different`, any pair between the two
persons it keeps apart. Decisions that cannot be applied (a key no record has, a record
paired with itself, a key without its source) are listed in `review_decision_problems`.
"""

from __future__ import annotations

import duckdb

from linkage.comparisons import NULL_LEVEL, gamma_column
from linkage.settings import GERMAN_SETTINGS, LinkageSettings

# The record values shown side by side (from staged_records; none of them is sensitive).
SHOWN = ("source", "first_name", "last_name", "email", "phone", "street", "postal_code", "city",
         "first_seen_at", "last_seen_at")


def _terms_sql(scored: str, settings: LinkageSettings) -> str:
    """One row per pair of `scored` (rows of scored_pairs) and comparison that had data on
    both sides: words and weight."""
    parts = []
    for position, comparison in enumerate(settings.comparisons):
        title = comparison.shown_name.replace("'", "''")
        # A private comparison counts, but says only that it is a private detail.
        label = "'private details'" if comparison.private else f"'{title}: ' || p.label"
        gamma = f"s.{gamma_column(comparison)}"
        parts.append(
            f"SELECT s.key_l, s.key_r, {position} AS position, {label} AS term, p.weight "
            f"FROM {scored} s JOIN model_parameters p ON p.comparison = '{comparison.name}' AND p.gamma = {gamma} "
            f"WHERE {gamma} <> {NULL_LEVEL}")
    return " UNION ALL ".join(parts)


def explanation_sql(pairs: str, settings: LinkageSettings = GERMAN_SETTINGS, scored: bool = False) -> str:
    """(key_l, key_r, explanation) for each pair of the table `pairs` that `scored_pairs` holds;
    `scored`: `pairs` already holds the pairs' rows of scored_pairs, read as they are.

    The terms add up to the match weight: the prior, each comparison that had data, and
    what the frequency of the shared values adds (a shared rare name says more than a
    shared common one)."""
    # Unless `pairs` holds them, the pairs' rows of scored_pairs are looked up once
    # (MATERIALIZED: not inlined into each comparison's terms, which then read these few
    # rows, not every scored pair).
    rows = pairs if scored else "scored"
    lookup = "" if scored else f"""scored AS MATERIALIZED (
            SELECT s.* FROM scored_pairs s SEMI JOIN {pairs} q ON q.key_l = s.key_l AND q.key_r = s.key_r
        ),"""
    return f"""
        WITH {lookup}
        terms AS ({_terms_sql(rows, settings)}),
        summed AS (
            SELECT key_l, key_r, sum(weight) AS listed,
                   string_agg(term || ' (' || printf('%+.1f', weight) || ')', '; ' ORDER BY position) AS words
            FROM terms GROUP BY key_l, key_r
        ), prior AS (SELECT prior_weight FROM model_prior)
        SELECT s.key_l, s.key_r,
               'prior (' || printf('%+.1f', prior.prior_weight) || '); ' || coalesce(w.words || '; ', '')
               || CASE WHEN abs(s.match_weight - prior.prior_weight - coalesce(w.listed, 0)) >= 0.05
                       THEN 'frequency of the shared values ('
                            || printf('%+.1f', s.match_weight - prior.prior_weight - coalesce(w.listed, 0)) || '); '
                       ELSE '' END
               || '= ' || printf('%+.1f', s.match_weight) AS explanation
        FROM {rows} s CROSS JOIN prior LEFT JOIN summed w ON w.key_l = s.key_l AND w.key_r = s.key_r
    """


def _select_uncertain(con: duckdb.DuckDBPyConnection, lower: float, upper: float) -> None:
    """`_uncertain`: scored pairs in the band that no decision settles."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _uncertain AS
        WITH persons AS (
            SELECT d.decision, ml.golden_id AS a, mr.golden_id AS b FROM review_decisions d
            JOIN golden_membership ml ON ml.record_key = d.key_l JOIN golden_membership mr ON mr.record_key = d.key_r
        )
        SELECT s.*, ml.golden_id AS golden_id_l, mr.golden_id AS golden_id_r FROM scored_pairs s
        LEFT JOIN golden_membership ml ON ml.record_key = s.key_l
        LEFT JOIN golden_membership mr ON mr.record_key = s.key_r
        WHERE s.match_probability >= {lower} AND s.match_probability < {upper}
          AND NOT EXISTS (SELECT 1 FROM review_decisions d WHERE d.key_l = s.key_l AND d.key_r = s.key_r)
          AND NOT EXISTS (SELECT 1 FROM persons p WHERE p.decision = 'same' AND ml.golden_id = p.a AND mr.golden_id = p.a)
          AND NOT EXISTS (SELECT 1 FROM persons p WHERE p.decision = 'different'
                          AND ((ml.golden_id = p.a AND mr.golden_id = p.b) OR (ml.golden_id = p.b AND mr.golden_id = p.a)))
        """
    )


def build_review_queue(con: duckdb.DuckDBPyConnection, lower: float, upper: float,
                       settings: LinkageSettings = GERMAN_SETTINGS) -> int:
    """`review_queue`: scored pairs with lower <= probability < upper that no decision settles."""
    _select_uncertain(con, lower, upper)
    shown = ", ".join(f"l.{c} AS {c}_l, r.{c} AS {c}_r" for c in SHOWN)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE review_queue AS
        WITH reasons AS ({explanation_sql('_uncertain', settings, scored=True)})
        SELECT q.key_l, q.key_r, q.golden_id_l, q.golden_id_r, q.match_probability, x.explanation,
               q.match_weight, coalesce(q.golden_id_l = q.golden_id_r, false) AS linked_now, {shown}
        FROM _uncertain q JOIN reasons x USING (key_l, key_r)
        LEFT JOIN staged_records l ON l.record_key = q.key_l
        LEFT JOIN staged_records r ON r.record_key = q.key_r
        ORDER BY abs(q.match_probability - 0.5), q.key_l, q.key_r
        """
    )
    con.execute("DROP TABLE _uncertain")
    _decision_problems(con)
    return con.execute("SELECT count(*) FROM review_queue").fetchall()[0][0]


def _decision_problems(con: duckdb.DuckDBPyConnection) -> None:
    """`review_decision_problems`: delivered decisions that name no pair of records."""
    con.execute(
        """
        CREATE OR REPLACE TABLE review_decision_problems AS
        WITH delivered AS (
            SELECT trim(key_l) AS key_l, trim(key_r) AS key_r, lower(trim(decision)) AS decision, reviewer,
                   _file_name AS file_name, _line_hint AS line_number FROM raw_reviews
        )
        -- Joins, not NOT IN: those built a hash table of every staged record for a few decisions
        -- (0.6 s a run at a million persons, with no decision delivered).
        SELECT d.*, CASE
            WHEN d.key_l = d.key_r THEN 'the same record on both sides'
            WHEN NOT contains(d.key_l, ':') OR NOT contains(d.key_r, ':') THEN 'a key without its source (like shop:S-100234)'
            WHEN l.record_key IS NULL THEN 'no record ' || d.key_l
            WHEN r.record_key IS NULL THEN 'no record ' || d.key_r
        END AS problem
        FROM delivered d
        LEFT JOIN (SELECT record_key FROM staged_records) l ON l.record_key = d.key_l
        LEFT JOIN (SELECT record_key FROM staged_records) r ON r.record_key = d.key_r
        WHERE problem IS NOT NULL
        ORDER BY d.file_name, d.line_number
        """
    )
