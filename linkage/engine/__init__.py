"""Where the linkage stage's SQL runs: DuckDB (the warehouse connection itself) or Spark.

The linkage logic (blocking.py, comparisons.py, model.py, clustering.py) is written once,
in DuckDB's dialect, against the small interface `Engine` below. `DuckDBEngine` hands each
statement to the connection unchanged, so the default path is what it always was;
`linkage.engine.spark.SparkEngine` transpiles the same statements with sqlglot and runs
them on a SparkSession. The few things that are not the same SQL in both are methods
here: a table of numbers, a repeatable hash, a row's fingerprint, a column's type.

`EngineChoice` is what `warehouse.settings.Settings` says about it (KUNDENSTAMM_ENGINE,
KUNDENSTAMM_SPARK_MASTER); `linkage.engine.stage.stage_engine` opens the engine for a
step of the stage, moving its tables to Spark as Parquet and the results back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Sequence, Union, runtime_checkable

import duckdb
import pandas as pd

ENGINES = ("duckdb", "spark")


@dataclass(frozen=True)
class EngineChoice:
    """Which engine the linkage stage runs on, and how Spark is reached."""

    name: str = "duckdb"
    # None: local mode with every core of this machine (`local[*]`).
    spark_master: str | None = None
    # Where the stage's Parquet files live while Spark works on them.
    work_dir: Path | None = None
    # Few partitions for a single machine; a cluster sets spark.sql.shuffle.partitions itself.
    shuffle_partitions: int = 8

    def __post_init__(self):
        if self.name not in ENGINES:
            raise ValueError(f"engine {self.name!r}: one of {', '.join(ENGINES)}")


@runtime_checkable
class Engine(Protocol):
    """The statements the linkage stage needs, in DuckDB's dialect."""

    name: str

    def run(self, sql: str, params: Sequence[Any] | None = None) -> None:
        """Statements with an effect (CREATE, INSERT, DROP, ...), several separated by `;`."""

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        """A query's rows."""

    def frame(self, sql: str) -> pd.DataFrame:
        """A (small) query's result on the driver."""

    def register(self, name: str, frame: pd.DataFrame) -> None:
        """A small frame of the driver as a table the SQL can read."""

    def unregister(self, name: str) -> None: ...

    def has_table(self, name: str) -> bool: ...

    def columns(self, table: str) -> list[str]:
        """`table`'s column names in order."""

    def is_list(self, table: str, expression: str) -> bool:
        """Whether `expression` over `table` is a LIST (a blocking key with many values)."""

    def numbers(self, count: int) -> str:
        """SQL of a table with one BIGINT column `range`: 0, 1, ..., count - 1."""

    def hash_mod(self, arguments: str, modulus: int) -> str:
        """SQL: DuckDB's `hash(arguments) % modulus` as BIGINT, the same on every engine
        (samples drawn by hash must be the same pairs everywhere)."""

    def row_fingerprint(self, alias: str, columns: Sequence[str]) -> str:
        """SQL: md5 of a features row's `columns` as DuckDB prints them (a struct), for a
        features table without its own hash (linkage/feature_hash.py) and for the last
        run's fingerprints from before there was one."""


Connection = Union[duckdb.DuckDBPyConnection, Engine]


class DuckDBEngine:
    """The warehouse connection as it is: every statement passed on unchanged."""

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def run(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.con.execute(sql, params)

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        return self.con.execute(sql, params).fetchall()

    def frame(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def register(self, name: str, frame: pd.DataFrame) -> None:
        self.con.register(name, frame)

    def unregister(self, name: str) -> None:
        self.con.unregister(name)

    def has_table(self, name: str) -> bool:
        return bool(self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main'", [name]
        ).fetchall()[0][0])

    def columns(self, table: str) -> list[str]:
        return [d[0] for d in self.con.execute(f"SELECT * FROM {table} LIMIT 0").description]

    def is_list(self, table: str, expression: str) -> bool:
        return self.con.execute(f"DESCRIBE SELECT {expression} AS k FROM {table}").fetchall()[0][1].endswith("[]")

    def numbers(self, count: int) -> str:
        return f"range({count})"

    def hash_mod(self, arguments: str, modulus: int) -> str:
        return f"(hash({arguments}) % {modulus})::BIGINT"

    def row_fingerprint(self, alias: str, columns: Sequence[str]) -> str:
        # As `CAST(alias AS VARCHAR)` printed the whole row when these were all its columns.
        fields = ", ".join(f'"{c}" := {alias}."{c}"' for c in columns)
        return f"md5(CAST(struct_pack({fields}) AS VARCHAR))"


def as_engine(con: Connection) -> Engine:
    """The engine behind `con`: a DuckDB connection is the DuckDB engine."""
    return con if isinstance(con, Engine) else DuckDBEngine(con)
