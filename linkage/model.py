"""Fellegi-Sunter scoring with parameters estimated without labels.

u (how often a level occurs between two random records, i.e. mostly non-matches) comes
from a random sample of pairs; m (how often it occurs between matches) and the share of
matches among candidate pairs come from EM over the candidate pairs' comparison patterns.
EM runs on the pattern counts, not on the pairs, so its cost does not grow with the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from linkage.clustering import previous_co_members
from linkage.comparisons import (
    NULL_LEVEL, any_level_sql, comparison_vectors_sql, gamma_column, term_frequency_columns, term_frequency_levels,
    tf_value_column,
)
from linkage.engine import Connection, as_engine
from linkage.settings import LinkageSettings


@dataclass
class ScoringReport:
    pairs_scored: int
    em_iterations: int
    prior_match_probability: float
    pairs_by_probability: dict[str, int] = field(default_factory=dict)


def _create_u_sample(con: Connection, settings: LinkageSettings, seed: int = 42) -> None:
    db = as_engine(con)
    n = db.rows(f"SELECT count(*) FROM {settings.table}")[0][0]
    wanted = min(max(settings.u_sample_pairs_per_record * n, settings.u_sample_pairs_min), settings.u_sample_pairs)
    sample = int(min(wanted, max(n * (n - 1) // 2, 1)))
    db.run(
        f"""
        CREATE OR REPLACE TEMP TABLE _indexed AS
        SELECT row_number() OVER (ORDER BY record_key) - 1 AS i, record_key FROM {settings.table}
        """
    )
    db.run(
        f"""
        CREATE OR REPLACE TEMP TABLE _random_pairs AS
        SELECT a.record_key AS key_l, b.record_key AS key_r
        -- Hashes, not random(): random() over parallel threads differs from run to run, and
        -- the same data must give the same model.
        FROM (SELECT {db.hash_mod(f"range, {seed}", n)} AS i, {db.hash_mod(f"range, {seed + 1}", n)} AS j
              FROM {db.numbers(sample)}) s
        JOIN _indexed a ON a.i = s.i JOIN _indexed b ON b.i = s.j
        WHERE s.i <> s.j
        """
    )


def _level_shares(frame: pd.DataFrame, column: str, levels: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Share of each level among pairs where the comparison is not null, smoothed so a level
    never seen keeps a small, finite weight."""
    values = frame[column].to_numpy()
    w = np.ones(len(values)) if weights is None else weights
    counts = np.array([w[values == g].sum() for g in range(levels)], dtype=float)
    total = counts.sum()
    # Half a pair of pseudo-count: a level never seen in millions of random pairs is rare,
    # not impossible, and must not weigh more than one sighting would.
    smoothing = 0.5
    shares = (counts + smoothing) / (total + smoothing * levels) if total else np.full(levels, 1.0 / levels)
    return shares


def estimate_u(con: Connection, settings: LinkageSettings) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    db = as_engine(con)
    _create_u_sample(con, settings)
    columns = ", ".join(gamma_column(c) for c in settings.comparisons)
    vectors = db.frame(
        f"SELECT {columns}, count(*) AS n FROM ({comparison_vectors_sql(settings, '_random_pairs')}) GROUP BY ALL ORDER BY ALL"
    )
    db.run("DROP TABLE _random_pairs; DROP TABLE _indexed")
    u = {}
    for comparison in settings.comparisons:
        column = gamma_column(comparison)
        observed = vectors[vectors[column] != NULL_LEVEL]
        u[comparison.name] = _level_shares(observed, column, len(comparison.levels), observed["n"].to_numpy(float))
    return u, vectors


def _posterior(patterns: pd.DataFrame, settings: LinkageSettings, m: dict, u: dict, prior: float) -> np.ndarray:
    log_odds = np.full(len(patterns), math.log(prior / (1 - prior)))
    for comparison in settings.comparisons:
        gamma = patterns[gamma_column(comparison)].to_numpy()
        known = gamma != NULL_LEVEL
        log_odds[known] += np.log(m[comparison.name][gamma[known]]) - np.log(u[comparison.name][gamma[known]])
    return 1.0 / (1.0 + np.exp(-np.clip(log_odds, -700, 700)))


