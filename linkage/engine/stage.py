"""A step of the linkage stage on the engine the settings choose.

On DuckDB the step works on the warehouse connection itself. On Spark the step's input
tables are written from the warehouse as Parquet, the step runs on a SparkSession
(`linkage.engine.spark`), and the tables it makes are loaded back from Spark's Parquet
files into the warehouse, in the step's transaction: the rest of the pipeline (golden
tables, publishing) sees the same tables whichever engine made them.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

import duckdb

from linkage.engine import DuckDBEngine, Engine, EngineChoice
from linkage.feature_hash import FEATURE_HASH, linked_before_hashes

def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


@contextmanager
def stage_engine(con: duckdb.DuckDBPyConnection, choice: EngineChoice | None, inputs: Sequence[str] = (),
                 outputs: Sequence[str] = (), features: str = "linkage_features") -> Iterator[Engine]:
    """The engine for one step: `inputs` (warehouse tables, those that exist) are what the
    step reads, `outputs` what it writes back (those it made); `features` is the table
    whose rows may need a fingerprint."""
    if choice is None or choice.name == "duckdb":
        yield DuckDBEngine(con)
        return
    from linkage.engine.spark import SparkEngine, spark_session

    root = Path(choice.work_dir) if choice.work_dir else Path(tempfile.gettempdir()) / "kundenstamm-spark"
    folder = root / f"step-{uuid.uuid4().hex[:12]}"
    (folder / "in").mkdir(parents=True)
    try:
        engine = SparkEngine(spark_session(choice.spark_master, choice.shuffle_partitions), folder / "tables")
        warehouse = DuckDBEngine(con)
        for name in inputs:
            if not warehouse.has_table(name):
                continue
            # Not "_name.parquet": Spark takes files starting with "_" for metadata and skips them.
            path = folder / "in" / f"table-{name}.parquet"
            query = f"SELECT * FROM {name}"
            columns = warehouse.columns(name) if name == features else []
            if name == features and (FEATURE_HASH not in columns or linked_before_hashes(warehouse)):
                # The features row's fingerprint as DuckDB prints the row (linkage/feature_hash.py),
                # where the table holds no hash of its own or the last run's links were made without one.
                fingerprint = warehouse.row_fingerprint("t", [c for c in columns if c != FEATURE_HASH])
                query = f"SELECT *, {fingerprint} AS _row_fingerprint FROM {name} t"
            con.execute(f"COPY ({query}) TO {_quoted(path)} (FORMAT parquet)")
            engine.adopt(name, path)
        yield engine
        for name in outputs:
            if engine.has_table(name):
                path = engine.write_parquet(name)
                con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_parquet({_quoted(path / '*.parquet')})")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
