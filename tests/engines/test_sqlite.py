"""The SQLite source's statistics and canonical text on what SQLite may hold: decimals without
an integer digit, errors of its Python functions, and databases stored in UTF-16."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lakeshift.engines.base import Scope
from lakeshift.engines.sqlite import SQLiteEngine
from lakeshift.errors import ConversionError, TerminalError
from lakeshift.types import LogicalType
from lakeshift.verify.canonical import canonical_value

POLICY = LogicalType.parse("decimal(38,10)")


@pytest.fixture
def make_engine(tmp_path: Path) -> Iterator[Any]:
    engines: list[SQLiteEngine] = []

    def make(
        ddl: str, rows: list[tuple[Any, ...]], encoding: str = "UTF-8", columns: str = ""
    ) -> SQLiteEngine:
        path = tmp_path / f"source{len(engines)}.db"
        connection = sqlite3.connect(path)
        connection.execute(f"PRAGMA encoding = '{encoding}'")
        connection.execute(ddl)
        marks = ", ".join("?" * len(rows[0]))
        into = f"t ({columns})" if columns else "t"
        connection.executemany(f"INSERT INTO {into} VALUES ({marks})", rows)
        connection.commit()
        connection.close()
        engines.append(SQLiteEngine(path, POLICY))
        return engines[-1]

    yield make
    for engine in engines:
        engine.close()


def _stats(engine: SQLiteEngine) -> dict[str, Any]:
    columns = engine.columns("t")
    return engine.column_stats(Scope("t"), columns, [c.logical for c in columns])


def test_a_decimal_without_integer_digits_holding_zero_is_summed_and_rendered(
    make_engine: Any,
) -> None:
    engine = make_engine(
        "CREATE TABLE t (x NUMERIC(5,5))", [(0,), ("0",), (0.5,), ("-0.25",), (None,)]
    )
    stats = _stats(engine)["x"]
    assert (stats.sum, stats.min, stats.max) == ("0.25000", "-0.25000", "0.50000")
    logical = engine.columns("t")[0].logical
    texts = engine.query(f"SELECT {engine.canonical_sql('x', logical)} FROM t")
    assert [row[0] for row in texts] == ["0.00000", "0.00000", "0.50000", "-0.25000", None]
    assert texts[2][0] == canonical_value(0.5, logical)


def test_an_exact_sum_that_fails_names_the_value(make_engine: Any) -> None:
    """SQLite says only that an aggregate's step raised: the value is added to its message."""
    engine = make_engine("CREATE TABLE t (x NUMERIC(12,2))", [(1,), ("12abc",)])
    with pytest.raises(TerminalError, match=r"'12abc' is not a number"):
        _stats(engine)


@pytest.mark.parametrize("encoding", ["UTF-8", "UTF-16le", "UTF-16be"])
def test_text_extremes_are_in_code_point_order_in_any_database_encoding(
    make_engine: Any, encoding: str
) -> None:
    """In a UTF-16 database BINARY compares code units (little-endian bytes, surrogates below
    U+E000): 'ā' (U+0101) sorted below 'b', and an astral character below U+FFFF."""
    values = ["b", "ā", "\U0001f600", "\uffff", "a", "\ue000"]
    engine = make_engine("CREATE TABLE t (s TEXT)", [(v,) for v in values], encoding)
    stats = _stats(engine)["s"]
    assert (stats.min, stats.max) == (min(values), max(values)) == ("a", "\U0001f600")


