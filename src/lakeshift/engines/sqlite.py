"""SQLite as a source: the embedded default.

SQLite types are declared, not enforced: a `NUMERIC(12,2)` column stores floats, dates and
timestamps are text. lakeshift reads each column by its declared type and converts every value
exactly or fails the column with a message naming it (`values.py`). SQLite has no md5 and no
exact decimal arithmetic, so canonical text, hashes and decimal sums run as registered Python
functions that use the reference definitions in `lakeshift.verify.canonical`.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from lakeshift.config import MigrationConfig
from lakeshift.engines.base import (
    EXACT_SUMS,
    Capabilities,
    Column,
    Scope,
    SourceEngine,
    SqlEngine,
    unsupported_warning,
)
from lakeshift.engines.sqlite_values import python_value, refused, to_arrow_array
from lakeshift.errors import ConfigError, ConversionError, TableMissingError, TerminalError
from lakeshift.inventory import Period, period_bounds
from lakeshift.types import TEMPORAL_KINDS, Kind, LogicalType
from lakeshift.verify.canonical import TIMESTAMP_PRECISION, canonical_value, hash60

CAPABILITIES = Capabilities(
    name="SQLite",
    snapshot="read_transaction",
    timestamp_precision="microsecond",
    max_identifier_length=1_000_000,
    exact_decimal_storage=False,
)

_PERIOD_LENGTH = {Period.YEAR: 4, Period.MONTH: 7, Period.DAY: 10}


def logical_type(declared: str, number_policy: LogicalType) -> LogicalType | None:
    """The logical type of a declared SQLite column type, or None when it has none."""
    text = declared.upper().strip()
    if text in {"BOOLEAN", "BOOL"}:
        return LogicalType(Kind.BOOLEAN)
    if text.startswith(("DATETIME", "TIMESTAMP")):
        zoned = ("TIME ZONE" in text and "WITHOUT" not in text) or text.startswith("TIMESTAMPTZ")
        return LogicalType(Kind.TIMESTAMP, tz="UTC" if zoned else None)
    if text == "DATE":
        return LogicalType(Kind.DATE)
    match = re.fullmatch(
        r"(DECIMAL|NUMERIC|NUMBER)\s*(?:\(\s*(\d+)\s*(?:,\s*(-?\d+)\s*)?\))?", text
    )
    if match:
        if match.group(2) is None:
            return number_policy
        precision, scale = int(match.group(2)), int(match.group(3) or 0)
        if scale < 0:  # NUMERIC(10,-2) holds whole numbers of 12 digits
            precision, scale = precision - scale, 0
        return LogicalType(Kind.DECIMAL, max(precision, scale), scale)  # (3,5): |x| < 0.001
    if "INT" in text:
        return LogicalType(Kind.INTEGER)
    if any(word in text for word in ("CHAR", "CLOB", "TEXT")):
        return LogicalType(Kind.STRING)
    if "BLOB" in text:
        return LogicalType(Kind.BINARY)
    if any(word in text for word in ("REAL", "FLOA", "DOUB")):
        return LogicalType(Kind.FLOAT)
    return None


_DATE_GLOB = "[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]"
_TIME_GLOB = "[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]"
# (test, text) per kind: when the stored value passes `test`, `text` is its canonical text,
# the same the Python reference gives; anything else goes through the reference itself.
_FAST_CANONICAL: dict[Kind | None, tuple[str, str]] = {
    Kind.INTEGER: ("typeof({x}) = 'integer'", "CAST({x} AS TEXT)"),
    Kind.BOOLEAN: ("typeof({x}) = 'integer' AND {x} IN (0, 1)", "CAST({x} AS TEXT)"),
    Kind.STRING: ("typeof({x}) = 'text'", "replace(replace({x}, '\\', '\\\\'), '|', '\\|')"),
    Kind.BINARY: ("typeof({x}) = 'blob'", "lower(hex({x}))"),
    Kind.DATE: (
        f"typeof({{x}}) = 'text' AND length({{x}}) = 10 AND {{x}} GLOB '{_DATE_GLOB}'",
        "{x}",
    ),
    Kind.TIMESTAMP: (
        f"typeof({{x}}) = 'text' AND length({{x}}) = 26 AND {{x}} GLOB '{_DATE_GLOB} {_TIME_GLOB}'",
        "{x}",
    ),
}


# Stored values the upload always reads, per kind: analyze asks `ls_refused` (the upload's own
# rule, in Python) only about the others, which keeps its scan cheap.
_ALWAYS_READ: dict[Kind, str] = {
    Kind.INTEGER: "typeof({x}) = 'integer'",  # SQLite's integers are 64-bit
    Kind.FLOAT: "typeof({x}) = 'real'",
    Kind.BOOLEAN: "typeof({x}) = 'integer' AND {x} IN (0, 1)",
    Kind.STRING: "typeof({x}) = 'text'",
    Kind.BINARY: "typeof({x}) = 'blob'",
}
# What to do about values the upload refuses, by the column's logical kind
_REFUSED_ADVICE = {
    Kind.DECIMAL: "numbers with more decimals or digits than the decimal holds (a float such as "
    "0.3333333333333333), or not numbers; declare the column REAL or a wider NUMERIC(p,s), "
    "set number_without_precision in migration_config.cfg, or exclude the rows with the "
    "inventory's `where`",
    Kind.INTEGER: "values that are not whole numbers of at most 64 bits; fix them or exclude the "
    "rows with the inventory's `where`",
    Kind.FLOAT: "values a 64-bit float cannot hold exactly (integers past 2**53) or that are not "
    "numbers; fix them or exclude the rows with the inventory's `where`",
    Kind.BOOLEAN: "values other than 0 and 1; fix them or exclude the rows with the inventory's "
    "`where`",
    Kind.DATE: "values that are not ISO-8601 dates (YYYY-MM-DD); fix them or exclude the rows "
    "with the inventory's `where`",
    Kind.TIMESTAMP: "values that are not ISO-8601 timestamps of at most microseconds, or whose "
    "zone offset the declared type does not match; fix them or exclude the rows with the "
    "inventory's `where`",
}
_OTHER_ADVICE = (
    "values of another storage class than the declared type reads (text in an INTEGER column, "
    "a blob in a TEXT one); fix them or exclude the rows with the inventory's `where`"
)


@lru_cache(maxsize=256)
def _types(spec: str) -> tuple[LogicalType, ...]:
    return tuple(LogicalType.parse(part) for part in spec.split(";"))


def _canon(spec: str, value: Any, precision: str = TIMESTAMP_PRECISION) -> str | None:
    logical = _types(spec)[0]
    if logical.kind is Kind.DECIMAL and type(value) is float:
        # The reference reads a float as its shortest text: when that text is plain notation
        # within the column's scale, padding it with zeros is the canonical text.
        text = repr(value)
        scale = logical.scale or 0
        if "e" not in text and "n" not in text and scale > 0:
            places = len(text) - text.index(".") - 1
            if places <= scale:
                text += "0" * (scale - places)
                return text[1:] if text.startswith("-") and not text.strip("-0.") else text
    return canonical_value(python_value(value, logical), logical, precision)


def _period(value: Any, spec: str, period: str, precision: str = TIMESTAMP_PRECISION) -> str | None:
    logical = _types(spec)[0]
    parsed = python_value(value, logical)
    if parsed is None:
        return None
    text = canonical_value(parsed, logical, precision)
    assert text is not None
    return text[: _PERIOD_LENGTH[Period(period)]]


def _refused(spec: str, value: Any, storage: str) -> int | None:
    """1 when the upload refuses the stored value. Text comes as its bytes: sqlite3 cannot hand
    a function text that is no UTF-8, and the whole query failed naming nothing."""
    if storage == "text":
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return 1
    return 1 if refused(value, _types(spec)[0]) else None


class _ExactSum:
    """SUM for integers and decimals without overflow or float rounding."""

    def __init__(self) -> None:
        self.total: Decimal | None = None
        self.units = 0
        self.scale = 0
        self.seen = False

    def step(self, value: Any, spec: str) -> None:
        if value is None:
            return
        logical = _types(spec)[0]
        scale = logical.scale or 0
        if type(value) is float and scale > 0 and "e" not in (shortest := repr(value)):
            # Sum in integer units of the scale when the float round-trips at that scale. A REAL
            # SQLite keeps in exponent form (1e+23 in a NUMERIC column, past 2**63) is read as the
            # upload reads it, from its shortest text: its binary value has other digits.
            text = f"{value:.{scale}f}"
            if float(text) == value and Decimal(text) == Decimal(shortest):
                self.units += int(text.replace(".", ""))
                self.scale = scale
                self.seen = True
                return
        parsed = python_value(value, logical)
        self.total = EXACT_SUMS.add(Decimal(parsed), self.total or 0)
        self.seen = True

    def finalize(self) -> str | None:
        if not self.seen:
            return None
        units = EXACT_SUMS.scaleb(Decimal(self.units), -self.scale)
        return format(EXACT_SUMS.add(self.total or Decimal(0), units), "f")


def _code_point_order(left: str, right: str) -> int:
    return (left > right) - (left < right)


def _length(value: str | bytes | None) -> int | None:
    """Characters of a text (bytes of a blob), NULs included."""
    return None if value is None else len(value)


class SQLiteEngine(SqlEngine, SourceEngine):
    capabilities = CAPABILITIES
    streams_rows = True
    max_select_items = 2000
    sum_overflow = ("integer overflow",)  # an integer column sums past 2**63: summed in Python

    def __init__(self, path: Path, number_policy: LogicalType):
        if not path.is_file():
            raise ConfigError("SQLite database not found", file=str(path))
        self.path = path
        self.number_policy = number_policy
        # (table, column) -> why a column without an exact logical type cannot be read
        self._unsupported: dict[tuple[str, str], str] = {}
        self.connection = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
        # SQLite reports only "user-defined function raised exception": the function's own
        # error (which names the value) is kept and added to the query's
        self._function_error: str | None = None
        canon, period = self._reporting(_canon), self._reporting(_period)
        for arguments in (2, 3):  # the third: the precision timestamps compare at
            self.connection.create_function("ls_canon", arguments, canon, deterministic=True)
        self.connection.create_function("ls_hash60", 1, hash60, deterministic=True)
        self.connection.create_function("ls_length", 1, _length, deterministic=True)
        self.connection.create_function(
            "ls_refused", 3, self._reporting(_refused), deterministic=True
        )
        for arguments in (3, 4):
            self.connection.create_function("ls_period", arguments, period, deterministic=True)
        self.connection.create_aggregate("ls_exact_sum", 2, self._reported_sum)  # type: ignore[arg-type]
        # BINARY orders a UTF-16 database's text by its code units, little-endian bytes or not,
        # which is not code point order (the lake's) above U+00FF or U+FFFF: Python's is.
        [(encoding,)] = self.connection.execute("PRAGMA encoding").fetchall()
        self.text_order = "BINARY"
        if encoding != "UTF-8":
            self.connection.create_collation("LS_CODE_POINTS", _code_point_order)
            self.text_order = "LS_CODE_POINTS"

    def _reported_sum(self) -> _ExactSum:
        """An `_ExactSum` whose errors are kept as the functions' are."""
        aggregate = _ExactSum()
        aggregate.step = self._reporting(aggregate.step)  # type: ignore[method-assign]
        return aggregate

    def __repr__(self) -> str:
        return f"SQLiteEngine({self.path})"

    # --- fragments ---------------------------------------------------------------------------
    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def table_sql(self, table: str) -> str:
        return ".".join(self.quote(part) for part in table.split("."))

    def canonical_sql(self, expression: str, logical: LogicalType) -> str:
        """Plain SQL for values already stored in canonical form, the Python reference otherwise."""
        if self.rounds(logical):
            return f"ls_canon('{logical}', {expression}, '{self.timestamps_at}')"
        slow = f"ls_canon('{logical}', {expression})"
        fast = _FAST_CANONICAL.get(logical.kind if logical.tz is None else None)
        if fast is None:
            return slow
        test, text = (part.replace("{x}", expression) for part in fast)
        return f"CASE WHEN {expression} IS NULL THEN NULL WHEN {test} THEN {text} ELSE {slow} END"

    materialize_hint = "MATERIALIZED "

    def length_sql(self, expression: str) -> str:
        # SQLite's length() stops at the first NUL of a text; the lake counts every character.
        return (
            f"CASE WHEN instr({expression}, char(0)) > 0 THEN ls_length({expression}) "
            f"ELSE length({expression}) END"
        )

    def stat_selects(self, value: str, logical: LogicalType) -> list[str]:
        """Statistics of the values, not of how SQLite stored them.

        Dates and timestamps are stored as text in several spellings ('T' or ' ', offsets, with
        or without fractions): their statistics run on the canonical text, which sorts as time
        does. Text compares in code point order whatever collation the column declares (BINARY
        in a UTF-8 database).
        """
        if logical.kind in TEMPORAL_KINDS:
            canonical = self.canonical_sql(value, logical)
            return [
                f"COUNT({value})",
                f"COUNT(DISTINCT {canonical})",
                f"MIN({canonical})",
                f"MAX({canonical})",
                "NULL",
                "NULL",
                "NULL",
            ]
        if logical.kind is Kind.STRING:
            value = f"{value} COLLATE {self.text_order}"
        return super().stat_selects(value, logical)

    def hash60_sql(self, text_expression: str) -> str:
        return f"ls_hash60({text_expression})"

    def period_sql(self, expression: str, logical: LogicalType, period: Period) -> str:
        slow = f"ls_period({expression}, '{logical}', '{period.value}')"
        if self.rounds(logical):
            return f"ls_period({expression}, '{logical}', '{period.value}', '{self.timestamps_at}')"
        if logical.tz is not None:
            return slow
        test = f"typeof({expression}) = 'text' AND {expression} GLOB '{_DATE_GLOB}*'"
        return f"CASE WHEN {test} THEN substr({expression}, 1, {_PERIOD_LENGTH[period]}) ELSE {slow} END"

    def period_predicate(self, column: Column, period: Period, value: str | None) -> str:
        """A range on the stored ISO text, which SQLite can answer from an index.

        ISO-8601 text without a zone sorts as time does, so `[first day, next first day)` holds
        exactly the values whose period is `value`. Zoned text does not sort that way: those
        columns use the period function itself.
        """
        bounds = period_bounds(value, period) if value is not None else None
        if bounds is None or column.logical.tz is not None or self.rounds(column.logical):
            return super().period_predicate(column, period, value)
        low, high = (bound.isoformat() for bound in bounds)
        name = self.quote(column.name)
        return f"({name} >= '{low}' AND {name} < '{high}')"

    def timestamp_literal(self, value: datetime) -> str:
        return self.string_literal(value.isoformat(sep=" "))

    def string_literal(self, value: str) -> str:
        """SQLite's SQL text cannot hold a NUL: one in a value (a text key) is char(0)."""
        quoted = super().string_literal(value)
        return quoted.replace("\x00", "' || char(0) || '") if "\x00" in value else quoted

    def sum_sql(self, expression: str, logical: LogicalType) -> str:
        if logical.kind is Kind.FLOAT:
            # SQLite gives a NaN result as NULL (+inf and -inf summed): say NaN, as the lake does
            return (
                f"CASE WHEN COUNT({expression}) > 0 AND SUM({expression}) IS NULL "
                f"THEN 'NaN' ELSE SUM({expression}) END"
            )
        if logical.kind is Kind.INTEGER and not self.wide_sums:
            return f"SUM({expression})"  # SQLite's integer SUM is exact or raises on overflow
        return f"ls_exact_sum({expression}, '{logical}')"

    def _reporting(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def reported(*arguments: Any) -> Any:
            try:
                return function(*arguments)
            except Exception as error:
                self._function_error = str(error)
                raise

        return reported

    def _failed(self, error: sqlite3.Error) -> TerminalError:
        detail, self._function_error = self._function_error, None
        return TerminalError(f"SQLite query failed: {error}" + (f": {detail}" if detail else ""))

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.connection.execute(sql, parameters).fetchall()
        except sqlite3.Error as error:
            raise self._failed(error) from None

    def query_stream(self, sql: str) -> Iterator[tuple[Any, ...]]:
        """SQLite steps the statement as the cursor is read: no result is held whole."""
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql)
            yield from cursor
        except sqlite3.Error as error:
            raise self._failed(error) from None
        finally:
            cursor.close()

    # --- metadata ------------------------------------------------------------------------------
    def _split(self, table: str) -> tuple[str, str]:
        schema, _, name = table.rpartition(".")
        return schema or "main", name

    def table_exists(self, table: str) -> bool:
        schema, name = self._split(table)
        sql = f"SELECT 1 FROM {self.quote(schema)}.sqlite_master WHERE type IN ('table','view') AND name = ? COLLATE NOCASE"
        try:
            return bool(self.connection.execute(sql, (name,)).fetchall())
        except sqlite3.OperationalError:
            return False

    def columns(self, table: str) -> list[Column]:
        if not self.table_exists(table):
            raise TableMissingError(table, "SQLite source")
        columns = []
        for column_name, declared, not_null, _ in self._table_columns(table):
            logical = logical_type(declared or "", self.number_policy)
            if logical is None:
                # Listed, so that the mapping can leave it out; refused when read
                self._unsupported[(table, column_name)] = (
                    f"declared type {declared or '(none)'!r} has no exact logical type; declare "
                    "it as INTEGER, NUMERIC(p,s), REAL, TEXT, BLOB, BOOLEAN, DATE or TIMESTAMP, "
                    "or map it to null in column_mappings.json to leave it out"
                )
                logical = LogicalType(Kind.STRING)
            columns.append(Column(column_name, declared or "", logical, not not_null))
        return columns

    def fit_warnings(self, scope: Scope, columns: Sequence[Column]) -> list[str]:
        """One line per column the upload refuses: a declared type it cannot read, or values
        it refuses (counted in one scan of the table, by the rule the upload applies)."""
        warnings = []
        checks = []
        for column in columns:
            reason = self._unsupported.get((scope.table, column.name))
            if reason:
                warnings.append(unsupported_warning(scope.table, column, reason))
            else:
                advice = _REFUSED_ADVICE.get(column.logical.kind, _OTHER_ADVICE)
                checks.append((column, self._refused_sql(column), advice))
        return warnings + self.refusal_warnings(scope, checks)

    def _refused_sql(self, column: Column) -> str:
        """1 for a value of `column` the upload refuses, else NULL."""
        value = self.quote(column.name)
        stored = f"CASE WHEN typeof({value}) = 'text' THEN CAST({value} AS BLOB) ELSE {value} END"
        asked = f"ls_refused('{column.logical}', {stored}, typeof({value}))"
        always = _ALWAYS_READ.get(column.logical.kind)
        if always is None:
            return asked
        return f"CASE WHEN {value} IS NULL OR {always.format(x=value)} THEN NULL ELSE {asked} END"

    def require_comparable(self, table: str, columns: Iterable[Column]) -> None:
        self.require_supported(table, columns)

    def require_supported(self, table: str, columns: Iterable[Column]) -> None:
        for column in columns:
            reason = self._unsupported.get((table, column.name))
            if reason:
                raise ConversionError(table, column.name, reason)

    def primary_key(self, table: str) -> list[str]:
        rows = self._table_columns(table)
        return [row[0] for row in sorted((r for r in rows if r[3]), key=lambda r: r[3])]

    def _table_columns(self, table: str) -> list[tuple[str, str | None, int, int]]:
        """(name, declared type, not null, position in the primary key) of each column, the
        generated ones too: `table_info` hides them, and they were left out of the lake with
        nothing said (`table_xinfo` lists them as hidden 2 and 3; 1 is a virtual table's own)."""
        schema, name = self._split(table)
        if sqlite3.sqlite_version_info >= (3, 26, 0):
            rows = self.connection.execute(
                f"PRAGMA {self.quote(schema)}.table_xinfo({self.quote(name)})"
            ).fetchall()
        else:  # no table_xinfo (an unknown pragma answers nothing), nor generated columns
            rows = [
                (*row, 0)
                for row in self.connection.execute(
                    f"PRAGMA {self.quote(schema)}.table_info({self.quote(name)})"
                ).fetchall()
            ]
        return [
            (column, declared, not_null, key)
            for _, column, declared, not_null, _, key, hidden in rows
            if hidden != 1
        ]

    # --- extraction ---------------------------------------------------------------------------
    def stream(
        self, scope: Scope, columns: Sequence[Column], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        self.require_supported(scope.table, columns)
        names = ", ".join(self.quote(c.name) for c in columns)
        sql = f"SELECT {names} FROM {self.table_sql(scope.table)}{self.where_sql(scope)}"
        schema = pa.schema([pa.field(c.name, c.logical.to_arrow()) for c in columns])
        cursor = self.connection.cursor()
        cursor.execute("BEGIN")  # one read transaction: a consistent snapshot of the table
        try:
            cursor.execute(sql)
            while rows := _fetched(cursor, batch_rows, scope.table):
                arrays = [
                    to_arrow_array(values, column.logical, f"{scope.table}.{column.name}")
                    for values, column in zip(zip(*rows, strict=True), columns, strict=True)
                ]
                yield pa.RecordBatch.from_arrays(arrays, schema=schema)
        finally:
            cursor.execute("ROLLBACK")
            cursor.close()

    def interrupt(self) -> None:
        self.connection.interrupt()

    def close(self) -> None:
        self.connection.close()


_UNDECODABLE = re.compile(r"Could not decode to UTF-8 column '(?P<column>.*)' with text")


def _fetched(cursor: sqlite3.Cursor, rows: int, table: str) -> list[Any]:
    """The next rows; a text value that is no UTF-8 (SQLite stores any bytes) is named with
    its column, where sqlite3 raised a bare OperationalError."""
    try:
        return cursor.fetchmany(rows)
    except sqlite3.OperationalError as error:
        undecodable = _UNDECODABLE.match(str(error))
        if undecodable is None:
            raise
        raise ConversionError(
            table,
            undecodable["column"],
            "a text value is not valid UTF-8 (SQLite keeps whatever bytes were stored): fix it, "
            "exclude its row with the inventory's `where`, or map the column to null",
        ) from None


def connect(url: str, config: MigrationConfig) -> SQLiteEngine:
    """`sqlite:///relative/path.db` or `sqlite:////absolute/path.db`."""
    return SQLiteEngine(Path(url.split(":///", 1)[1]), config.number_policy)
