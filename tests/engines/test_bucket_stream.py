"""Pass 1 streams its groups in ascending integer bucket order on every engine we can run.

Negative keys make negative buckets (the remainder takes the dividend's sign everywhere), which
must come first; periods inside a bucket may come in any order. The groups must equal the
Python reference, and a diff of the same rows on two engines, each streaming in a thread of
its own, must match, and must not once a value differs.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest

from lakeshift.config import MigrationConfig
from lakeshift.engines.base import Column, GroupSum, RowPlan, Scope, SqlEngine
from lakeshift.engines.duckdb import DuckDBEngine
from lakeshift.engines.mysql import connect as connect_mysql
from lakeshift.engines.postgres import PostgresEngine
from lakeshift.engines.sqlite import SQLiteEngine
from lakeshift.errors import TerminalError
from lakeshift.inventory import Period
from lakeshift.types import Kind, LogicalType
from lakeshift.verify.canonical import (
    KEY_RUN,
    canonical_value,
    hash60,
    integer_key_bucket,
    join_canonical,
)
from lakeshift.verify.diff import Side, bucket_diff
from mariadb_support import MariaDBServer

POLICY = LogicalType(Kind.DECIMAL, 38, 10)
BUCKETS = 16
COLUMNS = (
    Column("id", "", LogicalType(Kind.INTEGER)),
    Column("label", "", LogicalType(Kind.STRING)),
    Column("day", "", LogicalType(Kind.DATE)),
)
# Keys close together share runs of 64 (and so buckets); keys 67 apart spread over every bucket,
# negative ones over negative buckets; the edges of runs and of BIGINT are there too.
KEYS = sorted(
    set(range(-250, 251, 3))
    | {i * 67 for i in range(-250, 251, 3)}
    | {2, 63, 64, -63, -64, -65, 2**62 + 1, -(2**62) - 1, 2**63 - 1, -(2**63)}
)
ROWS: list[tuple[int | None, str, date]] = [
    (i, f"row {i}", date(2024, 1 + abs(i) // 3 % 3, 1 + abs(i) % 28)) for i in KEYS
] + [(None, "no key", date(2024, 2, 29))]
EngineFactory = Callable[[list[tuple[Any, ...]]], tuple[SqlEngine, str]]


def _plan() -> RowPlan:
    return RowPlan(COLUMNS, tuple(c.logical for c in COLUMNS), key=(0,), buckets=BUCKETS)


def _scope(table: str) -> Scope:
    return Scope(table, period_column=COLUMNS[2], period=Period.MONTH)


def _reference() -> dict[tuple[str | None, int], GroupSum]:
    sums: dict[tuple[str | None, int], GroupSum] = {}
    for row in ROWS:
        texts = [canonical_value(v, c.logical) for v, c in zip(row, COLUMNS, strict=True)]
        group = (row[2].isoformat()[:7], integer_key_bucket(row[0], BUCKETS))
        seen = sums.get(group, GroupSum(0, 0))
        sums[group] = GroupSum(seen.count + 1, seen.checksum + hash60(join_canonical(texts)))
    return sums


class _DuckDBTable(DuckDBEngine):
    """The lake's engine over a plain table of its own connection (no catalog, no files)."""

    def __init__(self) -> None:
        super().__init__(catalog=None)

    def table_sql(self, table: str) -> str:
        return self.quote(table)


