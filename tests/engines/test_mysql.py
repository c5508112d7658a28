"""The MySQL/MariaDB source engine: connection errors and secrets, snapshots, dropped connections,
zero dates, literals, time zones, periods and text statistics, on the real MariaDB service."""

from __future__ import annotations

import dataclasses
import gc
import json
import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq
import pymysql
import pytest
from loguru import logger

from lakeshift.artifacts import ANALYSIS_PICKLE
from lakeshift.config import MigrationConfig
from lakeshift.engines.base import Column, GroupSum, RowPlan, Scope
from lakeshift.engines.mysql import FETCH_ROWS, MySQLEngine, connect
from lakeshift.engines.mysql_session import ConnectionSettings, connection_error
from lakeshift.engines.mysql_types import dated_rows_where, mysql_type
from lakeshift.errors import (
    ConfigError,
    ConversionError,
    TableMissingError,
    TerminalError,
    TransientError,
)
from lakeshift.inventory import Period
from lakeshift.project import load_project
from lakeshift.redaction import redact
from lakeshift.steps.analyze import analyze
from lakeshift.steps.pipeline import run_pipeline
from lakeshift.steps.slicing import PartitionStrategy
from lakeshift.steps.upload import upload
from lakeshift.types import Kind, LogicalType
from lakeshift.verify.canonical import canonical_value, hash60, join_canonical
from mariadb_support import MariaDBServer as Server

pytestmark = pytest.mark.mariadb

CONFIG = MigrationConfig()


@pytest.fixture
def engine(mariadb_url: str) -> Iterator[MySQLEngine]:
    engine = connect(mariadb_url, CONFIG)
    yield engine
    engine.close()  # ends its snapshot, so the tables it read can be dropped


def _rows(engine: MySQLEngine, table: str, batch_rows: int = 1000) -> list[dict[str, Any]]:
    columns = engine.columns(table)
    batches = list(engine.stream(Scope(table), columns, batch_rows))
    return pa.Table.from_batches(batches).to_pylist() if batches else []


# --- types -------------------------------------------------------------------------------------

TYPE_CASES = [
    ("tinyint(1)", LogicalType(Kind.INTEGER), "{}"),
    ("int(10) unsigned zerofill", LogicalType(Kind.INTEGER), "{}"),
    ("bigint(20)", LogicalType(Kind.INTEGER), "{}"),
    ("bigint unsigned", LogicalType(Kind.DECIMAL, 20, 0), "{}"),
    ("bit(63)", LogicalType(Kind.INTEGER), "({} + 0)"),
    ("bit(64)", LogicalType(Kind.DECIMAL, 20, 0), "({} + 0)"),
    ("decimal(65,30)", LogicalType(Kind.DECIMAL, 65, 30), "{}"),
    ("float", LogicalType(Kind.FLOAT), "CAST({} AS DOUBLE)"),
    ("double(12,3)", LogicalType(Kind.FLOAT), "CAST({} AS DOUBLE)"),
    ("double", LogicalType(Kind.FLOAT), "CAST({} AS DOUBLE)"),
    ("enum('a','b)c')", LogicalType(Kind.STRING), "{}"),
    ("time(6)", LogicalType(Kind.STRING), "CAST({} AS CHAR)"),
    ("longtext", LogicalType(Kind.STRING), "{}"),
    ("json", LogicalType(Kind.STRING), "{}"),
    ("year(4)", LogicalType(Kind.INTEGER), "{}"),
    ("varbinary(16)", LogicalType(Kind.BINARY), "{}"),
    ("point", LogicalType(Kind.BINARY), "{}"),
    ("datetime(6)", LogicalType(Kind.TIMESTAMP), "{}"),
    ("timestamp(3)", LogicalType(Kind.TIMESTAMP, tz="UTC"), "{}"),
]


@pytest.mark.parametrize(("native", "logical", "read"), TYPE_CASES, ids=[c[0] for c in TYPE_CASES])
def test_native_types_map_to_their_documented_logical_type(
    native: str, logical: LogicalType, read: str
) -> None:
    mapped = mysql_type(native)
    assert mapped is not None and (mapped.logical, mapped.read) == (logical, read)


