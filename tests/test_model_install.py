"""Installing the stored model (linkage/model_store.py): scoring reads the model in force
even after something else wrote its tables, and the same model is not written twice."""

from __future__ import annotations

import duckdb

from linkage.model_store import copy_unless_same

STORED = [("first_name_std", "anna", 0.01), ("last_name_std", "müller", 0.007), ("last_name_std", "zabel", 1e-6)]


def _with_tables(target_rows: list[tuple] | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE linkage_model_term_frequencies (column_name VARCHAR, value VARCHAR, tf DOUBLE)")
    con.executemany("INSERT INTO linkage_model_term_frequencies VALUES (?, ?, ?)", STORED)
    if target_rows is not None:
        con.execute("CREATE TABLE term_frequencies (column_name VARCHAR, value VARCHAR, tf DOUBLE)")
        if target_rows:
            con.executemany("INSERT INTO term_frequencies VALUES (?, ?, ?)", target_rows)
    return con


def _rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return sorted(con.execute("SELECT * FROM term_frequencies").fetchall())


def _oid(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT table_oid FROM duckdb_tables() WHERE table_name = 'term_frequencies'").fetchall()[0][0]


def test_tables_another_fit_wrote_get_the_stored_models_rows_back():
    # Another fit (an erasure's look-ahead) wrote other frequencies, one row fewer, or a row twice.
    for written in ([("first_name_std", "anna", 0.02), *STORED[1:]], STORED[:2], [*STORED, STORED[0]], [], None):
        con = _with_tables(written)
        copy_unless_same(con, "term_frequencies", "linkage_model_term_frequencies")
        assert _rows(con) == sorted(STORED)


def test_a_table_holding_the_stored_rows_already_is_left_as_it_is():
    con = _with_tables(list(reversed(STORED)))
    before = _oid(con)
    copy_unless_same(con, "term_frequencies", "linkage_model_term_frequencies")
    assert _oid(con) == before and _rows(con) == sorted(STORED)
    con.execute("ALTER TABLE term_frequencies ADD COLUMN note VARCHAR")
    copy_unless_same(con, "term_frequencies", "linkage_model_term_frequencies")
    assert [c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'term_frequencies'"
                                      ).fetchall()] == ["column_name", "value", "tf"]
