"""Persons from linked pairs: connected components in SQL, then a constrained split of
the few components that a chain of links joined against contrary evidence.

Links are sticky: `linked_pairs` remembers the links inside the persons of the last run,
and such a pair links again while its probability stays above a lower bar (the threshold
less `keep_link_margin_bits` of match weight), or whatever its probability when neither
record's features changed, and nothing says the two are different (a veto, an analyst's
`different`). The model is re-estimated on every run and moves a
little with the data; without this, a pair scored just above the threshold yesterday and
just below today would split a person whose records did not change. Keeping only the
previous run's links that ended inside a person makes a rerun on the same data a fixed
point: the links it drops are exactly those the clustering had rejected anyway. Beside
the links, the other pairs inside a person that nothing holds apart are remembered too
(`_settled_pairs`), unless keeping them would move a record's confidence: the next run
keeps such a pair of unchanged records anyway, so it need not resolve that person again
only to remember it.

What is kept is the person, not only its links: any two records of one of yesterday's
persons (`previous_co_members`) link again on their own pair's score at the same lower
bar, also when they were joined only through a record that changed or left, and the
constrained split rebuilds yesterday's persons before anything else, first from the
records whose features did not change (`linked_records`): when a changed record now
contradicts one of them, the changed record is the one that leaves. A veto, an
analyst's `different` or a contradiction of a candidate pair that was no link still
separates them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from linkage.comparisons import any_level_sql, gamma_column, levels_sql
from linkage.engine import Connection, Engine, as_engine
from linkage.feature_hash import FEATURE_HASH, linked_before_hashes, row_hash_sql
from linkage.settings import GERMAN_SETTINGS, LinkageSettings


@dataclass
class ClusterReport:
    records: int
    clusters: int
    linked_pairs: int
    components_split: int
    review_decisions_applied: int

    @property
    def duplicate_rate(self) -> float:
        return 1 - self.clusters / self.records if self.records else 0.0


def in_scope_sql(scope: str | None, *columns: str) -> str:
    """SQL true for rows whose `columns` (record keys) are all in the table `scope`; TRUE without one."""
    if scope is None:
        return "TRUE"
    return " AND ".join(f"{c} IN (SELECT record_key FROM {scope})" for c in columns)


def build_review_decisions(con: Connection) -> int:
    """The latest analyst decision per pair, from `raw_reviews` (if any were delivered)."""
    db = as_engine(con)
    db.run(
        "CREATE TABLE IF NOT EXISTS raw_reviews (key_l VARCHAR, key_r VARCHAR, decision VARCHAR, "
        "reviewer VARCHAR, decided_at VARCHAR, _file_hash VARCHAR, _file_name VARCHAR, _record_number BIGINT, "
        "_line_hint BIGINT, _file_date TIMESTAMP, _loaded_at TIMESTAMP)"
    )
    db.run(
        """
        CREATE OR REPLACE TABLE review_decisions AS
        SELECT least(trim(key_l), trim(key_r)) AS key_l, greatest(trim(key_l), trim(key_r)) AS key_r,
               lower(trim(decision)) AS decision, reviewer,
               CAST(try_cast(decided_at AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP) AS decided_at,
               _file_name AS file_name
        FROM raw_reviews
        QUALIFY row_number() OVER (
            PARTITION BY least(trim(key_l), trim(key_r)), greatest(trim(key_l), trim(key_r))
            ORDER BY try_cast(decided_at AS TIMESTAMPTZ) DESC NULLS LAST, _file_date DESC NULLS LAST, _file_name DESC,
                     _loaded_at DESC, _record_number DESC) = 1
        """
    )
    return db.rows("SELECT count(*) FROM review_decisions")[0][0]


def _connected_components(con: Connection, table: str, edges: str = "_edges") -> None:
    """Label propagation: every record takes the smallest key reachable over `edges`.

    Only the records whose label just fell offer it to their neighbours (a record whose
    label stayed offered it already), so after the first round each round joins the edges
    with a few records, not with all of them."""
    db = as_engine(con)
    db.run(f"CREATE OR REPLACE TEMP TABLE _both_ways AS SELECT key_l AS a, key_r AS b FROM {edges} "
           f"UNION ALL SELECT key_r, key_l FROM {edges}")
    db.run(f"CREATE OR REPLACE TEMP TABLE _labels AS SELECT record_key, record_key AS label FROM {table}")
    db.run("CREATE OR REPLACE TEMP TABLE _fallen AS SELECT record_key, label FROM _labels")
    while True:
        db.run(
            """
            CREATE OR REPLACE TEMP TABLE _offered AS
            WITH offers AS (
                SELECT e.a AS record_key, min(f.label) AS label FROM _both_ways e JOIN _fallen f ON f.record_key = e.b
                GROUP BY e.a
            )
            SELECT o.record_key, o.label FROM offers o JOIN _labels l USING (record_key) WHERE o.label < l.label
            """
        )
        db.run("DROP TABLE _fallen; ALTER TABLE _offered RENAME TO _fallen")
        if not db.rows("SELECT count(*) FROM _fallen")[0][0]:
            db.run("DROP TABLE _fallen; DROP TABLE _both_ways")
            return
        db.run("CREATE OR REPLACE TEMP TABLE _next AS SELECT l.record_key, coalesce(f.label, l.label) AS label "
               "FROM _labels l LEFT JOIN _fallen f USING (record_key); DROP TABLE _labels; ALTER TABLE _next RENAME TO _labels")


def _constrained_split(edges: pd.DataFrame, cannot: set[tuple[str, str]]) -> dict[str, str]:
    """Join records from the strongest link down, never joining two groups that hold a
    pair known to be two people (Kruskal with cannot-link constraints).

    Analysts' `same` first, then the links inside the last run's persons (`priority`;
    between two records that did not change before those with a changed one), then the
    others: the persons of yesterday are rebuilt before a new link may claim one of their records,
    so a model that now weighs a rival link a little higher does not move a record whose
    data did not change, and a new record that contradicts a person stays out of it."""
    parent: dict[str, str] = {}
    members: dict[str, set[str]] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        members.setdefault(x, {x})
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    apart: dict[str, set[str]] = {}
    for a, b in cannot:
        apart.setdefault(a, set()).add(b)
        apart.setdefault(b, set()).add(a)

    # Ties broken by the keys, so the same pairs always give the same persons.
    strongest_first = edges.sort_values(["priority", "match_weight", "key_l", "key_r"], ascending=[False, False, True, True])
    for a, b in strongest_first[["key_l", "key_r"]].itertuples(index=False):
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        small, large = (ra, rb) if len(members[ra]) < len(members[rb]) else (rb, ra)
        if any(apart.get(x, set()) & members[large] for x in members[small]):
            continue
        parent[small] = large
        members[large] |= members.pop(small)
    return {x: min(members[find(x)]) for x in list(parent)}


LINKED_PAIRS_DDL = "CREATE TABLE IF NOT EXISTS linked_pairs (key_l VARCHAR, key_r VARCHAR)"
# The features of the records in `linked_pairs` as the last run saw them (a hash of the row).
LINKED_RECORDS_DDL = "CREATE TABLE IF NOT EXISTS linked_records (record_key VARCHAR, content_hash VARCHAR)"
# Which run's clustering wrote `clusters` and the remembered links (linkage/delta.py); a
# clustering that does not remember its links (a look-ahead) leaves them out of step.
CLUSTERED_BY_TABLE = "linkage_clustered_by"


def previous_co_members(con: Connection, scope: str | None = None) -> None:
    """`_co_members(key_l, key_r)`: every two records that were one person in the last run
    (of the records in `scope`, when given: a table closed under the last run's links).

    Yesterday's persons are the components of `linked_pairs`: the clustering joins a
    person's records only over links, and remembers the links inside each person. A
    record that changed or left since still joins its neighbours here, which is the point:
    two unchanged records linked only through it are still known to have been one person."""
    db = as_engine(con)
    db.run(LINKED_PAIRS_DDL)
    db.run(f"CREATE OR REPLACE TEMP TABLE _previous_links AS SELECT key_l, key_r FROM linked_pairs "
           f"WHERE {in_scope_sql(scope, 'key_l', 'key_r')}")
    db.run(
        "CREATE OR REPLACE TEMP TABLE _linked_records AS "
        "SELECT key_l AS record_key FROM _previous_links UNION SELECT key_r FROM _previous_links"
    )
    _connected_components(con, "_linked_records", "_previous_links")
    db.run(
        """
        CREATE OR REPLACE TEMP TABLE _co_members AS
        SELECT a.record_key AS key_l, b.record_key AS key_r
        FROM _labels a JOIN _labels b ON a.label = b.label AND a.record_key < b.record_key
        """
    )
    db.run("DROP TABLE _labels; DROP TABLE _linked_records; DROP TABLE _previous_links")


def keep_link_probability(threshold: float, settings: LinkageSettings = GERMAN_SETTINGS) -> float:
    """The probability an earlier link must keep to stay: the threshold's weight less the margin."""
    threshold = min(max(threshold, 1e-12), 1 - 1e-12)
    weight = math.log2(threshold / (1 - threshold)) - settings.keep_link_margin_bits
    return 1 / (1 + 2 ** -weight)


def build_clusters(
    con: Connection, threshold: float, settings: LinkageSettings = GERMAN_SETTINGS,
    remember_links: bool = False, review_decisions: int | None = None, scope: str | None = None,
) -> ClusterReport:
    """(Re)build `clusters(record_key, cluster_key, match_probability)` for every record.

    Earlier links in `linked_pairs` are honoured when the table exists; `remember_links`
    replaces it with this clustering's links (the pipeline's run does, a one-off linkage or
    a look-ahead such as erasure's does not). `review_decisions`: how many the warehouse
    already built into `review_decisions` (`build_review_decisions`), when the clustering
    runs on another engine (linkage/engine/stage.py); otherwise they are built here.

    `scope`: a table of record keys closed under every pair that can link (a delta run's,
    `linkage.delta.clustering_scope`): only its records are resolved again; every other
    record keeps its cluster, its confidence and its remembered links, which is what
    resolving it again gives (nothing it could link on changed). The report then counts what was resolved:
    `linked_pairs` the links among the records in scope and the remembered links of the
    others, `components_split` the components split in scope."""
    db = as_engine(con)
    decisions = build_review_decisions(con) if review_decisions is None else review_decisions
    previous_co_members(con, scope)
    veto = any_level_sql(settings, settings.vetoes)
    _keep_earlier_links(db, threshold, settings, scope)
    _link_edges(db, threshold, veto, settings, scope)
    linked = db.rows("SELECT count(*) FROM _edges")[0][0]
    db.run(f"CREATE OR REPLACE TEMP TABLE _resolved AS SELECT record_key FROM {settings.table} "
           f"WHERE {in_scope_sql(scope, 'record_key')}")
    _connected_components(con, "_resolved")
    troubled = _split_contradicted(db, threshold, any_level_sql(settings, settings.contradictions), veto, scope)
    _write_clusters(db, settings, scope)
    if remember_links:
        _remember_links(db, threshold, settings, scope)
    else:
        db.run(f"DROP TABLE IF EXISTS {CLUSTERED_BY_TABLE}")
    if scope is not None:
        # The links of the persons left as they were are what resolving them again would make.
        linked += db.rows(f"SELECT count(*) FROM linked_pairs WHERE NOT ({in_scope_sql(scope, 'key_l')}) "
                          f"AND NOT ({in_scope_sql(scope, 'key_r')})")[0][0]
    db.run("DROP TABLE _edges; DROP TABLE _labels; DROP TABLE _cannot; DROP TABLE _kept_links; DROP TABLE _co_members; "
           "DROP TABLE _unchanged; DROP TABLE _resolved")
    records, clusters = db.rows("SELECT count(*), count(DISTINCT cluster_key) FROM clusters")[0]
    return ClusterReport(records, clusters, linked, troubled, decisions)


def _keep_earlier_links(db: Engine, threshold: float, settings: LinkageSettings, scope: str | None = None) -> None:
    """`_unchanged(record_key, content_hash)` and `_kept_links(key_l, key_r, was_link, by_score)` from
    `_co_members`, `linked_pairs`, `linked_records`, `scored_pairs` and `relinked_pairs`."""
    keep = keep_link_probability(threshold, settings)
    # Scored by linkage/model.py: pairs of the last run's persons that no blocking rule proposes.
    db.run("CREATE TABLE IF NOT EXISTS relinked_pairs AS FROM scored_pairs LIMIT 0")
    # Records of the last run's persons whose features are what that run linked them on
    # (compared as the last run hashed them: before the features had a hash, as whole rows).
    db.run(LINKED_RECORDS_DDL)
    now = row_hash_sql(db, settings.table, "f")
    if linked_before_hashes(db):
        then = "r.fingerprint", db.row_fingerprint("f", [c for c in db.columns(settings.table) if c != FEATURE_HASH])
    else:
        then = "r.content_hash", now
    db.run(
        f"""
        CREATE OR REPLACE TEMP TABLE _unchanged AS
        SELECT f.record_key, {now} AS content_hash FROM {settings.table} f JOIN linked_records r USING (record_key)
        WHERE {then[0]} = {then[1]} AND {in_scope_sql(scope, 'f.record_key')}
        """
    )
    # Pairs of the last run's persons kept: candidates below the threshold (above it they
    # link anyway) and the pairs that are no candidates, when still scored above the lower
    # bar (`by_score`) or when neither record changed: two unchanged records bring no new
    # evidence, so only the re-estimated model could part them, and a re-fit must not move
    # ids. `was_link` marks those that were links themselves.
    db.run(
        f"""
        CREATE OR REPLACE TEMP TABLE _kept_links AS
        SELECT s.key_l, s.key_r, lp.key_l IS NOT NULL AS was_link, s.match_probability >= {keep!r} AS by_score
        FROM (SELECT key_l, key_r, match_probability FROM scored_pairs WHERE match_probability < {threshold}
              UNION ALL SELECT key_l, key_r, match_probability FROM relinked_pairs) s
        JOIN _co_members c ON c.key_l = s.key_l AND c.key_r = s.key_r
        LEFT JOIN (SELECT DISTINCT key_l, key_r FROM linked_pairs) lp ON lp.key_l = s.key_l AND lp.key_r = s.key_r
        LEFT JOIN _unchanged ul ON ul.record_key = s.key_l
        LEFT JOIN _unchanged ur ON ur.record_key = s.key_r
        WHERE s.match_probability >= {keep!r} OR (ul.record_key IS NOT NULL AND ur.record_key IS NOT NULL)
        """
    )


def _link_edges(db: Engine, threshold: float, veto: str, settings: LinkageSettings, scope: str | None = None) -> None:
    """`_edges`: today's links, the kept earlier links and the analysts' `same`, each with
    its priority in the constrained split and whether it counts towards confidence."""
    # The columns of both by name (Spark's SQL has no UNION BY NAME).
    scored = ", ".join(["key_l", "key_r", *(gamma_column(c) for c in settings.comparisons),
                        "match_weight", "match_probability"])
    # `evidence`: the pair links on today's score (or yesterday's bar, or an analyst); a
    # pair kept only because neither record changed holds a person together but says
    # nothing of how sure a record's link is, so it does not count towards confidence
    # (on a rerun a record changed yesterday counts as unchanged, and its confidence must
    # stay what it was).
    db.run(
        f"""
        CREATE OR REPLACE TEMP TABLE _edges AS
        -- Joins, not EXISTS / IN in the select list: Spark plans those only in a filter.
        SELECT s.key_l, s.key_r, match_weight, match_probability,
               CASE WHEN p.key_l IS NULL THEN 0 WHEN ul.record_key IS NOT NULL AND ur.record_key IS NOT NULL
                    THEN 2 ELSE 1 END AS priority, candidate,
               match_probability >= {threshold} OR coalesce(k.by_score, false) AS evidence
        FROM (SELECT {scored}, true AS candidate FROM scored_pairs
              UNION ALL SELECT {scored}, false AS candidate FROM relinked_pairs) s
        LEFT JOIN _co_members p ON p.key_l = s.key_l AND p.key_r = s.key_r
        LEFT JOIN (SELECT key_l, key_r, bool_or(by_score) AS by_score FROM _kept_links GROUP BY key_l, key_r) k
               ON k.key_l = s.key_l AND k.key_r = s.key_r
        LEFT JOIN (SELECT DISTINCT key_l, key_r FROM review_decisions WHERE decision = 'different') d
               ON d.key_l = s.key_l AND d.key_r = s.key_r
        LEFT JOIN _unchanged ul ON ul.record_key = s.key_l
        LEFT JOIN _unchanged ur ON ur.record_key = s.key_r
        WHERE (match_probability >= {threshold} OR k.key_l IS NOT NULL)
          AND NOT ({veto})
          AND d.key_l IS NULL AND {in_scope_sql(scope, 's.key_l', 's.key_r')}
        UNION ALL
        SELECT key_l, key_r, 1e6, 1.0, 3, true, true FROM review_decisions
        WHERE decision = 'same' AND {in_scope_sql(scope, 'key_l', 'key_r')}
        """
    )


def _split_contradicted(db: Engine, threshold: float, contradiction: str, veto: str, scope: str | None = None) -> int:
    """Split the components of `_labels` that hold a pair that must stay apart (`_cannot`);
    how many were split."""
    # A kept remembered pair is no contradiction: the evidence is the one its person was
    # built on before (a link, or a pair inside the person that nothing held apart).
    # (Another pair of yesterday's person with a contradiction is new: it was no candidate then.)
    db.run(
        f"""
        CREATE OR REPLACE TEMP TABLE _cannot AS
        SELECT key_l, key_r FROM scored_pairs s
        WHERE ((match_probability < {threshold} AND ({contradiction})
                AND NOT EXISTS (SELECT 1 FROM _kept_links k WHERE k.key_l = s.key_l AND k.key_r = s.key_r AND k.was_link))
               OR ({veto}))
          AND {in_scope_sql(scope, 's.key_l', 's.key_r')}
        -- An analyst who saw both records and said `same` outweighs what the model holds against them.
        EXCEPT SELECT key_l, key_r FROM review_decisions WHERE decision = 'same'
        UNION SELECT key_l, key_r FROM review_decisions WHERE decision = 'different' AND {in_scope_sql(scope, 'key_l', 'key_r')}
        """
    )
    troubled = db.frame(
        """
        SELECT DISTINCT a.label FROM _cannot c
        JOIN _labels a ON a.record_key = c.key_l JOIN _labels b ON b.record_key = c.key_r
        WHERE a.label = b.label
        """
    )["label"].tolist()
    if troubled:
        db.register("_troubled", pd.DataFrame({"label": troubled}))
        edges = db.frame(
            "SELECT e.* FROM _edges e JOIN _labels l ON l.record_key = e.key_l WHERE l.label IN (SELECT label FROM _troubled)"
        )
        cannot = db.rows(
            "SELECT c.key_l, c.key_r FROM _cannot c JOIN _labels l ON l.record_key = c.key_l "
            "WHERE l.label IN (SELECT label FROM _troubled)"
        )
        relabel = _constrained_split(edges, set(cannot))
        db.register("_relabel", pd.DataFrame({"record_key": list(relabel), "label": list(relabel.values())}))
        # A new table, not UPDATE ... FROM: Spark tables are files, rewritten whole.
        db.run("CREATE OR REPLACE TEMP TABLE _next AS SELECT l.record_key, coalesce(r.label, l.label) AS label "
               "FROM _labels l LEFT JOIN _relabel r USING (record_key); DROP TABLE _labels; ALTER TABLE _next RENAME TO _labels")
        db.unregister("_relabel")
        db.unregister("_troubled")
    return len(troubled)


def _write_clusters(db: Engine, settings: LinkageSettings, scope: str | None = None) -> None:
    """`clusters` from `_labels`, with each record's confidence from `_edges`; with `scope`,
    the rows of its records (and of records gone from the features) replaced."""
    # A record's confidence is its strongest link inside its own cluster. A record held in
    # its person only by pairs kept because nothing changed keeps the confidence the last
    # run gave it: those pairs are yesterday's evidence, not today's.
    db.run("CREATE OR REPLACE TEMP TABLE _previous_confidence AS "
           + (f"SELECT record_key, match_probability FROM clusters WHERE {in_scope_sql(scope, 'record_key')}"
              if db.has_table("clusters")
              else "SELECT CAST(NULL AS VARCHAR) AS record_key, CAST(NULL AS DOUBLE) AS match_probability LIMIT 0"))
    target = "clusters" if scope is None else "_resolved_clusters"
    db.run(
        f"""
        CREATE OR REPLACE {'TABLE' if scope is None else 'TEMP TABLE'} {target} AS
        WITH inside AS (
            SELECT e.key_l AS a, e.key_r AS b, e.match_probability, e.candidate, e.evidence FROM _edges e
            JOIN _labels x ON x.record_key = e.key_l JOIN _labels y ON y.record_key = e.key_r
            WHERE x.label = y.label
        ), best AS (
            -- From the candidates with evidence where it has any: the earlier persons' pairs
            -- scored beyond them exist only in runs with a history, and a rerun must say the same.
            SELECT k AS record_key,
                   coalesce(max(match_probability) FILTER (WHERE candidate AND evidence),
                            max(match_probability) FILTER (WHERE evidence)) AS p,
                   coalesce(max(match_probability) FILTER (WHERE candidate), max(match_probability)) AS kept_only FROM (
                SELECT a AS k, match_probability, candidate, evidence FROM inside
                UNION ALL SELECT b, match_probability, candidate, evidence FROM inside
            ) GROUP BY k
        )
        SELECT l.record_key, l.label AS cluster_key,
               CASE WHEN b.record_key IS NULL THEN 1.0
                    ELSE coalesce(b.p, v.match_probability, b.kept_only) END AS match_probability
        FROM _labels l LEFT JOIN best b USING (record_key) LEFT JOIN _previous_confidence v USING (record_key)
        """
    )
    db.run("DROP TABLE _previous_confidence")
    if scope is not None:
        db.run(f"""DELETE FROM clusters WHERE record_key IN (SELECT record_key FROM {scope})
                   OR record_key NOT IN (SELECT record_key FROM {settings.table})""")
        db.run("INSERT INTO clusters SELECT * FROM _resolved_clusters; DROP TABLE _resolved_clusters")


def _remember_links(db: Engine, threshold: float, settings: LinkageSettings, scope: str | None = None) -> None:
    """`linked_pairs`: the links inside the persons just built (those the split rejected are
    forgotten) and the pairs `_settled_pairs` adds, and `linked_records`: the features hash
    of each record they join; with
    `scope`, those of its records replaced (the others' links and hashes are as they were)."""
    db.run("""CREATE OR REPLACE TEMP TABLE _inside_edges AS
              SELECT e.key_l, e.key_r, e.candidate, e.evidence FROM _edges e
              JOIN clusters x ON x.record_key = e.key_l JOIN clusters y ON y.record_key = e.key_r
              WHERE x.cluster_key = y.cluster_key""")
    _settled_pairs(db, threshold, settings, "_inside_edges", scope)
    links = "SELECT key_l, key_r FROM _inside_edges UNION SELECT key_l, key_r FROM _settled"
    def hashes(pairs: str) -> str:
        # The hash each features row carries (linkage/feature_hash.py): nothing is hashed here.
        return f"""
            WITH linked AS (SELECT key_l AS record_key FROM {pairs} UNION SELECT key_r FROM {pairs})
            SELECT f.record_key, {row_hash_sql(db, settings.table, 'f')} AS content_hash FROM {settings.table} f
            WHERE f.record_key IN (SELECT record_key FROM linked)
        """
    if scope is None:
        db.run(f"CREATE OR REPLACE TABLE linked_pairs AS {links}")
        db.run(f"CREATE OR REPLACE TABLE linked_records AS {hashes('linked_pairs')}")
        db.run("DROP TABLE _settled; DROP TABLE _inside_edges")
        return
    db.run(f"CREATE OR REPLACE TEMP TABLE _resolved_links AS {links}")
    db.run(f"""DELETE FROM linked_pairs WHERE key_l IN (SELECT record_key FROM {scope})
                                         OR key_r IN (SELECT record_key FROM {scope});
               INSERT INTO linked_pairs SELECT * FROM _resolved_links""")
    db.run(f"""DELETE FROM linked_records WHERE record_key IN (SELECT record_key FROM {scope});
               INSERT INTO linked_records {hashes('_resolved_links')};
               DROP TABLE _resolved_links; DROP TABLE _settled; DROP TABLE _inside_edges""")


def _settled_pairs(db: Engine, threshold: float, settings: LinkageSettings, inside_edges: str,
                   scope: str | None = None) -> None:
    """`_settled(key_l, key_r)`: the pairs inside a person just built (of `scope`) that the
    next run on the same records would keep and remember, and whose keeping moves nothing;
    `inside_edges`: the clustering's edges inside its persons (key_l, key_r, candidate, evidence).

    The next run keeps every pair of two unchanged records of one person that no veto and
    no analyst's `different` holds apart (`_keep_earlier_links`). Remembered now, a run on
    the same records has nothing left to learn: without them the first delta after a full
    run resolved every person with a pair below the threshold again (a fifth of the
    records at a million persons) only to remember those pairs. Left out, so that the next
    run still resolves their person (`linkage.delta.clustering_scope`), are the pairs whose
    keeping can move a record's confidence (`_write_clusters`): a candidate at or above the
    keep bar scored above what one of its records has now, and, beside a record whose
    confidence comes from no candidate, any pair but a candidate below the keep bar (which
    never counts as evidence). This holds while the threshold, hence the keep bar, stays
    the same; a run with another threshold may link pairs it did not before, and a delta
    does not look for those anyway. Only the vetoes' levels are computed, for every pair
    inside a person."""
    keep = keep_link_probability(threshold, settings)
    vetoed = tuple(settings.comparison(name) for name in sorted({name for name, _ in settings.vetoes}))
    db.run(
        f"""
        CREATE OR REPLACE TEMP TABLE _settled AS
        WITH inside AS (
            SELECT x.record_key AS key_l, y.record_key AS key_r,
                   least(x.match_probability, y.match_probability) AS confidence
            FROM clusters x JOIN clusters y ON x.cluster_key = y.cluster_key AND x.record_key < y.record_key
            WHERE {in_scope_sql(scope, 'x.record_key')}
        ), firm AS (
            -- Records whose confidence is their best candidate with evidence inside their person.
            SELECT key_l AS record_key FROM {inside_edges} WHERE candidate AND evidence
            UNION SELECT key_r FROM {inside_edges} WHERE candidate AND evidence
        ), levels AS ({levels_sql(settings, 'inside', vetoed, ', p.confidence')})
        SELECT v.key_l, v.key_r FROM levels v
        LEFT JOIN (SELECT DISTINCT key_l, key_r FROM review_decisions WHERE decision = 'different') d
               ON d.key_l = v.key_l AND d.key_r = v.key_r
        -- Candidates only: yesterday's persons' pairs that are none (`relinked_pairs`) never
        -- decide a firm record's confidence, so they count here as no candidate.
        LEFT JOIN (SELECT key_l, key_r, match_probability FROM scored_pairs) s ON s.key_l = v.key_l AND s.key_r = v.key_r
        LEFT JOIN firm fl ON fl.record_key = v.key_l
        LEFT JOIN firm fr ON fr.record_key = v.key_r
        WHERE d.key_l IS NULL AND NOT ({any_level_sql(settings, settings.vetoes)})
          AND (s.match_probability < {keep!r}
               OR (fl.record_key IS NOT NULL AND fr.record_key IS NOT NULL
                   AND (s.key_l IS NULL OR s.match_probability <= v.confidence)))
        """
    )