def u_without_matches(random_patterns: pd.DataFrame, settings: LinkageSettings, m: dict, u: dict, prior: float) -> dict:
    """u again from the random sample, each sampled pair weighed by how likely it is a
    non-match: in small data a random sample holds many true matches."""
    weights = random_patterns["n"].to_numpy(float) * (1 - _posterior(random_patterns, settings, m, u, prior))
    result = {}
    for comparison in settings.comparisons:
        column = gamma_column(comparison)
        known = random_patterns[column].to_numpy() != NULL_LEVEL
        result[comparison.name] = _level_shares(random_patterns[known], column, len(comparison.levels), weights[known])
    return result


def estimate_m_by_em(
    patterns: pd.DataFrame, settings: LinkageSettings, u: dict[str, np.ndarray],
    held_out: tuple[str, ...] = (), fixed_m: dict[str, np.ndarray] | None = None,
) -> tuple[dict[str, np.ndarray], float, int]:
    """EM for m and the match share, u held fixed (random sampling estimates it better).

    Comparisons in `held_out` take no part (the session selected its pairs by them); with
    `fixed_m` only the match share is estimated.
    """
    counts = patterns["n"].to_numpy(float)
    active = [c for c in settings.comparisons if c.name not in held_out]
    m = {}
    for comparison in active:
        k = len(comparison.levels)
        # Start believing the best levels are typical of matches.
        start = np.array([0.9 * (0.5 ** i) for i in range(k - 1)] + [0.05])
        m[comparison.name] = start / start.sum()
    if fixed_m is not None:
        m = {c.name: fixed_m[c.name] for c in active}
    share = 0.3
    iterations = 0
    for iterations in range(1, settings.em_max_iterations + 1):
        log_m = np.zeros(len(patterns))
        log_u = np.zeros(len(patterns))
        for comparison in active:
            gamma = patterns[gamma_column(comparison)].to_numpy()
            known = gamma != NULL_LEVEL
            log_m[known] += np.log(m[comparison.name][gamma[known]])
            log_u[known] += np.log(u[comparison.name][gamma[known]])
        log_odds = math.log(share / (1 - share)) + log_m - log_u
        posterior = 1.0 / (1.0 + np.exp(-np.clip(log_odds, -700, 700)))
        matched = posterior * counts
        new_share = float(np.clip(matched.sum() / counts.sum(), 1e-9, 1 - 1e-9))
        new_m = dict(m)
        for comparison in active if fixed_m is None else ():
            column = gamma_column(comparison)
            known = patterns[column].to_numpy() != NULL_LEVEL
            new_m[comparison.name] = _level_shares(patterns[known], column, len(comparison.levels), matched[known])
        change = max(abs(new_share - share), *(np.abs(new_m[c] - m[c]).max() for c in m))
        m, share = new_m, new_share
        if change < settings.em_tolerance:
            break
    return m, share, iterations


def train_m(
    patterns: pd.DataFrame, settings: LinkageSettings, u: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], int]:
    """m per comparison, averaged over the training sessions that estimated it."""
    if not settings.training_sessions:
        m, _, iterations = estimate_m_by_em(patterns, settings, u)
        return m, iterations
    estimates: dict[str, list[np.ndarray]] = {}
    iterations = 0
    for session in settings.training_sessions:
        agree = np.ones(len(patterns), dtype=bool)
        for name, label in session.agree_on:
            agree &= patterns[gamma_column(settings.comparison(name))].to_numpy() == settings.gamma_of(name, label)
        if agree.sum() == 0:
            continue
        m, _, n = estimate_m_by_em(patterns[agree], settings, u, held_out=session.comparisons)
        iterations += n
        for name, values in m.items():
            estimates.setdefault(name, []).append(values)
    fallback, _, n = estimate_m_by_em(patterns, settings, u)
    iterations += n
    return {c.name: np.mean(estimates.get(c.name, [fallback[c.name]]), axis=0) for c in settings.comparisons}, iterations


