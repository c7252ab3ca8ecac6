"""Reading one delivered file into a temporary table of VARCHAR columns, set-based.

Structural problems (a CSV row with the wrong number of fields, a line that is not JSON)
come back as rejected rows with their physical line number; a file that cannot be read
at all (undecodable bytes, missing columns, empty) raises `UnreadableFile`.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import duckdb

from sources.spec import SourceSpec

INCOMING = "_incoming"


class UnreadableFile(Exception):
    """The whole file is unusable; the message says why."""


@dataclass(frozen=True)
class StructuralReject:
    line_number: int
    reason: str
    raw_line: str


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def check_decodes(path: Path, encoding: str) -> None:
    """Fail with the byte offset of the first byte that is not valid in `encoding`."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                raise UnreadableFile(
                    f"not valid {encoding} at byte {offset + error.start} (wrong encoding or damaged file)"
                ) from None
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise UnreadableFile(f"file ends inside a multi-byte {encoding} character (truncated?)") from None


@contextmanager
def as_utf8(path: Path, encoding: str) -> Iterator[Path]:
    """DuckDB reads UTF-8 only (latin-1 is not cp1252: `€` is 0x80 there), so other
    encodings are transcoded, streaming, into a temporary file first."""
    if encoding.lower().replace("-", "") in {"utf8", "utf8sig"}:
        check_decodes(path, "utf-8")
        yield path
        return
    fd, tmp_name = tempfile.mkstemp(suffix=".csv", prefix="kundenstamm-")
    offset = 0
    try:
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        with path.open("rb") as source, os.fdopen(fd, "w", encoding="utf-8", newline="") as target:
            for chunk in iter(lambda: source.read(1 << 22), b""):
                try:
                    target.write(decoder.decode(chunk))
                except UnicodeDecodeError as error:
                    raise UnreadableFile(f"not valid {encoding} at byte {offset + error.start}") from None
                offset += len(chunk)
        yield Path(tmp_name)
    finally:
        os.unlink(tmp_name)


def read_header(path: Path, delimiter: str) -> list[str]:
    with path.open("r", encoding="utf-8", newline="") as handle:
        first = handle.readline()
    if not first.strip():
        raise UnreadableFile("empty file: no header row")
    header = next(csv.reader(io.StringIO(first.lstrip("\ufeff")), delimiter=delimiter))
    return [name.strip() for name in header]


def _physical_lines(path: Path, byte_positions: list[int]) -> dict[int, int]:
    """Byte offset of a line start -> its 1-based line number."""
    wanted = sorted(set(byte_positions))
    result: dict[int, int] = {}
    if not wanted:
        return result
    newlines, consumed, index = 0, 0, 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            while index < len(wanted) and wanted[index] < consumed + len(chunk):
                position = wanted[index]
                result[position] = newlines + chunk.count(b"\n", 0, position - consumed) + 1
                index += 1
            newlines += chunk.count(b"\n")
            consumed += len(chunk)
    for position in wanted[index:]:
        result[position] = newlines + 1
    return result


def record_start_lines(path: Path, spec: SourceSpec, record_numbers: list[int]) -> dict[int, int]:
    """Record number (1 = first row after the header) -> physical line it starts on.

    Quoted fields may span lines (hotline notes), so only a CSV parser can tell; this runs
    only for files that have rejected rows.
    """
    wanted = set(record_numbers)
    result: dict[int, int] = {}
    with path.open("r", encoding=spec.encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=spec.delimiter)
        previous_end = 0
        for record_number, _ in enumerate(reader):
            if record_number in wanted:
                result[record_number] = previous_end + 1
                if len(result) == len(wanted):
                    break
            previous_end = reader.line_num
    return result


