"""The PostgreSQL source engine: metadata, exact extraction, snapshots and errors.

Tests run against the PostgreSQL service in one schema per session (`lakeshift_t_<hex>`), dropped
at the end; pure conversion rules are tested without it.
"""

from __future__ import annotations

import io
import json
import struct
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from loguru import logger

from lakeshift.artifacts import ANALYSIS_PICKLE
from lakeshift.engines import postgres as postgres_module
from lakeshift.engines.base import Column, Scope
from lakeshift.engines.connect import connect_source, open_lake
from lakeshift.engines.postgres import NamePart, PostgresEngine, period_range, split_name
from lakeshift.engines.postgres_session import _settings_sql
from lakeshift.engines.postgres_types import PgType, column_reading, to_logical_array
from lakeshift.errors import (
    ConfigError,
    ConversionError,
    TableMissingError,
    TerminalError,
    TransientError,
)
from lakeshift.inventory import Period
from lakeshift.lake.catalog import LocalCatalog
from lakeshift.project import load_project
from lakeshift.redaction import redact
from lakeshift.steps.analyze import analyze
from lakeshift.steps.upload import upload
from lakeshift.types import Kind, LogicalType

POLICY = LogicalType(Kind.DECIMAL, 38, 10)
PASSWORD = "Sup3r-Secret-Pw"


@pytest.fixture(scope="module")
def schema(postgres_url: str) -> Iterator[str]:
    name = f"lakeshift_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {name}")
        try:
            yield name
        finally:
            admin.execute(f"DROP SCHEMA {name} CASCADE")


