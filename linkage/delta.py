"""Delta linking: a run compares, scores and re-resolves only what changed since the last one.

Each run standardises the records a delivery changed and those the change reaches
(`linkage.features.build_features`, `linkage.feature_scope`: several of its rules look
across all records, e.g. which names are mostly surnames) and hashes each feature row
(`linkage.feature_hash`). The delta is the records whose hash is new, different or gone since the last
run (`linkage_feature_hashes`); a record whose comparison values moved because of
another record (its mailbox became a household's) is in it too, since its row changed.

What a run does (`plan_linkage` decides, `linkage_run` records it):
- `refit`: the model is fitted anew (no model stored, `--refit`, the schedule, drift, other
  linkage settings): every pair is built, scored, and the model stored (model_store.py).
- `rescore`: a stored model, but no pairs of an earlier run to update (the first run after
  an upgrade, or after an erasure's look-ahead re-linked with a model of its own): every
  pair is built and scored by the stored model, nothing is estimated.
- `delta`: blocking with one side in the delta (the same rules and block sizes,
  `build_candidate_pairs(delta=...)`), those pairs scored by the stored model, every pair
  touching the delta replaced by them; all other pairs keep their score, which the same
  model gave them. Clustering then resolves only the records the delta can reach over a
  pair that can link (`clustering_scope`); every other person stays as it was, which is
  what resolving it again would give (its links and sticky links are the same).

One thing a delta run does not see: a block that crosses its size limit because of a
delta record changes the pairs of records outside the delta (they appear or vanish in a
run over everything). The earlier links among them are kept anyway (`relinked_pairs`);
`check_drift` measures what is left.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import duckdb

from linkage.blocking import build_candidate_pairs
from linkage.feature_hash import linked_before_hashes, stored_or_computed_hash_sql
from linkage.features import relearn_first_name_variants
from linkage.clustering import (CLUSTERED_BY_TABLE, LINKED_PAIRS_DDL, ClusterReport, build_clusters,
                                build_review_decisions, in_scope_sql)
from linkage.comparisons import any_level_sql, gamma_column
from linkage.engine import EngineChoice, as_engine
from linkage.engine.stage import stage_engine
from linkage.model import ScoringReport, score_earlier_links, score_pairs, score_with_model, scoring_report
from linkage.model_store import install_model, load_model, refit_reason, save_model, usable_model
from linkage.pipeline import HISTORY_TABLES, SCORING_TABLES
from linkage.settings import GERMAN_SETTINGS, LinkageSettings

HASHES_DDL = "CREATE TABLE IF NOT EXISTS linkage_feature_hashes (record_key VARCHAR PRIMARY KEY, content_hash VARCHAR)"
RUN_DDL = """
CREATE TABLE IF NOT EXISTS linkage_run (run_at TIMESTAMP, mode VARCHAR, reason VARCHAR, model_version VARCHAR,
    records BIGINT, new_records BIGINT, changed_records BIGINT, gone_records BIGINT, pairs_scored BIGINT,
    clusters_touched BIGINT, blocking_seconds DOUBLE, scoring_seconds DOUBLE,
    clustering_seconds DOUBLE);
