"""Incremental linking (linkage/delta.py, linkage/model_store.py): after a first full run,
a run links only what changed, with the stored model, and the persons already known stay as
they are. Real runs of all steps on real DuckDB files: generated exports of day 1, then shop
snapshots edited by hand (a record added, changed or removed) delivered later that day."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from demo.generate import generate
from linkage.delta import cluster_for_plan
from linkage.drift import check_drift
from linkage.feature_hash import feature_hash_sql
from linkage.settings import GERMAN_SETTINGS
from pipelines.definitions import build_definitions
from pipelines.resources import KundenstammSettings
from pipelines.steps import run_all_steps
from sources.identifiers import normalise_email
from tests.generated import deliver, delivery_days
from warehouse.connection import open_warehouse
from warehouse.publish import publish
from warehouse.settings import Settings

T0 = datetime(2026, 11, 20, 7)


def settings_in(root: Path, **changes) -> Settings:
    return replace(Settings(landing_dir=root / "landing", warehouse_path=root / "warehouse.duckdb",
                            published_path=root / "golden.duckdb", reports_dir=root / "reports"), **changes)


@pytest.fixture(scope="module")
def day_one(tmp_path_factory) -> Path:
    """One full first run over 300 generated persons (no erasure requests on day 1)."""
    root = tmp_path_factory.mktemp("incremental")
    generate(root / "demo", persons=300, seed=15, days=1)
    settings = settings_in(root / "state")
    deliver(root / "demo" / "landing", settings.landing_dir, delivery_days(root / "demo" / "landing")[0])
    run_all_steps(settings, T0)
    return root / "state"


@pytest.fixture
def state(day_one, tmp_path) -> "State":
    shutil.copytree(day_one, tmp_path / "state")
    return State(tmp_path / "state")


def _parsed(line: str) -> dict | None:
    """A line of the snapshot as delivered (the generator damages a few: those stay out)."""
    try:
        account = json.loads(line)
    except ValueError:
        return None
    return account if isinstance(account, dict) and account.get("customer_id") else None


class State:
    """A copy of the day-one warehouse, landing folder and published file, and what a test does to it."""

    def __init__(self, root: Path):
        self.settings = settings_in(root)
        self.runs = 0
        snapshot = sorted((self.settings.landing_dir / "shop").glob("customers_*.jsonl"))[-1]
        self.accounts = [account for line in snapshot.read_text(encoding="utf-8").splitlines() if (account := _parsed(line))]

    def account(self, customer_id: str) -> dict:
        return next(a for a in self.accounts if a["customer_id"] == customer_id)

    def deliver(self) -> datetime:
        """Delivers the shop snapshot with the edits so far, an hour after the last run; its run's time."""
        self.runs += 1
        run_at = T0 + timedelta(hours=self.runs)
        path = self.settings.landing_dir / "shop" / f"customers_{run_at:%Y-%m-%dT%H%M}.jsonl"
        path.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in self.accounts), encoding="utf-8")
        return run_at

    def run(self, until: str | None = None, **changes) -> dict:
        """Delivers the edited shop snapshot and runs all steps (`until`: up to that one)."""
        self.summary = run_all_steps(replace(self.settings, **changes), self.deliver(), until=until)
        return self.last_run()

    def last_run(self) -> dict:
        with duckdb.connect(str(self.settings.warehouse_path), read_only=True) as con:
            cursor = con.execute("SELECT * FROM linkage_run ORDER BY run_at DESC LIMIT 1")
            return dict(zip([d[0] for d in cursor.description], cursor.fetchall()[0]))

    def ids(self) -> dict[str, str]:
        """Golden id of every published source record (`source:id`)."""
        with duckdb.connect(str(self.settings.published_path), read_only=True) as con:
            return dict(con.execute("SELECT source || ':' || source_record_id, golden_id FROM customer_sources").fetchall())

    def published(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.settings.published_path), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def warehouse(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.settings.warehouse_path), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def lone_shop_person(self, skip: int = 0) -> str:
        """A shop account with e-mail and phone that is a person of its own (nothing else linked)."""
        rows = self.published(
            """SELECT s.source_record_id FROM customer_sources s JOIN customers c USING (golden_id)
               WHERE s.source = 'shop' AND c.source_count = 1 AND c.email IS NOT NULL AND c.phone IS NOT NULL
               ORDER BY s.source_record_id""")
        return rows[skip][0]

    def add_account(self, customer_id: str, like: str | None = None, **values) -> dict:
        account = json.loads(json.dumps(self.account(like))) if like else {
            "email": None, "first_name": None, "last_name": None, "phone": None, "birthday": None,
            "address": None, "accepts_marketing": False, "accepts_marketing_updated_at": None,
            "created_at": "2026-11-20T07:30:00Z", "orders_count": 0, "total_spent": 0}
        account.update(customer_id=customer_id, updated_at=f"2026-11-20T{7 + self.runs:02d}:30:00Z", **values)
        self.accounts.append(account)
        return account


