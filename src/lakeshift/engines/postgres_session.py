"""PostgreSQL connections: settings pinned per session, exported snapshots, errors in one line.

Every session lakeshift opens pins the settings that change how values print (dates, intervals,
floats, bytea, time zone, string literals), so a value's text is the same whoever reads it and
whatever the role's or database's defaults are. Each table is read from one snapshot: a
REPEATABLE READ transaction exports it (`pg_export_snapshot`) and stays open while the table's
questions run inside it and each slice's Arrow read imports it (`SET TRANSACTION SNAPSHOT`).

Upload's parallel workers each open an engine of their own. So that their slices read the state
the main engine planned from, an exported snapshot is also published here, per database and
table, for as long as it is held; an engine that holds none for a table reads the published one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import adbc_driver_manager
import adbc_driver_postgresql
import psycopg
import psycopg.conninfo
import pyarrow as pa
from adbc_driver_manager import _reader as adbc_reader
from loguru import logger
from psycopg.pq import TransactionStatus

from lakeshift.errors import (
    ConfigError,
    LakeshiftError,
    TableMissingError,
    TerminalError,
    TransientError,
)
from lakeshift.redaction import display_url, redact, register_secret

SESSION_SETTINGS = {
    "DateStyle": "ISO, YMD",
    "IntervalStyle": "iso_8601",
    "TimeZone": "UTC",
    "extra_float_digits": "1",  # shortest text that reads back to the same float
    "bytea_output": "hex",
    "standard_conforming_strings": "on",  # '\' in a literal is one backslash
    "client_encoding": "UTF8",
    "idle_in_transaction_session_timeout": "0",  # the snapshot's holder waits while slices read
    # JIT compiles the row hash's expression in every parallel worker (about 0.9 s of CPU),
    # which a 5M-row pass 1 never won back; statistics ran as fast without it.
    "jit": "off",
}
# Settings older servers do not know, with the server_version_num that introduced them
SETTINGS_SINCE = {"jit": 110000}
BEGIN_SNAPSHOT = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
DEFAULT_CONNECT_TIMEOUT = 10
# SQLSTATE classes a retry can cure: connection exceptions, operator intervention (shutdown,
# cancel), transaction rollbacks (serialization, deadlock), insufficient resources.
TRANSIENT_SQLSTATES = ("08", "57", "40", "53")
PRIVILEGE_SQLSTATE = "42501"
UNDEFINED_TABLE_SQLSTATE = "42P01"
STREAM_ROWS = 1_000  # rows per chunk while streaming a result, where libpq can (17 and later)
CHUNKED_LIBPQ = 170_000

DriverError = (psycopg.Error, adbc_driver_manager.Error)


@dataclass(frozen=True)
class Target:
    """Where to connect: libpq's connection string (holds the password) and a safe display."""

    conninfo: str
    display: str


def target(url: str) -> Target:
    """Parse `postgresql://user:pw@host:port/db?params`; the password is registered as a secret."""
    parts = urlsplit(url)
    if parts.password:
        register_secret(parts.password)
        register_secret(unquote(parts.password))
    libpq_url = urlunsplit(parts._replace(scheme="postgresql"))  # postgres+x:// -> postgresql://
    try:
        options = psycopg.conninfo.conninfo_to_dict(libpq_url)
    except psycopg.ProgrammingError as error:
        raise ConfigError(f"source {display_url(url)}: {one_line(error)}") from None
    options.setdefault("connect_timeout", DEFAULT_CONNECT_TIMEOUT)
    options.setdefault("application_name", "lakeshift")
    return Target(psycopg.conninfo.make_conninfo("", **options), display_url(url))


def one_line(error: BaseException) -> str:
    """The driver's message on one line, without the echoed query, secrets masked."""
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None)
    text = primary or str(error).split("\nQuery was:")[0].split("\nLINE ")[0]
    if primary is None and "ERROR:" in text:  # ADBC: "IO: Failed to execute query: ERROR:  ..."
        text = text.split("ERROR:", 1)[1]
    return redact(" ".join(text.split()))


def _settings_sql(server_version: int | None) -> list[str]:
    """The SET statements of the pinned settings a server of this version knows (None: only
    those every version knows)."""
    return [
        f"SET {name} = '{value}'"
        for name, value in SESSION_SETTINGS.items()
        if name not in SETTINGS_SINCE
        or (server_version is not None and server_version >= SETTINGS_SINCE[name])
    ]


def open_connection(where: Target) -> psycopg.Connection[Any]:
    """A psycopg connection in autocommit mode with the pinned settings."""
    try:
        connection = psycopg.connect(where.conninfo, autocommit=True)
    except psycopg.Error as error:
        raise ConfigError(f"cannot connect to {where.display}: {one_line(error)}") from None
    for statement in _settings_sql(connection.info.server_version):
        connection.execute(statement)
    return connection


