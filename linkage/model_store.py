"""The linkage model kept in the warehouse, so a run can score with it as it is.

A full fit (`linkage.model.score_pairs`) writes `model_parameters`, `model_prior` and
`term_frequencies`; `save_model` copies them into the store, and a delta run
(`linkage/delta.py`) puts them back before it scores. Keeping the model fixed between
re-fits is what lets a run score only the new pairs: a pair scored yesterday keeps its
score because nothing it was scored by has moved.

Tables:
- `linkage_model`: one row per fit (the history), the newest in force: version (a hash of
  the linkage settings, the parameters, the prior and the term frequencies), fitted_at,
  reason, settings_hash, records (how many the model was fitted on), the prior's figures.
- `linkage_model_parameters`: m and u per comparison level of the model in force (the
  columns of `model_parameters`).
- `linkage_model_term_frequencies`: the value frequencies of the model in force (the
  columns of `term_frequencies`; erasure removes the values of erased persons from both).
- `linkage_model_first_name_variants`: the first-name variants its features were built
  with (the columns of `first_name_variants`; `linkage/name_variants.py`).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np

from linkage.engine import as_engine
from linkage.name_variants import STORED_VARIANTS
from linkage.settings import LinkageSettings
from sources.differences import table_columns

STORE_DDL = """
CREATE TABLE IF NOT EXISTS linkage_model (version VARCHAR, fitted_at TIMESTAMP, reason VARCHAR, settings_hash VARCHAR,
    records BIGINT, match_share_among_candidates DOUBLE, match_probability_random_pair DOUBLE, prior_weight DOUBLE);
CREATE TABLE IF NOT EXISTS linkage_model_parameters (comparison VARCHAR, gamma BIGINT, label VARCHAR, m DOUBLE,
    u DOUBLE, weight DOUBLE, term_frequency_column VARCHAR);