def assert_known_ids_kept(before: dict[str, str], after: dict[str, str], except_ids: set[str] = frozenset()) -> None:
    moved = {k: (before[k], after.get(k)) for k in before if before[k] not in except_ids and after.get(k) != before[k]}
    assert not moved, f"records of untouched persons changed id: {dict(list(moved.items())[:5])}"


def test_a_new_record_that_joins_a_known_person_keeps_that_persons_id(state):
    x = state.lone_shop_person()
    before = state.ids()
    state.add_account("S-990001", like=x)
    run = state.run()
    assert run["mode"] == "delta" and run["new_records"] == 1, run
    after = state.ids()
    assert after["shop:S-990001"] == before[f"shop:{x}"] == after[f"shop:{x}"]
    assert_known_ids_kept(before, after)
    # The delta was small: only the persons around the new record were re-resolved.
    assert 1 <= run["clusters_touched"] <= 3


def _namesake(state: State) -> tuple[str, str]:
    """The most common first name and surname of the data: a name alone links nobody."""
    return state.warehouse(
        """SELECT (SELECT first_name FROM staged_records WHERE first_name IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1),
                  (SELECT last_name FROM staged_records WHERE last_name IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1)""")[0]


def test_a_new_record_that_bridges_two_persons_merges_them_under_the_older_id(state):
    first, last = _namesake(state)
    home = {"street": "Lindenallee 17", "zip": "04109", "city": "Leipzig", "country": "DE"}
    moved = {"street": "Am Kanal 3", "zip": "24103", "city": "Kiel", "country": "DE"}
    state.add_account("S-990101", first_name=first, last_name=last, email="w.bruecke.alt@example.org",
                      phone="0341 5550101", address=home)
    state.run()
    state.add_account("S-990102", first_name=first, last_name=last, email="neu.kiel.99@example.net",
                      phone="0176 55501029", address=moved)
    state.run()
    ids = state.ids()
    older, younger = ids["shop:S-990101"], ids["shop:S-990102"]
    assert older != younger, "set-up: the same common name alone must not link the two"
    # Her old mailbox with her new phone and address: the same person as both.
    state.add_account("S-990103", first_name=first, last_name=last, email="w.bruecke.alt@example.org",
                      phone="0176 55501029", address=moved)
    run = state.run()
    assert run["mode"] == "delta"
    after = state.ids()
    assert after["shop:S-990101"] == after["shop:S-990102"] == after["shop:S-990103"] == older
    assert state.published("SELECT golden_id, reason FROM golden_id_history WHERE retired_id = ?", [younger]) == [
        (older, "merged")]
    assert_known_ids_kept(ids, after, except_ids={younger})


def test_a_delta_run_resolves_only_the_persons_it_can_touch_and_writes_what_resolving_everyone_writes(state, tmp_path):
    """The clustering of a delta run resolves the records the delta can reach
    (`linkage.delta.clustering_scope`) and leaves the others' persons as they are; the
    persons, confidences and remembered links equal those of resolving every record."""
    x, y = state.lone_shop_person(), state.lone_shop_person(skip=1)
    state.run()
    state.add_account("S-990301", like=x)  # joins x
    state.account(y).update(first_name="Kunigunde", last_name="Fremdling", email="k.fremdling@example.org",
                            updated_at="2026-11-20T09:30:00Z")  # changed beyond recognition
    state.run(until="scoring")
    tables = {}
    for everyone in (False, True):
        copy = tmp_path / f"everyone-{everyone}.duckdb"
        shutil.copyfile(state.settings.warehouse_path, copy)
        with duckdb.connect(str(copy)) as con:
            cluster_for_plan(con, state.settings.match_threshold, GERMAN_SETTINGS, resolve_everyone=everyone)
            tables[everyone] = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
                                for t in ("clusters", "linked_pairs", "linked_records")}
            tables[everyone]["run"] = con.execute("SELECT mode, records, records_resolved FROM linkage_run "
                                                  "ORDER BY run_at DESC LIMIT 1").fetchall()[0]
    mode, records, resolved = tables[False]["run"]
    assert mode == "delta" and 0 < resolved < records / 2, tables[False]["run"]
    assert tables[True]["run"] == (mode, records, records)
    for table in ("clusters", "linked_pairs", "linked_records"):
        assert tables[False][table] == tables[True][table], table
    persons = dict((key, person) for key, person, _ in tables[False]["clusters"])
    assert persons["shop:S-990301"] == persons[f"shop:{x}"]


