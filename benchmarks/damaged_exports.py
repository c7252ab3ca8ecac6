"""Lossless reading on damaged exports: the generated exports of N persons (two delivery
days) with three damaged lines in every file, ingested next to the undamaged copy.

    .venv/bin/python benchmarks/damaged_exports.py --persons 100000 [--golden]

Damage per file (lines drawn with a fixed seed among one-line records):
- a line in the other encoding: Latin-1 in the UTF-8 files (must be rejected), UTF-8 in
  the cp1252 POS file (must be read as typed);
- an unterminated quote at the start of a name (`"Andrea`), or a JSON string left open;
- an extra unquoted delimiter inside a value, or a JSON line cut short.
Checks: per file, the damaged copy loads exactly the undamaged copy's rows less the damaged
rows that must be rejected, and rejects exactly those more; after staging, no record is
missing except records whose every delivered row was damaged. With --golden the damaged
landing folder is also run through every step day by day (`run_all_steps`), and the
golden table must hold every staged record. Ingestion time and peak memory are those of
the damaged copy, measured in its own process.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from german_linkage import OUT, in_own_process, peak_rss_mib, save_result  # noqa: E402
from golden_accuracy import prepare  # noqa: E402

NAME_FIELD = {"newsletter": 3, "hotline": 3, "pos": 2}
DELIMITER = {"newsletter": ",", "hotline": ",", "pos": ";"}


def _one_line_records(lines: list[bytes], delimiter: str, width: int) -> list[int]:
    """Indexes of lines that are a whole record on their own, without quotes."""
    return [i for i, line in enumerate(lines[1:], start=1)
            if b'"' not in line and line.count(delimiter.encode()) == width - 1]


def damage_csv(source: str, data: bytes, rng: random.Random) -> tuple[bytes, list[dict]]:
    lines = data.split(b"\n")
    width = lines[0].count(DELIMITER[source].encode()) + 1
    candidates = _one_line_records(lines, DELIMITER[source], width)
    encoding = "cp1252" if source == "pos" else "utf-8"
    text = lambda i: lines[i].decode(encoding)  # noqa: E731
    with_umlaut = [i for i in candidates if not lines[i].isascii()]
    chosen_encoding = rng.choice(with_umlaut)
    others = rng.sample([i for i in candidates if i != chosen_encoding], 2)
    damages = []
    if source == "pos":
        lines[chosen_encoding] = text(chosen_encoding).encode("utf-8")
        damages.append({"line": chosen_encoding + 1, "kind": "UTF-8 line in cp1252 file", "rejected": False})
    else:
        lines[chosen_encoding] = text(chosen_encoding).encode("latin-1", errors="replace")
        damages.append({"line": chosen_encoding + 1, "kind": "Latin-1 line in UTF-8 file", "rejected": True})
    quote, comma = others
    fields = text(quote).split(DELIMITER[source])
    fields[NAME_FIELD[source]] = '"' + fields[NAME_FIELD[source]]
    lines[quote] = DELIMITER[source].join(fields).encode(encoding)
    damages.append({"line": quote + 1, "kind": "unterminated quote", "rejected": True})
    fields = text(comma).split(DELIMITER[source])
    name = fields[NAME_FIELD[source] + 1] or "x"
    fields[NAME_FIELD[source] + 1] = name[: len(name) // 2] + DELIMITER[source] + name[len(name) // 2:]
    lines[comma] = DELIMITER[source].join(fields).encode(encoding)
    damages.append({"line": comma + 1, "kind": "extra unquoted delimiter", "rejected": True})
    return b"\n".join(lines), damages


def damage_jsonl(data: bytes, rng: random.Random) -> tuple[bytes, list[dict]]:
    lines = data.split(b"\n")
    candidates = [i for i, line in enumerate(lines) if line.strip()]
    with_umlaut = [i for i in candidates if not lines[i].isascii()]
    chosen_encoding = rng.choice(with_umlaut)
    quote, cut = rng.sample([i for i in candidates if i != chosen_encoding], 2)
    lines[chosen_encoding] = lines[chosen_encoding].decode().encode("latin-1", errors="replace")
    lines[quote] = lines[quote].replace(b'", "', b', "', 1)
    lines[cut] = lines[cut][: len(lines[cut]) // 2]
    return b"\n".join(lines), [
        {"line": chosen_encoding + 1, "kind": "Latin-1 line in UTF-8 file", "rejected": True},
        {"line": quote + 1, "kind": "string left open", "rejected": True},
        {"line": cut + 1, "kind": "line cut short", "rejected": True},
    ]


def damage_landing(clean: Path, damaged: Path, seed: int = 7) -> pd.DataFrame:
    """A copy of `clean` with three damaged lines in every customer file; what was done."""
    if damaged.exists():
        shutil.rmtree(damaged)
    shutil.copytree(clean, damaged)
    rng = random.Random(seed)
    done = []
    for source in ("shop", "newsletter", "hotline", "pos"):
        for path in sorted((damaged / source).iterdir()):
            data = path.read_bytes()
            new, damages = damage_jsonl(data, rng) if source == "shop" else damage_csv(source, data, rng)
            path.write_bytes(new)
            done += [{"source": source, "file": path.name, **d} for d in damages]
    return pd.DataFrame(done)


def _ingest(landing: str, warehouse: str, queue) -> None:
    from sources.ingest import SPECS, ingest_source
    from sources.staging import build_staged_records

    con = duckdb.connect(warehouse)
    con.execute("SET enable_progress_bar = false")
    start = time.perf_counter()
    for source in SPECS:
        ingest_source(con, source, Path(landing))
    ingest_seconds = time.perf_counter() - start
    build_staged_records(con)
    con.close()
    queue.put({"ingest_seconds": ingest_seconds, "with_staging_seconds": time.perf_counter() - start,
               "peak_mib": peak_rss_mib()})


def _run_days(landing: str, base: str, queue) -> None:
    from pipelines.steps import run_all_steps
    from tests.generated import deliver, delivery_days
    from warehouse.settings import Settings

    base_path = Path(base)
    settings = Settings(landing_dir=base_path / "landing", warehouse_path=base_path / "warehouse.duckdb",
                        published_path=base_path / "golden.duckdb", reports_dir=base_path / "reports")
    start = time.perf_counter()
    for day in delivery_days(Path(landing)):
        deliver(Path(landing), settings.landing_dir, day)
        run_all_steps(settings)
    queue.put({"seconds": time.perf_counter() - start, "peak_mib": peak_rss_mib()})


def compare(clean_db: Path, damaged_db: Path, damages: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    con = duckdb.connect(str(damaged_db))
    con.execute(f"ATTACH '{clean_db}' AS clean (READ_ONLY)")
    files = con.execute("""
        SELECT d.source, d.file_name, d.lines_read, d.rows_read, d.rows_loaded, d.rows_rejected,
               c.rows_loaded AS clean_loaded, c.rows_rejected AS clean_rejected, d.status
        FROM ingest_files d JOIN clean.ingest_files c USING (source, file_name)
        ORDER BY d.source, d.file_name
    """).df()
    must_reject = damages[damages.rejected].groupby("file").size()
    files["damaged rows rejected"] = files["file_name"].map(must_reject).fillna(0).astype(int)
    files["exact"] = ((files.clean_loaded - files.rows_loaded == files["damaged rows rejected"])
                      & (files.rows_rejected - files.clean_rejected == files["damaged rows rejected"]))
    missing = con.execute("""
        SELECT count(*) FILTER (WHERE r.record_key IS NULL) AS missing_records,
               count(*) FILTER (WHERE r.record_key IS NULL AND NOT EXISTS (
                   SELECT 1 FROM rejects j WHERE j.source || ':' || j.record_id = c.record_key)) AS missing_unexplained
        FROM clean.staged_records c LEFT JOIN staged_records r USING (record_key)
    """).fetchall()[0]
    con.close()
    return files, {"staged records missing": int(missing[0]), "of them not explained by a damaged row": int(missing[1])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--golden", action="store_true", help="also run every step day by day on the damaged copy")
    args = parser.parse_args(argv)

    exports = prepare(args.persons)
    base = OUT / f"damaged_{args.persons}"
    base.mkdir(parents=True, exist_ok=True)
    damages = damage_landing(exports / "landing", base / "landing")
    results = {}
    for name, landing in (("clean", exports / "landing"), ("damaged", base / "landing")):
        warehouse = base / f"{name}.duckdb"
        warehouse.unlink(missing_ok=True)
        results[name] = in_own_process(_ingest, str(landing), str(warehouse))
        print(name, results[name], flush=True)
    files, missing = compare(base / "clean.duckdb", base / "damaged.duckdb", damages)
    print(files.to_string(index=False))
    lines = [f"{args.persons:,} persons, two delivery days, {len(damages)} damaged lines in {files.shape[0] - 1} files "
             f"(the erasure file is not damaged).",
             f"- every file exact (loaded = undamaged less the damaged rows, rejected = undamaged plus them): "
             f"{bool(files[files.source != 'erasure'].exact.all())}",
             f"- staged records missing against the undamaged copy: {missing['staged records missing']} "
             f"(not explained by a damaged row: {missing['of them not explained by a damaged row']})",
             f"- ingestion of the damaged copy: {results['damaged']['ingest_seconds']:.1f} s "
             f"({results['damaged']['with_staging_seconds']:.1f} s with staging), peak {results['damaged']['peak_mib']:,.0f} MiB; "
             f"undamaged copy: {results['clean']['ingest_seconds']:.1f} s"]
    if args.golden:
        run_base = base / "run"
        if run_base.exists():
            shutil.rmtree(run_base)
        run_base.mkdir()
        run = in_own_process(_run_days, str(base / "landing"), str(run_base))
        con = duckdb.connect(str(run_base / "warehouse.duckdb"), read_only=True)
        uncovered = con.execute("SELECT count(*) FROM staged_records WHERE record_key NOT IN "
                                "(SELECT record_key FROM golden_membership)").fetchall()[0][0]
        published = duckdb.connect(str(run_base / "golden.duckdb"), read_only=True)
        persons = published.execute("SELECT count(*) FROM customers").fetchall()[0][0]
        lines.append(f"- all steps day by day on the damaged copy: {run['seconds']:.0f} s, peak {run['peak_mib']:,.0f} MiB; "
                     f"{persons:,} customers published, staged records not in the golden table: {uncovered}")
    summary = "\n".join(lines)
    print(summary)
    table = damages.to_markdown(index=False) + "\n\n" + files.to_markdown(index=False) + "\n\n" + summary + "\n"
    save_result(f"damaged_{args.persons}.md", table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
