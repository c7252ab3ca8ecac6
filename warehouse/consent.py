"""Marketing consent that is never wrong in the unsafe direction.

A golden row says yes only when a yes is the latest decision that may be the person's,
and the record carrying it is the person's own:
- every explicit no and pending counts: the person's own records', an opt-out on a record
  the model thought may well be the same person (paired at or above `doubt_threshold`
  but not linked), and every later opt-out of one of the person's e-mail addresses
  anywhere in the data, linked or not (the suppression list every marketing tool keeps:
  a missed link cannot turn a withdrawn consent back into a yes);
- a yes counts only from a record linked to the person by that person's own evidence
  (`PERSON_LEVEL`: the same e-mail address that is not a family's, the same mobile, the
  same birth date, a quoted customer number, or the same first and last name at the same
  address, or an analyst's `same`), never by what a household shares (an address, a
  landline, a family mailbox, a surname); a person's only record is their own. Where the
  person's records also hold a no, the yes must come from a record linked at least
  `sure_threshold` surely.
The latest of these decisions wins; on a tie a no wins. `consent_email` is the address of
the record that gave the winning yes (marketing mails only an address that opted in);
`golden_consent` keeps for every decided person which decision won and, where it is not a
yes although some record of the person says yes, why.
"""

from __future__ import annotations

import duckdb

from linkage.settings import GERMAN_SETTINGS, LinkageSettings
from sources.identifiers import written_email_sql
from warehouse.golden_scope import within
from warehouse.settings import Settings


def _level(settings: LinkageSettings, comparison: str, *labels: str) -> str:
    levels = ", ".join(str(settings.gamma_of(comparison, label)) for label in labels)
    return f"p.gamma_{comparison} IN ({levels})"


def person_level_sql(settings: LinkageSettings = GERMAN_SETTINGS) -> str:
    """A scored pair (alias `p`) whose agreement is one person's, not a household's."""
    first_alike = _level(settings, "first_name", "exact", "swapped with surname", "jaro-winkler >= 0.92", "same sound",
                         "one is a prefix of the other", "one typo", "a usual short form", "one part of a double first name",
                         "a variant the data shows", "initials of the other's double name", "the other's mailbox spells it")
    # The surname comparison is silent (NULL level) for a surname shared at one address:
    # the household comparison has counted it.
    # A changed surname counts where the same first name comes with the person's own contact
    # point (`SURNAME_CHANGED`): a marriage, not a household.
    last_alike = _level(settings, "last_name", "exact", "jaro-winkler >= 0.92", "same sound", "shares part of a double name",
                        "other surname, same first name and own contact")
    quoted = _level(settings, "quoted_customer_number", "quotes the other's number")
    same_household = _level(settings, "household", "same surname at the same address")
    mailbox_names = _level(settings, "mailbox_spells_name", "mailbox spells the other's name")
    return (f"({_level(settings, 'email', 'exact')} OR {_level(settings, 'phone', 'same mobile')} "
            f"OR {_level(settings, 'birth_date', 'exact')} OR {quoted} OR {mailbox_names} "
            # The person's name: a household shares the surname and the address, not the first name.
            f"OR ({first_alike} AND ({last_alike} OR {same_household})))")


REASONS = {
    "own": "a later opt-out in the person's records",
    "neighbour": "a later opt-out on a record that may be the same person (not linked)",
    "suppressed": "a later opt-out of the person's e-mail address elsewhere in the data",
    "pending": "the latest decision is an opt-in not yet confirmed",
    "not_own": "the yes is on a record linked to the person only by what a household shares",
    "not_sure": "the yes is on a record linked too unsurely to outweigh the person's no",
}


def build_consent(con: duckdb.DuckDBPyConnection, doubt_threshold: float = 0.5, sure_threshold: float = Settings.consent_sure_probability,
                  settings: LinkageSettings = GERMAN_SETTINGS, persons: str | None = None) -> None:
    """(Re)build `golden_consent` for the golden ids in the table `persons` (None: for
    everyone): one row per golden id whose records hold a decision. Also keeps, in
    `golden_consent_evidence`, which records of other persons each one's decisions read
    (`warehouse/golden_scope.py`: a change to one of them rebuilds the person)."""
    _members(con)
    _own_records(con, settings, persons)
    _decisions(con, doubt_threshold, sure_threshold, persons)
    _winning_decisions(con)
    _store(con, persons)
    con.execute("DROP TABLE _members; DROP TABLE _own_records; DROP TABLE _decisions; DROP TABLE _golden_consent")