def test_a_full_run_leaves_a_state_that_a_run_on_the_same_records_resolves_no_more_of_than_any_later_one(state):
    """A full run remembers the pairs inside its persons that the next run would keep, so
    the first delta after it (nothing new) resolves what every later one does: the
    analysts' records and what they reach, not every person with a pair below the
    threshold (a fifth of the records at a million persons, before)."""
    first = state.run()
    second = state.run()
    assert first["mode"] == second["mode"] == "delta" and first["new_records"] == 0, first
    assert first["records_resolved"] == second["records_resolved"] < first["records"] / 10, (first, second)
    with duckdb.connect(str(state.settings.warehouse_path), read_only=True) as con:
        unremembered = con.execute(
            """SELECT count(*) FROM clusters a JOIN clusters b ON a.cluster_key = b.cluster_key AND a.record_key < b.record_key
               WHERE NOT EXISTS (SELECT 1 FROM linked_pairs l WHERE l.key_l = a.record_key AND l.key_r = b.record_key)"""
        ).fetchall()[0][0]
    persons_of_three = state.warehouse("SELECT count(*) FROM (SELECT cluster_key FROM clusters GROUP BY 1 HAVING count(*) > 2)")
    assert persons_of_three[0][0] > 0
    # Only a pair a veto holds apart inside one person (an analyst's `same` joined them) stays unremembered.
    assert unremembered <= len(state.warehouse("SELECT * FROM review_decisions WHERE decision = 'same'")), unremembered


def test_after_a_run_whose_clustering_did_not_finish_the_next_run_resolves_everyone(state):
    """The scoring step commits the delta's hashes; when the clustering after it never
    finishes, the next run finds no delta for those records, so it must not trust the
    clusters the unfinished run left: it resolves every record."""
    x = state.lone_shop_person()
    state.run()
    state.add_account("S-990401", like=x)
    state.run(until="scoring")  # killed before its clustering
    run = state.run()
    assert run["mode"] == "delta" and run["new_records"] == 0, run
    assert run["records_resolved"] == run["records"], run
    ids = state.ids()
    assert ids["shop:S-990401"] == ids[f"shop:{x}"]


def test_a_changed_record_that_no_longer_matches_splits_off(state):
    x = state.lone_shop_person()
    state.run()
    state.add_account("S-990201", like=x)
    state.run()
    joined = state.ids()
    assert joined["shop:S-990201"] == joined[f"shop:{x}"]
    # The account is taken over by someone else entirely.
    state.account("S-990201").update(first_name="Kunigunde", last_name="Fremdling", email="k.fremdling@example.org",
                                     phone="0911 5550201", birthday=None, updated_at="2026-11-20T10:30:00Z",
                                     address={"street": "Burgstr. 1", "zip": "90403", "city": "Nürnberg", "country": "DE"})
    run = state.run()
    assert run["mode"] == "delta" and run["changed_records"] >= 1
    after = state.ids()
    assert after[f"shop:{x}"] == joined[f"shop:{x}"], "the unchanged record keeps the id"
    assert after["shop:S-990201"] != after[f"shop:{x}"]
    assert state.warehouse(
        "SELECT count(*) FROM customer_changes WHERE change_type = 'split' AND golden_id = ? AND related_golden_id = ?",
        [after["shop:S-990201"], joined[f"shop:{x}"]])[0][0] == 1
    assert_known_ids_kept(joined, after, except_ids={joined[f"shop:{x}"]})


