"""PostgreSQL types as lakeshift logical types, and exact conversion of the driver's Arrow columns.

Each column is read one of three ways:

- natively: the driver's Arrow type is cast to the logical type's (integers, floats, booleans,
  text, `bytea`, dates and timestamps); dates and timestamps must lie in years 1 to 9999, the
  range canonical text and every lake engine share, so `infinity` and BC values fail the column;
- as decimal text: `numeric` is selected as PostgreSQL prints it and parsed into `decimal128`
  only after a pattern check, because Arrow's string-to-decimal cast wraps values with too many
  digits instead of refusing them;
- as its text output (`concat(x)`, which calls the type's output function): uuid, json, jsonb,
  interval, enums, arrays and the other types in `TEXT_FORMS` become strings. The session
  settings in `lakeshift.engines.postgres_session` pin every setting that output depends on, so
  the text is the same at upload and at verification.

Anything else has no exact representation: the column is listed with a `problem`, and reading it
fails with a ConversionError naming the table and column.
"""

from __future__ import annotations

import re
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime

import pyarrow as pa
import pyarrow.compute as pc

from lakeshift.engines.decimal_text import cast_decimal_text
from lakeshift.errors import ConversionError
from lakeshift.types import Kind, LogicalType, in_years_1_to_9999

MAX_DECIMAL_PRECISION = 38  # decimal128: what Parquet readers (DuckDB, Athena) keep exactly

NATIVE: dict[str, LogicalType] = {
    "int2": LogicalType(Kind.INTEGER),
    "int4": LogicalType(Kind.INTEGER),
    "int8": LogicalType(Kind.INTEGER),
    "float4": LogicalType(Kind.FLOAT),
    "float8": LogicalType(Kind.FLOAT),
    "bool": LogicalType(Kind.BOOLEAN),
    "text": LogicalType(Kind.STRING),
    "varchar": LogicalType(Kind.STRING),
    "bpchar": LogicalType(Kind.STRING),
    "bytea": LogicalType(Kind.BINARY),
    "date": LogicalType(Kind.DATE),
    "timestamp": LogicalType(Kind.TIMESTAMP),
    "timestamptz": LogicalType(Kind.TIMESTAMP, tz="UTC"),
}

# Types kept as their text output, with the form that text takes (documented per column in logs).
TEXT_FORMS: dict[str, str] = {
    "uuid": "lowercase hyphenated text",
    "json": "the stored JSON text, unchanged",
    "jsonb": "PostgreSQL's normalized jsonb text",
    "interval": "ISO 8601 duration text (IntervalStyle iso_8601), e.g. P1Y2M3DT4H5M6.789S",
    "time": "HH:MM:SS[.ffffff] text",
    "timetz": "HH:MM:SS[.ffffff]+HH[:MM] text",
    "inet": "PostgreSQL's inet text",
    "cidr": "PostgreSQL's cidr text",
    "macaddr": "lowercase colon-separated text",
    "macaddr8": "lowercase colon-separated text",
    "bit": "text of 0s and 1s",
    "varbit": "text of 0s and 1s",
    "xml": "the stored XML text",
    "name": "the name itself",
    "char": "the single character",
    "citext": "the text itself",
}
ENUM_FORM = "the enum label"
ARRAY_FORM = "PostgreSQL's array text, e.g. {1,NULL,3}"

_NUMERIC = re.compile(r"numeric\((\d+),(-?\d+)\)")


@dataclass(frozen=True)
class PgType:
    """What the catalog says about a column's type (domains already resolved to their base)."""

    name: str  # pg_type.typname of the base type: "int4", "numeric", "_int4", ...
    formatted: str  # format_type() with the modifier: "numeric(12,2)", "integer[]", ...
    typtype: str = "b"  # b base, e enum, d domain, c composite, r range, ...
    element: PgType | None = None  # for arrays


