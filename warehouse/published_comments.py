"""What every published table and column means, written into the published file itself
(`COMMENT ON`), so a marketer in DBeaver or the duckdb shell reads it where the data is.
Every TIMESTAMP in the file is UTC."""

from __future__ import annotations

import duckdb

UTC = " (UTC)"

TABLES: dict[str, str] = {
    "customers": "One row per real person: the golden record (contract table).",
    "customer_sources": "Which source records make each person (contract table).",
    "golden_id_history": "Golden ids that were retired, and the id that stands for the person now (contract table).",
    "customer_changes": "What each run changed: a row per new, merged, split, erased or deleted person, and a row "
                        "per changed column of a known person with its old and new value.",
    "review_queue": "Pairs of records the model is unsure of, both records side by side, for an analyst to decide.",
    "golden_provenance": "Which source record each golden value came from.",
    "customer_consent": "Which decision each person's marketing consent comes from and, where a yes in their "
                        "records is not published, why.",
    "publication": "When this version of the file was published.",
    # What the staff web app looks customers up by (warehouse/search_index.py).
    "lookup_records": "Each source record behind a customer, with its values, for the customer page.",
    "lookup_emails": "Normalised e-mail address -> customer, for search.",
    "lookup_phones": "Phone in E.164 -> customer, for search.",
    "lookup_numbers": "Shop customer number or loyalty card number (digits) -> customer, for search.",
    "lookup_number_variants": "Each number with one character left out: a number one typo away shares one.",
    "lookup_name_postings": "Each word of the standardised names with the customers bearing it as first or last name.",
    "lookup_token_variants": "Each name word with one character left out: a word one typo away shares one.",
    "lookup_token_phonetics": "Kölner Phonetik code of each name word.",
    "lookup_places": "Postcode and city of each customer, to narrow a search.",
    "reminder_settings": "The bounds of the reminders view: revenue at least, days without contact at least.",
}
VIEWS: dict[str, str] = {
    "reminders": "Valuable customers (revenue at least reminder_settings.min_revenue) with no contact in any "
                 "source for reminder_settings.days days, oldest contact first.",
}

