"""What each source's staged rows are made of, as one signature: equal, the rows are too.

A source's staged rows are a function of the tables its staging SQL reads (its raw table,
`ingest_files`, `rejects`, and for POS the shop's raw rows, whose places tell a card's
country), of the erased persons (left out) and of the SQL itself. The sensor starts a run
for every file that lands, and most files are a hotline or till increment: the shop's and
the newsletter's snapshots, 60 % of the records, did not change, yet were staged again
(at a million persons some 4 s a run). `sources.staging` keeps a source's rows when its
signature equals the one it stored with them.

The signature reads every warehouse table the SQL names (found in the SQL's text, so a new
dependency cannot be forgotten): a raw table by its row count and the sum of its rows' file
and record numbers (raw rows are only ever appended by a file or deleted by an erasure;
nothing updates them in place), any other (`ingest_files`, `rejects`) whole; and the erased
identifiers by count and the sum of their hashes. A source whose raw table is missing has no
signature: it is staged anew.
"""

from __future__ import annotations

import hashlib
import re

import duckdb

from sources.differences import table_columns

# `generation`: the staging (sources.staging.staging_generation) that staged the source's rows.
INPUTS_DDL = ("CREATE TABLE IF NOT EXISTS staging_inputs (source VARCHAR PRIMARY KEY, signature VARCHAR NOT NULL, "
              "generation BIGINT)")
_NAMED = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_]\w*)", re.IGNORECASE)
# How each kind of table the staging SQL may read is summed up (one row of values).
# Raw rows are only ever appended by a file or deleted by an erasure: their file and record
# numbers tell them. Any other table is read whole (`ingest_files`, `rejects`, `erased_identifiers`: small), but
# only its rows of the sources whose raw tables the SQL reads, where it has a `source` column
# (a till file that lands does not touch the shop's staging).
_RAW_DIGEST = "SELECT count(*), sum(hash(_file_hash, _record_number)) FROM {table}"
_WHOLE_DIGEST = "SELECT count(*), sum(hash(t)) FROM {table} t"
_OF_SOURCES = "SELECT count(*), sum(hash(t)) FROM {table} t WHERE source IN (SELECT unnest(?::VARCHAR[]))"


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
                                      "AND database_name = current_database()").fetchall()}


def read_tables(sql: str, present: set[str]) -> list[str] | None:
    """The warehouse tables (of those `present`) `sql` names after FROM or JOIN (a name that is
    no table is a CTE's); None when a raw table it reads is missing."""
    named = set(_NAMED.findall(sql))
    if any(n.startswith("raw_") and n not in present for n in named):
        return None
    return sorted(named & present)


def signature(con: duckdb.DuckDBPyConnection, sql: str, code: str) -> str | None:
    """One value for everything a source's staged rows are made of: the tables `sql` reads,
    the erased identifiers, and `code` (the SQL and whatever else of the staging shapes them);
    None when it cannot be told."""
    present = _tables(con)
    tables = read_tables(sql, present)
    if tables is None:
        return None
    parts = [hashlib.sha256(code.encode()).hexdigest()]
    sources = sorted(t.removeprefix("raw_") for t in tables if t.startswith("raw_"))
    erasures = ["erased_identifiers"] if "erased_identifiers" in present else []
    for table in sorted(set(tables) | set(erasures)):
        if table.startswith("raw_"):
            value = con.execute(_RAW_DIGEST.format(table=table)).fetchall()[0]
        elif "source" in table_columns(con, table):
            value = con.execute(_OF_SOURCES.format(table=table), [sources]).fetchall()[0]
        else:
            value = con.execute(_WHOLE_DIGEST.format(table=table)).fetchall()[0]
        parts.append(f"{table}={value}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def stored_signatures(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    con.execute(INPUTS_DDL)
    return dict(con.execute("SELECT source, signature FROM staging_inputs").fetchall())


def forget(con: duckdb.DuckDBPyConnection, sources: list[str]) -> None:
    """Before a source's rows are touched: killed then, the next staging stages it anew."""
    con.execute(INPUTS_DDL)
    con.execute("DELETE FROM staging_inputs WHERE source IN (SELECT unnest(?::VARCHAR[]))", [sources])


def remember(con: duckdb.DuckDBPyConnection, signatures: dict[str, str | None], staged: list[str],
             generation: int | None) -> None:
    """After the rows are in: the signatures of the sources `staged` anew (in `generation`)."""
    rows = [(s, signatures[s], generation) for s in staged if signatures.get(s) is not None]
    forget(con, staged)
    if rows:
        con.executemany("INSERT INTO staging_inputs VALUES (?, ?, ?)", rows)


def staged_in(con: duckdb.DuckDBPyConnection) -> dict[str, int | None]:
    """Each source's staging that staged its rows now in `staged_records`."""
    con.execute(INPUTS_DDL)
    return dict(con.execute("SELECT source, generation FROM staging_inputs ORDER BY source").fetchall())
