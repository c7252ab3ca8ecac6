"""Readers on the shared samples and on hand-made bad files: exact staged rows, snapshot and
increment rules, idempotent re-delivery, rejects with file, line and reason."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from sources.ingest import SPECS, ingest_source
from sources.limits import IngestLimits
from sources.staging import build_staged_records


@pytest.fixture
def landing(tmp_path, samples_dir) -> Path:
    target = tmp_path / "landing"
    shutil.copytree(samples_dir, target)
    return target


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


def ingest_all(con, landing: Path) -> dict:
    return {source: ingest_source(con, source, landing) for source in SPECS}


def staged(con, key: str) -> dict:
    cursor = con.execute("SELECT * FROM staged_records WHERE record_key = ?", [key])
    rows = cursor.fetchall()
    assert len(rows) == 1, key
    return dict(zip([d[0] for d in cursor.description], rows[0]))


def test_samples_stage_into_one_schema_with_umlauts_bom_and_multiline_notes(con, landing):
    reports = ingest_all(con, landing)
    assert {s: r.rows_loaded for s, r in reports.items()} == {
        "shop": 3, "newsletter": 3, "hotline": 3, "pos": 2, "erasure": 1, "reviews": 0
    }
    assert build_staged_records(con) == 11

    card = staged(con, "pos:K-7781234")
    assert (card["last_name"], card["city"], card["street"]) == ("Schmidt-Weiß", "München", "Leopoldstr. 101 a")
    assert card["revenue"] == Decimal("1234.56")
    assert (card["consent_decision"], str(card["consent_at"])) == ("yes", "2026-11-21 00:00:00")

    subscriber = staged(con, "newsletter:NL-5501")
    assert subscriber["first_name"] == "Hans" and subscriber["consent_decision"] == "no"
    assert "subscriber_id" in [r[0] for r in con.execute("DESCRIBE raw_newsletter").fetchall()]
    assert staged(con, "newsletter:NL-5503")["email_bounced"]

    ticket = staged(con, "hotline:T-90001")
    assert (ticket["first_name"], ticket["last_name"], ticket["customer_number_ref"]) == ("Hans", "Müller", "S-100234")
    frau = staged(con, "hotline:T-90002")
    assert (frau["salutation"], frau["first_name"], frau["last_name"], frau["phone"]) == ("Frau", None, "Schmidt", None)
    notes = dict(con.execute("SELECT record_key, notes FROM staged_sensitive WHERE notes IS NOT NULL").fetchall())
    assert notes["hotline:T-90003"] == "Karte verloren.\nNeue Karte angefordert."
    assert notes["hotline:T-90002"] == 'Fragt nach Retourenlabel, "dringend"'

    account = staged(con, "shop:S-100871")
    # accepts_marketing=false without a timestamp is the field's default, not a decision.
    assert account["consent_decision"] is None
    assert staged(con, "shop:S-100234")["consent_decision"] == "yes"
    # Birthdays and interests never reach staged_records.
    columns = [r[0] for r in con.execute("DESCRIBE staged_records").fetchall()]
    assert not {"birth_date", "birthday", "interests", "notes"} & set(columns)


def test_euro_sign_survives_the_cp1252_file(con, tmp_path):
    landing = tmp_path / "landing"
    (landing / "pos").mkdir(parents=True)
    header = "Kartennummer;Anrede;Vorname;Nachname;Strasse;PLZ;Ort;Telefon;E-Mail;Geburtsdatum;Filiale;Umsatz;Letzter_Einkauf;Werbung_erlaubt\n"
    row = "K-1;Herr;Jürgen;Weiß;Straße des 17. Juni 1;10623;Berlin;;;;Filiale €-Shop;12,00;01.11.2026;N\n"
    (landing / "pos" / "kunden_2026-11-22.csv").write_bytes((header + row).encode("cp1252"))
    assert ingest_source(con, "pos", landing).rows_loaded == 1
    assert con.execute("SELECT Filiale, Vorname, Nachname FROM raw_pos").fetchall() == [("Filiale €-Shop", "Jürgen", "Weiß")]


def test_a_german_postcode_that_lost_its_leading_zero_gets_it_back_and_ja_nein_are_decisions(con, tmp_path):
    landing = tmp_path / "landing"
    (landing / "shop").mkdir(parents=True)
    (landing / "pos").mkdir()
    (landing / "shop" / "customers_2026-11-22T0600.jsonl").write_text(
        '{"customer_id": "S-1", "address": {"street": "Hauptstr. 5", "zip": 1067, "city": "Dresden", "country": "DE"}}\n'
        '{"customer_id": "S-2", "address": {"street": "Graben 1", "zip": "1010", "city": "Wien", "country": "AT"}}\n',
        encoding="utf-8")
    header = "Kartennummer;Anrede;Vorname;Nachname;Strasse;PLZ;Ort;Telefon;E-Mail;Geburtsdatum;Filiale;Umsatz;Letzter_Einkauf;Werbung_erlaubt\n"
    rows = ("K-1;;Anna;Groß;Hauptstr. 5;1067;Dresden;;;;;;;Ja\n"
            "K-2;;Max;Muster;Lindenweg 3;12345;Berlin;;;;;;;nein\n"
            "K-3;;Eva;Muster;Lindenweg 3;12345;Berlin;;;;;;;vielleicht\n")
    (landing / "pos" / "kunden_2026-11-22.csv").write_bytes((header + rows).encode("cp1252"))
    ingest_all(con, landing)
    build_staged_records(con)
    assert staged(con, "shop:S-1")["postal_code"] == "01067"
    assert staged(con, "shop:S-2")["postal_code"] == "1010"
    assert (staged(con, "pos:K-1")["postal_code"], staged(con, "pos:K-1")["consent_decision"]) == ("01067", "yes")
    assert staged(con, "pos:K-2")["consent_decision"] == "no"
    # An answer that is neither yes nor no is no consent decision to guess at: the row is set aside.
    assert con.execute("SELECT line_number, reason FROM rejects").fetchall() == [(4, "Werbung_erlaubt is not J or N: vielleicht")]


def test_newest_shop_snapshot_wins_and_missing_accounts_are_gone(con, landing):
    shop = landing / "shop"
    lines = (shop / "customers_2026-11-21T0600.jsonl").read_text(encoding="utf-8").splitlines()
    (shop / "customers_2026-11-22T0600.jsonl").write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")
    # One of three accounts deleted is more than the default bound allows; this shop allows it.
    for source in SPECS:
        ingest_source(con, source, landing, IngestLimits(snapshot_max_deleted_share=0.5))
    build_staged_records(con)
    keys = {r[0] for r in con.execute("SELECT source_record_id FROM staged_records WHERE source = 'shop'").fetchall()}
    assert keys == {"S-100234", "S-100871"}


def test_pos_rows_supersede_older_rows_of_the_same_card_and_tickets_accumulate(con, landing):
    pos = landing / "pos"
    header = (pos / "kunden_2026-11-21.csv").read_bytes().split(b"\n")[0]
    newer = "K-7790001;Herr;Hans;Müller;Neue Straße 9;10117;Berlin;;;12.04.1971;Berlin-Mitte;99,90;23.11.2026;J"
    (pos / "kunden_2026-11-23.csv").write_bytes(header + b"\n" + newer.encode("cp1252") + b"\n")
    hotline = landing / "hotline"
    (hotline / "calls_2026-11-22.csv").write_text(
        "ticket_id,opened_at,caller_number,caller_name,customer_number,email,topic,notes\n"
        "T-90004,2026-11-22T10:00:00+01:00,anonymous,,,,Frage,\n", encoding="utf-8")
    ingest_all(con, landing)
    build_staged_records(con)
    card = staged(con, "pos:K-7790001")
    assert (card["street"], card["revenue"], card["consent_decision"]) == ("Neue Straße 9", Decimal("99.90"), "yes")
    assert str(card["first_seen_at"]) == "2026-11-02 00:00:00"  # earliest activity survives
    assert con.execute("SELECT count(*) FROM staged_records WHERE source = 'hotline'").fetchone()[0] == 4


def test_the_same_file_delivered_twice_even_under_another_name_changes_nothing(con, landing):
    ingest_all(con, landing)
    build_staged_records(con)
    before = con.execute("SELECT * FROM staged_records ORDER BY record_key").fetchall()
    raw_before = con.execute("SELECT count(*) FROM raw_pos").fetchone()[0]

    shutil.copyfile(landing / "pos" / "kunden_2026-11-21.csv", landing / "pos" / "kunden_2026-11-21_retry.csv")
    again = ingest_all(con, landing)
    assert [(f.file_name, f.status) for f in again["pos"].files] == [("kunden_2026-11-21_retry.csv", "duplicate")]
    assert all(not r.files for s, r in again.items() if s != "pos")
    build_staged_records(con)
    assert con.execute("SELECT count(*) FROM raw_pos").fetchone()[0] == raw_before
    assert con.execute("SELECT * FROM staged_records ORDER BY record_key").fetchall() == before
    # A third look at the same folder records nothing new.
    assert all(not r.files for r in ingest_all(con, landing).values())


def test_bad_rows_are_set_aside_with_file_line_and_reason_and_good_rows_load(con, tmp_path):
    landing = tmp_path / "landing"
    for folder in ("shop", "pos", "newsletter", "hotline"):
        (landing / folder).mkdir(parents=True)
    (landing / "shop" / "customers_2026-11-22T0600.jsonl").write_text(
        '{"customer_id": "S-1", "email": "a@b.de"}\n'
        '{"customer_id": "S-2", "email": \n'
        '{"email": "no-id@b.de"}\n'
        '{"customer_id": "S-3", "created_at": "yesterday"}\n'
        '{"customer_id": "S-4"}\n', encoding="utf-8")
    header = "Kartennummer;Anrede;Vorname;Nachname;Strasse;PLZ;Ort;Telefon;E-Mail;Geburtsdatum;Filiale;Umsatz;Letzter_Einkauf;Werbung_erlaubt\n"
    rows = [
        "K-1;Frau;Anna;Groß;Weg 1;12345;Ort;;;01.02.1990;F;1.234,56;01.11.2026;J",
        "K-2;Herr;Bernd;Klein;Weg 2;12345;Ort;;;31.02.1990;F;1,00;01.11.2026;J",
        "K-3;Herr;Carl;Lang;Weg 3;12345;Ort;;;;F;zwölf;01.11.2026;N",
        "K-4;Herr;Dirk;Kurz;Weg 4;12345",
        "K-5;Frau;Eva;Ost;Weg 5;12345;Ort;;;;F;;;X",
        "K-6;Frau;Fritzi;West;Weg 6;12345;Ort;;;;F;2,50;02.11.2026;N",
    ]
    (landing / "pos" / "kunden_2026-11-22.csv").write_bytes((header + "\n".join(rows) + "\n").encode("cp1252"))
    (landing / "hotline" / "calls_2026-11-22.csv").write_text(
        "ticket_id,opened_at,caller_number,caller_name,customer_number,email,topic,notes\n"
        'T-1,2026-11-22T10:00:00+01:00,030 123,"Müller, Hans",,,Frage,"Zeile eins\nZeile zwei"\n'
        ",2026-11-22T11:00:00+01:00,anonymous,,,,Frage,\n"
        "T-3,2026-11-22T12:00:00+01:00,anonymous,,,,Frage,kein,Quote\n"
        "T-4,2026-11-22T13:00:00+01:00,anonymous,,,,Frage,ok\n", encoding="utf-8")

    reports = ingest_all(con, landing)
    assert (reports["shop"].rows_loaded, reports["shop"].rows_rejected) == (2, 3)
    assert (reports["pos"].rows_loaded, reports["pos"].rows_rejected) == (2, 4)
    assert (reports["hotline"].rows_loaded, reports["hotline"].rows_rejected) == (2, 2)
    rejects = con.execute("SELECT source, file_name, line_number, reason FROM rejects ORDER BY source, line_number").fetchall()
    by_line = {(s, n): reason for s, _, n, reason in rejects}
    assert "not a JSON object" in by_line[("shop", 2)]
    assert by_line[("shop", 3)] == "missing customer_id"
    assert "created_at is not an ISO 8601 time" in by_line[("shop", 4)]
    assert "Geburtsdatum is not a TT.MM.JJJJ date: 31.02.1990" == by_line[("pos", 3)]
    assert "Umsatz is not an amount" in by_line[("pos", 4)]
    assert by_line[("pos", 5)] == "missing fields: 6 where the header has 14 (line cut short?)"
    assert "Werbung_erlaubt is not J or N" in by_line[("pos", 6)]
    # The hotline line numbers are physical lines: the first ticket's note spans two.
    assert by_line[("hotline", 4)] == "missing ticket_id"
    assert by_line[("hotline", 5)] == "too many fields: 9 where the header has 8 (an unquoted ',' inside a value?)"
    assert all(f == "kunden_2026-11-22.csv" for s, f, _, _ in rejects if s == "pos")
    ledger = con.execute(
        "SELECT source, rows_read, rows_loaded, rows_rejected FROM ingest_files ORDER BY source").fetchall()
    assert ledger == [("hotline", 4, 2, 2), ("pos", 6, 2, 4), ("shop", 5, 2, 3)]


def test_unreadable_files_are_rejected_whole_and_the_others_still_load(con, tmp_path, samples_dir):
    landing = tmp_path / "landing"
    shutil.copytree(samples_dir, landing)
    (landing / "newsletter" / "subscribers_2026-11-22.csv").write_text(
        "subscriber_id,email\nNL-1,a@b.de\n", encoding="utf-8")                     # missing columns
    (landing / "newsletter" / "subscribers_2026-11-23.csv").write_bytes(
        b"\x00\x01\x02 not a csv export \xff\xfe\n")                                     # no header
    (landing / "hotline" / "calls_2026-11-22.csv").write_bytes(b"")                     # empty
    (landing / "hotline" / "calls_2026-11-23.csv").write_text(                          # mostly damage
        "ticket_id,opened_at,caller_number,caller_name,customer_number,email,topic,notes\n"
        "T-7;2026-11-23;anonymous\nT-8;2026-11-23;anonymous\nT-9,2026-11-23T10:00:00Z,,,,,,\n", encoding="utf-8")

    reports = ingest_all(con, landing)
    statuses = {(f.file_name, f.status): f.reason for r in reports.values() for f in r.files}
    assert "missing columns: salutation" not in str(statuses)  # salutation is optional
    assert "missing columns: status" in statuses[("subscribers_2026-11-22.csv", "rejected")]
    assert "missing columns: subscriber_id" in statuses[("subscribers_2026-11-23.csv", "rejected")]
    assert "empty file" in statuses[("calls_2026-11-22.csv", "rejected")]
    assert statuses[("calls_2026-11-23.csv", "rejected")].startswith("most lines unreadable: 2 of 3")
    assert reports["newsletter"].rows_loaded == 3 and reports["hotline"].rows_loaded == 3
    assert con.execute("SELECT count(*) FROM raw_newsletter").fetchone()[0] == 3
