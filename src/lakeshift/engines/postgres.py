"""PostgreSQL as a source: catalog metadata, canonical SQL, Arrow extraction from one snapshot.

Metadata comes from pg_catalog (`schema.table`, default schema `public`; names match exactly,
or case-insensitively when that is unambiguous). Types map to logical types in
`postgres_types`; sessions, snapshots and errors live in `postgres_session`.

Rows are extracted with ADBC (binary COPY decoded straight into Arrow, no Python object per
row), inside the table's exported snapshot. Canonical text is rendered in SQL so that it equals
`lakeshift.verify.canonical.canonical_value` for every logical type; floats are the hex of
`float8send`, the double's IEEE-754 bits in network (big-endian) order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
from loguru import logger
from psycopg.pq import TransactionStatus

from lakeshift.config import MigrationConfig
from lakeshift.engines.base import (
    Capabilities,
    Column,
    ColumnStats,
    Scope,
    SourceEngine,
    SqlEngine,
    unsupported_warning,
)
from lakeshift.engines.postgres_session import (
    DriverError,
    Snapshot,
    Target,
    classify,
    close_quietly,
    imported_snapshot,
    open_arrow_connection,
    open_connection,
    published_snapshot,
    streamed,
    target,
)
from lakeshift.engines.postgres_types import (
    ColumnReading,
    PgType,
    column_reading,
    refused_sql,
    to_logical_array,
)
from lakeshift.errors import (
    ConfigError,
    ConversionError,
    LakeshiftError,
    TableMissingError,
    TerminalError,
    TransientError,
)
from lakeshift.inventory import Period
from lakeshift.types import Kind, LogicalType

CAPABILITIES = Capabilities(
    name="PostgreSQL",
    snapshot="repeatable_read",
    timestamp_precision="microsecond",
    max_identifier_length=63,
    exact_bigint_sum=True,
)
DEFAULT_SCHEMA = "public"
FLOAT_SUM_SCALE = 2.0**-600  # a float sum that overflowed, asked again in these units
_SAVEPOINT = "lakeshift_statistics"  # statistics run in it: a failed query keeps the snapshot
HASH_AGGREGATE_SPILLS = 130000  # server_version_num from which hash aggregates spill to disk
# What to do about values the upload refuses, by the column's logical kind
_REFUSED_ADVICE = {
    Kind.DECIMAL: "NaN, Infinity, or more digits than the lake's decimal holds; declare the "
    "column numeric(p,s), widen number_without_precision in migration_config.cfg, or exclude "
    "the rows with the inventory's `where`",
    Kind.DATE: "dates outside years 1-9999 (infinity, BC); exclude the rows with the "
    "inventory's `where`",
    Kind.TIMESTAMP: "timestamps outside years 1-9999 in UTC (infinity, BC); exclude the rows "
    "with the inventory's `where`",
}
BATCH_HINT_OPTION = "adbc.postgresql.batch_size_hint_bytes"
BATCH_HINT_BOUNDS = (64 * 1024, 64 * 1024 * 1024)
_ESTIMATED_WIDTH = {
    Kind.BOOLEAN: 1,
    Kind.DATE: 4,
    Kind.DECIMAL: 16,
    Kind.STRING: 68,
    Kind.BINARY: 68,
}

_PERIOD_FORMAT = {Period.YEAR: "YYYY", Period.MONTH: "YYYY-MM", Period.DAY: "YYYY-MM-DD"}
_CANONICAL = {
    Kind.INTEGER: "CAST({x} AS text)",
    Kind.BOOLEAN: "CAST(CAST({x} AS integer) AS text)",
    Kind.BINARY: "encode({x}, 'hex')",
    Kind.DATE: "CAST({x} AS text)",  # DateStyle ISO: YYYY-MM-DD, twice as fast as to_char
}

_RELATION_SQL = """
SELECT c.oid, n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f')
  AND lower(n.nspname) = lower(%s) AND lower(c.relname) = lower(%s)
