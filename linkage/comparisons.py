"""Comparison vectors: for each pair, the level every comparison reached (set-based SQL)."""

from __future__ import annotations

from linkage.settings import Comparison, LinkageSettings

NULL_LEVEL = -1


def gamma_column(comparison: Comparison) -> str:
    return f"gamma_{comparison.name}"


def gamma_sql(comparison: Comparison) -> str:
    cases = " ".join(f"WHEN {level.condition} THEN {i}" for i, level in enumerate(comparison.levels))
    return f"CASE WHEN {comparison.null_condition} THEN {NULL_LEVEL} {cases} END AS {gamma_column(comparison)}"


def any_level_sql(settings: LinkageSettings, levels: tuple[tuple[str, str], ...]) -> str:
    """SQL over a row of gamma columns: true when it reached any of these (comparison,
    level label) pairs, e.g. the settings' vetoes."""
    return " OR ".join(
        f"{gamma_column(settings.comparison(name))} = {settings.gamma_of(name, label)}" for name, label in levels
    ) or "false"


def tf_value_column(column: str, side: str) -> str:
    """The column of a pair's comparison vector holding one side's (`l` or `r`) value of
    `column`, by which its term frequency is looked up."""
    return f"tf_value_{column}_{side}"


def term_frequency_levels(settings: LinkageSettings) -> list[tuple[Comparison, int, tuple[str, ...]]]:
    """(comparison, level index, columns) for every level weighed by term frequency."""
    return [
        (comparison, i, level.term_frequency_columns)
        for comparison in settings.comparisons
        for i, level in enumerate(comparison.levels)
        if level.term_frequency_columns
    ]


def term_frequency_columns(settings: LinkageSettings) -> list[str]:
    """Every column some level weighs by, once, in the order of the settings."""
    return list(dict.fromkeys(column for _, _, columns in term_frequency_levels(settings) for column in columns))


def levels_sql(settings: LinkageSettings, pairs: str, comparisons: tuple[Comparison, ...], extra: str = "") -> str:
    """SELECT key_l, key_r, the gamma_* of `comparisons` and the `extra` columns (over the
    pair `p` and its records `l`, `r`) for the pairs in `pairs` (a table or sub-query
    with key_l, key_r)."""
    gammas = ",\n    ".join(gamma_sql(c) for c in comparisons) or "0 AS no_comparison"
    return f"""
    SELECT p.key_l, p.key_r,
        {gammas}{extra}
    FROM {pairs} p
    JOIN {settings.table} l ON l.record_key = p.key_l
    JOIN {settings.table} r ON r.record_key = p.key_r
    """


def comparison_vectors_sql(settings: LinkageSettings, pairs: str) -> str:
    """SELECT key_l, key_r, gamma_* (and the values term frequencies are looked up by)
    for the pairs in `pairs` (a table or sub-query with key_l, key_r)."""
    tf_values = "".join(
        f",\n    {side}.{column} AS {tf_value_column(column, side)}"
        for column in term_frequency_columns(settings) for side in ("l", "r")
    )
    return levels_sql(settings, pairs, settings.comparisons, tf_values)