@pytest.fixture
def admin(postgres_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def engine(postgres_url: str) -> Iterator[PostgresEngine]:
    source = PostgresEngine(postgres_url, POLICY)
    yield source
    source.close()


def _table(admin: psycopg.Connection[Any], schema: str, ddl: str, *inserts: str) -> str:
    """Create `{schema}.<unique name>` from `ddl` (with `{t}` for its name); returns the name."""
    name = f"{schema}.t_{uuid.uuid4().hex[:8]}"
    admin.execute(ddl.format(t=name))
    for statement in inserts:
        admin.execute(statement.format(t=name))
    return name


def _rows(engine: PostgresEngine, table: str, batch_rows: int = 1000) -> list[dict[str, Any]]:
    columns = engine.columns(table)
    batches = list(engine.stream(Scope(table), columns, batch_rows))
    return pa.Table.from_batches(batches).to_pylist() if batches else []


# --- metadata ---------------------------------------------------------------------------------


def test_metadata_reads_types_keys_and_names(
    engine: PostgresEngine, admin: psycopg.Connection[Any], schema: str
) -> None:
    admin.execute(f"CREATE DOMAIN {schema}.money2 AS numeric(10,2)")
    admin.execute(f"CREATE TYPE {schema}.color AS ENUM ('red')")
    table = _table(
        admin,
        schema,
        (
            "CREATE TABLE {t} (b int, a text, n numeric(5,-2), tiny numeric(3,5), wide numeric(50,2), "
            f"d {schema}.money2, colors {schema}.color[], pts point[], c char(3), ts timestamp(3), "
            "PRIMARY KEY (b, a))"
        ),
    )
    columns = {c.name: c for c in engine.columns(table)}
    assert engine.primary_key(table) == ["b", "a"]
    assert columns["b"].nullable is False and columns["c"].nullable is True
    assert str(columns["n"].logical) == "decimal(7,0)"
    assert str(columns["tiny"].logical) == "decimal(5,5)"
    assert str(columns["d"].logical) == "decimal(10,2)" and columns["d"].native_type.endswith(
        "money2"
    )
    assert columns["colors"].logical.kind is Kind.STRING
    assert columns["c"].native_type == "character(3)"
    assert columns["ts"].logical == LogicalType(Kind.TIMESTAMP)
    # No exact form: reading fails on that column only, naming it.
    for name, words in (("wide", "needs 50 digits"), ("pts", r"point\[\]")):
        with pytest.raises(ConversionError, match=rf"{table}\.{name}: .*{words}"):
            list(engine.stream(Scope(table), [columns[name]], 10))
    assert list(engine.stream(Scope(table), [columns["b"], columns["d"]], 10)) == []


def test_table_names_resolve_with_default_schema_and_case(
    engine: PostgresEngine, admin: psycopg.Connection[Any], schema: str
) -> None:
    table = _table(admin, schema, "CREATE TABLE {t} (id int)")
    public = f"lakeshift_t_{uuid.uuid4().hex[:10]}"
    admin.execute(f"CREATE TABLE public.{public} (id int)")
    try:
        assert engine.table_exists(table) and engine.table_exists(table.upper())
        assert engine.table_exists(public) and engine.table_exists(f"public.{public}")
        assert not engine.table_exists(f"{schema}.no_such_table")
        with pytest.raises(TableMissingError, match=rf"{schema}\.no_such_table does not exist"):
            engine.columns(f"{schema}.no_such_table")
    finally:
        admin.execute(f"DROP TABLE public.{public}")


def test_a_name_matching_several_tables_ignoring_case_fails_naming_them_and_quotes_pick_one(
    engine: PostgresEngine, admin: psycopg.Connection[Any], schema: str
) -> None:
    admin.execute(f'CREATE TABLE {schema}."CaseT" (id int)')
    admin.execute(f"CREATE TABLE {schema}.caset (id int, other int)")
    with pytest.raises(TerminalError) as caught:
        engine.table_exists(f"{schema}.CASET")
    message = str(caught.value)
    assert message.startswith(f"{schema}.CASET: several tables match ignoring case")
    assert f'{schema}."CaseT"' in message and f'{schema}."caset"' in message
    assert "in double quotes" in message
    assert [c.name for c in engine.columns(f'{schema}."CaseT"')] == ["id"]
    assert [c.name for c in engine.columns(f'"{schema}"."caset"')] == ["id", "other"]
    assert [c.name for c in engine.columns(f"{schema}.caset")] == ["id", "other"]  # exact first
    assert not engine.table_exists(f'{schema}."CASET"')


def test_a_quote_inside_a_quoted_name_is_written_twice() -> None:
    assert split_name('"My ""App""".orders') == (
        NamePart('My "App"', exact=True),
        NamePart("orders", exact=False),
    )
    assert split_name("Orders") == (NamePart("public", False), NamePart("Orders", False))


# --- exact conversion -------------------------------------------------------------------------


def test_decimal_text_converts_exactly_or_fails_naming_the_column() -> None:
    logical = LogicalType(Kind.DECIMAL, 38, 10)
    texts = pa.array(
        [
            "1.50",
            "-0.00",
            "1.12345678900000",
            None,
            "-" + "9" * 28 + "." + "9" * 10,
            "2." + "0" * 40,
        ]
    )
    converted = to_logical_array(texts, logical, "s.t", "amount").to_pylist()
    assert converted[:4] == [Decimal("1.5"), Decimal(0), Decimal("1.123456789"), None]
    assert converted[4:] == [Decimal("-" + "9" * 28 + "." + "9" * 10), Decimal(2)]
    # 39 digits: Arrow's own cast would wrap this to a negative number instead of refusing it.
    for bad in ("9" * 39, "0.00000000005", "1" + "0" * 28):
        with pytest.raises(ConversionError, match=rf"^s\.t\.amount: value {bad} does not fit"):
            to_logical_array(pa.array(["1", bad]), logical, "s.t", "amount")
    for special in ("NaN", "Infinity", "-Infinity"):  # no declaration would help: say what does
        with pytest.raises(
            ConversionError, match=rf"^s\.t\.amount: value {special} has no decimal form.*where"
        ):
            to_logical_array(pa.array(["1", special]), logical, "s.t", "amount")


def test_unconstrained_numeric_that_does_not_fit_fails_the_column(
    engine: PostgresEngine, admin: psycopg.Connection[Any], schema: str, postgres_url: str
) -> None:
    table = _table(
        admin,
        schema,
        "CREATE TABLE {t} (id int, n numeric)",
        "INSERT INTO {t} VALUES (1, 1.25), (2, 3.123456789012)",
    )
    with pytest.raises(ConversionError, match=rf"^{table}\.n: value 3\.123456789012 does not fit"):
        _rows(engine, table)
    admin.execute(f"DELETE FROM {table} WHERE id = 2")
    engine.close()  # it holds the table's snapshot, which a later read of the table would use
    fresh = PostgresEngine(postgres_url, POLICY)
    try:
        assert _rows(fresh, table) == [{"id": 1, "n": Decimal("1.25")}]
    finally:
        fresh.close()


def test_dates_outside_years_1_to_9999_fail_the_column(
    engine: PostgresEngine, admin: psycopg.Connection[Any], schema: str
) -> None:
    for value in ("infinity", "-infinity", "0044-03-15 BC", "12000-01-01"):
        table = _table(
            admin,
            schema,
            "CREATE TABLE {t} (d date, ts timestamptz)",
            f"INSERT INTO {{t}} VALUES ('2000-01-01', '{value}'), ('{value}', NULL)",
        )
        with pytest.raises(ConversionError, match=rf"{table}\.(d|ts): .*outside years 1-9999"):
            _rows(engine, table)
    # The driver turns infinity into a wrapped day count: the range check still catches it.
    wrapped = pa.array([0, 2**31 - 1], pa.int32()).view(pa.date32())
    with pytest.raises(ConversionError, match=r"^s\.t\.d: a value lies outside years 1-9999"):
        to_logical_array(wrapped, LogicalType(Kind.DATE), "s.t", "d")


def test_column_reading_documents_each_conversion() -> None:
    reading = column_reading(PgType("interval", "interval"), POLICY)
    assert reading.as_text and reading.note is not None and "ISO 8601" in reading.note
    assert column_reading(PgType("numeric", "numeric"), POLICY).logical == POLICY
    array = PgType("_mood", "mood[]", "b", PgType("mood", "mood", "e"))
    assert column_reading(array, POLICY).problem is None
    nested = PgType("_point", "point[]", "b", PgType("point", "point"))
    assert column_reading(nested, POLICY).problem is not None
    assert column_reading(PgType("money", "money"), POLICY).problem is not None


def test_statistics_sum_real_columns_in_double_precision(
    engine: PostgresEngine, admin: psycopg.Connection[Any], schema: str
) -> None:
    table = _table(
        admin,
        schema,
        "CREATE TABLE {t} (r real)",
        "INSERT INTO {t} SELECT 0.1 FROM generate_series(1, 10000)",
    )
    column = engine.columns(table)[0]
    stats = engine.column_stats(Scope(table), [column], [column.logical])["r"]
    exact = 10000 * struct.unpack("f", struct.pack("f", 0.1))[0]  # each value widened exactly
    assert stats.sum is not None and abs(float(stats.sum) - exact) <= exact * 1e-12
    widened = repr(struct.unpack("f", struct.pack("f", 0.1))[0])  # '0.10000000149011612'
    assert (stats.min, stats.max, stats.distinct) == (widened, widened, 1)


def test_a_float_sum_past_the_largest_double_is_infinity_in_the_same_snapshot(
    engine: PostgresEngine, admin: psycopg.Connection[Any], schema: str
) -> None:
    """PostgreSQL raises where IEEE (DuckDB, SQLite) goes to infinity: the sum is asked again
    scaled, inside a savepoint, so the table's snapshot (its token) stays the same one."""
    table = _table(
        admin,
        schema,
        "CREATE TABLE {t} (big float8, small float8, tiny float8)",
        "INSERT INTO {t} VALUES (1.7976931348623157e308, 0.1, 5e-324), (1e308, -0.2, 5e-324),"
        " (-1, 0.3, NULL)",
    )
    columns = engine.columns(table)
    before = engine.row_count(Scope(table))
    tokens = list(engine._tokens)
    stats = engine.column_stats(Scope(table), columns, [c.logical for c in columns])
    assert (stats["big"].sum, stats["big"].mean) == ("inf", "inf")
    # every float column was asked again scaled: the others' sums are still exact
    assert stats["small"].sum == repr(0.1 + -0.2 + 0.3)
    assert stats["tiny"].sum == repr(5e-324 + 5e-324) and not engine.wide_sums
    assert engine._tokens == tokens and engine.row_count(Scope(table)) == before == 3
    negative = _table(  # overflows the other way
        admin,
        schema,
        "CREATE TABLE {t} (big float8)",
        "INSERT INTO {t} VALUES (-1.7976931348623157e308), (-1e308), (1)",
    )
    [column] = engine.columns(negative)
    assert engine.column_stats(Scope(negative), [column], [column.logical])["big"].sum == "-inf"
    with pytest.raises(psycopg.errors.InvalidSavepointSpecification):  # none left open
        engine._question_connection().execute("RELEASE SAVEPOINT lakeshift_statistics")


def test_period_range_reaches_year_10000() -> None:
    assert period_range("2024-02", Period.MONTH) == ("2024-02-01", "2024-03-01")
    assert period_range("2024-12", Period.MONTH) == ("2024-12-01", "2025-01-01")
    assert period_range("2024-02-29", Period.DAY) == ("2024-02-29", "2024-03-01")
    assert period_range("9999-12-31", Period.DAY) == ("9999-12-31", "10000-01-01")
    assert period_range("9999", Period.YEAR) == ("9999-01-01", "10000-01-01")


# --- extraction -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def numbers(postgres_url: str, schema: str) -> str:
    """100,000 rows: big enough that the driver sends many batches."""
    table = f"{schema}.numbers"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, label text)")
        admin.execute(
            f"INSERT INTO {table} SELECT g, 'label ' || g FROM generate_series(1, 100000) g"
        )
        admin.execute(f"ANALYZE {table}")
    return table


