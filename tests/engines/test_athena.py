"""Athena's SQL, which no test can run on Athena: golden text parsed back by sqlglot, and the same
SQL transpiled to DuckDB, run on tricky values and held equal to the Python reference.

Set LAKESHIFT_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change; review the diff.
"""

from __future__ import annotations

import math
import os
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Context, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from pyathena.error import OperationalError
from sqlglot import exp

from lakeshift.engines.athena import (
    AthenaEngine,
    add_partitions_ddl,
    create_table_ddl,
)
from lakeshift.engines.base import Column, GroupSum, RowDigest, RowPlan, Scope
from lakeshift.errors import TerminalError
from lakeshift.inventory import Period
from lakeshift.lake.catalog import CatalogTable
from lakeshift.types import Kind, LogicalType
from lakeshift.verify.canonical import canonical_value, hash60, integer_key_bucket, join_canonical

GOLDEN = Path(__file__).parent / "golden" / "athena"
EXACT = Context(prec=100)
SCANNED_PER_QUERY = 4096
CUTOFF = datetime(2024, 6, 1, 12, 0, 0, 123456)
COLUMNS = [
    ("id", "integer", "BIGINT"),
    ("amount", "decimal(12,2)", "DECIMAL(12,2)"),
    ("ratio", "float", "DOUBLE"),
    ("flag", "boolean", "BOOLEAN"),
    ("name", "string", "VARCHAR"),
    ("payload", "binary", "BLOB"),
    ("born", "date", "DATE"),
    ("at", "timestamp", "TIMESTAMP"),
]
UPLOADED = datetime(2024, 5, 1, 8, 0, 0)
# Values engines print differently, or that a careless rendering would confuse with each other.
ROWS: list[tuple[Any, ...]] = [
    (
        1,
        Decimal("-0.50"),
        -0.0,
        True,
        "a|b\\c",
        b"\x00\xff",
        date(2024, 1, 31),
        datetime(2024, 1, 31, 23, 59, 59, 123000),
    ),
    (2, Decimal("1234.50"), 123.45, False, "", b"", date(2024, 2, 1), datetime(2024, 2, 1)),
    (3, None, math.nan, None, None, None, None, datetime(2024, 2, 15, 12, 0, 0, 999000)),
    (
        4,
        Decimal("0.00"),
        math.inf,
        True,
        "NULL",
        b"\x01",
        date(1999, 12, 31),
        datetime(2024, 3, 1, 0, 0, 0, 1000),
    ),
    (
        5,
        Decimal("99999.99"),
        1e-300,
        False,
        "\\N",
        b"ab",
        date(2024, 3, 3),
        datetime(2024, 3, 31, 23, 59, 59, 999000),
    ),
    (6, Decimal("-0.01"), -math.inf, True, "é", b"\x10", date(2024, 3, 4), datetime(2024, 3, 2)),
    (7, Decimal("1.00"), 0.1 + 0.2, False, "e\u0301", b"\x7f", date(2024, 3, 5), None),
    (
        -8,
        Decimal("-1234567890.12"),
        -2.5e-7,
        True,
        "trailing  ",
        b"\x80",
        date(2024, 3, 6),
        datetime(2024, 1, 1),
    ),
]


@dataclass
class _Catalog:
    table: CatalogTable

    def get(self, name: str) -> CatalogTable | None:
        return self.table if name == self.table.name else None


class _DuckDBAsAthena:
    """Stands in for pyathena's connection: records each Athena query, runs it transpiled."""

    def __init__(self) -> None:
        self.duck = duckdb.connect()
        self.executed: list[str] = []
        self.duck.execute("CREATE SCHEMA lake")
        columns = ", ".join(f'"{name}" {native}' for name, _, native in COLUMNS)
        self.duck.execute(f'CREATE TABLE lake.orders ({columns}, "_upload_timestamp" TIMESTAMP)')
        self.duck.executemany(
            f"INSERT INTO lake.orders VALUES ({', '.join('?' * (len(COLUMNS) + 1))})",
            [[*row, UPLOADED] for row in ROWS],
        )
        self.duck.execute(
            f"INSERT INTO lake.orders VALUES ({', '.join(['NULL'] * len(COLUMNS))}, TIMESTAMP '2024-07-01')"
        )  # uploaded after the cutoff: never counted
        # Trino functions DuckDB lacks, defined with Trino's meaning for the arguments used here.
        self.duck.execute("CREATE MACRO from_base(s, radix) AS CAST('0x' || s AS BIGINT)")
        self.duck.execute("CREATE MACRO bitwise_right_shift(v, n) AS v >> n")
        self.duck.execute("CREATE MACRO is_infinite(v) AS isinf(v)")
        self.duck.execute(  # Trino's varbinary of the bits, big-endian, through DuckDB's BIT cast
            "CREATE MACRO to_ieee754_64(v) AS "
            "unhex(printf('%016x', CAST(CAST(CAST(v AS DOUBLE) AS BIT) AS UBIGINT)))"
        )

    def cursor(self) -> _Cursor:
        return _Cursor(self)

    def close(self) -> None:
        self.duck.close()