def test_identical_rows_of_a_keyless_table_come_counted_not_one_by_one(make_engine: Any) -> None:
    """Pass 2 of a multiset: 20,000 copies of a row are one digest holding their number, so
    a group of duplicates costs memory by its distinct rows, and the diff counts them all."""
    from lakeshift.engines.base import RowPlan
    from lakeshift.verify.diff import Side, bucket_diff

    rows = [(i % 4, "x" if i % 4 < 2 else "y") for i in range(80_000)]
    source = make_engine("CREATE TABLE t (n INTEGER, s TEXT)", rows)
    swapped = [
        (n, {(0, "x"): "y", (1, "x"): "x", (2, "y"): "y", (3, "y"): "x"}[(n, s)]) for n, s in rows
    ]
    lake = make_engine("CREATE TABLE t (n INTEGER, s TEXT)", swapped)
    columns = source.columns("t")
    plan = RowPlan(tuple(columns), tuple(c.logical for c in columns), (), 4)
    groups = {
        (d.period, d.bucket)
        for d in source.group_rows(Scope("t"), plan, [(None, b) for b in range(4)])
    }
    digests = source.group_rows(Scope("t"), plan, sorted(groups, key=lambda g: g[1]))
    assert len(digests) == 4 and sum(d.rows for d in digests) == 80_000
    result = bucket_diff(Side(source, Scope("t"), plan), Side(lake, Scope("t"), plan))
    assert (result.missing, result.extra, result.changed) == (40_000, 40_000, 0)  # 0 and 3
    assert {s["key"]["n"] for s in result.samples} == {"0", "3"}


def test_generated_columns_are_columns(make_engine: Any) -> None:
    """`table_info` hides generated columns: they were left out of the lake, unlisted."""
    engine = make_engine(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, "
        "b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL, c TEXT GENERATED ALWAYS AS ('x' || a) STORED)",
        [(1, 5), (2, 6)],
        columns="id, a",
    )
    assert [(c.name, str(c.logical)) for c in engine.columns("t")] == [
        ("id", "integer"),
        ("a", "integer"),
        ("b", "integer"),
        ("c", "string"),
    ]
    assert engine.primary_key("t") == ["id"]
    [batch] = engine.stream(Scope("t"), engine.columns("t"), 10)
    assert batch.to_pydict() == {"id": [1, 2], "a": [5, 6], "b": [10, 12], "c": ["x5", "x6"]}


def test_text_that_is_no_utf8_is_refused_naming_its_column(tmp_path: Path) -> None:
    """sqlite3 raised a bare OperationalError, and upload failed with a traceback."""
    with sqlite3.connect(tmp_path / "bytes.db") as connection:
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT)")
        connection.execute("INSERT INTO t VALUES (1, 'ok'), (2, CAST(x'61ff62' AS TEXT))")
    engine = SQLiteEngine(tmp_path / "bytes.db", POLICY)
    with pytest.raises(ConversionError) as caught:
        list(engine.stream(Scope("t"), engine.columns("t"), 10))
    engine.close()
    assert (caught.value.table, caught.value.column) == ("t", "note")
    assert "not valid UTF-8" in str(caught.value)


def test_before_sqlite_326_columns_come_from_table_info(
    make_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown pragma answers nothing: `table_xinfo` on an older SQLite gave no columns."""
    engine = make_engine("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)", [(1, "x")])

    class Older:  # answers table_xinfo as SQLite 3.25 does: with nothing
        def __init__(self, connection: sqlite3.Connection):
            self.connection = connection

        def execute(self, sql: str, *parameters: Any) -> Any:
            if "table_xinfo" in sql:
                return self.connection.execute("SELECT 1 WHERE 0")
            return self.connection.execute(sql, *parameters)

        def close(self) -> None:
            self.connection.close()

    monkeypatch.setattr(engine, "connection", Older(engine.connection))
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 25, 3))
    assert [c.name for c in engine.columns("t")] == ["id", "a"]
    assert engine.primary_key("t") == ["id"]


def test_analyze_counts_text_that_is_no_utf8_in_a_column_of_another_type(tmp_path: Path) -> None:
    """sqlite3 cannot hand such text to a function: analyze failed the whole table with
    "user-defined function raised exception"."""
    with sqlite3.connect(tmp_path / "bytes.db") as connection:
        connection.execute("CREATE TABLE u (id INTEGER PRIMARY KEY, d DATE, n NUMERIC(5,2))")
        connection.execute(
            "INSERT INTO u VALUES (1, '2024-01-01', 1.5), "
            "(2, CAST(x'32303234ff' AS TEXT), CAST(x'31ff' AS TEXT))"
        )
    engine = SQLiteEngine(tmp_path / "bytes.db", POLICY)
    try:
        warnings = engine.fit_warnings(Scope("u"), engine.columns("u"))
    finally:
        engine.close()
    assert len(warnings) == 2 and all("1 row(s)" in w for w in warnings)
    assert warnings[0].startswith("u.d") and warnings[1].startswith("u.n")
