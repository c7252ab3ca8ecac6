"""The map of Kundenstamm: every asset, check, sensor and schedule Dagster loads.

    landing/<source>/*  ->  raw_<source>  ->  erasure_applied  ->  staged_records  ->  linkage_features
      ->  candidate_pairs  ->  scored_pairs  ->  clusters
      ->  golden_customers  -[golden_expectations blocks]->  published_golden  ->  quality_report
                                                                                  ->  change_outboxes
"""


import dagster as dg

from pipelines.automation import dead_run_recovery, kundenstamm_job, landing_sensor, nightly_schedule
from pipelines.golden_assets import golden_assets
from pipelines.ingest_assets import raw_assets
from pipelines.linkage_assets import linkage_assets
from pipelines.outbox_assets import outbox_assets
from pipelines.quality_checks import quality_checks, quality_report
from pipelines.resources import KundenstammSettings



def build_definitions(kundenstamm: KundenstammSettings | None = None) -> dg.Definitions:
    """The definitions with the given settings (defaults from KUNDENSTAMM_* variables)."""
    return dg.Definitions(
        assets=[*raw_assets, *linkage_assets, *golden_assets, *outbox_assets, quality_report],
        asset_checks=quality_checks,
        jobs=[kundenstamm_job],
        sensors=[landing_sensor, dead_run_recovery],
        schedules=[nightly_schedule],
        resources={"kundenstamm": kundenstamm or KundenstammSettings()},
    )


defs = build_definitions()