def test_a_deleted_record_leaves_its_person_and_a_person_without_records_is_deleted(state):
    x, alone = state.lone_shop_person(0), state.lone_shop_person(1)
    state.run()
    state.add_account("S-990301", like=x)
    state.run()
    before = state.ids()
    assert before["shop:S-990301"] == before[f"shop:{x}"]
    state.accounts = [a for a in state.accounts if a["customer_id"] not in ("S-990301", alone)]
    run = state.run()
    assert run["mode"] == "delta" and run["gone_records"] == 2
    after = state.ids()
    assert "shop:S-990301" not in after and f"shop:{alone}" not in after
    assert after[f"shop:{x}"] == before[f"shop:{x}"]
    assert state.published("SELECT source_count FROM customers WHERE golden_id = ?", [after[f"shop:{x}"]]) == [(1,)]
    assert state.published("SELECT golden_id, reason FROM golden_id_history WHERE retired_id = ?",
                           [before[f"shop:{alone}"]]) == [(None, "deleted")]
    assert not state.warehouse("SELECT * FROM scored_pairs WHERE key_l IN ('shop:S-990301', ?) OR key_r IN ('shop:S-990301', ?)",
                               [f"shop:{alone}"] * 2)
    del before["shop:S-990301"]
    assert_known_ids_kept(before, after, except_ids={before[f"shop:{alone}"]})


def test_an_erased_person_is_removed_and_the_stored_model_keeps_scoring(state):
    x = state.lone_shop_person()
    state.run()
    before, version = state.ids(), state.last_run()["model_version"]
    # As the pipeline standardises it (`googlemail.com` is `gmail.com`).
    email = normalise_email(state.account(x)["email"])
    requests = state.settings.landing_dir / "erasure" / "requests_2026-11-20.csv"
    requests.parent.mkdir(exist_ok=True)
    requests.write_text(f"request_id,received_at,email,phone,golden_id\nDSR-9001,2026-11-20T08:00:00Z,{email},,\n",
                        encoding="utf-8")
    # Erasure takes every record carrying the address (a household's mailbox too) and their persons.
    named = {g for (g,) in state.warehouse(
        "SELECT DISTINCT m.golden_id FROM linkage_features f JOIN golden_membership m USING (record_key) WHERE f.email_std = ?",
        [email])}
    run = state.run()
    # The erasure's look-ahead linked with the stored model too: the run is a delta, fits nothing.
    assert run["mode"] == "delta" and run["model_version"] == version
    # The look-ahead clustered everyone without remembering links: the run's clustering
    # does not start from those clusters as if they were the last run's, it resolves everyone.
    assert run["records_resolved"] == run["records"], run
    # Published in full: a copy of the last version would carry the erased rows' bytes on.
    assert state.summary.reports["publish"].mode == "full"
    with open(state.settings.published_path, "rb") as published:
        assert email.encode() not in published.read()
    after = state.ids()
    gone = before[f"shop:{x}"]
    assert f"shop:{x}" not in after and gone not in set(after.values())
    assert state.published("SELECT golden_id, reason FROM golden_id_history WHERE retired_id = ?", [gone]) == [(None, "erased")]
    for table in ("linkage_feature_hashes", "linkage_delta", "candidate_pairs", "scored_pairs", "linked_pairs"):
        column = "record_key" if table.startswith("linkage_") else "key_l || key_r"
        assert not state.warehouse(f"SELECT 1 FROM {table} WHERE contains({column}, ?)", [x]), table
    assert gone in named and not named & set(after.values())
    assert_known_ids_kept(before, after, except_ids=named)


def test_a_review_decision_made_before_a_delta_is_honoured_after_it(state):
    x = state.lone_shop_person()
    state.run()
    state.add_account("S-990401", like=x)
    state.run()
    assert state.ids()["shop:S-990401"] == state.ids()[f"shop:{x}"]
    reviews = state.settings.landing_dir / "reviews" / "decisions_2026-11-20.csv"
    reviews.parent.mkdir(exist_ok=True)
    reviews.write_text(f"key_l,key_r,decision,reviewer,decided_at\nshop:{x},shop:S-990401,different,anna,2026-11-20T09:00:00Z\n",
                       encoding="utf-8")
    state.run()
    apart = state.ids()
    assert apart["shop:S-990401"] != apart[f"shop:{x}"]
    # A later delta that brings one more copy of the same account: the decision still holds.
    state.add_account("S-990402", like=x)
    run = state.run()
    assert run["mode"] == "delta" and run["new_records"] == 1
    after = state.ids()
    assert after["shop:S-990401"] != after[f"shop:{x}"]
    assert after[f"shop:{x}"] == apart[f"shop:{x}"] and after["shop:S-990401"] == apart["shop:S-990401"]


