"""The whole linkage stage in one call, for scripts, benchmarks and tests."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import duckdb

from linkage.blocking import build_candidate_pairs
from linkage.clustering import ClusterReport, build_clusters, build_review_decisions
from linkage.engine import EngineChoice
from linkage.engine.stage import stage_engine
from linkage.model import ScoringReport, score_pairs
from linkage.settings import GERMAN_SETTINGS, MATCH_THRESHOLD, LinkageSettings

# What the stage reads besides the features (the last run's persons, the analysts'
# decisions) and what it writes, whichever engine runs it.
# What clustering reads of the last run (`clusters`: the confidence a record held only by
# unchanged links keeps).
HISTORY_TABLES = ("linked_pairs", "linked_records", "review_decisions", "clusters")
SCORING_TABLES = ("scored_pairs", "relinked_pairs", "model_parameters", "model_prior", "term_frequencies")
LINKAGE_TABLES = ("candidate_pairs", *SCORING_TABLES, "clusters")


@dataclass
class LinkageReport:
    pairs_by_rule: dict[str, int]
    candidate_pairs: int
    scoring: ScoringReport
    clustering: ClusterReport
    seconds: dict[str, float] = field(default_factory=dict)


def link_records(
    con: duckdb.DuckDBPyConnection, settings: LinkageSettings = GERMAN_SETTINGS, threshold: float = MATCH_THRESHOLD,
    engine: EngineChoice | None = None,
) -> LinkageReport:
    """Blocking, scoring and clustering over `settings.table` (features already built), on
    the warehouse's DuckDB or, with `engine` spark, on Spark (the tables come back)."""
    seconds = {}
    decisions = build_review_decisions(con)
    with stage_engine(con, engine, (settings.table, *HISTORY_TABLES), LINKAGE_TABLES, settings.table) as db:
        start = time.perf_counter()
        per_rule = build_candidate_pairs(db, settings)
        candidates = db.rows("SELECT count(*) FROM candidate_pairs")[0][0]
        seconds["blocking"] = time.perf_counter() - start
        start = time.perf_counter()
        scoring = score_pairs(db, settings)
        seconds["scoring"] = time.perf_counter() - start
        start = time.perf_counter()
        clustering = build_clusters(db, threshold, settings, review_decisions=decisions)
        seconds["clustering"] = time.perf_counter() - start
    return LinkageReport(per_rule, candidates, scoring, clustering, seconds)
