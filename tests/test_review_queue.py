"""The review queue an analyst can act on: values side by side, whether the pair is linked
now, terms that add up, settled pairs gone, unusable decisions reported."""

from __future__ import annotations

import re
from datetime import datetime

import duckdb
import pytest

from demo.generate import generate
from pipelines.steps import run_all_steps
from quality.report import write_report
from warehouse.settings import Settings

TERM = re.compile(r"\(([+-]\d+\.\d)\)")


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("review")
    generate(root / "demo", persons=500, seed=23, days=1)
    settings = Settings(landing_dir=root / "demo" / "landing", warehouse_path=root / "warehouse.duckdb",
                        published_path=root / "golden.duckdb", reports_dir=root / "reports")
    run_all_steps(settings, datetime(2026, 11, 20, 7))
    return settings


def queue(settings: Settings) -> list[dict]:
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        cursor = con.execute("SELECT * FROM review_queue")
        return [dict(zip([d[0] for d in cursor.description], row)) for row in cursor.fetchall()]


def test_each_pair_shows_both_records_and_terms_that_add_up(first_run):
    pairs = queue(first_run)
    assert len(pairs) > 5
    for pair in pairs:
        *terms, total = pair["explanation"].rsplit("= ", 1)[0], pair["explanation"].rsplit("= ", 1)[1]
        weights = [float(w) for w in TERM.findall(terms[0])]
        assert pair["explanation"].startswith("prior (")
        assert sum(weights) == pytest.approx(float(total), abs=0.05 * len(weights) + 0.01)
        assert float(total) == pytest.approx(pair["match_weight"], abs=0.05)
        assert "missing" not in pair["explanation"] and "birth" not in pair["explanation"]
        assert "_" not in pair["explanation"].split(":")[0]  # words, not internal names
        assert pair["linked_now"] == (pair["golden_id_l"] == pair["golden_id_r"])
        assert pair["source_l"] == pair["key_l"].split(":")[0] and pair["source_r"] == pair["key_r"].split(":")[0]
    assert any(p["first_name_l"] for p in pairs) and any(p["city_l"] or p["city_r"] for p in pairs)


def test_a_decision_in_german_excel_format_settles_its_pairs_and_bad_ones_are_reported(first_run, tmp_path):
    pairs = queue(first_run)
    chosen = next(p for p in pairs if not p["linked_now"])
    reviews = first_run.landing_dir / "reviews"
    reviews.mkdir(exist_ok=True)
    (reviews / "decisions_2026-11-20.csv").write_bytes(
        ("\ufeffkey_l;key_r;decision;reviewer;decided_at\r\n"
         f"{chosen['key_l']};{chosen['key_r']};same;anna;2026-11-20T09:00:00Z\r\n"
         "shop:S-NOBODY;pos:K-NOBODY;same;anna;2026-11-20T09:01:00Z\r\n"
         f"{chosen['key_l']};{chosen['key_l']};different;anna;2026-11-20T09:02:00Z\r\n").encode("utf-8"))
    run_all_steps(first_run, datetime(2026, 11, 20, 8))
    after = queue(first_run)
    with duckdb.connect(str(first_run.published_path), read_only=True) as con:
        ids = dict(con.execute("SELECT source || ':' || source_record_id, golden_id FROM customer_sources "
                               "WHERE source || ':' || source_record_id IN (?, ?)", [chosen["key_l"], chosen["key_r"]]).fetchall())
    assert ids[chosen["key_l"]] == ids[chosen["key_r"]]  # the decision is applied
    person = ids[chosen["key_l"]]
    assert not [p for p in after if p["golden_id_l"] == person and p["golden_id_r"] == person]
    with duckdb.connect(str(first_run.warehouse_path)) as con:
        problems = con.execute("SELECT key_l, problem FROM review_decision_problems ORDER BY line_number").fetchall()
        report = write_report(con, tmp_path / "reports", [], datetime(2026, 11, 20, 8))
    assert problems == [("shop:S-NOBODY", "no record shop:S-NOBODY"), (chosen["key_l"], "the same record on both sides")]
    page = report.read_text(encoding="utf-8")
    assert "Decisions that could not be applied" in page and "no record shop:S-NOBODY" in page