def test_stream_batches_are_bounded_by_batch_rows(
    engine: PostgresEngine, numbers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    driver_rows: list[int] = []
    original = postgres_module.driver_batches

    def observed(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
        for batch in original(reader):
            driver_rows.append(batch.num_rows)
            yield batch

    monkeypatch.setattr(postgres_module, "driver_batches", observed)
    columns = engine.columns(numbers)
    for _ in range(2):  # the second read sizes driver batches from the width the first measured
        driver_rows.clear()
        sizes = [b.num_rows for b in engine.stream(Scope(numbers), columns, 700)]
        assert sum(sizes) == 100_000 and max(sizes) == 700
        assert len(driver_rows) > 10 and max(driver_rows) <= 10_000
    assert engine._row_bytes[numbers] > 8


def test_an_abandoned_stream_leaves_the_engine_usable(engine: PostgresEngine, numbers: str) -> None:
    columns = engine.columns(numbers)
    stream = engine.stream(Scope(numbers), columns, 500)
    assert next(stream).num_rows == 500
    stream.close()
    assert sum(b.num_rows for b in engine.stream(Scope(numbers), columns, 50_000)) == 100_000
    assert engine.row_count(Scope(numbers, where="label LIKE 'label 1%'")) == 11_112


# --- snapshots --------------------------------------------------------------------------------


def test_a_stream_does_not_see_changes_committed_while_it_reads(
    engine: PostgresEngine, admin: psycopg.Connection[Any], schema: str, postgres_url: str
) -> None:
    table = _table(
        admin,
        schema,
        "CREATE TABLE {t} (id int PRIMARY KEY, v text)",
        "INSERT INTO {t} SELECT g, 'v' || g FROM generate_series(1, 20000) g",
    )
    columns = engine.columns(table)
    stream = engine.stream(Scope(table), columns, 100)
    seen = next(stream).to_pylist()
    admin.execute(f"INSERT INTO {table} VALUES (20001, 'new')")
    admin.execute(f"UPDATE {table} SET v = 'changed' WHERE id > 10000")
    admin.execute(f"DELETE FROM {table} WHERE id = 19999")
    for batch in stream:
        seen += batch.to_pylist()
    assert len(seen) == 20_000 and {r["v"] for r in seen} == {f"v{i}" for i in range(1, 20001)}
    # Questions about the same table keep reading the same snapshot...
    changed = Scope(table, where="v = 'changed'")
    assert engine.row_count(changed) == 0
    token = engine.snapshot_token()
    assert token
    # ...and a fresh engine sees the changes.
    fresh = PostgresEngine(postgres_url, POLICY)
    try:
        assert fresh.row_count(changed) == 10_000
        assert fresh.snapshot_token() not in (None, token)
    finally:
        fresh.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_upload_slices_read_the_snapshot_exported_for_the_table(
    workers: int,
    postgres_url: str,
    admin: psycopg.Connection[Any],
    schema: str,
    make_project: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Changes committed after the slices are planned, or after the first slice is read, reach
    no slice: every slice, whichever worker reads it, imports the table's exported snapshot."""
    table = _table(
        admin,
        schema,
        "CREATE TABLE {t} (id int PRIMARY KEY, amount numeric(8,2), at date)",
        "INSERT INTO {t} SELECT g, g, DATE '2024-01-01' + (g % 3) * 31 FROM generate_series(1, 300) g",
    )
    after_planning = [
        f"INSERT INTO {table} VALUES (1000, 1, '2024-03-10'), (1001, 1, '2024-05-01')",
        f"UPDATE {table} SET amount = -1 WHERE at >= '2024-02-01'",
    ]
    after_first_slice = [f"DELETE FROM {table} WHERE id IN (2, 3)"]
    project = load_project(
        make_project(postgres_url, [{"source_table": table, "date_column": "at"}])
    )
    analyze(project)
    plan, stream = PostgresEngine.period_counts, PostgresEngine.stream

    def plan_then_change(self: PostgresEngine, *args: Any) -> dict[str | None, int]:
        counts = plan(self, *args)
        for statement in after_planning:  # another session commits while the upload runs
            admin.execute(statement)
        after_planning.clear()
        return counts

    def stream_then_change(self: PostgresEngine, *args: Any) -> Iterator[pa.RecordBatch]:
        yield from stream(self, *args)
        for statement in after_first_slice:
            admin.execute(statement)
        after_first_slice.clear()

    monkeypatch.setattr(PostgresEngine, "period_counts", plan_then_change)
    monkeypatch.setattr(PostgresEngine, "stream", stream_then_change)
    outcomes = upload(project, project.output / ANALYSIS_PICKLE, workers=workers)
    assert [o.status for o in outcomes] == ["uploaded"]
    assert not after_planning and not after_first_slice
    storage = open_lake(project.migration)
    entry = LocalCatalog(storage).get(table.split(".")[-1])
    assert entry is not None and len(entry.partitions) == 3
    files = [f for folder in entry.data_locations() for f in storage.list_files(folder)]
    lake = pa.concat_tables(pq.read_table(f) for f in files).sort_by("id")
    assert lake.column("id").to_pylist() == list(range(1, 301))
    assert lake.column("amount").to_pylist() == [Decimal(i) for i in range(1, 301)]
    metadata = json.loads(next(project.output.glob("upload_metadata_*.json")).read_text())
    snapshot = metadata["tables"][0]["snapshot"]
    assert snapshot["kind"] == "repeatable_read" and "," not in snapshot["token"]


# --- errors -----------------------------------------------------------------------------------


def _url(postgres_url: str, user: str, password: str | None = None, port: int | None = None) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(postgres_url)
    credentials = f"{user}:{password}" if password else user
    return f"postgresql://{credentials}@{parts.hostname}:{port or parts.port}{parts.path}"


def test_connection_failures_are_one_line_without_the_password(postgres_url: str) -> None:
    cases = [
        (_url(postgres_url, "lakeshift_no_such_role", PASSWORD), "lakeshift_no_such_role"),
        (_url(postgres_url, "postgres", PASSWORD, port=1), "Connection refused|connect"),
    ]
    for url, words in cases:
        with pytest.raises(ConfigError) as failure:
            PostgresEngine(url, POLICY)
        message = str(failure.value)
        assert PASSWORD not in message and "\n" not in message
        assert message.startswith("cannot connect to postgresql://")
        assert ":***@" in message
        assert failure.match(words)


def test_a_wrong_password_never_reaches_messages_logs_or_artifacts(
    postgres_url: str, make_project: Callable[..., Path]
) -> None:
    meta = make_project(
        _url(postgres_url, "lakeshift_no_such_role", PASSWORD), [{"source_table": "public.t"}]
    )
    sink = io.StringIO()
    handler = logger.add(sink, level="DEBUG")
    try:
        project = load_project(meta)
        with pytest.raises(ConfigError) as failure:
            analyze(project)
        with pytest.raises(ConfigError):
            connect_source(project.source.url, project.migration)
    finally:
        logger.remove(handler)
    assert PASSWORD not in str(failure.value) and "lakeshift_no_such_role" in str(failure.value)
    assert redact(f"said {PASSWORD}") == "said ***"  # loading the project registered it
    assert PASSWORD not in sink.getvalue()
    written = [p for p in meta.parent.rglob("*") if p.is_file() and p.name != ".env"]
    assert all(PASSWORD not in p.read_text(errors="replace") for p in written)


@pytest.fixture
def reader_role(admin: psycopg.Connection[Any], schema: str) -> Iterator[str]:
    role = f"lakeshift_t_{uuid.uuid4().hex[:8]}"
    admin.execute(f"CREATE ROLE {role} LOGIN")
    admin.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
    yield role
    admin.execute(f"DROP OWNED BY {role}")
    admin.execute(f"DROP ROLE {role}")


def test_missing_privilege_fails_with_the_table_named(
    postgres_url: str, admin: psycopg.Connection[Any], schema: str, reader_role: str
) -> None:
    table = _table(admin, schema, "CREATE TABLE {t} (id int)", "INSERT INTO {t} VALUES (1)")
    engine = PostgresEngine(_url(postgres_url, reader_role), POLICY)
    try:
        columns = engine.columns(table)
        name = table.split(".")[-1]
        for attempt in (
            lambda: engine.row_count(Scope(table)),
            lambda: list(engine.stream(Scope(table), columns, 10)),
        ):
            with pytest.raises(TerminalError) as failure:
                attempt()
            message = str(failure.value)
            assert message.startswith(f"{table}: permission denied for table {name}; grant SELECT")
            assert "\n" not in message
        admin.execute(f"GRANT SELECT ON {table} TO {reader_role}")
        assert engine.row_count(Scope(table)) == 1  # the failed snapshot was replaced
    finally:
        engine.close()


def _terminate(admin: psycopg.Connection[Any], pid: int) -> None:
    admin.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])


def test_a_connection_dropped_mid_read_is_transient_and_recovers(
    engine: PostgresEngine, admin: psycopg.Connection[Any], numbers: str
) -> None:
    columns = engine.columns(numbers)
    stream = engine.stream(Scope(numbers), columns, 100)
    next(stream)
    copying = admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'lakeshift' "
        "AND query LIKE 'COPY%' AND pid <> pg_backend_pid()"
    ).fetchall()
    assert len(copying) == 1
    _terminate(admin, copying[0][0])
    with pytest.raises(TransientError, match=rf"^{numbers}: "):
        for _ in stream:
            pass
    assert sum(b.num_rows for b in engine.stream(Scope(numbers), columns, 50_000)) == 100_000


