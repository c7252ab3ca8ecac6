"""Why two records were (not) linked: every comparison's level, values and weight."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from linkage.comparisons import (
    comparison_vectors_sql, gamma_column, term_frequency_columns, tf_value_column,
)
from linkage.model import term_frequency_references, term_frequency_weight
from linkage.settings import GERMAN_SETTINGS, LinkageSettings


@dataclass
class PairExplanation:
    key_l: str
    key_r: str
    table: pd.DataFrame
    prior_weight: float
    match_weight: float
    match_probability: float

    @property
    def text(self) -> str:
        lines = [f"{self.key_l} vs {self.key_r}", f"  prior (two random records match): {self.prior_weight:+.2f}"]
        for row in self.table.itertuples(index=False):
            values = f"{row.value_l!s} | {row.value_r!s}"
            lines.append(f"  {row.comparison:<24} {row.level:<40} {row.weight:+7.2f}   ({values})")
        lines.append(f"  = match weight {self.match_weight:+.2f}, probability {self.match_probability:.4f}")
        return "\n".join(lines)


def _absent(value) -> bool:
    missing = pd.isna(value)
    return bool(missing) if isinstance(missing, (bool, np.bool_)) else False


def explain_pair(
    con: duckdb.DuckDBPyConnection, key_l: str, key_r: str, settings: LinkageSettings = GERMAN_SETTINGS
) -> PairExplanation:
    key_l, key_r = sorted((key_l, key_r))
    con.register("_pair", pd.DataFrame({"key_l": [key_l], "key_r": [key_r]}))
    vector = con.execute(comparison_vectors_sql(settings, "_pair")).df().iloc[0]
    con.unregister("_pair")
    records = con.execute(
        f"SELECT * FROM {settings.table} WHERE record_key IN (?, ?)", [key_l, key_r]
    ).df().set_index("record_key")
    parameters = con.execute("SELECT * FROM model_parameters").df().set_index(["comparison", "gamma"])
    prior_weight = con.execute("SELECT prior_weight FROM model_prior").fetchall()[0][0]
    references = term_frequency_references(settings, {
        c.name: np.array([float(parameters.loc[(c.name, g), "u"]) for g in range(len(c.levels))])
        for c in settings.comparisons})
    # Per column, the more frequent of the two values, as in scoring (`_create_tf_vectors`).
    frequencies = {column: con.execute(
        "SELECT max(tf) FROM term_frequencies WHERE column_name = ? AND value IN (?, ?)",
        [column, *(str(vector[tf_value_column(column, side)]) for side in ("l", "r"))]).fetchall()[0][0]
        for column in term_frequency_columns(settings)}

    rows = []
    for comparison in settings.comparisons:
        gamma = int(vector[gamma_column(comparison)])
        shown = comparison.columns or ()
        value_l = ", ".join(str(records.at[key_l, c]) for c in shown)
        value_r = ", ".join(str(records.at[key_r, c]) for c in shown)
        if gamma < 0:
            # A comparison also says nothing with both values there: a surname shared at one
            # address (the household comparison counts it), names read from two mailboxes.
            absent = not shown or any(_absent(records.at[k, c]) for k in (key_l, key_r) for c in shown)
            silent = "missing on one side" if absent else "says nothing for this pair"
            rows.append((comparison.name, silent, value_l, value_r, None, None, 0.0))
            continue
        p = parameters.loc[(comparison.name, gamma)]
        weight = float(p["weight"])
        label = str(p["label"])
        columns = comparison.levels[gamma].term_frequency_columns
        if columns:
            weight = term_frequency_weight(float(p["m"]), float(p["u"]),
                                           [(references[c], frequencies[c]) for c in columns])
            shown_tf = ", ".join(f"{frequencies[c]:.2e}" for c in columns if frequencies[c] is not None)
            if shown_tf:
                label = f"{label} (value frequency {shown_tf})"
        rows.append((comparison.name, label, value_l, value_r, float(p["m"]), float(p["u"]), weight))
    table = pd.DataFrame(rows, columns=["comparison", "level", "value_l", "value_r", "m", "u", "weight"])
    match_weight = prior_weight + float(table["weight"].sum())
    probability = 2**match_weight / (1 + 2**match_weight)
    return PairExplanation(key_l, key_r, table, prior_weight, match_weight, probability)
