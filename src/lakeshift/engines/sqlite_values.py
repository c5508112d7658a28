"""Exact conversion of SQLite's dynamically typed values to a column's declared logical type.

Fast path: Arrow infers the type of a chunk and casts it with `safe=True` (which refuses to
truncate). Anything the fast path refuses goes through `python_value`, one value at a time, which
either converts exactly or raises naming the value. The canonical-text functions SQLite registers
call the same `python_value`, so verification reads values exactly as the upload did.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lakeshift.errors import ConversionError
from lakeshift.types import Kind, LogicalType, in_years_1_to_9999

_FINER_THAN_MICROSECONDS = re.compile(r"[.,]\d{7,}")
# Plain decimal notation only: Decimal() would also accept "1_000", " 1.5 " and "Infinity".
_NUMBER_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INT64 = range(-(2**63), 2**63)
_FAST_KINDS = {
    Kind.INTEGER: (pa.types.is_integer, pa.types.is_floating),
    Kind.FLOAT: (pa.types.is_integer, pa.types.is_floating),
    Kind.STRING: (pa.types.is_string,),
    Kind.BINARY: (pa.types.is_binary,),
    Kind.DATE: (pa.types.is_string,),
    Kind.TIMESTAMP: (pa.types.is_string,),
    Kind.DECIMAL: (pa.types.is_integer, pa.types.is_floating),
    Kind.BOOLEAN: (pa.types.is_integer,),
}


def _decimal(value: Any, logical: LogicalType) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, str) and not _NUMBER_TEXT.fullmatch(value):
        raise ValueError(f"{value!r} is not a number")
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    scale, precision = logical.scale or 0, logical.precision or 38
    _, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    places_beyond_scale = -exponent - scale  # read from the digits: no 28-digit context limit
    if places_beyond_scale > 0 and any(digits[-places_beyond_scale:]):
        raise ValueError(f"{value!r} has more than {scale} decimal places")
    if number and number.adjusted() + 1 > precision - scale:  # zero fits any decimal
        raise ValueError(f"{value!r} does not fit {logical}")
    return number


# YYYY-MM-DD first: fromisoformat also reads '20240105T060708' and '2024-W01-5', whose text
# sorts elsewhere than their day, so the text ranges that select a period's rows would miss them
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso(value: str, what: str) -> datetime:
    if not _ISO_DAY.match(value):
        raise ValueError(f"{value!r} is not an ISO-8601 {what} (YYYY-MM-DD first)")
    try:
        return datetime.fromisoformat(value)
    except ValueError as error:  # Python's message ("month must be in 1..12") omits the value
        raise ValueError(f"{value!r} is not an ISO-8601 {what}: {error}") from None


def _timestamp(value: Any, logical: LogicalType) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an ISO-8601 timestamp text")
    if _FINER_THAN_MICROSECONDS.search(value):
        raise ValueError(f"{value!r} is finer than microseconds, which Parquet timestamps keep")
    moment = _iso(value, "timestamp")
    if logical.tz is None and moment.tzinfo is not None:
        raise ValueError(f"{value!r} has a zone offset but the column has no time zone")
    if logical.tz is not None and moment.tzinfo is None:
        raise ValueError(f"{value!r} has no zone offset but the column has a time zone")
    if moment.tzinfo is None:
        return moment
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # an offset past year 1 or 9999 (SQLite reported it as too big)
        raise ValueError(f"{value!r} lies outside years 1 to 9999 in UTC") from None


def _date(value: Any) -> date:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an ISO-8601 date text")
    moment = _iso(value, "date")
    if moment.time() != datetime.min.time() or moment.tzinfo is not None:
        raise ValueError(f"{value!r} has a time of day but the column is a DATE")
    return moment.date()


def python_value(value: Any, logical: LogicalType) -> Any:
    """Convert one stored value exactly, or raise ValueError saying why it cannot be."""
    if value is None:
        return None
    kind = logical.kind
    if kind is Kind.INTEGER:
        whole = int(value) if isinstance(value, float) and value.is_integer() else value
        if isinstance(whole, int) and not isinstance(whole, bool):
            if whole in _INT64:
                return whole
            raise ValueError(f"{value!r} does not fit a 64-bit integer")
        raise ValueError(f"{value!r} is not an integer")
    if kind is Kind.DECIMAL:
        return _decimal(value, logical)
    if kind is Kind.FLOAT:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if isinstance(value, float) or float(value) == value:  # ints beyond 2**53 would round
                return float(value)
            raise ValueError(f"{value!r} cannot be held exactly by a 64-bit float")
        raise ValueError(f"{value!r} is not a number")
    if kind is Kind.BOOLEAN:
        if value in (0, 1) and not isinstance(value, float):
            return bool(value)
        raise ValueError(f"{value!r} is not a boolean (0 or 1)")
    if kind is Kind.STRING:
        if isinstance(value, str):
            return value
        raise ValueError(f"{value!r} is not text")
    if kind is Kind.BINARY:
        if isinstance(value, bytes):
            return value
        raise ValueError(f"{value!r} is not a blob")
    if kind is Kind.DATE:
        return _date(value)
    if kind is Kind.TIMESTAMP:
        return _timestamp(value, logical)
    raise ValueError(f"no conversion to {logical}")


def refused(value: Any, logical: LogicalType) -> bool:
    """Whether the upload refuses `value` in a column of `logical`: `python_value`'s rule, which
    decides every value the fast path leaves to it (analyze counts such values with it)."""
    try:
        python_value(value, logical)
    except ValueError:
        return True
    return False


def _fast(values: Sequence[Any], logical: LogicalType) -> pa.Array | None:
    accepts = _FAST_KINDS.get(logical.kind)
    if accepts is None:
        return None
    if logical.kind is Kind.BINARY and any(isinstance(value, str) for value in values):
        return None  # Arrow infers binary for bytes mixed with text, encoding the text silently
    try:
        inferred = pa.array(values)
        if not (pa.types.is_null(inferred.type) or any(test(inferred.type) for test in accepts)):
            return None
        if logical.kind is Kind.DECIMAL:
            # A number's shortest text is what `python_value` reads too; the safe cast refuses
            # text with more places than the scale or more digits than the precision.
            inferred = inferred.cast(pa.string())
            if pc.any(pc.match_substring(inferred, "e")).as_py():
                return None  # Arrow rounds exponent notation silently (7e-90 -> 0.00)
        elif logical.kind is Kind.BOOLEAN:
            bounds = pc.min_max(inferred)
            if bounds["min"].as_py() not in (None, 0, 1) or bounds["max"].as_py() not in (
                None,
                0,
                1,
            ):
                return None  # Arrow would cast 2 to true: let the exact path refuse it
        cast = inferred.cast(logical.to_arrow(), safe=True)
        if logical.kind in (Kind.DATE, Kind.TIMESTAMP) and not in_years_1_to_9999(cast):
            return None  # Arrow reads year 0 (and offsets past 9999): the exact path refuses it
        return cast
    except (
        pa.ArrowInvalid,
        pa.ArrowTypeError,
        pa.ArrowNotImplementedError,
        TypeError,
        OverflowError,
    ):
        return None


def to_arrow_array(values: Sequence[Any], logical: LogicalType, column: str) -> pa.Array:
    """One column of a fetched chunk as an Arrow array of the column's logical type."""
    fast = _fast(values, logical)
    if fast is not None:
        return fast
    converted = []
    for value in values:
        try:
            converted.append(python_value(value, logical))
        except ValueError as error:
            table, _, name = column.rpartition(".")
            raise ConversionError(table, name, f"{error} (declared {logical})") from None
    return pa.array(converted, type=logical.to_arrow())
