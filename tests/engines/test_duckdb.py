"""DuckDB as the lake's engine: NaN read from Parquet, and decimal sums past DECIMAL(38)."""

from __future__ import annotations

import math
import random
from decimal import Context, Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakeshift.engines.duckdb import DuckDBEngine
from lakeshift.lake.catalog import LocalCatalog
from lakeshift.lake.storage import LakeStorage
from lakeshift.types import Kind, LogicalType

EXACT = Context(prec=200)


def test_a_nan_in_a_parquet_file_of_finite_values_renders_as_nan(tmp_path: Path) -> None:
    """Parquet's min and max leave NaN out; DuckDB's statistics propagation would then prove
    `isnan` false for every row, and the NaN would render as its bits (a false difference)."""
    path = tmp_path / "floats.parquet"
    pq.write_table(pa.table({"x": [math.nan, 1.5, 2.5, -0.0]}), path)  # no NULL: it hides the bug
    engine = DuckDBEngine(LocalCatalog(LakeStorage.local(tmp_path, "nan")))
    try:
        sql = engine.canonical_sql("x", LogicalType(Kind.FLOAT))
        rows = engine.query(f"SELECT {sql} FROM read_parquet('{path}')")
    finally:
        engine.close()
    assert [r[0] for r in rows] == ["NaN", "3ff8000000000000", "4004000000000000", "0"]


@pytest.mark.parametrize(("precision", "scale"), [(38, 10), (38, 0), (38, 38), (20, 2)])
def test_a_decimal_sum_in_parts_is_the_exact_sum(
    tmp_path: Path, precision: int, scale: int
) -> None:
    """The parts' SQL, on random values of every size and sign, against Python's exact sum."""
    engine = DuckDBEngine(LocalCatalog(LakeStorage.local(tmp_path, "sums")))
    logical = LogicalType(Kind.DECIMAL, precision, scale)
    engine.wide_sums = True
    sql = engine.sum_sql('"x"', logical)
    rng = random.Random(precision * 100 + scale)
    connection = duckdb.connect()
    try:
        for _ in range(60):
            values = [
                EXACT.scaleb(Decimal(rng.randrange(1 - 10**precision, 10**precision)), -scale)
                for _ in range(rng.randrange(1, 6))
            ]
            connection.execute(f"CREATE OR REPLACE TABLE t (x DECIMAL({precision},{scale}))")
            connection.executemany(
                "INSERT INTO t VALUES (?)", [[str(v)] for v in values] + [[None]]
            )
            [[parts]] = connection.execute(f"SELECT {sql} FROM t").fetchall()
            expected = Decimal(0)
            for value in values:
                expected = EXACT.add(expected, value)
            assert engine.sum_value(parts, logical) == expected, values
        [[empty]] = connection.execute(f"SELECT {sql} FROM t WHERE false").fetchall()
        assert engine.sum_value(empty, logical) is None
    finally:
        connection.close()
        engine.close()


@pytest.mark.parametrize(("precision", "scale"), [(5, 5), (1, 1), (38, 38), (5, 2), (38, 0)])
def test_decimal_canonical_text_has_its_integer_digit_even_without_integer_digits(
    tmp_path: Path, precision: int, scale: int
) -> None:
    """DuckDB prints a DECIMAL(p,p) as '.5' and '-.5'; every other engine writes '0.5'."""
    from lakeshift.verify.canonical import canonical_value

    logical = LogicalType(Kind.DECIMAL, precision, scale)
    rng = random.Random(precision * 100 + scale)
    values = [Decimal(0), Decimal(1).scaleb(-scale), -Decimal(1).scaleb(-scale)] + [
        EXACT.scaleb(Decimal(rng.randrange(1 - 10**precision, 10**precision)), -scale)
        for _ in range(50)
    ]
    path = tmp_path / "decimals.parquet"
    pq.write_table(pa.table({"x": pa.array(values, pa.decimal128(precision, scale))}), path)
    engine = DuckDBEngine(LocalCatalog(LakeStorage.local(tmp_path, "decimals")))
    try:
        sql = engine.canonical_sql("x", logical)
        rows = engine.query(f"SELECT {sql} FROM read_parquet('{path}')")
    finally:
        engine.close()
    assert [r[0] for r in rows] == [canonical_value(v, logical) for v in values]


def test_a_query_past_the_memory_limit_says_which_setting_raises_it(tmp_path: Path) -> None:
    """DuckDB's own advice (SET memory_limit) is no setting of a lakeshift user's."""
    from lakeshift.errors import TerminalError

    engine = DuckDBEngine(LocalCatalog(LakeStorage.local(tmp_path / "lake", "t")), 32)
    try:
        with pytest.raises(TerminalError, match="raise it for rows this wide") as caught:
            engine.query("SELECT string_agg(repeat('x', 1000), '') FROM range(200000)")
        assert "max_memory_mb of migration_config.cfg" in str(caught.value)
        with pytest.raises(TerminalError) as other:
            engine.query("SELECT * FROM no_such_table")
        assert "max_memory_mb" not in str(other.value)
    finally:
        engine.close()
