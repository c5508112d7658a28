"""Canonical text: the one definition of how a value becomes comparable across engines.

Two engines holding the same value must render the same text, and any real difference must change
it. This module is the reference implementation in Python; each engine renders the same rules in
its own SQL (or, for SQLite, registers these functions) and cross-engine tests hold them equal.

Per logical type:

| type      | canonical text                                                           |
|-----------|--------------------------------------------------------------------------|
| integer   | decimal digits, `-` for negatives                                        |
| decimal   | fixed point at the column's scale, no exponent; `-0.00` is `0.00`        |
| float     | the 16 lowercase hex digits of the IEEE-754 binary64 bits, big-endian; 0 and -0 are `0`; every NaN is `NaN` |
| boolean   | `1` or `0`                                                               |
| string    | the text itself, with `\\` and `|` escaped as `\\\\` and `\\|`; no trimming  |
| binary    | lowercase hex                                                            |
| date      | `YYYY-MM-DD`                                                             |
| timestamp | `YYYY-MM-DD HH:MM:SS.ffffff`, in UTC when the type has a time zone        |

Timestamps are compared at the common precision of the two engines (`PRECISIONS`). When one of
them keeps only milliseconds (Athena reads Parquet timestamps of Glue tables at milliseconds,
rounding half up as Trino's Parquet reader does), both render the value rounded to the
millisecond first: `floor((t + 500 µs) / 1 ms)`, still with six fraction digits, the last three
zero. The rounding can carry into the second, day or year, so engines round the timestamp
itself, never its text; periods and distinct counts use the rounded value too.

A row is its columns' texts joined with `|`, NULL written as `\\N`; because `|` and `\\` are
escaped inside strings, the join is unambiguous (NULL, '' and 'NULL' all differ). The row hash
is the first 60 bits of the md5 of the UTF-8 row text, as an integer.

Floats compare exactly: two doubles render alike only when they are the same double (or both
zero, or both NaN), so a value that lost its last bit on the way to the lake is a difference.
Every engine reads the bits as they are stored (PostgreSQL `float8send`, DuckDB's cast to BIT,
Trino's `to_ieee754_64`, Oracle's `UTL_RAW.CAST_FROM_BINARY_DOUBLE`, MySQL the X coordinate of a
point's well-known binary); nothing is computed on the value.
"""

from __future__ import annotations

import hashlib
import math
import struct
from datetime import UTC, date, datetime, timedelta
from decimal import Context, Decimal
from typing import Any

from lakeshift.types import Kind, LogicalType

SEPARATOR = "|"
NULL_TOKEN = "\\N"
FLOAT_PRECISION = "exact (IEEE-754 binary64 bits; -0 counts as 0, and every NaN as one NaN)"
HASH_BITS = 60
HALF_BITS = 30
HALF_MASK = (1 << HALF_BITS) - 1
TIMESTAMP_PRECISION = "microsecond"
KEY_RUN = 64  # consecutive integer keys that share a bucket
_HALF_MILLISECOND = timedelta(microseconds=500)
# At milliseconds, a value from ROUNDS_PAST_9999 on would round into year 10000, which Oracle and
# MySQL cannot hold and Python cannot either: it is held at the last millisecond of 9999 instead,
# on every engine (an end-of-time 9999-12-31 23:59:59.999999 compares as .999).
ROUNDS_PAST_9999 = "9999-12-31 23:59:59.9995"
LAST_MICROSECOND = "9999-12-31 23:59:59.999999"  # later values (infinity) keep their own text
LAST_MILLISECOND = "9999-12-31 23:59:59.999"
_LAST_MILLISECOND = datetime(9999, 12, 31, 23, 59, 59, 999000)


def common_precision(*precisions: str) -> str:
    """The precision two engines' timestamps compare at: the coarsest either keeps, and never
    finer than canonical text's microseconds."""
    ranks = {"millisecond": 0, "microsecond": 1, "nanosecond": 2}
    unknown = [p for p in precisions if p not in ranks]
    if unknown:
        raise ValueError(f"no canonical text at timestamp precision {unknown[0]!r}")
    coarsest = min(precisions, key=ranks.__getitem__, default=TIMESTAMP_PRECISION)
    return "millisecond" if coarsest == "millisecond" else TIMESTAMP_PRECISION


def escape_text(text: str) -> str:
    """Escape the two characters that carry meaning in a joined row."""
    return text.replace("\\", "\\\\").replace(SEPARATOR, "\\" + SEPARATOR)


