"""great-expectations suites as Dagster asset checks, and the analysts' report."""


from datetime import datetime
from pathlib import Path

import dagster as dg

from pipelines.golden_assets import _run_started_at, golden_customers, published_golden
from pipelines.ingest_assets import WAREHOUSE_POOL
from pipelines.linkage_assets import staged_records
from pipelines.resources import KundenstammSettings
from quality.expectations import golden_checks, staged_checks
from quality.outcomes import load_outcomes, save_outcome
from quality.run_history import load_history
from quality.report import write_report
from quality.validation import ValidationOutcome, validate_golden, validate_staged
from sources.ingest import SOURCE_NAMES


def _gx_root(kundenstamm: KundenstammSettings) -> Path:
    return Path(kundenstamm.reports_dir) / "gx"


def _thresholds(kundenstamm: KundenstammSettings) -> dict[str, float]:
    return {"link": kundenstamm.match_threshold, "review from": kundenstamm.review_lower,
            "review to": kundenstamm.review_upper}


def check_name(frame: str, expectation: str, column: str | None) -> str:
    """A short, stable Dagster check name for one expectation: `customers__unique__golden_id`."""
    short = expectation.removeprefix("expect_").replace("column_values_to_", "").replace("table_", "")
    # A suite over one frame (the staged records) needs no frame in the name.
    return "__".join(part for part in (frame if frame != "records" else "", short, column) if part)


def _specs(asset, checks: dict[str, list], prefix: str = "") -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(prefix + check_name(frame, c.expectation.expectation_type,
                                                  getattr(c.expectation, "column", None)),
                              asset=asset, blocking=c.blocking, description=c.why)
            for frame, frame_checks in checks.items() for c in frame_checks]


def _results(outcome: ValidationOutcome, prefix: str = "") -> list[dg.AssetCheckResult]:
    """One result per expectation: a failure shows which expectation failed and how much."""
    return [
        dg.AssetCheckResult(
            check_name=prefix + check_name(r.frame, r.expectation, r.column),
            passed=r.success,
            severity=dg.AssetCheckSeverity.ERROR if r.blocking else dg.AssetCheckSeverity.WARN,
            description=r.detail,
            metadata={"blocks_publishing": dg.MetadataValue.bool(r.blocking),
                      "data_docs": dg.MetadataValue.path(str(outcome.data_docs_path or ""))},
        )
        for r in outcome.results
    ]


def _staged_check(source: str) -> dg.AssetChecksDefinition:
    @dg.multi_asset_check(
        specs=_specs(staged_records, {"records": staged_checks(datetime.now())}, prefix=f"{source}__"),
        name=f"{source}_expectations",
        description=f"great-expectations suite on the staged {source} records, one check per expectation "
        "(they warn, never block).",
        pool=WAREHOUSE_POOL,
    )
    def check(kundenstamm: KundenstammSettings):
        with kundenstamm.warehouse() as con:
            outcome = validate_staged(con, source, _gx_root(kundenstamm))
        save_outcome(Path(kundenstamm.reports_dir), outcome)
        yield from _results(outcome, prefix=f"{source}__")

    return check


@dg.multi_asset_check(
    specs=_specs(golden_customers, golden_checks()),
    name="golden_expectations",
    description="great-expectations suite on the golden table, one check per expectation. Consent safety, "
    "privacy, unique ids and completeness of customer_sources block publishing; format checks only warn.",
    pool=WAREHOUSE_POOL,
)
def golden_expectations(context: dg.AssetCheckExecutionContext, kundenstamm: KundenstammSettings):
    with kundenstamm.warehouse() as con:
        outcome = validate_golden(con, _gx_root(kundenstamm))
        save_outcome(Path(kundenstamm.reports_dir), outcome)
        if outcome.blocking_failures:
            # Publishing stops here, so the report is written now: analysts must see why.
            report = write_report(
                con, Path(kundenstamm.reports_dir), load_outcomes(Path(kundenstamm.reports_dir)),
                _run_started_at(context), _thresholds(kundenstamm),
            )
            context.log.error(f"golden table failed blocking expectations; report: {report}")
    yield from _results(outcome)


@dg.asset(
    deps=[published_golden],
    group_name="quality",
    description="HTML data-quality report for analysts: counts per source, rejects, "
    "expectation results, duplicate rate, match probabilities, review queue.",
    kinds={"html"},
    owners=["team:data-engineering"],
    pool=WAREHOUSE_POOL,
)
def quality_report(context: dg.AssetExecutionContext, kundenstamm: KundenstammSettings) -> dg.MaterializeResult:
    reports_dir = Path(kundenstamm.reports_dir)
    outcomes = load_outcomes(reports_dir)
    with kundenstamm.warehouse() as con:
        path = write_report(con, reports_dir, outcomes, _run_started_at(context), _thresholds(kundenstamm))
    figures = load_history(reports_dir)[-1]
    failed = [f"`{r.expectation}` on `{r.column or '-'}`" for o in outcomes for r in o.results if not r.success]
    # The UI does not open file:// links: the report's headline figures go in as markdown,
    # with the path to open beside them.
    summary = "\n".join([
        "| figure | value |", "| --- | ---: |",
        f"| persons | {figures.customers:,} |", f"| source records | {figures.records:,} |",
        f"| with marketing consent | {figures.with_consent:,} |", f"| pairs awaiting review | {figures.review_backlog:,} |",
        f"| rows rejected in this run | {figures.rows_rejected_this_run:,} |",
        "", f"Expectations failed: {', '.join(failed) if failed else 'none'}.", "",
        f"The whole report: `{Path(path).resolve()}` (review backlog: `{(reports_dir / 'review_queue.html').resolve()}`).",
    ])
    return dg.MaterializeResult(
        metadata={"summary": dg.MetadataValue.md(summary),
                  "report": dg.MetadataValue.path(str(Path(path).resolve()))}
    )


staged_source_checks = [_staged_check(source) for source in SOURCE_NAMES]
quality_checks = [*staged_source_checks, golden_expectations]
