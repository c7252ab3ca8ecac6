"""How good a clustering is against known answers: pairwise and B-cubed scores.

Computed from cluster sizes (contingency counts), never by listing pairs, so it costs the
same for a million records as for a thousand.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class LinkageScores:
    records: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    precision: float
    recall: float
    f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float


def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def score_clusters(predicted: pd.Series, truth: pd.Series) -> LinkageScores:
    """`predicted` and `truth` map the same record ids (the index) to a cluster / entity label.

    Records missing from `predicted` count as singletons; records missing from `truth` are
    ignored (they cannot be judged).
    """
    truth = truth.dropna()
    predicted = predicted.reindex(truth.index)
    # A record the linker never saw is its own cluster.
    missing = predicted.isna()
    predicted = predicted.astype(object)
    predicted[missing] = [f"__singleton__{i}" for i in predicted.index[missing]]
    frame = pd.DataFrame({"pred": predicted.astype(str).values, "true": truth.astype(str).values})

    pred_sizes = frame.groupby("pred").size()
    true_sizes = frame.groupby("true").size()
    cell_sizes = frame.groupby(["pred", "true"]).size()

    predicted_pairs = _pairs(pred_sizes)
    true_pairs = _pairs(true_sizes)
    correct_pairs = _pairs(cell_sizes)
    precision = correct_pairs / predicted_pairs if predicted_pairs else 1.0
    recall = correct_pairs / true_pairs if true_pairs else 1.0

    # B-cubed: each record's share of its predicted cluster that is truly its entity, and the
    # share of its entity found in its predicted cluster; summed per contingency cell.
    cells = cell_sizes.rename("n").reset_index()
    cells["pred_size"] = cells["pred"].map(pred_sizes)
    cells["true_size"] = cells["true"].map(true_sizes)
    n = len(frame)
    bp = float((cells["n"] ** 2 / cells["pred_size"]).sum() / n) if n else 1.0
    br = float((cells["n"] ** 2 / cells["true_size"]).sum() / n) if n else 1.0
    return LinkageScores(
        records=n,
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        correct_pairs=correct_pairs,
        precision=precision,
        recall=recall,
        f1=_f1(precision, recall),
        bcubed_precision=bp,
        bcubed_recall=br,
        bcubed_f1=_f1(bp, br),
    )


def score_pair_list(predicted_pairs: pd.DataFrame, true_pairs: pd.DataFrame) -> tuple[float, float, float]:
    """Precision, recall, F1 of a list of links (columns `a`, `b`) against true links; for
    linkers that return pairs rather than clusters."""

    def canonical(pairs: pd.DataFrame) -> set[tuple[str, str]]:
        a, b = pairs.iloc[:, 0].astype(str), pairs.iloc[:, 1].astype(str)
        return {(x, y) if x < y else (y, x) for x, y in zip(a, b)}

    pred, true = canonical(predicted_pairs), canonical(true_pairs)
    correct = len(pred & true)
    p = correct / len(pred) if pred else 1.0
    r = correct / len(true) if true else 1.0
    return p, r, _f1(p, r)
