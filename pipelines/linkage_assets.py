"""From raw rows to persons: staging, standardisation, blocking, scoring, clustering."""


import dagster as dg

from linkage.delta import build_pairs, cluster_for_plan, plan_linkage, run_figures, score_for_plan
from linkage.features import build_features
from linkage.settings import GERMAN_SETTINGS
from pipelines.ingest_assets import LANDING_FOLDERS, TRANSIENT_RETRY, WAREHOUSE_POOL, raw_asset_key
from pipelines.metadata import counts_table, report_metadata, run_started_at, table_metadata, timed
from pipelines.resources import KundenstammSettings
from sources.ingest import SOURCE_NAMES
from sources.staging import build_staged_records, last_staging

LINKAGE_GROUP = "linkage"
_COMMON = dict(
    group_name=LINKAGE_GROUP,
    kinds={"duckdb", "sql"},
    owners=["team:data-engineering"],
    pool=WAREHOUSE_POOL,
    retry_policy=TRANSIENT_RETRY,
)


@dg.asset(
    # erasure_applied (pipelines/golden_assets.py) by key: erasure comes before linkage.
    deps=[raw_asset_key(folder) for folder in LANDING_FOLDERS if folder != "reviews"] + [dg.AssetKey("erasure_applied")],
    description="One current row per live source record in one schema for all sources "
    "(snapshot and increment rules applied, erased persons left out).",
    **_COMMON,
)
def staged_records(kundenstamm: KundenstammSettings) -> dg.MaterializeResult:
    metadata: dict[str, dg.MetadataValue] = {}
    with timed(metadata), kundenstamm.warehouse() as con:
        rows = build_staged_records(con)
        per_source = dict(con.execute("SELECT source, count(*) FROM staged_records GROUP BY source ORDER BY 1").fetchall())
        anew, kept = last_staging(con)
        metadata.update(table_metadata(con, "staged_records"))
    if rows == 0:
        # Linking and publishing nothing would fail deep in SQL, or publish an empty table.
        landing = kundenstamm.settings().landing_dir.resolve()
        raise dg.Failure(
            description=f"no customer records to work on: the landing folder {landing} holds no export "
            f"files that loaded (see raw_* and `rejects`); drop exports into its "
            f"{', '.join(f'{name}/' for name in SOURCE_NAMES)} folders (formats: docs/source-exports.md). "
            "The published table, if any, stays as it is.",
            allow_retries=False,
        )
    metadata["records_per_source"] = counts_table(per_source, "source", "records")
    metadata["sources_staged_anew"] = dg.MetadataValue.text(", ".join(anew) or "none")
    metadata["sources_kept"] = dg.MetadataValue.text(", ".join(kept) or "none")
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    deps=[staged_records],
    description="Standardised comparison values per record: folded names, Kölner Phonetik, "
    "E.164 phones, spelled-out streets.",
    **_COMMON,
)
def linkage_features(kundenstamm: KundenstammSettings) -> dg.MaterializeResult:
    metadata: dict[str, dg.MetadataValue] = {}
    with timed(metadata), kundenstamm.warehouse() as con:
        build = build_features(con, everything=kundenstamm.settings().refit)
        metadata["features_built"] = dg.MetadataValue.text("in part" if build.in_part else "everything")
        metadata["feature_rows_rebuilt"] = dg.MetadataValue.int(build.rebuilt)
        metadata.update(table_metadata(con, "linkage_features"))
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    deps=[linkage_features],
    description="Record pairs worth comparing, from the blocking rules in linkage/settings.py: all of "
    "them when the model is (re-)fitted, else only those of the records new or changed since the last run.",
    **_COMMON,
)
def candidate_pairs(context: dg.AssetExecutionContext, kundenstamm: KundenstammSettings) -> dg.MaterializeResult:
    metadata: dict[str, dg.MetadataValue] = {}
    with timed(metadata), kundenstamm.warehouse() as con:
        run_at = run_started_at(context)
        settings = kundenstamm.settings()
        plan = plan_linkage(con, GERMAN_SETTINGS, run_at, **settings.refit_policy())
        per_rule = build_pairs(con, GERMAN_SETTINGS, plan, run_at, settings.engine_choice())
        metadata.update(table_metadata(con, "candidate_pairs"))
        metadata.update(report_metadata(run_figures(con), "linkage."))
    metadata["pairs_per_blocking_rule"] = counts_table(per_rule, "rule", "pairs")
    metadata["note"] = dg.MetadataValue.text(
        "A pair that several rules find is counted once per rule there, and once in dagster/row_count.")
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    deps=[candidate_pairs],
    description="Each candidate pair compared field by field and scored by a Fellegi-Sunter "
    "model estimated without labels (EM), re-fitted on schedule, on request or on drift and "
    "otherwise kept in the warehouse (linkage_model); a delta run scores only the delta's pairs.",
    **_COMMON,
)
def scored_pairs(kundenstamm: KundenstammSettings) -> dg.MaterializeResult:
    metadata: dict[str, dg.MetadataValue] = {}
    with timed(metadata), kundenstamm.warehouse() as con:
        report = score_for_plan(con, GERMAN_SETTINGS, kundenstamm.settings().engine_choice())
        metadata.update(table_metadata(con, "scored_pairs"))
        metadata.update(report_metadata(run_figures(con), "linkage."))
    metadata.update(report_metadata(report))
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    deps=[scored_pairs, raw_asset_key("reviews")],
    description="Records grouped into persons; analysts' review decisions override the model.",
    **_COMMON,
)
def clusters(kundenstamm: KundenstammSettings) -> dg.MaterializeResult:
    metadata: dict[str, dg.MetadataValue] = {}
    with timed(metadata), kundenstamm.warehouse() as con:
        report, touched = cluster_for_plan(con, kundenstamm.match_threshold, GERMAN_SETTINGS,
                                           kundenstamm.settings().engine_choice())
        metadata.update(table_metadata(con, "clusters"))
        metadata.update(report_metadata(run_figures(con), "linkage."))
    metadata.update(report_metadata(report))
    metadata.update(report_metadata(touched, "compared_with_last_run."))
    metadata["duplicate_rate"] = dg.MetadataValue.float(round(report.duplicate_rate, 4))
    return dg.MaterializeResult(metadata=metadata)


linkage_assets = [staged_records, linkage_features, candidate_pairs, scored_pairs, clusters]