def _parameters_frame(settings: LinkageSettings, m: dict[str, np.ndarray], u: dict[str, np.ndarray]) -> pd.DataFrame:
    rows = []
    for comparison in settings.comparisons:
        for gamma, level in enumerate(comparison.levels):
            mi, ui = float(m[comparison.name][gamma]), float(u[comparison.name][gamma])
            rows.append({
                "comparison": comparison.name, "gamma": gamma, "label": level.label, "m": mi, "u": ui,
                "weight": math.log2(mi / ui),
                "term_frequency_column": ", ".join(level.term_frequency_columns) or None,
            })
    return pd.DataFrame(rows)


def build_term_frequencies(con: Connection, settings: LinkageSettings) -> None:
    db = as_engine(con)
    db.run("CREATE OR REPLACE TABLE term_frequencies (column_name VARCHAR, value VARCHAR, tf DOUBLE)")
    for column in sorted(term_frequency_columns(settings)):
        db.run(
            f"""INSERT INTO term_frequencies
            SELECT '{column}', {column}::VARCHAR, count(*) / sum(count(*)) OVER ()
            FROM {settings.table} WHERE {column} IS NOT NULL GROUP BY {column}"""
        )


def _repeatable(value: float) -> float:
    # Six significant digits, as the parameters are shown and stored.
    return float(f"{value:.6g}")


def _exact_sum_sql(expression: str) -> str:
    """A sum that is the same in every run: DuckDB adds doubles in whatever order its
    threads finish, so their last bits differ from run to run (and a value near a rounding
    boundary then rounds the other way); decimals are added as integers, exactly."""
    return f"sum(({expression})::DECIMAL(38, 18))::DOUBLE"


def refine_random_match(con: Connection, start: float, all_pairs: float, max_iterations: int = 100) -> float:
    """The chance that two random records match, re-estimated over the candidates' full
    evidence (term frequencies included), m and u held fixed.

    EM over the comparison patterns cannot see that agreeing on `Müller` says little, so in
    a large population it takes the many namesakes among the candidates for matches; here
    each candidate counts with its posterior under its full weight (the M-step for the
    mixing share), and pairs that no blocking rule proposed count as non-matches.
    """
    db = as_engine(con)
    share = start
    for _ in range(max_iterations):
        logit = math.log2(share / (1 - share))
        expected = db.rows(
            f"SELECT coalesce({_exact_sum_sql(f'1 / (1 + pow(2, -(evidence + {logit!r})))')}, 0) FROM _evidence"
        )[0][0]
        updated = _repeatable(min(max(expected / all_pairs, 1e-15), 0.5))
        if abs(math.log(updated / share)) < 1e-4:
            return updated
        share = updated
    return share


# A value seen once in a billion counts as seen that often: no level outweighs all others.
MIN_TERM_FREQUENCY = 1e-9


def term_frequency_references(settings: LinkageSettings, u: dict[str, np.ndarray]) -> dict[str, float]:
    """column -> u of its reference level, the first level weighed by that column alone
    (`exact`), for every column a level weighs by (see `term_frequency_weight`)."""
    references: dict[str, float] = {}
    for comparison, gamma, columns in term_frequency_levels(settings):
        if len(columns) == 1:
            references.setdefault(columns[0], float(u[comparison.name][gamma]))
    missing = set(term_frequency_columns(settings)) - set(references)
    if missing:
        raise ValueError(f"no level weighs by {sorted(missing)} alone: nothing to measure their frequencies against")
    return references


