"""A features build in part (linkage/feature_scope.py) gives every row what a build of
everything gives it, also the rows of records the delivery did not touch whose names or
household mark another record's arrival or departure moved. Real DuckDB files: the build in
part in one, a copy of it built anew in full beside it, the two tables compared row for row."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from demo.generate import generate
from linkage.features import build_features, relearn_first_name_variants
from linkage.name_variants import STORED_VARIANTS
from pipelines.steps import run_all_steps
from tests.generated import deliver, delivery_days
from tests.staged import stage_accounts
from warehouse.settings import Settings

T0 = datetime(2026, 11, 20, 7)


def _differences_from_a_build_of_everything(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, int]:
    """Rows of `linkage_features` and of the build's kept inputs that differ (either way)
    between the warehouse at `path` and a copy of it whose features are built anew in full."""
    con.execute("CHECKPOINT")
    copy = path.with_name("everything.duckdb")
    shutil.copyfile(path, copy)
    with duckdb.connect(str(copy)) as other:
        assert not build_features(other, everything=True).in_part
    con.execute(f"ATTACH '{copy}' AS everything (READ_ONLY)")
    try:
        return {table: con.execute(
            f"""SELECT (SELECT count(*) FROM (SELECT * FROM main.{table} EXCEPT ALL SELECT * FROM everything.{table}))
                     + (SELECT count(*) FROM (SELECT * FROM everything.{table} EXCEPT ALL SELECT * FROM main.{table}))"""
        ).fetchall()[0][0] for table in ("linkage_features", "linkage_feature_inputs")}
    finally:
        con.execute("DETACH everything")
        copy.unlink()


def _row(con: duckdb.DuckDBPyConnection, key: str) -> tuple:
    return con.execute("SELECT first_name_std, last_name_std, names_from_mailbox, email_shared FROM linkage_features "
                       "WHERE record_key = ?", [key]).fetchall()[0]


def test_a_build_in_part_moves_the_untouched_records_another_record_moves_as_a_build_of_everything_does(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    andis = [(f"shop:A{i}", "Andi", f"Berg{i}", None) for i in range(6)]
    stage_accounts(con, andis + [
        # Typed the wrong way round; while no record knows `Wannwirth` as a surname, it stays so.
        ("shop:W1", "Wannwirth", "Andi", None),
        # A name-less subscriber whose mailbox spells a first name the data knows and a surname it does not yet.
        ("shop:M1", None, None, "ljiljana.ackerbach@web.de"), ("shop:L1", "Ljiljana", "Berg", None),
        ("shop:H1", "Thomas", "Weber", "familie.weber@web.de"),
        *[(f"shop:X{i}", "Erika", f"Stein{i}", f"erika.stein{i}@web.de") for i in range(20)],
    ])
    assert not build_features(con).in_part
    assert _row(con, "shop:W1")[:2] == ("wannwirth", "andi")
    assert _row(con, "shop:M1")[:3] == (None, None, False)
    assert _row(con, "shop:H1")[3] is False
    # A stored model keeps the variants the features were built with (linkage/model_store.py).
    con.execute(f"CREATE TABLE {STORED_VARIANTS} AS SELECT * FROM first_name_variants")

    # The next delivery brings three records, each of which moves one the delivery leaves alone.
    stage_accounts(con, [("shop:W2", "Andi", "Wannwirth", None), ("shop:K1", "Karl", "Ackerbach", None),
                 ("shop:H2", "Sabine", "Weber", "familie.weber@web.de")])
    build = build_features(con)
    assert build.in_part and build.rebuilt < build.records
    assert _row(con, "shop:W1")[:2] == ("andi", "wannwirth")
    assert _row(con, "shop:M1")[:3] == ("ljiljana", "ackerbach", True)
    assert _row(con, "shop:H1")[3] is True
    assert _differences_from_a_build_of_everything(con, path) == {"linkage_features": 0, "linkage_feature_inputs": 0}

    # They go again: the others move back.
    con.execute("DELETE FROM staged_records WHERE record_key IN ('shop:W2', 'shop:K1', 'shop:H2')")
    build = build_features(con)
    assert build.in_part and build.rebuilt < build.records
    assert _row(con, "shop:W1")[:2] == ("wannwirth", "andi")
    assert _row(con, "shop:M1")[:3] == (None, None, False)
    assert _row(con, "shop:H1")[3] is False
    assert _differences_from_a_build_of_everything(con, path) == {"linkage_features": 0, "linkage_feature_inputs": 0}

    # Other variants in force (a re-fit learned them): everything is built with them.
    con.execute(f"INSERT INTO {STORED_VARIANTS} (name_a, name_b) VALUES ('andi', 'andreas')")
    assert not build_features(con).in_part
    assert con.execute("SELECT first_name_variants FROM linkage_features WHERE record_key = 'shop:A0'").fetchall() == [(["andreas"],)]

    # A re-fit relearns the variants into the stored rows (none here) and stops before its
    # model, and the variants with it, is stored: the next build starts from none of that.
    relearn_first_name_variants(con)
    stage_accounts(con, [("shop:N9", "Nora", "Brandt", None)])
    assert not build_features(con).in_part
    assert _differences_from_a_build_of_everything(con, path) == {"linkage_features": 0, "linkage_feature_inputs": 0}
    con.close()


def test_a_delivery_day_built_in_part_equals_a_build_of_everything(tmp_path):
    """Generated exports: day 1 run in full, day 2 (shop and newsletter snapshots, hotline and
    POS files, no erasure requests) up to the features, built in part and in full."""
    generate(tmp_path / "demo", persons=1500, seed=11, days=2)
    days = delivery_days(tmp_path / "demo" / "landing")
    root = tmp_path / "state"
    settings = Settings(landing_dir=root / "landing", warehouse_path=root / "warehouse.duckdb",
                        published_path=root / "golden.duckdb", reports_dir=root / "reports")
    sources = ("shop", "newsletter", "hotline", "pos")
    deliver(tmp_path / "demo" / "landing", settings.landing_dir, days[0], sources)
    run_all_steps(settings, T0, publish_result=False)
    deliver(tmp_path / "demo" / "landing", settings.landing_dir, days[1], sources)
    build = run_all_steps(settings, T0 + timedelta(hours=1), until="features").reports["features"]
    assert build.in_part and 0 < build.rebuilt < build.records / 2
    with duckdb.connect(str(settings.warehouse_path)) as con:
        assert _differences_from_a_build_of_everything(con, settings.warehouse_path) == {
            "linkage_features": 0, "linkage_feature_inputs": 0}