COLUMNS: dict[str, dict[str, str]] = {
    "customers": {
        "golden_id": "The person's stable id.",
        "salutation": "Herr, Frau, Divers or NULL.",
        "first_name": "Best spelling known: the one the person's records support most, umlauts and ß where any has them.",
        "last_name": "Best spelling known (the current name after a marriage), umlauts and ß where any record has them.",
        "email": "Lower-cased; the most recently confirmed or used address, never one that bounced.",
        "phone": "E.164 (+49301234567), read in the country of the person's address; the most recent valid number.",
        "street": "Of the most recent address, spelled out (Hauptstraße, not Hauptstr.).",
        "house_number": "Of the most recent address.",
        "postal_code": "Of the most recent address.",
        "city": "Of the most recent address, as most of the data spells the place of that postcode.",
        "country": "Of the most recent address, ISO 3166-1 alpha-2.",
        "marketing_consent": "True only if the person's latest explicit decision is a yes made on a record linked by "
                             "their own evidence, and no later opt-out of the address exists anywhere.",
        "consent_source": "The source system of that latest decision.",
        "consent_updated_at": "When that latest decision was made" + UTC + ".",
        "total_revenue": "EUR: shop total_spent plus loyalty-card Umsatz over all linked accounts and cards.",
        "source_count": "Number of source records linked to this person (two cards count twice).",
        "first_seen_at": "Earliest activity in any source" + UTC + ".",
        "last_seen_at": "Latest activity in any source" + UTC + ".",
        "updated_at": "When this row last changed" + UTC + ".",
        "consent_email": "The address the e-mail opt-in belongs to: mail only this one (NULL: no e-mail consent).",
        "source_systems": "Number of distinct source systems (shop, newsletter, hotline, pos) the person is in.",
    },
    "customer_sources": {
        "golden_id": "The person.",
        "source": "shop, newsletter, hotline or pos.",
        "source_record_id": "customer_id, subscriber_id, ticket_id or Kartennummer.",
        "match_probability": "How sure linkage is that this record belongs to this person (1.0 for the founding record).",
    },
    "golden_id_history": {
        "retired_id": "A golden_id that no longer exists.",
        "golden_id": "The id that now stands for that person (NULL if erased or deleted).",
        "retired_at": "When" + UTC + ".",
        "reason": "merged, split, erased, or deleted (all the person's records are gone from the sources).",
    },
    "customer_changes": {
        "run_at": "The run that made the change" + UTC + ".",
        "golden_id": "The person changed.",
        "change_type": "created, updated, consent_given, consent_withdrawn, merged, split, erased or deleted.",
        "changed_columns": "The changed column (for updates; the same as column_name).",
        "related_golden_id": "For merged: the retired id; for split: the id split from.",
        "column_name": "For updates and consent changes: the customers column that changed.",
        "old_value": "Its value before this run (as text).",
        "new_value": "Its value after this run (as text).",
        "change_id": "The change's number, in the order the changes were made; outbox files name their range.",
    },
    "golden_provenance": {
        "golden_id": "The person.",
        "column_name": "The golden value (or group of values, like the address).",
        "source": "The source system of the record it came from.",
        "source_record_id": "The record it came from.",
    },
    "customer_consent": {
        "golden_id": "The person.",
        "marketing_consent": "The published consent (as in customers).",
        "consent_email": "The address the e-mail opt-in belongs to.",
        "decision": "The decision the published consent follows: yes, no or pending.",
        "decided_at": "When it was made" + UTC + ".",
        "source": "Its source system.",
        "source_record_id": "Its record.",
        "origin": "Why this decision counts (the person's own record, a suppression of the address, ...).",
        "overridden_yes_source": "Where a yes in the person's records was not published: its source system.",
        "overridden_yes_record_id": "That yes's record.",
        "overridden_yes_at": "When that yes was given" + UTC + ".",
        "reason": "Why that yes was not published.",
    },
    "publication": {
        "published_at": "When this version was published" + UTC + ".",
        "customers": "Number of customers in this version.",
        "linkage_run_at": "The run whose persons this version shows (the next run may publish only what changed since).",
        "model_version": "The linkage model that scored its pairs (linkage_model.version).",
        "golden_batch": "The last batch of persons rebuilt by the golden step that this version shows "
                        "(the next delta publish looks for changed rows among the persons rebuilt after it).",
    },
    "lookup_records": {
        "golden_id": "The customer.", "record_key": "The record (source:id).", "source": "Its source system.",
        "source_record_id": "Its id in the source.", "match_probability": "As in customer_sources.",
        "salutation": "As delivered (standardised).", "first_name": "As delivered.", "last_name": "As delivered.",
        "company": "As delivered.", "email": "As delivered.", "email_bounced": "The newsletter reported a bounce.",
        "phone": "As delivered.", "street": "As delivered.", "postal_code": "As delivered.", "city": "As delivered.",
        "country": "As delivered (ISO alpha-2).", "consent_decision": "yes, no or pending, where the record makes one.",
        "consent_at": "When that decision was made" + UTC + ".", "revenue": "EUR on this account or card.",
        "first_seen_at": "First activity" + UTC + ".", "last_seen_at": "Last activity" + UTC + ".",
        "record_updated_at": "When the source last changed the record" + UTC + ".",
        "file_name": "The export file the record's current row came from.",
        "linked_to": "The record of the same customer it matches best.",
        "link_explanation": "Why it matches that record (terms as in review_queue.explanation).",
    },
    "lookup_emails": {"email": "Lower-cased, googlemail.com as gmail.com.", "golden_id": "The customer."},
    "lookup_phones": {"phone": "E.164.", "golden_id": "The customer."},
    "lookup_numbers": {"number": "Digits of the number.", "golden_id": "The customer.", "source": "shop or pos.",
                       "source_record_id": "The number as the source writes it."},
    "lookup_number_variants": {"variant": "The number with one character left out (or whole).",
                               "number": "The number.", "golden_id": "The customer."},
    "lookup_name_postings": {"token": "A standardised name word.",
                             "first_ids": "Customers with it in the first name (golden ids, sorted, space-separated).",
                             "last_ids": "Customers with it in the last name (golden ids, sorted, space-separated)."},
    "lookup_token_variants": {"variant": "The word with one character left out (or whole).", "token": "The word."},
    "lookup_token_phonetics": {"code": "Kölner Phonetik code.", "token": "The word."},
    "lookup_places": {"golden_id": "The customer.", "postal_code": "A postcode of the customer's records.",
                      "city": "A place name of the customer's records (folded)."},
    "reminder_settings": {"min_revenue": "EUR.", "days": "Days without contact."},
    "reminders": {
        "golden_id": "The customer.", "first_name": "As in customers.", "last_name": "As in customers.",
        "postal_code": "As in customers.", "city": "As in customers.", "phone": "As in customers.",
        "email": "As in customers.", "total_revenue": "As in customers.",
        "last_seen_at": "Latest activity in any source" + UTC + ".",
        "days_without_contact": "Days since last_seen_at.",
    },
    "review_queue": {
        "key_l": "One record (source:id).",
        "key_r": "The other record (source:id).",
        "golden_id_l": "The person the first record is in now.",
        "golden_id_r": "The person the second record is in now.",
        "match_probability": "The model's probability that both are one person.",
        "explanation": "Why: the prior, each comparison with data and the frequency of the shared values, whose "
                       "weights add up to match_weight.",
        "match_weight": "log2 of the odds that both are one person.",
        "linked_now": "Whether both records are in one person now.",
    },
}
_SIDE_BY_SIDE = {"source": "source system", "first_name": "first name", "last_name": "last name", "email": "e-mail",
                 "phone": "phone as delivered", "street": "street as delivered", "postal_code": "postcode",
                 "city": "city as delivered", "first_seen_at": "first activity" + UTC,
                 "last_seen_at": "last activity" + UTC}
