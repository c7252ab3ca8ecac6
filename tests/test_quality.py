"""great-expectations suites on a real golden table: what blocks publishing, what only warns,
and the analysts' report opened in a real headless browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from demo.generate import generate
from pipelines.steps import run_all_steps
from quality.report import write_report
from quality.validation import validate_golden, validate_staged
from warehouse.settings import Settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HEADLESS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("quality")
    generate(root / "demo", persons=300, seed=21, days=1)
    settings = Settings(landing_dir=root / "demo" / "landing", warehouse_path=root / "warehouse.duckdb",
                        published_path=root / "golden.duckdb")
    run_all_steps(settings, datetime(2026, 11, 20, 7), publish_result=False)
    return settings.warehouse_path


@pytest.fixture
def con(warehouse, tmp_path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(warehouse, copy)
    connection = duckdb.connect(str(copy))
    yield connection
    connection.close()


def failed(outcome, blocking: bool) -> set[str]:
    return {f"{r.frame}:{r.expectation}:{r.column}" for r in outcome.results if not r.success and r.blocking == blocking}


def test_a_clean_golden_table_passes(con, tmp_path):
    outcome = validate_golden(con, tmp_path / "gx")
    assert outcome.success, [r for r in outcome.results if not r.success]
    assert Path(outcome.data_docs_path).exists()
    staged = validate_staged(con, "pos", tmp_path / "gx")
    assert {r.expectation for r in staged.results} >= {"expect_column_values_to_be_unique", "expect_column_values_to_match_regex"}


def test_consent_without_a_decision_blocks(con, tmp_path):
    con.execute("UPDATE golden_customers SET marketing_consent = true, consent_source = NULL, consent_updated_at = NULL "
                "WHERE golden_id = (SELECT min(golden_id) FROM golden_customers WHERE NOT marketing_consent)")
    outcome = validate_golden(con, tmp_path / "gx")
    assert "customers:expect_column_values_to_be_in_set:consent_without_decision" in failed(outcome, blocking=True)


def test_consent_against_the_latest_decision_blocks(con, tmp_path):
    # A person whose latest decision is a no, published as a yes.
    con.execute(
        """UPDATE golden_customers SET marketing_consent = true WHERE golden_id = (
             SELECT min(golden_id) FROM (
                 SELECT m.golden_id, arg_max(r.consent_decision, r.consent_at) AS latest
                 FROM golden_membership m JOIN staged_records r USING (record_key)
                 WHERE r.consent_decision IS NOT NULL AND r.consent_at IS NOT NULL GROUP BY m.golden_id)
             WHERE latest = 'no')""")
    outcome = validate_golden(con, tmp_path / "gx")
    assert "customers:expect_column_values_to_be_in_set:consent_agrees_with_latest_decision" in failed(outcome, blocking=True)


def test_duplicate_ids_and_unlinked_records_block(con, tmp_path):
    con.execute("INSERT INTO golden_sources SELECT * FROM golden_sources LIMIT 1")
    con.execute("CREATE OR REPLACE TABLE golden_customers AS SELECT * FROM golden_customers UNION ALL (SELECT * FROM golden_customers LIMIT 1)")
    outcome = validate_golden(con, tmp_path / "gx")
    assert {"customers:expect_column_values_to_be_unique:golden_id", "coverage:expect_table_row_count_to_equal:None"} <= failed(outcome, blocking=True)


def test_a_malformed_email_only_warns(con, tmp_path):
    con.execute("UPDATE golden_customers SET email = 'kein-at-zeichen' WHERE golden_id = (SELECT min(golden_id) FROM golden_customers)")
    outcome = validate_golden(con, tmp_path / "gx")
    assert failed(outcome, blocking=False) == {"customers:expect_column_values_to_match_regex:email"}
    assert not outcome.blocking_failures


def test_a_birthday_column_in_the_golden_table_blocks(con, tmp_path):
    con.execute("ALTER TABLE golden_customers ADD COLUMN birthday DATE")
    outcome = validate_golden(con, tmp_path / "gx")
    assert "privacy:expect_table_row_count_to_equal:None" in failed(outcome, blocking=True)


def test_the_report_renders_in_a_headless_browser_with_the_counts(con, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (./run tests installs Debian's chromium)")
    outcomes = [validate_staged(con, "shop", tmp_path / "gx"), validate_golden(con, tmp_path / "gx")]
    report = write_report(con, tmp_path / "reports", outcomes, datetime(2026, 11, 20, 7))
    persons = con.execute("SELECT count(*) FROM golden_customers").fetchall()[0][0]
    shop_rows = con.execute("SELECT sum(rows_loaded) FROM ingest_files WHERE source = 'shop'").fetchall()[0][0]
    profile = tmp_path / "chromium-profile"
    dom = subprocess.run([CHROMIUM, *HEADLESS, f"--user-data-dir={profile}", "--dump-dom", report.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert "Kundenstamm data-quality report" in dom
    assert f"{persons:,}" in dom and f"{shop_rows:,}" in dom
    assert dom.count("<svg") >= 2 and "great-expectations Data Docs" in dom
    # The Data Docs pages it links need nothing from the internet.
    pages = re.findall(r'href="([^"]*validations[^"]*\.html)"', dom)
    assert len(pages) == 4  # staged shop; golden customers, coverage and privacy
    for page in pages:
        text = (report.parent / page).read_text(encoding="utf-8")
        assert "https://" not in re.sub(r"<a [^>]*>", "", text.split("<body", 1)[0])
        assert "kundenstamm_offline.css" in text
    screenshot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, *HEADLESS, f"--user-data-dir={profile}", f"--screenshot={screenshot}",
                    "--window-size=1280,2000", report.as_uri()], capture_output=True, timeout=120)
    assert screenshot.exists() and screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _person_with_sensitive(con, condition: str) -> tuple[str, str]:
    """(golden_id, record_key) of the first person with a staged sensitive value like that."""
    return con.execute(
        f"SELECT m.golden_id, s.record_key FROM staged_sensitive s JOIN golden_membership m USING (record_key) "
        f"WHERE {condition} ORDER BY s.record_key LIMIT 1").fetchall()[0]


def test_a_city_that_equals_another_persons_interest_passes(con, tmp_path):
    # `Wein`, a subscriber's interest, and `Wein`, another customer's mistyped Wien.
    subscriber, key = _person_with_sensitive(con, "s.interests IS NOT NULL")
    con.execute("UPDATE staged_sensitive SET interests = 'Wein' WHERE record_key = ?", [key])
    con.execute("UPDATE golden_customers SET city = 'Wein', country = 'AT' WHERE golden_id = "
                "(SELECT min(golden_id) FROM golden_customers WHERE golden_id <> ?)", [subscriber])
    outcome = validate_golden(con, tmp_path / "gx")
    assert "privacy:expect_table_row_count_to_equal:None" not in failed(outcome, blocking=True)
    assert outcome.success, [r for r in outcome.results if not r.success]


def test_a_persons_own_interest_in_their_row_blocks(con, tmp_path):
    subscriber, key = _person_with_sensitive(con, "s.interests IS NOT NULL")
    con.execute("UPDATE staged_sensitive SET interests = 'Wein' WHERE record_key = ?", [key])
    con.execute("UPDATE golden_customers SET salutation = 'Wein' WHERE golden_id = ?", [subscriber])
    outcome = validate_golden(con, tmp_path / "gx")
    assert "privacy:expect_table_row_count_to_equal:None" in failed(outcome, blocking=True)


@pytest.mark.parametrize("fmt", ["%d.%m.%Y", "%Y-%m-%d"])
def test_a_birthday_copied_into_the_persons_row_blocks(con, tmp_path, fmt):
    person, key = _person_with_sensitive(con, "s.birth_date IS NOT NULL")
    con.execute(f"UPDATE golden_customers SET street = strftime((SELECT birth_date FROM staged_sensitive "
                f"WHERE record_key = ?), '{fmt}') WHERE golden_id = ?", [key, person])
    outcome = validate_golden(con, tmp_path / "gx")
    assert "privacy:expect_table_row_count_to_equal:None" in failed(outcome, blocking=True)


def test_a_hotline_note_copied_into_any_row_blocks(con, tmp_path):
    _, key = _person_with_sensitive(con, "length(s.notes) > 30")
    # Another person's row, the note's line breaks and punctuation flattened: still its text.
    con.execute("UPDATE golden_customers SET city = (SELECT replace(notes, chr(10), ' ') FROM staged_sensitive "
                "WHERE record_key = ?) WHERE golden_id = (SELECT max(golden_id) FROM golden_customers)", [key])
    outcome = validate_golden(con, tmp_path / "gx")
    assert "privacy:expect_table_row_count_to_equal:None" in failed(outcome, blocking=True)


def test_a_yes_for_an_address_that_opted_out_later_elsewhere_blocks(con, tmp_path):
    person, email = con.execute("SELECT golden_id, email FROM golden_customers WHERE marketing_consent AND email IS NOT NULL "
                                "ORDER BY golden_id LIMIT 1").fetchall()[0]
    # The same address unsubscribed afterwards on a record of nobody's golden row.
    con.execute("INSERT INTO staged_records (record_key, source, source_record_id, email, consent_decision, consent_at) "
                "SELECT 'newsletter:NL-X', 'newsletter', 'NL-X', ?, 'no', consent_updated_at + INTERVAL 1 DAY "
                "FROM golden_customers WHERE golden_id = ?", [email.upper(), person])
    outcome = validate_golden(con, tmp_path / "gx")
    assert "customers:expect_column_values_to_be_in_set:consent_not_suppressed" in failed(outcome, blocking=True)
