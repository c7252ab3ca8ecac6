"""The outboxes: each routed change of the published version, once, to its recipient."""


import dagster as dg

from pipelines.golden_assets import _COMMON, _run_started_at, published_golden
from pipelines.metadata import timed
from pipelines.resources import KundenstammSettings
from warehouse.outbox import deliver_changes
from warehouse.routing import load_routing


@dg.asset(
    # After publishing: only changes of a version readers can see go out.
    deps=[published_golden],
    description="Per recipient of the routing (routing.toml beside the published file, else the default "
    "in warehouse/settings.py) a JSON Lines file of the changes it has not had yet, in "
    "outbox/<recipient>/; outbox_cursor in the warehouse says how far each is served.",
    kinds={"duckdb", "json"},
    **_COMMON,
)
def change_outboxes(context: dg.AssetExecutionContext, kundenstamm: KundenstammSettings) -> dg.MaterializeResult:
    settings = kundenstamm.settings()
    routing = load_routing(settings)
    metadata: dict[str, dg.MetadataValue] = {}
    # One transaction: the cursors move together, after every file is complete.
    with timed(metadata), kundenstamm.warehouse() as con:
        report = deliver_changes(con, settings.outbox_root(), routing, _run_started_at(context))
    metadata["routing"] = dg.MetadataValue.text(report.routing)
    metadata["outbox"] = dg.MetadataValue.path(str(settings.outbox_root().resolve()))
    schema = dg.TableSchema(columns=[dg.TableColumn("recipient", "string"), dg.TableColumn("changes", "int"),
                                     dg.TableColumn("last_change_id", "int"), dg.TableColumn("file", "string")])
    rows = []
    for recipient in routing.recipients:
        files = [str(d.path.resolve()) for d in report.deliveries if d.recipient == recipient and d.path]
        metadata[f"{recipient}.changes"] = dg.MetadataValue.int(report.changes(recipient))
        metadata[f"{recipient}.last_change_id"] = dg.MetadataValue.int(report.cursors[recipient])
        if files:
            metadata[f"{recipient}.file"] = dg.MetadataValue.path(files[0])
        rows.append(dg.TableRecord({"recipient": recipient, "changes": report.changes(recipient),
                                    "last_change_id": report.cursors[recipient], "file": files[0] if files else ""}))
    metadata["deliveries"] = dg.MetadataValue.table(rows, schema=schema)
    return dg.MaterializeResult(metadata=metadata)


outbox_assets = [change_outboxes]
