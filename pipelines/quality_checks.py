"""great-expectations suites as Dagster asset checks, and the analysts' report."""


from pathlib import Path

import dagster as dg

from pipelines.golden_assets import _run_started_at, golden_customers, published_golden
from pipelines.ingest_assets import WAREHOUSE_POOL
from pipelines.linkage_assets import staged_records
from pipelines.resources import KundenstammSettings
from quality.outcomes import load_outcomes, save_outcome
from quality.report import write_report
from quality.validation import ValidationOutcome, validate_golden, validate_staged
from sources.ingest import SOURCE_NAMES


def _gx_root(kundenstamm: KundenstammSettings) -> Path:
    return Path(kundenstamm.reports_dir) / "gx"


def _thresholds(kundenstamm: KundenstammSettings) -> dict[str, float]:
    return {"link": kundenstamm.match_threshold, "review from": kundenstamm.review_lower,
            "review to": kundenstamm.review_upper}


def _check_result(outcome: ValidationOutcome, blocking_only: bool) -> dg.AssetCheckResult:
    failed = [r for r in outcome.results if not r.success]
    failed_blocking = [r for r in failed if r.blocking]
    passed = not (failed_blocking if blocking_only else failed)
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR if failed_blocking else dg.AssetCheckSeverity.WARN,
        metadata={
            "expectations": dg.MetadataValue.int(len(outcome.results)),
            "failed": dg.MetadataValue.int(len(failed)),
            "failed_blocking": dg.MetadataValue.int(len(failed_blocking)),
            "failures": dg.MetadataValue.md(
                "\n".join(f"- `{r.expectation}` on `{r.column or '-'}`: {r.detail}" for r in failed) or "none"
            ),
            "data_docs": dg.MetadataValue.path(str(outcome.data_docs_path or "")),
        },
    )


def _staged_check(source: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=staged_records,
        name=f"{source}_expectations",
        description=f"great-expectations suite on the staged {source} records (warns, never blocks).",
        blocking=False,
        pool=WAREHOUSE_POOL,
    )
    def check(kundenstamm: KundenstammSettings) -> dg.AssetCheckResult:
        with kundenstamm.warehouse() as con:
            outcome = validate_staged(con, source, _gx_root(kundenstamm))
        save_outcome(Path(kundenstamm.reports_dir), outcome)
        return _check_result(outcome, blocking_only=False)

    return check


@dg.asset_check(
    asset=golden_customers,
    description="great-expectations suite on the golden table. Consent safety, privacy, unique "
    "ids and completeness of customer_sources block publishing; format checks only warn.",
    blocking=True,
    pool=WAREHOUSE_POOL,
)
def golden_expectations(context: dg.AssetCheckExecutionContext, kundenstamm: KundenstammSettings) -> dg.AssetCheckResult:
    with kundenstamm.warehouse() as con:
        outcome = validate_golden(con, _gx_root(kundenstamm))
        save_outcome(Path(kundenstamm.reports_dir), outcome)
        result = _check_result(outcome, blocking_only=True)
        if not result.passed:
            # Publishing stops here, so the report is written now: analysts must see why.
            report = write_report(
                con, Path(kundenstamm.reports_dir), load_outcomes(Path(kundenstamm.reports_dir)),
                _run_started_at(context), _thresholds(kundenstamm),
            )
            context.log.error(f"golden table failed blocking expectations; report: {report}")
    return result


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
    with kundenstamm.warehouse() as con:
        path = write_report(con, reports_dir, load_outcomes(reports_dir), _run_started_at(context), _thresholds(kundenstamm))
    return dg.MaterializeResult(
        metadata={"report": dg.MetadataValue.path(str(Path(path).resolve())),
                  "report_url": dg.MetadataValue.url(Path(path).resolve().as_uri())}
    )


staged_checks = [_staged_check(source) for source in SOURCE_NAMES]
quality_checks = [*staged_checks, golden_expectations]
