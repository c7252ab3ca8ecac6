"""Damaged exports, byte by byte: exactly which lines are set aside, which load, and that no
account is deleted by a rejected row or a held-back snapshot. Every file is written here,
byte for byte."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from sources.ingest import SPECS, ingest_source, record_unknown_files
from sources.snapshots import accept_held
from sources.staging import build_staged_records

NEWSLETTER_HEADER = b"subscriber_id,email,salutation,first_name,last_name,status,opt_in_at,opt_out_at,interests\n"
POS_HEADER = "Kartennummer;Anrede;Vorname;Nachname;Strasse;PLZ;Ort;Telefon;E-Mail;Geburtsdatum;Filiale;Umsatz;Letzter_Einkauf;Werbung_erlaubt\n"
HOTLINE_HEADER = b"ticket_id,opened_at,caller_number,caller_name,customer_number,email,topic,notes\n"


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


def write(landing: Path, relative: str, data: bytes) -> Path:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def subscriber(n: int, first: str = "Anna", status: str = "subscribed") -> bytes:
    return f"NL-{n},anna{n}@example.de,Frau,{first},Müller,{status},2026-01-0{1 + n % 9}T10:00:00Z,,\n".encode("utf-8")


def rejects(con, source: str) -> list[tuple]:
    return con.execute("SELECT line_number, last_line, reason, raw_line, record_id FROM rejects "
                       "WHERE source = ? ORDER BY line_number", [source]).fetchall()


def ledger(con, file_name: str) -> dict:
    cursor = con.execute("SELECT * FROM ingest_files WHERE file_name = ?", [file_name])
    row = cursor.fetchone()
    return dict(zip([d[0] for d in cursor.description], row))


def staged_ids(con, source: str) -> set[str]:
    build_staged_records(con)
    return {r[0] for r in con.execute("SELECT source_record_id FROM staged_records WHERE source = ?", [source]).fetchall()}


def test_a_latin1_line_in_a_utf8_file_costs_that_line_only(con, tmp_path):
    landing = tmp_path / "landing"
    data = (b"\xef\xbb\xbf" + NEWSLETTER_HEADER + subscriber(1, "Jürgen") + subscriber(2, "Björn")
            + "NL-3,x@example.de,Herr,J\xfcrgen,M\xfcller,subscribed,,,\n".encode("latin-1") + subscriber(4, "Käthe"))
    write(landing, "newsletter/subscribers_2026-11-22.csv", data)
    report = ingest_source(con, "newsletter", landing)
    assert (report.rows_loaded, report.rows_rejected) == (3, 1)
    assert rejects(con, "newsletter") == [
        (4, 4, "line is not valid utf-8 (undecodable bytes)", "NL-3,x@example.de,Herr,J\\xfcrgen,M\\xfcller,subscribed,,,", "NL-3")]
    names = con.execute("SELECT first_name FROM raw_newsletter ORDER BY subscriber_id").fetchall()
    assert names == [("Jürgen",), ("Björn",), ("Käthe",)]
    entry = ledger(con, "subscribers_2026-11-22.csv")
    assert (entry["status"], entry["encoding"], entry["lines_read"], entry["rows_read"]) == ("loaded", "utf-8", 4, 4)


def test_an_undefined_byte_in_the_cp1252_pos_file_costs_that_line_only(con, tmp_path):
    landing = tmp_path / "landing"
    rows = [b"K-1;Frau;Anna;Gro\xdf;Weg 1;12345;Ort;;;;F;1,00;01.11.2026;J\n",
            b"K-2;Herr;Bernd;Kl\x81in;Weg 2;12345;Ort;;;;F;1,00;01.11.2026;J\n",
            b"K-3;Herr;J\xfcrgen;Wei\xdf;Weg 3;12345;Ort;;;;F;1,00;01.11.2026;N\n"]
    write(landing, "pos/kunden_2026-11-22.csv", POS_HEADER.encode("cp1252") + b"".join(rows))
    report = ingest_source(con, "pos", landing)
    assert (report.rows_loaded, report.rows_rejected) == (2, 1)
    [(line, _, reason, raw, record_id)] = rejects(con, "pos")
    assert (line, reason, record_id) == (3, "line is not valid cp1252 (undecodable bytes)", "K-2")
    assert "Kl\\x81in" in raw
    assert con.execute("SELECT Nachname FROM raw_pos ORDER BY Kartennummer").fetchall() == [("Groß",), ("Weiß",)]


def test_a_pos_file_saved_as_utf8_is_read_as_utf8_never_as_mojibake(con, tmp_path):
    landing = tmp_path / "landing"
    rows = ("K-1;Frau;Anna;Groß;Hauptstraße 5;27432;Bremervörde;;;;F;1,00;01.11.2026;J\n"
            "K-2;Herr;Jürgen;Weiß;Bahnhofstraße 1;80331;München;;;;F;2,00;01.11.2026;N\n")
    write(landing, "pos/kunden_2026-11-22.csv", (POS_HEADER + rows).encode("utf-8"))
    report = ingest_source(con, "pos", landing)
    assert (report.rows_loaded, report.rows_rejected) == (2, 0)
    assert con.execute("SELECT Strasse, Ort FROM raw_pos ORDER BY Kartennummer").fetchall() == [
        ("Hauptstraße 5", "Bremervörde"), ("Bahnhofstraße 1", "München")]
    entry = ledger(con, "kunden_2026-11-22.csv")
    assert entry["encoding"] == "utf-8"
    assert "delivered in utf-8, not cp1252" in entry["reason"]


def test_a_newsletter_saved_as_cp1252_is_read_as_cp1252(con, tmp_path):
    landing = tmp_path / "landing"
    body = subscriber(1, "Jürgen") + subscriber(2, "Björn") + subscriber(3, "Anna")
    write(landing, "newsletter/subscribers_2026-11-22.csv", NEWSLETTER_HEADER + body.decode("utf-8").encode("cp1252"))
    report = ingest_source(con, "newsletter", landing)
    assert (report.rows_loaded, report.rows_rejected) == (3, 0)
    assert con.execute("SELECT first_name, last_name FROM raw_newsletter ORDER BY subscriber_id").fetchall() == [
        ("Jürgen", "Müller"), ("Björn", "Müller"), ("Anna", "Müller")]
    assert ledger(con, "subscribers_2026-11-22.csv")["encoding"] == "cp1252"


def test_an_unterminated_quote_costs_its_line_and_reading_goes_on(con, tmp_path):
    landing = tmp_path / "landing"
    lines = [subscriber(n) for n in range(1, 8)]
    lines[2] = b'NL-3,andrea@example.de,Frau,"Andrea,Meier,subscribed,2026-01-01T10:00:00Z,,\n'
    lines[5] = b'NL-6,"x@example.de",Herr,"Max "der" Mann",Muster,subscribed,,,\n'
    write(landing, "newsletter/subscribers_2026-11-22.csv", NEWSLETTER_HEADER + b"".join(lines))
    report = ingest_source(con, "newsletter", landing)
    entry = ledger(con, "subscribers_2026-11-22.csv")
    assert (entry["lines_read"], entry["rows_read"], entry["rows_loaded"], entry["rows_rejected"]) == (7, 7, 5, 2)
    found = rejects(con, "newsletter")
    assert [(r[0], r[1], r[4]) for r in found] == [(4, 4, "NL-3"), (7, 7, "NL-6")]
    assert found[0][2] == "unterminated or misplaced quote: the record runs into the next lines"
    assert found[1][2].startswith("malformed quoting")
    assert found[0][3] == lines[2].decode().rstrip("\n")
    loaded = {r[0] for r in con.execute("SELECT subscriber_id FROM raw_newsletter").fetchall()}
    assert loaded == {"NL-1", "NL-2", "NL-4", "NL-5", "NL-7"}
    assert report.rows_loaded == 5


def test_hotline_notes_keep_their_line_breaks_and_a_broken_caller_name_stays_local(con, tmp_path):
    landing = tmp_path / "landing"
    data = (HOTLINE_HEADER
            + b'T-1,2026-11-22T10:00:00Z,030 123,"M\xc3\xbcller, Hans",,,Frage,"Zeile eins\nZeile zwei, mit Komma\n""zitiert"""\n'
            + b'T-2,2026-11-22T11:00:00Z,anonymous,"Schmidt, Eva,,,Frage,kurz\n'
            + b'T-3,2026-11-22T12:00:00Z,anonymous,,,,Frage,"noch eine\nNotiz"\n'
            + b"T-4,2026-11-22T13:00:00Z,anonymous,Frau Lang,,,Frage,ok\n")
    write(landing, "hotline/calls_2026-11-22.csv", data)
    report = ingest_source(con, "hotline", landing)
    assert (report.rows_loaded, report.rows_rejected) == (3, 1)
    assert [(r[0], r[1], r[4]) for r in rejects(con, "hotline")] == [(5, 5, "T-2")]
    notes = dict(con.execute("SELECT ticket_id, notes FROM raw_hotline").fetchall())
    assert notes == {"T-1": 'Zeile eins\nZeile zwei, mit Komma\n"zitiert"', "T-3": "noch eine\nNotiz", "T-4": "ok"}
    lines = dict(con.execute("SELECT ticket_id, _line_hint FROM raw_hotline").fetchall())
    assert lines == {"T-1": 2, "T-3": 6, "T-4": 8}
    assert ledger(con, "calls_2026-11-22.csv")["lines_read"] == 7