def canonical_float(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if value == 0:
        return "0"
    return struct.pack(">d", value).hex()


def readable_float(text: str) -> str:
    """A canonical float text as a person reads it: the shortest decimal that reads back as the
    same double (`0.1`, `-2.5e-300`, `inf`, `nan`), so it is as exact as the bits. A text that
    is not 16 hex digits (an engine that rendered something else) is shown as it came."""
    if text in ("NaN", "0"):
        return repr(float(text))
    try:
        value: float = struct.unpack(">d", bytes.fromhex(text))[0]
    except (ValueError, struct.error):
        return text
    return repr(value)


def readable_value(text: str | None, logical: LogicalType) -> str | None:
    """A column's canonical text as results show it: a float's bits as `readable_float`, any
    other type's text as it is."""
    return readable_float(text) if logical.kind is Kind.FLOAT and text is not None else text


def canonical_decimal(value: Decimal | int | float, scale: int) -> str:
    number = (
        value
        if isinstance(value, Decimal)
        else Decimal(repr(value) if isinstance(value, float) else value)
    )
    _, digits, exponent = number.as_tuple()
    beyond = -exponent - scale if isinstance(exponent, int) else 0
    if beyond > 0 and any(digits[-beyond:]):
        # More decimals than the lake keeps (the upload refuses such a value; the source may
        # have changed since): shown exactly, so it can never round into the lake's text.
        return format(number, "f")
    # The default context keeps 28 digits, fewer than a decimal(38,s) holds: size it to the value.
    exact = Context(prec=max(number.adjusted(), 0) + max(scale, 0) + 2)
    if scale <= 0:
        text = format(number.to_integral_value(context=exact), "f")
    else:
        text = format(number.quantize(Decimal(1).scaleb(-scale), context=exact), "f")
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def round_timestamp(value: datetime, precision: str = TIMESTAMP_PRECISION) -> datetime:
    """The UTC wall time of `value` at `precision` (milliseconds: rounded half up)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    if precision == "millisecond":
        if value >= _LAST_MILLISECOND + _HALF_MILLISECOND:
            return _LAST_MILLISECOND
        shifted = value + _HALF_MILLISECOND
        value = shifted.replace(microsecond=shifted.microsecond // 1000 * 1000)
    elif precision != TIMESTAMP_PRECISION:
        raise ValueError(f"no canonical text at timestamp precision {precision}")
    return value


def canonical_timestamp(value: datetime, precision: str = TIMESTAMP_PRECISION) -> str:
    return round_timestamp(value, precision).isoformat(sep=" ", timespec="microseconds")


def canonical_value(
    value: Any, logical: LogicalType, precision: str = TIMESTAMP_PRECISION
) -> str | None:
    """The canonical text of one Python value of the given logical type (None for NULL);
    timestamps at `precision`."""
    if value is None:
        return None
    kind = logical.kind
    if kind is Kind.INTEGER:
        return str(int(value))
    if kind is Kind.DECIMAL:
        return canonical_decimal(value, logical.scale or 0)
    if kind is Kind.FLOAT:
        return canonical_float(float(value))
    if kind is Kind.BOOLEAN:
        return "1" if value else "0"
    if kind is Kind.STRING:
        return escape_text(str(value))
    if kind is Kind.BINARY:
        return bytes(value).hex()
    if kind is Kind.DATE:
        day = value.date() if isinstance(value, datetime) else value
        assert isinstance(day, date)
        return day.isoformat()
    if kind is Kind.TIMESTAMP:
        return canonical_timestamp(value, precision)
    raise ValueError(f"no canonical text for {logical}")


def join_canonical(texts: list[str | None]) -> str:
    """Join column texts into the row text; NULL becomes `\\N`."""
    return SEPARATOR.join(NULL_TOKEN if text is None else text for text in texts)


def hash60(text: str) -> int:
    """First 60 bits of md5(text) as a non-negative integer."""
    digest = hashlib.md5(text.encode("utf-8"), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") >> 4  # the first 15 hex digits


def integer_key_bucket(key: int | None, buckets: int) -> int:
    """The bucket of a single integer key, as every engine's SQL computes it: the key's run of
    `KEY_RUN` (quotient truncated toward zero), then its remainder, with the dividend's sign;
    a NULL key is 0.

    >>> [integer_key_bucket(k, 10) for k in (0, 63, 64, 640, -64, -65, None)]
    [0, 0, 1, 0, -1, -1, 0]
    """
    run = abs(key or 0) // KEY_RUN
    remainder = run % buckets
    return -remainder if (key or 0) < 0 else remainder


def split_checksum(hi_sum: int, lo_sum: int) -> int:
    """Recombine the two 30-bit half sums engines return into one exact checksum.

    Engines sum `hash >> 30` and `hash & (2**30 - 1)` separately so that no 64-bit integer
    overflows before 2**33 rows per group, on every engine, without decimal arithmetic.
    """
    return (int(hi_sum) << HALF_BITS) + int(lo_sum)


def split_canonical(row_text: str) -> list[str | None]:
    """Inverse of `join_canonical`: the column texts (strings unescaped), NULL as None.

    >>> split_canonical(join_canonical([escape_text("a|b"), None, ""]))
    ['a|b', None, '']
    """
    values: list[str | None] = []
    current: list[str] = []
    is_null = False
    index = 0
    while index < len(row_text):
        char = row_text[index]
        if char == "\\" and index + 1 < len(row_text):
            following = row_text[index + 1]
            if following == "N":
                is_null = True
            else:
                current.append(following)
            index += 2
            continue
        if char == SEPARATOR:
            values.append(None if is_null else "".join(current))
            current, is_null = [], False
        else:
            current.append(char)
        index += 1
    values.append(None if is_null else "".join(current))
    return values
