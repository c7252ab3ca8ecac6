"""Finding personal details that must never be published: birthdays, interests, notes.

Sensitive values live only in `staged_sensitive` (and the linkage features that need the
birth date); nothing in `warehouse/` reads them, so a published table can only hold one
by a bug. The check looks for such a bug precisely, because a false alarm stops the whole
publication:
- a column whose *name* says it is a birthday, an interest or a note: always a finding;
- a person's *own* birthday, note or interest in that person's published rows (joined by
  golden id through `golden_membership`): another subscriber's interest `Wein` that
  happens to equal someone's mistyped city `Wein` is a coincidence, not a leak;
- a long fragment of any hotline note (four words in a row, or a note of at least
  `_FRAGMENT_CHARS` characters) in any published value, whoever's row it is in: free text
  is never a coincidence.
"""

from __future__ import annotations

import re

import duckdb
import pandas as pd

from warehouse.connection import table_exists

# The warehouse tables that become the published file.
TO_PUBLISH = ("golden_customers", "golden_sources", "golden_id_history", "customer_changes", "review_queue", "golden_provenance",
              "golden_consent")
FORBIDDEN_COLUMN = re.compile(r"birth|geburt|interest|hobby|note|notiz|age$|alter$", re.IGNORECASE)
# Columns that name the person a published row is about.
PERSON_COLUMNS = ("golden_id", "golden_id_l", "golden_id_r", "related_golden_id", "retired_id")
_FRAGMENT_WORDS = 4
_FRAGMENT_CHARS = 16
_BIRTH_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y", "%Y%m%d")


def _words(column: str) -> str:
    """Free text as a list of lower-case words: punctuation and line breaks do not hide a copy."""
    return (f"list_filter(string_split(trim(regexp_replace(lower({column}), '[^[:alnum:]äöüß]+', ' ', 'g')), ' '), "
            f"lambda w: w <> '')")


def _fragments(column: str) -> str:
    """Every run of `_FRAGMENT_WORDS` words of a text, or the whole text if it has fewer."""
    words = _words(column)
    return (f"CASE WHEN len({words}) >= {_FRAGMENT_WORDS} "
            f"THEN list_transform(generate_series(1, len({words}) - {_FRAGMENT_WORDS - 1}), "
            f"lambda i: array_to_string({words}[i:i + {_FRAGMENT_WORDS - 1}], ' ')) "
            f"ELSE [array_to_string({words}, ' ')] END")


def _prepare_sensitive(con: duckdb.DuckDBPyConnection) -> None:
    """`_person_sensitive(golden_id, kind, value)`, `_person_values(golden_id, value)` and
    `_note_fragments(fragment)`: what the per-person and free-text checks compare with."""
    births = " UNION ALL ".join(
        f"SELECT record_key, 'birth_date' AS kind, strftime(birth_date, '{f}') AS value FROM staged_sensitive "
        "WHERE birth_date IS NOT NULL" for f in _BIRTH_FORMATS)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _person_sensitive AS
        SELECT DISTINCT m.golden_id, s.kind, lower(s.value) AS value
        FROM ({births}
              UNION ALL SELECT record_key, 'note', trim(notes) FROM staged_sensitive WHERE nullif(trim(notes), '') IS NOT NULL
              UNION ALL SELECT record_key, 'interest', trim(unnest(string_split(interests, ';')))
                        FROM staged_sensitive WHERE interests IS NOT NULL) s
        JOIN golden_membership m USING (record_key)
        WHERE nullif(s.value, '') IS NOT NULL
        """
    )
    # What the person's own records say in their ordinary columns: an interest `Garten`
    # that is also the person's street name as their records spell it is their address.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _person_values AS
        SELECT DISTINCT m.golden_id, lower(trim(v.value)) AS value
        FROM (SELECT record_key, unnest([first_name, last_name, company, email, street, city]) AS value FROM staged_records) v
        JOIN golden_membership m USING (record_key)
        JOIN (SELECT DISTINCT golden_id FROM _person_sensitive WHERE kind = 'interest') i USING (golden_id)
        WHERE v.value IS NOT NULL
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _note_fragments AS
        SELECT DISTINCT fragment FROM (
            SELECT unnest({_fragments('notes')}) AS fragment FROM staged_sensitive WHERE notes IS NOT NULL)
        WHERE length(fragment) >= {_FRAGMENT_CHARS} OR length(fragment) - length(replace(fragment, ' ', '')) >= {_FRAGMENT_WORDS - 1}
        """
    )


def _own_value_hits(con: duckdb.DuckDBPyConnection, table: str, column: str, column_type: str, persons: list[str]) -> int:
    """Rows of `table` whose `column` holds a sensitive value of the person the row is about."""
    hits = 0
    for person in persons:
        if column_type == "DATE":
            condition = (f"p.kind = 'birth_date' AND strftime(t.\"{column}\", '%Y-%m-%d') = p.value")
        else:
            value = f'lower(trim(t."{column}"))'
            condition = (
                f"(p.kind IN ('birth_date', 'note') AND contains({value}, p.value)) OR "
                f"(p.kind = 'interest' AND {value} = p.value AND NOT EXISTS ("
                f"SELECT 1 FROM _person_values o WHERE o.golden_id = p.golden_id AND o.value = p.value))")
        hits += con.execute(
            f'SELECT count(*) FROM {table} t JOIN _person_sensitive p ON p.golden_id = t."{person}" '
            f'WHERE t."{column}" IS NOT NULL AND ({condition})'
        ).fetchall()[0][0]
    return hits


def _fragment_hits(con: duckdb.DuckDBPyConnection, table: str, column: str) -> int:
    """Values of `column` that carry a long piece of any hotline note."""
    return con.execute(
        f"""
        SELECT count(DISTINCT v) FROM (
            SELECT v, unnest({_fragments('v')}) AS fragment
            FROM (SELECT DISTINCT "{column}" AS v FROM {table} WHERE "{column}" IS NOT NULL))
        WHERE fragment IN (SELECT fragment FROM _note_fragments)
        """
    ).fetchall()[0][0]


def privacy_findings(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...] = TO_PUBLISH) -> pd.DataFrame:
    """One row per table column that is, or holds, a sensitive detail."""
    findings: list[dict] = []
    has_sensitive = table_exists(con, "staged_sensitive") and table_exists(con, "golden_membership")
    if has_sensitive:
        _prepare_sensitive(con)
    for table in tables:
        if not table_exists(con, table):
            continue
        described = con.execute(f"DESCRIBE {table}").fetchall()
        persons = [name for name, *_ in described if name in PERSON_COLUMNS]
        for name, column_type, *_ in described:
            if FORBIDDEN_COLUMN.search(name):
                findings.append({"table": table, "column": name, "kind": "sensitive column name"})
                continue
            if not has_sensitive or column_type not in ("DATE", "VARCHAR") or name in PERSON_COLUMNS:
                continue
            own = _own_value_hits(con, table, name, column_type, persons)
            if own:
                findings.append({"table": table, "column": name, "kind": f"{own} of the person's own sensitive values"})
            if column_type == "VARCHAR":
                fragments = _fragment_hits(con, table, name)
                if fragments:
                    findings.append({"table": table, "column": name, "kind": f"{fragments} values with a hotline note's text"})
    if has_sensitive:
        con.execute("DROP TABLE _person_sensitive; DROP TABLE _person_values; DROP TABLE _note_fragments")
    return pd.DataFrame(findings, columns=["table", "column", "kind"])
