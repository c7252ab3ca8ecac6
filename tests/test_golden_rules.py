"""Survivorship and consent rules, each shown with hand-made records: mixed into a generated
population and run through the whole pipeline (so the linkage model and the data-wide
spellings are realistic), or, where a case needs a particular link, on hand-made
warehouse tables given to the consent step itself."""

from __future__ import annotations

import json
import shutil
from datetime import datetime

import duckdb
import pytest

from demo.generate import generate
from linkage.settings import GERMAN_SETTINGS
from pipelines.steps import run_all_steps
from warehouse.consent import REASONS, build_consent
from warehouse.settings import Settings
from warehouse.survivorship import build_survivors


def _account(customer_id, first, last, email, street, zip_code, city, *, country="DE", phone=None, birthday=None,
             accepts=False, consent_at=None, updated_at="2026-10-01T00:00:00Z"):
    return {"customer_id": customer_id, "email": email, "first_name": first, "last_name": last, "phone": phone,
            "birthday": birthday, "address": {"street": street, "zip": zip_code, "city": city, "country": country},
            "accepts_marketing": accepts, "accepts_marketing_updated_at": consent_at,
            "created_at": "2023-01-01T00:00:00Z", "updated_at": updated_at}


SHOP = [
    # the typo that loses: the right spelling here, the typo on the newer card
    _account("S-9930001", "Katharina", "Schmidt", "katharina.schmidt.k9@web.de", "Lindenallee 4", "10115", "Berlin",
             birthday="1980-02-03"),
    # the married name that wins: two older records with the maiden name, a newer card with the double name
    _account("S-9930002", "Sabine", "Ostermeier", "sabine.ostermeier.q@gmx.de", "Talweg 5", "80331", "München",
             birthday="1979-09-14", updated_at="2024-03-01T00:00:00Z"),
    # `Anna Anna`: the name twice right, then a newer card with first and last name swapped
    _account("S-9930003", "Anna", "Lindenhoff", "anna.lindenhoff@posteo.de", "Birkenweg 9", "01067", "Dresden",
             birthday="1990-12-24", updated_at="2024-05-01T00:00:00Z"),
    # a swapped name on its own: the whole data knows Schneider as a surname and Sabine as a first name
    _account("S-9930004", "Schneider", "Sabine", "sb.kontakt.9930004@t-online.de", "Am Weiher 2", "34117", "Kassel"),
    # an Austrian customer: the mobile in national notation, the city mistyped
    _account("S-9930005", "Veronika", "Pichlmayr", "v.pichlmayr@aon.at", "Stephansplatz 3", "1010", "Wein",
             country="AT", phone="0664 7654321"),
    # a neighbour in Vienna: with the card below, most records with postcode 1010 say Wien
    _account("S-9930006", "Theresa", "Haberlschmied", "theresa.h@gmx.at", "Kärntner Straße 5", "1010", "Wien",
             country="AT", birthday="1985-04-04"),
]
POS = [
    "K-9930001;Frau;Kathatina;Schmidg;Lindenallee 4;10115;Berlin;;;03.02.1980;Berlin-Mitte;10,00;01.11.2026;N",
    "K-9930002;Frau;Sabine;Ostermeier-Falkenberg;Talweg 5;80331;München;;;14.09.1979;München-Süd;7,00;02.11.2026;N",
    "K-9930003;Frau;Lindenhoff;Anna;Birkenweg 9;01067;Dresden;;;24.12.1990;Dresden;3,00;02.11.2026;N",
    # a card in Vienna: four-digit postcode, no country, a national mobile
    "K-9930006;Herr;Florian;Haberlschmied;Kärntner Straße 5;1010;Wien;0676 1112223;;;Wien;5,00;01.11.2026;N",
]
# Ten neighbours in one street of Kassel, and one card with the street mistyped.
NEIGHBOURS = ("Jürgen;Albers", "Monika;Brandt", "Uwe;Claasen", "Petra;Dietz", "Kurt;Eilers", "Heike;Fromm",
              "Rolf;Gerlach", "Ute;Hartig", "Dieter;Imhoff", "Gisela;Jansen")
