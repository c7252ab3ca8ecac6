"""A source whose inputs did not change keeps its staged rows; the rows are those a staging
from scratch gives, whatever landed (sources/staging_inputs.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from demo.generate import generate
from sources.ingest import SPECS, ingest_source
from sources.staging import build_staged_records, staging_generation
from sources.staging_inputs import staged_in
from tests.generated import deliver, delivery_days


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("staging_reuse")
    generate(root / "demo", persons=250, seed=21, days=2)
    return root / "demo" / "landing"


def _stage(con: duckdb.DuckDBPyConnection, landing: Path) -> dict[str, int | None]:
    for source in SPECS:
        ingest_source(con, source, landing)
    build_staged_records(con)
    return staged_in(con)


def _staged(path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ("staged_records", "staged_sensitive")}


def _from_scratch(warehouse: Path, tmp_path: Path) -> dict[str, list[tuple]]:
    """The same warehouse staged with no signature kept: every source anew."""
    copy = tmp_path / "scratch.duckdb"
    shutil.copyfile(warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("DROP TABLE staging_inputs")
        build_staged_records(con)
        assert set(staged_in(con).values()) == {staging_generation(con)}
    return _staged(copy)


def test_only_the_sources_whose_inputs_changed_are_staged_anew(exports, tmp_path):
    day1, day2 = delivery_days(exports)[:2]
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    deliver(exports, landing, day1, tuple(SPECS))
    with duckdb.connect(str(warehouse)) as con:
        assert set(_stage(con, landing).values()) == {1}
        # Nothing new: every source keeps its rows.
        assert _stage(con, landing) == {"hotline": 1, "newsletter": 1, "pos": 1, "shop": 1}
    # A hotline and a till increment: the shop's and the newsletter's snapshots stay.
    deliver(exports, landing, day2, ("hotline", "pos"))
    with duckdb.connect(str(warehouse)) as con:
        assert _stage(con, landing) == {"hotline": 3, "newsletter": 1, "pos": 3, "shop": 1}
    assert _staged(warehouse) == _from_scratch(warehouse, tmp_path)
    # A new shop snapshot: the cards are staged anew too, their country is read from the shop's places.
    deliver(exports, landing, day2, ("shop",))
    with duckdb.connect(str(warehouse)) as con:
        assert _stage(con, landing) == {"hotline": 3, "newsletter": 1, "pos": 4, "shop": 4}
    assert _staged(warehouse) == _from_scratch(warehouse, tmp_path)


def test_an_erasure_stages_every_source_anew(exports, tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    deliver(exports, landing, delivery_days(exports)[0], tuple(SPECS))
    with duckdb.connect(str(warehouse)) as con:
        _stage(con, landing)
        email = con.execute("SELECT email FROM staged_records WHERE source = 'shop' AND email IS NOT NULL "
                            "ORDER BY record_key LIMIT 1").fetchall()[0][0]
        con.execute("CREATE TABLE erased_identifiers (kind VARCHAR, hash VARCHAR)")
        con.execute("INSERT INTO erased_identifiers SELECT 'email', sha256(lower(?))", [email])
        assert set(_stage(con, landing).values()) == {2}
        assert not con.execute("SELECT count(*) FROM staged_records WHERE lower(email) = lower(?)", [email]).fetchall()[0][0]
