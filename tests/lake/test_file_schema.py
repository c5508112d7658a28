"""A lake file whose column types differ from the catalog's is named, never cast into a match."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakeshift.lake.file_schema import same_type
from lakeshift.project import load_project
from lakeshift.steps.align import align
from lakeshift.steps.compare import compare
from lakeshift.steps.pipeline import run_pipeline
from lakeshift.steps.slicing import PartitionStrategy


@pytest.fixture
def prices(tmp_path: Path, make_project: Any) -> Path:
    connection = sqlite3.connect(tmp_path / "source.db")
    connection.execute("CREATE TABLE prices (id INTEGER PRIMARY KEY, amount NUMERIC(10,2))")
    connection.executemany("INSERT INTO prices VALUES (?, ?)", [(1, "1.23"), (2, "4.50")])
    connection.commit()
    connection.close()
    return make_project(  # type: ignore[no-any-return]
        f"sqlite:///{tmp_path / 'source.db'}",
        [{"source_table": "main.prices", "key_columns": "id"}],
    )


def test_a_file_holding_doubles_where_the_catalog_says_decimal_is_named(prices: Path) -> None:
    """DuckDB would read 1.2349 as DECIMAL(10,2) 1.23 and call the table equal."""
    project = load_project(prices)
    assert [o.status for o in run_pipeline(project, PartitionStrategy.NONE)] == ["match"]
    [lake_file] = (prices.parent / "lake").rglob("*.parquet")
    table = pq.read_table(lake_file)
    amounts = [
        float(v) + 0.0049 if v == Decimal("1.23") else float(v) for v in table["amount"].to_pylist()
    ]
    index = table.schema.get_field_index("amount")
    pq.write_table(table.set_column(index, "amount", pa.array(amounts, pa.float64())), lake_file)

    for step in (compare, align):
        [outcome] = step(project)
        assert outcome.status == "error", step
        assert str(lake_file) in outcome.detail and "amount" in outcome.detail
        assert "double" in outcome.detail and "decimal128(10, 2)" in outcome.detail


@pytest.mark.parametrize("extra", ["AMOUNT", "note"])
def test_a_file_holding_a_column_the_catalog_does_not_declare_is_named(
    prices: Path, extra: str
) -> None:
    """DuckDB matches names regardless of case: of a file's `AMOUNT` (first) and `amount`, it
    read `AMOUNT` as `amount`, and the table matched whatever `amount` held."""
    project = load_project(prices)
    assert [o.status for o in run_pipeline(project, PartitionStrategy.NONE)] == ["match"]
    [lake_file] = (prices.parent / "lake").rglob("*.parquet")
    table = pq.read_table(lake_file)
    index = table.schema.get_field_index("amount")
    wrong = pa.array([Decimal("9.99")] * table.num_rows, table.schema.field(index).type)
    pq.write_table(
        table.set_column(index, "amount", wrong).add_column(0, extra, table["amount"]), lake_file
    )

    for step in (compare, align):
        [outcome] = step(project)
        assert outcome.status == "error", step
        assert str(lake_file) in outcome.detail and extra in outcome.detail


def test_a_file_holding_a_column_twice_is_named(prices: Path) -> None:
    project = load_project(prices)
    assert [o.status for o in run_pipeline(project, PartitionStrategy.NONE)] == ["match"]
    [lake_file] = (prices.parent / "lake").rglob("*.parquet")
    table = pq.read_table(lake_file)
    pq.write_table(table.add_column(0, "amount", table["amount"]), lake_file)
    [outcome] = align(project)
    assert outcome.status == "error" and "a column twice" in outcome.detail


@pytest.mark.parametrize("name", ["part-00000-extra", "notes.txt"])
def test_a_file_athena_would_read_that_is_no_parquet_file_is_named(prices: Path, name: str) -> None:
    """Athena reads every file of a partition folder not named `_...` or `.…`: a copy without
    the suffix added rows there that no comparison saw."""
    project = load_project(prices)
    assert [o.status for o in run_pipeline(project, PartitionStrategy.NONE)] == ["match"]
    [lake_file] = (prices.parent / "lake").rglob("*.parquet")
    (lake_file.parent / name).write_bytes(lake_file.read_bytes())
    [outcome] = align(project)
    assert outcome.status == "error" and name in outcome.detail and "Athena" in outcome.detail


def test_a_file_athena_skips_is_skipped_too(prices: Path) -> None:
    """A data file renamed `_...parquet` is hidden to Hive and Athena: the lake lacks its rows."""
    project = load_project(prices)
    assert [o.status for o in run_pipeline(project, PartitionStrategy.NONE)] == ["match"]
    [lake_file] = (prices.parent / "lake").rglob("*.parquet")
    lake_file.rename(lake_file.parent / f"_{lake_file.name}")
    compare(project)
    [outcome] = align(project)
    assert outcome.status == "mismatch"


def test_a_lake_file_that_is_not_parquet_is_named(prices: Path) -> None:
    project = load_project(prices)
    assert [o.status for o in run_pipeline(project, PartitionStrategy.NONE)] == ["match"]
    [lake_file] = (prices.parent / "lake").rglob("*.parquet")
    lake_file.write_bytes(lake_file.read_bytes()[:100])  # truncated on its way
    [outcome] = align(project)
    assert outcome.status == "error"
    assert str(lake_file) in outcome.detail and "cannot be read as Parquet" in outcome.detail


def test_string_and_binary_layouts_are_one_type_and_nothing_else_is() -> None:
    assert same_type(pa.large_string(), pa.string()) and same_type(pa.binary(), pa.large_binary())
    assert not same_type(pa.float64(), pa.decimal128(10, 2))
    assert not same_type(pa.decimal128(10, 4), pa.decimal128(10, 2))
    assert not same_type(pa.timestamp("ns", tz="UTC"), pa.timestamp("us", tz="UTC"))
    assert not same_type(pa.timestamp("us"), pa.timestamp("us", tz="UTC"))
    assert not same_type(pa.string(), pa.binary())
