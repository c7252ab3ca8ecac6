"""The analysts' data-quality report: one self-contained HTML page per run, plus the full
review backlog on a page of its own.

Counts per source (this run and in total), deliveries held back or ignored, why rows were
rejected, expectation results, what changed since the last run, trends across runs, match
probabilities and the review queue. No personal data: reasons are grouped without the
values they quote, and pairs are shown by record key only.
"""

from __future__ import annotations

import html
import os
from datetime import datetime
from pathlib import Path

import duckdb

from quality.charts import bars, log_histogram, trend
from quality.offline_docs import newest_validation_pages
from quality.run_history import RunFigures, record_run
from quality.validation import ValidationOutcome
from warehouse.connection import table_exists

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2733;background:#f6f7f9;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:2px solid #dde3ea;padding-bottom:.3rem}
.muted{color:#66717d}.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{background:#fff;border-radius:8px;padding:.8rem 1.1rem;box-shadow:0 1px 3px #0001;min-width:150px}
.card b{display:block;font-size:1.5rem}.card span{color:#66717d;font-size:.85rem}
table{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 3px #0001;border-radius:8px;overflow:hidden;font-size:.9rem}
th,td{padding:.45rem .7rem;text-align:left;border-bottom:1px solid #eef1f4}th{background:#eef2f6}
td.n{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#17803d;font-weight:600}.fail{color:#b42318;font-weight:600}
.warn{color:#b54708;font-weight:600}svg{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0001;max-width:100%;height:auto}
.trends{display:flex;gap:1rem;flex-wrap:wrap}
"""
REVIEW_ROWS_ON_PAGE = 15
REVIEW_ROWS_IN_BACKLOG = 10_000


def _table(headers: list[str], rows: list[list], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(
            f"<td class='n'>{v:,}</td>" if i in numeric and isinstance(v, (int, float)) else f"<td>{v}</td>"
            for i, v in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body or '<tr><td>none</td></tr>'}</tbody></table>"


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, default=0):
    try:
        value = con.execute(sql).fetchall()[0][0]
        return default if value is None else value
    except duckdb.Error:
        return default


def _figures(con: duckdb.DuckDBPyConnection, run_at: datetime) -> RunFigures:
    persons = _scalar(con, "SELECT count(*) FROM golden_customers")
    return RunFigures(
        run_at=run_at.isoformat(timespec="seconds"),
        customers=persons,
        records=_scalar(con, "SELECT count(*) FROM golden_sources"),
        with_consent=_scalar(con, "SELECT count(*) FILTER (WHERE marketing_consent) FROM golden_customers"),
        review_backlog=_scalar(con, "SELECT count(*) FROM review_queue"),
        rows_rejected_this_run=_scalar(con, f"SELECT count(*) FROM rejects WHERE rejected_at >= TIMESTAMP '{run_at}'"),
    )


def _cards(figures: RunFigures, outcomes: list[ValidationOutcome]) -> str:
    blocking = sum(len(o.blocking_failures) for o in outcomes)
    warnings = sum(1 for o in outcomes for r in o.results if not r.success and not r.blocking)
    merged = figures.records - figures.customers
    cards = [
        (f"{figures.customers:,}", "persons in the golden table"),
        (f"{figures.records:,}", "source records linked to them"),
        (f"{merged:,}", f"records that joined another record's person ({merged / figures.records:.1%} of all)"
         if figures.records else "records that joined another record's person"),
        (f"{figures.with_consent:,}", "with marketing consent"),
        (f"{figures.review_backlog:,}", "pairs awaiting review"),
        (f"{figures.rows_rejected_this_run:,}", "rows rejected in this run"),
        (f"<span class='{'fail' if blocking else 'ok'}'>{blocking}</span>", "blocking check failures"),
        (f"<span class='{'warn' if warnings else 'ok'}'>{warnings}</span>", "warnings"),
    ]
    return "<div class='cards'>" + "".join(f"<div class='card'><b>{v}</b><span>{k}</span></div>" for v, k in cards) + "</div>"


def _per_source(con: duckdb.DuckDBPyConnection, run_at: datetime) -> str:
    """Files and rows per source, in this run and since the warehouse began."""
    if not table_exists(con, "ingest_files"):
        return "<h2>Per source: files and rows</h2><p class='muted'>not available</p>"
    rows = con.execute(
        """
        SELECT source,
               count(*) FILTER (WHERE loaded_at >= $run AND status IN ('loaded', 'held')),
               coalesce(sum(rows_loaded) FILTER (WHERE loaded_at >= $run), 0),
               coalesce(sum(rows_rejected) FILTER (WHERE loaded_at >= $run), 0),
               count(*) FILTER (WHERE status = 'loaded'), count(*) FILTER (WHERE status = 'held'),
               count(*) FILTER (WHERE status = 'duplicate'), count(*) FILTER (WHERE status = 'rejected'),
               count(*) FILTER (WHERE status = 'ignored'), coalesce(sum(rows_loaded), 0), coalesce(sum(rows_rejected), 0)
        FROM ingest_files GROUP BY source ORDER BY source
        """, {"run": run_at}).fetchall()
    parts = ["<h2>Per source: files and rows</h2>",
             _table(["source", "files this run", "rows loaded this run", "rows rejected this run", "files loaded (all)",
                     "held back", "duplicate", "rejected", "ignored", "rows loaded (all)", "rows rejected (all)"],
                    [list(r) for r in rows], numeric=set(range(1, 11)))]
    if table_exists(con, "staged_records"):
        current = dict(con.execute("SELECT source, count(*) FROM staged_records GROUP BY 1 ORDER BY 1").fetchall())
        if current:
            parts.append("<p></p>" + bars(list(current), list(current.values()), "Current records per source", "#3d8b6d"))
    parts.append(_files_to_look_at(con))
    return "".join(parts)


def _files_to_look_at(con: duckdb.DuckDBPyConnection) -> str:
    """Deliveries that did not simply load: held back (with the command that applies one),
    rejected whole, or ignored."""
    rows = con.execute(
        """
        SELECT status, source, file_name, reason FROM ingest_files
        WHERE status IN ('held', 'rejected', 'ignored')
        ORDER BY CASE status WHEN 'held' THEN 0 WHEN 'rejected' THEN 1 ELSE 2 END, loaded_at, file_name
        """
    ).fetchall()
    if not rows:
        return ""
    cells = []
    for status, source, name, reason in rows:
        what = html.escape(str(reason))
        if status == "held":
            what += f"<br>to apply it anyway: <code>kundenstamm accept-snapshot {html.escape(name)}</code>"
        label = {"held": "<span class='fail'>held back</span>", "rejected": "<span class='warn'>rejected</span>"}
        cells.append([label.get(status, status), html.escape(source), html.escape(name), what])
    return "<h2>Files held back, rejected or ignored</h2>" + _table(["status", "source", "file", "reason"], cells)


def _rejects(con: duckdb.DuckDBPyConnection, run_at: datetime) -> str:
    if not table_exists(con, "rejects"):
        return "<h2>Why rows were rejected</h2><p class='muted'>not available</p>"
    # The reason without the value it quotes: the value may be personal data.
    rows = con.execute(
        "SELECT source, split_part(reason, ': ', 1) AS why, count(*) FILTER (WHERE rejected_at >= $run), count(*) "
        "FROM rejects GROUP BY ALL ORDER BY source, 4 DESC", {"run": run_at}).fetchall()
    return "<h2>Why rows were rejected</h2>" + _table(
        ["source", "reason", "rows this run", "rows (all)"],
        [[html.escape(str(a)), html.escape(str(b)), c, d] for a, b, c, d in rows], numeric={2, 3})


def _since_last_run(con: duckdb.DuckDBPyConnection, run_at: datetime) -> str:
    """What this run changed in the golden table, by kind of change."""
    if not table_exists(con, "customer_changes"):
        return ""
    rows = dict(con.execute(
        "SELECT change_type, count(DISTINCT golden_id) FROM customer_changes WHERE run_at >= $run GROUP BY 1",
        {"run": run_at}).fetchall())
    changed = _scalar(con, f"""SELECT count(DISTINCT golden_id) FROM customer_changes WHERE run_at >= TIMESTAMP '{run_at}'
                               AND change_type IN ('updated', 'consent_given', 'consent_withdrawn')""")
    kinds = [("created", "new persons"), ("merged", "merged into another person"), ("split", "split off"),
             ("erased", "erased on request"), ("deleted", "gone from every source")]
    cells = ([[label, rows.get(kind, 0)] for kind, label in kinds] + [["with changed values", changed]]
             + [["of them: consent given", rows.get("consent_given", 0)],
                ["of them: consent withdrawn", rows.get("consent_withdrawn", 0)]])
    return "<h2>Since the last run</h2>" + _table(["change", "persons"], cells, numeric={1})


def _trends(history: list[RunFigures]) -> str:
    if len(history) < 2:
        return "<h2>Trends across runs</h2><p class='muted'>from the second run on</p>"
    when = [h.run_at.replace("T", " ")[:16] for h in history]
    charts = [
        trend(list(zip(when, [h.customers for h in history])), "customers"),
        trend(list(zip(when, [(h.records - h.customers) / h.records if h.records else 0 for h in history])),
              "records joined to another's person", percent=True),
        trend(list(zip(when, [h.rows_rejected_this_run for h in history])), "rows rejected per run"),
        trend(list(zip(when, [h.review_backlog for h in history])), "review backlog"),
        trend(list(zip(when, [h.with_consent / h.customers if h.customers else 0 for h in history])),
              "share with consent", percent=True),
    ]
    return f"<h2>Trends across runs</h2><p class='muted'>the last {len(history)} runs</p><div class='trends'>{''.join(charts)}</div>"


def _expectations(outcomes: list[ValidationOutcome], reports_dir: Path) -> str:
    parts = ["<h2>Expectations</h2>"]
    docs = next((o.data_docs_path for o in outcomes if o.data_docs_path), None)
    if docs:
        pages = newest_validation_pages(Path(docs).parent)
        links = ", ".join(f"<a href='{html.escape(os.path.relpath(page, reports_dir))}'>{html.escape(suite)}</a>"
                          for suite, page in pages.items())
        parts.append(f"<p>Details per expectation in the great-expectations Data Docs (they open offline): {links}.</p>")
    rows = []
    for outcome in outcomes:
        for r in outcome.results:
            status = "<span class='ok'>passed</span>" if r.success else (
                "<span class='fail'>FAILED (blocks publishing)</span>" if r.blocking else "<span class='warn'>warning</span>")
            rows.append([html.escape(outcome.suite_name), html.escape(r.frame or ""), html.escape(r.expectation),
                         html.escape(r.column or "-"), status, html.escape(r.detail)])
    parts.append(_table(["suite", "frame", "expectation", "column", "result", "detail"], rows) if rows
                 else "<p class='muted'>not available</p>")
    return "".join(parts)


def _probabilities(con: duckdb.DuckDBPyConnection, thresholds: dict[str, float]) -> str:
    if not table_exists(con, "scored_pairs"):
        return "<h2>Match probabilities of compared pairs</h2><p class='muted'>not available</p>"
    bins = dict(con.execute(
        "SELECT least(floor(match_probability * 50), 49)::INT AS b, count(*) FROM scored_pairs GROUP BY 1").fetchall())
    return ("<h2>Match probabilities of compared pairs</h2>"
            + log_histogram([bins.get(b, 0) for b in range(50)], "Pairs per match-probability band (log scale)", thresholds))


REVIEW_HEADERS = ["record", "record", "probability", "linked now", "why (terms add up to the match weight)"]


def _review_rows(con: duckdb.DuckDBPyConnection, limit: int) -> list[list[str]]:
    rows = con.execute(
        f"SELECT key_l, key_r, round(match_probability, 3), CASE WHEN linked_now THEN 'yes' ELSE 'no' END, "
        f"explanation FROM review_queue ORDER BY match_probability DESC, key_l, key_r LIMIT {int(limit)}").fetchall()
    return [[html.escape(str(c)) for c in r] for r in rows]


def _decision_problems(con: duckdb.DuckDBPyConnection) -> str:
    if not table_exists(con, "review_decision_problems"):
        return ""
    rows = con.execute("SELECT file_name, line_number, key_l, key_r, problem FROM review_decision_problems").fetchall()
    if not rows:
        return ""
    return ("<h3>Decisions that could not be applied</h3>"
            + _table(["file", "line", "record", "record", "problem"], [[html.escape(str(c)) for c in r] for r in rows]))


def _review(con: duckdb.DuckDBPyConnection, review: int, reports_dir: Path) -> str:
    if not table_exists(con, "review_queue"):
        return "<h2>Review queue</h2><p class='muted'>not available</p>"
    backlog = _write_backlog(con, review, reports_dir)
    shown = min(review, REVIEW_ROWS_ON_PAGE)
    return (f"<h2>Review queue</h2><p>{review:,} pairs between the review thresholds await a decision; the "
            f"{shown} most likely are shown here, <a href='{backlog.name}'>all of them on the backlog page</a> "
            "(decide by dropping a CSV <code>key_l,key_r,decision,reviewer,decided_at</code> into "
            "<code>landing/reviews/</code>).</p>"
            + _table(REVIEW_HEADERS, _review_rows(con, REVIEW_ROWS_ON_PAGE)) + _decision_problems(con))


def _write_backlog(con: duckdb.DuckDBPyConnection, review: int, reports_dir: Path) -> Path:
    rows = _review_rows(con, REVIEW_ROWS_IN_BACKLOG)
    note = (f"<p class='muted'>The first {REVIEW_ROWS_IN_BACKLOG:,} of {review:,}; all are in the table "
            "<code>review_queue</code> of the published file.</p>" if review > REVIEW_ROWS_IN_BACKLOG else "")
    body = (f"<h1>Review backlog</h1><p><a href='index.html'>back to the report</a></p><p>{review:,} pairs, most "
            f"likely first.</p>{note}" + _table(REVIEW_HEADERS, rows))
    return _write_page(reports_dir / "review_queue.html", "Kundenstamm review backlog", body)


def _write_page(path: Path, title: str, body: str) -> Path:
    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
            f"content='width=device-width, initial-scale=1'><title>{html.escape(title)}</title><style>{STYLE}</style>"
            f"</head><body>{body}</body></html>")
    temporary = path.with_suffix(".html.tmp")
    temporary.write_text(page, encoding="utf-8")
    os.replace(temporary, path)  # a reader never sees half a page
    return path


def write_report(con: duckdb.DuckDBPyConnection, reports_dir: Path, outcomes: list[ValidationOutcome], run_at: datetime,
                 thresholds: dict[str, float] | None = None) -> Path:
    """`thresholds`: name -> probability, marked on the histogram (link and review bounds)."""
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    figures = _figures(con, run_at)
    history = record_run(reports_dir, figures)
    body = "".join([
        f"<h1>Kundenstamm data-quality report</h1><p class='muted'>Run of {run_at:%Y-%m-%d %H:%M} UTC</p>",
        _cards(figures, outcomes),
        _since_last_run(con, run_at),
        _per_source(con, run_at),
        _rejects(con, run_at),
        _expectations(outcomes, reports_dir),
        _trends(history),
        _probabilities(con, thresholds or {}),
        _review(con, figures.review_backlog, reports_dir),
    ])
    return _write_page(reports_dir / "index.html", "Kundenstamm data quality", body)
