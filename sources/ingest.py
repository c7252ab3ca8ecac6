"""Loading new export files into the warehouse's raw tables, one transaction per file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from sources import erasure, hotline, newsletter, pos, reviews, shop
from sources.erased import erased_condition_sql, erasures_known, forget_erased_phones
from sources.inventory import classify, unknown_files
from sources.ledger import LEDGER_DDL, FileReport, file_date, file_hash, record_file
from sources.limits import IngestLimits
from sources.reading import INCOMING, LoadedFile, Reject, UnreadableFile, load_file
from sources.rejects import REJECTS_DDL
from sources.snapshots import settle
from sources.spec import SourceSpec, value_checks, value_guard

# The customer systems, in the order their records are staged. A new source is a module
# with a SPEC and a STAGED_SQL, and a line here.
CUSTOMER_SOURCES = {"shop": shop, "newsletter": newsletter, "hotline": hotline, "pos": pos}
SOURCE_NAMES = tuple(CUSTOMER_SOURCES)
SPECS: dict[str, SourceSpec] = {
    name: module.SPEC for name, module in {**CUSTOMER_SOURCES, "erasure": erasure, "reviews": reviews}.items()
}
# Every folder under the landing folder that a reader looks at.
LANDING_FOLDERS = tuple(SPECS)


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
    def files_held(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "held"]

    @property
    def files_ignored(self) -> int:
        return sum(f.status == "ignored" for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    def summary(self) -> dict[str, int]:
        return {
            "files_new": len(self.files), "files_loaded": self.files_loaded,
            "files_rejected": self.files_rejected, "files_held": len(self.files_held),
            "files_ignored": self.files_ignored, "rows_loaded": self.rows_loaded,
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
    earlier = next((name for name, status in rows if status in ("loaded", "held", "rejected")), None)
    return bool(rows), earlier


def _case(checks) -> str:
    return "CASE " + " ".join(f"WHEN ({c.bad_when}) THEN ({c.reason})" for c in checks) + " END"


def _reason_sql(spec: SourceSpec, limits: IngestLimits, controls: bool) -> str:
    """The first reason a row cannot be used. The value checks come first, so the reason
    names the real problem; one test over the whole row spares good rows the column-by-column
    ones."""
    checks = value_checks(spec, limits, controls)
    value_reason = f"CASE WHEN {value_guard(spec, limits, controls)} THEN {_case(checks)} END"
    return f"coalesce({value_reason}, {_case(spec.row_checks)})" if spec.row_checks else value_reason


def _structural_record_ids(spec: SourceSpec, header: list[str], rejects: list[Reject]) -> list[str | None]:
    """The account id of each damaged line, where it can still be read off the line."""
    ids: list[str | None] = []
    for reject in rejects:
        found = None
        if spec.format == "jsonl":
            match = re.search(r'"%s"\s*:\s*"([^",\s]+)"' % re.escape(spec.id_column or ""), reject.raw_text)
            found = match.group(1).strip() if match else None
        elif spec.id_column and spec.id_column in header:
            position = header.index(spec.id_column)
            first_line = reject.raw_text.split("\n", 1)[0]
            fields = first_line.split(spec.delimiter)
            # Fields before the id must be unquoted for a plain split to find it.
            if len(fields) > position and '"' not in "".join(fields[:position + 1]):
                found = fields[position].strip() or None
        ids.append(found)
    return ids


def _record_id_sql(spec: SourceSpec) -> str:
    return f'nullif(trim("{spec.id_column}"), \'\')' if spec.id_column else "NULL"


def _write_rejects(con: duckdb.DuckDBPyConnection, spec: SourceSpec, path: Path, digest: str, now: datetime,
                   loaded: LoadedFile) -> list[str | None]:
    """The rows of `_checked` with a reason and the damaged lines into `rejects`; the
    record id of each (None where unreadable), content rejects first."""
    record_id = _record_id_sql(spec)
    con.execute(
        f"INSERT INTO rejects SELECT ?, ?, ?, _line_hint, _reason, _raw_line, ?, _line_hint, {record_id} "
        "FROM _checked WHERE _reason IS NOT NULL",
        [spec.name, path.name, digest, now],
    )
    structural_ids = _structural_record_ids(spec, loaded.header, loaded.rejects)
    if loaded.rejects:
        con.executemany(
            "INSERT INTO rejects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[spec.name, path.name, digest, r.first_line, r.reason, r.raw_text, now, r.last_line, rid]
             for r, rid in zip(loaded.rejects, structural_ids)],
        )
    content_ids = [r[0] for r in con.execute(f"SELECT {record_id} FROM _checked WHERE _reason IS NOT NULL").fetchall()]
    return content_ids + structural_ids


def _load_one(con: duckdb.DuckDBPyConnection, spec: SourceSpec, path: Path, digest: str, now: datetime,
              limits: IngestLimits) -> FileReport:
    loaded = load_file(con, spec, path)
    reason_sql = _reason_sql(spec, limits, loaded.may_hold_controls)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _checked AS SELECT *, {reason_sql} AS _reason FROM {INCOMING}")
    erased = _drop_rows_of_erased_persons(con, spec)
    if spec.phone_column:
        forget_erased_phones(con, "_checked", spec.phone_column)
    columns = ", ".join(f'"{c}"' for c in spec.columns)
    con.execute(
        f"INSERT INTO {spec.raw_table} SELECT {columns}, ?, ?, _record_number, _line_hint, ?, ? "
        "FROM _checked WHERE _reason IS NULL",
        [digest, path.name, file_date(path.name), now],
    )
    rejected_ids = _write_rejects(con, spec, path, digest, now, loaded)
    rows_loaded = con.execute("SELECT count(*) FROM _checked WHERE _reason IS NULL").fetchall()[0][0]
    rejected = len(rejected_ids)
    status, reason = "loaded", loaded.encoding_note
    if spec.snapshot:
        verdict = settle(con, spec, digest, path.name, file_date(path.name), rows_loaded + rejected, rejected,
                         [i for i in rejected_ids if i], sum(i is None for i in rejected_ids), limits)
        status, reason = verdict.status, "; ".join(r for r in (verdict.reason, loaded.encoding_note) if r) or None
    con.execute(f"DROP TABLE _checked; DROP TABLE {INCOMING}")
    return FileReport(path.name, digest, status, reason, rows_loaded + rejected + erased, rows_loaded, rejected,
                      erased, loaded.lines_read, loaded.encoding)


def _drop_rows_of_erased_persons(con: duckdb.DuckDBPyConnection, spec: SourceSpec) -> int:
    """Exports keep carrying erased persons; their rows are not kept, not even raw."""
    if spec.id_column is None or not erasures_known(con):
        return 0
    record_key = f"'{spec.name}:' || trim(\"{spec.id_column}\")"
    email = f'"{spec.email_column}"' if spec.email_column else None
    return con.execute(f"DELETE FROM _checked WHERE {erased_condition_sql(record_key, email)}").fetchall()[0][0]


def _record_ignored(con: duckdb.DuckDBPyConnection, source: str, ignored: list[tuple[Path, str]],
                    report: "IngestReport", now: datetime) -> None:
    """A file no reader takes gets one ledger row (once per content and place), so it shows."""
    for path, reason in ignored:
        digest = file_hash(path)
        if con.execute("SELECT count(*) FROM ingest_files WHERE file_hash = ? AND file_path = ?",
                       [digest, str(path)]).fetchall()[0][0]:
            continue
        result = FileReport(path.name, digest, "ignored", reason, 0, 0, 0)
        record_file(con, source, path, digest, result, now)
        report.files.append(result)


def ingest_source(con: duckdb.DuckDBPyConnection, source: str, landing_dir: Path,
                  limits: IngestLimits = IngestLimits()) -> IngestReport:
    """Load every file of `landing_dir/<source>/` that was not loaded before.

    Each file is one transaction: its good rows, its rejects and its ledger row are written
    together or not at all. A file whose bytes were loaded before (under any name) changes
    nothing; a file that cannot be read is recorded as rejected and the others go on; a
    file that is no export of this source is recorded as ignored.
    """
    spec = SPECS[source]
    ensure_tables(con, spec)
    report = IngestReport(source)
    readable, ignored = classify(Path(landing_dir) / source, spec)
    _record_ignored(con, source, ignored, report, _now())
    for path in readable:
        digest = file_hash(path)
        handled, earlier = _seen(con, digest)
        if handled and con.execute(
            "SELECT count(*) FROM ingest_files WHERE file_hash = ? AND file_name = ?", [digest, path.name]
        ).fetchall()[0][0]:
            continue
        now = _now()
        if earlier is not None:
            result = FileReport(path.name, digest, "duplicate", f"same content as {earlier}", 0, 0, 0)
            record_file(con, source, path, digest, result, now)
            report.files.append(result)
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            result = _load_one(con, spec, path, digest, now, limits)
            record_file(con, source, path, digest, result, now)
            con.execute("COMMIT")
        except (UnreadableFile, duckdb.Error) as error:
            con.execute("ROLLBACK")
            reason = str(error) if isinstance(error, UnreadableFile) else f"unreadable: {str(error).splitlines()[0]}"
            result = FileReport(path.name, digest, "rejected", reason, 0, 0, 0)
            record_file(con, source, path, digest, result, now)
        report.files.append(result)
    return report


def record_unknown_files(con: duckdb.DuckDBPyConnection, landing_dir: Path) -> IngestReport:
    """Files under the landing folder outside every source's folder: recorded as ignored."""
    con.execute(LEDGER_DDL)
    report = IngestReport("landing")
    _record_ignored(con, "landing", unknown_files(Path(landing_dir), LANDING_FOLDERS), report, _now())
    return report


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
