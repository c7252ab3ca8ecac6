"""Reading one delivered file into the temporary table `_incoming` of VARCHAR columns.

Decoding and framing happen line by line in Python (`sources.decoding`,
`sources.framing`), so one damaged byte or quote costs one line; the values then go to
DuckDB as one Arrow table and everything after is set-based SQL. Damaged lines come back
as `Reject`s with their physical line numbers; a file that cannot be read at all (no
header, missing columns, mostly unreadable lines) raises `UnreadableFile`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import re
from itertools import chain

import duckdb
import numpy as np
import pyarrow as pa

from sources.decoding import decode_lines
from sources.framing import Frame, Reject, UnreadableFile, frame_csv, undecodable_reject
from sources.spec import SourceSpec

INCOMING = "_incoming"
__all__ = ["INCOMING", "LoadedFile", "Reject", "UnreadableFile", "load_file"]


@dataclass(frozen=True)
class LoadedFile:
    header: list[str]
    rejects: list[Reject]
    lines_read: int
    encoding: str
    encoding_note: str | None
    # False when no byte of the file can be a control character in a value: the
    # column-by-column control checks are then skipped (they cost a regex per value).
    may_hold_controls: bool = True


# Control characters other than line breaks as bytes (C0 and DEL; C1 in UTF-8), and in JSON
# also as escapes (`\u0000`, `\n`). Deleting every other byte is a C loop over the file,
# 20x faster than a regular expression with a character class.
_CONTROL_BYTES = {*range(0x00, 0x0a), 0x0b, 0x0c, *range(0x0e, 0x20), 0x7f}
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CONTROL_BYTES)
_C1_IN_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")
_CONTROL_ESCAPES = re.compile(rb"\\(?:u00[0189][0-9a-fA-F]|u007[fF]|[bfnrt])")


def _may_hold_controls(data: bytes, json: bool) -> bool:
    return bool(data.translate(None, _NOT_CONTROL) or _C1_IN_UTF8.search(data)
                or (json and _CONTROL_ESCAPES.search(data)))


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _check_mostly_readable(rejected: int, lines_read: int, what: str) -> None:
    """Damage is local; a file of which most lines are damaged is not this format at all."""
    if lines_read == 0:
        raise UnreadableFile("no records after the header" if what == "CSV" else "no records (only blank lines)")
    if rejected * 2 > lines_read:
        raise UnreadableFile(f"most lines unreadable: {rejected} of {lines_read} are not {what} records "
                             "(wrong format, encoding or delimiter, or truncated)")


def _register_frame(con: duckdb.DuckDBPyConnection, frame: Frame, columns: list[str]) -> None:
    # Rows to columns in Arrow: one array of all values, then every width-th of them per
    # column (a Python transpose of a million rows costs seconds).
    width, rows = len(frame.header), len(frame.values)
    flat = pa.array(list(chain.from_iterable(frame.values)), pa.string())
    arrays = {name: flat.take(np.arange(i, rows * width, width)) for i, name in enumerate(frame.header) if name in columns}
    arrays["_record_number"] = pa.array(np.arange(1, rows + 1), pa.int64())
    arrays["_line_hint"] = pa.array(frame.first_lines, pa.int64())
    arrays["_raw_line"] = pa.array(frame.raw_texts, pa.string())
    con.register("_frame", pa.table(arrays))


def _delimiter(spec: SourceSpec, header_line: str | None) -> str:
    """The spec's delimiter, unless the header row is split into more of the required
    columns by one of the source's other delimiters."""
    if not spec.other_delimiters or not header_line:
        return spec.delimiter
    def found(delimiter: str) -> int:
        names = {name.strip().lstrip("\ufeff") for name in header_line.split(delimiter)}
        return len(names & set(spec.required_columns))
    return max((spec.delimiter, *spec.other_delimiters), key=found)


def load_csv(con: duckdb.DuckDBPyConnection, spec: SourceSpec, data: bytes) -> LoadedFile:
    decoded = decode_lines(data, spec.encoding)
    delimiter = _delimiter(spec, decoded.lines[0] if decoded.lines else None)
    frame = frame_csv(decoded, delimiter, spec.multiline_columns)
    header = frame.header
    missing = [c for c in spec.required_columns if c not in header]
    if missing:
        raise UnreadableFile(f"missing columns: {', '.join(missing)} (header has: {', '.join(header)})")
    if len(set(header)) != len(header):
        raise UnreadableFile("header names a column twice")
    _check_mostly_readable(len(frame.rejects), frame.lines_read, "CSV")
    _register_frame(con, frame, list(spec.columns))
    # An empty field is NULL, as in every CSV reader the sources' tools are checked with.
    select = ", ".join(f'nullif("{c}", \'\') AS "{c}"' if c in header else f'NULL::VARCHAR AS "{c}"'
                       for c in spec.columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {INCOMING} AS "
                f"SELECT {select}, _record_number, _line_hint, _raw_line FROM _frame")
    con.unregister("_frame")
    return LoadedFile(header, frame.rejects, frame.lines_read, decoded.encoding, decoded.encoding_note,
                      _may_hold_controls(data, json=False))


def load_jsonl(con: duckdb.DuckDBPyConnection, spec: SourceSpec, data: bytes) -> LoadedFile:
    """A line that is not a JSON object is rejected; the others are read by their paths."""
    decoded = decode_lines(data, spec.encoding)
    # One record per non-blank line: the lines go to DuckDB as they are (NULL: undecodable).
    con.register("_frame", pa.table({"line": pa.array(decoded.lines, pa.string()),
                                     "line_number": pa.array(np.arange(1, len(decoded.lines) + 1), pa.int64())}))
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _lines AS
        SELECT line, line_number,
               -- json_type fails on text that is no JSON, so it is asked only of valid lines.
               CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' ELSE false END AS is_object
        FROM _frame WHERE trim(line) <> ''
    """)
    con.unregister("_frame")
    bad = con.execute("SELECT line_number, line FROM _lines WHERE NOT is_object ORDER BY line_number").fetchall()
    rejects = [undecodable_reject(decoded, n) for n in decoded.undecodable]
    rejects += [Reject(int(n), int(n), "not a JSON object (malformed or truncated line)", text) for n, text in bad]
    lines_read = con.execute("SELECT count(*) FROM _lines").fetchall()[0][0] + len(decoded.undecodable)
    _check_mostly_readable(len(rejects), lines_read, "JSON")
    # All paths in one call: the line is parsed once, not once per column (5x faster).
    paths = ", ".join(_sql_str(spec.json_paths.get(c, "$." + c)) for c in spec.columns)
    extracted = ", ".join(f'"values"[{i}] AS "{c}"' for i, c in enumerate(spec.columns, start=1))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {INCOMING} AS
        SELECT {extracted}, row_number() OVER (ORDER BY line_number) AS _record_number,
               line_number AS _line_hint, line AS _raw_line
        FROM (SELECT json_extract_string(line, [{paths}]) AS "values", line_number, line FROM _lines WHERE is_object)
    """)
    con.execute("DROP TABLE _lines")
    return LoadedFile(list(spec.columns), sorted(rejects, key=lambda r: r.first_line), lines_read,
                      decoded.encoding, decoded.encoding_note, _may_hold_controls(data, json=True))


def load_file(con: duckdb.DuckDBPyConnection, spec: SourceSpec, path: Path) -> LoadedFile:
    data = path.read_bytes()
    if not data:
        raise UnreadableFile("empty file (0 bytes)")
    if spec.format == "jsonl":
        return load_jsonl(con, spec, data)
    return load_csv(con, spec, data)