def test_a_type_without_an_exact_mapping_is_listed_then_refused_when_read(
    engine: MySQLEngine, server: Server
) -> None:
    mapped = mysql_type("vector(3)")
    assert mapped.unsupported and "vector(3)" in mapped.unsupported
    assert mysql_type("int(11)").unsupported is None
    table = server.create("vectorish", "id INT PRIMARY KEY, v BLOB", [(1, b"x")])
    # As the server would list a column of a type lakeshift cannot move:
    vector = Column("v", "vector(3)", mapped.logical)
    scope = Scope(f"test.{table}")
    assert engine.fit_warnings(scope, [vector]) == [
        f"test.{table}.v: {mapped.unsupported}; the upload refuses the table unless the column "
        "mappings drop the column"
    ]
    with pytest.raises(ConversionError, match=r"\.v: MySQL type 'vector\(3\)'.*map it to null"):
        list(engine.stream(scope, [vector], 10))


# --- connections, errors and secrets ------------------------------------------------------------


def test_a_wrong_password_fails_in_one_line_that_never_shows_it(
    server: Server, tmp_path: Path, make_project: Any
) -> None:
    good, wrong = f"Good-{secrets.token_hex(6)}", f"Wr0ng:p@ss/{secrets.token_hex(6)}"
    user = server.user(good, ["SELECT ON test.*"])
    captured: list[str] = []
    sink = logger.add(lambda message: captured.append(str(message)), level="DEBUG")  # unredacted
    try:
        meta = make_project(server.url_for(user, wrong), [{"source_table": "test.anything"}])
        with pytest.raises(ConfigError) as caught:
            analyze(load_project(meta))
        logger.error("analyze failed: {}", caught.value)
    finally:
        logger.remove(sink)
    message = str(caught.value)
    assert "\n" not in message and "access denied" in message and user in message
    everything = message + "".join(captured)
    assert "analyze failed" in everything
    for secret in (wrong, quote(wrong, safe="")):
        assert secret not in everything
    connect(server.url_for(user, good), CONFIG).close()  # the user itself works


def test_a_password_with_url_escapes_connects_and_is_redacted_decoded(server: Server) -> None:
    password = f"p@ss:w/rd%{secrets.token_hex(4)}"
    user = server.user(password, ["SELECT ON test.*"])
    engine = connect(server.url_for(user, password), CONFIG)
    try:
        assert engine.query("SELECT CURRENT_USER()")[0][0].startswith(user)
    finally:
        engine.close()
    assert password not in redact(f"the driver said {password}")


def test_connection_settings_never_show_the_password() -> None:
    settings = ConnectionSettings.from_url("mysql://u:s3cret%2Fpw@db:3307/sales?connect_timeout=5")
    assert (settings.user, settings.password, settings.port, settings.database) == (
        "u",
        "s3cret/pw",
        3307,
        "sales",
    )
    assert "s3cret" not in repr(settings) and "s3cret" not in settings.display
    with pytest.raises(ConfigError, match="connect_timeout must be a number"):
        ConnectionSettings.from_url("mysql://u:pw@db/sales?connect_timeout=soon")


def test_connection_failures_are_one_clear_line(mariadb_url: str, server: Server) -> None:
    with pytest.raises(ConfigError, match="database 'lst_no_such_db' does not exist"):
        connect(mariadb_url.rsplit("/", 1)[0] + "/lst_no_such_db", CONFIG)
    with pytest.raises(
        ConfigError, match=r"cannot connect to 127\.0\.0\.1:1 .*server running"
    ) as refused:
        connect("mysql://root:hunter2x@127.0.0.1:1/test?connect_timeout=3", CONFIG)
    assert "hunter2x" not in str(refused.value)
    with pytest.raises(ConfigError, match="unknown option 'sslmode'"):
        connect(mariadb_url + "?sslmode=require", CONFIG)
    # Name resolution is never attempted here (no network); the driver's error is mapped.
    settings = ConnectionSettings.from_url("mysql://u:topsecret@db.invalid:3306/test")
    lookup = pymysql.err.OperationalError(
        2003, "Can't connect to MySQL server on 'db.invalid' ([Errno -2] Name or service not known)"
    )
    error = connection_error(lookup, settings)
    assert isinstance(error, ConfigError) and "unknown host 'db.invalid'" in str(error)
    assert "topsecret" not in str(error)