@dataclass(frozen=True)
class ColumnReading:
    """How one column is read: its logical type, and why, when that is a conversion."""

    logical: LogicalType
    as_text: bool = False  # selected as its text output rather than natively
    as_decimal_text: bool = False  # numeric: selected as text, parsed exactly
    note: str | None = None  # the conversion, logged once per column
    problem: str | None = None  # why the column cannot be represented exactly


def decimal_type(formatted: str, number_policy: LogicalType) -> ColumnReading:
    """`numeric(p,s)` as decimal(p,s); a negative scale or one above the precision is widened."""
    match = _NUMERIC.fullmatch(formatted)
    if match is None:
        note = f"numeric without precision read as {number_policy} (number_without_precision)"
        return ColumnReading(number_policy, as_decimal_text=True, note=note)
    precision, scale = int(match.group(1)), int(match.group(2))
    if scale < 0:  # numeric(5,-2) holds multiples of 100 below 10**7: integers of p - s digits
        precision, scale = precision - scale, 0
    precision = max(precision, scale)  # numeric(3,5) holds |x| < 0.001: five decimals
    logical = LogicalType(Kind.DECIMAL, precision, scale)
    if precision > MAX_DECIMAL_PRECISION:
        problem = (
            f"{formatted} needs {precision} digits; Parquet readers keep at most "
            f"{MAX_DECIMAL_PRECISION}"
        )
        return ColumnReading(logical, problem=problem)
    return ColumnReading(logical, as_decimal_text=True)


def column_reading(pg_type: PgType, number_policy: LogicalType) -> ColumnReading:
    """The logical type of a PostgreSQL column type and how to read it."""
    if pg_type.name == "numeric":
        return decimal_type(pg_type.formatted, number_policy)
    if pg_type.name in NATIVE:
        return ColumnReading(NATIVE[pg_type.name])
    text_form = _text_form(pg_type)
    if text_form is not None:
        return ColumnReading(
            LogicalType(Kind.STRING), as_text=True, note=f"{pg_type.formatted} read as {text_form}"
        )
    problem = (
        f"type {pg_type.formatted} has no exact logical type; drop the column in "
        "column_mappings.json or read the table through a view that casts it"
    )
    return ColumnReading(LogicalType(Kind.STRING), problem=problem)


def _text_form(pg_type: PgType) -> str | None:
    if pg_type.typtype == "e":
        return ENUM_FORM
    if pg_type.element is not None:
        # An array's text is exact when its elements are read exactly.
        element = pg_type.element
        readable = element.typtype == "e" or element.name in NATIVE or element.name == "numeric"
        return ARRAY_FORM if readable or element.name in TEXT_FORMS else None
    if pg_type.typtype != "b":
        return None
    return TEXT_FORMS.get(pg_type.name)


# --- exact conversion of the driver's arrays -------------------------------------------------


def decimal_pattern(logical: LogicalType) -> str:
    """Regex of PostgreSQL's numeric text that fits `logical` exactly: at most its integer
    digits, and at most its scale's decimals before any trailing zeros (PostgreSQL keeps a
    value's own scale: 1.50 in an unconstrained numeric). NaN and the infinities never match.

    The one rule both sides apply: the upload to the text it fetched (Arrow's RE2) and analyze,
    counting in SQL, to the same text (PostgreSQL's regexes read this pattern alike).
    """
    precision, scale = logical.precision or 0, logical.scale or 0
    whole = precision - scale
    integer = f"(?:0|[1-9][0-9]{{0,{whole - 1}}})" if whole > 0 else "0"
    fraction = f"(?:\\.[0-9]{{0,{scale}}}0*)?" if scale > 0 else "(?:\\.0*)?"
    return f"^-?{integer}{fraction}$"