def published_tables(path: Path) -> dict[str, list[tuple]]:
    """Every table of a published file, its rows sorted, and its indexes."""
    with duckdb.connect(str(path), read_only=True) as con:
        names = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        tables = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in names}
        tables["(indexes)"] = con.execute("SELECT table_name, index_name FROM duckdb_indexes() ORDER BY ALL").fetchall()
        tables["(views)"] = con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1").fetchall()
    return tables


def assert_same_tables(a: dict[str, list[tuple]], b: dict[str, list[tuple]]) -> None:
    assert sorted(a) == sorted(b)
    differing = {t: (len(a[t]), len(b[t])) for t in a if a[t] != b[t]}
    assert not differing, f"tables that differ (rows): {differing}"


def _a_busy_day(state: State) -> None:
    """A new record joining a person, one changed beyond recognition, one deleted, a new person."""
    state.add_account("S-990801", like=state.lone_shop_person(0))
    state.account(state.lone_shop_person(1)).update(first_name="Kunigunde", last_name="Fremdling",
                                                   email="k.fremdling@example.org", updated_at="2026-11-20T09:30:00Z")
    state.accounts = [a for a in state.accounts if a["customer_id"] != state.lone_shop_person(2)]
    state.add_account("S-990802", first_name="Hildegard", last_name="Neuzugang", email="h.neuzugang@example.org",
                      phone="0176 55508029", accepts_marketing=True, accepts_marketing_updated_at="2026-11-20T09:00:00Z")


def test_a_delta_publish_writes_the_rows_a_full_publish_of_the_same_warehouse_writes(state, tmp_path):
    state.run()
    _a_busy_day(state)
    run = state.run()
    report = state.summary.reports["publish"]
    assert run["mode"] == "delta" and report.mode == "delta", report
    # Only the persons around the day's records were rewritten, not every customer.
    assert 4 <= report.customers_rewritten < report.customers / 10, report
    with open_warehouse(state.settings.warehouse_path) as con:
        full = publish(con, tmp_path / "full.duckdb", T0 + timedelta(hours=state.runs), incremental=False)
    assert full.mode == "full"
    assert_same_tables(published_tables(state.settings.published_path), published_tables(tmp_path / "full.duckdb"))


def test_a_snapshot_that_brings_nothing_new_rewrites_nobody_in_the_published_file(state, tmp_path):
    state.run()
    before = published_tables(state.settings.published_path)
    run = state.run()
    report = state.summary.reports["publish"]
    assert run["mode"] == "delta" and run["new_records"] == run["changed_records"] == 0
    assert report.mode == "delta" and report.customers_rewritten == 0, report
    after = published_tables(state.settings.published_path)
    assert after.pop("publication") != before.pop("publication")
    assert_same_tables(after, before)


def test_a_publish_to_another_file_leaves_the_next_delta_publish_of_this_one_complete(state, tmp_path):
    """The delta publish compares only the persons the golden step rebuilt since its version
    (warehouse/rebuilt_log.py); a publish elsewhere prunes that log, and this file's next
    delta publish must then compare everyone instead of missing what it no longer lists."""
    state.run()
    spender = state.lone_shop_person()
    # Only the golden row reads the revenue: the record is no part of the linkage delta.
    state.account(spender).update(total_spent=4321.5, updated_at="2026-11-20T09:40:00Z")
    run = state.run(until="golden")
    assert run["mode"] == "delta" and run["changed_records"] == 0
    run_at = T0 + timedelta(hours=state.runs)
    with open_warehouse(state.settings.warehouse_path) as con:
        publish(con, tmp_path / "elsewhere.duckdb", run_at)
        report = publish(con, state.settings.published_path, run_at)
        full = publish(con, tmp_path / "full.duckdb", run_at, incremental=False)
    assert report.mode == "delta" and full.mode == "full"
    assert state.published("SELECT c.total_revenue FROM customers c JOIN customer_sources s USING (golden_id) "
                           "WHERE s.source_record_id = ?", [spender]) == [(Decimal("4321.50"),)]
    assert_same_tables(published_tables(state.settings.published_path), published_tables(tmp_path / "full.duckdb"))