def term_frequency_weight(m: float, u: float, adjustments: Sequence[tuple[float, float | None]]) -> float:
    """The weight of a level weighed by term frequency; `adjustments` holds, per column
    it weighs by, (u of the column's reference level, the greater frequency of the pair's
    two values, None where the model never saw either).

    At the reference level (`exact`) this is log2(m / tf): u is the value's own frequency
    instead of the level's average. Any other level keeps its own m and u and moves by
    what agreeing exactly on that value would have moved the reference, log2(u_ref / tf),
    as Splink adjusts fuzzy levels: a typo in a name thousands bear says little, one in a
    name three people bear nearly as much as the exact name; a swap of two rare names says
    as much as both. (`_evidence_sql` is the same in SQL.)"""
    weight = math.log2(m / u)
    for u_reference, tf in adjustments:
        if tf is not None:
            weight += math.log2(u_reference) - math.log2(max(tf, MIN_TERM_FREQUENCY))
    return weight


def _evidence_sql(settings: LinkageSettings, m: dict[str, np.ndarray], u: dict[str, np.ndarray]) -> str:
    """Match weight (without prior) of a row of `_tf_vectors`, the parameters inlined.

    Agreeing on a rare value is stronger evidence than on a common one: at a term-frequency
    level the weight follows the value's own frequency (`term_frequency_weight`)."""
    references = term_frequency_references(settings, u)
    terms = []
    for comparison in settings.comparisons:
        g = gamma_column(comparison)
        cases = []
        for gamma, level in enumerate(comparison.levels):
            mi, ui = float(m[comparison.name][gamma]), float(u[comparison.name][gamma])
            # (Not greatest(tf, floor) alone: greatest() passes over a NULL.)
            weight = f"{math.log2(mi / ui)!r}" + "".join(
                f" + CASE WHEN tf_{column} IS NULL THEN 0 ELSE "
                f"{math.log2(references[column])!r} - log2(greatest(tf_{column}, {MIN_TERM_FREQUENCY!r})) END"
                for column in level.term_frequency_columns)
            cases.append(f"WHEN {gamma} THEN {weight}")
        terms.append(f"CASE {g} {' '.join(cases)} ELSE 0 END")
    return " + ".join(terms)


def comparable_pairs(random_patterns: pd.DataFrame, settings: LinkageSettings, all_pairs: float) -> dict[str, float]:
    """How many of all record pairs each comparison can be made on (both values known),
    from the random sample's share."""
    total = random_patterns["n"].sum()
    return {c.name: all_pairs * float(random_patterns.loc[random_patterns[gamma_column(c)] != NULL_LEVEL, "n"].sum()) / max(total, 1)
            for c in settings.comparisons}


def _counted_u(settings: LinkageSettings, u: dict[str, np.ndarray], non_matches: dict[tuple[str, int], float],
               comparable: dict[str, float]) -> dict[str, np.ndarray]:
    """u of the exhaustive levels counted over the candidates: the expected non-matches
    among all pairs that reach the level, over all pairs the comparison can be made on.

    A random sample of two million pairs cannot see a level that two random records
    reach once in a billion (the same mobile number): its smoothed share would put u
    near 1 / (2 million) whatever the data's size, and the prior, which falls with the
    number of records, would then make the same mobile number weaker evidence in a
    larger customer base. Blocking proposes every such pair, so it is counted instead."""
    updated = {name: values.copy() for name, values in u.items()}
    exhaustive: dict[str, list[int]] = {}
    for name, label in settings.exhaustive_levels:
        exhaustive.setdefault(name, []).append(settings.gamma_of(name, label))
    for name, gammas in exhaustive.items():
        if comparable.get(name, 0) <= 0:
            continue
        values = updated[name]
        for gamma in gammas:
            counted = (max(non_matches.get((name, gamma), 0.0), 0.0) + 0.5) / comparable[name]
            # Where the data is small enough for the sample to see such pairs, it sees them
            # well; counting only ever sharpens a level the sample is too coarse for.
            values[gamma] = _repeatable(min(counted, float(u[name][gamma])))
        rest = np.ones(len(values), dtype=bool)
        rest[gammas] = False
        values[rest] = values[rest] / values[rest].sum() * (1 - values[~rest].sum())
    return updated


