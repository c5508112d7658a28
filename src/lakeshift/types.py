"""One logical type system shared by every engine.

Each engine maps its native type names to a `LogicalType`; the logical type decides the Arrow
type written to Parquet, which types are compatible across engines, and how a value is rendered
as canonical text for verification (`lakeshift.verify.canonical`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

import pyarrow as pa
import pyarrow.compute as pc


class Kind(StrEnum):
    INTEGER = "integer"
    DECIMAL = "decimal"
    FLOAT = "float"
    BOOLEAN = "boolean"
    STRING = "string"
    BINARY = "binary"
    DATE = "date"
    TIMESTAMP = "timestamp"


NUMERIC_KINDS = frozenset({Kind.INTEGER, Kind.DECIMAL, Kind.FLOAT})
TEMPORAL_KINDS = frozenset({Kind.DATE, Kind.TIMESTAMP})

# Years 1-9999 as Arrow stores them (days or microseconds since 1970), the range canonical text
# and every lake engine share.
_EPOCH = datetime(1970, 1, 1)
_DAY_RANGE = ((date.min - _EPOCH.date()).days, (date.max - _EPOCH.date()).days)
_MICROSECOND_RANGE = (
    (datetime.min - _EPOCH) // timedelta(microseconds=1),
    (datetime.max - _EPOCH) // timedelta(microseconds=1),
)


def in_years_1_to_9999(array: pa.Array) -> bool:
    """Whether every value of a date32 or microsecond timestamp array (a zoned one in UTC) lies
    in years 1 to 9999; TypeError for an array of another type."""
    if pa.types.is_date32(array.type):
        (low, high), numbers = _DAY_RANGE, array.view(pa.int32())
    elif pa.types.is_timestamp(array.type) and array.type.unit == "us":
        (low, high), numbers = _MICROSECOND_RANGE, array.view(pa.int64())
    else:
        raise TypeError(f"{array.type} is no date32 or microsecond timestamp")
    extremes = pc.min_max(numbers)
    smallest, largest = extremes["min"].as_py(), extremes["max"].as_py()
    return smallest is None or (low <= smallest and largest <= high)


@dataclass(frozen=True)
class LogicalType:
    """An engine-independent type. `precision`/`scale` for decimals, `tz` for timestamps.

    >>> LogicalType.parse("decimal(12,2)").to_arrow()
    Decimal128Type(decimal128(12, 2))
    """

    kind: Kind
    precision: int | None = None
    scale: int | None = None
    tz: str | None = None

    def __str__(self) -> str:
        if self.kind is Kind.DECIMAL:
            return f"decimal({self.precision},{self.scale})"
        if self.kind is Kind.TIMESTAMP and self.tz:
            return f"timestamp[{self.tz}]"
        return self.kind.value

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @classmethod
    def parse(cls, text: str) -> LogicalType:
        """Read back the text `str()` produces (used by artifacts and the local catalog)."""
        text = text.strip()
        match = re.fullmatch(r"decimal\((\d+),\s*(-?\d+)\)", text)
        if match:
            return cls(Kind.DECIMAL, int(match.group(1)), int(match.group(2)))
        match = re.fullmatch(r"timestamp\[(.+)\]", text)
        if match:
            return cls(Kind.TIMESTAMP, tz=match.group(1))
        if text == Kind.DECIMAL:
            raise ValueError("a decimal needs its precision and scale, e.g. decimal(38,10)")
        return cls(Kind(text))

    def to_arrow(self) -> pa.DataType:
        if self.kind is Kind.DECIMAL:
            assert self.precision is not None and self.scale is not None
            if self.precision <= 38:
                return pa.decimal128(self.precision, self.scale)
            return pa.decimal256(self.precision, self.scale)
        if self.kind is Kind.TIMESTAMP:
            return pa.timestamp("us", tz=self.tz)
        return _ARROW_BY_KIND[self.kind]

    @classmethod
    def from_arrow(cls, arrow_type: pa.DataType) -> LogicalType:
        if pa.types.is_integer(arrow_type):
            return cls(Kind.INTEGER)
        if pa.types.is_decimal(arrow_type):
            return cls(Kind.DECIMAL, arrow_type.precision, arrow_type.scale)
        if pa.types.is_floating(arrow_type):
            return cls(Kind.FLOAT)
        if pa.types.is_boolean(arrow_type):
            return cls(Kind.BOOLEAN)
        if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
            return cls(Kind.STRING)
        if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
            return cls(Kind.BINARY)
        if pa.types.is_date(arrow_type):
            return cls(Kind.DATE)
        if pa.types.is_timestamp(arrow_type):
            return cls(Kind.TIMESTAMP, tz=arrow_type.tz)
        raise ValueError(f"no logical type for Arrow type {arrow_type}")


_ARROW_BY_KIND: dict[Kind, pa.DataType] = {
    Kind.INTEGER: pa.int64(),
    Kind.FLOAT: pa.float64(),
    Kind.BOOLEAN: pa.bool_(),
    Kind.STRING: pa.string(),
    Kind.BINARY: pa.binary(),
    Kind.DATE: pa.date32(),
}


def compatibility(source: LogicalType, target: LogicalType) -> str | None:
    """Why `target` cannot hold every value of `source` exactly, or None when it can."""
    if source == target:
        return None
    if source.kind is not target.kind:
        if source.kind is Kind.INTEGER and target.kind is Kind.DECIMAL:
            # A 64-bit integer has up to 19 digits, all of which must be left of the point.
            scale, precision = target.scale or 0, target.precision or 0
            fits = scale >= 0 and precision - scale >= 19
            return None if fits else f"{target} may not hold every 64-bit integer"
        if source.kind is Kind.DECIMAL and target.kind is Kind.INTEGER:
            # Whole numbers of up to 18 digits: every one is a 64-bit integer.
            scale, precision = source.scale or 0, source.precision or 0
            fits = scale <= 0 and precision - scale <= 18
            return None if fits else f"source is {source}, target is {target}"
        return f"source is {source}, target is {target}"
    if source.kind is Kind.DECIMAL:
        assert source.precision is not None and source.scale is not None
        assert target.precision is not None and target.scale is not None
        integer_digits_ok = target.precision - target.scale >= source.precision - source.scale
        if target.scale >= source.scale and integer_digits_ok:
            return None
        return f"source is {source}, target is {target}: values may not fit"
    if source.kind is Kind.TIMESTAMP and (source.tz is None) != (target.tz is None):
        return f"source is {source}, target is {target}: time zone handling differs"
    return None


def common_type(source: LogicalType, target: LogicalType) -> LogicalType:
    """The type both sides render canonical text in: wide enough that neither side rounds."""
    if source.kind is Kind.DECIMAL and target.kind is Kind.DECIMAL:
        assert source.precision is not None and source.scale is not None
        assert target.precision is not None and target.scale is not None
        scale = max(source.scale, target.scale)
        digits = max(source.precision - source.scale, target.precision - target.scale)
        return LogicalType(Kind.DECIMAL, min(digits + scale, 76), scale)
    if source.kind is Kind.INTEGER and target.kind is Kind.DECIMAL:
        return target
    return source
