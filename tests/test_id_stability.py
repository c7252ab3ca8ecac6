"""Yesterday's persons are sticky, not only their links: two records of one person stay
one person (with its golden id) on their own pair's score when the record that joined
them changed, unless new evidence (a veto, an analyst's `different`) separates them.

The pairs are written by hand into a real DuckDB file, as linkage/model.py would score
them, so each day's evidence is exactly the one the test names."""

from __future__ import annotations

import math
from datetime import datetime

import duckdb
import pytest

from linkage.clustering import build_clusters, build_review_decisions, keep_link_probability, previous_co_members
from linkage.comparisons import gamma_column
from linkage.feature_hash import refresh_feature_hash
from linkage.settings import GERMAN_SETTINGS
from warehouse.golden_ids import assign_golden_ids

THRESHOLD = 0.7
KEEP = keep_link_probability(THRESHOLD)
BETWEEN = (KEEP + THRESHOLD) / 2  # below the threshold, above the bar an earlier link must keep
GAMMAS = [gamma_column(c) for c in GERMAN_SETTINGS.comparisons]


@pytest.fixture(params=["hash in the row", "row hashed when read"])
def con(tmp_path, request):
    """The features as linkage/features.py writes them (each row with its `feature_hash`),
    or a table made elsewhere without one."""
    con = _features(tmp_path, hashed=request.param == "hash in the row")
    yield con
    con.close()


def _features(folder, hashed: bool) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(folder / "linkage.duckdb"))
    con.execute("CREATE TABLE linkage_features (record_key VARCHAR, birth_date DATE"
                + (", feature_hash VARCHAR)" if hashed else ")"))
    con.execute("INSERT INTO linkage_features (record_key, birth_date) VALUES ('shop:A', NULL), ('pos:B', NULL), "
                "('newsletter:C', NULL), ('hotline:D', NULL)")
    refresh_feature_hash(con, "linkage_features")
    return con


def _day(con, pairs: dict[tuple[str, str], float], vetoed: tuple[tuple[str, str], ...] = (),
         changed: tuple[str, ...] = ()) -> None:
    """Today's scored candidates (and no earlier link that is no candidate); `vetoed`
    pairs have two different known birth dates (the settings' veto); the `changed`
    records' features differ from yesterday's (another birth date, as a corrected row)."""
    for key in changed:
        con.execute("UPDATE linkage_features SET birth_date = coalesce(birth_date + 1, DATE '1980-01-01') "
                    "WHERE record_key = ?", [key])
    refresh_feature_hash(con, "linkage_features")
    veto = GERMAN_SETTINGS.gamma_of("birth_date", "different")
    vetoed_column = gamma_column(GERMAN_SETTINGS.comparison("birth_date"))
    con.execute(f"CREATE OR REPLACE TABLE scored_pairs (key_l VARCHAR, key_r VARCHAR, {', '.join(f'{g} INTEGER' for g in GAMMAS)}, "
                "match_weight DOUBLE, match_probability DOUBLE)")
    for (a, b), probability in pairs.items():
        levels = [veto if g == vetoed_column and (a, b) in vetoed else -1 for g in GAMMAS]
        weight = float("inf") if probability >= 1 else math.log2(probability / (1 - probability))
        con.execute(f"INSERT INTO scored_pairs VALUES (?, ?, {', '.join('?' * len(GAMMAS))}, ?, ?)",
                    [min(a, b), max(a, b), *levels, weight, probability])
    con.execute("CREATE OR REPLACE TABLE relinked_pairs AS FROM scored_pairs LIMIT 0")


def _persons(con, day: int) -> dict[str, str]:
    build_clusters(con, THRESHOLD, remember_links=True)
    assign_golden_ids(con, datetime(2026, 11, day))
    return dict(con.execute("SELECT record_key, golden_id FROM golden_membership").fetchall())


# Day 1: A-B and B-C link; A and C are alike, but not enough to link by themselves.
DAY1 = {("shop:A", "pos:B"): 0.99, ("pos:B", "newsletter:C"): 0.99, ("shop:A", "newsletter:C"): BETWEEN}
# Day 2: B changed and matches neither any more; A-C is scored exactly as on day 1.
DAY2 = {("shop:A", "pos:B"): 0.05, ("pos:B", "newsletter:C"): 0.05, ("shop:A", "newsletter:C"): BETWEEN}


def test_the_previous_persons_are_the_components_of_the_remembered_links(con):
    con.execute("CREATE TABLE linked_pairs AS SELECT * FROM (VALUES ('pos:B', 'shop:A'), ('newsletter:C', 'pos:B'), "
                "('hotline:D', 'x:E')) t(key_l, key_r)")
    previous_co_members(con)
    assert con.execute("SELECT key_l, key_r FROM _co_members ORDER BY ALL").fetchall() == [
        ("hotline:D", "x:E"), ("newsletter:C", "pos:B"), ("newsletter:C", "shop:A"), ("pos:B", "shop:A")]