POS += [f"K-99302{i:02d};;{name};Rosenstr. {i + 1};34119;Kassel;;;;Kassel;1,00;01.11.2026;N" for i, name in enumerate(NEIGHBOURS)]
POS += ["K-9930299;Herr;Bernhard;Kowalke;RosenSgr. 40;34119;Kassel;;;;Kassel;1,00;01.11.2026;N"]
NEWSLETTER = [
    "NL-9930002,sabine.ostermeier.q@gmx.de,Frau,Sabine,Ostermeier,subscribed,2023-01-01T10:00:00Z,,",
    "NL-9930003,anna.lindenhoff@posteo.de,Frau,Anna,Lindenhoff,subscribed,2023-01-01T10:00:00Z,,",
]


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    root = tmp_path_factory.mktemp("rules")
    generate(root, persons=1500, seed=11, days=1)
    landing = root / "landing"
    shop_file = next((landing / "shop").glob("*.jsonl"))
    with shop_file.open("a", encoding="utf-8") as handle:
        for account in SHOP:
            handle.write(json.dumps(account, ensure_ascii=False) + "\n")
    pos_file = next((landing / "pos").glob("*.csv"))
    pos_file.write_bytes(pos_file.read_bytes() + ("\n".join(POS) + "\n").encode("cp1252"))
    newsletter_file = next((landing / "newsletter").glob("*.csv"))
    with newsletter_file.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(NEWSLETTER) + "\n")
    settings = Settings(landing_dir=landing, warehouse_path=root / "warehouse.duckdb", published_path=root / "golden.duckdb")
    run_all_steps(settings, datetime(2026, 11, 20, 7))
    con = duckdb.connect(str(settings.published_path), read_only=True)
    yield con, settings
    con.close()


def row_of(con, source: str, record_id: str) -> dict:
    frame = con.execute(
        "SELECT c.* FROM customers c JOIN customer_sources s USING (golden_id) WHERE s.source = ? AND s.source_record_id = ?",
        [source, record_id]).df()
    assert len(frame) == 1, f"{source}:{record_id} is not published"
    return frame.iloc[0].to_dict()


def test_a_typo_on_the_newest_record_loses_to_the_spelling_the_data_uses(golden):
    con, _ = golden
    row = row_of(con, "pos", "K-9930001")
    assert row == row_of(con, "shop", "S-9930001"), "the two records of Katharina Schmidt were not linked"
    assert (row["first_name"], row["last_name"]) == ("Katharina", "Schmidt")


def test_the_married_name_of_the_newest_record_wins_over_more_records_with_the_maiden_name(golden):
    con, _ = golden
    row = row_of(con, "pos", "K-9930002")
    assert row["golden_id"] == row_of(con, "newsletter", "NL-9930002")["golden_id"] == row_of(con, "shop", "S-9930002")["golden_id"]
    assert (row["first_name"], row["last_name"]) == ("Sabine", "Ostermeier-Falkenberg")


def test_a_swapped_newest_record_gives_neither_a_swapped_name_nor_anna_anna(golden):
    con, _ = golden
    row = row_of(con, "pos", "K-9930003")
    assert row["golden_id"] == row_of(con, "shop", "S-9930003")["golden_id"]
    assert (row["first_name"], row["last_name"]) == ("Anna", "Lindenhoff")


def test_a_name_typed_the_wrong_way_round_is_put_back(golden):
    con, _ = golden
    row = row_of(con, "shop", "S-9930004")
    assert (row["first_name"], row["last_name"]) == ("Sabine", "Schneider")


def test_an_austrian_phone_postcode_and_place_stay_austrian(golden):
    con, _ = golden
    shop = row_of(con, "shop", "S-9930005")
    assert (shop["phone"], shop["postal_code"], shop["country"]) == ("+436647654321", "1010", "AT")
    # `Wein` beside the `Wien` that most records with postcode 1010 give.
    assert shop["city"] == "Wien"
    card = row_of(con, "pos", "K-9930006")
    assert (card["phone"], card["postal_code"], card["city"], card["country"]) == ("+436761112223", "1010", "Wien", "AT")


def test_a_street_typed_once_beside_its_common_spelling_is_that_street(golden):
    con, _ = golden
    assert row_of(con, "pos", "K-9930299")["street"] == "Rosenstraße"
    assert row_of(con, "pos", "K-9930200")["street"] == "Rosenstraße"


