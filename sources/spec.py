"""What a reader needs to know about one source system's files: the source as data."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    encoding: str = "utf-8"
    delimiter: str = ","
    # jsonl: raw column -> JSON path, for fields that are nested.
    json_paths: dict[str, str] = field(default_factory=dict)
    row_checks: tuple[RowCheck, ...] = ()

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
