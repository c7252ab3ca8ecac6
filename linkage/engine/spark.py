"""The linkage stage's DuckDB SQL on a SparkSession.

Each statement is parsed as DuckDB SQL and written out as Spark SQL by sqlglot (Splink's
approach); what a statement does to a table (CREATE ... AS, INSERT, DROP, ALTER ...
RENAME, DELETE) is done here with DataFrames, and every table it makes is computed once
and checkpointed, so an iteration (the label propagation of clustering, the EM rounds)
starts from data, not from an ever longer plan. The tables the warehouse takes back are
written as Parquet.

The functions Spark does not have or computes otherwise are vectorised pandas UDFs that
call DuckDB's own implementation on each Arrow batch: DuckDB's Jaro-Winkler and
(Damerau-)Levenshtein work on UTF-8 bytes (`müller`/`mueller` is 0.829 there, 0.804 by
characters in jellyfish or Spark), and its `hash` draws the samples. Computed by DuckDB,
a comparison level is the same on both engines by construction, not nearly the same.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import sys
from pathlib import Path
from typing import Any, Sequence

import pandas as pd
import sqlglot
from sqlglot import exp

# DuckDB name -> (UDF name, DuckDB SQL over the arguments a0, a1, ..., Spark return type).
_DUCKDB_FUNCTIONS = {
    "jaro_winkler_similarity": ("ks_jaro_winkler_similarity", "jaro_winkler_similarity(a0, a1)", "double"),
    "levenshtein": ("ks_levenshtein", "levenshtein(a0, a1)", "bigint"),
    "damerau_levenshtein": ("ks_damerau_levenshtein", "damerau_levenshtein(a0, a1)", "bigint"),
}

_local_duckdb = None


def _duckdb_batch(sql: str, columns: Sequence[pd.Series]) -> pd.Series:
    """`sql` over the columns a0, a1, ... of one Arrow batch, in an in-memory DuckDB of the
    Python worker (one per worker process, kept between batches)."""
    global _local_duckdb
    import duckdb
    import pyarrow as pa

    if _local_duckdb is None:
        _local_duckdb = duckdb.connect()
        _local_duckdb.execute("SET threads = 1")
    batch = pa.table({f"a{i}": pa.Array.from_pandas(c) for i, c in enumerate(columns)})
    with _local_duckdb.cursor() as cursor:
        cursor.register("_batch", batch)
        result = cursor.sql(f"SELECT {sql} AS v FROM _batch").to_arrow_table()["v"]
    # Nullable dtypes, so a NULL stays NULL (a NaN compares greater than everything in Spark).
    return result.to_pandas(types_mapper={pa.float64(): pd.Float64Dtype(), pa.int64(): pd.Int64Dtype()}.get)


def _duckdb_udf(sql: str, return_type: str):
    from pyspark.sql.functions import pandas_udf

    @pandas_udf(return_type)
    def call(*columns: pd.Series) -> pd.Series:
        return _duckdb_batch(sql, columns)

    return call


def spark_session(master: str | None = None, shuffle_partitions: int = 8, driver_memory: str | None = None):
    """A SparkSession for the stage: local mode on every core unless `master` names a
    cluster; the usual spark-defaults.conf / SPARK_CONF_DIR settings apply on top."""
    from pyspark.sql import SparkSession

    # The workers' Python is this one: it has DuckDB for the UDFs.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master or "local[*]").appName("kundenstamm-linkage")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        # DuckDB's semantics where they differ: a failed cast or an overflow is NULL, not an error.
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # Fewer, larger batches for the DuckDB UDFs: each batch has a fixed cost.
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "100000")
        .config("spark.ui.enabled", "false")
    )
    if driver_memory:
        builder = builder.config("spark.driver.memory", driver_memory)
    return builder.getOrCreate()


def _name(table: exp.Expression) -> str:
    return (table.this if isinstance(table, exp.Schema) else table).name


class SparkEngine:
    """`linkage.engine.Engine` on a SparkSession; tables are temp views of checkpointed
    data, written as Parquet under `work_dir` when the warehouse asks for them."""

    name = "spark"

    def __init__(self, spark, work_dir: Path):
        self.spark = spark
        self.work_dir = Path(work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._counter = itertools.count()
        self._registered_udfs: set[str] = set()
        for udf_name, sql, return_type in _DUCKDB_FUNCTIONS.values():
            self._udf(udf_name, sql, return_type)

    # ---------------------------------------------------------------- tables
    def adopt(self, name: str, path: Path) -> None:
        """A Parquet folder or file, written elsewhere (the warehouse), as table `name`."""
        import pyarrow.parquet as pq
        from pyspark.sql.pandas.types import from_arrow_schema

        if Path(path).is_file() and pq.ParquetFile(path).metadata.num_rows == 0:
            # Spark infers no schema from a file without row groups (a quiet day's empty delta).
            self.spark.createDataFrame([], from_arrow_schema(pq.read_schema(path))).createOrReplaceTempView(name)
            return
        self.spark.read.parquet(str(path)).createOrReplaceTempView(name)

    def write_parquet(self, name: str) -> Path:
        """Table `name` as a folder of Parquet files (for the warehouse to load)."""
        path = self.work_dir / f"{name}-{next(self._counter)}"
        self.spark.table(name).write.mode("overwrite").parquet(str(path))
        return path

    def _materialise(self, name: str, frame) -> None:
        # Computed once and kept by the executors (memory, then disk), its lineage cut:
        # an iteration (label propagation, EM rounds) starts from data, not from a plan
        # that grows with every round.
        frame.localCheckpoint(eager=True).createOrReplaceTempView(name)

    def _drop(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)

    def has_table(self, name: str) -> bool:
        return self.spark.catalog.tableExists(name)

    # ------------------------------------------------------------- statements
    def run(self, sql: str, params: Sequence[Any] | None = None) -> None:
        for statement in self._parse(sql, params):
            self._run_one(statement)

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        (statement,) = self._parse(sql, params)
        return [tuple(row) for row in self.spark.sql(self._spark_sql(statement)).collect()]

    def frame(self, sql: str) -> pd.DataFrame:
        (statement,) = self._parse(sql, None)
        return self.spark.sql(self._spark_sql(statement)).toPandas()

    def register(self, name: str, frame: pd.DataFrame) -> None:
        self._materialise(name, self.spark.createDataFrame(frame))

    def unregister(self, name: str) -> None:
        self._drop(name)

    def columns(self, table: str) -> list[str]:
        return list(self.spark.table(table).columns)

    def is_list(self, table: str, expression: str) -> bool:
        from pyspark.sql.types import ArrayType

        query = self._spark_sql(sqlglot.parse_one(f"SELECT {expression} AS k FROM {table}", read="duckdb"))
        return isinstance(self.spark.sql(query).schema["k"].dataType, ArrayType)

    def numbers(self, count: int) -> str:
        # A view of the DataFrame API's range: sqlglot reads DuckDB's range() as a list.
        name = f"_numbers_{count}"
        self.spark.range(count).withColumnRenamed("id", "range").createOrReplaceTempView(name)
        return name

    def hash_mod(self, arguments: str, modulus: int) -> str:
        # Literal arguments (a seed) stay in DuckDB's SQL with the type DuckDB gives them;
        # the columns are passed to the UDF.
        arguments_list = [a.strip() for a in arguments.split(",")]
        columns = [a for a in arguments_list if not a.isdigit()]
        inner = ", ".join(a if a.isdigit() else f"a{columns.index(a)}" for a in arguments_list)
        sql = f"(hash({inner}) % {modulus})::BIGINT"
        udf_name = "ks_hash_" + hashlib.md5(sql.encode()).hexdigest()[:12]
        self._udf(udf_name, sql, "bigint")
        return f"{udf_name}({', '.join(columns)})"

    def row_fingerprint(self, alias: str, columns: Sequence[str]) -> str:
        # DuckDB prints the row when the features are exported (linkage/engine/stage.py),
        # over the same columns (all but the table's own hash).
        return f"{alias}._row_fingerprint"

    def _udf(self, name: str, sql: str, return_type: str) -> None:
        if name not in self._registered_udfs:
            self.spark.udf.register(name, _duckdb_udf(sql, return_type))
            self._registered_udfs.add(name)

    # ------------------------------------------------------------ transpiling
    def _parse(self, sql: str, params: Sequence[Any] | None) -> list[exp.Expression]:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
        if params:
            values = iter(params)

            def bind(node):
                if isinstance(node, exp.Placeholder):
                    value = next(values)
                    return exp.Literal.string(value) if isinstance(value, str) else exp.Literal.number(value)
                return node

            statements = [s.transform(bind) for s in statements]
        return statements

    def _spark_sql(self, expression: exp.Expression) -> str:
        def rewrite(node):
            if isinstance(node, exp.JarowinklerSimilarity):
                return exp.Anonymous(this=_DUCKDB_FUNCTIONS["jaro_winkler_similarity"][0],
                                     expressions=[node.this, node.expression])
            if isinstance(node, exp.Levenshtein):
                return exp.Anonymous(this=_DUCKDB_FUNCTIONS["levenshtein"][0], expressions=[node.this, node.expression])
            if isinstance(node, exp.Anonymous) and node.name.lower() in _DUCKDB_FUNCTIONS:
                return exp.Anonymous(this=_DUCKDB_FUNCTIONS[node.name.lower()][0], expressions=node.expressions)
            if isinstance(node, exp.ArrayOverlaps):
                return exp.Anonymous(this="arrays_overlap", expressions=[node.this, node.expression])
            if isinstance(node, exp.Grouping) and len(node.expressions) > 1:
                return exp.Anonymous(this="grouping_id", expressions=node.expressions)
            return node

        return expression.transform(rewrite).sql(dialect="spark")

    def _run_one(self, statement: exp.Expression) -> None:
        if isinstance(statement, exp.Create):
            name = _name(statement.this)
            if statement.args.get("exists") and self.has_table(name):
                return
            query = statement.expression
            if query is None:
                # A table of columns only: the same empty table DuckDB would make.
                columns = ", ".join(f"CAST(NULL AS {c.args['kind'].sql(dialect='spark')}) AS {c.name}"
                                    for c in statement.this.expressions if isinstance(c, exp.ColumnDef))
                self._materialise(name, self.spark.sql(f"SELECT {columns} WHERE false"))
            else:
                self._materialise(name, self.spark.sql(self._spark_sql(query)))
        elif isinstance(statement, exp.Drop):
            for table in statement.args["tables"]:
                if self.has_table(table.name):
                    self._drop(table.name)
                elif not statement.args.get("exists"):
                    raise ValueError(f"no table {table.name}")
        elif isinstance(statement, exp.Alter):
            (action,) = statement.args["actions"]
            if not isinstance(action, exp.AlterRename):
                raise NotImplementedError(statement.sql("duckdb"))
            old, new = _name(statement.this), _name(action.this)
            frame = self.spark.table(old)
            self.spark.catalog.dropTempView(old)
            frame.createOrReplaceTempView(new)
        elif isinstance(statement, exp.Insert):
            name = _name(statement.this)
            # Only the new rows are computed and checkpointed; the table is the union of its
            # parts (blocking inserts one part per rule), not rewritten whole each time.
            added = self.spark.sql(self._spark_sql(statement.expression)).localCheckpoint(eager=True)
            self.spark.table(name).union(added).createOrReplaceTempView(name)
        elif isinstance(statement, exp.Delete):
            name = _name(statement.this)
            condition = statement.args["where"].this
            kept = exp.select("*").from_(name).where(exp.not_(exp.func("coalesce", condition, exp.false())))
            self._materialise(name, self.spark.sql(self._spark_sql(kept)))
        elif isinstance(statement, (exp.Select, exp.Union, exp.Except, exp.Intersect)):
            self.spark.sql(self._spark_sql(statement)).collect()
        else:
            raise NotImplementedError(f"not on Spark: {statement.sql('duckdb')[:200]}")
