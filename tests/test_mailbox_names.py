"""Names read from a name-less record's mailbox (linkage/features.py) and how two such
readings compare (linkage/settings.py): hand-made records in a real DuckDB, no pipeline."""

from __future__ import annotations

import duckdb
import pytest

from linkage.comparisons import NULL_LEVEL, gamma_sql
from linkage.features import build_features
from linkage.settings import GERMAN_SETTINGS
from tests.staged import stage_accounts


def _staged(records: list[tuple[str, str | None, str | None, str | None]]) -> duckdb.DuckDBPyConnection:
    """(record_key, first_name, last_name, email) staged as shop accounts and standardised."""
    con = duckdb.connect()
    stage_accounts(con, records)
    build_features(con)
    return con


def _features(records: list[tuple[str, str | None, str | None, str | None]]) -> dict[str, tuple]:
    """Each record's (first_name_std, last_name_std, names_from_mailbox)."""
    with _staged(records) as con:
        return {k: (f, l, m) for k, f, l, m in con.execute(
            "SELECT record_key, first_name_std, last_name_std, names_from_mailbox FROM linkage_features").fetchall()}


def test_an_initial_and_a_surname_is_read_as_that_even_where_typos_make_another_cut_look_like_two_names():
    typed = [(f"shop:T{i}", "Hans", "Müller", None) for i in range(6)]
    # Two records each make `amuel` a first name and `ler` a surname (typos of real data).
    typos = [("shop:Y1", "Amuel", "Berg", None), ("shop:Y2", "Amuel", "Stein", None),
             ("shop:Y3", "Karl", "Ler", None), ("shop:Y4", "Eva", "Ler", None)]
    names = _features(typed + typos + [("shop:N1", None, None, "amueller4711@web.de"),
                                       ("shop:N2", None, None, "a.mueller@gmx.de")])
    assert names["shop:N1"] == (None, "mueller", True)
    assert names["shop:N2"] == (None, "mueller", True)


def test_a_mailbox_of_two_known_names_still_gives_both():
    typed = [("shop:T1", "Gundula", "Meier", None), ("shop:T2", "Gundula", "Schmidt", None),
             ("shop:T3", "Hans", "Quast", None), ("shop:T4", "Karl", "Quast", None)]
    names = _features(typed + [("shop:N1", None, None, "gundulaquast@t-online.de")])
    assert names["shop:N1"] == ("gundula", "quast", True)


@pytest.mark.parametrize("other_email, silent", [
    # Two mailboxes, each read as the same name: namesakes' as likely as one person's.
    ("maria.degenhardt55@gmx.de", True),
    # The same mailbox: the e-mail counts, and the names with it.
    ("maria.degenhardt@web.de", False),
])
def test_two_names_read_from_two_different_mailboxes_say_nothing(other_email, silent):
    typed = [("shop:T1", "Maria", "Oberschelp", None), ("shop:T2", "Maria", "Huber", None),
             ("shop:T3", "Klaus", "Degenhardt", None), ("shop:T4", "Jens", "Degenhardt", None)]
    with _staged(typed + [("shop:N1", None, None, "maria.degenhardt@web.de"), ("shop:N2", None, None, other_email)]) as con:
        levels = con.execute(
            f"""SELECT {gamma_sql(GERMAN_SETTINGS.comparison('first_name'))}, {gamma_sql(GERMAN_SETTINGS.comparison('last_name'))},
                       l.first_name_std, l.last_name_std, r.first_name_std, r.last_name_std
                FROM linkage_features l, linkage_features r WHERE l.record_key = 'shop:N1' AND r.record_key = 'shop:N2'"""
        ).fetchall()[0]
    assert levels[2:] == ("maria", "degenhardt", "maria", "degenhardt")
    if silent:
        assert levels[:2] == (NULL_LEVEL, NULL_LEVEL)
    else:
        assert levels[:2] == (GERMAN_SETTINGS.gamma_of("first_name", "exact"), GERMAN_SETTINGS.gamma_of("last_name", "exact"))


def test_typed_names_still_count_beside_names_read_from_two_mailboxes():
    # Both first names typed, both surnames read from the mailboxes: the typed names agree.
    typed = [("shop:T1", "Thomas", "Mueller", None), ("shop:T2", "Karl", "Mueller", None),
             ("shop:T3", "Thomas", "Berg", None)]
    with _staged(typed + [("shop:N1", "Thomas", None, "thomas.mueller@web.de"),
                          ("shop:N2", "Thomas", None, "thomas.mueller77@gmx.de")]) as con:
        levels = con.execute(
            f"""SELECT {gamma_sql(GERMAN_SETTINGS.comparison('first_name'))}, {gamma_sql(GERMAN_SETTINGS.comparison('last_name'))},
                       l.last_name_std, r.last_name_std
                FROM linkage_features l, linkage_features r WHERE l.record_key = 'shop:N1' AND r.record_key = 'shop:N2'"""
        ).fetchall()[0]
    assert levels == (GERMAN_SETTINGS.gamma_of("first_name", "exact"), NULL_LEVEL, "mueller", "mueller")