def _members(con: duckdb.DuckDBPyConnection) -> None:
    """`_members`: every record with its person, how many records the person has, how
    surely the record is linked and its standardised e-mail address."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _members AS
        SELECT m.record_key, m.golden_id, count(*) OVER (PARTITION BY m.golden_id) AS records_of_person,
               c.match_probability AS link_probability, f.email_std
        FROM golden_membership m LEFT JOIN clusters c USING (record_key) LEFT JOIN linkage_features f USING (record_key)
        """
    )


def _own_records(con: duckdb.DuckDBPyConnection, settings: LinkageSettings, persons: str | None) -> None:
    """`_own_records(record_key)`: the rebuilt persons' records linked by their own evidence."""
    rebuilt = within("m.golden_id", persons)
    con.execute(
        f"""
        -- Records linked into their golden row by the person's own evidence.
        CREATE OR REPLACE TEMP TABLE _own_records AS
        WITH own_pairs AS (
            -- Candidates only: yesterday's persons' pairs that no rule proposes
            -- (`relinked_pairs`) exist only in runs with a history, and a rerun must say the same.
            SELECT p.key_l, p.key_r FROM scored_pairs p
            JOIN _members a ON a.record_key = p.key_l JOIN _members b ON b.record_key = p.key_r
            WHERE a.golden_id = b.golden_id AND {_of_rebuilt('p.key_l', persons)} AND {person_level_sql(settings)}
            UNION ALL
            SELECT d.key_l, d.key_r FROM review_decisions d
            JOIN _members a ON a.record_key = d.key_l JOIN _members b ON b.record_key = d.key_r
            WHERE a.golden_id = b.golden_id AND {within('a.golden_id', persons)} AND d.decision = 'same'
        )
        SELECT record_key FROM _members m WHERE records_of_person = 1 AND {rebuilt}
        UNION SELECT key_l FROM own_pairs UNION SELECT key_r FROM own_pairs
        """
    )


def _of_rebuilt(column: str, persons: str | None) -> str:
    """A condition on `column` (a record key of a pair): a record of a rebuilt person.

    Asked of the pair's key rather than of its person after the joins, so that it filters
    the pairs before any join: a delta run reads the few pairs of the persons it rebuilds
    instead of joining every scored pair with every record twice."""
    if not persons:
        return "TRUE"
    return f"{column} IN (SELECT record_key FROM _members WHERE golden_id IN (SELECT golden_id FROM {persons}))"


