"""Pairwise and B-cubed scores against cases worked out by hand."""

import pandas as pd
import pytest

from linkage.evaluation import score_clusters


def test_perfect_clustering_scores_one():
    truth = pd.Series({"a": 1, "b": 1, "c": 2, "d": 3})
    scores = score_clusters(truth.map(lambda x: f"p{x}"), truth)
    assert (scores.precision, scores.recall, scores.f1, scores.bcubed_f1) == (1.0, 1.0, 1.0, 1.0)


def test_one_wrong_merge_and_one_missed_link():
    # truth: {a,b,c} {d} ; predicted: {a,b} {c,d}
    truth = pd.Series({"a": 1, "b": 1, "c": 1, "d": 2})
    predicted = pd.Series({"a": "x", "b": "x", "c": "y", "d": "y"})
    scores = score_clusters(predicted, truth)
    # true pairs ab ac bc; predicted ab cd; correct ab
    assert (scores.true_pairs, scores.predicted_pairs, scores.correct_pairs) == (3, 2, 1)
    assert scores.precision == pytest.approx(0.5)
    assert scores.recall == pytest.approx(1 / 3)
    # B-cubed precision: a 1, b 1, c 1/2, d 1/2 -> 0.75; recall: a 2/3, b 2/3, c 1/3, d 1 -> 2/3
    assert scores.bcubed_precision == pytest.approx(0.75)
    assert scores.bcubed_recall == pytest.approx(2 / 3)


def test_records_the_linker_never_saw_are_singletons():
    truth = pd.Series({"a": 1, "b": 1})
    scores = score_clusters(pd.Series({"a": "x"}), truth)
    assert scores.predicted_pairs == 0 and scores.recall == 0.0
