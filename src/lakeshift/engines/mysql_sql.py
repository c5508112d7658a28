"""SQL text the MySQL/MariaDB engine renders: quoting, literals, canonical text, hash, period.

Pure functions of their arguments (no connection): the engine passes the session's sql_mode where
it matters, and the live tests check that the server computes exactly `lakeshift.verify.canonical`.

Floats have their own module, `mysql_float`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from lakeshift.engines.mysql_float import float_text_sql
from lakeshift.inventory import Period
from lakeshift.types import Kind, LogicalType

MAX_DECIMAL_PRECISION = 65  # MySQL's DECIMAL limit; wider common types are rendered at 65

_PERIOD_FORMAT = {Period.YEAR: "%Y", Period.MONTH: "%Y-%m", Period.DAY: "%Y-%m-%d"}
# With backslash escapes (the default sql_mode), these characters need one in a string literal.
_BACKSLASH_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    "\0": "\\0",
    "\n": "\\n",
    "\r": "\\r",
    "\x1a": "\\Z",
}


def quote(identifier: str) -> str:
    """A backtick-quoted identifier.

    >>> quote("odd`name")
    '`odd``name`'
    """
    return "`" + identifier.replace("`", "``") + "`"


def string_literal(value: str, backslash_escapes: bool = True) -> str:
    """A string literal meaning exactly `value` under the session's sql_mode.

    `backslash_escapes` is False when sql_mode has NO_BACKSLASH_ESCAPES; then only quotes double.

    >>> string_literal("a\\\\b'c")
    "'a\\\\\\\\b\\\\'c'"
    """
    if not backslash_escapes:
        return "'" + value.replace("'", "''") + "'"
    return "'" + "".join(_BACKSLASH_ESCAPES.get(char, char) for char in value) + "'"


def text_sql(expression: str) -> str:
    """The value as utf8mb4 text, whatever the column's character set (TIME, ENUM, JSON too)."""
    return f"CONVERT({expression} USING utf8mb4)"


def ordered_text_sql(expression: str) -> str:
    """Text as UTF-8 bytes: compares, sorts and counts distinct by code point, with no padding.

    MySQL's text collations ignore case or trailing spaces ('a' = 'a ' under PAD SPACE, even
    with utf8mb4_bin); DuckDB and the canonical text do not. Bytes never pad or fold.
    """
    return f"CAST({text_sql(expression)} AS BINARY)"


def decimal_sql(expression: str, logical: LogicalType) -> str:
    precision = min(logical.precision or MAX_DECIMAL_PRECISION, MAX_DECIMAL_PRECISION)
    return f"CAST(({expression}) + 0 AS DECIMAL({precision},{logical.scale or 0}))"


def _decimal_text_sql(expression: str, logical: LogicalType) -> str:
    value = decimal_sql(expression, logical)
    scale = logical.scale or 0
    zero = "0." + "0" * scale if scale > 0 else "0"
    # A DECIMAL can hold -0.00 (e.g. after ROUND); canonical text has no negative zero.
    return f"CASE WHEN {value} IS NULL THEN NULL WHEN {value} = 0 THEN '{zero}' ELSE CAST({value} AS CHAR) END"


def escaped_text_sql(expression: str, backslash_escapes: bool = True) -> str:
    """The string rule: `\\` and `|` escaped, nothing trimmed."""
    backslash = string_literal("\\", backslash_escapes)
    doubled = string_literal("\\\\", backslash_escapes)
    escaped_bar = string_literal("\\|", backslash_escapes)
    return f"REPLACE(REPLACE({text_sql(expression)}, {backslash}, {doubled}), '|', {escaped_bar})"


def canonical_sql(expression: str, logical: LogicalType, backslash_escapes: bool = True) -> str:
    """SQL rendering `expression` as `lakeshift.verify.canonical` text; NULL stays NULL.

    The session's time zone is UTC (the engine sets it), so TIMESTAMP values render in UTC.
    `+ 0` makes BIT and YEAR values numbers before they are rendered.
    """
    kind = logical.kind
    if kind is Kind.INTEGER:
        return f"CAST(({expression}) + 0 AS CHAR)"
    if kind is Kind.DECIMAL:
        return _decimal_text_sql(expression, logical)
    if kind is Kind.FLOAT:
        return float_text_sql(expression)
    if kind is Kind.BOOLEAN:
        return f"CAST((({expression}) <> 0) AS CHAR)"
    if kind is Kind.STRING:
        return escaped_text_sql(expression, backslash_escapes)
    if kind is Kind.BINARY:
        return f"LOWER(HEX({expression}))"
    if kind is Kind.DATE:
        return f"DATE_FORMAT({expression}, '%Y-%m-%d')"
    if kind is Kind.TIMESTAMP:
        return f"DATE_FORMAT({expression}, '%Y-%m-%d %H:%i:%s.%f')"
    raise ValueError(f"no canonical text for {logical}")


def round_to_millisecond_sql(expression: str) -> str:
    """The DATETIME rounded half up to the millisecond: add 500 µs, drop the sub-millisecond
    microseconds (a CAST to DATETIME(3) would round a second time)."""
    shifted = f"(({expression}) + INTERVAL 500 MICROSECOND)"
    return f"DATE_SUB({shifted}, INTERVAL MICROSECOND({shifted}) % 1000 MICROSECOND)"


def hash60_sql(text_expression: str) -> str:
    """First 15 hex digits of md5 of the UTF-8 text, as a BIGINT."""
    return f"CAST(CONV(SUBSTR(MD5(CONVERT({text_expression} USING utf8mb4)), 1, 15), 16, 10) AS SIGNED)"


def period_sql(expression: str, period: Period) -> str:
    return f"DATE_FORMAT({expression}, '{_PERIOD_FORMAT[period]}')"


def timestamp_literal(value: datetime) -> str:
    """A DATETIME literal; zoned values in UTC, the session's time zone."""
    moment = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return f"TIMESTAMP'{moment.isoformat(sep=' ', timespec='microseconds')}'"


def concat_sql(parts: list[str]) -> str:
    """CONCAT: in MySQL `||` is logical OR unless sql_mode has PIPES_AS_CONCAT."""
    return f"CONCAT({', '.join(parts)})" if parts else "''"
