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

Conversion to Arrow never rounds: pyarrow converts Python ints, Decimals, dates and datetimes
to the column's Arrow type exactly or raises, and a refused value is named in the error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

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
    **dict.fromkeys(("double", "real", "double precision"), MySQLType(LogicalType(Kind.FLOAT))),
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
    if name == "bit":
        width = int(arguments or 1)
        return MySQLType(UNSIGNED_BIGINT if width > 63 else LogicalType(Kind.INTEGER), "({} + 0)")
    unsupported = f"MySQL type {column_type!r} has no exact logical type in lakeshift"
    return _BY_NAME.get(name) or MySQLType(LogicalType(Kind.STRING), unsupported=unsupported)


def _zero_date_hint(value: str, column: str) -> str:
    return (
        f"{value!r} is a zero or invalid date, which no date type holds; exclude those rows with "
        f"the inventory's `where` (e.g. `{column} > '1000-01-01'`) or repair them in the source"
    )


def _python_value(value: Any, logical: LogicalType, column: str) -> Any:
    """The value as the Python type pyarrow converts exactly, or ValueError saying why not."""
    if value is None:
        return None
    kind = logical.kind
    if kind is Kind.DECIMAL and isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if kind in (Kind.DATE, Kind.TIMESTAMP) and isinstance(value, str):
        raise ValueError(_zero_date_hint(value, column))
    expected = {
        Kind.INTEGER: int,
        Kind.DECIMAL: Decimal,
        Kind.FLOAT: float,
        Kind.STRING: str,
        Kind.BINARY: bytes,
        Kind.DATE: date,
        Kind.TIMESTAMP: datetime,
    }[kind]
    if not isinstance(value, expected) or (kind is Kind.DATE and isinstance(value, datetime)):
        raise ValueError(f"{_preview(value)} is not a {kind.value} value")
    return value


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def to_arrow_array(
    values: Sequence[Any], logical: LogicalType, table: str, column: str
) -> pa.Array:
    """One column of a fetched chunk as an Arrow array of the column's logical type, exactly.

    pyarrow refuses what it cannot convert exactly (an int beyond int64, a Decimal with more
    digits or scale than the type, a zero date PyMySQL returns as text); only then are the values
    checked one by one, to name the refused value in a ConversionError.
    """
    arrow_type = logical.to_arrow()
    try:
        return pa.array(values, type=arrow_type)
    except (ValueError, TypeError, OverflowError, pa.ArrowException):
        pass
    try:
        converted = [_python_value(value, logical, column) for value in values]
    except ValueError as error:
        raise ConversionError(table, column, f"{error} (read as {logical})") from None
    try:
        return pa.array(converted, type=arrow_type)
    except (ValueError, TypeError, OverflowError, pa.ArrowException):
        reason = _refused(converted, arrow_type)
    raise ConversionError(table, column, f"{reason} (read as {logical})")


def _refused(values: Sequence[Any], arrow_type: pa.DataType) -> str:
    for value in values:
        try:
            pa.array([value], type=arrow_type)
        except (ValueError, TypeError, OverflowError, pa.ArrowException) as error:
            return f"{_preview(value)} does not fit {arrow_type} exactly: {error}"
    return f"the values do not fit {arrow_type}"
