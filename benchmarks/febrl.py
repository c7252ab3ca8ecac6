"""Kundenstamm's settings for the FEBRL data sets, and the FEBRL records as a features table."""

from __future__ import annotations

import duckdb
import jellyfish
import pandas as pd

from linkage.settings import BlockingRule, Comparison, Level, LinkageSettings, TrainingSession, deletion_variants

COLUMNS = ("given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode", "state",
           "date_of_birth", "soc_sec_id")


def febrl_frame(raw: pd.DataFrame) -> pd.DataFrame:
    frame = raw.reset_index()
    frame = frame.rename(columns={frame.columns[0]: "unique_id"})
    for column in COLUMNS:
        frame[column] = frame[column].astype("string").str.strip().str.lower().replace({"": pd.NA})
    # Soundex is what FEBRL's own tooling uses; jellyfish computes it per distinct name.
    for column in ("given_name", "surname"):
        distinct = frame[column].dropna().unique()
        codes = {v: jellyfish.soundex(v) for v in distinct}
        frame[f"{column}_sx"] = frame[column].map(codes)
    frame["entity"] = frame["unique_id"].str.extract(r"rec-(\d+)-")[0]
    return frame


def load_features(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    con.register("_febrl", frame.drop(columns=["entity"]))
    con.execute("CREATE OR REPLACE TABLE febrl_features AS SELECT unique_id AS record_key, * EXCLUDE (unique_id) FROM _febrl")
    con.unregister("_febrl")


def _jw(column: str, threshold: float) -> str:
    return f"jaro_winkler_similarity(l.{column}, r.{column}) >= {threshold}"


def _missing(column: str) -> str:
    return f"l.{column} IS NULL OR r.{column} IS NULL"


def febrl_settings() -> LinkageSettings:
    swapped = "l.given_name = r.surname AND l.surname = r.given_name"
    name_levels = lambda c, *swap: (  # noqa: E731 - two near-identical comparisons
        Level("exact", f"l.{c} = r.{c}", (c,)),
        *swap,
        Level("jaro-winkler >= 0.92", _jw(c, 0.92)),
        Level("same soundex", f"l.{c}_sx = r.{c}_sx"),
        Level("jaro-winkler >= 0.8", _jw(c, 0.8)),
        Level("different", "TRUE"),
    )
    return LinkageSettings(
        table="febrl_features",
        blocking_rules=(
            BlockingRule("soc_sec_id", "soc_sec_id"),
            # As in the German settings: a number typed with one digit wrong, and names swapped.
            BlockingRule("soc_sec_id_one_typo", deletion_variants("soc_sec_id"), max_block_size=20),
            BlockingRule("names_sound", "given_name_sx || surname_sx"),
            BlockingRule("names_sound_swapped", "given_name_sx || surname_sx", other_key="surname_sx || given_name_sx"),
            BlockingRule("date_of_birth", "date_of_birth"),
            BlockingRule("postcode_surname_sound", "postcode || surname_sx"),
            BlockingRule("suburb_given_sound", "suburb || given_name_sx"),
            BlockingRule("street", "street_number || address_1"),
        ),
        comparisons=(
            # A swap is one fact: the given-name comparison counts it, the surname's says nothing.
            Comparison("given_name", _missing("given_name"), name_levels("given_name", Level("swapped", swapped)),
                       ("given_name",)),
            Comparison("surname", f"{_missing('surname')} OR ({swapped})", name_levels("surname"), ("surname",)),
            Comparison("date_of_birth", _missing("date_of_birth"), (
                Level("exact", "l.date_of_birth = r.date_of_birth"),
                Level("one edit", "levenshtein(l.date_of_birth, r.date_of_birth) <= 1"),
                Level("two edits", "levenshtein(l.date_of_birth, r.date_of_birth) <= 2"),
                Level("different", "TRUE")), ("date_of_birth",)),
            Comparison("soc_sec_id", _missing("soc_sec_id"), (
                Level("exact", "l.soc_sec_id = r.soc_sec_id"),
                Level("one edit", "levenshtein(l.soc_sec_id, r.soc_sec_id) <= 1"),
                Level("two edits", "levenshtein(l.soc_sec_id, r.soc_sec_id) <= 2"),
                Level("different", "TRUE")), ("soc_sec_id",)),
            Comparison("street_number", _missing("street_number"), (
                Level("exact", "l.street_number = r.street_number"),
                Level("different", "TRUE")), ("street_number",)),
            Comparison("address_1", _missing("address_1"), (
                Level("exact", "l.address_1 = r.address_1"),
                Level("jaro-winkler >= 0.9", _jw("address_1", 0.9)),
                Level("jaro-winkler >= 0.75", _jw("address_1", 0.75)),
                Level("different", "TRUE")), ("address_1",)),
            Comparison("address_2", _missing("address_2"), (
                Level("exact", "l.address_2 = r.address_2"),
                Level("jaro-winkler >= 0.9", _jw("address_2", 0.9)),
                Level("different", "TRUE")), ("address_2",)),
            Comparison("suburb", _missing("suburb"), (
                Level("exact", "l.suburb = r.suburb", ("suburb",)),
                Level("jaro-winkler >= 0.9", _jw("suburb", 0.9)),
                Level("different", "TRUE")), ("suburb",)),
            Comparison("postcode", _missing("postcode"), (
                Level("exact", "l.postcode = r.postcode"),
                Level("one edit", "levenshtein(l.postcode, r.postcode) <= 1"),
                Level("different", "TRUE")), ("postcode",)),
            Comparison("state", _missing("state"), (
                Level("exact", "l.state = r.state"),
                Level("different", "TRUE")), ("state",)),
        ),
        training_sessions=(
            TrainingSession((("given_name", "exact"), ("surname", "exact"))),
            TrainingSession((("date_of_birth", "exact"),)),
            TrainingSession((("soc_sec_id", "exact"),)),
        ),
    )