def test_the_reason_names_the_real_problem(con, tmp_path):
    landing = tmp_path / "landing"
    lines = [subscriber(1),
             b"NL-2,b@example.de,Frau,Eva,Lang,unsubscribed,2026-01-01T10:00:00Z,2026-02-01T10:00:00Z,Garten,Angeln\n",
             b"NL-3,c@example.de,Frau,Ev\x00a,Lang,subscribed,,,\n",
             b"NL-4,d@example.de,Frau," + b"A" * 100_000 + b",Lang,subscribed,,,\n",
             b"NL-5,e@example.de,Frau,Eva,Lang,subscribed,gestern,,\n",
             subscriber(6)]
    write(landing, "newsletter/subscribers_2026-11-22.csv", NEWSLETTER_HEADER + b"".join(lines))
    ingest_source(con, "newsletter", landing)
    reasons = {r[4]: r[2] for r in rejects(con, "newsletter")}
    assert reasons == {
        "NL-2": "too many fields: 10 where the header has 9 (an unquoted ',' inside a value?)",
        "NL-3": "first_name holds a control character (U+0000)",
        "NL-4": "first_name is 100000 characters long (at most 200)",
        "NL-5": "opt_in_at is not an ISO 8601 time: gestern",
    }
    assert {r[0] for r in con.execute("SELECT subscriber_id FROM raw_newsletter").fetchall()} == {"NL-1", "NL-6"}


