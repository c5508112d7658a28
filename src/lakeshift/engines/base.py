"""What every engine answers, and the SQL shapes they share.

An engine module subclasses `SqlEngine`, declares its `Capabilities` and renders the few SQL
fragments that differ between dialects (quoting, canonical text per logical type, the 60-bit
hash, the period of a date). The questions verification asks ("row count per period", "stats of
these columns", "bucket checksums", "rows of these groups") are assembled here from those
fragments, so the algorithms in `lakeshift.verify` never see SQL and never ask an engine's name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Context, Decimal
from typing import Any, NamedTuple

import pyarrow as pa

from lakeshift.errors import UNREADABLE_LOOKS_MISSING, TerminalError
from lakeshift.inventory import Period
from lakeshift.types import Kind, LogicalType
from lakeshift.verify.canonical import (
    HALF_BITS,
    HALF_MASK,
    KEY_RUN,
    LAST_MICROSECOND,
    LAST_MILLISECOND,
    ROUNDS_PAST_9999,
    TIMESTAMP_PRECISION,
    readable_value,
    split_checksum,
)

KEYS_PER_QUERY = 20_000


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do, declared once per engine module."""

    name: str  # for messages and artifacts only; shared code never branches on it
    snapshot: str  # "flashback", "repeatable_read", "consistent_snapshot" or "none"
    timestamp_precision: str  # finest precision the engine stores and shows: "microsecond", ...
    max_identifier_length: int = 128
    exact_decimal_storage: bool = True  # False: decimals are stored as floats (SQLite)
    # SUM of a BIGINT is exact (PostgreSQL returns numeric, MySQL decimal): a bucket's checksum
    # is one SUM of the row hash, so no CTE is needed to hash each row once and the planner may
    # scan in parallel
    exact_bigint_sum: bool = False
    # The widest decimal the engine compares (DuckDB and Athena: 38 digits); None for no limit
    max_decimal_digits: int | None = None
    # The catalog lists only tables the user may read: one without SELECT looks missing
    hides_unreadable_tables: bool = False

    @property
    def missing_source_table(self) -> str:
        """Why a source table is not found, as far as this engine can tell."""
        hint = f" ({UNREADABLE_LOOKS_MISSING})" if self.hides_unreadable_tables else ""
        return f"table does not exist in the source{hint}"


@dataclass(frozen=True)
class Column:
    name: str
    native_type: str
    logical: LogicalType
    nullable: bool = True


@dataclass(frozen=True)
class Scope:
    """Which rows of a table a question is about."""

    table: str
    where: str | None = None  # the inventory's filter, in this engine's dialect
    cutoff: datetime | None = None  # lake side: rows uploaded at or before this time
    period_column: Column | None = None
    period: Period = Period.MONTH
    excluded_periods: frozenset[str | None] = frozenset()
    only_periods: frozenset[str | None] | None = None  # None: every period not excluded
    key_range: KeyRange | None = None  # upload slices by key


@dataclass(frozen=True)
class KeyRange:
    """Rows whose integer key is in [low, high); both None selects the rows with a NULL key."""

    column: str
    low: int | None
    high: int | None


@dataclass(frozen=True)
class RowPlan:
    """The columns compared row by row, with the logical types both sides render them as."""

    columns: tuple[Column, ...]
    types: tuple[LogicalType, ...]
    key: tuple[int, ...] = ()  # positions in `columns`; empty means compare as a multiset
    buckets: int = 256


@dataclass(frozen=True, slots=True)  # pass 1 returns one per (period, bucket): many
class GroupSum:
    count: int
    checksum: int


# Pass 1's answer: (period, bucket, sums) per group, in ascending bucket order.
GroupSums = Iterator[tuple[str | None, int, GroupSum]]


class RowDigest(NamedTuple):  # pass 2 makes hundreds of thousands: a tuple builds fastest
    period: str | None
    bucket: int
    key: str  # canonical key text (the row text itself when there is no key)
    row_hash: int
    rows: int = 1  # without a key, identical rows come as one digest and their number


@dataclass
class ColumnStats:
    """Statistics of one column; min/max are canonical text so engines compare exactly (a
    float's as the shortest decimal of its bits, just as exact)."""

    rows: int
    nulls: int
    distinct: int
    min: str | None
    max: str | None
    sum: str | None = None
    mean: str | None = None
    min_length: int | None = None
    max_length: int | None = None