def test_a_dropped_snapshot_holder_is_transient_and_the_snapshot_is_renewed(
    engine: PostgresEngine, admin: psycopg.Connection[Any], numbers: str
) -> None:
    assert engine.row_count(Scope(numbers)) == 100_000
    first = engine.snapshot_token()
    assert first is not None and engine._data is not None
    _terminate(admin, engine._data.info.backend_pid)
    with pytest.raises(TransientError, match=rf"^{numbers}: "):
        engine.row_count(Scope(numbers))
    assert engine.row_count(Scope(numbers)) == 100_000
    renewed = engine.snapshot_token()
    assert renewed is not None and renewed.startswith(first + ",")


def test_questions_about_a_missing_table_name_it(engine: PostgresEngine, schema: str) -> None:
    missing = f"{schema}.gone"
    with pytest.raises(TableMissingError, match=f"table {missing} does not exist"):
        engine.row_count(Scope(missing))
    column = Column("id", "integer", LogicalType(Kind.INTEGER))
    with pytest.raises(TableMissingError):
        list(engine.stream(Scope(missing), [column], 10))


def test_closing_the_arrow_connection_during_a_read_ends_its_backend(
    postgres_url: str, admin: psycopg.Connection[Any], numbers: str
) -> None:
    """A read left suspended (a generator not run to its end) must not keep the connection,
    and its COPY inside a snapshot, open on the server."""
    from lakeshift.engines.postgres_session import open_arrow_connection, target

    where = target(postgres_url)
    connection = open_arrow_connection(where)
    reading = connection.read(f"SELECT * FROM {numbers}", {})
    reader = reading.__enter__()
    assert reader.read_next_batch().num_rows > 0
    pid = admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'lakeshift'"
        " AND query LIKE 'COPY%' AND pid <> pg_backend_pid()"
    ).fetchone()
    assert pid is not None
    connection.close()  # raised, and kept the backend, while the statement was open
    for _ in range(50):
        alive = admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", pid).fetchone()
        if alive is None:
            break
        time.sleep(0.1)
    assert alive is None