def test_two_records_joined_through_a_record_that_changed_keep_their_person_and_id(con):
    _day(con, DAY1)
    day1 = _persons(con, 1)
    assert day1["shop:A"] == day1["pos:B"] == day1["newsletter:C"]
    _day(con, DAY2, changed=("pos:B",))
    day2 = _persons(con, 2)
    assert day2["shop:A"] == day2["newsletter:C"] == day1["shop:A"]
    assert day2["pos:B"] != day1["pos:B"]
    # A rerun on the same evidence changes nothing: the kept pair is remembered as a link,
    # and B, changed yesterday and unchanged since, keeps its confidence.
    links = con.execute("SELECT * FROM linked_pairs ORDER BY ALL").fetchall()
    confidence = con.execute("SELECT record_key, match_probability FROM clusters ORDER BY ALL").fetchall()
    assert _persons(con, 3) == day2
    assert con.execute("SELECT * FROM linked_pairs ORDER BY ALL").fetchall() == links
    assert con.execute("SELECT record_key, match_probability FROM clusters ORDER BY ALL").fetchall() == confidence


def test_a_pair_that_was_never_in_one_person_does_not_link_below_the_threshold(con):
    _day(con, {("shop:A", "newsletter:C"): BETWEEN})
    day1 = _persons(con, 1)
    assert day1["shop:A"] != day1["newsletter:C"]
    _day(con, {("shop:A", "newsletter:C"): BETWEEN})
    assert _persons(con, 2) == day1


def test_a_changed_pair_below_the_keeping_bar_separates_the_two(con):
    _day(con, DAY1)
    _persons(con, 1)
    _day(con, DAY2 | {("shop:A", "newsletter:C"): KEEP / 2}, changed=("pos:B", "newsletter:C"))
    day2 = _persons(con, 2)
    assert day2["shop:A"] != day2["newsletter:C"]


def test_unchanged_records_stay_one_person_however_far_a_re_fit_moves_their_pairs(con):
    """Nothing in A, B or C changed; only the re-estimated model scores their pairs lower."""
    _day(con, DAY1)
    day1 = _persons(con, 1)
    _day(con, {pair: KEEP / 2 for pair in DAY1})
    day2 = _persons(con, 2)
    assert day2["shop:A"] == day2["pos:B"] == day2["newsletter:C"] == day1["shop:A"]
    # ... and the pairs of a record that changed are held to the bar again: B leaves, while
    # A and C, unchanged, stay one person.
    _day(con, {pair: KEEP / 2 for pair in DAY1}, changed=("pos:B",))
    day3 = _persons(con, 3)
    assert day3["shop:A"] == day3["newsletter:C"] == day1["shop:A"]
    assert day3["pos:B"] != day1["shop:A"]


def test_links_remembered_before_the_features_had_a_hash_still_know_the_unchanged_records(tmp_path):
    """An upgrade: the last run's `linked_records` hold fingerprints of whole rows, as the
    code before the features' hash wrote them. The unchanged records are still recognised,
    so a person held together only because nothing changed stays one."""
    con = _features(tmp_path, hashed=True)
    _day(con, DAY1)
    day1 = _persons(con, 1)
    con.execute("CREATE OR REPLACE TABLE linked_records AS SELECT record_key, md5(CAST(f AS VARCHAR)) AS fingerprint "
                "FROM (SELECT * EXCLUDE (feature_hash) FROM linkage_features) f "
                "WHERE record_key IN (SELECT record_key FROM linked_records)")
    _day(con, {pair: KEEP / 2 for pair in DAY1})
    day2 = _persons(con, 2)
    assert day2["shop:A"] == day2["pos:B"] == day2["newsletter:C"] == day1["shop:A"]
    assert [c for (c, *_) in con.execute("DESCRIBE linked_records").fetchall()] == ["record_key", "content_hash"]


def test_an_analysts_different_separates_yesterdays_person(con):
    _day(con, DAY1)
    _persons(con, 1)
    build_review_decisions(con)
    con.execute("INSERT INTO raw_reviews (key_l, key_r, decision, decided_at) "
                "VALUES ('newsletter:C', 'shop:A', 'different', '2026-11-01T12:00:00Z')")
    _day(con, DAY2)
    day2 = _persons(con, 2)
    assert day2["shop:A"] != day2["newsletter:C"]


def test_a_veto_separates_yesterdays_person(con):
    _day(con, DAY1)
    _persons(con, 1)
    _day(con, DAY2, vetoed=(("shop:A", "newsletter:C"),))
    day2 = _persons(con, 2)
    assert day2["shop:A"] != day2["newsletter:C"]