class ArrowConnection:
    """ADBC's PostgreSQL driver (Arrow record batches from binary COPY), through
    adbc_driver_manager's own API: its DB-API module imports pyarrow.dataset, pandas and polars
    when installed (half a second and about 50 MB of every upload) for nothing lakeshift uses."""

    def __init__(self, conninfo: str):
        self._database = adbc_driver_postgresql.connect(conninfo)
        try:
            self._connection = adbc_driver_manager.AdbcConnection(self._database)  # autocommit
        except BaseException:
            self._database.close()
            raise
        self._reading: dict[int, tuple[Any, Any]] = {}  # statements with an open reader

    def execute(self, sql: str) -> None:
        """Run a statement that returns no rows."""
        with adbc_driver_manager.AdbcStatement(self._connection) as statement:
            statement.set_sql_query(sql)
            statement.execute_update()

    @contextmanager
    def read(self, sql: str, options: dict[str, str]) -> Iterator[pa.RecordBatchReader]:
        """The rows of `sql` as record batches, decoded as they arrive; driver errors keep
        their SQLSTATE. The reader is released when the block ends."""
        statement = adbc_driver_manager.AdbcStatement(self._connection)
        reader = None
        try:
            statement.set_options(**options)
            statement.set_sql_query(sql)
            handle, _ = statement.execute_query()
            reader = adbc_reader.AdbcRecordBatchReader._import_from_c(handle.address)
            self._reading[id(statement)] = (statement, reader)
            yield reader
        finally:  # quietly: `close` may have released both while the read was suspended
            self._reading.pop(id(statement), None)
            with suppress(Exception):
                if reader is not None:
                    reader.close()
            with suppress(Exception):
                statement.close()

    def close(self) -> None:
        """Close the connection, also while a read is suspended (a generator not run to its
        end): its reader and statement first, which ADBC requires, and the database always."""
        try:
            for statement, reader in list(self._reading.values()):
                with suppress(Exception):
                    reader.close()
                with suppress(Exception):
                    statement.close()
            self._reading.clear()
            self._connection.close()
        finally:
            self._database.close()


def open_arrow_connection(where: Target) -> ArrowConnection:
    """An ADBC connection with the pinned settings."""
    try:
        connection = ArrowConnection(where.conninfo)
    except adbc_driver_manager.Error as error:
        raise ConfigError(f"cannot connect to {where.display}: {one_line(error)}") from None
    try:
        for statement in _settings_sql(None):  # extraction only copies rows: JIT never runs
            connection.execute(statement)
    except BaseException:
        close_quietly(connection)
        raise
    return connection


def classify(error: BaseException, table: str | None) -> LakeshiftError:
    """The lakeshift error for a driver error, in one line naming the table."""
    where = f"{table}: " if table else ""
    sqlstate = getattr(error, "sqlstate", None) or ""
    message = one_line(error)
    if sqlstate == UNDEFINED_TABLE_SQLSTATE and table:
        return TableMissingError(table, "PostgreSQL source")
    if sqlstate == PRIVILEGE_SQLSTATE:
        return TerminalError(
            f"{where}{message}; grant SELECT on it to the user of LAKESHIFT_SOURCE_URL"
        )
    if sqlstate.startswith(TRANSIENT_SQLSTATES):
        return TransientError(f"{where}PostgreSQL: {message} (SQLSTATE {sqlstate})")
    dropped = isinstance(error, psycopg.OperationalError | adbc_driver_manager.OperationalError)
    if not sqlstate and (dropped or isinstance(error, OSError)):
        return TransientError(f"{where}connection to PostgreSQL lost: {message}")
    return TerminalError(f"{where}PostgreSQL: {message}")


def streamed(connection: psycopg.Connection[Any], sql: str) -> Iterator[tuple[Any, ...]]:
    """Rows of `sql` as the server sends them (libpq's chunked or single-row mode), never held
    whole. Unlike a DECLAREd cursor, the query keeps the plan `execute` gives it (a cursor is
    planned for its first rows and without parallel workers). Closed before its end, the query
    is cancelled, which also ends an open transaction (a snapshot) in error."""
    size = STREAM_ROWS if psycopg.pq.version() >= CHUNKED_LIBPQ else 1
    with connection.cursor() as cursor:
        yield from cursor.stream(sql, None, size=size)


def close_quietly(connection: Any) -> None:
    """Close a connection that may already be broken."""
    if connection is not None:
        with suppress(Exception):
            connection.close()


_published: dict[tuple[str, str], str] = {}
_published_lock = threading.Lock()


def published_snapshot(database: str, table: str) -> str | None:
    """The snapshot an engine of this process holds for `table` of `database`, if any."""
    with _published_lock:
        return _published.get((database, table))


class Snapshot:
    """An exported snapshot, held open by a REPEATABLE READ transaction on `connection`.

    Questions about the table run on `connection` itself (inside the snapshot); Arrow reads on
    other connections import `token`. `database` identifies the server and database (the
    connection string) under which the snapshot is published.
    """

    def __init__(self, connection: psycopg.Connection[Any], table: str, database: str):
        self.connection = connection
        self.table = table
        self._key = (database, table)
        connection.execute(BEGIN_SNAPSHOT)
        try:
            row = connection.execute("SELECT pg_export_snapshot()").fetchone()
        except psycopg.Error:
            with suppress(psycopg.Error):
                connection.execute("ROLLBACK")  # leave the connection usable
            raise
        assert row is not None
        self.token: str = row[0]
        with _published_lock:
            _published[self._key] = self.token
        logger.info("{}: reading from exported snapshot {} (repeatable read)", table, self.token)

    @property
    def alive(self) -> bool:
        status = self.connection.info.transaction_status
        return not self.connection.closed and status == TransactionStatus.INTRANS

    def forget(self) -> None:
        """Stop publishing the snapshot (its transaction is ending or already gone)."""
        with _published_lock:
            if _published.get(self._key) == self.token:
                del _published[self._key]

    def end(self) -> None:
        self.forget()
        if not self.connection.closed:
            with suppress(psycopg.Error):
                self.connection.execute("ROLLBACK")


@contextmanager
def imported_snapshot(connection: ArrowConnection, token: str) -> Iterator[None]:
    """Run an ADBC connection's statements inside the exported snapshot `token`."""
    connection.execute(BEGIN_SNAPSHOT)
    connection.execute(f"SET TRANSACTION SNAPSHOT '{token}'")
    yield
    connection.execute("COMMIT")
