"""The linkers Kundenstamm is compared with, run the way their documentation recommends.

Benchmark-only: Splink (installed with `./run bench`) and a plain recordlinkage pipeline.
Both take a pandas frame with a `unique_id` column and return record -> cluster labels.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import pandas as pd


@dataclass
class BaselineResult:
    clusters: pd.Series
    seconds: float


def run_splink(frame: pd.DataFrame, comparisons: list, blocking_rules: list, deterministic_rules: list,
               em_rules: list, threshold: float = 0.9, recall: float = 0.8, max_pairs: float = 2e6) -> BaselineResult:
    """Splink 5 with DuckDB, as its tutorials do it: prior from deterministic rules, u by
    random sampling, m by EM over a few blocking rules, predict, cluster at a threshold."""
    from splink import DuckDBAPI, Linker, SettingsCreator

    logging.getLogger("splink").setLevel(logging.WARNING)
    start = time.perf_counter()
    db_api = DuckDBAPI()
    table = db_api.register(frame)
    settings = SettingsCreator(
        link_type="dedupe_only", comparisons=comparisons, blocking_rules_to_generate_predictions=blocking_rules,
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(table, settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(deterministic_rules, recall=recall)
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=1)
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=0.01)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold).as_pandas_dataframe()
    seconds = time.perf_counter() - start
    return BaselineResult(pd.Series(clusters["cluster_id"].astype(str).values, index=clusters["unique_id"].astype(str).values), seconds)


def run_recordlinkage(frame: pd.DataFrame, block_on: list[str], string_columns: list[str],
                      exact_columns: list[str]) -> BaselineResult:
    """recordlinkage as its dedup tutorial does it: block, compare (Jaro-Winkler for
    strings, exact for the rest), classify with the unsupervised ECM, then join links."""
    import recordlinkage

    start = time.perf_counter()
    data = frame.set_index("unique_id")
    indexer = recordlinkage.Index()
    for column in block_on:
        indexer.block(column)
    candidates = indexer.index(data)
    compare = recordlinkage.Compare()
    for column in string_columns:
        compare.string(column, column, method="jarowinkler", threshold=0.85, label=column)
    for column in exact_columns:
        compare.exact(column, column, label=column)
    features = compare.compute(candidates, data)
    classifier = recordlinkage.ECMClassifier(binarize=0.5)
    links = classifier.fit_predict(features)
    clusters = connected_components(list(data.index), [(a, b) for a, b in links])
    return BaselineResult(clusters, time.perf_counter() - start)


def connected_components(ids: list, edges: list[tuple]) -> pd.Series:
    parent = {i: i for i in ids}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
    return pd.Series({str(i): str(find(i)) for i in ids})
