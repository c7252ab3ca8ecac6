"""The linkage stage on Spark gives the answers it gives on DuckDB: the same candidate
pairs, the same match probabilities and the same persons, on generated records.

pyspark (the `spark` extra) in local mode needs a Java runtime; without one the module
is skipped and says so."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from demo.generate import generate
from linkage.engine import EngineChoice
from pipelines.resources import KundenstammSettings
from warehouse.settings import Settings
from linkage.features import build_features
from linkage.pipeline import link_records
from linkage.settings import GERMAN_SETTINGS
from sources.ingest import SPECS, ingest_source
from sources.staging import build_staged_records

PERSONS = 3000
# The engines are compared, not the model: both link with the same settings, whose u sample
# of random pairs is made small. At the default minimum (a million pairs) Spark's DuckDB UDFs
# spent about 25 s of the 106 s it took alone comparing random pairs of 5,005 records.
SETTINGS = dataclasses.replace(GERMAN_SETTINGS, u_sample_pairs_min=100_000, u_sample_pairs=100_000)


def _java_found() -> bool:
    java = shutil.which("java")
    return java is not None and subprocess.run([java, "-version"], capture_output=True).returncode == 0


requires_java = pytest.mark.skipif(not _java_found(), reason="no Java runtime found (pyspark's local mode needs Java 17)")


@pytest.fixture(scope="module")
def features(tmp_path_factory) -> Path:
    """A warehouse with the standardised features of generated exports."""
    folder = tmp_path_factory.mktemp("spark_engine")
    generate(folder / "exports", persons=PERSONS, seed=18, days=1)
    path = folder / "features.duckdb"
    with duckdb.connect(str(path)) as con:
        for source in SPECS:
            ingest_source(con, source, folder / "exports" / "landing")
        build_staged_records(con)
        build_features(con)
    return path


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark", reason="pyspark is in the `spark` extra")
    from linkage.engine.spark import spark_session

    # One session for the module; two shuffle partitions for a few thousand records.
    session = spark_session("local[2]", shuffle_partitions=2)
    yield session
    session.stop()


def _copy(features: Path, path: Path) -> duckdb.DuckDBPyConnection:
    shutil.copyfile(features, path)
    return duckdb.connect(str(path))


@pytest.fixture(scope="module")
def both(features, spark, tmp_path_factory):
    folder = tmp_path_factory.mktemp("engines")
    on_duckdb, on_spark = _copy(features, folder / "duckdb.duckdb"), _copy(features, folder / "spark.duckdb")
    duckdb_report = link_records(on_duckdb, SETTINGS)
    spark_report = link_records(on_spark, SETTINGS, engine=EngineChoice("spark", "local[2]", folder / "work", 2))
    yield on_duckdb, on_spark, duckdb_report, spark_report
    on_duckdb.close()
    on_spark.close()


def _rows(con, query):
    return con.execute(query).fetchall()


@requires_java
def test_the_same_candidate_pairs_by_the_same_rules(both):
    on_duckdb, on_spark, duckdb_report, spark_report = both
    query = "SELECT key_l, key_r, rules FROM candidate_pairs ORDER BY key_l, key_r"
    pairs = _rows(on_duckdb, query)
    assert len(pairs) > PERSONS  # a real workload: households, namesakes, every rule at work
    assert _rows(on_spark, query) == pairs
    assert spark_report.pairs_by_rule == duckdb_report.pairs_by_rule


def _by_key(con, query) -> dict:
    return {tuple(row[:2]): row[2:] for row in con.execute(query).fetchall()}


@requires_java
def test_the_same_model_and_match_probabilities(both):
    on_duckdb, on_spark, _, _ = both
    gammas = ", ".join(c for (c,) in on_duckdb.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'scored_pairs' AND column_name LIKE 'gamma_%' "
        "ORDER BY column_index").fetchall())
    query = f"SELECT key_l, key_r, match_probability, match_weight, {gammas} FROM scored_pairs"
    expected, got = _by_key(on_duckdb, query), _by_key(on_spark, query)
    assert got.keys() == expected.keys()
    assert all(got[k][2:] == levels[2:] for k, levels in expected.items())  # every comparison's level
    assert max(abs(got[k][0] - v[0]) for k, v in expected.items()) <= 1e-9
    assert max(abs(got[k][1] - v[1]) for k, v in expected.items()) <= 1e-6
    # Not all alike: the probabilities spread over the whole range.
    assert len({round(v[0], 2) for v in expected.values()}) > 20
    query = "SELECT comparison, gamma, m, u FROM model_parameters"
    expected, got = _by_key(on_duckdb, query), _by_key(on_spark, query)
    assert got.keys() == expected.keys()
    assert all(abs(got[k][0] - m) <= 1e-12 and abs(got[k][1] - u) <= 1e-12 for k, (m, u) in expected.items())
    prior = "SELECT match_probability_random_pair, prior_weight FROM model_prior"
    assert list(_rows(on_spark, prior)[0]) == pytest.approx(list(_rows(on_duckdb, prior)[0]), abs=1e-9)


@requires_java
def test_the_same_persons(both):
    on_duckdb, on_spark, duckdb_report, spark_report = both
    query = "SELECT record_key, cluster_key FROM clusters ORDER BY record_key"
    persons = _rows(on_duckdb, query)
    assert _rows(on_spark, query) == persons
    assert len({cluster for _, cluster in persons}) < len(persons) * 0.9  # duplicates were found
    assert spark_report.clustering.clusters == duckdb_report.clustering.clusters
    assert spark_report.clustering.linked_pairs == duckdb_report.clustering.linked_pairs
    assert spark_report.clustering.components_split == duckdb_report.clustering.components_split
    query = "SELECT record_key, record_key, match_probability FROM clusters"
    expected, got = _by_key(on_duckdb, query), _by_key(on_spark, query)
    assert max(abs(got[k][0] - p) for k, (p,) in expected.items()) <= 1e-9


def test_the_engine_is_chosen_by_the_environment_of_the_run(monkeypatch, tmp_path):
    assert Settings.from_env(environ={}).engine_choice().name == "duckdb"
    chosen = Settings.from_env(environ={"KUNDENSTAMM_ENGINE": "Spark", "KUNDENSTAMM_SPARK_MASTER": "spark://h:7077",
                                        "KUNDENSTAMM_WAREHOUSE": str(tmp_path / "w.duckdb")}).engine_choice()
    assert (chosen.name, chosen.spark_master, chosen.work_dir) == ("spark", "spark://h:7077", tmp_path / "w.duckdb.spark")
    with pytest.raises(ValueError, match="KUNDENSTAMM_ENGINE"):
        Settings.from_env(environ={"KUNDENSTAMM_ENGINE": "flink"})
    # The Dagster resource reads it when a run asks, not when the module was imported.
    resource = KundenstammSettings()
    monkeypatch.setenv("KUNDENSTAMM_ENGINE", "spark")
    assert resource.settings().engine == "spark"
    monkeypatch.setenv("KUNDENSTAMM_ENGINE", "duckdb")
    assert resource.settings().engine == "duckdb"
    assert KundenstammSettings(engine="spark").settings().engine == "spark"