for _column, _words in _SIDE_BY_SIDE.items():
    COLUMNS["review_queue"][f"{_column}_l"] = f"The first record's {_words}."
    COLUMNS["review_queue"][f"{_column}_r"] = f"The second record's {_words}."


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def comment_published_tables(con: duckdb.DuckDBPyConnection, database: str,
                             tables: dict[str, str] = TABLES, columns: dict[str, dict[str, str]] = COLUMNS) -> None:
    """COMMENT ON every table and column of `database` (an attached file) described here."""
    present = set(con.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = ?",
                              [database]).fetchall())
    for kind, described_tables in (("TABLE", tables), ("VIEW", VIEWS)):
        for table, text in described_tables.items():
            if any(t == table for t, _ in present):
                con.execute(f"COMMENT ON {kind} {database}.{table} IS {_quoted(text)}")
    for table, described in columns.items():
        for column, text in described.items():
            if (table, column) in present:
                con.execute(f"COMMENT ON COLUMN {database}.{table}.{column} IS {_quoted(text)}")


def undocumented(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Tables and columns of the open database without a comment."""
    rows = con.execute(
        "SELECT table_name, NULL FROM duckdb_tables() WHERE NOT internal AND (comment IS NULL OR comment = '') "
        "UNION ALL SELECT view_name, NULL FROM duckdb_views() WHERE NOT internal AND (comment IS NULL OR comment = '') "
        "UNION ALL SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal "
        "AND (comment IS NULL OR comment = '') ORDER BY ALL").fetchall()
    return [table if column is None else f"{table}.{column}" for table, column in rows]
