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


def tf_value_column(comparison: Comparison, side: str = "l") -> str:
    """The column of a pair's comparison vector holding one side's value (`l` or `r`)
    that the comparison's term frequencies are looked up by."""
    return f"tf_value_{comparison.name}_{side}"


def term_frequency_levels(settings: LinkageSettings) -> list[tuple[Comparison, int, str]]:
    """(comparison, level index, column) for every level weighed by term frequency; a
    comparison's first such level is its reference (`exact`, see `Level`)."""
    return [
        (comparison, i, level.term_frequency_column)
        for comparison in settings.comparisons
        for i, level in enumerate(comparison.levels)
        if level.term_frequency_column
    ]


def term_frequency_columns(settings: LinkageSettings) -> list[tuple[Comparison, str]]:
    """(comparison, column) once per comparison that weighs any level by term frequency;
    its levels share one column (a phone's `same mobile` and `same landline`)."""
    seen: dict[str, tuple[Comparison, str]] = {}
    for comparison, _, column in term_frequency_levels(settings):
        if seen.setdefault(comparison.name, (comparison, column))[1] != column:
            raise ValueError(f"comparison {comparison.name}: term frequencies of one column only")
    return list(seen.values())


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
        f",\n    {side}.{column} AS {tf_value_column(comparison, side)}"
        for comparison, column in term_frequency_columns(settings) for side in ("l", "r")
    )
    return levels_sql(settings, pairs, settings.comparisons, tf_values)