def test_a_delta_run_publishes_the_same_tables_as_a_full_run_with_the_same_model(state, tmp_path):
    state.run()
    full_root = tmp_path / "full"
    shutil.copytree(state.settings.warehouse_path.parent, full_root)
    full = State(full_root)
    full.runs = state.runs
    for each in (state, full):
        _a_busy_day(each)
    assert state.run()["mode"] == "delta"
    # Without the last run's hashes the run links every record anew with the stored model.
    with duckdb.connect(str(full.settings.warehouse_path)) as con:
        con.execute("DELETE FROM linkage_feature_hashes")
    golden = state.summary.reports["golden"]
    # The delta rebuilt only the persons around the day's records, by the kept spelling counts.
    assert golden.mode == "delta" and 4 <= golden.persons_rebuilt < golden.customers / 10, golden
    run = full.run()
    assert run["mode"] == "rescore" and full.summary.reports["publish"].mode == "full"
    assert full.summary.reports["golden"].mode == "full"
    assert run["model_version"] == state.last_run()["model_version"]
    assert_same_tables(published_tables(state.settings.published_path), published_tables(full.settings.published_path))


def test_an_opt_out_on_another_persons_record_reaches_a_person_the_delta_did_not_touch(state, tmp_path):
    """Consent reads records outside the person (the suppression list, unsure neighbours): a
    delta that changes one of those rebuilds the person, as a full rebuild would."""
    address = {"street": "Lindenweg 7", "zip": "35037", "city": "Marburg", "country": "DE"}
    state.add_account("S-990901", first_name="Petra", last_name="Zweig", email="familie.zweig@example.org",
                      address=address, accepts_marketing=True, accepts_marketing_updated_at="2026-11-20T08:00:00Z")
    # Her daughter on the same mailbox makes it a household's before the day in question.
    state.add_account("S-990903", first_name="Annika", last_name="Zweig", email="familie.zweig@example.org",
                      address=address)
    state.run()
    petra = state.ids()["shop:S-990901"]
    assert state.published("SELECT marketing_consent FROM customers WHERE golden_id = ?", [petra]) == [(True,)]
    full_root = tmp_path / "full"
    shutil.copytree(state.settings.warehouse_path.parent, full_root)
    full = State(full_root)
    full.runs, full.accounts = state.runs, json.loads(json.dumps(state.accounts))
    for each in (state, full):
        # Her husband, at the same address and on the family mailbox, says no later: another person.
        each.add_account("S-990902", first_name="Otto", last_name="Zweig", email="familie.zweig@example.org",
                         address=address, accepts_marketing=False, accepts_marketing_updated_at="2026-11-20T10:00:00Z")
    assert state.run()["mode"] == "delta"
    assert state.ids()["shop:S-990902"] != petra and state.ids()["shop:S-990901"] == petra
    assert state.summary.reports["golden"].mode == "delta"
    assert state.published("SELECT marketing_consent FROM customers WHERE golden_id = ?", [petra]) == [(False,)]
    with duckdb.connect(str(full.settings.warehouse_path)) as con:
        con.execute("DELETE FROM linkage_feature_hashes")
    assert full.run()["mode"] == "rescore"
    assert_same_tables(published_tables(state.settings.published_path), published_tables(full.settings.published_path))


def _members(state: State) -> dict[str, frozenset[str]]:
    with duckdb.connect(str(state.settings.warehouse_path), read_only=True) as con:
        groups = con.execute("SELECT list(record_key ORDER BY record_key) FROM clusters GROUP BY cluster_key").fetchall()
    return {key: frozenset(group) for (group,) in groups for key in group}


def test_a_refit_changes_no_id_where_the_clusters_did_not_change(state):
    state.add_account("S-990501", like=state.lone_shop_person())
    assert state.run()["mode"] == "delta"
    before_ids, before_members = state.ids(), _members(state)
    versions = state.warehouse("SELECT count(*) FROM linkage_model")[0][0]
    run = state.run(refit=True)
    assert run["mode"] == "refit" and run["reason"] == "requested (--refit)"
    assert state.warehouse("SELECT count(*) FROM linkage_model")[0][0] == versions + 1
    after_ids, after_members = state.ids(), _members(state)
    same = [k for k in before_members if after_members.get(k) == before_members[k]]
    assert len(same) > 0.95 * len(before_members)
    changed = {k for k in same if before_ids.get(k) != after_ids.get(k)}
    assert not changed, f"ids moved although their persons did not change: {sorted(changed)[:5]}"


