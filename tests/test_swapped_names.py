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
        # What the data knows: Sabine, Evelyn, Jonas, Klaus and Monika are first names;
        # Schneider, Seifert and Jonas-as-surname rarely; Meyer and Schmidt surnames.
        [(f"a{i}", "sabine", "schneider") for i in range(6)]
        + [(f"b{i}", "evelyn", "seifert") for i in range(8)]
        + [(f"c{i}", "jonas", "meyer") for i in range(4)]
        + [(f"d{i}", "anna", "von der heide") for i in range(6)]
        + [(f"e{i}", "klaus", "schmidt") for i in range(10)]
        + [(f"f{i}", "monika", "schmidt") for i in range(6)]
        + [
            ("swapped", "schneider", "sabine"),          # `Schneider, Sabine`
            ("double", "seifert meyer", "evelyn"),       # `Seifert-Meyer, Evelyn`, the hyphen lost
            ("particle", "von der heide", "anna"),       # `von der Heide, Anna`: known whole, not as `von`
            ("rare", "quirmbach", "hannelore"),          # names seen too rarely to tell
            ("right", "sabine", "meyer"),
            # A rare surname, known elsewhere only as a surname (the person's other records).
            ("w1", "andreas", "wannwirth"), ("w2", None, "wannwirth"),
            ("rare_swapped", "wannwirth", "klaus"),      # `Wannwirth Klaus` at the hotline
            # Jost is a first name and a surname: the data cannot tell which this one is.
            ("j1", "jost", "hahn"), ("j2", "peter", "jost"),
            ("both_roles", "jost", "klaus"),
            ("lone_first", None, "monika"),              # `Frau Monika`: a first name alone
            ("lone_surname", None, "meyer"),             # `Herr Meyer`
            ("lone_rare", None, "quirmbach"),
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


def test_a_rare_surname_the_other_records_know_only_as_a_surname_changes_places_too(con):
    _put_swapped_names_back(con)
    assert names(con, "rare_swapped") == ("klaus", "wannwirth")
    assert names(con, "w1") == ("andreas", "wannwirth")


def test_a_first_name_the_data_also_knows_as_a_first_name_stays_where_it_was_typed(con):
    _put_swapped_names_back(con)
    assert names(con, "both_roles") == ("jost", "klaus")


def test_a_lone_name_in_the_surname_field_that_is_mostly_a_first_name_becomes_the_first_name(con):
    _put_swapped_names_back(con)
    assert names(con, "lone_first") == ("monika", None)
    assert names(con, "lone_surname") == (None, "meyer")
    assert names(con, "lone_rare") == (None, "quirmbach")