def test_when_a_changed_record_contradicts_an_unchanged_one_the_changed_record_leaves(con):
    """Day 2: B's birth date changed and now vetoes A, while B-C is the strongest pair.
    Weighed by strength alone, C would go with B and A would lose the person's id; the
    split rebuilds the person from its unchanged records first, so B leaves."""
    _day(con, {("shop:A", "pos:B"): 0.99, ("pos:B", "newsletter:C"): 0.999999, ("shop:A", "newsletter:C"): 0.9})
    day1 = _persons(con, 1)
    assert day1["shop:A"] == day1["pos:B"] == day1["newsletter:C"]
    con.execute("UPDATE linkage_features SET birth_date = DATE '1970-01-01' WHERE record_key = 'pos:B'")
    _day(con, {("shop:A", "pos:B"): 0.01, ("pos:B", "newsletter:C"): 0.999999, ("shop:A", "newsletter:C"): 0.9},
         vetoed=(("shop:A", "pos:B"),))
    day2 = _persons(con, 2)
    assert day2["shop:A"] == day2["newsletter:C"] == day1["shop:A"]
    assert day2["pos:B"] != day1["shop:A"]
    assert _persons(con, 3) == day2


def test_a_pair_whose_keeping_would_move_a_confidence_is_left_for_the_next_run_to_resolve(con):
    """A run remembers the pairs inside its persons that the next run keeps anyway, except
    one whose keeping moves a record's confidence: then the next run must still resolve
    that person (`clustering_scope`), or a delta would keep what resolving everyone changes.
    Day 2: A-B is kept on its own score (B's confidence is that score), D joins over A-D,
    and B-D, scored above B's confidence, was no pair of yesterday's person: not kept yet."""
    from linkage.delta import SCOPE, clustering_scope

    _day(con, {("shop:A", "pos:B"): 0.99})
    _persons(con, 1)
    above = (BETWEEN + THRESHOLD) / 2
    _day(con, {("shop:A", "pos:B"): BETWEEN, ("shop:A", "hotline:D"): 0.99, ("pos:B", "hotline:D"): above})
    _persons(con, 2)
    confidence = dict(con.execute("SELECT record_key, match_probability FROM clusters").fetchall())
    assert confidence["pos:B"] == pytest.approx(BETWEEN)
    con.execute("CREATE TABLE linkage_delta (record_key VARCHAR, change VARCHAR, content_hash VARCHAR)")
    clustering_scope(con, THRESHOLD, GERMAN_SETTINGS)
    assert {k for (k,) in con.execute(f"SELECT record_key FROM {SCOPE}").fetchall()} == {"shop:A", "pos:B", "hotline:D"}
    # What resolving it gives: B-D now counts, as a pair of yesterday's person.
    _persons(con, 3)
    assert con.execute("SELECT match_probability FROM clusters WHERE record_key = 'pos:B'").fetchall()[0][0] == pytest.approx(above)


def test_a_pair_beside_a_record_whose_confidence_is_no_candidates_is_left_for_the_next_run_to_resolve(con):
    """The other way a kept pair can move a confidence: A's only candidate inside its person
    (A-B) is kept below the keep bar, so A keeps yesterday's confidence; D joins over B-D,
    and A-D is no candidate. The next run scores A-D as a pair of yesterday's person
    (`relinked_pairs`); at or above the keep bar it counts for A, so A's person is resolved."""
    from linkage.delta import SCOPE, clustering_scope

    _day(con, {("shop:A", "pos:B"): 0.99})
    _persons(con, 1)
    _day(con, {("shop:A", "pos:B"): KEEP / 2, ("pos:B", "hotline:D"): 0.99})
    _persons(con, 2)
    assert con.execute("SELECT match_probability FROM clusters WHERE record_key = 'shop:A'").fetchall()[0][0] == pytest.approx(0.99)
    _day(con, {("shop:A", "pos:B"): KEEP / 2, ("pos:B", "hotline:D"): 0.99})
    con.execute(f"INSERT INTO relinked_pairs VALUES ('hotline:D', 'shop:A', {', '.join('-1' for _ in GAMMAS)}, ?, ?)",
                [math.log2(BETWEEN / (1 - BETWEEN)), BETWEEN])
    con.execute("CREATE TABLE linkage_delta (record_key VARCHAR, change VARCHAR, content_hash VARCHAR)")
    clustering_scope(con, THRESHOLD, GERMAN_SETTINGS)
    assert {k for (k,) in con.execute(f"SELECT record_key FROM {SCOPE}").fetchall()} == {"shop:A", "pos:B", "hotline:D"}
    _persons(con, 3)
    assert con.execute("SELECT match_probability FROM clusters WHERE record_key = 'shop:A'").fetchall()[0][0] == pytest.approx(BETWEEN)
