"""What a data engineer sees in Dagster after a real run: row counts and column schemas on
every table asset, counts as tables rather than one key per name."""

from __future__ import annotations

import dagster as dg

from demo.generate import generate
from pipelines.definitions import build_definitions
from pipelines.resources import KundenstammSettings

TABLE_ASSETS = ["raw_shop", "raw_newsletter", "raw_hotline", "raw_pos", "staged_records", "linkage_features",
                "candidate_pairs", "scored_pairs", "clusters", "golden_customers", "published_golden"]


def test_every_table_asset_has_its_row_count_and_column_schema(tmp_path):
    generate(tmp_path / "demo", persons=250, seed=17, days=1)
    resource = KundenstammSettings(landing_dir=str(tmp_path / "demo" / "landing"),
                                   warehouse_path=str(tmp_path / "w.duckdb"),
                                   published_path=str(tmp_path / "golden.duckdb"), reports_dir=str(tmp_path / "reports"),
                                   max_export_age_hours=0.0)  # every export is late at once
    instance = dg.DagsterInstance.ephemeral()
    result = build_definitions(resource).resolve_job_def("kundenstamm").execute_in_process(instance=instance)
    assert result.success  # a late export warns; it does not stop the run
    late = {c.asset_key.path[0] for c in (e.asset_check_evaluation_data for e in result.all_events
                                          if e.event_type_value == "ASSET_CHECK_EVALUATION")
            if c.check_name == "export_arrived" and not c.passed}
    assert late == {"raw_shop", "raw_newsletter", "raw_hotline", "raw_pos"}
    seen = {}
    for name in TABLE_ASSETS:
        event = instance.get_latest_materialization_event(dg.AssetKey(name))
        metadata = event.asset_materialization.metadata
        assert metadata["dagster/row_count"].value > 0, name
        columns = [c.name for c in metadata["dagster/column_schema"].schema.columns]
        seen[name] = (metadata["dagster/row_count"].value, columns)
    assert "record_key" in seen["staged_records"][1] and "match_probability" in seen["scored_pairs"][1]
    assert "golden_id" in seen["published_golden"][1] and "birth_date" not in seen["published_golden"][1]
    pairs = instance.get_latest_materialization_event(dg.AssetKey("candidate_pairs")).asset_materialization.metadata
    per_rule = {r.data["rule"]: r.data["pairs"] for r in pairs["pairs_per_blocking_rule"].value.records}
    assert sum(per_rule.values()) >= seen["candidate_pairs"][0] and "once per rule" in pairs["note"].value
    report = instance.get_latest_materialization_event(dg.AssetKey("quality_report")).asset_materialization.metadata
    customers = seen["published_golden"][0]
    assert f"| persons | {customers:,} |" in report["summary"].value and "index.html" in report["summary"].value
    staged = instance.get_latest_materialization_event(dg.AssetKey("staged_records")).asset_materialization.metadata
    assert sum(r.data["records"] for r in staged["records_per_source"].value.records) == seen["staged_records"][0]
    # The first staging stages every source; a later one keeps those whose inputs did not change.
    assert staged["sources_staged_anew"].value == "hotline, newsletter, pos, shop" and staged["sources_kept"].value == "none"
