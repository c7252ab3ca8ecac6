"""Raw assets: one per landing folder. Each loads only files it has not seen before."""


from datetime import datetime, timezone

import dagster as dg

from pipelines.metadata import counts_table, report_metadata, table_metadata, timed
from pipelines.resources import KundenstammSettings
from sources import ingest
from sources.ledger import newest_delivery
from sources.snapshots import held_back
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
LANDING_FOLDERS = ingest.LANDING_FOLDERS
ACCEPT_COMMAND = "kundenstamm accept-snapshot {file}"


def raw_asset_key(folder: str) -> dg.AssetKey:
    return dg.AssetKey(f"raw_{folder}")


def _snapshot_check(con, folder: str) -> dg.AssetCheckResult:
    held = held_back(con, folder)
    return dg.AssetCheckResult(
        check_name="snapshot_in_force",
        passed=not held,
        severity=dg.AssetCheckSeverity.WARN,
        description="The newest delivered snapshot is the one in force (none is held back).",
        metadata={
            "held_back": dg.MetadataValue.md(
                "\n".join(f"- `{name}`: {reason}. To apply it anyway: `{ACCEPT_COMMAND.format(file=name)}`"
                          for name, reason in held) or "none"),
        },
    )


def _rejects_by_reason(con, file_hashes: list[str]) -> dg.MetadataValue:
    """This run's rejected rows per reason (without the values a reason quotes)."""
    rows = con.execute(
        "SELECT split_part(reason, ': ', 1), count(*) FROM rejects WHERE list_contains(?, file_hash) "
        "GROUP BY 1 ORDER BY 2 DESC, 1", [file_hashes]).fetchall() if file_hashes else []
    return counts_table(dict(rows), "reason", "rows")


def _log_files(context: dg.AssetExecutionContext, folder: str, report: ingest.IngestReport) -> None:
    for file in report.files:
        if file.status in ("rejected", "held", "ignored"):
            log = context.log.info if file.status == "ignored" else context.log.warning
            log(f"{folder}: file {file.file_name} {file.status}: {file.reason}")
        elif file.rows_rejected:
            context.log.warning(f"{folder}: {file.rows_rejected} rows of {file.file_name} set aside in `rejects`")


def _freshness_check(con, folder: str, max_age_hours: float) -> dg.AssetCheckResult:
    newest = newest_delivery(con, folder)
    age = None if newest is None else (datetime.now(timezone.utc).replace(tzinfo=None) - newest).total_seconds() / 3600
    return dg.AssetCheckResult(
        check_name="export_arrived",
        passed=age is not None and age <= max_age_hours,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"A new {folder} export arrived within the last {max_age_hours:g} hours.",
        metadata={"newest_export_loaded_at": dg.MetadataValue.text(f"{newest:%Y-%m-%d %H:%M} UTC" if newest else "never"),
                  "hours_ago": dg.MetadataValue.float(round(age, 1) if age is not None else -1.0)},
    )


def _raw_asset(folder: str) -> dg.AssetsDefinition:
    snapshot = ingest.SPECS[folder].snapshot
    # Customer systems export every day; erasure requests and review decisions come when they come.
    daily = folder in ingest.SOURCE_NAMES
    specs = ([dg.AssetCheckSpec("snapshot_in_force", asset=f"raw_{folder}", description="No newer snapshot is held back.")]
             if snapshot else []) + ([dg.AssetCheckSpec("export_arrived", asset=f"raw_{folder}",
                                                         description="A daily export arrived in time.")] if daily else [])

    @dg.asset(
        name=f"raw_{folder}",
        group_name=INGEST_GROUP,
        description=_DESCRIPTIONS[folder],
        kinds={"duckdb", "csv" if folder != "shop" else "json"},
        owners=["team:data-engineering"],
        pool=WAREHOUSE_POOL,
        retry_policy=TRANSIENT_RETRY,
        check_specs=specs or None,
    )
    def raw(context: dg.AssetExecutionContext, kundenstamm: KundenstammSettings) -> dg.MaterializeResult:
        settings = kundenstamm.settings()
        metadata: dict[str, dg.MetadataValue] = {}
        checks = []
        with timed(metadata), kundenstamm.warehouse(one_transaction=False) as con:
            report = ingest.ingest_source(con, folder, settings.landing_dir, settings.ingest_limits())
            # What the sensor compares the landing folder with (it cannot open the warehouse).
            write_ledger_snapshot(con, settings.warehouse_path)
            if snapshot:
                checks.append(_snapshot_check(con, folder))
            if daily:
                checks.append(_freshness_check(con, folder, settings.max_export_age_hours))
            metadata.update(table_metadata(con, f"raw_{folder}"))
            metadata["rejects_by_reason"] = _rejects_by_reason(con, [f.file_hash for f in report.files])
        _log_files(context, folder, report)
        metadata.update(report_metadata(report.summary()))
        metadata["files"] = dg.MetadataValue.md(
            "\n".join(f"- `{f.file_name}`: {f.status}, {f.rows_loaded} rows loaded, {f.rows_rejected} rejected"
                      + (f" ({f.reason})" if f.reason else "") for f in report.files) or "no new files"
        )
        return dg.MaterializeResult(metadata=metadata, check_results=checks)

    return raw


@dg.asset(
    group_name=INGEST_GROUP,
    description="Files under the landing folder that no reader takes (unknown folders, files "
    "beside the folders), recorded in the file ledger as ignored so they show in the report.",
    kinds={"duckdb"},
    owners=["team:data-engineering"],
    pool=WAREHOUSE_POOL,
    retry_policy=TRANSIENT_RETRY,
)
def landing_inventory(context: dg.AssetExecutionContext, kundenstamm: KundenstammSettings) -> dg.MaterializeResult:
    with kundenstamm.warehouse() as con:
        report = ingest.record_unknown_files(con, kundenstamm.settings().landing_dir)
    _log_files(context, "landing", report)
    return dg.MaterializeResult(metadata={"files_ignored": dg.MetadataValue.int(report.files_ignored)})


raw_assets = [_raw_asset(folder) for folder in LANDING_FOLDERS] + [landing_inventory]