def test_settings_an_older_server_does_not_know_are_not_sent() -> None:
    """`SET jit` fails on PostgreSQL 10, where the parameter does not exist."""
    assert "SET jit = 'off'" in _settings_sql(150000)
    assert "SET jit = 'off'" not in _settings_sql(100023)
    assert "SET jit = 'off'" not in _settings_sql(None)
    assert "SET TimeZone = 'UTC'" in _settings_sql(100023)


def test_statistics_of_a_table_wider_than_one_select_list_allows(
    engine: PostgresEngine, admin: psycopg.Connection[Any], schema: str
) -> None:
    """PostgreSQL's select list holds 1,664 items, seven statistics a column: 300 columns are
    asked in two queries, and every column's statistics come back."""
    names = [f"c{i}" for i in range(300)]
    table = _table(
        admin,
        schema,
        "CREATE TABLE {t} (" + ", ".join(f"{n} int" for n in names) + ")",
        "INSERT INTO {t} SELECT "
        + ", ".join(f"g + {i}" for i in range(300))
        + " FROM generate_series(1, 3) AS g",
    )
    columns = engine.columns(table)
    stats = engine.column_stats(Scope(table), columns, [c.logical for c in columns])
    assert list(stats) == names
    assert (stats["c0"].min, stats["c299"].max, stats["c299"].sum) == ("1", "302", "903")
    assert {s.rows for s in stats.values()} == {3}
