"""The analysts' report over two runs, opened in a real headless browser: thresholds on the
histogram, what changed since the last run, trends, the whole review backlog."""

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
from warehouse.settings import Settings

from tests.generated import deliver, delivery_days

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HEADLESS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"]


def dom_of(page: Path, profile: Path) -> str:
    return subprocess.run([CHROMIUM, *HEADLESS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120).stdout


def test_the_second_run_shows_what_changed_trends_and_the_whole_backlog(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (./run tests installs Debian's chromium)")
    generate(tmp_path / "demo", persons=400, seed=31, days=2)
    settings = Settings(landing_dir=tmp_path / "landing", warehouse_path=tmp_path / "warehouse.duckdb",
                        published_path=tmp_path / "golden.duckdb", reports_dir=tmp_path / "reports")
    thresholds = {"link": 0.7, "review from": 0.5, "review to": 0.95}
    runs = [datetime(2026, 11, 20, 7), datetime(2026, 11, 21, 7)]
    for day, run_at in zip(delivery_days(tmp_path / "demo" / "landing"), runs):
        deliver(tmp_path / "demo" / "landing", settings.landing_dir, day)
        run_all_steps(settings, run_at)
        with duckdb.connect(str(settings.warehouse_path)) as con:
            report = write_report(con, settings.reports_dir, [], run_at, thresholds)
            created = con.execute("SELECT count(DISTINCT golden_id) FROM customer_changes WHERE run_at = ? "
                                  "AND change_type = 'created'", [run_at]).fetchall()[0][0]
            backlog = con.execute("SELECT count(*) FROM review_queue").fetchall()[0][0]

    dom = dom_of(report, tmp_path / "profile")
    assert "Run of 2026-11-21 07:00 UTC" in dom
    assert "link 0.7" in dom and "review from 0.5" in dom and "review to 0.95" in dom
    since = dom[dom.index("Since the last run"):dom.index("Per source")]
    assert re.search(rf"new persons</td><td class=\"n\">{created:,}<", since)
    trends = dom[dom.index("Trends across runs"):dom.index("Match probabilities")]
    assert "the last 2 runs" in trends and trends.count("<svg") == 5
    assert "rows rejected this run" in dom
    backlog_page = dom_of(settings.reports_dir / "review_queue.html", tmp_path / "profile")
    assert backlog_page.count("<tr>") == backlog + 1  # every queued pair, and the header
    assert f"{backlog:,} pairs" in dom and "review_queue.html" in dom
