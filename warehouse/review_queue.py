"""Pairs the model is unsure of, with the reasons, for an analyst to decide."""

from __future__ import annotations

import duckdb

from linkage.comparisons import gamma_column
from linkage.settings import GERMAN_SETTINGS, LinkageSettings


def explanation_sql(pairs: str, settings: LinkageSettings = GERMAN_SETTINGS) -> str:
    """(key_l, key_r, explanation) for each pair of `pairs` that `scored_pairs` holds:
    `comparison: level (weight); ...` in the order of the comparisons."""
    unpivot = " UNION ALL ".join(
        f"SELECT s.key_l, s.key_r, '{c.name}' AS comparison, s.{gamma_column(c)} AS gamma, {i} AS position "
        f"FROM scored_pairs s SEMI JOIN {pairs} p ON p.key_l = s.key_l AND p.key_r = s.key_r"
        for i, c in enumerate(settings.comparisons)
    )
    return f"""
        SELECT u.key_l, u.key_r,
               string_agg(u.comparison || ': ' || coalesce(p.label, 'missing') ||
                          CASE WHEN p.weight IS NULL THEN '' ELSE ' (' || printf('%+.1f', p.weight) || ')' END,
                          '; ' ORDER BY u.position) AS explanation
        FROM ({unpivot}) u
        LEFT JOIN model_parameters p ON p.comparison = u.comparison AND p.gamma = u.gamma
        GROUP BY u.key_l, u.key_r
    """


def build_review_queue(con: duckdb.DuckDBPyConnection, lower: float, upper: float,
                       settings: LinkageSettings = GERMAN_SETTINGS) -> int:
    """`review_queue`: scored pairs with lower <= probability < upper and no decision yet,
    each with its explanation (comparison = level (weight)) built set-wise."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _uncertain AS
        SELECT s.* FROM scored_pairs s
        WHERE s.match_probability >= {lower} AND s.match_probability < {upper}
          AND NOT EXISTS (SELECT 1 FROM review_decisions d WHERE d.key_l = s.key_l AND d.key_r = s.key_r)
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE review_queue AS
        WITH reasons AS ({explanation_sql('_uncertain', settings)})
        SELECT q.key_l, q.key_r, ml.golden_id AS golden_id_l, mr.golden_id AS golden_id_r,
               q.match_probability, r.explanation
        FROM _uncertain q JOIN reasons r USING (key_l, key_r)
        LEFT JOIN golden_membership ml ON ml.record_key = q.key_l
        LEFT JOIN golden_membership mr ON mr.record_key = q.key_r
        ORDER BY abs(q.match_probability - 0.5), q.key_l
        """
    )
    con.execute("DROP TABLE _uncertain")
    return con.execute("SELECT count(*) FROM review_queue").fetchall()[0][0]