def test_a_delta_run_uses_the_first_name_variants_stored_with_the_model_and_a_refit_learns_them_anew(state):
    learned = state.warehouse("SELECT * FROM first_name_variants ORDER BY ALL")
    assert state.warehouse("SELECT * FROM linkage_model_first_name_variants ORDER BY ALL") == learned
    # Two common first names the data does not make variants: stored as if the model had learned them.
    a, b = (name for (name,) in state.warehouse(
        "SELECT first_name_key FROM linkage_features WHERE first_name_key IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 2"))
    assert (a, b) not in {(x, y) for x, y, *_ in learned} and (b, a) not in {(x, y) for x, y, *_ in learned}
    with duckdb.connect(str(state.settings.warehouse_path)) as con:
        con.execute("INSERT INTO linkage_model_first_name_variants VALUES (least(?, ?), greatest(?, ?), 3, 99.0)", [a, b] * 2)
    run = state.run()
    assert run["mode"] == "delta"
    assert state.warehouse("SELECT count(*) FROM linkage_features WHERE first_name_key = ? AND NOT list_contains(first_name_variants, ?)",
                           [a, b])[0][0] == 0
    # The re-fit learns them from the records again, and stores what it learned.
    assert state.run(refit=True)["mode"] == "refit"
    assert state.warehouse("SELECT * FROM first_name_variants ORDER BY ALL") == learned
    assert state.warehouse("SELECT * FROM linkage_model_first_name_variants ORDER BY ALL") == learned
    assert state.warehouse("SELECT count(*) FROM linkage_features WHERE list_contains(first_name_variants, ?) AND first_name_key = ?",
                           [b, a])[0][0] == 0
    # The rows the re-fit changed carry their new hash, and the next delta compares it.
    with duckdb.connect(str(state.settings.warehouse_path), read_only=True) as con:
        assert con.execute(f"SELECT count(*) FROM linkage_features WHERE first_name_key IN (?, ?) AND "
                           f"feature_hash IS DISTINCT FROM {feature_hash_sql(con, 'linkage_features')}", [a, b]).fetchall()[0][0] == 0
        assert con.execute("SELECT count(*) FROM linkage_features f FULL JOIN linkage_feature_hashes h USING (record_key) "
                           "WHERE f.feature_hash IS DISTINCT FROM h.content_hash").fetchall()[0][0] == 0
    after = state.run()
    assert after["mode"] == "delta" and after["new_records"] == 0 and after["changed_records"] == 0, after


def test_refit_on_schedule_and_on_drift(state):
    state.add_account("S-990601", like=state.lone_shop_person())
    run = state.run(refit_max_new_share=0.0001)
    assert run["mode"] == "refit" and run["reason"].startswith("drift: "), run
    # A day later the stored model is due: the schedule re-fits it.
    state.runs += 24
    run = state.run()
    assert run["mode"] == "refit" and run["reason"].startswith("schedule: "), run
    assert state.run()["mode"] == "delta"


def test_check_drift_finds_no_difference_after_deltas_and_finds_one_it_is_shown(state):
    x = state.lone_shop_person()
    state.run()
    state.add_account("S-990701", like=x)
    state.accounts = [a for a in state.accounts if a["customer_id"] != state.lone_shop_person(3)]
    assert state.run()["mode"] == "delta"
    report = check_drift(state.settings.warehouse_path, state.settings.match_threshold)
    assert report.records_compared > 300 and report.records_in_other_clusters == 0, report.describe()
    # A warehouse whose persons a full re-link would not give: one record moved to another person.
    with duckdb.connect(str(state.settings.warehouse_path)) as con:
        con.execute("UPDATE clusters SET cluster_key = 'moved-by-hand' WHERE record_key = ?", [f"shop:{x}"])
    report = check_drift(state.settings.warehouse_path, state.settings.match_threshold)
    assert report.records_in_other_clusters == 2 and "re-fit advised" in report.describe()