def _decisions(con: duckdb.DuckDBPyConnection, doubt_threshold: float, sure_threshold: float,
               persons: str | None) -> None:
    """`_decisions`: every decision that may weigh on a rebuilt person, with its origin
    (own, neighbour, suppressed) and whether it is the person's own and sure."""
    rebuilt = within("m.golden_id", persons)
    written_email = written_email_sql("r.email")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _decisions AS
        WITH decided AS (
            SELECT r.record_key, r.consent_decision AS decision, r.consent_at, r.source, r.source_record_id,
                   {written_email} AS email
            FROM staged_records r WHERE r.consent_decision IS NOT NULL AND r.consent_at IS NOT NULL
        ), opt_outs AS (
            SELECT d.*, m.golden_id AS owner, m.email_std FROM decided d JOIN _members m USING (record_key)
            WHERE d.decision = 'no'
        )
        SELECT m.golden_id, d.*, 'own' AS origin,
               d.record_key IN (SELECT record_key FROM _own_records) AS own,
               m.records_of_person = 1 OR coalesce(m.link_probability, 0) >= {float(sure_threshold)} AS sure
        FROM decided d JOIN _members m USING (record_key) WHERE {rebuilt}
        UNION ALL
        -- In doubt, no: an opt-out on a record the model thought may well be the same person.
        SELECT a.golden_id, d.*, 'neighbour', true, true
        FROM (SELECT key_l AS own_key, key_r AS other_key, match_probability FROM scored_pairs
              WHERE {_of_rebuilt('key_l', persons)} AND key_r IN (SELECT record_key FROM decided)
              UNION ALL SELECT key_r, key_l, match_probability FROM scored_pairs
              WHERE {_of_rebuilt('key_r', persons)} AND key_l IN (SELECT record_key FROM decided)) p
        JOIN _members a ON a.record_key = p.own_key
        JOIN _members b ON b.record_key = p.other_key
        JOIN decided d ON d.record_key = p.other_key
        WHERE p.match_probability >= {float(doubt_threshold)} AND a.golden_id <> b.golden_id
          AND d.decision IN ('no', 'pending')
        UNION ALL
        -- The suppression list: an opt-out of any of the person's addresses, wherever it is,
        -- matched as standardised and as written (an address linkage cannot standardise, such
        -- as one with a space, is still the address a yes would be mailed to).
        SELECT DISTINCT m.golden_id, o.record_key, o.decision, o.consent_at, o.source, o.source_record_id, o.email,
               'suppressed', true, true
        FROM (SELECT m.golden_id, m.email_std AS email_key FROM _members m WHERE {rebuilt}
              UNION SELECT m.golden_id, {written_email} FROM _members m
                    JOIN staged_records r USING (record_key) WHERE {rebuilt}) m
        JOIN (SELECT *, email_std AS email_key FROM opt_outs UNION ALL SELECT *, email FROM opt_outs) o
          ON o.email_key = m.email_key AND o.owner <> m.golden_id
        """
    )


def _winning_decisions(con: duckdb.DuckDBPyConnection) -> None:
    """`_golden_consent`: per person the decision that wins, and why a yes did not."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _golden_consent AS
        WITH counted AS (
            SELECT *, decision <> 'yes' OR (own AND (sure OR NOT bool_or(decision IN ('no', 'pending'))
                                                    FILTER (WHERE origin = 'own') OVER (PARTITION BY golden_id))) AS counts
            FROM _decisions
        ), winner AS (
            -- The latest decision that counts; on a tie a no wins: never consent in doubt.
            SELECT * FROM counted WHERE counts
            QUALIFY row_number() OVER (PARTITION BY golden_id
                ORDER BY consent_at DESC, (decision = 'yes') ASC, origin, source, source_record_id) = 1
        ), latest_yes AS (
            -- The latest yes among the person's own records, counted or not: what a no overrides.
            SELECT golden_id, source, source_record_id, consent_at, own, sure FROM counted
            WHERE origin = 'own' AND decision = 'yes'
            QUALIFY row_number() OVER (PARTITION BY golden_id ORDER BY consent_at DESC, source, source_record_id) = 1
        )
        SELECT coalesce(w.golden_id, y.golden_id) AS golden_id,
               coalesce(w.decision = 'yes', false) AS marketing_consent,
               CASE WHEN w.decision = 'yes' THEN w.email END AS consent_email,
               w.decision, w.consent_at AS decided_at, w.source, w.source_record_id, w.origin,
               overridden.source AS overridden_yes_source, overridden.source_record_id AS overridden_yes_record_id,
               overridden.consent_at AS overridden_yes_at,
               CASE WHEN overridden.golden_id IS NULL THEN NULL
                    WHEN w.decision = 'no' AND w.consent_at >= y.consent_at THEN
                        CASE w.origin WHEN 'own' THEN $own WHEN 'neighbour' THEN $neighbour ELSE $suppressed END
                    WHEN w.decision = 'pending' AND w.consent_at >= y.consent_at THEN $pending
                    WHEN NOT y.own THEN $not_own
                    ELSE $not_sure END AS reason
        FROM winner w FULL JOIN latest_yes y USING (golden_id)
        -- A yes was overridden where the person's latest yes is not what is published.
        LEFT JOIN latest_yes overridden ON overridden.golden_id = y.golden_id AND NOT coalesce(w.decision = 'yes', false)
        """,
        REASONS,
    )


def _store(con: duckdb.DuckDBPyConnection, persons: str | None) -> None:
    """`golden_consent` and `golden_consent_evidence`: written anew, or the rebuilt persons' rows replaced."""
    if persons is None:
        con.execute("CREATE OR REPLACE TABLE golden_consent AS SELECT * FROM _golden_consent")
        con.execute("CREATE OR REPLACE TABLE golden_consent_evidence AS "
                    "SELECT DISTINCT golden_id, record_key FROM _decisions WHERE origin <> 'own'")
    else:
        kept = within("golden_id", persons)
        con.execute(f"DELETE FROM golden_consent WHERE {kept}; INSERT INTO golden_consent SELECT * FROM _golden_consent")
        con.execute(f"DELETE FROM golden_consent_evidence WHERE {kept}; INSERT INTO golden_consent_evidence "
                    "SELECT DISTINCT golden_id, record_key FROM _decisions WHERE origin <> 'own'")