@pytest.fixture
def make_engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[str], EngineFactory]]:
    """`make_engine(kind)(rows)`: an engine holding `rows` in a fresh table, and its name."""
    cleanups: list[Callable[[], None]] = []

    def sqlite_table(rows: list[tuple[Any, ...]]) -> tuple[SqlEngine, str]:
        path = tmp_path / f"{uuid.uuid4().hex}.db"
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE t (id INTEGER, label TEXT, day DATE)")
            connection.executemany(
                "INSERT INTO t VALUES (?, ?, ?)", [(i, s, d.isoformat()) for i, s, d in rows]
            )
        connection.close()
        engine = SQLiteEngine(path, POLICY)
        cleanups.append(engine.close)
        return engine, "t"

    def duckdb_table(rows: list[tuple[Any, ...]]) -> tuple[SqlEngine, str]:
        engine = _DuckDBTable()
        engine.connection.execute("CREATE TABLE t (id BIGINT, label VARCHAR, day DATE)")
        engine.connection.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
        cleanups.append(engine.close)
        return engine, "t"

    def postgres_table(rows: list[tuple[Any, ...]]) -> tuple[SqlEngine, str]:
        url = request.getfixturevalue("postgres_url")
        name = f"public.lst_stream_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"CREATE TABLE {name} (id bigint, label text, day date)")
            with admin.cursor() as cursor:
                cursor.executemany(f"INSERT INTO {name} VALUES (%s, %s, %s)", rows)
        engine = PostgresEngine(url, POLICY)

        def drop() -> None:
            engine.close()  # ends its snapshot first
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute(f"DROP TABLE {name}")

        cleanups.append(drop)
        return engine, name

    def mariadb_table(rows: list[tuple[Any, ...]]) -> tuple[SqlEngine, str]:
        url = request.getfixturevalue("mariadb_url")
        server = MariaDBServer(url)
        table = server.create("stream", "id BIGINT, label VARCHAR(30), day DATE", rows)
        engine = connect_mysql(url, MigrationConfig())

        def drop() -> None:
            engine.close()  # ends its snapshot, so the table can be dropped
            server.close()

        cleanups.append(drop)
        return engine, table

    kinds = {
        "sqlite": sqlite_table,
        "duckdb": duckdb_table,
        "postgres": postgres_table,
        "mariadb": mariadb_table,
    }
    yield kinds.__getitem__
    for cleanup in reversed(cleanups):
        cleanup()


@pytest.mark.parametrize("kind", ["sqlite", "duckdb", "postgres", "mariadb"])
def test_groups_stream_in_ascending_bucket_order_and_equal_the_reference(
    kind: str, make_engine: Callable[[str], EngineFactory]
) -> None:
    engine, table = make_engine(kind)(list(ROWS))
    stream = list(engine.bucket_checksums(_scope(table), _plan()))
    buckets = [bucket for _, bucket, _ in stream]
    assert buckets == sorted(buckets)
    assert buckets[0] == -(BUCKETS - 1) and buckets[-1] == BUCKETS - 1
    assert {(period, bucket): sums for period, bucket, sums in stream} == _reference()


@pytest.mark.parametrize(("ours", "theirs"), [("sqlite", "postgres"), ("mariadb", "duckdb")])
def test_a_diff_across_engines_merges_their_streams(
    ours: str, theirs: str, make_engine: Callable[[str], EngineFactory]
) -> None:
    plan = _plan()
    source, source_table = make_engine(ours)(list(ROWS))
    lake, lake_table = make_engine(theirs)(list(ROWS))
    result = bucket_diff(
        Side(source, _scope(source_table), plan), Side(lake, _scope(lake_table), plan)
    )
    assert (result.groups_mismatched, result.rows_source, result.rows_target) == (
        0,
        len(ROWS),
        len(ROWS),
    )
    assert result.groups == len(_reference())

    changed = [(i, "changed" if i == -97 else s, d) for i, s, d in ROWS]
    lake, lake_table = make_engine(theirs)(changed)
    result = bucket_diff(
        Side(source, _scope(source_table), plan), Side(lake, _scope(lake_table), plan)
    )
    assert (result.groups_mismatched, result.changed, result.missing, result.extra) == (1, 1, 0, 0)
    assert result.samples[0]["key"] == {"id": "-97"}


def test_a_postgres_error_while_streaming_names_the_table(
    make_engine: Callable[[str], EngineFactory],
) -> None:
    engine, table = make_engine("postgres")(list(ROWS))
    failing = Scope(table, where="1 / (id % 1000 - 2) > -10")  # id 2 is a row: division by zero
    with pytest.raises(TerminalError, match=f"{table}: PostgreSQL: division by zero"):
        list(engine.bucket_checksums(failing, _plan()))
    # The question ended with the stream: the engine answers the next one.
    assert sum(s.count for _, _, s in engine.bucket_checksums(_scope(table), _plan())) == len(ROWS)


@pytest.mark.parametrize("kind", ["sqlite", "duckdb", "postgres", "mariadb"])
def test_a_stream_closed_early_leaves_the_engine_answering(
    kind: str, make_engine: Callable[[str], EngineFactory]
) -> None:
    # What the diff does to one side when the other fails: stop reading and close.
    engine, table = make_engine(kind)(list(ROWS))
    stream = engine.bucket_checksums(_scope(table), _plan())
    assert next(stream)[1] == -(BUCKETS - 1)
    stream.close()
    assert engine.row_count(Scope(table)) == len(ROWS)
    again = {(p, b): sums for p, b, sums in engine.bucket_checksums(_scope(table), _plan())}
    assert again == _reference()