def test_check_drift_compares_with_the_full_run_that_keeps_a_pair_of_unchanged_records(state):
    # X's e-mail on a second account C with another phone; B has C's phone, X's name, an
    # e-mail and an address of its own. X-C and C-B link; X-B (the same name, all else
    # different) is scored below even the bar an earlier link must keep.
    x = state.lone_shop_person()
    state.run()
    state.add_account("S-990801", like=x, phone="0171 5550801")
    state.add_account("S-990802", like=x, phone="0171 5550801", email="b.zweitadresse@example.org",
                      address={"street": "Lindenweg 7", "zip": "04109", "city": "Leipzig", "country": "DE"})
    state.run()
    ids = state.ids()
    assert ids[f"shop:{x}"] == ids["shop:S-990801"] == ids["shop:S-990802"]
    # C is taken over by someone else: X and B, both unchanged, stay one person (linkage/clustering.py).
    state.account("S-990801").update(first_name="Kunigunde", last_name="Fremdling", email="k.fremdling@example.org",
                                     phone="0911 5550801", birthday=None, updated_at="2026-11-20T10:30:00Z",
                                     address={"street": "Burgstr. 1", "zip": "90403", "city": "Nürnberg", "country": "DE"})
    assert state.run()["mode"] == "delta"
    ids = state.ids()
    assert ids[f"shop:{x}"] == ids["shop:S-990802"] != ids["shop:S-990801"]
    report = check_drift(state.settings.warehouse_path, state.settings.match_threshold)
    # A full run in place of the delta keeps the pair as well: no drift (the re-link used to
    # forget which records were unchanged and part X and B).
    assert report.records_in_other_clusters == 0, report.describe()
    # Only the memory of earlier runs holds them together.
    assert report.without_memory.records_in_other_clusters >= 2, report.describe()
    assert "Remembering no earlier run" in report.describe()
    # And so does a re-fit, a full run that re-estimates the model.
    assert state.run(refit=True)["mode"] == "refit"
    ids = state.ids()
    assert ids[f"shop:{x}"] == ids["shop:S-990802"]


def test_dagster_shows_full_or_delta_the_delta_and_the_persons_touched(tmp_path):
    generate(tmp_path / "demo", persons=200, seed=16, days=1)
    resource = KundenstammSettings(landing_dir=str(tmp_path / "demo" / "landing"), warehouse_path=str(tmp_path / "w.duckdb"),
                                   published_path=str(tmp_path / "golden.duckdb"), reports_dir=str(tmp_path / "reports"))
    instance = dg.DagsterInstance.ephemeral()
    job = build_definitions(resource).resolve_job_def("kundenstamm")
    seen = []
    for _ in range(3):
        assert job.execute_in_process(instance=instance).success
        seen.append({name: instance.get_latest_materialization_event(dg.AssetKey(name)).asset_materialization.metadata
                     for name in ("candidate_pairs", "scored_pairs", "clusters", "golden_customers")})
    first, second, third = seen
    assert first["candidate_pairs"]["linkage.full_or_delta"].value == "full"
    assert first["scored_pairs"]["linkage.mode"].value == "refit"
    assert second["candidate_pairs"]["linkage.full_or_delta"].value == "delta"
    assert second["clusters"]["linkage.delta_records"].value == 0
    assert second["clusters"]["compared_with_last_run.clusters_touched"].value == 0
    # The first run resolved every record. Nothing changed since: the second resolves only
    # the persons that start to remember their kept pairs (the first run had no earlier
    # persons to keep), the third none.
    assert first["clusters"]["linkage.records_resolved"].value == first["clusters"]["linkage.records"].value > 100
    assert second["clusters"]["linkage.records_resolved"].value < first["clusters"]["linkage.records"].value / 10
    assert third["clusters"]["linkage.records_resolved"].value == 0
    assert third["clusters"]["compared_with_last_run.clusters_touched"].value == 0
    assert first["clusters"]["compared_with_last_run.clusters_touched"].value > 100
    for part in ("blocking_seconds", "scoring_seconds", "clustering_seconds"):
        assert second["clusters"][f"linkage.{part}"].value >= 0
    assert second["scored_pairs"]["linkage.model_version"].value == first["scored_pairs"]["linkage.model_version"].value
    # The golden step says whom it rebuilt: everyone first, then nobody (the same exports again).
    assert first["golden_customers"]["mode"].value == "full" and first["golden_customers"]["persons_rebuilt"].value > 100
    assert second["golden_customers"]["mode"].value == "delta" and second["golden_customers"]["persons_rebuilt"].value == 0
