"""Names typed the wrong way round are put back by what the whole data says each name is
(`linkage.features._put_swapped_names_back`). Real DuckDB, hand-made feature rows."""

from __future__ import annotations

import duckdb
import pytest

from linkage.features import _put_swapped_names_back


@pytest.fixture
def con():
    con = duckdb.connect()
    rows = (
        # What the data knows: Sabine, Evelyn and Jonas are first names; Schneider, Seifert and
        # Jonas-as-surname rarely; Meyer a surname.
        [(f"a{i}", "sabine", "schneider") for i in range(6)]
        + [(f"b{i}", "evelyn", "seifert") for i in range(8)]
        + [(f"c{i}", "jonas", "meyer") for i in range(4)]
        + [(f"d{i}", "anna", "von der heide") for i in range(6)]
        + [
            ("swapped", "schneider", "sabine"),          # `Schneider, Sabine`
            ("double", "seifert meyer", "evelyn"),       # `Seifert-Meyer, Evelyn`, the hyphen lost
            ("particle", "von der heide", "anna"),       # `von der Heide, Anna`: known whole, not as `von`
            ("rare", "quirmbach", "hannelore"),          # names seen too rarely to tell
            ("right", "sabine", "meyer"),
        ]
    )
    con.execute("CREATE TEMP TABLE linkage_features (record_key VARCHAR, first_name_std VARCHAR, last_name_std VARCHAR)")
    con.executemany("INSERT INTO linkage_features VALUES (?, ?, ?)", rows)
    yield con
    con.close()


def names(con, key):
    return con.execute("SELECT first_name_std, last_name_std FROM linkage_features WHERE record_key = ?", [key]).fetchone()


def test_a_first_name_that_is_mostly_a_surname_changes_places_with_a_surname_that_is_mostly_a_first_name(con):
    _put_swapped_names_back(con)
    assert names(con, "swapped") == ("sabine", "schneider")
    assert names(con, "right") == ("sabine", "meyer")
    assert names(con, "a0") == ("sabine", "schneider")


def test_a_double_surname_in_the_first_name_field_is_known_by_its_first_part_and_gets_its_hyphen_back(con):
    _put_swapped_names_back(con)
    assert names(con, "double") == ("evelyn", "seifert-meyer")


def test_names_the_data_cannot_tell_apart_stay_as_typed(con):
    _put_swapped_names_back(con)
    assert names(con, "rare") == ("quirmbach", "hannelore")


def test_a_surname_with_spaces_the_data_knows_whole_changes_places_whole(con):
    _put_swapped_names_back(con)
    assert names(con, "particle") == ("anna", "von der heide")