def to_duckdb(sql: str) -> str:
    """Athena SQL as DuckDB runs it: sqlglot's transpilation.

    Trino divides an integer by an integer into an integer (truncated toward zero); sqlglot,
    not knowing the column's type, would keep DuckDB's `/`, which divides into a DOUBLE. The
    only divisions lakeshift writes by an integer literal are of integer keys: DuckDB's `//`.
    """
    tree = sqlglot.parse_one(sql, read="athena")
    for division in list(tree.find_all(exp.Div)):
        if division.expression.is_int:
            division.replace(exp.IntDiv(this=division.this, expression=division.expression))
    return tree.sql("duckdb")


class _Cursor:
    def __init__(self, connection: _DuckDBAsAthena):
        self.connection = connection
        self.rows: list[tuple[Any, ...]] = []
        self.data_scanned_in_bytes = 0
        self.query_id: str | None = None

    def execute(self, sql: str) -> None:
        self.connection.executed.append(sql)
        self.rows = self.connection.duck.execute(to_duckdb(sql)).fetchall()
        self.data_scanned_in_bytes = SCANNED_PER_QUERY
        self.query_id = f"q{len(self.connection.executed)}"

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def close(self) -> None:
        pass


@pytest.fixture
def athena() -> tuple[AthenaEngine, _DuckDBAsAthena]:
    columns = [{"name": n, "type": t, "source_type": n.upper()} for n, t, _ in COLUMNS]
    columns.append(
        {"name": "_upload_timestamp", "type": "timestamp[UTC]", "source_type": "lakeshift"}
    )
    entry = CatalogTable("sales", "orders", "bucket/p/sales/orders", columns, ["_period"])
    connection = _DuckDBAsAthena()
    return AthenaEngine(_Catalog(entry), "lake", lambda: connection), connection


def _columns() -> list[Column]:
    return [Column(name, native, LogicalType.parse(logical)) for name, logical, native in COLUMNS]


def _scope(**extra: Any) -> Scope:
    at = _columns()[7]
    return Scope("orders", cutoff=CUTOFF, period_column=at, period=Period.MONTH, **extra)


def _plan(buckets: int = 4) -> RowPlan:
    columns = _columns()
    return RowPlan(tuple(columns), tuple(c.logical for c in columns), key=(0,), buckets=buckets)


def _reference_texts(row: tuple[Any, ...]) -> list[str | None]:
    return [canonical_value(v, c.logical) for v, c in zip(row, _columns(), strict=True)]


def _reference_groups(buckets: int) -> dict[tuple[str | None, int], GroupSum]:
    counts: dict[tuple[str | None, int], list[int]] = defaultdict(lambda: [0, 0])
    for row in ROWS:
        texts = _reference_texts(row)
        period = texts[7][:7] if texts[7] else None
        group = counts[(period, integer_key_bucket(row[0], buckets))]
        group[0] += 1
        group[1] += hash60(join_canonical(texts))
    return {g: GroupSum(c, s) for g, (c, s) in counts.items()}