-- Added later: how many records the clustering resolved (a delta run's scope, else all).
ALTER TABLE linkage_run ADD COLUMN IF NOT EXISTS records_resolved BIGINT;
"""
# The sticky links a run's clustering started from, kept for check_drift's re-link.
LINKS_BEFORE = "linkage_links_before_run"


@dataclass
class LinkagePlan:
    mode: str
    reason: str
    model_version: str | None
    records: int
    new_records: int
    changed_records: int
    gone_records: int

    @property
    def delta_records(self) -> int:
        return self.new_records + self.changed_records + self.gone_records


@dataclass
class ClusterDiff:
    records_compared: int
    records_in_other_clusters: int
    clusters_touched: int

    @property
    def share(self) -> float:
        return self.records_in_other_clusters / self.records_compared if self.records_compared else 0.0


def find_delta(con: duckdb.DuckDBPyConnection, settings: LinkageSettings) -> tuple[int, int, int, int]:
    """`linkage_delta(record_key, change new|changed|gone, content_hash)` against the hashes
    of the last run; returns (records, new, changed, gone)."""
    con.execute(HASHES_DDL)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE linkage_delta AS
        WITH now AS (SELECT record_key, {stored_or_computed_hash_sql(con, settings.table)} AS content_hash FROM {settings.table})
        SELECT n.record_key, CASE WHEN h.record_key IS NULL THEN 'new' ELSE 'changed' END AS change, n.content_hash
        FROM now n LEFT JOIN linkage_feature_hashes h USING (record_key)
        WHERE h.content_hash IS DISTINCT FROM n.content_hash
        UNION ALL
        SELECT h.record_key, 'gone', NULL FROM linkage_feature_hashes h
        WHERE NOT EXISTS (SELECT 1 FROM {settings.table} f WHERE f.record_key = h.record_key)
        """
    )
    records = con.execute(f"SELECT count(*) FROM {settings.table}").fetchall()[0][0]
    counts = dict(con.execute("SELECT change, count(*) FROM linkage_delta GROUP BY change").fetchall())
    return records, counts.get("new", 0), counts.get("changed", 0), counts.get("gone", 0)


