"""Outboxes over real pipeline runs of generated exports: each routed change reaches its
recipient exactly once, across reruns, a killed delivery and erasures; the routing is data."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from demo.generate import generate
from pipelines.outbox_assets import change_outboxes
from pipelines.resources import KundenstammSettings
from pipelines.steps import run_all_steps
from warehouse.outbox import deliver_changes, outbox_files
from warehouse.routing import RoutingError, load_routing
from warehouse.settings import Settings

from tests.conftest import PROJECT_ROOT
from tests.generated import deliver, delivery_days

DAY_ONE, DAY_TWO, DAY_THREE = datetime(2026, 11, 20, 7), datetime(2026, 11, 21, 7), datetime(2026, 11, 22, 7)


def settings_in(site: Path) -> Settings:
    return Settings(landing_dir=site / "landing", warehouse_path=site / "warehouse.duckdb",
                    published_path=site / "golden.duckdb", reports_dir=site / "reports")


@pytest.fixture(scope="module")
def two_days(tmp_path_factory) -> Path:
    """Day one run and delivered; day two run and published, its changes not yet delivered."""
    root = tmp_path_factory.mktemp("outbox")
    generate(root / "demo", persons=600, seed=41, days=2)
    first, second = delivery_days(root / "demo" / "landing")
    deliver(root / "demo" / "landing", root / "site" / "landing", first)
    run_all_steps(settings_in(root / "site"), DAY_ONE)
    deliver(root / "demo" / "landing", root / "site" / "landing", second)
    run_all_steps(settings_in(root / "site"), DAY_TWO, deliver_outboxes=False)
    return root / "site"


@pytest.fixture
def site(two_days, tmp_path) -> Path:
    shutil.copytree(two_days, tmp_path / "site")
    return tmp_path / "site"


def warehouse(site: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(site / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def delivered(site: Path, recipient: str) -> list[dict]:
    """Every line of every file of the recipient's outbox, in delivery order."""
    return [json.loads(line) for _, _, path in outbox_files(site / "outbox" / recipient)
            for line in path.read_text(encoding="utf-8").splitlines()]


def file_bytes(site: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted((site / "outbox").rglob("*")) if p.is_file()}


def cursor(site: Path) -> dict[str, int]:
    return dict(warehouse(site, "SELECT recipient, last_change_id FROM outbox_cursor"))


def routed_ids(site: Path, routes: dict[str, tuple[str, ...]], recipient: str, after: int) -> set[int]:
    """What the routing sends the recipient, worked out here from the change feed itself."""
    keys = [k for k, recipients in routes.items() if recipient in recipients]
    rows = warehouse(site, "SELECT change_id, change_type, column_name, golden_id FROM customer_changes WHERE change_id > ?",
                     [after])
    erased = {r[0] for r in warehouse(site, "SELECT golden_id FROM golden_ids WHERE retired_reason = 'erased'")}
    return {i for i, kind, column, golden_id in rows
            if (kind in keys or (kind == "updated" and f"updated.{column}" in keys))
            and (kind == "erased" or golden_id not in erased)}


def test_a_consent_withdrawal_lands_in_the_marketing_outbox_once_and_a_rerun_adds_nothing(site):
    settings = settings_in(site)
    day_one_end = cursor(site)["marketing"]
    withdrawn = warehouse(site, "SELECT change_id, golden_id FROM customer_changes WHERE change_type = 'consent_withdrawn' "
                                "AND change_id > ?", [day_one_end])
    assert withdrawn, "the generated second day withdraws some consents"

    # Delivered by the Dagster asset, as a run would.
    resource = KundenstammSettings.from_settings(settings)
    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize([change_outboxes], resources={"kundenstamm": resource}, instance=instance).success
    metadata = instance.get_latest_materialization_event(dg.AssetKey("change_outboxes")).asset_materialization.metadata

    marketing = delivered(site, "marketing")
    ids = [row["change_id"] for row in marketing]
    assert len(ids) == len(set(ids))
    assert set(ids) == routed_ids(site, Settings.DEFAULT_ROUTING, "marketing", day_one_end)
    for change_id, golden_id in withdrawn:
        [line] = [row for row in marketing if row["change_id"] == change_id]
        assert (line["golden_id"], line["change_type"], line["old_value"], line["new_value"]) == (
            golden_id, "consent_withdrawn", "true", "false")
    shop = delivered(site, "shop")
    assert {row["change_id"] for row in shop} == routed_ids(site, Settings.DEFAULT_ROUTING, "shop", day_one_end)
    assert not {row["change_type"] for row in shop} & {"consent_given", "consent_withdrawn"}
    end = warehouse(site, "SELECT max(change_id) FROM customer_changes")[0][0]
    assert cursor(site) == {"marketing": end, "shop": end}

    # What Dagster shows: per recipient the changes routed and the file.
    [(_, _, marketing_file)] = outbox_files(site / "outbox" / "marketing")
    assert metadata["marketing.changes"].value == len(marketing)
    assert metadata["shop.changes"].value == len(shop)
    assert metadata["marketing.file"].value == str(marketing_file.resolve())
    assert {r.data["recipient"]: r.data["changes"] for r in metadata["deliveries"].value.records} == {
        "marketing": len(marketing), "shop": len(shop)}

    # Delivering again, and a whole rerun with nothing new: nothing is sent twice.
    before = file_bytes(site)
    with duckdb.connect(str(site / "warehouse.duckdb")) as con:
        again = deliver_changes(con, settings.outbox_root(), load_routing(settings), DAY_THREE)
    assert again.deliveries == [] and file_bytes(site) == before
    run_all_steps(settings, DAY_THREE)
    after = file_bytes(site)
    assert {k: v for k, v in after.items() if k in before} == before
    rerun_changes = {r[0] for r in warehouse(site, "SELECT change_id FROM customer_changes WHERE run_at = ?", [DAY_THREE])}
    for recipient in ("marketing", "shop"):
        ids = [row["change_id"] for row in delivered(site, recipient)]
        assert len(ids) == len(set(ids))
        assert set(ids) - set(r["change_id"] for r in (marketing if recipient == "marketing" else shop)) <= rerun_changes
    if not rerun_changes:
        assert after == before


