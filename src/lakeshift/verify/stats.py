"""Compare two sides' column statistics: exact types exactly, floats within a relative tolerance."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from decimal import Decimal

from lakeshift.engines.base import ColumnStats
from lakeshift.types import Kind, LogicalType

EXACT_FIELDS = ("rows", "nulls", "distinct", "min", "max", "min_length", "max_length")


@dataclass(frozen=True)
class StatDifference:
    stat: str
    source: object
    target: object


UNIT_ROUNDOFF = 2.3e-16  # a little above 2**-53


def _close(a: str, b: str, tolerance: float, absolute: float = 0.0) -> bool:
    x, y = float(a), float(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if math.isinf(x) or math.isinf(y):
        return _overflowed(x, y)
    return math.isclose(x, y, rel_tol=tolerance, abs_tol=absolute) or x == y


def _overflowed(x: float, y: float) -> bool:
    """Both sums overflowed the same way: IEEE goes to inf, MariaDB stops at the largest double
    (and its mean is that divided by the rows, where the other's stays inf)."""
    return x * y > 0 and min(abs(x), abs(y)) >= sys.float_info.max


def _summation_error(stats: ColumnStats) -> float:
    """How far two engines' float sums can drift by adding in different orders.

    Each addition may round by one unit in the last place of the running sum, whose size is at
    most rows * max|value|: values that cancel (0.1 + 0.2 - 0.3) leave a sum near zero that no
    relative tolerance covers. Zero when the extremes are unknown or not finite.
    """
    largest = _largest(stats)
    if not math.isfinite(largest):
        return 0.0
    rows = stats.rows - stats.nulls
    return rows * rows * UNIT_ROUNDOFF * largest


def _largest(stats: ColumnStats) -> float:
    """The largest magnitude among the values (NaN when unknown)."""
    try:
        return max(abs(float(stats.min or "nan")), abs(float(stats.max or "nan")))
    except ValueError:
        return math.nan


def _order_decides_overflow(source: ColumnStats, target: ColumnStats) -> bool:
    """One sum is infinite and the other not, on values some order of adding takes past the
    largest double (rows x the largest magnitude does): PostgreSQL, which raises on overflow,
    then sums again in parts and may end finite where DuckDB's running sum went to infinity.
    Such sums (and means) cannot be compared; every value still is, bit for bit."""
    if source.sum is None or target.sum is None:
        return False
    x, y = float(source.sum), float(target.sum)
    if math.isinf(x) == math.isinf(y) and (not math.isinf(x) or x == y):
        return False
    largest = _largest(source)
    return math.isfinite(largest) and (source.rows - source.nulls) * largest >= sys.float_info.max


def compare_stats(
    source: ColumnStats, target: ColumnStats, logical: LogicalType, float_tolerance: float
) -> list[StatDifference]:
    """Every statistic that differs; an empty list means the column's statistics match."""
    differences = [
        StatDifference(name, getattr(source, name), getattr(target, name))
        for name in EXACT_FIELDS
        if getattr(source, name) != getattr(target, name)
    ]
    for name in ("sum", "mean"):
        a, b = getattr(source, name), getattr(target, name)
        if a is None or b is None:
            if a != b:
                differences.append(StatDifference(name, a, b))
        elif logical.kind is Kind.FLOAT:
            if _order_decides_overflow(source, target):
                continue
            if (
                name == "mean"
                and source.sum
                and target.sum
                and _overflowed(float(source.sum), float(target.sum))
            ):
                continue  # the sums say it: neither mean is a mean
            drift = _summation_error(source)
            count = max(source.rows - source.nulls, 1)
            if not _close(a, b, float_tolerance, drift if name == "sum" else drift / count):
                differences.append(StatDifference(name, a, b))
        elif Decimal(a) != Decimal(b):
            differences.append(StatDifference(name, a, b))
    return differences