class Engine(ABC):
    """An engine that holds tables and answers questions about them."""

    capabilities: Capabilities
    # The precision canonical timestamps, periods and distinct counts render at: the coarsest of
    # the two engines being compared (`verify.canonical.common_precision`).
    timestamps_at: str = TIMESTAMP_PRECISION

    @property
    def bytes_scanned(self) -> int | None:
        """Bytes this engine has scanned (and billed) so far, where it says (Athena)."""
        return None

    def rounds(self, logical: LogicalType) -> bool:
        """Whether values of `logical` are rendered rounded (timestamps at milliseconds): then
        index-friendly shortcuts over the stored value no longer hold."""
        return logical.kind is Kind.TIMESTAMP and self.timestamps_at != TIMESTAMP_PRECISION

    def compare_timestamps_at(self, precision: str) -> None:
        """Render timestamps at `precision` from now on ("microsecond" or "millisecond")."""
        if precision not in ("microsecond", "millisecond"):
            raise ValueError(f"{self.capabilities.name} cannot compare timestamps at {precision}")
        self.timestamps_at = precision

    @abstractmethod
    def table_exists(self, table: str) -> bool: ...

    @abstractmethod
    def columns(self, table: str) -> list[Column]: ...

    @abstractmethod
    def row_count(self, scope: Scope) -> int: ...

    @abstractmethod
    def period_counts(
        self, scope: Scope, column: Column, period: Period
    ) -> dict[str | None, int]: ...

    @abstractmethod
    def column_stats(
        self, scope: Scope, columns: Sequence[Column], types: Sequence[LogicalType]
    ) -> dict[str, ColumnStats]: ...

    @abstractmethod
    def bucket_checksums(self, scope: Scope, plan: RowPlan) -> GroupSums:
        """Row count and checksum of each (period, bucket) group, as a stream ascending by
        bucket (the periods of one bucket in any order: collations differ between engines), so
        the diff can merge both sides without holding every group. Read it to its end or close
        it: the engine's question about the table stays open while it is read."""

    @abstractmethod
    def group_rows(
        self, scope: Scope, plan: RowPlan, groups: Iterable[tuple[str | None, int]]
    ) -> list[RowDigest]: ...

    @abstractmethod
    def row_texts(
        self,
        scope: Scope,
        plan: RowPlan,
        groups: Sequence[tuple[str | None, int]],
        keys: Sequence[str],
    ) -> dict[str, list[str | None]]:
        """Canonical text of each column of the rows with these keys, found in these groups."""

    # True where `bucket_rows` streams (its driver hands rows over as they come)
    streams_rows = False

    def bucket_rows(self, scope: Scope, plan: RowPlan) -> Iterator[RowDigest]:
        """Every row's digest (identical rows of a keyless plan counted, as `group_rows`
        gives them), as a stream ascending by bucket: pass 2 in one sorted scan when more rows
        differ than its scans of chosen groups cover. Only where `streams_rows`."""
        raise NotImplementedError(f"{type(self).__name__} does not stream rows")

    def rows_after_cutoff(self, scope: Scope) -> int:
        """Lake side: rows of `scope` stamped after its cutoff, which no question sees (rows of
        an upload that recorded nothing: killed, or still running)."""
        raise NotImplementedError(f"{type(self).__name__} holds no lake")

    def interrupt(self) -> None:  # noqa: B027 - engines that cannot cancel need not override
        """Cancel the question running now, from another thread (a diff whose other side
        failed does not wait for this side's scan). The interrupted question raises."""

    def close(self) -> None:  # noqa: B027 - engines without resources need not override
        pass