def test_a_shop_row_rejected_on_content_keeps_the_delivered_json(con, tmp_path):
    landing = tmp_path / "landing"
    bad = '{"customer_id": "S-2",  "created_at": "yesterday", "address": {"city": "Köln"}}'
    write(landing, "shop/customers_2026-11-22T0600.jsonl",
          ('{"customer_id": "S-1"}\n' + bad + "\n").encode("utf-8"))
    ingest_source(con, "shop", landing)
    assert rejects(con, "shop") == [(2, 2, "created_at is not an ISO 8601 time: yesterday", bad, "S-2")]


def shop_snapshot(ids: list[int], city: str = "Köln") -> bytes:
    return "".join(json.dumps({"customer_id": f"S-{i}", "email": f"k{i}@example.de",
                               "address": {"city": city}}) + "\n" for i in ids).encode("utf-8")


def test_a_rejected_row_does_not_delete_its_account(con, tmp_path):
    landing = tmp_path / "landing"
    write(landing, "shop/customers_2026-11-21T0600.jsonl", shop_snapshot(list(range(1, 41))))
    ingest_source(con, "shop", landing)
    day2 = shop_snapshot(list(range(1, 41)), city="Bonn").decode().splitlines()
    day2[4] = '{"customer_id": "S-5", "email": "k5@example.de", "address": {"ci'      # truncated line
    day2[9] = '{"customer_id": "S-10", "created_at": "gestern"}'                      # content reject
    write(landing, "shop/customers_2026-11-22T0600.jsonl", ("\n".join(day2) + "\n").encode())
    ingest_source(con, "shop", landing)
    assert ledger(con, "customers_2026-11-22T0600.jsonl")["status"] == "loaded"
    assert staged_ids(con, "shop") == {f"S-{i}" for i in range(1, 41)}
    cities = dict(con.execute("SELECT source_record_id, city FROM staged_records WHERE source = 'shop'").fetchall())
    # The two accounts keep their state from the snapshot before; the others are as of day 2.
    assert (cities["S-5"], cities["S-10"], cities["S-6"]) == ("Köln", "Köln", "Bonn")


