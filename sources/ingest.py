"""Loading new export files into the warehouse's raw tables, one transaction per file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from sources import erasure, hotline, newsletter, pos, reviews, shop
from sources.ledger import LEDGER_DDL, FileReport, file_date, file_hash, pending_files, record_file
from sources.reading import INCOMING, UnreadableFile, load_file, record_start_lines
from sources.rejects import REJECTS_DDL
from sources.spec import SourceSpec

# The customer systems, in the order their records are staged. A new source is a module
# with a SPEC and a STAGED_SQL, and a line here.
CUSTOMER_SOURCES = {"shop": shop, "newsletter": newsletter, "hotline": hotline, "pos": pos}
SOURCE_NAMES = tuple(CUSTOMER_SOURCES)
SPECS: dict[str, SourceSpec] = {
    name: module.SPEC for name, module in {**CUSTOMER_SOURCES, "erasure": erasure, "reviews": reviews}.items()
}


@dataclass
class IngestReport:
    source: str
    files: list[FileReport] = field(default_factory=list)

    @property
    def files_loaded(self) -> int:
        return sum(f.status == "loaded" for f in self.files)

    @property
    def files_rejected(self) -> int:
        return sum(f.status == "rejected" for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    def summary(self) -> dict[str, int]:
        return {
            "files_new": len(self.files), "files_loaded": self.files_loaded,
            "files_rejected": self.files_rejected, "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
        }


def ensure_tables(con: duckdb.DuckDBPyConnection, spec: SourceSpec) -> None:
    con.execute(LEDGER_DDL)
    con.execute(REJECTS_DDL)
    columns = ", ".join(f'"{c}" VARCHAR' for c in spec.columns)
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {spec.raw_table} ({columns}, _file_hash VARCHAR, _file_name VARCHAR, "
        "_record_number BIGINT, _line_hint BIGINT, _file_date TIMESTAMP, _loaded_at TIMESTAMP)"
    )


def _seen(con: duckdb.DuckDBPyConnection, digest: str) -> tuple[bool, str | None]:
    """(already handled under this name?, name of an earlier file with the same bytes)."""
    rows = con.execute(
        "SELECT file_name, status FROM ingest_files WHERE file_hash = ? ORDER BY loaded_at", [digest]
    ).fetchall()
    earlier = next((name for name, status in rows if status in ("loaded", "rejected")), None)
    return bool(rows), earlier


def _load_one(con: duckdb.DuckDBPyConnection, spec: SourceSpec, path: Path, digest: str, now: datetime) -> FileReport:
    structural = load_file(con, spec, path)
    reason_sql = (
        "CASE " + " ".join(f"WHEN ({c.bad_when}) THEN ({c.reason})" for c in spec.row_checks) + " END"
        if spec.row_checks else "NULL"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _checked AS SELECT *, {reason_sql} AS _reason FROM {INCOMING}")
    if spec.format == "csv":
        _fix_reject_line_numbers(con, spec, path)
    erased = _drop_rows_of_erased_persons(con, spec)
    columns = ", ".join(f'"{c}"' for c in spec.columns)
    con.execute(
        f"INSERT INTO {spec.raw_table} SELECT {columns}, ?, ?, _record_number, _line_hint, ?, ? "
        "FROM _checked WHERE _reason IS NULL",
        [digest, path.name, file_date(path.name), now],
    )
    raw_line = "concat_ws(" + repr(spec.delimiter) + ", " + ", ".join(f"coalesce(\"{c}\", '')" for c in spec.columns) + ")"
    con.execute(
        f"INSERT INTO rejects SELECT ?, ?, ?, _line_hint, _reason, {raw_line}, ? FROM _checked WHERE _reason IS NOT NULL",
        [spec.name, path.name, digest, now],
    )
    if structural:
        con.executemany(
            "INSERT INTO rejects VALUES (?, ?, ?, ?, ?, ?, ?)",
            [[spec.name, path.name, digest, r.line_number, r.reason, r.raw_line, now] for r in structural],
        )
    loaded, content_rejects = con.execute(
        "SELECT count(*) FILTER (WHERE _reason IS NULL), count(*) FILTER (WHERE _reason IS NOT NULL) FROM _checked"
    ).fetchall()[0]
    con.execute(f"DROP TABLE _checked; DROP TABLE {INCOMING}")
    rejected = content_rejects + len(structural)
    return FileReport(path.name, digest, "loaded", None, loaded + rejected + erased, loaded, rejected, erased)


def _drop_rows_of_erased_persons(con: duckdb.DuckDBPyConnection, spec: SourceSpec) -> int:
    """Exports keep carrying erased persons; their rows are not kept, not even raw."""
    if spec.id_column is None or not con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'erased_identifiers'"
    ).fetchall()[0][0]:
        return 0
    email = f'"{spec.email_column}"' if spec.email_column else "NULL"
    return con.execute(
        f"""
        DELETE FROM _checked WHERE
            sha256('{spec.name}:' || trim("{spec.id_column}")) IN (SELECT hash FROM erased_identifiers WHERE kind = 'record_key')
            OR sha256(regexp_replace(lower(trim({email})), '@googlemail[.]com$', '@gmail.com'))
               IN (SELECT hash FROM erased_identifiers WHERE kind = 'email')
        """
    ).fetchall()[0][0]


def _fix_reject_line_numbers(con: duckdb.DuckDBPyConnection, spec: SourceSpec, path: Path) -> None:
    """`_line_hint` assumes one line per record; for rejected rows the analyst gets the exact line."""
    numbers = [r[0] for r in con.execute("SELECT _record_number FROM _checked WHERE _reason IS NOT NULL").fetchall()]
    if not numbers:
        return
    lines = record_start_lines(path, spec, numbers)
    con.executemany("UPDATE _checked SET _line_hint = ? WHERE _record_number = ?", [[lines[n], n] for n in numbers if n in lines])


def ingest_source(con: duckdb.DuckDBPyConnection, source: str, landing_dir: Path) -> IngestReport:
    """Load every file of `landing_dir/<source>/` that was not loaded before.

    Each file is one transaction: its good rows, its rejects and its ledger row are written
    together or not at all. A file whose bytes were loaded before (under any name) changes
    nothing; a file that cannot be read is recorded as rejected and the others go on.
    """
    spec = SPECS[source]
    ensure_tables(con, spec)
    report = IngestReport(source)
    for path in pending_files(Path(landing_dir) / source, spec.pattern):
        digest = file_hash(path)
        handled, earlier = _seen(con, digest)
        if handled and con.execute(
            "SELECT count(*) FROM ingest_files WHERE file_hash = ? AND file_name = ?", [digest, path.name]
        ).fetchall()[0][0]:
            continue
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        if earlier is not None:
            result = FileReport(path.name, digest, "duplicate", f"same content as {earlier}", 0, 0, 0)
            record_file(con, source, path, digest, result, now)
            report.files.append(result)
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            result = _load_one(con, spec, path, digest, now)
            record_file(con, source, path, digest, result, now)
            con.execute("COMMIT")
        except (UnreadableFile, duckdb.Error) as error:
            con.execute("ROLLBACK")
            reason = str(error) if isinstance(error, UnreadableFile) else f"unreadable: {str(error).splitlines()[0]}"
            result = FileReport(path.name, digest, "rejected", reason, 0, 0, 0)
            record_file(con, source, path, digest, result, now)
        report.files.append(result)
    return report