def _check_golden(name: str, sql: str) -> None:
    sqlglot.parse_one(sql, read="athena")  # raises when Athena's grammar does not hold it
    path = GOLDEN / f"{name}.sql"
    if os.environ.get("LAKESHIFT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql + "\n", encoding="utf-8")
    assert path.is_file(), f"{path} is missing: run with LAKESHIFT_UPDATE_GOLDEN=1 and review it"
    assert sql == path.read_text(encoding="utf-8").rstrip("\n"), f"{name} differs from {path}"


def test_every_athena_query_matches_its_golden_sql_and_parses_as_athena(
    athena: tuple[AthenaEngine, _DuckDBAsAthena],
) -> None:
    engine, connection = athena
    columns = _columns()
    plan = _plan()
    engine.row_count(_scope(where="amount > 0", excluded_periods=frozenset({"2024-02", None})))
    engine.period_counts(_scope(), columns[7], Period.MONTH)
    engine.column_stats(_scope(), columns, [c.logical for c in columns])
    groups = [(p, b) for p, b, _ in engine.bucket_checksums(_scope(), plan)]
    some = sorted(groups, key=lambda g: (g[0] or "", g[1]))[:2]
    digests = engine.group_rows(_scope(), plan, some)
    engine.row_texts(
        _scope(), plan, some[:1], [d.key for d in digests if (d.period, d.bucket) == some[0]]
    )
    assert engine.rows_after_cutoff(_scope()) == 1  # the row uploaded after the cutoff
    names = [
        "row_count",
        "period_counts",
        "column_stats",
        "bucket_checksums",
        "group_rows",
        "row_texts",
        "rows_after_cutoff",
    ]
    assert len(connection.executed) == len(names)
    for name, sql in zip(names, connection.executed, strict=True):
        _check_golden(name, sql)


def test_athena_ddl_matches_its_golden_text_and_parses_as_athena(
    athena: tuple[AthenaEngine, _DuckDBAsAthena],
) -> None:
    engine, _ = athena
    entry = engine._entry("orders")
    _check_golden(
        "create_table", create_table_ddl(entry, "lake", "s3://bucket/p/sales/orders", "zstd")
    )
    partitions = {
        "_period=2024-01": "s3://bucket/p/sales/orders/_period=2024-01",
        "_period=2024-02": "s3://bucket/p/sales/orders/_period=2024-02/",
    }
    _check_golden("add_partitions", add_partitions_ddl("lake", "orders", partitions))


def test_athena_checksums_transpiled_to_duckdb_equal_the_python_reference(
    athena: tuple[AthenaEngine, _DuckDBAsAthena],
) -> None:
    engine, _ = athena
    for buckets in (4, 1):
        stream = list(engine.bucket_checksums(_scope(), _plan(buckets)))
        assert {(p, b): sums for p, b, sums in stream} == _reference_groups(buckets)
        order = [b for _, b, _ in stream]
        assert order == sorted(order)


def _every_row(
    engine: AthenaEngine,
) -> tuple[RowPlan, list[tuple[str | None, int]], list[RowDigest]]:
    """One bucket's plan, its groups from pass 1, and every row's digest from pass 2."""
    plan = _plan(1)
    groups = [(p, b) for p, b, _ in engine.bucket_checksums(_scope(), plan)]
    return plan, groups, engine.group_rows(_scope(), plan, groups)


def test_athena_canonical_texts_transpiled_to_duckdb_equal_the_python_reference(
    athena: tuple[AthenaEngine, _DuckDBAsAthena],
) -> None:
    engine, _ = athena
    plan, groups, digests = _every_row(engine)
    assert sorted(d.key for d in digests) == sorted(str(row[0]) for row in ROWS)
    groups = sorted({(d.period, d.bucket) for d in digests}, key=lambda g: (g[0] or "", g[1]))
    found = engine.row_texts(_scope(), plan, groups, [d.key for d in digests])
    assert found == {str(row[0]): _reference_texts(row) for row in ROWS}


def test_athena_counts_identical_rows_of_a_keyless_table_in_the_query(
    athena: tuple[AthenaEngine, _DuckDBAsAthena],
) -> None:
    engine, connection = athena
    connection.duck.execute("INSERT INTO lake.orders SELECT * FROM lake.orders WHERE id = 2")
    keyed = _plan(1)
    plan = RowPlan(keyed.columns, keyed.types, key=(), buckets=1)
    groups = [(p, b) for p, b, _ in engine.bucket_checksums(_scope(), plan)]
    digests = engine.group_rows(_scope(), plan, groups)
    sqlglot.parse_one(connection.executed[-1], read="athena")
    assert sorted(d.rows for d in digests) == [1] * (len(ROWS) - 1) + [2]
    twice = next(d for d in digests if d.rows == 2)
    assert twice.key == join_canonical(_reference_texts(ROWS[1]))


def test_athena_statistics_and_period_counts_transpiled_to_duckdb_are_exact(
    athena: tuple[AthenaEngine, _DuckDBAsAthena],
) -> None:
    engine, _ = athena
    columns = _columns()
    stats = engine.column_stats(_scope(), columns, [c.logical for c in columns])
    assert stats["id"].rows == len(ROWS)
    assert (stats["id"].sum, stats["id"].min, stats["id"].max) == ("20", "-8", "7")
    assert (stats["amount"].min, stats["amount"].max, stats["amount"].sum) == (
        "-1234567890.12",
        "99999.99",
        str(sum(r[1] for r in ROWS if r[1] is not None)),
    )
    assert stats["amount"].nulls == 1
    assert (stats["name"].min_length, stats["name"].max_length) == (0, 10)
    assert (stats["at"].min, stats["at"].max) == (
        "2024-01-01 00:00:00.000000",
        "2024-03-31 23:59:59.999000",
    )
    counts = engine.period_counts(_scope(), columns[7], Period.MONTH)
    assert counts == {"2024-01": 2, "2024-02": 2, "2024-03": 3, None: 1}
    excluded = _scope(excluded_periods=frozenset({"2024-03", None}))
    assert engine.row_count(excluded) == 4


def test_athena_records_the_bytes_each_query_scanned_and_reports_millisecond_timestamps(
    athena: tuple[AthenaEngine, _DuckDBAsAthena],
) -> None:
    engine, _ = athena
    engine.row_count(_scope())
    list(engine.bucket_checksums(_scope(), _plan()))
    assert [q.bytes_scanned for q in engine.queries] == [SCANNED_PER_QUERY] * 2
    assert engine.bytes_scanned == 2 * SCANNED_PER_QUERY
    assert engine.queries[1].query_id == "q2"
    assert engine.capabilities.timestamp_precision == "millisecond"


def test_integer_sums_on_athena_cannot_wrap(athena: tuple[AthenaEngine, _DuckDBAsAthena]) -> None:
    engine, connection = athena
    connection.duck.execute("UPDATE lake.orders SET id = 9223372036854775807 WHERE id IN (1, 2)")
    columns = _columns()[:1]
    stats = engine.column_stats(_scope(), columns, [c.logical for c in columns])
    assert stats["id"].sum == str(2 * 9223372036854775807 + 17)


@pytest.mark.parametrize(("precision", "scale"), [(38, 10), (38, 0), (38, 38), (20, 2)])
def test_an_athena_decimal_sum_in_parts_is_the_exact_sum(
    athena: tuple[AthenaEngine, _DuckDBAsAthena], precision: int, scale: int
) -> None:
    """The parts' SQL, transpiled, on random values of every size and sign, against Python's
    exact sum."""
    engine, connection = athena
    logical = LogicalType(Kind.DECIMAL, precision, scale)
    engine.wide_sums = True
    sql = to_duckdb(f"SELECT {engine.sum_sql('x', logical)} FROM t")
    rng = random.Random(precision * 100 + scale)
    for _ in range(60):
        values = [
            EXACT.scaleb(Decimal(rng.randrange(1 - 10**precision, 10**precision)), -scale)
            for _ in range(rng.randrange(1, 6))
        ]
        connection.duck.execute(f"CREATE OR REPLACE TABLE t (x DECIMAL({precision},{scale}))")
        connection.duck.executemany(
            "INSERT INTO t VALUES (?)", [[str(v)] for v in values] + [[None]]
        )
        [[parts]] = connection.duck.execute(sql).fetchall()
        expected = Decimal(0)
        for value in values:
            expected = EXACT.add(expected, value)
        assert engine.sum_value(parts, logical) == expected, values
    [[empty]] = connection.duck.execute(sql.replace("FROM t", "FROM t WHERE false")).fetchall()
    assert engine.sum_value(empty, logical) is None


class _OverflowingCursor(_Cursor):
    """Athena whose SUM of `amount` overflows, as Trino's does past 38 digits."""

    def execute(self, sql: str) -> None:
        if 'SUM("amount")' in sql:
            raise OperationalError("NUMERIC_VALUE_OUT_OF_RANGE: Decimal overflow")
        super().execute(sql)


def test_a_decimal_sum_athena_cannot_hold_is_asked_again_in_parts(
    athena: tuple[AthenaEngine, _DuckDBAsAthena], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, connection = athena
    monkeypatch.setattr(connection, "cursor", lambda: _OverflowingCursor(connection))
    columns = _columns()[:3]
    stats = engine.column_stats(_scope(), columns, [c.logical for c in columns])
    assert stats["amount"].sum == str(sum(r[1] for r in ROWS if r[1] is not None))
    assert stats["id"].sum == "20" and not engine.wide_sums
    assert len(connection.executed) == 1, "the overflowing query never reached the lake"
    _check_golden("column_stats_wide_sums", connection.executed[0])


def test_naming_many_changed_rows_splits_queries_under_athenas_length_limit(
    athena: tuple[AthenaEngine, _DuckDBAsAthena],
) -> None:
    engine, connection = athena
    plan, groups, digests = _every_row(engine)
    absent = [f"no such key, long enough to weigh ü {i:06d}" for i in range(9_000)]
    keys = [absent[0], *(d.key for d in digests), *absent[1:]]
    before = len(connection.executed)
    found = engine.row_texts(_scope(), plan, groups, keys)
    sent = connection.executed[before:]
    assert len(sent) >= 2, "the keys weigh more than one query may"
    assert all(len(sql.encode()) <= AthenaEngine.max_query_bytes for sql in sent)
    assert found == {str(row[0]): _reference_texts(row) for row in ROWS}


def test_reading_many_groups_splits_queries_under_athenas_length_limit(
    athena: tuple[AthenaEngine, _DuckDBAsAthena],
) -> None:
    """Daily periods over years, thousands of mismatching groups: one pass-2 query naming
    them all would pass Athena's 262,144 bytes, so the groups are read in several."""
    engine, connection = athena
    plan, groups, digests = _every_row(engine)
    days = [(f"2000-01-01+{i:05d}", 0) for i in range(20_000)]  # groups no row is in
    before = len(connection.executed)
    found = engine.group_rows(_scope(), plan, [*groups, *days])
    sent = connection.executed[before:]
    assert len(sent) >= 2, "the groups weigh more than one query may"
    assert all(len(sql.encode()) <= AthenaEngine.max_query_bytes for sql in sent)
    assert Counter(found) == Counter(digests)


class _RunningCursor(_Cursor):
    """A query Athena has started and runs until it is stopped, failing then as pyathena does
    for a cancelled query."""

    def __init__(self, connection: _DuckDBAsAthena):
        super().__init__(connection)
        self.stopped = threading.Event()

    def execute(self, sql: str) -> None:
        self.query_id = "running"
        if not self.stopped.wait(timeout=30):
            raise AssertionError("the query was never stopped")
        raise OperationalError("Query cancelled by user")

    def cancel(self) -> None:
        self.stopped.set()


def test_interrupting_athena_stops_its_running_query(
    athena: tuple[AthenaEngine, _DuckDBAsAthena], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, connection = athena
    engine.interrupt()  # nothing runs: nothing to stop, no error
    cursor = _RunningCursor(connection)
    monkeypatch.setattr(connection, "cursor", lambda: cursor)
    failure: list[BaseException] = []

    def ask() -> None:
        try:
            engine.query("SELECT 1")
        except BaseException as error:
            failure.append(error)

    asking = threading.Thread(target=ask)
    started = time.monotonic()
    asking.start()
    while cursor.query_id is None:
        time.sleep(0.01)
    engine.interrupt()
    asking.join(timeout=30)
    assert not asking.is_alive() and time.monotonic() - started < 10
    assert len(failure) == 1 and isinstance(failure[0], TerminalError)
    assert "cancelled" in str(failure[0])
    engine.interrupt()  # the query has ended: nothing to stop
    assert engine._running is None


def test_athena_holds_a_timestamp_past_9999_at_its_last_millisecond(
    athena: tuple[AthenaEngine, _DuckDBAsAthena],
) -> None:
    """Athena reads 9999-12-31 23:59:59.9995 and later rounded to milliseconds, into year 10000:
    it renders as every engine holds such a value (`round_timestamp`), in 9999's last period."""
    engine, _ = athena
    naive = LogicalType(Kind.TIMESTAMP)
    canonical = engine.canonical_sql('"v"', naive)
    month = engine.period_sql('"v"', naive, Period.MONTH)
    for stored, expected, period in (
        ("10000-01-01 00:00:00", "9999-12-31 23:59:59.999000", "9999-12"),
        ("9999-12-31 23:59:59.999", "9999-12-31 23:59:59.999000", "9999-12"),
        ("9999-12-31 23:59:59.998", "9999-12-31 23:59:59.998000", "9999-12"),
        # a later instant is not what rounding made: it keeps its own text and period
        ("10000-01-01 00:00:00.001", "10000-01-01 00:00:00.001000", "10000-01"),
    ):
        relation = f"(SELECT TIMESTAMP '{stored}' AS v) AS t"
        assert engine.query(f"SELECT {canonical}, {month} FROM {relation}") == [(expected, period)]
    assert canonical_value(datetime(9999, 12, 31, 23, 59, 59, 999700), naive, "millisecond") == (
        "9999-12-31 23:59:59.999000"
    )