def load_csv(con: duckdb.DuckDBPyConnection, spec: SourceSpec, path: Path) -> list[StructuralReject]:
    """Read a CSV export into `_incoming` (spec columns + `_record_number`)."""
    if path.stat().st_size == 0:
        raise UnreadableFile("empty file (0 bytes)")
    with as_utf8(path, spec.encoding) as utf8_path:
        header = read_header(utf8_path, spec.delimiter)
        missing = [c for c in spec.required_columns if c not in header]
        if missing:
            raise UnreadableFile(f"missing columns: {', '.join(missing)} (header has: {', '.join(header)})")
        if len(set(header)) != len(header):
            raise UnreadableFile("header names a column twice")
        columns = "{" + ", ".join(f"{_sql_str(h)}: 'VARCHAR'" for h in header) + "}"
        con.execute("DROP TABLE IF EXISTS _csv_rejects; DROP TABLE IF EXISTS _csv_scans")
        select = ", ".join(
            f'"{c}"' if c in header else f"NULL::VARCHAR AS \"{c}\"" for c in spec.columns
        )
        # Insertion order is preserved, so row_number() is the order of the accepted records.
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _accepted AS
            SELECT {select}, row_number() OVER () AS _accepted_number
            FROM read_csv({_sql_str(str(utf8_path))}, header = true, auto_detect = false,
                          delim = {_sql_str(spec.delimiter)}, quote = '"', escape = '"',
                          columns = {columns}, strict_mode = true, null_padding = false,
                          store_rejects = true, rejects_table = '_csv_rejects', rejects_scan = '_csv_scans')
            """
        )
        rejected = con.execute(
            "SELECT line - 1 AS record_number, any_value(line_byte_position), "
            # One reason a line: DuckDB reports a short row once for every missing column.
            "arg_min(error_type || ': ' || error_message, column_idx), any_value(csv_line) "
            "FROM _csv_rejects GROUP BY line ORDER BY line"
        ).fetchall()
        physical = _physical_lines(utf8_path, [int(r[1]) for r in rejected])
    accepted = con.execute("SELECT count(*) FROM _accepted").fetchall()[0][0]
    # The n-th accepted row is the n-th record number that was not rejected.
    con.execute("CREATE OR REPLACE TEMP TABLE _rejected_numbers (n BIGINT)")
    if rejected:
        con.executemany("INSERT INTO _rejected_numbers VALUES (?)", [[int(r[0])] for r in rejected])
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {INCOMING} AS
        WITH numbers AS (
            SELECT n AS _record_number, row_number() OVER (ORDER BY n) AS _accepted_number
            FROM (SELECT range + 1 AS n FROM range({accepted + len(rejected)})
                  EXCEPT SELECT n FROM _rejected_numbers)
        )
        SELECT a.* EXCLUDE (_accepted_number), numbers._record_number,
               numbers._record_number + 1 AS _line_hint
        FROM _accepted a JOIN numbers USING (_accepted_number)
        """
    )
    con.execute("DROP TABLE IF EXISTS _accepted; DROP TABLE IF EXISTS _csv_rejects; DROP TABLE IF EXISTS _csv_scans")
    return [
        StructuralReject(physical[int(position)], reason, raw_line)
        for _, position, reason, raw_line in rejected
    ]


def load_jsonl(con: duckdb.DuckDBPyConnection, spec: SourceSpec, path: Path) -> list[StructuralReject]:
    """Read a JSON Lines export into `_incoming`; a line that is not a JSON object is rejected."""
    if path.stat().st_size == 0:
        raise UnreadableFile("empty file (0 bytes)")
    check_decodes(path, "utf-8")
    extracted = ", ".join(
        f"json_extract_string(line, {_sql_str(spec.json_paths.get(c, '$.' + c))}) AS \"{c}\"" for c in spec.columns
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _lines AS
        SELECT rtrim(line, chr(13)) AS line, line_number
        FROM (
            SELECT unnest(parts) AS line, generate_subscripts(parts, 1) AS line_number
            FROM (SELECT string_split(content, chr(10)) AS parts FROM read_text({_sql_str(str(path))}))
        )
        WHERE trim(rtrim(line, chr(13))) <> ''
        """
    )
    bad = con.execute(
        "SELECT line_number, line FROM _lines "
        "WHERE NOT coalesce(json_valid(line), false) OR json_type(line) <> 'OBJECT' ORDER BY line_number"
    ).fetchall()
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {INCOMING} AS
        SELECT {extracted}, row_number() OVER (ORDER BY line_number) AS _record_number, line_number AS _line_hint
        FROM _lines
        WHERE coalesce(json_valid(line), false) AND json_type(line) = 'OBJECT'
        """
    )
    con.execute("DROP TABLE _lines")
    return [StructuralReject(int(n), "not a JSON object (malformed or truncated line)", text) for n, text in bad]


def load_file(con: duckdb.DuckDBPyConnection, spec: SourceSpec, path: Path) -> list[StructuralReject]:
    if spec.format == "jsonl":
        return load_jsonl(con, spec, path)
    return load_csv(con, spec, path)
