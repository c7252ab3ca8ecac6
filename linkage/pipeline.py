"""The whole linkage stage in one call, for scripts, benchmarks and tests."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import duckdb

from linkage.blocking import build_candidate_pairs
from linkage.clustering import ClusterReport, build_clusters
from linkage.model import ScoringReport, score_pairs
from linkage.settings import GERMAN_SETTINGS, MATCH_THRESHOLD, LinkageSettings


@dataclass
class LinkageReport:
    pairs_by_rule: dict[str, int]
    candidate_pairs: int
    scoring: ScoringReport
    clustering: ClusterReport
    seconds: dict[str, float] = field(default_factory=dict)


def link_records(
    con: duckdb.DuckDBPyConnection, settings: LinkageSettings = GERMAN_SETTINGS, threshold: float = MATCH_THRESHOLD
) -> LinkageReport:
    """Blocking, scoring and clustering over `settings.table` (features already built)."""
    seconds = {}
    start = time.perf_counter()
    per_rule = build_candidate_pairs(con, settings)
    candidates = con.execute("SELECT count(*) FROM candidate_pairs").fetchall()[0][0]
    seconds["blocking"] = time.perf_counter() - start
    start = time.perf_counter()
    scoring = score_pairs(con, settings)
    seconds["scoring"] = time.perf_counter() - start
    start = time.perf_counter()
    clustering = build_clusters(con, threshold, settings)
    seconds["clustering"] = time.perf_counter() - start
    return LinkageReport(per_rule, candidates, scoring, clustering, seconds)