def refine_by_full_evidence(
    con: Connection, settings: LinkageSettings, m: dict[str, np.ndarray], u: dict[str, np.ndarray],
    random_match: float, all_pairs: float, iterations: int, comparable: dict[str, float] | None = None,
) -> tuple[dict[str, np.ndarray], float, dict[str, np.ndarray]]:
    """EM once more, over the candidate pairs themselves rather than their patterns, so
    that each pair's posterior includes its term frequencies.

    The pattern EM sees `Müller = Müller` and `Wojciechowski = Wojciechowski` alike; in a
    million records namesakes then pass for matches and teach m that matches usually
    disagree on birth date and address. Weighing every pair by its full evidence keeps
    them apart. Pairs no blocking rule proposed count as non-matches for the prior.
    """
    db = as_engine(con)
    names = [c.name for c in settings.comparisons]
    # Many candidates: the estimates from a repeatable sample of them are as good and
    # each round costs a fraction (the expected matches are scaled back up).
    candidates = db.rows("SELECT count(*) FROM _tf_vectors")[0][0]
    per_million = min(1_000_000, int(settings.em_sample_pairs / max(candidates, 1) * 1_000_000))
    share = per_million / 1_000_000
    sampled = "_tf_vectors"
    if per_million < 1_000_000:
        # The sample drawn once, not again in every round (on Spark the hash is a UDF).
        db.run(f"CREATE OR REPLACE TEMP TABLE _em_sample AS SELECT * FROM _tf_vectors "
               f"WHERE {db.hash_mod('key_l, key_r', 1000000)} < {per_million}")
        sampled = "_em_sample"
    # A vetoed pair is two people whatever else it shares (a mother and son with one
    # e-mail): counted as a match it would teach m that matches share e-mails, not names.
    vetoed = any_level_sql(settings, settings.vetoes)
    for _ in range(iterations):
        logit = math.log2(random_match / (1 - random_match))
        posterior = f"CASE WHEN {vetoed} THEN 0 ELSE 1 / (1 + pow(2, -({_evidence_sql(settings, m, u)} + {logit!r}))) END"
        sets = ", ".join(f"({gamma_column(c)})" for c in settings.comparisons)
        picks = ", ".join(gamma_column(c) for c in settings.comparisons)
        rows = db.frame(
            f"""SELECT {picks}, GROUPING({picks}) AS grouping_id, {_exact_sum_sql('post')} AS matched,
                       count(*) AS pairs
                FROM (SELECT *, {posterior} AS post FROM {sampled})
                GROUP BY GROUPING SETS ({sets}, ())"""
        )
        everything = rows[rows["grouping_id"] == (1 << len(names)) - 1]["matched"].sum() / share
        updated = {}
        non_matches = {}
        for position, comparison in enumerate(settings.comparisons):
            # GROUPING() sets a bit for every column not grouped by; this set groups by one.
            mask = ((1 << len(names)) - 1) ^ (1 << (len(names) - 1 - position))
            column = gamma_column(comparison)
            part = rows[(rows["grouping_id"] == mask) & (rows[column] != NULL_LEVEL)]
            frame = pd.DataFrame({column: part[column].astype(int).to_numpy()})
            updated[comparison.name] = _level_shares(frame, column, len(comparison.levels), part["matched"].to_numpy(float))
            for gamma, pairs, matched in zip(part[column].astype(int), part["pairs"], part["matched"]):
                non_matches[(comparison.name, gamma)] = (float(pairs) - float(matched)) / share
        if comparable is not None:
            u = _counted_u(settings, u, non_matches, comparable)
        new_match = _repeatable(min(max(everything / all_pairs, 1e-15), 0.5))
        change = max(abs(math.log(new_match / random_match)),
                     *(np.abs(updated[c] - m[c]).max() for c in names))
        m = {c: np.array([_repeatable(x) for x in updated[c]]) for c in names}
        random_match = new_match
        if change < 1e-4:
            break
    db.run("DROP TABLE IF EXISTS _em_sample")
    return m, random_match, u


