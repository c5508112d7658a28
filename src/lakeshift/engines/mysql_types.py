"""MySQL/MariaDB column types: their logical type, how they are read, and exact Arrow conversion.

Each native type (information_schema COLUMN_TYPE, e.g. `bigint(20) unsigned`, `time(3)`) maps to
one logical type and to the SQL that reads it, chosen so the value the driver returns renders the
same canonical text as the column itself does in SQL (`mysql_sql.canonical_sql`):

- FLOAT is single precision and the text protocol prints it with 6 digits (`3.40282e38`), which
  loses bits; it is read as `CAST(f AS DOUBLE)`, the exact widening, so the lake holds the very
  number MySQL stores and sums (MySQL sums FLOAT columns as doubles too).
- BIT is read as a number (`b + 0`), TIME/UUID/INET as their text (`CAST(t AS CHAR)`).
- BIGINT UNSIGNED and BIT(64) exceed int64: they become decimal(20,0).
- TINYINT(1)/BOOLEAN stays an integer: MySQL has no boolean, and a TINYINT(1) holds -128..127.

Values arrive as the text protocol's bytes (the engine asks the driver for no conversions) and
become Arrow arrays column by column: UTF-8 validated into a string array, then Arrow's casts
parse numbers, decimals, dates and timestamps, exactly or not at all. No Python object is made
per value beyond the driver's bytes; a refused value is named in the error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lakeshift.engines.decimal_text import cast_decimal_text
from lakeshift.errors import ConversionError
from lakeshift.types import Kind, LogicalType

UNSIGNED_BIGINT = LogicalType(Kind.DECIMAL, 20, 0)  # 0 .. 18446744073709551615


@dataclass(frozen=True)
class MySQLType:
    """How one native column type is read and what it becomes."""

    logical: LogicalType
    read: str = "{}"  # SQL reading the value; `{}` is the quoted column
    unsupported: str | None = None  # why the column cannot be moved exactly, if it cannot


_INTEGER = MySQLType(LogicalType(Kind.INTEGER))
_STRING = MySQLType(LogicalType(Kind.STRING))
_BINARY = MySQLType(LogicalType(Kind.BINARY))
_AS_TEXT = MySQLType(LogicalType(Kind.STRING), "CAST({} AS CHAR)")

_BY_NAME: dict[str, MySQLType] = {
    **dict.fromkeys(("tinyint", "smallint", "mediumint", "int", "integer", "year"), _INTEGER),
    "float": MySQLType(LogicalType(Kind.FLOAT), "CAST({} AS DOUBLE)"),
    # Read through a CAST: a DOUBLE(M,D) prints D decimals, and the double nearest that text is
    # not always the one stored (-7.44 is stored as -7.4399999999999995).
    **dict.fromkeys(
        ("double", "real", "double precision"),
        MySQLType(LogicalType(Kind.FLOAT), "CAST({} AS DOUBLE)"),
    ),
    **dict.fromkeys(
        ("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set", "json"),
        _STRING,
    ),
    # TIME is a duration (-838:59:59 .. 838:59:59), not a time of day: kept as MySQL prints it.
    **dict.fromkeys(("time", "uuid", "inet4", "inet6"), _AS_TEXT),
    **dict.fromkeys(("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"), _BINARY),
    # Spatial values as MySQL stores them: a 4-byte SRID, then WKB.
    **dict.fromkeys(
        (
            "geometry",
            "point",
            "linestring",
            "polygon",
            "multipoint",
            "multilinestring",
            "multipolygon",
            "geometrycollection",
            "geomcollection",
        ),
        _BINARY,
    ),
    "date": MySQLType(LogicalType(Kind.DATE)),
    "datetime": MySQLType(LogicalType(Kind.TIMESTAMP)),
    # Stored in UTC; the engine's session time zone is UTC, so values are read as UTC.
    "timestamp": MySQLType(LogicalType(Kind.TIMESTAMP, tz="UTC")),
}

_COLUMN_TYPE = re.compile(
    r"\s*([a-z][a-z0-9 ]*?)\s*(?:\(([^)]*)\))?\s*(unsigned)?\s*(zerofill)?\s*$"
)


def mysql_type(column_type: str) -> MySQLType:
    """The mapping of a COLUMN_TYPE; a type without an exact logical type is marked unsupported
    (listed as a string column, so a column mapping can still leave it out).

    >>> mysql_type("bigint(20) unsigned").logical
    LogicalType(kind=<Kind.DECIMAL: 'decimal'>, precision=20, scale=0, tz=None)
    >>> mysql_type("vector(3)").unsupported
    "MySQL type 'vector(3)' has no exact logical type in lakeshift"
    """
    text = column_type.lower()
    if text.startswith(("enum(", "set(")):  # their labels may hold parentheses
        return _STRING
    match = _COLUMN_TYPE.fullmatch(text)
    name, arguments, unsigned = match.groups()[:3] if match else (text, None, None)
    if name in ("decimal", "numeric", "dec", "fixed"):
        precision, _, scale = (arguments or "10,0").partition(",")
        return MySQLType(LogicalType(Kind.DECIMAL, int(precision), int(scale or 0)))
    if name == "bigint":
        return MySQLType(UNSIGNED_BIGINT) if unsigned else _INTEGER
    if name == "year" and arguments == "2":
        return MySQLType(
            LogicalType(Kind.INTEGER),
            unsupported="YEAR(2) prints two digits (24 for 2024) and sorts by the full year; "
            "ALTER it to YEAR(4) in the source, or map it to null in column_mappings.json",
        )
    if name == "bit":
        width = int(arguments or 1)
        return MySQLType(UNSIGNED_BIGINT if width > 63 else LogicalType(Kind.INTEGER), "({} + 0)")
    unsupported = f"MySQL type {column_type!r} has no exact logical type in lakeshift"
    return _BY_NAME.get(name) or MySQLType(LogicalType(Kind.STRING), unsupported=unsupported)


def dated_rows_where(column: str) -> str:
    """An inventory `where` keeping the rows whose `column` is NULL or a whole date: a bare
    `column > '1000-01-01'` also dropped the NULLs, and kept partial dates ('2024-03-00')."""
    return (
        f"{column} IS NULL OR (YEAR({column}) > 0 AND MONTH({column}) > 0 "
        f"AND DAYOFMONTH({column}) > 0)"
    )


def _zero_date_hint(value: str, column: str) -> str:
    return (
        f"{value!r} is a zero or invalid date, which no date type holds; exclude those rows with "
        f"the inventory's `where` (e.g. `{dated_rows_where(column)}`) or repair them in the "
        "source"
    )


# Days from 1970-01-01 back to 0001-01-01, the first day Python, DuckDB and the canonical text
# know: MySQL stores year 0 ('0000-01-01'), which Arrow would parse.
_FIRST_DAY = -719_162
_MICROSECONDS_A_DAY = 86_400_000_000


def text_to_arrow_array(
    values: Sequence[bytes | None], logical: LogicalType, table: str, column: str
) -> pa.Array:
    """One column of fetched text-protocol values (bytes, as the server sent them) as an Arrow
    array of the column's logical type, exactly, converted in Arrow rather than value by value.

    Text and JSON must be valid UTF-8 (the connection's character set is utf8mb4); numbers,
    decimals, dates and timestamps are parsed by Arrow's casts, which refuse what does not fit
    exactly (an integer beyond int64, a decimal with more digits or scale than the type, a
    seventh fractional digit, a zero date). A refused value is named in a ConversionError.

    >>> text_to_arrow_array([b"12.50", None], LogicalType(Kind.DECIMAL, 5, 2), "t", "c").to_pylist()
    [Decimal('12.50'), None]
    """
    try:
        return _convert(values, logical)
    except _REFUSED:
        raise ConversionError(table, column, _refused(values, logical, column)) from None


_REFUSED = (ValueError, TypeError, OverflowError, pa.ArrowException)


def _convert(values: Sequence[bytes | None], logical: LogicalType) -> pa.Array:
    if logical.kind is Kind.BINARY:
        return pa.array(values, pa.binary())
    text = pa.array(values, pa.string())  # validates UTF-8
    if logical.kind is Kind.STRING:
        return text
    arrow_type = logical.to_arrow()
    if logical.kind is Kind.TIMESTAMP:  # the session's zone is UTC: tz-aware is a relabel
        array = text.cast(pa.timestamp("us")).view(arrow_type)
    elif logical.kind is Kind.DECIMAL:
        array = cast_decimal_text(text, arrow_type)
    else:
        array = text.cast(arrow_type)
    if logical.kind in (Kind.DATE, Kind.TIMESTAMP) and _before_year_one(array):
        raise ValueError("a date before 0001-01-01")
    return array


def _before_year_one(array: pa.Array) -> bool:
    if pa.types.is_date32(array.type):
        earliest, first = pc.min(array.view(pa.int32())).as_py(), _FIRST_DAY
    else:
        earliest, first = pc.min(array.view(pa.int64())).as_py(), _FIRST_DAY * _MICROSECONDS_A_DAY
    return earliest is not None and earliest < first


def _refused(values: Sequence[bytes | None], logical: LogicalType, column: str) -> str:
    """Why the first refused value of a column cannot be converted (values tried one by one)."""
    for value in values:
        if value is None:
            continue
        try:
            _convert([value], logical)
        except _REFUSED:
            return f"{_reason(value, logical, column)} (read as {logical})"
    return f"the values do not fit {logical.to_arrow()} (read as {logical})"


def _reason(value: bytes, logical: LogicalType, column: str) -> str:
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return f"{_preview(value)} is not valid UTF-8"
    if logical.kind in (Kind.DATE, Kind.TIMESTAMP):
        return _zero_date_hint(text, column)
    return f"{_preview(text)} does not fit {logical.to_arrow()} exactly"


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
