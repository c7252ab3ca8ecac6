"""Erasure (before linkage), and from persons to the published golden table:
survivorship, atomic publish."""


import dagster as dg
import duckdb

from pipelines.ingest_assets import LANDING_FOLDERS, TRANSIENT_RETRY, WAREHOUSE_POOL, raw_asset_key
from pipelines.linkage_assets import clusters
from pipelines.metadata import report_metadata, run_started_at as _run_started_at, table_metadata, timed
from pipelines.resources import KundenstammSettings
from warehouse.erasure import apply_erasure_requests
from warehouse.golden import build_golden
from warehouse.publish import publish

GOLDEN_GROUP = "golden"
_COMMON = dict(
    group_name=GOLDEN_GROUP,
    owners=["team:data-engineering"],
    pool=WAREHOUSE_POOL,
    retry_policy=TRANSIENT_RETRY,
)


@dg.asset(
    # After every delivery of the run is loaded, before staging (staged_records depends on
    # it), so the run links the records that remain, as every later run will.
    deps=[raw_asset_key(folder) for folder in LANDING_FOLDERS],
    description="Erasure requests applied: the named persons removed from every warehouse "
    "table, only a one-way hash of their identifiers kept to keep them out.",
    kinds={"duckdb"},
    **_COMMON,
)
def erasure_applied(context: dg.AssetExecutionContext, kundenstamm: KundenstammSettings) -> dg.MaterializeResult:
    metadata: dict[str, dg.MetadataValue] = {}
    with timed(metadata), kundenstamm.warehouse(one_transaction=False) as con:
        report = apply_erasure_requests(con, _run_started_at(context), kundenstamm.match_threshold)
    metadata.update(report_metadata(report))
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    deps=[clusters],
    description="One golden row per person: survivorship per column, consent, stable ids, "
    "change feed and review queue (not yet published).",
    kinds={"duckdb"},
    **_COMMON,
)
def golden_customers(context: dg.AssetExecutionContext, kundenstamm: KundenstammSettings) -> dg.MaterializeResult:
    metadata: dict[str, dg.MetadataValue] = {}
    with timed(metadata), kundenstamm.warehouse() as con:
        report = build_golden(con, kundenstamm.settings(), _run_started_at(context))
        metadata.update(table_metadata(con, "golden_customers"))
    metadata.update(report_metadata(report))
    metadata["duplicate_rate"] = dg.MetadataValue.float(round(report.duplicate_rate, 4))
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    deps=[golden_customers],
    description="The contract file marketing reads (customers, customer_sources, "
    "golden_id_history, ...), replaced atomically so readers never wait or see half a version.",
    kinds={"duckdb"},
    **_COMMON,
)
def published_golden(context: dg.AssetExecutionContext, kundenstamm: KundenstammSettings) -> dg.MaterializeResult:
    settings = kundenstamm.settings()
    metadata: dict[str, dg.MetadataValue] = {}
    # Publishing writes a new file, not the warehouse; its safety is the atomic rename.
    with timed(metadata), kundenstamm.warehouse(one_transaction=False) as con:
        report = publish(con, settings.published_path, _run_started_at(context))
    with duckdb.connect(str(settings.published_path), read_only=True) as published:
        metadata.update(table_metadata(published, "customers"))
    metadata.update(report_metadata(report))
    metadata["path"] = dg.MetadataValue.path(str(settings.published_path.resolve()))
    return dg.MaterializeResult(metadata=metadata)


golden_assets = [erasure_applied, golden_customers, published_golden]
