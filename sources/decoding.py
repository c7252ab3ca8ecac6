"""From a delivered file's bytes to its physical lines as text, one line at a time.

Real exports are damaged a byte at a time: one line typed on another machine (a Latin-1
`ü` in a UTF-8 file), an undefined byte in a cp1252 file. So decoding is per line: a line
that is not valid in the file's encoding is handed back as undecodable, with its bytes
shown safely, and every other line is read. Which encoding the file is in is decided by
its own lines: a file whose non-ASCII lines are mostly valid in the other usual encoding
than the one the spec names was saved that way (a POS export saved as UTF-8 in a text
editor), and is read in that encoding, never as mojibake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UTF8 = "utf-8"
CP1252 = "cp1252"


@dataclass(frozen=True)
class DecodedFile:
    """`lines[i]` is physical line i+1 without its line break, or None if it did not decode."""

    encoding: str
    lines: list[str | None]
    # Physical line number -> the line's bytes, shown safely (\xfc for an undecodable byte).
    undecodable: dict[int, str]
    # Why the encoding is not the one the spec names (None when it is).
    encoding_note: str | None = None


# A UTF-8 lead byte followed by a continuation byte: in German cp1252 text (`ü„`) next to
# never; in UTF-8 text every umlaut.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")


def _canonical(encoding: str) -> str:
    name = encoding.lower().replace("_", "-")
    if name in {"utf8", "utf-8", "utf-8-sig", "utf8-sig"}:
        return UTF8
    if name in {"cp1252", "windows-1252"}:
        return CP1252
    return name


def shown_safely(raw: bytes) -> str:
    """The bytes as text an analyst can read: valid UTF-8 as is, any other byte as `\\xNN`."""
    return raw.decode(UTF8, errors="backslashreplace")


def _split(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the final line break ends the last line; it does not start a new one
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


def _fits(line: bytes, encoding: str) -> bool:
    try:
        line.decode(encoding)
        return True
    except UnicodeDecodeError:
        return False


def _choose_encoding(raw_lines: list[bytes], expected: str) -> tuple[str, str | None]:
    """The encoding most of the file's non-ASCII lines are valid in (the spec's on a tie).

    Only UTF-8 and cp1252 are told apart: a German text in cp1252 is almost never valid
    UTF-8, and UTF-8 read as cp1252 is the mojibake (`Ã¼`) nobody wants published.
    """
    other = CP1252 if expected == UTF8 else UTF8 if expected == CP1252 else None
    if other is None:
        return expected, None
    non_ascii = [line for line in raw_lines if not line.isascii()]
    valid_utf8 = sum(_fits(line, UTF8) for line in non_ascii)
    votes = {UTF8: valid_utf8, CP1252: len(non_ascii) - valid_utf8}
    if votes[other] > votes[expected]:
        return other, (f"delivered in {other}, not {expected}: {votes[other]} of {len(non_ascii)} lines with "
                       f"non-ASCII characters are {other}; read as {other}")
    return expected, None


def decode_lines(data: bytes, expected_encoding: str) -> DecodedFile:
    """Split `data` into physical lines and decode each in the file's encoding."""
    expected = _canonical(expected_encoding)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a byte-order mark says UTF-8 whatever the spec expects
        expected = UTF8
    try:
        # The common case, a clean file, costs one decode of the whole file.
        text = data.decode(expected)
        if expected == CP1252 and _UTF8_SEQUENCE.search(data):
            raise UnicodeDecodeError(expected, data, 0, 1, "holds UTF-8 sequences: look line by line")
        lines: list[str | None] = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return DecodedFile(expected, [line[:-1] if line.endswith("\r") else line for line in lines], {})
    except UnicodeDecodeError:
        pass
    raw_lines = _split(data)
    encoding, note = _choose_encoding(raw_lines, expected)
    decoded: list[str | None] = []
    undecodable: dict[int, str] = {}
    utf8_inside = 0
    for number, raw in enumerate(raw_lines, start=1):
        if encoding == CP1252 and not raw.isascii() and _fits(raw, UTF8):
            # A line saved as UTF-8 into a cp1252 file (another till's editor): as cp1252 it
            # would decode to mojibake without an error, as UTF-8 it is what was typed.
            decoded.append(raw.decode(UTF8))
            utf8_inside += 1
            continue
        try:
            decoded.append(raw.decode(encoding))
        except UnicodeDecodeError:
            decoded.append(None)
            undecodable[number] = shown_safely(raw)
    if utf8_inside:
        note = "; ".join(filter(None, [note, f"{utf8_inside} lines in UTF-8 inside the cp1252 file, read as UTF-8"]))
    return DecodedFile(encoding, decoded, undecodable, note)