def _decimal_array(texts: pa.Array, logical: LogicalType, table: str, column: str) -> pa.Array:
    # The one exact cast first, about 10x faster than the regexes below; they decide what it
    # refuses (a value that does not fit, or 39+ digits such as 1.5 followed by 40 zeros) and
    # name the value.
    with suppress(pa.ArrowInvalid):
        return cast_decimal_text(texts, logical.to_arrow())
    fits = pc.match_substring_regex(texts, pattern=decimal_pattern(logical))
    if not pc.all(pc.fill_null(fits, True)).as_py():
        bad = pc.filter(texts, pc.invert(pc.fill_null(fits, True)))[0].as_py()
        if bad in ("NaN", "Infinity", "-Infinity"):  # no decimal type holds these
            raise ConversionError(
                table,
                column,
                f"value {bad} has no decimal form; exclude its rows with the inventory's `where` "
                f"(e.g. `{column} <> '{bad}'`), or map the column to null",
            )
        raise ConversionError(
            table,
            column,
            f"value {bad} does not fit {logical} exactly; no value is rounded "
            "(declare the column numeric(p,s) or widen number_without_precision)",
        )
    # Zeros past the last significant decimal are cut: the cast refuses digits beyond the scale.
    trimmed = pc.replace_substring_regex(texts, pattern=r"(\.[0-9]*?)0+$", replacement=r"\1")
    trimmed = pc.replace_substring_regex(trimmed, pattern=r"\.$", replacement="")
    return trimmed.cast(logical.to_arrow(), safe=True)


def refused_sql(reading: ColumnReading, value: str) -> str | None:
    """SQL true for a value of the column `to_logical_array` refuses, for analyze to count
    (`value` is the quoted column); None for a column whose every value is read.

    Decimals are checked as the upload checks them, on their text against `decimal_pattern`
    (declared `numeric(p,s)` too: it holds NaN); dates and timestamps against years 1 to 9999,
    timestamps with a zone in UTC, as they arrive (infinity and BC values lie outside).
    """
    logical = reading.logical
    if reading.problem:
        return None
    if reading.as_decimal_text:
        return f"CAST({value} AS text) COLLATE \"C\" !~ '{decimal_pattern(logical)}'"
    if reading.as_text:
        return None
    if logical.kind is Kind.DATE:
        return f"({value} < DATE '{date.min}' OR {value} > DATE '{date.max}')"
    if logical.kind is Kind.TIMESTAMP:
        utc = value if logical.tz is None else f"({value} AT TIME ZONE 'UTC')"
        first, last = datetime.min.isoformat(" "), datetime.max.isoformat(" ")
        return f"({utc} < TIMESTAMP '{first}' OR {utc} > TIMESTAMP '{last}')"
    return None


def _check_range(array: pa.Array, logical: LogicalType, table: str, column: str) -> None:
    """Dates and timestamps must lie in years 1-9999 (PostgreSQL's infinity arrives wrapped)."""
    try:
        inside = in_years_1_to_9999(array)
    except TypeError:
        raise ConversionError(
            table, column, f"the driver returned {array.type} for {logical}"
        ) from None
    if not inside:
        raise ConversionError(
            table,
            column,
            f"a value lies outside years 1-9999 (infinity or BC?), which {logical} "
            "cannot hold exactly; filter it out with the inventory's where",
        )


def to_logical_array(array: pa.Array, logical: LogicalType, table: str, column: str) -> pa.Array:
    """One fetched column as an Arrow array of its logical type, exactly or not at all."""
    if isinstance(array, pa.ExtensionArray):
        array = array.storage
    try:
        if logical.kind is Kind.DECIMAL:
            return _decimal_array(array, logical, table, column)
        if logical.kind in (Kind.DATE, Kind.TIMESTAMP):
            _check_range(array, logical, table, column)
        if logical.kind is Kind.TIMESTAMP and array.type.tz != logical.tz:
            # Only a zone-less value may keep no zone, and a zoned one must arrive as UTC.
            raise ConversionError(table, column, f"the driver returned {array.type} for {logical}")
        return array.cast(logical.to_arrow(), safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as error:
        raise ConversionError(table, column, f"cannot convert to {logical}: {error}") from None
