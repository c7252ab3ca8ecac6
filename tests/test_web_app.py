"""The lookup web app as a real server process over a real published file of a real pipeline run."""

from __future__ import annotations

import csv
import re
import shutil
import sqlite3
import threading
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import duckdb
import pytest

from demo.generate import generate
from linkage.names import fold, koelner_phonetik
from pipelines.steps import run_all_steps
from warehouse.reminders import DAYS_WITHOUT_CONTACT, MIN_REVENUE
from warehouse.settings import Settings
from tests.generated import deliver, delivery_days
from tests.web_server import Server, kundenstamm, web_env

AGENT, ANALYST = ("agent.eva", "eva-secret-1"), ("analyst.anna", "anna-secret-2")
DAY_ONE, DAY_TWO = datetime(2026, 11, 20, 7), datetime(2026, 11, 21, 7)


def settings_in(root: Path) -> Settings:
    return Settings(landing_dir=root / "landing", warehouse_path=root / "warehouse.duckdb",
                    published_path=root / "golden.duckdb", reports_dir=root / "reports")


@pytest.fixture(scope="module")
def day_one(tmp_path_factory) -> Path:
    """Generated exports of 300 persons; the first day delivered, run and published."""
    root = tmp_path_factory.mktemp("web")
    generate(root / "demo", persons=300, seed=23, days=2)
    deliver(root / "demo" / "landing", root / "site" / "landing", delivery_days(root / "demo" / "landing")[0])
    run_all_steps(settings_in(root / "site"), DAY_ONE)
    return root


def start(site: Path) -> Server:
    env = web_env(site, site / "golden.duckdb", site / "landing")
    for (name, password), role in ((AGENT, "agent"), (ANALYST, "analyst")):
        done = kundenstamm(env, "user", "add", name, "--role", role, stdin=password + "\n")
        assert done.returncode == 0, done.stderr
    return Server(env, site / "server.log")


@pytest.fixture
def site(day_one, tmp_path) -> Path:
    """A copy of the day-one state, so each test may run the pipeline on it."""
    shutil.copytree(day_one / "site", tmp_path / "site")
    return tmp_path / "site"