KILLED_DELIVERY = """
import os, signal, sys
from pathlib import Path
from warehouse.connection import open_warehouse
from warehouse.outbox import write_outbox_files
from warehouse.routing import load_routing
from warehouse.settings import Settings

site = Path(sys.argv[1])
settings = Settings(warehouse_path=site / "warehouse.duckdb", published_path=site / "golden.duckdb")
con = open_warehouse(settings.warehouse_path)
written = write_outbox_files(con, settings.outbox_root(), load_routing(settings))
print(sum(d.changes for d in written), flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # after the files, before any cursor moved
"""


def test_a_delivery_killed_between_file_and_cursor_sends_nothing_twice(site):
    settings = settings_in(site)
    day_one = cursor(site)
    killed = subprocess.run([sys.executable, "-c", KILLED_DELIVERY, str(site)], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert int(killed.stdout) > 0
    assert cursor(site) == day_one
    left = file_bytes(site)
    assert left and not [p for p in left if Path(p).name.startswith(".")]

    # The next delivery finds the file complete: it counts as delivered, the cursor catches up.
    with duckdb.connect(str(site / "warehouse.duckdb")) as con:
        report = deliver_changes(con, settings.outbox_root(), load_routing(settings), DAY_THREE)
    assert report.deliveries == [] and file_bytes(site) == left
    end = warehouse(site, "SELECT max(change_id) FROM customer_changes")[0][0]
    assert cursor(site) == {"marketing": end, "shop": end}

    # Killed again, then a new delivery day arrives before anything else runs: a POS card
    # moves. The run sends the move once and nothing of the killed delivery again.
    card = _move_a_card(site)
    killed = subprocess.run([sys.executable, "-c", KILLED_DELIVERY, str(site)], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL and int(killed.stdout) == 0  # nothing new yet
    run_all_steps(settings, DAY_THREE)
    assert {k: v for k, v in file_bytes(site).items() if k in left} == left
    golden_id = warehouse(site, "SELECT golden_id FROM golden_membership WHERE record_key = ?", [card])[0][0]
    shop = delivered(site, "shop")
    ids = [row["change_id"] for row in shop]
    assert len(ids) == len(set(ids))
    moves = [row for row in shop if row["golden_id"] == golden_id and row["column_name"] == "street"]
    assert [row["new_value"] for row in moves][-1:] == ["Neue Gasse"]
    assert len([row for row in moves if row["new_value"] == "Neue Gasse"]) == 1
    end = warehouse(site, "SELECT max(change_id) FROM customer_changes")[0][0]
    assert cursor(site) == {"marketing": end, "shop": end}


def _move_a_card(site: Path) -> str:
    """A POS increment of the next day: one card of a one-record customer at a new street."""
    source = sorted((site / "landing" / "pos").glob("*.csv"))[-1]
    record_key = warehouse(site, """
        SELECT m.record_key FROM golden_membership m JOIN golden_customers c USING (golden_id)
        JOIN staged_records r USING (record_key)
        WHERE r.source = 'pos' AND r.file_name = ? AND c.street IS NOT NULL AND c.source_count = 1
        ORDER BY m.record_key LIMIT 1""", [source.name])[0][0]
    header, *rows = source.read_text(encoding="cp1252").splitlines()
    card = record_key.split(":", 1)[1]
    [row] = [r for r in rows if r.split(";")[0] == card]
    fields = row.split(";")
    fields[header.split(";").index("Strasse")] = "Neue Gasse 7"
    fields[header.split(";").index("Letzter_Einkauf")] = "22.11.2026"
    target = site / "landing" / "pos" / "kunden_2026-11-22.csv"
    target.write_text(header + "\n" + ";".join(fields) + "\n", encoding="cp1252")
    return record_key


def test_no_file_written_after_an_erasure_carries_the_erased_persons_data(site):
    settings = settings_in(site)
    day_one_end = cursor(site)["marketing"]
    # Day two delivered to the shop only (a routing file that names no other recipient):
    # the shop has its changes, marketing's wait.
    (site / "routing.toml").write_text('[routes]\n"updated.street" = ["shop"]\n"updated.city" = ["shop"]\n',
                                       encoding="utf-8")
    with duckdb.connect(str(site / "warehouse.duckdb")) as con:
        deliver_changes(con, settings.outbox_root(), load_routing(settings), DAY_TWO)
    shop_before = file_bytes(site)
    moved = {row["golden_id"] for row in delivered(site, "shop")}
    assert moved
    # Someone the shop was told about, and someone whose consent e-mail change marketing has not had.
    shop_person = sorted(moved)[0]
    marketing_person, old_email = warehouse(site, """
        SELECT golden_id, old_value FROM customer_changes
        WHERE column_name = 'consent_email' AND old_value IS NOT NULL AND change_id > ? AND golden_id <> ?
        ORDER BY golden_id LIMIT 1""", [day_one_end, shop_person])[0]
    (site / "routing.toml").unlink()
    erasure = site / "landing" / "erasure" / "office_request_2026-11-22.csv"
    erasure.write_text("request_id,received_at,email,phone,golden_id\n"
                       f"OUT-1,2026-11-22T06:00:00Z,,,{shop_person}\nOUT-2,2026-11-22T06:00:00Z,,,{marketing_person}\n",
                       encoding="utf-8")
    run_all_steps(settings, DAY_THREE)

    # What the shop had stays; what was written after the erasure says "erased" and nothing else.
    assert {k: v for k, v in file_bytes(site).items() if k in shop_before} == shop_before
    for recipient in ("marketing", "shop"):
        new_files = [p for _, _, p in outbox_files(site / "outbox" / recipient)
                     if str(p.relative_to(site)) not in shop_before]
        assert new_files, recipient
        rows = [json.loads(line) for p in new_files for line in p.read_text(encoding="utf-8").splitlines()]
        of_erased = [(r["golden_id"], r["change_type"], r["old_value"], r["new_value"]) for r in rows
                     if r["golden_id"] in (shop_person, marketing_person)]
        assert sorted(of_erased) == sorted([(shop_person, "erased", None, None), (marketing_person, "erased", None, None)])
        assert not [p for p in new_files if old_email in p.read_text(encoding="utf-8")]
    # Nor does the change feed keep their values (it keeps that they changed).
    for database in ("warehouse.duckdb", "golden.duckdb"):
        with duckdb.connect(str(site / database), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM customer_changes WHERE golden_id IN (?, ?) "
                               "AND (old_value IS NOT NULL OR new_value IS NOT NULL)",
                               [shop_person, marketing_person]).fetchall() == [(0,)]
            assert con.execute("SELECT count(*) FROM customer_changes WHERE golden_id = ? AND change_type = 'updated'",
                               [marketing_person]).fetchall()[0][0] > 0
    # Marketing still got everything else of day two that was routed to it.
    marketing_ids = {row["change_id"] for row in delivered(site, "marketing")}
    assert marketing_ids == routed_ids(site, Settings.DEFAULT_ROUTING, "marketing", day_one_end)


def test_a_routing_file_replaces_the_default_and_an_unknown_change_type_is_a_clear_error(site):
    settings = settings_in(site)
    (site / "routing.toml").write_text('[routes]\ncreated = ["crm"]\n"updated.last_name" = ["crm", "shop"]\n',
                                       encoding="utf-8")
    routing = load_routing(settings)
    assert routing.recipients == ["crm", "shop"]
    with duckdb.connect(str(site / "warehouse.duckdb")) as con:
        deliver_changes(con, settings.outbox_root(), routing, DAY_THREE)
    crm = delivered(site, "crm")
    # A recipient new to the routing gets the feed from its first change.
    routes = {"created": ("crm",), "updated.last_name": ("crm", "shop")}
    assert [r["change_id"] for r in crm] == sorted(routed_ids(site, routes, "crm", 0))
    assert {r["change_type"] for r in crm} == {"created", "updated"}
    assert {r["column_name"] for r in crm if r["change_type"] == "updated"} == {"last_name"}
    assert not outbox_files(site / "outbox" / "marketing")  # day one's changes were none of its routes

    (site / "routing.toml").write_text('[routes]\nadress_changed = ["shop"]\n', encoding="utf-8")
    with pytest.raises(RoutingError, match=r"unknown change type 'adress_changed'.*consent_withdrawn.*updated\.<column>"):
        load_routing(settings)
    with pytest.raises(RoutingError, match="adress_changed"):
        run_all_steps(settings, DAY_THREE)
    (site / "routing.toml").write_text('[routes]\nerased = ["../elsewhere"]\n', encoding="utf-8")
    with pytest.raises(RoutingError, match="recipient '../elsewhere'"):
        load_routing(settings)
    # Another file, named in the settings, works the same way.
    other = site / "my-routing.toml"
    other.write_text('[routes]\nerased = ["archive"]\n', encoding="utf-8")
    assert load_routing(Settings(published_path=site / "golden.duckdb", routing_file=other)).pairs == (("erased", "archive"),)