def test_a_missing_privilege_names_the_table(server: Server) -> None:
    password = f"Pw-{secrets.token_hex(6)}"
    table = server.create("guarded", "id INT PRIMARY KEY", [(1,)])
    user = server.user(password, [f"INSERT ON test.{table}"])  # sees the table, cannot read it
    engine = connect(server.url_for(user, password), CONFIG)
    try:
        columns = engine.columns(f"test.{table}")
        with pytest.raises(TerminalError) as caught:
            list(engine.stream(Scope(f"test.{table}"), columns, 10))
    finally:
        engine.close()
    message = str(caught.value)
    assert f"test.{table}" in message and "SELECT" in message and "privilege" in message
    assert password not in message


def test_a_missing_table_is_reported_by_name_and_skipped_by_analyze(
    engine: MySQLEngine, server: Server, make_project: Any, mariadb_url: str
) -> None:
    missing = f"test.{server.prefix}ghost"
    assert not engine.table_exists(missing)
    with pytest.raises(TableMissingError, match=missing):
        engine.columns(missing)
    [outcome] = analyze(load_project(make_project(mariadb_url, [{"source_table": missing}])))
    assert outcome.status == "skipped"


def test_a_table_the_user_may_not_read_is_missing_or_unreadable_for_all_it_can_tell(
    server: Server, make_project: Any
) -> None:
    """information_schema lists only tables the user has rights on, so a table without SELECT
    looks missing: the message says it may be either."""
    password = f"Pw-{secrets.token_hex(6)}"
    readable = server.create("readable", "id INT PRIMARY KEY", [(1,)])
    hidden = server.create("hidden", "id INT PRIMARY KEY", [(1,)])
    user = server.user(password, [f"SELECT ON test.{readable}"])
    url = server.url_for(user, password)
    engine = connect(url, CONFIG)
    try:
        with pytest.raises(TableMissingError) as caught:
            engine.columns(f"test.{hidden}")
    finally:
        engine.close()
    lacks = "or the user of LAKESHIFT_SOURCE_URL lacks SELECT on it"
    assert str(caught.value).endswith(f"does not exist in the MySQL source ({lacks})")
    meta = make_project(url, [{"source_table": f"test.{hidden}"}])
    [outcome] = analyze(load_project(meta))
    assert outcome.status == "skipped"
    assert outcome.detail == f"table does not exist in the source ({lacks})"


# --- snapshots ----------------------------------------------------------------------------------


def test_reads_of_a_table_share_one_snapshot_until_the_engine_moves_on(
    engine: MySQLEngine, server: Server
) -> None:
    original = [(i, f"v{i}") for i in range(1, 501)]
    table = server.create("isolated", "id INT PRIMARY KEY, v VARCHAR(10)", original)
    scope = Scope(f"test.{table}")
    assert engine.row_count(scope) == 500  # the first question opens the snapshot
    server.execute(f"INSERT INTO {table} VALUES (1000, 'new'), (1001, 'new')")
    stream = engine.stream(scope, engine.columns(f"test.{table}"), 50)
    seen = next(stream).to_pylist()
    server.execute(f"UPDATE {table} SET v = 'changed' WHERE id IN (2, 400)")
    server.execute(f"DELETE FROM {table} WHERE id = 450")
    for batch in stream:
        seen += batch.to_pylist()
    assert seen == [{"id": i, "v": v} for i, v in original]
    assert "started" in (engine.snapshot_token() or "")
    engine.close()  # a new snapshot sees the writes
    assert engine.row_count(scope) == 501


