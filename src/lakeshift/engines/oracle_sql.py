"""Oracle SQL fragments: names, canonical text per logical type, the 60-bit hash, periods.

Pure functions from SQL expressions to SQL text. The engine (`lakeshift.engines.oracle`) sends
exactly this text, and the tests evaluate it with a model of Oracle's documented semantics
against `lakeshift.verify.canonical.canonical_value`, so the two cannot drift apart silently.

Assumptions every fragment relies on (stated once, checked nowhere but on a live server):
- the database character set is AL32UTF8, so `STANDARD_HASH(text, 'MD5')` hashes the same UTF-8
  bytes as Python's `hashlib.md5(text.encode("utf-8"))`; national-character values are converted
  with `TO_CHAR` first so they hash as AL32UTF8 too;
- Oracle 12.1 or later for `STANDARD_HASH`; float text needs `UTL_RAW.CAST_FROM_BINARY_DOUBLE`
  (10g and later) and EXECUTE on UTL_RAW, which Oracle grants to PUBLIC by default;
- canonical text fits a VARCHAR2: 4000 bytes, or 32767 with MAX_STRING_SIZE=EXTENDED. A longer
  value or row text fails with ORA-01489/ORA-22835, which the engine reports; nothing is cut.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from lakeshift.engines.base import EXACT_SUMS, SUM_PART_DIGITS
from lakeshift.errors import ConfigError
from lakeshift.inventory import Period, period_bounds
from lakeshift.types import Kind, LogicalType
from lakeshift.verify.canonical import HALF_BITS, LAST_MILLISECOND, NULL_TOKEN, ROUNDS_PAST_9999

HALF = 1 << HALF_BITS
_PERIOD_FORMAT = {Period.YEAR: "YYYY", Period.MONTH: "YYYY-MM", Period.DAY: "YYYY-MM-DD"}
_PART = r'(?:"([^"]+)"|([A-Za-z][A-Za-z0-9_$#]*))'
_TABLE_NAME = re.compile(rf"{_PART}(?:\.{_PART})?")


# --- names ---------------------------------------------------------------------------------------
def quote(identifier: str) -> str:
    """A quoted identifier; Oracle has no escape for `"` inside one, so such a name is refused."""
    if '"' in identifier or not identifier:
        raise ConfigError(f"Oracle identifier {identifier!r} cannot be quoted")
    return f'"{identifier}"'


def split_name(table: str) -> tuple[str | None, str]:
    """(owner, table) as the data dictionary spells them: upper-cased unless written in quotes.

    >>> split_name('hr."Mixed Case"')
    ('HR', 'Mixed Case')
    """
    match = _TABLE_NAME.fullmatch(table.strip())
    if match is None:
        raise ConfigError(f"{table!r} is not an Oracle table name (owner.table; quotes keep case)")
    quoted_owner, owner, quoted_name, name = match.groups()
    first = quoted_owner if quoted_owner is not None else owner.upper()
    if quoted_name is None and name is None:
        return None, first
    return first, quoted_name if quoted_name is not None else name.upper()


def qualified(owner: str | None, name: str) -> str:
    return f"{quote(owner)}.{quote(name)}" if owner else quote(name)


# --- canonical text --------------------------------------------------------------------------------
def text_sql(expression: str) -> str:
    """String rule: `\\` and `|` escaped. TO_CHAR turns NCHAR/NVARCHAR2/CLOB into AL32UTF8 text."""
    return f"REPLACE(REPLACE(TO_CHAR({expression}), '\\', '\\\\'), '|', '\\|')"


def decimal_format(precision: int, scale: int) -> str:
    """An FM number format with one mandatory integer digit and exactly `scale` decimals.

    `.` (not `D`) is always a period, whatever NLS_NUMERIC_CHARACTERS says.
    >>> decimal_format(5, 2)
    'FM990.00'
    """
    integer_digits = max(precision - max(scale, 0), 1)
    text = "FM" + "9" * (integer_digits - 1) + "0"
    return text + ("." + "0" * scale if scale > 0 else "")


def binary_sql(expression: str, lob: bool = False) -> str:
    """Lowercase hex. RAWTOHEX refuses BLOBs: they go through DBMS_LOB.SUBSTR, which fails
    (never truncates) when a value is longer than a SQL RAW holds."""
    raw = f"DBMS_LOB.SUBSTR({expression}, 32767, 1)" if lob else expression
    return f"LOWER(RAWTOHEX({raw}))"


def timestamp_sql(expression: str, zoned: bool, precision: str = "microsecond") -> str:
    """`YYYY-MM-DD HH24:MI:SS.ffffff`: nine digits printed, six kept, so sub-microsecond digits are
    cut (as the driver cuts them on extraction), whatever TO_CHAR's own rounding of FF6 would do.

    At milliseconds: 500 µs added, three digits kept, three zeros appended. Cutting the
    microseconds first would not change the result: both floors land on the same millisecond.
    """
    value = f"CAST({_utc(expression, zoned)} AS TIMESTAMP(9))"
    if precision == "millisecond":
        shifted = f"TO_CHAR({_half_millisecond_later(value)}, 'YYYY-MM-DD HH24:MI:SS.FF9')"
        return f"SUBSTR({shifted}, 1, 23) || '000'"
    return f"SUBSTR(TO_CHAR({value}, 'YYYY-MM-DD HH24:MI:SS.FF9'), 1, 26)"


def _utc(expression: str, zoned: bool) -> str:
    return f"SYS_EXTRACT_UTC({expression})" if zoned else expression


def _half_millisecond_later(value: str) -> str:
    """Past 9999-12-31 23:59:59.9995 the sum would fail (ORA-01841): such a value is held at the
    last millisecond of 9999 instead, as `round_timestamp` holds it."""
    return (
        f"(CASE WHEN {value} >= TIMESTAMP '{ROUNDS_PAST_9999}' THEN TIMESTAMP '{LAST_MILLISECOND}'"
        f" ELSE {value} + INTERVAL '0.0005' SECOND END)"
    )


def float_sql(expression: str) -> str:
    """The double's IEEE-754 binary64 bits as 16 lowercase hex digits, big-endian; `0` for 0 and
    -0, `NaN` for every NaN (their bits are not unique, so they are tested first).

    `TO_BINARY_DOUBLE` comes first: a BINARY_FLOAT widens exactly, and a NUMBER (`FLOAT(b)`
    columns) becomes a double, the one the lake holds (`oracle_types` extracts such columns
    through the same conversion). The bytes come from
    `UTL_RAW.CAST_FROM_BINARY_DOUBLE` with the endianness written as the literal 1
    (`UTL_RAW.BIG_ENDIAN`: SQL cannot read a package constant, ORA-06553 PLS-221).
    """
    value = f"TO_BINARY_DOUBLE({expression})"
    bits = binary_sql(f"UTL_RAW.CAST_FROM_BINARY_DOUBLE({value}, 1)")
    return (
        f"CASE WHEN {value} IS NULL THEN NULL WHEN {value} IS NAN THEN 'NaN' "
        f"WHEN {value} = 0 THEN '0' ELSE {bits} END"
    )


def canonical_sql(
    expression: str, logical: LogicalType, lob: bool = False, precision: str = "microsecond"
) -> str:
    """Canonical text of `expression` (NULL stays NULL), equal to `canonical_value`; timestamps
    at `precision`."""
    kind = logical.kind
    if kind is Kind.INTEGER:
        return f"TO_CHAR({expression})"
    if kind is Kind.DECIMAL:
        assert logical.precision is not None and logical.scale is not None
        return f"TO_CHAR({expression}, '{decimal_format(logical.precision, logical.scale)}')"
    if kind is Kind.FLOAT:
        return float_sql(expression)
    if kind is Kind.BOOLEAN:
        return f"CASE WHEN {expression} IS NULL THEN NULL WHEN {expression} THEN '1' ELSE '0' END"
    if kind is Kind.STRING:
        return text_sql(expression)
    if kind is Kind.BINARY:
        return binary_sql(expression, lob)
    if kind is Kind.DATE:
        return f"TO_CHAR({expression}, 'YYYY-MM-DD')"
    return timestamp_sql(expression, logical.tz is not None, precision)


def hash60_sql(text_expression: str) -> str:
    """First 60 bits (15 hex digits) of md5 of the text, as a NUMBER."""
    digest = f"RAWTOHEX(STANDARD_HASH({text_expression}, 'MD5'))"
    return f"TO_NUMBER(SUBSTR({digest}, 1, 15), '{'X' * 15}')"


def shift_sql(expression: str) -> tuple[str, str]:
    """High and low 30-bit halves; Oracle has no `>>` or `&`, but NUMBER division is exact."""
    return f"TRUNC({expression} / {HALF})", f"MOD({expression}, {HALF})"


def exact_sum_sql(expression: str, scale: int) -> str:
    """The sum of a decimal column as two exact sums, selected as one text `high,low`: the
    value's digits above the 18th of its unscaled value, as an integer, and the rest.

    Oracle's NUMBER keeps 20 base-100 digits (38 to 40 decimal ones): SUM of a decimal(38,10)
    rounds once the total passes them (past 1e28), where the lake's sums are exact. The high
    part of a NUMBER(38,s) has at most 20 digits and the low part 18, so their sums stay within
    38 digits up to 1e18 rows; `exact_sum_value` adds them in Python.
    """
    high = f"TRUNC({expression} * 1E{scale - SUM_PART_DIGITS})"
    low = f"{expression} - {high} * 1E{SUM_PART_DIGITS - scale}"
    return f"TO_CHAR(SUM({high})) || ',' || TO_CHAR(SUM({low}))"


def exact_sum_value(text: str, scale: int) -> Decimal | None:
    """The total `exact_sum_sql` selected (None for no value: Oracle's `||` reads NULL as '')."""
    high, low = text.split(",")
    if not high:
        return None
    return EXACT_SUMS.add(EXACT_SUMS.scaleb(Decimal(high), SUM_PART_DIGITS - scale), Decimal(low))


def null_or_text_sql(text: str) -> str:
    return f"COALESCE({text}, '{NULL_TOKEN}')"


# --- periods and literals ------------------------------------------------------------------------
def period_sql(
    expression: str, logical: LogicalType, period: Period, precision: str = "microsecond"
) -> str:
    value = _utc(expression, logical.tz is not None)
    if logical.kind is Kind.TIMESTAMP and precision == "millisecond":
        value = _half_millisecond_later(f"CAST({value} AS TIMESTAMP(9))")
    return f"TO_CHAR({value}, '{_PERIOD_FORMAT[period]}')"


def range_predicate(column: str, native_type: str, value: str, period: Period) -> str:
    """`column` within period `value`, as a range an index or partition pruning can use.

    The literal has the column's own type: a DATE column compared with a TIMESTAMP literal would
    be converted row by row, and Oracle could no longer prune on it.
    """
    bounds = period_bounds(value, period)
    if bounds is None:
        raise ConfigError(f"{column}: period {value!r} is not a date range")
    low, high = bounds
    if native_type == "DATE":
        return f"({column} >= DATE '{low}' AND {column} < DATE '{high}')"
    return f"({column} >= TIMESTAMP '{low} 00:00:00' AND {column} < TIMESTAMP '{high} 00:00:00')"


def timestamp_literal(value: datetime) -> str:
    """A TIMESTAMP literal of the moment in UTC (naive values are taken as UTC)."""
    moment = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return f"TIMESTAMP '{moment.isoformat(sep=' ', timespec='microseconds')}'"