def _create_tf_vectors(con: Connection, settings: LinkageSettings, vectors: str = "_vectors") -> None:
    """`_tf_vectors`: `vectors` with the frequency of every term-frequency column looked up
    once, the greater of the two records' values."""
    db = as_engine(con)
    joins, columns = [], []
    for column in term_frequency_columns(settings):
        for side in ("l", "r"):
            alias = f"t_{column}_{side}"
            joins.append(f"LEFT JOIN term_frequencies {alias} ON {alias}.column_name = '{column}' "
                         f"AND {alias}.value = v.{tf_value_column(column, side)}")
        # The more frequent of the two values: a typo's spelling is rare, the name is not.
        # (greatest() passes over a NULL: a value the model never saw.)
        columns.append(f"greatest(t_{column}_l.tf, t_{column}_r.tf) AS tf_{column}")
    gammas = ", ".join(f"v.{gamma_column(c)}" for c in settings.comparisons)
    db.run(f"CREATE OR REPLACE TEMP TABLE _tf_vectors AS SELECT v.key_l, v.key_r, {gammas}"
           f"{''.join(', ' + c for c in columns)} FROM {vectors} v {' '.join(joins)}")


def _scores_sql(settings: LinkageSettings, prior_weight: float) -> str:
    """The columns of `scored_pairs`, from a row of evidence (match weight without prior)."""
    columns = ", ".join(gamma_column(c) for c in settings.comparisons)
    return (f"key_l, key_r, {columns}, evidence + {prior_weight!r} AS match_weight, "
            f"pow(2, evidence + {prior_weight!r}) / (1 + pow(2, evidence + {prior_weight!r})) AS match_probability")


# The pairs of the last run's persons that no blocking rule proposes (see score_earlier_links).
_NO_LONGER_CANDIDATES = """(
    SELECT key_l, key_r FROM _co_members l
    WHERE NOT EXISTS (SELECT 1 FROM candidate_pairs c WHERE c.key_l = l.key_l AND c.key_r = l.key_r))"""


def score_earlier_links(con: Connection, settings: LinkageSettings, prior_weight: float,
                        m: dict[str, np.ndarray], u: dict[str, np.ndarray]) -> int:
    """`relinked_pairs`: the pairs of the last run's persons (`previous_co_members`, see
    clustering.py) that no blocking rule proposes, scored by the model just fitted, in
    which they took no part.

    A block that grew past its size limit (a third `eiching` for the mailbox rule) would
    otherwise drop the link between two records that did not change. They stay out of
    `scored_pairs`, so the model, the review queue and the contradictions are those of
    the candidates alone, the same in every run on the same records."""
    db = as_engine(con)
    previous_co_members(con)
    scored = score_with_model(con, settings, _NO_LONGER_CANDIDATES, "relinked_pairs", prior_weight, m, u)
    db.run("DROP TABLE _co_members")
    return scored


def score_with_model(con: Connection, settings: LinkageSettings, pairs: str, target: str,
                     prior_weight: float, m: dict[str, np.ndarray], u: dict[str, np.ndarray]) -> int:
    """(Re)create the table `target` (the columns of `scored_pairs`) for the pairs in `pairs`
    (a table or sub-query with key_l, key_r), scored by the given parameters and the
    `term_frequencies` table as it is: nothing is estimated. Returns the pairs scored."""
    db = as_engine(con)
    db.run(f"CREATE OR REPLACE TEMP TABLE _score_vectors AS {comparison_vectors_sql(settings, pairs)}")
    _create_tf_vectors(con, settings, "_score_vectors")
    db.run(
        f"""
        CREATE OR REPLACE TABLE {target} AS
        SELECT {_scores_sql(settings, prior_weight)}
        FROM (SELECT *, {_evidence_sql(settings, m, u)} AS evidence FROM _tf_vectors)
        """
    )
    db.run("DROP TABLE _score_vectors; DROP TABLE _tf_vectors")
    return db.rows(f"SELECT count(*) FROM {target}")[0][0]


