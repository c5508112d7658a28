"""MySQL and MariaDB as a source, through mysqlclient (MySQLdb, over the C client library).

- Reads: each table is read inside one `START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY`
  at REPEATABLE READ, opened by the first question about the table and kept until the engine
  turns to another table, so the period counts that plan an upload and every slice it streams see
  the same state. The token records the binary log position of the snapshot (MariaDB), or the
  GTID set (MySQL), and the server's UTC clock when the snapshot started.
- The session time zone is UTC: TIMESTAMP values (stored in UTC) are read, rendered and compared
  in UTC whatever the server's or user's default, and DST never makes a value ambiguous.
- Extraction streams an unbuffered result (`use_result`) on the snapshot's own connection:
  memory is bounded by the batch, never the table. The driver converts nothing there: each value
  arrives as the text protocol's bytes and Arrow's casts turn a batch's columns into their types
  (`mysql_types.text_to_arrow_array`), several times faster than a Python object per value.
- Text is compared, sorted and counted as UTF-8 bytes: MySQL collations fold case and ignore
  trailing spaces, the canonical text does not (`mysql_sql.ordered_text_sql`).

Connection settings and errors are in `mysql_session`, types in `mysql_types`, SQL text in
`mysql_sql` and `mysql_float`; `docs/engines/mysql.md` has the type matrix.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

import MySQLdb
import pyarrow as pa
from loguru import logger

from lakeshift.config import MigrationConfig
from lakeshift.engines import mysql_sql
from lakeshift.engines.base import (
    Capabilities,
    Column,
    ColumnStats,
    Scope,
    SourceEngine,
    SqlEngine,
    refused_warning,
    stats_from_row,
    unsupported_warning,
)
from lakeshift.engines.mysql_session import (
    PRIVILEGE_CODES,
    TRANSIENT_CODES,
    ConnectionSettings,
    connection_error,
    error_code,
    error_message,
)
from lakeshift.engines.mysql_types import dated_rows_where, mysql_type, text_to_arrow_array
from lakeshift.errors import (
    ConfigError,
    ConversionError,
    LakeshiftError,
    TableMissingError,
    TerminalError,
    TransientError,
)
from lakeshift.inventory import Period, period_bounds
from lakeshift.types import Kind, LogicalType

CAPABILITIES = Capabilities(
    name="MySQL/MariaDB",
    snapshot="consistent_snapshot",
    timestamp_precision="microsecond",
    max_identifier_length=64,
    # SUM of integers is DECIMAL, exact. The two half sums cost twice as much: the server merges
    # the per-row CTE into the aggregate and hashes each row once per SUM (6.0 s against 3.2 s
    # for 1M rows).
    exact_bigint_sum=True,
    hides_unreadable_tables=True,  # information_schema lists only tables the user has rights on
)

FETCH_ROWS = 4096  # rows fetched and converted at once; a batch is made of such pieces
# Seconds the server waits for a question's streaming reader (net_write_timeout, 60 by default)
# before it drops the connection: one side of a diff pauses while the other catches up, as long
# as the other takes to send its first group (the whole scan, where it sorts).
STREAM_WRITE_TIMEOUT = 86_400
SNAPSHOT_ENGINES = frozenset({"innodb", "rocksdb"})  # engines with MVCC snapshots

# MySQL cannot share a snapshot between connections. The engine holding a table's snapshot is
# published here, so the other engines of this process (upload's workers) read that table through
# its connection, one slice after another, instead of from snapshots of their own.
_holders: dict[tuple[Any, ...], MySQLEngine] = {}
_holders_lock = threading.Lock()


@dataclass
class Snapshot:
    table: str
    token: str


class MySQLEngine(SqlEngine, SourceEngine):
    capabilities = CAPABILITIES
    streams_rows = True

    def __init__(self, settings: ConnectionSettings):
        self.settings = settings
        self._connection: MySQLdb.Connection | None = None
        self._sql_mode: str | None = None  # the session's, read when a literal needs it
        self._snapshot: Snapshot | None = None
        self._checked_periods: set[tuple[str, str]] = set()
        self._streaming: str | None = None  # the table whose unbuffered result is being read
        self._server_thread = 0  # the connection's id on the server, for KILL QUERY
        self._lock = threading.RLock()  # one user of the connection at a time (upload workers)
        self._connect()

    def __repr__(self) -> str:
        return f"MySQLEngine({self.settings.display})"

    # --- connection ------------------------------------------------------------------------
    def _connect(self) -> MySQLdb.Connection:
        connection = self._open()
        # Read now: mysqlclient refuses a connection busy in another thread, as when interrupted.
        self._server_thread = int(connection.thread_id())
        self._connection, self._sql_mode = connection, None
        return connection

    def _open(self) -> MySQLdb.Connection:
        """A new connection with the session settings every query relies on."""
        settings = self.settings
        try:
            connection = MySQLdb.connect(
                host=settings.host,
                port=settings.port,
                user=settings.user,
                password=settings.password,
                database=settings.database or "",
                charset="utf8mb4",
                autocommit=True,
                local_infile=False,
                multi_statements=False,  # one statement per query, as the SQL is built
                **settings.driver_options(),
            )
            with connection.cursor() as cursor:
                # UTC: TIMESTAMPs read and render in UTC, unambiguous across DST changes.
                cursor.execute("SET time_zone = '+00:00'")
                # The server's default mode may change what SQL means (ORACLE turns '' into NULL
                # and `%` into an error; PAD_CHAR_TO_FULL_LENGTH pads CHAR values): every
                # statement is written for this one.
                cursor.execute("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'")
                cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        except MySQLdb.MySQLError as error:
            raise connection_error(error, settings) from None
        except OSError as error:  # raised before the protocol starts (e.g. a bad unix socket)
            raise ConfigError(f"source {settings.display}: cannot connect: {error}") from None
        return connection

    @property
    def _backslash_escapes(self) -> bool:
        """False under sql_mode NO_BACKSLASH_ESCAPES. The mode is read from the session when a
        literal first needs it and again after any statement other than SELECT or SHOW (which
        could be a `SET sql_mode`): mysqlclient does not expose the status flag the server sends
        with every reply."""
        return "NO_BACKSLASH_ESCAPES" not in self._session_sql_mode().upper().split(",")

    def _session_sql_mode(self) -> str:
        with self._lock:
            if self._sql_mode is None:
                self._sql_mode = str(self.query("SELECT @@SESSION.sql_mode")[0][0])
            return self._sql_mode

    def _live(self) -> MySQLdb.Connection:
        return self._connection if self._connection is not None else self._connect()

    def _drop_connection(self) -> None:
        """Forget a connection that failed or holds an unread result; the next use reconnects."""
        self._withdraw()
        if self._connection is not None:
            with suppress(MySQLdb.MySQLError):  # already gone
                self._connection.close()
        self._connection, self._snapshot, self._sql_mode = None, None, None

    def _fail(self, error: Exception) -> NoReturn:
        code = error_code(error)
        table = f"{self._snapshot.table}: " if self._snapshot else ""
        if code in TRANSIENT_CODES or isinstance(error, MySQLdb.InterfaceError):
            self._drop_connection()
            raise TransientError(
                f"{table}MySQL connection lost or conflicted ({code}): {error_message(error)}"
            )
        if code in PRIVILEGE_CODES:
            raise TerminalError(
                f"{table}the MySQL user {self.settings.user!r} lacks a privilege: "
                f"{error_message(error)}; grant SELECT on the table"
            )
        raise TerminalError(f"{table}MySQL query failed ({code}): {error_message(error)}")

    def _refuse_while_streaming(self) -> None:
        if self._streaming is not None:
            raise TerminalError(
                f"{self._streaming}: a query was issued while the table is being streamed; "
                "finish or close the stream first (one connection holds the snapshot)"
            )

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            self._refuse_while_streaming()
            if not sql.lstrip()[:6].upper().startswith(("SELECT", "SHOW")):
                self._sql_mode = None  # a SET may change it
            try:
                with self._live().cursor() as cursor:
                    # Without parameters the driver must not %-format: DATE_FORMAT's '%Y' would break.
                    cursor.execute(sql, tuple(parameters) if parameters else None)
                    return list(cursor.fetchall())
            except (MySQLdb.MySQLError, OSError) as error:
                self._fail(error)

    def query_stream(self, sql: str) -> Iterator[tuple[Any, ...]]:
        """Rows of a SELECT through an unbuffered result, never held whole. The connection is
        this stream's until it ends (other threads wait; this one gets an error). The server's
        wait for a paused reader is raised to `STREAM_WRITE_TIMEOUT` meanwhile."""
        with self._lock:
            self._refuse_while_streaming()
            timeout = "net_write_timeout"
            [(previous,)] = self.query(f"SELECT @@SESSION.{timeout}")
            self.query(f"SET SESSION {timeout} = {STREAM_WRITE_TIMEOUT}")
            self._session_sql_mode()  # known before the stream: no query can run during it
            connection = self._live()
            result = None
            try:
                result = self._unbuffered(connection, sql, convert=True)
                self._streaming = self._snapshot.table if self._snapshot else "a question"
                while rows := self._fetch(result, FETCH_ROWS):
                    yield from rows
                result = None
            finally:
                self._streaming = None
                if result is not None:  # closed or failed under an unread result
                    self._drop_connection()
            self.query(f"SET SESSION {timeout} = {int(previous)}")

    def interrupt(self) -> None:
        """Stop the running question with KILL QUERY, sent on a connection of its own (the
        engine's is busy); it then fails as interrupted. A KILL reaching an idle connection
        stops nothing: the next statement clears it."""
        if self._connection is None:
            return
        running = self._server_thread
        try:
            killer = self._open()
        except (MySQLdb.MySQLError, LakeshiftError) as error:
            logger.debug("{}: cannot interrupt: {}", self.settings.display, error)
            return
        try:
            with killer.cursor() as cursor:
                cursor.execute(f"KILL QUERY {running}")
        except MySQLdb.MySQLError as error:  # the question may have ended, its thread too
            logger.debug("{}: KILL QUERY {}: {}", self.settings.display, running, error)
        finally:
            killer.close()

    def close(self) -> None:
        with self._lock:
            self._withdraw()
            if self._connection is not None and self._snapshot is not None:
                with suppress(MySQLdb.MySQLError):
                    self._connection.commit()  # ends the read-only snapshot transaction
            self._drop_connection()

    # --- snapshot ----------------------------------------------------------------------------
    def _read_snapshot(self, table: str) -> None:
        """Open a consistent snapshot for `table` unless its reads already use one.

        The open transaction holds a metadata lock on the tables it read: DDL on them waits
        until the engine turns to another table or closes (as with mysqldump --single-transaction).
        """
        table = ".".join(self._split(table))
        if self._snapshot is not None and self._snapshot.table == table:
            return
        if self._snapshot is not None:
            self._withdraw()
            self.query("COMMIT")
            self._snapshot = None
        # Again: a `where` filter or a caller may have changed the session's zone since.
        self.query("SET time_zone = '+00:00'")
        self.query("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        self._snapshot = Snapshot(table, self._snapshot_token(table))
        self._checked_periods.clear()
        with _holders_lock:
            _holders.setdefault(self._holder_key(table), self)
        logger.debug("{}: consistent snapshot {}", table, self._snapshot.token)

    def _holder_key(self, table: str) -> tuple[Any, ...]:
        settings = self.settings
        return (settings.host, settings.port, settings.user, settings.database, table)

    def _withdraw(self) -> None:
        """No longer offer this engine's snapshot to the other engines of the process."""
        if self._snapshot is not None:
            with _holders_lock:
                key = self._holder_key(self._snapshot.table)
                if _holders.get(key) is self:
                    del _holders[key]

    def _holder(self, table: str) -> MySQLEngine | None:
        """Another engine of this process that holds a snapshot of `table`, if one does."""
        with _holders_lock:
            holder = _holders.get(self._holder_key(".".join(self._split(table))))
        return holder if holder is not self else None

    def _snapshot_token(self, table: str) -> str:
        status = dict(self.query("SHOW STATUS LIKE 'binlog_snapshot_%'"))
        started = self.query("SELECT UTC_TIMESTAMP(6)")[0][0]
        parts = []
        if status.get("Binlog_snapshot_file"):
            parts.append(
                f"binlog {status['Binlog_snapshot_file']}:{status['Binlog_snapshot_position']}"
            )
        else:
            gtid = self._gtid_executed()
            parts.append(f"gtid {gtid}" if gtid else "binary log off")
        parts.append(f"started {started.isoformat()}Z")
        engine = self._storage_engine(table)
        if engine is not None and engine.lower() not in SNAPSHOT_ENGINES:
            logger.warning(
                "{}: storage engine {} has no snapshots; rows changed during the read "
                "may or may not be included",
                table,
                engine,
            )
            parts.append(f"not isolated: {engine} table")
        return ", ".join(parts)

    def _gtid_executed(self) -> str | None:
        """MySQL's GTID set (read right after the snapshot opened); MariaDB has none here."""
        try:
            with self._live().cursor() as cursor:
                cursor.execute("SELECT @@global.gtid_executed")
                value = cursor.fetchone()
        except MySQLdb.MySQLError:
            return None
        return str(value[0]) if value and value[0] else None

    def _storage_engine(self, table: str) -> str | None:
        schema, name = self._split(table)
        rows = self.query(
            "SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
            (schema, name),
        )
        return str(rows[0][0]) if rows and rows[0][0] else None

    def snapshot_token(self) -> str | None:
        return self._snapshot.token if self._snapshot else None

    # --- fragments -----------------------------------------------------------------------------
    def quote(self, identifier: str) -> str:
        return mysql_sql.quote(identifier)

    def table_sql(self, table: str) -> str:
        """The table's name; every query about a table is built through here, so it also opens
        the table's snapshot."""
        self._read_snapshot(table)
        return ".".join(self.quote(part) for part in self._split(table))

    def div_sql(self, expression: str, divisor: int) -> str:
        return f"(({expression}) DIV {divisor})"  # `/` divides integers into a DECIMAL

    def canonical_sql(self, expression: str, logical: LogicalType) -> str:
        if logical.kind is Kind.TIMESTAMP:
            expression = self.at_common_precision(expression)
        return mysql_sql.canonical_sql(expression, logical, self._backslash_escapes)

    def round_to_millisecond_sql(self, expression: str) -> str:
        return mysql_sql.round_to_millisecond_sql(expression)

    def hash60_sql(self, text_expression: str) -> str:
        return mysql_sql.hash60_sql(text_expression)

    def period_sql(self, expression: str, logical: LogicalType, period: Period) -> str:
        if logical.kind is Kind.TIMESTAMP:
            expression = self.at_common_precision(expression)
        return mysql_sql.period_sql(expression, period)

    def period_predicate(self, column: Column, period: Period, value: str | None) -> str:
        """A range on the column, which MySQL can answer from an index on it.

        Rows holding zero or partial dates ('2024-03-00') fall outside every range; `stream`
        refuses a table's period slices when its date column holds any (`_check_period_dates`).
        """
        bounds = period_bounds(value, period) if value is not None else None
        if bounds is None or self.rounds(column.logical):
            return super().period_predicate(column, period, value)
        name = self.quote(column.name)
        low, high = (self.string_literal(bound.isoformat()) for bound in bounds)
        return f"({name} >= {low} AND {name} < {high})"

    def timestamp_literal(self, value: datetime) -> str:
        return mysql_sql.timestamp_literal(value)

    def concat_sql(self, parts: Sequence[str]) -> str:
        return mysql_sql.concat_sql(list(parts))

    def string_literal(self, value: str) -> str:
        return mysql_sql.string_literal(value, self._backslash_escapes)

    def length_sql(self, expression: str) -> str:
        return f"CHAR_LENGTH({expression})"

    # --- statistics ----------------------------------------------------------------------------
    def column_stats(
        self, scope: Scope, columns: Sequence[Column], types: Sequence[LogicalType]
    ) -> dict[str, ColumnStats]:
        """The shared statistics, computed on what was read (FLOAT widened, BIT as a number) and
        with text as UTF-8 bytes for MIN, MAX and COUNT(DISTINCT), so that MySQL's collations
        (case- and trailing-space-insensitive) count and order as DuckDB and the canonical text.

        The aggregates are computed in a derived table and rendered outside it: MySQL evaluates
        each textual copy of `MIN(x)` inside a canonical expression as its own aggregate."""
        inner, outer = ["COUNT(*) AS n"], ["n"]
        for index, (column, logical) in enumerate(zip(columns, types, strict=True)):
            aggregates, rendered = self._stat_selects(column, logical, f"c{index}_")
            inner += aggregates
            outer += rendered
        source = f"{self.table_sql(scope.table)}{self.where_sql(scope)}"
        row = self.query(
            f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM {source}) AS s"
        )[0]
        return stats_from_row(row, columns, types)

    def stat_value_sql(self, column: Column) -> str:
        """The value as read: FLOAT widened, BIT as a number, TIME and UUID as text."""
        return read_sql(column)

    def _stat_selects(
        self, column: Column, logical: LogicalType, prefix: str
    ) -> tuple[list[str], list[str]]:
        """(aggregates named `prefix...`, the seven statistics rendered from those names)."""
        value = self.stat_value_sql(column)
        is_text = logical.kind is Kind.STRING
        ordered = mysql_sql.ordered_text_sql(value) if is_text else value
        aggregates = {
            "count": f"COUNT({value})",
            "distinct": f"COUNT(DISTINCT {self.distinct_sql(ordered, logical)})",
            "min": f"MIN({ordered})",
            "max": f"MAX({ordered})",
            "sum": self.sum_sql(value, logical) if logical.is_numeric else "NULL",
            "short": f"MIN({self.length_sql(value)})" if is_text else "NULL",
            "long": f"MAX({self.length_sql(value)})" if is_text else "NULL",
        }
        rendered = [
            self.canonical_sql(prefix + name, logical) if name in ("min", "max") else prefix + name
            for name in aggregates
        ]
        return [f"{sql} AS {prefix}{name}" for name, sql in aggregates.items()], rendered

    # --- metadata ------------------------------------------------------------------------------
    def _split(self, table: str) -> tuple[str, str]:
        schema, _, name = table.rpartition(".")
        if not schema and not self.settings.database:
            raise ConfigError(
                f"{table}: name the database (database.table); the source URL has none"
            )
        return schema or str(self.settings.database), name

    def table_exists(self, table: str) -> bool:
        schema, name = self._split(table)
        rows = self.query(
            "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
            (schema, name),
        )
        return bool(rows)

    def columns(self, table: str) -> list[Column]:
        schema, name = self._split(table)
        rows = self.query(
            "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
            (schema, name),
        )
        if not rows:
            raise TableMissingError(f"{schema}.{name}", "MySQL source", maybe_unreadable=True)
        columns = []
        for column_name, column_type, nullable in rows:
            native = _text(column_type)
            mapped = mysql_type(native)
            if mapped.unsupported:
                logger.warning("{}.{}.{}: {}", schema, name, _text(column_name), mapped.unsupported)
            columns.append(
                Column(_text(column_name), native, mapped.logical, _text(nullable) == "YES")
            )
        return columns

    def primary_key(self, table: str) -> list[str]:
        schema, name = self._split(table)
        rows = self.query(
            "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = %s "
            "AND TABLE_NAME = %s AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION",
            (schema, name),
        )
        return [_text(row[0]) for row in rows]

    # --- extraction ---------------------------------------------------------------------------
    def stream(
        self, scope: Scope, columns: Sequence[Column], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        """Rows of `scope` through an unbuffered cursor, `batch_rows` at a time, in the table's
        snapshot; every value converted exactly or the column fails naming the value.

        When another engine of this process holds the table's snapshot (upload's workers each
        have an engine), the rows are read through that engine, so every slice sees one state.
        """
        self.require_supported(scope.table, columns)
        holder = self._holder(scope.table)
        if holder is not None:
            logger.debug("{}: read in the snapshot another connection holds", scope.table)
            yield from holder._stream_own(scope, columns, batch_rows)
        else:
            yield from self._stream_own(scope, columns, batch_rows)

    def _stream_own(
        self, scope: Scope, columns: Sequence[Column], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        with self._lock:  # held until the stream ends: other threads wait their turn
            source = self.table_sql(scope.table)
            self._check_period_dates(scope)
            select = ", ".join(read_sql(column) for column in columns)
            sql = f"SELECT {select} FROM {source}{self.where_sql(scope)}"
            schema = pa.schema([pa.field(c.name, c.logical.to_arrow()) for c in columns])
            table = ".".join(self._split(scope.table))
            self._session_sql_mode()  # known before the stream: no query can run during it
            connection = self._live()
            result = None
            try:
                result = self._unbuffered(connection, sql)
                self._streaming = table
                while (
                    batch := self._next_batch(result, batch_rows, columns, table, schema)
                ) is not None:
                    yield batch
                result = None  # read to its end: the connection is ready for the next query
            finally:
                self._streaming = None
                if result is not None:
                    # Closed under an unread result: freeing the result first would read the
                    # rest of the table; closed first, the client library skips nothing.
                    self._drop_connection()
                    result = None

    def require_supported(self, table: str, columns: Iterable[Column]) -> None:
        for column in columns:
            reason = mysql_type(column.native_type).unsupported
            if reason:
                raise ConversionError(
                    table, column.name, f"{reason}; map it to null in column_mappings.json"
                )

    def fit_warnings(self, scope: Scope, columns: Sequence[Column]) -> list[str]:
        """Lines about columns the lake cannot take as they are (one scan for the dates):
        unsupported types, decimals wider than 38 digits, zero or invalid dates (which the
        upload refuses by `_zero_dates`' rule, the one its period slices check)."""
        warnings = []
        for column in columns:
            reason = mysql_type(column.native_type).unsupported
            if reason:
                warnings.append(unsupported_warning(scope.table, column, reason))
            elif column.logical.kind is Kind.DECIMAL and (column.logical.precision or 0) > 38:
                warnings.append(
                    f"{scope.table}.{column.name}: {column.native_type} is the lake's "
                    f"{column.logical}, wider than 38 digits; Parquet keeps it exactly "
                    "(decimal256), but lake engines limited to 38 digits (DuckDB, Athena) cannot "
                    "read it exactly, and a Glue catalog refuses the table"
                )
        dated = [c for c in columns if c.logical.kind in (Kind.DATE, Kind.TIMESTAMP)]
        for column, count, example in self._zero_dates(scope, dated):
            advice = (
                f"zero or invalid dates such as {example!r}; exclude them with the inventory's "
                f"`where` (e.g. `{dated_rows_where(column.name)}`) or repair them in the source"
            )
            warnings.append(refused_warning(scope.table, column, count, advice))
        return warnings

    def _zero_dates(
        self, scope: Scope, columns: Sequence[Column]
    ) -> list[tuple[Column, int, str | None]]:
        """(column, rows, an example) for each date column holding dates no date type holds:
        '0000-00-00', '2024-03-00', year 0 ('0000-01-01') and, under ALLOW_INVALID_DATES, days
        past the month's end ('2024-02-31')."""
        if not columns:
            return []
        selects = []
        for column in columns:
            name = self.quote(column.name)
            zero = (
                f"(MONTH({name}) = 0 OR DAYOFMONTH({name}) = 0 OR YEAR({name}) = 0 "
                f"OR DAYOFMONTH({name}) > DAYOFMONTH(LAST_DAY({name})))"
            )
            selects += [f"SUM({zero})", f"MIN(IF({zero}, CAST({name} AS CHAR), NULL))"]
        sql = (
            f"SELECT {', '.join(selects)} FROM {self.table_sql(scope.table)}{self.where_sql(scope)}"
        )
        row = self.query(sql)[0]
        found = [(c, int(row[2 * i] or 0), row[2 * i + 1]) for i, c in enumerate(columns)]
        return [item for item in found if item[1]]

    def _unbuffered(self, connection: MySQLdb.Connection, sql: str, convert: bool = False) -> Any:
        """Run `sql` and return its unbuffered result, whose rows hold the bytes the server sent
        (no converters: `text_to_arrow_array` converts whole columns), or Python values when
        `convert`."""
        try:
            connection.query(sql.encode(connection.encoding))
            if convert:
                return connection.use_result()
            converters = connection.converter
            connection.converter = {}  # taken by the result as it is made
            try:
                return connection.use_result()
            finally:
                connection.converter = converters
        except (MySQLdb.MySQLError, OSError) as error:
            self._fail(error)

    def _next_batch(
        self,
        result: Any,
        batch_rows: int,
        columns: Sequence[Column],
        table: str,
        schema: pa.Schema,
    ) -> pa.RecordBatch | None:
        """The next `batch_rows` rows as a record batch, or None at the end.

        Rows are fetched and converted `FETCH_ROWS` at a time, so the driver's Python objects
        (a tuple per row, bytes per value) never outnumber those of one such piece. The cyclic
        garbage collector is paused meanwhile: the collections that many new tuples trigger (full
        ones included, over every object of the process) took about as long as the fetch
        itself. Nothing made here forms a cycle."""
        pieces: list[list[pa.Array]] = []
        fetched = 0
        enabled = gc.isenabled()
        gc.disable()
        try:
            while fetched < batch_rows:
                rows = self._fetch(result, min(batch_rows - fetched, FETCH_ROWS))
                if not rows:
                    break
                fetched += len(rows)
                pieces.append(
                    [
                        text_to_arrow_array(values, column.logical, table, column.name)
                        for values, column in zip(zip(*rows, strict=True), columns, strict=True)
                    ]
                )
                del rows
        finally:
            if enabled:
                gc.enable()
        if not pieces:
            return None
        arrays = [pa.concat_arrays(parts) for parts in zip(*pieces, strict=True)]
        return pa.RecordBatch.from_arrays(arrays, schema=schema)

    def _fetch(self, result: Any, batch_rows: int) -> tuple[tuple[bytes | None, ...], ...]:
        try:
            rows: tuple[tuple[bytes | None, ...], ...] = result.fetch_row(batch_rows)
        except (MySQLdb.MySQLError, OSError) as error:
            self._fail(error)
        return rows

    def _check_period_dates(self, scope: Scope) -> None:
        """Refuse a period slice of a date column holding zero or partial dates, once per snapshot.

        Such rows ('0000-00-00', '2024-03-00') fall outside every period range; reading the
        slices would leave them out without a word.
        """
        column = scope.period_column
        if scope.only_periods is None or column is None:
            return
        if (scope.table, column.name) in self._checked_periods:
            return
        whole = Scope(scope.table, where=scope.where)
        for _, count, example in self._zero_dates(whole, [column]):
            raise ConversionError(
                ".".join(self._split(scope.table)),
                column.name,
                f"{count} row(s) hold zero or partial dates such as {example!r}, which no date "
                "type holds; exclude them with the inventory's `where` (e.g. "
                f"`{dated_rows_where(column.name)}`) or repair them in the source",
            )
        self._checked_periods.add((scope.table, column.name))


def read_sql(column: Column) -> str:
    """The SQL that reads `column` as its logical type (see `mysql_types`)."""
    return mysql_type(column.native_type).read.format(mysql_sql.quote(column.name))


def _text(value: Any) -> str:
    """information_schema values, which some servers return as bytes."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def connect(url: str, config: MigrationConfig) -> MySQLEngine:
    """`mysql://user:password@host:3306/database` or `mariadb://...`."""
    return MySQLEngine(ConnectionSettings.from_url(url))