def published(site: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(site / "golden.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def ids(results: list[dict]) -> list[str]:
    return [r["golden_id"] for r in results]


def test_every_kind_of_search_finds_the_person_and_nobody_gets_in_without_logging_in(site):
    server = start(site)
    try:
        search = lambda q, near=None: server.search(*AGENT, q, near)  # noqa: E731
        # e-mail in any case, googlemail for gmail
        golden_id, email = published(site, "SELECT golden_id, email FROM customers WHERE email LIKE '%@gmail.com' "
                                           "ORDER BY golden_id LIMIT 1")[0]
        typed = email.replace("@gmail.com", "@GoogleMail.com").upper()
        assert ids(search(typed))[:1] == [golden_id]
        # phone in another notation: national with spaces and a slash, or 00 for abroad
        golden_id, phone = published(site, "SELECT golden_id, phone FROM customers WHERE phone LIKE '+49%' "
                                           "ORDER BY golden_id LIMIT 1")[0]
        national = "0" + phone[3:]
        assert golden_id in ids(search(f"{national[:4]} / {national[4:7]} {national[7:]}"))
        assert golden_id in ids(search("00" + phone[1:]))
        # shop customer number and POS card number: without prefix, other case, one digit wrong or swapped
        for source in ("shop", "pos"):
            golden_id, number = published(site, "SELECT golden_id, source_record_id FROM customer_sources "
                                                "WHERE source = ? ORDER BY source_record_id LIMIT 1 OFFSET 7", [source])[0]
            digits = re.sub(r"\D", "", number)
            exact = search(f"{number[0].lower()} {digits}")
            assert exact[0]["golden_id"] == golden_id and exact[0]["score"] == 1.0
            wrong = digits[:-2] + str((int(digits[-2]) + 1) % 10) + digits[-1]
            assert golden_id in ids(search(wrong))
            swapped = digits[:2] + digits[3] + digits[2] + digits[4:]
            assert golden_id in ids(search(swapped))
        # names: one typo, umlauts spelled out, swapped, narrowed by postcode
        unique = """SELECT golden_id, first_name, last_name, postal_code FROM customers
                    WHERE (first_name, last_name) IN (SELECT (first_name, last_name) FROM customers
                                                      GROUP BY ALL HAVING count(*) = 1)
                      AND length(last_name) >= 7 AND length(first_name) >= 3 AND {} ORDER BY golden_id LIMIT 1"""
        golden_id, first, last, postcode = published(site, unique.format("regexp_matches(last_name, '^[A-Za-z]+$')"))[0]
        typo = last[:3] + last[4] + last[3] + last[5:]  # two letters swapped
        assert ids(search(f"{first} {typo}"))[:1] == [golden_id]
        assert ids(search(f"{first} {last[:4]}{last[5:]}"))[:1] == [golden_id]  # a letter missing
        assert ids(search(f"{last}, {first}"))[:1] == [golden_id]
        narrowed = search(last, near=postcode)
        assert golden_id in ids(narrowed) and len(narrowed) <= len(search(last))
        golden_id, first, last, _ = published(site, unique.format("regexp_matches(last_name, '[äöüß]')"))[0]
        spelled = fold(last).title()
        assert "ä" not in spelled and "ß" not in spelled
        assert ids(search(f"{first} {spelled}"))[:1] == [golden_id]
        assert ids(search(f"{spelled.upper()} {first.lower()}"))[:1] == [golden_id]
        results = search(f"{first} {spelled}")
        assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
        assert set(results[0]) == {"golden_id", "first_name", "last_name", "city", "score"}
        golden_id, first, last, _ = published(site, unique.format("regexp_matches(last_name, 'ß')"))[0]
        assert ids(search(f"{first} {last.replace('ß', 'ss')}"))[:1] == [golden_id]  # ß typed as ss
        # sounds alike (Kölner Phonetik) but two letters off: two inner vowels, not side by side, changed
        def sounding_alike(name: str) -> str | None:
            inner = [k for k in range(1, len(name)) if name[k] in "aeiou"]
            apart = next(((a, b) for a in inner for b in inner if b > a + 1), None)
            if apart is None:
                return None
            alike = "".join(("u" if c in "ae" else "a") if k in apart else c for k, c in enumerate(name))
            return alike if koelner_phonetik(alike) == koelner_phonetik(name) else None

        rows = published(site, unique.format("regexp_matches(last_name, '^[A-Za-z]+$')").replace(" LIMIT 1", ""))
        golden_id, first, last, _ = next(row for row in rows if sounding_alike(row[2]))
        hit = [r for r in search(f"{first} {sounding_alike(last)}") if r["golden_id"] == golden_id]
        assert hit and hit[0]["score"] > 0.5, "more than the first name alone gives"
        assert len(search("Ma")) <= 20

        # nobody gets in without logging in
        assert server.request("GET", "/api/search?q=" + quote(last))[0] == 401
        assert server.api("/api/search", AGENT[0], "wrong", {"q": last})[0] == 401
        status, headers, _ = server.request("GET", f"/customers/{golden_id}")
        assert status == 303 and headers["location"].startswith("/login")
        agent = server.login(*AGENT)
        assert agent.get("/review")[0] == 403, "review is for analysts"
        # the audit log records who opened whom
        status, _, page = agent.get(f"/customers/{golden_id}")
        assert status == 200 and last in page
        with sqlite3.connect(site / "web-store.sqlite3") as store:
            assert (AGENT[0], golden_id, "page") in store.execute("SELECT username, golden_id, action FROM audit").fetchall()
        # reminders: valuable customers without contact for long, oldest contact first
        expected = """SELECT golden_id FROM customers, publication
                      WHERE total_revenue > ? AND last_seen_at < published_at - INTERVAL (?) DAY
                      ORDER BY last_seen_at, golden_id"""
        assert [r[0] for r in published(site, "SELECT golden_id FROM reminders")] == [
            r[0] for r in published(site, expected, [MIN_REVENUE, DAYS_WITHOUT_CONTACT])]
        status, _, page = agent.get("/reminders?min_revenue=300&days=200")
        shown = re.findall(r'href="/customers/([^"]+)"', page)
        wanted = [r[0] for r in published(site, expected, [300, 200])][:200]
        assert status == 200 and wanted and shown == wanted
        # removed users are out at once
        assert kundenstamm(web_env(site, site / "golden.duckdb", site / "landing"), "user", "remove", AGENT[0]).returncode == 0
        assert server.api("/api/search", *AGENT, {"q": last})[0] == 401
        assert agent.get("/")[0] == 303
    finally:
        server.stop()


def test_review_decision_is_honoured_and_new_versions_are_served_without_failing_a_request(site, day_one):
    server = start(site)
    try:
        # The customer page and its JSON never show birth dates, interests or notes.
        some_id = published(site, "SELECT golden_id FROM customers ORDER BY source_count DESC, golden_id LIMIT 1")[0][0]
        status, _, body = server.api(f"/api/customers/{some_id}", *AGENT)
        assert status == 200 and {"customer", "sources", "changes"} <= set(body) and body["sources"]
        assert not {k for part in [body["customer"], *body["sources"]] for k in part} & {"birth_date", "interests", "notes"}
        with duckdb.connect(str(site / "warehouse.duckdb"), read_only=True) as con:
            sensitive = [str(v) for row in con.execute(
                "SELECT birth_date, interests, notes FROM staged_sensitive WHERE record_key IN (SELECT unnest(?))",
                [[s["source"] + ":" + s["source_record_id"] for s in body["sources"]]]).fetchall() for v in row if v]
        status, _, page = server.login(*AGENT).get(f"/customers/{some_id}")
        assert status == 200 and sensitive, "the test needs a person with a birth date, interests or notes"
        assert not [v for v in sensitive if v in page or v in repr(body)]

        # An analyst decides a queued pair of two persons: same.
        key_l, key_r, id_l, id_r = published(site, "SELECT key_l, key_r, golden_id_l, golden_id_r FROM review_queue "
                                                   "WHERE golden_id_l <> golden_id_r ORDER BY key_l, key_r LIMIT 1")[0]
        analyst = server.login(*ANALYST)
        status, _, page = analyst.get("/review")
        assert status == 200 and key_l in page and key_r in page
        forged = analyst.post("/review", {"key_l": key_l, "key_r": key_r, "decision": "same", "csrf": "forged"})
        assert forged[0] == 403
        assert not list((site / "landing" / "reviews").glob("*.csv")) if (site / "landing" / "reviews").exists() else True
        status, _, page = analyst.post("/review", {"key_l": key_l, "key_r": key_r, "decision": "same",
                                                   "csrf": analyst.csrf("/review")})
        assert status == 200 and "next pipeline run" in page
        written = list((site / "landing" / "reviews").glob("*.csv"))
        assert len(written) == 1 and not list((site / "landing" / "reviews").glob(".*"))
        rows = list(csv.DictReader(written[0].open(encoding="utf-8")))
        assert rows == [{"key_l": key_l, "key_r": key_r, "decision": "same", "reviewer": ANALYST[0],
                         "decided_at": rows[0]["decided_at"]}]

        # A person to be erased, looked at first (so the audit log has a row about them).
        erased_id, erased_email = published(site, "SELECT golden_id, email FROM customers WHERE email IS NOT NULL "
                                                  "AND golden_id NOT IN (?, ?) ORDER BY golden_id LIMIT 1", [id_l, id_r])[0]
        assert server.api(f"/api/customers/{erased_id}", *AGENT)[0] == 200
        erasure = site / "landing" / "erasure" / "office_request_2026-11-21.csv"
        erasure.parent.mkdir(parents=True, exist_ok=True)
        erasure.write_text("request_id,received_at,email,phone,golden_id\n"
                           f"WEB-1,2026-11-21T06:00:00Z,,,{erased_id}\n", encoding="utf-8")

        # Searches in a loop while the next day is published and while the file is replaced again and again.
        failures, answers, stop = [], [], threading.Event()
        # Someone who stays: not the person erased on day two, nor the pair being merged.
        last_name = published(site, "SELECT last_name FROM customers WHERE last_name IS NOT NULL "
                                    "AND golden_id NOT IN (?, ?, ?) ORDER BY golden_id LIMIT 1",
                              [erased_id, id_l, id_r])[0][0]

        def keep_searching():
            while not stop.is_set():
                try:
                    status, _, body = server.api("/api/search", *AGENT, {"q": last_name})
                    (answers if status == 200 and body["results"] else failures).append(status)
                except Exception as error:  # noqa: BLE001 - any failure is what we look for
                    failures.append(repr(error))

        switches_before = server.api("/healthz", *AGENT)[2]["switches"]
        searcher = threading.Thread(target=keep_searching)
        searcher.start()
        try:
            deliver(day_one / "demo" / "landing", site / "landing", delivery_days(day_one / "demo" / "landing")[1])
            run_all_steps(settings_in(site), DAY_TWO)
            for round_ in range(15):
                copy = site / f".golden.copy{round_}.duckdb"
                shutil.copyfile(site / "golden.duckdb", copy)
                copy.replace(site / "golden.duckdb")
                threading.Event().wait(0.15)
        finally:
            stop.set()
            searcher.join()
        assert not failures, failures[:5]
        assert len(answers) > 20
        assert server.api("/healthz", *AGENT)[2]["switches"] > switches_before

        # The next run honoured the decision: both records are one person now, and the
        # retired id leads to the one that stands for them.
        with duckdb.connect(str(site / "warehouse.duckdb"), read_only=True) as con:
            assert (key_l, key_r, "same") in con.execute("SELECT key_l, key_r, decision FROM review_decisions").fetchall()
            clusters = dict(con.execute("SELECT record_key, cluster_key FROM clusters WHERE record_key IN (?, ?)",
                                        [key_l, key_r]).fetchall())
            assert clusters[key_l] == clusters[key_r]
        members = dict(published(site, "SELECT source || ':' || source_record_id, golden_id FROM customer_sources"))
        survivor = members[key_l]
        assert members[key_r] == survivor
        retired = ({id_l, id_r} - {survivor}).pop()
        assert not published(site, "SELECT 1 FROM customers WHERE golden_id = ?", [retired])
        assert (retired, survivor) in published(site, "SELECT retired_id, golden_id FROM golden_id_history")
        status, headers, _ = server.api(f"/api/customers/{retired}", *AGENT)
        assert status == 308 and headers["location"] == f"/api/customers/{survivor}"
        agent = server.login(*AGENT)
        status, headers, _ = agent.get(f"/customers/{retired}")
        assert status == 303 and headers["location"] == f"/customers/{survivor}"
        assert retired not in ids(server.search(*AGENT, survivor_name := published(
            site, "SELECT first_name || ' ' || last_name FROM customers WHERE golden_id = ?", [survivor])[0][0]))
        assert survivor in ids(server.search(*AGENT, survivor_name))

        assert (erased_id, None, "erased") in published(site, "SELECT retired_id, golden_id, reason FROM golden_id_history")
        # The erased person: found by nothing, their page says erased and shows nothing of them,
        # and the audit log no longer holds who looked at them.
        for table in ("lookup_records", "lookup_emails", "lookup_phones", "lookup_numbers", "lookup_places"):
            assert not published(site, f"SELECT 1 FROM {table} WHERE golden_id = ?", [erased_id]), table
        assert not published(site, "SELECT 1 FROM lookup_name_postings "
                                   "WHERE list_contains(string_split(first_ids, ' '), $id) "
                                   "OR list_contains(string_split(last_ids, ' '), $id)", {"id": erased_id})
        assert erased_id not in ids(server.search(*AGENT, erased_email))
        status, _, page = agent.get(f"/customers/{erased_id}")
        assert status == 410 and "erased" in page.lower() and erased_email not in page
        assert server.api(f"/api/customers/{erased_id}", *AGENT)[2] == {"golden_id": erased_id, "status": "erased"}
        with sqlite3.connect(site / "web-store.sqlite3") as store:
            audited = {r[0] for r in store.execute("SELECT golden_id FROM audit").fetchall()}
        assert erased_id not in audited and some_id in audited
        # The decided pair has left the queue.
        assert key_l not in analyst.get("/review")[2] or key_r not in analyst.get("/review")[2]
    finally:
        server.stop()