def test_a_rejected_row_without_a_readable_id_deletes_no_account(con, tmp_path):
    landing = tmp_path / "landing"
    write(landing, "shop/customers_2026-11-21T0600.jsonl", shop_snapshot(list(range(1, 41))))
    ingest_source(con, "shop", landing)
    # S-40 is gone from the shop; a row without customer_id could be S-40 or anybody.
    write(landing, "shop/customers_2026-11-22T0600.jsonl",
          shop_snapshot(list(range(1, 40))) + b'{"email": "who@example.de"}\n')
    ingest_source(con, "shop", landing)
    entry = ledger(con, "customers_2026-11-22T0600.jsonl")
    assert entry["status"] == "loaded" and "no account is deleted" in entry["reason"]
    assert "S-40" in staged_ids(con, "shop")
    # The next clean snapshot without S-40 deletes it.
    write(landing, "shop/customers_2026-11-23T0600.jsonl", shop_snapshot(list(range(1, 40))))
    ingest_source(con, "shop", landing)
    assert "S-40" not in staged_ids(con, "shop")


def test_a_truncated_snapshot_is_held_back_until_an_operator_accepts_it(con, tmp_path):
    landing = tmp_path / "landing"
    write(landing, "shop/customers_2026-11-21T0600.jsonl", shop_snapshot(list(range(1, 101))))
    ingest_source(con, "shop", landing)
    build_staged_records(con)
    before = con.execute("SELECT * FROM staged_records ORDER BY record_key").fetchall()
    write(landing, "shop/customers_2026-11-22T0600.jsonl", shop_snapshot(list(range(1, 11)), city="Bonn"))
    report = ingest_source(con, "shop", landing)
    [held] = report.files_held
    assert held.reason.startswith("would delete 90 of 100 accounts in force (90.0%, more than 5%)")
    build_staged_records(con)
    assert con.execute("SELECT * FROM staged_records ORDER BY record_key").fetchall() == before
    # A rerun does not apply it either.
    assert not ingest_source(con, "shop", landing).files
    assert staged_ids(con, "shop") == {f"S-{i}" for i in range(1, 101)}

    message = accept_held(con, SPECS["shop"], "customers_2026-11-22T0600.jsonl", datetime(2026, 11, 22, 9, 0))
    assert "in force from the next run on" in message
    assert staged_ids(con, "shop") == {f"S-{i}" for i in range(1, 11)}
    assert ledger(con, "customers_2026-11-22T0600.jsonl")["status"] == "loaded"


def test_an_older_snapshot_never_replaces_a_newer_one(con, tmp_path):
    landing = tmp_path / "landing"
    write(landing, "shop/customers_2026-11-22T0600.jsonl", shop_snapshot(list(range(1, 21)), city="Bonn"))
    ingest_source(con, "shop", landing)
    write(landing, "shop/customers_2026-11-21T0600.jsonl", shop_snapshot(list(range(1, 21)), city="Köln"))
    report = ingest_source(con, "shop", landing)
    [held] = report.files_held
    assert "older than the snapshot in force (customers_2026-11-22T0600.jsonl)" in held.reason
    build_staged_records(con)
    assert {r[0] for r in con.execute("SELECT DISTINCT city FROM staged_records").fetchall()} == {"Bonn"}


def test_every_file_under_the_landing_folder_is_accounted_for(con, tmp_path):
    landing = tmp_path / "landing"
    write(landing, "crm/x.csv", b"a,b\n1,2\n")
    write(landing, "export.csv", b"a,b\n1,2\n")
    write(landing, "shop/archive/customers_2026-11-20T0600.jsonl", shop_snapshot([1]))
    write(landing, "shop/customers_latest.jsonl", shop_snapshot([1]))
    write(landing, "shop/readme.txt", b"exports land here\n")
    write(landing, "shop/.customers_2026-11-22T0600.jsonl.part", b"{")
    write(landing, "pos/KUNDEN_2026-11-22.CSV", (POS_HEADER + "K-1;;Anna;Groß;Weg 1;12345;Ort;;;;F;;;J\n").encode("cp1252"))
    for source in SPECS:
        ingest_source(con, source, landing)
    record_unknown_files(con, landing)
    rows = con.execute("SELECT file_path, status, reason FROM ingest_files ORDER BY file_path").fetchall()
    by_path = {str(Path(p).relative_to(landing)): (status, reason) for p, status, reason in rows}
    assert by_path["pos/KUNDEN_2026-11-22.CSV"] == ("loaded", None)
    assert by_path["crm/x.csv"][0] == by_path["export.csv"][0] == "ignored"
    assert by_path["crm/x.csv"][1].startswith("unknown folder crm/")
    assert by_path["shop/archive/customers_2026-11-20T0600.jsonl"] == (
        "ignored", "in a subfolder: only files directly in shop/ are read")
    assert by_path["shop/customers_latest.jsonl"][1].startswith("no export date in the name")
    assert by_path["shop/readme.txt"][1].startswith("not a *.jsonl file")
    assert len(by_path) == 6  # the hidden upload in progress is not a delivery yet
    # Looking again records nothing twice.
    assert not record_unknown_files(con, landing).files
    assert all(not ingest_source(con, s, landing).files for s in SPECS)