class SourceEngine(Engine):
    """An engine data can be extracted from."""

    @abstractmethod
    def stream(
        self, scope: Scope, columns: Sequence[Column], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        """Rows of `scope` as Arrow batches of at most `batch_rows` rows, types per `columns`."""

    @abstractmethod
    def key_range_counts(
        self, scope: Scope, column: Column, low: int, width: int
    ) -> dict[int, int]: ...

    def primary_key(self, table: str) -> list[str]:
        """Columns of the table's primary key, in key order (empty when it has none)."""
        return []

    def widest_unbounded_bytes(self, scope: Scope, columns: Sequence[Column]) -> int | None:
        """The most bytes one row of `scope` holds in its columns of unbounded width, where the
        driver fetches a fixed number of rows whatever their size (Oracle's LOBs); None where
        batches need no such measure (no such column, or a driver that bounds them itself)."""
        return None

    def fit_warnings(self, scope: Scope, columns: Sequence[Column]) -> list[str]:
        """Lines about values the lake cannot hold exactly (finer timestamps, wide numbers)."""
        return []

    def require_supported(self, table: str, columns: Iterable[Column]) -> None:
        """Raise naming the first of `columns` whose type this engine cannot read exactly (the
        column mapping can leave it out)."""

    def conversion_notes(self, column: Column) -> tuple[str, ...]:
        """What reading this column into the lake changes (a wider source type kept as a double,
        digits below a microsecond cut, a zone offset dropped). Comparisons render the source
        value as the lake keeps it, so a difference the conversion erases is not seen: the
        results list these notes beside the precision proven."""
        return ()

    def use_snapshot(self, table: str, token: str) -> None:
        """Read `table` at a recorded snapshot from now on (engines with flashback only)."""

    def snapshot_token(self) -> str | None:
        """An identifier of the consistent snapshot reads use (SCN, exported snapshot), if any."""
        return None


def refused_warning(table: str, column: Column, rows: int, advice: str) -> str:
    """The analyzer's line about a column whose values the upload refuses: the column, its
    declared type, the lake's type and the rows that hold such values, then what to do."""
    return (
        f"{table}.{column.name}: {rows} row(s) hold values of {column.native_type} that do not "
        f"fit the lake's {column.logical}; the upload refuses them: {advice}"
    )


def unsupported_warning(table: str, column: Column, reason: str) -> str:
    """The analyzer's line about a column whose type the upload cannot read at all."""
    return (
        f"{table}.{column.name}: {reason}; the upload refuses the table unless the column "
        "mappings drop the column"
    )


class SqlEngine(Engine):
    """Assembles the shared query shapes from a dialect's fragments."""

    # "MATERIALIZED " where an engine would otherwise inline the row hash into both half sums
    materialize_hint = ""
    # An extra column of pass 1's per-row subquery that keeps the planner from merging it into
    # the aggregate (PostgreSQL), so each row is hashed where it is read
    row_fence = ""
    # The most literals one IN list may hold (Oracle: 1000); None for no limit
    in_list_limit: int | None = None
    # Texts of the engine's errors when a SUM overflows: statistics are then asked again with
    # `wide_sums` set, and `sum_sql` sums wider (SQLite in Python, DuckDB in two parts)
    sum_overflow: tuple[str, ...] = ()
    wide_sums = False
    # The most items one SELECT list may hold (Oracle 1000, PostgreSQL 1664, SQLite 2000):
    # statistics of a wider table are asked in several queries; None for no limit
    max_select_items: int | None = None
    # The longest query the engine accepts, in UTF-8 bytes (Athena: 262,144); None for no limit
    max_query_bytes: int | None = None

    def about(self, table: str) -> AbstractContextManager[None]:
        """Context every question about `table` runs in: a snapshot to read, errors to name."""
        return nullcontext()

    # --- fragments each dialect renders --------------------------------------------------------
    @abstractmethod
    def quote(self, identifier: str) -> str: ...

    @abstractmethod
    def table_sql(self, table: str) -> str: ...

    @abstractmethod
    def canonical_sql(self, expression: str, logical: LogicalType) -> str:
        """SQL rendering `expression` as canonical text (NULL stays NULL)."""

    def require_comparable(self, table: str, columns: Iterable[Column]) -> None:
        """Raise before a question that renders `columns` of `table` (statistics, row hashes,
        row texts) when this engine cannot render them exactly; the shared shapes call it."""

    def column_canonical_sql(self, column: Column, logical: LogicalType) -> str:
        """`canonical_sql` of a table's column, which may use what its declared type allows.

        A decimal column whose declared type may hold more places than the lake keeps renders
        such a value whole (`exact_number_sql`), never rounded into the lake's text: the upload
        refuses those values, so only a source changed since holds one."""
        name = self.quote(column.name)
        text = self.canonical_sql(name, logical)
        if logical.kind is Kind.DECIMAL and self.may_exceed_scale(column, logical.scale or 0):
            return (
                f"CASE WHEN {name} <> ROUND({name}, {logical.scale or 0}) "
                f"THEN {self.exact_number_sql(name)} ELSE {text} END"
            )
        return text

    def may_exceed_scale(self, column: Column, scale: int) -> bool:
        """Whether the column's declared type admits more than `scale` decimal places."""
        return False

    def exact_number_sql(self, expression: str) -> str:
        """A number's text with every place it holds."""
        return f"CAST({expression} AS VARCHAR)"

    @abstractmethod
    def hash60_sql(self, text_expression: str) -> str:
        """SQL of the first 60 bits of md5(text) as a BIGINT."""

    @abstractmethod
    def period_sql(self, expression: str, logical: LogicalType, period: Period) -> str:
        """SQL of the period text (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`, in UTC) of a date value."""

    @abstractmethod
    def timestamp_literal(self, value: datetime) -> str: ...

    def round_to_millisecond_sql(self, expression: str) -> str:
        """SQL of a UTC wall-time timestamp rounded half up to the millisecond (a timestamp)."""
        raise TerminalError(f"{self.capabilities.name} cannot compare timestamps at milliseconds")

    def at_common_precision(self, expression: str) -> str:
        """A UTC wall-time timestamp expression at the precision timestamps compare at (held at
        the last millisecond of year 9999 where rounding would pass it, as `round_timestamp`;
        infinity and later years, which PostgreSQL and DuckDB hold, keep their own text)."""
        if self.timestamps_at == "millisecond":
            return (
                f"CASE WHEN {expression} >= TIMESTAMP '{ROUNDS_PAST_9999}' "
                f"AND {expression} <= TIMESTAMP '{LAST_MICROSECOND}' "
                f"THEN TIMESTAMP '{LAST_MILLISECOND}' "
                f"ELSE {self.round_to_millisecond_sql(expression)} END"
            )
        return expression

    @abstractmethod
    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def query_stream(self, sql: str) -> Iterator[tuple[Any, ...]]:
        """The rows of `sql` as the driver hands them over, for answers too many to hold.

        Engines override it where the driver streams without holding the whole result. This
        default holds it: fine where results are paged anyway and a retry reruns the whole
        query (Athena).
        """
        yield from self.query(sql)

    def concat_sql(self, parts: Sequence[str]) -> str:
        """The parts joined; callers pass parts that are never NULL (COALESCEd or literals)."""
        return " || ".join(parts)

    def string_literal(self, value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    def length_sql(self, expression: str) -> str:
        return f"LENGTH({expression})"

    def sum_sql(self, expression: str, logical: LogicalType) -> str:
        return f"SUM({expression})"

    def shift_sql(self, expression: str) -> tuple[str, str]:
        """High and low 30-bit halves of a 60-bit hash."""
        return f"({expression} >> {HALF_BITS})", f"({expression} & {HALF_MASK})"

    # --- shared query shapes ---------------------------------------------------------------------
    def where_sql(self, scope: Scope, extra: Sequence[str] = ()) -> str:
        predicates = list(extra)
        if scope.where:
            predicates.append(f"({scope.where})")
        if scope.cutoff is not None:
            # A row without the stamp was written by no upload of lakeshift's; a reader of the
            # lake sees it, so the comparison does too (as a row the source does not have)
            stamp = self.quote("_upload_timestamp")
            predicates.append(
                f"({stamp} <= {self.timestamp_literal(scope.cutoff)} OR {stamp} IS NULL)"
            )
        if scope.excluded_periods and scope.period_column is not None:
            period = self._period_of(scope)
            named = sorted(p for p in scope.excluded_periods if p is not None)
            if named:
                literals = ", ".join(self.string_literal(p) for p in named)
                predicates.append(f"({period} IS NULL OR {period} NOT IN ({literals}))")
            if None in scope.excluded_periods:
                predicates.append(f"{period} IS NOT NULL")
        if (keys := scope.key_range) is not None:
            key = self.quote(keys.column)
            if keys.low is None or keys.high is None:
                predicates.append(f"{key} IS NULL")
            else:
                # Both bounds are values the key holds or lies between: a literal past the
                # column's type (MariaDB's YEAR stops at 2155) would compare false everywhere.
                predicates.append(f"{key} >= {keys.low} AND {key} <= {keys.high - 1}")
        if scope.only_periods is not None and scope.period_column is not None:
            column = scope.period_column
            tests = [
                self.period_predicate(column, scope.period, p)
                for p in sorted(scope.only_periods, key=lambda p: p or "")
            ]
            predicates.append("(" + " OR ".join(tests or ["1 = 0"]) + ")")
        return f" WHERE {' AND '.join(predicates)}" if predicates else ""

    def period_predicate(self, column: Column, period: Period, value: str | None) -> str:
        """SQL true for the rows whose date column falls in period `value`.

        The NULL period holds every row whose period text is NULL: a NULL date, and a value the
        engine prints no period for (PostgreSQL's `infinity`), so such a row is read, and refused
        by the conversion, instead of falling out of every slice."""
        expression = self.period_sql(self.quote(column.name), column.logical, period)
        if value is None:
            return f"{expression} IS NULL"
        return f"{expression} = {self.string_literal(value)}"

    def _period_of(self, scope: Scope) -> str:
        assert scope.period_column is not None
        column = scope.period_column
        return self.period_sql(self.quote(column.name), column.logical, scope.period)

    def ask(self, scope: Scope, sql: str) -> list[tuple[Any, ...]]:
        """Run one of the shared questions about `scope.table` inside `about`."""
        with self.about(scope.table):
            return self.query(sql)

    def ask_stream(self, scope: Scope, sql: str) -> Iterator[tuple[Any, ...]]:
        """`ask`, row by row: `about` stays open until the last row is read or the stream closed."""
        with self.about(scope.table):
            yield from self.query_stream(sql)

    def refusal_warnings(
        self, scope: Scope, checks: Sequence[tuple[Column, str, str]]
    ) -> list[str]:
        """The analyzer's lines about columns holding values the upload refuses, counted in one
        scan: each check is (column, SQL that is not NULL for such a value, what to do)."""
        if not checks:
            return []
        counts = ", ".join(f"COUNT({counted})" for _, counted, _ in checks)
        [row] = self.ask(
            scope, f"SELECT {counts} FROM {self.table_sql(scope.table)}{self.where_sql(scope)}"
        )
        return [
            refused_warning(scope.table, column, int(count), advice)
            for (column, _, advice), count in zip(checks, row, strict=True)
            if count
        ]

    def row_count(self, scope: Scope) -> int:
        rows = self.ask(
            scope, f"SELECT COUNT(*) FROM {self.table_sql(scope.table)}{self.where_sql(scope)}"
        )
        return int(rows[0][0])

    def period_counts(self, scope: Scope, column: Column, period: Period) -> dict[str | None, int]:
        expression = self.period_sql(self.quote(column.name), column.logical, period)
        sql = (
            f"SELECT {expression} AS p, COUNT(*) FROM {self.table_sql(scope.table)}"
            f"{self.where_sql(scope)} GROUP BY 1"
        )
        return {row[0]: int(row[1]) for row in self.ask(scope, sql)}

    def key_range_counts(
        self, scope: Scope, column: Column, low: int, width: int
    ) -> dict[int, int]:
        """Rows per range of `width` integer keys from `low`, by the range's index (NULL keys
        left out): counted by arithmetic, not by the ranges' own predicates, so a range whose
        predicate misses rows reads fewer than counted and is refused."""
        key = self.wide_integer_sql(self.quote(column.name))
        index = self.div_sql(f"{key} - {low}", width)
        sql = (
            f"SELECT {index}, COUNT(*) FROM {self.table_sql(scope.table)}"
            f"{self.where_sql(scope, [f'{key} IS NOT NULL'])} GROUP BY {index}"
        )
        return {int(row[0]): int(row[1]) for row in self.ask(scope, sql)}

    def wide_integer_sql(self, expression: str) -> str:
        """An integer in 64 bits for arithmetic its column's type may not hold (PostgreSQL
        subtracts two `integer`s in 32 bits); the others compute in 64 bits or more already."""
        return expression

    def rows_after_cutoff(self, scope: Scope) -> int:
        if scope.cutoff is None:
            return 0
        stamp = f"{self.quote('_upload_timestamp')} > {self.timestamp_literal(scope.cutoff)}"
        everything = replace(scope, cutoff=None)
        where = self.where_sql(everything, [stamp])
        sql = f"SELECT COUNT(*) FROM {self.table_sql(scope.table)}{where}"
        return int(self.ask(scope, sql)[0][0])

    def stat_value_sql(self, column: Column) -> str:
        """The value statistics count and order (engines without MIN on some types convert)."""
        return self.quote(column.name)

    def distinct_sql(self, value: str, logical: LogicalType) -> str:
        """What COUNT(DISTINCT ...) counts: two timestamps within one millisecond are one value
        once rounded to a common millisecond precision; other values count as they are."""
        if self.rounds(logical):
            return self.canonical_sql(value, logical)
        return value

    def stat_selects(self, value: str, logical: LogicalType) -> list[str]:
        """The seven statistics of one column, in the order `stats_from_row` reads them."""
        text = logical.kind is Kind.STRING
        return [
            f"COUNT({value})",
            f"COUNT(DISTINCT {self.distinct_sql(value, logical)})",
            self.canonical_sql(f"MIN({value})", logical),
            self.canonical_sql(f"MAX({value})", logical),
            self.sum_sql(value, logical) if logical.is_numeric else "NULL",
            f"MIN({self.length_sql(value)})" if text else "NULL",
            f"MAX({self.length_sql(value)})" if text else "NULL",
        ]

    def column_stats(
        self, scope: Scope, columns: Sequence[Column], types: Sequence[LogicalType]
    ) -> dict[str, ColumnStats]:
        """One query of every column's statistics; asked again with `wide_sums` set when the
        engine's SUM overflowed (its error contains one of `sum_overflow`), for `sum_sql` to sum
        wider."""
        self.require_comparable(scope.table, columns)
        try:
            return self._column_stats(scope, columns, types)
        except TerminalError as error:
            if self.wide_sums or not any(text in str(error) for text in self.sum_overflow):
                raise
        self.wide_sums = True
        try:
            return self._column_stats(scope, columns, types)
        finally:
            self.wide_sums = False

    def _column_stats(
        self, scope: Scope, columns: Sequence[Column], types: Sequence[LogicalType]
    ) -> dict[str, ColumnStats]:
        """One query per `max_select_items` worth of columns (seven statistics each)."""
        limit = self.max_select_items
        size = len(columns) if limit is None else max(1, (limit - 1) // STATISTICS_PER_COLUMN)
        stats: dict[str, ColumnStats] = {}
        for start in range(0, len(columns), max(size, 1)):
            part, part_types = columns[start : start + size], types[start : start + size]
            selects = ["COUNT(*)"]
            for column, logical in zip(part, part_types, strict=True):
                selects += self.stat_selects(self.stat_value_sql(column), logical)
            sql = (
                f"SELECT {', '.join(selects)} "
                f"FROM {self.table_sql(scope.table)}{self.where_sql(scope)}"
            )
            row = list(self.ask(scope, sql)[0])
            for index, logical in enumerate(part_types):
                sum_at = 5 + STATISTICS_PER_COLUMN * index
                row[sum_at] = self.sum_value(row[sum_at], logical)
            stats.update(stats_from_row(row, part, part_types))
        return stats

    def sum_value(self, value: Any, logical: LogicalType) -> Any:
        """The sum `sum_sql` selected, as a number (an engine may select it in parts)."""
        return value

    def _row_text_sql(self, plan: RowPlan, positions: Sequence[int]) -> str:
        parts = []
        for i, position in enumerate(positions):
            column, logical = plan.columns[position], plan.types[position]
            text = self.column_canonical_sql(column, logical)
            if i:
                parts.append("'|'")
            parts.append(f"COALESCE({text}, {self.string_literal(chr(92) + 'N')})")
        return self.concat_sql(parts) if parts else "''"

    def mod_sql(self, expression: str, divisor: int) -> str:
        """Remainder with the dividend's sign, as every engine computes it (Oracle: MOD)."""
        return f"(({expression}) % {divisor})"

    def div_sql(self, expression: str, divisor: int) -> str:
        """Integer quotient truncated toward zero (DuckDB: `//`, MySQL: DIV, Oracle: TRUNC)."""
        return f"(({expression}) / {divisor})"

    def _plan_selects(self, scope: Scope, plan: RowPlan) -> tuple[str, str, str]:
        """SQL for (period, bucket, row hash) of each row.

        The bucket only has to be the same function of the key on both sides: a single integer
        key gives its own spread, which saves a second md5 per row; other keys are hashed.
        """
        row_hash = self.hash60_sql(self._row_text_sql(plan, range(len(plan.columns))))
        spread = self.key_spread_sql(plan) or row_hash
        period = self._period_of(scope) if scope.period_column is not None else "NULL"
        return period, self.mod_sql(spread, plan.buckets), row_hash

    def key_spread_sql(self, plan: RowPlan) -> str | None:
        """The integer the bucket is taken from (None without a key: the row hash is used).

        A single integer key is cut into runs of `KEY_RUN` consecutive values, so rows read in
        key order fall in the bucket of the row before: PostgreSQL's hash aggregate then finds
        its group in cache (0.65 s less of 5.7 s for 5M rows), while sparse keys still spread
        over every bucket. A NULL key joins bucket 0 on every side (the row hash still tells
        rows apart)."""
        if len(plan.key) == 1 and plan.types[plan.key[0]].kind is Kind.INTEGER:
            key = self.quote(plan.columns[plan.key[0]].name)
            return self.div_sql(f"COALESCE({key}, 0)", KEY_RUN)
        if plan.key:
            return self.hash60_sql(self._row_text_sql(plan, plan.key))
        return None

    def bucket_checksums(self, scope: Scope, plan: RowPlan) -> GroupSums:
        self.require_comparable(scope.table, plan.columns)
        period, bucket, row_hash = self._plan_selects(scope, plan)
        rows = (
            f"SELECT {period} AS p, {bucket} AS b, {row_hash} AS h{self.row_fence} "
            f"FROM {self.table_sql(scope.table)}{self.where_sql(scope)}"
        )
        # Ordered by the integer bucket only: integers order alike everywhere, period texts
        # follow each engine's collation.
        if self.capabilities.exact_bigint_sum:
            sql = f"SELECT p, b, COUNT(*), SUM(h) FROM ({rows}) r GROUP BY p, b ORDER BY b"
            for p, b, count, total in self.ask_stream(scope, sql):
                yield p, int(b), GroupSum(int(count), int(total))
            return
        high, low = self.shift_sql("h")
        sql = (
            f"WITH r AS {self.materialize_hint}({rows}) "
            f"SELECT p, b, COUNT(*), SUM({high}), SUM({low}) FROM r GROUP BY p, b ORDER BY b"
        )
        for p, b, count, hi, lo in self.ask_stream(scope, sql):
            yield p, int(b), GroupSum(int(count), split_checksum(hi, lo))

    def _group_predicate(
        self, period_sql: str, bucket_sql: str, groups: Iterable[tuple[str | None, int]]
    ) -> str:
        by_period: dict[str | None, list[int]] = {}
        for p, b in groups:
            by_period.setdefault(p, []).append(b)
        if len(by_period) > MANY_PERIODS:
            # One list of 'period#bucket' texts: a hash lookup a row, where a clause a period
            # had each row compute its period again for each (thousands of daily periods:
            # minutes of pass 2). No period is '', which stands for NULL.
            bucket_text = self.canonical_sql(bucket_sql, LogicalType(Kind.INTEGER))
            group_text = self.concat_sql([f"COALESCE({period_sql}, '')", "'#'", bucket_text])
            return self._in_list(
                group_text,
                [
                    self.string_literal(f"{p or ''}#{b}")
                    for p, buckets in by_period.items()
                    for b in sorted(buckets)
                ],
            )
        clauses = []
        for p, buckets in by_period.items():
            period_test = (
                f"{period_sql} IS NULL" if p is None else f"{period_sql} = {self.string_literal(p)}"
            )
            bucket_test = self._in_list(bucket_sql, [str(b) for b in sorted(buckets)])
            clauses.append(f"({period_test} AND {bucket_test})")
        return "(" + " OR ".join(clauses) + ")" if clauses else "1 = 0"

    def _digests_sql(
        self, scope: Scope, plan: RowPlan, groups: Sequence[tuple[str | None, int]] | None = None
    ) -> str:
        """Each row's period, bucket, key text, row hash and a count (p, b, k, h, rows), of the
        rows of `groups` when given: a keyless plan's identical rows come as one, counted in the
        engine, not each fetched."""
        period, bucket, row_hash = self._plan_selects(scope, plan)
        key_text = self._row_text_sql(plan, plan.key or range(len(plan.columns)))
        predicates = [] if groups is None else [self._group_predicate(period, bucket, groups)]
        rows = (
            f"SELECT {period} AS p, {bucket} AS b, {key_text} AS k, {row_hash} AS h "
            f"FROM {self.table_sql(scope.table)}{self.where_sql(scope, predicates)}"
        )
        if plan.key:
            return f"SELECT p, b, k, h, 1 FROM ({rows}) r"
        return f"SELECT p, b, k, h, COUNT(*) FROM ({rows}) r GROUP BY p, b, k, h"

    def group_rows(
        self, scope: Scope, plan: RowPlan, groups: Iterable[tuple[str | None, int]]
    ) -> list[RowDigest]:
        self.require_comparable(scope.table, plan.columns)
        wanted = list(groups)
        sql = self._digests_sql(scope, plan, wanted)
        if self.max_query_bytes is not None and len(sql.encode()) > self.max_query_bytes:
            if len(wanted) == 1:
                raise TerminalError(
                    f"{scope.table}: the query reading one group is longer than "
                    f"{self.capabilities.name} accepts ({self.max_query_bytes} bytes)"
                )
            half = len(wanted) // 2  # Athena: 262,144 bytes; thousands of daily periods exceed it
            return self.group_rows(scope, plan, wanted[:half]) + self.group_rows(
                scope, plan, wanted[half:]
            )
        return [_digest(row) for row in self.ask(scope, sql)]

    def bucket_rows(self, scope: Scope, plan: RowPlan) -> Iterator[RowDigest]:
        self.require_comparable(scope.table, plan.columns)
        for row in self.ask_stream(scope, f"{self._digests_sql(scope, plan)} ORDER BY b"):
            yield _digest(row)

    def row_texts(
        self,
        scope: Scope,
        plan: RowPlan,
        groups: Sequence[tuple[str | None, int]],
        keys: Sequence[str],
    ) -> dict[str, list[str | None]]:
        self.require_comparable(scope.table, plan.columns)
        period, bucket, _ = self._plan_selects(scope, plan)
        key_text = self._row_text_sql(plan, plan.key)
        texts = [
            self.column_canonical_sql(c, t) for c, t in zip(plan.columns, plan.types, strict=True)
        ]
        in_groups = self._group_predicate(period, bucket, groups)

        def sql_for(chunk: list[str]) -> str:
            return (
                f"SELECT {key_text}, {', '.join(texts)} FROM {self.table_sql(scope.table)}"
                f"{self.where_sql(scope, [in_groups, self._in_list(key_text, chunk)])}"
            )

        found: dict[str, list[str | None]] = {}
        literals = [self.string_literal(k) for k in keys]
        room = len(sql_for([]).encode()) + len(key_text.encode()) + 64  # the IN list's own words
        for chunk in self._literal_chunks(literals, room):
            for row in self.ask(scope, sql_for(chunk)):
                found[row[0]] = list(row[1:])
        return found

    def _literal_chunks(self, literals: Sequence[str], room: int) -> Iterator[list[str]]:
        """`literals` in runs of at most `KEYS_PER_QUERY`, and short enough that a query of
        `room` bytes besides them stays under the dialect's `max_query_bytes`."""
        budget = None if self.max_query_bytes is None else self.max_query_bytes - room
        if budget is not None and budget < 1000:
            raise TerminalError(
                f"{self.capabilities.name}: the query naming changed rows would exceed"
                f" {self.max_query_bytes} bytes before any key"
            )
        chunk: list[str] = []
        used = 0
        for literal in literals:
            cost = len(literal.encode()) + 2  # and ", "
            if chunk and (
                len(chunk) == KEYS_PER_QUERY or (budget is not None and used + cost > budget)
            ):
                yield chunk
                chunk, used = [], 0
            chunk.append(literal)
            used += cost
        if chunk:
            yield chunk

    def _in_list(self, expression: str, literals: Sequence[str]) -> str:
        """`expression IN (...)`, split in lists of `in_list_limit` where the dialect has one.

        Only where it must: DuckDB answers one list of 5,000 keys in 0.6 s over 5M rows, and
        five lists of 1,000 joined by OR in 33 s.
        """
        size = self.in_list_limit or max(len(literals), 1)
        lists = [literals[i : i + size] for i in range(0, len(literals), size)]
        tests = [f"{expression} IN ({', '.join(items)})" for items in lists]
        return "(" + " OR ".join(tests) + ")" if tests else "1 = 0"


STATISTICS_PER_COLUMN = 7  # count, distinct, min, max, sum, min and max length
# Decimal sums of 38-digit values over any number of rows, exact: never Python's default 28
EXACT_SUMS = Context(prec=100)
# A decimal SUM that overflowed is asked again as two sums, of each value's unscaled digits
# above and below the 18th (DuckDB, Athena)
SUM_PART_DIGITS = 18
MANY_PERIODS = 8  # pass 2 selects the groups of more periods than this by one IN list


def sum_of_parts(high: Any, low: Any, logical: LogicalType) -> Decimal:
    """A decimal's exact sum from the sums of its unscaled digits above and below the 18th."""
    total = EXACT_SUMS.add(EXACT_SUMS.scaleb(Decimal(high), SUM_PART_DIGITS), Decimal(low))
    return EXACT_SUMS.scaleb(total, -(logical.scale or 0))


def _digest(row: Sequence[Any]) -> RowDigest:
    """One row of `SqlEngine._digests_sql`, its numbers as Python ints."""
    period, bucket, key, row_hash, rows = row
    return RowDigest(period, int(bucket), key, int(row_hash), int(rows))


def stats_from_row(
    row: Sequence[Any], columns: Sequence[Column], types: Sequence[LogicalType]
) -> dict[str, ColumnStats]:
    """Decode the statistics query's single row: COUNT(*), then seven values per column."""
    rows = int(row[0])
    stats: dict[str, ColumnStats] = {}
    for index, (column, logical) in enumerate(zip(columns, types, strict=True)):
        non_null, distinct, low, high, total, short, long = row[1 + 7 * index : 8 + 7 * index]
        stats[column.name] = ColumnStats(
            rows=rows,
            nulls=rows - int(non_null),
            distinct=int(distinct),
            min=readable_value(low, logical),
            max=readable_value(high, logical),
            sum=_sum_text(total, logical),
            mean=_mean_text(total, int(non_null), logical),
            min_length=None if short is None else int(short),
            max_length=None if long is None else int(long),
        )
    return stats


def _sum_text(total: Any, logical: LogicalType) -> str | None:
    if total is None or not logical.is_numeric:
        return None
    if logical.kind is Kind.FLOAT:
        return repr(float(total))
    return format(Decimal(str(total)), "f")


def _mean_text(total: Any, count: int, logical: LogicalType) -> str | None:
    if total is None or count == 0 or not logical.is_numeric:
        return None
    if logical.kind is Kind.FLOAT:
        return repr(float(total) / count)
    return str(Decimal(str(total)) / Decimal(count))
