"""The analysts' data-quality report: one self-contained HTML page per run.

Counts per source, why rows were rejected, expectation results, the duplicate rate, the
distribution of match probabilities and the review queue. No personal data: reasons are
grouped without the values they quote, and pairs are shown by record key only.
"""

from __future__ import annotations

import html
import os
from datetime import datetime
from pathlib import Path

import duckdb

from quality.validation import ValidationOutcome
from warehouse.connection import table_exists

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2733;background:#f6f7f9}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:2px solid #dde3ea;padding-bottom:.3rem}
.muted{color:#66717d}.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{background:#fff;border-radius:8px;padding:.8rem 1.1rem;box-shadow:0 1px 3px #0001;min-width:150px}
.card b{display:block;font-size:1.5rem}.card span{color:#66717d;font-size:.85rem}
table{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 3px #0001;border-radius:8px;overflow:hidden;font-size:.9rem}
th,td{padding:.45rem .7rem;text-align:left;border-bottom:1px solid #eef1f4}th{background:#eef2f6}
td.n{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#17803d;font-weight:600}.fail{color:#b42318;font-weight:600}
.warn{color:#b54708;font-weight:600}svg{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0001}
"""


def _table(headers: list[str], rows: list[list], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(
            f"<td class='n'>{v:,}</td>" if i in numeric and isinstance(v, (int, float)) else f"<td>{v}</td>"
            for i, v in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body or '<tr><td>none</td></tr>'}</tbody></table>"


def _bars(labels: list[str], values: list[float], title: str, color: str = "#2f6fb0", width: int = 1000) -> str:
    """A vertical bar chart as inline SVG."""
    height, bottom, left = 240, 40, 50
    top = max(values) if values and max(values) > 0 else 1
    step = (width - left - 10) / max(len(values), 1)
    bars = []
    for i, (label, value) in enumerate(zip(labels, values)):
        h = (height - bottom - 20) * value / top
        x = left + i * step
        bars.append(
            f"<rect x='{x + 2:.1f}' y='{height - bottom - h:.1f}' width='{step - 4:.1f}' height='{h:.1f}' fill='{color}'>"
            f"<title>{html.escape(label)}: {value:,.0f}</title></rect>"
            f"<text x='{x + step / 2:.1f}' y='{height - bottom + 14}' font-size='10' text-anchor='middle'>{html.escape(label)}</text>"
        )
        if value:
            bars.append(f"<text x='{x + step / 2:.1f}' y='{height - bottom - h - 4:.1f}' font-size='10' text-anchor='middle'>{value:,.0f}</text>")
    return (f"<svg width='{width}' height='{height}' role='img' aria-label='{html.escape(title)}'>"
            f"<text x='{left}' y='16' font-size='13' font-weight='600'>{html.escape(title)}</text>{''.join(bars)}</svg>")


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, default=0):
    try:
        value = con.execute(sql).fetchall()[0][0]
        return default if value is None else value
    except duckdb.Error:
        return default


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


def write_report(con: duckdb.DuckDBPyConnection, reports_dir: Path, outcomes: list[ValidationOutcome], run_at: datetime) -> Path:
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    persons = _scalar(con, "SELECT count(*) FROM golden_customers")
    records = _scalar(con, "SELECT count(*) FROM golden_sources")
    consent = _scalar(con, "SELECT count(*) FILTER (WHERE marketing_consent) FROM golden_customers")
    review = _scalar(con, "SELECT count(*) FROM review_queue")
    rejected_rows = _scalar(con, "SELECT count(*) FROM rejects")
    duplicate_rate = 1 - persons / records if records else 0.0

    parts = [f"<h1>Kundenstamm data-quality report</h1><p class='muted'>Run of {run_at:%Y-%m-%d %H:%M} UTC</p>"]
    blocking = sum(len(o.blocking_failures) for o in outcomes)
    warnings = sum(1 for o in outcomes for r in o.results if not r.success and not r.blocking)
    cards = [
        (f"{persons:,}", "persons in the golden table"), (f"{records:,}", "source records linked"),
        (f"{duplicate_rate:.1%}", "duplicate rate (records merged away)"), (f"{consent:,}", "with marketing consent"),
        (f"{review:,}", "pairs awaiting review"), (f"{rejected_rows:,}", "rows rejected"),
        (f"<span class='{'fail' if blocking else 'ok'}'>{blocking}</span>", "blocking check failures"),
        (f"<span class='{'warn' if warnings else 'ok'}'>{warnings}</span>", "warnings"),
    ]
    parts.append("<div class='cards'>" + "".join(f"<div class='card'><b>{v}</b><span>{k}</span></div>" for v, k in cards) + "</div>")

    parts.append("<h2>Per source: files and rows</h2>")
    if table_exists(con, "ingest_files"):
        rows = con.execute(
            """
            SELECT source, count(*) FILTER (WHERE status = 'loaded'), count(*) FILTER (WHERE status = 'held'),
                   count(*) FILTER (WHERE status = 'duplicate'), count(*) FILTER (WHERE status = 'rejected'),
                   count(*) FILTER (WHERE status = 'ignored'), coalesce(sum(rows_read), 0),
                   coalesce(sum(rows_loaded), 0), coalesce(sum(rows_rejected), 0)
            FROM ingest_files GROUP BY source ORDER BY source
            """
        ).fetchall()
        parts.append(_table(["source", "files loaded", "held back", "duplicate files", "files rejected", "files ignored",
                             "rows read", "rows loaded", "rows rejected"],
                            [list(r) for r in rows], numeric={1, 2, 3, 4, 5, 6, 7, 8}))
        per_source = dict(con.execute("SELECT source, count(*) FROM staged_records GROUP BY 1 ORDER BY 1").fetchall()) if table_exists(con, "staged_records") else {}
        if per_source:
            parts.append("<p></p>" + _bars(list(per_source), list(per_source.values()), "Current records per source", "#3d8b6d"))
        parts.append(_files_to_look_at(con))
    else:
        parts.append("<p class='muted'>not available</p>")

    parts.append("<h2>Why rows were rejected</h2>")
    if table_exists(con, "rejects"):
        # The reason without the value it quotes: the value may be personal data.
        rows = con.execute(
            "SELECT source, split_part(reason, ': ', 1) AS why, count(*) FROM rejects GROUP BY ALL ORDER BY source, 3 DESC"
        ).fetchall()
        parts.append(_table(["source", "reason", "rows"], [[html.escape(str(a)), html.escape(str(b)), c] for a, b, c in rows], numeric={2}))
    else:
        parts.append("<p class='muted'>not available</p>")

    parts.append("<h2>Expectations</h2>")
    docs = next((o.data_docs_path for o in outcomes if o.data_docs_path), None)
    if docs:
        link = os.path.relpath(docs, reports_dir)
        parts.append(f"<p>Details per expectation in the <a href='{html.escape(link)}'>great-expectations Data Docs</a>.</p>")
    rows = []
    for outcome in outcomes:
        for r in outcome.results:
            status = "<span class='ok'>passed</span>" if r.success else (
                "<span class='fail'>FAILED (blocks publishing)</span>" if r.blocking else "<span class='warn'>warning</span>")
            rows.append([html.escape(outcome.suite_name), html.escape(r.frame or ""), html.escape(r.expectation),
                         html.escape(r.column or "-"), status, html.escape(r.detail)])
    parts.append(_table(["suite", "frame", "expectation", "column", "result", "detail"], rows) if rows else "<p class='muted'>not available</p>")

    parts.append("<h2>Match probabilities of compared pairs</h2>")
    if table_exists(con, "scored_pairs"):
        bins = dict(con.execute(
            "SELECT least(floor(match_probability * 20), 19)::INT AS b, count(*) FROM scored_pairs GROUP BY 1").fetchall())
        labels = [f"{b / 20:.2f}" for b in range(20)]
        parts.append(_bars(labels, [bins.get(b, 0) for b in range(20)], "Pairs per match-probability band (lower bound)"))
    else:
        parts.append("<p class='muted'>not available</p>")

    parts.append("<h2>Review queue</h2>")
    if table_exists(con, "review_queue"):
        rows = con.execute(
            "SELECT key_l, key_r, round(match_probability, 3), explanation FROM review_queue LIMIT 15").fetchall()
        parts.append(f"<p>{review:,} pairs between the review thresholds await a decision "
                     "(drop a CSV <code>key_l,key_r,decision,reviewer,decided_at</code> into <code>landing/reviews/</code>).</p>")
        parts.append(_table(["record", "record", "probability", "why"], [[html.escape(str(c)) for c in r] for r in rows]))
    else:
        parts.append("<p class='muted'>not available</p>")

    page = f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Kundenstamm data quality</title><style>{STYLE}</style></head><body>{''.join(parts)}</body></html>"
    path = reports_dir / "index.html"
    temporary = path.with_suffix(".html.tmp")
    temporary.write_text(page, encoding="utf-8")
    os.replace(temporary, path)
    return path