def scoring_report(con: Connection, iterations: int, random_match: float) -> ScoringReport:
    """The figures of `scored_pairs` as it is now."""
    db = as_engine(con)
    buckets = db.rows(
        """SELECT CASE WHEN match_probability >= 0.99 THEN '>=0.99' WHEN match_probability >= 0.9 THEN '0.9-0.99'
                       WHEN match_probability >= 0.5 THEN '0.5-0.9' ELSE '<0.5' END, count(*)
           FROM scored_pairs GROUP BY 1"""
    )
    total = db.rows("SELECT count(*) FROM scored_pairs")[0][0]
    return ScoringReport(total, iterations, random_match, dict(buckets))


def len_candidates(con: Connection) -> int:
    db = as_engine(con)
    return db.rows("SELECT count(*) FROM candidate_pairs")[0][0]


def score_pairs(con: Connection, settings: LinkageSettings) -> ScoringReport:
    """Compare every candidate pair, estimate the model, and write `scored_pairs` and
    `model_parameters` (and `model_prior`)."""
    db = as_engine(con)
    db.run(f"CREATE OR REPLACE TEMP TABLE _vectors AS {comparison_vectors_sql(settings, 'candidate_pairs')}")
    columns = ", ".join(gamma_column(c) for c in settings.comparisons)
    patterns = db.frame(f"SELECT {columns}, count(*) AS n FROM _vectors GROUP BY ALL ORDER BY ALL")
    u, random_patterns = estimate_u(con, settings)
    records = db.rows(f"SELECT count(*) FROM {settings.table}")[0][0]
    all_pairs = max(records * (records - 1) / 2, 1.0)
    candidates = int(patterns["n"].sum()) if len(patterns) else 0
    if len(patterns):
        iterations = 0
        for _ in range(3):
            m, n = train_m(patterns, settings, u)
            _, share, k = estimate_m_by_em(patterns, settings, u, fixed_m=m)
            iterations += n + k
            random_match = min(max(share * candidates / all_pairs, 1e-12), 0.5)
            u = u_without_matches(random_patterns, settings, m, u, random_match)
    else:
        m, share, iterations = {c.name: np.full(len(c.levels), 1 / len(c.levels)) for c in settings.comparisons}, 1e-6, 0
        random_match = 1e-6
    build_term_frequencies(con, settings)
    _create_tf_vectors(con, settings)
    db.run("DROP TABLE _vectors")
    if len(patterns) and settings.full_evidence_iterations:
        m, random_match, u = refine_by_full_evidence(
            con, settings, m, u, random_match, all_pairs, settings.full_evidence_iterations,
            comparable_pairs(random_patterns, settings, all_pairs))
    db.register("_parameters", _parameters_frame(settings, m, u))
    db.run("CREATE OR REPLACE TABLE model_parameters AS SELECT * FROM _parameters")
    db.unregister("_parameters")
    db.run(f"CREATE OR REPLACE TEMP TABLE _evidence AS SELECT *, {_evidence_sql(settings, m, u)} AS evidence FROM _tf_vectors")
    db.run("DROP TABLE _tf_vectors")
    # u comes from random pairs, so the prior must be the chance that two *random* records
    # match; the share among candidates would count the blocking agreement twice.
    random_match = refine_random_match(con, random_match, all_pairs)
    prior_weight = math.log2(random_match / (1 - random_match))
    db.run(
        f"CREATE OR REPLACE TABLE model_prior AS SELECT {share!r}::DOUBLE AS match_share_among_candidates, "
        f"{random_match!r}::DOUBLE AS match_probability_random_pair, {prior_weight!r}::DOUBLE AS prior_weight"
    )
    db.run(
        f"""
        CREATE OR REPLACE TABLE scored_pairs AS
        SELECT {_scores_sql(settings, prior_weight)}
        FROM _evidence
        """
    )
    db.run("DROP TABLE _evidence")
    score_earlier_links(con, settings, prior_weight, m, u)
    return scoring_report(con, iterations, random_match)
