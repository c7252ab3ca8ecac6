"""Field accuracy of the published golden table over two delivery days: generated exports of
N persons delivered one day at a time into a landing folder, each day run through all steps
(`pipelines.steps.run_all_steps`, no Dagster) and compared with the generator's truth.

    .venv/bin/python benchmarks/golden_accuracy.py --persons 100000

Exports are generated once per size under benchmarks/out/exports_<N>; the warehouse,
landing folder and published file under benchmarks/out/golden_<N> start fresh on every invocation. Each day
runs in its own process, so its peak memory is that of the pipeline alone. Writes
benchmarks/results/golden_<N>.md and prints examples of wrong values for every column
right for fewer than 98 % of the correctly linked persons.

Two truths: the generator's expected values (`demo/truth.py`), and the values the
contract's rules give from each true person's own records (`benchmarks/record_truth.py`:
the spelling some record supports), each scored on correctly linked persons and, for the
second, on all golden rows, with unsafe consent (a published yes the person did not give)
counted over all golden rows, and how many of those no evidence chain between the yes and
the person's later no could have withdrawn (`benchmarks/consent_floor.py`).
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import sys
import time
from datetime import date, datetime, time as clock
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from german_linkage import OUT, exports_dir, in_own_process, peak_rss_mib, save_result  # noqa: E402

ACCURACY_FLOOR = 0.98
EXAMPLES = 8


def _generate(demo: str, persons: int) -> None:
    from demo.generate import generate

    print(generate(Path(demo), persons=persons, seed=2026, days=2), flush=True)


def prepare(persons: int) -> Path:
    """The generated exports and truth of N persons (cached), in their own process."""
    demo = exports_dir(persons)
    if (demo / "truth" / "persons.csv").exists():
        return demo
    if demo.exists():
        shutil.rmtree(demo)
    start = time.perf_counter()
    process = multiprocessing.get_context("spawn").Process(target=_generate, args=(str(demo), persons))
    process.start()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"generating {persons} persons failed (exit code {process.exitcode})")
    print(f"generated {persons:,} persons in {time.perf_counter() - start:.0f} s", flush=True)
    return demo


def _settings(base: Path):
    from warehouse.settings import Settings

    return Settings(landing_dir=base / "landing", warehouse_path=base / "warehouse.duckdb",
                    published_path=base / "golden.duckdb", reports_dir=base / "reports")


def _run_day(base: str, run_at: datetime, queue) -> None:
    from pipelines.steps import run_all_steps

    summary = run_all_steps(_settings(Path(base)), run_at=run_at)
    queue.put({"seconds": summary.seconds, "peak_mib": peak_rss_mib()})


def run_day(base: Path, run_at: datetime) -> dict:
    return in_own_process(_run_day, str(base), run_at)


def _fresh(base: Path) -> None:
    settings = _settings(base)
    for folder in (settings.landing_dir, settings.reports_dir):
        shutil.rmtree(folder, ignore_errors=True)
    for path in (settings.warehouse_path, settings.published_path):
        for candidate in (path, path.with_name(path.name + ".wal")):
            candidate.unlink(missing_ok=True)
    settings.landing_dir.mkdir(parents=True)


def _show_mismatches(published: Path, truth: Path, column: str, day: int, share: float) -> None:
    from demo.golden_accuracy import field_mismatches

    examples = field_mismatches(published, truth, column, day=day, limit=EXAMPLES)
    print(f"\nday {day}: {column} right for {share:.2%} of correctly linked persons; examples:")
    print(examples.to_string(index=False) if len(examples) else "  (none among majority-linked rows)", flush=True)


def privacy_count(warehouse: Path) -> int:
    """The privacy check of the golden suite on the day's warehouse: every finding is a
    false alarm or a leak, and either stops publishing."""
    import duckdb

    from quality.privacy import privacy_findings

    with duckdb.connect(str(warehouse), read_only=True) as con:
        findings = privacy_findings(con)
    if len(findings):
        print(findings.to_string(index=False), flush=True)
    return len(findings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=100_000)
    args = parser.parse_args(argv)

    from demo.golden_accuracy import compare_golden_to_truth
    from tests.generated import deliver, delivery_days

    total_start = time.perf_counter()
    demo = prepare(args.persons)
    base = OUT / f"golden_{args.persons}"
    _fresh(base)
    settings = _settings(base)
    days = delivery_days(demo / "landing")

    from demo.golden_accuracy import load_truth
    from consent_floor import unsafe_floor
    from record_truth import score_against_records

    fields, linkage, steps, by_records = {}, {}, {}, {}
    for number, day in enumerate(days, start=1):
        label = f"day {number} ({day})"
        deliver(demo / "landing", settings.landing_dir, day)
        run_at = datetime.combine(date.fromisoformat(day), clock(8, 0))
        result = run_day(base, run_at)
        accuracy = compare_golden_to_truth(settings.published_path, demo / "truth", day=number)

        s = accuracy.linkage
        linkage[label] = {
            "persons expected": accuracy.persons_expected,
            "golden rows": accuracy.golden_rows,
            "pairwise precision": round(s.precision, 4),
            "pairwise recall": round(s.recall, 4),
            "pairwise F1": round(s.f1, 4),
            "B-cubed F1": round(s.bcubed_f1, 4),
            "correctly linked persons": accuracy.correctly_linked_persons,
            "correctly linked share": round(accuracy.correctly_linked_persons / accuracy.persons_expected, 4),
            "consent errors unsafe (all)": accuracy.consent_unsafe_errors,
            "consent errors unsafe (correctly linked)": accuracy.consent_unsafe_errors_correctly_linked,
            "consent errors safe": accuracy.consent_safe_errors,
            "erased records published": accuracy.erased_records_published,
            "truth records missing": accuracy.truth_records_missing,
        }
        fields[label] = {column: round(share, 4) for column, share in accuracy.field_accuracy.items()}
        day_records, day_persons = load_truth(demo / "truth", day=number)
        scored = score_against_records(settings.warehouse_path, settings.published_path, day_records)
        for scope in ("correctly linked", "all golden rows"):
            by_records[f"{label}, {scope}"] = {column: round(share, 4) for column, share in scored[scope].items()}
        rows = scored["counts"]["golden rows judged"]
        unsafe = scored["counts"]["unsafe consent (all golden rows)"]
        linkage[label]["unsafe consent by the records (all golden rows)"] = unsafe
        linkage[label]["unsafe consent by the records, share of golden rows"] = round(unsafe / rows, 5) if rows else 0.0
        floor = unsafe_floor(settings.warehouse_path, settings.published_path, day_records, day_persons)
        linkage[label]["unsafe consent no evidence chain could withdraw (floor)"] = floor["no evidence chain"]
        linkage[label]["privacy findings (would block publishing)"] = privacy_count(settings.warehouse_path)
        seconds = {name: round(value, 1) for name, value in result["seconds"].items()}
        seconds["total"] = round(sum(result["seconds"].values()), 1)
        seconds["peak MiB"] = round(result["peak_mib"])
        steps[label] = seconds
        print(f"{label}: {linkage[label]}", flush=True)
        print(f"{label}: {seconds}", flush=True)

        for column, share in accuracy.field_accuracy.items():
            if share < ACCURACY_FLOOR:
                _show_mismatches(settings.published_path, demo / "truth", column, number, share)

    total = time.perf_counter() - total_start
    field_table = pd.DataFrame(fields).rename_axis("field accuracy").reset_index()
    record_table = pd.DataFrame(by_records).rename_axis("right by the records' own values").reset_index()
    linkage_table = pd.DataFrame(linkage).rename_axis("linkage and consent").reset_index()
    step_table = pd.DataFrame(steps).rename_axis("step seconds").reset_index()
    summary = (f"{args.persons:,} persons (seed 2026), {len(days)} delivery days, "
               f"{total:.0f} s in total including generation if not cached. Field accuracy is the share "
               f"of correctly linked persons whose golden value is the expected one.")
    text = "\n\n".join([
        f"# Golden table accuracy, {args.persons:,} persons",
        field_table.to_markdown(index=False),
        record_table.to_markdown(index=False),
        linkage_table.to_markdown(index=False),
        step_table.to_markdown(index=False),
        summary,
    ]) + "\n"
    save_result(f"golden_{args.persons}.md", text)
    print("\n" + "\n\n".join(t.to_string(index=False) for t in (field_table, record_table, linkage_table, step_table)))
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