def test_a_truncated_snapshot_in_a_real_dagster_run_changes_no_customer_and_fails_its_check(tmp_path):
    import dagster as dg

    from demo.generate import generate
    from pipelines.definitions import build_definitions
    from pipelines.resources import KundenstammSettings

    from tests.generated import deliver, delivery_days

    exports = tmp_path / "demo"
    generate(exports, persons=300, seed=5, days=1)
    resource = KundenstammSettings(landing_dir=str(tmp_path / "landing"), warehouse_path=str(tmp_path / "w.duckdb"),
                                   published_path=str(tmp_path / "golden.duckdb"), reports_dir=str(tmp_path / "reports"))
    [day] = delivery_days(exports / "landing")
    deliver(exports / "landing", tmp_path / "landing", day)
    job = build_definitions(resource).resolve_job_def("kundenstamm")
    instance = dg.DagsterInstance.ephemeral()
    assert job.execute_in_process(instance=instance, raise_on_error=False).success

    def published() -> list[tuple]:
        with duckdb.connect(str(tmp_path / "golden.duckdb"), read_only=True) as golden:
            return golden.execute("SELECT * EXCLUDE (updated_at) FROM customers ORDER BY golden_id").fetchall()

    before = published()
    [snapshot] = (tmp_path / "landing" / "shop").glob("*.jsonl")
    lines = snapshot.read_bytes().splitlines(keepends=True)
    write(tmp_path / "landing", "shop/customers_2099-01-01T0600.jsonl", b"".join(lines[: len(lines) // 10]))

    result = job.execute_in_process(instance=instance, raise_on_error=False)
    checks = [e.asset_check_evaluation_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    [snapshot_check] = [c for c in checks if c.check_name == "snapshot_in_force" and c.asset_key.path == ["raw_shop"]]
    assert not snapshot_check.passed
    assert all(c.passed for c in checks if c.check_name == "export_arrived")  # today's exports did arrive
    assert "kundenstamm accept-snapshot customers_2099-01-01T0600.jsonl" in snapshot_check.metadata["held_back"].value
    assert published() == before
    report = (tmp_path / "reports" / "index.html").read_text(encoding="utf-8")
    assert "held back" in report and "customers_2099-01-01T0600.jsonl" in report


def test_a_phone_named_in_an_erasure_request_is_not_stored_again(con, tmp_path):
    from sources.identifiers import e164

    import pandas as pd

    landing = tmp_path / "landing"
    con.execute("CREATE TABLE erased_identifiers (kind VARCHAR, hash VARCHAR)")
    [erased] = e164(pd.Series(["+49 30 1234567"]))
    con.execute("INSERT INTO erased_identifiers SELECT 'phone', sha256(?)", [erased])
    write(landing, "hotline/calls_2026-11-22.csv", HOTLINE_HEADER
          + b"T-1,2026-11-22T10:00:00Z,030/1234567,Frau Lang,,,Frage,\n"
          + b"T-2,2026-11-22T11:00:00Z,030 7654321,Herr Kurz,,,Frage,\n")
    ingest_source(con, "hotline", landing)
    assert con.execute("SELECT ticket_id, caller_number FROM raw_hotline ORDER BY 1").fetchall() == [
        ("T-1", None), ("T-2", "030 7654321")]


def test_an_erased_phone_is_found_in_the_numbers_the_features_parsed_and_in_new_ones(con):
    from sources.erased import forget_erased_phones
    from sources.identifiers import e164

    import pandas as pd

    [erased] = e164(pd.Series(["+49 30 1234567"]))
    con.execute("CREATE TABLE erased_identifiers (kind VARCHAR, hash VARCHAR)")
    con.execute("INSERT INTO erased_identifiers SELECT 'phone', sha256(?)", [erased])
    # The last features build parsed two of the forms (one of them the erased number's).
    con.execute("CREATE TABLE linkage_features (record_key VARCHAR, phone_raw VARCHAR, phone_e164 VARCHAR)")
    con.execute("INSERT INTO linkage_features VALUES ('pos:K-1', '030/1234567', ?), ('pos:K-2', '030 7654321', ?)",
                [erased, e164(pd.Series(["030 7654321"]))[0]])
    con.execute("CREATE TABLE staged (source VARCHAR, record_key VARCHAR, phone VARCHAR)")
    con.execute("""INSERT INTO staged VALUES ('pos', 'pos:K-1', '030/1234567'), ('pos', 'pos:K-2', '030 7654321'),
                   ('hotline', 'hotline:T-1', '+49 (30) 123 45 67'), ('shop', 'shop:S-1', '030-1234567')""")
    # The shop's rows were checked when they were staged: only the others are looked at.
    forget_erased_phones(con, "staged", "phone", "source IN ('pos', 'hotline')")
    assert con.execute("SELECT record_key, phone FROM staged ORDER BY 2 NULLS FIRST, 1").fetchall() == [
        ("hotline:T-1", None), ("pos:K-1", None), ("pos:K-2", "030 7654321"), ("shop:S-1", "030-1234567")]


def test_a_utf8_line_inside_a_cp1252_pos_file_is_read_as_what_was_typed(con, tmp_path):
    landing = tmp_path / "landing"
    rows = ("K-1;Frau;Anna;Groß;Weg 1;12345;Köln;;;;F;1,00;01.11.2026;J\n".encode("cp1252")
            + "K-2;Herr;Jürgen;Weiß;Hauptstraße 2;27432;Bremervörde;;;;F;1,00;01.11.2026;N\n".encode("utf-8")
            + "K-3;Herr;Björn;Öztürk;Weg 3;12345;Köln;;;;F;1,00;01.11.2026;N\n".encode("cp1252"))
    write(landing, "pos/kunden_2026-11-22.csv", POS_HEADER.encode("cp1252") + rows)
    assert ingest_source(con, "pos", landing).rows_loaded == 3
    assert con.execute("SELECT Nachname, Strasse, Ort FROM raw_pos ORDER BY Kartennummer").fetchall() == [
        ("Groß", "Weg 1", "Köln"), ("Weiß", "Hauptstraße 2", "Bremervörde"), ("Öztürk", "Weg 3", "Köln")]
    entry = ledger(con, "kunden_2026-11-22.csv")
    assert entry["encoding"] == "cp1252" and "1 lines in UTF-8 inside the cp1252 file" in entry["reason"]


def test_review_decisions_saved_by_german_excel_are_read(con, tmp_path):
    landing = tmp_path / "landing"
    write(landing, "reviews/decisions_2026-11-22.csv",
          "\ufeffkey_l;key_r;decision;reviewer;decided_at\r\n"
          "shop:S-1;pos:K-1;same;anna.schmidt;2026-11-22T09:30:00Z\r\n".encode("utf-8"))
    report = ingest_source(con, "reviews", landing)
    assert (report.rows_loaded, report.rows_rejected) == (1, 0)
    assert con.execute("SELECT key_l, key_r, decision FROM raw_reviews").fetchall() == [("shop:S-1", "pos:K-1", "same")]


def test_control_characters_written_as_json_escapes_are_refused_too(con, tmp_path):
    landing = tmp_path / "landing"
    write(landing, "shop/customers_2026-11-22T0600.jsonl",
          b'{"customer_id": "S-1", "first_name": "Eva\\u0000"}\n{"customer_id": "S-2", "last_name": "Lang\\nKurz"}\n'
          b'{"customer_id": "S-3", "last_name": "K\\u00fchn"}\n')
    ingest_source(con, "shop", landing)
    assert [(r[4], r[2]) for r in rejects(con, "shop")] == [
        ("S-1", "first_name holds a control character (U+0000)"), ("S-2", "last_name holds a control character (U+000A)")]
    assert con.execute("SELECT last_name FROM raw_shop").fetchall() == [("Kühn",)]