@pytest.mark.parametrize("workers", [1, 3])
def test_every_slice_of_an_upload_reads_the_same_snapshot(
    server: Server,
    make_project: Any,
    mariadb_url: str,
    monkeypatch: pytest.MonkeyPatch,
    workers: int,
) -> None:
    """Writes made after the upload planned its slices do not leak into any slice, also when
    slices are read by several workers, each with a connection of its own."""
    rows = [(i, datetime(2024, 1 + i % 3, 1 + i % 28, 12), i * 10) for i in range(1, 301)]
    table = server.create(
        f"sliced{workers}", "id INT PRIMARY KEY, at DATETIME(6), amount INT", rows
    )
    original = MySQLEngine.stream
    writes: list[str] = []
    lock = threading.Lock()  # workers call stream at once

    def write_then_stream(
        self: MySQLEngine, scope: Scope, columns: Any, batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        with lock:
            if not writes:  # once: after the upload planned its slices, before any is read
                writes.extend(
                    [
                        f"INSERT INTO {table} VALUES (900, '2024-03-05', 1), (901, '2024-06-01', 1)",
                        f"UPDATE {table} SET amount = -1 WHERE id IN (2, 3, 297)",
                        f"DELETE FROM {table} WHERE id IN (1, 299)",
                    ]
                )
                for sql in writes:
                    server.execute(sql)
        yield from original(self, scope, columns, batch_rows)

    monkeypatch.setattr(MySQLEngine, "stream", write_then_stream)
    spec = {
        "source_table": f"test.{table}",
        "target_table": "sliced",
        "key_columns": "id",
        "date_column": "at",
    }
    project = load_project(make_project(mariadb_url, [spec], chunk_size=20))
    analyze(project)
    [outcome] = upload(project, project.output / ANALYSIS_PICKLE, workers=workers)
    assert outcome.status == "uploaded" and writes
    lake = pa.concat_tables(
        pq.read_table(p) for p in (project.output.parent / "lake").rglob("*.parquet")
    )
    assert (
        len({p.parent for p in (project.output.parent / "lake").rglob("*.parquet")}) == 3
    )  # 3 slices
    got = sorted(
        (r["id"], r["at"], r["amount"]) for r in lake.select(["id", "at", "amount"]).to_pylist()
    )
    assert got == rows
    metadata = json.loads(
        next(project.output.glob("upload_metadata_*.json")).read_text(encoding="utf-8")
    )
    assert metadata["tables"][0]["snapshot"]["kind"] == "consistent_snapshot"


def test_a_connection_dropped_mid_read_is_transient_and_the_engine_reconnects(
    engine: MySQLEngine, server: Server
) -> None:
    table = server.create("big", "id INT PRIMARY KEY, filler TEXT")
    # About 30 MB: more than the socket buffers hold, so the kill lands mid-read.
    server.execute(f"INSERT INTO {table} SELECT seq, REPEAT('x', 10000) FROM seq_1_to_3000")
    columns = engine.columns(f"test.{table}")
    own_id = engine.query("SELECT CONNECTION_ID()")[0][0]
    stream = engine.stream(Scope(f"test.{table}"), columns, 10)
    next(stream)
    server.execute(f"KILL CONNECTION {int(own_id)}")
    with pytest.raises(TransientError, match=table):
        for _ in stream:
            pass
    assert engine.row_count(Scope(f"test.{table}")) == 3000  # a new connection, a new snapshot


def test_a_query_while_a_stream_is_open_is_refused_clearly(
    engine: MySQLEngine, server: Server
) -> None:
    table = server.create("interleaved", "id INT PRIMARY KEY", [(i,) for i in range(100)])
    stream = engine.stream(Scope(f"test.{table}"), engine.columns(f"test.{table}"), 10)
    next(stream)
    with pytest.raises(TerminalError, match="being streamed"):
        engine.row_count(Scope(f"test.{table}"))
    assert sum(batch.num_rows for batch in stream) == 90  # the stream itself is unharmed


def test_a_stream_closed_early_drops_its_connection_instead_of_reading_the_rest(
    engine: MySQLEngine, server: Server
) -> None:
    table = server.create("abandoned", "id INT PRIMARY KEY")
    server.execute(f"INSERT INTO {table} SELECT seq FROM seq_1_to_20000")
    reader = engine.query("SELECT CONNECTION_ID()")[0][0]
    stream = engine.stream(Scope(f"test.{table}"), engine.columns(f"test.{table}"), 100)
    assert next(stream).num_rows == 100
    stream.close()
    assert engine.query("SELECT CONNECTION_ID()")[0][0] != reader  # dropped, not drained
    assert engine.row_count(Scope(f"test.{table}")) == 20000


def test_batches_hold_batch_rows_rows_when_made_of_several_fetches(
    engine: MySQLEngine, server: Server
) -> None:
    count = 2 * FETCH_ROWS + 5
    table = server.create("pieces", "id INT PRIMARY KEY, v VARCHAR(20)")
    server.execute(
        f"INSERT INTO {table} SELECT seq, IF(seq % 3, CONCAT('v', seq), NULL) FROM seq_1_to_{count}"
    )
    columns = engine.columns(f"test.{table}")
    batches = list(engine.stream(Scope(f"test.{table}"), columns, FETCH_ROWS + 1))
    assert [b.num_rows for b in batches] == [FETCH_ROWS + 1, FETCH_ROWS + 1, 3]
    rows = pa.Table.from_batches(batches).to_pylist()
    assert rows == [{"id": i, "v": f"v{i}" if i % 3 else None} for i in range(1, count + 1)]
    assert gc.isenabled()  # paused only while fetching


# --- values ------------------------------------------------------------------------------------


def test_a_double_with_decimals_declared_arrives_as_the_double_stored(
    engine: MySQLEngine, server: Server
) -> None:
    """DOUBLE(10,2) prints two decimals, and the double nearest '-7.44' is not the one stored
    for -7.44 (-7.4399999999999995): read bare, 1 value in 80 changed on its way to the lake."""
    table = server.create("doubles", "id INT PRIMARY KEY, x DOUBLE(10,2)")
    server.execute(
        f"INSERT INTO {table} SELECT seq, (CAST(seq AS SIGNED) - 5000) / 100 FROM seq_0_to_9999"
    )
    rows = _rows(engine, f"test.{table}")
    bits = engine.query(
        f"SELECT {engine.canonical_sql('x', LogicalType(Kind.FLOAT))} FROM {table} ORDER BY id"
    )
    assert len(rows) == 10_000
    changed = [
        r["id"]
        for r, (text,) in zip(rows, bits, strict=True)
        if canonical_value(r["x"], LogicalType(Kind.FLOAT)) != text
    ]
    assert changed == []


def test_year_2_is_refused_with_what_to_do() -> None:
    mapped = mysql_type("year(2)")
    assert mapped.unsupported and "YEAR(4)" in mapped.unsupported
    assert mysql_type("year(4)").unsupported is None


def test_the_session_sql_mode_is_pinned_whatever_the_server_default(
    mariadb_url: str, server: Server
) -> None:
    """A server whose default mode is ORACLE turns '' into NULL in REPLACE and refuses `%`;
    every statement lakeshift writes assumes one mode, which each connection sets."""
    table = server.create("modes", "id INT PRIMARY KEY, v VARCHAR(10), c CHAR(5)", [(1, "", "ab")])
    (previous,) = server.execute("SELECT @@GLOBAL.sql_mode")[0]
    server.execute("SET GLOBAL sql_mode = 'ORACLE,PAD_CHAR_TO_FULL_LENGTH'")
    try:
        pinned = connect(mariadb_url, CONFIG)
    finally:
        server.execute("SET GLOBAL sql_mode = %s", (previous,))
    try:
        string = LogicalType(Kind.STRING)
        [(text, mod)] = pinned.query(
            f"SELECT {pinned.canonical_sql('v', string)}, {pinned.mod_sql('id', 256)} FROM {table}"
        )
        assert (text, int(mod)) == ("", 1)
        assert _rows(pinned, f"test.{table}")[0]["c"] == "ab"
    finally:
        pinned.close()


def test_dates_past_the_month_end_or_in_year_0_are_warned_of_before_upload(
    engine: MySQLEngine, server: Server
) -> None:
    """ALLOW_INVALID_DATES lets '2024-02-31' in, and year 0 ('0000-01-01') is a MySQL date
    but no other engine's: analyze counts them, as the upload refuses them."""
    table = server.create("invalid", "id INT PRIMARY KEY, d DATE")
    server.execute("SET SESSION sql_mode = 'ALLOW_INVALID_DATES'")
    server.execute(
        f"INSERT INTO {table} VALUES (1, '2024-02-31'), (2, '0000-01-01'), (3, '2024-02-29')"
    )
    server.execute("SET SESSION sql_mode = DEFAULT")
    warnings = engine.fit_warnings(Scope(f"test.{table}"), engine.columns(f"test.{table}"))
    assert warnings == [
        f"test.{table}.d: 2 row(s) hold values of date that do not fit the lake's date; the "
        "upload refuses them: zero or invalid dates such as '0000-01-01'; exclude them with the "
        f"inventory's `where` (e.g. `{dated_rows_where('d')}`) or repair them in the source"
    ]


def test_zero_dates_fail_their_column_clearly(
    engine: MySQLEngine, server: Server, make_project: Any, mariadb_url: str
) -> None:
    table = server.create("zeros", "id INT PRIMARY KEY, d DATE, at DATETIME")
    server.execute("SET SESSION sql_mode = ''")  # how zero dates get in
    server.execute(
        f"INSERT INTO {table} VALUES (1, '2024-01-05', '2024-01-05 10:00:00'), "
        "(2, '0000-00-00', '2024-01-06 00:00:00'), (3, '2024-02-01', '2024-03-00 00:00:00')"
    )
    server.execute("SET SESSION sql_mode = DEFAULT")
    with pytest.raises(
        ConversionError, match=r"\.d: '0000-00-00' is a zero or invalid date.*where"
    ):
        _rows(engine, f"test.{table}")
    warnings = engine.fit_warnings(Scope(f"test.{table}"), engine.columns(f"test.{table}"))
    assert [w.split("; the upload refuses them: ")[0] for w in warnings] == [
        f"test.{table}.d: 1 row(s) hold values of date that do not fit the lake's date",
        f"test.{table}.at: 1 row(s) hold values of datetime that do not fit the lake's timestamp",
    ]
    assert "such as '2024-03-00 00:00:00'" in warnings[1]
    engine.close()
    spec = {
        "source_table": f"test.{table}",
        "target_table": "zeros",
        "key_columns": "id",
        "date_column": "at",
    }
    project = load_project(make_project(mariadb_url, [spec]))
    analyze(project)
    [outcome] = upload(project, project.output / ANALYSIS_PICKLE)
    assert outcome.status == "failed"
    assert f"test.{table}.at" in outcome.detail and "2024-03-00" in outcome.detail
    # the `where` the message suggests keeps the whole dates and the NULLs, nothing else
    assert dated_rows_where("at") in outcome.detail
    server.execute(f"INSERT INTO {table} VALUES (4, NULL, NULL)")
    keep = f"({dated_rows_where('d')}) AND ({dated_rows_where('at')})"
    project = load_project(make_project(mariadb_url, [{**spec, "where": keep}]))
    analyze(project)
    [outcome] = upload(project, project.output / ANALYSIS_PICKLE)
    assert outcome.status == "uploaded", outcome.detail
    latest = sorted(project.output.glob("upload_metadata_*.json"))[-1]
    [entry] = json.loads(latest.read_text(encoding="utf-8"))["tables"]
    assert entry["rows"] == 2  # ids 1 and 4


LITERALS = [
    "plain",
    "it's",
    "back\\slash",
    "\\N",
    "nul\x00byte",
    "new\nline\r",
    "\x1a",
    "%Y %s %%",
    "😀|é",
]


@pytest.mark.parametrize("sql_mode", ["DEFAULT", "CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')"])
def test_string_literals_mean_exactly_their_value(engine: MySQLEngine, sql_mode: str) -> None:
    engine.query(f"SET SESSION sql_mode = {sql_mode}")
    selects = ", ".join(engine.string_literal(value) for value in LITERALS)
    assert list(engine.query(f"SELECT {selects}")[0]) == LITERALS
    string = LogicalType(Kind.STRING)
    texts = ", ".join(
        engine.canonical_sql(engine.string_literal(value), string) for value in LITERALS
    )
    assert list(engine.query(f"SELECT {texts}")[0]) == [
        canonical_value(v, string) for v in LITERALS
    ]


def test_hash60_is_the_first_60_bits_of_md5_of_the_utf8_text(engine: MySQLEngine) -> None:
    texts = ["", "a|b", "\\N", "Zürich 東京 😀", "x" * 5000]
    selects = ", ".join(engine.hash60_sql(engine.string_literal(t)) for t in texts)
    assert list(engine.query(f"SELECT {selects}")[0]) == [hash60(t) for t in texts]


def test_timestamps_are_read_in_utc_whatever_the_session_time_zone(
    engine: MySQLEngine, server: Server
) -> None:
    table = server.create("zoned", "id INT PRIMARY KEY, ts TIMESTAMP(6) NULL, dt DATETIME(6)")
    server.execute("SET time_zone = '+05:30'")
    server.execute(
        f"INSERT INTO {table} VALUES (1, '2024-03-10 05:30:00.000001', '2024-03-10 05:30:00.000001')"
    )
    server.execute("SET time_zone = SYSTEM")
    engine.query("SET time_zone = '-08:00'")  # as a user's init or filter might
    [row] = _rows(engine, f"test.{table}")
    assert row["ts"] == datetime(2024, 3, 10, 0, 0, 0, 1, tzinfo=UTC)
    assert row["dt"] == datetime(2024, 3, 10, 5, 30, 0, 1)  # DATETIME has no zone: as written
    [column] = [c for c in engine.columns(f"test.{table}") if c.name == "ts"]
    assert engine.period_counts(Scope(f"test.{table}"), column, Period.DAY) == {"2024-03-10": 1}


@pytest.mark.parametrize("period", list(Period))
def test_period_ranges_select_exactly_the_rows_of_each_period(
    engine: MySQLEngine, server: Server, period: Period
) -> None:
    moments = [
        datetime(2023, 12, 31, 23, 59, 59, 999999),
        datetime(2024, 1, 1),
        datetime(2024, 2, 29, 12),
        datetime(2024, 12, 31, 23, 59, 59, 999999),
        datetime(9999, 12, 31, 23, 59, 59, 999999),
    ]
    table = server.create(
        f"periods_{period.value}",
        "id INT PRIMARY KEY, at DATETIME(6), d DATE",
        [(i, m, m.date()) for i, m in enumerate(moments)] + [(99, None, None)],
    )
    scope = Scope(f"test.{table}", period=period)
    for column in [c for c in engine.columns(f"test.{table}") if c.name != "id"]:
        counts = engine.period_counts(scope, column, period)
        assert sum(counts.values()) == len(moments) + 1
        for value, rows in counts.items():
            only = Scope(
                scope.table, period_column=column, period=period, only_periods=frozenset({value})
            )
            assert engine.row_count(only) == rows, (column.name, value)


def test_text_statistics_count_and_order_by_code_point_not_by_collation(
    engine: MySQLEngine, server: Server
) -> None:
    values = ["a", "A", "a ", "b", "é", "😀", "Z", "a\t", ""]
    table = server.create(
        "collation",
        "id INT PRIMARY KEY, v VARCHAR(10) COLLATE utf8mb4_general_ci",
        [(i, v) for i, v in enumerate(values)],
    )
    column = Column("v", "varchar(10)", LogicalType(Kind.STRING))
    stats = engine.column_stats(Scope(f"test.{table}"), [column], [column.logical])["v"]
    assert (stats.min, stats.max, stats.distinct) == (min(values), max(values), len(set(values)))
    assert (stats.min_length, stats.max_length) == (0, 2)


def test_decimal_beyond_38_digits_is_read_exactly_as_decimal256(
    engine: MySQLEngine, server: Server
) -> None:
    values = [
        Decimal("12345678901234567890123456789012345.123456789012345678901234567890"),
        Decimal("-0.000000000000000000000000000001"),
    ]
    table = server.create("wide", "id INT PRIMARY KEY, d DECIMAL(65,30)", list(enumerate(values)))
    assert [r["d"] for r in _rows(engine, f"test.{table}")] == values
    columns = engine.columns(f"test.{table}")
    assert columns[1].logical.to_arrow() == pa.decimal256(65, 30)
    [warning] = engine.fit_warnings(Scope(f"test.{table}"), columns)
    assert warning.startswith(
        f"test.{table}.d: decimal(65,30) is the lake's decimal(65,30), wider than 38 digits"
    )


def test_a_decimal_wider_than_the_lake_compares_is_named_and_the_rest_is_verified(
    server: Server, make_project: Any, mariadb_url: str
) -> None:
    """DuckDB compares decimals of up to 38 digits: a DECIMAL(40,2) column, uploaded exactly,
    fails the schema level by name, and every other column is still compared."""
    rows = [(1, Decimal("12345678901234567890123456789012345678.12"), "a"), (2, None, "b")]
    table = server.create("widecols", "id INT PRIMARY KEY, d DECIMAL(40,2), v VARCHAR(5)", rows)
    project = load_project(
        make_project(mariadb_url, [{"source_table": f"test.{table}", "target_table": "wide"}])
    )
    assert {o.status for o in run_pipeline(project, PartitionStrategy.NONE)} == {"mismatch"}
    stats = json.loads((project.output / "wide_stats_comparison.json").read_text())
    assert [c["column"] for c in stats["columns"]] == ["id", "v"]
    assert all(c["match"] for c in stats["columns"])
    assert any(
        "d: decimal(40,2) is wider than DuckDB compares" in t for t in stats["type_mismatches"]
    )
    alignment = json.loads((project.output / "data_alignment_results.json").read_text())
    [wide] = alignment["tables"]
    assert wide["levels"] == {"schema": False, "counts": True, "statistics": True, "values": True}
    assert wide["columns_compared"] == ["id", "v"] and wide["rows_compared"] == 2


def test_date_values_before_1970_and_after_2038_arrive_as_written(
    engine: MySQLEngine, server: Server
) -> None:
    days = [date(1000, 1, 1), date(1969, 12, 31), date(2038, 1, 20), date(9999, 12, 31)]
    table = server.create("days", "id INT PRIMARY KEY, d DATE", list(enumerate(days)))
    assert [r["d"] for r in _rows(engine, f"test.{table}", batch_rows=1)] == days


def test_one_exact_sum_equals_the_two_half_sums_beyond_64_bits(
    engine: MySQLEngine, server: Server
) -> None:
    """SUM of the row hash is DECIMAL on MySQL: one exact sum, the same as two half sums."""
    rows = [(i, f"row {i}") for i in range(1, 201)]
    table = server.create("checksum", "id BIGINT PRIMARY KEY, label VARCHAR(20)", rows)
    columns = (
        Column("id", "bigint", LogicalType(Kind.INTEGER)),
        Column("label", "varchar(20)", LogicalType(Kind.STRING)),
    )
    plan = RowPlan(columns, tuple(c.logical for c in columns), key=(0,), buckets=1)
    assert engine.capabilities.exact_bigint_sum
    exact = list(engine.bucket_checksums(Scope(table), plan))
    engine.capabilities = dataclasses.replace(engine.capabilities, exact_bigint_sum=False)
    halves = list(engine.bucket_checksums(Scope(table), plan))
    reference = sum(hash60(join_canonical([str(i), label])) for i, label in rows)
    assert reference >= 2**64, "the test must cross 64 bits to prove the sum exact"
    assert exact == halves == [(None, 0, GroupSum(len(rows), reference))]
