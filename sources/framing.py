"""From decoded physical lines to records: where each record starts and ends, and which
lines are damaged.

One stray quote must not swallow the rest of a file. Python's CSV parser (strict mode)
reads the records; a record that spans several physical lines is kept only where the
spec allows line breaks (the hotline's notes) and no line inside it looks like a record
of its own. Otherwise only the record's first line is set aside and reading starts again
at the next physical line, so the damage stays on the line that carries it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import Iterator

from sources.decoding import DecodedFile


class UnreadableFile(Exception):
    """The whole file is unusable; the message says why."""


@dataclass(frozen=True)
class Reject:
    """Physical lines `first_line`..`last_line` could not be read as a record."""

    first_line: int
    last_line: int
    reason: str
    raw_text: str


@dataclass
class Frame:
    """The records of one file: `values[i]` started on physical line `first_lines[i]`."""

    header: list[str]
    values: list[list[str]] = field(default_factory=list)
    first_lines: list[int] = field(default_factory=list)
    raw_texts: list[str] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    # Non-blank physical lines after the header: every one is in a record or a reject.
    lines_read: int = 0


def undecodable_reject(decoded: DecodedFile, number: int) -> Reject:
    return Reject(number, number, f"line is not valid {decoded.encoding} (undecodable bytes)",
                  decoded.undecodable[number])


_UNTERMINATED = "unterminated or misplaced quote: the record runs into the next lines"


def _field_count_reason(found: int, expected: int, delimiter: str) -> str:
    if found > expected:
        return (f"too many fields: {found} where the header has {expected} "
                f"(an unquoted {delimiter!r} inside a value?)")
    return f"missing fields: {found} where the header has {expected} (line cut short?)"


class _CsvFramer:
    def __init__(self, decoded: DecodedFile, delimiter: str, multiline_columns: tuple[str, ...]):
        self.lines = decoded.lines
        self.decoded = decoded
        self.delimiter = delimiter
        header_line = self.lines[0] if self.lines else None
        if header_line is None or not header_line.strip():
            raise UnreadableFile("no header row (empty or undecodable first line)")
        try:
            header = next(csv.reader([header_line], delimiter=delimiter, strict=True))
        except csv.Error as error:
            raise UnreadableFile(f"header row is not {delimiter!r}-separated CSV: {error}") from None
        self.frame = Frame([name.strip().lstrip("\ufeff") for name in header])
        self.width = len(header)
        self.multiline = {i for i, name in enumerate(self.frame.header) if name in multiline_columns}

    def _feed(self, start: int) -> Iterator[str]:
        # Stops before an undecodable line: it is a reject of its own.
        for line in self.lines[start:]:
            if line is None:
                return
            yield line + "\n"

    def _is_record_alone(self, index: int) -> bool:
        line = self.lines[index]
        if line is None:
            return False
        try:
            rows = list(csv.reader([line], delimiter=self.delimiter, strict=True))
        except csv.Error:
            return False
        return len(rows) == 1 and len(rows[0]) == self.width

    def _breaks_are_allowed(self, row: list[str], first: int, used: int) -> bool:
        """Line breaks only inside columns that may hold them, and no line inside the
        record that would be a record of its own (then a quote was left open)."""
        if any("\n" in value for i, value in enumerate(row) if i not in self.multiline):
            return False
        return not any(self._is_record_alone(i) for i in range(first + 1, first + used))

    def _reject(self, first: int, last: int, reason: str) -> None:
        raw = "\n".join(line if line is not None else self.decoded.undecodable[i + 1]
                        for i, line in enumerate(self.lines[first:last + 1], start=first))
        self.frame.rejects.append(Reject(first + 1, last + 1, reason, raw))

    def _read_from(self, start: int) -> int:
        """Read records from line index `start`; the index where reading must resume."""
        reader = csv.reader(self._feed(start), delimiter=self.delimiter, strict=True)
        consumed = 0
        frame = self.frame
        while True:
            first = start + consumed
            try:
                row = next(reader)
            except StopIteration:
                return start + consumed
            except csv.Error as error:
                runs_on = reader.line_num - consumed > 1
                self._reject(first, first, _UNTERMINATED if runs_on else f"malformed quoting: {error}")
                return first + 1
            used = reader.line_num - consumed
            consumed = reader.line_num
            if used == 1:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # a blank line is no record
                if len(row) == self.width:
                    frame.values.append(row)
                    frame.first_lines.append(first + 1)
                    frame.raw_texts.append(self.lines[first])
                else:
                    self._reject(first, first, _field_count_reason(len(row), self.width, self.delimiter))
                continue
            if self._breaks_are_allowed(row, first, used):
                if len(row) == self.width:
                    frame.values.append(row)
                    frame.first_lines.append(first + 1)
                    frame.raw_texts.append("\n".join(self.lines[first:first + used]))
                else:
                    self._reject(first, first + used - 1, _field_count_reason(len(row), self.width, self.delimiter))
                continue
            # A quote opened and not closed on this line: only this line is lost.
            self._reject(first, first, _UNTERMINATED)
            return first + 1

    def read(self) -> Frame:
        index = 1
        while index < len(self.lines):
            if self.lines[index] is None:
                self.frame.rejects.append(undecodable_reject(self.decoded, index + 1))
                index += 1
                continue
            index = self._read_from(index)
        self.frame.lines_read = sum(1 for line in self.lines[1:] if line is None or line.strip())
        return self.frame


def frame_csv(decoded: DecodedFile, delimiter: str, multiline_columns: tuple[str, ...] = ()) -> Frame:
    return _CsvFramer(decoded, delimiter, multiline_columns).read()