def test_the_same_records_in_another_order_give_the_same_golden_values(golden, tmp_path):
    _, settings = golden
    copy = tmp_path / "again.duckdb"
    shutil.copyfile(settings.warehouse_path, copy)
    with duckdb.connect(str(copy)) as con:
        build_survivors(con)
        first = con.execute("SELECT * FROM _survivors ORDER BY golden_id").fetchall()
        # The same records, stored in the opposite order.
        con.execute("CREATE OR REPLACE TABLE staged_records AS SELECT * FROM staged_records ORDER BY record_key DESC")
        con.execute("CREATE OR REPLACE TABLE linkage_features AS SELECT * FROM linkage_features ORDER BY record_key DESC")
        con.execute("DROP TABLE _survivors")
        build_survivors(con)
        assert con.execute("SELECT * FROM _survivors ORDER BY golden_id").fetchall() == first


# Consent on hand-made warehouse tables: the links are given, so each case is exactly the one named.
def _level(comparison: str, label: str) -> int:
    return GERMAN_SETTINGS.gamma_of(comparison, label)


GAMMAS = ("first_name", "last_name", "email", "phone", "birth_date", "household", "mailbox_spells_name",
          "quoted_customer_number")


@pytest.fixture
def consent_tables(tmp_path):
    con = duckdb.connect(str(tmp_path / "consent.duckdb"))
    con.execute("CREATE TABLE staged_records (record_key VARCHAR, source VARCHAR, source_record_id VARCHAR, email VARCHAR, "
                "consent_decision VARCHAR, consent_at TIMESTAMP)")
    con.execute("CREATE TABLE golden_membership (record_key VARCHAR, golden_id VARCHAR)")
    con.execute("CREATE TABLE clusters (record_key VARCHAR, match_probability DOUBLE)")
    con.execute("CREATE TABLE linkage_features (record_key VARCHAR, email_std VARCHAR)")
    con.execute("CREATE TABLE review_decisions (key_l VARCHAR, key_r VARCHAR, decision VARCHAR)")
    con.execute(f"CREATE TABLE scored_pairs (key_l VARCHAR, key_r VARCHAR, match_probability DOUBLE, "
                f"{', '.join(f'gamma_{g} INTEGER' for g in GAMMAS)})")
    yield con
    con.close()


def _record(con, golden_id: str, key: str, email: str | None, decision: str | None, at: str | None, link: float = 0.99,
            standardised: bool = True):
    source, record_id = key.split(":")
    con.execute("INSERT INTO staged_records VALUES (?, ?, ?, ?, ?, ?)", [key, source, record_id, email, decision, at])
    con.execute("INSERT INTO golden_membership VALUES (?, ?)", [key, golden_id])
    con.execute("INSERT INTO clusters VALUES (?, ?)", [key, link])
    con.execute("INSERT INTO linkage_features VALUES (?, ?)", [key, email.lower() if email and standardised else None])


def _pair(con, a: str, b: str, probability: float, **levels: str):
    values = [_level(g, levels[g]) if g in levels else -1 for g in GAMMAS]
    con.execute(f"INSERT INTO scored_pairs VALUES (?, ?, ?, {', '.join('?' * len(GAMMAS))})",
                [min(a, b), max(a, b), probability, *values])


def _consent(con) -> dict:
    build_consent(con)
    return {g: (c, e, r) for g, c, e, r in con.execute(
        "SELECT golden_id, marketing_consent, consent_email, reason FROM golden_consent").fetchall()}


def test_a_household_members_yes_is_not_published(consent_tables):
    con = consent_tables
    # Petra's card (no decision) and a card without a first name at her address and landline, saying yes.
    _record(con, "G-1", "pos:K-1", None, None, None)
    _record(con, "G-1", "pos:K-2", None, "yes", "2026-11-20")
    _pair(con, "pos:K-1", "pos:K-2", 0.97, household="same surname at the same address", phone="same landline")
    # Her own shop account's yes, linked by her e-mail address, is hers.
    _record(con, "G-2", "shop:S-1", "petra@example.de", "yes", "2026-05-01")
    _record(con, "G-2", "pos:K-3", "petra@example.de", None, None)
    _pair(con, "shop:S-1", "pos:K-3", 0.99, email="exact")
    consent = _consent(con)
    assert consent["G-1"] == (False, None, REASONS["not_own"])
    assert consent["G-2"] == (True, "petra@example.de", None)


