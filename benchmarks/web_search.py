"""Lookup web app: search latency per kind of search, and the server's memory.

    .venv/bin/python benchmarks/web_search.py --persons 100000

Generates one delivery day for N persons, runs the whole pipeline (publish builds the
lookup_* tables), starts `kundenstamm serve` on a free loopback port and asks
`/api/search` (HTTP Basic, one kept-alive connection, one request at a time) for 300
customers per kind, each typed the way a caller would say it. Reports p50/p95/max per
kind, the publish step's time and the server's resident memory (VmRSS and peak VmHWM).

    .venv/bin/python benchmarks/web_search.py --reuse benchmarks/out/web_1000000

uses the warehouse of an earlier run (`DIR/warehouse.duckdb`, e.g. this script's own
`benchmarks/out/web_<N>/`) without generating or running the pipeline again: only the
publish step runs, so the `lookup_*` tables are the ones this code builds. `--reuse FILE`
(a published `.duckdb` file) serves that file as it is, lookup tables and all.

    .venv/bin/python benchmarks/web_search.py --reuse COPY.duckdb --reindex WAREHOUSE.duckdb

first builds the `lookup_*` tables of COPY (a copy of a published file, changed in place)
anew with this code, from WAREHOUSE opened read-only: the search index of this code over a
published file that other code wrote, without running the pipeline or touching its files.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import re
import resource
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "benchmarks" / "out"

from benchmarks.german_linkage import save_result  # noqa: E402
from demo.generate import generate  # noqa: E402
from linkage.names import fold  # noqa: E402
from pipelines.steps import run_all_steps  # noqa: E402
from warehouse.connection import open_warehouse  # noqa: E402
from warehouse.publish import publish  # noqa: E402
from warehouse.published_comments import comment_published_tables  # noqa: E402
from warehouse.search_index import build_search_index  # noqa: E402
from warehouse.settings import Settings  # noqa: E402
from web.store import Store  # noqa: E402

PER_KIND = 300


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def queries(published: Path, rng: random.Random) -> dict[str, list[tuple[str, str]]]:
    """kind -> [(what is typed, golden id it must find)]."""
    with duckdb.connect(str(published), read_only=True) as con:
        # hash(golden_id) ties among one customer's rows (two cards):
        # the value typed decides, so the same file gives the same queries on every run.
        sample = lambda sql: con.execute(sql + f" ORDER BY hash(golden_id), 1 LIMIT {PER_KIND}").fetchall()  # noqa: E731
        emails = sample("SELECT email, golden_id FROM customers WHERE email IS NOT NULL")
        phones = sample("SELECT phone, golden_id FROM customers WHERE phone LIKE '+49%'")
        numbers = sample("SELECT source_record_id, golden_id FROM customer_sources WHERE source IN ('shop', 'pos')")
        names = sample("SELECT first_name, last_name, golden_id FROM customers "
                       "WHERE length(first_name) >= 3 AND length(last_name) >= 5")
    national = lambda p: "0" + p[3:6] + " / " + p[6:]  # noqa: E731
    return {
        "e-mail (upper case)": [(e.upper(), g) for e, g in emails],
        "phone (national notation)": [(national(p), g) for p, g in phones],
        "customer/card number (no prefix)": [(re.sub(r"\D", "", n), g) for n, g in numbers],
        "customer/card number (one digit swapped)": [(_typo(re.sub(r"\D", "", n), rng), g) for n, g in numbers],
        "name (exact)": [(f"{f} {l}", g) for f, l, g in names],
        "name (typo in surname)": [(f"{f} {_typo(l, rng)}", g) for f, l, g in names],
        "name (umlauts spelled out, swapped)": [(f"{fold(l).title()} {f}", g) for f, l, g in names],
    }


def reindex(published: Path, warehouse: Path, memory_limit: str) -> float:
    """Build the lookup_* tables of `published` anew from `warehouse` (read-only), as `publish` does; seconds."""
    con = duckdb.connect(":memory:", config={"memory_limit": memory_limit})
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"ATTACH '{warehouse}' AS warehouse (READ_ONLY)")
        con.execute(f"ATTACH '{published}' AS next_version")
        con.execute("USE warehouse")  # build_search_index reads the warehouse's tables unqualified
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'next_version' "
                                    "AND starts_with(table_name, 'lookup_')").fetchall():
            con.execute(f"DROP TABLE next_version.{table}")
        start = time.perf_counter()
        build_search_index(con, "next_version")
        seconds = time.perf_counter() - start
        comment_published_tables(con, "next_version")
        con.execute("CHECKPOINT next_version")
    finally:
        con.close()
    return seconds


def memory_kib(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    return {k: int(re.search(rf"{k}:\s+(\d+)", status).group(1)) for k in ("VmRSS", "VmHWM")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reuse", type=Path, metavar="DIR_OR_FILE",
                        help="an earlier run's folder (its warehouse.duckdb is published again) or a published file")
    parser.add_argument("--reindex", type=Path, metavar="WAREHOUSE",
                        help="with --reuse FILE: first build FILE's lookup tables anew from this warehouse (read-only)")
    args = parser.parse_args()
    if args.reindex and not (args.reuse and args.reuse.is_file()):
        parser.error("--reindex needs --reuse FILE (a copy of a published file, changed in place)")
    run_at = datetime(2026, 11, 20, 7)
    index_seconds = None
    if args.reuse and args.reuse.is_file():
        root = OUT / "web_reused"
        root.mkdir(parents=True, exist_ok=True)
        settings = Settings(published_path=args.reuse.resolve(), landing_dir=root / "landing")
        # Not the publish step, but its lookup part alone when asked to.
        publish_seconds = None
        index_seconds = reindex(settings.published_path, args.reindex.resolve(), settings.memory_limit) if args.reindex else None
    elif args.reuse:
        root = args.reuse.resolve()
        settings = Settings(landing_dir=root / "demo" / "landing", warehouse_path=root / "warehouse.duckdb",
                            published_path=root / "golden.duckdb", reports_dir=root / "reports")
        if not settings.warehouse_path.is_file():
            parser.error(f"--reuse {args.reuse}: no warehouse.duckdb there (give a published .duckdb file instead)")
        # The publish step alone: the lookup tables as this code builds them, from the warehouse
        # as it is; it replaces DIR/golden.duckdb with the same data.
        con = open_warehouse(settings.warehouse_path, memory_limit=settings.memory_limit)
        try:
            start = time.perf_counter()
            publish(con, settings.published_path, run_at)
            publish_seconds = time.perf_counter() - start
        finally:
            con.close()
    else:
        root = OUT / f"web_{args.persons}"
        settings = Settings(landing_dir=root / "demo" / "landing", warehouse_path=root / "warehouse.duckdb",
                            published_path=root / "golden.duckdb", reports_dir=root / "reports")
        if not (root / "demo" / "landing").exists():
            generate(root / "demo", persons=args.persons, seed=args.seed, days=1)
        for stale in (settings.warehouse_path, settings.published_path):
            stale.unlink(missing_ok=True)
        run = run_all_steps(settings, run_at)
        publish_seconds = run.seconds["publish"]
    # This process ran the pipeline and the publish step (the lookup build among them).
    builder_peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    store_file = root / "web-store.sqlite3"
    store = Store(store_file)
    store.add_user("bench", "agent", "bench-password")
    store.close()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "KUNDENSTAMM_PUBLISHED": str(settings.published_path),
           "KUNDENSTAMM_LANDING_DIR": str(settings.landing_dir), "KUNDENSTAMM_WEB_STORE": str(store_file)}
    server = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "serve", "--port", str(port),
                               "--log-level", "warning"], env=env, cwd=ROOT)
    auth = {"Authorization": "Basic " + base64.b64encode(b"bench:bench-password").decode()}
    try:
        for _ in range(300):
            try:
                con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                con.request("GET", "/healthz")
                if con.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        rows = []
        for kind, typed in queries(settings.published_path, random.Random(args.seed)).items():
            latencies, found = [], 0
            for text, golden_id in typed:
                start = time.perf_counter()
                con.request("GET", "/api/search?" + urlencode({"q": text}), headers=auth)
                response = con.getresponse()
                body = json.loads(response.read())
                latencies.append((time.perf_counter() - start) * 1000)
                assert response.status == 200, body
                found += golden_id in [r["golden_id"] for r in body["results"]]
            latencies.sort()
            rows.append((kind, len(typed), found / len(typed), statistics.median(latencies),
                         latencies[int(0.95 * len(latencies)) - 1], latencies[-1]))
        memory = memory_kib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)

    size = settings.published_path.stat().st_size / 2**20
    with duckdb.connect(str(settings.published_path), read_only=True) as published:
        persons = published.execute("SELECT count(*) FROM customers").fetchall()[0][0]
        # A file whose lookup tables were built anew in place keeps the old ones' blocks as free space.
        block_size, used_blocks = published.execute("SELECT block_size, used_blocks FROM pragma_database_size() "
                                                    "WHERE database_name = current_database()").fetchall()[0]
    in_use = used_blocks * block_size / 2**20
    if publish_seconds is not None:
        publish_text = f"{publish_seconds:.1f} s"
    elif index_seconds is not None:
        publish_text = f"not run (published file reused; its lookup tables built anew in {index_seconds:.1f} s)"
    else:
        publish_text = "not run (published file reused)"
    generated = "" if args.reuse else f"{args.persons:,} persons, "
    lines = [f"{generated}{persons:,} golden customers; published file {size:,.0f} MiB ({in_use:,.0f} MiB in use); publish step (lookup tables included) "
             f"{publish_text}; peak memory of the process that ran it {builder_peak_mib:,.0f} MiB; "
             f"server memory after the searches {memory['VmRSS'] / 1024:,.0f} MiB "
             f"(peak {memory['VmHWM'] / 1024:,.0f} MiB)", "",
             "| search | queries | right person in the results | p50 ms | p95 ms | max ms |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {k} | {n} | {share:.1%} | {p50:.1f} | {p95:.1f} | {mx:.1f} |" for k, n, share, p50, p95, mx in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    print(save_result(f"web_search_{root.name.removeprefix('web_')}.md", text))


if __name__ == "__main__":
    main()