CREATE TABLE IF NOT EXISTS linkage_model_term_frequencies (column_name VARCHAR, value VARCHAR, tf DOUBLE);
"""


@dataclass(frozen=True)
class StoredModel:
    version: str
    fitted_at: datetime
    reason: str
    settings_hash: str
    records: int
    match_share_among_candidates: float
    match_probability_random_pair: float
    prior_weight: float
    m: dict[str, np.ndarray]
    u: dict[str, np.ndarray]


def settings_hash(settings: LinkageSettings) -> str:
    """The linkage settings as the model depends on them (frozen dataclasses: a stable repr).
    A model fitted under other comparisons or levels cannot score under these."""
    return hashlib.sha256(repr(settings).encode()).hexdigest()[:16]


def _parameters(con: duckdb.DuckDBPyConnection, settings: LinkageSettings, table: str) -> tuple[dict, dict]:
    rows = con.execute(f"SELECT comparison, gamma, m, u FROM {table} ORDER BY comparison, gamma").fetchall()
    m: dict[str, list[float]] = {}
    u: dict[str, list[float]] = {}
    for comparison, _, mi, ui in rows:
        m.setdefault(comparison, []).append(mi)
        u.setdefault(comparison, []).append(ui)
    names = [c.name for c in settings.comparisons]
    return {c: np.array(m[c]) for c in names}, {c: np.array(u[c]) for c in names}


def save_model(con: duckdb.DuckDBPyConnection, settings: LinkageSettings, fitted_at: datetime, reason: str) -> StoredModel:
    """Store the model the last `score_pairs` fitted (its `model_parameters`, `model_prior`,
    `term_frequencies`) as the model in force."""
    con.execute(STORE_DDL)
    con.execute("DELETE FROM linkage_model_parameters; INSERT INTO linkage_model_parameters "
                "SELECT comparison, gamma, label, m, u, weight, term_frequency_column FROM model_parameters")
    con.execute("DELETE FROM linkage_model_term_frequencies; INSERT INTO linkage_model_term_frequencies "
                "SELECT column_name, value, tf FROM term_frequencies")
    # The first-name variants the features were built with are the model's too (name_variants.py).
    if as_engine(con).has_table("first_name_variants"):
        con.execute(f"CREATE OR REPLACE TABLE {STORED_VARIANTS} AS SELECT * FROM first_name_variants")
    share, random_match, prior_weight = con.execute(
        "SELECT match_share_among_candidates, match_probability_random_pair, prior_weight FROM model_prior").fetchall()[0]
    # The version names what scores a pair, nothing else (not when or why it was fitted).
    content = con.execute(
        """SELECT md5(coalesce(string_agg(comparison || ':' || gamma || ':' || m || ':' || u, ',' ORDER BY comparison, gamma), ''))
           FROM linkage_model_parameters"""
    ).fetchall()[0][0]
    frequencies = con.execute(
        """SELECT md5(coalesce(string_agg(column_name || '=' || value || '=' || tf, ',' ORDER BY column_name, value), ''))
           FROM linkage_model_term_frequencies"""
    ).fetchall()[0][0]
    records = con.execute(f"SELECT count(*) FROM {settings.table}").fetchall()[0][0]
    digest = hashlib.sha256(f"{settings_hash(settings)}|{content}|{frequencies}|{random_match!r}".encode()).hexdigest()
    version = f"M-{digest[:16]}"
    con.execute("INSERT INTO linkage_model VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [version, fitted_at, reason, settings_hash(settings), records, share, random_match, prior_weight])
    return load_model(con, settings)


def load_model(con: duckdb.DuckDBPyConnection, settings: LinkageSettings) -> StoredModel | None:
    """The model in force (the newest fit), or None when none is stored."""
    con.execute(STORE_DDL)
    row = con.execute(
        "SELECT * FROM linkage_model ORDER BY fitted_at DESC, rowid DESC LIMIT 1").fetchall()
    if not row:
        return None
    version, fitted_at, reason, s_hash, records, share, random_match, prior_weight = row[0]
    if s_hash != settings_hash(settings):
        # Fitted under other settings: its levels need not even be these.
        return StoredModel(version, fitted_at, reason, s_hash, records, share, random_match, prior_weight, {}, {})
    m, u = _parameters(con, settings, "linkage_model_parameters")
    return StoredModel(version, fitted_at, reason, s_hash, records, share, random_match, prior_weight, m, u)


def usable_model(con: duckdb.DuckDBPyConnection, settings: LinkageSettings) -> StoredModel | None:
    """The model in force if it was fitted under these settings (else None)."""
    model = load_model(con, settings)
    return model if model is not None and model.m else None


def install_model(con: duckdb.DuckDBPyConnection, model: StoredModel) -> None:
    """Put the stored model back where scoring, explanations and the review queue read it
    (`model_parameters`, `model_prior`, `term_frequencies`): an erasure's look-ahead may
    have fitted another one into them."""
    copy_unless_same(con, "model_parameters", "linkage_model_parameters")
    copy_unless_same(con, "term_frequencies", "linkage_model_term_frequencies")
    con.execute(
        f"CREATE OR REPLACE TABLE model_prior AS SELECT {model.match_share_among_candidates!r}::DOUBLE AS "
        f"match_share_among_candidates, {model.match_probability_random_pair!r}::DOUBLE AS match_probability_random_pair, "
        f"{model.prior_weight!r}::DOUBLE AS prior_weight"
    )


def copy_unless_same(con: duckdb.DuckDBPyConnection, target: str, stored: str) -> None:
    """`target` made a copy of `stored`, unless it already holds exactly its rows (the same
    columns, and the same count and sum of row hashes). Every delta run installs the model
    in force, mostly the one the last run installed: rewriting its 200,000 term frequencies
    cost 1.6 s at a million persons, reading both tables 0.03 s."""
    if table_columns(con, target) == table_columns(con, stored):
        digest = "SELECT count(*), sum(hash(t)) FROM {} t"
        if con.execute(digest.format(target)).fetchall() == con.execute(digest.format(stored)).fetchall():
            return
    con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {stored}")


def refit_reason(model: StoredModel | None, settings: LinkageSettings, run_at: datetime, requested: bool,
                 refit_after_hours: float, delta_share: float, max_new_share: float) -> str | None:
    """Why this run must fit the model anew, or None when the stored one serves.

    `delta_share`: the share of the records that are new or changed since the last run
    (a day that brings that much new data would be scored by a model that never saw its like)."""
    if requested:
        return "requested (--refit)"
    if model is None:
        return "no model stored"
    if model.settings_hash != settings_hash(settings):
        return "linkage settings changed since the model was fitted"
    age_hours = (run_at - model.fitted_at).total_seconds() / 3600
    if age_hours >= refit_after_hours:
        return f"schedule: model fitted {age_hours:.1f} h ago (re-fit after {refit_after_hours:g} h)"
    if delta_share > max_new_share:
        return f"drift: {delta_share:.1%} of the records are new or changed (bound {max_new_share:.0%})"
    if not math.isfinite(model.prior_weight):
        return "stored model has no usable prior"
    return None