def test_a_short_first_name_at_the_persons_address_is_the_persons_own_yes(consent_tables):
    con = consent_tables
    # `Bern` at Bernward's address with his surname: the first name is his, not a household's.
    _record(con, "G-1", "pos:K-1", None, "yes", "2026-11-20", link=0.85)
    _record(con, "G-1", "shop:S-1", "familie.hof@example.de", "no", "2026-02-13")
    _pair(con, "pos:K-1", "shop:S-1", 0.85, first_name="one is a prefix of the other",
          household="same surname at the same address")
    assert _consent(con)["G-1"] == (True, None, None)


def test_two_decisions_at_the_same_moment_that_disagree_are_no_yes(consent_tables):
    con = consent_tables
    # Two cards of one person in the same till export, one with `J` and one with `N`.
    _record(con, "G-1", "pos:K-1", None, "yes", "2026-11-20")
    _record(con, "G-1", "pos:K-2", None, "no", "2026-11-20")
    _pair(con, "pos:K-1", "pos:K-2", 0.99, first_name="exact", last_name="exact", birth_date="exact")
    assert _consent(con)["G-1"][0] is False


def test_a_later_opt_out_of_the_address_elsewhere_suppresses_the_yes(consent_tables):
    con = consent_tables
    _record(con, "G-1", "shop:S-1", "Anna@Example.de", "yes", "2026-01-01")
    # Linkage missed it: another golden row, no pair at all.
    _record(con, "G-2", "newsletter:N-1", "anna@example.de", "no", "2026-06-01")
    # An opt-out before the yes does not take back the newer yes.
    _record(con, "G-3", "shop:S-2", "ben@example.de", "yes", "2026-06-01")
    _record(con, "G-4", "newsletter:N-2", "ben@example.de", "no", "2026-01-01")
    consent = _consent(con)
    assert consent["G-1"] == (False, None, REASONS["suppressed"])
    assert consent["G-3"] == (True, "ben@example.de", None)


def test_an_opt_out_of_an_address_linkage_cannot_standardise_suppresses_the_yes_too(consent_tables):
    con = consent_tables
    # A space in the mailbox: no standardised e-mail, but it is the address the yes would be mailed to.
    _record(con, "G-1", "newsletter:N-1", "familie.van der berg@gmx.de", "yes", "2021-08-17", standardised=False)
    _record(con, "G-2", "shop:S-1", "Familie.van der Berg@gmx.de", "no", "2026-09-20", standardised=False)
    assert _consent(con)["G-1"] == (False, None, REASONS["suppressed"])


def test_a_no_linked_only_as_a_possible_match_outweighs_a_yes(consent_tables):
    con = consent_tables
    _record(con, "G-1", "shop:S-1", "carl@example.de", "yes", "2026-01-01")
    _record(con, "G-2", "pos:K-1", None, "no", "2026-11-20")
    _pair(con, "shop:S-1", "pos:K-1", 0.6, first_name="exact", last_name="exact")
    assert _consent(con)["G-1"] == (False, None, REASONS["neighbour"])


def test_golden_values_do_not_depend_on_the_sensitive_details(golden, tmp_path):
    # Lineage: birthdays, interests and notes live in staged_sensitive (and the birth-date
    # feature of linkage); the golden step gives the same rows without that table.
    _, settings = golden
    copy = tmp_path / "lineage.duckdb"
    shutil.copyfile(settings.warehouse_path, copy)
    with duckdb.connect(str(copy)) as con:
        build_survivors(con)
        with_sensitive = con.execute("SELECT * FROM _survivors ORDER BY golden_id").fetchall()
        con.execute("DROP TABLE _survivors; DROP TABLE staged_sensitive")
        build_survivors(con)
        assert con.execute("SELECT * FROM _survivors ORDER BY golden_id").fetchall() == with_sensitive
