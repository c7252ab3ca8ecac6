"""Raw assets: one per landing folder. Each loads only files it has not seen before."""


import dagster as dg

from pipelines.metadata import report_metadata, timed
from pipelines.resources import KundenstammSettings
from sources.ingest import SOURCE_NAMES, ingest_source
from warehouse.ledger_snapshot import write_ledger_snapshot

INGEST_GROUP = "ingest"
WAREHOUSE_POOL = "warehouse"
TRANSIENT_RETRY = dg.RetryPolicy(max_retries=2, delay=2)

_DESCRIPTIONS = {
    "shop": "Online-shop account snapshots (JSON Lines); the newest snapshot wins.",
    "newsletter": "Newsletter subscriber snapshots (CSV with BOM), unsubscribed ones included.",
    "hotline": "Call-center ticket increments (CSV, multi-line notes); tickets accumulate.",
    "pos": "Loyalty-card increments from the tills (cp1252, `;`); newest row per card wins.",
    "erasure": "Data-protection erasure requests (GDPR Art. 17).",
    "reviews": "Analysts' decisions on uncertain pairs (landing/reviews/*.csv).",
}

# Every folder the sensor watches, in the order a run ingests them.
LANDING_FOLDERS = (*SOURCE_NAMES, "erasure", "reviews")


def raw_asset_key(folder: str) -> dg.AssetKey:
    return dg.AssetKey(f"raw_{folder}")


def _raw_asset(folder: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"raw_{folder}",
        group_name=INGEST_GROUP,
        description=_DESCRIPTIONS[folder],
        kinds={"duckdb", "csv" if folder != "shop" else "json"},
        owners=["team:data-engineering"],
        pool=WAREHOUSE_POOL,
        retry_policy=TRANSIENT_RETRY,
    )
    def raw(context: dg.AssetExecutionContext, kundenstamm: KundenstammSettings) -> dg.MaterializeResult:
        settings = kundenstamm.settings()
        metadata: dict[str, dg.MetadataValue] = {}
        with timed(metadata), kundenstamm.warehouse(one_transaction=False) as con:
            report = ingest_source(con, folder, settings.landing_dir)
            # What the sensor compares the landing folder with (it cannot open the warehouse).
            write_ledger_snapshot(con, settings.warehouse_path)
        for file in report.files:
            if file.status == "rejected":
                context.log.warning(f"{folder}: file {file.file_name} rejected: {file.reason}")
            elif file.rows_rejected:
                context.log.warning(
                    f"{folder}: {file.rows_rejected} rows of {file.file_name} set aside in `rejects`"
                )
        metadata.update(report_metadata(report.summary()))
        metadata["files"] = dg.MetadataValue.md(
            "\n".join(f"- `{f.file_name}`: {f.status}, {f.rows_loaded} rows loaded, {f.rows_rejected} rejected"
                      + (f" ({f.reason})" if f.reason else "") for f in report.files) or "no new files"
        )
        return dg.MaterializeResult(metadata=metadata)

    return raw


raw_assets = [_raw_asset(folder) for folder in LANDING_FOLDERS]