"""
# Domains are read as their base type; arrays carry their element type.
_COLUMNS_SQL = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       b.typname, format_type(b.oid, CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END),
       b.typtype, e.typname, format_type(e.oid, NULL), e.typtype
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_type e ON e.oid = b.typelem AND b.typcategory = 'A'
WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""
_PRIMARY_KEY_SQL = """
SELECT a.attname
FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE i.indrelid = %s AND i.indisprimary
ORDER BY array_position(i.indkey::smallint[], a.attnum)
"""


@dataclass(frozen=True)
class Relation:
    oid: int
    schema: str
    name: str


# A part of `schema.table` in double quotes ("" for a quote inside) names exactly that; a bare
# part matches ignoring case, its exact spelling first.
_NAME_PART = r'"(?:[^"]|"")+"|[^".]+'
_TABLE_NAME = re.compile(rf"(?:({_NAME_PART})\.)?({_NAME_PART})")


@dataclass(frozen=True)
class NamePart:
    text: str
    exact: bool  # written in double quotes

    @classmethod
    def of(cls, written: str) -> NamePart:
        if len(written) > 1 and written.startswith('"') and written.endswith('"'):
            return cls(written[1:-1].replace('""', '"'), True)
        return cls(written, False)

    def admits(self, name: str) -> bool:
        return name == self.text or (not self.exact and name.lower() == self.text.lower())


def split_name(table: str) -> tuple[NamePart, NamePart]:
    """(schema, table) of an inventory name; without a schema, `public`.

    >>> split_name('public."CaseT"')
    (NamePart(text='public', exact=False), NamePart(text='CaseT', exact=True))
    """
    match = _TABLE_NAME.fullmatch(table)
    if match is None:  # stray quotes: looked up as written, which finds nothing
        schema, _, name = table.rpartition(".")
        return NamePart(schema or DEFAULT_SCHEMA, False), NamePart(name, False)
    schema, name = match.groups()
    return NamePart.of(schema or DEFAULT_SCHEMA), NamePart.of(name)


def written_name(schema: str, name: str) -> str:
    """How the inventory names exactly this table: `public."CaseT"`."""
    quoted = name.replace('"', '""')
    return f'{schema}."{quoted}"'


def text_sql(expression: str) -> str:
    """The value's text output (the type's output function), NULL kept: what the lake holds.

    `concat` keeps char(n) padding and prints inet, booleans and the rest as their output
    functions do, where `CAST(x AS text)` would trim or reformat them.
    """
    return f"CASE WHEN ({expression}) IS NULL THEN NULL ELSE concat({expression}) END"


def iso_timestamp_sql(value: str) -> str:
    """`YYYY-MM-DD HH:MM:SS.ffffff` of a timestamp without time zone.

    The type's own output (DateStyle ISO, pinned for every session) drops trailing zeros of the
    fraction, and the fraction itself when it is zero, so they are put back. A whole second is
    told by `date_trunc`, cheaper than printing the value to look for its point, and is printed
    once; a fraction is printed three times, as PostgreSQL does not reuse a result within a row.
    Per 5M rows in one process: 0.2 s less than the point search alone (1.6 s less than to_char,
    which parses its format on every call). Zeros are only ever appended, never cut (`rpad`
    would cut), so years before 1 keep their ` BC` and infinity its spelling: no other engine's
    text equals them, nor does any year after 1's.
    """
    text = f"CAST({value} AS text)"
    return (
        f"CASE WHEN date_trunc('second', {value}) = {value} THEN {text} || '.000000' "
        f"ELSE {text} || repeat('0', strpos({text}, '.') + 6 - length({text})) END"
    )


def escaped_text_sql(text: str) -> str:
    """Backslashes and bars escaped, so that joined columns stay apart (NULL stays NULL).

    `COLLATE "C"` lets `replace` search text of a nondeterministic collation, which it refuses
    otherwise; the text itself is unchanged."""
    return f"replace(replace(({text}) COLLATE \"C\", '\\', '\\\\'), '|', '\\|')"


_DECLARED_NUMERIC = re.compile(r"numeric\((\d+),(-?\d+)\)")
_INTEGERS = frozenset({"smallint", "integer", "bigint"})


def fits_scale(declared: str, scale: int) -> bool:
    """Whether every value of a column declared so has at most `scale` decimals."""
    if declared in _INTEGERS:
        return True
    match = _DECLARED_NUMERIC.fullmatch(declared)
    return match is not None and int(match.group(2)) <= scale


_PLAIN_TEXT = re.compile(r"text|character varying(\(\d+\))?")


def plain_text(declared: str) -> bool:
    """Whether a column declared so holds text already, with nothing to keep from `concat`
    (arrays of text, `char(n)` and domains do: their output text, padding, base type)."""
    return _PLAIN_TEXT.fullmatch(declared) is not None


def float_canonical_sql(value: str) -> str:
    """The double's bits in hex (`float8send` sends them big-endian); 0 for both zeros, and NaN
    (which PostgreSQL holds equal to every NaN) for every NaN."""
    return (
        f"CASE WHEN {value} IS NULL THEN NULL WHEN {value} = 'NaN'::float8 THEN 'NaN' "
        f"WHEN {value} = 0 THEN '0' ELSE encode(float8send({value}), 'hex') END"
    )


def period_range(value: str, period: Period) -> tuple[str, str]:
    """First day of period `value` and of the next one, as ISO dates (year 10000 allowed)."""
    parts = [int(part) for part in value.split("-")]
    year = parts[0]
    if period is Period.YEAR:
        return f"{year:04d}-01-01", f"{year + 1:04d}-01-01"
    month = parts[1]
    if period is Period.MONTH:
        following = (year + month // 12, month % 12 + 1)
        return f"{year:04d}-{month:02d}-01", f"{following[0]:04d}-{following[1]:02d}-01"
    day = date(year, month, parts[2])
    following_day = "10000-01-01" if day == date.max else (day + timedelta(days=1)).isoformat()
    return day.isoformat(), following_day


def driver_batches(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    """The record batches ADBC decodes, as they arrive (a seam for tests to observe)."""
    yield from reader


class PostgresEngine(SqlEngine, SourceEngine):
    """A PostgreSQL database; each table's questions and reads share one exported snapshot."""

    capabilities = CAPABILITIES
    streams_rows = True
    max_select_items = 1664
    sum_overflow = ("value out of range: overflow",)  # a float SUM past the largest double

    def __init__(self, url: str, number_policy: LogicalType):
        self.target: Target = target(url)
        self.number_policy = number_policy
        self._catalog: Any = open_connection(self.target)  # fail fast on a bad URL or password
        encoding = self._catalog.execute("SHOW server_encoding").fetchone()
        self.server_utf8: bool = encoding is not None and encoding[0] == "UTF8"
        # SQL_ASCII stores bytes unchecked: lengths count bytes, so they are taken in UTF-8
        self.server_bytes: bool = encoding is not None and encoding[0] == "SQL_ASCII"
        if self._catalog.info.server_version < HASH_AGGREGATE_SPILLS:
            self.row_fence = ""  # a hash aggregate there could outgrow work_mem: sort instead
        self._data: Any = None  # questions run here, inside the current table's snapshot
        self._arrow: Any = None  # ADBC: extraction
        self._snapshot: Snapshot | None = None
        self._tokens: list[str] = []  # snapshots `_snapshot_table` was read from
        self._savepoint: Any = None  # the snapshot connection while statistics run in a savepoint
        self._snapshot_table: str | None = None
        self._given: dict[str, str] = {}  # table -> a snapshot another process exported
        self._table: str | None = None  # the table whose question is being answered
        self._relations: dict[str, Relation | None] = {}
        self._readings: dict[tuple[str, str], ColumnReading] = {}
        self._row_bytes: dict[str, float] = {}
        self._logged: set[tuple[str, str]] = set()

    def __repr__(self) -> str:
        return f"PostgresEngine({self.target.display})"

    # --- fragments ---------------------------------------------------------------------------
    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def table_sql(self, table: str) -> str:
        relation = self._relation(table)
        if relation is None:
            raise TableMissingError(table, "PostgreSQL source")
        return f"{self.quote(relation.schema)}.{self.quote(relation.name)}"

    def canonical_sql(self, expression: str, logical: LogicalType) -> str:
        kind = logical.kind
        if kind is Kind.DECIMAL:
            # ROUND fixes the scale without a precision to overflow: a source value the lake's
            # decimal cannot hold (more digits, Infinity) renders as itself, a difference.
            return f"CAST(ROUND({expression}, {logical.scale}) AS text)"
        if kind is Kind.FLOAT:
            return float_canonical_sql(f"CAST({expression} AS float8)")
        if kind is Kind.TIMESTAMP:
            value = self.at_common_precision(self._utc(expression, logical))
            return iso_timestamp_sql(value)
        if kind is Kind.STRING:
            return escaped_text_sql(text_sql(expression))
        template = _CANONICAL.get(kind)
        if template is None:
            raise TerminalError(f"PostgreSQL cannot render canonical text for {logical}")
        return template.format(x=expression)

    def column_canonical_sql(self, column: Column, logical: LogicalType) -> str:
        # text and varchar need no `concat` (0.3 s a column per 5M rows, in two workers)
        if logical.kind is Kind.STRING and plain_text(column.native_type):
            return escaped_text_sql(self.quote(column.name))
        declared = _DECLARED_NUMERIC.fullmatch(column.native_type)
        if (
            logical.kind is Kind.DECIMAL
            and declared is not None
            and (int(declared.group(1)), int(declared.group(2)))
            == (logical.precision, logical.scale)
        ):  # declared as the lake keeps it: its own text has the scale's digits, nothing to round
            return f"CAST({self.quote(column.name)} AS text)"
        return super().column_canonical_sql(column, logical)

    def may_exceed_scale(self, column: Column, scale: int) -> bool:
        return not fits_scale(column.native_type, scale)

    def exact_number_sql(self, expression: str) -> str:
        return f"CAST({expression} AS text)"

    def _utc(self, expression: str, logical: LogicalType) -> str:
        # AT TIME ZONE 'UTC' gives the UTC wall time whatever the session's TimeZone.
        return f"(({expression}) AT TIME ZONE 'UTC')" if logical.tz else expression

    # A volatile column keeps PostgreSQL from pulling pass 1's subquery up into the aggregate
    # (clock_timestamp() is volatile yet parallel safe; OFFSET 0 would fence too but runs in one
    # process). Unmerged, each worker hashes rows as it scans them, the planner sees the
    # subquery's groups as a few thousand instead of one per key, and it aggregates them in a
    # hash table instead of sorting whole rows first: 5.7 s instead of 6.5 s for 5M rows. Only
    # from PostgreSQL 13, whose hash aggregates spill to disk past work_mem.
    row_fence = ", clock_timestamp() AS fence"

    def hash60_sql(self, text_expression: str) -> str:
        # md5 hashes the text's bytes in the server's encoding: UTF-8 for the other engines too,
        # else convert_to (a quarter of a microsecond a row, so only where needed).
        text = text_expression if self.server_utf8 else f"convert_to({text_expression}, 'UTF8')"
        md5 = f"md5({text})"
        return f"CAST(CAST('x' || substr({md5}, 1, 15) AS bit(60)) AS bigint)"

    def round_to_millisecond_sql(self, expression: str) -> str:
        return f"date_trunc('milliseconds', ({expression}) + interval '500 microseconds')"

    def period_sql(self, expression: str, logical: LogicalType, period: Period) -> str:
        """The period's text; NULL outside years 1-9999, where `to_char` would drop a BC
        date's era (a period of the AD year) or fail on a date past a timestamp's range: such a
        row lands in the NULL period, whose conversion refuses it by name."""
        value = self._utc(expression, logical)
        if logical.kind is Kind.TIMESTAMP:
            value = self.at_common_precision(value)
        keyword = "DATE" if logical.kind is Kind.DATE else "TIMESTAMP"
        return (
            f"CASE WHEN {value} >= {keyword} '0001-01-01' AND {value} < {keyword} '10000-01-01' "
            f"THEN to_char({value}, '{_PERIOD_FORMAT[period]}') END"
        )

    def period_predicate(self, column: Column, period: Period, value: str | None) -> str:
        """A range on the column itself, which PostgreSQL can answer from an index."""
        kind = column.logical.kind
        if value is None or kind not in (Kind.DATE, Kind.TIMESTAMP) or self.rounds(column.logical):
            return super().period_predicate(column, period, value)
        low, high = period_range(value, period)
        keyword = (
            "DATE" if kind is Kind.DATE else "TIMESTAMPTZ" if column.logical.tz else "TIMESTAMP"
        )
        zone = "+00" if column.logical.tz else ""
        name = self.quote(column.name)
        return f"({name} >= {keyword} '{low}{zone}' AND {name} < {keyword} '{high}{zone}')"

    def timestamp_literal(self, value: datetime) -> str:
        moment = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return f"TIMESTAMPTZ '{moment.isoformat(sep=' ')}'"

    def length_sql(self, expression: str) -> str:
        if self.server_bytes:  # characters of the UTF-8 the lake holds ('€' is 3 bytes)
            return f"length(convert_to({expression}, 'UTF8'), 'UTF8')"
        return f"char_length({expression})"

    def sum_sql(self, expression: str, logical: LogicalType) -> str:
        """Floats in double precision (SUM(real) would sum in single). After an overflow, which
        PostgreSQL raises where IEEE goes to infinity: two sums, of the values past 1e300 scaled
        by 2^-600 (exactly; too large to underflow) and of the others, added in `sum_value`.
        Integers sum as numeric: exact, no overflow."""
        if logical.kind is not Kind.FLOAT:
            return f"SUM({expression})"
        value = f"CAST({expression} AS float8)"
        if not self.wide_sums:
            return f"SUM({value})"
        large = f"abs({value}) > CAST('1e300' AS float8)"  # NaN too: PostgreSQL orders it last
        return (
            f"ARRAY[SUM(CASE WHEN {large} THEN {value} * CAST('{FLOAT_SUM_SCALE!r}' AS float8) "
            f"END), SUM(CASE WHEN NOT {large} THEN {value} END)]"
        )

    def sum_value(self, value: Any, logical: LogicalType) -> Any:
        if not isinstance(value, list):
            return value
        large, rest = value
        if large is None and rest is None:
            return None
        return (large or 0.0) / FLOAT_SUM_SCALE + (rest or 0.0)  # past the largest double: inf

    def _column_stats(
        self, scope: Scope, columns: Sequence[Column], types: Sequence[LogicalType]
    ) -> dict[str, ColumnStats]:
        """In a savepoint of the table's snapshot: a query that fails (a float SUM that
        overflows, asked again scaled) must not end the snapshot the table's other questions
        read."""
        with self.about(scope.table):
            connection = self._question_connection()
            if connection.info.transaction_status != TransactionStatus.INTRANS:
                return super()._column_stats(scope, columns, types)
            with self._translated(scope.table):
                connection.execute(f"SAVEPOINT {_SAVEPOINT}")
            self._savepoint = connection  # `_failure` rolls back to it instead of ending
            try:
                return super()._column_stats(scope, columns, types)
            finally:
                self._savepoint = None
                if connection.info.transaction_status == TransactionStatus.INTRANS:
                    with suppress(*DriverError):  # rolled back to after a failure: still there
                        connection.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._translated(self._table):
            connection = self._question_connection()
            # No parameters: no placeholder parsing, so a '%' in a where filter stays itself.
            return list(connection.execute(sql, list(parameters) or None).fetchall())

    def query_stream(self, sql: str) -> Iterator[tuple[Any, ...]]:
        """Rows as the server sends them, on the connection `query` would use (the snapshot's)."""
        with self._translated(self._table):
            yield from streamed(self._question_connection(), sql)

    def _question_connection(self) -> Any:
        """Where questions run: the current table's snapshot while it lives, else `_data`."""
        snapshot = self._snapshot
        return snapshot.connection if snapshot and snapshot.alive else self._data_connection()

    # --- connections, snapshot and errors ------------------------------------------------------
    def _reopen(self, opener: Callable[[Target], Any]) -> Any:
        try:
            return opener(self.target)
        except ConfigError as error:  # it answered before: the server went away meanwhile
            raise TransientError(str(error)) from None

    def _catalog_connection(self) -> Any:
        if self._catalog is None or self._catalog.closed:
            self._catalog = self._reopen(open_connection)
        return self._catalog

    def _data_connection(self) -> Any:
        if self._data is None or self._data.closed:
            self._data = self._reopen(open_connection)
        return self._data

    def _arrow_connection(self) -> Any:
        if self._arrow is None:
            self._arrow = self._reopen(open_arrow_connection)
        return self._arrow

    def _drop_connections(self) -> None:
        if self._snapshot is not None:
            self._snapshot.forget()
        self._snapshot = None
        for connection in (self._catalog, self._data, self._arrow):
            close_quietly(connection)
        self._catalog = self._data = self._arrow = None

    def _failure(self, error: BaseException, table: str | None) -> LakeshiftError:
        failure = classify(error, table)
        if isinstance(failure, TransientError):
            self._drop_connections()
            return failure
        if self._savepoint is not None and not self._savepoint.closed:
            with suppress(*DriverError):  # back to before the failed question: snapshot alive
                self._savepoint.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
        if self._snapshot is not None and not self._snapshot.alive:
            self._snapshot.end()  # the error aborted the snapshot's transaction
            self._snapshot = None
        return failure

    @contextmanager
    def _translated(self, table: str | None) -> Iterator[None]:
        try:
            yield
        except DriverError as error:
            raise self._failure(error, table) from None

    def _use_snapshot(self, table: str) -> None:
        """Questions about `table` run in its snapshot, exported on the first of them."""
        current = self._snapshot
        if current is not None and current.table == table and current.alive:
            return
        if current is not None:
            current.end()
        renewing = bool(self._tokens) and self._snapshot_table == table
        self._snapshot = None
        self._snapshot = Snapshot(self._data_connection(), table, self.target.conninfo)
        if renewing:
            logger.warning(
                "{}: snapshot {} replaces {} after an error; reads before and after it may differ",
                table,
                self._snapshot.token,
                self._tokens[-1],
            )
            self._tokens.append(self._snapshot.token)
        else:
            self._tokens = [self._snapshot.token]
        self._snapshot_table = table

    @contextmanager
    def _answering(self, table: str, *, own_snapshot: bool = True) -> Iterator[None]:
        """Questions about `table`: errors name it; by default they read its snapshot."""
        previous, self._table = self._table, table
        try:
            if own_snapshot:
                with self._translated(table):
                    self._use_snapshot(table)
            yield
        finally:
            self._table = previous

    def _read_snapshot(self, table: str) -> str:
        """The snapshot a slice of `table` is read from: ours, else the one another engine of
        this process holds for it (upload's parallel workers), else a new one of ours."""
        given = self._given.get(table)
        if given is not None:
            return given
        own = self._snapshot
        if own is not None and own.table == table and own.alive:
            return own.token
        published = published_snapshot(self.target.conninfo, table)
        if published is not None:
            return published
        with self._translated(table):
            self._use_snapshot(table)
        assert self._snapshot is not None
        return self._snapshot.token

    def use_snapshot(self, table: str, token: str) -> None:
        """Read `table` from a snapshot another process exported (a Dask worker reads at the
        upload client's snapshot); the exporting transaction must still be open."""
        self._given[table] = token.rsplit(",", 1)[-1]  # the latest, after a renewal

    def snapshot_token(self) -> str | None:
        """The exported snapshot(s) the last table was read from, comma-separated."""
        return ",".join(self._tokens) or None

    # --- metadata ------------------------------------------------------------------------------
    def wide_integer_sql(self, expression: str) -> str:
        return f"CAST({expression} AS bigint)"

    def _relation(self, table: str) -> Relation | None:
        if table in self._relations:
            return self._relations[table]
        schema, name = split_name(table)
        with self._translated(table):
            rows = self._catalog_connection().execute(_RELATION_SQL, [schema.text, name.text])
            rows = [r for r in rows if schema.admits(r[1]) and name.admits(r[2])]
        exact = [r for r in rows if (r[1], r[2]) == (schema.text, name.text)]
        if len(exact) != 1 and len(rows) > 1:
            found = ", ".join(written_name(r[1], r[2]) for r in rows)
            raise TerminalError(
                f"{table}: several tables match ignoring case ({found}); write the one meant "
                f"in the inventory exactly, in double quotes, e.g. {written_name(*rows[0][1:3])}"
            )
        chosen = (exact or rows or [None])[0]
        relation = Relation(int(chosen[0]), chosen[1], chosen[2]) if chosen else None
        self._relations[table] = relation
        return relation

    def table_exists(self, table: str) -> bool:
        return self._relation(table) is not None

    def columns(self, table: str) -> list[Column]:
        relation = self._relation(table)
        if relation is None:
            raise TableMissingError(table, "PostgreSQL source")
        with self._translated(table):
            rows = self._catalog_connection().execute(_COLUMNS_SQL, [relation.oid]).fetchall()
        columns = []
        for (
            name,
            declared,
            nullable,
            base,
            formatted,
            typtype,
            element,
            element_formatted,
            element_typtype,
        ) in rows:
            items = PgType(element, element_formatted, element_typtype) if element else None
            reading = column_reading(PgType(base, formatted, typtype, items), self.number_policy)
            self._readings[(table, name)] = reading
            self._log_reading(table, name, reading)
            columns.append(Column(name, declared, reading.logical, bool(nullable)))
        return columns

    def _log_reading(self, table: str, column: str, reading: ColumnReading) -> None:
        if (table, column) in self._logged or not (reading.note or reading.problem):
            return
        self._logged.add((table, column))
        if reading.problem:
            logger.warning(  # the engine reads columns before the mapping is applied
                "{}.{}: {}; the upload refuses the table unless the column mappings drop it",
                table,
                column,
                reading.problem,
            )
        else:
            logger.info("{}.{}: {}", table, column, reading.note)

    def primary_key(self, table: str) -> list[str]:
        relation = self._relation(table)
        if relation is None:
            return []
        with self._translated(table):
            rows = self._catalog_connection().execute(_PRIMARY_KEY_SQL, [relation.oid]).fetchall()
        return [row[0] for row in rows]

    def fit_warnings(self, scope: Scope, columns: Sequence[Column]) -> list[str]:
        """One line per column the upload refuses: a type it cannot read, or values it refuses
        (counted in one scan of the table, by the rule the upload applies: `refused_sql`)."""
        warnings = []
        checks = []
        for column in columns:
            reading = self._reading_of(scope.table, column)
            if reading.problem:
                warnings.append(unsupported_warning(scope.table, column, reading.problem))
            elif (sql := refused_sql(reading, self.quote(column.name))) is not None:
                advice = _REFUSED_ADVICE[column.logical.kind]
                checks.append((column, f"CASE WHEN {sql} THEN 1 END", advice))
        return warnings + self.refusal_warnings(scope, checks)

    # --- questions, each answered inside the table's snapshot ---------------------------------
    def about(self, table: str) -> AbstractContextManager[None]:
        return self._answering(table)

    def stat_selects(self, name: str, logical: LogicalType) -> list[str]:
        """The shared statistics, over each value as the lake holds it and ordered as DuckDB does.

        PostgreSQL has no MIN for boolean or bytea and none for json; text ordering follows the
        collation. So booleans are compared as 0/1, bytea as its hex text and every string kind
        as its text output in the "C" collation (code point order, like DuckDB).
        """
        value, extreme = self._comparable(name, logical)
        is_text = logical.kind is Kind.STRING
        return [
            f"COUNT({name})",
            f"COUNT(DISTINCT {self.distinct_sql(value, logical)})",
            extreme("MIN"),
            extreme("MAX"),
            self.sum_sql(name, logical) if logical.is_numeric else "NULL",
            f"MIN({self.length_sql(value)})" if is_text else "NULL",
            f"MAX({self.length_sql(value)})" if is_text else "NULL",
        ]

    def _comparable(self, name: str, logical: LogicalType) -> tuple[str, Callable[[str], str]]:
        """The value to count and order, and the canonical text of its MIN or MAX."""
        if logical.kind is Kind.BOOLEAN:
            value = f"CAST({name} AS integer)"
            return value, lambda aggregate: f"CAST({aggregate}({value}) AS text)"
        if logical.kind is Kind.BINARY:
            value = f"encode({name}, 'hex') COLLATE \"C\""  # hex text orders as the bytes do
            return value, lambda aggregate: f"{aggregate}({value})"
        if logical.kind is Kind.STRING:
            value = f'({text_sql(name)}) COLLATE "C"'
            if self.server_utf8:  # "C" orders the UTF-8 bytes: code point order, as the lake
                return value, lambda aggregate: self.canonical_sql(f"{aggregate}({value})", logical)
            # Another encoding's bytes order otherwise ('€' before 'ÿ' in WIN1252): the extremes
            # are taken over the UTF-8 bytes as hex text, which orders as they do (PostgreSQL
            # has no MIN of a bytea), and converted back.
            utf8 = f"encode(convert_to({text_sql(name)}, 'UTF8'), 'hex') COLLATE \"C\""
            return value, lambda aggregate: self.canonical_sql(
                f"convert_from(decode({aggregate}({utf8}), 'hex'), 'UTF8')", logical
            )
        return name, lambda aggregate: self.canonical_sql(f"{aggregate}({name})", logical)

    # --- extraction ---------------------------------------------------------------------------
    def _reading_of(self, table: str, column: Column) -> ColumnReading:
        if (table, column.name) not in self._readings:
            self.columns(table)
        reading = self._readings.get((table, column.name))
        if reading is None:
            raise TerminalError(f"{table}.{column.name}: no such column in the PostgreSQL source")
        return reading

    def _select_sql(self, column: Column, reading: ColumnReading) -> str:
        name = self.quote(column.name)
        if reading.as_decimal_text:
            return f"CAST({name} AS text) AS {name}"  # exact digits; see postgres_types
        if reading.as_text:
            return f"{text_sql(name)} AS {name}"
        return name

    def _batch_hint(self, table: str, columns: Sequence[Column], batch_rows: int) -> int:
        """Bytes per driver batch: about `batch_rows` rows at the width measured (or guessed)."""
        width = self._row_bytes.get(table) or sum(
            _ESTIMATED_WIDTH.get(c.logical.kind, 8) for c in columns
        )
        low, high = BATCH_HINT_BOUNDS
        return int(min(max(batch_rows * width, low), high))

    def stream(
        self, scope: Scope, columns: Sequence[Column], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        """Rows of `scope` in Arrow batches of at most `batch_rows`, from the table's snapshot."""
        readings = [self._reading_of(scope.table, column) for column in columns]
        for column, reading in zip(columns, readings, strict=True):
            if reading.problem:
                raise ConversionError(scope.table, column.name, reading.problem)
        with self._answering(scope.table, own_snapshot=False):
            selects = ", ".join(
                self._select_sql(c, r) for c, r in zip(columns, readings, strict=True)
            )
            sql = f"SELECT {selects} FROM {self.table_sql(scope.table)}{self.where_sql(scope)}"
            token = self._read_snapshot(scope.table)
            hint = self._batch_hint(scope.table, columns, batch_rows)
        yield from self._read_arrow(scope.table, sql, token, columns, batch_rows, hint)

    def _read_arrow(
        self,
        table: str,
        sql: str,
        token: str,
        columns: Sequence[Column],
        batch_rows: int,
        hint: int,
    ) -> Iterator[pa.RecordBatch]:
        schema = pa.schema([pa.field(c.name, c.logical.to_arrow()) for c in columns])
        rows = size = 0
        finished = False
        try:
            with self._translated(table):
                connection = self._arrow_connection()
            with (
                imported_snapshot(connection, token),
                connection.read(sql, {BATCH_HINT_OPTION: str(hint)}) as reader,
            ):
                for raw in driver_batches(reader):
                    batch = self._converted(raw, schema, table, columns)
                    rows, size = rows + batch.num_rows, size + batch.nbytes
                    for offset in range(0, batch.num_rows, batch_rows):
                        yield batch.slice(offset, batch_rows)
            finished = True
        except (*DriverError, OSError) as error:
            raise self._failure(error, table) from None
        finally:
            if not finished:  # an unfinished COPY leaves the connection unusable: start afresh
                close_quietly(self._arrow)
                self._arrow = None
        if rows:
            self._row_bytes[table] = size / rows

    def _converted(
        self, raw: pa.RecordBatch, schema: pa.Schema, table: str, columns: Sequence[Column]
    ) -> pa.RecordBatch:
        arrays = [
            to_logical_array(raw.column(index), column.logical, table, column.name)
            for index, column in enumerate(columns)
        ]
        return pa.RecordBatch.from_arrays(arrays, schema=schema)

    def interrupt(self) -> None:
        """Cancel whatever the question connections run (a cancel reaching an idle connection
        does nothing); a cancelled snapshot is renewed by the next question."""
        snapshot = self._snapshot
        for connection in (snapshot.connection if snapshot else None, self._data):
            if connection is not None and not connection.closed:
                cancel = getattr(connection, "cancel_safe", connection.cancel)  # psycopg 3.2+
                with suppress(*DriverError):
                    cancel()

    def close(self) -> None:
        if self._snapshot is not None:
            self._snapshot.end()
        self._drop_connections()


def connect(url: str, config: MigrationConfig) -> PostgresEngine:
    """`postgresql://user:password@host:port/database` (libpq parameters may follow `?`)."""
    return PostgresEngine(url, config.number_policy)
