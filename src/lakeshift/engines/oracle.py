"""Oracle as a source: data dictionary metadata, flashback reads, Arrow extraction, canonical SQL.

URL (`LAKESHIFT_SOURCE_URL`), python-oracledb in thin mode (no Oracle client needed):
- `oracle://user:password@host:1521/?service_name=PCDS`  a service name;
- `oracle://user:password@host:1521/ORCL`                a SID (the path, as SQLAlchemy reads it);
- `&snapshot=none`  reads the current state instead of one SCN per table (no FLASHBACK grant).

Every table is read as of one SCN, taken the first time a statement reads the table and kept for
the engine's life (`AS OF SCN :scn`); `snapshot_token()` is that SCN, recorded by the upload, and
`use_snapshot` pins a recorded SCN so later steps compare against the state that was uploaded.
Names are upper-cased unless quoted (`hr.emp` is `"HR"."EMP"`, `hr."Emp"` keeps its case); a
table without owner is looked up in the session's current schema. Identifiers may be 128 bytes
long from Oracle 12.2 on, 30 before.

Types are mapped in `oracle_types`, SQL fragments live in `oracle_sql`, errors in `oracle_errors`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import oracledb
import pyarrow as pa
import pyarrow.compute as pc
from loguru import logger

from lakeshift.config import MigrationConfig
from lakeshift.engines import oracle_sql
from lakeshift.engines.base import (
    Capabilities,
    Column,
    ColumnStats,
    GroupSum,
    GroupSums,
    RowDigest,
    RowPlan,
    Scope,
    SourceEngine,
    SqlEngine,
)
from lakeshift.engines.oracle_errors import (
    SQL_TEXT_BYTES,
    OracleFailure,
    TextTooLongError,
    declared_text_bytes,
    translate,
    wide_row_message,
    widest_columns,
)
from lakeshift.engines.oracle_types import ColumnReading, FitCheck, OracleType, column_reading
from lakeshift.errors import (
    ConfigError,
    ConversionError,
    LakeshiftError,
    TableMissingError,
    TerminalError,
)
from lakeshift.inventory import Period
from lakeshift.redaction import display_url, register_secret
from lakeshift.types import Kind, LogicalType
from lakeshift.verify.canonical import split_checksum

CAPABILITIES = Capabilities(
    name="Oracle",
    snapshot="flashback",
    timestamp_precision="nanosecond",  # TIMESTAMP(9); extraction and canonical text keep microseconds
    max_identifier_length=128,  # 30 before Oracle 12.2
    hides_unreadable_tables=True,  # ALL_TABLES lists only tables the user may read
)
STREAM_ROWS = 1_000  # rows per round trip while a long answer is read
DEFAULT_PORT = 1521
# Binary string order, as the lake's engines compare (MIN and MAX must agree); '.' as the
# decimal character for any number text a user's filter or a probe converts.
# The calendar and the time zone too: a database whose calendar is Thai Buddha would print other
# years, and TIMESTAMP WITH LOCAL TIME ZONE is read in the session's zone.
SESSION_SQL = (
    "ALTER SESSION SET NLS_SORT = BINARY NLS_COMP = BINARY NLS_NUMERIC_CHARACTERS = '.,' "
    "NLS_CALENDAR = 'GREGORIAN' TIME_ZONE = '+00:00'"
)
CHARACTER_SET_SQL = "SELECT VALUE FROM NLS_DATABASE_PARAMETERS WHERE PARAMETER = 'NLS_CHARACTERSET'"
_OWNER = "COALESCE(:owner, SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA'))"
TABLE_EXISTS_SQL = (
    f"SELECT (SELECT COUNT(*) FROM ALL_TABLES WHERE OWNER = {_OWNER} AND TABLE_NAME = :name) + "
    f"(SELECT COUNT(*) FROM ALL_VIEWS WHERE OWNER = {_OWNER} AND VIEW_NAME = :name) FROM DUAL"
)
COLUMNS_SQL = (
    "SELECT COLUMN_NAME, DATA_TYPE, DATA_PRECISION, DATA_SCALE, NULLABLE, DATA_LENGTH, "
    f"CHAR_LENGTH, CHAR_USED FROM ALL_TAB_COLUMNS WHERE OWNER = {_OWNER} AND TABLE_NAME = :name "
    "ORDER BY COLUMN_ID"
)
# Declared collations (12.2+; a column without one follows the session's NLS_COMP): only a
# database with MAX_STRING_SIZE = EXTENDED can declare one other than USING_NLS_COMP (ORA-43929).
COLLATIONS_SQL = (
    f"SELECT COLUMN_NAME, COLLATION FROM ALL_TAB_COLS WHERE OWNER = {_OWNER} "
    "AND TABLE_NAME = :name AND COLLATION IS NOT NULL"
)
PRIMARY_KEY_SQL = (
    "SELECT cc.COLUMN_NAME FROM ALL_CONSTRAINTS c JOIN ALL_CONS_COLUMNS cc "
    "ON cc.OWNER = c.OWNER AND cc.CONSTRAINT_NAME = c.CONSTRAINT_NAME "
    f"WHERE c.OWNER = {_OWNER} AND c.TABLE_NAME = :name AND c.CONSTRAINT_TYPE = 'P' "
    "ORDER BY cc.POSITION"
)
# V$DATABASE needs SELECT_CATALOG_ROLE (or SELECT on V_$DATABASE); DBMS_FLASHBACK needs EXECUTE.
SCN_QUERIES = (
    "SELECT CURRENT_SCN FROM V$DATABASE",
    "SELECT DBMS_FLASHBACK.GET_SYSTEM_CHANGE_NUMBER FROM DUAL",
)
_AS_OF = re.compile(r'((?:"[^"]+"\.)?"[^"]+") AS OF SCN :scn\b')
_URL_OPTIONS = frozenset({"service_name", "sid", "snapshot"})


@dataclass(frozen=True)
class OracleSettings:
    """What a source URL says; the password stays here and in the driver, nowhere else."""

    user: str
    password: str
    host: str
    port: int
    service_name: str | None
    sid: str | None
    flashback: bool

    def connect_arguments(self) -> dict[str, Any]:
        target = {"service_name": self.service_name} if self.service_name else {"sid": self.sid}
        return {
            "user": self.user,
            "password": self.password,
            "host": self.host,
            "port": self.port,
            **target,
        }


def parse_url(url: str) -> OracleSettings:
    """Read an `oracle://` URL; every problem is a ConfigError that never shows the password."""
    parts = urlsplit(url)
    shown = display_url(url)
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = sorted(set(options) - _URL_OPTIONS)
    if unknown:
        known = ", ".join(sorted(_URL_OPTIONS))
        raise ConfigError(f"source {shown}: unknown option {', '.join(unknown)}; use {known}")
    if not parts.hostname or parts.username is None or parts.password is None:
        raise ConfigError(f"source {shown}: write oracle://user:password@host:port/?service_name=X")
    path_sid = unquote(parts.path.strip("/")) or None
    service_name, sid = options.get("service_name"), options.get("sid") or path_sid
    if bool(service_name) == bool(sid):
        raise ConfigError(f"source {shown}: name exactly one of ?service_name=... or a SID")
    snapshot = options.get("snapshot", "flashback")
    if snapshot not in ("flashback", "none"):
        raise ConfigError(f"source {shown}: snapshot must be flashback or none, not {snapshot!r}")
    return OracleSettings(
        user=unquote(parts.username),
        password=unquote(parts.password),
        host=parts.hostname,
        port=parts.port or DEFAULT_PORT,
        service_name=service_name,
        sid=sid,
        flashback=snapshot == "flashback",
    )


def server_version(connection: Any) -> tuple[int, int]:
    """(major, minor) of the server, e.g. (19, 3); (12, 2) decides the identifier length."""
    numbers = re.findall(r"\d+", str(getattr(connection, "version", "") or ""))
    return (int(numbers[0]), int(numbers[1])) if len(numbers) >= 2 else (19, 0)


def _numbers_as_decimals(cursor: Any, metadata: Any) -> Any:
    """NUMBER results as Decimal: sums and 60-bit hashes must not pass through a float."""
    if metadata.type_code is oracledb.DB_TYPE_NUMBER:
        return cursor.var(Decimal, arraysize=cursor.arraysize)
    return None


def _whole(value: Any) -> int | None:
    return None if value is None else int(value)


class OracleEngine(SqlEngine, SourceEngine):
    """An Oracle database reached through a python-oracledb connection (or a stand-in for one).

    `connection` needs `cursor()`, `fetch_df_batches(...)`, `version` and `close()`; `reopen`,
    when given, opens a new one after a dropped connection (SCNs stay valid across sessions).
    """

    capabilities = CAPABILITIES
    streams_rows = True
    max_select_items = 1000
    in_list_limit = 1000  # ORA-01795: at most 1000 expressions in a list

    def __init__(
        self,
        connection: Any,
        number_policy: LogicalType,
        *,
        flashback: bool = True,
        source: str = "oracle",
        reopen: Callable[[], Any] | None = None,
        secrets: tuple[str, ...] = (),
    ):
        self._connection: Any = connection
        self._reopen = reopen
        self.number_policy = number_policy
        self.source = source
        self._secrets = secrets
        self._snapshots: dict[str, int] = {}  # qualified table -> SCN
        self._last_scn: int | None = None
        self._lob_binaries: set[str] = set()  # quoted names of BLOB columns (RAWTOHEX refuses them)
        self._table: str | None = None  # the table errors are about
        self._noted: set[tuple[str, str]] = set()
        self._character_set: str | None = None  # read when a comparison first needs it
        major_minor = server_version(connection)
        self.capabilities = replace(
            CAPABILITIES,
            snapshot="flashback" if flashback else "none",
            max_identifier_length=128 if major_minor >= (12, 2) else 30,
        )
        self._prepare(connection)

    def __repr__(self) -> str:
        return f"OracleEngine({self.source})"

    # --- session -------------------------------------------------------------------------------
    def _prepare(self, connection: Any) -> None:
        with self._translated(None):
            cursor = connection.cursor()
            try:
                cursor.execute(SESSION_SQL)
            finally:
                cursor.close()

    def _live(self) -> Any:
        if self._connection is None:
            if self._reopen is None:
                raise TerminalError(f"source {self.source}: the connection was lost")
            with self._translated(None):
                connection = self._reopen()
            self._prepare(connection)
            self._connection = connection
        return self._connection

    @contextmanager
    def _translated(self, table: str | None) -> Iterator[None]:
        try:
            yield
        except oracledb.Error as error:
            failure = translate(error, source=self.source, table=table, secrets=self._secrets)
            detail = error.args[0] if error.args else None
            if getattr(detail, "is_session_dead", False) and self._reopen is not None:
                self._connection = None  # the next statement opens a new session
            raise failure from None

    @contextmanager
    def _about(self, table: str) -> Iterator[None]:
        """Name `table` in errors raised by statements the shared query shapes send."""
        previous, self._table = self._table, table
        try:
            yield
        finally:
            self._table = previous

    @contextmanager
    def _asking(self, scope: Scope, columns: Sequence[Column]) -> Iterator[None]:
        """As `_about`; and when a value is too long for SQL text (Oracle's ORA-22835 or
        ORA-01489 name no column), the LOB columns holding such values are counted and named,
        or, without any, the widest columns as declared."""
        with self._about(scope.table):
            try:
                yield
            except TextTooLongError as error:
                self._name_long_values(scope, columns)
                raise TextTooLongError(
                    wide_row_message(scope.table, error.code, _widths(columns)), error.code
                ) from None

    def _name_long_values(self, scope: Scope, columns: Sequence[Column]) -> None:
        checks = self._checks(
            [c for c in columns if not self._reading(c).unsupported],
            lambda check: check.too_long,
        )
        try:
            counts = self._check_counts(scope, checks)
        except LakeshiftError as error:  # the first error says more than this one
            logger.debug("{}: counting values too long for SQL text: {}", scope.table, error)
            return
        found = [(column, count, message) for column, count, message, _ in counts if count]
        if found:
            column, count, message = found[0]
            also = "".join(f"; {c.name} too: {n} value(s)" for c, n, _ in found[1:])
            raise ConversionError(
                scope.table, column.name, message.replace("{rows}", str(count)) + also
            ) from None

    # --- fragments ---------------------------------------------------------------------------
    def quote(self, identifier: str) -> str:
        return oracle_sql.quote(identifier)

    def _name(self, table: str) -> tuple[str | None, str]:
        owner, name = oracle_sql.split_name(table)
        limit = self.capabilities.max_identifier_length
        for part in (owner, name):
            if part is not None and len(part.encode("utf-8")) > limit:
                raise ConfigError(
                    f"{table}: {part!r} is longer than {limit} bytes, the longest "
                    "identifier this Oracle version allows"
                )
        return owner, name

    def table_sql(self, table: str) -> str:
        """The table, read as of its SCN when snapshots are on (the first read takes the SCN)."""
        name = oracle_sql.qualified(*self._name(table))
        if self.capabilities.snapshot != "flashback":
            return name
        self._snapshot(name)
        return f"{name} AS OF SCN :scn"

    def canonical_sql(self, expression: str, logical: LogicalType) -> str:
        lob = expression in self._lob_binaries
        return oracle_sql.canonical_sql(expression, logical, lob, self.timestamps_at)

    def conversion_notes(self, column: Column) -> tuple[str, ...]:
        return self._reading(column).notes

    def may_exceed_scale(self, column: Column, scale: int) -> bool:
        declared = OracleType.parse(column.native_type)
        return not (
            declared.name == "NUMBER" and declared.scale is not None and declared.scale <= scale
        )

    def exact_number_sql(self, expression: str) -> str:
        return f"TO_CHAR({expression})"

    def hash60_sql(self, text_expression: str) -> str:
        return oracle_sql.hash60_sql(text_expression)

    def shift_sql(self, expression: str) -> tuple[str, str]:
        return oracle_sql.shift_sql(expression)

    def period_sql(self, expression: str, logical: LogicalType, period: Period) -> str:
        return oracle_sql.period_sql(expression, logical, period, self.timestamps_at)

    def period_predicate(self, column: Column, period: Period, value: str | None) -> str:
        if value is None or column.logical.tz is not None or self.rounds(column.logical):
            return super().period_predicate(column, period, value)
        return oracle_sql.range_predicate(
            self.quote(column.name), column.native_type, value, period
        )

    def timestamp_literal(self, value: datetime) -> str:
        return oracle_sql.timestamp_literal(value)

    def sum_sql(self, expression: str, logical: LogicalType) -> str:
        # A BINARY_FLOAT sum would add in single precision; the lake adds doubles.
        if logical.kind is Kind.FLOAT:
            return f"SUM(TO_BINARY_DOUBLE({expression}))"
        if logical.kind is Kind.DECIMAL:  # NUMBER sums round past 38-40 digits: in two parts
            return oracle_sql.exact_sum_sql(expression, logical.scale or 0)
        return f"SUM({expression})"  # 18-digit integers: exact up to 1e20 rows

    def sum_value(self, value: Any, logical: LogicalType) -> Any:
        if logical.kind is Kind.DECIMAL and isinstance(value, str):
            return oracle_sql.exact_sum_value(value, logical.scale or 0)
        return value

    # --- statements ----------------------------------------------------------------------------
    def _binds(self, sql: str, parameters: Sequence[Any]) -> Sequence[Any] | dict[str, Any]:
        """`:scn` of the table the statement reads as of (one SCN per statement)."""
        tables = set(_AS_OF.findall(sql))
        if not tables:
            return list(parameters)
        scns = {self._snapshots[table] for table in tables}
        if parameters or len(scns) != 1:
            raise TerminalError("a statement may read one snapshot and take no other parameters")
        return {"scn": scns.pop()}

    def _fetch(self, sql: str, binds: Sequence[Any] | dict[str, Any]) -> list[tuple[Any, ...]]:
        cursor = self._live().cursor()
        try:
            cursor.outputtypehandler = _numbers_as_decimals
            cursor.execute(sql, binds)
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        binds = self._binds(sql, parameters)
        with self._translated(self._table):
            return self._fetch(sql, binds)

    def query_stream(self, sql: str) -> Iterator[tuple[Any, ...]]:
        """Rows fetched `STREAM_ROWS` at a time as the cursor is read, never held whole."""
        binds = self._binds(sql, ())
        with self._translated(self._table):
            cursor = self._live().cursor()
            try:
                cursor.outputtypehandler = _numbers_as_decimals
                cursor.arraysize = STREAM_ROWS
                cursor.execute(sql, binds)
                for row in cursor:
                    yield tuple(row)
            finally:
                cursor.close()

    def _dictionary(self, sql: str, table: str) -> list[tuple[Any, ...]]:
        owner, name = self._name(table)
        with self._translated(table):
            return self._fetch(sql, {"owner": owner, "name": name})

    # --- snapshots -----------------------------------------------------------------------------
    def _snapshot(self, name: str) -> int:
        if name not in self._snapshots:
            self._snapshots[name] = self._current_scn()
            logger.info("{}: read as of SCN {}", name, self._snapshots[name])
        self._last_scn = self._snapshots[name]
        return self._last_scn

    def _current_scn(self) -> int:
        """The SCN now; a privilege problem with one query falls back to the other."""
        where = self._table or f"source {self.source}"
        codes = []
        for sql in SCN_QUERIES:
            try:
                return int(self._fetch(sql, [])[0][0])
            except oracledb.Error as error:
                failure = translate(error, source=self.source, table=where, secrets=self._secrets)
                if not isinstance(failure, TerminalError):
                    raise failure from None  # a lost connection is not a missing grant
                codes.append(OracleFailure.of(error).main_code())
        raise TerminalError(
            f"{where}: cannot read the current SCN ({', '.join(codes)}); grant SELECT on "
            "V_$DATABASE or EXECUTE on DBMS_FLASHBACK, or add snapshot=none to the source URL"
        )

    def use_snapshot(self, table: str, token: str) -> None:
        """Read `table` as of a recorded SCN (an upload's `snapshot.token`) from now on."""
        self._snapshots[oracle_sql.qualified(*self._name(table))] = int(token)

    def snapshot_token(self) -> str | None:
        return None if self._last_scn is None else str(self._last_scn)

    # --- metadata ------------------------------------------------------------------------------
    def table_exists(self, table: str) -> bool:
        return bool(self._dictionary(TABLE_EXISTS_SQL, table)[0][0])

    def columns(self, table: str) -> list[Column]:
        rows = self._dictionary(COLUMNS_SQL, table)
        if not rows:
            raise TableMissingError(table, "Oracle source", maybe_unreadable=True)
        collations = self._collations(table)
        columns = []
        for name, data_type, precision, scale, nullable, data_length, char_length, used in rows:
            oracle = OracleType.of_catalog(
                data_type,
                _whole(precision),
                _whole(scale),
                _whole(data_length),
                _whole(char_length),
                used,
                collations.get(name),
            )
            reading = column_reading(oracle, self.number_policy)
            if reading.unsupported:
                logger.warning("{}.{}: {}", table, name, reading.unsupported)
            if reading.lob and reading.logical.kind is Kind.BINARY:
                self._lob_binaries.add(self.quote(name))
            columns.append(Column(name, oracle.native, reading.logical, nullable == "Y"))
        return columns

    def _collations(self, table: str) -> dict[str, str]:
        """Each column's declared collation; none before 12.2, which has no COLLATION column."""
        if server_version(self._live()) < (12, 2):
            return {}
        owner, name = self._name(table)
        try:
            rows = self._fetch(COLLATIONS_SQL, {"owner": owner, "name": name})
        except oracledb.Error as error:
            if OracleFailure.of(error).has("ORA-00904"):  # invalid identifier: no such column
                return {}
            raise translate(error, source=self.source, table=table, secrets=self._secrets) from None
        return {str(column): str(collation) for column, collation in rows}

    def primary_key(self, table: str) -> list[str]:
        return [row[0] for row in self._dictionary(PRIMARY_KEY_SQL, table)]

    def _reading(self, column: Column) -> ColumnReading:
        return column_reading(OracleType.parse(column.native_type), self.number_policy)

    def _require_unicode(self, table: str) -> None:
        """Canonical text is hashed and ordered as the database character set's bytes, which
        are UTF-8, as every other engine's, only in AL32UTF8 (the upload converts any set)."""
        if self._character_set is None:
            with self._about(table):
                rows = self.query(CHARACTER_SET_SQL)
            self._character_set = str(rows[0][0]) if rows else ""
        if self._character_set not in ("AL32UTF8", ""):
            raise TerminalError(
                f"{table}: the database character set is {self._character_set}; compare and "
                "align hash and order text in it, and prove it only in AL32UTF8 (the upload "
                "does not depend on it)"
            )

    def require_comparable(self, table: str, columns: Iterable[Column]) -> None:
        self._require_unicode(table)
        self.require_supported(table, columns)

    def require_supported(self, table: str, columns: Iterable[Column]) -> None:
        for column in columns:
            reason = self._reading(column).unsupported
            if reason:
                raise ConversionError(
                    table,
                    column.name,
                    f"{reason}; map it to null in column_mappings.json to leave it out",
                )

    # --- questions -----------------------------------------------------------------------------
    def row_count(self, scope: Scope) -> int:
        with self._about(scope.table):
            return super().row_count(scope)

    def period_counts(self, scope: Scope, column: Column, period: Period) -> dict[str | None, int]:
        """Oracle cannot GROUP BY a select-list position: the expression is repeated."""
        expression = self.period_sql(self.quote(column.name), column.logical, period)
        with self._about(scope.table):
            table = f"{self.table_sql(scope.table)}{self.where_sql(scope)}"
            rows = self.query(
                f"SELECT {expression} AS p, COUNT(*) FROM {table} GROUP BY {expression}"
            )
        return {row[0]: int(row[1]) for row in rows}

    def column_stats(
        self, scope: Scope, columns: Sequence[Column], types: Sequence[LogicalType]
    ) -> dict[str, ColumnStats]:
        """As the shared shape, but on each column's comparable value (LOBs and national text
        as AL32UTF8 text, ROWIDs and intervals as their text), which MIN and DISTINCT accept."""
        with self._asking(scope, columns):
            return super().column_stats(scope, columns, types)

    def stat_value_sql(self, column: Column) -> str:
        return self._reading(column).stats.replace("{c}", self._compared(column))

    def column_canonical_sql(self, column: Column, logical: LogicalType) -> str:
        """As the shared rule; a column with a collation of its own is read as binary text."""
        if OracleType.parse(column.native_type).collated:
            return self.canonical_sql(self._compared(column), logical)
        return super().column_canonical_sql(column, logical)

    def _compared(self, column: Column) -> str:
        """The column as statistics and canonical text read it: `("C" COLLATE BINARY)` when it
        declares a collation of its own (BINARY_CI, ...), which MIN, MAX, DISTINCT, `=` and
        `IN`, and every text function wrapped around it, would follow over the session's
        NLS_COMP = BINARY; the COLLATE operator's collation overrides a column's."""
        name = self.quote(column.name)
        return f"({name} COLLATE BINARY)" if OracleType.parse(column.native_type).collated else name

    def mod_sql(self, expression: str, divisor: int) -> str:
        """Oracle has no `%` operator; MOD takes the dividend's sign like the others."""
        return f"MOD({expression}, {divisor})"

    def div_sql(self, expression: str, divisor: int) -> str:
        return f"TRUNC(({expression}) / {divisor})"  # NUMBER division is exact before TRUNC

    def bucket_checksums(self, scope: Scope, plan: RowPlan) -> GroupSums:
        """One scan; NO_MERGE keeps the view unmerged so each row's md5 is computed once."""
        self.require_comparable(scope.table, plan.columns)
        period = self._period_of(scope) if scope.period_column is not None else "NULL"
        inner = [
            f"{period} AS p",
            f"{self.hash60_sql(self._row_text_sql(plan, range(len(plan.columns))))} AS h",
        ]
        spread = self.key_spread_sql(plan)  # the same bucket as every other engine's
        if spread is not None:
            inner.append(f"{spread} AS k")
        bucket = self.mod_sql("k" if spread is not None else "h", plan.buckets)
        high, low = self.shift_sql("h")
        with self._asking(scope, plan.columns):  # open until the stream is read: errors name it
            table = f"{self.table_sql(scope.table)}{self.where_sql(scope)}"
            rows = self.query_stream(
                f"SELECT p, {bucket}, COUNT(*), SUM({high}), SUM({low}) FROM (SELECT /*+ NO_MERGE */ "
                f"{', '.join(inner)} FROM {table}) GROUP BY p, {bucket} ORDER BY {bucket}"
            )
            for p, b, count, hi, lo in rows:
                yield p, int(b), GroupSum(int(count), split_checksum(int(hi), int(lo)))

    def group_rows(
        self, scope: Scope, plan: RowPlan, groups: Iterable[tuple[str | None, int]]
    ) -> list[RowDigest]:
        with self._asking(scope, plan.columns):
            return super().group_rows(scope, plan, groups)

    def bucket_rows(self, scope: Scope, plan: RowPlan) -> Iterator[RowDigest]:
        with self._asking(scope, plan.columns):  # open until the stream is read: errors name it
            yield from super().bucket_rows(scope, plan)

    def row_texts(
        self,
        scope: Scope,
        plan: RowPlan,
        groups: Sequence[tuple[str | None, int]],
        keys: Sequence[str],
    ) -> dict[str, list[str | None]]:
        with self._asking(scope, plan.columns):
            return super().row_texts(scope, plan, groups, keys)

    # --- what cannot be kept exactly -----------------------------------------------------------
    def _check_counts(
        self, scope: Scope, checks: list[tuple[Column, str, str, bool]]
    ) -> list[tuple[Column, int, str, bool]]:
        if not checks:
            return []
        counts = ", ".join(f"COUNT({sql})" for _, sql, _, _ in checks)
        with self._about(scope.table):
            table = f"{self.table_sql(scope.table)}{self.where_sql(scope)}"
            row = self.query(f"SELECT {counts} FROM {table}")[0]
        return [
            (column, int(count), message, blocking)
            for (column, _, message, blocking), count in zip(checks, row, strict=True)
        ]

    def _checks(
        self, columns: Sequence[Column], keep: Callable[[FitCheck], bool] = lambda _: True
    ) -> list[tuple[Column, str, str, bool]]:
        found = []
        for column in columns:
            for check in self._reading(column).checks:
                if keep(check):
                    sql = check.sql.replace("{c}", self.quote(column.name))
                    found.append((column, sql, check.message, check.blocks_extraction))
        return found

    def fit_warnings(self, scope: Scope, columns: Sequence[Column]) -> list[str]:
        """One line per column holding values the lake cannot keep exactly (one scan).

        For the analyzer: NUMBER without precision that does not fit the policy, sub-microsecond
        timestamps, FLOATs wider than a double, LOBs too long for SQL text, unsupported types.
        """
        warnings = [
            f"{scope.table}.{c.name}: {self._reading(c).unsupported}"
            for c in columns
            if self._reading(c).unsupported
        ]
        supported = [c for c in columns if not self._reading(c).unsupported]
        for column, count, message, _ in self._check_counts(scope, self._checks(supported)):
            if count:
                warnings.append(
                    f"{scope.table}.{column.name}: {message.replace('{rows}', str(count))}"
                )
        widths = _widths(supported)
        total = declared_text_bytes(widths)
        if total is not None and total > SQL_TEXT_BYTES:
            # A warning, not a refusal: Oracle fails only on a row whose text is that long
            warnings.append(
                f"{scope.table}: by the declared widths a row's canonical text takes up to "
                f"{total} bytes, more than the {SQL_TEXT_BYTES} Oracle SQL text holds without "
                "MAX_STRING_SIZE=EXTENDED; compare and align fail (ORA-01489) on a row whose "
                f"text is longer (widest columns: {widest_columns(widths)}); map a "
                "wide column to null in column_mappings.json to leave it out"
            )
        return warnings

    # --- extraction ----------------------------------------------------------------------------
    def widest_unbounded_bytes(self, scope: Scope, columns: Sequence[Column]) -> int | None:
        """The largest total of a row's LOBs, in one scan of their lengths (DBMS_LOB.GETLENGTH
        reads a LOB's length, not its data): python-oracledb fetches a batch's LOBs whole, and a
        batch sized by the types' estimate (64 bytes a value) could hold gigabytes. A CLOB's
        length counts characters, each up to 3 bytes of UTF-8 (4 for a pair of surrogates)."""
        lobs = [c for c in columns if self._reading(c).lob]
        if not lobs:
            return None
        lengths = " + ".join(
            f"NVL(DBMS_LOB.GETLENGTH({self.quote(c.name)}), 0)"
            + (" * 3" if c.logical.kind is Kind.STRING else "")
            for c in lobs
        )
        with self._about(scope.table):
            table = f"{self.table_sql(scope.table)}{self.where_sql(scope)}"
            [(widest,)] = self.query(f"SELECT MAX({lengths}) FROM {table}")
        return int(widest or 0)

    def stream(
        self, scope: Scope, columns: Sequence[Column], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        """Arrow batches straight from python-oracledb's Arrow fetch, cast to the logical types."""
        self.require_supported(scope.table, columns)
        readings = [self._reading(column) for column in columns]
        self._note_conversions(scope.table, columns, readings)
        for column, count, message, _ in self._check_counts(
            scope, self._checks(columns, lambda check: check.blocks_extraction)
        ):
            if count:
                raise ConversionError(
                    scope.table, column.name, message.replace("{rows}", str(count))
                )
        selects = [
            _select_item(reading.select, self.quote(column.name))
            for column, reading in zip(columns, readings, strict=True)
        ]
        with self._about(scope.table):  # taking the SCN may fail: name the table
            table = f"{self.table_sql(scope.table)}{self.where_sql(scope)}"
        sql = f"SELECT {', '.join(selects)} FROM {table}"
        requested = pa.schema(
            [pa.field(c.name, r.fetch) for c, r in zip(columns, readings, strict=True)]
        )
        yield from self._batches(scope.table, sql, requested, columns, readings, batch_rows)

    def _batches(
        self,
        table: str,
        sql: str,
        requested: pa.Schema,
        columns: Sequence[Column],
        readings: Sequence[ColumnReading],
        batch_rows: int,
    ) -> Iterator[pa.RecordBatch]:
        schema = pa.schema([pa.field(c.name, c.logical.to_arrow()) for c in columns])
        binds = self._binds(sql, ())
        with self._translated(table):
            frames = self._live().fetch_df_batches(
                statement=sql, parameters=binds or None, size=batch_rows, requested_schema=requested
            )
        while True:
            with self._translated(table):
                frame = next(frames, None)
            if frame is None:
                return
            fetched = pa.table(frame)
            if fetched.num_rows == 0:
                continue
            arrays = [
                to_logical(fetched.column(i), reading, column.logical, table, column.name)
                for i, (column, reading) in enumerate(zip(columns, readings, strict=True))
            ]
            yield from pa.Table.from_arrays(arrays, schema=schema).to_batches(
                max_chunksize=batch_rows
            )

    def _note_conversions(
        self, table: str, columns: Sequence[Column], readings: Sequence[ColumnReading]
    ) -> None:
        for column, reading in zip(columns, readings, strict=True):
            if reading.notes and (table, column.name) not in self._noted:
                self._noted.add((table, column.name))
                logger.info("{}.{}: {}", table, column.name, "; ".join(reading.notes))

    def interrupt(self) -> None:
        if self._connection is not None:
            with suppress(oracledb.Error):
                self._connection.cancel()

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except oracledb.Error as error:  # closing a dead session is not worth failing for
                logger.debug("closing {}: {}", self.source, translate(error, source=self.source))
            self._connection = None


def _widths(columns: Sequence[Column]) -> list[tuple[str, str, int | None]]:
    """(name, declared type, most bytes of its canonical text) of each column."""
    return [(c.name, c.native_type, OracleType.parse(c.native_type).text_bytes) for c in columns]


def _select_item(template: str, name: str) -> str:
    expression = template.replace("{c}", name)
    return name if expression == name else f"{expression} AS {name}"


def to_logical(
    fetched: pa.ChunkedArray | pa.Array,
    reading: ColumnReading,
    logical: LogicalType,
    table: str,
    column: str,
) -> pa.Array:
    """One fetched column as its logical Arrow type; empty LOBs become NULL; nothing rounds."""
    array = fetched.combine_chunks() if isinstance(fetched, pa.ChunkedArray) else fetched
    if reading.lob:
        empty = pc.equal(pc.binary_length(array), 0)
        array = pc.if_else(empty, pa.scalar(None, array.type), array)
    target = logical.to_arrow()
    if array.type == target:
        return array
    try:
        return array.cast(target, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise ConversionError(
            table, column, f"{array.type} cannot become {logical}: {error}"
        ) from None


def connect(url: str, config: MigrationConfig) -> OracleEngine:
    """Open the Oracle source a `LAKESHIFT_SOURCE_URL` names (python-oracledb thin mode)."""
    settings = parse_url(url)
    register_secret(settings.password)
    source = display_url(url)

    def open_connection() -> Any:
        return oracledb.connect(**settings.connect_arguments())

    try:
        connection = open_connection()
    except oracledb.Error as error:
        raise translate(error, source=source, secrets=(settings.password,)) from None
    return OracleEngine(
        connection,
        config.number_policy,
        flashback=settings.flashback,
        source=source,
        reopen=open_connection,
        secrets=(settings.password,),
    )