@pytest.mark.parametrize("kind", ["duckdb", "postgres", "mariadb"])
def test_one_engine_on_both_sides_neither_hangs_nor_mixes_its_streams(
    kind: str, make_engine: Callable[[str], EngineFactory]
) -> None:
    """More groups than the read-ahead holds, so both streams would be open at once on one
    connection: PostgreSQL would wait on its own lock, DuckDB would switch results."""
    import threading

    rows = [(i * KEY_RUN, f"row {i}", date(2024, 1, 1)) for i in range(12_000)]  # a run each
    engine, table = make_engine(kind)(rows)
    plan = RowPlan(COLUMNS, tuple(c.logical for c in COLUMNS), key=(0,), buckets=len(rows))
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(
                bucket_diff(Side(engine, Scope(table), plan), Side(engine, Scope(table), plan))
            )
        except Exception as error:  # reported by the assertion below
            outcome.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert outcome, "bucket_diff hung with one engine on both sides"
    [result] = outcome
    assert not isinstance(result, Exception), result
    assert (result.groups, result.groups_mismatched) == (len(rows), 0)
    assert result.rows_source == result.rows_target == len(rows)


@pytest.mark.parametrize(
    ("kind", "sleep", "message"),
    [
        ("postgres", "pg_sleep(0.2) IS NOT NULL", "cancel"),
        ("mariadb", "SLEEP(0.2) = 0", "interrupted"),
    ],
)
def test_interrupting_a_running_pass_1_stops_it_and_the_engine_answers_again(
    kind: str, sleep: str, message: str, make_engine: Callable[[str], EngineFactory]
) -> None:
    """What a diff does to this side when the other one failed: no waiting for the scan."""
    import threading

    engine, table = make_engine(kind)(list(ROWS))
    slow = Scope(table, where=sleep)  # about 35 s for every row
    timer = threading.Timer(1.0, engine.interrupt)
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(Exception, match=message):
            list(engine.bucket_checksums(slow, _plan()))
    finally:
        timer.cancel()
    assert time.monotonic() - started < 15
    assert sum(s.count for _, _, s in engine.bucket_checksums(_scope(table), _plan())) == len(ROWS)


def test_mariadb_streams_pass_1_unbuffered_and_keeps_its_snapshot(
    make_engine: Callable[[str], EngineFactory],
) -> None:
    """The groups come from an unbuffered result (the connection is the stream's until it
    ends), with the server's wait for a paused reader raised, then put back."""
    engine, table = make_engine("mariadb")(list(ROWS))
    engine.row_count(Scope(table))  # opens the table's snapshot
    snapshot = engine._snapshot  # type: ignore[attr-defined]
    [(before,)] = engine.query("SELECT @@SESSION.net_write_timeout")
    stream = engine.bucket_checksums(_scope(table), _plan())
    first = next(stream)
    with pytest.raises(TerminalError, match="being streamed"):
        engine.query("SELECT 1")
    groups = {(p, b): sums for p, b, sums in [first, *stream]}
    assert groups == _reference()
    [(after,)] = engine.query("SELECT @@SESSION.net_write_timeout")
    assert after == before < 3600
    assert engine.row_count(Scope(table)) == len(ROWS)
    assert snapshot is not None and engine._snapshot is snapshot  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["postgres", "mariadb"])
def test_interrupting_an_idle_engine_stops_nothing_later(
    kind: str, make_engine: Callable[[str], EngineFactory]
) -> None:
    """The diff interrupts a side that may have just finished: the next question still runs."""
    engine, table = make_engine(kind)(list(ROWS))
    engine.row_count(Scope(table))  # the table's snapshot is open, its connection idle
    engine.interrupt()
    time.sleep(0.2)  # PostgreSQL signals the backend after the cancel returns: let it land idle
    assert engine.row_count(Scope(table)) == len(ROWS)
    again = {(p, b): sums for p, b, sums in engine.bucket_checksums(_scope(table), _plan())}
    assert again == _reference()
