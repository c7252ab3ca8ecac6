"""Running the suites with great-expectations 1.x and keeping the results.

Results are written as Data Docs (HTML) under `<gx_root>/gx/uncommitted/data_docs/`. No
unexpected *values* are kept (result format without value lists), because the reports
must not hold personal data of persons who may later ask to be erased.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from quality.expectations import Check, golden_checks, staged_checks
from quality.offline_docs import make_offline
from quality.privacy import privacy_findings

RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0, "include_unexpected_rows": False}


@dataclass
class ExpectationResult:
    expectation: str
    column: str | None
    success: bool
    blocking: bool
    detail: str
    frame: str = ""


@dataclass
class ValidationOutcome:
    suite_name: str
    success: bool
    results: list[ExpectationResult] = field(default_factory=list)
    data_docs_path: str | None = None
    validated_at: str = ""

    @property
    def blocking_failures(self) -> list[ExpectationResult]:
        return [r for r in self.results if r.blocking and not r.success]


def _context(gx_root: Path):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    from great_expectations.data_context.types.base import ProgressBarsConfig

    gx_root.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(gx_root))
    # A pipeline's log is read by people: no progress bars for each metric.
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return gx, context


def _run_suite(gx_root: Path, suite_name: str, frames: dict[str, tuple[pd.DataFrame, list[Check]]]) -> ValidationOutcome:
    gx, context = _context(gx_root)
    source = context.data_sources.add_or_update_pandas("kundenstamm")
    results: list[ExpectationResult] = []
    for frame_name, (frame, checks) in frames.items():
        asset_name = f"{suite_name}__{frame_name}"
        try:
            asset = source.get_asset(asset_name)
        except LookupError:
            asset = source.add_dataframe_asset(asset_name)
        try:
            batch = asset.get_batch_definition("whole")
        except (LookupError, KeyError):
            batch = asset.add_batch_definition_whole_dataframe("whole")
        suite = context.suites.add_or_update(gx.ExpectationSuite(
            name=asset_name, expectations=[c.expectation.copy(deep=True) for c in checks]))
        validation = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=asset_name, data=batch, suite=suite))
        checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
            name=asset_name, validation_definitions=[validation],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs")], result_format=RESULT_FORMAT))
        run = checkpoint.run(batch_parameters={"dataframe": frame})
        for validation_result in run.run_results.values():
            for check, result in zip(checks, validation_result.results):
                config = result.expectation_config
                observed = result.result or {}
                if "unexpected_count" in observed:
                    detail = f"{observed.get('unexpected_count', 0)} of {observed.get('element_count', 0)} unexpected"
                else:
                    detail = f"observed {observed.get('observed_value')}"
                results.append(ExpectationResult(config.type, config.kwargs.get("column"), bool(result.success),
                                                 check.blocking, f"{check.why}: {detail}", frame_name))
    docs = next(iter(context.get_docs_sites_urls()), {}).get("site_url")
    if docs:
        make_offline(Path(docs.removeprefix("file://")).parent)
    return ValidationOutcome(suite_name, all(r.success for r in results), results,
                             docs.removeprefix("file://") if docs else None, datetime.now().isoformat(timespec="seconds"))


def validate_staged(con: duckdb.DuckDBPyConnection, source: str, gx_root: Path) -> ValidationOutcome:
    frame = con.execute(
        """
        SELECT source_record_id, email, CASE WHEN country = 'DE' THEN postal_code END AS postal_code_de,
               first_seen_at, consent_decision
        FROM staged_records WHERE source = ?
        """,
        [source],
    ).df()
    return _run_suite(Path(gx_root), f"staged_{source}", {"records": (frame, staged_checks(datetime.now()))})


def validate_golden(con: duckdb.DuckDBPyConnection, gx_root: Path) -> ValidationOutcome:
    customers = con.execute(
        """
        WITH latest AS (
            -- On a tie the no: a yes beside a no of the same moment is no latest yes.
            SELECT m.golden_id, arg_max(r.consent_decision, (r.consent_at, r.consent_decision <> 'yes')) AS decision
            FROM staged_records r JOIN golden_membership m USING (record_key)
            WHERE r.consent_decision IS NOT NULL AND r.consent_at IS NOT NULL GROUP BY m.golden_id
        ), suppressed AS (
            -- The suppression list: a yes while its address opted out later, anywhere.
            SELECT DISTINCT g.golden_id FROM golden_customers g JOIN staged_records r
              ON lower(trim(r.email)) IN (lower(trim(g.email)), lower(trim(g.consent_email)))
            WHERE g.marketing_consent AND r.consent_decision = 'no' AND r.consent_at > g.consent_updated_at
        )
        SELECT g.golden_id, g.marketing_consent, g.phone, g.email,
               g.golden_id NOT IN (SELECT golden_id FROM suppressed) AS consent_not_suppressed,
               CASE WHEN g.country = 'DE' THEN g.postal_code END AS postal_code_de,
               coalesce(g.marketing_consent AND (g.consent_source IS NULL OR g.consent_updated_at IS NULL), false)
                   AS consent_without_decision,
               -- A yes that is not the latest decision is a violation; a cautious no never is.
               NOT coalesce(g.marketing_consent AND l.decision IS DISTINCT FROM 'yes', false)
                   AS consent_agrees_with_latest_decision
        FROM golden_customers g LEFT JOIN latest l USING (golden_id)
        """
    ).df()
    coverage = con.execute(
        """
        SELECT r.record_key, count(s.golden_id) AS times_linked
        FROM staged_records r LEFT JOIN golden_sources s
          ON s.source = r.source AND s.source_record_id = r.source_record_id
        GROUP BY r.record_key HAVING count(s.golden_id) <> 1
        UNION ALL
        SELECT s.source || ':' || s.source_record_id, 0 FROM golden_sources s
        WHERE NOT EXISTS (SELECT 1 FROM staged_records r WHERE r.source = s.source AND r.source_record_id = s.source_record_id)
        """
    ).df()
    privacy = privacy_findings(con)
    checks = golden_checks()
    return _run_suite(Path(gx_root), "golden", {
        "customers": (customers, checks["customers"]),
        "coverage": (coverage, checks["coverage"]),
        "privacy": (privacy, checks["privacy"]),
    })
