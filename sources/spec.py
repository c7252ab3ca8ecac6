"""What a reader needs to know about one source system's files: the source as data."""

from __future__ import annotations

from dataclasses import dataclass, field

from sources.limits import IngestLimits


@dataclass(frozen=True)
class RowCheck:
    """A row that matches `bad_when` (SQL over the raw VARCHAR columns) cannot be used.

    `reason` is an SQL expression, so the message can quote the offending value.
    """

    bad_when: str
    reason: str


@dataclass(frozen=True)
class SourceSpec:
    name: str
    # File name pattern inside landing/<name>/.
    pattern: str
    format: str  # "csv" or "jsonl"
    columns: tuple[str, ...]
    required_columns: tuple[str, ...]
    # The record's id and e-mail columns: rows of erased persons are recognised by them.
    id_column: str | None = None
    email_column: str | None = None
    # Its phone column: a phone named in an erasure request is never stored again.
    phone_column: str | None = None
    encoding: str = "utf-8"
    delimiter: str = ","
    # Other delimiters a file of this source may come with, told by its header row (an
    # analyst's decisions saved by German Excel are `;`-separated).
    other_delimiters: tuple[str, ...] = ()
    # jsonl: raw column -> JSON path, for fields that are nested.
    json_paths: dict[str, str] = field(default_factory=dict)
    row_checks: tuple[RowCheck, ...] = ()
    # Each file is the whole truth (shop, newsletter): what is missing from it was deleted,
    # so a file is applied only when it is plausible (`sources.snapshots`).
    snapshot: bool = False
    # The export date in the file name is part of the data (the snapshot order, the POS
    # consent date): a file without one cannot be placed and is ignored, with the reason.
    dated: bool = False
    # Columns whose values may hold line breaks (a quoted multi-line field).
    multiline_columns: tuple[str, ...] = ()
    # Free text typed by people: longer values and line breaks are normal there.
    free_text_columns: tuple[str, ...] = ()

    @property
    def raw_table(self) -> str:
        return f"raw_{self.name}"


def missing(column: str) -> str:
    return f"nullif(trim({column}), '') IS NULL"


def required(column: str) -> RowCheck:
    return RowCheck(missing(column), f"'missing {column}'")


def timestamp_check(column: str) -> RowCheck:
    """ISO 8601 timestamps; an empty value is allowed (it means 'unknown')."""
    return RowCheck(
        f"NOT {missing(column)} AND try_cast(trim({column}) AS TIMESTAMPTZ) IS NULL",
        f"'{column} is not an ISO 8601 time: ' || {column}",
    )


def postal_code_sql(column: str, country: str = "'DE'") -> str:
    """The postcode as delivered, except that a German one which lost its leading zero in a
    spreadsheet or a JSON number (`1067`) gets it back; Austria and Switzerland have four digits."""
    return (f"CASE WHEN regexp_matches(trim({column}), '^[0-9]{{4}}$') "
            f"AND upper(coalesce(nullif(trim({country}), ''), 'DE')) = 'DE' "
            f"THEN '0' || trim({column}) ELSE nullif(trim({column}), '') END")


# C0 controls but tab, line feed and carriage return; DEL; the C1 controls (a cp1252 file
# read as Latin-1 leaves them). RE2 reads the \x escapes; DuckDB passes them through.
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
_CONTROL_OR_BREAK = r"[\x00-\x1f\x7f-\x9f]"


def value_checks(spec: SourceSpec, limits: IngestLimits, controls: bool = True) -> tuple[RowCheck, ...]:
    """Checks that come before the source's own: the reason names the real problem.
    `controls=False` leaves out the control-character checks (the file has none)."""
    checks = []
    for column in spec.columns:
        free = column in spec.free_text_columns
        pattern = _CONTROL if free else _CONTROL_OR_BREAK
        limit = limits.max_free_text_length if free else limits.max_value_length
        quoted = f'"{column}"'
        if controls:
            checks.append(RowCheck(
                f"regexp_matches({quoted}, '{pattern}')",
                f"'{column} holds a control character (' || format('U+{{:04X}}', "
                f"unicode(regexp_extract({quoted}, '{pattern}'))) || ')'"))
        checks.append(RowCheck(
            f"length({quoted}) > {limit}",
            f"'{column} is ' || length({quoted}) || ' characters long (at most {limit})'"))
    return tuple(checks)


def value_guard(spec: SourceSpec, limits: IngestLimits, controls: bool = True) -> str:
    """True for a row that fails some `value_checks` (and for a few more): one test a row."""
    plain = [f'"{c}"' for c in spec.columns if c not in spec.free_text_columns]
    free = [f'"{c}"' for c in spec.columns if c in spec.free_text_columns]
    tests = [f"greatest({', '.join(f'length({c})' for c in plain)}) > {limits.max_value_length}"]
    if free:
        tests.append(f"greatest({', '.join(f'length({c})' for c in free)}) > {limits.max_free_text_length}")
    if controls:
        tests.append(f"regexp_matches(concat_ws(' ', {', '.join(plain)}), '{_CONTROL_OR_BREAK}')")
        if free:
            tests.append(f"regexp_matches(concat_ws(' ', {', '.join(free)}), '{_CONTROL}')")
    return "(" + " OR ".join(f"coalesce({t}, false)" for t in tests) + ")"