def _has_earlier_pairs(con: duckdb.DuckDBPyConnection) -> bool:
    tables = {t for (t,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()}
    if not {"candidate_pairs", "scored_pairs", "linkage_feature_hashes"} <= tables:
        return False
    return con.execute("SELECT count(*) > 0 FROM linkage_feature_hashes").fetchall()[0][0]


def plan_linkage(
    con: duckdb.DuckDBPyConnection, settings: LinkageSettings, run_at: datetime, *, refit_requested: bool = False,
    refit_after_hours: float = 24.0, max_new_share: float = 0.2,
) -> LinkagePlan:
    """Decide how this run links (module docstring) and record it in `linkage_run`."""
    con.execute(RUN_DDL)
    records, new, changed, gone = find_delta(con, settings)
    model = load_model(con, settings)
    earlier = _has_earlier_pairs(con)
    # Without the last run's hashes every record looks new: that says nothing about drift.
    share = (new + changed) / records if records and earlier else 0.0
    reason = refit_reason(model, settings, run_at, refit_requested, refit_after_hours, share, max_new_share)
    if reason:
        mode = "refit"
        # Learned with the model, anew with it (the delta's figures above used the old ones).
        relearn_first_name_variants(con)
    elif not earlier:
        mode, reason = "rescore", "no pairs of an earlier run to update: all pairs scored by the stored model"
    else:
        mode = "delta"
        reason = (f"model {model.version} in force (fitted {model.fitted_at:%Y-%m-%d %H:%M}, {model.reason}); "
                  f"{share:.2%} of the records new or changed")
    plan = LinkagePlan(mode, reason, None if model is None or mode == "refit" else model.version,
                       records, new, changed, gone)
    con.execute("DELETE FROM linkage_run WHERE run_at = ?", [run_at])
    con.execute(
        "INSERT INTO linkage_run (run_at, mode, reason, model_version, records, new_records, changed_records, gone_records) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [run_at, mode, reason, plan.model_version, records, new, changed, gone])
    return plan


def current_plan(con: duckdb.DuckDBPyConnection) -> tuple[datetime, LinkagePlan]:
    """The plan of the run in progress (the newest `linkage_run` row)."""
    row = con.execute(
        "SELECT run_at, mode, reason, model_version, records, new_records, changed_records, gone_records "
        "FROM linkage_run ORDER BY run_at DESC, rowid DESC LIMIT 1").fetchall()
    if not row:
        raise RuntimeError("no linkage plan: the candidate_pairs step (plan_linkage) runs first")
    run_at, *values = row[0]
    return run_at, LinkagePlan(*values)


def run_figures(con: duckdb.DuckDBPyConnection) -> dict:
    """The `linkage_run` row of the run in progress: mode, reason, delta, seconds so far."""
    cursor = con.execute("SELECT * FROM linkage_run ORDER BY run_at DESC, rowid DESC LIMIT 1")
    names = [d[0] for d in cursor.description]
    row = cursor.fetchall()
    figures = dict(zip(names, row[0])) if row else {}
    figures.pop("run_at", None)
    if "mode" in figures:
        figures["full_or_delta"] = "delta" if figures["mode"] == "delta" else "full"
        figures["delta_records"] = sum(figures.get(k) or 0 for k in ("new_records", "changed_records", "gone_records"))
    return {k: v for k, v in figures.items() if v is not None}


def _record_seconds(con: duckdb.DuckDBPyConnection, run_at: datetime, column: str, seconds: float, **counts: int) -> None:
    sets = ", ".join([f"{column} = {seconds!r}"] + [f"{name} = {int(value)}" for name, value in counts.items()])
    con.execute(f"UPDATE linkage_run SET {sets} WHERE run_at = ?", [run_at])


def build_pairs(con: duckdb.DuckDBPyConnection, settings: LinkageSettings, plan: LinkagePlan, run_at: datetime,
                engine: EngineChoice | None = None) -> dict[str, int]:
    """`candidate_pairs` for the plan: all of them, or those touching the delta replaced;
    the blocking on `engine` (default: the warehouse's DuckDB)."""
    start = time.perf_counter()
    if plan.mode != "delta":
        with stage_engine(con, engine, (settings.table,), ("candidate_pairs",), settings.table) as db:
            per_rule = build_candidate_pairs(db, settings)
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE _delta_live AS SELECT record_key FROM linkage_delta WHERE change <> 'gone'")
        with stage_engine(con, engine, (settings.table, "_delta_live"), ("delta_candidate_pairs",), settings.table) as db:
            per_rule = build_candidate_pairs(db, settings, delta="_delta_live", target="delta_candidate_pairs")
        # Every pair touching the delta goes (a gone record's, a changed record's old ones);
        # the delta's pairs as the rules give them now come in.
        con.execute("""DELETE FROM candidate_pairs WHERE key_l IN (SELECT record_key FROM linkage_delta)
                                                      OR key_r IN (SELECT record_key FROM linkage_delta)""")
        con.execute("INSERT INTO candidate_pairs BY NAME SELECT * FROM delta_candidate_pairs")
        con.execute("DROP TABLE _delta_live")
    _record_seconds(con, run_at, "blocking_seconds", time.perf_counter() - start)
    return per_rule


def _commit_hashes(con: duckdb.DuckDBPyConnection, settings: LinkageSettings, plan: LinkagePlan) -> None:
    """The hashes the next run compares with: those of the records as this run scored them."""
    if plan.mode == "delta":
        con.execute("DELETE FROM linkage_feature_hashes WHERE record_key IN (SELECT record_key FROM linkage_delta)")
        con.execute("INSERT INTO linkage_feature_hashes SELECT record_key, content_hash FROM linkage_delta WHERE change <> 'gone'")
    else:
        con.execute("DELETE FROM linkage_feature_hashes")
        con.execute(f"INSERT INTO linkage_feature_hashes SELECT record_key, {stored_or_computed_hash_sql(con, settings.table)} "
                    f"FROM {settings.table}")


def score_for_plan(con: duckdb.DuckDBPyConnection, settings: LinkageSettings,
                   engine: EngineChoice | None = None) -> ScoringReport:
    """`scored_pairs` for the plan of `current_plan`: fitted and stored, or scored by the
    stored model (all pairs, or the delta's, the others kept as they are). A fit (the
    heavy part) runs on `engine`; scoring by the stored model stays in the warehouse."""
    start = time.perf_counter()
    run_at, plan = current_plan(con)
    if plan.mode == "refit":
        with stage_engine(con, engine, (settings.table, "candidate_pairs", "linked_pairs"), SCORING_TABLES,
                          settings.table) as db:
            report = score_pairs(db, settings)
        model = save_model(con, settings, run_at, plan.reason)
        pairs = report.pairs_scored
    else:
        model = load_model(con, settings)
        install_model(con, model)
        if plan.mode == "rescore":
            pairs = score_with_model(con, settings, "candidate_pairs", "scored_pairs", model.prior_weight, model.m, model.u)
        else:
            if not as_engine(con).has_table("delta_candidate_pairs"):
                raise RuntimeError("the delta's pairs are already scored: materialize candidate_pairs first "
                                   "(it plans the run and builds them)")
            pairs = score_with_model(con, settings, "delta_candidate_pairs", "_delta_scored", model.prior_weight,
                                     model.m, model.u)
            con.execute("""DELETE FROM scored_pairs WHERE key_l IN (SELECT record_key FROM linkage_delta)
                                                       OR key_r IN (SELECT record_key FROM linkage_delta)""")
            con.execute("INSERT INTO scored_pairs BY NAME SELECT * FROM _delta_scored")
            con.execute("DROP TABLE _delta_scored; DROP TABLE delta_candidate_pairs")
        score_earlier_links(con, settings, model.prior_weight, model.m, model.u)
        report = scoring_report(con, 0, model.match_probability_random_pair)
    _commit_hashes(con, settings, plan)
    con.execute("UPDATE linkage_run SET model_version = ? WHERE run_at = ?", [model.version, run_at])
    _record_seconds(con, run_at, "scoring_seconds", time.perf_counter() - start, pairs_scored=pairs)
    return report


def compare_clusters(con: duckdb.DuckDBPyConnection, before: str, after: str) -> ClusterDiff:
    """How two clusterings (tables with record_key, cluster_key) differ: the records of both
    whose cluster has other members in the one than in the other, and the clusters of
    either that are not exactly a cluster of the other (new, grown, split, gone)."""
    # A cluster's members as one sum of their keys' hashes and their count: sorting and
    # joining every cluster's keys into a string was most of this at a million records;
    # two different sets of keys give the same sum and count with a chance of about 2**-64.
    members = "SELECT cluster_key, (sum(hash(record_key)), count(*)) AS members FROM {} GROUP BY cluster_key"
    row = con.execute(
        f"""
        WITH _ca AS ({members.format(before)}), _cb AS ({members.format(after)}),
        _ra AS (SELECT t.record_key, c.members FROM {before} t JOIN _ca c USING (cluster_key)),
        _rb AS (SELECT t.record_key, c.members FROM {after} t JOIN _cb c USING (cluster_key))
        SELECT (SELECT count(*) FROM _ra JOIN _rb USING (record_key)),
               (SELECT count(*) FROM _ra JOIN _rb USING (record_key) WHERE _ra.members <> _rb.members),
               (SELECT count(*) FROM (SELECT members FROM _ca EXCEPT SELECT members FROM _cb))
             + (SELECT count(*) FROM (SELECT members FROM _cb EXCEPT SELECT members FROM _ca))
        """
    ).fetchall()[0]
    return ClusterDiff(*row)


# The records a delta run's clustering resolves again (`clustering_scope`).
SCOPE = "_clustering_scope"
# Beyond this share of the records, resolving the scope costs what resolving everyone does
# (1,000,000 persons: 20 % of the records took 13.1 s, everyone 11.6 s, 3.4 % 5.4 s).
MAX_SCOPE_SHARE = 0.1


def clustering_scope(con: duckdb.DuckDBPyConnection, threshold: float, settings: LinkageSettings) -> int:
    """`_clustering_scope(record_key)`: the records a delta run resolves again; returns how many.

    It starts from the delta's records (new, changed, gone), those of the analysts'
    decisions, and the records of every pair inside one of the last run's persons that is
    no remembered link yet but would be kept as one (a person that just gained a member:
    its pairs with the newcomer now count, and may move a record's confidence). Then every
    record they reach over a pair that can link: scored at or above the threshold, a pair
    of the last run's persons scored beyond the candidates (`relinked_pairs`), a link of the
    last run, an analyst's `same`. Every link, kept link and contradiction inside a person
    is such a pair or lies inside one of the last run's persons, which its links join, so
    the scope is closed: a record outside it reaches no change over anything clustering
    reads, and its person, confidence and links are the ones the last run gave it."""
    relinked = as_engine(con).has_table("relinked_pairs")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _reach AS
        WITH pairs AS (
            SELECT key_l, key_r FROM scored_pairs WHERE match_probability >= {float(threshold)}
            {"UNION ALL SELECT key_l, key_r FROM relinked_pairs" if relinked else ""}
            UNION ALL SELECT key_l, key_r FROM linked_pairs
            UNION ALL SELECT key_l, key_r FROM review_decisions WHERE decision = 'same')
        SELECT key_l AS a, key_r AS b FROM pairs UNION ALL SELECT key_r, key_l FROM pairs
        """
    )
    # The pairs inside a person (a few per person) that are no remembered link yet and a
    # scored, unvetoed pair: found from the persons' side, not by reading every scored pair.
    vetoed = sorted({gamma_column(settings.comparison(name)) for name, _ in settings.vetoes})
    columns = ", ".join(["key_l", "key_r", *vetoed])
    relinked_rows = f"UNION ALL SELECT {columns} FROM relinked_pairs" if relinked else ""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {SCOPE} AS
        WITH unremembered AS (
            SELECT a.record_key AS key_l, b.record_key AS key_r
            FROM clusters a JOIN clusters b ON a.cluster_key = b.cluster_key AND a.record_key < b.record_key
            WHERE NOT EXISTS (SELECT 1 FROM linked_pairs l WHERE l.key_l = a.record_key AND l.key_r = b.record_key)
        ), not_yet_links AS (
            SELECT u.key_l, u.key_r FROM unremembered u
            JOIN (SELECT {columns} FROM scored_pairs {relinked_rows}) s ON s.key_l = u.key_l AND s.key_r = u.key_r
            WHERE NOT ({any_level_sql(settings, settings.vetoes)}))
        SELECT record_key FROM (
            SELECT record_key FROM linkage_delta
            UNION SELECT key_l FROM review_decisions UNION SELECT key_r FROM review_decisions
            UNION SELECT key_l FROM not_yet_links UNION SELECT key_r FROM not_yet_links)
        WHERE record_key IS NOT NULL
        """
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _frontier AS SELECT record_key FROM {SCOPE}")
    # Breadth first from the delta: each round joins the pairs with the records just reached.
    while True:
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _reached AS
                        SELECT DISTINCT r.b AS record_key FROM _reach r JOIN _frontier f ON r.a = f.record_key
                        WHERE r.b NOT IN (SELECT record_key FROM {SCOPE})""")
        if not con.execute("SELECT count(*) FROM _reached").fetchall()[0][0]:
            break
        con.execute(f"INSERT INTO {SCOPE} SELECT record_key FROM _reached; DROP TABLE _frontier; "
                    "ALTER TABLE _reached RENAME TO _frontier")
    con.execute("DROP TABLE _reach; DROP TABLE _reached; DROP TABLE IF EXISTS _frontier")
    return con.execute(f"SELECT count(*) FROM {SCOPE}").fetchall()[0][0]


def _clusters_are_the_last_runs(con: duckdb.DuckDBPyConnection, run_at: datetime) -> bool:
    """Whether `clusters` and the remembered links are what the last run's clustering wrote:
    not when that clustering did not finish (its delta's hashes may be committed all the
    same), nor when something else clustered since (an erasure's look-ahead)."""
    if not as_engine(con).has_table(CLUSTERED_BY_TABLE):
        return False
    written = con.execute(f"SELECT max(run_at) FROM {CLUSTERED_BY_TABLE}").fetchall()[0][0]
    previous = con.execute("SELECT max(run_at) FROM linkage_run WHERE run_at < ?", [run_at]).fetchall()[0][0]
    return written is not None and written == previous


def _scope_of_run(con: duckdb.DuckDBPyConnection, threshold: float, settings: LinkageSettings, may_scope: bool,
                  run_at: datetime) -> tuple[str | None, int]:
    """The table of the records this run's clustering resolves (None: everyone) and how many.

    Only a delta run on DuckDB (`may_scope`; Spark rewrites whole tables) resolves a scope,
    and only from the clusters the last run's clustering wrote, with links remembered
    since the features had a hash (before, they are compared once over everyone:
    linkage/feature_hash.py)."""
    records = con.execute(f"SELECT count(*) FROM {settings.table}").fetchall()[0][0]
    if not (may_scope and not linked_before_hashes(as_engine(con)) and _clusters_are_the_last_runs(con, run_at)):
        return None, records
    resolved = clustering_scope(con, threshold, settings)
    if resolved > MAX_SCOPE_SHARE * records:
        # As dear as resolving everyone, with the same result.
        con.execute(f"DROP TABLE {SCOPE}")
        return None, records
    return SCOPE, resolved


def cluster_for_plan(con: duckdb.DuckDBPyConnection, threshold: float, settings: LinkageSettings,
                     engine: EngineChoice | None = None, resolve_everyone: bool = False) -> tuple[ClusterReport, ClusterDiff]:
    """`clusters`, remembering the links, and how many persons that touched compared with
    the last run; the clustering on `engine`. A delta run on DuckDB resolves only the
    records of `clustering_scope` (`resolve_everyone`: all of them, which gives the same
    tables; for comparison); every other run, all records."""
    start = time.perf_counter()
    run_at, plan = current_plan(con)
    con.execute(LINKED_PAIRS_DDL)
    con.execute(f"CREATE OR REPLACE TABLE {LINKS_BEFORE} AS SELECT * FROM linked_pairs")
    con.execute("CREATE TABLE IF NOT EXISTS clusters (record_key VARCHAR, cluster_key VARCHAR, match_probability DOUBLE)")
    decisions = build_review_decisions(con)
    scope, resolved = _scope_of_run(con, threshold, settings, plan.mode == "delta" and not resolve_everyone
                                    and (engine is None or engine.name == "duckdb"), run_at)
    in_scope = f"WHERE {in_scope_sql(scope, 'record_key')}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _clusters_before AS SELECT record_key, cluster_key FROM clusters {in_scope}")
    with stage_engine(con, engine, (settings.table, "scored_pairs", "relinked_pairs", *HISTORY_TABLES),
                      ("clusters", "linked_pairs", "linked_records"), settings.table) as db:
        report = build_clusters(db, threshold, settings, remember_links=True, review_decisions=decisions, scope=scope)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _clusters_after AS SELECT record_key, cluster_key FROM clusters {in_scope}")
    diff = compare_clusters(con, "_clusters_before", "_clusters_after")
    if scope is not None:
        # Every record outside the scope is in both, in the same person.
        outside = con.execute(f"SELECT count(*) FROM clusters WHERE NOT ({in_scope_sql(scope, 'record_key')})"
                              ).fetchall()[0][0]
        diff = ClusterDiff(diff.records_compared + outside, diff.records_in_other_clusters, diff.clusters_touched)
        con.execute(f"DROP TABLE {SCOPE}")
    con.execute("DROP TABLE _clusters_before; DROP TABLE _clusters_after")
    con.execute(f"CREATE OR REPLACE TABLE {CLUSTERED_BY_TABLE} AS SELECT ?::TIMESTAMP AS run_at", [run_at])
    _record_seconds(con, run_at, "clustering_seconds", time.perf_counter() - start, clusters_touched=diff.clusters_touched,
                    records_resolved=resolved)
    return report, diff


def relink_with_stored_model(con: duckdb.DuckDBPyConnection, threshold: float,
                             settings: LinkageSettings = GERMAN_SETTINGS) -> str:
    """All pairs of `settings.table` built, scored by the stored model and clustered (the
    links not remembered); returns the model's version."""
    model = usable_model(con, settings)
    if model is None:
        raise RuntimeError("no model stored for these linkage settings: run the pipeline first")
    install_model(con, model)
    build_candidate_pairs(con, settings)
    score_with_model(con, settings, "candidate_pairs", "scored_pairs", model.prior_weight, model.m, model.u)
    score_earlier_links(con, settings, model.prior_weight, model.m, model.u)
    build_clusters(con, threshold, settings)
    return model.version
