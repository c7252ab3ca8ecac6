"""First-name variants learned from shared contact points: a nickname's pair is learned,
a couple's names on family mailboxes are not. Real DuckDB, hand-made records."""

from __future__ import annotations

import duckdb

from linkage.name_variants import learn_first_name_variants


def _features(rows: list[tuple[str, str | None, str | None]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("""CREATE TABLE linkage_features (record_key VARCHAR, first_name_key VARCHAR, email_std VARCHAR,
                   phone_e164 VARCHAR, phone_is_mobile BOOLEAN, names_from_mailbox BOOLEAN)""")
    con.executemany("INSERT INTO linkage_features VALUES (?, ?, ?, ?, ?, false)",
                    [(f"r{i}", name, email, phone, phone is not None) for i, (name, email, phone) in enumerate(rows)])
    return con


def test_a_nickname_is_learned_and_a_couple_is_not():
    rows = []
    for i in range(3):  # Martina, called Tina, on three mailboxes and a mobile
        rows += [("martina", f"m{i}@web.de", None), ("tina", f"m{i}@web.de", None)]
    rows += [("martina", None, "+491701"), ("tina", None, "+491701")]
    for i in range(3):  # couples on family mailboxes
        rows += [("thomas", f"familie{i}@gmx.de", None), ("sabine", f"familie{i}@gmx.de", None)]
    for i in range(30):  # each also shares contact points with many other names, once each
        rows += [("thomas", f"t{i}@gmx.de", None), (f"other{i}", f"t{i}@gmx.de", None),
                 ("sabine", f"s{i}@gmx.de", None), (f"else{i}", f"s{i}@gmx.de", None)]
    con = _features(rows)
    assert learn_first_name_variants(con) == 1
    assert con.execute("SELECT name_a, name_b, shared_contacts FROM first_name_variants").fetchall() == [("martina", "tina", 4)]
    lists = dict(con.execute("SELECT DISTINCT first_name_key, first_name_variants FROM linkage_features "
                             "WHERE first_name_key IN ('tina', 'martina', 'thomas')").fetchall())
    assert lists == {"tina": ["martina"], "martina": ["tina"], "thomas": None}


def test_one_shared_mailbox_or_a_catch_all_teaches_nothing():
    rows = [("andrea", "a@web.de", None), ("andfea", "a@web.de", None)]  # a typo, once
    rows += [(name, "info@shop.de", None) for name in ("anna", "berta", "carla", "dora", "emma")] * 3
    con = _features(rows)
    assert learn_first_name_variants(con) == 0
