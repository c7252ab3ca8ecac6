"""Name search of an earlier revision against this code: the same answers, and how long each takes.

    .venv/bin/python benchmarks/name_search_compare.py --base 73053de \
        --old benchmarks/out/search_1000000/golden-lead.duckdb --new benchmarks/out/search_1000000/golden.duckdb

OLD is a published file as the earlier revision built it, NEW the same data with the lookup
tables this code builds (`web_search.py --reuse NEW --reindex WAREHOUSE`). `web/search.py` of
revision BASE (`git show`) searches OLD and this checkout's searches NEW, in one process, each
on its own in-memory DuckDB with the file attached read-only and one thread, as the server
has it; every query is asked of both, and every answer (ids and scores, in order) compared.
Queries: 100 customers per kind of `web_search.py` (full name exact, typo in the surname,
umlauts spelled out and swapped) and, for 50 of them, the surname narrowed by postcode, by
its first two digits and the full name narrowed by city, the first name alone, and three words.
No HTTP: the search function alone (p50/p95 in ms).
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.german_linkage import save_result  # noqa: E402
from benchmarks.web_search import queries  # noqa: E402
from web import search as new_search  # noqa: E402

PER_KIND = 100


def _module_at(revision: str, folder: Path):
    """web/search.py as it was at `revision`, imported under its own name."""
    source = subprocess.run(["git", "show", f"{revision}:web/search.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    path = folder / "search_at_base.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("search_at_base", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:", config={"threads": 1, "memory_limit": "1GB"})
    con.execute(f"ATTACH '{path}' AS published (READ_ONLY)")
    con.execute("USE published")
    return con


def cases(published: Path, seed: int) -> list[tuple[str, str, str | None]]:
    """(kind, what is typed, near)."""
    typed = queries(published, random.Random(seed))
    with duckdb.connect(str(published), read_only=True) as con:
        where = {g: (postcode, city) for g, postcode, city in
                 con.execute("SELECT golden_id, postal_code, city FROM customers").fetchall()}
    found = [(kind, text, None) for kind, rows in typed.items() if kind.startswith("name")
             for text, _ in rows[:PER_KIND]]
    for text, golden_id in typed["name (exact)"][:PER_KIND // 2]:
        postcode, city = where[golden_id]
        first, last = text.split()[0], text.split()[-1]
        found += [("surname near postcode", last, postcode),
                  ("surname near first two postcode digits", last, (postcode or "")[:2]),
                  ("name near city", text, city), ("first name alone", first, None),
                  ("three words", f"{text} {first}", None)]
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True, help="git revision whose web/search.py searches --old")
    parser.add_argument("--old", type=Path, required=True, help="published file with that revision's lookup tables")
    parser.add_argument("--new", type=Path, required=True, help="the same data with this code's lookup tables")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        old_search = _module_at(args.base, Path(folder))
    asked = cases(args.new, args.seed)
    answers, latencies = {}, {}
    for label, module, path in (("before", old_search, args.old), ("now", new_search, args.new)):
        con = _connect(path)
        module.search(con, "warm up")
        answers[label] = []
        for kind, text, near in asked:
            start = time.perf_counter()
            results = module.search(con, text, near)
            latencies.setdefault((label, kind), []).append((time.perf_counter() - start) * 1000)
            answers[label].append([(r["golden_id"], r["score"]) for r in results])
        con.close()
    differ = sum(a != b for a, b in zip(answers["before"], answers["now"]))
    kinds = list(dict.fromkeys(kind for kind, _, _ in asked))
    p95 = lambda values: sorted(values)[int(0.95 * len(values)) - 1]  # noqa: E731
    lines = [f"{len(asked)} name searches; answers (ids and scores, in order) that differ between {args.base} "
             f"and this code: {differ}", "",
             "| search | queries | before p50 ms | before p95 ms | now p50 ms | now p95 ms |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for kind in kinds:
        before, now = latencies[("before", kind)], latencies[("now", kind)]
        lines.append(f"| {kind} | {len(now)} | {statistics.median(before):.1f} | {p95(before):.1f} | "
                     f"{statistics.median(now):.1f} | {p95(now):.1f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    print(save_result(f"name_search_compare_{args.new.parent.name}.md", text))


if __name__ == "__main__":
    main()
