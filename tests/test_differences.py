"""Writing a slice of a table as its difference: the slice ends up with exactly the new
rows (duplicates and NULLs included), the rest of the table stays, and only the rows that
differ are written."""

from __future__ import annotations

import duckdb

from sources.differences import write_slice_difference

ROWS = [
    # (word, place, golden_id): no key; a row may repeat, a value may be NULL.
    ("mueller", "berlin", "G-1"), ("mueller", "berlin", "G-1"), ("schmidt", None, "G-1"),
    ("meier", "hamburg", "G-2"), ("meier", None, "G-2"),
    ("wolf", "köln", "G-3"),
]


def _table(con: duckdb.DuckDBPyConnection, database: str) -> None:
    con.execute(f"CREATE TABLE {database}.words (word VARCHAR, place VARCHAR, golden_id VARCHAR)")
    con.execute(f"CREATE INDEX words_word ON {database}.words (word)")
    con.executemany(f"INSERT INTO {database}.words VALUES (?, ?, ?)", ROWS)


def _rows(con: duckdb.DuckDBPyConnection, query: str) -> list[tuple]:
    return con.execute(f"{query} ORDER BY ALL NULLS FIRST").fetchall()


def test_the_slice_holds_the_new_rows_and_only_the_differing_rows_are_written(tmp_path):
    con = duckdb.connect()
    con.execute(f"ATTACH '{tmp_path / 'published.duckdb'}' AS copy")
    _table(con, "copy")
    new = [
        ("mueller", "berlin", "G-1"),  # one of the two identical rows stays, one goes
        ("schmidt", None, "G-1"),      # the same with a NULL: stays
        ("meier", "hamburg", "G-2"),   # stays
        ("meier", "bremen", "G-2"),    # replaces the row with no place
        ("meier", "bremen", "G-2"),    # and comes twice
    ]
    con.execute("CREATE TABLE content (golden_id VARCHAR, word VARCHAR, place VARCHAR)")  # another column order
    con.executemany("INSERT INTO content VALUES (?, ?, ?)", [(g, w, p) for w, p, g in new])
    in_slice = "golden_id IN ('G-1', 'G-2')"
    difference = write_slice_difference(con, "words", "SELECT * FROM content", in_slice, database="copy")
    assert _rows(con, f"SELECT * FROM copy.words WHERE {in_slice}") == sorted(new, key=lambda r: (r[0], r[1] or "", r[2]))
    assert _rows(con, "SELECT * FROM copy.words WHERE golden_id = 'G-3'") == [("wolf", "köln", "G-3")]
    assert (difference.deleted, difference.inserted) == (2, 2)
    # The same content again writes nothing.
    again = write_slice_difference(con, "words", "SELECT * FROM content", in_slice, database="copy")
    assert (again.deleted, again.inserted) == (0, 0)
    # The index still finds every row (deleted rows gone from it, new ones in it).
    assert _rows(con, "SELECT place FROM copy.words WHERE word = 'meier'") == [("bremen",), ("bremen",), ("hamburg",)]


def test_an_empty_content_empties_the_slice_of_the_warehouse_table():
    con = duckdb.connect()
    _table(con, "memory")
    difference = write_slice_difference(con, "words", "SELECT * FROM words WHERE false", "golden_id = 'G-2'")
    assert difference.deleted == 2 and difference.inserted == 0
    assert _rows(con, "SELECT DISTINCT golden_id FROM words") == [("G-1",), ("G-3",)]
